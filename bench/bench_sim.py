"""Speed and memory of the simulators (doc/simulation.md, "Speed and memory").

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_sim.py [--btfm build/tools/btfm] [--runs 5] [--full]

1. The default rating session (8 annotators x 60 items, 32 + 2 channels at 250 Hz, EDF+),
   written by `btfm sim rating-session` in a child process, warmed up, interleaved with
   the reference: writing the same EEG volume from memory through the same EDF writer
   (btfm.from_array + save of 8 recordings of the same shape): the floor any simulator
   writing these files pays. Best and median wall time of each, the ratio, the child's
   processor time, throughput and peak memory; then one and two threads.
2. Memory of long sessions: peak RSS of the child writing 1 annotator x 10 min, 1 x 1 h,
   4 x 1 h and, with --full, 32 x 1 h (about 2 GB of EDF): the recordings stream to disk,
   so memory must not grow with the length or the number of annotators.

No other implementation writes these datasets; the reference bounds what is achievable.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import btfm
from sidebyside import record  # noqa: E402  (bench/ is the script's folder)


def child(argv, env=None):
    """Run argv; (wall s, user+sys s, peak RSS MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if status != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def session(tool, out, params=()):
    argv = [tool, "sim", "rating-session", out]
    for p in params:
        argv += ["--param", p]
    return argv


WRITE_FLOOR = r"""
import sys, numpy as np, btfm
shape, out = [int(v) for v in sys.argv[1:3]], sys.argv[3]
rng = np.random.default_rng(0)
x = (rng.standard_normal((shape[0], shape[1])) * 10e-6).astype(np.float32)
for a in range(8):
    ds = btfm.from_array(x, 250.0)
    ds.save(f"{out}/rec{a}.edf")
"""


def speed(tool, runs, scratch):
    # One run to learn the session's shape (samples per annotator) and size.
    probe = os.path.join(scratch, "probe")
    child(session(tool, probe))
    annotators = btfm.sim.truth(probe, "annotators")
    samples = [int(v) for v in annotators["n_samples"]]
    size = folder_size(probe)
    shutil.rmtree(probe)
    channels = 34
    floor_dir = os.path.join(scratch, "floor")
    floor = [sys.executable, "-c", WRITE_FLOOR, str(max(samples)), str(channels), floor_dir]
    sim_t, ref_t, cpu, rss = [], [], [], []
    for r in range(runs + 1):  # the first round warms caches and is not counted
        out = os.path.join(scratch, f"run{r}")
        wall, processor, peak = child(session(tool, out))
        shutil.rmtree(out)
        os.makedirs(floor_dir, exist_ok=True)
        ref_wall, _, _ = child(floor)
        shutil.rmtree(floor_dir)
        if r:
            sim_t.append(wall)
            ref_t.append(ref_wall)
            cpu.append(processor)
            rss.append(peak)
    ratios = [s / f for s, f in zip(sim_t, ref_t)]
    total = sum(samples) * channels
    print(f"default session: 8 annotators x 60 items, {sum(samples) / 250 / 60:.1f} min of "
          f"34-channel EEG at 250 Hz, {size / 1e6:.1f} MB")
    print(f"  btfm sim rating-session       best {min(sim_t):6.2f} s  median "
          f"{statistics.median(sim_t):6.2f} s  (processor {statistics.median(cpu):.2f} s, "
          f"peak RSS {max(rss):.0f} MiB)")
    print(f"  reference: write the same EEG from memory (8 x EDF)  best {min(ref_t):6.2f} s  "
          f"median {statistics.median(ref_t):6.2f} s")
    print(f"  ratio simulate+write / write   best {min(ratios):.2f}  median "
          f"{statistics.median(ratios):.2f}")
    record("sim", "rating session simulated and written (cost against writing alone)", sim_t,
           ref_t, "writing the same EEG from memory")
    print(f"  throughput {total / statistics.median(sim_t) / 1e6:.1f} M channel-samples/s, "
          f"{size / statistics.median(sim_t) / 1e6:.1f} MB/s")
    for threads in (1, 2):
        times = []
        for r in range(max(2, runs // 2)):
            out = os.path.join(scratch, f"t{threads}-{r}")
            wall, _, _ = child(session(tool, out, [f"num_threads={threads}"]))
            shutil.rmtree(out)
            times.append(wall)
        print(f"  num_threads={threads}: best {min(times):.2f} s  median {statistics.median(times):.2f} s")


def memory(tool, full, scratch):
    cases = [(1, 75, "1 x 10 min"), (1, 450, "1 x 1 h"), (4, 450, "4 x 1 h")]
    if full:
        cases.append((32, 450, "32 x 1 h"))
    for annotators, items, name in cases:
        out = os.path.join(scratch, "long")
        wall, processor, peak = child(session(tool, out, [f"n_annotators={annotators}",
                                                          f"n_items={items}"]))
        hours = sum(int(v) for v in btfm.sim.truth(out, "annotators")["n_samples"]) / 250 / 3600
        size = folder_size(out)
        shutil.rmtree(out)
        print(f"  {name:10s}: {hours:5.2f} h of EEG, {size / 1e9:6.2f} GB written, peak RSS "
              f"{peak:6.1f} MiB, {wall:7.1f} s wall, {processor:7.1f} s processor")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--btfm", default=os.path.join("build", "tools", "btfm"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also 32 annotators x 1 h (2 GB)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    print(f"libbtfm {btfm.version()}, {os.cpu_count()} processors, load "
          f"{os.getloadavg()[0]:.1f}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BTFM_BENCH_TMP")) as scratch:
        if not args.skip_speed:
            speed(args.btfm, args.runs, scratch)
        if not args.skip_memory:
            print("memory of long sessions (recordings stream to disk):")
            memory(args.btfm, args.full, scratch)
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
