"""btfm nirs and btfm info on a SNIRF file written from the specification with h5py
(tests/io/snirfspec.py). The BrainVision files btfm writes are read back by MNE and
compared with MNE's own optical_density / beer_lambert_law / scalp_coupling_index of the
SNIRF file; btfm info is checked against what the writer put in."""
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

try:
    import mne
    import snirfspec  # noqa: E402  (needs h5py)
except ImportError:  # the interpreter lacks MNE or h5py: nothing to compare with
    mne = None


def has_snirf():
    return "snirf" in run("version").stdout.split()


@unittest.skipIf(mne is None or not has_snirf(), "needs mne, h5py and a build with HDF5")
class NirsCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        self = cls
        mne.set_log_level("ERROR")
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "rec.snirf")
        src, det = snirfspec.probe_positions(2, 3)
        det[2] = src[1] + [5.0, 3.0, 0.0]  # one short pair (5.8 mm)
        pairs = [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)]
        rng = np.random.default_rng(0)
        n = 400
        t = np.arange(n) / 10.0
        data = 1 + 0.02 * rng.standard_normal((n, 10)) + 0.03 * np.sin(2 * np.pi * 1.1 * t)[:, None]
        snirfspec.write(self.path, data, t, snirfspec.cw_layout(2, 3, pairs), [760, 850], src, det,
                        stims=[("tap", [[2.0, 5.0, 1.0], [12.0, 5.0, 1.0]])])
        self.raw = mne.io.read_raw_snirf(self.path, preload=True)
        self.od = mne.preprocessing.nirs.optical_density(self.raw)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def read(self, name):
        return mne.io.read_raw_brainvision(os.path.join(self.dir.name, name), preload=True)

    def test_od_and_hb_match_mne(self):
        out = os.path.join(self.dir.name, "od.vhdr")
        r = run("nirs", "od", self.path, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("10 channels x 400 samples", r.stdout)
        np.testing.assert_allclose(self.read("od.vhdr").get_data(), self.od.get_data(), atol=1e-6)
        for ppf in ("6", "1"):
            out = os.path.join(self.dir.name, f"hb{ppf}.vhdr")
            r = run("nirs", "hb", self.path, out, "--ppf", ppf)
            self.assertEqual(r.returncode, 0, r.stderr)
            hb = mne.preprocessing.nirs.beer_lambert_law(self.od, ppf=float(ppf))
            ours = self.read(f"hb{ppf}.vhdr")
            self.assertEqual(ours.ch_names, hb.ch_names)
            want = hb.get_data()
            np.testing.assert_allclose(ours.get_data(), want, atol=1e-5 * np.abs(want).max())
            # BrainVision markers: MNE reads type/description.
            self.assertEqual(list(ours.annotations.description[-2:]), ["stim/tap", "stim/tap"])

    def test_sci_matches_mne(self):
        r = run("nirs", "sci", self.path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)["scalp_coupling_index"]
        self.assertEqual([row["channel"] for row in rows], self.raw.ch_names)
        sci = mne.preprocessing.nirs.scalp_coupling_index(self.od)
        np.testing.assert_allclose([row["sci"] for row in rows], sci, atol=1e-5)
        text = run("nirs", "sci", self.path, "--band", "0.5", "2.0", "0.2", "0.4")
        self.assertEqual(text.returncode, 0, text.stderr)
        sci = mne.preprocessing.nirs.scalp_coupling_index(self.od, 0.5, 2.0, 0.2, 0.4)
        values = [float(line.split()[2]) for line in text.stdout.splitlines()]
        np.testing.assert_allclose(values, sci, atol=1e-4)

    def test_short_channel_regression(self):
        out = os.path.join(self.dir.name, "clean.vhdr")
        r = run("nirs", "short", self.path, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Scholkmann eq. 26-27 in NumPy on MNE's optical densities; S2_D3 (channels 8
        # and 9) is the short pair, regressed wavelength by wavelength.
        x = self.od.get_data().T
        want = x.copy()
        for c in range(8):
            s = 8 + c % 2
            want[:, c] = x[:, c] - (x[:, s] @ x[:, c]) / (x[:, s] @ x[:, s]) * x[:, s]
        np.testing.assert_allclose(self.read("clean.vhdr").get_data().T, want, atol=1e-6)
        # A file without optode geometry has no short channels to use.
        od = os.path.join(self.dir.name, "od.vhdr")
        self.assertEqual(run("nirs", "od", self.path, od).returncode, 0)
        r = run("nirs", "short", od, out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("0 short and 0 long", r.stderr)
        r = run("nirs", "hb", od, out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no optical-density channels", r.stderr)

    def test_info_describes_the_probe(self):
        r = run("info", self.path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual(info["format"], "snirf")
        self.assertEqual(info["fnirs"], {"pairs": 5, "short_channels": 2,
                                         "coordinate_frame": "unknown", "wavelengths": [760, 850]})
        np.testing.assert_allclose([c["position"] for c in info["channels"]],
                                   [c["loc"][:3] for c in self.raw.info["chs"]], atol=1e-12)
        text = run("info", self.path).stdout
        self.assertIn("5 source-detector pairs, wavelengths 760 850 nm, 2 short channels", text)

    def test_usage_errors(self):
        self.assertEqual(run("nirs").returncode, 2)
        self.assertEqual(run("nirs", "xyz", self.path).returncode, 2)
        self.assertEqual(run("nirs", "hb", self.path).returncode, 2)
        self.assertEqual(run("nirs", "sci", self.path, "extra").returncode, 2)


if __name__ == "__main__":
    unittest.main()
