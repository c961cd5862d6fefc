"""Life cycle shared by every handle class: close(), context manager, guarded __del__."""

from __future__ import annotations

import ctypes
import threading

from ._errors import check


class Handle:
    """Owns one C handle. Subclasses set `_type_name` and `_free` (the C function that
    releases the handle) and call `_invoke` / hold `_lock` around every use of `_ptr`.

    The lock makes close() on one thread safe against a call in progress on another:
    the C object is never freed while it is being used.
    """

    _type_name = "handle"
    _free = None

    def __init__(self, ptr):
        self._lock = threading.RLock()
        self._ptr = ptr

    @property
    def closed(self) -> bool:
        """True once close() has been called."""
        return getattr(self, "_ptr", None) is None

    def _require_open(self):
        """The C pointer; ValueError if closed. Call with `_lock` held."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError(f"operation on a closed {self._type_name}")
        return ptr

    def _invoke(self, func, *args):
        """func(c_handle, *args) on the open handle, under the lock."""
        with self._lock:
            return func(self._require_open(), *args)

    def _serialize(self, save_buffer) -> bytes:
        """The bytes a `btfm_<x>_save_buffer` function writes for this handle (a size
        query with a NULL buffer, then the write)."""
        with self._lock:
            ptr = self._require_open()
            size = ctypes.c_size_t()
            check(save_buffer(ptr, None, 0, ctypes.byref(size)))
            buf = ctypes.create_string_buffer(size.value)
            check(save_buffer(ptr, buf, size.value, ctypes.byref(size)))
        return buf.raw[:size.value]

    @classmethod
    def _adopt(cls, ptr):
        """An instance owning an existing C handle (from a *_load call), bypassing the
        subclass constructor."""
        self = cls.__new__(cls)
        Handle.__init__(self, ptr)
        return self

    @classmethod
    def _open_with(cls, func, pointer_type, *args):
        """A new instance from `func(&handle, *args)` (a `*_load` or `*_load_buffer`)."""
        ptr = pointer_type()
        check(func(ctypes.byref(ptr), *args))
        return cls._adopt(ptr)

    def close(self) -> None:
        """Release the C object. Safe to call more than once; any later use raises
        ValueError."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ did not get far enough to own anything
            return
        with lock:
            ptr, self._ptr = self._ptr, None
            if ptr is not None:
                type(self)._free(ptr)

    def __enter__(self):
        with self._lock:
            self._require_open()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - a finalizer must not raise (e.g. at shutdown)
            pass
