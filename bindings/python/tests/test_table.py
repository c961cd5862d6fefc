"""btfm.Table: reading, typed columns, editing and saving, checked against the TSV text
the tests write themselves and against Python's csv module."""

import csv
import math

import numpy as np
import pytest

import btfm

EVENTS = ("onset\tduration\ttrial_type\tresponse_time\n"
          "0.5\t1\tgo\tn/a\n"
          "2.25\tn/a\tstop\t0.431\n"
          "4\t0\tgo\t0.2\n")


@pytest.fixture
def events_path(tmp_path):
    path = tmp_path / "sub-01_task-go_events.tsv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


def test_read_table_columns_and_values(events_path):
    t = btfm.read_table(events_path)
    assert len(t) == 3 and t.n_rows == 3
    assert t.columns == ["onset", "duration", "trial_type", "response_time"]
    onset = t["onset"]
    assert isinstance(onset, np.ndarray) and onset.dtype == np.float64
    np.testing.assert_array_equal(onset, [0.5, 2.25, 4.0])
    duration = t["duration"]
    assert duration[0] == 1 and math.isnan(duration[1]) and duration[2] == 0
    assert t["trial_type"] == ["go", "stop", "go"]
    assert t[3][1] == 0.431 and math.isnan(t[3][0])  # by index
    assert t[1, "trial_type"] == "stop" and t[0, "response_time"] is None
    assert t[-1, -2] == "go"
    assert t.is_numeric("onset") and not t.is_numeric("trial_type")
    assert "onset" in t and "Onset" not in t
    assert t.rows()[1] == {"onset": "2.25", "duration": None, "trial_type": "stop",
                           "response_time": "0.431"}
    # The same cells as Python's csv module reads them.
    with open(events_path, newline="") as f:
        truth = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert [list(r.values()) for r in t.rows()] == [
        [None if v == "n/a" else v for v in row] for row in truth[1:]]
    assert "3 rows x 4 columns" in repr(t)


def test_errors_name_file_line_and_column(events_path, tmp_path):
    t = btfm.read_table(events_path)
    with pytest.raises(btfm.Error) as info:
        t.numbers("trial_type")
    assert info.value.status_name == "BTFM_E_FORMAT"
    assert 'line 2, column 3 ("trial_type"): "go" is not a number' in str(info.value)
    with pytest.raises(btfm.Error) as info:
        t.column_index("nope")
    assert info.value.status_name == "BTFM_E_NOTFOUND"
    assert "onset, duration, trial_type, response_time" in str(info.value)
    with pytest.raises(IndexError):
        t.cell(3, 0)
    with pytest.raises(IndexError):
        t.cell(0, 4)
    with pytest.raises(btfm.Error) as info:
        btfm.read_table(tmp_path / "missing.tsv")
    assert info.value.status_name == "BTFM_E_NOTFOUND"
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tb\n1\t2\n3\t\xff\n")
    with pytest.raises(btfm.Error) as info:
        btfm.read_table(bad)
    assert "line 3, column 2: invalid UTF-8" in str(info.value)
    with pytest.raises(btfm.Error, match="line 1: column 2 repeats"):
        btfm.parse_table("x\tx\n")


def test_from_columns_save_and_read_back(tmp_path):
    onsets = [0.1, 1 / 3, 2.0, float("nan"), 1e-300]
    t = btfm.Table.from_columns({"onset": onsets, "trial_type": ["a", "b é", None, "d", "e"],
                                 "sample": [1, 2, 3, 4, 5]})
    path = tmp_path / "events.tsv"
    t.save(path)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "onset\ttrial_type\tsample"
    assert text.splitlines()[2] == f"{1 / 3!r}\tb é\t2"
    assert text.splitlines()[4].startswith("n/a\td\t4")
    back = btfm.read_table(path)
    values = back["onset"]
    for a, b in zip(values, onsets):
        assert (math.isnan(a) and math.isnan(b)) or a == b
    np.testing.assert_array_equal(back["sample"], [1, 2, 3, 4, 5])
    assert back["trial_type"] == ["a", "b é", None, "d", "e"]
    with pytest.raises(ValueError, match="differ in length"):
        btfm.Table.from_columns({"a": [1], "b": [1, 2]})


def test_edits(tmp_path):
    t = btfm.Table(["name", "type"])
    t.add_row(["Fz", "EEG"])
    t.add_row({"name": "Cz"})
    assert t.rows() == [{"name": "Fz", "type": "EEG"}, {"name": "Cz", "type": None}]
    t[1, "type"] = "EOG"
    t.add_column("status", "good")
    t.add_column("low_cutoff", [0.1, None])
    t[0, "status"] = "bad"
    assert t.strings("status") == ["bad", "good"]
    assert t["type"] == ["EEG", "EOG"]
    np.testing.assert_array_equal(np.isnan(t["low_cutoff"]), [False, True])
    with pytest.raises(btfm.Error, match="holds a tab"):
        t.add_row(["a\tb", "EEG", "good", 1])
    with pytest.raises(btfm.Error, match="holds a tab"):
        t[0, "name"] = "x\ny"
    with pytest.raises(ValueError, match="2 values for 4 columns"):
        t.add_row(["a", "b"])
    with pytest.raises(KeyError):
        t.add_row({"nope": 1})
    with pytest.raises(ValueError, match="must be finite"):
        t.add_row(["a", "b", "c", float("inf")])
    with pytest.raises(TypeError):
        t.add_row(["a", "b", "c", True])
    with pytest.raises(btfm.Error, match="repeats the name"):
        t.add_column("name")
    assert len(t) == 2 and len(t.columns) == 4
    with pytest.raises(btfm.Error, match="at least 1"):
        btfm.Table([])
    t.close()
    t.close()
    with pytest.raises(ValueError, match="closed table"):
        len(t)
    assert "closed" in repr(t)


def test_parse_table_accepts_bom_and_crlf():
    t = btfm.parse_table(b"\xef\xbb\xbfa\tb\r\n1\t2\r\n\r\n", name="x.tsv")
    assert t.columns == ["a", "b"] and len(t) == 1
    np.testing.assert_array_equal(t["b"], [2.0])
