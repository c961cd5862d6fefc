"""Real-time streams for neurofeedback (btfm_stream, doc/streaming.md).

    >>> s = btfm.Stream(n_channels=8, sfreq=250, notch=50, reference="average")
    >>> s.push(chunk)                 # (n_samples, 8) float32, from the amplifier
    >>> rows = s.pull()               # (n_rows, len(s.columns)) float64
    >>> rows[:, s.column("alpha:3")]

The stream filters causally with state, cuts sliding windows, computes band powers, ERP
window means around pushed markers and user-state indices, and queues one row per
window or epoch. push() and pull() may run on two different threads (one each).
"""

from __future__ import annotations

import ctypes
import operator

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is a dependency of the array API
    np = None

from ._errors import check
from ._handle import Handle
from ._lib import lib
from ._params import ParamsMixin

__all__ = ["Stream", "INDICES", "ROW_WINDOW", "ROW_EPOCH", "FLAG_NONFINITE", "FLAG_AMPLITUDE",
           "FLAG_FLAT", "FLAG_OUTSIDE", "FLAG_CALIBRATING"]

#: Row kinds (column "kind") and flag bits (columns "flags" and "flags:<channel>").
ROW_WINDOW, ROW_EPOCH = 0, 1
FLAG_NONFINITE, FLAG_AMPLITUDE, FLAG_FLAT, FLAG_OUTSIDE, FLAG_CALIBRATING = 1, 2, 4, 8, 16
#: The state indices, in column order ("state:<name>", z-scored "z:<name>").
INDICES = tuple(lib.btfm_stream_index_name(i).decode() for i in range(5))

_REFERENCES = {"none": 0, None: 0, "average": 1}
_OVERFLOW = {"drop_oldest": 0, "refuse": 1}
_BANDS = {"delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0),
          "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}


def _ints(values):
    arr = (ctypes.c_int * len(values))(*[int(v) for v in values])
    return arr, len(values)


def _pairs(values, what):
    flat = []
    for item in values:
        lo, hi = _BANDS[item] if isinstance(item, str) else item
        flat += [float(lo), float(hi)]
    if not flat:
        raise ValueError(f"{what}: expected at least one pair")
    return (ctypes.c_double * len(flat))(*flat), len(flat) // 2


class Stream(ParamsMixin, Handle):
    """A configured real-time pipeline (btfm_stream).

    n_channels and sfreq describe the pushed samples. picks: the pushed channels to
    process (default all); channel_names: names for the column names; bands: (lo, hi)
    pairs or band names (default delta, theta, alpha, beta); erp_windows: (start, stop)
    pairs in s from a marker; frontal / posterior: pushed channels for the state indices;
    reward_head: a fitted btfm.RewardHead (fitted with normalize=0) scoring each row.
    reference: "average" or None; overflow: "drop_oldest" or "refuse"; other keyword
    arguments set parameters (btfm.param_info("stream"): window, hop, segment,
    segment_step, highpass, lowpass, filter_order, notch, notch_q, relative,
    amplitude_limit, flat_limit, epoch_tmin, epoch_tmax, baseline, history, capacity,
    eog_channel, blink_threshold, blink_period, detrend)."""

    _type_name = "btfm.Stream"
    _free = lib.btfm_stream_free
    _param_kind = "stream"
    _set_param_func = "btfm_stream_set_param"
    _get_param_func = "btfm_stream_get_param"

    def __init__(self, n_channels, sfreq, *, picks=None, channel_names=None, bands=None,
                 erp_windows=None, frontal=None, posterior=None, reward_head=None,
                 reference=None, overflow="drop_oldest", **params):
        ptr = ctypes.c_void_p()
        check(lib.btfm_stream_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        try:
            self.set_param("n_channels", int(n_channels))
            self.set_param("sfreq", float(sfreq))
            self.set_param("reference", _REFERENCES[reference])
            self.set_param("overflow", _OVERFLOW[overflow])
            for name, value in params.items():
                self.set_param(name, value)
            if picks is not None:
                check(self._invoke(lib.btfm_stream_set_picks, *_ints(picks)))
            if channel_names is not None:
                names = [str(n).encode() for n in channel_names]
                arr = (ctypes.c_char_p * len(names))(*names)
                check(self._invoke(lib.btfm_stream_set_channel_names, arr, len(names)))
            if bands is not None:
                check(self._invoke(lib.btfm_stream_set_bands, *_pairs(bands, "bands")))
            if erp_windows is not None:
                check(self._invoke(lib.btfm_stream_set_erp_windows,
                                   *_pairs(erp_windows, "erp_windows")))
            for role, channels in ((0, frontal), (1, posterior)):
                if channels is not None:
                    check(self._invoke(lib.btfm_stream_set_role, role, *_ints(channels)))
            if reward_head is not None:
                with reward_head._lock:
                    check(self._invoke(lib.btfm_stream_set_reward_head,
                                       reward_head._require_open()))
            check(self._invoke(lib.btfm_stream_configure))
        except BaseException:
            self.close()
            raise
        n = check(self._invoke(lib.btfm_stream_n_columns))
        #: Names of the columns of pull()'s rows.
        self.columns = [self._invoke(lib.btfm_stream_column_name, i).decode() for i in range(n)]
        self._index = {name: i for i, name in enumerate(self.columns)}
        self._n_channels = int(n_channels)

    def column(self, name: str) -> int:
        """Index of column `name` in the rows pull() returns."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns[:8])}, "
                           "...") from None

    def push(self, chunk, timestamps=None) -> None:
        """Push samples: chunk of shape (n_samples, n_channels) (float32 C-contiguous is
        passed without a copy); timestamps: n_samples times in s (default: sample
        index / sfreq). NaN samples are flagged, not errors. Raises btfm.Error with status
        AGAIN when the ring is full and overflow="refuse" (nothing was taken)."""
        arr = np.asarray(chunk)
        if arr.ndim == 1 and self._n_channels == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise ValueError(f"chunk: expected (n_samples, n_channels), got shape {arr.shape}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        ts = None
        if timestamps is not None:
            ts = np.ascontiguousarray(timestamps, dtype=np.float64)
            if ts.shape != (arr.shape[0],):
                raise ValueError(f"timestamps: expected {arr.shape[0]} times, got shape "
                                 f"{ts.shape}")
        check(self._invoke(lib.btfm_stream_push,
                           arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), arr.shape[0],
                           arr.shape[1],
                           None if ts is None else ts.ctypes.data_as(
                               ctypes.POINTER(ctypes.c_double))))

    def push_marker(self, time: float | None = None, code: int = 0, label: str | None = None,
                    *, sample: int | None = None) -> None:
        """A marker at `time` (s, the samples' clock) or at `sample` (the stream's count
        of pushed samples from 0; the row's time is then that sample's): its epoch becomes
        a row once its last sample is pushed. Give one of the two. A marker whose epoch
        begins before the history kept, or a negative sample, raises btfm.Error (RANGE)."""
        if (time is None) == (sample is None):
            raise TypeError("push_marker: give either time (s) or sample (index), not "
                            f"{'both' if time is not None else 'neither'}")
        text = None if label is None else str(label).encode()
        if sample is not None:
            check(self._invoke(lib.btfm_stream_push_marker_sample, operator.index(sample),
                               int(code), text))
        else:
            check(self._invoke(lib.btfm_stream_push_marker, float(time), int(code), text))

    def pull(self, max_rows: int = 4096):
        """The rows ready (at most max_rows), oldest first, as a float64 array of shape
        (n_rows, len(columns)); (0, len(columns)) when none is ready (never blocks)."""
        out = np.empty((int(max_rows), len(self.columns)), dtype=np.float64)
        n = ctypes.c_size_t()
        check(self._invoke(lib.btfm_stream_pull,
                           out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), out.shape[0],
                           ctypes.byref(n)))
        return out[:n.value]

    def calibrate(self, on: bool = True) -> None:
        """Start (True) or end (False) the calibration period of the state indices; after
        it, the "z:" columns are z-scores against it."""
        check(self._invoke(lib.btfm_stream_set_calibration, int(bool(on))))

    def reset(self) -> None:
        """Back to the state right after configuration (calibration kept)."""
        check(self._invoke(lib.btfm_stream_reset))

    @property
    def n_dropped(self) -> int:
        """Rows lost to a full ring (overflow="drop_oldest")."""
        return self._invoke(lib.btfm_stream_n_dropped)

    @property
    def n_samples(self) -> int:
        """Samples pushed so far."""
        return self._invoke(lib.btfm_stream_n_samples)
