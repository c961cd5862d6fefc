"""BrainVision interop: files written here with numpy from the specification, in every
binary format and orientation and both codepages, read by libbtfm and by MNE
(mne.io.read_raw_brainvision); and files written by libbtfm's writer (from BrainVision and
from EDF+ sources) read by MNE: values to float32 precision, names, rates, annotations
and the recording date. (Debian's MNE 1.3 has no BrainVision writer, so MNE-written
fixtures are not possible here.)"""

import calendar
import datetime
import os
import warnings

import numpy as np
import pytest

import btfm
import edfspec

mne = pytest.importorskip("mne")
mne.set_log_level("ERROR")

DTYPES = {"INT_16": "<i2", "INT_32": "<i4", "IEEE_FLOAT_32": "<f4"}
UNITS = {"\u00b5V": 1e-6, "uV": 1e-6, "mV": 1e-3, "V": 1.0, "nV": 1e-9}
NAMES = ["Fp1", "EOG,left", "T\u00e9st\u20ac", "Cz"]  # a comma, and non-ASCII (cp1252 has €)
UNIT_OF = ["\u00b5V", "mV", "\u00b5V", "nV"]
RESOLUTION = [0.1, 0.048828125, 1.0, 250.0]
SFREQ = 512.0
MARKERS = [("Stimulus", "S  1", 101, 1), ("Response", "R 12", 40, 3), ("Comment", "a,b", 700, 0)]
DATE = "20210304050607123456"


def digital(binary_format, n_times, n_channels, seed=0):
    """Stored numbers spanning the format's range, extremes included."""
    rng = np.random.default_rng(seed)
    if binary_format == "IEEE_FLOAT_32":
        return (rng.standard_normal((n_times, n_channels)) * 300).astype(np.float32)
    info = np.iinfo(DTYPES[binary_format])
    d = rng.integers(info.min, info.max, size=(n_times, n_channels), endpoint=True)
    d[0, 0], d[1, 0] = info.min, info.max
    return d.astype(DTYPES[binary_format])


def escape(text):
    return text.replace(",", "\\1")


def write_bv(folder, stem, d, binary_format, orientation="MULTIPLEXED", codepage="UTF-8"):
    """An independent writer: .vhdr/.vmrk text from the specification, .eeg by numpy."""
    encoding = "cp1252" if codepage == "ANSI" else "utf-8"
    channels = "".join(f"Ch{i + 1}={escape(n)},,{RESOLUTION[i]!r},{UNIT_OF[i]}\n"
                       for i, n in enumerate(NAMES))
    vhdr = ("Brain Vision Data Exchange Header File Version 1.0\n; independent writer\n\n"
            f"[Common Infos]\nCodepage={codepage}\nDataFile={stem}.eeg\nMarkerFile={stem}.vmrk\n"
            f"DataFormat=BINARY\nDataOrientation={orientation}\nNumberOfChannels={len(NAMES)}\n"
            f"DataPoints={d.shape[0]}\nSamplingInterval={1e6 / SFREQ!r}\n\n"
            f"[Binary Infos]\nBinaryFormat={binary_format}\n\n[Channel Infos]\n{channels}")
    markers = "".join(f"Mk{i + 2}={t},{escape(desc)},{pos},{size},0\n"
                      for i, (t, desc, pos, size) in enumerate(MARKERS))
    vmrk = ("Brain Vision Data Exchange Marker File, Version 1.0\n\n"
            f"[Common Infos]\nCodepage={codepage}\nDataFile={stem}.eeg\n\n[Marker Infos]\n"
            f"Mk1=New Segment,,1,1,0,{DATE}\n{markers}")
    with open(os.path.join(folder, stem + ".vhdr"), "wb") as f:
        f.write(vhdr.replace("\n", "\r\n").encode(encoding))
    with open(os.path.join(folder, stem + ".vmrk"), "wb") as f:
        f.write(vmrk.replace("\n", "\r\n").encode(encoding))
    stored = d if orientation == "MULTIPLEXED" else d.T
    np.ascontiguousarray(stored).astype(DTYPES[binary_format]).tofile(
        os.path.join(folder, stem + ".eeg"))
    return os.path.join(folder, stem + ".vhdr")


def si_values(d):
    """Specification: value = stored number x resolution, in the channel's unit; to SI."""
    scale = np.array([RESOLUTION[i] * UNITS[UNIT_OF[i]] for i in range(len(NAMES))])
    return d.astype(np.float64) * scale


def assert_float32_close(ours, reference):
    np.testing.assert_allclose(ours, reference, rtol=3e-7, atol=1e-30)


def read_mne(vhdr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mne.io.read_raw_brainvision(vhdr, preload=True, verbose="ERROR")


@pytest.mark.parametrize("codepage", ["UTF-8", "ANSI"])
@pytest.mark.parametrize("orientation", ["MULTIPLEXED", "VECTORIZED"])
@pytest.mark.parametrize("binary_format", list(DTYPES))
def test_independent_files_read_by_btfm_and_mne(tmp_path, binary_format, orientation, codepage):
    d = digital(binary_format, 1000, len(NAMES))
    vhdr = write_bv(str(tmp_path), "rec", d, binary_format, orientation, codepage)
    truth = si_values(d)
    raw = read_mne(vhdr)
    with btfm.open(vhdr) as ds:
        assert ds.sfreq == SFREQ == raw.info["sfreq"]
        assert ds.ch_names == NAMES == raw.ch_names
        ours = ds.data
        assert ours.shape == truth.shape
        assert_float32_close(ours, truth)
        assert_float32_close(ours, raw.get_data().T)
        window = ds.read(333, 444, picks=["Cz", "Fp1"])
        assert_float32_close(window, truth[333:444][:, [3, 0]])
        events = ds.events
        start = ds.start_time
    # Markers: onset (position - 1) / sfreq, as MNE's annotations, and descriptions.
    want = sorted([(0.0, 1 / SFREQ, "New Segment", "", 0)] +
                  [((pos - 1) / SFREQ, size / SFREQ, t, desc,
                    int(desc[1:]) if desc[0] in "SR" else 0) for t, desc, pos, size in MARKERS])
    got = [(e.onset, e.duration, e.type, e.label, e.code) for e in events]
    assert [g[2:] for g in got] == [w[2:] for w in want]
    np.testing.assert_allclose([g[:2] for g in got], [w[:2] for w in want], atol=1e-12)
    # MNE passes onsets through absolute POSIX times (~1.6e9 s), which costs it ~5e-7 s.
    np.testing.assert_allclose([e.onset for e in events], raw.annotations.onset, atol=2e-6)
    assert [f"{e.type}/{e.label}" for e in events] == list(raw.annotations.description)
    assert start == raw.info["meas_date"] == datetime.datetime(
        2021, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.timezone.utc)

@pytest.mark.parametrize("binary_format", list(DTYPES))
def test_our_writer_read_by_mne_keeps_stored_numbers(tmp_path, binary_format):
    d = digital(binary_format, 777, len(NAMES), seed=1)
    src = write_bv(str(tmp_path), "src", d, binary_format, "VECTORIZED", "ANSI")
    out = str(tmp_path / "out.vhdr")
    with btfm.open(src) as ds:
        ds.save(out)
    # Stored numbers copied exactly (multiplexed, same binary format).
    stored = np.fromfile(str(tmp_path / "out.eeg"), dtype=DTYPES[binary_format])
    np.testing.assert_array_equal(stored.reshape(777, len(NAMES)), d)
    raw = read_mne(out)
    assert raw.ch_names == NAMES
    assert raw.info["sfreq"] == SFREQ
    assert_float32_close(raw.get_data().T, si_values(d))
    assert raw.info["meas_date"] == datetime.datetime(2021, 3, 4, 5, 6, 7, 123456,
                                                      tzinfo=datetime.timezone.utc)
    np.testing.assert_allclose(raw.annotations.onset,
                               [0.0] + sorted((p - 1) / SFREQ for _, _, p, _ in MARKERS), atol=2e-6)
    assert list(raw.annotations.description) == \
        ["New Segment/", "Response/R 12", "Stimulus/S  1", "Comment/a,b"]


def test_edf_source_written_as_float32_read_by_mne(tmp_path):
    rng = np.random.default_rng(2)
    signals = [{"label": "EEG Fz", "dim": "uV", "pmin": -3276.8, "pmax": 3276.7, "dmin": -32768,
                "dmax": 32767, "spr": 256, "digital": rng.integers(-32768, 32767, 256 * 4)},
               {"label": "Resp", "dim": "au", "pmin": -100, "pmax": 100, "dmin": -32768,
                "dmax": 32767, "spr": 256, "digital": rng.integers(-32768, 32767, 256 * 4)}]
    edf = str(tmp_path / "src.edf")
    edfspec.write(edf, signals, 4, annotations=[(1.5, 0.25, "lights off"), (2.0, None, "x,y")],
                  startdate="04.03.21", starttime="05.06.07")
    out = str(tmp_path / "out.vhdr")
    with btfm.open(edf) as ds:
        ds.save(out, anonymize=True)
        assert ds.start_time.year == 2021  # the caller's dataset is not anonymized
    with open(out, encoding="utf-8") as f:
        assert "BinaryFormat=IEEE_FLOAT_32\n" in f.read()
    raw = read_mne(out)
    assert raw.ch_names == ["EEG Fz", "Resp"]
    assert raw.info["sfreq"] == 256.0
    truth = np.stack([edfspec.physical(signals[0]) * 1e-6, edfspec.physical(signals[1])])
    np.testing.assert_allclose(raw.get_data(), truth, rtol=2e-7, atol=1e-12)
    assert raw.info["meas_date"] == datetime.datetime(1985, 1, 1, 5, 6, 7, tzinfo=datetime.timezone.utc)
    np.testing.assert_allclose(raw.annotations.onset, [0.0, 1.5, 2.0], atol=2e-6)
    np.testing.assert_allclose(raw.annotations.duration, [1 / 256, 0.25, 0.0], atol=1e-12)
    assert list(raw.annotations.description) == ["New Segment/", "Comment/lights off", "Comment/x,y"]
    assert calendar.timegm(raw.info["meas_date"].timetuple()) == 473403967


@pytest.mark.parametrize("orientation", ["MULTIPLEXED", "VECTORIZED"])
def test_long_recordings_cross_read_chunks(tmp_path, orientation):
    """Longer than the reader's 1 MiB chunks and the writer's 4096-row chunks, with
    windows straddling chunk edges; the copy made by our writer is exact."""
    n = 600_001  # a single channel's span alone exceeds one chunk of INT_16 (524288)
    d = digital("INT_16", n, len(NAMES), seed=3)
    vhdr = write_bv(str(tmp_path), "long", d, "INT_16", orientation)
    truth = si_values(d)
    with btfm.open(vhdr) as ds:
        assert ds.n_times == n
        assert_float32_close(ds.data, truth)
        assert_float32_close(ds.read(131_000, 132_000, picks=[3, 1]), truth[131_000:132_000][:, [3, 1]])
        assert_float32_close(ds.read_native(2, 524_000, 525_000), truth[524_000:525_000, 2])
        ds.save(str(tmp_path / "copy.vhdr"))
    stored = np.fromfile(str(tmp_path / "copy.eeg"), dtype="<i2").reshape(n, len(NAMES))
    np.testing.assert_array_equal(stored, d)
