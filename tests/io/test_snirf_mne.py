"""SNIRF files written here by snirfspec.py (h5py, from the specification) read by libbtfm
and by MNE 1.3 (read_raw_snirf), and the fNIRS processing compared with MNE's
optical_density, beer_lambert_law, scalp_coupling_index, source_detector_distances and
short_channels. Where MNE 1.3 cannot read a file (three wavelengths, irregular times,
no length unit) the truth is what the writer put in, or a NumPy implementation of MNE's
formulas. Tolerances: data as float32 (relative 1e-6); optical density 1e-6; HbO/HbR
1e-5 of the largest concentration; scalp coupling index 1e-5."""

import mne
import numpy as np
import pytest

import btfm
import snirfspec

mne.set_log_level("ERROR")

SHAPES = [
    # (sources, detectors, pairs, n_times, sfreq)
    (1, 1, [(1, 1)], 101, 10.0),
    (2, 3, [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)], 600, 7.8125),
    (3, 2, [(1, 1), (2, 1), (2, 2), (3, 2)], 257, 50.0),
]


def cw_data(n_times, n_channels, sfreq, seed=0):
    """Intensities: noise plus a shared 1.1 Hz 'cardiac' component of varying strength."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / sfreq
    cardiac = np.sin(2 * np.pi * 1.1 * t)[:, None] * rng.uniform(0, 0.03, n_channels)
    return 1.0 + 0.02 * rng.standard_normal((n_times, n_channels)) + cardiac


def write_shape(path, shape, seed=0, **kwargs):
    n_src, n_det, pairs, n_times, sfreq = shape
    src, det = snirfspec.probe_positions(n_src, n_det, seed=seed)
    meas = snirfspec.cw_layout(n_src, n_det, pairs)
    data = cw_data(n_times, len(meas), sfreq, seed)
    time = np.arange(n_times) / sfreq
    stims = [("A", [[1.5, 2.0, 1.0], [4.25, 0.5, 1.0]]), ("B", [[2.0, 1.0, 2.0]])]
    snirfspec.write(path, data, time, meas, [760, 850], src, det, stims=stims, **kwargs)
    return data


@pytest.mark.parametrize("shape", SHAPES, ids=["1x1", "2x3", "3x2"])
@pytest.mark.parametrize("fixed_strings", [False, True], ids=["vlen", "fixed"])
def test_reading_matches_mne(tmp_path, shape, fixed_strings):
    path = str(tmp_path / "cw.snirf")
    data = write_shape(path, shape, fixed_strings=fixed_strings)
    raw = mne.io.read_raw_snirf(path, preload=True)
    with btfm.open(path) as ds:
        assert ds.format == "snirf"
        assert ds.ch_names == raw.ch_names
        assert [c.type for c in ds.channels] == raw.get_channel_types()
        assert ds.sfreq == pytest.approx(raw.info["sfreq"], rel=1e-9)
        np.testing.assert_allclose(ds.data, raw.get_data().T, rtol=1e-6)
        np.testing.assert_allclose(ds.data, data, rtol=1e-6)
        for index, ch in enumerate(raw.info["chs"]):
            geometry = ds.channels[index].nirs
            np.testing.assert_allclose(geometry.source_pos, ch["loc"][3:6], atol=1e-12)
            np.testing.assert_allclose(geometry.detector_pos, ch["loc"][6:9], atol=1e-12)
            np.testing.assert_allclose(ds.channels[index].position, ch["loc"][:3], atol=1e-12)
            assert geometry.wavelength == ch["loc"][9]
        np.testing.assert_allclose(ds.source_detector_distances,
                                   mne.preprocessing.nirs.source_detector_distances(raw.info),
                                   atol=1e-12)
        # Onsets as MNE's annotations; durations as written (MNE 1.3 sets 1 s for all).
        events = ds.events
        assert [e.onset for e in events] == pytest.approx(list(raw.annotations.onset))
        assert [e.label for e in events] == list(raw.annotations.description)
        assert [e.duration for e in events] == [2.0, 1.0, 0.5]
        assert ds.start_time == raw.info["meas_date"]
        assert ds.subject == raw.info["subject_info"]["first_name"]


def test_processed_haemoglobin_and_2d_positions_match_mne(tmp_path):
    path = str(tmp_path / "hb.snirf")
    src, det = snirfspec.probe_positions(2, 2)
    pairs = [(1, 1), (2, 2), (2, 1)]
    meas = [snirfspec.measurement(s, d, None, 99999, label) for s, d in pairs
            for label in ("HbO", "HbR")]
    rng = np.random.default_rng(3)
    data = 1e-6 * rng.standard_normal((80, len(meas)))
    snirfspec.write(path, data, np.arange(80) / 5.0, meas, [760, 850], src[:, :2], det[:, :2],
                    pos2d=True)
    raw = mne.io.read_raw_snirf(path, preload=True)
    with btfm.open(path) as ds:
        assert ds.ch_names == raw.ch_names
        assert [c.type for c in ds.channels] == raw.get_channel_types()
        assert all(c.unit == "M" for c in ds.channels)
        np.testing.assert_allclose(ds.data, raw.get_data().T, rtol=1e-6, atol=1e-15)
        np.testing.assert_allclose(ds.positions, np.array([c["loc"][:3] for c in raw.info["chs"]]),
                                   atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES[1:], ids=["2x3", "3x2"])
@pytest.mark.parametrize("ppf", [6.0, 0.1])
def test_processing_matches_mne(tmp_path, shape, ppf):
    path = str(tmp_path / "cw.snirf")
    write_shape(path, shape, seed=5)
    raw = mne.io.read_raw_snirf(path, preload=True)
    od = mne.preprocessing.nirs.optical_density(raw)
    hb = mne.preprocessing.nirs.beer_lambert_law(od, ppf=ppf)
    sci = mne.preprocessing.nirs.scalp_coupling_index(od)
    with btfm.open(path) as ds:
        our_od = ds.optical_density()
        assert [c.type for c in our_od.channels] == od.get_channel_types()
        np.testing.assert_allclose(our_od.data, od.get_data().T, atol=1e-6)
        our_hb = our_od.beer_lambert(ppf)
        assert our_hb.ch_names == hb.ch_names
        assert [c.type for c in our_hb.channels] == hb.get_channel_types()
        want = hb.get_data().T
        np.testing.assert_allclose(our_hb.data, want, atol=1e-5 * np.abs(want).max())
        np.testing.assert_allclose(our_od.scalp_coupling_index(), sci, atol=1e-5)
        assert our_hb.events == ds.events


def test_nonpositive_intensities_follow_mne(tmp_path):
    path = str(tmp_path / "neg.snirf")
    data = write_shape(path, SHAPES[1], seed=2)
    data[10, 3] = -0.5
    data[20, 0] = 0.0
    snirfspec.write(path, data, np.arange(data.shape[0]) / 7.8125,
                    snirfspec.cw_layout(2, 3, SHAPES[1][2]), [760, 850],
                    *snirfspec.probe_positions(2, 3))
    raw = mne.io.read_raw_snirf(path, preload=True)
    od = mne.preprocessing.nirs.optical_density(raw)
    with btfm.open(path) as ds:
        np.testing.assert_allclose(ds.optical_density().data, od.get_data().T, atol=1e-6)


def test_short_channels_and_their_regression(tmp_path):
    src, det = snirfspec.probe_positions(2, 3)
    det[2] = src[1] + [5.0, 3.0, 0.0]  # S2_D3 is 5.8 mm long
    pairs = [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)]
    meas = snirfspec.cw_layout(2, 3, pairs)
    n, sfreq = 500, 10.0
    rng = np.random.default_rng(9)
    t = np.arange(n) / sfreq
    scalp = 0.05 * np.sin(2 * np.pi * 0.1 * t) + 0.01 * rng.standard_normal(n)
    data = np.exp(-(scalp[:, None] * rng.uniform(0.5, 1.5, len(meas))
                    + 0.005 * rng.standard_normal((n, len(meas)))))
    path = str(tmp_path / "short.snirf")
    snirfspec.write(path, data, t, meas, [760, 850], src, det)
    raw = mne.io.read_raw_snirf(path, preload=True)
    with btfm.open(path) as ds:
        np.testing.assert_array_equal(ds.short_channels(0.01),
                                      mne.preprocessing.nirs.short_channels(raw.info))
        od = ds.optical_density()
        clean = od.short_channel_regression(0.01)
        # NumPy version of Scholkmann eq. 26-27, the short channel of each wavelength.
        x = od.data.astype(np.float64)
        want = x.copy()
        for c in range(8):
            s = 8 + c % 2
            alpha = x[:, s] @ x[:, c] / (x[:, s] @ x[:, s])
            want[:, c] = x[:, c] - alpha * x[:, s]
        np.testing.assert_allclose(clean.data, want, atol=1e-6)
        # The shared scalp signal is what was removed: far less left than before.
        assert np.std(clean.data[:, :8]) < 0.5 * np.std(x[:, :8])


def test_three_wavelengths_against_numpy(tmp_path):
    """MNE 1.3 reads two wavelengths only: here the truth is the written data and a NumPy
    version of MNE's formula generalized by the pseudo-inverse over three wavelengths."""
    from mne.preprocessing.nirs._beer_lambert_law import _load_absorption
    src, det = snirfspec.probe_positions(2, 2)
    pairs = [(1, 1), (1, 2), (2, 2)]
    meas = snirfspec.cw_layout(2, 2, pairs, n_wavelengths=3)
    wavelengths = [690, 760, 850]
    data = cw_data(300, len(meas), 10.0, seed=4)
    path = str(tmp_path / "w3.snirf")
    snirfspec.write(path, data, np.arange(300) / 10.0, meas, wavelengths, src, det)
    with pytest.raises(RuntimeError, match="two wavelengths"):
        mne.io.read_raw_snirf(path)
    with btfm.open(path) as ds:
        assert ds.ch_names[:3] == ["S1_D1 690", "S1_D1 760", "S1_D1 850"]
        np.testing.assert_allclose(ds.data, data, rtol=1e-6)
        od = ds.optical_density()
        x = np.abs(data)
        od_want = -np.log(x / x.mean(axis=0))
        np.testing.assert_allclose(od.data, od_want, atol=1e-6)
        hb = od.beer_lambert(6.0)
        dist = ds.source_detector_distances
        for p in range(3):
            coef = np.vstack([_load_absorption([w, w])[0] for w in wavelengths]) * 1.0
            el = coef * dist[3 * p] * 6.0
            want = (np.linalg.pinv(el) @ od_want[:, 3 * p:3 * p + 3].T * 1e-3).T
            np.testing.assert_allclose(hb.data[:, 2 * p:2 * p + 2], want,
                                       atol=1e-5 * np.abs(want).max())
        assert hb.ch_names[:2] == ["S1_D1 hbo", "S1_D1 hbr"]


def test_irregular_times_are_resampled_on_the_median_interval(tmp_path):
    """MNE 1.3 refuses non-uniform times (sfreq 0); the truth is NumPy's interpolation."""
    src, det = snirfspec.probe_positions(1, 1)
    meas = snirfspec.cw_layout(1, 1, [(1, 1)])
    rng = np.random.default_rng(2)
    time = np.cumsum(rng.choice([0.08, 0.1, 0.12], 200)) + 3.0
    data = 1 + 0.1 * np.c_[np.sin(time), np.cos(time)]
    path = str(tmp_path / "irregular.snirf")
    snirfspec.write(path, data, time, meas, [760, 850], src, det,
                    stims=[("go", [[5.0, 0.0, 1.0]])])
    with btfm.open(path) as ds:
        median = np.median(np.diff(time))
        assert ds.sfreq == pytest.approx(1 / median)
        grid = time[0] + np.arange(ds.n_times) / ds.sfreq
        assert grid[-1] <= time[-1] + 1e-9 and grid[-1] + median > time[-1]
        want = np.c_[np.interp(grid, time, data[:, 0]), np.interp(grid, time, data[:, 1])]
        np.testing.assert_allclose(ds.data, want, rtol=1e-6)
        assert ds.events[0].onset == pytest.approx(5.0 - time[0])


def test_missing_optional_fields_and_aux(tmp_path):
    """No length unit (MNE refuses): positions left out, data and events still read; aux
    channels at the data's rate and faster are put on the data's time grid."""
    src, det = snirfspec.probe_positions(1, 2)
    meas = snirfspec.cw_layout(1, 2, [(1, 1), (1, 2)])
    n = 120
    t = np.arange(n) / 10.0
    data = cw_data(n, 4, 10.0)
    fast_t = np.arange(4 * n) / 40.0
    aux = [("accel", 3.0 * t, t, "mV"), ("resp", np.sin(fast_t), fast_t, None)]
    path = str(tmp_path / "plain.snirf")
    snirfspec.write(path, data, t, meas, [760, 850], src, det, aux=aux, length_unit=None)
    with pytest.raises(Exception):
        mne.io.read_raw_snirf(path)
    with btfm.open(path) as ds:
        assert ds.ch_names == ["S1_D1 760", "S1_D1 850", "S1_D2 760", "S1_D2 850", "accel", "resp"]
        assert ds.channels[0].position is None
        assert ds.channels[0].nirs.source_pos[0] != ds.channels[0].nirs.source_pos[0]  # NaN
        np.testing.assert_allclose(ds.data[:, :4], data, rtol=1e-6)
        np.testing.assert_allclose(ds.data[:, 4], 3.0 * t * 1e-3, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ds.data[:, 5], np.sin(t), atol=1e-6)
        assert ds.channels[4].unit == "V" and ds.channels[4].type == "misc"
        with pytest.raises(btfm.Error, match="short"):
            ds.optical_density().short_channel_regression()


def test_layout_errors_name_the_hdf5_path(tmp_path):
    src, det = snirfspec.probe_positions(1, 1)
    meas = snirfspec.cw_layout(1, 1, [(1, 1)])
    path = str(tmp_path / "bad.snirf")
    snirfspec.write(path, np.ones((10, 3)), np.arange(10.0), meas, [760, 850], src, det)
    with pytest.raises(btfm.Error, match=r"/nirs/data1: has 2 measurement lists for 3"):
        btfm.open(path)
    snirfspec.write(path, np.ones((10, 2)), np.arange(9.0), meas, [760, 850], src, det)
    with pytest.raises(btfm.Error, match=r"/nirs/data1/time: has 9 values for 10 rows"):
        btfm.open(path)
    import h5py
    with h5py.File(path, "w") as f:
        f.create_group("nirs/data1")
    with pytest.raises(btfm.Error, match=r"/nirs/data1/dataTimeSeries: missing"):
        btfm.open(path)
