"""Progress of long library calls: a bar on a terminal, or a Python callable.

Every long operation of the package takes `progress=`:

- ``False`` or ``None`` (the default): nothing is shown;
- ``True``: a bar on standard error when it is a terminal, nothing otherwise;
- a callable ``progress(stage, fraction)``: called with the stage name and the fraction
  done in [0, 1]; returning a true value (or raising) cancels the operation, which then
  raises btfm.Error with status E_CANCELLED and leaves its object as it was.

`attached(lib.btfm_model_set_progress, handle, progress)` attaches it to a handle for the
calls inside the with block and detaches it afterwards, also when a call fails:

    with attached(lib.btfm_model_set_progress, handle, progress):
        check(lib.btfm_model_fit(handle, ...))
"""

from __future__ import annotations

import contextlib
import sys
import time

from ._errors import check
from ._lib import PROGRESS_FN, lib

__all__ = ["attached", "reporting", "TerminalBar", "thread_progress"]


class TerminalBar:
    """A one-line bar on a stream (standard error by default), redrawn in place."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, stage: str, fraction: float) -> bool:
        filled = int(round(self.width * fraction))
        elapsed = time.monotonic() - self.started
        line = "\r[%s%s] %3d%% %-28.28s %5.1fs" % ("#" * filled, "." * (self.width - filled),
                                                  int(100 * fraction), stage, elapsed)
        self.stream.write(line)
        self.stream.flush()
        self.shown = True
        return False

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def _callable_for(progress):
    """(python_callable or None, closer) for a `progress=` argument."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        stream = sys.stderr
        if not (hasattr(stream, "isatty") and stream.isatty()):
            return None, None
        bar = TerminalBar(stream)
        return bar, bar.close
    if callable(progress):
        return progress, None
    raise TypeError(f"progress must be True, False, None or a callable "
                    f"progress(stage, fraction), not {type(progress).__name__}")


@contextlib.contextmanager
def reporting(progress):
    """Yield (c_function, user) for the library: a NULL function pointer when nothing is
    to be reported. An exception raised by a Python callable cancels the operation and is
    raised again after the library call returns (inside the with block's exit)."""
    func, closer = _callable_for(progress)
    if func is None:
        yield PROGRESS_FN(), None
        return
    raised = []

    def trampoline(stage, fraction, user):
        if raised:
            return 1
        try:
            return 1 if func(stage.decode("utf-8", "replace") if stage else "", fraction) else 0
        except BaseException as exc:  # KeyboardInterrupt too: cancel cleanly, re-raise later
            raised.append(exc)
            return 1

    c_fn = PROGRESS_FN(trampoline)
    try:
        yield c_fn, None
    except BaseException:
        if raised:  # the callable's own exception explains the cancellation best
            raise raised[0] from None
        raise
    finally:
        if closer:
            closer()
    if raised:
        raise raised[0]


@contextlib.contextmanager
def thread_progress(progress):
    """Install `progress` as the calling thread's callback (btfm_set_thread_progress) for
    the calls made inside the with block, for library functions that take no handle."""
    with reporting(progress) as (fn, user):
        lib.btfm_set_thread_progress(fn, user)
        try:
            yield
        finally:
            lib.btfm_set_thread_progress(PROGRESS_FN(), None)


@contextlib.contextmanager
def attached(set_progress, handle, progress):
    """The callback for `progress` set on `handle` through `set_progress` (a library
    btfm_<object>_set_progress) for the calls inside the with block, then removed."""
    with reporting(progress) as (fn, user):
        check(set_progress(handle, fn, user))
        try:
            yield
        finally:
            set_progress(handle, PROGRESS_FN(), None)
