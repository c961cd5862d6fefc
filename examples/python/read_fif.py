#!/usr/bin/env python3
"""Read a MEG/EEG FIF raw file (split parts followed): channels by type with their SI
units, the triggers of the stim channel, a window of magnetometers, and what the file
reports about its processing (projectors, MaxFilter history), which is never applied.

Run from a build tree with:
    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \
        python3 examples/python/read_fif.py sub-01_task-rest_meg.fif
"""

import collections
import sys

import btfm

if len(sys.argv) != 2:
    sys.exit("usage: read_fif.py FILE")

with btfm.open(sys.argv[1]) as ds:
    fif = ds.metadata["fif"]
    print(f"{ds.format}: {ds.n_channels} channels x {ds.n_times} samples at {ds.sfreq:g} Hz, "
          f"first sample {fif['first_sample']}, {fif['n_files']} file(s)")
    kinds = collections.Counter((ch.type, ch.unit) for ch in ds.channels)
    for (kind, unit), count in sorted(kinds.items()):
        print(f"  {count:4d} {kind} ({unit or 'no unit'})")

    triggers = [e for e in ds.events if e.type == "trigger"]
    print(f"{len(triggers)} triggers; first: "
          + ", ".join(f"{e.code} at {e.onset:.3f} s" for e in triggers[:3]))

    # One second of every magnetometer, in tesla, as a (sfreq, n_mag) float32 array.
    mags = [ch.index for ch in ds.channels if ch.type == "meg_mag"]
    if mags:
        window = ds.read(0, min(ds.n_times, int(ds.sfreq)), picks=mags)
        print(f"magnetometers {window.shape}, peak {abs(window).max() * 1e15:.1f} fT")

    for p in fif.get("projectors", []):
        state = "active (data saved projected)" if p["active"] else "inactive (not applied)"
        print(f"projector {p['description']!r}: {p['n_vectors']} x {len(p['channels'])}, {state}")
    for record in fif.get("processing_history", []):
        print(f"processed by {record.get('creator', '?')}: "
              + ", ".join(step["block"] for step in record["steps"]))
