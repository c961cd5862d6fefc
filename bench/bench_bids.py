#!/usr/bin/env python3
"""BIDS indexing speed, side by side in one run on one synthetic tree (warm page cache):
btfm.bids.open (walk, entity parsing, sidecar inheritance and strict checks of every
recording, events.tsv and channels.tsv headers) against a plain Python indexer doing the
same work the way a script would without pybids or mne_bids (os.walk, split names, json
per file cached, merged sidecars per recording, csv header of each TSV sidecar).

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_bids.py [--subjects 100] [--runs 5] [--repeats 5]

Both sides' merged sidecars are checked equal before timing. Figures: doc/bids.md.
"""

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time

import btfm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import race, record  # noqa: E402

EEG = {"TaskName": "rest", "SamplingFrequency": 256, "PowerLineFrequency": 50,
       "SoftwareFilters": "n/a", "EEGReference": "Cz"}


def make_tree(root, n_subjects, n_sessions, n_runs):
    def put(rel, text):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    put("dataset_description.json", json.dumps({"Name": "bench", "BIDSVersion": "1.9.0"}))
    put("task-rest_eeg.json", json.dumps(EEG))
    for s in range(1, n_subjects + 1):
        sub = f"{s:03d}"
        put(f"sub-{sub}/sub-{sub}_task-rest_eeg.json", json.dumps({"Manufacturer": f"m{s}"}))
        for e in range(1, n_sessions + 1):
            for r in range(1, n_runs + 1):
                base = f"sub-{sub}/ses-{e}/eeg/sub-{sub}_ses-{e}_task-rest_run-{r}"
                put(base + "_eeg.edf", "")
                put(base + "_eeg.json", json.dumps({"RecordingDuration": r}))
                put(base + "_events.tsv", "onset\tduration\ttrial_type\n1\t0\tgo\n")
                put(base + "_channels.tsv", "name\ttype\tunits\nCz\tEEG\tuV\n")


def python_index(root):
    """{relative path: merged sidecar} the way a script would build it."""
    cache = {}

    def load(path):
        if path not in cache:
            with open(path, encoding="utf-8-sig") as f:
                cache[path] = json.load(f)
        return cache[path]

    def entities(name):
        return dict(p.split("-", 1) for p in name.split("_")[:-1])

    out = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        if os.path.basename(folder) != "eeg":
            continue
        for name in sorted(files):
            if not name.endswith("_eeg.edf"):
                continue
            mine = entities(name)
            rel = os.path.relpath(os.path.join(folder, name), root)
            chain, merged = [root], {}
            for part in os.path.dirname(rel).split(os.sep):
                chain.append(os.path.join(chain[-1], part))
            for level in chain:
                for entry in sorted(os.listdir(level)):
                    if entry.endswith("_eeg.json") and all(
                            mine.get(k) == v for k, v in entities(entry).items()):
                        merged.update(load(os.path.join(level, entry)))
            for key in EEG:
                assert key in merged, (rel, key)
            stem = os.path.join(folder, name[:-len("_eeg.edf")])
            for suffix, first in (("_events.tsv", ["onset", "duration"]),
                                  ("_channels.tsv", ["name", "type", "units"])):
                with open(stem + suffix, newline="") as f:
                    header = next(csv.reader(f, delimiter="\t"))
                assert header[:len(first)] == first
            out[rel] = merged
    return out


def btfm_index(root):
    layout = btfm.bids.open(root)
    return layout, {os.path.relpath(r.path, root): r.metadata for r in layout.recordings}


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_tree(tmp, args.subjects, args.sessions, args.runs)
        layout, ours = btfm_index(tmp)
        theirs = python_index(tmp)
        assert ours == theirs, "the two indexers disagree"
        n = len(layout)
        layout.close()
        print(f"{n} recordings, {4 * n + args.subjects + 2} files")
        t_ours, t_py = race(lambda: btfm.bids.open(tmp).close(), lambda: python_index(tmp),
                            args.repeats)
        record("bids", f"index {n} recordings", t_ours, t_py, "Python os.walk + json")

if __name__ == "__main__":
    main()
