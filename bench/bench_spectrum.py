"""Spectral speed, side by side in one run: btfm.spectrum.welch against
scipy.signal.welch(axis=0) on 64 channels x 921,600 float32 samples (30 min at 512 Hz),
nperseg 512 and 1024, Hann, 50% overlap, constant detrending, mean (and median) over
segments; prints each best-of-N wall time, the ratio and the largest relative
difference. Then, for information, real FFTs of a few lengths against numpy.fft.rfft
(64 rows each; libbtfm through one ctypes call per row).

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \
        /usr/bin/python3 bench/bench_spectrum.py [--repeat N] [--quick]
"""

import argparse
import time

import numpy as np
import scipy.signal

from btfm import spectrum


def best_of(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tenth of the samples")
    args = parser.parse_args()
    n_times = 921600 // (10 if args.quick else 1)
    x = np.random.default_rng(0).standard_normal((n_times, 64)).astype(np.float32) * 1e-5
    print(f"Welch PSD of {x.shape[1]} channels x {x.shape[0]} float32 samples at 512 Hz")
    print(f"{'nperseg':>8} {'average':>8} {'btfm (s)':>10} {'scipy (s)':>10} {'ratio':>7}"
          f" {'max rel diff':>13}")
    for nperseg in (512, 1024):
        for average in ("mean", "median"):
            ours, (f, p) = best_of(lambda: spectrum.welch(x, 512.0, nperseg=nperseg,
                                                          average=average), args.repeat)
            ref, (fr, pr) = best_of(lambda: scipy.signal.welch(x, 512.0, nperseg=nperseg,
                                                               average=average, axis=0),
                                    args.repeat)
            diff = float(np.max(np.abs(p - pr) / np.abs(pr).max(axis=0)))
            print(f"{nperseg:>8} {average:>8} {ours:10.3f} {ref:10.3f} {ref / ours:6.1f}x"
                  f" {diff:13.1e}")

    print("\nReal FFT of 64 rows (for information)")
    print(f"{'n':>8} {'btfm (ms)':>10} {'numpy (ms)':>11} {'ratio':>7}")
    for n in (512, 4096, 10007, 65536, 2 * 3 * 5 * 7 * 11 * 13):
        rows = np.random.default_rng(n).standard_normal((64, n))
        ours, a = best_of(lambda: spectrum.rfft(rows), args.repeat)
        ref, b = best_of(lambda: np.fft.rfft(rows), args.repeat)
        assert np.abs(a - b).max() <= 1e-10 * np.abs(b).max()
        print(f"{n:>8} {1e3 * ours:10.2f} {1e3 * ref:11.2f} {ref / ours:6.2f}x")


if __name__ == "__main__":
    main()
