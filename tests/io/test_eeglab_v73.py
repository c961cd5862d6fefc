"""EEGLAB .set files saved as MATLAB v7.3 (HDF5), written by h5py in MATLAB's layout
(mat73spec.py). Debian's MNE 1.3 reads .set files through scipy.io.loadmat, which cannot
read v7.3, so each recording is also written as MAT level 5 by scipy.io.savemat: MNE's
read_raw_eeglab / read_epochs_eeglab on that twin is the truth the v7.3 file is read
against, and both versions must give libbtfm the same recording."""

import h5py
import mne
import numpy as np
import pytest
import scipy.io

import btfm
from mat73spec import savemat73
from test_eeglab_mne import LABELS, SRATE, compare_with_mne, eeg_struct


def both(tmp_path, stem, variables):
    v5, v73 = str(tmp_path / (stem + "_v5.set")), str(tmp_path / (stem + ".set"))
    scipy.io.savemat(v5, variables, format="5")
    savemat73(v73, variables)
    return v5, v73


def same_recording(a, b):
    np.testing.assert_array_equal(a.data, b.data)
    assert a.sfreq == b.sfreq and a.ch_names == b.ch_names
    assert [c.type for c in a.channels] == [c.type for c in b.channels]
    np.testing.assert_array_equal(a.positions, b.positions)
    assert [(e.onset, e.duration, e.type, e.label, e.code) for e in a.events] == \
        [(e.onset, e.duration, e.type, e.label, e.code) for e in b.events]


def test_struct_with_single_samples_inside_matches_mne(tmp_path):
    n_times = 613  # prime
    rng = np.random.default_rng(11)
    data = (rng.standard_normal((len(LABELS), n_times)) * 25).astype(np.float32)
    v5, v73 = both(tmp_path, "inline", {"EEG": eeg_struct(n_times, data)})
    with open(v73, "rb") as f:
        assert f.read(19) == b"MATLAB 7.3 MAT-file"
    raw = mne.io.read_raw_eeglab(v5, preload=True, verbose="error")
    with btfm.open(v73) as ds, btfm.open(v5) as twin:
        assert ds.format == "eeglab"
        compare_with_mne(ds, raw)
        mne_pos = np.array([raw.info["chs"][i]["loc"][:3] for i in range(3)])
        np.testing.assert_allclose(ds.positions[:3], mne_pos, rtol=1e-12, atol=1e-15)
        assert np.isnan(ds.positions[4]).all()  # empty X, Y, Z: MATLAB_empty datasets
        assert [e.code for e in ds.events if e.label == "7"] == [7]
        same_recording(ds, twin)


def test_bare_fields_with_an_fdt_match_mne(tmp_path):
    """pop_saveset's other layout: the fields as variables, samples in a .fdt."""
    n_times = 1000
    rng = np.random.default_rng(12)
    data = (rng.standard_normal((len(LABELS), n_times)) * 10).astype("<f4")
    data.T.tofile(str(tmp_path / "bare.fdt"))
    eeg = eeg_struct(n_times, "bare.fdt")
    v5, v73 = both(tmp_path, "bare", eeg)
    with h5py.File(v73, "r") as f:
        assert "EEG" not in f and f["srate"].attrs["MATLAB_class"] == b"double"
        assert f["data"].attrs["MATLAB_class"] == b"char"
    raw = mne.io.read_raw_eeglab(v5, preload=True, verbose="error")
    with btfm.open(v73) as ds, btfm.open(v5) as twin:
        compare_with_mne(ds, raw)
        same_recording(ds, twin)


def test_epochs_match_read_epochs_eeglab(tmp_path):
    n_times, trials = 64, 3
    rng = np.random.default_rng(13)
    data = rng.standard_normal((len(LABELS), n_times, trials))  # double, 3-D, in the .set
    rows = [("target" if k % 2 else "standard", 1.0 + k * n_times + 20, 0.0)
            for k in range(trials)]
    eeg = eeg_struct(n_times, data, trials=trials, event_rows=rows)
    epoch = np.zeros((1, trials), dtype=[("event", "O"), ("eventtype", "O")])
    for k in range(trials):
        epoch[0, k] = (float(k + 1), rows[k][0])
    eeg["epoch"] = epoch
    eeg["xmax"] = eeg["xmin"] + (n_times - 1) / SRATE
    v5, v73 = both(tmp_path, "ep", {"EEG": eeg})
    epochs = mne.read_epochs_eeglab(v5, verbose="error")
    with btfm.open(v73) as ds, btfm.open(v5) as twin:
        got = ds.data.reshape(trials, n_times, len(LABELS))
        np.testing.assert_allclose(got, epochs.get_data().transpose(0, 2, 1), rtol=1e-6,
                                   atol=1e-12)
        assert [e.label for e in ds.events if e.type == "event"] == [r[0] for r in rows]
        same_recording(ds, twin)


def test_text_beyond_ascii_and_integer_classes(tmp_path):
    """UTF-16 labels (an accented letter, a character outside the BMP as a surrogate
    pair) and counts stored as integer classes, against the values written."""
    n_times = 10
    eeg = eeg_struct(n_times, np.arange(len(LABELS) * n_times, dtype=np.float64)
                     .reshape(len(LABELS), n_times), event_rows=[("réponse \U0001F600", 3.0, 1.0)])
    eeg.update(srate=np.int32(250), nbchan=np.uint8(len(LABELS)), pnts=np.int16(n_times))
    path = str(tmp_path / "text.set")
    savemat73(path, {"EEG": eeg})
    with btfm.open(path) as ds:
        assert ds.sfreq == 250.0 and ds.n_times == n_times
        assert [e.label for e in ds.events] == ["réponse \U0001F600"]
        assert ds.events[0].onset == 2 / 250.0 and ds.events[0].duration == 1 / 250.0
        np.testing.assert_allclose(ds.data[:, 1], np.arange(10, 20) * 1e-6, rtol=1e-6)  # Cz


def test_refusals_name_the_file_and_the_hdf5_path(tmp_path):
    not_hdf5 = tmp_path / "v73.set"
    not_hdf5.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(1024, b" "))
    with pytest.raises(btfm.Error, match=r"v73\.set: the header of a MATLAB v7\.3 MAT-file, "
                                         r"but not an HDF5 file"):
        btfm.open(str(not_hdf5))

    def variant(name, change):
        path = str(tmp_path / (name + ".set"))
        savemat73(path, {"EEG": eeg_struct(8, np.zeros((len(LABELS), 8)))})
        with h5py.File(path, "r+") as f:
            change(f)
        return path

    def text_as_float(f):  # chanlocs(1).labels stored as doubles, not UTF-16 units
        d = f["#refs#"].create_dataset("zz", data=np.zeros((2, 1)))
        d.attrs.create("MATLAB_class", np.bytes_("char"))
        labels = f["EEG/chanlocs/labels"]
        refs = labels[...]
        refs[0, 0] = d.ref
        labels[...] = refs
    with pytest.raises(btfm.Error, match=r"#refs#/zz: a char array that is not stored as "
                                         r"integers"):
        btfm.open(variant("floattext", text_as_float))

    def loop(f):  # a cell that contains itself
        del f["EEG/setname"]
        d = f["EEG"].create_dataset("setname", shape=(1, 1), dtype=h5py.ref_dtype)
        d.attrs.create("MATLAB_class", np.bytes_("cell"))
        d[0, 0] = d.ref
    with pytest.raises(btfm.Error, match=r"/EEG/setname: cells and structs nested more than "
                                         r"64 deep"):
        btfm.open(variant("loop", loop))

    def no_class(f):
        del f["EEG/srate"].attrs["MATLAB_class"]
    with pytest.raises(btfm.Error, match=r"/EEG/srate: a dataset without the MATLAB_class"):
        btfm.open(variant("noclass", no_class))

    def ragged(f):  # a struct array whose fields disagree on its length
        del f["EEG/event/latency"]
        f["EEG/event"].create_dataset("latency", data=np.zeros(0))
    with pytest.raises(btfm.Error, match=r"/EEG/event"):
        btfm.open(variant("ragged", ragged))

    def no_rate(f):
        del f["EEG/srate"]
    with pytest.raises(btfm.Error, match=r"noratev73\.set: EEG\.srate is missing"):
        btfm.open(variant("noratev73", no_rate))
