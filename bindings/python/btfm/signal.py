"""btfm.signal: filters, resampling, re-referencing and epochs on time-major arrays.

Arrays are (n_times, n_channels), float32, C order (a 1-D array is one channel); other
inputs are converted once. Results match SciPy's and MNE's conventions
(doc/signal.md):

    >>> sos = btfm.signal.butter(4, (1, 40), "bandpass", sfreq=512)   # scipy's sos layout
    >>> y = btfm.signal.sosfiltfilt(sos, x)                              # zero phase
    >>> f = btfm.signal.CausalFilter(sos, n_channels=64)                 # streaming
    >>> chunk_out = f.process(chunk)

NaN or Inf in the input raise btfm.Error (BTFM_E_NUMERIC, naming channel and sample)
unless allow_nonfinite=True. Requires numpy.
"""

from __future__ import annotations

import collections
import ctypes
import math

try:
    import numpy as np
except ImportError:  # the package works without numpy; this module needs it
    np = None

from ._errors import check
from ._handle import Handle
from ._lib import DatasetPtr, IirPtr, lib
from ._params import ParamsMixin
from ._progress import thread_progress
from ._util import enumerate_names

# The spectral functions live in btfm.spectrum and read as btfm.signal.welch, ... too.
from .spectrum import (BANDS, WINDOWS, band_power, dpss, erp_mean_amplitude,  # noqa: E402
                       erp_peak, fir_apply, irfft, psd_multitaper, rfft, welch,
                       WelchPlan)
from .spectrum import _along, _signal  # noqa: E402  (one conversion of signal arrays)

__all__ = ["FILTER_KINDS", "FIR_WINDOWS", "PADS", "Epochs", "CausalFilter", "butter",
           "iirnotch", "sosfilt_zi", "sosfilt", "sosfiltfilt", "firwin", "resample_poly",
           "detrend", "rereference", "interpolate_bads", "epochs", "EpochsPlan", "WelchPlan",
           "rfft", "irfft", "welch", "dpss", "psd_multitaper", "band_power", "BANDS",
           "WINDOWS", "fir_apply", "erp_mean_amplitude", "erp_peak"]

#: {name: number} of filter kinds and pads, read from the library. FIR_WINDOWS is the one
#: window numbering (WINDOWS) under its former name.
FILTER_KINDS = {n: k for k, n in enumerate_names(lib.btfm_filter_kind_name, 1).items()}
FIR_WINDOWS = WINDOWS
PADS = {n: k for k, n in enumerate_names(lib.btfm_pad_name, 0).items()}

_ALLOW_NONFINITE = 0x1
_SINGLE_THREAD = 0x2
_KEPT, _OUT_OF_BOUNDS = -1, -2

#: Epochs cut from data: `data` (n_kept, n_times, n_channels) float32, `kept` (bool per
#: event), `reasons` ("kept", "out_of_bounds" or the name/index of the channel that
#: exceeded its limit, per event), `times` (s, per epoch sample).
Epochs = collections.namedtuple("Epochs", "data kept reasons times")


def _need_numpy():
    if np is None:
        raise ImportError("btfm.signal needs numpy")


def _sos(sos):
    _need_numpy()
    arr = np.ascontiguousarray(sos, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 6:
        arr = arr.reshape(1, 6)
    if arr.ndim != 2 or arr.shape[1] != 6 or arr.shape[0] < 1:
        raise ValueError(f"sos must have shape (n_sections, 6), got {arr.shape}")
    return arr


def _p(arr, ctype):
    return arr.ctypes.data_as(ctypes.POINTER(ctype))


def _f(arr):
    return _p(arr, ctypes.c_float)


def _d(arr):
    return _p(arr, ctypes.c_double)


def _flags(allow_nonfinite=False, threads=True):
    return (_ALLOW_NONFINITE if allow_nonfinite else 0) | (0 if threads else _SINGLE_THREAD)


def _shape_back(y, was_1d):
    return y.reshape(-1) if was_1d else y


def _kind(btype, n_cutoffs):
    names = {"low": "lowpass", "high": "highpass", "band": "bandpass", "pass": "bandpass",
             "stop": "bandstop", "bands": "bandstop"}
    name = names.get(btype, btype)
    if name not in FILTER_KINDS:
        raise ValueError(f"unknown btype {btype!r}; known: {', '.join(FILTER_KINDS)}")
    if (name in ("bandpass", "bandstop")) != (n_cutoffs == 2):
        raise ValueError(f"a {name} filter takes {'two cutoffs' if n_cutoffs == 1 else 'one cutoff'}"
                         f", got {n_cutoffs}")
    return FILTER_KINDS[name]


def _cutoffs(cutoff):
    values = [float(v) for v in (cutoff if hasattr(cutoff, "__len__") else [cutoff])]
    if len(values) not in (1, 2):
        raise ValueError(f"cutoff must be one frequency or a (low, high) pair, got {cutoff!r}")
    return values


def butter(order: int, cutoff, btype: str = "lowpass", *, sfreq: float):
    """Digital Butterworth filter as second-order sections, equal to
    scipy.signal.butter(order, cutoff, btype, output="sos", fs=sfreq). Band filters have
    2 x order poles (order sections), as in SciPy. Returns (n_sections, 6) float64."""
    values = _cutoffs(cutoff)
    kind = _kind(btype, len(values))
    n = check(lib.btfm_butter_n_sections(int(order), kind))
    sos = np.zeros((n, 6))
    check(lib.btfm_butter(int(order), kind, values[0], values[-1], float(sfreq), _d(sos), sos.size))
    return sos


def iirnotch(freq: float, quality: float = 30.0, *, sfreq: float):
    """One-section notch at `freq` Hz (bandwidth freq / quality), as
    scipy.signal.iirnotch(freq, quality, fs=sfreq) in sos form: shape (1, 6)."""
    _need_numpy()
    sos = np.zeros((1, 6))
    check(lib.btfm_iirnotch(float(freq), float(quality), float(sfreq), _d(sos)))
    return sos


def sosfilt_zi(sos):
    """Steady-state initial conditions for a unit step, (n_sections, 2), as
    scipy.signal.sosfilt_zi."""
    sos = _sos(sos)
    zi = np.zeros((sos.shape[0], 2))
    check(lib.btfm_sosfilt_zi(_d(sos), sos.shape[0], _d(zi)))
    return zi


def sosfilt(sos, x, zi=None, *, allow_nonfinite: bool = False, axis: int = 0):
    """Causal filtering along time, as scipy.signal.sosfilt(sos, x, axis=axis, zi=zi);
    time runs along `axis` (0: time-major; -1: SciPy's default, channels x times).
    Returns y, or (y, zf) when zi is given, of SciPy's shape: (n_sections,) + x.shape
    with 2 at `axis` ((n_sections, 2, n_channels) time-major): pass zf as the next
    chunk's zi and the chunks give exactly the one-shot result."""
    sos = _sos(sos)
    arr, back = _along(x, axis)
    out = np.empty_like(arr)
    state = None
    if zi is not None:
        shape = list(np.shape(x))
        ax = int(axis) % len(shape)
        shape[ax] = 2
        want = (sos.shape[0],) + tuple(shape)
        given = np.asarray(zi, dtype=np.float64)
        if given.size != math.prod(want):
            raise ValueError(f"zi must have shape {want}, got {np.shape(zi)}")
        # the library's layout, (n_sections, 2, n_columns), in a copy: the library updates
        # it in place and the caller's zi stays as given, as in SciPy
        state = np.array(np.moveaxis(given.reshape(want), ax + 1, 1), dtype=np.float64,
                         order="C", copy=True).reshape(sos.shape[0], 2, arr.shape[1])
    check(lib.btfm_sosfilt(_d(sos), sos.shape[0], _f(arr), arr.shape[0], arr.shape[1],
                           _d(state) if state is not None else None,
                           _flags(allow_nonfinite), _f(out)))
    y = back(out)
    if zi is None:
        return y
    moved = list(want)
    moved.insert(1, moved.pop(ax + 1))
    return y, np.moveaxis(state.reshape(moved), 1, ax + 1)


def sosfiltfilt(sos, x, padtype: str | None = "odd", padlen: int | None = None, *,
                allow_nonfinite: bool = False, threads: bool = True, axis: int = 0,
                progress=None):
    """Zero-phase filtering along time, as scipy.signal.sosfiltfilt(sos, x, axis=axis,
    padtype, padlen); time runs along `axis` (0: time-major; -1: SciPy's default,
    channels x times). threads=False keeps the work on the calling thread. progress:
    True for a bar on a terminal, or a callable progress(stage, fraction) that returns
    True to cancel (btfm.Error E_CANCELLED)."""
    sos = _sos(sos)
    arr, back = _along(x, axis)
    pad = PADS["none" if padtype is None else padtype]
    out = np.empty_like(arr)
    with thread_progress(progress):
        check(lib.btfm_sosfiltfilt(_d(sos), sos.shape[0], _f(arr), arr.shape[0], arr.shape[1],
                                   pad, -1 if padlen is None else int(padlen),
                                   _flags(allow_nonfinite, threads), _f(out)))
    return back(out)


def firwin(numtaps: int, cutoff, *, window="hamming", pass_zero=True, sfreq: float):
    """Windowed-sinc FIR taps, as scipy.signal.firwin(numtaps, cutoff, window=window,
    pass_zero=pass_zero, fs=sfreq). window: "hamming", "hann", "blackman", "boxcar" or
    ("kaiser", beta); pass_zero: True/False or "lowpass", "highpass", "bandpass",
    "bandstop". Returns numtaps float64 taps."""
    _need_numpy()
    values = _cutoffs(cutoff)
    if isinstance(pass_zero, str):
        kind = _kind(pass_zero, len(values))
    elif len(values) == 1:
        kind = FILTER_KINDS["lowpass" if pass_zero else "highpass"]
    else:
        kind = FILTER_KINDS["bandstop" if pass_zero else "bandpass"]
    beta = 0.0
    if isinstance(window, tuple):
        window, beta = window[0], float(window[1])
    aliases = {"hanning": "hann", "rectangular": "boxcar", "rect": "boxcar"}
    window = aliases.get(window, window)
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; known: {', '.join(WINDOWS)}")
    taps = np.zeros(int(numtaps))
    check(lib.btfm_fir_design(_d(taps), int(numtaps), kind, values[0], values[-1],
                              WINDOWS[window], beta, float(sfreq)))
    return taps


def resample_poly(x, up: int, down: int, *, allow_nonfinite: bool = False,
                  threads: bool = True, axis: int = 0, progress=None):
    """Polyphase resampling by up / down along time, as scipy.signal.resample_poly(x, up,
    down, axis=axis) (Kaiser window, beta 5); time runs along `axis` (0: time-major;
    -1: SciPy's default, channels x times). progress: as sosfiltfilt."""
    arr, back = _along(x, axis)
    n = check(lib.btfm_resample_poly_len(arr.shape[0], int(up), int(down)))
    out = np.empty((n, arr.shape[1]), dtype=np.float32)
    with thread_progress(progress):
        check(lib.btfm_resample_poly(_f(arr), arr.shape[0], arr.shape[1], int(up), int(down),
                                     _flags(allow_nonfinite, threads), _f(out)))
    return back(out)


def detrend(x, type: str = "linear", *, allow_nonfinite: bool = False, axis: int = 0):
    """Remove each channel's mean ("constant") or least-squares line ("linear"), as
    scipy.signal.detrend(x, axis=axis, type=type); time runs along `axis` (0:
    time-major; -1: SciPy's default, channels x times)."""
    types = {"constant": 1, "linear": 2}  # btfm_detrend_type
    if type not in types:
        raise ValueError(f"type must be 'constant' or 'linear', not {type!r}")
    arr, back = _along(x, axis)
    out = np.empty_like(arr)
    check(lib.btfm_detrend(_f(arr), arr.shape[0], arr.shape[1], types[type],
                           _flags(allow_nonfinite), _f(out)))
    return back(out)


def _indices(values, what):
    arr = np.ascontiguousarray(np.atleast_1d(np.asarray(values, dtype=np.int64)), dtype=np.intc)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a sequence of channel indices")
    return arr


def rereference(x, refs, targets=None, *, allow_nonfinite: bool = False):
    """Subtract the mean of channels `refs` from channels `targets` (all when None) at
    every sample. MNE's set_eeg_reference("average") is refs = targets = the good EEG
    channels (bad channels left as they are)."""
    arr, _ = _signal(x)
    r = _indices(refs, "refs")
    t = None if targets is None else _indices(targets, "targets")
    out = np.empty_like(arr)
    check(lib.btfm_rereference(_f(arr), arr.shape[0], arr.shape[1], _p(r, ctypes.c_int), r.size,
                               None if t is None else _p(t, ctypes.c_int),
                               0 if t is None else t.size, _flags(allow_nonfinite), _f(out)))
    return out


def interpolate_bads(x, positions, bad, n_neighbors: int = 4, *, allow_nonfinite: bool = False):
    """Replace the channels flagged in `bad` by the 1/d^2-weighted mean of their
    `n_neighbors` nearest good channels (positions: (n_channels, 3))."""
    arr, _ = _signal(x)
    pos = np.ascontiguousarray(positions, dtype=np.float64)
    if pos.shape != (arr.shape[1], 3):
        raise ValueError(f"positions must have shape ({arr.shape[1]}, 3), got {pos.shape}")
    flags = np.ascontiguousarray(np.asarray(bad, dtype=bool), dtype=np.uint8)
    if flags.shape != (arr.shape[1],):
        raise ValueError(f"bad must hold {arr.shape[1]} flags, got shape {flags.shape}")
    out = np.empty_like(arr)
    check(lib.btfm_interpolate_bads(_f(arr), arr.shape[0], arr.shape[1], _d(pos),
                                    _p(flags, ctypes.c_ubyte), int(n_neighbors),
                                    _flags(allow_nonfinite), _f(out)))
    return out


def _baseline(baseline):
    if baseline is None:
        return math.nan, math.nan
    bmin, bmax = baseline
    return (-math.inf if bmin is None else float(bmin)), (math.inf if bmax is None else float(bmax))


def _epochs_result(out, n_kept, kept, reasons, tmin, sfreq, n_times, names=None):
    first = round(tmin * sfreq)
    times = (first + np.arange(n_times)) / sfreq
    labels = []
    for r in reasons:
        if r == _KEPT:
            labels.append("kept")
        elif r == _OUT_OF_BOUNDS:
            labels.append("out_of_bounds")
        else:
            labels.append(names[r] if names else int(r))
    return Epochs(out[:n_kept.value], kept.astype(bool), labels, times)


class EpochsPlan(ParamsMixin, Handle):
    """Epoching options configured once and applied to any number of arrays or
    datasets, as mne.Epochs(raw, events, tmin, tmax, baseline, reject) (the library's
    epochs plan, btfm_epochs_plan). tmin, tmax and the baseline (bmin, bmax) are in s
    (None ends = the epoch's edges; baseline=None for none); reject is one peak-to-peak
    limit per channel (0 = none) for arrays, or {"eeg": 100e-6} / "eeg=100e-6" by channel
    type for datasets. Every option is also a parameter: plan.params["tmin"],
    param_info("epochs_plan")."""

    _type_name = "btfm.signal.EpochsPlan"
    _free = lib.btfm_epochs_plan_free
    _param_kind = "epochs_plan"
    _set_param_func = "btfm_epochs_plan_set_param"
    _get_param_func = "btfm_epochs_plan_get_param"

    def __init__(self, tmin: float = -0.2, tmax: float = 0.5, baseline=(None, 0),
                 reject=None, *, allow_nonfinite: bool = False):
        ptr = ctypes.c_void_p()
        check(lib.btfm_epochs_plan_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        self.set_param("tmin", float(tmin))
        self.set_param("tmax", float(tmax))
        self.baseline = baseline
        self.set_param("allow_nonfinite", bool(allow_nonfinite))
        self.reject = reject

    @property
    def baseline(self):
        """(bmin, bmax) in s, None ends for the epoch's edges; None for no baseline."""
        if not self.get_param("baseline"):
            return None
        bmin = None if self.get_param("baseline_from_start") else self.get_param("baseline_min")
        bmax = None if self.get_param("baseline_to_end") else self.get_param("baseline_max")
        return bmin, bmax

    @baseline.setter
    def baseline(self, baseline):
        if baseline is None:
            self.set_param("baseline", False)
            return
        bmin, bmax = baseline
        self.set_param("baseline", True)
        self.set_param("baseline_from_start", bmin is None)
        self.set_param("baseline_to_end", bmax is None)
        self.set_param("baseline_min", 0.0 if bmin is None else float(bmin))
        self.set_param("baseline_max", 0.0 if bmax is None else float(bmax))

    @property
    def reject(self):
        """The rejection limits as set: None, an array of per-channel limits, or the
        specification by channel type."""
        return self._reject

    @reject.setter
    def reject(self, reject):
        spec, limits = None, None
        if isinstance(reject, (str, dict)):
            spec = _reject_spec(reject)
        elif reject is not None:
            _need_numpy()
            limits = np.ascontiguousarray(np.atleast_1d(reject), dtype=np.float64)
            if limits.ndim != 1:
                raise ValueError(f"reject must hold one limit per channel, got shape "
                                 f"{limits.shape}")
        check(self._invoke(lib.btfm_epochs_plan_set_reject_spec, spec))
        check(self._invoke(lib.btfm_epochs_plan_set_reject,
                           None if limits is None else _d(limits),
                           0 if limits is None else limits.size))
        self._reject = reject
        self._n_limits = None if limits is None else limits.size

    def n_times(self, sfreq: float) -> int:
        """Samples per epoch at sfreq."""
        return check(self._invoke(lib.btfm_epochs_plan_n_times, float(sfreq)))

    def run(self, x, sfreq: float, event_samples):
        """Epochs of x (n_times, n_channels) around `event_samples` (sample indices).
        Returns btfm.signal.Epochs."""
        arr, _ = _signal(x)
        if self._n_limits is not None and self._n_limits != arr.shape[1]:
            raise ValueError(f"reject must hold one limit per channel ({arr.shape[1]}), "
                             f"got {self._n_limits}")
        events = np.ascontiguousarray(np.atleast_1d(np.asarray(event_samples)), dtype=np.int64)
        n_times = self.n_times(sfreq)
        out = np.empty((events.size, n_times, arr.shape[1]), dtype=np.float32)
        kept = np.zeros(events.size, dtype=np.uint8)
        reasons = np.zeros(events.size, dtype=np.intc)
        n_kept = ctypes.c_int64()
        check(self._invoke(lib.btfm_epochs_plan_run, _f(out), ctypes.byref(n_kept),
                           _p(kept, ctypes.c_ubyte), _p(reasons, ctypes.c_int), _f(arr),
                           arr.shape[0], arr.shape[1], float(sfreq),
                           _p(events, ctypes.c_int64), events.size))
        return _epochs_result(out, n_kept, kept, reasons, self.get_param("tmin"), sfreq,
                              n_times)

    def run_dataset(self, ds, events=None, label=None):
        """Epochs of a btfm.Dataset around its events (indices into ds.events; None:
        every event but gaps, or those ds.select_events(label) chooses: MNE's /-separated
        tags; no match raises btfm.NotFoundError naming the labels there are). Returns
        btfm.signal.Epochs with channel names as rejection reasons."""
        _need_numpy()
        if events is None:
            events = ds.select_events(label)
        index = np.ascontiguousarray(np.atleast_1d(np.asarray(events, dtype=np.int64)))
        sfreq = ds.sfreq
        n_times = self.n_times(sfreq)
        out = np.empty((index.size, n_times, ds.n_channels), dtype=np.float32)
        kept = np.zeros(index.size, dtype=np.uint8)
        reasons = np.zeros(index.size, dtype=np.intc)
        n_kept = ctypes.c_int64()
        with self._lock:
            plan = self._require_open()
            check(ds._invoke(lambda d: lib.btfm_epochs_plan_run_dataset(
                plan, _f(out), ctypes.byref(n_kept), _p(kept, ctypes.c_ubyte),
                _p(reasons, ctypes.c_int), d, _p(index, ctypes.c_int64), index.size)))
        return _epochs_result(out, n_kept, kept, reasons, self.get_param("tmin"), sfreq,
                              n_times, ds.ch_names)


def epochs(x, sfreq: float, event_samples, tmin: float, tmax: float, baseline=(None, 0),
           reject=None, *, allow_nonfinite: bool = False):
    """Epochs around `event_samples` (sample indices), as mne.Epochs: samples
    round(tmin sfreq) .. round(tmax sfreq) around each event, baseline (bmin, bmax) in s
    (None ends = the epoch's edges; baseline=None for none) subtracted, epochs whose
    peak-to-peak amplitude exceeds reject[c] on a channel dropped (reject: one limit per
    channel, 0 = none; or None). Returns btfm.signal.Epochs. One call of an EpochsPlan,
    which serves many."""
    if isinstance(reject, (str, dict)):
        raise ValueError("reject by channel type needs a dataset; give one limit per channel")
    with EpochsPlan(tmin, tmax, baseline, reject, allow_nonfinite=allow_nonfinite) as plan:
        return plan.run(x, sfreq, event_samples)


class CausalFilter(Handle):
    """A causal IIR filter for streams (btfm_iir): the state of every channel is kept
    between process() calls, so feeding a signal in chunks gives exactly the one-shot
    sosfilt result.

        >>> f = CausalFilter(butter(4, (1, 40), "bandpass", sfreq=256), n_channels=8)
        >>> for chunk in stream: y = f.process(chunk)        # (n, 8) in, (n, 8) out
    """

    _type_name = "btfm.signal.CausalFilter"
    _free = lib.btfm_iir_free

    def __init__(self, sos, n_channels: int):
        sos = _sos(sos)
        ptr = IirPtr()
        check(lib.btfm_iir_new(ctypes.byref(ptr), _d(sos), sos.shape[0], int(n_channels)))
        super().__init__(ptr)

    @property
    def n_channels(self) -> int:
        return check(self._invoke(lib.btfm_iir_n_channels))

    @property
    def n_sections(self) -> int:
        return check(self._invoke(lib.btfm_iir_n_sections))

    def reset(self, initial=None) -> None:
        """At rest (None), or in the steady state of each channel holding initial[c]."""
        if initial is None:
            check(self._invoke(lib.btfm_iir_reset, None))
            return
        values = np.ascontiguousarray(initial, dtype=np.float32).reshape(-1)
        if values.size != self.n_channels:
            raise ValueError(f"initial must hold {self.n_channels} values, got {values.size}")
        check(self._invoke(lib.btfm_iir_reset, _f(values)))

    def process(self, x, *, allow_nonfinite: bool = False):
        """Filter the next (n_times, n_channels) samples; returns the same shape."""
        arr, was_1d = _signal(x)
        if arr.shape[1] != self.n_channels:
            raise ValueError(f"the filter has {self.n_channels} channels, the chunk {arr.shape[1]}")
        out = np.empty_like(arr)
        check(self._invoke(lib.btfm_iir_process, _f(arr), arr.shape[0],
                           _flags(allow_nonfinite), _f(out)))
        return _shape_back(out, was_1d)

    @property
    def state(self):
        """A copy of the state, (n_sections, 2, n_channels) float64."""
        state = np.zeros((self.n_sections, 2, self.n_channels))
        check(self._invoke(lib.btfm_iir_state, _d(state), state.size))
        return state


# ---- datasets (called by btfm.Dataset.filter / .epochs) ----

def _design(sfreq, l_freq, h_freq, order, notch, notch_quality):
    parts = []
    if l_freq is not None and h_freq is not None:
        parts.append(butter(order, (l_freq, h_freq), "bandpass", sfreq=sfreq))
    elif l_freq is not None:
        parts.append(butter(order, l_freq, "highpass", sfreq=sfreq))
    elif h_freq is not None:
        parts.append(butter(order, h_freq, "lowpass", sfreq=sfreq))
    for freq in ([] if notch is None else np.atleast_1d(notch)):
        parts.append(iirnotch(float(freq), notch_quality, sfreq=sfreq))
    if not parts:
        raise ValueError("give l_freq, h_freq or notch")
    return np.ascontiguousarray(np.vstack(parts))


def dataset_filter(ds, l_freq=None, h_freq=None, order=4, notch=None, notch_quality=30.0,
                   as_dataset=False, allow_nonfinite=False):
    """See btfm.Dataset.filter."""
    from .dataset import Dataset
    sos = _design(ds.sfreq, l_freq, h_freq, order, notch, notch_quality)
    flags = _flags(allow_nonfinite)
    if as_dataset:
        ptr = DatasetPtr()
        check(ds._invoke(lambda p: lib.btfm_dataset_filtered(ctypes.byref(ptr), p, _d(sos),
                                                             sos.shape[0], flags)))
        return Dataset._adopt(ptr, "<memory>")
    out = np.empty((ds.n_times, ds.n_channels), dtype=np.float32)
    check(ds._invoke(lib.btfm_dataset_filter, _d(sos), sos.shape[0], flags, _f(out)))
    return out


def _reject_spec(reject):
    if reject is None:
        return None
    if isinstance(reject, str):
        return reject.encode()
    return ",".join(f"{k}={float(v)!r}" for k, v in reject.items()).encode()


def dataset_epochs(ds, events=None, tmin=-0.2, tmax=0.5, baseline=(None, 0), reject=None,
                   label=None, allow_nonfinite=False):
    """See btfm.Dataset.epochs."""
    if reject is not None and not isinstance(reject, (str, dict)):
        raise ValueError("a dataset's reject is by channel type: {\"eeg\": 100e-6} or "
                         "\"eeg=100e-6\"")
    with EpochsPlan(tmin, tmax, baseline, reject, allow_nonfinite=allow_nonfinite) as plan:
        return plan.run_dataset(ds, events, label)
