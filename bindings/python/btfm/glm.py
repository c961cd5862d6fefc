"""btfm.glm: fMRI first-level analysis over libbtfm: cleaning in nilearn's signal.clean
order, the SPM canonical HRF, design matrices from events, the GLM with OLS or AR(1)
prewhitening, and per-event betas (least-squares-all and least-squares-separate).

    >>> clean = btfm.glm.clean(bold, t_r=2.0, filter="cosine", high_pass=1 / 128,
    ...                        confounds=motion)
    >>> X, names = btfm.glm.design_matrix(events, t_r=2.0, n_scans=bold.shape[0])
    >>> model = btfm.glm.fit(bold, X, noise_model="ar1")
    >>> effect, variance, t = model.contrast([1, -1] + [0] * (X.shape[1] - 2))
    >>> betas = btfm.glm.lss(bold, events, t_r=2.0)      # one row per event

Arrays are time-major: data is (n_times, n_voxels); designs (n_times, n_columns). Data
cross into the library as C-contiguous float32 (zero-copy when they already are),
designs as float64. Events are anything indexable by column name ("onset",
"duration", optional "trial_type" and "modulation" or "amplitude"): a dict of arrays,
a pandas DataFrame, a numpy structured array. Requires numpy.
"""

from __future__ import annotations

import ctypes

try:
    import numpy as np
except ImportError:  # the rest of the package works without numpy; this module needs it
    np = None

from ._errors import check
from ._handle import Handle
from ._lib import lib
from ._params import ParamsMixin
from ._progress import attached, thread_progress

__all__ = ["clean", "CleanPlan", "DesignPlan", "cosine_drift", "spm_hrf", "event_regressors", "drift", "design_matrix",
           "GLM", "fit", "lsa", "lss", "event_columns", "nuisance", "HRF_MODELS",
           "DRIFT_MODELS", "STANDARDIZE", "FILTERS"]

#: nilearn's names of the HRF models -> btfm_hrf_model.
HRF_MODELS = {"spm": 1, "spm + derivative": 2, "spm + derivative + dispersion": 3}
#: drift models -> btfm_drift_model.
DRIFT_MODELS = {None: 0, "cosine": 1, "polynomial": 2}
#: standardize strategies (nilearn's names) -> btfm_clean_standardize.
STANDARDIZE = {None: 0, False: 0, "zscore_sample": 1, "zscore": 2, "psc": 3}
#: temporal filters of clean() -> btfm_clean_filter.
FILTERS = {None: 0, False: 0, "butterworth": 1, "cosine": 2}
_HRF_KINDS = {"hrf": 0, "derivative": 1, "dispersion": 2}
_NOISE = {"ols": 1, "ar1": 2}

_P = {"f": ctypes.c_float, "d": ctypes.c_double, "i": ctypes.c_int}


def _need_numpy():
    if np is None:
        raise ImportError("btfm.glm needs numpy")


def _ptr(arr):
    """A typed pointer to a float32, float64 or C int array (None stays None)."""
    if arr is None:
        return None
    return arr.ctypes.data_as(ctypes.POINTER(_P[arr.dtype.char]))


def _f32(x, what, ndim=2):
    _need_numpy()
    arr = np.asarray(x)
    if arr.ndim == 1 and ndim == 2:
        arr = arr[:, None]
    if arr.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-D (time x columns), got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _f64(x, what, ndim=2):
    _need_numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1 and ndim == 2:
        arr = arr[:, None]
    if arr.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-D, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _lookup(table, key, what):
    if key not in table:
        raise ValueError(f"unknown {what} {key!r}; known: {', '.join(map(repr, table))}")
    return table[key]


def _sized(func, *args):
    """Call a btfm_glm_* function that reports its output columns (size query first)."""
    n = ctypes.c_int64()
    check(func(*args, None, 0, ctypes.byref(n)))
    return n.value


# --- cleaning -------------------------------------------------------------------------

def _detrend_order(detrend):
    return -1 if detrend is None or detrend is False else 1 if detrend is True else int(detrend)


class CleanPlan(ParamsMixin, Handle):
    """Cleaning options configured once and applied to any number of runs, in nilearn's
    signal.clean order (the library's clean plan, btfm_glm_clean_plan; see clean() for
    the steps and options). Every option is also a parameter: plan.params["t_r"],
    param_info("clean_plan")."""

    _type_name = "btfm.glm.CleanPlan"
    _free = lib.btfm_glm_clean_plan_free
    _param_kind = "clean_plan"
    _set_param_func = "btfm_glm_clean_plan_set_param"
    _get_param_func = "btfm_glm_clean_plan_get_param"

    def __init__(self, t_r, detrend=1, filter=None, high_pass=None, low_pass=None,
                 standardize="zscore_sample"):
        ptr = ctypes.c_void_p()
        check(lib.btfm_glm_clean_plan_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        self.set_param("t_r", float(t_r))
        self.set_param("detrend_order", _detrend_order(detrend))
        self.set_param("filter", _lookup(FILTERS, filter, "filter"))
        self.set_param("high_pass_hz", float(high_pass or 0.0))
        self.set_param("low_pass_hz", float(low_pass or 0.0))
        self.set_param("standardize", _lookup(STANDARDIZE, standardize,
                                              "standardize strategy"))

    def run(self, data, confounds=None, out=None):
        """Clean `data` (n_times x n_voxels) with `confounds` (n_times x n_confounds or
        None). Returns a new float32 array, or writes into `out` (which may be `data`
        itself when that is a C-contiguous float32 array)."""
        x = _f32(data, "data")
        c = None if confounds is None else _f32(confounds, "confounds")
        if out is None:
            out = np.empty_like(x)
        elif not (isinstance(out, np.ndarray) and out.dtype == np.float32 and
                  out.shape == x.shape and out.flags.c_contiguous):
            raise ValueError("out must be a C-contiguous float32 array of the data's shape")
        check(self._invoke(lib.btfm_glm_clean_plan_run, _ptr(out), _ptr(x), x.shape[0],
                           x.shape[1], _ptr(c), 0 if c is None else c.shape[1]))
        return out


def clean(data, t_r, detrend=1, filter=None, high_pass=None, low_pass=None, confounds=None,
          standardize="zscore_sample", out=None):
    """Clean BOLD time series (n_times x n_voxels) in nilearn's signal.clean order:
    detrend (polynomial of degree `detrend`: 1 = nilearn's detrend=True, 0 = the mean,
    None/False = none), filter ("butterworth": order-5 zero-phase band-pass with
    high_pass/low_pass in Hz; "cosine": DCT high-pass regressors for high_pass Hz),
    confound regression (confounds: n_times x n_confounds, detrended and filtered like
    the data first), standardize ("zscore_sample", "zscore", "psc" or None).
    Returns a new float32 array, or writes into `out` (which may be `data` itself when
    that is a C-contiguous float32 array). One run of a CleanPlan, which serves many."""
    with CleanPlan(t_r, detrend, filter, high_pass, low_pass, standardize) as plan:
        return plan.run(data, confounds, out)


def cosine_drift(n_scans, t_r, cutoff=128.0):
    """The DCT high-pass basis of SPM/nilearn for a cutoff period in seconds, with the
    constant as last column: (n_scans, order + 1)."""
    _need_numpy()
    cols = _sized(lib.btfm_glm_cosine_drift, int(n_scans), float(t_r), float(cutoff))
    out = np.empty((int(n_scans), cols))
    check(lib.btfm_glm_cosine_drift(int(n_scans), float(t_r), float(cutoff), _ptr(out),
                                    out.size, ctypes.byref(ctypes.c_int64())))
    return out


# --- HRF and designs ------------------------------------------------------------------

def spm_hrf(t_r, oversampling=50, time_length=32.0, onset=0.0, kind="hrf"):
    """The SPM canonical HRF sampled as nilearn's spm_hrf (kind="hrf"), or its time
    ("derivative") or dispersion ("dispersion") derivative."""
    _need_numpy()
    k = _lookup(_HRF_KINDS, kind, "HRF kind")
    args = (k, float(t_r), int(oversampling), float(time_length), float(onset))
    n = _sized(lib.btfm_glm_hrf, *args)
    out = np.empty(n)
    check(lib.btfm_glm_hrf(*args, _ptr(out), n, ctypes.byref(ctypes.c_int64())))
    return out


def _column(events, names, default=None):
    for name in names:
        try:
            return np.asarray(events[name])
        except (KeyError, ValueError, IndexError):
            continue
    return default


def _events(events):
    """(onsets, durations, amplitudes, trial types) of an events table."""
    _need_numpy()
    onset = _column(events, ["onset"])
    if onset is None:
        raise ValueError("events need an 'onset' column (seconds)")
    onset = np.ascontiguousarray(onset, dtype=np.float64)
    duration = _column(events, ["duration"])
    if duration is None:
        raise ValueError("events need a 'duration' column (seconds; 0 for impulses)")
    duration = np.ascontiguousarray(duration, dtype=np.float64)
    amplitude = _column(events, ["modulation", "amplitude"], np.ones_like(onset))
    amplitude = np.ascontiguousarray(amplitude, dtype=np.float64)
    trial_type = _column(events, ["trial_type"], np.array(["dummy"] * len(onset)))
    if not (len(duration) == len(amplitude) == len(trial_type) == len(onset)):
        raise ValueError("the event columns have different lengths")
    return onset, duration, amplitude, np.asarray(trial_type).astype(str)


def event_regressors(onsets, durations, t_r, n_scans, amplitudes=None, hrf_model="spm",
                     slice_time_ref=0.0):
    """One condition's regressors as nilearn's compute_regressor: (n_scans, 1, 2 or 3)."""
    _need_numpy()
    model = _lookup(HRF_MODELS, hrf_model, "HRF model")
    on = np.ascontiguousarray(onsets, dtype=np.float64).ravel()
    dur = np.ascontiguousarray(durations, dtype=np.float64).ravel()
    amp = None if amplitudes is None else np.ascontiguousarray(amplitudes, dtype=np.float64)
    if len(dur) != len(on) or (amp is not None and len(amp) != len(on)):
        raise ValueError("onsets, durations and amplitudes must have the same length")
    out = np.empty((int(n_scans), check(lib.btfm_glm_hrf_columns(model))))
    check(lib.btfm_glm_event_regressors(_ptr(on), _ptr(dur), _ptr(amp), len(on), float(t_r),
                                        int(n_scans), float(slice_time_ref), model, _ptr(out)))
    return out


def drift(n_scans, t_r, drift_model="cosine", cutoff=128.0, order=1, slice_time_ref=0.0):
    """Drift columns then the constant (n_scans, n): cosines for a cutoff period in
    seconds, or polynomials of degree 1 .. order."""
    _need_numpy()
    model = _lookup(DRIFT_MODELS, drift_model, "drift model")
    param = float(cutoff if model == 1 else order)
    args = (int(n_scans), float(t_r), float(slice_time_ref), model, param)
    cols = _sized(lib.btfm_glm_drift, *args)
    out = np.empty((int(n_scans), cols))
    check(lib.btfm_glm_drift(*args, _ptr(out), out.size, ctypes.byref(ctypes.c_int64())))
    return out


def _drift_names(n):
    return [f"drift_{k}" for k in range(1, n)] + ["constant"]


class DesignPlan(ParamsMixin, Handle):
    """Design options configured once and applied to any number of event tables, as
    nilearn's make_first_level_design_matrix (the library's design plan,
    btfm_glm_design_plan): hrf_model "spm", "spm + derivative" or
    "spm + derivative + dispersion"; drift_model "cosine" (cutoff period in s),
    "polynomial" (drift_order) or None (the constant only). Every option is also a
    parameter: plan.params["t_r"], param_info("design_plan")."""

    _type_name = "btfm.glm.DesignPlan"
    _free = lib.btfm_glm_design_plan_free
    _param_kind = "design_plan"
    _set_param_func = "btfm_glm_design_plan_set_param"
    _get_param_func = "btfm_glm_design_plan_get_param"

    def __init__(self, t_r, hrf_model="spm", drift_model="cosine", cutoff=128.0,
                 drift_order=1, slice_time_ref=0.0):
        ptr = ctypes.c_void_p()
        check(lib.btfm_glm_design_plan_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        self.set_param("t_r", float(t_r))
        self.set_param("hrf_model", _lookup(HRF_MODELS, hrf_model, "HRF model"))
        self.set_param("drift_model", _lookup(DRIFT_MODELS, drift_model, "drift model"))
        self.set_param("drift_cutoff", float(cutoff))
        self.set_param("drift_order", int(drift_order))
        self.set_param("slice_time_ref", float(slice_time_ref))

    def run(self, events, n_scans, confounds=None, confound_names=None):
        """The design of n_scans frames for an events table: the conditions (sorted
        trial types, 1-3 columns each), the confounds, the drifts, the constant.
        Returns (matrix (n_scans x n_columns), column names)."""
        onset, duration, amplitude, trial_type = _events(events)
        conditions, codes = np.unique(trial_type, return_inverse=True)
        codes = np.ascontiguousarray(codes, dtype=np.intc)
        args = (_ptr(onset), _ptr(duration), _ptr(amplitude), _ptr(codes), len(onset),
                len(conditions), int(n_scans))
        cols = ctypes.c_int64()
        check(self._invoke(lib.btfm_glm_design_plan_run, None, 0, ctypes.byref(cols), *args))
        matrix = np.empty((int(n_scans), cols.value))
        check(self._invoke(lib.btfm_glm_design_plan_run, _ptr(matrix), matrix.size,
                           ctypes.byref(cols), *args))
        kinds = {1: [""], 2: ["", "_derivative"], 3: ["", "_derivative", "_dispersion"]}
        suffixes = kinds[int(self.get_param("hrf_model"))]
        names = [f"{c}{suffix}" for c in conditions for suffix in suffixes]
        n_task = len(names)
        names += _drift_names(cols.value - n_task)
        if confounds is not None:
            c = _f64(confounds, "confounds")
            matrix = np.hstack([matrix[:, :n_task], c, matrix[:, n_task:]])
            names[n_task:n_task] = list(confound_names) if confound_names is not None else \
                [f"reg{k}" for k in range(c.shape[1])]
        return matrix, names


def design_matrix(events, t_r, n_scans, hrf_model="spm", drift_model="cosine", cutoff=128.0,
                  drift_order=1, slice_time_ref=0.0, confounds=None, confound_names=None):
    """A first-level design as nilearn's make_first_level_design_matrix: the conditions
    (sorted trial types, 1-3 columns each), the confounds, the drifts, the constant.
    Returns (matrix (n_scans x n_columns), column names). One run of a DesignPlan."""
    with DesignPlan(t_r, hrf_model, drift_model, cutoff, drift_order, slice_time_ref) as plan:
        return plan.run(events, n_scans, confounds, confound_names)


# --- GLM --------------------------------------------------------------------------------

class GLM(Handle):
    """A first-level GLM over a design (n_times x n_regressors): fit(data) fits every
    voxel with OLS or nilearn's AR(1) prewhitening; then betas, residual_variance,
    ar1 (the binned AR coefficient of each voxel), dof, and contrast(c)."""

    _type_name = "btfm.glm.GLM"
    _free = lib.btfm_glm_free

    def __init__(self, design, noise_model="ar1"):
        x = _f64(design, "design")
        ptr = ctypes.c_void_p()
        check(lib.btfm_glm_new(ctypes.byref(ptr), _ptr(x), x.shape[0], x.shape[1],
                               _lookup(_NOISE, noise_model, "noise model")))
        super().__init__(ptr)
        self.noise_model = noise_model

    def _dims(self):
        p, v, dof = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        check(self._invoke(lib.btfm_glm_dims, ctypes.byref(p), ctypes.byref(v),
                           ctypes.byref(dof)))
        return p.value, v.value, dof.value

    @property
    def dof(self) -> int:
        """Residual degrees of freedom (n_times - n_regressors)."""
        return self._dims()[2]

    def fit(self, data, progress=None) -> "GLM":
        """Fit every voxel of `data` (n_times x n_voxels). progress: True for a bar on a
        terminal, or a callable progress(stage, fraction) that returns True to cancel
        (btfm.Error E_CANCELLED; the previous fit, if any, stays)."""
        y = _f32(data, "data")
        with self._lock:
            ptr = self._require_open()
            with attached(lib.btfm_glm_set_progress, ptr, progress):
                check(lib.btfm_glm_fit(ptr, _ptr(y), y.shape[0], y.shape[1]))
        return self

    def _get(self, func, rows):
        p, v, _ = self._dims()
        out = np.empty((p, v) if rows else v, dtype=np.float32)
        check(self._invoke(func, _ptr(out), out.size))
        return out

    @property
    def betas(self):
        """(n_regressors, n_voxels) float32."""
        return self._get(lib.btfm_glm_betas, True)

    @property
    def residual_variance(self):
        return self._get(lib.btfm_glm_residual_variance, False)

    @property
    def ar1(self):
        """The binned AR(1) coefficient of each voxel (zeros for OLS)."""
        return self._get(lib.btfm_glm_ar1, False)

    def contrast(self, weights):
        """(effect, variance, t) of a t contrast, one value per voxel each."""
        c = np.ascontiguousarray(weights, dtype=np.float64).ravel()
        _, v, _ = self._dims()
        effect, var, t = (np.empty(v, dtype=np.float32) for _ in range(3))
        check(self._invoke(lib.btfm_glm_contrast, _ptr(c), len(c), _ptr(effect), _ptr(var),
                           _ptr(t)))
        return effect, var, t

    def __repr__(self):
        if self.closed:
            return "<btfm.glm.GLM closed>"
        p, v, _ = self._dims()
        return f"<btfm.glm.GLM {self.noise_model}, {p} regressors, {v} voxels fitted>"


def fit(data, design, noise_model="ar1", progress=None) -> GLM:
    """A GLM of `design` fitted to `data`."""
    return GLM(design, noise_model).fit(data, progress=progress)


# --- per-event betas ---------------------------------------------------------------------

def event_columns(events, t_r, n_scans, slice_time_ref=0.0):
    """One SPM-HRF regressor per event: (n_scans, n_events)."""
    onset, duration, amplitude, _ = _events(events)
    cols = [event_regressors(onset[i:i + 1], duration[i:i + 1], t_r, n_scans,
                             amplitude[i:i + 1], "spm", slice_time_ref)[:, 0]
            for i in range(len(onset))]
    return np.ascontiguousarray(np.stack(cols, axis=1))


def nuisance(t_r, n_scans, drift_model="cosine", cutoff=128.0, drift_order=1,
             confounds=None, slice_time_ref=0.0):
    """Confounds (if any), drifts and the constant: the nuisance part of a model."""
    d = drift(n_scans, t_r, drift_model, cutoff, drift_order, slice_time_ref)
    if confounds is not None:
        d = np.hstack([_f64(confounds, "confounds"), d])
    return np.ascontiguousarray(d)


def _per_event(func, data, events, t_r, drift_model, cutoff, drift_order, confounds,
               slice_time_ref, extra, progress=None):
    y = _f32(data, "data")
    e = event_columns(events, t_r, y.shape[0], slice_time_ref)
    n = nuisance(t_r, y.shape[0], drift_model, cutoff, drift_order, confounds, slice_time_ref)
    out = np.empty((e.shape[1], y.shape[1]), dtype=np.float32)
    args = (_ptr(y), y.shape[0], y.shape[1], _ptr(e)) + extra + (e.shape[1], _ptr(n),
                                                                 n.shape[1], _ptr(out))
    with thread_progress(progress):
        check(func(*args))
    return out


def lsa(data, events, t_r, drift_model="cosine", cutoff=128.0, drift_order=1,
        confounds=None, slice_time_ref=0.0, progress=None):
    """Least-squares-all betas: one model with a regressor per event plus the nuisance
    (confounds, drifts, constant). Returns (n_events, n_voxels) float32. progress: as
    GLM.fit (a cancel raises btfm.Error E_CANCELLED)."""
    return _per_event(lib.btfm_glm_lsa, data, events, t_r, drift_model, cutoff, drift_order,
                      confounds, slice_time_ref, (), progress)


def lss(data, events, t_r, drift_model="cosine", cutoff=128.0, drift_order=1,
        confounds=None, slice_time_ref=0.0, per_condition=False, progress=None):
    """Least-squares-separate betas (Mumford 2012): for each event a model with its
    regressor, the other events summed (per trial type with per_condition=True) and the
    nuisance. Returns (n_events, n_voxels) float32. progress: as GLM.fit."""
    conditions = None
    if per_condition:
        _, _, _, trial_type = _events(events)
        _, codes = np.unique(trial_type, return_inverse=True)
        conditions = np.ascontiguousarray(codes, dtype=np.intc)
    return _per_event(lib.btfm_glm_lss, data, events, t_r, drift_model, cutoff, drift_order,
                      confounds, slice_time_ref, (_ptr(conditions),), progress)
