"""btfm corpus, driven as from a shell: a simulated BIDS session built into a corpus,
described and windowed; the counts against the recordings' lengths in index.json (read with
json alone) and the window rule n = floor((T - L) / S) + 1; the JSON outputs; a missing key
and a missing corpus refused with their messages."""
import json
import os
import tempfile
import unittest

from cli_support import program, run

program()  # the btfm under test: the first argument
SMALL = ["--param", "n_annotators=3", "--param", "n_items=6", "--param", "sfreq=100",
         "--param", "n_pairs=2", "--param", "line_freq=0"]


class Corpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.bids = os.path.join(cls.tmp.name, "session")
        r = run("sim", "rating-session", cls.bids, *SMALL)
        assert r.returncode == 0, r.stderr
        cls.out = os.path.join(cls.tmp.name, "corpus")
        cls.build = run("corpus", "build", cls.bids, cls.out, "--key", "a long enough key",
                        "--query", "datatype=eeg", "--param", "sfreq=50", "--param", "h_freq=20",
                        "--json")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_build_reports_every_recording(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr)
        self.assertEqual(json.loads(self.build.stdout)["built"], 3)
        with open(os.path.join(self.out, "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        self.assertEqual(len(index["recordings"]), 3)
        self.assertTrue(all(e["sfreq"] == 50 for e in index["recordings"]))

    def test_info_and_windows_follow_the_index(self):
        with open(os.path.join(self.out, "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        r = run("corpus", "info", self.out, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual(info["recordings"], 3)
        self.assertEqual(sorted(info["ids"]), sorted(e["id"] for e in index["recordings"]))
        r = run("corpus", "windows", self.out, "--length", "4", "--stride", "2", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        w = json.loads(r.stdout)
        self.assertEqual(w["window_samples"], 200)
        expected = 0
        for e in index["recordings"]:
            n = e["shape"][0]
            starts = range(0, n - 200 + 1, 100)
            bad = e["bad_segments"]
            expected += sum(1 for s in starts if not any(s < b and s + 200 > a for a, b in bad))
        self.assertEqual(w["all"], expected)
        self.assertEqual(w["train"] + w["val"] + w["test"], w["all"])
        r = run("corpus", "windows", self.out, "--length", "4")
        self.assertIn("windows of 200 samples", r.stdout)

    def test_refusals_name_what_is_missing(self):
        env = {k: v for k, v in os.environ.items() if k != "BTFM_CORPUS_KEY"}
        r = run("corpus", "build", self.bids, os.path.join(self.tmp.name, "x"), env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("pseudonymization key", r.stderr)
        r = run("corpus", "info", os.path.join(self.tmp.name, "absent"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("index.json", r.stderr)


if __name__ == "__main__":
    unittest.main()
