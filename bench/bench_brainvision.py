#!/usr/bin/env python3
"""BrainVision decoding speed, side by side in one run on one file with a warm page
cache: libbtfm (btfm.open(p).data: a fresh float32 time-major matrix) against MNE
(read_raw_brainvision(preload=True) + get_data()); then random 2-second windows: libbtfm
read() against MNE get_data(start, stop) on a raw opened without preload.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_brainvision.py [--minutes 30] [--orientation VECTORIZED]

The file (64 channels, 512 Hz, INT_16, resolution 0.1 µV) is written with numpy from the
specification. Figures: doc/formats-brainvision.md.
"""

import argparse
import os
import tempfile

import numpy as np

import btfm
from bench_edf import warm  # noqa: E402
from sidebyside import race, record  # noqa: E402  (same timing rules as every benchmark)

N_CHANNELS, SFREQ = 64, 512


def write_file(folder, minutes, orientation):
    rng = np.random.default_rng(0)
    n = int(minutes * 60 * SFREQ)
    walk = np.cumsum(rng.integers(-300, 301, (n, N_CHANNELS), dtype=np.int32), axis=0)
    data = np.clip(walk - walk.mean(axis=0), -32768, 32767).astype("<i2")
    (data if orientation == "MULTIPLEXED" else data.T.copy()).tofile(os.path.join(folder, "b.eeg"))
    channels = "".join(f"Ch{i + 1}=E{i:02d},,0.1,\u00b5V\n" for i in range(N_CHANNELS))
    markers = "".join(f"Mk{k + 2}=Stimulus,S  1,{p},1,0\n"
                      for k, p in enumerate(range(5 * SFREQ, n, 10 * SFREQ)))
    with open(os.path.join(folder, "b.vhdr"), "w", encoding="utf-8") as f:
        f.write("Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\n"
                "Codepage=UTF-8\nDataFile=b.eeg\nMarkerFile=b.vmrk\nDataFormat=BINARY\n"
                f"DataOrientation={orientation}\nNumberOfChannels={N_CHANNELS}\nDataPoints={n}\n"
                f"SamplingInterval={1e6 / SFREQ!r}\n[Binary Infos]\nBinaryFormat=INT_16\n"
                f"[Channel Infos]\n{channels}")
    with open(os.path.join(folder, "b.vmrk"), "w", encoding="utf-8") as f:
        f.write("Brain Vision Data Exchange Marker File, Version 1.0\n[Marker Infos]\n"
                f"Mk1=New Segment,,1,1,0,20210304050607000000\n{markers}")
    return os.path.join(folder, "b.vhdr"), os.path.getsize(os.path.join(folder, "b.eeg"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--orientation", default="MULTIPLEXED", choices=["MULTIPLEXED", "VECTORIZED"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--windows", type=int, default=200)
    args = parser.parse_args()
    import mne
    mne.set_log_level("ERROR")

    with tempfile.TemporaryDirectory() as folder:
        vhdr, size = write_file(folder, args.minutes, args.orientation)
        warm(os.path.join(folder, "b.eeg"))
        print(f"file: {N_CHANNELS} channels x {args.minutes:g} min at {SFREQ} Hz, INT_16 "
              f"{args.orientation}, {size / 1e6:.1f} MB, warm page cache; medians of {args.runs} runs")

        def ours():
            with btfm.open(vhdr) as ds:
                return ds.data

        def theirs():
            return mne.io.read_raw_brainvision(vhdr, preload=True, verbose="ERROR").get_data()

        a, b = ours(), theirs()
        err = float(np.max(np.abs(a - b.T)))  # the same values, checked before timing
        assert err <= 1e-6 * float(np.max(np.abs(b))), err
        t_ours, t_mne = race(ours, theirs, args.runs)
        record("brainvision", f"BrainVision {size / 1e6:.0f} MB decode", t_ours, t_mne,
               "MNE read_raw_brainvision(preload)")
        rng = np.random.default_rng(1)
        starts = rng.integers(0, a.shape[0] - 2 * SFREQ, args.windows)
        raw = mne.io.read_raw_brainvision(vhdr, preload=False, verbose="ERROR")
        w_ours, w_mne = [], []
        with btfm.open(vhdr) as ds:
            for s in starts:  # interleaved, window by window
                o, t = race(lambda: ds.read(int(s), int(s) + 2 * SFREQ),
                            lambda: raw.get_data(start=int(s), stop=int(s) + 2 * SFREQ), 1, 0)
                w_ours += o
                w_mne += t
        record("brainvision", "random 2-s window, 64 channels", w_ours, w_mne,
               "MNE get_data (no preload)")

if __name__ == "__main__":
    main()
