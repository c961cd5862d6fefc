"""Writes the HDF5 recordings test_hdf5.lua opens, with the writers of the interop tests
(tests/io/snirfspec.py from the SNIRF specification, tests/io/mat73spec.py from MATLAB's
v7.3 layout), and expected.lua: the values written, as a Lua table."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.environ["BTFM_SOURCE_DIR"], "tests", "io"))
import mat73spec  # noqa: E402
import snirfspec  # noqa: E402

out = sys.argv[1]
# SNIRF: two source-detector pairs at 760 and 850 nm, 40 samples at 10 Hz, one stimulus
n = 40
time = np.arange(n) / 10.0
data = 1.0 + 0.01 * np.arange(n * 4, dtype=float).reshape(n, 4)
src, det = snirfspec.probe_positions(1, 2, seed=3)
snirfspec.write(os.path.join(out, "lua.snirf"), data, time,
                snirfspec.cw_layout(1, 2, [(1, 1), (1, 2)]), [760, 850], src, det,
                stims=[("tap", np.array([[1.5, 2.0, 1.0]]))])
# EEGLAB v7.3: three channels, 25 single samples, two events
m, ch = 25, ["Fz", "Cz", "HEOG"]
eeg_data = (np.arange(3 * m, dtype=np.float32).reshape(3, m) - 30) / 4
locs = np.zeros((1, 3), dtype=[("labels", "O"), ("type", "O")])
for i, (name, kind) in enumerate(zip(ch, ["EEG", "EEG", "EOG"])):
    locs[0, i] = (name, kind)
ev = np.zeros((1, 2), dtype=[("type", "O"), ("latency", "O"), ("duration", "O")])
ev[0, 0], ev[0, 1] = ("go", 5.0, 0.0), (12.0, 11.5, 2.0)
mat73spec.savemat73(os.path.join(out, "lua_v73.set"), {"EEG": {
    "srate": 50.0, "nbchan": 3.0, "pnts": float(m), "trials": 1.0, "data": eeg_data,
    "chanlocs": locs, "event": ev}})
with open(os.path.join(out, "expected.lua"), "w") as f:
    f.write("return {\n")
    f.write("  snirf_first_row = {%s},\n" % ", ".join(repr(float(v)) for v in data[0]))
    f.write("  snirf_last_row = {%s},\n" % ", ".join(repr(float(v)) for v in data[-1]))
    f.write("  snirf_n = %d, snirf_sfreq = 10.0,\n" % n)
    f.write("  set_n = %d, set_sfreq = 50.0,\n" % m)
    f.write("  set_names = {%s},\n" % ", ".join('"%s"' % c for c in ch))
    f.write("  set_types = {\"eeg\", \"eeg\", \"eog\"},\n")
    # volts: EEGLAB stores µV; rows are time, channel fastest
    f.write("  set_row_3 = {%s},\n" % ", ".join(repr(float(v) * 1e-6) for v in eeg_data[:, 3]))
    f.write("  set_events = {{label = \"go\", onset = %r, code = 0}, "
            "{label = \"12\", onset = %r, duration = %r, code = 12}},\n"
            % (4 / 50.0, 10.5 / 50.0, 2 / 50.0))
    f.write("}\n")
