"""NumPy/SciPy references for the fMRI GLM layer, written from the SPM definitions and
nilearn's documented rules (signal.clean order, create_cosine_drift, spm_hrf,
compute_regressor, run_glm with AR(1)), plus simulations with known ground truth.
Used by the interop tests and by bench/bench_lss.py. Orientation: time x voxels."""

import numpy as np
import scipy.signal
import scipy.stats
from scipy.interpolate import interp1d

OVERSAMPLING = 50
MIN_ONSET = -24.0


# --- HRF ------------------------------------------------------------------------------

def spm_hrf(t_r, oversampling=50, time_length=32.0, onset=0.0, dispersion=1.0):
    """SPM canonical double gamma: peak gamma(6 / d, scale d), undershoot gamma(16),
    ratio 0.167, both densities shifted by dt, on linspace(0, length, n) - onset,
    normalized to sum 1."""
    dt = t_r / oversampling
    t = np.linspace(0, time_length, int(np.rint(time_length / dt))) - onset
    h = (scipy.stats.gamma.pdf(t, 6.0 / dispersion, loc=dt, scale=dispersion)
         - 0.167 * scipy.stats.gamma.pdf(t, 16.0, loc=dt, scale=1.0))
    return h / h.sum()


def spm_time_derivative(t_r, oversampling=50, time_length=32.0, onset=0.0):
    return (spm_hrf(t_r, oversampling, time_length, onset)
            - spm_hrf(t_r, oversampling, time_length, onset + 0.1)) / 0.1


def spm_dispersion_derivative(t_r, oversampling=50, time_length=32.0, onset=0.0):
    return (spm_hrf(t_r, oversampling, time_length, onset)
            - spm_hrf(t_r, oversampling, time_length, onset, dispersion=1.01)) / 0.01


# --- drifts ---------------------------------------------------------------------------

def cosine_drift(n, t_r, cutoff):
    """SPM's spm_dctmtx high-pass set: sqrt(2/n) cos(pi k (2t + 1) / (2n)) for
    k = 1 .. fix(2 n t_r / cutoff), then the constant."""
    order = min(n - 1, int(np.floor(2 * n * t_r / cutoff)))
    t = np.arange(n)
    cols = [np.sqrt(2.0 / n) * np.cos(np.pi * k * (2 * t + 1) / (2 * n))
            for k in range(1, order + 1)]
    return np.column_stack(cols + [np.ones(n)])


def orthogonalize(x):
    """Each column minus its projection on the previous ones."""
    x = x.copy()
    for i in range(1, x.shape[1]):
        prev = x[:, :i]
        x[:, i] -= prev @ np.linalg.lstsq(prev, x[:, i], rcond=None)[0]
    return x


def poly_drift(order, frame_times):
    pol = np.column_stack([(frame_times / frame_times.max()) ** k for k in range(order + 1)])
    pol = orthogonalize(pol)
    return np.hstack([pol[:, 1:], pol[:, :1]])


# --- design -----------------------------------------------------------------------------

def frame_times(t_r, n, slice_time_ref=0.0):
    return np.linspace(slice_time_ref * t_r, (n - 1 + slice_time_ref) * t_r, n)


def compute_regressor(onsets, durations, amplitudes, kernels, ft):
    """Boxcars on the oversampled grid starting 24 s before the first frame, convolved
    with each kernel, linearly interpolated at the frame times, orthogonalized."""
    n = ft.size
    n_hr = ((n - 1) / (ft.max() - ft.min())
            * (ft.max() * (1 + 1 / (n - 1)) - ft.min() - MIN_ONSET) * OVERSAMPLING) + 1
    hr = np.linspace(ft.min() + MIN_ONSET, ft.max() * (1 + 1 / (n - 1)), int(np.rint(n_hr)))
    reg = np.zeros(hr.size)
    last = hr.size - 1
    on = np.minimum(np.searchsorted(hr, onsets), last)
    off = np.minimum(np.searchsorted(hr, np.asarray(onsets) + durations), last)
    off = np.where((off < last) & (off == on), off + 1, off)
    np.add.at(reg, on, amplitudes)
    np.add.at(reg, off, -np.asarray(amplitudes))
    reg = np.cumsum(reg)
    conv = np.array([np.convolve(reg, h)[:reg.size] for h in kernels])
    x = interp1d(hr, conv)(ft).T
    return orthogonalize(x) if x.shape[1] > 1 else x


def kernels(hrf_model, t_r):
    ks = [spm_hrf(t_r, OVERSAMPLING)]
    if hrf_model >= 2:
        ks.append(spm_time_derivative(t_r, OVERSAMPLING))
    if hrf_model >= 3:
        ks.append(spm_dispersion_derivative(t_r, OVERSAMPLING))
    return ks


def design_matrix(onsets, durations, amplitudes, conditions, t_r, n, hrf_model=1,
                  cutoff=128.0, slice_time_ref=0.0):
    ft = frame_times(t_r, n, slice_time_ref)
    tr = np.min(np.diff(ft))
    parts = []
    for c in np.unique(conditions):
        m = conditions == c
        parts.append(compute_regressor(onsets[m], durations[m], amplitudes[m],
                                       kernels(hrf_model, tr), ft))
    parts.append(cosine_drift(n, t_r, cutoff))
    return np.hstack(parts)


# --- cleaning ---------------------------------------------------------------------------

def detrend(x, order):
    """Remove a polynomial of degree `order` (least squares) from every column."""
    if order < 0:
        return x.copy()
    t = np.linspace(-1, 1, x.shape[0])
    v = np.vander(t, order + 1)
    return x - v @ np.linalg.lstsq(v, x, rcond=None)[0]


def butterworth(x, t_r, high_pass, low_pass, order=5):
    fs = 1.0 / t_r
    if high_pass and low_pass:
        sos = scipy.signal.butter(order, [high_pass, low_pass], btype="band", output="sos", fs=fs)
    elif high_pass:
        sos = scipy.signal.butter(order, high_pass, btype="high", output="sos", fs=fs)
    else:
        sos = scipy.signal.butter(order, low_pass, btype="low", output="sos", fs=fs)
    return scipy.signal.sosfiltfilt(sos, x, axis=0)


def clean(x, t_r, detrend_order=1, filt=None, high_pass=None, low_pass=None, confounds=None,
          standardize="zscore_sample"):
    """nilearn's signal.clean order: cosine regressors join the confounds; detrend data
    and confounds; Butterworth both; z-score the confounds and project them out
    (pivoted QR); restore the mean when filtered (or detrended for psc); standardize."""
    x = np.asarray(x, dtype=np.float64)
    conf = None if confounds is None else np.asarray(confounds, dtype=np.float64)
    if filt == "cosine":
        cos = cosine_drift(x.shape[0], t_r, 1.0 / high_pass)[:, :-1]
        conf = cos if conf is None else np.hstack([conf, cos])
    mean = x.mean(axis=0)
    x = detrend(x, detrend_order)
    if conf is not None:
        conf = detrend(conf, detrend_order)
    if filt == "butterworth":
        x = butterworth(x, t_r, high_pass, low_pass)
        if conf is not None:
            conf = butterworth(conf, t_r, high_pass, low_pass)
    if conf is not None:
        conf = (conf - conf.mean(0)) / np.where(conf.std(0) < np.finfo(float).eps, 1,
                                                conf.std(0))
        q, r, _ = scipy.linalg.qr(conf, mode="economic", pivoting=True)
        q = q[:, np.abs(np.diag(r)) > 1e-10 * np.abs(r[0, 0])]
        x = x - q @ (q.T @ x)
    if filt == "butterworth" or (detrend_order >= 0 and standardize == "psc"):
        x = x + mean
    if standardize in ("zscore_sample", "zscore"):
        x = x - x.mean(0)
        sd = x.std(0, ddof=1 if standardize == "zscore_sample" else 0)
        x = x / np.where(sd < np.finfo(float).eps, 1, sd)
    elif standardize == "psc":
        m = x.mean(0)
        x = np.where(np.abs(m) < np.finfo(float).eps, 0, (x - m) / np.abs(m) * 100)
    return x


# --- GLM --------------------------------------------------------------------------------

def ols(y, x):
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    r = y - x @ b
    return b, (r ** 2).sum(0) / (x.shape[0] - x.shape[1]), r


def ar1_glm(y, x, bins=100):
    """nilearn's run_glm(noise_model='ar1'): Yule-Walker AR(1) of the OLS residuals
    (centred by their grand mean), truncated to multiples of 1/bins, each group refitted
    with rows whitened as y_t - rho y_{t-1} (first row kept)."""
    y = np.asarray(y, dtype=np.float64)
    _, _, r = ols(y, x)
    rc = r - r.mean()
    n = y.shape[0]
    rho = ((rc[:-1] * rc[1:]).sum(0) / (n - 1)) / ((rc ** 2).sum(0) / n)
    rho = (rho * bins).astype(int) / bins
    betas = np.zeros((x.shape[1], y.shape[1]))
    var = np.zeros(y.shape[1])
    covs = np.zeros((y.shape[1], x.shape[1], x.shape[1]))
    for value in np.unique(rho):
        m = rho == value
        wx, wy = x.copy(), y[:, m].copy()
        wx[1:] -= value * x[:-1]
        wy[1:] -= value * y[:-1, m]
        pinv = np.linalg.pinv(wx)
        b = pinv @ wy
        betas[:, m] = b
        var[m] = ((wy - wx @ b) ** 2).sum(0) / (n - x.shape[1])
        covs[m] = pinv @ pinv.T
    return betas, var, rho, covs


def lss_loop(y, events, nuisance, conditions=None):
    """Per-event least squares, one lstsq per event: [event, others (per condition),
    nuisance]."""
    n_events = events.shape[1]
    out = np.zeros((n_events, y.shape[1]))
    cond = np.zeros(n_events, int) if conditions is None else np.asarray(conditions)
    for i in range(n_events):
        cols = [events[:, i]]
        for k in np.unique(cond):
            m = (cond == k)
            m[i] = False
            if m.any():
                cols.append(events[:, m].sum(1))
        x = np.column_stack(cols + [nuisance])
        out[i] = np.linalg.lstsq(x, y, rcond=None)[0][0]
    return out


def lss_vectorized(y, events, nuisance):
    """LSS through the nuisance-residualized events and one GEMM (the same algebra as
    the library, in NumPy)."""
    q, _ = np.linalg.qr(nuisance)
    e = events - q @ (q.T @ events)
    g = e.T @ y
    p = e.T @ e
    total_g = g.sum(0)
    total_p = p.sum(1)
    s = total_p.sum()
    out = np.empty_like(g)
    for i in range(e.shape[1]):
        a = np.array([[p[i, i], total_p[i] - p[i, i]],
                      [total_p[i] - p[i, i], s - 2 * total_p[i] + p[i, i]]])
        w = np.linalg.solve(a, [1.0, 0.0])
        out[i] = w[0] * g[i] + w[1] * (total_g - g[i])
    return out


def lsa(y, events, nuisance):
    x = np.hstack([events, nuisance])
    return np.linalg.lstsq(x, y, rcond=None)[0][:events.shape[1]]


# --- simulation -------------------------------------------------------------------------

def simulate_events(n_events, t_r, n_scans, rng, isi=(4.0, 8.0), n_conditions=2):
    """Events with jittered spacing inside the run: (onsets, durations, trial types)."""
    onsets, t = [], 10.0
    for _ in range(n_events):
        onsets.append(t)
        t += rng.uniform(*isi)
    onsets = np.array(onsets)
    assert onsets[-1] < n_scans * t_r - 20, "run too short for the events"
    durations = np.full(n_events, 1.0)
    trial_type = np.array([f"c{k % n_conditions}" for k in range(n_events)])
    return onsets, durations, trial_type


def simulate_bold(event_regressors, nuisance, n_voxels, noise, rng, ar=0.3):
    """BOLD = events @ betas + nuisance @ drifts + AR(1) noise; returns (data, betas)."""
    n, e = event_regressors.shape
    betas = rng.randn(e, n_voxels)
    drifts = rng.randn(nuisance.shape[1], n_voxels) * 0.5
    drifts[-1] += 100.0  # baseline
    eps = rng.randn(n, n_voxels) * noise
    for t in range(1, n):
        eps[t] += ar * eps[t - 1]
    data = event_regressors @ betas + nuisance @ drifts + eps
    return data.astype(np.float32), betas
