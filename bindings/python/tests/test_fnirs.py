"""btfm.fnirs on arrays and on datasets built here with their source-detector geometry.
Expected values: the definitions (optical density -ln(x / mean x), distances between
the positions given), MNE's formula for the Beer-Lambert law written out in NumPy with
the extinction coefficients of Prahl's table, Scholkmann's regression in NumPy, and
correlations of +1 / -1 for identical / opposite signals."""

import numpy as np
import pytest

import btfm
from btfm import fnirs

N, SFREQ = 300, 10.0


def test_optical_density_and_its_rule_for_nonpositive_values():
    rng = np.random.default_rng(0)
    x = (1 + 0.1 * rng.random((N, 3))).astype(np.float32)
    np.testing.assert_allclose(fnirs.optical_density(x),
                               -np.log(x / x.mean(axis=0, dtype=np.float64)), atol=1e-6)
    y = x.copy()
    y[5, 0], y[6, 1] = -0.5, 0.0
    z = np.abs(y.astype(np.float64))
    floor = min(c.min() for c in z.T if c.min() > 0)
    z = np.maximum(z, floor)
    np.testing.assert_allclose(fnirs.optical_density(y), -np.log(z / z.mean(axis=0)), atol=1e-6)
    assert fnirs.optical_density(x[:, 0]).shape == (N,)
    with pytest.raises(btfm.Error, match="channel 1, sample 3"):
        bad = x.copy()
        bad[3, 1] = np.nan
        fnirs.optical_density(bad)


def test_beer_lambert_matches_mne_formula():
    rng = np.random.default_rng(1)
    od = (0.01 * rng.standard_normal((N, 5))).astype(np.float32)
    pair = [0, 0, 1, 1, 1]
    wavelengths = [760, 850, 690, 760, 850]
    distances = [0.03, 0.025]
    hb = fnirs.beer_lambert(od, pair, wavelengths, distances, ppf=6.0)
    assert hb.shape == (N, 4)
    for p, members in enumerate(([0, 1], [2, 3, 4])):
        e = np.array([fnirs.extinction(wavelengths[m]) for m in members]) * 0.2303
        want = (np.linalg.pinv(e * distances[p] * 6.0) @ od[:, members].T.astype(np.float64)).T * 1e-3
        np.testing.assert_allclose(hb[:, 2 * p:2 * p + 2], want, atol=1e-6 * np.abs(want).max())
    assert fnirs.extinction(850) == (1058.0, 691.32)
    with pytest.raises(ValueError, match="one entry a channel"):
        fnirs.beer_lambert(od, pair[:4], wavelengths, distances)
    with pytest.raises(btfm.Error, match="ppf"):
        fnirs.beer_lambert(od, pair, wavelengths, distances, ppf=-1)


def test_short_channel_regression_and_coupling_index():
    t = np.arange(N) / SFREQ
    short = np.sin(2 * np.pi * 0.1 * t)
    brain = np.cos(2 * np.pi * 0.1 * t)
    x = np.c_[brain + 0.4 * short, short].astype(np.float32)
    out = fnirs.short_channel_regression(x, [1, -1])
    s, l = x[:, 1].astype(np.float64), x[:, 0].astype(np.float64)
    np.testing.assert_allclose(out[:, 0], l - (s @ l) / (s @ s) * s, atol=1e-6)
    cardiac = np.sin(2 * np.pi * 1.1 * t).astype(np.float32)
    sci = fnirs.scalp_coupling_index(np.c_[cardiac, cardiac, cardiac, -cardiac, cardiac],
                                     [0, 0, 1, 1, -1], SFREQ)
    np.testing.assert_allclose(sci[:4], [1, 1, -1, -1], atol=1e-9)
    assert np.isnan(sci[4])


def nirs_dataset():
    rng = np.random.default_rng(2)
    t = np.arange(N) / SFREQ
    x = 1 + 0.01 * rng.standard_normal((N, 4)) + 0.02 * np.sin(2 * np.pi * 1.1 * t)[:, None]
    ds = btfm.from_array(x.astype(np.float32), SFREQ,
                         ch_names=["S1_D1 760", "S1_D1 850", "S1_D2 760", "S1_D2 850"],
                         ch_types=["fnirs_cw_amplitude"] * 4)
    far, near = (0.03, 0.0, 0.0), (0.006, 0.0, 0.0)
    for c, (det, pos, wl) in enumerate([(1, far, 760), (1, far, 850), (2, near, 760),
                                        (2, near, 850)]):
        ds.channels[c].nirs = btfm.NirsGeometry(1, det, wl, (0.0, 0.0, 0.0), pos)
    ds.add_event(3.0, 1.0, "tap", type="stim")
    return ds, x


def test_dataset_methods():
    ds, x = nirs_dataset()
    np.testing.assert_allclose(ds.source_detector_distances, [0.03, 0.03, 0.006, 0.006])
    assert ds.short_channels().tolist() == [False, False, True, True]
    od = ds.optical_density()
    assert [c.type for c in od.channels] == ["fnirs_od"] * 4
    np.testing.assert_allclose(od.data, fnirs.optical_density(x.astype(np.float32)), atol=1e-7)
    hb = od.beer_lambert()
    assert hb.ch_names == ["S1_D1 hbo", "S1_D1 hbr", "S1_D2 hbo", "S1_D2 hbr"]
    assert [c.unit for c in hb.channels] == ["M"] * 4
    assert hb.events == ds.events
    assert np.isnan(hb.channels[0].nirs.wavelength)
    np.testing.assert_allclose(hb.data[:, :2], fnirs.beer_lambert(od.data[:, :2], [0, 0],
                                                                  [760, 850], [0.03]), rtol=1e-6)
    clean = od.short_channel_regression()
    assert clean.ch_names == od.ch_names
    sci = od.scalp_coupling_index()
    assert sci[0] == sci[1] and -1 <= sci[0] <= 1
    with pytest.raises(btfm.Error, match="no optical-density channels"):
        ds.beer_lambert()
