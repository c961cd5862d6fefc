"""What the command-line tests share: the btfm program under test, running it, and the EDF
recordings they read, written from the specification (tests/io/edfspec.py)."""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "io"))
import edfspec  # noqa: E402

BTFM = os.environ.get("BTFM_EXE", "btfm")


def program():
    """The btfm program: the script's first argument (taken off sys.argv before unittest
    reads it), else $BTFM_EXE, else `btfm` on PATH. A path is made absolute, so that a
    test may run it from another folder."""
    global BTFM
    if len(sys.argv) > 1:
        BTFM = sys.argv.pop(1)
    if os.sep in BTFM:
        BTFM = os.path.abspath(BTFM)
    return BTFM


def run(*args, cwd=None, env=None):
    """btfm with `args` (each through str), its output captured as text. No timeout of its
    own: how long a command takes depends on the machine and its load; meson's per-test
    timeout stops a command that hangs."""
    return subprocess.run([BTFM, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env)


def write_uv_edf(path, channels_uv, sfreq, n_records, onsets=(), label="stim"):
    """An EDF+ file of channels "EEG 0", "EEG 1", ... holding `channels_uv` (microvolts,
    one array of sfreq * n_records samples each) as 16-bit values over +-500 uV, with an
    annotation `label` at each onset (seconds)."""
    signals = []
    for k, uv in enumerate(channels_uv):
        digital = np.round(np.asarray(uv) / 500 * 32767).astype(int)
        signals.append({"label": f"EEG {k}", "dim": "uV", "pmin": -500 * 32768 / 32767,
                        "pmax": 500, "dmin": -32768, "dmax": 32767, "spr": int(sfreq),
                        "digital": digital})
    edfspec.write(path, signals, n_records, annotations=[(o, None, label) for o in onsets])
