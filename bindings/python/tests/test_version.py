"""Version, capabilities and status names, checked against the public headers' text."""

import pickle
import re

import pytest

import btfm
from conftest import c_enum, header_text


def header_version():
    text = header_text("version.h")
    return tuple(int(re.search(rf"#define\s+BTFM_VERSION_{part}\s+(\d+)", text).group(1))
                 for part in ("MAJOR", "MINOR", "PATCH"))


def test_version_string_matches_the_header_macros():
    major, minor, patch = header_version()
    assert btfm.version() == f"{major}.{minor}.{patch}"


def test_version_number_matches_the_header_encoding():
    major, minor, patch = header_version()
    assert btfm.version_number() == major * 10000 + minor * 100 + patch


def test_package_version():
    assert btfm.__version__ == "1.3.0"


def test_capabilities_are_words_each_reported_by_has_capability():
    words = btfm.capabilities()
    assert words, "a build always has at least the core"
    assert "core" in words and "container" in words
    assert len(set(words)) == len(words)
    for word in words:
        assert re.fullmatch(r"[a-z0-9_.+-]+", word), word
        assert btfm.has_capability(word) is True


def test_has_capability_is_false_for_unknown_words_and_parts_of_words():
    assert btfm.has_capability("no-such-capability") is False
    assert btfm.has_capability("") is False
    longest = max(btfm.capabilities(), key=len)
    assert btfm.has_capability(longest[:-1]) is False
    assert btfm.has_capability(longest + " ") is False


def test_has_capability_rejects_none():
    with pytest.raises(TypeError):
        btfm.has_capability(None)


def test_status_names_equal_the_enum_in_status_h():
    expected = {value: name for name, value in c_enum(header_text("status.h"),
                                                       "btfm_status").items()}
    assert btfm.STATUS_NAMES == expected


def test_status_enum_members_mirror_the_names():
    for code, name in btfm.STATUS_NAMES.items():
        assert getattr(btfm.Status, name[len("BTFM_"):]) == code


def test_error_carries_status_name_description_and_message():
    with pytest.raises(btfm.Error) as caught:
        btfm.Container("x" * 256)  # kinds are 1 to 255 bytes
    err = caught.value
    assert err.status < 0
    assert btfm.STATUS_NAMES[err.status] == err.status_name
    assert err.status_name.startswith("BTFM_E_")
    assert "256" in err.message  # the library says what was wrong
    assert err.status_name in str(err) and err.message in str(err)
    assert err.description and err.description != err.message


def test_error_survives_pickling():
    err = btfm.Error(btfm.Status.E_FORMAT, "byte 12: bad magic")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.status, copy.status_name, copy.message) == \
        (err.status, "BTFM_E_FORMAT", "byte 12: bad magic")


def test_check_passes_non_negative_statuses_through():
    assert btfm.check(0) == 0
    assert btfm.check(7) == 7
    with pytest.raises(btfm.Error) as caught:
        btfm.check(btfm.Status.E_NUMERIC)
    assert caught.value.status_name == "BTFM_E_NUMERIC"


def test_live_allocations_return_to_baseline():
    before = btfm.live_allocations()
    c = btfm.Container("leak-check")
    c.put_text("t", "abc")
    assert btfm.live_allocations() > before
    c.close()
    assert btfm.live_allocations() == before


def test_runtime_info_is_the_cli_report_as_a_dict():
    import os
    info = btfm.runtime_info()
    assert info["version"] == btfm.version()
    assert info["capabilities"].split() == btfm.capabilities()
    assert info["blas"].startswith("OpenBLAS ") and info["blas"] in info["blas_config"]
    assert info["blas_kernels"] in info["blas_config"]
    assert info["OPENBLAS_CORETYPE"] == os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    assert int(info["blas_threads"]) >= 1
    assert info["advice"] == "none" or "OPENBLAS_CORETYPE=" in info["advice"]
    assert info["blas_thread_control"] == "off"


def test_blas_thread_control_is_off_until_the_host_turns_it_on():
    assert btfm.get_blas_thread_control() is False
    try:
        assert btfm.set_blas_thread_control(True) is False
        assert btfm.get_blas_thread_control() is True
        assert btfm.runtime_info()["blas_thread_control"] == "on"
    finally:
        assert btfm.set_blas_thread_control(False) is True
    assert btfm.runtime_info()["blas_thread_control"] == "off"
