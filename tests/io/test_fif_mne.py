"""FIF interop: raw files written by MNE (Debian's python3-mne) from RawArrays, read by
libbtfm and by mne.io.read_raw_fif: every data type MNE writes (single, double, int,
short), gzip, split files, acquisition skips, MEG (magnetometers in T, gradiometers in
T/m), EEG, ECoG/sEEG/DBS, stim and other channels, first_samp, the measurement date,
annotations, triggers (against mne.find_events), bad channels, long channel names,
positions (against MNE's device-to-head transform), projectors and processing history;
and every FIF file MNE ships, which are not raw recordings and must be refused naming
the tags and blocks MNE's own parser finds."""

import datetime
import glob
import json
import os

import numpy as np
import pytest

import btfm

mne = pytest.importorskip("mne")
mne.set_log_level("ERROR")

SFREQ = 1000.0
FIRST_SAMP = 1234
MEAS_DATE = 1600000000.25
LONG = "EEG-with-a-long-name"  # more than the 15 characters of the channel record

CHANNELS = [  # name, MNE type, our type, SI unit
    ("MEG 0111", "mag", "meg_mag", "T"), ("MEG 0112", "grad", "meg_grad", "T/m"),
    ("MEG 0113", "grad", "meg_grad", "T/m"), ("Fz", "eeg", "eeg", "V"), ("Cz", "eeg", "eeg", "V"),
    (LONG, "eeg", "eeg", "V"), ("EOG 061", "eog", "eog", "V"), ("ECG 063", "ecg", "ecg", "V"),
    ("EMG", "emg", "emg", "V"), ("LA1", "seeg", "seeg", "V"), ("G1", "ecog", "ecog", "V"),
    ("D1", "dbs", "dbs", "V"), ("RESP", "resp", "resp", "V"), ("MISC 001", "misc", "misc", "V"),
    ("STI 014", "stim", "stim", "V"),
]
# FIFF unit codes (the FIFF specification, MNE's constants) and their SI names
UNIT_NAMES = {mne.io.constants.FIFF.FIFF_UNIT_T: "T", mne.io.constants.FIFF.FIFF_UNIT_T_M: "T/m",
              mne.io.constants.FIFF.FIFF_UNIT_V: "V", mne.io.constants.FIFF.FIFF_UNIT_NONE: "",
              mne.io.constants.FIFF.FIFF_UNIT_UNITLESS: ""}
SCALE = {"mag": 1e-12, "grad": 1e-11, "misc": 1.0, "resp": 1.0}


def make_raw(n_times=5003, seed=0):
    rng = np.random.default_rng(seed)
    names = [c[0] for c in CHANNELS]
    info = mne.create_info(names, SFREQ, [c[1] for c in CHANNELS])
    data = rng.standard_normal((len(names), n_times))
    for i, c in enumerate(CHANNELS):
        data[i] *= SCALE.get(c[1], 1e-5)
    stim = np.zeros(n_times)
    stim[100:110] = 1
    stim[2000:2050] = 5
    stim[2050:2060] = 6  # a change from one non-zero value to another
    stim[n_times - 13:] = 3  # still on at the end
    data[-1] = stim
    raw = mne.io.RawArray(data, info, first_samp=FIRST_SAMP)
    raw.set_meas_date(MEAS_DATE)
    return raw


def assert_same_data(ds, raw):
    """Every sample equal to MNE's float64 value rounded to float32: both compute stored
    number x range x cal in double."""
    ours = ds.data
    theirs = raw.get_data().T.astype(np.float32)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fmt", ["single", "double", "int", "short"])
def test_every_data_type_reads_as_mne_reads_it(tmp_path, fmt):
    raw = make_raw()
    path = tmp_path / f"rec_{fmt}_raw.fif"
    raw.save(path, fmt=fmt)
    back = mne.io.read_raw_fif(path, preload=True)
    with btfm.open(path) as ds:
        assert ds.format == "fif"
        assert ds.sfreq == SFREQ
        assert ds.n_times == back.n_times
        assert ds.ch_names == back.ch_names
        assert [c.type for c in ds.channels] == [c[2] for c in CHANNELS]
        assert [c.unit for c in ds.channels] == [UNIT_NAMES[ch["unit"]] for ch in back.info["chs"]]
        assert [c.unit for c in ds.channels][:3] == ["T", "T/m", "T/m"]
        assert_same_data(ds, back)
        # a window and a pick read the same values as the whole file
        np.testing.assert_array_equal(ds.read(1000, 1013, picks=["Cz", 0]),
                                      ds.data[1000:1013][:, [4, 0]])
        np.testing.assert_array_equal(ds.read_native("MEG 0112"), ds.data[:, 1])
        meta = ds.metadata["fif"]
        assert meta["first_sample"] == back.first_samp == FIRST_SAMP
        assert meta["data_type"] == {"single": "float32", "double": "float64", "int": "int32",
                                     "short": "int16"}[fmt]
        assert meta["lowpass"] == back.info["lowpass"] and meta["highpass"] == back.info["highpass"]
        # the first stored sample is first_samp / sfreq after the measurement date
        expected = back.info["meas_date"] + datetime.timedelta(seconds=back.first_time)
        assert abs((ds.start_time - expected).total_seconds()) < 1e-6


def test_triggers_match_find_events_and_annotations_match(tmp_path):
    raw = make_raw()
    raw.set_annotations(mne.Annotations([1.5, 3.25, 0.2], [0.5, 0.0, 0.1],
                                        ["blink", "a:b", "before the data"],
                                        orig_time=raw.info["meas_date"]))
    path = tmp_path / "ev_raw.fif"
    raw.save(path)
    back = mne.io.read_raw_fif(path)
    with btfm.open(path) as ds:
        triggers = [e for e in ds.events if e.type == "trigger"]
        expected = mne.find_events(back, consecutive=True, shortest_event=1)
        assert [round(e.onset * SFREQ) for e in triggers] == list(expected[:, 0] - back.first_samp)
        assert [e.code for e in triggers] == list(expected[:, 2])
        assert [e.label for e in triggers] == [str(v) for v in expected[:, 2]]
        # durations run to the next change; the last one to the end of the recording
        assert [round(e.duration * SFREQ) for e in triggers] == [10, 50, 10, 13]
        notes = [e for e in ds.events if e.type == "annotation"]
        assert [e.label for e in notes] == list(back.annotations.description)
        onsets = back.annotations.onset - back.first_time  # MNE's onsets count from meas_date
        np.testing.assert_allclose([e.onset for e in notes], onsets, atol=1e-6)
        np.testing.assert_allclose([e.duration for e in notes], back.annotations.duration, atol=1e-6)


def test_split_files_continue_one_recording(tmp_path):
    n_ch = 20
    info = mne.create_info([f"EEG{i:03d}" for i in range(n_ch - 1)] + ["STI 014"], SFREQ,
                           ["eeg"] * (n_ch - 1) + ["stim"])
    rng = np.random.default_rng(3)
    data = rng.standard_normal((n_ch, 60000)) * 1e-5
    data[-1] = 0
    data[-1, 31000:31100] = 9  # in the second or a later part
    raw = mne.io.RawArray(data, info, first_samp=10)
    raw.save(tmp_path / "long_raw.fif", split_size="2MB")
    parts = sorted(os.listdir(tmp_path))
    assert len(parts) >= 3, parts
    back = mne.io.read_raw_fif(tmp_path / "long_raw.fif", preload=True)
    with btfm.open(tmp_path / "long_raw.fif") as ds:
        assert ds.metadata["fif"]["n_files"] == len(parts)
        assert_same_data(ds, back)
        assert [(round(e.onset * SFREQ), e.code) for e in ds.events] == [(31000, 9)]
    # a missing part is named, and complete_records reads the parts before it
    os.remove(tmp_path / "long_raw-2.fif")
    with pytest.raises(btfm.Error, match="long_raw-2.fif, which does not exist"):
        btfm.open(tmp_path / "long_raw.fif")
    with btfm.open(tmp_path / "long_raw.fif", complete_records=True) as ds:
        first_two = mne.io.read_raw_fif(tmp_path / "long_raw.fif", on_split_missing="ignore",
                                        preload=True)
        assert_same_data(ds, first_two)


def test_bids_split_naming(tmp_path):
    raw = make_raw(n_times=40000)
    path = tmp_path / "sub-01_task-x_meg.fif"
    raw.save(path, split_size="2MB", split_naming="bids")
    first = sorted(tmp_path.glob("*split-01*"))[0]
    back = mne.io.read_raw_fif(first, preload=True)
    with btfm.open(first) as ds:
        assert ds.metadata["fif"]["n_files"] == len(list(tmp_path.iterdir()))
        assert_same_data(ds, back)


def test_acquisition_skips_read_as_zeros_with_gap_events(tmp_path):
    raw = make_raw(n_times=20000)
    raw.set_annotations(mne.Annotations([2.0, 10.0], [1.0, 3.0], ["BAD_ACQ_SKIP"] * 2,
                                        orig_time=raw.info["meas_date"]))
    # first_samp 1234 is not a whole buffer: skips must start on buffer boundaries
    raw = mne.io.RawArray(raw.get_data(), raw.info, first_samp=0)
    raw.set_annotations(mne.Annotations([2.0, 10.0], [1.0, 3.0], ["BAD_ACQ_SKIP"] * 2,
                                        orig_time=raw.info["meas_date"]))
    path = tmp_path / "skip_raw.fif"
    raw.save(path, buffer_size_sec=1.0)
    back = mne.io.read_raw_fif(path, preload=True)
    with btfm.open(path) as ds:
        assert_same_data(ds, back)  # MNE gives zeros inside skips too
        gaps = [(e.onset, e.duration) for e in ds.events if e.type == "gap"]
        assert gaps == [(2.0, 1.0), (10.0, 3.0)]
        assert not ds.data[2000:3000].any() and ds.data[1999].any()


def test_gzip_files(tmp_path):
    raw = make_raw()
    raw.save(tmp_path / "z_raw.fif.gz")
    back = mne.io.read_raw_fif(tmp_path / "z_raw.fif.gz", preload=True)
    with btfm.open(tmp_path / "z_raw.fif.gz") as ds:
        assert ds.format == "fif"
        assert_same_data(ds, back)


def test_bads_identity_and_long_names(tmp_path):
    raw = make_raw()
    raw.info["bads"] = ["Cz", LONG]
    with raw.info._unlock():
        raw.info["subject_info"] = {"his_id": "subj-007"}
        raw.info["description"] = "a test recording"
    raw.save(tmp_path / "b_raw.fif")
    with btfm.open(tmp_path / "b_raw.fif") as ds:
        assert [c.name for c in ds.channels if c.bad] == ["Cz", LONG]
        assert ds.subject == "subj-007"
        assert ds.recording == "a test recording"


def test_positions_in_the_head_frame(tmp_path):
    raw = make_raw()
    rng = np.random.default_rng(5)
    trans = mne.transforms.rotation(0.1, -0.2, 0.3)
    trans[:3, 3] = [0.002, -0.01, 0.04]
    with raw.info._unlock():
        raw.info["dev_head_t"] = mne.transforms.Transform("meg", "head", trans)
    for i, (name, kind, _, _) in enumerate(CHANNELS):
        if kind in ("mag", "grad", "eeg", "seeg", "ecog"):
            raw.info["chs"][i]["loc"][:3] = rng.uniform(-0.1, 0.1, 3)
    raw.save(tmp_path / "p_raw.fif")
    back = mne.io.read_raw_fif(tmp_path / "p_raw.fif")
    with btfm.open(tmp_path / "p_raw.fif") as ds:
        assert ds.coordinate_frame == "head"
        for i, ch in enumerate(back.info["chs"]):
            kind = CHANNELS[i][1]
            p = ds.channels[i].position
            if kind in ("mag", "grad"):
                want = mne.transforms.apply_trans(back.info["dev_head_t"], ch["loc"][:3])
            elif kind in ("eeg", "seeg", "ecog"):
                want = ch["loc"][:3]
            else:
                assert p is None, ch["ch_name"]
                continue
            np.testing.assert_allclose(p, want, atol=1e-7, err_msg=ch["ch_name"])


def test_projectors_and_history_are_reported_not_applied(tmp_path):
    raw = make_raw()
    rng = np.random.default_rng(9)
    vectors = rng.standard_normal((2, 3))
    proj = mne.Projection(kind=1, desc="meg-test", active=False,
                          data=dict(nrow=2, ncol=3, row_names=None,
                                    col_names=["MEG 0111", "MEG 0112", "MEG 0113"], data=vectors))
    raw.add_proj(proj)
    raw.set_eeg_reference("average", projection=True)
    with raw.info._unlock():
        raw.info["proc_history"] = [dict(
            creator="maxfilter 2.2", experimenter="someone", date=np.array([1600000100, 0]),
            block_id=dict(version=0, machid=np.zeros(2, int), secs=1600000100, usecs=0),
            max_info=dict(sss_info=dict(job=1, frame=4, in_order=8, out_order=3, nchan=306,
                                        components=np.ones(80, int), nfree=80,
                                        hpi_g_limit=0.98, hpi_dist_limit=0.005,
                                        origin=np.zeros(3, np.float32)),
                          max_st={}, sss_ctc={}, sss_cal={}))]
    raw.save(tmp_path / "proj_raw.fif")
    back = mne.io.read_raw_fif(tmp_path / "proj_raw.fif", preload=True)
    assert not any(p["active"] for p in back.info["projs"])  # so MNE applies none either
    with btfm.open(tmp_path / "proj_raw.fif") as ds:
        assert_same_data(ds, back)  # stored values, no projection applied
        projs = ds.metadata["fif"]["projectors"]
        assert [p["description"] for p in projs] == [p["desc"] for p in back.info["projs"]]
        assert [p["kind"] for p in projs] == [p["kind"] for p in back.info["projs"]]
        assert [p["active"] for p in projs] == [p["active"] for p in back.info["projs"]]
        for ours, theirs in zip(projs, back.info["projs"]):
            assert ours["channels"] == theirs["data"]["col_names"]
            assert ours["n_vectors"] == theirs["data"]["nrow"]
            np.testing.assert_allclose(ours["vectors"], theirs["data"]["data"], rtol=1e-6)
        history = ds.metadata["fif"]["processing_history"]
        assert len(history) == len(back.info["proc_history"]) == 1
        assert history[0]["creator"] == back.info["proc_history"][0]["creator"]
        assert history[0]["experimenter"] == "someone"
        sss = [s for s in history[0]["steps"] if s["block"] == "sss_info"][0]
        theirs = back.info["proc_history"][0]["max_info"]["sss_info"]
        assert (sss["job"], sss["frame"], sss["in_order"], sss["out_order"], sss["n_channels"]) == \
            (theirs["job"], theirs["frame"], theirs["in_order"], theirs["out_order"], theirs["nchan"])


SHIPPED = sorted(glob.glob(os.path.join(os.path.dirname(mne.__file__), "**", "*.fif*"),
                           recursive=True))


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_files_mne_ships_are_parsed_and_refused_as_not_raw(path):
    """MNE 1.3 ships surfaces, BEM models, helmets, fiducials and a transform (no raw
    recording): each must parse (gzip included) and be refused naming what MNE's parser
    finds: the number of tags and the block kinds in file order."""
    from mne.io.open import fiff_open
    fid, tree, directory = fiff_open(path)
    fid.close()
    kinds = []

    def walk(node):
        kind = int(np.ravel(node["block"])[0])
        if kind not in kinds:
            kinds.append(kind)
        for child in node["children"]:
            walk(child)

    for child in tree["children"]:  # the tree's root is MNE's own, not a file block
        walk(child)
    with pytest.raises(btfm.Error) as info:
        btfm.open(path, format="fif")
    message = str(info.value)
    assert "no raw data block" in message
    expected = ", ".join(map(str, kinds)) if kinds else "none"
    size = len(__import__("gzip").open(path).read()) if path.endswith(".gz") else os.path.getsize(path)
    assert f"it has {len(directory)} tags ({size} bytes) in blocks {expected}" in message, message


def test_btfm_info_reports_projectors_and_history(tmp_path):
    import subprocess
    exe = os.environ.get("BTFM_EXE")
    if not exe:
        pytest.skip("BTFM_EXE not set")
    raw = make_raw()
    raw.set_eeg_reference("average", projection=True)
    raw.save(tmp_path / "i_raw.fif")
    text = subprocess.run([exe, "info", str(tmp_path / "i_raw.fif")], check=True,
                          capture_output=True, text=True).stdout
    assert "fif recording, 15 channels x 5003 samples at 1000 Hz" in text
    assert "first sample: 1234" in text
    n_eeg = len(raw.info["projs"][0]["data"]["col_names"])
    assert f"projector 1: Average EEG reference (kind 10, inactive, 1 vector x {n_eeg} channels)" in text
    out = subprocess.run([exe, "info", "--json", str(tmp_path / "i_raw.fif")], check=True,
                         capture_output=True, text=True).stdout
    doc = json.loads(out)
    assert doc["metadata"]["fif"]["projectors"][0]["description"] == "Average EEG reference"


def test_example_read_fif(tmp_path):
    import subprocess
    import sys
    raw = make_raw()
    raw.set_eeg_reference("average", projection=True)
    raw.save(tmp_path / "ex_raw.fif")
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python", "read_fif.py")
    out = subprocess.run([sys.executable, example, str(tmp_path / "ex_raw.fif")], check=True,
                         capture_output=True, text=True).stdout
    assert "fif: 15 channels x 5003 samples at 1000 Hz, first sample 1234, 1 file(s)" in out
    assert "   2 meg_grad (T/m)" in out and "   1 meg_mag (T)" in out
    assert "4 triggers; first: 1 at 0.100 s, 5 at 2.000 s, 6 at 2.050 s" in out
    assert "magnetometers (1000, 1)" in out
    assert "projector 'Average EEG reference': 1 x 3, inactive (not applied)" in out
