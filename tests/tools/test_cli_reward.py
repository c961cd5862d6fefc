"""btfm reward fit|score on simulated sessions: the scores of rated items follow their
ratings standardized within each annotator (computed here from the events files), every
item gets one row, and a session recorded with another montage is refused, naming both
feature configurations."""
import csv
import io
import json
import math
import os
import tempfile
import unittest

from cli_support import program, run

program()  # the btfm under test: the first argument


def corr(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    return sab / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))


class Reward(unittest.TestCase):
    def test_fit_score_and_refusal(self):
        with tempfile.TemporaryDirectory() as d:
            root, head = os.path.join(d, "s"), os.path.join(d, "head.btfm")
            r = run("sim", "rating-session", root, "--param", "n_annotators=3", "--param",
                    "n_items=30", "--param", "rating_fraction=0.5")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run("reward", "fit", root, head, "--param", "folds=3")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("fitted on 3 annotators, 90 items", r.stdout)
            r = run("reward", "score", head, root)
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = list(csv.DictReader(io.StringIO(r.stdout), delimiter="\t"))
            self.assertEqual(len(rows), 90)
            rewards, zs = [], []
            for sub in ("sub-01", "sub-02", "sub-03"):
                mine = [x for x in rows if x["participant_id"] == sub and x["rating"] != "n/a"]
                vals = [float(x["rating"]) for x in mine]
                m = sum(vals) / len(vals)
                sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))
                zs += [(v - m) / sd for v in vals]
                rewards += [float(x["reward"]) for x in mine]
                self.assertTrue(all(0 <= float(x["confidence"]) <= 1 for x in mine))
            self.assertGreater(corr(rewards, zs), 0.8)
            r = run("reward", "score", head, root, "--json")
            self.assertEqual(len(json.loads(r.stdout)), 90)
            other = os.path.join(d, "o")
            r = run("sim", "rating-session", other, "--param", "n_annotators=2", "--param",
                    "n_items=10", "--param", "n_channels=16")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run("reward", "score", head, other)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("the head was fitted on features made with", r.stderr)
            self.assertIn("sources=16", r.stderr)


if __name__ == "__main__":
    unittest.main()
