#!/usr/bin/env python3
"""End-to-end commands on a 118 MB EDF+ (64 channels x 30 min at 512 Hz, int16), the
`btfm` program side by side with what a Python user runs, interleaved after a warm-up of
each, warm page cache:

  filter     btfm filter big.edf out.edf --band 1 40 (read, filter, write) against MNE
             read_raw_edf(preload) + get_data() + scipy.signal.sosfiltfilt (no writing);
  convert    btfm convert big.edf out.bdf against MNE read_raw_edf(preload) + get_data();
  anonymize  btfm anonymize big.edf out.edf against MNE read + raw.anonymize();
  epochs     btfm epochs big.edf out.npy (every event, -0.2 to 0.5 s) against MNE read +
             events_from_annotations + Epochs(preload) + numpy.save;
  psd        btfm psd big.edf out.npy (Welch, 512-sample segments) against MNE read +
             scipy.signal.welch + numpy.save.

The references do less than the commands (no EDF writing: MNE 1.3 has no EDF writer).

    BTFM=build/tools/btfm BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_cli.py [--runs 5] [--quick]

Figures: doc/datasets.md ("End-to-end commands").
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.signal as ss

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_edf import warm, write_file  # noqa: E402
from sidebyside import race, record  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--btfm", default=os.environ.get("BTFM", "build/tools/btfm"))
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--runs", type=int, help="interleaved runs a side (5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="filter and psd only")
    args = parser.parse_args()
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    import mne
    mne.set_log_level("ERROR")
    with tempfile.TemporaryDirectory() as folder:
        big = os.path.join(folder, "big.edf")
        write_file(big, args.minutes)
        warm(big)
        out = lambda name: os.path.join(folder, name)  # noqa: E731

        def cli(*argv):
            return lambda: subprocess.run([args.btfm, *argv], check=True,
                                          stdout=subprocess.DEVNULL)

        def mne_read():
            return mne.io.read_raw_edf(big, preload=True)

        sos = ss.butter(4, (1, 40), "bandpass", fs=512, output="sos")

        def ref_filter():
            return ss.sosfiltfilt(sos, mne_read().get_data(), axis=1)

        def ref_anonymize():
            raw = mne_read()
            raw.anonymize()
            return raw.get_data()

        def ref_epochs():
            raw = mne_read()
            events, _ = mne.events_from_annotations(raw)
            ep = mne.Epochs(raw, events, tmin=-0.2, tmax=0.5, baseline=(None, 0),
                            preload=True)
            np.save(out("ref_epochs.npy"), ep.get_data().astype(np.float32))

        def ref_psd():
            f, p = ss.welch(mne_read().get_data(), 512.0, nperseg=512, axis=1)
            np.save(out("ref_psd.npy"), p)

        cases = [
            ("filter", "btfm filter --band 1 40 (read, filter, write)",
             cli("filter", big, out("f.edf"), "--band", "1", "40"), ref_filter,
             "MNE read + SciPy sosfiltfilt", 5),
            ("psd", "btfm psd (Welch, nperseg 512) to .npy",
             cli("psd", big, "--out", out("p.npy"), "--nperseg", "512"), ref_psd,
             "MNE read + SciPy welch + np.save", None),
        ]
        if not args.quick:
            cases += [
                ("convert", "btfm convert EDF -> BDF", cli("convert", big, out("c.bdf")),
                 lambda: mne_read().get_data(), "MNE read (no writing)", None),
                ("anonymize", "btfm anonymize EDF -> EDF",
                 cli("anonymize", big, out("a.edf")), ref_anonymize,
                 "MNE read + anonymize (no writing)", None),
                ("epochs", "btfm epochs (-0.2, 0.5 s) to .npy",
                 cli("epochs", big, out("e.npy")), ref_epochs,
                 "MNE read + Epochs + np.save", None),
            ]
        print(f"{args.minutes:g} min x 64 channels at 512 Hz EDF+, {os.path.getsize(big) / 1e6:.0f} MB; "
              f"{args.runs} interleaved runs a side after one warm-up")
        for _, name, ours, theirs, reference, target in cases:
            t_ours, t_ref = race(ours, theirs, args.runs)
            record("cli", name, t_ours, t_ref, reference, target=target)


if __name__ == "__main__":
    main()
