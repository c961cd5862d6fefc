"""libbtfm's fMRI layer (btfm.glm) against NumPy/SciPy implementations of SPM's and
nilearn's rules (tests/fmri/references.py: scipy.stats.gamma for the HRF, the DCT closed
form, numpy.linalg.lstsq for the fits, scipy.signal.sosfiltfilt for the band-pass), and
against simulation ground truth."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import references as ref  # noqa: E402
import btfm  # noqa: E402
from btfm import glm  # noqa: E402


def rel_err(a, b):
    return np.max(np.abs(np.asarray(a, float) - b)) / np.max(np.abs(b))


# --- HRF ------------------------------------------------------------------------------

@pytest.mark.parametrize("t_r,oversampling,onset", [(2.0, 50, 0.0), (0.8, 16, 0.0),
                                                    (1.5, 50, 1.3)])
def test_spm_hrf_matches_gamma_formula(t_r, oversampling, onset):
    h = glm.spm_hrf(t_r, oversampling, 32.0, onset)
    want = ref.spm_hrf(t_r, oversampling, 32.0, onset)
    assert h.shape == want.shape
    np.testing.assert_allclose(h, want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert h.sum() == pytest.approx(1.0, abs=1e-12)


def test_spm_hrf_derivatives():
    np.testing.assert_allclose(glm.spm_hrf(2.0, kind="derivative"),
                               ref.spm_time_derivative(2.0), atol=1e-11)
    np.testing.assert_allclose(glm.spm_hrf(2.0, kind="dispersion"),
                               ref.spm_dispersion_derivative(2.0), atol=1e-10)


def test_spm_hrf_peak_is_the_gamma_mode():
    """The canonical response peaks near 5 s (mode of gamma(6), shifted by dt), its
    undershoot is negative around 15 s."""
    t_r, over = 1.0, 100
    h = glm.spm_hrf(t_r, over)
    t = np.linspace(0, 32, h.size)
    assert abs(t[np.argmax(h)] - 5.0) < 0.1
    assert h[np.argmin(np.abs(t - 15.0))] < 0


# --- drifts -------------------------------------------------------------------------------

@pytest.mark.parametrize("n,t_r,cutoff", [(600, 2.0, 128.0), (200, 0.72, 100.0), (50, 3.0, 60.0)])
def test_cosine_drift_matches_dct_closed_form(n, t_r, cutoff):
    d = glm.cosine_drift(n, t_r, cutoff)
    want = ref.cosine_drift(n, t_r, cutoff)
    assert d.shape == want.shape, "same number of regressors as SPM's DCT set"
    np.testing.assert_allclose(d, want, atol=1e-12)
    # orthonormal cosines, orthogonal to the constant
    g = d[:, :-1].T @ d[:, :-1]
    np.testing.assert_allclose(g, np.eye(g.shape[0]), atol=1e-10)


def test_polynomial_drift():
    ft = ref.frame_times(2.0, 120, 0.5)
    np.testing.assert_allclose(glm.drift(120, 2.0, "polynomial", order=3, slice_time_ref=0.5),
                               ref.poly_drift(3, ft), atol=1e-9)


# --- design ---------------------------------------------------------------------------------

@pytest.mark.parametrize("hrf_model", [1, 2, 3])
@pytest.mark.parametrize("slice_time_ref", [0.0, 0.5])
def test_design_matrix_matches_numpy(hrf_model, slice_time_ref):
    rng = np.random.RandomState(hrf_model)
    t_r, n = 2.0, 150
    onsets, durations, tt = ref.simulate_events(30, t_r, n, rng, isi=(3, 12), n_conditions=3)
    durations = rng.choice([0.0, 0.5, 3.0], size=onsets.size)
    amps = rng.uniform(0.5, 2.0, size=onsets.size)
    events = {"onset": onsets, "duration": durations, "trial_type": tt, "modulation": amps}
    name = {1: "spm", 2: "spm + derivative", 3: "spm + derivative + dispersion"}[hrf_model]
    x, names = glm.design_matrix(events, t_r, n, hrf_model=name, cutoff=128.0,
                                 slice_time_ref=slice_time_ref)
    want = ref.design_matrix(onsets, durations, amps, tt, t_r, n, hrf_model, 128.0,
                             slice_time_ref)
    assert x.shape == want.shape
    assert names[:hrf_model] == ["c0", "c0_derivative", "c0_dispersion"][:hrf_model]
    assert names[-1] == "constant"
    np.testing.assert_allclose(x, want, rtol=0, atol=1e-9 * np.abs(want).max())


def test_design_rejects_events_outside_the_run():
    with pytest.raises(btfm.Error) as err:
        glm.event_regressors([10.0, 500.0], [1.0, 1.0], 2.0, 100)
    assert "event 1" in str(err.value) and err.value.status_name == "BTFM_E_RANGE"


# --- cleaning ---------------------------------------------------------------------------------

def bold_like(n=200, v=40, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    x = 1000 + 5 * rng.randn(n, v) + 0.05 * t[:, None] * rng.randn(1, v) \
        + 3 * np.sin(2 * np.pi * 0.004 * 2.0 * t)[:, None]
    conf = np.column_stack([rng.randn(n).cumsum(), rng.randn(n), 0.01 * t])
    x += conf @ rng.randn(3, v)
    return x.astype(np.float32), conf.astype(np.float32)


@pytest.mark.parametrize("order", [-1, 0, 1, 3])
@pytest.mark.parametrize("standardize", [None, "zscore_sample", "zscore", "psc"])
def test_clean_detrend_confounds_standardize(order, standardize):
    x, conf = bold_like()
    got = glm.clean(x, 2.0, detrend=order, confounds=conf, standardize=standardize)
    want = ref.clean(x, 2.0, order, None, confounds=conf, standardize=standardize)
    assert rel_err(got, want) < 2e-5


@pytest.mark.parametrize("standardize", ["zscore_sample", "psc"])
def test_clean_cosine_filter(standardize):
    x, conf = bold_like(seed=1)
    got = glm.clean(x, 2.0, detrend=1, filter="cosine", high_pass=0.01, confounds=conf,
                    standardize=standardize)
    want = ref.clean(x, 2.0, 1, "cosine", high_pass=0.01, confounds=conf,
                     standardize=standardize)
    assert rel_err(got, want) < 2e-5


@pytest.mark.parametrize("high_pass,low_pass", [(0.01, 0.1), (0.01, None), (None, 0.08)])
@pytest.mark.parametrize("standardize", ["zscore_sample", None])
def test_clean_butterworth(high_pass, low_pass, standardize):
    """Order-5 Butterworth (scipy.signal.butter + sosfiltfilt, odd padding) applied to
    data and confounds after detrending; the original mean restored before
    standardizing, as nilearn does after filtering."""
    x, conf = bold_like(seed=3)
    got = glm.clean(x, 2.0, detrend=1, filter="butterworth", high_pass=high_pass,
                    low_pass=low_pass, confounds=conf, standardize=standardize)
    want = ref.clean(x, 2.0, 1, "butterworth", high_pass=high_pass, low_pass=low_pass,
                     confounds=conf, standardize=standardize)
    scale = np.abs(want - want.mean(0)).max()
    assert np.abs(got - want).max() / scale < 1e-4


def test_clean_in_place_and_finite_check():
    x, _ = bold_like(seed=2)
    want = glm.clean(x, 2.0)
    glm.clean(x, 2.0, out=x)
    np.testing.assert_array_equal(x, want)
    x[17, 5] = np.nan
    with pytest.raises(btfm.Error) as err:
        glm.clean(x, 2.0)
    assert "voxel 5, volume 17" in str(err.value)


# --- GLM --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def glm_problem():
    rng = np.random.RandomState(7)
    t_r, n, v = 2.0, 240, 300
    onsets, durations, tt = ref.simulate_events(40, t_r, n, rng)
    x, _ = glm.design_matrix({"onset": onsets, "duration": durations, "trial_type": tt},
                             t_r, n)
    betas = rng.randn(x.shape[1], v)
    noise = rng.randn(n, v)
    ar = rng.uniform(-0.2, 0.6, size=v)
    for t in range(1, n):
        noise[t] += ar * noise[t - 1]
    y = (x @ betas + noise).astype(np.float32)
    return x, y


def test_ols_matches_lstsq(glm_problem):
    x, y = glm_problem
    model = glm.fit(y, x, noise_model="ols")
    b, var, _ = ref.ols(y.astype(np.float64), x)
    assert rel_err(model.betas, b) < 1e-5
    np.testing.assert_allclose(model.residual_variance, var, rtol=1e-5)
    assert model.dof == x.shape[0] - x.shape[1]
    assert np.all(model.ar1 == 0)


def test_ar1_matches_numpy_rule(glm_problem):
    x, y = glm_problem
    model = glm.fit(y, x, noise_model="ar1")
    b, var, rho, covs = ref.ar1_glm(y, x)
    got_rho = model.ar1
    # Bins agree except for voxels within rounding distance of a bin edge.
    same = np.abs(got_rho - rho) < 1e-6
    assert same.mean() > 0.99
    assert len(np.unique(rho)) > 20, "the test data should span many AR bins"
    assert rel_err(model.betas[:, same], b[:, same]) < 1e-5
    np.testing.assert_allclose(model.residual_variance[same], var[same], rtol=1e-5)
    c = np.zeros(x.shape[1])
    c[0], c[1] = 1, -1
    effect, variance, t = model.contrast(c)
    want_var = var * np.einsum("i,vij,j->v", c, covs, c)
    np.testing.assert_allclose(effect[same], (c @ b)[same], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(variance[same], want_var[same], rtol=1e-5)
    np.testing.assert_allclose(t[same], (c @ b / np.sqrt(want_var))[same], rtol=1e-4,
                               atol=1e-5)


def test_singular_design_is_named():
    x = np.random.RandomState(0).randn(50, 4)
    x[:, 3] = x[:, 0] - 2 * x[:, 1]
    with pytest.raises(btfm.Error) as err:
        glm.GLM(x)
    assert "singular" in str(err.value) and err.value.status_name == "BTFM_E_NUMERIC"


# --- LSA / LSS ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lss_problem():
    rng = np.random.RandomState(11)
    t_r, n, v = 2.0, 300, 500
    onsets, durations, tt = ref.simulate_events(60, t_r, n, rng, isi=(5, 12), n_conditions=3)
    events = {"onset": onsets, "duration": durations, "trial_type": tt}
    e = glm.event_columns(events, t_r, n)
    nuis = glm.nuisance(t_r, n, confounds=rng.randn(n, 2))
    # noise sd 0.05 (AR(1) 0.3) against a peak single-event response of about 0.2
    y, betas = ref.simulate_bold(e, nuis, v, noise=0.05, rng=rng)
    return events, e, nuis, y, betas, t_r


def test_event_columns_match_compute_regressor(lss_problem):
    events, e, _, _, _, t_r = lss_problem
    ft = ref.frame_times(t_r, e.shape[0])
    for i in [0, 17, len(events["onset"]) - 1]:
        want = ref.compute_regressor(events["onset"][i:i + 1], events["duration"][i:i + 1],
                                     [1.0], ref.kernels(1, t_r), ft)[:, 0]
        np.testing.assert_allclose(e[:, i], want, atol=1e-10)


def test_lsa_matches_lstsq(lss_problem):
    events, e, nuis, y, _, t_r = lss_problem
    got = glm.lsa(y, events, t_r, confounds=nuis[:, :2])
    want = ref.lsa(y.astype(np.float64), e, nuis)
    assert rel_err(got, want) < 1e-5


def test_lss_matches_per_event_lstsq(lss_problem):
    events, e, nuis, y, _, t_r = lss_problem
    got = glm.lss(y, events, t_r, confounds=nuis[:, :2])
    want = ref.lss_loop(y.astype(np.float64), e, nuis)
    assert rel_err(got, want) < 1e-5
    np.testing.assert_allclose(ref.lss_vectorized(y.astype(np.float64), e, nuis), want,
                               rtol=1e-8, atol=1e-8 * np.abs(want).max())


def test_lss_per_condition_matches_per_event_lstsq(lss_problem):
    events, e, nuis, y, _, t_r = lss_problem
    got = glm.lss(y, events, t_r, confounds=nuis[:, :2], per_condition=True)
    codes = np.unique(events["trial_type"], return_inverse=True)[1]
    want = ref.lss_loop(y.astype(np.float64), e, nuis, codes)
    assert rel_err(got, want) < 1e-5


def test_lss_recovers_simulated_betas(lss_problem):
    """Ground truth: per-event betas of the simulation (noise sd a quarter of the peak
    single-event response, AR 0.3) are recovered with correlation > 0.9 by LSS and LSA."""
    events, _, nuis, y, betas, t_r = lss_problem
    for func in (glm.lss, glm.lsa):
        got = func(y, events, t_r, confounds=nuis[:, :2])
        r = np.corrcoef(got.ravel(), betas.ravel())[0, 1]
        assert r > 0.9, (func.__name__, r)


def test_lsa_lss_reject_duplicate_events(lss_problem):
    """Two identical events: LSA's joint model is singular (the message names the
    event); so is LSS's model when the duplicate is the only other event."""
    _, e, nuis, y, _, _ = lss_problem
    lib = btfm._lib.lib
    e2 = np.ascontiguousarray(np.hstack([e, e[:, :1]]))
    out = np.empty((e2.shape[1], y.shape[1]), dtype=np.float32)
    st = lib.btfm_glm_lsa(glm._ptr(y), y.shape[0], y.shape[1], glm._ptr(e2), e2.shape[1],
                          glm._ptr(nuis), nuis.shape[1], glm._ptr(out))
    assert btfm.STATUS_NAMES[st] == "BTFM_E_NUMERIC"
    message = lib.btfm_last_error().decode()
    assert "singular" in message and ("event 0 " in message or "event 60 " in message)
    pair = np.ascontiguousarray(np.hstack([e[:, :1], e[:, :1]]))
    st = lib.btfm_glm_lss(glm._ptr(y), y.shape[0], y.shape[1], glm._ptr(pair), None, 2,
                          glm._ptr(nuis), nuis.shape[1], glm._ptr(out))
    assert btfm.STATUS_NAMES[st] == "BTFM_E_NUMERIC"
    assert "event 0 is singular" in lib.btfm_last_error().decode()


def test_plans_serve_many_runs():
    """A DesignPlan and a CleanPlan, each configured once, applied to several runs:
    every result equals the NumPy references with the same options."""
    design = glm.DesignPlan(2.0, "spm + derivative", cutoff=100.0, slice_time_ref=0.5)
    cleaner = glm.CleanPlan(2.0, detrend=1, filter="cosine", high_pass=0.01,
                            standardize="zscore")
    assert design.params["drift_cutoff"] == 100.0 and cleaner.params["filter"] == 2
    for seed, n in ((0, 150), (1, 97)):
        rng = np.random.RandomState(seed)
        onsets, durations, tt = ref.simulate_events(20, 2.0, n, rng, isi=(3, 12),
                                                    n_conditions=2)
        amps = np.ones(onsets.size)
        x, names = design.run({"onset": onsets, "duration": durations, "trial_type": tt}, n)
        want = ref.design_matrix(onsets, durations, amps, tt, 2.0, n, 2, 100.0, 0.5)
        np.testing.assert_allclose(x, want, rtol=0, atol=1e-9 * np.abs(want).max())
        assert names[:2] == ["c0", "c0_derivative"] and names[-1] == "constant"
        bold, conf = bold_like(n=n, v=17, seed=seed)
        got = cleaner.run(bold, conf)
        want = ref.clean(bold, 2.0, 1, "cosine", high_pass=0.01, confounds=conf,
                         standardize="zscore")
        assert rel_err(got, want) < 2e-5
    with pytest.raises(btfm.Error) as err:
        design.params["t_r"] = 0.0
    assert err.value.status_name == "BTFM_E_RANGE" and "t_r = 0" in str(err.value)
    assert design.params["t_r"] == 2.0
    design.close()
    cleaner.close()
