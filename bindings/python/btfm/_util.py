"""Conversions between Python values and the C strings libbtfm takes and returns."""

from __future__ import annotations

import os


def to_cstr(value, what: str) -> bytes:
    """Encode a str as UTF-8 for a `const char *` argument named `what`.

    Raises TypeError for anything but str (None included) and ValueError for an embedded
    NUL, which C would silently cut the string at.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    data = value.encode("utf-8")
    if b"\0" in data:
        raise ValueError(f"{what} must not contain a NUL character: {value!r}")
    return data


def to_cpath(path, what: str = "path") -> bytes:
    """Encode a file system path (str, bytes or os.PathLike) for a C function."""
    if path is None:
        raise TypeError(f"{what} must be a str, bytes or os.PathLike, not None")
    try:
        data = os.fsencode(path)
    except TypeError:
        raise TypeError(f"{what} must be a str, bytes or os.PathLike, not "
                        f"{type(path).__name__}") from None
    if b"\0" in data:
        raise ValueError(f"{what} must not contain a NUL character: {path!r}")
    return data


def from_cstr(data: bytes | None) -> str | None:
    """Decode a UTF-8 `const char *` result (None stays None)."""
    return None if data is None else data.decode("utf-8", "replace")


def enumerate_names(name_fn, first: int, limit: int = 0x7fff) -> dict:
    """{number: name} for name_fn(first), name_fn(first + 1), ... until it returns NULL."""
    names = {}
    for number in range(first, limit):
        name = name_fn(number)
        if name is None:
            break
        names[number] = name.decode("utf-8")
    return names
