"""Spectral speed, side by side in one run: btfm.spectrum.welch against
scipy.signal.welch(axis=0) on 64 channels x 921,600 float32 samples (30 min at 512 Hz),
nperseg 512 and 1024, Hann, 50% overlap, constant detrending, mean (and median) over
segments; prints each best-of-N wall time, the ratio and the largest relative
difference. Then real FFTs of 64 rows of n = 512, 4096, 10007 (prime), 30030, 65536,
3 * 2^15 and 2^18 against numpy.fft.rfft (pocketfft). Both sides warmed up, runs
interleaved, best and median.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \
        /usr/bin/python3 bench/bench_spectrum.py [--repeat N] [--quick] [--rfft-only]
"""

import argparse
import os
import sys

import numpy as np
import scipy.signal

from btfm import spectrum

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import race, record  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tenth of the samples")
    parser.add_argument("--rfft-only", action="store_true", help="only the real FFTs")
    args = parser.parse_args()
    n_times = 921600 // (10 if args.quick else 1)
    x = np.random.default_rng(0).standard_normal((n_times, 64)).astype(np.float32) * 1e-5
    print(f"Welch PSD of {x.shape[1]} channels x {x.shape[0]} float32 samples at 512 Hz; "
          f"{args.repeat} interleaved runs a side after one warm-up")
    for nperseg in () if args.rfft_only else (512, 1024):
        for average in ("mean", "median"):
            ours = lambda: spectrum.welch(x, 512.0, nperseg=nperseg, average=average)  # noqa: E731
            ref = lambda: scipy.signal.welch(x, 512.0, nperseg=nperseg,  # noqa: E731
                                             average=average, axis=0)
            (f, p), (fr, pr) = ours(), ref()
            diff = float(np.max(np.abs(p - pr) / np.abs(pr).max(axis=0)))
            t_ours, t_ref = race(ours, ref, args.repeat)
            record("spectrum", f"welch nperseg {nperseg} {average} (max rel diff {diff:.0e})",
                   t_ours, t_ref, "scipy.signal.welch")

    print("\nReal FFT of 64 rows (numpy.fft.rfft's layout: rows of n samples)")
    for n in (512, 4096, 10007, 30030, 65536, 3 * 2**15, 2**18):
        rows = np.random.default_rng(n).standard_normal((64, n))
        ours = lambda: spectrum.rfft(rows)  # noqa: E731
        ref = lambda: np.fft.rfft(rows)  # noqa: E731
        a, b = ours(), ref()
        assert np.abs(a - b).max() <= 1e-10 * np.abs(b).max()
        t_ours, t_ref = race(ours, ref, max(args.repeat, 5))
        record("spectrum", f"rfft 64 x {n}", t_ours, t_ref, "numpy.fft.rfft (pocketfft)",
               target=1)


if __name__ == "__main__":
    main()
