"""BIDS eye-tracking physio recordings (*_physio.tsv.gz without a header, the JSON
sidecar naming its columns; *_physioevents beside it) written here after the BIDS
"Physiological recordings" section and BEP020: libbtfm gives back the values, rate,
names, types and units written, and the events on the recording's clock."""

import gzip
import json

import numpy as np
import pytest

import btfm


def write(folder, stem, sidecar, rows, events=None, events_sidecar=None, fmt="%.6g"):
    with gzip.open(folder / f"{stem}_physio.tsv.gz", "wt") as f:
        for row in rows:
            f.write("\t".join("n/a" if isinstance(v, float) and np.isnan(v) else fmt % v
                              if not isinstance(v, str) else v for v in row) + "\n")
    (folder / f"{stem}_physio.json").write_text(json.dumps(sidecar))
    if events is not None:
        with gzip.open(folder / f"{stem}_physioevents.tsv.gz", "wt") as f:
            for row in events:
                f.write("\t".join(str(v) for v in row) + "\n")
        (folder / f"{stem}_physioevents.json").write_text(json.dumps(events_sidecar))
    return str(folder / f"{stem}_physio.tsv.gz")


SIDECAR = {"SamplingFrequency": 500, "StartTime": -0.25, "PhysioType": "eyetrack",
           "RecordedEye": "left", "SampleCoordinateSystem": "gaze-on-screen",
           "Columns": ["timestamp", "x_coordinate", "y_coordinate", "pupil_size"],
           "timestamp": {"Units": "ms"}, "x_coordinate": {"Units": "pixel"},
           "y_coordinate": {"Units": "pixel"}, "pupil_size": {"Units": "a.u."}}


def test_eye_tracking_samples_and_events(tmp_path):
    n = 997  # prime
    rng = np.random.default_rng(0)
    t = 123456.0 + 2.0 * np.arange(n)
    gaze = np.round(rng.uniform(0, 1920, (n, 2)), 1)
    pupil = np.round(rng.uniform(800, 1200, n))
    gaze[100:130] = np.nan  # a blink: n/a
    rows = np.column_stack([t, gaze, pupil])
    events = [(123456 + 40, 120, "fixation", "n/a"), (123456 + 200, 60, "blink", "n/a"),
              (123456 + 1000, "n/a", "n/a", "TRIGGER 12"),
              (123456 + 1500, 0, "n/a", "sentence 3 onset")]
    path = write(tmp_path, "sub-01_task-read_recording-eye1", SIDECAR, rows, events,
                 {"Columns": ["onset", "duration", "trial_type", "message"],
                  "onset": {"Units": "ms"}})
    with btfm.open(path) as ds:
        assert ds.format == "physio"
        assert ds.sfreq == 500
        assert ds.ch_names == SIDECAR["Columns"]
        assert [c.type for c in ds.channels] == ["misc", "gaze", "gaze", "pupil"]
        assert [c.unit for c in ds.channels] == ["ms", "pixel", "pixel", "a.u."]
        np.testing.assert_array_equal(ds.data, rows.astype(np.float32))
        got = [(e.type, e.label, round(e.onset, 9), round(e.duration, 9), e.code)
               for e in ds.events]
        assert got == [("fixation", "fixation", 0.04, 0.12, 0), ("blink", "blink", 0.2, 0.06, 0),
                       ("message", "TRIGGER 12", 1.0, 0.0, 12),
                       ("message", "sentence 3 onset", 1.5, 0.0, 0)]
        assert ds.metadata["RecordedEye"] == "left"
        assert ds.metadata["StartTime"] == -0.25


def test_without_timestamps_onsets_follow_start_time(tmp_path):
    sidecar = {"SamplingFrequency": 100.0, "StartTime": 2.5, "Columns": ["cardiac", "trigger"]}
    rows = [(0.5 * k, k % 2) for k in range(31)]
    path = write(tmp_path, "sub-01_task-rest_recording-cardiac", sidecar, rows,
                 [(3.0, 0.5, "beat", "n/a")],
                 {"Columns": ["onset", "duration", "trial_type", "message"]})
    with btfm.open(path) as ds:
        assert [c.type for c in ds.channels] == ["ppg", "stim"]
        np.testing.assert_array_equal(ds.data, np.array(rows, np.float32))
        assert [(e.onset, e.duration, e.label) for e in ds.events] == [(0.5, 0.5, "beat")]


def test_malformed_files_say_what_and_where(tmp_path):
    rows = [(1.0, 2.0)]
    bad = dict(SIDECAR, Columns=["x_coordinate", "y_coordinate"])
    del bad["SamplingFrequency"]
    path = write(tmp_path, "a", bad, rows)
    with pytest.raises(btfm.Error, match=r"a_physio.tsv.gz: the sidecar's SamplingFrequency "
                                         r"is missing"):
        btfm.open(path)
    path = write(tmp_path, "b", dict(SIDECAR, Columns=["x_coordinate"]), rows)
    with pytest.raises(btfm.Error, match=r"b_physio.tsv.gz.*line 2"):
        btfm.open(path)
    path = write(tmp_path, "c", dict(SIDECAR, Columns=["x", "y"]), [("1", "oops")])
    with pytest.raises(btfm.Error, match=r"c_physio.tsv.gz.*line 2"):
        btfm.open(path)
    (tmp_path / "d_physio.tsv.gz").write_bytes(gzip.compress(b"1\t2\n"))
    with pytest.raises(btfm.Error, match=r"d_physio.json"):
        btfm.open(str(tmp_path / "d_physio.tsv.gz"))
