"""btfm stream replay driven as from a shell on an EDF+ file written from the
specification (tests/io/edfspec.py): the default pipeline's JSON Lines against SciPy on
MNE's reading of the same file (sosfilt band-pass, welch, trapezoid band power), a
pipeline file with an ERP window around the file's annotations (on MNE's event
samples), and its errors."""
import json
import os
import tempfile
import unittest

import numpy as np

from cli_support import program, run, write_uv_edf

program()  # the btfm under test: the first argument

try:
    import mne
    import scipy.signal as ss
except ImportError:  # the interpreter lacks SciPy/MNE: nothing to compare with
    mne = None

SFREQ, N_RECORDS = 256, 12
ONSETS = [2.0, 5.5, 7.3, 9.25]  # 7.3 s lies between samples 1868 and 1869


@unittest.skipIf(mne is None, "needs mne and scipy")
class StreamCli(unittest.TestCase):
    def setUp(self):
        mne.set_log_level("ERROR")
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "rec.edf")
        t = np.arange(SFREQ * N_RECORDS) / SFREQ
        rng = np.random.default_rng(4)
        uv = [40 * np.sin(2 * np.pi * 10 * t + k) + 20 * np.sin(2 * np.pi * 6 * t)
              + rng.normal(0, 5, t.size) for k in range(3)]
        write_uv_edf(self.path, uv, SFREQ, N_RECORDS, ONSETS)
        raw = mne.io.read_raw_edf(self.path, preload=True)
        self.x = raw.get_data().T.astype(np.float32)
        self.events = mne.events_from_annotations(raw)[0][:, 0]

    def tearDown(self):
        self.dir.cleanup()

    def rows(self, *args):
        r = run("stream", "replay", self.path, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_default_band_powers_match_scipy(self):
        rows = self.rows("--chunk", "7")
        windows = [r for r in rows if r["kind"] == "window"]
        self.assertEqual(len(windows), (SFREQ * N_RECORDS - SFREQ) // 64 + 1)
        sos = ss.butter(4, [1, 40], "bandpass", fs=SFREQ, output="sos")
        y = ss.sosfilt(sos, self.x.astype(np.float64), axis=0).astype(np.float32)
        for r in windows:
            end = r["sample"]
            freqs, psd = ss.welch(y[end - 255:end + 1].astype(np.float64), SFREQ, nperseg=128,
                                  noverlap=64, axis=0)
            sel = (freqs >= 8) & (freqs <= 13)
            want = np.trapz(psd[sel], freqs[sel], axis=0)
            got = [r[f"alpha:EEG {k}"] for k in range(3)]
            np.testing.assert_allclose(got, want, rtol=1e-5)
            self.assertEqual(r["flags"], 0)
            self.assertAlmostEqual(r["time"], end / SFREQ, places=9)

    def test_pipeline_file_with_epochs(self):
        conf = os.path.join(self.dir.name, "p.conf")
        with open(conf, "w") as f:
            f.write("# ERP around the annotations\nerp_windows = 0.1 0.3\npicks = EEG 0, EEG 2\n"
                    "hop = 0.5\nsegment_step = 0.5\nbands = 8 13\n")
        rows = self.rows("--pipeline", conf)
        epochs = [r for r in rows if r["kind"] == "epoch"]
        # each annotation on the sample MNE's events_from_annotations gives it, the row's
        # time that sample's
        self.assertEqual([r["sample"] for r in epochs], list(self.events))
        self.assertEqual(len(epochs), len(ONSETS))
        self.assertEqual([r["time"] for r in epochs], [k / SFREQ for k in self.events])
        self.assertIn("erp0:EEG 2", epochs[0])
        windows = [r for r in rows if r["kind"] == "window"]
        self.assertEqual(len(windows), (SFREQ * N_RECORDS - SFREQ) // 128 + 1)
        self.assertIn("alpha:EEG 0", windows[0])  # 8-13 Hz is named
        self.assertNotIn("alpha:EEG 1", windows[0])
        self.assertNotIn("theta:EEG 0", windows[0])

    def test_errors(self):
        conf = os.path.join(self.dir.name, "bad.conf")
        with open(conf, "w") as f:
            f.write("picks = EEG 9\n")
        r = run("stream", "replay", self.path, "--pipeline", conf)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.conf:1: no channel 'EEG 9'", r.stderr)
        with open(conf, "w") as f:
            f.write("hop = 0.3\n")
        r = run("stream", "replay", self.path, "--pipeline", conf)
        self.assertEqual(r.returncode, 1)
        self.assertIn("multiple of segment_step", r.stderr)
        self.assertEqual(run("stream", "replay").returncode, 2)
        self.assertEqual(run("stream", "replay", self.path, "--chunk", "0").returncode, 2)


if __name__ == "__main__":
    unittest.main()
