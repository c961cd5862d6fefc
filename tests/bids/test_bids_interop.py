"""BIDS trees against independent implementations.

1. A tree written here without libbtfm (EDF files by tests/io/edfspec.py from the
   specification, BrainVision text headers with numpy binary data, TSV and JSON by hand)
   is read by btfm.bids; samples are compared with MNE's readers, events with the
   MNE-BIDS reading rules (mne_bids_rules.py), bad channels and merged sidecars with the
   same reference.
2. A tree written by btfm.bids.Writer is read back with Python's json and csv and with
   MNE's EDF and BrainVision readers, against the arrays it was written from.
"""

import csv
import json
import os

import mne
import numpy as np
import pytest

import btfm
import edfspec
import mne_bids_rules as ref

SFREQ = 128.0
N_RECORDS = 4  # 1-s records
CHANNELS = ["Fz", "Cz", "Pz", "EOG1"]


def write_edf(path, seed):
    rng = np.random.default_rng(seed)
    signals = [{"label": name, "digital": rng.integers(-30000, 30000, int(SFREQ) * N_RECORDS),
                "spr": int(SFREQ), "dim": "uV", "pmin": -3200, "pmax": 3200,
                "dmin": -32768, "dmax": 32767} for name in CHANNELS]
    edfspec.write(path, signals, N_RECORDS, plus=None, startdate="02.03.21",
                  starttime="10.20.30")
    return signals


def write_brainvision(folder, base, seed):
    """A multiplexed IEEE_FLOAT_32 BrainVision recording in microvolts."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((int(SFREQ) * 2, len(CHANNELS))).astype("<f4") * 20
    data.tofile(os.path.join(folder, base + ".eeg"))
    channels = "\n".join(f"Ch{i + 1}={name},,1,\u00b5V" for i, name in enumerate(CHANNELS))
    with open(os.path.join(folder, base + ".vhdr"), "w", encoding="utf-8") as f:
        f.write("Brain Vision Data Exchange Header File Version 1.0\n\n[Common Infos]\n"
                f"Codepage=UTF-8\nDataFile={base}.eeg\nMarkerFile={base}.vmrk\n"
                "DataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
                f"NumberOfChannels={len(CHANNELS)}\nSamplingInterval={1e6 / SFREQ:.6f}\n\n"
                "[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n\n[Channel Infos]\n"
                + channels + "\n")
    with open(os.path.join(folder, base + ".vmrk"), "w", encoding="utf-8") as f:
        f.write("Brain Vision Data Exchange Marker File Version 1.0\n\n[Common Infos]\n"
                f"Codepage=UTF-8\nDataFile={base}.eeg\n\n[Marker Infos]\n"
                "Mk1=Stimulus,S  1,10,1,0\n")
    return data.astype(np.float64) * 1e-6


def put(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def put_json(root, rel, obj):
    return put(root, rel, json.dumps(obj, indent=1))


@pytest.fixture()
def python_tree(tmp_path):
    root = str(tmp_path / "ds")
    put_json(root, "dataset_description.json", {"Name": "python", "BIDSVersion": "1.8.0"})
    put(root, "participants.tsv", "participant_id\tage\tsex\nsub-01\t30\tF\nsub-02\tn/a\tM\n")
    put_json(root, "task-oddball_eeg.json", {
        "TaskName": "oddball", "SamplingFrequency": SFREQ, "PowerLineFrequency": 50,
        "SoftwareFilters": "n/a", "EEGReference": "Cz", "Manufacturer": "root"})
    put_json(root, "sub-01/sub-01_task-oddball_eeg.json", {"PowerLineFrequency": 60})
    put(root, "task-oddball_events.tsv",  # inherited by sub-02
        "onset\tduration\tvalue\n0.5\t0\t1\n1.0\t0\tn/a\n1.5\tn/a\t2\n")
    recordings = {}
    for ses in ("1", "2"):
        folder = os.path.join(root, f"sub-01/ses-{ses}/eeg")
        os.makedirs(folder)
        base = f"sub-01_ses-{ses}_task-oddball"
        signals = write_edf(os.path.join(folder, base + "_eeg.edf"), int(ses))
        recordings[("01", ses)] = np.stack([edfspec.physical(s) * 1e-6 for s in signals], 1)
        put(root, f"sub-01/ses-{ses}/eeg/{base}_events.tsv",
            "onset\tduration\ttrial_type\tvalue\tresponse_time\tstim_file\n"
            "0.25\t0.1\tstandard\t1\t0.35\tn/a\n"
            "n/a\t0\tstandard\t1\tn/a\tn/a\n"
            "2.0\t0.1\ttarget\t2\t0.41\timg/a.png\n"
            "1.0\tn/a\tn/a\t3\tn/a\tn/a\n"
            "3.125\t0\ttarget\t2\t0.502\timg/b.png\n"
            "0.25\t0\tresponse\t9\tn/a\tn/a\n")
        put(root, f"sub-01/ses-{ses}/eeg/{base}_channels.tsv",
            "name\ttype\tunits\tstatus\n"
            "Fz\tEEG\tuV\tgood\nCz\tEEG\tuV\tbad\nPz\tEEG\tuV\tgood\nEOG1\tVEOG\tuV\tgood\n")
    put(root, "sub-01/ses-1/sub-01_ses-1_scans.tsv",
        "filename\tacq_time\neeg/sub-01_ses-1_task-oddball_eeg.edf\t2020-05-06T07:08:09.25\n")
    folder = os.path.join(root, "sub-02/eeg")
    os.makedirs(folder)
    recordings[("02", None)] = write_brainvision(folder, "sub-02_task-oddball_eeg", 7)
    put(root, "code/notes.txt", "not indexed")
    return root, recordings


def test_python_tree_read_by_btfm_matches_mne_and_mne_bids_rules(python_tree):
    root, recordings = python_tree
    layout = btfm.bids.open(root)
    assert layout.subjects == ["01", "02"]
    assert layout.sessions == ["1", "2"]
    assert layout.tasks == ["oddball"]
    assert layout.datatypes == ["eeg"]
    assert len(layout) == 3
    assert [r.entities for r in layout.query(sub="01")] == [
        {"sub": "01", "ses": "1", "task": "oddball"}, {"sub": "01", "ses": "2", "task": "oddball"}]
    assert layout.participants.rows()[0] == {"participant_id": "sub-01", "age": "30", "sex": "F"}
    for rec in layout.recordings:
        sub, ses = rec.entities["sub"], rec.entities.get("ses")
        assert rec.metadata == ref.merged_sidecar(root, rec.path, "eeg")
        with rec.open() as ds:
            # data: the spec-derived truth and MNE's reader
            data = ds.data
            np.testing.assert_allclose(data, recordings[(sub, ses)], rtol=1e-6, atol=1e-12)
            if rec.extension == ".edf":
                raw = mne.io.read_raw_edf(rec.path, preload=True, verbose="error")
            else:
                raw = mne.io.read_raw_brainvision(rec.path, preload=True, verbose="error")
            np.testing.assert_allclose(data, raw.get_data().T, rtol=1e-6, atol=1e-12)
            # events: the MNE-BIDS rules on the events.tsv that applies
            folder = os.path.dirname(rec.path)
            local = [f for f in os.listdir(folder) if f.endswith("_events.tsv")]
            events_path = os.path.join(folder, local[0]) if local else \
                os.path.join(root, "task-oddball_events.tsv")
            expected = sorted(ref.events(events_path), key=lambda e: (e[0], e[3]))
            got = [(e.onset, e.duration, e.label) for e in ds.events]
            assert got == [e[:3] for e in expected]
            assert all(e.type == "bids" for e in ds.events)
            # the events table: every column, the kept rows in event order
            table = ds.events_table
            full = ref.read_tsv(events_path)
            assert table.columns == list(full)
            for column in full:
                assert table.strings(column) == [
                    None if full[column][e[3]] == "n/a" else full[column][e[3]] for e in expected]
            # channels.tsv
            channels = os.path.join(folder, os.path.basename(rec.path).rsplit("_", 1)[0]
                                    + "_channels.tsv")
            if os.path.exists(channels):
                assert [c.name for c in ds.channels if c.bad] == ref.bads(channels)
                assert ds.channel("EOG1").type == "eog"
            assert ds.metadata["PowerLineFrequency"] == (60 if sub == "01" else 50)
            if (sub, ses) == ("01", "1"):
                assert ds.start_time.isoformat() == "2020-05-06T07:08:09.250000+00:00"
            elif rec.extension == ".edf":
                assert ds.start_time.isoformat() == "2021-03-02T10:20:30+00:00"  # the header's
    assert layout[0].participant == {"participant_id": "sub-01", "age": 30.0, "sex": "F"}
    assert layout[2].participant == {"participant_id": "sub-02", "age": None, "sex": "M"}
    assert layout[0].scan == {"filename": "eeg/sub-01_ses-1_task-oddball_eeg.edf",
                              "acq_time": "2020-05-06T07:08:09.25"}
    assert layout[1].scan is None


def test_python_tree_rules_and_lenient_mode(python_tree):
    root, _ = python_tree
    put_json(root, "task-oddball_eeg.json", {"TaskName": "oddball", "SamplingFrequency": SFREQ,
                                             "SoftwareFilters": "n/a", "EEGReference": "Cz"})
    # sub-01 inherits PowerLineFrequency from its own sidecar; sub-02 lacks it
    with pytest.raises(btfm.Error) as info:
        btfm.bids.open(root)
    assert info.value.status_name == "BTFM_E_FORMAT"
    assert "sub-02/eeg/sub-02_task-oddball_eeg.vhdr" in info.value.message
    assert "rule sidecar-required" in info.value.message
    assert "PowerLineFrequency" in info.value.message
    layout = btfm.bids.open(root, lenient=True)
    assert len(layout) == 2
    assert [path for path, _ in layout.skipped] == ["sub-02/eeg/sub-02_task-oddball_eeg.vhdr"]
    # a sampling rate the file contradicts
    put_json(root, "sub-01/sub-01_task-oddball_eeg.json",
             {"PowerLineFrequency": 60, "SamplingFrequency": 256})
    layout = btfm.bids.open(root, lenient=True)
    with pytest.raises(btfm.Error) as info:
        layout[0].open()
    assert "rule sampling-frequency" in info.value.message and "128 Hz" in info.value.message


def test_btfm_tree_read_by_python_and_mne(tmp_path):
    root = str(tmp_path / "written")
    rng = np.random.default_rng(3)
    truth = (rng.standard_normal((512, 3)) * 20e-6).astype(np.float32)
    ds = btfm.from_array(truth, 256.0, ch_names=["C3", "C4", "HEOG"],
                         ch_types=["eeg", "eeg", "eog"], units=["V", "V", "V"])
    ds.channel("C4").bad = True
    ds.add_event(0.5, 0.25, "left", code=1)
    ds.add_event(1.25, 0.0, "right", code=2)
    ds.metadata = {"Manufacturer": "simulation", "PowerLineFrequency": 60}
    events = btfm.Table.from_columns({"onset": [0.5, 1.0], "duration": [0.0, 0.5],
                                      "trial_type": ["cue", None], "value": [4, 5]})
    with btfm.bids.Writer(root, "written by libbtfm") as w:
        w.set_participants({"participant_id": ["sub-01"], "age": [25]})
        w.add(ds, sub="01", task="mi", run=1, datatype="eeg", format="edf",
              sidecar={"EEGReference": "FCz"})
        w.add(ds, sub="02", ses="x", task="mi", datatype="eeg", format="brainvision",
              events=events)
    with open(os.path.join(root, "dataset_description.json")) as f:
        description = json.load(f)
    assert description["Name"] == "written by libbtfm" and description["BIDSVersion"]
    assert ref.read_tsv(os.path.join(root, "participants.tsv")) == {
        "participant_id": ["sub-01", "sub-02"], "age": ["25", "n/a"]}
    base = os.path.join(root, "sub-01/eeg/sub-01_task-mi_run-1")
    with open(base + "_eeg.json") as f:
        sidecar = json.load(f)
    assert sidecar["TaskName"] == "mi" and sidecar["SamplingFrequency"] == 256
    assert sidecar["EEGReference"] == "FCz" and sidecar["PowerLineFrequency"] == 60
    assert sidecar["Manufacturer"] == "simulation"
    assert sidecar["EEGChannelCount"] == 2 and sidecar["EOGChannelCount"] == 1
    assert sidecar["SoftwareFilters"] == "n/a"
    channels = ref.read_tsv(base + "_channels.tsv")
    assert channels["name"] == ["C3", "C4", "HEOG"]
    assert channels["type"] == ["EEG", "EEG", "EOG"]
    assert ref.bads(base + "_channels.tsv") == ["C4"]
    assert [e[:3] for e in ref.events(base + "_events.tsv")] == [(0.5, 0.25, "left"),
                                                                  (1.25, 0.0, "right")]
    raw = mne.io.read_raw_edf(base + "_eeg.edf", preload=True, verbose="error")
    assert raw.ch_names == channels["name"]
    # EDF stores 16-bit integers over each channel's range: within one step
    step = (truth.max(0) - truth.min(0)) / 65535
    assert np.all(np.abs(raw.get_data().T - truth) <= step + 1e-12)
    scans = ref.read_tsv(os.path.join(root, "sub-01/sub-01_scans.tsv"))
    assert scans["filename"] == ["eeg/sub-01_task-mi_run-1_eeg.edf"]
    base2 = os.path.join(root, "sub-02/ses-x/eeg/sub-02_ses-x_task-mi")
    raw2 = mne.io.read_raw_brainvision(base2 + "_eeg.vhdr", preload=True, verbose="error")
    np.testing.assert_allclose(raw2.get_data().T, truth, rtol=1e-6, atol=1e-12)
    assert [e[:3] for e in ref.events(base2 + "_events.tsv")] == [(0.5, 0.0, "cue")]
    # and libbtfm reads its own tree strictly
    layout = btfm.bids.open(root)
    assert layout.subjects == ["01", "02"] and len(layout) == 2
    with layout.query(sub="02")[0].open() as back:
        assert [(e.onset, e.label, e.code) for e in back.events] == [(0.5, "cue", 4)]
        assert back.events_table["value"].tolist() == [4.0]


def _pandas_like(path):
    """participants.tsv read as pandas.read_csv(sep="\t", na_values="n/a") types it, by
    the csv module and float(): a column whose every cell is a number or n/a is numeric."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    header, body = rows[0], rows[1:]
    out = [{} for _ in body]
    for c, name in enumerate(header):
        cells = [row[c] for row in body]
        try:
            values = [None if x == "n/a" else float(x) for x in cells]
        except ValueError:
            values = [None if x == "n/a" else x for x in cells]
        for row, value in zip(out, values):
            row[name] = value
    return out


def test_participant_values_are_typed(tmp_path):
    root = str(tmp_path / "typed")
    put_json(root, "dataset_description.json", {"Name": "typed", "BIDSVersion": "1.8.0"})
    path = put(root, "participants.tsv",
               "participant_id\tage\tsex\theight\tgroup\tnone\n"
               "sub-01\t30\tF\t1.72\t1\tn/a\n"
               "sub-02\tn/a\tn/a\t-1.5e-1\tctl\tn/a\n"
               "sub-03\t7.5\tM\t2E0\t3\tn/a\n")
    layout = btfm.bids.open(root)
    table = layout.participants
    want = _pandas_like(path)
    assert table.rows(typed=True) == want
    assert want[0]["age"] == 30.0 and want[1]["group"] == "ctl"  # the reference's types
    assert [table.is_numeric(c) for c in table.columns] == [
        False, True, False, True, False, True]
    assert table.rows()[0]["age"] == "30"  # the text as stored, by default
    assert table.values("age") == [30.0, None, 7.5]
    assert isinstance(table.values("age")[0], float)


@pytest.mark.parametrize("keep", [False, True])
def test_writer_deidentifies_unless_asked_to_keep(tmp_path, keep):
    """The written EDF header bytes (read here, not by libbtfm), MNE's meas_date and
    scans.tsv: de-identified by default as btfm anonymize does, as they were with
    keep_identity."""
    src = str(tmp_path / "named.edf")
    signals = [{"label": "Fz", "digital": np.arange(int(SFREQ) * 2) % 100, "spr": int(SFREQ),
                "dim": "uV", "pmin": -3200, "pmax": 3200, "dmin": -32768, "dmax": 32767}]
    edfspec.write(src, signals, 2, patient="MCH-0234567 F 02-MAY-1951 Jane_Doe",
                  recording="Startdate 02-MAR-2021 EEG_LAB_7 X X", startdate="02.03.21",
                  starttime="10.20.30")
    root = str(tmp_path / "shared")
    with btfm.open(src) as ds:
        btfm.bids.write(root, [(ds, {"sub": "01", "task": "rest", "datatype": "eeg"})],
                        keep_identity=keep)
        assert "Jane_Doe" in ds.subject  # the caller's dataset is not changed
    edf = os.path.join(root, "sub-01", "eeg", "sub-01_task-rest_eeg.edf")
    with open(edf, "rb") as f:
        head = f.read(256)
    with open(os.path.join(root, "sub-01", "sub-01_scans.tsv")) as f:
        scans = f.read()
    raw = mne.io.read_raw_edf(edf, verbose="error")
    if keep:
        assert b"Jane_Doe" in head and b"1951" in head and b"EEG_LAB_7" in head
        assert head[168:184] == b"02.03.2110.20.30"
        assert raw.info["meas_date"].date().isoformat() == "2021-03-02"
        assert "2021-03-02T10:20:30" in scans
    else:
        for secret in (b"Jane_Doe", b"MCH-0234567", b"1951", b"EEG_LAB_7", b"2021", b"02.03.21"):
            assert secret not in head
        assert head[168:184] == b"01.01.8510.20.30"  # the date moved, the time kept
        assert raw.info["meas_date"].date().isoformat() == "1985-01-01"
        assert "1985-01-01T10:20:30" in scans and "2021" not in scans
    with btfm.open(src) as ds:  # the samples unchanged
        np.testing.assert_allclose(raw.get_data(), ds.get_data(), rtol=1e-6, atol=1e-12)
