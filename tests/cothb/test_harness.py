"""The CoTHB benchmark harness checked against closed forms through `btfm cothb bench --json`.

On the chain task (6 steps, each wrong with probability 0.2; the first wrong step at
depth d sets the answer to one of two systematic slips, 70/30) with a signal of d' = 0
the reliabilities carry no information, so: a chain of thought is right with probability
0.8^6 and generates exactly 6 steps; self-consistency over B / 6 chains is right with
the majority-vote probability enumerated here over every combination of answers; a
reliability-weighted vote weighs every chain alike and so equals it; the rejection loop
keeps re-sampling identically distributed steps and is right with 0.8^6 again; CoTHB,
finding that the readings carry nothing, votes over independent chains as
self-consistency does. Every method stays within its budget, and the paired
differences lie inside their intervals.

usage: test_harness.py BTFM_EXE LIBBTFM_SO
"""
import itertools
import json
import math
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from cli_support import program, run  # noqa: E402

program()  # the btfm under test, then the library
LIBRARY = sys.argv.pop(1)
PROBLEMS, DEPTH, SLIP, BUDGET = 2000, 6, 0.2, 24


def bench(*extra):
    out = run("cothb", "bench", "--json", "--problems", PROBLEMS, "--tune-problems", 10, *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def answer_distribution():
    """{answer: probability}: 0 is right, (d, slip) the first wrong step's answer."""
    dist = {0: (1 - SLIP) ** DEPTH}
    for d in range(1, DEPTH + 1):
        for slip, share in ((0, 0.7), (1, 0.3)):
            dist[(d, slip)] = (1 - SLIP) ** (d - 1) * SLIP * share
    return dist


def majority_vote_success(chains):
    """P(the right answer wins the vote of `chains` chains; ties go to the answer seen
    first)."""
    dist = answer_distribution()
    total = 0.0
    for outcome in itertools.product(dist, repeat=chains):
        counts = {a: outcome.count(a) for a in outcome}
        best = max(counts.values())
        winner = next(a for a in outcome if counts[a] == best)
        if winner == 0:
            total += math.prod(dist[a] for a in outcome)
    return total


def within(measured, truth, n, sigmas=4.5):
    return abs(measured - truth) <= sigmas * math.sqrt(truth * (1 - truth) / n) + 1e-12


class Harness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        (cls.cell,) = bench("--dprime", "0", "--budget", str(BUDGET))
        cls.methods = cls.cell["methods"]

    def test_cothb_without_signal_is_self_consistency(self):
        # Readings that never vary give d' near 0 (the controller keeps their statistics
        # across problems): every step is accepted and the whole budget goes to B / 6
        # independent chains settled by the vote, a majority vote when they weigh alike.
        row = self.methods["cothb"]
        truth = majority_vote_success(BUDGET // DEPTH)
        self.assertTrue(within(row["accuracy"], truth, PROBLEMS), (row, truth))
        self.assertGreater(row["steps"], BUDGET - 0.01)

    def test_chain_of_thought_matches_the_closed_form(self):
        row = self.methods["chain"]
        self.assertTrue(within(row["accuracy"], (1 - SLIP) ** DEPTH, PROBLEMS), row)
        self.assertEqual(row["steps"], DEPTH)

    def test_self_consistency_matches_the_exact_vote(self):
        truth = majority_vote_success(BUDGET // DEPTH)
        row = self.methods["self-consistency"]
        self.assertTrue(within(row["accuracy"], truth, PROBLEMS), (row, truth))
        self.assertEqual(row["steps"], BUDGET)

    def test_an_uninformative_signal_weighs_every_chain_alike(self):
        self.assertEqual(self.methods["weighted-sc"]["accuracy"],
                         self.methods["self-consistency"]["accuracy"])

    def test_rejection_cannot_beat_a_chain_without_signal(self):
        self.assertTrue(within(self.methods["reject"]["accuracy"], (1 - SLIP) ** DEPTH,
                               PROBLEMS), self.methods["reject"])

    def test_every_method_within_budget_and_intervals_hold(self):
        for name, row in self.methods.items():
            self.assertLessEqual(row["steps"], BUDGET, name)
            self.assertLessEqual(row["low"], row["accuracy"], name)
            self.assertLessEqual(row["accuracy"], row["high"], name)
        best = self.methods[self.cell["best_baseline"]]["accuracy"]
        for name, (diff, low, high) in self.cell["differences"].items():
            self.assertAlmostEqual(diff, self.methods[name]["accuracy"] - best, places=12)
            self.assertLessEqual(low, diff)
            self.assertLessEqual(diff, high)

    def test_bad_options_are_refused(self):
        for args in (["--budget", "3"], ["--dprime", "x"], ["--family", "tree"], ["--bogus"]):
            out = run("cothb", "bench", *args)
            self.assertEqual(out.returncode, 2, args)
            self.assertIn("btfm cothb", out.stderr)


class Calibrate(unittest.TestCase):
    def test_report_matches_scikit_learn(self):
        from sklearn.metrics import roc_auc_score

        rng = np.random.default_rng(3)
        correct = (rng.uniform(size=997) < 0.7).astype(int)
        score = rng.normal(size=997) + np.where(correct == 1, -0.75, 0.75)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "steps.tsv")
            with open(path, "w") as f:
                f.write("score\tcorrect\n")
                f.writelines(f"{s!r}\t{c}\n" for s, c in zip(score, correct))
            out = run("cothb", "calibrate", path, "--json", "--save", os.path.join(tmp, "c.btfm"))
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertTrue(os.path.getsize(os.path.join(tmp, "c.btfm")) > 0)
            with open(path, "a") as f:
                f.write("0.5\t2\n")
            bad = run("cothb", "calibrate", path)
        report = json.loads(out.stdout)
        self.assertEqual(report["n"], 997)
        self.assertAlmostEqual(report["base_rate"], correct.mean(), places=12)
        # P(a correct step scores above a wrong one), of the raw scores as given.
        self.assertAlmostEqual(report["auc"], roc_auc_score(correct, score), places=9)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("row 998", bad.stderr)


if __name__ == "__main__":
    unittest.main()
