"""ERP features against MNE: the peak of each epoch and channel against
mne.EvokedArray(...).get_peak(tmin, tmax, mode, return_amplitude=True) on that channel
alone, and the mean amplitude against NumPy's mean over the samples MNE's get_peak window
holds (times >= tmin and times <= tmax). Tolerance: float32 data, 1e-7 relative for
amplitudes; latencies exactly equal."""

import numpy as np
import pytest
import mne

import btfm
from btfm import spectrum

SFREQ, TMIN = 500.0, -0.2


@pytest.fixture(scope="module")
def epochs():
    rng = np.random.default_rng(11)
    t = np.arange(400) / SFREQ + TMIN
    wave = np.exp(-((t - 0.3) / 0.05) ** 2) - 0.6 * np.exp(-((t - 0.12) / 0.03) ** 2)
    x = wave[None, :, None] * rng.uniform(-2, 2, (4, 1, 5)) + 0.1 * rng.standard_normal((4, 400, 5))
    return (x * 1e-6).astype(np.float32)


def evoked(epoch):
    info = mne.create_info([f"ch{c}" for c in range(epoch.shape[1])], SFREQ, "eeg")
    return mne.EvokedArray(epoch.T.astype(np.float64), info, tmin=TMIN, verbose=False)


@pytest.mark.parametrize("mode", ["abs", "pos", "neg"])
@pytest.mark.parametrize("window", [(0.0, 0.5), (0.1, 0.2), (-0.2, 0.598), (0.25, 0.25)])
def test_peak_matches_mne_get_peak(epochs, mode, window):
    amplitude, latency = spectrum.erp_peak(epochs, SFREQ, TMIN, *window, mode=mode)
    for e in range(epochs.shape[0]):
        ev = evoked(epochs[e])
        for c in range(epochs.shape[2]):
            single = ev.copy().pick([c])
            try:
                _, lat, amp = single.get_peak(tmin=window[0], tmax=window[1], mode=mode,
                                              return_amplitude=True)
            except ValueError:  # no positive / negative value in the window
                assert np.isnan(amplitude[e, c]) and np.isnan(latency[e, c])
                continue
            assert latency[e, c] == lat
            assert amplitude[e, c] == pytest.approx(amp, rel=1e-7)


@pytest.mark.parametrize("window", [(0.0, 0.5), (0.1003, 0.2), (-0.2, 0.598)])
def test_mean_amplitude_matches_numpy(epochs, window):
    times = evoked(epochs[0]).times
    keep = (times >= window[0]) & (times <= window[1])
    ref = epochs.astype(np.float64)[:, keep, :].mean(axis=1)
    got = spectrum.erp_mean_amplitude(epochs, SFREQ, TMIN, *window)
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=0)
    single = spectrum.erp_mean_amplitude(epochs[2], SFREQ, TMIN, *window)
    np.testing.assert_allclose(single, ref[2], rtol=1e-7)


def test_erp_window_errors(epochs):
    with pytest.raises(btfm.Error, match="outside"):
        spectrum.erp_peak(epochs, SFREQ, TMIN, -0.3, 0.1)
    with pytest.raises(btfm.Error, match="after its stop"):
        spectrum.erp_mean_amplitude(epochs, SFREQ, TMIN, 0.3, 0.1)
    with pytest.raises(btfm.Error, match="no sample"):
        spectrum.erp_mean_amplitude(epochs, SFREQ, TMIN, 0.1001, 0.1015)
