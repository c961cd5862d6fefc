"""EEGLAB .set/.fdt files written here by scipy.io.savemat (MAT-file level 5) and numpy,
read by libbtfm and by MNE's read_raw_eeglab / read_epochs_eeglab: samples, channel
names, types and positions (MNE's head frame), events against MNE's annotations."""

import os

import mne
import numpy as np
import pytest
import scipy.io

import btfm

SRATE = 250.0
LABELS = ["Fz", "Cz", "Pz", "VEOG", "ECG1"]
TYPES = ["EEG", "eeg", " EEG ", "EOG", "ecg"]
XYZ_MM = [(60.7, 0.0, 59.5), (0.0, 0.0, 85.0), (-60.7, 0.0, 59.5), (80.0, 30.0, -10.0),
          (None, None, None)]


def chanlocs(labels=LABELS, types=TYPES, xyz=XYZ_MM):
    dtype = [("labels", "O"), ("type", "O"), ("X", "O"), ("Y", "O"), ("Z", "O")]
    locs = np.zeros((1, len(labels)), dtype=dtype)
    for i, name in enumerate(labels):
        x, y, z = xyz[i]
        empty = np.zeros((0, 0))
        locs[0, i] = (name, types[i], empty if x is None else x, empty if y is None else y,
                      empty if z is None else z)
    return locs


def events(rows):
    dtype = [("type", "O"), ("latency", "O"), ("duration", "O")]
    ev = np.zeros((1, len(rows)), dtype=dtype)
    for i, row in enumerate(rows):
        ev[0, i] = row
    return ev


EVENTS = [("stim", 1.0, 0.0), ("resp", 137.5, 25.0), (7.0, 600.0, 0.0),
          ("boundary", 901.0, np.zeros((0, 0))), ("late", 1100.0, 2.0)]


def eeg_struct(n_times, data, trials=1, event_rows=EVENTS):
    return {"setname": "test", "srate": SRATE, "nbchan": float(len(LABELS)),
            "pnts": float(n_times), "trials": float(trials), "xmin": 0.0 if trials == 1 else -0.2,
            "data": data, "chanlocs": chanlocs(), "event": events(event_rows)}


@pytest.fixture()
def fdt_file(tmp_path):
    """Continuous, samples in a .fdt; an odd channel count and a prime length."""
    n_times = 1237
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((len(LABELS), n_times)) * 20).astype("<f4")
    data.T.tofile(str(tmp_path / "rec.fdt"))  # channel fastest
    path = str(tmp_path / "rec.set")
    scipy.io.savemat(path, {"EEG": eeg_struct(n_times, "rec.fdt")}, format="5")
    return path, data


def compare_with_mne(ds, raw):
    np.testing.assert_allclose(ds.data, raw.get_data().T, rtol=1e-6, atol=1e-12)
    assert ds.sfreq == raw.info["sfreq"]
    assert [c.name for c in ds.channels] == raw.ch_names
    assert [c.type for c in ds.channels] == raw.get_channel_types()
    # MNE drops annotations past the recording's end; libbtfm keeps events as written
    end = ds.n_times / ds.sfreq
    got = [(e.onset, e.duration, e.label) for e in ds.events if e.type == "event"
           and e.onset < end]
    want = [(o, 0.0 if np.isnan(d) else d, t) for o, d, t in
            zip(raw.annotations.onset, raw.annotations.duration, raw.annotations.description)]
    assert len(got) == len(want)
    for (o1, d1, l1), (o2, d2, l2) in zip(got, want):
        assert o1 == pytest.approx(o2, abs=1e-12) and d1 == pytest.approx(d2, abs=1e-12)
        assert l1 == l2 or float(l1) == float(l2)  # MNE prints 7.0, libbtfm 7


def test_fdt_file_matches_mne(fdt_file):
    path, data = fdt_file
    raw = mne.io.read_raw_eeglab(path, preload=True, verbose="error")
    with btfm.open(path) as ds:
        compare_with_mne(ds, raw)
        np.testing.assert_allclose(ds.data, data.T.astype(np.float64) * 1e-6, rtol=1e-7)
        # positions: MNE's montage in its head frame (from mm, x to the nose)
        assert ds.coordinate_frame == "head"
        mne_pos = np.array([raw.info["chs"][i]["loc"][:3] for i in range(len(LABELS))])
        # (MNE sets the positions of EEG channels only; the EOG's follows the same rule)
        np.testing.assert_allclose(ds.positions[:3], mne_pos[:3], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ds.positions[3], [-0.03, 0.08, -0.01], rtol=1e-12)
        assert np.isnan(ds.positions[4]).all()
        # the numeric event type gives its code
        assert [e.code for e in ds.events if e.label == "7"] == [7]


def test_samples_inside_the_set_as_bare_compressed_fields(tmp_path):
    n_times = 512
    rng = np.random.default_rng(2)
    data = rng.standard_normal((len(LABELS), n_times)) * 50
    path = str(tmp_path / "inline.set")
    scipy.io.savemat(path, eeg_struct(n_times, data), format="5", do_compression=True)
    raw = mne.io.read_raw_eeglab(path, preload=True, verbose="error")
    with btfm.open(path) as ds:
        compare_with_mne(ds, raw)
        # the dataset holds float32: two roundings (the µV value, then the scaling to V)
        np.testing.assert_allclose(ds.data, data.T * 1e-6, rtol=2.5e-7)
        late = [(e.onset, e.label) for e in ds.events if e.onset >= n_times / SRATE]
        assert late == [(599 / SRATE, "7"), (900 / SRATE, "boundary"), (1099 / SRATE, "late")]


def test_epochs_match_read_epochs_eeglab(tmp_path):
    n_times, trials = 101, 3
    rng = np.random.default_rng(3)
    data = rng.standard_normal((len(LABELS), n_times, trials)).astype("<f4")
    # epoched: each epoch's time-locking event, latency in the concatenated samples
    rows = [("target" if k % 2 else "standard", 1.0 + k * n_times + 50, 0.0) for k in range(trials)]
    eeg = eeg_struct(n_times, "ep.fdt", trials=trials, event_rows=rows)
    epoch = np.zeros((1, trials), dtype=[("event", "O"), ("eventtype", "O")])
    for k in range(trials):
        epoch[0, k] = (float(k + 1), rows[k][0])
    eeg["epoch"] = epoch
    eeg["xmax"] = eeg["xmin"] + (n_times - 1) / SRATE
    data.reshape(len(LABELS), n_times * trials, order="F").T.tofile(str(tmp_path / "ep.fdt"))
    path = str(tmp_path / "ep.set")
    scipy.io.savemat(path, {"EEG": eeg}, format="5")
    epochs = mne.read_epochs_eeglab(path, verbose="error")
    with btfm.open(path) as ds:
        got = ds.data.reshape(trials, n_times, len(LABELS))
        np.testing.assert_allclose(got, epochs.get_data().transpose(0, 2, 1), rtol=1e-6,
                                   atol=1e-12)
        starts = [e.onset for e in ds.events if e.type == "epoch"]
        np.testing.assert_allclose(starts, np.arange(trials) * n_times / SRATE)
        assert [e.label for e in ds.events if e.type == "event"] == [r[0] for r in rows]


def test_errors_name_the_file_and_the_field(tmp_path, fdt_file):
    path, _ = fdt_file
    fdt = path[:-4] + ".fdt"
    with open(fdt, "r+b") as f:
        f.truncate(100)
    with pytest.raises(btfm.Error, match=r"rec\.fdt.*100 bytes"):
        btfm.open(path)
    broken = str(tmp_path / "nosrate.set")
    eeg = eeg_struct(10, np.zeros((len(LABELS), 10)))
    del eeg["srate"]
    scipy.io.savemat(broken, {"EEG": eeg}, format="5")
    with pytest.raises(btfm.Error, match=r"nosrate\.set: EEG\.srate is missing"):
        btfm.open(broken)
    v73 = str(tmp_path / "v73.set")
    with open(v73, "wb") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(512, b" "))
    with pytest.raises(btfm.Error, match="v7.3"):
        btfm.open(v73)
    cut = str(tmp_path / "cut.set")
    with open(broken, "rb") as f:
        head = f.read(300)
    with open(cut, "wb") as f:
        f.write(head)
    with pytest.raises(btfm.Error, match=r"cut\.set: byte \d+"):
        btfm.open(cut)


def test_integer_fields_and_single_samples_match_mne(tmp_path):
    """EEGLAB saves counts as doubles, other writers as integers, and samples as single:
    the same recording either way."""
    n_times = 97
    rng = np.random.default_rng(4)
    data = (rng.standard_normal((len(LABELS), n_times)) * 30).astype(np.float32)
    eeg = eeg_struct(n_times, data, event_rows=[("go", np.int32(5), np.uint8(3)),
                                                (np.int16(12), 40.0, 0.0)])
    eeg.update(srate=np.int32(250), nbchan=np.uint8(len(LABELS)), pnts=np.int16(n_times),
               trials=np.int64(1))
    path = str(tmp_path / "ints.set")
    scipy.io.savemat(path, {"EEG": eeg}, format="5", do_compression=True)
    raw = mne.io.read_raw_eeglab(path, preload=True, verbose="error")
    with btfm.open(path) as ds:
        compare_with_mne(ds, raw)
        # single samples scaled in double, rounded once
        np.testing.assert_array_equal(ds.data, (data.T.astype(np.float64) * 1e-6).astype(np.float32))
        assert [(e.label, e.code) for e in ds.events] == [("go", 0), ("12", 12)]
