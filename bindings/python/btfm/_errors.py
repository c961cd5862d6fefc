"""Status codes and the one exception class: every negative status becomes btfm.Error.

The status table is read from the library (btfm_status_name(0), (-1), ... until NULL),
so codes added by a newer library are named without changing this package.
"""

from __future__ import annotations

import enum

from ._lib import lib

__all__ = ["Error", "NotFoundError", "Status", "STATUS_NAMES", "check", "error_from_status"]

# The enum reserves -0x7fff as its lower bound; stop there whatever the library says.
_STATUS_LIMIT = 0x7fff


def _enumerate_statuses():
    names, descriptions = {}, {}
    for code in range(0, -_STATUS_LIMIT, -1):
        name = lib.btfm_status_name(code)
        if name is None:
            break
        names[code] = name.decode("ascii")
        descriptions[code] = lib.btfm_status_str(code).decode("utf-8", "replace")
    return names, descriptions


#: {code: "BTFM_E_FORMAT", ...}: every status the loaded library knows, 0 included.
STATUS_NAMES, _DESCRIPTIONS = _enumerate_statuses()

#: The statuses as an IntEnum without the BTFM_ prefix: Status.OK, Status.E_FORMAT...
Status = enum.IntEnum("Status", [(name[len("BTFM_"):] if name.startswith("BTFM_") else name,
                                  code) for code, name in STATUS_NAMES.items()],
                      module=__name__)


class Error(Exception):
    """A libbtfm call failed.

    Attributes:
        status: the negative status code (int), e.g. -4.
        status_name: its symbolic name, e.g. "BTFM_E_FORMAT".
        description: the library's one-line description of the status.
        message: the library's message (btfm_last_error()): what happened, where and
            what was expected.
    """

    def __init__(self, status: int, message: str | None = None):
        self.status = int(status)
        self.status_name = STATUS_NAMES.get(self.status, f"status {self.status}")
        self.description = _DESCRIPTIONS.get(self.status, "unknown status")
        self.message = message or self.description
        super().__init__(self.status, self.message)

    def __str__(self):
        return f"{self.message} [{self.status_name}]"

    def __repr__(self):
        return f"{type(self).__name__}({self.status_name}, {self.message!r})"


class NotFoundError(Error, KeyError):
    """BTFM_E_NOTFOUND: a named item does not exist. Also a KeyError, so mapping-style
    lookups (container["x"], obj.params["x"]) behave as Python expects."""


_NOTFOUND = next((code for code, name in STATUS_NAMES.items() if name == "BTFM_E_NOTFOUND"),
                 None)


def error_from_status(status: int) -> Error:
    """The exception for a negative status just returned on this thread, carrying the
    library's last-error message when it belongs to that status."""
    message = lib.btfm_last_error().decode("utf-8", "replace")
    if lib.btfm_last_error_status() != status:
        message = ""  # stale text from an earlier failure; describe the status instead
    cls = NotFoundError if status == _NOTFOUND else Error
    return cls(status, message)


def check(status: int) -> int:
    """Return a non-negative status unchanged; raise btfm.Error for a negative one."""
    if status < 0:
        raise error_from_status(status)
    return status
