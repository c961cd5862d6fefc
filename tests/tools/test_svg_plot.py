"""tools/svg_plot.c, the SVG writer of the command line's figures: tests/tools/svg_sample
draws every feature on data recomputed here with NumPy; the file is parsed as XML and
every drawn point is mapped back through its panel's axes to the value it stands for."""
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

SAMPLE = os.path.abspath(sys.argv.pop(1))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svg_read  # noqa: E402


class SvgPlot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.dir.name, "sample.svg")
        subprocess.run([SAMPLE, cls.path], check=True)
        cls.root, cls.axes = svg_read.read(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_grid_titles_and_escaped_text(self):
        self.assertEqual([a.title for a in self.axes], ["lines", "scatter", "log", "long"])
        title = [t.text for t in self.root.iter() if t.get("class") == "suptitle"]
        self.assertEqual(title, ["svg_plot sample & <checks>"])
        boxes = [a.box for a in self.axes]
        self.assertLess(boxes[0][0], boxes[1][0])  # side by side
        self.assertLess(boxes[0][1], boxes[2][1])  # one row below the other
        self.assertEqual(self.axes[0].text("xlabel"), ["time (s)"])
        self.assertEqual(self.axes[0].text("ylabel"), ["amplitude"])

    def test_lines_map_back_to_their_values(self):
        a = self.axes[0]
        x = np.arange(100) / 10.0
        for label, f in (("sin", np.sin), ("cos", np.cos)):
            s = a.series(label)
            self.assertEqual(s["kind"], "line")
            self.assertEqual(len(s["parts"]), 1)
            pts = np.array(s["parts"][0])
            np.testing.assert_allclose(pts[:, 0], x, atol=0.02)
            np.testing.assert_allclose(pts[:, 1], f(x), atol=0.01)
        self.assertEqual(a.legend(), ["sin", "cos"])
        self.assertEqual(a.markers(), [2.5])
        self.assertIn('event "go"', [t.text for t in a.g.iter() if t.text])

    def test_scatter_and_fixed_limits(self):
        a = self.axes[1]
        self.assertEqual((a.xlim, a.ylim), ([0, 29], [0, 29]))
        pts = np.array(a.series("points")["parts"][0])
        self.assertEqual(a.series("points")["kind"], "scatter")
        np.testing.assert_allclose(pts[:, 0], np.arange(30), atol=0.02)
        np.testing.assert_allclose(pts[:, 1], (np.arange(30) * 7) % 11, atol=0.02)
        diagonal = np.array(a.series("diagonal")["parts"][0])
        np.testing.assert_allclose(diagonal[:, 0], diagonal[:, 1], atol=0.03)

    def test_log_axis_and_a_missing_value_breaks_the_line(self):
        a = self.axes[2]
        self.assertTrue(a.ylog)
        parts = a.series("growth")["parts"]
        self.assertEqual([len(p) for p in parts], [50, 49])
        pts = np.array(parts[0] + parts[1])
        x = np.array([i for i in range(100) if i != 50])
        np.testing.assert_allclose(pts[:, 0], x, atol=0.1)
        np.testing.assert_allclose(np.log10(pts[:, 1]), x / 20.0, atol=0.002)
        ticks = a.yticks()
        self.assertTrue(all(t.startswith("1e") for t in ticks), ticks)

    def test_a_long_line_is_thinned_keeping_its_extremes(self):
        a = self.axes[3]
        self.assertEqual(a.yticks(), ["zero", "one"])
        pts = np.array(a.series("")["parts"][0])
        self.assertLess(len(pts), 4 * a.box[2] + 8)  # at most 4 points a pixel column
        peak = pts[np.argmax(pts[:, 1])]
        self.assertAlmostEqual(peak[1], 5.0, delta=0.01)
        self.assertAlmostEqual(peak[0], 12345, delta=20000 / a.box[2])  # within a column
        self.assertAlmostEqual(pts[:, 1].min(), -1.0, delta=0.01)
        self.assertAlmostEqual(pts[0, 0], 0, delta=0.5)
        self.assertAlmostEqual(pts[-1, 0], 19999, delta=20000 / a.box[2])


if __name__ == "__main__":
    unittest.main(verbosity=2)
