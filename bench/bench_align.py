"""Alignment speed, side by side in one run: libbtfm's hyperalignment against a NumPy
implementation of PyMVPA's algorithm as written (full feature x feature SVDs), with the
full template and with the template reduced to K dimensions before level 3, and
libbtfm's deterministic SRM against a NumPy implementation of BrainIAK's DetSRM, on the
same simulated shared-response data; prints times (libbtfm: the median of three runs),
ratios and time-segment-matching accuracies on held-out data. Then libbtfm alone at a
larger size.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python:tests/align \
        /usr/bin/python3 bench/bench_align.py [--quick] [--skip-large] [--skip-pymvpa]

Both sides run on the same OpenBLAS, with the kernel family OPENBLAS_CORETYPE selects
(AVX2 'Haswell', AVX-512 'SkylakeX') or, unset, the one it detects; the first line
printed names it.
"""

import argparse
import ctypes
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "align"))
import references as ref  # noqa: E402
import btfm  # noqa: E402
from sidebyside import race, record  # noqa: E402

# This program owns its process: the library may run OpenBLAS on one thread per worker
# during its fits (btfm.set_blas_thread_control, doc/THREADING.md); the host's count
# returns after each fit, so the NumPy references run as before.
btfm.set_blas_thread_control(True)


def blas_core():
    """The kernel family OpenBLAS runs (OPENBLAS_CORETYPE selects it): its AVX2
    'Haswell' kernels run single-precision products at about half the speed of its
    AVX-512 ones ('SkylakeX', 'Cooperlake') where the CPU has AVX-512."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "unknown"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def timed_median(fn, runs=3):
    """libbtfm's side takes about a second, where a moment of contention on a shared
    host weighs heavily: the median of a few runs. The references run once (minutes)."""
    results = [timed(fn) for _ in range(runs)]
    return sorted(r[0] for r in results)[runs // 2], results[-1][1]


def accuracy(images):
    return float(btfm.segment_matching(images, window=10).mean())


def compare(n, t, v, k, noise, pymvpa=True):
    train, test, *_ = ref.simulate(n, t, t // 2, v, k, noise=noise, seed=1)
    print(f"N={n} subjects, T={t} (+{t // 2} held out), V={v}, K={k}, noise={noise}")
    print(f"  anatomical alignment: accuracy {accuracy(test):.3f}")

    # The full template (every feature of the reference subject), then the template
    # reduced to K dimensions before level 3 (n_features = K), as the SRM below.
    for width in (0, k):
        label = "full template" if width == 0 else f"template K={width}"

        def ours_hyper():
            al = btfm.Aligner("hyperalignment", n_features=width).fit(train)
            return [al.transform(x, i) for i, x in enumerate(test)]

        def ref_hyper():
            transform, _ = ref.hyperalignment(train, n_features=width or None)
            return [transform(x, i) for i, x in enumerate(test)]

        if pymvpa:
            img_ours, img_ref = ours_hyper(), ref_hyper()
            t_ours, t_ref = race(ours_hyper, ref_hyper, 1, warmup=0)
            record("align", f"hyperalignment, {label} (acc {accuracy(img_ours):.3f} vs "
                   f"{accuracy(img_ref):.3f})", t_ours, t_ref, "PyMVPA as written (NumPy)")
        else:
            t_ours, img_ours = timed_median(ours_hyper)
            print(f"  hyperalignment, {label:15s} libbtfm {t_ours:6.2f} s  acc "
                  f"{accuracy(img_ours):.3f} | PyMVPA reference skipped (--skip-pymvpa)")

    def ours_srm():
        al = btfm.Aligner("srm", n_features=k, max_iter=10).fit(train)
        return al, [al.transform(x, i) for i, x in enumerate(test)]

    def ref_srm():
        w, _, means = ref.det_srm(train, k, n_iter=10)
        return [(x - means[i]) @ w[i] for i, x in enumerate(test)]

    (al, img_ours), img_ref = ours_srm(), ref_srm()
    t_ours, t_ref = race(ours_srm, ref_srm, 3)
    record("align", f"deterministic SRM, 10 iterations (acc {accuracy(img_ours):.3f} vs "
           f"{accuracy(img_ref):.3f})", t_ours, t_ref, "BrainIAK DetSRM (NumPy)")


def large(n, t, v, k, noise):
    print(f"libbtfm alone: N={n}, T={t}, V={v}, K={k}")
    rng = np.random.RandomState(2)
    s = rng.randn(t + t // 2, k)
    for method in ("srm", "hyperalignment"):
        al = btfm.Aligner(method, n_features=k if method == "srm" else 0)
        tests = []
        for _ in range(n):  # one subject at a time: only the library's copy stays
            w = np.linalg.qr(rng.randn(v, k))[0]
            x = (s @ w.T + noise * rng.standard_normal((t + t // 2, v))).astype(np.float32)
            al.add_subject(x[:t])
            tests.append(x[t:])
        elapsed, _ = timed(al.fit)
        images = [al.transform(x, i) for i, x in enumerate(tests)]
        print(f"  {method:15s} fit {elapsed:8.2f} s  acc {accuracy(images):.3f}")
        al.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-pymvpa", action="store_true",
                        help="time libbtfm's hyperalignment without the (minutes-long) reference")
    args = parser.parse_args()
    print(f"numpy {np.__version__}; {os.cpu_count()} CPUs; libbtfm {btfm.version()}; "
          f"OpenBLAS kernels: {blas_core()}")
    if args.quick:
        compare(4, 200, 400, 10, 0.3, not args.skip_pymvpa)
        if not args.skip_large:
            large(6, 200, 2000, 10, 0.3)
        return
    compare(10, 800, 3000, 30, 0.3, not args.skip_pymvpa)
    if not args.skip_large:
        large(50, 800, 20000, 30, 0.3)


if __name__ == "__main__":
    main()
