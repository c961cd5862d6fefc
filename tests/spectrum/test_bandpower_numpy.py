"""btfm.spectrum.band_power against the documented rule computed with NumPy: the
trapezoid integral (numpy.trapz) of the PSD over the bins with fmin <= f <= fmax,
relative power divided by the integral over [lowest edge, highest edge]. Tolerance
1e-12 relative."""

import numpy as np
import pytest
import scipy.signal

import btfm
from btfm import spectrum


def reference(psd, freqs, bands, relative):
    def integral(lo, hi):
        keep = (freqs >= lo) & (freqs <= hi)
        return np.trapz(psd[keep], freqs[keep], axis=0)
    out = np.array([integral(lo, hi) for lo, hi in bands])
    if relative:
        out = out / integral(min(b[0] for b in bands), max(b[1] for b in bands))
    return out


@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("nperseg", [256, 500, 1000])
def test_band_power_matches_numpy(relative, nperseg):
    rng = np.random.default_rng(nperseg)
    t = np.arange(20000) / 250.0
    x = rng.standard_normal((20000, 6)) + 3 * np.sin(2 * np.pi * 10.3 * t)[:, None]
    f, p = scipy.signal.welch(x.astype(np.float32).astype(np.float64), fs=250.0,
                              nperseg=nperseg, axis=0)
    names = ["delta", "theta", "alpha", "beta", "gamma"]
    edges = [spectrum.BANDS[n] for n in names] + [(0.0, 125.0), (10.0, 10.6)]
    if nperseg < 500:  # (10, 10.6) holds fewer than two bins at this resolution
        edges = edges[:-1]
    got = spectrum.band_power(p, f, names + edges[5:], relative=relative)
    np.testing.assert_allclose(got, reference(p, f, edges, relative), rtol=1e-12)
    assert spectrum.BANDS == {"delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0),
                              "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}


def test_band_power_errors():
    f = np.linspace(0, 32, 129)
    p = np.ones((129, 2))
    with pytest.raises(btfm.Error, match="outside") as err:
        spectrum.band_power(p, f, ["gamma"])  # Nyquist 32 Hz < 45 Hz
    assert err.value.status_name == "BTFM_E_RANGE"
    with pytest.raises(btfm.Error, match="fewer|holds"):
        spectrum.band_power(p, f, [(10.01, 10.2)])
    with pytest.raises(ValueError, match="unknown band"):
        spectrum.band_power(p, f, ["mu"])
    np.testing.assert_allclose(spectrum.band_power(p[:, 0], f, "alpha"), [5.0])
