"""EyeLink ASCII exports (.asc) written here after SR Research's documented format
(EyeLink 1000 Plus manual, "ASC file format"): libbtfm gives back the samples, rate,
channel names (those of MNE's read_raw_eyelink), fixations, saccades, blinks and messages
the writer put in; and the clock offset and drift between the tracker and an EEG recording
that saw the same triggers, against the line the test drew them from. (Debian's MNE 1.3
has no EyeLink reader.)"""

import pathlib
import re

import numpy as np
import pytest

import btfm


def write_asc(path, blocks, rate, eyes=("LEFT",), vel=False, events=(), messages=()):
    """blocks: [(start_ms, samples)], samples: n x columns (NaN written as '.')."""
    lines = ["** CONVERTED FROM test.edf using edfapi 4.2",
             "** DATE: Mon Dec  7 07:00:00 2026", "**", "",
             "MSG\t%d !CAL calibration done" % (blocks[0][0] - 100)]
    for start, samples in blocks:
        lines.append("START\t%d \t%s\tSAMPLES\tEVENTS" % (start, "\t".join(eyes)))
        lines.append("PRESCALER\t1")
        lines.append("PUPIL\tAREA")
        lines.append("SAMPLES\tGAZE\t%s%s\tRATE\t%.2f\tTRACKING\tCR\tFILTER\t2"
                     % ("\t".join(eyes), "\tVEL" if vel else "", rate))
        lines.append("EVENTS\tGAZE\t%s\tRATE\t%.2f\tTRACKING\tCR\tFILTER\t2"
                     % ("\t".join(eyes), rate))
        step = 1000.0 / rate
        for k, row in enumerate(samples):
            t = start + k * step
            values = ["." if np.isnan(v) else "%.1f" % v for v in row]
            # at 2000 Hz edf2asc prints whole milliseconds, so two samples share a time
            lines.append("%d\t%s\t..." % (int(t), "\t".join(values)))
            for kind, eye, s, e, extra in events:
                if s == int(t) and kind != "MSG":
                    lines.append("%s %s %d\t%d\t%d%s" % (kind, eye, s, e, e - s + 1, extra))
            for mt, text in messages:  # after the last sample at or before them
                if int(t) <= mt < int(start + (k + 1) * step) or \
                        (k == len(samples) - 1 and mt >= int(t)):
                    lines.append("MSG\t%d %s" % (mt, text))
        lines.append("END\t%d \tSAMPLES\tEVENTS\tRES\t 38.54\t 31.12"
                     % (start + len(samples) * step))
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")


def gaze(n, columns, seed):
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(100, 1800, (n, columns)), 1)
    values[:, 2::3] = np.round(rng.uniform(800, 1500, (n, len(range(2, columns, 3)))), 0)
    return values


def test_monocular_samples_events_and_messages(tmp_path):
    rate, n = 500.0, 751
    samples = gaze(n, 3, 1)
    samples[100:140] = np.nan  # a blink: the tracker writes "."
    start = 2_000_001
    events = [("EFIX", "L", start + 20, start + 180, "\t 512.3\t 384.1\t 1021"),
              ("ESACC", "L", start + 182, start + 196, "\t 512.3\t 384.1\t 700.2\t 390.0\t 4.32\t 310"),
              ("EBLINK", "L", start + 200, start + 278, "")]
    messages = [(start + 500, "TRIALID 3"), (start + 1000, "sentence 2 onset"),
                (start + 1200, "TRIGGER 17")]
    path = str(tmp_path / "mono.asc")
    write_asc(path, [(start, samples)], rate, events=events, messages=messages)
    with btfm.open(path) as ds:
        assert ds.format == "eyelink"
        assert ds.sfreq == rate
        assert ds.ch_names == ["xpos_left", "ypos_left", "pupil_left"]
        assert [c.type for c in ds.channels] == ["gaze", "gaze", "pupil"]
        assert [c.unit for c in ds.channels] == ["px", "px", ""]
        np.testing.assert_array_equal(ds.data, samples.astype(np.float32))
        got = [(e.type, e.label, round(e.onset, 9), round(e.duration, 9), e.code)
               for e in ds.events]
        assert got == [
            ("fixation", "fixation", 0.02, 0.16, 1),
            ("saccade", "saccade", 0.182, 0.014, 1),
            ("blink", "BAD_blink", 0.2, 0.078, 1),
            ("message", "TRIALID 3", 0.5, 0.0, 3),
            ("message", "sentence 2 onset", 1.0, 0.0, 0),
            ("message", "TRIGGER 17", 1.2, 0.0, 17)]


def test_binocular_2000_hz_blocks_with_a_gap(tmp_path):
    rate = 2000.0
    first, second = gaze(400, 8, 2)[:, :6], gaze(300, 6, 3)
    path = str(tmp_path / "bino.asc")
    # the second block starts 1.5 s after the first: 3000 - 400 rows of no samples
    write_asc(path, [(500_000, first), (501_500, second)], rate, eyes=("LEFT", "RIGHT"))
    with btfm.open(path) as ds:
        assert ds.ch_names == ["xpos_left", "ypos_left", "pupil_left", "xpos_right",
                               "ypos_right", "pupil_right"]
        data = ds.data
        assert data.shape == (3300, 6)
        np.testing.assert_array_equal(data[:400], first.astype(np.float32))
        assert np.isnan(data[400:3000]).all()
        np.testing.assert_array_equal(data[3000:], second.astype(np.float32))
        gaps = [(e.onset, e.duration, e.label) for e in ds.events if e.type == "gap"]
        assert gaps == [(0.2, 1.3, "BAD_ACQ_SKIP")]


def test_velocity_columns(tmp_path):
    samples = gaze(50, 5, 4)
    path = str(tmp_path / "vel.asc")
    write_asc(path, [(1000, samples)], 1000.0, vel=True)
    with btfm.open(path) as ds:
        assert ds.ch_names == ["xpos_left", "ypos_left", "pupil_left", "xvel_left", "yvel_left"]
        np.testing.assert_array_equal(ds.data, samples.astype(np.float32))


def test_sync_with_eeg_triggers(tmp_path):
    """Trigger messages in the tracker's clock and the same triggers in an EEG's clock
    drawn from t_eeg = 3.25 + (1 + 40e-6) t_eye: the fit gives the line back."""
    rate, n = 1000.0, 20000
    start = 10_000
    codes = [1, 2, 1, 3, 2, 1, 4]
    times_ms = [1500, 3200, 5100, 7400, 9900, 12000, 18500]
    path = str(tmp_path / "sync.asc")
    write_asc(path, [(start, gaze(n, 3, 5))], rate,
              messages=[(start + t, "TRIGGER %d" % c) for t, c in zip(times_ms, codes)])
    offset, slope = 3.25, 1 + 40e-6
    eeg = btfm.from_array(np.zeros((int(30 * 256), 2), np.float32), 256.0)
    for t, c in zip(times_ms, codes):
        eeg.add_event(offset + slope * t / 1000.0, label=str(c), type="trigger", code=c)
    eeg.add_event(0.5, label="9", type="trigger", code=9)  # only in the EEG: not paired
    with btfm.open(path) as eye:
        sync = eye.sync(eeg)
        assert sync.n_pairs == len(codes)
        assert sync.offset == pytest.approx(offset, abs=1e-9)
        assert sync.drift == pytest.approx(40e-6, abs=1e-9)
        assert sync.rms < 1e-9
        with pytest.raises(btfm.Error, match="two or more"):
            eye.sync(btfm.from_array(np.zeros((10, 1), np.float32), 100.0))
    eeg.close()


def test_malformed_files_name_the_line(tmp_path):
    path = tmp_path / "bad.asc"
    path.write_text("START\t1000 \tLEFT\tSAMPLES\tEVENTS\n1000\t1.0\t2.0\t3.0\t...\n")
    with pytest.raises(btfm.Error, match=r"bad\.asc: line 2: a sample before any SAMPLES"):
        btfm.open(str(path))
    path.write_text("SAMPLES\tGAZE\tLEFT\tRATE\t500.00\n1000\t1.0\tx\t3.0\t...\n")
    with pytest.raises(btfm.Error, match=r"line 2: a sample value that is not a number"):
        btfm.open(str(path))
    path.write_text("SAMPLES\tGAZE\tLEFT\tRATE\t500.00\nEFIX L 10\n")
    with pytest.raises(btfm.Error, match=r"line 2: an end-of-event line"):
        btfm.open(str(path))
    path.write_text("** events only\nMSG\t10 hello\n")
    with pytest.raises(btfm.Error, match="no samples"):
        btfm.open(str(path))


def test_sync_recovers_offset_and_drift_from_sample_quantized_triggers(tmp_path):
    """The EEG logs each trigger at its sample (256 Hz, so up to 2 ms late) and the
    tracker in whole milliseconds; 40 triggers over 10 minutes give the simulated clock
    line back within what that quantization allows."""
    rng = np.random.default_rng(7)
    start, n = 50_000, 600_000
    t_ms = np.sort(rng.choice(np.arange(1000, n - 1000, 7), 40, replace=False))
    codes = rng.integers(1, 6, t_ms.size)
    path = str(tmp_path / "long.asc")
    samples = np.zeros((n // 100, 3))  # 10 Hz samples suffice for the clock
    write_asc(path, [(start, samples)], 10.0,
              messages=[(start + int(t) // 100 * 100, "TRIGGER %d" % c)
                        for t, c in zip(t_ms, codes)])
    t_eye = (t_ms // 100 * 100) / 1000.0
    offset, drift, sfreq = -12.3456, -85e-6, 256.0
    eeg = btfm.from_array(np.zeros((int(700 * sfreq), 1), np.float32), sfreq)
    for t, c in zip(t_eye, codes):
        eeg.add_event(np.ceil((offset + 20 + (1 + drift) * t) * sfreq) / sfreq - 20,
                      label=str(c), type="trigger", code=int(c))
    with btfm.open(path) as eye:
        sync = eye.sync(eeg)
    assert sync.n_pairs == 40
    # a uniform 0-3.9 ms quantization: the mean shift is 2 ms, the scatter 1.1 ms
    assert abs(sync.offset - (offset + 1 / sfreq / 2)) < 1e-3
    assert abs(sync.drift - drift) < 1e-5
    assert 0.5e-3 < sync.rms < 2e-3
    eeg.close()


def line_fit(x, y):
    """Least-squares offset and drift of y = offset + (1 + drift) x, and the rms."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    offset = y.mean() - slope * x.mean()
    return offset, slope - 1, np.sqrt(np.mean((y - offset - slope * x) ** 2))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_sync_pairs_triggers_that_one_side_missed_or_added(tmp_path, seed):
    """60 triggers over 10 minutes drawn on one clock line; the tracker missed some, the
    EEG others, each logged stray triggers (one of them 20 ms from a trigger the other
    side missed, with its code), the EEG started late and the tracker stopped early. The
    pairs are the surviving true ones: the fit equals the least-squares line through
    exactly those, which is close to the simulated line."""
    rng = np.random.default_rng(seed)
    start, n_ms = 50_000, 600_000
    t_ms = np.sort(rng.choice(np.arange(2000, n_ms - 2000, 13), 60, replace=False))
    codes = rng.integers(1, 5, t_ms.size)
    offset, drift, sfreq = 4.321, 63e-6, 500.0
    t_eye = t_ms / 1000.0
    t_eeg = np.ceil((offset + (1 + drift) * t_eye) * sfreq) / sfreq
    order = rng.permutation(np.arange(5, 55))
    eye_missed, eeg_missed = set(order[:3]), set(order[3:6])
    eeg_missed |= {0, 1, 2}        # the EEG started after the first three
    eye_missed |= {57, 58, 59}     # the tracker stopped before the last three
    eye_msgs = [(start + int(t), "TRIGGER %d" % c)
                for k, (t, c) in enumerate(zip(t_ms, codes)) if k not in eye_missed]
    stray_ms = rng.choice(np.arange(1000, n_ms - 1000), 4, replace=False)
    eye_msgs += [(start + int(t), "TRIGGER %d" % rng.integers(1, 5)) for t in stray_ms]
    trap = min(eye_missed - {57, 58, 59})  # the EEG has it: a stray one 25 ms off here
    eye_msgs.append((start + int(t_ms[trap]) + 25, "TRIGGER %d" % codes[trap]))
    path = str(tmp_path / "drops.asc")
    write_asc(path, [(start, np.zeros((n_ms // 100, 3)))], 10.0, messages=sorted(eye_msgs))
    eeg = btfm.from_array(np.zeros((int(620 * sfreq), 1), np.float32), sfreq)
    events = [(t_eeg[k], int(codes[k])) for k in range(t_ms.size) if k not in eeg_missed]
    events += [(rng.uniform(5, 600), int(rng.integers(1, 5))) for _ in range(4)]
    k = min(eeg_missed - {0, 1, 2})        # the tracker has it: a stray EEG one 20 ms off
    events.append((t_eeg[k] + 0.020, int(codes[k])))
    for onset, code in sorted(events):
        eeg.add_event(onset, label=str(code), type="trigger", code=code)
    both = [k for k in range(t_ms.size) if k not in eye_missed and k not in eeg_missed]
    want = line_fit(t_eye[both], t_eeg[both])
    with btfm.open(path) as eye:
        sync = eye.sync(eeg)
    eeg.close()
    assert sync.n_pairs == len(both)
    np.testing.assert_allclose([sync.offset, sync.drift, sync.rms], want, rtol=0, atol=1e-9)
    assert abs(sync.offset - (offset + 1 / sfreq / 2)) < 1e-3
    assert abs(sync.drift - drift) < 1e-5


def test_fixations_become_eeg_segment_onsets(tmp_path):
    """Fixations on words, synced to the EEG by trigger messages and imported there:
    their onsets are the simulated clock line applied to the tracker's times, and epochs,
    label selection and reward features are cut at them."""
    rate, n, start = 500.0, 5000, 100_000
    fix = [(1000 + 400 * k, 1000 + 400 * k + 220) for k in range(8)]  # ms after start
    events = [("EFIX", "L", start + s, start + e, "\t 512.3\t 384.1\t 1021") for s, e in fix]
    trig_ms = [200, 3000, 6000, 9000]
    path = str(tmp_path / "read.asc")
    write_asc(path, [(start, gaze(n, 3, 8))], rate, events=events,
              messages=[(start + t, "TRIGGER %d" % (k + 1)) for k, t in enumerate(trig_ms)])
    sfreq, offset, slope = 250.0, 2.0, 1 + 100e-6
    rng = np.random.default_rng(9)
    data = rng.standard_normal((int(15 * sfreq), 4)).astype(np.float32)
    eeg = btfm.from_array(data, sfreq)
    for channel in eeg.channels:
        channel.type = "eeg"
    for k, t in enumerate(trig_ms):
        eeg.add_event(offset + slope * t / 1000.0, label=str(k + 1), type="trigger", code=k + 1)
    with btfm.open(path) as eye:
        sync = eye.sync(eeg)
        assert eeg.import_events(eye, "fixation", sync) == len(fix)
        with pytest.raises(btfm.Error, match="drift above -1"):
            eeg.import_events(eye, "fixation", btfm.Sync(0.0, -2.0, 0.0, 2))
    fixations = [e for e in eeg.events if e.type == "fixation"]
    want = [offset + slope * s / 1000.0 for s, _ in fix]
    np.testing.assert_allclose([e.onset for e in fixations], want, atol=1e-9)
    np.testing.assert_allclose([e.duration for e in fixations],
                               [slope * (e - s) / 1000.0 for s, e in fix], atol=1e-9)
    picked = eeg.select_events("fixation")
    assert [eeg.events[i].onset for i in picked] == [e.onset for e in fixations]
    plan = btfm.signal.EpochsPlan(tmin=0.0, tmax=0.2, baseline=None)
    ep = plan.run_dataset(eeg, label="fixation")
    first = [int(round(t * sfreq)) for t in want]
    expected = np.stack([data[s:s + ep[0].shape[1]] for s in first])
    np.testing.assert_array_equal(ep[0], expected)
    fb = btfm.RewardFeatures(event="fixation", onset_event=None).compute(eeg)
    assert fb.shape[0] == len(fix)
    assert list(fb.events) == picked
    eeg.close()


def doc_block(heading):
    """The ```python block of doc/formats.md's section `heading`."""
    root = pathlib.Path(__file__).resolve().parents[2]
    text = (root / "doc" / "formats.md").read_text(encoding="utf-8")
    section = text.split("\n## " + heading, 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_examples_of_doc_formats_run(tmp_path, monkeypatch):
    """The EEGLAB and EyeLink examples, on a .set (scipy.io.savemat) whose numeric event
    types are the triggers the .asc logged, with fixations between them."""
    import scipy.io
    sfreq, n_times, offset = 500.0, 12000, 1.5
    trig_ms = [1000, 6000, 11000, 16000]
    rows = [(float(k + 1), 1 + (offset + t / 1000) * sfreq, 0.0) for k, t in enumerate(trig_ms)]
    rows += [("target", 1 + 3.0 * sfreq, 0.0)]
    ev = np.zeros((1, len(rows)), dtype=[("type", "O"), ("latency", "O"), ("duration", "O")])
    for i, row in enumerate(rows):
        ev[0, i] = row
    locs = np.zeros((1, 4), dtype=[("labels", "O"), ("type", "O")])
    for i, name in enumerate(["Fp1", "Fp2", "Cz", "Pz"]):
        locs[0, i] = (name, "EEG")
    data = np.random.default_rng(5).standard_normal((4, n_times)) * 10
    scipy.io.savemat(str(tmp_path / "sub-01_task-read_eeg.set"), {"EEG": {
        "srate": sfreq, "nbchan": 4.0, "pnts": float(n_times), "trials": 1.0, "data": data,
        "chanlocs": locs, "event": ev}}, format="5")
    start = 40_000
    fix = [("EFIX", "L", start + s, start + s + 200, "\t 1.0\t 2.0\t 900")
           for s in range(2000, 17000, 1500)]
    write_asc(str(tmp_path / "sub-01_task-read_eyetrack.asc"), [(start, gaze(18000, 3, 6))],
              1000.0, events=fix,
              messages=[(start + t, "TRIGGER %d" % (k + 1)) for k, t in enumerate(trig_ms)])
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(doc_block("EEGLAB"), scope)
    assert scope["x"].shape == (n_times, 4) and len(scope["targets"]) == 1
    exec(doc_block("EyeLink"), scope)
    assert abs(scope["sync"].offset - offset) < 1e-9 and scope["sync"].n_pairs == 4
    assert scope["epochs"].data.shape[0] == len(fix)
    assert scope["features"].shape[0] == len(fix)


def rich_asc(path):
    """A binocular HREF export with velocity, resolution and input-port columns, event
    start lines, button and input lines, comments, corneal-reflection flags, missing
    values in every column kind, and a second block after a pause."""
    rng = np.random.default_rng(14)
    lines = ["** CONVERTED FROM rich.edf using edfapi 4.2", "** EYELINK 1000 PLUS", "**",
             "MSG\t4990 !CAL validation GOOD", "INPUT\t4995\t0",
             "START\t5000 \tLEFT\tRIGHT\tSAMPLES\tEVENTS", "PRESCALER\t1", "VPRESCALER\t1",
             "PUPIL\tDIAMETER",
             "EVENTS\tHREF\tLEFT\tRIGHT\tRATE\t 250.00\tTRACKING\tCR\tFILTER\t2\tINPUT",
             "SAMPLES\tHREF\tLEFT\tRIGHT\tVEL\tRES\tRATE\t 250.00\tTRACKING\tCR\tFILTER\t2"
             "\tINPUT"]

    def sample(t, k):
        v = np.round(rng.uniform(-2000, 2000, 13), 1)
        cells = ["%.1f" % x for x in v[:12]] + ["%d" % (k % 256)]
        if k % 17 == 3:  # the left eye lost: its position, pupil and velocity
            for i in (0, 1, 2, 6, 7):
                cells[i] = "."
        flags = "C.R.." if k % 11 == 5 else "....."
        return "%d\t%s\t%s" % (t, "\t".join(cells), flags)

    for k in range(60):
        t = 5000 + 4 * k
        lines.append(sample(t, k))
        if k == 10:
            lines += ["SFIX L   5040", "SSACC R  5040"]
        if k == 20:
            lines += ["EFIX L   5040\t5080\t44\t  -12.5\t  40.1\t  1021",
                      "ESACC R  5040\t5076\t40\t  10.0\t  20.0\t  300.0\t  -50.0\t   4.1\t  210",
                      "BUTTON\t5080\t1\t1", "MSG\t5080 TRIGGER 12",
                      "# a comment the exporter may add", "INPUT\t5080\t12"]
        if k == 30:
            lines += ["SBLINK R 5120", "MSG\t5120 sentence 4 start"]
        if k == 40:
            lines.append("EBLINK R 5120\t5160\t44")
    lines.append("END\t5240 \tSAMPLES\tEVENTS\tRES\t 38.54\t 31.12")
    lines += ["MSG\t5600 between blocks", "START\t6000 \tLEFT\tRIGHT\tSAMPLES\tEVENTS",
              "SAMPLES\tHREF\tLEFT\tRIGHT\tVEL\tRES\tRATE\t 250.00\tTRACKING\tCR\tFILTER\t2"
              "\tINPUT"]
    for k in range(25):
        lines.append(sample(6000 + 4 * k, 100 + k))
    lines.append("END\t6100 \tSAMPLES\tEVENTS\tRES\t 38.54\t 31.12")
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")


def spec_files(tmp_path):
    mono = str(tmp_path / "mono.asc")
    start = 1000
    samples = gaze(300, 3, 15)
    samples[40:60] = np.nan
    write_asc(mono, [(start, samples)], 500.0,
              events=[("EFIX", "L", start + 10, start + 70, "\t 1.0\t 2.0\t 900"),
                      ("EBLINK", "L", start + 80, start + 120, ""),
                      ("ESACC", "L", start + 122, start + 140, "\t 1\t 2\t 3\t 4\t 5\t 6")],
              messages=[(start + 200, "TRIALID 7"), (start + 400, "TRIGGER 250")])
    bino = str(tmp_path / "bino.asc")
    write_asc(bino, [(700, gaze(200, 6, 16)), (900, gaze(150, 6, 17))], 2000.0,
              eyes=("LEFT", "RIGHT"), events=[("EFIX", "R", 720, 760, "\t 1\t 2\t 3")])
    rich = str(tmp_path / "rich.asc")
    rich_asc(rich)
    return [mono, bino, rich]


def test_agrees_with_an_independent_reading_of_the_format(tmp_path):
    """ascspec.py reads the same files from SR Research's description of the format
    (Debian's MNE has no EyeLink reader to compare with): channels, every sample (NaN
    where missing and between blocks), and every event and message."""
    from ascspec import read_asc
    for path in spec_files(tmp_path):
        want = read_asc(path)
        with btfm.open(path) as ds:
            assert ds.sfreq == want.sfreq, path
            assert ds.ch_names == want.ch_names, path
            assert [c.type for c in ds.channels] == want.ch_types, path
            n_eye = len(want.units)
            assert [c.unit for c in ds.channels][:n_eye] == want.units, path
            np.testing.assert_array_equal(ds.data, np.array(want.data(), np.float32),
                                          err_msg=path)
            got = sorted((e.type, e.label, round(e.onset, 9), round(e.duration, 9), e.code)
                         for e in ds.events)
            expected = sorted((t, lab, round(o, 9), round(d, 9), c)
                              for t, lab, o, d, c in want.events)
            assert got == expected, path
