#!/usr/bin/env python3
"""Corpus building and serving, side by side in one run (doc/corpus.md, "Benchmark").

Building: EDF recordings of 32 channels at 500 Hz; band-pass 0.5-75 Hz, resample to
250 Hz, robust z-score, stored as int16. Ours: btfm.corpus.build (every core, and one
thread for the per-core figure). Reference, as a user writes it: MNE read_raw_edf(preload)
+ raw.filter(0.5, 75) + raw.resample(250), the z-score in NumPy and numpy.save, one
recording after another. Every run builds into an empty folder (a rebuild would reuse).

Serving: shuffled 4-s windows (stride 1 s) of 32 channels as float32 batches of 256, one
epoch. Ours: btfm.corpus.Loader (2 threads). Reference: a torch Dataset whose __getitem__
slices the corpus's int16 numpy.memmap and scales it, under a DataLoader(batch_size=256,
shuffle=True, num_workers=2). Then the share of one core our process uses while a
consumer takes 10,000 windows a second.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_corpus.py [--recordings 100 --minutes 10] [--quick]
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

import btfm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sidebyside import race, record  # noqa: E402

N_CH, SF, TARGET_SF = 32, 500.0, 250
KEY = b"benchmark pseudonym key"
SETTINGS = dict(sfreq=TARGET_SF, l_freq=0.5, h_freq=75.0, reference=0, bads=0, clip=0,
                dtype=0)


def write_recordings(folder, n, minutes):
    """n EDF files: 1/f-like random walks plus alpha on 32 channels, in microvolts."""
    rng = np.random.default_rng(0)
    n_times = int(minutes * 60 * SF)
    paths = []
    for r in range(n):
        t = np.arange(n_times) / SF
        x = np.cumsum(rng.standard_normal((n_times, N_CH)).astype(np.float32), axis=0)
        x -= np.linspace(x[0], x[-1], n_times, dtype=np.float32)  # no drift off the range
        x = 2e-7 * x + 1e-5 * np.sin(2 * np.pi * 10 * t)[:, None].astype(np.float32)
        ds = btfm.from_array(x.astype(np.float32), SF, ch_names=[f"E{c:02d}" for c in range(N_CH)],
                             ch_types=["eeg"] * N_CH, units=["V"] * N_CH)
        path = os.path.join(folder, f"sub-{r + 1:03d}_task-rest_eeg.edf")
        ds.save(path)
        paths.append(path)
    return paths


def mne_build(paths, out):
    """The reference build: what a user writes with MNE and NumPy."""
    import mne
    os.makedirs(out)
    for path in paths:
        raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
        raw.filter(0.5, 75.0, verbose="error")
        raw.resample(TARGET_SF, verbose="error")
        x = raw.get_data().T
        median = np.median(x, axis=0)
        q75, q25 = np.percentile(x, [75, 25], axis=0)
        z = (x - median) / np.where(q75 > q25, q75 - q25, 1.0)
        scale = np.abs(z).max(axis=0) / 32767
        stored = np.round(z / np.where(scale > 0, scale, 1)).astype("<i2")
        name = os.path.splitext(os.path.basename(path))[0]
        np.save(os.path.join(out, name + ".npy"), stored)
        np.save(os.path.join(out, name + "_scale.npy"), scale)


def bench_build(paths, folder, runs, warmup=1, single_thread=True):
    counter = [0]

    def fresh():
        counter[0] += 1
        out = os.path.join(folder, f"out-{counter[0]}")
        return out

    def ours(threads):
        def run():
            out = fresh()
            btfm.corpus.build(None, out, KEY, files=paths, num_threads=threads, **SETTINGS)
            shutil.rmtree(out)
        return run

    def theirs():
        out = fresh()
        mne_build(paths, out)
        shutil.rmtree(out)

    minutes = btfm.open(paths[0]).n_times / SF / 60
    case = f"build {len(paths)} x {minutes:g} min, 32 ch, 500 Hz -> 250 Hz"
    t_ours, t_theirs = race(ours(0), theirs, runs, warmup)
    record("corpus", case + " (all cores)", t_ours, t_theirs, "MNE + NumPy (1 process)",
           target=10)
    if not single_thread:
        return
    t_ours, t_theirs = race(ours(1), theirs, runs, warmup)
    record("corpus", case + " (1 thread)", t_ours, t_theirs, "MNE + NumPy (1 process)")


class MemmapWindows:
    """The reference Dataset: windows of the corpus's int16 memmaps, as float32."""

    def __init__(self, corpus_dir, length, stride):
        corpus = btfm.corpus.Corpus(corpus_dir)
        self.maps = [corpus.memmap(i) for i in range(len(corpus.recordings))]
        self.scales = [np.asarray(e["scale"], np.float32) for e in corpus.recordings]
        self.length = length
        self.index = [(r, s) for r, m in enumerate(self.maps)
                      for s in range(0, m.shape[0] - length + 1, stride)]

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        import torch
        r, s = self.index[i]
        x = (self.maps[r][s:s + self.length] * self.scales[r]).T  # channel x time
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def bench_serve(corpus_dir, runs):
    import torch
    from torch.utils.data import DataLoader
    torch.set_num_threads(1)
    length, stride = 4 * TARGET_SF, TARGET_SF
    loader = btfm.corpus.Loader(corpus_dir, window_s=4, stride_s=1, batch_size=256, split="all",
                                shuffle=True, num_threads=2, n_buffers=4, seed=0)
    n_windows = loader.count("all")[0]
    dataset = MemmapWindows(corpus_dir, length, stride)
    assert len(dataset) == n_windows, (len(dataset), n_windows)
    reference = DataLoader(dataset, batch_size=256, shuffle=True, num_workers=2,
                           persistent_workers=True)

    def ours():
        total = 0
        for batch in loader:
            total += float(batch["data"][0, 0, 0])
        return total

    def theirs():
        total = 0
        for batch in reference:
            total += float(batch[0, 0, 0])
        return total

    t_ours, t_theirs = race(ours, theirs, runs)
    row = record("corpus", f"serve one epoch: {n_windows} windows of 4 s x 32 ch, batches of 256",
                 t_ours, t_theirs, "torch DataLoader over memmaps (2 workers)", target=20)
    print(f"  windows/s: ours {n_windows / row['ours_best']:.0f} best, "
          f"{n_windows / row['ours_median']:.0f} median; reference "
          f"{n_windows / row['ref_best']:.0f} best, {n_windows / row['ref_median']:.0f} median")

    # CPU share at a paced 10,000 windows/s: batches taken on a schedule, the process's
    # CPU time (the loader's threads included) over the wall time.
    rate, seconds = 10000.0, 3.0
    period = 256 / rate
    taken = 0
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    deadline = t0
    late = 0
    while time.perf_counter() - t0 < seconds:
        batch = loader.next_batch()
        if batch is None:
            continue
        taken += batch["data"].shape[0]
        deadline += period
        pause = deadline - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        else:
            late += 1
    r1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - t0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(f"  paced at {rate:.0f} windows/s: {taken / wall:.0f} windows/s served, "
          f"{cpu / wall:.2f} of one core ({late} batches late)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recordings", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="8 recordings of 2 minutes")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--build-warmup", type=int, default=1,
                        help="untimed builds of each side first (at full size 0 saves a "
                        "whole MNE pass; the sources are in the page cache already)")
    parser.add_argument("--no-single-thread", action="store_true",
                        help="skip the one-thread build comparison")
    args = parser.parse_args()
    if args.quick:
        args.recordings, args.minutes, args.runs = 8, 2, 3
    os.environ.setdefault("MNE_DONTWRITE_HOME", "true")
    with tempfile.TemporaryDirectory() as folder:
        sources = os.path.join(folder, "sources")
        os.makedirs(sources)
        paths = write_recordings(sources, args.recordings, args.minutes)
        if not args.skip_build:
            bench_build(paths, folder, args.runs, args.build_warmup, not args.no_single_thread)
        corpus = os.path.join(folder, "corpus")
        btfm.corpus.build(None, corpus, KEY, files=paths, **SETTINGS)
        bench_serve(corpus, args.runs)


if __name__ == "__main__":
    main()
