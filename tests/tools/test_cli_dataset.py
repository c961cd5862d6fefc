"""btfm info / convert / anonymize on recordings, driven as from a shell. Fixtures are
written by tests/io/edfspec.py (from the EDF+ specification, independent of libbtfm);
converted files are read back by MNE and by their raw header bytes."""
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
import edfspec  # noqa: E402
sys.path.insert(0, HERE)
import svg_read  # noqa: E402

SPR, N_RECORDS = 64, 3
ANNOTATIONS = [(0.5, None, "go"), (1.25, 0.5, "stop"), (2.0, None, "go")]


def make_signals():
    rng = np.random.default_rng(2)
    n = SPR * N_RECORDS
    return [{"label": "EEG Pz", "dim": "uV", "pmin": -250, "pmax": 250, "dmin": -32768,
             "dmax": 32767, "spr": SPR, "digital": rng.integers(-32768, 32768, n)},
            {"label": "ECG", "dim": "mV", "pmin": -5, "pmax": 5, "dmin": -2048, "dmax": 2047,
             "spr": SPR // 2, "digital": rng.integers(-2048, 2048, n // 2)}]


class DatasetCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "rec.edf")
        self.signals = make_signals()
        edfspec.write(self.path, self.signals, N_RECORDS, annotations=ANNOTATIONS,
                      patient="MCH-0234567 F 02-MAY-1951 Haagse_Harry",
                      recording="Startdate 02-MAR-2002 EMG561 BK/JOP Sony",
                      startdate="02.03.02", starttime="16.15.00")

    def tearDown(self):
        self.dir.cleanup()

    def out(self, name):
        return os.path.join(self.dir.name, name)

    def test_info_plot_draws_every_channel_and_the_events(self):
        """The figure's traces, mapped back from pixels, are the file's digital values
        scaled to [-0.4, 0.4] around each trace's offset (the scaling is affine, so the
        digital values give it without the library's conversion)."""
        rng = np.random.default_rng(7)
        names = ["EEG Fz", "EEG Cz", "Trig"]
        n = SPR * N_RECORDS
        signals = [{"label": name, "dim": "uV", "pmin": -250, "pmax": 250, "dmin": -32768,
                    "dmax": 32767, "spr": SPR, "digital": rng.integers(-3000, 3000, n)}
                   for name in names]
        path = self.out("three.edf")
        edfspec.write(path, signals, N_RECORDS, annotations=ANNOTATIONS)
        r = run("info", path, "--plot", self.out("overview.svg"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("EEG Fz", r.stdout)  # the description is still printed
        root, axes = svg_read.read(self.out("overview.svg"))
        self.assertEqual(len(axes), 1)
        a = axes[0]
        self.assertEqual(a.yticks(), names)
        self.assertEqual(a.legend(), [])
        self.assertEqual(a.markers(), [0.5, 1.25, 2.0])
        for c, name in enumerate(names):
            pts = np.array(a.series(name)["parts"][0])
            np.testing.assert_allclose(pts[:, 0], np.arange(n) / SPR, atol=2e-3)
            d = signals[c]["digital"].astype(float)
            mid, half = (d.max() + d.min()) / 2, (d.max() - d.min()) / 2
            np.testing.assert_allclose(pts[:, 1], (2 - c) + 0.4 * (d - mid) / half, atol=0.01)
        for other in (self.dir.name, self.out("t.tsv")):
            if other.endswith(".tsv"):
                with open(other, "w") as f:
                    f.write("a\n1\n")
            r = run("info", other, "--plot", self.out("x.svg"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("--plot draws a recording", r.stderr)
        self.assertFalse(os.path.exists(self.out("x.svg")))

    def test_info_json_describes_what_was_written(self):
        r = run("info", self.path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual((info["type"], info["format"], info["sfreq"], info["n_times"],
                          info["n_channels"], info["n_records"], info["duration_s"]),
                         ("dataset", "edf", SPR, SPR * N_RECORDS, 2, N_RECORDS, N_RECORDS))
        self.assertEqual(info["start_time"], "2002-03-02T16:15:00")
        self.assertEqual(info["subject"], "MCH-0234567 F 02-MAY-1951 Haagse_Harry")
        self.assertEqual(info["channels"], [
            {"name": "EEG Pz", "type": "eeg", "unit": "V", "rate": SPR,
             "n_samples": SPR * N_RECORDS, "bad": False},
            {"name": "ECG", "type": "ecg", "unit": "V", "rate": SPR // 2,
             "n_samples": SPR // 2 * N_RECORDS, "bad": False}])
        self.assertEqual(info["events"], {"count": 3, "summary": [
            {"type": "annotation", "label": "go", "count": 2},
            {"type": "annotation", "label": "stop", "count": 1}]})

    def test_info_text(self):
        r = run("info", self.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rec.edf: edf recording, 2 channels x 192 samples at 64 Hz (3 s)",
                      r.stdout)
        self.assertIn("start:      2002-03-02T16:15:00", r.stdout)
        self.assertRegex(r.stdout, r"ECG +ecg +V +32 Hz")
        self.assertRegex(r.stdout, r"annotation go +x 2")

    def test_convert_to_bdf_keeps_the_values(self):
        import mne
        mne.set_log_level("ERROR")
        target = self.out("copy.bdf")
        r = run("convert", self.path, target)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("wrote " + target, r.stdout)
        with open(target, "rb") as f:
            self.assertEqual(f.read(8), b"\xffBIOSEMI")
        raw = mne.io.read_raw_bdf(target, preload=True)
        self.assertEqual(raw.ch_names[:1], ["EEG Pz"])
        want = edfspec.physical(self.signals[0]) * 1e-6
        step = 500 / 65535 * 1e-6
        self.assertLessEqual(np.max(np.abs(raw.get_data(picks=[0])[0] - want)), step)
        self.assertEqual(list(raw.annotations.description), ["go", "stop", "go"])

    def test_anonymize_clears_identifiers_and_shifts_the_date(self):
        target = self.out("anon.edf")
        r = run("anonymize", self.path, target)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("de-identified", r.stdout)
        with open(target, "rb") as f:
            head = f.read(256)
        for secret in (b"MCH-0234567", b"Haagse", b"1951", b"EMG561", b"BK/JOP", b"2002"):
            self.assertNotIn(secret, head)
        self.assertEqual(head[168:184], b"01.01.8516.15.00")  # date moved, time kept
        import mne
        mne.set_log_level("ERROR")
        before = mne.io.read_raw_edf(self.path, preload=True)
        after = mne.io.read_raw_edf(target, preload=True)
        np.testing.assert_array_equal(after.get_data(), before.get_data())  # same samples
        self.assertEqual(list(after.annotations.description),
                         list(before.annotations.description))
        np.testing.assert_allclose(after.annotations.onset, before.annotations.onset,
                                   rtol=0, atol=1e-7)
        # btfm info flags what identifies the subject before, and nothing after
        info = json.loads(run("info", self.path, "--json").stdout)
        self.assertEqual(info["identifying"], ["subject", "recording", "start_date"])
        self.assertIn("identifying: subject, recording, start_date", run("info", self.path).stdout)
        info = json.loads(run("info", target, "--json").stdout)
        self.assertEqual(info["identifying"], [])
        self.assertNotIn("identifying", run("info", target).stdout)

    def test_errors(self):
        r = run("convert", self.out("missing.edf"), self.out("x.edf"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.edf", r.stderr)
        r = run("convert", self.path, self.out("x.xyz"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(".vhdr", r.stderr)
        self.assertFalse(os.path.exists(self.out("x.xyz")))
        junk = self.out("notes.txt")
        with open(junk, "w") as f:
            f.write("not a recording\n")
        r = run("info", junk)
        self.assertEqual(r.returncode, 1)
        self.assertIn("neither a libbtfm container, a table (.tsv) nor a recording", r.stderr)
        for args in (["convert", self.path], ["anonymize"], ["convert", "a", "b", "c"],
                     ["anonymize", self.path, "o.edf", "--bogus"]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("usage: btfm", r.stderr, args)

    def test_complete_records_option(self):
        with open(self.path, "ab") as f:
            f.write(b"\0" * 10)  # a partial record after the declared ones
        r = run("info", self.path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("byte 236", r.stderr)
        r = run("info", self.path, "--complete-records", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["n_records"], N_RECORDS)
        self.assertIn("warning", r.stderr.lower())

    def test_help_lists_the_dataset_commands(self):
        r = run("help")
        for cmd in ("convert", "anonymize"):
            self.assertIn("\n  %s " % cmd, r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
