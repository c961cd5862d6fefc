"""DPSS tapers against scipy.signal.windows.dpss, and the multitaper PSD against MNE's
psd_array_multitaper(adaptive=False, normalization='full') (MNE 1.3).

Tolerances: tapers 1e-10 absolute (unit-energy vectors from two eigensolvers: LAPACK
dstevr here, stebz/stein in SciPy), concentration ratios 1e-12; PSD 1e-9 x the channel's
largest value."""

import numpy as np
import pytest
import scipy.signal.windows
from mne.time_frequency import psd_array_multitaper

import btfm
from btfm import spectrum


@pytest.mark.parametrize("n,nw,k,sym", [(100, 2.5, 4, True), (101, 3.0, 5, False),
                                        (512, 4.0, 7, False), (64, 1.5, 2, True),
                                        (1000, 4.0, 8, False), (37, 2.0, 3, True)])
def test_dpss_matches_scipy(n, nw, k, sym):
    ref, ref_ratios = scipy.signal.windows.dpss(n, nw, k, sym=sym, return_ratios=True)
    tapers, ratios = spectrum.dpss(n, nw, k, sym=sym)
    np.testing.assert_allclose(tapers, ref, atol=1e-10)
    np.testing.assert_allclose(ratios, ref_ratios, atol=1e-12)


@pytest.mark.parametrize("n,channels,sfreq,bandwidth,low_bias",
                         [(1000, 5, 250.0, None, True), (999, 9, 100.0, 2.0, True),
                          (256, 1, 128.0, 4.0, False), (2048, 17, 512.0, 1.0, True),
                          (301, 3, 100.0, 0.4, True)])
def test_multitaper_matches_mne(n, channels, sfreq, bandwidth, low_bias):
    x = np.random.default_rng(n).standard_normal((n, channels)).astype(np.float32) * 1e-5
    ref, ref_freqs = psd_array_multitaper(x.T.astype(np.float64), sfreq, fmin=2.0, fmax=40.0,
                                          bandwidth=bandwidth, adaptive=False,
                                          low_bias=low_bias, normalization="full",
                                          verbose=False)
    freqs, psd = spectrum.psd_multitaper(x, sfreq, bandwidth=bandwidth, low_bias=low_bias,
                                         fmin=2.0, fmax=40.0)
    np.testing.assert_allclose(freqs, ref_freqs, rtol=1e-12)
    assert psd.shape == ref.T.shape
    assert np.all(np.abs(psd - ref.T) <= 1e-9 * np.abs(ref).max(axis=1))


def test_multitaper_errors():
    x = np.zeros((100, 2), dtype=np.float32)
    with pytest.raises(btfm.Error, match="NW = 0.25") as err:
        spectrum.psd_multitaper(x, 100.0, bandwidth=0.5)
    assert err.value.status_name == "BTFM_E_RANGE"
    x[50, 1] = np.nan
    with pytest.raises(btfm.Error, match="channel 1, sample 50"):
        spectrum.psd_multitaper(x, 100.0)
