"""What library was loaded: version, capabilities, allocation count."""

from __future__ import annotations

from ._lib import lib
from ._util import from_cstr, to_cstr

__all__ = ["version", "version_number", "capabilities", "has_capability",
           "live_allocations"]


def version() -> str:
    """Version of the loaded libbtfm, e.g. "1.2.0" (not the package's __version__)."""
    return from_cstr(lib.btfm_version_string())


def version_number() -> int:
    """Version of the loaded libbtfm as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return int(lib.btfm_version_number())


def capabilities() -> list:
    """What this build of libbtfm contains, as a list of words, e.g. ["core", "zlib"]."""
    return from_cstr(lib.btfm_capabilities()).split()


def has_capability(name: str) -> bool:
    """True when `name` is one of capabilities(). TypeError if `name` is not a str."""
    return bool(lib.btfm_has_capability(to_cstr(name, "capability name")))


def live_allocations() -> int:
    """Number of memory blocks libbtfm currently holds (for leak checks in tests)."""
    return int(lib.btfm_live_allocations())
