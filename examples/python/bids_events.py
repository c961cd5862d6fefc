"""Write a small simulated EEG study as BIDS, then read it back: query recordings, open
one with its sidecars, and use the events.tsv columns (trial_type, response_time) to pick
epochs. Runs as is (python3 examples/python/bids_events.py); prints what it found and
checks it against the simulation."""

import os
import sys
import tempfile

import numpy as np

import btfm

SFREQ = 250.0


def simulate(rng, n_trials=12):
    """2 s of baseline then one trial every 1.5 s; targets evoke a 10 uV bump at Pz."""
    n = int(SFREQ * (2 + 1.5 * n_trials + 1))
    data = (rng.standard_normal((n, 3)) * 2e-6).astype(np.float32)
    kinds = rng.permutation(["target"] * (n_trials // 3) + ["standard"] * (n_trials - n_trials // 3))
    onsets = 2 + 1.5 * np.arange(n_trials)
    rts = np.where(kinds == "target", rng.uniform(0.3, 0.6, n_trials), np.nan)
    t = np.arange(int(0.6 * SFREQ)) / SFREQ
    bump = 10e-6 * np.exp(-((t - 0.3) / 0.05) ** 2)
    for onset, kind in zip(onsets, kinds):
        if kind == "target":
            start = int(onset * SFREQ)
            data[start:start + bump.size, 2] += bump.astype(np.float32)
    return data, onsets, kinds, rts


def main(root):
    rng = np.random.default_rng(0)
    with btfm.bids.Writer(root, "oddball simulation") as writer:
        writer.set_participants({"participant_id": ["sub-01", "sub-02"], "age": [24, 31]})
        for sub in ("01", "02"):
            data, onsets, kinds, rts = simulate(rng)
            ds = btfm.from_array(data, SFREQ, ch_names=["Fz", "Cz", "Pz"],
                                 ch_types=["eeg"] * 3, units=["V"] * 3)
            events = btfm.Table.from_columns({
                "onset": onsets, "duration": [0.1] * len(onsets), "trial_type": list(kinds),
                "response_time": rts})
            writer.add(ds, sub=sub, task="oddball", datatype="eeg", events=events,
                       sidecar={"PowerLineFrequency": 50, "EEGReference": "Cz"})

    layout = btfm.bids.open(root)
    print(f"{len(layout)} recordings; subjects {layout.subjects}, tasks {layout.tasks}")
    peaks = {}
    for rec in layout.query(task="oddball", datatype="eeg"):
        with rec.open() as ds:
            table = ds.events_table
            kinds = table["trial_type"]
            rt = table["response_time"]          # numbers, NaN for n/a
            data = ds.data
            pz = ds.ch_names.index("Pz")
            for kind in ("target", "standard"):
                starts = [int(e.onset * ds.sfreq) for e, k in zip(ds.events, kinds) if k == kind]
                erp = np.mean([data[s:s + int(0.6 * ds.sfreq), pz] for s in starts], axis=0)
                peaks[(rec.entities["sub"], kind)] = erp.max()
            print(f"sub-{rec.entities['sub']}: {len(ds.events)} events, mean target RT "
                  f"{np.nanmean(rt):.3f} s, line {ds.metadata['PowerLineFrequency']} Hz, "
                  f"age {rec.participant['age']}")
    for sub in layout.subjects:
        print(f"sub-{sub}: P300-like peak {peaks[(sub, 'target')] * 1e6:.1f} uV on targets, "
              f"{peaks[(sub, 'standard')] * 1e6:.1f} uV on standards")
        # the simulation put a 10 uV bump on targets only
        if not peaks[(sub, "target")] > 7e-6 > peaks[(sub, "standard")]:
            sys.exit("unexpected evoked amplitudes")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(os.path.join(tmp, "bids"))
