"""The CoTHB harness checked against independent truth.

`btfm cothb bench --json` (the C harness) is compared with closed forms: greedy chain of
thought succeeds with probability accuracy^depth and expands exactly `depth` steps;
self-consistency's success is the exact majority-vote probability enumerated here;
top-b search expands exactly 3 + 2*3*(depth-1) steps; CoTHB must solve every problem when
the signals separate right from wrong steps (noise <= 0.2 gives readings >= 0.8 for right
and <= 0.2 for wrong steps, across the 0.7 / 0.3 thresholds). The Python harness
(harness.py, an independent implementation driving btfm.CoTHB) must agree with the C
harness's CoTHB success rate within binomial error.

usage: test_harness.py BTFM_EXE LIBBTFM_SO
"""
import itertools
import json
import math
import os
import subprocess
import sys
import unittest

BTFM, LIBRARY = sys.argv.pop(1), sys.argv.pop(1)
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ["BTFM_LIBRARY"] = LIBRARY
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))
sys.path.insert(0, HERE)

PROBLEMS, DEPTH, ACCURACY, CHAINS = 2000, 6, 0.8, 5


def bench(*extra):
    out = subprocess.run([BTFM, "cothb", "bench", "--json", "--problems", str(PROBLEMS),
                          *extra], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return {(row["noise"], row["method"]): row for row in json.loads(out.stdout)}


def majority_vote_success(q, chains, wrong=3):
    """P(the correct answer wins): each chain is right with q, else one of `wrong`
    values; most votes win, ties go to the answer seen first."""
    total = 0.0
    for outcome in itertools.product(range(wrong + 1), repeat=chains):
        p = math.prod(q if a == 0 else (1 - q) / wrong for a in outcome)
        counts = {a: outcome.count(a) for a in outcome}
        best = max(counts.values())
        winner = next(a for a in outcome if counts[a] == best)
        total += p * (winner == 0)
    return total


def within(measured, truth, n, sigmas=4.5):
    return abs(measured - truth) <= sigmas * math.sqrt(truth * (1 - truth) / n) + 1e-12


class Harness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rows = bench()

    def test_greedy_matches_the_closed_form(self):
        q = ACCURACY ** DEPTH
        for noise in (0.0, 0.4, 1.0):
            row = self.rows[(noise, "greedy-cot")]
            self.assertTrue(within(row["success"], q, PROBLEMS), (row, q))
            self.assertEqual(row["expanded"], DEPTH)

    def test_self_consistency_matches_the_exact_vote(self):
        truth = majority_vote_success(ACCURACY ** DEPTH, CHAINS)
        row = self.rows[(0.2, "self-consistency")]
        self.assertTrue(within(row["success"], truth, PROBLEMS), (row, truth))
        self.assertEqual(row["expanded"], CHAINS * DEPTH)

    def test_top_b_expands_the_stated_steps(self):
        self.assertEqual(self.rows[(0.2, "tot-top-b")]["expanded"], 3 + 2 * 3 * (DEPTH - 1))

    def test_cothb_solves_everything_with_separating_signals(self):
        for noise in (0.0, 0.2):
            self.assertEqual(self.rows[(noise, "cothb")]["success"], 1.0)

    def test_python_harness_agrees_with_the_c_harness(self):
        try:
            import harness
        except ImportError as exc:  # e.g. a sanitizer build Python cannot load
            self.skipTest(f"the Python binding cannot load this build's library: {exc}")

        for noise in (0.4, 0.6, 0.8):
            key = (noise, "cothb")
            py_success, py_expanded = harness.success_rate(noise, problems=600)
            c_success = self.rows[key]["success"]
            pooled = (py_success * 600 + c_success * PROBLEMS) / (600 + PROBLEMS)
            tolerance = 4.5 * math.sqrt(pooled * (1 - pooled) * (1 / 600 + 1 / PROBLEMS)) + 1e-9
            self.assertLessEqual(abs(py_success - c_success), tolerance, (noise, py_success,
                                                                          c_success))
            self.assertGreater(py_expanded, DEPTH - 1)


if __name__ == "__main__":
    unittest.main()
