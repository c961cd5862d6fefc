#!/usr/bin/env python3
"""TSV table loading speed, side by side in one run on one file with a warm page cache:
libbtfm (btfm.read_table + the numeric columns as float64 arrays) against what Python
users do today: numpy.loadtxt(dtype=str) then float conversion (MNE-BIDS's _from_tsv),
and the csv module with float().

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_table.py [--rows 100000] [--runs 7]

The file is an events.tsv (onset, duration, trial_type, response_time, value, sample),
written with numpy. Every reader's numbers are checked equal before timing. Figures:
doc/tables.md.
"""

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time

import numpy as np

import btfm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import race, record  # noqa: E402

NUMERIC = ["onset", "duration", "response_time", "sample"]


def write_events(path, n_rows):
    rng = np.random.default_rng(0)
    onset = np.cumsum(rng.uniform(0.5, 2.0, n_rows))
    duration = rng.uniform(0, 1, n_rows)
    rt = rng.uniform(0.2, 0.9, n_rows)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("onset\tduration\ttrial_type\tresponse_time\tvalue\tsample\n")
        for i in range(n_rows):
            f.write(f"{onset[i]!r}\t{duration[i]!r}\t{('go', 'stop', 'rest')[i % 3]}\t"
                    f"{'n/a' if i % 11 == 0 else repr(rt[i])}\tS{i % 8}\t{int(onset[i] * 512)}\n")


def to_float(column):
    return np.array([np.nan if v == "n/a" else float(v) for v in column])


def read_btfm(path):
    t = btfm.read_table(path)
    out = {name: t.numbers(name) for name in NUMERIC}
    out["trial_type"] = t.strings("trial_type")
    t.close()
    return out


def read_loadtxt(path):
    data = np.loadtxt(path, dtype=str, delimiter="\t", ndmin=2, comments=None,
                      encoding="utf-8-sig")
    header = list(data[0])
    columns = {name: data[1:, i] for i, name in enumerate(header)}
    out = {name: to_float(columns[name]) for name in NUMERIC}
    out["trial_type"] = [None if v == "n/a" else str(v) for v in columns["trial_type"]]
    return out


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    header, body = rows[0], rows[1:]
    columns = {name: [r[i] for r in body] for i, name in enumerate(header)}
    out = {name: to_float(columns[name]) for name in NUMERIC}
    out["trial_type"] = [None if v == "n/a" else v for v in columns["trial_type"]]
    return out


def best_time(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.tsv")
        write_events(path, args.rows)
        size = os.path.getsize(path)
        ours = read_btfm(path)
        for name, reader in (("numpy.loadtxt", read_loadtxt), ("csv", read_csv)):
            theirs = reader(path)
            for column in NUMERIC:
                np.testing.assert_array_equal(ours[column], theirs[column], err_msg=name)
            assert ours["trial_type"] == theirs["trial_type"], name
        print(f"events.tsv: {args.rows} rows x 6 columns, {size / 1e6:.1f} MB; "
              f"best (median) of {args.runs} runs, numbers of 4 columns + 1 text column")
        t = btfm.read_table(path)
        parse_best, _ = best_time(lambda: btfm.read_table(path).close(), args.runs)
        numbers_best, _ = best_time(lambda: [t.numbers(c) for c in NUMERIC], args.runs)
        t.close()
        print(f"  libbtfm read+index {parse_best * 1e3:.1f} ms, 4 numeric columns "
              f"{numbers_best * 1e3:.1f} ms")
        for name, reader in (("numpy.loadtxt (MNE-BIDS)", read_loadtxt), ("csv + float()", read_csv)):
            t_ours, t_ref = race(lambda: read_btfm(path), lambda: reader(path), args.runs)
            record("table", f"events.tsv {args.rows} rows", t_ours, t_ref, name)

if __name__ == "__main__":
    main()
