#!/usr/bin/env python3
"""EDF+ decoding speed, side by side in one run on one file with a warm page cache:
libbtfm (btfm.open(p).data: a fresh float32 time-major matrix), MNE
(read_raw_edf(preload=True) + get_data()) and EDFlib (edfread_physical_samples per
signal into a float32 matrix, bench/edflib_read.c). Then random 2-second windows: libbtfm
read() against MNE get_data(start, stop) on a raw opened without preload.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_edf.py --edflib build/bench/edflib_read [--minutes 30]

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
    args = parser.parse_args()
    import mne
    mne.set_log_level("ERROR")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.edf")
        write_file(path, args.minutes)
        size_mb = os.path.getsize(path) / 1e6
        warm(path)
        print(f"file: {N_CHANNELS} channels x {args.minutes:g} min at {SFREQ} Hz, "
              f"{size_mb:.1f} MB, warm page cache; medians of {args.runs} runs")

        def ours():
            with btfm.open(path) as ds:
                return ds.data

        def theirs():
            return mne.io.read_raw_edf(path, preload=True).get_data()

        # Same values first, so the race is between equal results.
        a, b = ours(), theirs()
        assert np.max(np.abs(a - b.T)) <= 0.1 / 1e6, "libbtfm and MNE disagree"
        del a, b
        t_ours = median_time(ours, args.runs)
        t_mne = median_time(theirs, max(3, args.runs // 2))
        rows = [("libbtfm (Python, btfm.open(p).data)", t_ours),
                ("MNE read_raw_edf(preload=True) + get_data()", t_mne)]
        if args.edflib:
            out = subprocess.run([args.edflib, path, str(max(3, args.runs // 2))],
                                 check=True, capture_output=True, text=True).stdout
            t_edflib = float(out)
            rows.append(("EDFlib edfread_physical_samples loop (C)", t_edflib))
        for name, t in rows:
            print(f"  {name:48s} {t * 1e3:9.1f} ms  {size_mb / t:8.0f} MB/s")
        print(f"  ratio MNE / libbtfm:    {t_mne / t_ours:6.1f}x (target >= 10x)")
        if args.edflib:
            print(f"  ratio EDFlib / libbtfm: {t_edflib / t_ours:6.1f}x (target >= 8x)")

        rng = np.random.default_rng(1)
        with btfm.open(path) as ds:
            n_times = ds.n_times
            starts = rng.integers(0, n_times - 2 * SFREQ, args.windows)
            lat_ours = []
            for s in starts:
                t0 = time.perf_counter()
                ds.read(int(s), int(s) + 2 * SFREQ)
                lat_ours.append(time.perf_counter() - t0)
        raw = mne.io.read_raw_edf(path, preload=False)
        lat_mne = []
        for s in starts:
            t0 = time.perf_counter()
            raw.get_data(start=int(s), stop=int(s) + 2 * SFREQ)
            lat_mne.append(time.perf_counter() - t0)
        m_ours, m_mne = statistics.median(lat_ours), statistics.median(lat_mne)
        print(f"random 2-s window ({args.windows} windows, all channels), median latency: "
              f"libbtfm {m_ours * 1e6:.0f} us, MNE {m_mne * 1e6:.0f} us, "
              f"ratio {m_mne / m_ours:.1f}x")


if __name__ == "__main__":
    main()
