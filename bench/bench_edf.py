#!/usr/bin/env python3
"""EDF+ decoding speed, side by side in one run on one file with a warm page cache:
libbtfm (btfm.open(p).data: a fresh float32 time-major matrix), MNE
(read_raw_edf(preload=True) + get_data()) and EDFlib (edfread_physical_samples per
signal into a float32 matrix, bench/edflib_read.c), our runs interleaved with MNE's after a
warm-up of each; ours both into a fresh array and into a reused one (ds.read(out=buf)).
Then random 2-second windows: libbtfm read() against MNE get_data(start, stop) on a raw
opened without preload.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_edf.py --edflib build/bench/edflib_read [--minutes 30] [--quick]

The file (64 channels, 512 Hz, int16, EDF+C with annotations) is written by the
specification writer of the tests (tests/io/edfspec.py). Figures: doc/datasets.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import btfm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "io"))
import edfspec  # noqa: E402
from sidebyside import race, record  # noqa: E402

N_CHANNELS, SFREQ = 64, 512


def write_file(path, minutes):
    rng = np.random.default_rng(0)
    n_records = int(minutes * 60)
    # Band-limited-looking int16 data: a random walk, so values are not all extremes.
    walk = np.cumsum(rng.integers(-300, 301, (N_CHANNELS, n_records * SFREQ)), axis=1)
    walk = np.clip(walk - walk.mean(axis=1, keepdims=True), -32768, 32767)
    signals = [{"label": f"EEG {i:02d}", "dim": "uV", "pmin": -3276.8, "pmax": 3276.7,
                "dmin": -32768, "dmax": 32767, "spr": SFREQ, "digital": walk[i]}
               for i in range(N_CHANNELS)]
    notes = [(float(t), None, "stimulus") for t in range(5, n_records, 10)]
    edfspec.write(path, signals, n_records, annotations=notes)


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edflib", help="path of the edflib_read program (bench/)")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="3 runs, 50 windows")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.windows = 3, 50
    import mne
    mne.set_log_level("ERROR")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.edf")
        write_file(path, args.minutes)
        size_mb = os.path.getsize(path) / 1e6
        warm(path)
        print(f"file: {N_CHANNELS} channels x {args.minutes:g} min at {SFREQ} Hz, "
              f"{size_mb:.1f} MB, warm page cache; {args.runs} interleaved runs a side "
              f"after one warm-up, {os.cpu_count()} CPUs")
        with btfm.open(path) as ds:
            buf = np.empty((ds.n_times, ds.n_channels), dtype=np.float32)

        def fresh():
            with btfm.open(path) as ds:
                return ds.data

        def reused():
            with btfm.open(path) as ds:
                return ds.read(0, ds.n_times, out=buf)

        def theirs():
            return mne.io.read_raw_edf(path, preload=True).get_data()

        # Same values first, so the race is between equal results.
        a, b = fresh(), theirs()
        assert np.max(np.abs(a - b.T)) <= 0.1 / 1e6, "libbtfm and MNE disagree"
        del a, b
        # Interleaved with MNE in one process: each of our reads follows one of MNE's,
        # which has just freed its arrays (the fresh-memory case of a mixed pipeline).
        t_fresh, t_mne = race(fresh, theirs, args.runs)
        record("edf", f"EDF {size_mb:.0f} MB decode, fresh array (ds.data)", t_fresh, t_mne,
               "MNE read_raw_edf(preload)", target=10)
        t_reused, t_mne2 = race(reused, theirs, args.runs)
        record("edf", f"EDF {size_mb:.0f} MB decode, reused array (ds.read(out=buf))", t_reused, t_mne2,
               "MNE read_raw_edf(preload)", target=10)
        if args.edflib:
            out = subprocess.run([args.edflib, path, str(max(3, args.runs // 2))],
                                 check=True, capture_output=True, text=True).stdout
            t_edflib = float(out)
            record("edf", f"EDF {size_mb:.0f} MB decode vs EDFlib (C)", t_fresh, (t_edflib, t_edflib),
                   "EDFlib edfread_physical_samples", target=8)

        rng = np.random.default_rng(1)
        raw = mne.io.read_raw_edf(path, preload=False)
        lat_ours, lat_mne = [], []
        with btfm.open(path) as ds:
            starts = rng.integers(0, ds.n_times - 2 * SFREQ, args.windows)
            for s in starts:  # interleaved, window by window
                t0 = time.perf_counter()
                ds.read(int(s), int(s) + 2 * SFREQ)
                t1 = time.perf_counter()
                raw.get_data(start=int(s), stop=int(s) + 2 * SFREQ)
                lat_ours.append(t1 - t0)
                lat_mne.append(time.perf_counter() - t1)
        record("edf", "random 2-s window, 64 channels", lat_ours, lat_mne,
               "MNE get_data (no preload)")


if __name__ == "__main__":
    main()
