"""btfm info on TSV tables, driven as from a shell: the row count, columns and per-column
ranges are compared with what Python computes from the same file (csv module, float())."""
import csv
import json
import os
import random
import tempfile
import unittest

from cli_support import program, run

program()  # the btfm under test: the first argument


class TableCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "sub-01_task-go_events.tsv")
        rng = random.Random(3)
        self.rows = [["onset", "duration", "trial_type", "all_na"]]
        for i in range(250):
            self.rows.append([repr(i * 0.75 + rng.random()),
                              "n/a" if i % 9 == 0 else repr(rng.uniform(-2, 5)),
                              rng.choice(["go", "stop", "n/a"]), "n/a"])
        with open(self.path, "w", newline="") as f:
            csv.writer(f, delimiter="\t", lineterminator="\n").writerows(self.rows)

    def tearDown(self):
        self.dir.cleanup()

    def truth(self, column):
        cells = [row[column] for row in self.rows[1:]]
        if column == 2:  # trial_type: text
            return cells.count("n/a"), None
        return cells.count("n/a"), [float(c) for c in cells if c != "n/a"]

    def test_info_json_matches_python(self):
        r = run("info", self.path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual((info["type"], info["n_rows"]), ("table", 250))
        self.assertEqual([c["name"] for c in info["columns"]], self.rows[0])
        for index, column in enumerate(info["columns"]):
            n_na, numbers = self.truth(index)
            self.assertEqual(column["n_na"], n_na, column["name"])
            if column["name"] == "trial_type":
                self.assertFalse(column["numeric"])
                continue
            self.assertTrue(column["numeric"], column["name"])
            if numbers:
                self.assertEqual(column["min"], min(numbers))
                self.assertEqual(column["max"], max(numbers))
            else:
                self.assertIsNone(column["min"])

    def test_info_text(self):
        r = run("info", self.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("TSV table, 4 columns, 250 rows", r.stdout)
        line = next(l for l in r.stdout.splitlines() if l.split()[0] == "onset")
        _, kind, n_na, lo, hi = line.split()
        _, numbers = self.truth(0)
        self.assertEqual((kind, n_na), ("number", "0"))
        self.assertAlmostEqual(float(lo), min(numbers), places=4)
        self.assertAlmostEqual(float(hi), max(numbers), delta=1e-5 * max(numbers))

    def test_malformed_table_fails_with_the_line(self):
        bad = os.path.join(self.dir.name, "bad.tsv")
        with open(bad, "w") as f:
            f.write("onset\tduration\n1\t2\n3\n")
        r = run("info", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.tsv: line 3: 1 cell, but the header has 2 columns", r.stderr)


if __name__ == "__main__":
    unittest.main()
