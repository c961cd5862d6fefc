"""Element types: libbtfm dtypes <-> numpy dtypes <-> array.array typecodes.

numpy is optional. Without it, arrays come back as `ShapedArray` (an array.array with a
`.shape`) and put() accepts array.array, bytes-like objects and anything exporting the
buffer protocol with a numeric format.
"""

from __future__ import annotations

import array
import ctypes
import re

from ._errors import Error, Status
from ._lib import lib
from ._util import enumerate_names

try:
    import numpy
except ImportError:  # optional: see module docstring
    numpy = None

__all__ = ["numpy", "ShapedArray", "DTYPES", "TEXT_DTYPE", "Converted", "to_c_array",
           "from_c_array"]

#: {code: name} for every element type of the loaded library, e.g. {4: "f32", 6: "utf8"}.
DTYPES = enumerate_names(lib.btfm_dtype_name, 1)
_SIZES = {code: int(lib.btfm_dtype_size(code)) for code in DTYPES}
TEXT_DTYPE = next((code for code, name in DTYPES.items() if name == "utf8"), None)

# Numeric dtypes by (numpy kind letter, itemsize): "f32" -> ("f", 4).
_NUMERIC = {}
for _code, _name in DTYPES.items():
    _match = re.fullmatch(r"([uif])(\d+)", _name)
    if _match and int(_match.group(2)) == 8 * _SIZES[_code]:
        _NUMERIC[(_match.group(1), _SIZES[_code])] = _code
_KIND_SIZE = {code: key for key, code in _NUMERIC.items()}

# array.array typecodes of the same kind and size on this platform.
_TYPECODES = {}
for _tc in "BbHhIiLlQqfd":
    _key = ("f" if _tc in "fd" else "u" if _tc.isupper() else "i", array.array(_tc).itemsize)
    if _key in _NUMERIC:
        _TYPECODES.setdefault(_NUMERIC[_key], _tc)
# Buffer-protocol (struct) format letters; '=', '<'/'>' must match this machine.
_FORMAT_KIND = {tc: ("f" if tc in "efd" else "u" if tc.isupper() else "i")
                for tc in "BbHhIiLlQqNnfde"}


def supported_numeric() -> str:
    """Comma-separated names of the numeric dtypes, for error messages."""
    return ", ".join(DTYPES[code] for code in sorted(_KIND_SIZE))


class ShapedArray(array.array):
    """What container[name] returns without numpy: the elements flattened in C order as
    an array.array, with the array's extents in `.shape` (a tuple; () for a scalar).
    put() honours `.shape`; None (the default for one made by hand) means 1-D."""

    shape = None


class Converted:
    """A C-ready view of an input: dtype code, shape, pointer and the object keeping
    the memory alive while the C call runs."""

    __slots__ = ("dtype", "shape", "pointer", "keepalive")

    def __init__(self, dtype, shape, pointer, keepalive):
        self.dtype, self.shape, self.pointer, self.keepalive = dtype, shape, pointer, keepalive


def _reshape(shape, given, count):
    if given is None:
        return shape
    given = tuple(int(extent) for extent in given)
    product = 1
    for extent in given:
        product *= extent
    if product != count or any(extent < 0 for extent in given):
        raise ValueError(f"shape {given} does not hold the {count} elements given")
    return given


def _from_numpy(data, shape):
    np = numpy
    arr = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray)) \
        else np.asarray(data)
    if arr.dtype.kind in "USO":
        raise TypeError(f"cannot store a numpy array of dtype {arr.dtype}: use put_text() "
                        "for a str, or convert to a numeric dtype")
    code = _NUMERIC.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise TypeError(f"cannot store dtype {arr.dtype}: libbtfm stores "
                        f"{supported_numeric()}; convert with .astype() first")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    # Zero-copy when the input is already C-contiguous; the library copies it anyway.
    # (Not np.ascontiguousarray: it turns a 0-d array into shape (1,).)
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    return Converted(code, _reshape(arr.shape, shape, arr.size), arr.ctypes.data, arr)


def _from_buffer(data, shape):
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"cannot store a {type(data).__name__} without numpy: pass an "
                        "array.array, bytes or another object with the buffer "
                        "protocol") from None
    fmt = view.format
    if fmt[:1] in "@=":
        fmt = fmt[1:]
    code = _NUMERIC.get((_FORMAT_KIND.get(fmt), view.itemsize)) if len(fmt) == 1 else None
    if code is None:
        raise TypeError(f"cannot store buffer format {view.format!r}: libbtfm stores "
                        f"{supported_numeric()}")
    count = view.nbytes // view.itemsize
    shape = _reshape(tuple(view.shape), shape, count)
    if view.c_contiguous and not view.readonly and count:
        keep = (ctypes.c_char * view.nbytes).from_buffer(view.cast("B"))
        return Converted(code, shape, ctypes.addressof(keep), (keep, view))
    raw = view.tobytes()  # copy in C order: read-only or strided input
    return Converted(code, shape, raw, raw)  # ctypes passes bytes as their address


def to_c_array(data, shape=None) -> Converted:
    """Check and convert array-like `data` for btfm_container_put. `shape` optionally
    reinterprets the elements (C order) with other extents of the same product."""
    if isinstance(data, str):
        raise TypeError("cannot store a str as an array: use put_text()")
    if shape is None and isinstance(data, ShapedArray):
        shape = data.shape
    if numpy is not None:
        return _from_numpy(data, shape)
    return _from_buffer(data, shape)


def from_c_array(code: int, shape: tuple, pointer: int, nbytes: int):
    """A copy of a container's array: numpy.ndarray, or ShapedArray without numpy."""
    if code not in _KIND_SIZE:
        raise Error(Status.E_UNSUPPORTED, f"arrays of dtype {DTYPES.get(code, code)} are "
                    "not supported by this version of the btfm package")
    kind, size = _KIND_SIZE[code]
    if numpy is not None:
        out = numpy.empty(shape, dtype=numpy.dtype(f"{kind}{size}"))
        if out.nbytes != nbytes:
            raise Error(Status.E_INTERNAL, f"libbtfm gave {nbytes} bytes for an array "
                        f"of shape {shape} and dtype {DTYPES[code]}")
        if nbytes:
            ctypes.memmove(out.ctypes.data, pointer, nbytes)
        return out
    out = ShapedArray(_TYPECODES[code])
    if nbytes:
        out.frombytes(ctypes.string_at(pointer, nbytes))
    out.shape = shape
    return out
