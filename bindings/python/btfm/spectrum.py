"""Spectral analysis of time-major recordings: real FFTs, FFT-based FIR filtering, Welch
and multitaper power spectral densities, band power, and ERP features.

    >>> freqs, psd = btfm.spectrum.welch(x, sfreq=256.0, nperseg=512)  # x: time x channels
    >>> power = btfm.spectrum.band_power(psd, freqs, ["alpha", "beta"], relative=True)

Signals are (n_times, n_channels) arrays (a 1-D array is one channel), epochs are
(n_epochs, n_times, n_channels). They reach the library as float32, C-contiguous arrays
without a copy when they already are; spectra come back as float64 arrays of shape
(n_freqs, n_channels). PSDs are in the squared unit of the signal per Hz (V^2/Hz for
signals in V) for density scaling. Requires numpy. See doc/spectrum.md.
"""

from __future__ import annotations

import ctypes
import math
import threading

try:
    import numpy as np
except ImportError:  # the rest of the package works without numpy; this module needs it
    np = None

from ._errors import check
from ._handle import Handle
from ._lib import lib
from ._params import ParamsMixin
from ._util import enumerate_names

__all__ = ["rfft", "irfft", "welch", "WelchPlan", "dpss", "psd_multitaper", "band_power", "BANDS",
           "WINDOWS", "fir_apply", "erp_mean_amplitude", "erp_peak"]

PROPAGATE_NONFINITE = 1
_RELATIVE = 2

#: {name: number} of the windows (one numbering for every function), read from the library.
WINDOWS = {name: number for number, name in enumerate_names(lib.btfm_window_name, 0).items()}

#: {name: (fmin, fmax)} of the named frequency bands (Hz), read from the library.
BANDS = {}
for _number, _name in enumerate_names(lib.btfm_band_name, 0).items():
    _lo, _hi = ctypes.c_double(), ctypes.c_double()
    check(lib.btfm_band_edges(_number, ctypes.byref(_lo), ctypes.byref(_hi)))
    BANDS[_name] = (_lo.value, _hi.value)

_DETRENDS = {False: 0, None: 0, "none": 0, "constant": 1, "linear": 2}
_SCALINGS = {"density": 0, "spectrum": 1}
_AVERAGES = {"mean": 0, "median": 1}
_CONV_MODES = {"full": 0, "same": 1, "valid": 2}
_PEAK_MODES = {"abs": 0, "pos": 1, "neg": 2}


def _need_numpy():
    if np is None:
        raise ImportError("btfm.spectrum needs numpy")


def _ptr(arr, ctype):
    return arr.ctypes.data_as(ctypes.POINTER(ctype))


def _f32(arr):
    return _ptr(arr, ctypes.c_float)


def _f64(arr):
    return _ptr(arr, ctypes.c_double)


def _signal(x, what="x"):
    """(float32 C-contiguous 2-D array, whether the input was 1-D)."""
    _need_numpy()
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, not dtype {arr.dtype}")
    if arr.ndim == 1:
        return np.ascontiguousarray(arr, dtype=np.float32).reshape(-1, 1), True
    if arr.ndim != 2:
        raise ValueError(f"{what} must be (n_times, n_channels) or 1-D, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32), False


def _along(x, axis, what="x"):
    """(float32 C-contiguous (n_times, n_columns) array, back) for x with time along
    `axis` (SciPy's meaning; 0, the time-major layout, is free of copies for C-contiguous
    float32 input): every other axis flattened into columns. back(y) puts a
    (n_out, n_columns) result into x's layout, its first axis where time was."""
    _need_numpy()
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, not dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{what} must have a time axis, got a scalar")
    if not -arr.ndim <= int(axis) < arr.ndim:
        raise ValueError(f"axis {axis} is out of range for {what} of shape {arr.shape}")
    ax = int(axis) % arr.ndim
    moved = np.moveaxis(arr, ax, 0)
    rest = moved.shape[1:]
    cols = np.ascontiguousarray(moved.reshape(moved.shape[0], -1), dtype=np.float32)

    def back(y):
        return np.moveaxis(y.reshape((y.shape[0],) + rest), 0, ax)
    return cols, back


def _choice(table, value, what):
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {what} {value!r}; known: "
                         f"{', '.join(str(k) for k in table if k not in (False, None))}") from None


def _flags(propagate_nonfinite):
    return PROPAGATE_NONFINITE if propagate_nonfinite else 0


class _Plan:
    """A btfm_fft plan for one length, freed with its object."""

    def __init__(self, n):
        self.ptr = ctypes.c_void_p()
        check(lib.btfm_fft_new(ctypes.byref(self.ptr), int(n)))

    def __del__(self):
        if lib is not None and self.ptr:
            lib.btfm_fft_free(self.ptr)
            self.ptr = ctypes.c_void_p()


_PLANS = threading.local()  # a plan is used by one thread at a time: one cache a thread
_PLANS_KEPT = 8


def _plan(n):
    """The calling thread's plan for length n, kept with its buffers for the next call
    (the last few lengths used)."""
    cache = getattr(_PLANS, "plans", None)
    if cache is None:
        cache = _PLANS.plans = {}
    plan = cache.pop(n, None)
    if plan is None:
        plan = _Plan(n)
        while len(cache) >= _PLANS_KEPT:
            del cache[next(iter(cache))]  # the least recently used length
    cache[n] = plan  # most recent last
    return plan.ptr


def rfft(x, n=None):
    """numpy.fft.rfft along the last axis: n // 2 + 1 complex bins of each length-n row
    (x is cut or zero-padded to n, default its last extent). Double precision."""
    _need_numpy()
    arr = np.asarray(x, dtype=np.float64)
    n = arr.shape[-1] if n is None else int(n)
    if n < 1:
        raise ValueError(f"invalid number of data points ({n}) specified")
    if arr.shape[-1] == n:
        rows = np.ascontiguousarray(arr).reshape(-1, n)
    else:
        rows = np.zeros(arr.shape[:-1] + (n,), dtype=np.float64)
        keep = min(n, arr.shape[-1])
        rows[..., :keep] = arr[..., :keep]
        rows = rows.reshape(-1, n)
    out = np.empty((rows.shape[0], n // 2 + 1), dtype=np.complex128)
    check(lib.btfm_fft_rfft_rows(_plan(n), _f64(rows), rows.shape[0], _f64(out.view(np.float64))))
    return out.reshape(arr.shape[:-1] + (n // 2 + 1,))


def irfft(spectrum, n=None):
    """numpy.fft.irfft along the last axis: n real samples (default 2 (m - 1) for m bins)
    from each row of bins, scaled by 1 / n."""
    _need_numpy()
    arr = np.asarray(spectrum, dtype=np.complex128)
    m = arr.shape[-1]
    n = 2 * (m - 1) if n is None else int(n)
    if n < 1:
        raise ValueError(f"invalid number of data points ({n}) specified")
    if m == n // 2 + 1:
        bins = np.ascontiguousarray(arr).reshape(-1, m)
    else:
        bins = np.zeros(arr.shape[:-1] + (n // 2 + 1,), dtype=np.complex128)
        keep = min(m, n // 2 + 1)
        bins[..., :keep] = arr[..., :keep]
        bins = bins.reshape(-1, n // 2 + 1)
    out = np.empty((bins.shape[0], n), dtype=np.float64)
    check(lib.btfm_fft_irfft_rows(_plan(n), _f64(bins.view(np.float64)), bins.shape[0],
                                  _f64(out)))
    return out.reshape(arr.shape[:-1] + (n,))


class WelchPlan(ParamsMixin, Handle):
    """Welch options configured once and applied to any number of signals, as
    scipy.signal.welch (the library's Welch plan, btfm_welch_plan). window: "hann",
    "hamming", "blackman", "boxcar", or ("kaiser", beta) as SciPy writes it ("kaiser"
    with kaiser_beta=beta likewise); nperseg defaults to 256 (at most n_times), noverlap to
    nperseg // 2, nfft to nperseg; detrend "constant", "linear" or False; scaling
    "density" (V^2/Hz) or "spectrum" (V^2); average "mean" or "median". Every option is
    also a parameter: plan.params["nperseg"], param_info("welch_plan")."""

    _type_name = "btfm.spectrum.WelchPlan"
    _free = lib.btfm_welch_plan_free
    _param_kind = "welch_plan"
    _set_param_func = "btfm_welch_plan_set_param"
    _get_param_func = "btfm_welch_plan_get_param"

    def __init__(self, window="hann", nperseg=None, noverlap=None, nfft=None,
                 detrend="constant", scaling="density", average="mean", *,
                 kaiser_beta=None, propagate_nonfinite=False):
        if isinstance(window, tuple) and len(window) == 2 and window[0] == "kaiser":
            window, kaiser_beta = "kaiser", window[1]
        if window == "kaiser" and kaiser_beta is None:
            raise ValueError("the kaiser window needs a shape: window=(\"kaiser\", beta) as "
                             "in SciPy, or kaiser_beta=")
        ptr = ctypes.c_void_p()
        check(lib.btfm_welch_plan_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        self.set_param("window", _choice(WINDOWS, window, "window"))
        if kaiser_beta is not None:
            self.set_param("kaiser_beta", float(kaiser_beta))
        self.set_param("nperseg", 0 if nperseg is None else int(nperseg))
        self.set_param("noverlap", -1 if noverlap is None else int(noverlap))
        self.set_param("nfft", 0 if nfft is None else int(nfft))
        self.set_param("detrend", _choice(_DETRENDS, detrend, "detrend"))
        self.set_param("scaling", _choice(_SCALINGS, scaling, "scaling"))
        self.set_param("average", _choice(_AVERAGES, average, "average"))
        self.set_param("allow_nonfinite", bool(propagate_nonfinite))

    def n_freqs(self, n_times: int) -> int:
        """Frequencies (nfft // 2 + 1) for a signal of n_times samples."""
        return check(self._invoke(lib.btfm_welch_plan_n_freqs, int(n_times)))

    def run(self, x, sfreq, axis=0):
        """(freqs, psd) of each channel of x (n_times, n_channels; 1-D for one channel),
        psd of shape (n_freqs, n_channels) (1-D for a 1-D x). axis: where time runs, as
        in SciPy (-1 for MNE's channels x times); the frequencies take its place."""
        arr, back = _along(x, axis)
        n_freqs = self.n_freqs(arr.shape[0])
        psd = np.empty((n_freqs, arr.shape[1]), dtype=np.float64)
        freqs = np.empty(n_freqs, dtype=np.float64)
        check(self._invoke(lib.btfm_welch_plan_run, _f64(psd), _f64(freqs), _f32(arr),
                           arr.shape[0], arr.shape[1], float(sfreq)))
        return freqs, back(psd)


def welch(x, sfreq, window="hann", nperseg=None, noverlap=None, nfft=None,
          detrend="constant", scaling="density", average="mean", propagate_nonfinite=False,
          axis=0):
    """Welch PSD of each channel, as scipy.signal.welch(x, sfreq, ..., axis=axis); time
    runs along `axis` (0: time-major, the library's layout; -1: SciPy's default and
    MNE's get_data() layout, channels x times).

    Returns (freqs, psd) with psd of shape (nfft // 2 + 1, n_channels) (1-D for a 1-D x;
    in general x's shape with the frequencies along `axis`).
    window: "hann", "hamming", "blackman", "boxcar" or ("kaiser", beta); nperseg defaults
    to 256 (at most n_times), noverlap to nperseg // 2, nfft to nperseg; detrend
    "constant", "linear" or False; scaling "density" (V^2/Hz) or "spectrum" (V^2);
    average "mean" or "median". NaN/Inf input raises btfm.Error unless
    propagate_nonfinite is true. One run of a WelchPlan, which serves many signals."""
    with WelchPlan(window, nperseg, noverlap, nfft, detrend, scaling, average,
                   propagate_nonfinite=propagate_nonfinite) as plan:
        return plan.run(x, sfreq, axis=axis)


def dpss(n, half_bandwidth, n_tapers, sym=True):
    """DPSS tapers and their concentration ratios, as
    scipy.signal.windows.dpss(n, half_bandwidth, n_tapers, sym, return_ratios=True)."""
    _need_numpy()
    tapers = np.empty((int(n_tapers), int(n)), dtype=np.float64)
    ratios = np.empty(int(n_tapers), dtype=np.float64)
    check(lib.btfm_dpss(int(n), float(half_bandwidth), int(n_tapers), 1 if sym else 0,
                        _f64(tapers), _f64(ratios)))
    return tapers, ratios


def psd_multitaper(x, sfreq, bandwidth=None, low_bias=True, fmin=0.0, fmax=math.inf,
                   propagate_nonfinite=False, axis=0):
    """Multitaper PSD (V^2/Hz) of each channel, the estimate of MNE's
    psd_array_multitaper(x.T, sfreq, fmin, fmax, bandwidth, adaptive=False, low_bias,
    normalization='full'). Returns (freqs, psd) for the frequencies in [fmin, fmax], psd
    of shape (n_freqs, n_channels) (1-D for a 1-D x). axis: where time runs (SciPy's
    meaning; axis=-1 takes MNE's channels x times, psd_array_multitaper(x, ...), and
    gives channels x freqs as it does)."""
    arr, back = _along(x, axis)
    n_freqs = arr.shape[0] // 2 + 1
    psd = np.empty((n_freqs, arr.shape[1]), dtype=np.float64)
    freqs = np.empty(n_freqs, dtype=np.float64)
    n_tapers = ctypes.c_int()
    check(lib.btfm_psd_multitaper(_f32(arr), arr.shape[0], arr.shape[1], float(sfreq),
                                  0.0 if bandwidth is None else float(bandwidth),
                                  1 if low_bias else 0, _flags(propagate_nonfinite),
                                  ctypes.byref(n_tapers), _f64(psd), _f64(freqs)))
    keep = (freqs >= fmin) & (freqs <= fmax)
    return freqs[keep], back(psd[keep])


def _band_edges(bands):
    if isinstance(bands, str) or (len(bands) == 2 and all(
            isinstance(b, (int, float)) for b in bands)):
        bands = [bands]
    edges = []
    for band in bands:
        if isinstance(band, str):
            if band not in BANDS:
                raise ValueError(f"unknown band {band!r}; known: {', '.join(BANDS)}")
            edges.append(BANDS[band])
        else:
            lo, hi = band
            edges.append((float(lo), float(hi)))
    return np.ascontiguousarray(edges, dtype=np.float64)


def band_power(psd, freqs, bands=("delta", "theta", "alpha", "beta", "gamma"),
               relative=False, propagate_nonfinite=False):
    """Power of each band and channel: the trapezoid integral (numpy.trapz) of the PSD
    over the bins with fmin <= f <= fmax. bands: names from BANDS and/or (fmin, fmax)
    pairs in Hz. relative=True divides by the power over [lowest edge, highest edge].
    Returns (n_bands, n_channels) (n_bands for a 1-D psd)."""
    _need_numpy()
    arr = np.asarray(psd, dtype=np.float64)
    flat = arr.ndim == 1
    arr = np.ascontiguousarray(arr.reshape(arr.shape[0], -1) if not flat else arr[:, None])
    freqs = np.ascontiguousarray(freqs, dtype=np.float64)
    if freqs.shape != (arr.shape[0],):
        raise ValueError(f"freqs has shape {freqs.shape}; expected ({arr.shape[0]},), one "
                         "frequency per PSD row")
    edges = _band_edges(bands)
    out = np.empty((edges.shape[0], arr.shape[1]), dtype=np.float64)
    flags = _flags(propagate_nonfinite) | (_RELATIVE if relative else 0)
    check(lib.btfm_band_power(_f64(arr), _f64(freqs), arr.shape[0], arr.shape[1],
                              _f64(edges), edges.shape[0], flags, _f64(out)))
    return out[:, 0] if flat else out


def fir_apply(x, taps, mode="full", propagate_nonfinite=False, axis=0):
    """Filter each channel of x (n_times, n_channels) with FIR `taps` by FFT; time runs
    along `axis` (0: time-major; -1: SciPy's default and MNE's channels x times).

    mode "full", "same" or "valid": scipy.signal.oaconvolve(x, taps[:, None], mode,
    axes=0) (taps along `axis` in general). mode "zero-phase": MNE's application of a
    linear-phase filter (odd number of taps; edges extended by odd reflection, group
    delay removed), n_times samples."""
    arr, back = _along(x, axis)
    h = np.ascontiguousarray(taps, dtype=np.float64).ravel()
    flags = _flags(propagate_nonfinite)
    if mode == "zero-phase":
        out = np.empty_like(arr)
        check(lib.btfm_fir_zero_phase(_f32(arr), arr.shape[0], arr.shape[1], _f64(h), h.size,
                                      flags, _f32(out)))
    else:
        code = _choice(_CONV_MODES, mode, "mode")
        n_out = check(lib.btfm_fir_output_length(arr.shape[0], h.size, code))
        out = np.empty((n_out, arr.shape[1]), dtype=np.float32)
        check(lib.btfm_fir_apply(_f32(arr), arr.shape[0], arr.shape[1], _f64(h), h.size, code,
                                 flags, _f32(out)))
    return back(out)


def _epochs(epochs):
    _need_numpy()
    arr = np.asarray(epochs)
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError("epochs must be (n_epochs, n_times, n_channels) or (n_times, "
                         f"n_channels), got shape {np.shape(epochs)}")
    return np.ascontiguousarray(arr, dtype=np.float32), single


def _window(arr, sfreq, tmin, t_start, t_stop):
    first = round(tmin * sfreq)
    t_start = first / sfreq if t_start is None else float(t_start)
    t_stop = (first + arr.shape[1] - 1) / sfreq if t_stop is None else float(t_stop)
    return t_start, t_stop


def erp_mean_amplitude(epochs, sfreq, tmin, t_start=None, t_stop=None,
                       propagate_nonfinite=False):
    """Mean amplitude of each epoch and channel over the samples with t_start <= t <=
    t_stop (s; default the whole epoch); sample i of an epoch is at (round(tmin sfreq) +
    i) / sfreq. Returns (n_epochs, n_channels), or (n_channels,) for a 2-D input."""
    arr, single = _epochs(epochs)
    t_start, t_stop = _window(arr, sfreq, tmin, t_start, t_stop)
    out = np.empty((arr.shape[0], arr.shape[2]), dtype=np.float64)
    check(lib.btfm_erp_mean_amplitude(_f32(arr), arr.shape[0], arr.shape[1], arr.shape[2],
                                      float(sfreq), float(tmin), t_start, t_stop,
                                      _flags(propagate_nonfinite), _f64(out)))
    return out[0] if single else out


def erp_peak(epochs, sfreq, tmin, t_start=None, t_stop=None, mode="abs",
             propagate_nonfinite=False):
    """Peak of each epoch and channel in the window, with the semantics of MNE's
    Evoked.get_peak per channel: mode "abs" (largest |x|, signed value returned), "pos"
    or "neg". Returns (amplitude, latency_s), each (n_epochs, n_channels) or
    (n_channels,) for a 2-D input; NaN where "pos"/"neg" finds no such value."""
    arr, single = _epochs(epochs)
    t_start, t_stop = _window(arr, sfreq, tmin, t_start, t_stop)
    amplitude = np.empty((arr.shape[0], arr.shape[2]), dtype=np.float64)
    latency = np.empty_like(amplitude)
    check(lib.btfm_erp_peak(_f32(arr), arr.shape[0], arr.shape[1], arr.shape[2], float(sfreq),
                            float(tmin), t_start, t_stop, _choice(_PEAK_MODES, mode, "mode"),
                            _flags(propagate_nonfinite), _f64(amplitude), _f64(latency)))
    return (amplitude[0], latency[0]) if single else (amplitude, latency)
