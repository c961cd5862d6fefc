#!/usr/bin/env python3
"""Filtering and resampling speed, libbtfm against SciPy side by side in one run on the
same data: 64 channels x 921,600 samples (30 min at 512 Hz), float32, time-major.

  * zero-phase order-4 Butterworth band-pass 1-40 Hz: btfm.signal.sosfiltfilt against
    scipy.signal.sosfiltfilt(sos, x, axis=0);
  * 4x downsampling: btfm.signal.resample_poly(x, 1, 4) against
    scipy.signal.resample_poly(x, 1, 4, axis=0);
  * causal filtering (sosfilt) for reference.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_filter.py [--repeat 3] [--minutes 30]

Best of --repeat runs each, wall-clock and CPU time (summed over threads; on a machine
shared with other jobs the CPU ratio is the steadier figure). libbtfm uses the machine's
cores for the offline functions (set BTFM_NUM_THREADS=1 for one). Ratios are reference
time / ours. Figures: doc/signal.md.
"""

import argparse
import os
import time

import numpy as np
import scipy.signal as ss

from btfm import signal as bs

N_CHANNELS, SFREQ = 64, 512


def best(fn, repeat):
    """Best wall-clock time and best CPU time (all threads) of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=30)
    args = parser.parse_args()
    n_times = int(args.minutes * 60 * SFREQ)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n_times, N_CHANNELS)) * 20e-6).astype(np.float32)
    sos = bs.butter(4, (1, 40), "bandpass", sfreq=SFREQ)
    print(f"{N_CHANNELS} channels x {n_times} samples float32, {os.cpu_count()} CPUs, "
          f"BTFM_NUM_THREADS={os.environ.get('BTFM_NUM_THREADS', '(all)')}")
    rows = [
        ("sosfiltfilt band-pass 1-40 Hz order 4",
         lambda: bs.sosfiltfilt(sos, x), lambda: ss.sosfiltfilt(sos, x, axis=0), 10),
        ("resample_poly 1/4", lambda: bs.resample_poly(x, 1, 4),
         lambda: ss.resample_poly(x, 1, 4, axis=0), 3),
        ("sosfilt (causal, one thread)", lambda: bs.sosfilt(sos, x),
         lambda: ss.sosfilt(sos, x, axis=0), None),
    ]
    print(f"{'operation':38s} {'ours wall':>9s} {'scipy wall':>10s} {'ratio':>6s} "
          f"{'ours cpu':>9s} {'scipy cpu':>9s} {'ratio':>6s}  target")
    for name, ours_fn, ref_fn, target in rows:
        w_ours, c_ours, y = best(ours_fn, args.repeat)
        w_ref, c_ref, ref = best(ref_fn, args.repeat)
        rms = np.sqrt(np.mean(ref.astype(np.float64) ** 2))
        err = np.max(np.abs(y - ref)) / rms
        goal = f">= {target}x" if target else ""
        print(f"{name:38s} {w_ours:9.3f} {w_ref:10.3f} {w_ref / w_ours:5.1f}x "
              f"{c_ours:9.3f} {c_ref:9.3f} {c_ref / c_ours:5.1f}x  {goal:7s}"
              f" max|diff|/rms {err:.0e}")


if __name__ == "__main__":
    main()
