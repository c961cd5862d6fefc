"""btfm.spectrum.welch against scipy.signal.welch(axis=0) for every window, detrend,
scaling and average, each met with every segment layout: overlaps, odd and zero-padded
nfft, and a single segment.

SciPy runs on the float64 copy of the float32 input the library reads, so both compute
in double precision: tolerance 1e-10 x the channel's largest PSD value; frequencies to
1e-12 relative."""

import numpy as np
import pytest
import scipy.signal

import btfm
from btfm import spectrum

WINDOWS = ["hann", "hamming", "blackman", "boxcar"]
DETRENDS = [False, "constant", "linear"]
SEGMENTS = [(256, None, None), (200, 50, 301), (255, 0, 255), (100, 99, 128), (3001, None, None)]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3001, 13)) * 1e-5 + np.linspace(0, 3e-5, 3001)[:, None]
    return x.astype(np.float32)


SCALINGS = ["density", "spectrum"]
AVERAGES = ["mean", "median"]
# Every window x detrend x scaling x average, each with one segment layout in turn: every
# pair of settings meets at least once (checked below) in 48 cases, not 240.
CASES = [(w, d, s, a, SEGMENTS[i % len(SEGMENTS)])
         for i, (w, d, s, a) in enumerate((w, d, s, a) for w in WINDOWS for d in DETRENDS
                                          for s in SCALINGS for a in AVERAGES)]
for _levels, _k in ((WINDOWS, 0), (DETRENDS, 1), (SCALINGS, 2), (AVERAGES, 3)):
    assert {(c[_k], c[4]) for c in CASES} == {(v, g) for v in _levels for g in SEGMENTS}


@pytest.mark.parametrize("window,detrend,scaling,average,segments", CASES)
def test_welch_matches_scipy(data, window, detrend, scaling, average, segments):
    nperseg, noverlap, nfft = segments
    f_ref, p_ref = scipy.signal.welch(data.astype(np.float64), fs=250.0, window=window,
                                      nperseg=nperseg, noverlap=noverlap, nfft=nfft,
                                      detrend=detrend, scaling=scaling, average=average, axis=0)
    f, p = spectrum.welch(data, 250.0, window=window, nperseg=nperseg, noverlap=noverlap,
                          nfft=nfft, detrend=detrend, scaling=scaling, average=average)
    np.testing.assert_allclose(f, f_ref, rtol=1e-12)
    assert p.shape == p_ref.shape
    assert np.all(np.abs(p - p_ref) <= 1e-10 * np.abs(p_ref).max(axis=0))


def test_welch_one_channel_and_defaults(data):
    f_ref, p_ref = scipy.signal.welch(data[:, 3].astype(np.float64), fs=100.0)
    f, p = spectrum.welch(data[:, 3], 100.0)
    assert p.shape == p_ref.shape
    np.testing.assert_allclose(p, p_ref, rtol=1e-10, atol=0)
    np.testing.assert_allclose(f, f_ref, rtol=1e-12)


def test_welch_short_signal_default_nperseg():
    x = np.random.default_rng(3).standard_normal((100, 2)).astype(np.float32)
    f_ref, p_ref = scipy.signal.welch(x.astype(np.float64), fs=10.0, axis=0)  # warns, nperseg=100
    f, p = spectrum.welch(x, 10.0)
    np.testing.assert_allclose(p, p_ref, rtol=1e-10)


def test_welch_errors(data):
    with pytest.raises(btfm.Error, match="nperseg = 4000") as err:
        spectrum.welch(data, 250.0, nperseg=4000)
    assert err.value.status_name == "BTFM_E_RANGE"
    with pytest.raises(btfm.Error, match="noverlap"):
        spectrum.welch(data, 250.0, nperseg=256, noverlap=256)
    with pytest.raises(btfm.Error, match="nfft"):
        spectrum.welch(data, 250.0, nperseg=256, nfft=128)
    with pytest.raises(ValueError, match="unknown window"):
        spectrum.welch(data, 250.0, window="tukey")
    with pytest.raises(ValueError, match="kaiser window needs a shape"):
        spectrum.welch(data, 250.0, window="kaiser")
    bad = data.copy()
    bad[1234, 5] = np.inf
    with pytest.raises(btfm.Error, match="channel 5, sample 1234") as err:
        spectrum.welch(bad, 250.0)
    assert err.value.status_name == "BTFM_E_NUMERIC"
    f, p = spectrum.welch(bad, 250.0, propagate_nonfinite=True)
    assert not np.isfinite(p[:, 5]).any() and np.isfinite(p[:, 4]).all()


def test_welch_plan_serves_many_signals_and_takes_kaiser(data):
    """One plan, configured once, run on signals of several lengths: each result equals
    scipy.signal.welch with the same options, the Kaiser window (which only the plan
    takes a shape for) included; its parameters read back by name."""
    plan = spectrum.WelchPlan(("kaiser", 5.0), nperseg=200, noverlap=150, nfft=256,
                              detrend="linear", average="median")
    assert plan.params["kaiser_beta"] == 5.0 and plan.params["nperseg"] == 200
    for n in (200, 1013, 3001):
        x = data[:n]
        f_ref, p_ref = scipy.signal.welch(x.astype(np.float64), fs=250.0, window=("kaiser", 5.0),
                                          nperseg=200, noverlap=150, nfft=256,
                                          detrend="linear", average="median", axis=0)
        f, p = plan.run(x, 250.0)
        np.testing.assert_allclose(f, f_ref, rtol=1e-12)
        assert (np.abs(p - p_ref) <= 1e-10 * p_ref.max(axis=0)).all()
        assert plan.n_freqs(n) == 129
    plan.params["window"] = spectrum.WINDOWS["hann"]
    f, p = plan.run(data, 250.0)
    f_ref, p_ref = scipy.signal.welch(data.astype(np.float64), fs=250.0, window="hann",
                                      nperseg=200, noverlap=150, nfft=256, detrend="linear",
                                      average="median", axis=0)
    assert (np.abs(p - p_ref) <= 1e-10 * p_ref.max(axis=0)).all()
    with pytest.raises(btfm.Error) as err:
        plan.run(data[:100], 250.0)
    assert "nperseg = 200" in str(err.value)
    plan.close()
