"""Log levels and handlers. The library reports every failure at debug level, which
gives a way to make it log on demand."""

import logging
import subprocess
import sys

import pytest

import btfm
from conftest import c_enum, header_text, subprocess_env


def provoke_failure():
    """A failing call: an out-of-range parameter value. Returns the error."""
    with btfm.Container("log") as c:
        with pytest.raises(btfm.Error) as caught:
            c.set_param("fsync", 7)
    return caught.value


def test_level_names_equal_the_enum_in_log_h():
    levels = c_enum(header_text("log.h"), "btfm_log_level")
    expected = [name[len("BTFM_LOG_"):].lower()
                for name, _ in sorted(levels.items(), key=lambda item: item[1])]
    assert btfm.log_levels() == expected


def test_default_level_is_warning_as_documented():
    # Run in a fresh interpreter: this process's level may have been changed by a test.
    result = subprocess.run([sys.executable, "-c", "import btfm; print(btfm.get_log_level())"],
                            env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "warning"


def test_set_log_level_round_trip(restore_log_state):
    for name in btfm.log_levels():
        btfm.set_log_level(name)
        assert btfm.get_log_level() == name
    btfm.set_log_level("INFO")
    assert btfm.get_log_level() == "info"


def test_set_log_level_rejects_unknown_names(restore_log_state):
    btfm.set_log_level("error")
    with pytest.raises(ValueError, match="debug"):
        btfm.set_log_level("verbose")
    with pytest.raises(TypeError):
        btfm.set_log_level(None)
    assert btfm.get_log_level() == "error"


def test_handler_receives_the_failure_message_at_debug(restore_log_state):
    received = []
    btfm.set_log_handler(lambda level, message: received.append((level, message)))
    btfm.set_log_level("debug")
    err = provoke_failure()
    assert received, "no message reached the handler"
    level, message = received[-1]
    assert level == "debug"
    assert err.status_name in message and err.message in message


def test_level_filters_before_the_handler(restore_log_state):
    received = []
    btfm.set_log_handler(lambda level, message: received.append((level, message)))
    btfm.set_log_level("warning")
    provoke_failure()
    assert received == []


def test_none_restores_the_default_handler_on_stderr():
    code = ("import btfm\n"
            "btfm.set_log_handler(lambda level, message: print('py', level))\n"
            "btfm.set_log_handler(None)\n"
            "btfm.set_log_level('debug')\n"
            "c = btfm.Container('log')\n"
            "try:\n    c.set_param('fsync', 7)\nexcept btfm.Error:\n    pass\n")
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "py" not in result.stdout
    assert "btfm: debug: BTFM_E_RANGE" in result.stderr


def test_handler_must_be_callable():
    with pytest.raises(TypeError):
        btfm.set_log_handler("print")


def test_log_to_logging_forwards_with_matching_level(restore_log_state, caplog):
    logger = btfm.log_to_logging("btfm.test")
    assert logger.name == "btfm.test"
    btfm.set_log_level("debug")
    with caplog.at_level(logging.DEBUG, logger="btfm.test"):
        err = provoke_failure()
    records = [r for r in caplog.records if r.name == "btfm.test"]
    assert records and records[-1].levelno == logging.DEBUG
    assert err.message in records[-1].getMessage()


def test_exception_in_handler_is_reported_and_does_not_break_the_call(restore_log_state,
                                                                      monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def handler(level, message):
        raise RuntimeError("handler failure")

    btfm.set_log_handler(handler)
    btfm.set_log_level("debug")
    err = provoke_failure()  # still the library's error, not the handler's
    assert err.status_name == "BTFM_E_RANGE"
    assert [type(r.exc_value) for r in reported] == [RuntimeError]
    assert str(reported[0].exc_value) == "handler failure"
