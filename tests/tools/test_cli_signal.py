"""btfm filter / btfm epochs driven as from a shell on an EDF+ file written from the
specification (tests/io/edfspec.py). The filtered file is read back by MNE and compared
with scipy.signal.sosfiltfilt of the input as MNE reads it; the epochs .npy is compared
with windows cut by NumPy from MNE's reading around the annotations."""
import os
import tempfile
import unittest

import numpy as np

from cli_support import edfspec, program, run, write_uv_edf

program()  # the btfm under test: the first argument

try:
    import mne
    import scipy.signal as ss
except ImportError:  # the interpreter lacks SciPy/MNE: nothing to compare with
    mne = None

SFREQ, N_RECORDS = 256, 20
ONSETS = [1.0, 5.5, 10.25, 19.9]


@unittest.skipIf(mne is None, "needs mne and scipy")
class SignalCli(unittest.TestCase):
    def setUp(self):
        mne.set_log_level("ERROR")
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "rec.edf")
        t = np.arange(SFREQ * N_RECORDS) / SFREQ
        rng = np.random.default_rng(0)
        uv = [40 * np.sin(2 * np.pi * 10 * t + k) + 80 * np.sin(2 * np.pi * 0.1 * t)
              + 30 * np.sin(2 * np.pi * 50 * t) + rng.normal(0, 5, t.size) for k in range(3)]
        write_uv_edf(self.path, uv, SFREQ, N_RECORDS, ONSETS)
        self.raw = mne.io.read_raw_edf(self.path, preload=True)

    def tearDown(self):
        self.dir.cleanup()

    def test_filter_band_and_notch_equal_scipy(self):
        out = os.path.join(self.dir.name, "filtered.edf")
        r = run("filter", self.path, out, "--band", "1", "40", "--notch", "50", "--order", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        x = self.raw.get_data().T
        sos = np.vstack([ss.butter(4, [1, 40], "bandpass", output="sos", fs=SFREQ),
                         np.r_[ss.iirnotch(50, 30, fs=SFREQ)][None, :].reshape(1, 6)])
        ref = ss.sosfiltfilt(sos, x.astype(np.float32), axis=0)
        got = mne.io.read_raw_edf(out, preload=True).get_data().T
        self.assertEqual(got.shape, ref.shape)
        rms = np.sqrt(np.mean(ref ** 2, axis=0))
        # EDF stores int16 over the signal's range: quantization well under 1% of the RMS
        self.assertTrue(np.all(np.max(np.abs(got - ref), axis=0) < 0.01 * rms))
        # drift (80 uV at 0.1 Hz) and line noise (30 uV) are gone, the 40 uV alpha stays:
        # RMS about 40 / sqrt(2) = 28 uV plus a little noise
        middle = np.sqrt(np.mean(got[SFREQ * 5:-SFREQ * 5] ** 2, axis=0))
        self.assertTrue(np.all((middle > 27e-6) & (middle < 31e-6)), middle)

    def test_filter_progress_bar_when_asked_or_on_a_terminal(self):
        out = os.path.join(self.dir.name, "bar.edf")
        r = run("filter", self.path, out, "--band", "1", "40",
                env=dict(os.environ, BTFM_PROGRESS="always"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"\[#{30}\] 100% ")  # the bar, run to its end
        self.assertTrue(r.stderr.endswith("\n"), r.stderr)  # the line finished
        r = run("filter", self.path, out, "--band", "1", "40")  # stderr is a pipe here
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotRegex(r.stderr, r"\[[#.]{30}\]")

    def test_filter_usage_errors(self):
        self.assertEqual(run("filter", self.path).returncode, 2)
        self.assertEqual(run("filter", self.path, "o.edf").returncode, 2)
        r = run("filter", self.path, os.path.join(self.dir.name, "o.edf"), "--high", "200")
        self.assertEqual(r.returncode, 1)
        self.assertIn("200 Hz is outside (0, 128)", r.stderr)

    def test_epochs_equal_numpy_windows(self):
        out = os.path.join(self.dir.name, "epochs.npy")
        r = run("epochs", self.path, out, "--tmin", "-0.2", "--tmax", "0.5",
                "--baseline", "-0.2", "0", "--reject", "eeg=1e-3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 out of bounds", r.stdout)
        got = np.load(out)
        x = self.raw.get_data().T
        first, last = round(-0.2 * SFREQ), round(0.5 * SFREQ)
        expect = []
        for onset in ONSETS[:3]:
            s = round(onset * SFREQ)
            e = x[s + first:s + last + 1]
            expect.append(e - e[:1 - first].mean(axis=0))
        np.testing.assert_allclose(got, np.array(expect), rtol=0, atol=1e-9)
        r = run("epochs", self.path, out, "--reject", "eeg=1e-6")
        self.assertIn("wrote", r.stdout)
        self.assertEqual(np.load(out).shape[0], 0)  # every epoch swings more than 1 uV


    def test_epochs_label_tags_and_no_match(self):
        # MNE's /-separated tags: "stim" selects stim/left and stim/right, as epochs["stim"]
        path = os.path.join(self.dir.name, "tags.edf")
        labels = ["stim/left", "resp", "stim/right", "stimulus"]
        edfspec.write(path, [{"label": "EEG 0", "dim": "uV", "pmin": -500, "pmax": 500,
                              "dmin": -32768, "dmax": 32767, "spr": SFREQ,
                              "digital": np.arange(SFREQ * N_RECORDS) % 1000}], N_RECORDS,
                      annotations=list(zip(ONSETS, [None] * 4, labels)))
        raw = mne.io.read_raw_edf(path, preload=True)
        events, event_id = mne.events_from_annotations(raw)
        want = mne.Epochs(raw, events, event_id, tmin=0, tmax=0.1, baseline=None,
                          preload=True)["stim"].get_data().transpose(0, 2, 1)
        out = os.path.join(self.dir.name, "stim.npy")
        r = run("epochs", path, out, "--tmin", "0", "--tmax", "0.1", "--label", "stim")
        self.assertEqual(r.returncode, 0, r.stderr)
        np.testing.assert_allclose(np.load(out), want, rtol=0, atol=1e-9)
        self.assertEqual(want.shape[0], 2)
        # no match: an error naming the labels there are, and no file
        nope = os.path.join(self.dir.name, "nope.npy")
        r = run("epochs", path, nope, "--label", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn('no event labelled "nope"', r.stderr)
        self.assertIn("its event labels are: stim/left, resp, stim/right, stimulus", r.stderr)
        self.assertFalse(os.path.exists(nope))

if __name__ == "__main__":
    unittest.main()
