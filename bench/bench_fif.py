#!/usr/bin/env python3
"""FIF raw reading speed, side by side in one run on one file with a warm page cache:
libbtfm (btfm.open(p).data: a fresh float32 time-major matrix, triggers and metadata
included) against MNE (read_raw_fif(preload=True) + get_data()), both warmed up, their
runs interleaved, best and median ratios printed.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_fif.py [--minutes 10] [--fmt single] [--runs 7]

The file is written by MNE from a RawArray: 306 MEG channels (102 magnetometers, 204
planar gradiometers, Neuromag names and coil types) and one stim channel (STI 014) at
1000 Hz, in MNE's default 1-second buffers. Figures: doc/formats.md ("FIF").
"""

import argparse
import os
import statistics
import sys
import tempfile

import numpy as np

import btfm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import race, record  # noqa: E402  (same timing rules as every benchmark)

SFREQ = 1000.0


def write_file(path, minutes, fmt):
    import mne
    n = int(minutes * 60 * SFREQ)
    names, types = [], []
    for k in range(102):
        base = f"MEG {k // 3 + 1:02d}{k % 3 + 1:01d}"
        names += [base + "1", base + "2", base + "3"]
        types += ["mag", "grad", "grad"]
    names.append("STI 014")
    types.append("stim")
    info = mne.create_info(names, SFREQ, types)
    rng = np.random.default_rng(0)
    # Written a minute at a time through one RawArray per minute would split the file;
    # one array of float64 data is what MNE needs, built from a cheap periodic pattern.
    period = rng.standard_normal((len(names), 4096))
    scale = np.array([1e-12 if t == "mag" else 1e-11 for t in types[:-1]] + [0.0])
    data = np.empty((len(names), n))
    for start in range(0, n, 4096):
        stop = min(n, start + 4096)
        data[:, start:stop] = period[:, :stop - start] * scale[:, None]
    data[-1, :] = 0
    data[-1, int(5 * SFREQ)::int(10 * SFREQ)] = 1
    raw = mne.io.RawArray(data, info, first_samp=12345, verbose="ERROR")
    del data
    raw.save(path, fmt=fmt, overwrite=True, verbose="ERROR")
    return len(names), n


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fmt", default="single", choices=["single", "double", "int", "short"])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    import mne
    mne.set_log_level("ERROR")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BTFM_BENCH_TMP")) as folder:
        path = os.path.join(folder, "bench_raw.fif")
        n_channels, n = write_file(path, args.minutes, args.fmt)
        size = os.path.getsize(path)
        warm(path)

        def ours():
            with btfm.open(path) as ds:
                return ds.data

        def theirs():
            return mne.io.read_raw_fif(path, preload=True, verbose="ERROR").get_data()

        a, b = ours(), theirs()  # the same values before anything is timed
        assert a.shape == b.T.shape, (a.shape, b.shape)
        assert np.array_equal(a, b.T.astype(np.float32)), "the readers disagree"
        del a, b
        t_ours, t_mne = race(ours, theirs, args.runs)  # warmed up, interleaved
        print(f"file: {n_channels} channels x {args.minutes:g} min at {SFREQ:g} Hz "
              f"({n} samples), {args.fmt}, {size / 1e6:.0f} MB, warm page cache; "
              f"{args.runs} interleaved runs after a warm-up")
        print(f"libbtfm btfm.open(p).data       best {min(t_ours) * 1e3:8.1f} ms  "
              f"median {statistics.median(t_ours) * 1e3:8.1f} ms  "
              f"({size / statistics.median(t_ours) / 1e9:.2f} GB/s)")
        print(f"MNE read_raw_fif(preload=True)  best {min(t_mne) * 1e3:8.1f} ms  "
              f"median {statistics.median(t_mne) * 1e3:8.1f} ms")
        record("fif", f"{n_channels} ch x {args.minutes:g} min {args.fmt}", t_ours, t_mne,
               "MNE read_raw_fif(preload=True)", target=5)


if __name__ == "__main__":
    main()
