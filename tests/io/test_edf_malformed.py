"""Malformed EDF/BDF files, written here from the specification (edfspec.py), each
refused with a named error whose message gives the file, the field and the byte offset
the specification assigns to that field; and a file whose record count disagrees with
its size, readable only on request."""

import os
import sys

import numpy as np
import pytest

import btfm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python", "tests"))
import edfspec  # noqa: E402
from conftest import restore_log_state  # noqa: E402,F401 (a fixture)

SPR = 32
N_RECORDS = 3


def signals():
    rng = np.random.default_rng(1)
    return [{"label": "EEG C3", "dim": "uV", "pmin": -100, "pmax": 100, "dmin": -2048,
             "dmax": 2047, "spr": SPR, "digital": rng.integers(-2048, 2048, SPR * N_RECORDS)},
            {"label": "EEG C4", "dim": "uV", "pmin": -100, "pmax": 100, "dmin": -2048,
             "dmax": 2047, "spr": SPR, "digital": rng.integers(-2048, 2048, SPR * N_RECORDS)}]


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.edf"
    data = edfspec.write(path, signals(), N_RECORDS, plus=None)
    return path, data


def refused(path, status, *parts):
    with pytest.raises(btfm.Error) as err:
        btfm.open(path)
    assert err.value.status_name == status, err.value
    for part in (str(path),) + parts:
        assert part in err.value.message, (part, err.value.message)
    return err.value.message


def test_a_good_file_opens(good):
    path, _ = good
    with btfm.open(path) as ds:
        assert (ds.n_channels, ds.n_times) == (2, SPR * N_RECORDS)


@pytest.mark.parametrize("cut", [0, 100, 255, 256 + 10, 256 * 3 - 1])
def test_truncated_inside_the_header(good, cut):
    path, data = good
    path.write_bytes(data[:cut])
    refused(path, "BTFM_E_TRUNCATED", f"byte {cut}")


def test_truncated_inside_the_data(good):
    path, data = good
    path.write_bytes(data[:len(data) - 5])
    refused(path, "BTFM_E_TRUNCATED", "byte 236", "3 data records")


def test_oversized_signal_count(good):
    path, data = good
    edfspec.patch(path, 252, "9999")
    refused(path, "BTFM_E_FORMAT", "byte 184", "9999 signals")
    edfspec.patch(path, 184, edfspec.field("2560000", 8))
    refused(path, "BTFM_E_TRUNCATED", f"byte {len(data)}", "header of 2560000 bytes")


def test_oversized_record_count(good):
    path, _ = good
    edfspec.patch(path, 236, edfspec.field("99999999", 8))
    refused(path, "BTFM_E_TRUNCATED", "byte 236", "99999999")


def test_negative_counts(good):
    path, data = good
    edfspec.patch(path, 236, edfspec.field("-7", 8))
    refused(path, "BTFM_E_FORMAT", "byte 236", "-7")
    path.write_bytes(data)
    edfspec.patch(path, 252, "-2  ")
    refused(path, "BTFM_E_FORMAT", "byte 252", "-2")
    path.write_bytes(data)
    offset = edfspec.signal_offset("spr", 1, 2)
    edfspec.patch(path, offset, edfspec.field("-32", 8))
    refused(path, "BTFM_E_FORMAT", f"byte {offset}", "signal 2")


@pytest.mark.parametrize("value", ["nan", "inf", "1e999", ""])
def test_nan_scaled_signal(good, value):
    path, _ = good
    offset = edfspec.signal_offset("pmax", 0, 2)
    edfspec.patch(path, offset, edfspec.field(value, 8))
    refused(path, "BTFM_E_FORMAT", f"byte {offset}", "physical maximum", "signal 1")


def test_equal_digital_range(good):
    path, _ = good
    offset = edfspec.signal_offset("dmax", 1, 2)
    edfspec.patch(path, offset, edfspec.field("-2048", 8))
    refused(path, "BTFM_E_FORMAT", "signal 2")


def test_zero_channels(tmp_path):
    path = tmp_path / "empty.edf"
    edfspec.write(path, [], 1, plus=None)
    refused(path, "BTFM_E_FORMAT", "byte 252", "number of signals is 0")


def test_zero_records(tmp_path):
    path = tmp_path / "norecords.edf"
    edfspec.write(path, signals(), N_RECORDS, plus=None)
    edfspec.patch(path, 236, edfspec.field("0", 8))
    data = path.read_bytes()
    path.write_bytes(data[:edfspec.HEADER * 3])
    refused(path, "BTFM_E_FORMAT", "byte 236", "number of data records is 0")


def test_bad_version_and_non_numbers(good):
    path, data = good
    edfspec.patch(path, 0, "1       ")
    refused(path, "BTFM_E_FORMAT", "byte 0")
    path.write_bytes(data)
    edfspec.patch(path, 244, edfspec.field("one", 8))
    refused(path, "BTFM_E_FORMAT", "byte 244", "duration of a data record", '"one"')


def test_record_count_disagreeing_with_size(tmp_path, restore_log_state):
    path = tmp_path / "long.edf"
    sigs = signals()
    data = edfspec.write(path, sigs, N_RECORDS, plus=None)
    record = (len(data) - edfspec.HEADER * 3) // N_RECORDS
    # The header says 2 records, the file holds 3 and a half.
    edfspec.patch(path, 236, edfspec.field("2", 8))
    with open(path, "ab") as f:
        f.write(b"\0" * (record // 2))
    refused(path, "BTFM_E_FORMAT", "byte 236", "2 data records", "3 complete records")
    messages = []
    btfm.set_log_handler(lambda level, text: messages.append((level, text)))
    with btfm.open(path, complete_records=True) as ds:
        assert ds.n_times == 2 * SPR  # what the header declares, complete in the file
        want = edfspec.physical(sigs[0])[:2 * SPR] * 1e-6
        assert np.max(np.abs(ds.read(0, 2 * SPR, picks=[0])[:, 0] - want)) <= 200 / 4095 * 1e-6
    assert [level for level, text in messages if str(path) in text] == ["warning"]
