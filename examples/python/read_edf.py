#!/usr/bin/env python3
"""Read an EDF/BDF/BrainVision recording: header, channels, a window of two channels,
the annotations, and a de-identified copy.

Run from a build tree with:
    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \
        python3 examples/python/read_edf.py recording.edf
"""

import os
import sys
import tempfile

import btfm

if len(sys.argv) != 2:
    sys.exit("usage: read_edf.py FILE")

with btfm.open(sys.argv[1]) as ds:
    print(f"{ds.format}: {ds.n_channels} channels x {ds.n_times} samples at {ds.sfreq:g} Hz")
    print(f"start: {ds.start_time}")
    for ch in ds.channels:
        print(f"  {ch.name}: {ch.type}, {ch.unit}, {ch.rate:g} Hz")

    # One second from t = 1 s, two channels by name: a (sfreq, 2) float32 array in volts.
    start = int(ds.sfreq)
    window = ds.read(start, start + int(ds.sfreq), picks=ds.ch_names[:2])
    print(f"window {window.shape}, peak {abs(window).max() * 1e6:.3f} uV")

    for event in ds.events:
        print(f"{event.type} at {event.onset:.3f} s: {event.label}")

    # A copy safe to share: identifiers cleared, date moved to 1985-01-01.
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, "shared.edf")
        ds.save(copy, anonymize=True)
        with btfm.open(copy) as shared:
            print(f"shared copy: subject {shared.subject!r}, start {shared.start_time}")
