"""What OpenBLAS's kernel-family fallback costs: the same hyperalignment fit (the
alignment benchmark's shape, N=10, T=800, V=3000, K=30) in child processes alternating
between two families (OPENBLAS_CORETYPE is read once, when OpenBLAS loads, so each run is
its own process), each warmed up by one fit before the timed ones; prints every run, then
best and median times and their ratio.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_kernels.py [--slow Prescott] [--fast SkylakeX] [--rounds 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import record  # noqa: E402

CHILD = """
import sys, time, numpy as np, btfm
btfm.set_blas_thread_control(True)  # the benchmark owns its process (doc/THREADING.md)
n, t, v, k, fits = (int(a) for a in sys.argv[1:6])
rng = np.random.RandomState(1)
s = rng.randn(t, k)
subjects = [(s @ np.linalg.qr(rng.randn(v, k))[0].T + 0.3 * rng.randn(t, v)).astype(np.float32)
            for _ in range(n)]
times = []
for i in range(fits + 1):  # the first fit warms up (page faults, OpenBLAS's buffers)
    a = btfm.Aligner("hyperalignment", n_features=k)
    for x in subjects:
        a.add_subject(x)
    start = time.perf_counter()
    a.fit()
    times.append(time.perf_counter() - start)
    a.close()
print(btfm.runtime_info()["blas_kernels"], *times[1:])
"""


def run(family, args):
    env = dict(os.environ, OPENBLAS_CORETYPE=family)
    out = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0], [float(x) for x in out[1:]]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--slow", default="Prescott")
    p.add_argument("--fast", default="SkylakeX")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    a = p.parse_args()
    shape = (4, 200, 400, 10, 1) if a.quick else (10, 800, 3000, 30, 1)
    print("N=%d T=%d V=%d K=%d; %d CPUs; %s" % (*shape[:4], os.cpu_count(),
          time.strftime("%Y-%m-%d %H:%M")))
    times = {a.slow: [], a.fast: []}
    for r in range(a.rounds):
        for family in (a.slow, a.fast) if r % 2 == 0 else (a.fast, a.slow):
            loaded, t = run(family, shape)
            assert loaded.lower() == family.lower(), (family, loaded)
            times[family] += t
            print("round %d %-10s %s" % (r, family, " ".join("%.2f s" % x for x in t)),
                  flush=True)
    slow, fast = times[a.slow], times[a.fast]
    print("%s: best %.2f s, median %.2f s" % (a.slow, min(slow), statistics.median(slow)))
    print("%s: best %.2f s, median %.2f s" % (a.fast, min(fast), statistics.median(fast)))
    record("kernels", "hyperalignment fit N=%d T=%d V=%d K=%d, %s kernels" % (*shape[:4], a.fast),
           fast, slow, "the same on %s kernels" % a.slow)


if __name__ == "__main__":
    main()
