"""btfm.spectrum.fir_apply against scipy.signal.oaconvolve(x, taps[:, None], mode, axes=0)
and, for mode "zero-phase", against MNE's FIR filtering (mne.filter.filter_data with the
taps of mne.filter.create_filter, and the overlap-add routine it uses).

Outputs are float32: tolerance 1e-6 x the largest output magnitude."""

import numpy as np
import pytest
import scipy.signal
import mne
from mne.filter import _overlap_add_filter

import btfm
from btfm import spectrum

CASES = [(1000, 13, 31), (50, 3, 101), (5000, 8, 1), (777, 17, 200), (4096, 64, 1025),
         (20, 1, 21)]


@pytest.mark.parametrize("n,channels,n_taps", CASES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_fir_matches_oaconvolve(n, channels, n_taps, mode):
    if mode == "valid" and n_taps > n:
        pytest.skip("'valid' needs at least as many samples as taps")
    rng = np.random.default_rng(n + n_taps)
    x = rng.standard_normal((n, channels)).astype(np.float32)
    h = rng.standard_normal(n_taps)
    ref = scipy.signal.oaconvolve(x.astype(np.float64), h[:, None], mode=mode, axes=0)
    out = spectrum.fir_apply(x, h, mode)
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("n,channels,n_taps", [c for c in CASES if c[2] % 2])
def test_zero_phase_matches_mne_overlap_add(n, channels, n_taps):
    rng = np.random.default_rng(n * 3)
    x = rng.standard_normal((n, channels)).astype(np.float32)
    h = rng.standard_normal(n_taps)
    ref = _overlap_add_filter(x.T.astype(np.float64), h, phase="zero").T
    out = spectrum.fir_apply(x, h, "zero-phase")
    assert np.abs(out - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("l_freq,h_freq", [(1.0, 40.0), (None, 30.0), (8.0, None)])
def test_zero_phase_matches_mne_filter_data(l_freq, h_freq):
    sfreq = 250.0
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5000, 6)).astype(np.float32) * 1e-5
    data = x.T.astype(np.float64)
    h = mne.filter.create_filter(data, sfreq, l_freq, h_freq, method="fir", phase="zero",
                                 fir_design="firwin", verbose=False)
    ref = mne.filter.filter_data(data, sfreq, l_freq, h_freq, method="fir", phase="zero",
                                 fir_design="firwin", verbose=False).T
    out = spectrum.fir_apply(x, h, "zero-phase")
    assert np.abs(out - ref).max() <= 1e-6 * np.abs(ref).max()


def test_fir_errors():
    x = np.zeros((100, 2), dtype=np.float32)
    with pytest.raises(btfm.Error, match="odd number of taps"):
        spectrum.fir_apply(x, np.ones(4), "zero-phase")
    with pytest.raises(btfm.Error, match="'valid' mode"):
        spectrum.fir_apply(x, np.ones(101), "valid")
    with pytest.raises(ValueError, match="unknown mode"):
        spectrum.fir_apply(x, np.ones(3), "circular")
    x[7, 1] = np.nan
    with pytest.raises(btfm.Error, match="channel 1, sample 7"):
        spectrum.fir_apply(x, np.ones(3))
