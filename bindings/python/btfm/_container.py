"""btfm.Container: named, typed n-dimensional arrays saved atomically with checksums.

Every fitted libbtfm model saves to this format (doc/container.md); hosts can keep their
own arrays in it too.
"""

from __future__ import annotations

import collections
import ctypes

from . import _arrays
from ._errors import Error, Status, check
from ._handle import Handle
from ._lib import ContainerPtr, lib
from ._params import ParamsMixin
from ._util import from_cstr, to_cpath, to_cstr

__all__ = ["Container", "ArrayInfo", "container_format_version"]

_MAX_NDIM = 8  # BTFM_CONTAINER_MAX_NDIM: array_info writes up to 8 extents

ArrayInfo = collections.namedtuple("ArrayInfo", ["name", "dtype", "shape"])
ArrayInfo.__doc__ = """Description of one array: name, dtype name ("f32", "utf8"...) and
shape (tuple of extents; a text's shape is its length in UTF-8 bytes)."""


def container_format_version() -> int:
    """Highest container format version the loaded library reads and writes."""
    return int(lib.btfm_container_format_version())


def _optional_kind(kind):
    return None if kind is None else to_cstr(kind, "kind")


class Container(ParamsMixin, Handle):
    """Named, typed n-dimensional arrays describing one object of a `kind`.

    Create an empty one with Container("my-model"), or read one with Container.load(path)
    or Container.from_bytes(data). It behaves like a read-only mapping from array name
    to a copy of the array: len(c), c.keys(), "w" in c, c["w"]; add arrays with put() and
    put_text(); write with save(path) (atomic) or to_bytes().

    With numpy, c[name] is a numpy.ndarray of the stored dtype and shape (uint8, int32,
    int64, float32, float64) and a text is a str. Without numpy it is a
    btfm.ShapedArray: an array.array of the elements in C order with a `.shape` tuple.

    Parameters (see btfm.param_info("container")): fsync (bool, default True).
    Use as a context manager, or call close(); a closed container raises ValueError.
    A container pickles as its serialized bytes.
    """

    _type_name = "btfm.Container"
    _free = lib.btfm_container_free
    _param_kind = "container"
    _set_param_func = "btfm_container_set_param"
    _get_param_func = "btfm_container_get_param"

    def __init__(self, kind: str):
        """A new, empty container for an object of `kind` (1 to 255 bytes of UTF-8)."""
        ptr = ContainerPtr()
        check(lib.btfm_container_new(ctypes.byref(ptr), to_cstr(kind, "kind")))
        super().__init__(ptr)

    @classmethod
    def load(cls, path, kind: str | None = None) -> "Container":
        """Read a container file. With `kind`, a container of another kind is refused
        (btfm.Error, BTFM_E_KIND). Truncated, corrupted or newer-format files raise
        btfm.Error; nothing is half-loaded."""
        ptr = ContainerPtr()
        check(lib.btfm_container_load(ctypes.byref(ptr), to_cpath(path),
                                      _optional_kind(kind)))
        return cls._adopt(ptr)

    @classmethod
    def from_bytes(cls, data, kind: str | None = None) -> "Container":
        """Read a container from bytes (or any bytes-like object), as written by
        to_bytes(). `kind` as in load()."""
        if isinstance(data, str) or data is None:
            raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
        if not isinstance(data, bytes):
            data = memoryview(data).tobytes()
        ptr = ContainerPtr()
        check(lib.btfm_container_load_buffer(ctypes.byref(ptr), data, len(data),
                                             _optional_kind(kind)))
        return cls._adopt(ptr)

    @property
    def kind(self) -> str:
        """The kind of object this container describes, e.g. "aligner"."""
        return from_cstr(self._invoke(lib.btfm_container_kind))

    def __len__(self) -> int:
        return check(self._invoke(lib.btfm_container_n_arrays))

    def _info(self, ptr, index: int):
        """(ArrayInfo, dtype code) of array `index`."""
        name = ctypes.c_char_p()
        dtype, ndim = ctypes.c_int(), ctypes.c_int()
        shape = (ctypes.c_int64 * _MAX_NDIM)()
        check(lib.btfm_container_array_info(ptr, index, ctypes.byref(name),
                                            ctypes.byref(dtype), ctypes.byref(ndim), shape))
        info = ArrayInfo(from_cstr(name.value), _arrays.DTYPES.get(dtype.value, dtype.value),
                         tuple(shape[:ndim.value]))
        return info, dtype.value

    def _index(self, ptr, name) -> int:
        index = ctypes.c_int()
        check(lib.btfm_container_find(ptr, to_cstr(name, "array name"), ctypes.byref(index)))
        return index.value

    def keys(self) -> list:
        """Names of the arrays, in the order they were added."""
        with self._lock:
            ptr = self._require_open()
            count = check(lib.btfm_container_n_arrays(ptr))
            return [self._info(ptr, index)[0].name for index in range(count)]

    def __iter__(self):
        return iter(self.keys())

    def items(self) -> list:
        """(name, array) pairs, each array a copy as from container[name]."""
        return [(name, self[name]) for name in self.keys()]

    def info(self, name: str) -> ArrayInfo:
        """ArrayInfo(name, dtype, shape) of one array, without copying its data."""
        with self._lock:
            ptr = self._require_open()
            return self._info(ptr, self._index(ptr, name))[0]

    def __contains__(self, name) -> bool:
        if not isinstance(name, str):
            return False
        with self._lock:
            ptr = self._require_open()
            index = ctypes.c_int()
            return lib.btfm_container_find(ptr, to_cstr(name, "array name"),
                                           ctypes.byref(index)) == Status.OK

    def __getitem__(self, name: str):
        """A copy of the array called `name` (see the class docstring for its type);
        a str for a text. KeyError (btfm.NotFoundError) if there is none."""
        with self._lock:
            ptr = self._require_open()
            index = self._index(ptr, name)
            info, code = self._info(ptr, index)
            data, nbytes = ctypes.c_void_p(), ctypes.c_size_t()
            check(lib.btfm_container_array_data(ptr, index, ctypes.byref(data),
                                                ctypes.byref(nbytes)))
            if code == _arrays.TEXT_DTYPE:
                raw = ctypes.string_at(data.value, nbytes.value) if nbytes.value else b""
                return raw.decode("utf-8")
            return _arrays.from_c_array(code, info.shape, data.value, nbytes.value)

    def get(self, name: str, default=None):
        """container[name], or `default` when there is no such array."""
        return self[name] if name in self else default

    def put(self, name: str, data, shape=None) -> None:
        """Add a copy of an array under a new `name`.

        `data` is a numpy array or anything numpy.asarray accepts (with numpy), or an
        array.array / bytes-like object (without numpy); dtypes uint8, int32, int64,
        float32 and float64 are stored as they are, anything else raises TypeError.
        C-contiguous native-endian arrays are passed without a copy. `shape` optionally
        gives other extents with the same number of elements (C order). A name that
        exists already raises btfm.Error (BTFM_E_STATE).
        """
        c_name = to_cstr(name, "array name")
        converted = _arrays.to_c_array(data, shape)
        ndim = len(converted.shape)
        extents = (ctypes.c_int64 * max(ndim, 1))(*converted.shape)
        check(self._invoke(lib.btfm_container_put, c_name, converted.dtype, ndim, extents,
                           converted.pointer))

    def put_text(self, name: str, text: str) -> None:
        """Add a text (stored as UTF-8) under a new `name`."""
        c_name = to_cstr(name, "array name")
        check(self._invoke(lib.btfm_container_put_text, c_name, to_cstr(text, "text")))

    def save(self, path) -> None:
        """Write the container to `path` atomically: the file holds either its old
        content or the complete new one, never a mix."""
        check(self._invoke(lib.btfm_container_save, to_cpath(path)))

    def serialized_size(self) -> int:
        """Size in bytes of to_bytes() (and of the saved file)."""
        size = ctypes.c_size_t()
        check(self._invoke(lib.btfm_container_serialized_size, ctypes.byref(size)))
        return size.value

    def to_bytes(self) -> bytes:
        """The container serialized in memory, exactly as save() writes it."""
        with self._lock:
            ptr = self._require_open()
            needed = ctypes.c_size_t()
            check(lib.btfm_container_serialized_size(ptr, ctypes.byref(needed)))
            buffer = bytearray(needed.value)
            carrier = (ctypes.c_char * len(buffer)).from_buffer(buffer)
            written = ctypes.c_size_t()
            check(lib.btfm_container_save_buffer(ptr, carrier, len(buffer),
                                                 ctypes.byref(written)))
            del carrier  # release the export so the bytearray can be converted
            if written.value != len(buffer):
                raise Error(Status.E_INTERNAL, f"btfm_container_save_buffer wrote "
                            f"{written.value} bytes after asking for {len(buffer)}")
            return bytes(buffer)

    def __reduce__(self):
        # Pickled as its serialized bytes (parameters such as fsync are not kept), so a
        # container can cross process boundaries (multiprocessing, checkpoints).
        return (type(self).from_bytes, (self.to_bytes(),))

    def __repr__(self):
        with self._lock:
            if self._ptr is None:
                return "<btfm.Container (closed)>"
            return f"<btfm.Container kind={self.kind!r} arrays={self.keys()!r}>"
