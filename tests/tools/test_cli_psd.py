"""btfm psd, driven as from a shell, against closed forms and SciPy. A cosine of amplitude
A on a bin of a Hann-windowed Welch density integrates (trapezoid over the bins around
it) to its mean square A^2 / 2 exactly; white noise of variance s^2 has the density
s^2 / (fs / 2). Epochs (3-D .npy, as btfm epochs writes) and single channels (1-D) are
compared with scipy.signal.welch on each; the --plot figure is parsed as XML and its
points mapped back to the spectrum SciPy computes. Inputs are .npy arrays and an EDF file
written from the specification (tests/io/edfspec.py)."""
import os
import sys
import tempfile
import unittest

import numpy as np
from scipy import signal as scipy_signal

from cli_support import program, run

program()  # the btfm under test: the first argument
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "io"))
sys.path.insert(0, HERE)
import edfspec  # noqa: E402
import svg_read  # noqa: E402

FS = 256.0


class PsdCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        t = np.arange(256 * 40) / FS
        self.x = np.stack([2.0 * np.cos(2 * np.pi * 10 * t), np.cos(2 * np.pi * 20 * t),
                           0.0 * t], axis=1).astype(np.float32)
        self.path = self.out("in.npy")
        np.save(self.path, self.x)

    def tearDown(self):
        self.dir.cleanup()

    def out(self, name):
        return os.path.join(self.dir.name, name)

    def test_band_power_of_cosines_is_their_mean_square(self):
        r = run("psd", self.path, "--sfreq", "256", "--band", "8:12", "--band", "18:22",
                "--out", self.out("bp.npy"))
        self.assertEqual(r.returncode, 0, r.stderr)
        bp = np.load(self.out("bp.npy"))
        self.assertEqual(bp.shape, (2, 3))
        np.testing.assert_allclose(bp[:, :2], [[2.0, 0.0], [0.0, 0.5]], atol=1e-5)
        self.assertEqual(bp[0, 2], 0.0)

    def test_table_rows_between_fmin_and_fmax(self):
        r = run("psd", self.path, "--sfreq", "256", "--fmin", "9", "--fmax", "11")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().split("\n")
        self.assertEqual(lines[0].split("\t"), ["freq_hz", "0", "1", "2"])
        rows = [list(map(float, line.split("\t"))) for line in lines[1:]]
        self.assertEqual([row[0] for row in rows], [9.0, 10.0, 11.0])
        # Hann density of the 10 Hz cosine: A^2 N / (3 fs) at its bin, A^2 N / (12 fs) next
        self.assertAlmostEqual(rows[1][1], 4.0 * 256 / (3 * FS), places=4)
        self.assertAlmostEqual(rows[0][1], 4.0 * 256 / (12 * FS), places=4)

    def test_relative_bands_and_multitaper(self):
        noise = np.random.default_rng(0).standard_normal((20000, 2)).astype(np.float32)
        np.save(self.out("noise.npy"), noise)
        edges = [(1, 4), (4, 8), (8, 13), (13, 30), (30, 45)]
        for extra, n_fft in (([], 256), (["--multitaper"], 20000)):
            r = run("psd", self.out("noise.npy"), "--sfreq", "100", "--bands", "--relative",
                    "--out", self.out("rel.npy"), *extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            rel = np.load(self.out("rel.npy"))
            # a flat spectrum: each band's share is the span of its bins over the total's
            freqs = np.arange(n_fft // 2 + 1) * 100.0 / n_fft

            def span(lo, hi):
                inside = freqs[(freqs >= lo) & (freqs <= hi)]
                return inside[-1] - inside[0]
            share = np.array([span(lo, hi) for lo, hi in edges]) / span(1, 45)
            np.testing.assert_allclose(rel, np.repeat(share[:, None], 2, axis=1), rtol=0.1)

    def test_edf_input_names_channels(self):
        t = np.arange(256 * 8) / FS
        digital = np.round(1000 * np.cos(2 * np.pi * 16 * t)).astype(int)
        path = self.out("rec.edf")
        edfspec.write(path, [{"label": "EEG Oz", "dim": "uV", "pmin": -3276.8, "pmax": 3276.7,
                              "dmin": -32768, "dmax": 32767, "spr": 256, "digital": digital}], 8)
        r = run("psd", path, "--band", "14:18")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().split("\n")
        self.assertEqual(lines[0].split("\t"), ["band (power)", "EEG Oz"])
        # 1000 digital units of 0.1 uV = 1e-4 V amplitude: mean square 5e-9 V^2
        self.assertAlmostEqual(float(lines[1].split("\t")[1]) / 5e-9, 1.0, places=3)

    def test_epochs_and_single_channels(self):
        rng = np.random.default_rng(3)
        epochs = rng.standard_normal((5, 300, 3)).astype(np.float32)  # btfm epochs' layout
        np.save(self.out("epochs.npy"), epochs)
        np.save(self.out("one.npy"), epochs[0, :, 1])
        f, want = scipy_signal.welch(epochs.astype(np.float64), 100.0, nperseg=128, axis=1)
        r = run("psd", self.out("epochs.npy"), "--sfreq", "100", "--nperseg", "128",
                "--out", self.out("per_epoch.npy"))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = np.load(self.out("per_epoch.npy"))
        self.assertEqual(got.shape, (5, 65, 3))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-9)
        r = run("psd", self.out("epochs.npy"), "--sfreq", "100", "--nperseg", "128",
                "--average", "--out", self.out("mean.npy"))
        self.assertEqual(r.returncode, 0, r.stderr)
        np.testing.assert_allclose(np.load(self.out("mean.npy")), want.mean(axis=0),
                                   rtol=1e-4, atol=1e-9)
        r = run("psd", self.out("one.npy"), "--sfreq", "100", "--nperseg", "128",
                "--out", self.out("one_psd.npy"))
        self.assertEqual(r.returncode, 0, r.stderr)
        np.testing.assert_allclose(np.load(self.out("one_psd.npy"))[:, 0], want[0, :, 1],
                                   rtol=1e-4, atol=1e-9)
        # the table of epochs has an epoch column; bands per epoch
        r = run("psd", self.out("epochs.npy"), "--sfreq", "100", "--nperseg", "100", "--fmin",
                "10", "--fmax", "10")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().split("\n")
        self.assertEqual(lines[0].split("\t"), ["epoch", "freq_hz", "0", "1", "2"])
        self.assertEqual([line.split("\t")[:2] for line in lines[1:]],
                         [[str(e), "10"] for e in range(5)])
        r = run("psd", self.out("epochs.npy"), "--sfreq", "100", "--band", "alpha",
                "--out", self.out("bands.npy"))
        self.assertEqual(np.load(self.out("bands.npy")).shape, (5, 1, 3))
        np.save(self.out("four.npy"), np.zeros((2, 3, 4, 5), np.float32))
        r = run("psd", self.out("four.npy"), "--sfreq", "100")
        self.assertEqual(r.returncode, 1)
        self.assertIn("shape (2, 3, 4, 5); expected (times,), (times, channels) or "
                      "(epochs, times, channels)", r.stderr)

    def test_plot_draws_the_spectrum_scipy_computes(self):
        rng = np.random.default_rng(4)
        t = np.arange(4, 2000) / 200.0
        x = np.stack([np.cos(2 * np.pi * 12 * t), 0.1 * rng.standard_normal(t.size)],
                     axis=1).astype(np.float32)
        x = np.stack([x[:1000], x[996:1996]])  # two epochs
        np.save(self.out("ep.npy"), x)
        r = run("psd", self.out("ep.npy"), "--sfreq", "200", "--fmin", "2", "--fmax", "60",
                "--plot", self.out("psd.svg"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        root, axes = svg_read.read(self.out("psd.svg"))
        self.assertEqual(len(axes), 1)
        a = axes[0]
        self.assertTrue(a.ylog)
        f, want = scipy_signal.welch(x.astype(np.float64), 200.0, nperseg=256, axis=1)
        keep = (f >= 2) & (f <= 60)
        want = want.mean(axis=0)[keep]
        self.assertEqual(a.legend(), ["0", "1"])
        for channel in (0, 1):
            pts = np.array(a.series(str(channel))["parts"][0])
            np.testing.assert_allclose(pts[:, 0], f[keep], atol=0.01)
            shown = pts[:, 1] > a.ylim[0]  # points below the axis are clipped
            np.testing.assert_allclose(pts[shown, 1], want[shown, channel], rtol=2e-3)
        self.assertIn("mean over epochs", "".join(t.text or "" for t in root.iter()))
        r = run("psd", self.out("ep.npy"), "--sfreq", "200", "--bands", "--plot", "x.svg")
        self.assertEqual(r.returncode, 2)

    def test_errors(self):
        r = run("psd", self.path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--sfreq", r.stderr)
        r = run("psd", self.path, "--sfreq", "50", "--bands")
        self.assertEqual(r.returncode, 1)
        self.assertIn("outside", r.stderr)
        r = run("psd", self.path, "--sfreq", "256", "--nperseg", "100000")
        self.assertEqual(r.returncode, 1)
        self.assertIn("nperseg", r.stderr)
        r = run("psd", self.path, "--relative")
        self.assertEqual(r.returncode, 2)
        r = run("psd", self.path, "--window", "kaiser", "--sfreq", "1")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
