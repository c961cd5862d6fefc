"""btfm.bids from Python: queries from keyword arguments, recordings, metadata and
events tables, the writer, and errors. The trees are written here with Python's json
and plain text; the EDF data by btfm.from_array (its reading is tested in tests/io)."""

import json
import os

import numpy as np
import pytest

import btfm


def put(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


@pytest.fixture()
def tree(tmp_path):
    root = str(tmp_path / "bids")
    put(root, "dataset_description.json", json.dumps({"Name": "t", "BIDSVersion": "1.9.0"}))
    put(root, "task-rest_eeg.json", json.dumps({
        "TaskName": "rest", "SamplingFrequency": 100, "PowerLineFrequency": 50,
        "SoftwareFilters": "n/a", "EEGReference": "Cz"}))
    put(root, "task-rest_bold.json", json.dumps({"TaskName": "rest", "RepetitionTime": 2.0,
                                                 "SliceTiming": [0.0, 1.0]}))
    x = np.zeros((200, 2), dtype=np.float32)
    for sub, run in (("01", "1"), ("01", "2"), ("02", "1")):
        ds = btfm.from_array(x, 100.0, ch_names=["A", "B"], units=["V", "V"])
        folder = os.path.join(root, f"sub-{sub}", "eeg")
        os.makedirs(folder, exist_ok=True)
        ds.save(os.path.join(folder, f"sub-{sub}_task-rest_run-{run}_eeg.edf"))
        ds.close()
    put(root, "sub-02/func/sub-02_task-rest_bold.nii", "image")
    put(root, "sub-02/func/sub-02_task-rest_events.tsv",
        "onset\tduration\ttrial_type\tresponse_time\n2\t1\tface\t0.5\n")
    return root


def test_query_and_lists(tree):
    with btfm.bids.open(tree) as layout:
        assert len(layout) == 4
        assert layout.subjects == ["01", "02"]
        assert layout.datatypes == ["eeg", "func"]
        assert layout.sessions == []
        assert [r.entities["run"] for r in layout.query(sub="01", datatype="eeg")] == ["1", "2"]
        assert len(layout.query(run=[1, 2])) == 3
        assert len(layout.query("sub=02", datatype="func")) == 1
        assert layout.query(subject="02", suffix="bold")[0].extension == ".nii"
        with pytest.raises(btfm.Error) as info:
            layout.query(sbj="01")
        assert info.value.status_name == "BTFM_E_INVALID" and "sbj" in info.value.message
        with pytest.raises(ValueError):
            layout.query(sub="0 1")
        assert layout.participants is None
        assert layout.skipped == []
        assert layout.description["Name"] == "t"
    with pytest.raises(ValueError):
        layout.subjects


def test_func_metadata_and_events_without_the_image(tree):
    layout = btfm.bids.open(tree)
    rec = layout.query(datatype="func")[0]
    assert rec.metadata == {"TaskName": "rest", "RepetitionTime": 2.0, "SliceTiming": [0.0, 1.0]}
    with pytest.raises(btfm.Error):  # no NIfTI reader in this build or an unreadable file
        rec.open()
    ds = btfm.from_array(np.zeros((5, 3)), 0.5)
    rec.apply_sidecars(ds)
    assert ds.metadata["SliceTiming"] == [0.0, 1.0]
    assert [(e.onset, e.duration, e.label) for e in ds.events] == [(2.0, 1.0, "face")]
    assert ds.events_table["response_time"].tolist() == [0.5]
    ds.metadata = {"Note": "x"}
    assert ds.metadata == {"Note": "x"}
    with pytest.raises(TypeError):
        ds.metadata = [1]
    assert btfm.from_array(np.zeros((2, 1)), 1.0).events_table is None


def test_writer_round_trip_and_errors(tmp_path):
    x = (np.arange(300, dtype=np.float32).reshape(100, 3) * 1e-7)
    ds = btfm.from_array(x, 50.0, ch_names=["a", "b", "c"], units=["V"] * 3)
    ds.add_event(0.2, 0.0, "tone", code=7)
    root = tmp_path / "out"
    btfm.bids.write(root, [(ds, {"sub": "s1", "task": "t", "datatype": "eeg"}),
                           (ds, {"sub": "s2", "task": "t", "datatype": "ieeg"})], name="w")
    layout = btfm.bids.open(root)
    assert layout.datatypes == ["eeg", "ieeg"]
    with layout[1].open() as back:
        assert back.metadata["iEEGReference"] == "n/a"
        assert [(e.onset, e.label, e.code) for e in back.events] == [(0.2, "tone", 7)]
    with pytest.raises(btfm.Error) as info:
        with btfm.bids.Writer(tmp_path / "bad") as w:
            w.add(ds, sub="1", datatype="eeg")
    assert "task" in info.value.message
    with pytest.raises(TypeError):
        btfm.bids.Writer(tmp_path / "bad2").add("not a dataset", sub="1", task="t")


def test_open_errors(tmp_path):
    with pytest.raises(btfm.Error) as info:
        btfm.bids.open(tmp_path)
    assert "rule dataset-description" in info.value.message
    with pytest.raises(TypeError):
        btfm.bids.open(None)


def test_indexing_reports_progress_and_cancels(tree):
    seen = []
    with btfm.bids.open(tree, progress=lambda stage, fraction: seen.append(fraction)) as layout:
        assert len(layout) == 4
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(btfm.Error, match="cancelled by the progress callback"):
        btfm.bids.open(tree, lenient=True, progress=lambda stage, fraction: fraction >= 0.5)
