"""btfm.model: linear readouts fitted with cross-validation, as scikit-learn estimators.

    >>> from btfm.model import RidgeCV
    >>> m = RidgeCV(alphas=np.logspace(-2, 4, 13), cv=5).fit(X, Y)   # Y: samples x targets
    >>> m.alpha_            # the alpha each target chose (alpha_per_target=True)
    >>> m.predict(X_test); m.score(X_test, Y_test)

RidgeCV fits many targets through one decomposition per training set and chooses each
target's alpha by the closed-form leave-one-out error (cv=None) or by K contiguous folds
(cv=k), leave-one-group-out (groups=...) or any partition of the samples a scikit-learn
splitter gives; `gap` keeps samples next to each test block out of its training set.
LogisticRegressionCV and BradleyTerry fit by Newton's method with the same splits.
The low-level handle is `Model`. Equations and caveats: doc/models.md. Requires numpy.
"""

from __future__ import annotations

import ctypes

try:
    import numpy as np
except ImportError:  # the rest of the package works without numpy; this module needs it
    np = None

from ._errors import check
from ._handle import Handle
from ._lib import DatasetPtr, ModelPtr, lib
from ._params import ParamsMixin
from ._progress import attached
from ._util import enumerate_names, to_cpath

__all__ = ["Model", "MODEL_TYPES", "SCORES", "TIES", "RidgeCV", "BandedRidgeCV",
           "LogisticRegressionCV",
           "BradleyTerry", "EncodingModel", "NeuralTranslation", "score_columns",
           "noise_ceiling", "cc_norm", "rdm", "compare_rdms", "rdm_noise_ceiling", "rsa",
           "brain_score", "permutation_test", "steering_direction"]

#: {name: number} of the model types, scores and tie models, read from the library.
MODEL_TYPES = {name: number for number, name
               in enumerate_names(lib.btfm_model_type_name, 1).items()}
SCORES = {name: number for number, name
          in enumerate_names(lib.btfm_model_score_name, 0).items()}
TIES = {name: number for number, name in enumerate_names(lib.btfm_model_ties_name, 0).items()}
_SCORE_ALIASES = {None: "default", "neg_mean_squared_error": "neg_mse", "r": "pearson",
                  "correlation": "pearson", "log_loss": "log_likelihood",
                  "neg_log_loss": "log_likelihood"}
_SOLVERS = {"auto": 0, "primal": 1, "dual": 2}
_NOISE = {"none": 0, "independent": 1, "low_rank": 2}
_RDM = {"correlation": 1, "euclidean": 2, "crossnobis": 3}
_COMPARE = {"spearman": 1, "kendall_tau_a": 2, "tau_a": 2, "tau-a": 2, "rho_a": 3, "rho-a": 3,
            "pearson": 4, "corr": 4, "cosine": 5}


def _need_numpy():
    if np is None:
        raise ImportError("btfm.model needs numpy")


def _f32(data, what, ndim):
    """A C-contiguous float32 array with `ndim` dimensions (zero-copy when it is one)."""
    _need_numpy()
    arr = np.asarray(data)
    if arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension{'s' if ndim > 1 else ''}, got "
                         f"shape {arr.shape}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, not dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _ptr(arr, ctype):
    return None if arr is None else arr.ctypes.data_as(ctypes.POINTER(ctype))


_F = ctypes.c_float
_D = ctypes.c_double


def score_columns(y_true, y_pred, kind="r2"):
    """Per-column scores of predictions: "r2", "neg_mse" or "pearson"."""
    t = _f32(y_true, "y_true", 2)
    p = _f32(y_pred, "y_pred", 2)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred {p.shape}")
    out = np.empty(t.shape[1])
    check(lib.btfm_model_score_columns(_ptr(out, _D), _score_number(kind), _ptr(t, _F),
                                       _ptr(p, _F), t.shape[0], t.shape[1]))
    return out


def _score_number(kind):
    name = _SCORE_ALIASES.get(kind, kind)
    if name not in SCORES:
        raise ValueError(f"unknown scoring {kind!r}; known: {', '.join(SCORES)}")
    return SCORES[name]


class Model(ParamsMixin, Handle):
    """A btfm_model handle: type "ridge", "banded_ridge", "logistic" or "bradley_terry".
    Keyword arguments set parameters (btfm.param_info("model")). The estimator classes
    below wrap it; use it directly for the C API's full surface."""

    _type_name = "btfm.model.Model"
    _free = lib.btfm_model_free
    _param_kind = "model"
    _set_param_func = "btfm_model_set_param"
    _get_param_func = "btfm_model_get_param"

    def __init__(self, type: str = "ridge", **params):
        if type not in MODEL_TYPES:
            raise ValueError(f"unknown model type {type!r}; known: {', '.join(MODEL_TYPES)}")
        ptr = ModelPtr()
        check(lib.btfm_model_new(ctypes.byref(ptr), MODEL_TYPES[type]))
        super().__init__(ptr)
        for name, value in params.items():
            self.set_param(name, value)

    @property
    def type(self) -> str:
        number = check(self._invoke(lib.btfm_model_get_type))
        return {v: k for k, v in MODEL_TYPES.items()}[number]

    # -- settings -------------------------------------------------------------------

    def set_alphas(self, alphas) -> None:
        a = np.ascontiguousarray(np.atleast_1d(np.asarray(alphas, dtype=np.float64)))
        if a.ndim != 1:
            raise ValueError(f"alphas must be one-dimensional, got shape {a.shape}")
        check(self._invoke(lib.btfm_model_set_alphas, _ptr(a, _D), a.size))

    @property
    def alphas(self):
        n = check(self._invoke(lib.btfm_model_n_alphas))
        out = np.empty(n)
        check(self._invoke(lib.btfm_model_alphas, _ptr(out, _D), n))
        return out

    def set_sample_weight(self, weights) -> None:
        if weights is None:
            check(self._invoke(lib.btfm_model_set_sample_weight, None, 0))
            return
        w = np.ascontiguousarray(weights, dtype=np.float64)
        check(self._invoke(lib.btfm_model_set_sample_weight, _ptr(w, _D), w.size))

    def set_groups(self, groups) -> None:
        if groups is None:
            check(self._invoke(lib.btfm_model_set_groups, None, 0))
            return
        g = np.asarray(groups)
        if g.dtype.kind not in "iub":  # labels of any kind: their order of first appearance
            _, first, inverse = np.unique(g, return_index=True, return_inverse=True)
            g = np.argsort(np.argsort(first))[inverse]
        g = np.ascontiguousarray(g, dtype=np.int64)
        check(self._invoke(lib.btfm_model_set_groups, _ptr(g, ctypes.c_int64), g.size))

    def set_folds(self, test_fold) -> None:
        if test_fold is None:
            check(self._invoke(lib.btfm_model_set_folds, None, 0))
            return
        f = np.ascontiguousarray(test_fold, dtype=np.int32)
        check(self._invoke(lib.btfm_model_set_folds, _ptr(f, ctypes.c_int32), f.size))

    def set_bands(self, band) -> None:
        """Banded ridge: the band (0 .. n_bands - 1) of each feature."""
        b = None if band is None else np.ascontiguousarray(band, dtype=np.int32)
        check(self._invoke(lib.btfm_model_set_bands, _ptr(b, ctypes.c_int32),
                           0 if b is None else b.size))
        self._n_bands = 0 if b is None or b.size == 0 else int(b.max()) + 1

    def set_band_weights(self, weights) -> None:
        """Banded ridge: the band weights to try (draws x bands, rows positive and summing
        to 1; himalaya's n_iter given as an array) instead of the random search; None
        returns to the random search."""
        if weights is None:
            check(self._invoke(lib.btfm_model_set_band_weights, None, 0, 0))
            self._n_draws = 0
            return
        w = np.ascontiguousarray(np.atleast_2d(weights), dtype=np.float64)
        check(self._invoke(lib.btfm_model_set_band_weights, _ptr(w, _D), w.shape[0],
                           w.shape[1]))
        self._n_draws = w.shape[0]

    def band_weights(self, n_bands=None):
        """Banded ridge: n_bands x n_targets, the band weights each target chose
        (n_bands: those given to set_bands unless said)."""
        n_bands = n_bands or getattr(self, "_n_bands", 0)
        if not n_bands:
            raise ValueError("band_weights needs n_bands for a model whose bands were not set "
                             "here")
        out = np.empty((n_bands, self.dims[2]))
        check(self._invoke(lib.btfm_model_band_weights, _ptr(out, _D), out.size))
        return out

    def score_split(self, X, Y, n_bands=None):
        """Banded ridge: each band's share of the held-out R^2 (n_bands x n_targets;
        himalaya's r2_score_split)."""
        X, Y = _f32(X, "X", 2), np.asarray(Y)
        Y = _f32(Y.reshape(-1, 1) if Y.ndim == 1 else Y, "Y", 2)
        n_bands = n_bands or getattr(self, "_n_bands", 0)
        if not n_bands:
            raise ValueError("score_split needs n_bands for a model whose bands were not set "
                             "here")
        out = np.empty((n_bands, Y.shape[1]))
        check(self._invoke(lib.btfm_model_score_split, _ptr(out, _D), _ptr(X, _F),
                           _ptr(Y, _F), X.shape[0], X.shape[1], Y.shape[1]))
        return out

    def set_delays(self, delays) -> None:
        d = None if delays is None else np.ascontiguousarray(np.atleast_1d(delays),
                                                             dtype=np.int32)
        check(self._invoke(lib.btfm_model_set_delays, _ptr(d, ctypes.c_int32),
                           0 if d is None else d.size))

    # -- fitting --------------------------------------------------------------------

    def _fit_call(self, func, progress, *args):
        with self._lock:
            ptr = self._require_open()
            with attached(lib.btfm_model_set_progress, ptr, progress):
                check(func(ptr, *args))

    def fit(self, X, Y, progress=None, comm=None) -> "Model":
        """Ridge / banded ridge: X (samples x features), Y (samples x targets).

        With `comm` (an mpi4py communicator, e.g. ``MPI.COMM_WORLD``) the ridge fit is
        distributed over the targets (btfm_model_fit_mpi): every rank passes the same X
        and settings and its own block of target columns (possibly none: shape
        (samples, 0)); each rank's model then equals the one-process fit of all targets
        restricted to its columns. Needs a library built with MPI ("mpi" in
        btfm.capabilities()); ridge with alpha_per_target on and noise_rank 0 only.
        """
        if comm is None:
            x, y = _f32(X, "X", 2), _f32(Y, "Y", 2)
            self._fit_call(lib.btfm_model_fit, progress, _ptr(x, _F), x.shape[0],
                           x.shape[1], _ptr(y, _F), y.shape[1])
            self._mpi_targets = 0
            return self
        from .align import _agree, _comm_handle
        handle = _comm_handle(comm)
        x = y = error = None
        try:  # bad arrays on one rank must not leave the others waiting in the fit
            x, y = _f32(X, "X", 2), _f32(Y, "Y", 2)
        except (ValueError, TypeError) as e:
            error = e
        _agree(comm, error)
        self._fit_call(lib.btfm_model_fit_mpi, progress, _ptr(x, _F), x.shape[0], x.shape[1],
                       _ptr(y, _F) if y.shape[1] else None, y.shape[1], handle)
        self._mpi_targets = comm.allreduce(y.shape[1])
        return self

    def gather_cv_scores(self, comm):
        """After ``fit(..., comm=)``: the cross-validation scores of every rank's targets,
        on every rank (btfm_model_cv_scores_mpi), as ``cv_scores`` of the one-process fit
        of all targets: n_alphas x (all targets), the targets in rank order. Collective."""
        from .align import _comm_handle
        handle = _comm_handle(comm)
        out = np.empty((self.alphas.size, getattr(self, "_mpi_targets", 0)))
        check(self._invoke(lib.btfm_model_cv_scores_mpi, _ptr(out, _D), out.size, handle))
        return out

    def fit_classes(self, X, labels, progress=None) -> "Model":
        """Logistic: labels are classes 0 .. K-1."""
        x = _f32(X, "X", 2)
        lab = np.ascontiguousarray(labels, dtype=np.int32)
        self._fit_call(lib.btfm_model_fit_classes, progress, _ptr(x, _F), x.shape[0],
                       x.shape[1], _ptr(lab, ctypes.c_int32))
        return self

    def fit_pairs(self, X, pairs, outcomes=None, n_items=None, progress=None) -> "Model":
        """Bradley-Terry: X (items x features) or None for free item scores (then give
        n_items); pairs (n x 2) item indices; outcomes 1 / 0 / 0.5 (tie)."""
        pr = np.ascontiguousarray(pairs, dtype=np.int64)
        if pr.ndim != 2 or pr.shape[1] != 2:
            raise ValueError(f"pairs must have shape (n_pairs, 2), got {pr.shape}")
        o = None if outcomes is None else np.ascontiguousarray(outcomes, dtype=np.float32)
        if X is None:
            n = int(pr.max()) + 1 if n_items is None else int(n_items)
            self._fit_call(lib.btfm_model_fit_pairs, progress, None, n, 0,
                           _ptr(pr, ctypes.c_int64), _ptr(o, _F), pr.shape[0])
        else:
            x = _f32(X, "X", 2)
            self._fit_call(lib.btfm_model_fit_pairs, progress, _ptr(x, _F), x.shape[0],
                           x.shape[1], _ptr(pr, ctypes.c_int64), _ptr(o, _F), pr.shape[0])
        return self

    # -- fitted values -----------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        return bool(check(self._invoke(lib.btfm_model_is_fitted)))

    @property
    def dims(self) -> tuple:
        """(n_features, n_coef, n_outputs) of the fit."""
        a, b, c = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        check(self._invoke(lib.btfm_model_dims, ctypes.byref(a), ctypes.byref(b),
                           ctypes.byref(c)))
        return a.value, b.value, c.value

    @property
    def n_classes(self) -> int:
        return check(self._invoke(lib.btfm_model_n_classes))

    @property
    def coef(self):
        """n_coef x n_outputs coefficients (input units)."""
        _, p, t = self.dims
        out = np.empty((p, t), dtype=np.float32)
        check(self._invoke(lib.btfm_model_coef, _ptr(out, _F), out.size))
        return out

    def _per_output(self, func):
        t = self.dims[2]
        out = np.empty(t)
        check(self._invoke(func, _ptr(out, _D), t))
        return out

    @property
    def intercept(self):
        return self._per_output(lib.btfm_model_intercept)

    @property
    def alpha(self):
        return self._per_output(lib.btfm_model_alpha)

    @property
    def cv_scores(self):
        """n_alphas x n_outputs fold-averaged scores, or None when no selection ran;
        banded ridge: one row per band weighting tried, at its best alpha."""
        rows = self.alphas.size
        if self.type == "banded_ridge":  # one row per band weighting tried
            rows = getattr(self, "_n_draws", 0) or int(self.get_param("n_iter"))
        elif rows < 2:
            return None
        cols = self.dims[2] if self.type in ("ridge", "banded_ridge") else 1
        out = np.empty((rows, cols))
        check(self._invoke(lib.btfm_model_cv_scores, _ptr(out, _D), out.size))
        return out

    @property
    def tie_parameter(self) -> float:
        v = ctypes.c_double()
        check(self._invoke(lib.btfm_model_tie_parameter, ctypes.byref(v)))
        return v.value

    def _predict(self, func, X, width):
        x = _f32(X, "X", 2)
        out = np.empty((x.shape[0], width), dtype=np.float32)
        check(self._invoke(func, _ptr(out, _F), _ptr(x, _F), x.shape[0], x.shape[1]))
        return out

    def predict(self, X):
        """n_samples x n_outputs: x b + intercept."""
        return self._predict(lib.btfm_model_predict, X, self.dims[2])

    def predict_proba(self, X):
        return self._predict(lib.btfm_model_predict_proba, X, self.n_classes)

    def predict_std(self, X):
        return self._predict(lib.btfm_model_predict_std, X, self.dims[2])

    def predict_pairs(self, pairs, X=None, n_items=None):
        """n_pairs x 3: P(first preferred), P(tie), P(second preferred)."""
        pr = np.ascontiguousarray(pairs, dtype=np.int64)
        out = np.empty((pr.shape[0], 3))
        if X is None:
            n = self.dims[1] if n_items is None else int(n_items)
            check(self._invoke(lib.btfm_model_predict_pairs, _ptr(out, _D), None, n, 0,
                               _ptr(pr, ctypes.c_int64), pr.shape[0]))
        else:
            x = _f32(X, "X", 2)
            check(self._invoke(lib.btfm_model_predict_pairs, _ptr(out, _D), _ptr(x, _F),
                               x.shape[0], x.shape[1], _ptr(pr, ctypes.c_int64), pr.shape[0]))
        return out

    def score(self, X, Y, kind="r2"):
        """Per-target held-out scores of a ridge model."""
        x, y = _f32(X, "X", 2), _f32(Y, "Y", 2)
        out = np.empty(y.shape[1])
        check(self._invoke(lib.btfm_model_score, _ptr(out, _D), _score_number(kind), _ptr(x, _F),
                           _ptr(y, _F), x.shape[0], x.shape[1], y.shape[1]))
        return out

    def cross_predict(self, X, Y, n_outer=5, progress=None):
        """Held-out predictions of every sample (nested: the model's own cv inside each of
        n_outer contiguous outer folds, or one per group with n_outer=0). Ridge: samples x
        targets; logistic (Y: one column of classes): samples x classes."""
        x, y = _f32(X, "X", 2), _f32(Y, "Y", 2)
        width = y.shape[1]
        if self.type == "logistic":
            width = int(y.max()) + 1
        out = np.empty((x.shape[0], width), dtype=np.float32)
        with self._lock:
            ptr = self._require_open()
            with attached(lib.btfm_model_set_progress, ptr, progress):
                check(lib.btfm_model_cross_predict(ptr, _ptr(out, _F), _ptr(x, _F),
                                                   x.shape[0], x.shape[1], _ptr(y, _F),
                                                   y.shape[1], int(n_outer)))
        return out

    def permutation_test(self, X, y, n_permutations=100, n_outer=5):
        """(score, p_value, null): the cross-validated decoding score of y from X and its
        null distribution over seeded permutations of y (within groups)."""
        x = _f32(X, "X", 2)
        yy = np.ascontiguousarray(np.asarray(y, dtype=np.float32).ravel())
        score, p = ctypes.c_double(), ctypes.c_double()
        null = np.empty(int(n_permutations))
        check(self._invoke(lib.btfm_model_permutation_test, ctypes.byref(score), ctypes.byref(p),
                           _ptr(null, _D), _ptr(x, _F), x.shape[0], x.shape[1], _ptr(yy, _F),
                           int(n_outer), int(n_permutations)))
        return score.value, p.value, null

    def synthesize(self, X, noise="independent", seed=0):
        """Predictions plus noise ("none", "independent", "low_rank") drawn from `seed`."""
        x = _f32(X, "X", 2)
        out = np.empty((x.shape[0], self.dims[2]), dtype=np.float32)
        check(self._invoke(lib.btfm_model_synthesize, _ptr(out, _F), _ptr(x, _F), x.shape[0],
                           x.shape[1], _NOISE[noise], int(seed)))
        return out

    def synthesize_dataset(self, X, sfreq, noise="independent", seed=0, like=None):
        """The synthetic responses as a btfm.Dataset (save it as EDF, read it like a
        recording); channel names and types from `like`."""
        from .dataset import Dataset
        x = _f32(X, "X", 2)
        ptr = DatasetPtr()
        like_ptr = None if like is None else like._require_open()
        check(self._invoke(lib.btfm_model_synthesize_dataset, ctypes.byref(ptr), _ptr(x, _F),
                           x.shape[0], x.shape[1], _NOISE[noise], int(seed), float(sfreq),
                           like_ptr))
        return Dataset._adopt(ptr, "<synthetic>")

    def set_aligner(self, aligner, subject) -> None:
        """Translate through `aligner`'s shared space: inputs are subject `subject`'s data."""
        if aligner is None:
            check(self._invoke(lib.btfm_model_set_aligner, None, 0))
            return
        with aligner._lock:
            check(self._invoke(lib.btfm_model_set_aligner, aligner._require_open(), int(subject)))

    # -- persistence --------------------------------------------------------------------

    def save(self, path) -> None:
        check(self._invoke(lib.btfm_model_save, to_cpath(path)))

    def to_bytes(self) -> bytes:
        return self._serialize(lib.btfm_model_save_buffer)

    @classmethod
    def load(cls, path) -> "Model":
        return cls._open_with(lib.btfm_model_load, ModelPtr, to_cpath(path))

    @classmethod
    def from_bytes(cls, data) -> "Model":
        data = bytes(data)
        return cls._open_with(lib.btfm_model_load_buffer, ModelPtr, data, len(data))

    def __repr__(self):
        if self.closed:
            return "<btfm.model.Model closed>"
        state = "fitted %s x %s -> %s" % self.dims if self.fitted else "not fitted"
        return f"<btfm.model.Model {self.type}, {state}>"


# --- scikit-learn style estimators ---------------------------------------------------------


def _folds_from_cv(cv, X, y, groups):
    """Explicit test folds (one fold id per sample) from a scikit-learn splitter or an
    iterable of (train, test) index pairs, which must partition the samples."""
    splits = list(cv.split(X, y, groups)) if hasattr(cv, "split") else list(cv)
    n = X.shape[0]
    fold = np.full(n, -1, dtype=np.int32)
    for k, (train, test) in enumerate(splits):
        test = np.asarray(test)
        if np.any(fold[test] >= 0):
            raise ValueError("cv: the test sets overlap; btfm needs splits whose test sets "
                             "partition the samples (KFold, GroupKFold, LeaveOneGroupOut, "
                             "StratifiedKFold, PredefinedSplit)")
        fold[test] = k
        expected = np.setdiff1d(np.arange(n), test)
        if not np.array_equal(np.sort(np.asarray(train)), expected):
            raise ValueError("cv: a training set is not the complement of its test set; "
                             "btfm trains on every other sample (use gap= to leave "
                             "neighbours out)")
    return fold


class _Estimator:
    """Parameters shared by the estimators, and the handle they configure."""

    def _configure(self, model, X, y, groups, sample_weight):
        m = model
        m.set_param("fit_intercept", bool(self.fit_intercept))
        m.set_param("standardize", bool(self.standardize))
        m.set_param("gap", int(self.gap))
        m.set_param("shuffle", bool(self.shuffle))
        m.set_param("seed", int(self.random_state or 0))
        groups = self.groups if groups is None else groups
        m.set_groups(groups)
        m.set_sample_weight(sample_weight)
        cv = self.cv
        if cv is None:
            m.set_param("cv", 0)
        elif isinstance(cv, (int, np.integer)):
            m.set_param("cv", int(cv))
        else:
            m.set_folds(_folds_from_cv(cv, X, y, groups))

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self._param_names:
                raise ValueError(f"unknown parameter {name!r} of {type(self).__name__}")
            setattr(self, name, value)
        return self

    def save(self, path):
        self.model_.save(path)

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._param_names)
        return f"{type(self).__name__}({args})"


class RidgeCV(_Estimator):
    """Ridge regression of many targets with the regularization chosen per target.

    alphas: the grid (tried in order; ties go to the earlier). cv: None for the
    closed-form leave-one-out (scikit-learn's GCV), an int for that many contiguous folds
    (of whole groups when groups are given), or a scikit-learn splitter whose test sets
    partition the samples. groups: run / session / subject labels (leave-one-group-out
    with cv=None). gap: samples next to each test block left out of its training set.
    alpha_per_target: each target its own alpha (default True; scikit-learn's default is
    False). scoring: "r2" (default for folds), "neg_mean_squared_error" (leave-one-out's
    default), "pearson". standardize: z-score features on each training set. delays:
    FIR delays in samples (encoding models); hrf + t_r: convolve with the SPM HRF.
    solver: "auto", "primal" (Gram matrix) or "dual" (kernel matrix).

    Fitted: coef_ (targets x features, or features for a 1-D y), intercept_, alpha_,
    cv_scores_ (alphas x targets), best_score_, model_ (the btfm.model.Model).
    """

    _param_names = ["alphas", "fit_intercept", "cv", "groups", "gap", "scoring",
                    "alpha_per_target", "standardize", "shuffle", "random_state", "delays",
                    "hrf", "t_r", "solver"]
    _type = "ridge"

    def __init__(self, alphas=(0.1, 1.0, 10.0), *, fit_intercept=True, cv=None, groups=None,
                 gap=0, scoring=None, alpha_per_target=True, standardize=False, shuffle=False,
                 random_state=None, delays=None, hrf=False, t_r=0.0, solver="auto"):
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.groups = groups
        self.gap = gap
        self.scoring = scoring
        self.alpha_per_target = alpha_per_target
        self.standardize = standardize
        self.shuffle = shuffle
        self.random_state = random_state
        self.delays = delays
        self.hrf = hrf
        self.t_r = t_r
        self.solver = solver

    def _make(self):
        return Model(self._type)

    def fit(self, X, y, sample_weight=None, groups=None, progress=None):
        _need_numpy()
        X = np.asarray(X)
        y = np.asarray(y)
        self._1d = y.ndim == 1
        Y = y.reshape(-1, 1) if self._1d else y
        model = self._make()
        try:
            self._configure(model, X, Y, groups, sample_weight)
            model.set_alphas(self.alphas)
            scoring = self.scoring
            if scoring is None:
                scoring = "neg_mse" if self.cv is None and groups is None and \
                    self.groups is None else "r2"
            model.set_param("scoring", _score_number(scoring))
            model.set_param("alpha_per_target", bool(self.alpha_per_target))
            model.set_param("hrf", bool(self.hrf))
            model.set_param("t_r", float(self.t_r))
            if self.solver not in _SOLVERS:
                raise ValueError(f"unknown solver {self.solver!r}; known: {', '.join(_SOLVERS)}")
            model.set_param("solver", _SOLVERS[self.solver])
            model.set_delays(self.delays)
            model.set_param("noise_rank", int(getattr(self, "noise_rank", 0)))
            self._prepare(model)
            self._fit_model(model, X, Y, progress)
        except BaseException:
            model.close()
            raise
        old = getattr(self, "model_", None)
        self.model_ = model
        if old is not None:
            old.close()
        self._read_fit()
        return self

    def _prepare(self, model):
        """Subclasses configure the handle further before the fit."""

    def _fit_model(self, model, X, Y, progress):
        model.fit(X, Y, progress=progress)

    def cross_predict(self, X, y, n_outer=5, groups=None, sample_weight=None, progress=None):
        """Held-out predictions of every sample with this estimator's settings: n_outer
        contiguous outer folds (0: one per group), each choosing its alpha by the
        estimator's cv inside its training set. Does not change the fitted model."""
        X, y = np.asarray(X), np.asarray(y)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        model = self._make()
        with model:
            self._configure(model, X, Y, groups, sample_weight)
            model.set_alphas(self.alphas)
            scoring = self.scoring or "r2"
            model.set_param("scoring", _score_number(scoring))
            model.set_param("alpha_per_target", bool(self.alpha_per_target))
            model.set_param("hrf", bool(self.hrf))
            model.set_param("t_r", float(self.t_r))
            model.set_param("solver", _SOLVERS[self.solver])
            model.set_delays(self.delays)
            self._prepare(model)
            pred = model.cross_predict(X, Y, n_outer=n_outer, progress=progress)
        pred = pred.astype(np.float64)
        return pred[:, 0] if y.ndim == 1 else pred

    def synthesize(self, X, noise="independent", seed=0):
        """Synthetic responses: predictions plus noise from the fit's residuals
        ("independent" per target, or "low_rank" with noise_rank > 0)."""
        out = self.model_.synthesize(X, noise, seed).astype(np.float64)
        return out[:, 0] if self._1d else out

    def _read_fit(self):
        m = self.model_
        coef = m.coef.T.astype(np.float64)
        self.n_features_in_ = m.dims[0]
        alpha = m.alpha
        self.intercept_ = m.intercept
        self.coef_ = coef
        self.alpha_ = alpha if self.alpha_per_target else float(alpha[0])
        scores = m.cv_scores
        self.cv_scores_ = scores
        if scores is not None:
            self.best_score_ = scores.max(axis=0)
        if self._1d:
            self.coef_ = coef[0]
            self.intercept_ = float(self.intercept_[0])
            if self.alpha_per_target:
                self.alpha_ = float(alpha[0])
            if scores is not None:
                self.cv_scores_ = scores[:, 0]
                self.best_score_ = float(self.best_score_[0])

    def predict(self, X):
        pred = self.model_.predict(X).astype(np.float64)
        return pred[:, 0] if self._1d else pred

    def predict_std(self, X):
        """Predictive standard deviation of a new observation (the Bayesian reading of
        ridge: prior coef ~ N(0, s2 / alpha), noise variance s2 from the residuals)."""
        sd = self.model_.predict_std(X).astype(np.float64)
        return sd[:, 0] if self._1d else sd

    def predict_interval(self, X, level=0.9):
        """(low, high): the central `level` predictive interval (Gaussian)."""
        from statistics import NormalDist
        z = NormalDist().inv_cdf(0.5 + level / 2)
        mean, sd = self.predict(X), self.predict_std(X)
        return mean - z * sd, mean + z * sd

    def score_targets(self, X, y, kind="r2"):
        """Per-target held-out scores: "r2", "pearson" or "neg_mse"."""
        Y = np.asarray(y)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        out = self.model_.score(X, Y, kind)
        return float(out[0]) if self._1d else out

    def score(self, X, y):
        """R^2 averaged over targets (scikit-learn's RegressorMixin.score)."""
        return float(np.mean(self.score_targets(X, y, "r2")))


class BandedRidgeCV(RidgeCV):
    """Banded ridge: one regularization per feature band (e.g. several model layers, or
    audio and text features), as himalaya's BandedRidgeCV with its random-search solver.

    bands: the band (0 .. n_bands - 1) of each feature. n_iter: the number of band
    weightings the random search tries (Dirichlet draws, the first weighting every band
    equally), or an array (draws x bands, rows positive and summing to 1) of the
    weightings to try, e.g. np.eye(n_bands) * 0.98 + 0.01 for almost winner-take-all.
    Each target keeps the weighting and alpha with the best cross-validated score; band b
    is then penalized by alpha / weight_b. Other arguments as RidgeCV (cv defaults to 5
    contiguous folds here; predict_std is not available).

    search: "random" (the above); "gradient": then, per target, BFGS steps on the log
    band penalties down the gradient of the held-out squared error summed over the folds
    (himalaya's hyper-gradient search, solver="hyper_gradient"), from the random search's
    choice; or "coordinate": then, per target, sweeps of exact coordinate updates, each
    band's penalty moved to the minimum of that error along it, known in closed form from
    one eigendecomposition per fold (it never increases the error). Both take at most
    max_iter steps or sweeps, stopping when no log penalty moves by more than tol, and
    need K folds (cv >= 2 or groups) and standardize=False.

    Fitted, besides RidgeCV's: band_weights_ (bands x targets), deltas_ (himalaya's
    log(weight / alpha)). score_split(X, y) gives each band's share of the held-out R^2:
    which bands matter.
    """

    _param_names = RidgeCV._param_names + ["bands", "n_iter", "search", "max_iter", "tol"]
    _type = "banded_ridge"

    def __init__(self, bands=None, alphas=(0.1, 1.0, 10.0), *, n_iter=20, cv=5,
                 search="random", max_iter=100, tol=1e-8, **kwargs):
        super().__init__(alphas, cv=cv, **kwargs)
        self.bands = bands
        self.n_iter = n_iter
        self.search = search
        self.max_iter = max_iter
        self.tol = tol

    def _prepare(self, model):
        if self.bands is None:
            raise ValueError("BandedRidgeCV needs bands: the band of each feature")
        searches = ("random", "gradient", "coordinate")  # band_search 0, 1, 2
        if self.search not in searches:
            raise ValueError(f"search is {self.search!r}; expected one of {searches}")
        model.set_param("band_search", searches.index(self.search))
        model.set_param("max_iter", int(self.max_iter))
        model.set_param("tol", float(self.tol))
        model.set_bands(self.bands)
        if np.ndim(self.n_iter) == 0:
            model.set_param("n_iter", int(self.n_iter))
            model.set_band_weights(None)
        else:
            model.set_band_weights(self.n_iter)

    def _read_fit(self):
        super()._read_fit()
        w = self.model_.band_weights()
        alpha = np.atleast_1d(self.alpha_)
        self.band_weights_ = w[:, 0] if self._1d else w
        self.deltas_ = np.log(self.band_weights_ / (alpha[0] if self._1d else alpha))

    def score_split(self, X, y):
        """Each band's share of R^2 on (X, y): bands (x targets); the shares of a target
        sum to its R^2 with centered predictions."""
        out = self.model_.score_split(X, y)
        return out[:, 0] if self._1d else out


def _glm_solver(name):
    if name not in ("auto", "newton"):
        raise ValueError(f"unknown solver {name!r}; known: auto, newton")
    return 3 if name == "newton" else 0


def _check_labels(y):
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y has one class ({classes[0]!r}); logistic regression needs at "
                         "least 2")
    return classes, codes.astype(np.int32)


class LogisticRegressionCV(_Estimator):
    """Binary or multinomial logistic regression with L2 on the weights, the strength
    chosen by cross-validated accuracy (or log-likelihood), fitted by Newton's method.

    Cs: an int (that many values logspace(-4, 4)) or the values of C = 1 / alpha, tried in
    order. cv: None for 5 contiguous folds, an int, or a scikit-learn splitter whose test
    sets partition the samples (StratifiedKFold(5) gives scikit-learn's default splits).
    solver: "auto" (two classes: preconditioned L-BFGS, Newton's method as the fallback;
    more classes: Newton's method) or "newton" (Newton's method, IRLS, alone).
    """

    _param_names = ["Cs", "fit_intercept", "cv", "groups", "gap", "scoring", "standardize",
                    "shuffle", "random_state", "max_iter", "tol", "label_smoothing", "solver"]

    def __init__(self, Cs=10, *, fit_intercept=True, cv=None, groups=None, gap=0,
                 scoring=None, standardize=False, shuffle=False, random_state=None,
                 max_iter=100, tol=1e-8, label_smoothing=0.0, solver="auto"):
        self.solver = solver
        self.Cs = Cs
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.groups = groups
        self.gap = gap
        self.scoring = scoring
        self.standardize = standardize
        self.shuffle = shuffle
        self.random_state = random_state
        self.max_iter = max_iter
        self.tol = tol
        self.label_smoothing = label_smoothing

    def fit(self, X, y, sample_weight=None, groups=None, progress=None):
        _need_numpy()
        X = np.asarray(X)
        self.classes_, codes = _check_labels(y)
        Cs = np.logspace(-4, 4, int(self.Cs)) if np.isscalar(self.Cs) else np.asarray(self.Cs,
                                                                                      float)
        self.Cs_ = Cs
        model = Model("logistic")
        try:
            self._configure(model, X, codes, groups, sample_weight)
            model.set_alphas(1.0 / Cs)
            model.set_param("scoring", _score_number(self.scoring or "accuracy"))
            model.set_param("max_iter", int(self.max_iter))
            model.set_param("tol", float(self.tol))
            model.set_param("label_smoothing", float(self.label_smoothing))
            model.set_param("solver", _glm_solver(self.solver))
            model.fit_classes(X, codes, progress=progress)
        except BaseException:
            model.close()
            raise
        self.model_ = model
        coef = model.coef.T.astype(np.float64)
        self.coef_ = coef
        self.intercept_ = model.intercept
        chosen = int(np.flatnonzero(model.alphas == model.alpha[0])[0])
        self.C_ = np.full(coef.shape[0], Cs[chosen])
        self.cv_scores_ = model.cv_scores[:, 0] if Cs.size > 1 else None
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X):
        d = self.model_.predict(X).astype(np.float64)
        return d[:, 0] if d.shape[1] == 1 else d

    def predict_proba(self, X):
        return self.model_.predict_proba(X).astype(np.float64)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_std(self, X):
        """Laplace standard deviation of the decision values."""
        sd = self.model_.predict_std(X).astype(np.float64)
        return sd[:, 0] if sd.shape[1] == 1 else sd

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class BradleyTerry(_Estimator):
    """The Bradley-Terry model of pairwise preferences, L2-penalized, fitted by Newton's
    method with the penalty chosen by cross-validation over pairs.

    fit(X, pairs, outcomes): X (items x features) makes the item score a linear reward
    X @ coef_; X=None fits one free score per item. pairs (n x 2) item indices; outcomes 1
    (first preferred), 0 (second), 0.5 (tie). ties: "none", "rao_kupper", "davidson".
    alphas: penalties (default 1 / logspace(-4, 4, 10)). Groups and sample weights are
    per pair (e.g. annotators). solver: "auto" (features without a tie parameter:
    preconditioned L-BFGS, Newton's method as the fallback; otherwise Newton's method) or
    "newton" (Newton's method alone)."""

    _param_names = ["alphas", "cv", "groups", "gap", "scoring", "ties", "label_smoothing",
                    "standardize", "shuffle", "random_state", "max_iter", "tol", "solver"]
    fit_intercept = False

    def __init__(self, alphas=None, *, cv=None, groups=None, gap=0, scoring=None, ties="none",
                 label_smoothing=0.0, standardize=False, shuffle=False, random_state=None,
                 max_iter=100, tol=1e-8, solver="auto"):
        self.solver = solver
        self.alphas = alphas
        self.cv = cv
        self.groups = groups
        self.gap = gap
        self.scoring = scoring
        self.ties = ties
        self.label_smoothing = label_smoothing
        self.standardize = standardize
        self.shuffle = shuffle
        self.random_state = random_state
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, pairs, outcomes=None, sample_weight=None, groups=None, n_items=None,
            progress=None):
        _need_numpy()
        pairs = np.asarray(pairs)
        if self.ties not in TIES:
            raise ValueError(f"unknown ties {self.ties!r}; known: {', '.join(TIES)}")
        model = Model("bradley_terry")
        try:
            self._configure(model, pairs, outcomes, groups, sample_weight)
            if self.alphas is not None:
                model.set_alphas(self.alphas)
            model.set_param("scoring", _score_number(self.scoring))
            model.set_param("ties", TIES[self.ties])
            model.set_param("label_smoothing", float(self.label_smoothing))
            model.set_param("max_iter", int(self.max_iter))
            model.set_param("tol", float(self.tol))
            model.set_param("solver", _glm_solver(self.solver))
            model.fit_pairs(X, pairs, outcomes, n_items=n_items, progress=progress)
        except BaseException:
            model.close()
            raise
        self.model_ = model
        self.coef_ = model.coef[:, 0].astype(np.float64)
        self.alpha_ = float(model.alpha[0])
        self.tie_parameter_ = model.tie_parameter
        scores = model.cv_scores
        self.cv_scores_ = None if scores is None else scores[:, 0]
        self._items = X is None
        return self

    def predict(self, X=None):
        """Scores of items (rows of X, or the free item scores)."""
        if X is None:
            return self.coef_.copy()
        return self.model_.predict(X)[:, 0].astype(np.float64)

    def predict_proba(self, pairs, X=None):
        """n_pairs x 3: P(first preferred), P(tie), P(second preferred)."""
        return self.model_.predict_pairs(pairs, X, n_items=self.coef_.size if X is None
                                         else None)

    def predict_std(self, X):
        """Laplace standard deviation of the item scores."""
        return self.model_.predict_std(X)[:, 0].astype(np.float64)

    def score(self, pairs, outcomes=None, X=None):
        """Accuracy on the decisive pairs: the preferred item scores higher."""
        p = self.predict_proba(pairs, X)
        o = np.ones(len(p)) if outcomes is None else np.asarray(outcomes, float)
        decisive = o != 0.5
        return float(np.mean((p[decisive, 0] > p[decisive, 2]) == (o[decisive] > 0.5)))


class EncodingModel(RidgeCV):
    """An encoding model: features (per time point, e.g. a language model's activations)
    to brain responses through FIR delays (himalaya's Delayer: the features at t - d for
    each d in `delays`, in samples) or the SPM HRF (hrf=True, t_r in seconds), ridge with
    the regularization chosen per response. `score_targets(X, Y, "r2" | "pearson")` gives
    held-out scores per target; `cross_validate` held-out scores without a test set; and
    `normalized_score` divides by the noise ceiling of repeated presentations."""

    _param_names = RidgeCV._param_names + ["noise_rank"]

    def __init__(self, delays=(1, 2, 3, 4), alphas=tuple(np.logspace(-1, 5, 13)) if np else None,
                 *, cv=5, noise_rank=0, **kwargs):
        super().__init__(alphas=alphas, cv=cv, delays=delays, **kwargs)
        self.noise_rank = noise_rank

    def cross_validate(self, X, Y, n_outer=5, kind="pearson", groups=None):
        """Per-target held-out scores of nested cross-validated predictions."""
        pred = self.cross_predict(X, Y, n_outer=n_outer, groups=groups)
        Y = np.asarray(Y)
        return score_columns(Y.reshape(len(Y), -1), pred.reshape(len(Y), -1), kind)

    def normalized_score(self, X, repeats, method="split_half"):
        """Held-out correlation with the repeat mean over the noise ceiling (repeats:
        n_repeats x n_samples x n_targets of the test stimulus): r / sqrt(split-half
        reliability) with method "split_half", CC_norm (Schoppe 2016) with "schoppe"."""
        R = np.asarray(repeats, dtype=np.float32)
        if method == "schoppe":
            return cc_norm(R, self.model_.predict(X))
        r = self.score_targets(X, R.mean(axis=0), "pearson")
        return r / np.sqrt(noise_ceiling(R, "split_half"))


class NeuralTranslation(RidgeCV):
    """A map from one modality or subject to another: ridge from the source's features
    (optionally lagged by `delays`) to the target's signals, each target with its own
    regularization; with `aligner` (a fitted btfm.Aligner) and `subject`, the source is
    that subject's recording mapped into the aligner's shared space first."""

    _param_names = RidgeCV._param_names + ["aligner", "subject"]

    def __init__(self, alphas=tuple(np.logspace(-2, 4, 13)) if np else None, *, aligner=None,
                 subject=0, cv=5, **kwargs):
        super().__init__(alphas=alphas, cv=cv, **kwargs)
        self.aligner = aligner
        self.subject = subject

    def _prepare(self, model):
        if self.aligner is not None:
            model.set_aligner(self.aligner, self.subject)


def _repeats(data):
    R = np.ascontiguousarray(data, dtype=np.float32)
    if R.ndim == 2:
        R = R[:, :, None]
    if R.ndim != 3:
        raise ValueError(f"repeats must be n_repeats x n_samples (x n_targets), got {R.shape}")
    return R


def noise_ceiling(repeats, method="split_half", n_splits=0, seed=0):
    """Noise ceiling per target from repeated presentations (n_repeats x n_samples x
    n_targets). "split_half": the Spearman-Brown reliability of the repeat mean (the
    ceiling of R^2; its square root that of r). "schoppe": CC_max (the ceiling of r)."""
    R = _repeats(repeats)
    out = np.empty(R.shape[2])
    if method == "split_half":
        check(lib.btfm_noise_ceiling_split_half(_ptr(out, _D), _ptr(R, _F), R.shape[0],
                                                R.shape[1], R.shape[2], int(n_splits), int(seed)))
    elif method == "schoppe":
        check(lib.btfm_noise_ceiling_ccnorm(_ptr(out, _D), None, _ptr(R, _F), R.shape[0],
                                            R.shape[1], R.shape[2], None))
    else:
        raise ValueError(f"unknown method {method!r}; known: split_half, schoppe")
    return out


def cc_norm(repeats, prediction):
    """Schoppe et al.'s normalized correlation of a prediction (n_samples x n_targets) with
    the repeat mean: r as a fraction of what the noise allows."""
    R = _repeats(repeats)
    pred = np.ascontiguousarray(np.asarray(prediction, dtype=np.float32).reshape(R.shape[1], -1))
    cmax, out = np.empty(R.shape[2]), np.empty(R.shape[2])
    check(lib.btfm_noise_ceiling_ccnorm(_ptr(cmax, _D), _ptr(out, _D), _ptr(R, _F), R.shape[0],
                                        R.shape[1], R.shape[2], _ptr(pred, _F)))
    return out


def rdm(patterns, kind="correlation", precision=None):
    """The RDM (upper triangle, rsatoolbox's vector order) of patterns: conditions x
    channels, or folds x conditions x channels for "crossnobis" (with an optional noise
    precision matrix, channels x channels)."""
    P = np.ascontiguousarray(patterns, dtype=np.float32)
    if P.ndim == 2:
        P = P[None]
    if kind not in _RDM:
        raise ValueError(f"unknown RDM kind {kind!r}; known: {', '.join(_RDM)}")
    out = np.empty(int(lib.btfm_rdm_size(P.shape[1])))
    prec = None if precision is None else np.ascontiguousarray(precision, dtype=np.float64)
    check(lib.btfm_rdm(_ptr(out, _D), _RDM[kind], _ptr(P, _F), P.shape[0], P.shape[1],
                       P.shape[2], _ptr(prec, _D)))
    return out


def compare_rdms(a, b, method="spearman"):
    """Spearman, "kendall_tau_a", "rho_a", "pearson" or "cosine" between two RDM vectors."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"RDM vectors of one shape expected, got {a.shape} and {b.shape}")
    out = ctypes.c_double()
    check(lib.btfm_rdm_compare(ctypes.byref(out), _COMPARE[method], _ptr(a, _D), _ptr(b, _D),
                               a.size))
    return out.value


def rdm_noise_ceiling(rdms, method="spearman"):
    """(lower, upper) leave-one-subject-out noise ceiling of subjects' RDMs (subjects x
    entries) for comparisons by `method`."""
    R = np.ascontiguousarray(rdms, dtype=np.float64)
    lo, up = ctypes.c_double(), ctypes.c_double()
    check(lib.btfm_rdm_noise_ceiling(ctypes.byref(lo), ctypes.byref(up), _COMPARE[method],
                                     _ptr(R, _D), R.shape[0], R.shape[1]))
    return lo.value, up.value


def rsa(model_patterns, brain_patterns, kind="correlation", method="spearman"):
    """RSA of a model against subjects' brain patterns (a list of conditions x channels
    arrays, or one): a dict with the model RDM, each subject's comparison, their mean and
    the noise ceiling (with 2 or more subjects)."""
    brains = [brain_patterns] if np.asarray(brain_patterns[0]).ndim == 1 else list(brain_patterns)
    model = rdm(model_patterns, kind="correlation")
    subject_rdms = np.array([rdm(b, kind=kind) for b in brains])
    scores = np.array([compare_rdms(model, r, method) for r in subject_rdms])
    result = {"model_rdm": model, "brain_rdms": subject_rdms, "scores": scores,
              "score": float(scores.mean())}
    if len(brains) > 1:
        result["noise_ceiling"] = rdm_noise_ceiling(subject_rdms, method)
    return result


def brain_score(features, responses, method="encoding", n_outer=5, ceiling=None, **kwargs):
    """How brain-like a model layer is. "encoding": the mean over targets of the held-out
    Pearson r of an EncodingModel (kwargs: delays, alphas, cv, groups...), divided by
    `ceiling` (per-target ceilings of r, e.g. sqrt(noise_ceiling(...))) when given;
    "rsa": the Spearman comparison of the layer's RDM with the responses' (conditions x
    features and conditions x channels). Ranks a model's layers by brain similarity; a
    score is predictivity, not explanation."""
    if method == "rsa":
        return rsa(features, responses, method=kwargs.get("comparison", "spearman"))["score"]
    kwargs.setdefault("delays", None)
    groups = kwargs.pop("groups", None)
    enc = EncodingModel(**kwargs)
    r = enc.cross_validate(features, responses, n_outer=n_outer, groups=groups)
    if ceiling is not None:
        r = r / np.asarray(ceiling)
    return float(np.nanmean(r))


def permutation_test(estimator, X, y, n_permutations=100, n_outer=5, seed=0):
    """(score, p_value, null) of a decoder (a RidgeCV or LogisticRegressionCV, its
    settings used inside each outer fold): the held-out score of predicting y from X and
    the same for seeded permutations of y (within the estimator's groups)."""
    X = np.asarray(X)
    y = np.asarray(y)
    if isinstance(estimator, LogisticRegressionCV):
        classes, codes = _check_labels(y)
        model = Model("logistic")
        Cs = np.logspace(-4, 4, int(estimator.Cs)) if np.isscalar(estimator.Cs) \
            else np.asarray(estimator.Cs, float)
        alphas, target = 1.0 / Cs, codes
    else:
        model = estimator._make()
        alphas, target = estimator.alphas, y
    with model:
        estimator._configure(model, X, target, None, None)
        model.set_alphas(alphas)
        model.set_param("seed", int(seed))
        return model.permutation_test(X, target, n_permutations, n_outer)


def steering_direction(X, labels, method="mean_difference", n_folds=5):
    """(direction, accuracy): a unit vector in activation space toward class 1 (labels 0
    and 1): the class-mean difference or an L2 logistic readout ("logistic"), with the
    held-out accuracy of classifying by it over n_folds contiguous folds."""
    x = _f32(X, "X", 2)
    lab = np.ascontiguousarray(labels, dtype=np.int32)
    methods = {"mean_difference": 1, "logistic": 2}
    out = np.empty(x.shape[1], dtype=np.float32)
    acc = ctypes.c_double()
    check(lib.btfm_steering_direction(_ptr(out, _F), ctypes.byref(acc), methods[method],
                                      _ptr(x, _F), x.shape[0], x.shape[1],
                                      _ptr(lab, ctypes.c_int32), int(n_folds)))
    return out, acc.value
