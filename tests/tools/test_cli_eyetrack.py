"""btfm info on an EEGLAB .set (written by scipy.io.savemat, checked against MNE's
read_raw_eeglab), on an EyeLink .asc (written here after SR Research's documented layout)
and on a BIDS eye-tracking physio file, checked against the values written."""
import gzip
import json
import os
import tempfile
import unittest

import numpy as np

from cli_support import program, run

program()  # the btfm under test: the first argument

try:
    import mne
    import scipy.io
except ImportError:  # the interpreter lacks MNE or SciPy: nothing to compare with
    mne = None

ASC = """** CONVERTED FROM cli.edf using edfapi 4.2
**
MSG\t900 !CAL calibration done
START\t1000 \tRIGHT\tSAMPLES\tEVENTS
SAMPLES\tGAZE\tRIGHT\tRATE\t250.00\tTRACKING\tCR\tFILTER\t2
1000\t512.0\t384.0\t1000\t...
1004\t513.0\t385.0\t1001\t...
MSG\t1004 TRIGGER 3
1008\t.\t.\t0\t...
EFIX R 1000\t1004\t8\t512.5\t384.5\t1000
EBLINK R 1008\t1012\t8
1012\t514.0\t386.0\t1002\t...
END\t1016 \tSAMPLES\tEVENTS\tRES\t38.5\t31.1
"""


class EyetrackInfo(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def test_info_on_an_eyelink_asc(self):
        path = os.path.join(self.dir.name, "rec.asc")
        with open(path, "w") as f:
            f.write(ASC)
        r = run("info", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual(info["format"], "eyelink")
        self.assertEqual((info["sfreq"], info["n_times"]), (250, 4))
        self.assertEqual([(c["name"], c["type"], c["unit"]) for c in info["channels"]],
                         [("xpos_right", "gaze", "px"), ("ypos_right", "gaze", "px"),
                          ("pupil_right", "pupil", "")])
        self.assertEqual(info["events"]["summary"], [
            {"type": "blink", "label": "BAD_blink", "count": 1},
            {"type": "fixation", "label": "fixation", "count": 1},
            {"type": "message", "label": "TRIGGER 3", "count": 1}])
        text = run("info", path).stdout
        self.assertIn("eyelink recording, 3 channels x 4 samples at 250 Hz", text)

    def test_info_on_a_bids_physio_file(self):
        stem = os.path.join(self.dir.name, "sub-01_task-read_recording-eye1")
        with gzip.open(stem + "_physio.tsv.gz", "wt") as f:
            f.write("1000\t512.5\t384\n1004\tn/a\tn/a\n1008\t513\t385\n")
        with open(stem + "_physio.json", "w") as f:
            json.dump({"SamplingFrequency": 250, "StartTime": 0,
                       "Columns": ["timestamp", "x_coordinate", "y_coordinate"],
                       "timestamp": {"Units": "ms"}, "x_coordinate": {"Units": "pixel"}}, f)
        r = run("info", stem + "_physio.tsv.gz", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual((info["format"], info["sfreq"], info["n_times"]), ("physio", 250, 3))
        self.assertEqual([(c["name"], c["type"], c["unit"]) for c in info["channels"]],
                         [("timestamp", "misc", "ms"), ("x_coordinate", "gaze", "pixel"),
                          ("y_coordinate", "gaze", "")])
        self.assertEqual(info["metadata"]["Columns"][0], "timestamp")

    @unittest.skipIf(mne is None, "needs mne and scipy")
    def test_info_on_an_eeglab_set_matches_mne(self):
        path = os.path.join(self.dir.name, "rec.set")
        n = 300
        locs = np.zeros((1, 2), dtype=[("labels", "O"), ("type", "O")])
        locs[0, 0], locs[0, 1] = ("Cz", "EEG"), ("HEOG", "EOG")
        ev = np.zeros((1, 1), dtype=[("type", "O"), ("latency", "O")])
        ev[0, 0] = ("target", 101.0)
        scipy.io.savemat(path, {"EEG": {"srate": 100.0, "nbchan": 2.0, "pnts": float(n),
                                        "trials": 1.0, "data": np.ones((2, n)),
                                        "chanlocs": locs, "event": ev}}, format="5")
        raw = mne.io.read_raw_eeglab(path, verbose="error")
        r = run("info", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual(info["format"], "eeglab")
        self.assertEqual((info["sfreq"], info["n_times"]), (raw.info["sfreq"], raw.n_times))
        self.assertEqual([(c["name"], c["type"]) for c in info["channels"]],
                         list(zip(raw.ch_names, raw.get_channel_types())))
        self.assertEqual(info["events"]["summary"],
                         [{"type": "event", "label": d, "count": 1}
                          for d in raw.annotations.description])
        # a v7.3 header on what is not HDF5: the reader's own reason, not a list of formats
        v73 = os.path.join(self.dir.name, "v73.set")
        with open(v73, "wb") as f:
            f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(512, b" "))
        r = run("info", v73)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"v73\.set: (the header of a MATLAB v7\.3 MAT-file, but not "
                                   r"an HDF5 file|a MATLAB v7\.3 \(HDF5\) \.set file, and this "
                                   r"build has no HDF5)")


if __name__ == "__main__":
    unittest.main()
