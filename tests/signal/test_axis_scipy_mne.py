"""SciPy's and MNE's array layouts: the axis keyword of the array functions against
scipy.signal with the same axis (channels x times, SciPy's default axis=-1, and a 3-D
stack of epochs), and Dataset.get_data against MNE's Raw.get_data on the same EDF file."""
import os
import sys

import numpy as np
import pytest

mne = pytest.importorskip("mne")
ss = pytest.importorskip("scipy.signal")

import btfm
from btfm import signal as bs
from btfm import spectrum as bsp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "io"))
import edfspec  # noqa: E402

SFREQ = 200.0


def channels_by_times(seed=0, shape=(3, 997)):  # an odd, prime length
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("axis,shape", [(-1, (3, 997)), (1, (4, 601, 2)), (0, (601, 3)),
                                        (-2, (2, 601, 3))])
def test_axis_equals_scipy(axis, shape):
    x = channels_by_times(1, shape)
    sos = ss.butter(4, [1, 40], "bandpass", fs=SFREQ, output="sos")
    tol = dict(rtol=0, atol=2e-5 * np.abs(x).max())
    got = bs.sosfiltfilt(sos, x, axis=axis)
    want = ss.sosfiltfilt(sos, x.astype(np.float64), axis=axis)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol)
    got = bs.sosfilt(sos, x, axis=axis)
    np.testing.assert_allclose(got, ss.sosfilt(sos, x.astype(np.float64), axis=axis), **tol)
    # chunked with SciPy's zi layout: (n_sections,) + x.shape with 2 along axis
    zshape = list(x.shape)
    zshape[axis] = 2
    zi = np.zeros((sos.shape[0],) + tuple(zshape))
    half = x.shape[axis] // 2
    a, b = np.split(x, [half], axis=axis)
    ya, za = bs.sosfilt(sos, a, zi=zi, axis=axis)
    ya_ref, za_ref = ss.sosfilt(sos, a.astype(np.float64), axis=axis, zi=zi)
    assert za.shape == za_ref.shape
    np.testing.assert_allclose(za, za_ref, rtol=0, atol=1e-4 * np.abs(za_ref).max())
    yb, _ = bs.sosfilt(sos, b, zi=za, axis=axis)
    np.testing.assert_allclose(np.concatenate([ya, yb], axis=axis),
                               ss.sosfilt(sos, x.astype(np.float64), axis=axis), **tol)
    got = bs.resample_poly(x, 3, 2, axis=axis)
    want = ss.resample_poly(x.astype(np.float64), 3, 2, axis=axis)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol)
    got = bs.detrend(x, "linear", axis=axis)
    np.testing.assert_allclose(got, ss.detrend(x.astype(np.float64), axis=axis, type="linear"),
                               **tol)
    taps = ss.firwin(31, 30, fs=SFREQ)
    shape = [1] * x.ndim
    shape[axis] = taps.size
    got = bsp.fir_apply(x, taps, "same", axis=axis)
    np.testing.assert_allclose(got, ss.oaconvolve(x.astype(np.float64), taps.reshape(shape),
                                                  "same", axes=axis), **tol)
    f, got = bsp.welch(x, SFREQ, nperseg=128, axis=axis)
    f_ref, want = ss.welch(x.astype(np.float64), SFREQ, nperseg=128, axis=axis)
    assert got.shape == want.shape
    np.testing.assert_allclose(f, f_ref)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7 * want.max())


def test_multitaper_channels_by_times_equals_mne():
    x = channels_by_times(2, (3, 512))
    f, got = bsp.psd_multitaper(x, SFREQ, fmin=1, fmax=60, axis=-1)
    want, f_ref = mne.time_frequency.psd_array_multitaper(
        x.astype(np.float64), SFREQ, fmin=1, fmax=60, adaptive=False, normalization="full",
        verbose=False)
    assert got.shape == want.shape == (3, f_ref.size)
    np.testing.assert_allclose(f, f_ref)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * want.max())


def test_axis_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r"axis 2 is out of range for x of shape \(3, 10\)"):
        bsp.welch(np.zeros((3, 10)), SFREQ, axis=2)


@pytest.fixture(scope="module")
def edf_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("getdata") / "rec.edf")
    rng = np.random.default_rng(3)
    spr, n_records = 50, 7
    signals = []
    for label in ["EEG Fz", "EEG Cz", "EOG left", "EEG Pz"]:
        signals.append({"label": label, "dim": "uV", "pmin": -500, "pmax": 500,
                        "dmin": -32768, "dmax": 32767, "spr": spr,
                        "digital": rng.integers(-30000, 30000, spr * n_records)})
    edfspec.write(path, signals, n_records)
    return path


@pytest.mark.parametrize("picks,start,stop", [(None, 0, None), ("eeg", 13, 211),
                                              (["EOG left", "EEG Fz"], 5, 6), (2, 0, 350),
                                              ([3, 0], 100, None)])
def test_get_data_equals_mne(edf_file, picks, start, stop):
    raw = mne.io.read_raw_edf(edf_file, preload=True, verbose=False)
    with btfm.open(edf_file) as ds:
        types = [c.type for c in ds.channels]
        raw.set_channel_types({n: t for n, t in zip(raw.ch_names, types)})
        got, times = ds.get_data(picks=picks, start=start, stop=stop, return_times=True)
        want, want_times = raw.get_data(picks=picks, start=start, stop=stop, return_times=True)
        assert got.dtype == np.float64 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(times, want_times, rtol=0, atol=1e-12)
        # the same numbers as the time-major read
        np.testing.assert_array_equal(ds.get_data(), ds.read().T)
        with pytest.raises(ValueError, match="selects no channel"):
            ds.get_data(picks="ecog")
