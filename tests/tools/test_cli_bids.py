"""btfm info on BIDS folders, driven as from a shell. The tree is written here (EDF by
tests/io/edfspec.py from the specification, JSON and TSV by hand), so every expected
count comes from what this script wrote."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

from cli_support import program, run

program()  # the btfm under test: the first argument
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "io"))
import edfspec  # noqa: E402


def put(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def put_edf(root, rel):
    path = put(root, rel, "")
    signal = {"label": "Cz", "dim": "uV", "pmin": -100, "pmax": 100, "dmin": -32768,
              "dmax": 32767, "spr": 64, "digital": np.arange(128) - 64}
    edfspec.write(path, [signal], 2, plus=None)


class BidsInfo(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = os.path.join(self.dir.name, "ds")
        put(self.root, "dataset_description.json",
            json.dumps({"Name": "Oddball \"two\"", "BIDSVersion": "1.8.0"}))
        put(self.root, "task-oddball_eeg.json", json.dumps({
            "TaskName": "oddball", "SamplingFrequency": 64, "PowerLineFrequency": 50,
            "SoftwareFilters": "n/a", "EEGReference": "Cz"}))
        put(self.root, "task-rest_eeg.json", json.dumps({
            "TaskName": "rest", "SamplingFrequency": 64, "PowerLineFrequency": 50,
            "SoftwareFilters": "n/a", "EEGReference": "Cz"}))
        for sub, ses, task in (("01", "a", "oddball"), ("01", "b", "oddball"),
                               ("02", "a", "rest")):
            put_edf(self.root, f"sub-{sub}/ses-{ses}/eeg/sub-{sub}_ses-{ses}_task-{task}_eeg.edf")

    def tearDown(self):
        self.dir.cleanup()

    def test_text(self):
        r = run("info", self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('BIDS dataset "Oddball "two"" (BIDS 1.8.0), 3 recordings', r.stdout)
        self.assertIn("subjects:  01, 02\n", r.stdout)
        self.assertIn("sessions:  a, b\n", r.stdout)
        self.assertIn("tasks:     oddball (2), rest (1)\n", r.stdout)
        self.assertIn("datatypes: eeg (3)\n", r.stdout)

    def test_indexing_progress_bar_when_asked(self):
        r = run("info", self.root, env=dict(os.environ, BTFM_PROGRESS="always"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"\[#{30}\] 100% BIDS index")
        self.assertNotRegex(run("info", self.root).stderr, r"\[[#.]{30}\]")  # not on a pipe

    def test_json(self):
        r = run("info", self.root, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual(info["type"], "bids")
        self.assertEqual(info["n_recordings"], 3)
        self.assertEqual(info["subjects"], ["01", "02"])
        self.assertEqual(info["sessions"], ["a", "b"])
        self.assertEqual(info["tasks"], {"oddball": 2, "rest": 1})
        self.assertEqual(info["datatypes"], {"eeg": 3})
        self.assertEqual(info["skipped"], [])

    def test_broken_recording_strict_and_lenient(self):
        put_edf(self.root, "sub-02/ses-a/eeg/sub-02_ses-a_run-1_task-rest_eeg.edf")
        r = run("info", self.root)
        self.assertEqual(r.returncode, 1)
        self.assertIn("rule entity-order", r.stderr)
        r = run("info", self.root, "--lenient", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual(info["n_recordings"], 3)
        self.assertEqual([s["path"] for s in info["skipped"]],
                         ["sub-02/ses-a/eeg/sub-02_ses-a_run-1_task-rest_eeg.edf"])
        self.assertIn("rule entity-order", info["skipped"][0]["reason"])

    def test_not_bids(self):
        r = run("info", self.dir.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("rule dataset-description", r.stderr)


if __name__ == "__main__":
    unittest.main()
