"""Route libbtfm's log messages to a Python callable or to the logging module.

One C callback is created for the life of the module and dispatches to the current
Python handler, so the function pointer the library holds can never dangle. The
handler runs on whichever thread called into libbtfm; it must not call libbtfm.
"""

from __future__ import annotations

import atexit
import logging
import threading

from ._errors import check
from ._lib import LOG_FN, lib
from ._util import enumerate_names

__all__ = ["set_log_handler", "set_log_level", "get_log_level", "log_levels",
           "log_to_logging"]

#: {0: "error", 1: "warning", ...}, read once: the callback must not call libbtfm.
_LEVEL_NAMES = enumerate_names(lib.btfm_log_level_name, 0)
_LEVEL_NUMBERS = {name: number for number, name in _LEVEL_NAMES.items()}
_PY_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO,
              "debug": logging.DEBUG}

_handler = None
_lock = threading.Lock()


def _dispatch(level, message, user):
    handler = _handler
    if handler is None:
        return
    name = _LEVEL_NAMES.get(level, str(level))
    handler(name, message.decode("utf-8", "replace") if message else "")


_c_callback = LOG_FN(_dispatch)


def set_log_handler(handler) -> None:
    """Send every libbtfm log message to `handler(level_name, message)`, where
    level_name is "error", "warning", "info" or "debug". None restores the library's
    default (messages to standard error). Exceptions raised by the handler are reported
    as unraisable and ignored."""
    global _handler
    if handler is not None and not callable(handler):
        raise TypeError(f"log handler must be callable or None, not "
                        f"{type(handler).__name__}")
    with _lock:
        _handler = handler
        if handler is None:
            lib.btfm_set_log_callback(LOG_FN(), None)  # a NULL function pointer
        else:
            lib.btfm_set_log_callback(_c_callback, None)


def log_levels() -> list:
    """Level names from most to least severe: ["error", "warning", "info", "debug"]."""
    return [_LEVEL_NAMES[number] for number in sorted(_LEVEL_NAMES)]


def set_log_level(level) -> None:
    """Drop messages less severe than `level` ("error", "warning", "info", "debug")."""
    if not isinstance(level, str):
        raise TypeError(f"log level must be a str such as 'info', not "
                        f"{type(level).__name__}")
    try:
        number = _LEVEL_NUMBERS[level.lower()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}; known levels: "
                         f"{', '.join(log_levels())}") from None
    check(lib.btfm_set_log_level(number))


def get_log_level() -> str:
    """The current log level's name."""
    number = lib.btfm_get_log_level()
    return _LEVEL_NAMES.get(number, str(number))


def log_to_logging(logger: logging.Logger | str = "btfm") -> logging.Logger:
    """Send libbtfm's messages to a `logging` logger (default: logging.getLogger("btfm"))
    with the matching level, and return the logger. The library's own level still
    filters first: see set_log_level()."""
    if isinstance(logger, str):
        logger = logging.getLogger(logger)

    def handler(level_name, message):
        logger.log(_PY_LEVELS.get(level_name, logging.WARNING), message)

    set_log_handler(handler)
    return logger


def _restore_default_at_exit():
    # Messages logged while the interpreter shuts down must not reach a dead handler.
    if _handler is not None:
        set_log_handler(None)


atexit.register(_restore_default_at_exit)
