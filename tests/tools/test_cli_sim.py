"""btfm sim, driven as from a shell: a small rating session and a shared-response session
written, summarized and read back; the --plot figure's curves against the same averages
computed with NumPy from the EDF files (read here from the specification) and the truth's
items.tsv; every refused argument."""
import csv
import os
import sys
import tempfile
import unittest

import numpy as np

from cli_support import program, run

program()  # the btfm under test: the first argument
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import svg_read  # noqa: E402

SMALL = ["--param", "n_annotators=2", "--param", "n_items=12", "--param", "sfreq=100",
         "--param", "n_pairs=4", "--param", "n_bad_channels=0", "--param", "line_freq=0"]


def read_edf(path):
    """(labels, physical samples as time x signals, rate) of an EDF+ file with one rate for
    every ordinary signal, from the specification: the 256-byte header, 256 bytes per
    signal, records of little-endian int16 scaled by the physical and digital ranges."""
    raw = open(path, "rb").read()
    ns = int(raw[252:256])
    n_records, duration = int(raw[236:244]), float(raw[244:252])

    def column(offset, width):
        return [raw[256 + offset * ns + i * width:256 + offset * ns + (i + 1) * width].decode().strip()
                for i in range(ns)]
    labels = column(0, 16)
    pmin, pmax = map(np.array, ([float(v) for v in column(104, 8)], [float(v) for v in column(112, 8)]))
    dmin, dmax = map(np.array, ([float(v) for v in column(120, 8)], [float(v) for v in column(128, 8)]))
    spr = np.array([int(v) for v in column(216, 8)])
    units = column(96, 8)
    record = np.frombuffer(raw[256 * (ns + 1):], dtype="<i2").reshape(n_records, spr.sum())
    keep = [i for i in range(ns) if labels[i] != "EDF Annotations"]
    starts = np.concatenate([[0], np.cumsum(spr)])
    data = np.stack([record[:, starts[i]:starts[i + 1]].reshape(-1) for i in keep], axis=1)
    gain = (pmax - pmin) / (dmax - dmin)
    physical = (data - dmin[keep]) * gain[keep] + pmin[keep]
    scale = np.array([1e-6 if units[i] == "uV" else 1.0 for i in keep])
    return [labels[i] for i in keep], physical * scale, spr[keep[0]] / duration


def tsv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


class SimCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def out(self, name):
        return os.path.join(self.dir.name, name)

    def test_rating_session_and_its_plot(self):
        root, svg = self.out("session"), self.out("erp.svg")
        r = run("sim", "rating-session", root, *SMALL, "--plot", svg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rating session, 2 annotators x 12 items", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(root, "derivatives", "truth", "items.tsv")))
        # Independently: epochs at Pz locked to item_end, split by the reward terciles.
        items = {int(r["item_id"]): float(r["reward"]) for r in tsv(os.path.join(root, "derivatives", "truth", "items.tsv"))}
        ordered = sorted(items.values())
        lo, hi = ordered[len(ordered) // 3], ordered[2 * len(ordered) // 3]
        sums, counts = np.zeros((3, 100)), np.zeros(3)
        for sub in ("01", "02"):
            base = os.path.join(root, f"sub-{sub}", "eeg", f"sub-{sub}_task-rating")
            names, data, fs = read_edf(base + "_eeg.edf")
            pz = data[:, names.index("Pz")] * 1e6
            for e in tsv(base + "_events.tsv"):
                if e["trial_type"] != "item_end":
                    continue
                first = int(round(float(e["onset"]) * fs)) - 20
                window = pz[first:first + 100]
                value = items[int(e["item_id"])]
                q = 0 if value < lo else 1 if value < hi else 2
                sums[q] += window - window[:20].mean()
                counts[q] += 1
        _, axes = svg_read.read(svg)
        self.assertEqual(len(axes), 3)
        panel = axes[0]
        self.assertIn("Pz", panel.title)
        for q, name in enumerate(["lowest third", "middle third", "highest third"]):
            label = f"{name} ({int(counts[q])} epochs)"
            points = panel.series(label)["parts"][0]
            y = np.array([p[1] for p in points])
            scale = np.ptp(panel.ylim)
            np.testing.assert_allclose(y, sums[q] / counts[q], atol=2e-3 * scale)
        self.assertEqual(panel.markers(), [0.0])

    def test_shared_response(self):
        root = self.out("movie")
        r = run("sim", "shared-response", root, "--param", "n_subjects=3", "--param", "n_times=40",
                "--param", "grid_z=2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("shared response, 3 subjects x 40 time points", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(root, "sub-03", "func", "sub-03_task-shared_bold.nii.gz")))
        self.assertEqual(len(tsv(os.path.join(root, "derivatives", "truth", "shared_response.tsv"))), 40)

    def test_refusals(self):
        cases = [
            (["sim"], 2, "rating-session or shared-response"),
            (["sim", "movie", self.out("x")], 2, "unknown simulator 'movie'"),
            (["sim", "rating-session"], 2, "needs an OUT folder"),
            (["sim", "rating-session", self.out("x"), "--param", "n_items"], 2, "NAME=VALUE"),
            (["sim", "rating-session", self.out("x"), "--param", "n_items=many"], 2, "not a finite number"),
            (["sim", "rating-session", self.out("x"), "--param", "n_itemz=5"], 1, "n_items"),
            (["sim", "rating-session", self.out("x"), "--param", "n_channels=500"], 1, "n_channels"),
            (["sim", "shared-response", self.out("x"), "--plot", self.out("p.svg")], 2,
             "rating-session only"),
            (["sim", "rating-session", self.out("x"), self.out("y")], 2, "one OUT folder"),
        ]
        for args, code, text in cases:
            r = run(*args)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            self.assertIn(text, r.stderr, args)
        self.assertEqual(os.listdir(self.dir.name), [])
        os.mkdir(self.out("full"))
        open(self.out("full/keep"), "w").close()
        r = run("sim", "rating-session", self.out("full"), *SMALL)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not an empty folder", r.stderr)
        self.assertEqual(os.listdir(self.out("full")), ["keep"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
