"""Interop: EDF+/BDF+ files written by EDFlib (an implementation independent of libbtfm)
read by libbtfm and compared with EDFlib's own read-back and with MNE's readers; EDF+D
files written from the specification (edfspec.py; EDFlib refuses EDF+D) compared with
what was written; round trips through libbtfm's writer compared at the digital level
with EDFlib's read-back. Environment: EDFLIB_WRITER, EDFLIB_READER (the helper
programs), BTFM_LIBRARY and PYTHONPATH (the btfm package)."""

import json
import os
import subprocess
import sys

import mne
import numpy as np
import pytest
import scipy.signal

import btfm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import edfspec  # noqa: E402

mne.set_log_level("ERROR")
UNIT = {"uV": 1e-6, "mV": 1e-3, "V": 1.0}


def write_with_edflib(kind, path):
    """Write a fixture with EDFlib; returns the ground truth it printed."""
    out = subprocess.run([os.environ["EDFLIB_WRITER"], kind, str(path)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def read_with_edflib(path, tmp):
    """EDFlib's read-back: header dict, per-signal digital and physical arrays."""
    prefix = str(tmp / (os.path.basename(str(path)) + ".sig"))
    out = subprocess.run([os.environ["EDFLIB_READER"], str(path), prefix], check=True,
                         capture_output=True, text=True).stdout
    header = json.loads(out)
    for i, s in enumerate(header["signals"]):
        s["label"] = s["label"].rstrip()
        s["dim"] = s["dim"].rstrip()
        s["digital"] = np.fromfile(f"{prefix}{i}.dig", dtype=np.int32)
        s["physical"] = np.fromfile(f"{prefix}{i}.phys", dtype=np.float64)
        s["step"] = (s["pmax"] - s["pmin"]) / (s["dmax"] - s["dmin"]) * UNIT.get(s["dim"], 1.0)
    return header


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interop")
    made = {}
    for kind, ext in (("edfplus", "edf"), ("bdfplus", "bdf"), ("mixed", "edf")):
        path = tmp / f"{kind}.{ext}"
        truth = write_with_edflib(kind, path)
        made[kind] = (path, truth, read_with_edflib(path, tmp))
    made["tmp"] = tmp
    return made


def annotations(ds):
    return [e for e in ds.events if e.type == "annotation"]


def assert_same_samples(ds, ref, skip=()):
    """Every channel of `ds` against EDFlib's physical values, within one quantization
    step (values in SI units, ours float32)."""
    signals = [s for s in ref["signals"] if s["label"] not in skip]
    names = [s["label"] for s in signals]
    assert [n for n in ds.ch_names if n not in skip] == names
    for s in signals:
        ours = ds.read_native(s["label"]).astype(np.float64)
        want = s["physical"] * UNIT.get(s["dim"], 1.0)
        assert ours.shape == want.shape
        worst = np.max(np.abs(ours - want) - within_step(s["step"], want))
        assert worst <= 0, f"{s['label']}: off by {worst} beyond a step {s['step']}"


@pytest.mark.parametrize("kind", ["edfplus", "bdfplus"])
def test_header_values_and_annotations_match_edflib(files, kind):
    path, truth, ref = files[kind]
    with btfm.open(path) as ds:
        assert ds.format == ("bdf" if kind == "bdfplus" else "edf")
        rate = ref["signals"][0]["spr"] * 1e7 / ref["record_duration"]
        assert ds.sfreq == rate
        assert ds.n_times == ref["signals"][0]["n"]
        assert [c.rate for c in ds.channels] == \
            [s["spr"] * 1e7 / ref["record_duration"] for s in ref["signals"]]
        assert [c.unit for c in ds.channels] == \
            ["V" if s["dim"] in UNIT else s["dim"] for s in ref["signals"]]
        assert_same_samples(ds, ref)
        ours = annotations(ds)
        assert [e.label.encode("utf-8") for e in ours] == \
            [a[2].encode("utf-8") for a in ref["annotations"]]
        for e, (onset, duration, _), (t_onset, t_duration, _) in \
                zip(ours, ref["annotations"], truth["annotations"]):
            assert abs(e.onset - onset / 1e7) <= 1e-7
            assert abs(e.onset - t_onset / 1e4) <= 1e-7
            assert abs(e.duration - (max(t_duration, 0) / 1e4)) <= 1e-7
        assert ds.start_time.isoformat() == "2020-07-14T09:30:15+00:00"


@pytest.mark.parametrize("kind", ["edfplus", "bdfplus"])
def test_data_annotations_and_date_match_mne(files, kind):
    path, _, _ = files[kind]
    reader = mne.io.read_raw_bdf if kind == "bdfplus" else mne.io.read_raw_edf
    raw = reader(str(path), preload=True)
    with btfm.open(path) as ds:
        picks = [n for n in ds.ch_names if n != "Status"]
        assert [n for n in raw.ch_names if n != "Status"] == picks
        ours = ds.read(0, ds.n_times, picks=picks).astype(np.float64)
        theirs = raw.get_data(picks=picks).T
        steps = np.array([ref_step(files[kind][2], n) for n in picks])
        assert np.all(np.abs(ours - theirs) <= within_step(steps, theirs))
        assert np.allclose(raw.annotations.onset, [e.onset for e in annotations(ds)],
                           rtol=0, atol=1e-7)
        assert list(raw.annotations.description) == [e.label for e in annotations(ds)]
        assert raw.info["meas_date"] == ds.start_time


def within_step(step, values):
    """One quantization step, or two float32 spacings at the value where a 24-bit step is
    finer than float32 resolves: the output is float32 and the scaling is done in float32
    arithmetic (rounded gain, product and sum), so about one spacing of error is the
    most that can be asked of it."""
    spacing = np.spacing(np.abs(values).astype(np.float32)).astype(np.float64)
    return np.maximum(step, 2 * spacing)


def ref_step(ref, name):
    return next(s["step"] for s in ref["signals"] if s["label"] == name)


def test_bdf_status_channel_gives_the_triggers_written(files):
    path, truth, _ = files["bdfplus"]
    with btfm.open(path) as ds:
        assert ds.channel("Status").type == "stim"
        got = [(round(e.onset * 512), round(e.duration * 512), e.code, e.label)
               for e in ds.events if e.type == "trigger"]
    assert got == [(first, length, value, str(value)) for value, first, length in
                   truth["triggers"]]


def test_mixed_rates_native_and_resampled(files):
    path, _, ref = files["mixed"]
    with btfm.open(path) as ds:
        assert ds.sfreq == 256.0 and ds.n_times == 8 * 256
        assert [(c.name, c.rate, c.n_samples) for c in ds.channels] == \
            [(s["label"], float(s["spr"]), s["n"]) for s in ref["signals"]]
        assert_same_samples(ds, ref)
        for s in ref["signals"][1:]:
            native = s["physical"] * UNIT.get(s["dim"], 1.0)
            want = scipy.signal.resample_poly(native, 256 // s["spr"], 1)
            ours = ds.read(0, ds.n_times, picks=[s["label"]])[:, 0].astype(np.float64)
            assert ours.shape == want.shape
            scale = np.max(np.abs(native))
            assert np.max(np.abs(ours - want)) <= 1e-6 * scale, s["label"]
            # A window needs only the samples around it, and gives the same values.
            window = ds.read(1000, 1100, picks=[s["label"]])[:, 0]
            np.testing.assert_array_equal(window, ours[1000:1100].astype(np.float32))
        raw = mne.io.read_raw_edf(str(path), preload=True)
        # MNE upsamples too; only the full-rate channel is compared sample by sample
        # (MNE's resampling of the others uses another filter).
        np.testing.assert_allclose(ds.read(0, ds.n_times, picks=[0])[:, 0],
                                   raw.get_data(picks=[0])[0], rtol=0,
                                   atol=ref["signals"][0]["step"])


@pytest.mark.parametrize("kind", ["edfplus", "bdfplus", "mixed"])
def test_round_trip_through_our_writer_is_exact_for_edflib(files, kind):
    path, _, ref = files[kind]
    tmp = files["tmp"]
    copy = tmp / ("copy-" + os.path.basename(str(path)))
    with btfm.open(path) as ds:
        ds.save(copy)
    back = read_with_edflib(copy, tmp)
    assert [s["label"] for s in back["signals"]] == [s["label"] for s in ref["signals"]]
    for a, b in zip(ref["signals"], back["signals"]):
        np.testing.assert_array_equal(b["digital"], a["digital"])
        assert (b["dmin"], b["dmax"], b["spr"]) == (a["dmin"], a["dmax"], a["spr"])
        assert abs(b["pmin"] - a["pmin"]) <= 1e-9 * abs(a["pmax"] - a["pmin"])
        assert abs(b["pmax"] - a["pmax"]) <= 1e-9 * abs(a["pmax"] - a["pmin"])
    assert [(o, t) for o, _, t in back["annotations"]] == \
        [(o, t) for o, _, t in ref["annotations"]]


# ---- EDF+D, written from the specification ----

RECORD_ONSETS = [0.0, 1.0, 2.0, 4.5, 5.5, 9.0]
EDFD_SPR = 16


@pytest.fixture(scope="module")
def edf_d(tmp_path_factory):
    rng = np.random.default_rng(11)
    n = EDFD_SPR * len(RECORD_ONSETS)
    signals = [{"label": "EEG O1", "dim": "uV", "pmin": -200, "pmax": 200, "dmin": -32768,
                "dmax": 32767, "spr": EDFD_SPR, "digital": rng.integers(-32768, 32768, n)},
               {"label": "EEG O2", "dim": "uV", "pmin": -200, "pmax": 200, "dmin": -32768,
                "dmax": 32767, "spr": EDFD_SPR, "digital": rng.integers(-32768, 32768, n)}]
    path = tmp_path_factory.mktemp("edfd") / "discontinuous.edf"
    edfspec.write(path, signals, len(RECORD_ONSETS), plus="D", record_onsets=RECORD_ONSETS,
                  annotations=[(4.75, None, "probe"), (9.5, 0.25, "réponse")])
    return path, signals


def test_edf_d_records_and_gaps_are_the_ones_written(edf_d):
    path, signals = edf_d
    with btfm.open(path) as ds:
        assert ds.records == [btfm.Record(onset, r * EDFD_SPR)
                              for r, onset in enumerate(RECORD_ONSETS)]
        gaps = [(e.onset, e.duration) for e in ds.events if e.type == "gap"]
        want = [(RECORD_ONSETS[r] + 1.0, RECORD_ONSETS[r + 1] - RECORD_ONSETS[r] - 1.0)
                for r in range(len(RECORD_ONSETS) - 1)
                if RECORD_ONSETS[r + 1] > RECORD_ONSETS[r] + 1.0]
        assert len(gaps) == len(want)
        for (onset, duration), (w_onset, w_duration) in zip(gaps, want):
            assert abs(onset - w_onset) <= 1e-7 and abs(duration - w_duration) <= 1e-7
        assert [(e.onset, e.label) for e in annotations(ds)] == \
            [(4.75, "probe"), (9.5, "réponse")]
        ours = ds.data.astype(np.float64)
    truth = np.stack([edfspec.physical(s) * 1e-6 for s in signals], axis=1)
    step = 400 / 65535 * 1e-6
    assert np.max(np.abs(ours - truth)) <= step
    # MNE reads EDF+D as if continuous: the samples must still agree.
    raw = mne.io.read_raw_edf(str(path), preload=True)
    assert np.max(np.abs(raw.get_data(picks=["EEG O1", "EEG O2"]).T - ours)) <= step
