"""btfm.fnirs: functional near-infrared spectroscopy, from light intensity to
haemoglobin, with MNE's conventions (doc/fnirs.md).

    >>> raw = btfm.open("sub-01_task-tapping_nirs.snirf")
    >>> od = raw.optical_density()                    # fnirs_od channels, -ln(I / mean I)
    >>> print(od.scalp_coupling_index())              # per channel, 0.7-1.5 Hz band
    >>> clean = od.short_channel_regression(0.01)     # short channels below 1 cm
    >>> hb = clean.beer_lambert(ppf=6.0)              # "S1_D1 hbo", "S1_D1 hbr" in M

Array functions take (n_times, n_channels) arrays (float32 C order, converted once) and
return numpy arrays; the Dataset methods read the channels' source-detector geometry.
NaN or Inf in the input raise btfm.Error unless allow_nonfinite=True. Requires numpy.
"""

from __future__ import annotations

import ctypes

try:
    import numpy as np
except ImportError:  # the package works without numpy; this module needs it
    np = None

from ._errors import check
from ._lib import DatasetPtr, lib
from .spectrum import _signal

__all__ = ["optical_density", "extinction", "beer_lambert", "short_channel_regression",
           "scalp_coupling_index", "MNE_PPF", "MNE_SCI_BAND", "dataset_optical_density",
           "dataset_beer_lambert", "dataset_short_channel_regression",
           "dataset_scalp_coupling_index", "source_detector_distances", "short_channels"]

#: MNE's partial pathlength factor (beer_lambert_law's default). Homer3 uses 1.
MNE_PPF = 6.0
#: MNE's scalp coupling band: l_freq, h_freq, l_trans_bandwidth, h_trans_bandwidth (Hz).
MNE_SCI_BAND = (0.7, 1.5, 0.3, 0.3)

_ALLOW_NONFINITE = 0x1


def _p(arr, ctype):
    return arr.ctypes.data_as(ctypes.POINTER(ctype))


def _ints(values, n, what):
    arr = np.ascontiguousarray(values, dtype=np.intc)
    if arr.shape != (n,):
        raise ValueError(f"{what} must have one entry a channel ({n}), got shape {arr.shape}")
    return arr


def _doubles(values, n, what):
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{what} must have {n} entries, got shape {arr.shape}")
    return arr


def optical_density(x, *, allow_nonfinite: bool = False):
    """-ln(x / mean(x)) per channel, as mne.preprocessing.nirs.optical_density (values
    <= 0 anywhere make every value |x|, at least the smallest channel minimum that is
    not 0)."""
    arr, was_1d = _signal(x)
    out = np.empty_like(arr)
    check(lib.btfm_fnirs_optical_density(_p(arr, ctypes.c_float), arr.shape[0], arr.shape[1],
                                         _ALLOW_NONFINITE if allow_nonfinite else 0,
                                         _p(out, ctypes.c_float)))
    return out.reshape(-1) if was_1d else out


def extinction(wavelength_nm: float) -> tuple:
    """(HbO, HbR) molar extinction coefficients in cm^-1/M at a wavelength (250-1000 nm),
    from Prahl's table as MNE interpolates it."""
    hbo, hbr = ctypes.c_double(), ctypes.c_double()
    check(lib.btfm_fnirs_extinction(float(wavelength_nm), ctypes.byref(hbo), ctypes.byref(hbr)))
    return hbo.value, hbr.value


def beer_lambert(od, pair, wavelengths, distances, ppf: float = MNE_PPF, *,
                 allow_nonfinite: bool = False):
    """Modified Beer-Lambert law, as mne.preprocessing.nirs.beer_lambert_law: channels
    with pair[c] = p (0 .. n_pairs - 1; -1 ignores a channel) are one source-detector
    pair measured at wavelengths[c] nm, distances[p] metres apart. Returns (n_times,
    2 n_pairs): HbO and HbR of pair p in columns 2p and 2p + 1, in M."""
    arr, _ = _signal(od, "od")
    n = arr.shape[1]
    pair_arr = _ints(pair, n, "pair")
    n_pairs = int(pair_arr.max()) + 1 if n else 0
    wl = _doubles(wavelengths, n, "wavelengths")
    dist = _doubles(distances, n_pairs, "distances")
    out = np.empty((arr.shape[0], 2 * n_pairs), dtype=np.float32)
    check(lib.btfm_fnirs_beer_lambert(_p(arr, ctypes.c_float), arr.shape[0], n,
                                      _p(pair_arr, ctypes.c_int), _p(wl, ctypes.c_double),
                                      _p(dist, ctypes.c_double), n_pairs, float(ppf),
                                      _ALLOW_NONFINITE if allow_nonfinite else 0,
                                      _p(out, ctypes.c_float)))
    return out


def short_channel_regression(x, short_of, *, allow_nonfinite: bool = False):
    """Channel c minus alpha times channel short_of[c] (alpha = <s, x> / <s, s>,
    Scholkmann et al. 2014); channels with short_of[c] = -1 are copied."""
    arr, was_1d = _signal(x)
    idx = _ints(short_of, arr.shape[1], "short_of")
    out = np.empty_like(arr)
    check(lib.btfm_fnirs_short_channel_regression(_p(arr, ctypes.c_float), arr.shape[0],
                                                  arr.shape[1], _p(idx, ctypes.c_int),
                                                  _ALLOW_NONFINITE if allow_nonfinite else 0,
                                                  _p(out, ctypes.c_float)))
    return out.reshape(-1) if was_1d else out


def _band(l_freq, h_freq, l_trans_bandwidth, h_trans_bandwidth):
    return np.array([l_freq, h_freq, l_trans_bandwidth, h_trans_bandwidth], dtype=np.float64)


def scalp_coupling_index(od, pair, sfreq: float, l_freq: float = 0.7, h_freq: float = 1.5,
                         l_trans_bandwidth: float = 0.3, h_trans_bandwidth: float = 0.3, *,
                         allow_nonfinite: bool = False):
    """Scalp coupling index per channel, as mne.preprocessing.nirs.scalp_coupling_index:
    the correlation of each pair's wavelengths after MNE's FIR band-pass (NaN where
    pair[c] = -1)."""
    arr, _ = _signal(od, "od")
    pair_arr = _ints(pair, arr.shape[1], "pair")
    band = _band(l_freq, h_freq, l_trans_bandwidth, h_trans_bandwidth)
    out = np.empty(arr.shape[1], dtype=np.float64)
    check(lib.btfm_fnirs_scalp_coupling_index(_p(arr, ctypes.c_float), arr.shape[0], arr.shape[1],
                                              _p(pair_arr, ctypes.c_int), float(sfreq),
                                              _p(band, ctypes.c_double),
                                              _ALLOW_NONFINITE if allow_nonfinite else 0,
                                              _p(out, ctypes.c_double)))
    return out


# ---- datasets (the Dataset methods call these) ----

def _new_dataset(ds, func, *args):
    from .dataset import Dataset
    ptr = DatasetPtr()
    check(ds._invoke(lambda p: func(ctypes.byref(ptr), p, *args)))
    return Dataset._adopt(ptr, "<memory>")


def dataset_optical_density(ds):
    """See btfm.Dataset.optical_density."""
    return _new_dataset(ds, lib.btfm_dataset_optical_density)


def dataset_beer_lambert(ds, ppf=MNE_PPF):
    """See btfm.Dataset.beer_lambert."""
    return _new_dataset(ds, lib.btfm_dataset_beer_lambert, float(ppf))


def dataset_short_channel_regression(ds, max_distance=0.01):
    """See btfm.Dataset.short_channel_regression."""
    return _new_dataset(ds, lib.btfm_dataset_short_channel_regression, float(max_distance))


def dataset_scalp_coupling_index(ds, l_freq=0.7, h_freq=1.5, l_trans_bandwidth=0.3,
                                 h_trans_bandwidth=0.3):
    """See btfm.Dataset.scalp_coupling_index."""
    band = _band(l_freq, h_freq, l_trans_bandwidth, h_trans_bandwidth)
    out = np.empty(ds.n_channels, dtype=np.float64)
    check(ds._invoke(lib.btfm_dataset_scalp_coupling_index, _p(band, ctypes.c_double),
                     _p(out, ctypes.c_double)))
    return out


def source_detector_distances(ds):
    """Source-detector distance of every channel in metres (NaN for other channels)."""
    out = np.empty(ds.n_channels, dtype=np.float64)
    check(ds._invoke(lib.btfm_dataset_nirs_distances, _p(out, ctypes.c_double)))
    return out


def short_channels(ds, max_distance: float = 0.01):
    """Boolean array: fNIRS channels whose source-detector distance is below
    max_distance metres (MNE's short_channels)."""
    out = np.zeros(ds.n_channels, dtype=np.uint8)
    check(ds._invoke(lib.btfm_dataset_short_channels, float(max_distance),
                     _p(out, ctypes.c_ubyte)))
    return out.astype(bool)
