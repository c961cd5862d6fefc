#!/usr/bin/env python3
"""Filtering and resampling speed, libbtfm against SciPy side by side in one run on the
same data: 64 channels x 921,600 samples (30 min at 512 Hz), float32, time-major.

  * zero-phase order-4 Butterworth band-pass 1-40 Hz: btfm.signal.sosfiltfilt against
    scipy.signal.sosfiltfilt(sos, x, axis=0), on all cores and on one thread
    (BTFM_NUM_THREADS=1 while ours runs: one core each side);
  * 4x downsampling: btfm.signal.resample_poly(x, 1, 4) against
    scipy.signal.resample_poly(x, 1, 4, axis=0);
  * causal filtering (sosfilt) for reference.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_filter.py [--repeat 3] [--minutes 30] [--quick]

Both sides warmed up, then --repeat interleaved runs each; best and median wall time and
their ratios (reference time / ours). libbtfm uses the machine's cores for the offline
functions (set BTFM_NUM_THREADS=1 for one). Figures: doc/signal.md.
"""

import argparse
import os
import sys
import time

import numpy as np
import scipy.signal as ss

from btfm import signal as bs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import race, record  # noqa: E402

N_CHANNELS, SFREQ = 64, 512


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--quick", action="store_true", help="3 runs, sosfiltfilt only")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 3
    n_times = int(args.minutes * 60 * SFREQ)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n_times, N_CHANNELS)) * 20e-6).astype(np.float32)
    sos = bs.butter(4, (1, 40), "bandpass", sfreq=SFREQ)
    print(f"{N_CHANNELS} channels x {n_times} samples float32, {os.cpu_count()} CPUs, "
          f"BTFM_NUM_THREADS={os.environ.get('BTFM_NUM_THREADS', '(all)')}; "
          f"{args.repeat} interleaved runs a side after one warm-up")
    def one_thread(fn):
        def run():
            before = os.environ.get("BTFM_NUM_THREADS")
            os.environ["BTFM_NUM_THREADS"] = "1"  # read by the library at each call
            try:
                return fn()
            finally:
                if before is None:
                    del os.environ["BTFM_NUM_THREADS"]
                else:
                    os.environ["BTFM_NUM_THREADS"] = before
        return run

    rows = [
        ("sosfiltfilt band-pass 1-40 Hz order 4",
         lambda: bs.sosfiltfilt(sos, x), lambda: ss.sosfiltfilt(sos, x, axis=0), 10),
        ("sosfiltfilt band-pass 1-40 Hz order 4, one thread",
         one_thread(lambda: bs.sosfiltfilt(sos, x)), lambda: ss.sosfiltfilt(sos, x, axis=0),
         None),
        ("resample_poly 1/4", lambda: bs.resample_poly(x, 1, 4),
         lambda: ss.resample_poly(x, 1, 4, axis=0), 3),
        ("sosfilt (causal, one thread)", lambda: bs.sosfilt(sos, x),
         lambda: ss.sosfilt(sos, x, axis=0), None),
    ]
    if args.quick:
        rows = rows[:2]
    for name, ours_fn, ref_fn, target in rows:
        y, ref = ours_fn(), ref_fn()
        rms = np.sqrt(np.mean(ref.astype(np.float64) ** 2))
        err = np.max(np.abs(y - ref)) / rms
        # the same result as SciPy's (float32 output of a float64 recursion), or no ratio
        assert y.shape == ref.shape and err < 1e-4, f"{name}: max|diff|/rms {err:.1e}"
        del y, ref
        c0 = time.process_time()
        t_ours, t_ref = race(ours_fn, ref_fn, args.repeat)
        record("filter", f"{name} (max|diff|/rms {err:.0e})", t_ours, t_ref, "SciPy",
               target=target)
    print(f"(processor time of the whole race: {time.process_time() - c0:.1f} s)")


if __name__ == "__main__":
    main()
