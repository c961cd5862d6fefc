"""What library was loaded: version, capabilities, allocation count."""

from __future__ import annotations

import ctypes

from ._errors import check
from ._lib import lib
from ._util import from_cstr, to_cstr

__all__ = ["version", "version_number", "capabilities", "has_capability",
           "live_allocations", "runtime_info", "set_blas_thread_control",
           "get_blas_thread_control"]


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


def runtime_info() -> dict:
    """What this process runs on, as {key: text}: "version", "capabilities", "cpu",
    "inflate" (what inflates .nii.gz data: "isa-l 2.30" or "zlib 1.2.13"), "cpu_isa"
    ("sse3" ... "avx512"), "cpu_features", "cpu_count", "blas", "blas_config",
    "blas_kernels" (OpenBLAS's kernel family, e.g. "Haswell"), "blas_kernels_isa",
    "blas_threads", "blas_threading", "blas_thread_control" ("on" or "off",
    set_blas_thread_control), "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS" and "advice" (which OPENBLAS_CORETYPE would use the CPU fully, or
    "none"). Made on each call; `btfm version --verbose` prints the same."""
    size = ctypes.c_size_t()
    check(lib.btfm_runtime_info(None, 0, ctypes.byref(size)))
    buffer = ctypes.create_string_buffer(size.value)
    check(lib.btfm_runtime_info(buffer, size.value, ctypes.byref(size)))
    info = {}
    for line in buffer.value.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(": ")
        info[key] = value
    return info


def set_blas_thread_control(enabled: bool) -> bool:
    """Let libbtfm switch OpenBLAS's process-wide thread count for the duration of its
    calls (True), or never touch it (False, the default). OpenBLAS is shared with NumPy
    in the same process, so only a program that owns the process should turn it on; it
    makes hyperalignment spread its phases over its own threads while OpenBLAS runs one
    thread per caller (doc/THREADING.md). Returns the previous setting."""
    return bool(lib.btfm_set_blas_thread_control(1 if enabled else 0))


def get_blas_thread_control() -> bool:
    """The current setting of set_blas_thread_control."""
    return bool(lib.btfm_get_blas_thread_control())
