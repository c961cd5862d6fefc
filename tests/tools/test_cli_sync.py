"""btfm sync on an EyeLink .asc and a BrainVision EEG (both written here from their
documented layouts) that logged the same triggers on clocks related by a simulated
offset and drift, each side missing some triggers and logging stray ones: the printed
line is the least-squares line through exactly the true pairs, close to the simulated
one; --output writes the EEG with the tracker's fixations at their mapped times."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

BTFM = sys.argv.pop(1) if len(sys.argv) > 1 else os.environ["BTFM_EXE"]
SFREQ, OFFSET, DRIFT = 250.0, 7.125, -42e-6
START = 80_000  # the tracker's clock at its first sample, ms


def run(*args):
    return subprocess.run([BTFM, *args], capture_output=True, text=True)


def write_asc(path, messages, fixations, n_ms):
    """Samples at 10 Hz (enough for a clock), MSG and EFIX lines in time order."""
    lines = ["** CONVERTED FROM sync.edf using edfapi 4.2", "**",
             "START\t%d \tLEFT\tSAMPLES\tEVENTS" % START,
             "SAMPLES\tGAZE\tLEFT\tRATE\t10.00\tTRACKING\tCR\tFILTER\t2"]
    extra = sorted([(t, "MSG\t%d %s" % (START + t, text)) for t, text in messages] +
                   [(s, "EFIX L %d\t%d\t%d\t 1.0\t 2.0\t 900" % (START + s, START + e, e - s + 1))
                    for s, e in fixations])
    k = 0
    for t in range(0, n_ms, 100):
        lines.append("%d\t512.0\t384.0\t1000\t..." % (START + t))
        while k < len(extra) and extra[k][0] < t + 100:
            lines.append(extra[k][1])
            k += 1
    lines.append("END\t%d \tSAMPLES\tEVENTS\tRES\t 38.54\t 31.12" % (START + n_ms))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_vhdr(folder, stem, n_times, markers):
    """BrainVision: two int16 channels, markers (1-based sample, description)."""
    with open(os.path.join(folder, stem + ".vhdr"), "w") as f:
        f.write("Brain Vision Data Exchange Header File Version 1.0\n\n[Common Infos]\n"
                "Codepage=UTF-8\nDataFile=%s.eeg\nMarkerFile=%s.vmrk\nDataFormat=BINARY\n"
                "DataOrientation=MULTIPLEXED\nNumberOfChannels=2\nSamplingInterval=%r\n\n"
                "[Binary Infos]\nBinaryFormat=INT_16\n\n[Channel Infos]\nCh1=Cz,,0.1,µV\n"
                "Ch2=Pz,,0.1,µV\n" % (stem, stem, 1e6 / SFREQ))
    with open(os.path.join(folder, stem + ".vmrk"), "w") as f:
        f.write("Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\n"
                "Codepage=UTF-8\nDataFile=%s.eeg\n\n[Marker Infos]\n" % stem)
        for i, (pos, desc) in enumerate(markers):
            f.write("Mk%d=Stimulus,%s,%d,1,0\n" % (i + 1, desc, pos))
    np.zeros((n_times, 2), "<i2").tofile(os.path.join(folder, stem + ".eeg"))
    return os.path.join(folder, stem + ".vhdr")


def line_fit(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    offset = y.mean() - slope * x.mean()
    return offset, slope - 1


class Sync(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        rng = np.random.default_rng(21)
        n_ms = 600_000
        t_ms = np.sort(rng.choice(np.arange(3000, n_ms - 3000, 11), 50, replace=False))
        codes = rng.integers(1, 6, t_ms.size)
        self.t_eye = t_ms / 1000.0
        # the EEG marks each trigger at the sample it falls in (1-based positions)
        self.pos = np.floor((OFFSET + (1 + DRIFT) * self.t_eye) * SFREQ).astype(int) + 1
        eye_missed, eeg_missed = {4, 30}, {11, 44}
        self.both = [k for k in range(t_ms.size) if k not in eye_missed | eeg_missed]
        messages = [(int(t), "TRIGGER %d" % c) for k, (t, c) in enumerate(zip(t_ms, codes))
                    if k not in eye_missed]
        messages += [(int(t_ms[4]) + 30, "TRIGGER %d" % codes[4]),  # beside a missed one
                     (123_457, "TRIGGER 3"), (400_001, "TRIGGER 1")]
        self.fix = [(5000 + 20_000 * k, 5000 + 20_000 * k + 250) for k in range(25)]
        self.asc = os.path.join(d, "eye.asc")
        write_asc(self.asc, messages, self.fix, n_ms)
        markers = [(int(p), "S%3d" % c) for k, (p, c) in enumerate(zip(self.pos, codes))
                   if k not in eeg_missed]
        markers += [(int(SFREQ * 100) + 1, "S  2"), (int(SFREQ * 333) + 7, "S  5")]
        self.vhdr = write_vhdr(d, "eeg", int(620 * SFREQ), sorted(markers))

    def tearDown(self):
        self.dir.cleanup()

    def test_json_line_is_the_fit_through_the_true_pairs(self):
        r = run("sync", self.asc, self.vhdr, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["n_pairs"], len(self.both))
        offset, drift = line_fit(self.t_eye[self.both], (self.pos[self.both] - 1) / SFREQ)
        self.assertAlmostEqual(got["offset_s"], offset, delta=1e-9)
        self.assertAlmostEqual(got["drift"], drift, delta=1e-12)
        self.assertAlmostEqual(got["drift_ms_per_hour"], got["drift"] * 3.6e6, delta=1e-9)
        # the simulated line, within what the 4 ms samples allow (a mean 2 ms early)
        self.assertLess(abs(got["offset_s"] - (OFFSET - 0.5 / SFREQ)), 1e-3)
        self.assertLess(abs(got["drift"] - DRIFT), 1e-5)
        self.assertLess(got["rms_s"], 2e-3)

    def test_text_output(self):
        r = run("sync", self.asc, self.vhdr)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("t_reference = 7.12", r.stdout)
        self.assertRegex(r.stdout, r"drift -4\.\d+e-05 \(-\d+\.\d+ ms per hour\)")
        self.assertIn("%d trigger pairs" % len(self.both), r.stdout)

    def test_output_holds_the_fixations_at_their_mapped_times(self):
        out = os.path.join(self.dir.name, "eeg_fix.vhdr")
        r = run("sync", self.asc, self.vhdr, "--events", "fixation", "--output", out, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["n_imported"], len(self.fix))
        info = json.loads(run("info", out, "--json").stdout)
        self.assertIn({"type": "fixation", "label": "fixation", "count": len(self.fix)},
                      info["events"]["summary"])
        with open(out[:-5] + ".vmrk", encoding="utf-8") as f:
            rows = [line.split(",") for line in f if re.match(r"Mk\d+=", line)]
        starts = sorted(int(row[2]) for row in rows if "fixation" in line_of(row))
        slope = 1 + got["drift"]
        want = [round((got["offset_s"] + slope * s / 1000.0) * SFREQ) + 1 for s, _ in self.fix]
        self.assertEqual(starts, want)

    def test_errors(self):
        r = run("sync", self.asc)
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected DEVICE and REFERENCE", r.stderr)
        r = run("sync", self.asc, self.vhdr, "--events", "fixation")
        self.assertEqual(r.returncode, 2)
        self.assertIn("give --output OUT too", r.stderr)
        r = run("sync", self.asc, self.vhdr, "--output")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--output needs a value", r.stderr)
        r = run("sync", self.asc, self.vhdr, "--frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--frobnicate'", r.stderr)
        r = run("sync", os.path.join(self.dir.name, "missing.asc"), self.vhdr)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.asc: No such file or directory", r.stderr)
        lone = write_vhdr(self.dir.name, "lone", 100, [(10, "S 99")])
        r = run("sync", self.asc, lone)
        self.assertEqual(r.returncode, 1)
        self.assertIn("two or more are needed", r.stderr)

    def test_help(self):
        r = run("help", "sync")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("usage: btfm sync DEVICE REFERENCE", r.stdout)
        self.assertIn("--events LABEL", r.stdout)


def line_of(row):
    return ",".join(row)


if __name__ == "__main__":
    unittest.main()
