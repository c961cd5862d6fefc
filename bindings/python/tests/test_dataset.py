"""btfm.open / btfm.Dataset over files written here by tests/io/edfspec.py, a writer
from the EDF+/BDF+ specifications independent of libbtfm. Expected values come from the
digital samples written and the specification's scaling formula (NumPy), from the
header enums (parsed from include/btfm/dataset.h) and from what the test wrote."""

import datetime
import subprocess
import sys

import numpy as np
import pytest

import btfm
from conftest import SOURCE_ROOT, c_enum, header_text, subprocess_env

sys.path.insert(0, str(SOURCE_ROOT / "tests" / "io"))
import edfspec  # noqa: E402

SPR = 256  # samples per 1-s record of the fast channels
N_RECORDS = 4
ANNOTATIONS = [(0.5, 0.25, "start"), (1.75, None, "Überraschung ☺"), (3.0, 1.0, "end")]


def make_signals(rng, slow=False):
    """EEG Fz and EEG Cz at 256 Hz, EOG left at 256 Hz (or 128 Hz with `slow`)."""
    n = SPR * N_RECORDS
    signals = [
        {"label": "EEG Fz", "dim": "uV", "pmin": -3276.8, "pmax": 3276.7, "dmin": -32768,
         "dmax": 32767, "spr": SPR, "digital": rng.integers(-32768, 32768, n)},
        {"label": "EEG Cz", "dim": "mV", "pmin": -5, "pmax": 5, "dmin": -2048, "dmax": 2047,
         "spr": SPR, "digital": rng.integers(-2048, 2048, n)},
    ]
    eog_spr = SPR // 2 if slow else SPR
    signals.append({"label": "EOG left", "dim": "uV", "pmin": -500, "pmax": 500,
                    "dmin": -1000, "dmax": 1000, "spr": eog_spr,
                    "digital": rng.integers(-1000, 1001, eog_spr * N_RECORDS)})
    return signals


SCALE = {"uV": 1e-6, "mV": 1e-3, "V": 1.0}


def expected_si(signal):
    return edfspec.physical(signal) * SCALE[signal["dim"]]


@pytest.fixture
def edf(tmp_path):
    signals = make_signals(np.random.default_rng(7))
    path = tmp_path / "rec.edf"
    edfspec.write(path, signals, N_RECORDS, annotations=ANNOTATIONS,
                  patient="P-007 M 01-JAN-1990 Jane_Doe",
                  recording="Startdate 01-FEB-2003 R-1 tech eq")
    return path, signals


def test_header_channels_and_events(edf):
    path, signals = edf
    with btfm.open(path) as ds:
        assert ds.format == "edf"
        assert ds.sfreq == 256.0
        assert ds.n_times == SPR * N_RECORDS
        assert ds.n_channels == 3
        assert ds.ch_names == ["EEG Fz", "EEG Cz", "EOG left"]
        chans = ds.channels
        assert [c.type for c in chans] == ["eeg", "eeg", "eog"]
        assert [c.unit for c in chans] == ["V", "V", "V"]
        assert [c.rate for c in chans] == [256.0] * 3
        assert [c.n_samples for c in chans] == [SPR * N_RECORDS] * 3
        assert [c.bad for c in chans] == [False] * 3
        assert ds.subject == "P-007 M 01-JAN-1990 Jane_Doe"
        assert ds.recording == "Startdate 01-FEB-2003 R-1 tech eq"
        # startdate 01.02.03 and starttime 04.05.06 as written
        assert ds.start_time == datetime.datetime(2003, 2, 1, 4, 5, 6,
                                                  tzinfo=datetime.timezone.utc)
        events = [e for e in ds.events if e.type == "annotation"]
        assert [(e.onset, e.duration, e.label) for e in events] == \
            [(0.5, 0.25, "start"), (1.75, 0.0, "Überraschung ☺"), (3.0, 1.0, "end")]
        assert all(isinstance(e, btfm.Event) and e.code == 0 for e in events)
        assert ds.records == [btfm.Record(float(r), r * SPR) for r in range(N_RECORDS)]
        assert "rec.edf" in repr(ds) and "3 channels x 1024 samples at 256 Hz" in repr(ds)


def test_read_matches_the_specification_scaling(edf):
    path, signals = edf
    truth = np.stack([expected_si(s) for s in signals], axis=1)
    with btfm.open(str(path)) as ds:
        data = ds.data
        assert data.dtype == np.float32 and data.shape == (SPR * N_RECORDS, 3)
        assert data.flags.c_contiguous and data.flags.owndata  # numpy's own memory
        np.testing.assert_allclose(data, truth.astype(np.float32), rtol=2e-7, atol=0)
        window = ds.read(300, 700)
        np.testing.assert_array_equal(window, data[300:700])
        # picks by name and index, in the order given, duplicates allowed
        picked = ds.read(10, 20, picks=["EOG left", 0, "EOG left"])
        np.testing.assert_array_equal(picked, data[10:20][:, [2, 0, 2]])
        one = ds.read(0, 5, picks="EEG Cz")
        assert one.shape == (5, 1)
        np.testing.assert_array_equal(one[:, 0], data[:5, 1])
        assert ds.read(7, 7).shape == (0, 3)
        native = ds.read_native("EEG Cz", 100, 110)
        np.testing.assert_allclose(native, truth[100:110, 1].astype(np.float32), rtol=2e-7,
                                   atol=0)


def test_read_into_a_given_array(edf):
    path, _ = edf
    with btfm.open(path) as ds:
        out = np.full((16, 2), np.nan, dtype=np.float32)
        result = ds.read(32, 48, picks=[1, 2], out=out)
        assert result is out
        np.testing.assert_array_equal(out, ds.data[32:48, 1:3])
        for bad in (np.zeros((16, 3), np.float32), np.zeros((16, 2), np.float64),
                    np.zeros((2, 16), np.float32).T):
            with pytest.raises(ValueError, match="float32"):
                ds.read(32, 48, picks=[1, 2], out=bad)


def test_bad_reads_are_named_errors(edf):
    path, _ = edf
    with btfm.open(path) as ds:
        with pytest.raises(btfm.NotFoundError) as err:
            ds.read(0, 10, picks=["Oz"])
        assert '"Oz"' in err.value.message and str(path) in err.value.message
        with pytest.raises(btfm.Error) as err:
            ds.read(0, 10, picks=[3])
        assert err.value.status_name == "BTFM_E_RANGE" and "picks[0] = 3" in err.value.message
        with pytest.raises(btfm.Error) as err:
            ds.read(1000, 1025)
        assert err.value.status_name == "BTFM_E_RANGE" and "[1000, 1025)" in err.value.message
        with pytest.raises(btfm.Error) as err:
            ds.read(-1, 3)
        assert err.value.status_name == "BTFM_E_RANGE"
        with pytest.raises(btfm.Error) as err:
            ds.read(0, 3, picks=[])
        assert err.value.status_name == "BTFM_E_INVALID"
        with pytest.raises(ValueError, match="before start"):
            ds.read(5, 4)
        with pytest.raises(TypeError):
            ds.read(0, 3, picks=[True])
        with pytest.raises(TypeError):
            ds.read(0.5, 3)
        with pytest.raises(btfm.Error) as err:
            ds.read_native(0, 0, SPR * N_RECORDS + 1)
        assert err.value.status_name == "BTFM_E_RANGE"


def test_channel_type_and_bad_flag_go_through_the_library(edf):
    path, _ = edf
    with btfm.open(path) as ds:
        eog = ds.channel("EOG left")
        eog.type = "MISC"
        eog.bad = True
        again = ds.channels[2]
        assert (again.type, again.bad) == ("misc", True)
        with pytest.raises(ValueError, match="unknown channel type 'nonsense'"):
            again.type = "nonsense"
        assert "bad" in repr(again) and "'EOG left'" in repr(again)
        with pytest.raises(btfm.Error) as err:
            ds.channel(5).name
        assert err.value.status_name == "BTFM_E_RANGE"


def test_names_of_formats_and_channel_types_match_the_header():
    header = header_text("dataset.h")
    formats = c_enum(header, "btfm_format")
    assert {v: k[len("BTFM_FORMAT_"):].lower() for k, v in formats.items()} == btfm.FORMATS
    types = c_enum(header, "btfm_channel_type")
    assert {v: k[len("BTFM_CH_"):].lower() for k, v in types.items()} == btfm.CHANNEL_TYPES
    assert btfm.format_name(2) == "bdf" and btfm.format_name(99) is None
    assert btfm.channel_type_name(6) == "stim"
    assert btfm.channel_type_from_name("EOG") == types["BTFM_CH_EOG"]


def test_save_round_trip_and_anonymize(edf, tmp_path):
    path, signals = edf
    copy, anon = tmp_path / "copy.edf", tmp_path / "anon.edf"
    with btfm.open(path) as ds:
        ds.save(copy)
        ds.save(anon, anonymize=True)
        assert ds.subject != ""  # the dataset itself is left as it is
        original = ds.data
    with btfm.open(copy) as back:
        np.testing.assert_array_equal(back.data, original)  # digital values kept
        assert back.ch_names == ["EEG Fz", "EEG Cz", "EOG left"]
        assert [(e.onset, e.label) for e in back.events if e.type == "annotation"] == \
            [(a[0], a[2]) for a in ANNOTATIONS]
    with btfm.open(anon) as back:
        assert "Jane" not in back.subject and "P-007" not in back.subject
        assert "R-1" not in back.recording
        assert back.start_time == datetime.datetime(1985, 1, 1, 4, 5, 6,
                                                    tzinfo=datetime.timezone.utc)
        np.testing.assert_array_equal(back.data, original)
    with btfm.open(path) as ds:
        ds.anonymize()
        assert ds.subject == "" and ds.recording == ""
        assert ds.start_time.date() == datetime.date(1985, 1, 1)
        with pytest.raises(btfm.Error) as err:
            ds.save(tmp_path / "x.txt")
        assert err.value.status_name == "BTFM_E_INVALID" and ".vhdr" in err.value.message
        with pytest.raises(ValueError, match="unknown format 'gdf'"):
            ds.save(tmp_path / "x.gdf", format="gdf")


def test_mixed_rates_native_and_resampled(tmp_path):
    signals = make_signals(np.random.default_rng(3), slow=True)
    path = tmp_path / "mixed.edf"
    edfspec.write(path, signals, N_RECORDS)
    with btfm.open(path) as ds:
        eog = ds.channel(2)
        assert (eog.rate, eog.n_samples) == (128.0, 128 * N_RECORDS)
        assert ds.sfreq == 256.0 and ds.n_times == SPR * N_RECORDS
        native = ds.read_native(2)
        np.testing.assert_allclose(native, expected_si(signals[2]).astype(np.float32),
                                   rtol=2e-7, atol=0)
        assert ds.read(0, ds.n_times, picks=[2]).shape == (SPR * N_RECORDS, 1)


def test_open_errors(tmp_path):
    with pytest.raises(btfm.NotFoundError) as err:
        btfm.open(tmp_path / "missing.edf")
    assert "missing.edf" in err.value.message
    junk = tmp_path / "junk.edf"
    junk.write_bytes(b"0       " + b"x" * 292)
    with pytest.raises(btfm.Error) as err:
        btfm.open(junk)
    assert err.value.status_name == "BTFM_E_FORMAT" and str(junk) in err.value.message
    with pytest.raises(ValueError, match="unknown format"):
        btfm.open(junk, format="gdf")
    with pytest.raises(btfm.Error, match="does not start with a file id tag"):
        btfm.open(junk, format="fif")  # a format forced by name is the one tried
    with pytest.raises(TypeError):
        btfm.open(None)


def test_complete_records_opt_in_with_a_logged_warning(tmp_path, restore_log_state):
    signals = make_signals(np.random.default_rng(5))
    path = tmp_path / "cut.edf"
    header = edfspec.HEADER * 5  # 3 signals + annotations
    record = (len(edfspec.write(path, signals, N_RECORDS)) - header) // N_RECORDS
    # Keep two full records and half of the third: the header still says 4.
    edfspec.write(path, signals, N_RECORDS, truncate=header + 2 * record + record // 2)
    with pytest.raises(btfm.Error) as err:
        btfm.open(path)
    assert err.value.status_name == "BTFM_E_TRUNCATED" and str(path) in err.value.message
    messages = []
    btfm.set_log_handler(lambda level, text: messages.append((level, text)))
    with btfm.open(path, complete_records=True) as ds:
        assert ds.n_times == 2 * SPR
        np.testing.assert_allclose(ds.read(0, 2 * SPR, picks=[0])[:, 0],
                                   expected_si(signals[0])[:2 * SPR].astype(np.float32),
                                   rtol=2e-7, atol=0)
    assert any(level == "warning" and str(path) in text for level, text in messages)


def test_life_cycle(edf):
    path, _ = edf
    ds = btfm.open(path)
    channel = ds.channels[0]
    ds.close()
    ds.close()  # harmless
    assert ds.closed and repr(ds) == "<btfm.Dataset (closed)>"
    for use in (lambda: ds.n_times, lambda: ds.read(0, 1), lambda: channel.name,
                lambda: ds.events, lambda: ds.save("x.edf")):
        with pytest.raises(ValueError, match="closed btfm.Dataset"):
            use()
    with btfm.open(path) as ds:
        pass
    assert ds.closed


def test_without_numpy_reads_give_shaped_arrays(edf, tmp_path):
    path, signals = edf
    script = (
        "import sys; sys.modules['numpy'] = None\n"
        "import btfm\n"
        f"ds = btfm.open({str(path)!r})\n"
        "w = ds.read(0, 3, picks=[1, 0])\n"
        "n = ds.read_native(2, 0, 2)\n"
        "print(type(w).__name__, w.typecode, w.shape, n.shape)\n"
        "print(list(w))\n"
        "print(list(n))\n")
    result = subprocess.run([sys.executable, "-c", script], env=subprocess_env(),
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ShapedArray f (3, 2) (2,)"
    expected = [expected_si(signals[c])[t] for t in range(3) for c in (1, 0)]
    np.testing.assert_allclose(eval(lines[1]), expected, rtol=2e-7, atol=0)
    np.testing.assert_allclose(eval(lines[2]), expected_si(signals[2])[:2], rtol=2e-7, atol=0)


def test_example_read_edf_reports_the_file(edf, tmp_path):
    path, signals = edf
    script = SOURCE_ROOT / "examples" / "python" / "read_edf.py"
    work = tmp_path / "cwd"
    work.mkdir()
    result = subprocess.run([sys.executable, str(script), str(path)], env=subprocess_env(),
                            cwd=work, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "edf: 3 channels x 1024 samples at 256 Hz" in out
    assert "start: 2003-02-01 04:05:06+00:00" in out
    assert "  EOG left: eog, V, 256 Hz" in out
    peak = max(np.abs(expected_si(s)[SPR:2 * SPR]).max() for s in signals[:2]) * 1e6
    assert f"window (256, 2), peak {peak:.3f} uV" in out
    assert "annotation at 1.750 s: Überraschung ☺" in out
    assert "shared copy: subject '" in out and "Jane" not in out.split("shared copy")[1]
    assert "start 1985-01-01 04:05:06+00:00" in out
    assert list(work.iterdir()) == []


# ---- datasets over caller data ----

def test_from_array_round_trips_through_brainvision_and_edf(tmp_path):
    import numpy as np
    rng = np.random.default_rng(5)
    data = (rng.standard_normal((1000, 3)) * 20e-6).astype(np.float32)
    ds = btfm.from_array(data, 250.0, ch_names=["Fz", "Cz", "Pz"], ch_types=["eeg"] * 3,
                         units=["V"] * 3)
    assert ds.format == "memory" and ds.sfreq == 250.0 and ds.ch_names == ["Fz", "Cz", "Pz"]
    np.testing.assert_array_equal(ds.data, data)
    np.testing.assert_array_equal(ds.read(10, 20, picks=["Pz", "Fz"]), data[10:20, [2, 0]])
    ds.add_event(2.0, 0.5, "late")
    ds.add_event(1.0, 0.0, "early", code=7)
    ds.add_event(1.0, 0.0, "early-second")
    assert [(e.onset, e.label, e.code) for e in ds.events] == [
        (1.0, "early", 7), (1.0, "early-second", 0), (2.0, "late", 0)]
    # BrainVision float32 in uV keeps the values up to float32 rounding of the uV scaling.
    ds.save(tmp_path / "x.vhdr")
    with btfm.open(tmp_path / "x.vhdr") as back:
        np.testing.assert_allclose(back.data, data, rtol=1e-6, atol=1e-12)
        assert [e.label for e in back.events if e.type != "New Segment"][:3] == [
            "early", "early-second", "late"]
    # EDF: 16-bit quantization over the measured range, one step at most.
    ds.save(tmp_path / "x.edf")
    with btfm.open(tmp_path / "x.edf") as back:
        step = (data.max(axis=0) - data.min(axis=0)) / 65535
        assert np.all(np.abs(back.data[:1000] - data) <= step * 1.01)
        assert back.ch_names == ["Fz", "Cz", "Pz"]


def test_from_array_copies_channel_info_from_like():
    import numpy as np
    first = btfm.from_array(np.zeros((10, 2), np.float32), 100.0, ch_names=["a", "b"],
                            ch_types=["eog", "emg"])
    first.channel("b").bad = True
    first.add_event(0.05, 0, "x")
    second = btfm.from_array(np.ones((20, 2), np.float32), 100.0, like=first)
    assert second.ch_names == ["a", "b"]
    assert [c.type for c in second.channels] == ["eog", "emg"]
    assert [c.bad for c in second.channels] == [False, True]
    assert [e.label for e in second.events] == ["x"]


def test_from_array_refuses_bad_shapes_and_rates():
    import numpy as np
    with pytest.raises(btfm.Error, match="sfreq is nan"):
        btfm.from_array(np.zeros((5, 2), np.float32), float("nan"))
    with pytest.raises(btfm.Error, match="shape 0 x 2"):
        btfm.from_array(np.zeros((0, 2), np.float32), 10.0)
    with pytest.raises(ValueError, match="2-D"):
        btfm.from_array(np.zeros(5, np.float32), 10.0)
    like = btfm.from_array(np.zeros((5, 3), np.float32), 10.0)
    with pytest.raises(btfm.Error, match="has 3 channels, the data 2"):
        btfm.from_array(np.zeros((5, 2), np.float32), 10.0, like=like)
    with pytest.raises(btfm.Error, match="name is empty"):
        like.channel(0).name = ""
    with pytest.raises(btfm.Error, match="duration -1"):
        like.add_event(0.0, -1.0, "x")


def test_positions_frames_and_nirs_geometry_round_trip():
    ds = btfm.from_array(np.zeros((4, 3), np.float32), 10.0)
    assert ds.channels[0].position is None
    assert ds.coordinate_frame == "unknown"
    ds.channels[1].position = (0.01, -0.02, 0.03)
    assert ds.channels[1].position == (0.01, -0.02, 0.03)
    ds.coordinate_frame = "head"
    ds.channels[0].nirs = btfm.NirsGeometry(1, 2, 850.0, (0.0, 0.0, 0.0), (0.03, 0.04, 0.0))
    geometry = ds.channels[0].nirs
    assert geometry.source == 1 and geometry.detector == 2 and geometry.wavelength == 850.0
    assert geometry.detector_pos == (0.03, 0.04, 0.0)
    # The channel's position is the midpoint of source and detector, as MNE stores it.
    assert ds.channels[0].position == (0.015, 0.02, 0.0)
    assert ds.channels[2].nirs is None
    positions = ds.positions
    assert positions.shape == (3, 3) and np.isnan(positions[2]).all()
    copy = btfm.from_array(np.ones((4, 3), np.float32), 10.0, like=ds)
    assert copy.coordinate_frame == "head" and copy.channels[0].nirs == geometry
    ds.channels[1].position = None
    assert ds.channels[1].position is None
    with pytest.raises(btfm.Error, match="not finite"):
        ds.channels[1].position = (0, float("nan"), 0)
    with pytest.raises(ValueError, match="3 coordinates"):
        ds.channels[1].position = (0, 0)
    with pytest.raises(btfm.Error, match="source 0"):
        ds.channels[1].nirs = (0, 1, 760.0, None, None)
