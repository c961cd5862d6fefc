"""btfm.signal against SciPy on the same inputs: Butterworth and notch designs, sosfilt
(chunked and one-shot), sosfiltfilt, firwin, resample_poly and detrend."""

import numpy as np
import pytest
import scipy.signal as ss

import btfm
from btfm import signal as bs

BTYPES = ["lowpass", "highpass", "bandpass", "bandstop"]
# (sfreq, low, high): EEG, wide-band iEEG, a narrow alpha band, near-DC to near-Nyquist.
DESIGNS = [(512.0, 1.0, 40.0), (1000.0, 0.5, 300.0), (250.0, 8.0, 12.0), (100.0, 0.1, 45.0)]


def rel_rows(ours, ref):
    """Largest difference per section row, relative to that row's largest coefficient."""
    scale = np.abs(ref).max(axis=1, keepdims=True)
    return float(np.max(np.abs(ours - ref) / scale))


@pytest.mark.parametrize("btype", BTYPES)
@pytest.mark.parametrize("order", range(1, 11))
def test_butter_equals_scipy(btype, order):
    for sfreq, low, high in DESIGNS:
        cutoff = (low, high) if btype.startswith("band") else low
        ours = bs.butter(order, cutoff, btype, sfreq=sfreq)
        ref = ss.butter(order, cutoff, btype, output="sos", fs=sfreq)
        assert ours.shape == ref.shape
        # Same sections in the same order (scipy's zpk2sos pairing): 1e-10 of each row.
        assert rel_rows(ours, ref) < 1e-10, (btype, order, sfreq, cutoff)


@pytest.mark.parametrize("freq,quality,sfreq", [(50, 30, 500), (60, 35, 1000), (10, 2, 100)])
def test_iirnotch_equals_scipy(freq, quality, sfreq):
    b, a = ss.iirnotch(freq, quality, fs=sfreq)
    ours = bs.iirnotch(freq, quality, sfreq=sfreq)
    np.testing.assert_allclose(ours[0], np.r_[b, a], rtol=1e-14, atol=1e-15)


def test_design_errors_name_value_and_range():
    with pytest.raises(btfm.Error, match=r"order 11 is outside \[1, 10\]"):
        bs.butter(11, 10, "lowpass", sfreq=100)
    with pytest.raises(btfm.Error, match=r"f1_hz \(cutoff\) = 60 Hz is outside \(0, 50\)"):
        bs.butter(4, 60, "lowpass", sfreq=100)
    with pytest.raises(btfm.Error, match=r"f1_hz = 20 Hz and f2_hz = 10 Hz"):
        bs.butter(4, (20, 10), "bandpass", sfreq=100)
    with pytest.raises(btfm.Error, match=r"outside \(0, 50\)"):
        bs.butter(2, 0, "highpass", sfreq=100)


def signal(n_times, n_channels, seed=0, offset=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_times, n_channels)) * 20e-6
    if offset:  # DC offsets as on real amplifiers
        x += rng.uniform(-5e-3, 5e-3, n_channels)
    return x.astype(np.float32)


def test_sosfilt_matches_scipy_and_chunks_exactly():
    sos = bs.butter(4, (1, 40), "bandpass", sfreq=512)
    x = signal(4000, 37)
    zi = bs.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    ref, ref_zf = ss.sosfilt(sos, x, axis=0, zi=zi)
    one, one_zf = bs.sosfilt(sos, x, zi=zi)
    # Double arithmetic in scipy's order: scipy's float64 result rounded to float32.
    assert np.array_equal(one, ref.astype(np.float32))
    np.testing.assert_allclose(one_zf, ref_zf, rtol=1e-12, atol=1e-20)
    rng = np.random.default_rng(7)
    for _ in range(5):
        cuts = np.sort(rng.choice(np.arange(1, 4000), size=12, replace=False))
        state, parts = zi.copy(), []
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, 4000]):
            y, state = bs.sosfilt(sos, x[lo:hi], zi=state)
            parts.append(y)
        assert np.array_equal(np.vstack(parts), one)  # bit for bit
        assert np.array_equal(state, one_zf)


def test_causal_filter_streams_like_sosfilt():
    sos = bs.butter(3, 30, "lowpass", sfreq=250)
    x = signal(2000, 6, seed=3)
    f = bs.CausalFilter(sos, 6)
    f.reset(x[0])
    chunks = [f.process(x[i:i + 37]) for i in range(0, 2000, 37)]
    # reset(x[0]) is zi x x[0]; zi itself is compared with scipy's in test_sosfilt_zi
    ref, ref_zf = ss.sosfilt(sos, x, axis=0,
                             zi=bs.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :])
    assert np.array_equal(np.vstack(chunks), ref.astype(np.float32))
    np.testing.assert_allclose(f.state, ref_zf, rtol=1e-9, atol=1e-20)


def test_sosfilt_zi_equals_scipy():
    for btype in BTYPES:
        sos = bs.butter(5, (2, 30) if btype.startswith("band") else 10, btype, sfreq=200)
        np.testing.assert_allclose(bs.sosfilt_zi(sos), ss.sosfilt_zi(sos), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("padtype", ["odd", "even", "constant", None])
@pytest.mark.parametrize("btype,cutoff,order", [("bandpass", (1, 40), 4), ("highpass", 0.5, 4),
                                                ("lowpass", 30, 7), ("bandstop", (48, 52), 2)])
def test_sosfiltfilt_equals_scipy(padtype, btype, cutoff, order):
    sos = bs.butter(order, cutoff, btype, sfreq=512)
    x = signal(6000, 21, seed=1)
    ref = ss.sosfiltfilt(sos, x, axis=0, padtype=padtype)
    for threads in (True, False):
        ours = bs.sosfiltfilt(sos, x, padtype=padtype, threads=threads)
        # float32 data, float32 intermediate between the passes: within 1e-5 of the RMS
        # of SciPy's (float64) output, per channel.
        rms = np.sqrt(np.mean(ref ** 2, axis=0))
        assert np.all(np.max(np.abs(ours - ref), axis=0) <= 1e-5 * rms)


def test_sosfiltfilt_padlen_and_short_input():
    sos = bs.butter(4, (1, 40), "bandpass", sfreq=512)
    x = signal(500, 3)
    np.testing.assert_allclose(bs.sosfiltfilt(sos, x, padlen=100),
                               ss.sosfiltfilt(sos, x, axis=0, padlen=100), rtol=0, atol=1e-9)
    # scipy's default padlen for 4 band-pass sections: 3 * (2 * 4 + 1) = 27 samples
    with pytest.raises(btfm.Error, match="27"):
        bs.sosfiltfilt(sos, x[:27])
    with pytest.raises(ValueError):
        ss.sosfiltfilt(sos, x[:27], axis=0)


def test_nan_refused_with_channel_and_sample_or_propagated():
    sos = bs.butter(2, 10, "lowpass", sfreq=100)
    x = signal(300, 4)
    x[123, 2] = np.nan
    for call in (lambda: bs.sosfiltfilt(sos, x), lambda: bs.sosfilt(sos, x),
                 lambda: bs.resample_poly(x, 1, 2), lambda: bs.detrend(x)):
        with pytest.raises(btfm.Error, match="channel 2, sample 123 holds NaN") as info:
            call()
        assert info.value.status_name == "BTFM_E_NUMERIC"
    y = bs.sosfilt(sos, x, allow_nonfinite=True)
    assert np.isnan(y[123:, 2]).all() and np.isfinite(y[:123]).all()
    assert np.isfinite(y[:, [0, 1, 3]]).all()


NUMTAPS = [1, 31, 64, 101]
WINDOWS = ["hamming", "hann", "blackman", ("kaiser", 6.5), "boxcar"]


@pytest.mark.parametrize("numtaps", NUMTAPS)
@pytest.mark.parametrize("window", WINDOWS)
def test_firwin_equals_scipy(numtaps, window):
    for pass_zero, cutoff in [("lowpass", 10.0), ("highpass", 10.0), ("bandpass", (10.0, 40.0)),
                              ("bandstop", (10.0, 40.0)), (True, 30.0), (False, (5.0, 20.0))]:
        kind = pass_zero if isinstance(pass_zero, str) else None
        if kind in ("highpass", "bandstop") and numtaps % 2 == 0:
            with pytest.raises(btfm.Error, match="odd numtaps"):
                bs.firwin(numtaps, cutoff, window=window, pass_zero=pass_zero, sfreq=250.0)
            continue
        if numtaps == 1 and kind in ("highpass", "bandstop"):
            continue  # scipy divides 0 by 0 there
        ref = ss.firwin(numtaps, cutoff, window=window, pass_zero=pass_zero, fs=250.0)
        ours = bs.firwin(numtaps, cutoff, window=window, pass_zero=pass_zero, sfreq=250.0)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14 * np.abs(ref).max())


@pytest.mark.parametrize("up,down", [(1, 4), (3, 2), (2, 3), (1, 1), (160, 147), (4, 1)])
def test_resample_poly_equals_scipy(up, down):
    x = signal(3001, 19, seed=5)
    ref = ss.resample_poly(x.astype(np.float64), up, down, axis=0)
    for threads in (True, False):
        ours = bs.resample_poly(x, up, down, threads=threads)
        assert ours.shape == ref.shape
        # float32 products and sums (SciPy computes float32 data in float32 too):
        # within 1e-5 of the RMS of SciPy's float64 result.
        rms = np.sqrt(np.mean(ref ** 2, axis=0))
        assert np.all(np.max(np.abs(ours - ref), axis=0) <= 1e-5 * rms)


@pytest.mark.parametrize("kind", ["constant", "linear"])
def test_detrend_equals_scipy(kind):
    x = signal(5000, 9, seed=2) + np.linspace(0, 1e-3, 5000, dtype=np.float32)[:, None]
    ref = ss.detrend(x.astype(np.float64), axis=0, type=kind)
    ours = bs.detrend(x, kind)
    # double arithmetic; the difference is the float32 rounding of the output
    assert np.max(np.abs(ours - ref)) <= 1e-6 * np.abs(x).max()


def test_progress_and_cancel_of_long_filters():
    """Filtering and resampling watched to the end equal SciPy; a cancel raises."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3000, 200)).astype(np.float32)  # several tiles of channels
    sos = ss.butter(4, [1, 40], "bandpass", fs=250, output="sos")
    seen = []
    y = bs.sosfiltfilt(sos, x, progress=lambda stage, fraction: seen.append(fraction))
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 3
    ref = ss.sosfiltfilt(sos, x.astype(np.float64), axis=0)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-4 * np.abs(ref).max())
    with pytest.raises(btfm.Error, match="cancelled"):
        bs.sosfiltfilt(sos, x, progress=lambda stage, fraction: fraction > 0)
    with pytest.raises(btfm.Error, match="cancelled"):
        bs.resample_poly(x, 2, 1, progress=lambda stage, fraction: fraction > 0)
    np.testing.assert_allclose(bs.resample_poly(x, 2, 1, progress=lambda s, f: False),
                               ss.resample_poly(x.astype(np.float64), 2, 1, axis=0),
                               rtol=0, atol=1e-4 * np.abs(x).max())
