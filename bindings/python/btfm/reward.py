"""btfm.reward: RLHB reward heads from annotators' brain signals.

    >>> head = btfm.RewardHead(mode="joint")
    >>> head.fit(features, ratings=ratings, pairs=pairs, annotators=annotators)
    >>> out = head.predict(new_features, annotators=new_annotators)
    >>> out["reward"], out["confidence"], out["penalty"], out["novelty"]

`features` is items x features (float32 is used without a copy when C-contiguous);
`ratings` one value per item, NaN where an item was not rated; `pairs` rows of (chosen,
rejected) item indices; `annotators` one id per item. Cross-validation is always by
annotator. `RewardFeatures` builds the features from a recording and its events in one
call. Method and equations: doc/rlhb.md. Requires numpy.
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
from ._progress import attached
from ._util import enumerate_names, to_cpath

__all__ = ["RewardHead", "RewardFeatures", "BrainEncoder", "MODES", "OUTPUTS", "ROLES",
           "metrics", "pair_scores"]

#: {name: number} of the modes and output columns, read from the library.
MODES = {name: number for number, name
         in enumerate_names(lib.btfm_reward_mode_name, 1).items()}
OUTPUTS = [name for _, name in sorted(enumerate_names(lib.btfm_reward_output_name, 0).items())]
#: Feature roles (bits).
ROLES = {"value": 1, "confidence": 2, "penalty": 4, "novelty": 8}
_MODE_ALIASES = {"ratings": "ratings_only", "rlhf": "ratings_only", "brain": "brain_only"}
_METRICS = ["pearson", "spearman", "pairwise_accuracy", "ece", "n"]

_F = ctypes.c_float
_D = ctypes.c_double
_I64 = ctypes.c_int64


def _need_numpy():
    if np is None:
        raise ImportError("btfm.reward needs numpy")


def _array(data, what, dtype, ndim):
    """A C-contiguous array of `dtype` (no copy when it already is one). Accepts numpy
    arrays, sequences and objects with __array__ or the buffer protocol (a CPU torch
    tensor of the same dtype is used in place)."""
    _need_numpy()
    if hasattr(data, "detach") and hasattr(data, "numpy"):  # a torch tensor
        data = data.detach().cpu().numpy()
    arr = np.asarray(data)
    if arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension{'s' if ndim > 1 else ''}, got "
                         f"shape {arr.shape}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, not dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=dtype)


def _ptr(arr, ctype):
    return None if arr is None else arr.ctypes.data_as(ctypes.POINTER(ctype))


def _mode_number(mode) -> int:
    name = _MODE_ALIASES.get(mode, mode)
    if name not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    return MODES[name]


def _annotators(annotators, n, what="annotators"):
    if annotators is None:
        raise ValueError(f"{what} is required: one annotator id per item (cross-validation "
                         "and normalization are by annotator)")
    a = np.asarray(annotators)
    if a.dtype.kind not in "iu":
        # Any hashable ids (names, strings): numbered in order of first appearance.
        ids = {}
        a = np.array([ids.setdefault(v, len(ids)) for v in a.tolist()], dtype=np.int64)
    a = np.ascontiguousarray(a, dtype=np.int64)
    if a.shape != (n,):
        raise ValueError(f"{what} must hold one id per item ({n}), got shape {a.shape}")
    return a


class RewardHead(ParamsMixin, Handle):
    """A reward head (btfm_reward_head). `mode` is "ratings_only" (the RLHF baseline),
    "brain_only" or "joint"; keyword arguments set parameters
    (btfm.param_info("reward_head"): folds, n_alphas, alpha_min, alpha_max, normalize,
    use_confidence, penalty_quantile, reliability)."""

    _type_name = "btfm.RewardHead"
    _free = lib.btfm_reward_head_free
    _param_kind = "reward_head"
    _set_param_func = "btfm_reward_head_set_param"
    _get_param_func = "btfm_reward_head_get_param"

    def __init__(self, mode: str = "joint", **params):
        ptr = ctypes.c_void_p()
        check(lib.btfm_reward_head_new(ctypes.byref(ptr), _mode_number(mode)))
        super().__init__(ptr)
        for name, value in params.items():
            self.set_param(name, value)

    @property
    def mode(self) -> str:
        number = self.get_param("mode")
        return {v: k for k, v in MODES.items()}[number]

    @mode.setter
    def mode(self, mode: str) -> None:
        self.set_param("mode", _mode_number(mode))

    def fit(self, features, ratings=None, pairs=None, annotators=None, *,
            rating_confidence=None, pair_weight=None, items=None, roles=None,
            feature_config=None, progress=None) -> "RewardHead":
        """Fit on `features` (items x features). ratings: one per item, NaN where none;
        pairs: (n_pairs, 2) rows of (chosen, rejected) item indices; annotators: one id
        per item (any hashable). rating_confidence weights ratings; pair_weight weights
        pairs (a margin or a confidence); items: item ids (the same id for the same item
        seen by several annotators); roles: per-feature bits or names of ROLES;
        in ratings_only mode pairs also label the items without a rating (their
        pair_scores, standardized within annotators);
        feature_config: RewardFeatures.config, saved and checked at prediction."""
        x = _array(features, "features", np.float32, 2)
        n = x.shape[0]
        a = _annotators(annotators, n)
        r = c = p = w = it = ro = None
        if ratings is not None:
            r = _array(ratings, "ratings", np.float32, 1)
            if rating_confidence is not None:
                c = _array(rating_confidence, "rating_confidence", np.float32, 1)
                if c.shape != r.shape:
                    raise ValueError("rating_confidence must match ratings in length")
        if pairs is not None:
            p = _array(pairs, "pairs", np.int64, 2)
            if p.shape[1] != 2:
                raise ValueError(f"pairs must be (n_pairs, 2), got shape {p.shape}")
            if pair_weight is not None:
                w = _array(pair_weight, "pair_weight", np.float32, 1)
                if w.shape[0] != p.shape[0]:
                    raise ValueError("pair_weight must have one value per pair")
        if items is not None:
            it = _array(items, "items", np.int64, 1)
        if roles is not None:
            ro = _roles(roles, x.shape[1])
        with self._lock:
            ptr = self._require_open()
            check(lib.btfm_reward_head_set_ratings(ptr, _ptr(r, _F), _ptr(c, _F),
                                                   0 if r is None else r.shape[0]))
            check(lib.btfm_reward_head_set_pairs(ptr, _ptr(p, _I64), _ptr(w, _F),
                                                 0 if p is None else p.shape[0]))
            check(lib.btfm_reward_head_set_items(ptr, _ptr(it, _I64),
                                                 0 if it is None else it.shape[0]))
            check(lib.btfm_reward_head_set_roles(ptr, _ptr(ro, ctypes.c_int32),
                                                 0 if ro is None else ro.shape[0]))
            check(lib.btfm_reward_head_set_feature_config(
                ptr, None if feature_config is None else feature_config.encode()))
            with attached(lib.btfm_reward_head_set_progress, ptr, progress):
                check(lib.btfm_reward_head_fit(ptr, _ptr(x, _F), n, x.shape[1],
                                               _ptr(a, _I64)))
        return self

    @property
    def fitted(self) -> bool:
        return bool(check(self._invoke(lib.btfm_reward_head_is_fitted)))

    @property
    def n_features(self) -> int:
        return int(check(self._invoke(lib.btfm_reward_head_n_features)))

    def predict(self, features, annotators=None, ratings=None, *, mode=None,
                feature_config=None) -> dict:
        """Score items: a dict of numpy float32 arrays "reward", "sd", "confidence",
        "penalty", "novelty" (one value per item). Give each annotator's items in one call
        (at least two: features are normalized within annotators). ratings (NaN where
        none) enter the ratings_only and joint modes. `mode` overrides the head's for this
        call; `feature_config` is checked against the fit's."""
        x = _array(features, "features", np.float32, 2)
        n = x.shape[0]
        a = _annotators(annotators, n)
        r = None if ratings is None else _array(ratings, "ratings", np.float32, 1)
        out = np.empty((n, len(OUTPUTS)), dtype=np.float32)
        with self._lock:
            ptr = self._require_open()
            if feature_config is not None:
                check(lib.btfm_reward_head_check_config(ptr, feature_config.encode()))
            old = None
            if mode is not None:
                old = self.get_param("mode")
                self.set_param("mode", _mode_number(mode))
            try:
                check(lib.btfm_reward_head_predict(ptr, _ptr(out, _F), out.size, _ptr(x, _F),
                                                   n, x.shape[1], _ptr(a, _I64), _ptr(r, _F)))
            finally:
                if old is not None:
                    self.set_param("mode", old)
        return {name: out[:, k].copy() for k, name in enumerate(OUTPUTS)}

    def reward(self, features, annotators=None, ratings=None):
        """The reward alone (numpy float32), for a host's training loop."""
        return self.predict(features, annotators, ratings)["reward"]

    @property
    def summary(self) -> dict:
        """What the fit estimated: reliability of a rating, the brain decoder's slope and
        noise variance on the latent reward, the chosen ridge penalty."""
        vals = [ctypes.c_double() for _ in range(4)]
        check(self._invoke(lib.btfm_reward_head_summary, *[ctypes.byref(v) for v in vals]))
        return dict(zip(["reliability", "brain_slope", "brain_noise", "alpha"],
                        [v.value for v in vals]))

    @property
    def weights(self):
        """(weights, intercept) of the reward decoder on standardized features."""
        out = np.empty(self.n_features, dtype=np.float32)
        b = ctypes.c_double()
        check(self._invoke(lib.btfm_reward_head_weights, _ptr(out, _F), out.size,
                           ctypes.byref(b)))
        return out, b.value

    def check_config(self, config: str) -> None:
        """Raise btfm.Error when `config` differs from the features the head was fitted on."""
        check(self._invoke(lib.btfm_reward_head_check_config, config.encode()))

    def save(self, path) -> None:
        check(self._invoke(lib.btfm_reward_head_save, to_cpath(path)))

    def to_bytes(self) -> bytes:
        """The fitted head as the bytes save() writes (for a host's checkpoint)."""
        return self._serialize(lib.btfm_reward_head_save_buffer)

    @classmethod
    def load(cls, path) -> "RewardHead":
        return cls._open_with(lib.btfm_reward_head_load, ctypes.c_void_p, to_cpath(path))

    @classmethod
    def from_bytes(cls, data) -> "RewardHead":
        data = bytes(data)
        return cls._open_with(lib.btfm_reward_head_load_buffer, ctypes.c_void_p, data,
                              len(data))

    def __repr__(self):
        if self.closed:
            return "<btfm.RewardHead closed>"
        state = f"fitted on {self.n_features} features" if self.fitted else "not fitted"
        return f"<btfm.RewardHead {self.mode}, {state}>"


def _roles(roles, d):
    if isinstance(roles, (list, tuple)) and roles and isinstance(roles[0], (str, list, tuple, set)):
        bits = []
        for r in roles:
            names = [r] if isinstance(r, str) else list(r)
            bits.append(sum(ROLES[name] for name in names))
        roles = bits
    ro = _array(roles, "roles", np.int32, 1)
    if ro.shape[0] != d:
        raise ValueError(f"roles must have one entry per feature ({d}), got {ro.shape[0]}")
    return ro


def pair_scores(pairs, n_items, weight=None, alpha=1.0):
    """Each item's Bradley-Terry strength from pairwise preferences alone (float32, NaN
    for items in no pair): pairs are (chosen, rejected) rows of item indices, weight one
    value per pair, alpha the ridge penalty (a Gaussian prior of variance 1 / alpha). The
    same model as scikit-learn's LogisticRegression(C=1 / alpha, fit_intercept=False) on
    the one-hot difference vectors. What ratings-only mode learns from pairs: pass these
    as the ratings of items labelled by preferences when predicting."""
    p = _array(pairs, "pairs", np.int64, 2)
    if p.shape[1] != 2:
        raise ValueError(f"pairs must be (n_pairs, 2), got shape {p.shape}")
    w = None
    if weight is not None:
        w = _array(weight, "weight", np.float32, 1)
        if w.shape[0] != p.shape[0]:
            raise ValueError("weight must have one value per pair")
    out = np.empty(int(n_items), dtype=np.float32)
    check(lib.btfm_reward_pair_scores(_ptr(out, _F), out.size, out.size, _ptr(p, _I64),
                                      _ptr(w, _F), p.shape[0], float(alpha)))
    return out


class BrainEncoder:
    """The other direction: predict annotators' brain features (and ratings) from the
    host's item embeddings, for an auxiliary brain-prediction loss or synthetic annotators.

        >>> enc = btfm.reward.BrainEncoder(folds=5).fit(embeddings, features, items,
        ...                                             annotators, ratings=ratings)
        >>> enc.held_out_r_              # per feature, on items the fit never saw
        >>> enc.predict(new_embeddings)  # {"features": (n, d), "rating": (n,)}
        >>> enc.synthesize(new_embeddings, seed=3)  # one synthetic annotator's responses

    `embeddings` is items x dim; row r of `features` (rows x features) shows item
    items[r] (a row of embeddings) to annotators[r]. Features are z-scored within each
    annotator, ratings likewise; one ridge per target (penalty from `alphas` by
    cross-validation over `folds` folds of whole items; btfm_reward_encoder_fit). The
    fitted btfm.model.Model objects are `model_` and `rating_model_` (save them, or use
    their full API)."""

    def __init__(self, folds: int = 5, alphas=None, noise_rank: int = 0):
        _need_numpy()
        self.folds = int(folds)
        self.alphas = np.logspace(-2, 6, 17) if alphas is None else np.asarray(alphas, float)
        self.noise_rank = int(noise_rank)
        self.model_ = self.rating_model_ = None
        self.held_out_r_ = self.rating_held_out_r_ = None

    def _fit_one(self, emb, targets, items, annot, noise_rank, progress):
        from .model import Model
        model = Model("ridge", noise_rank=noise_rank)
        model.set_alphas(self.alphas)
        r = np.empty(targets.shape[1])
        model._fit_call(lib.btfm_reward_encoder_fit, progress, _ptr(r, _D), r.size,
                        _ptr(emb, _F), emb.shape[0], emb.shape[1], _ptr(items, _I64),
                        _ptr(targets, _F), targets.shape[0], targets.shape[1],
                        _ptr(annot, _I64), self.folds)
        return model, r

    def fit(self, embeddings, features, items, annotators, ratings=None, *,
            progress=None) -> "BrainEncoder":
        emb = _array(embeddings, "embeddings", np.float32, 2)
        x = _array(features, "features", np.float32, 2)
        n = x.shape[0]
        it = _array(items, "items", np.int64, 1)
        if it.shape[0] != n:
            raise ValueError(f"items must hold one embedding row per feature row ({n})")
        a = _annotators(annotators, n)
        self.model_, self.held_out_r_ = self._fit_one(emb, x, it, a, self.noise_rank, progress)
        self.rating_model_ = self.rating_held_out_r_ = None
        if ratings is not None:
            y = _array(ratings, "ratings", np.float32, 1)
            if y.shape[0] != n:
                raise ValueError(f"ratings must hold one value per row ({n}), NaN where none")
            rated = ~np.isnan(y)
            model, r = self._fit_one(emb, np.ascontiguousarray(y[rated, None]),
                                     np.ascontiguousarray(it[rated]),
                                     np.ascontiguousarray(a[rated]), 0, progress)
            self.rating_model_, self.rating_held_out_r_ = model, float(r[0])
        return self

    def _models(self):
        if self.model_ is None:
            raise RuntimeError("BrainEncoder: fit it first")
        return [("features", self.model_), ("rating", self.rating_model_)]

    def predict(self, embeddings) -> dict:
        """Each item's expected response: {"features": (n, d), "rating": (n,)} in the
        standardized units of the fit (the rating only when fitted with ratings)."""
        emb = _array(embeddings, "embeddings", np.float32, 2)
        out = {}
        for name, model in self._models():
            if model is not None:
                p = model.predict(emb)
                out[name] = p[:, 0] if name == "rating" else p
        return out

    def synthesize(self, embeddings, seed: int = 0, noise: str = "independent") -> dict:
        """One synthetic annotator's single-trial responses to the items (a prediction
        plus noise like the fit's residuals; "low_rank" needs noise_rank > 0): the same
        keys as predict; another seed is another annotator."""
        emb = _array(embeddings, "embeddings", np.float32, 2)
        out = {}
        for k, (name, model) in enumerate(self._models()):
            if model is not None:
                p = model.synthesize(emb, noise=noise if name == "features" else "independent",
                                     seed=int(seed) * 2 + k)
                out[name] = p[:, 0] if name == "rating" else p
        return out


def metrics(reward, truth, confidence=None, annotators=None) -> dict:
    """Pearson, Spearman, pairwise accuracy and ECE of rewards against a truth (held-out
    ratings or a latent reward; NaN truth is left out): {"pooled": {...}} plus
    "per_annotator": {id: {...}} when annotators are given."""
    r = _array(reward, "reward", np.float32, 1)
    t = _array(truth, "truth", np.float32, 1)
    n = r.shape[0]
    if t.shape[0] != n:
        raise ValueError("truth must match reward in length")
    c = None if confidence is None else _array(confidence, "confidence", np.float32, 1)
    ids = None
    a = None
    if annotators is not None:
        ids = list(dict.fromkeys(np.asarray(annotators).tolist()))
        a = _annotators(annotators, n)
    rows = 1 + (len(ids) if ids else 0)
    out = np.empty((rows, len(_METRICS)))
    groups = ctypes.c_int64()
    check(lib.btfm_reward_metrics(_ptr(out, _D), out.size, ctypes.byref(groups), _ptr(r, _F),
                                  _ptr(c, _F), _ptr(t, _F), _ptr(a, _I64), n))
    as_dict = lambda row: dict(zip(_METRICS, [float(v) for v in row]))
    result = {"pooled": as_dict(out[0])}
    if ids:
        result["per_annotator"] = {ids[g]: as_dict(out[g + 1]) for g in range(len(ids))}
    return result


class RewardFeatures(ParamsMixin, Handle):
    """Features of a recording for a reward head (btfm_reward_features): one row per
    `event` ("item_end", or "gaze" for a row per segment), ERP window means, theta and
    alpha power and the novelty window after `onset_event`; parameters as keyword
    arguments (btfm.param_info("reward_features")). `aligner` (a fitted btfm.Aligner) and
    `subject` compute them in its shared space.

        >>> fb = btfm.RewardFeatures().compute(btfm.bids.open(root).open_recording(0))
        >>> fb.matrix, fb.roles, fb.names, fb.config
    """

    _type_name = "btfm.RewardFeatures"
    _free = lib.btfm_reward_features_free
    _param_kind = "reward_features"
    _set_param_func = "btfm_reward_features_set_param"
    _get_param_func = "btfm_reward_features_get_param"

    def __init__(self, event: str = "item_end", onset_event: str | None = "item_onset",
                 aligner=None, subject: int = 0, **params):
        ptr = ctypes.c_void_p()
        check(lib.btfm_reward_features_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        check(self._invoke(lib.btfm_reward_features_set_events, event.encode(),
                           None if onset_event is None else onset_event.encode()))
        if aligner is not None:
            with aligner._lock:
                check(self._invoke(lib.btfm_reward_features_set_aligner,
                                   aligner._require_open(), int(subject)))
        for name, value in params.items():
            self.set_param(name, value)

    def compute(self, dataset, progress=None) -> "RewardFeatures":
        """Build the features of `dataset` (a btfm.Dataset with events)."""
        self._dataset = dataset
        with self._lock, dataset._lock:
            ptr = self._require_open()
            with attached(lib.btfm_reward_features_set_progress, ptr, progress):
                check(lib.btfm_reward_features_compute(ptr, dataset._require_open()))
        return self

    @property
    def shape(self):
        return (int(check(self._invoke(lib.btfm_reward_features_n_rows))),
                int(check(self._invoke(lib.btfm_reward_features_n_features))))

    @property
    def matrix(self):
        """rows x features, float32."""
        out = np.empty(self.shape, dtype=np.float32)
        check(self._invoke(lib.btfm_reward_features_matrix, _ptr(out, _F), out.size))
        return out

    @property
    def roles(self):
        out = np.empty(self.shape[1], dtype=np.int32)
        check(self._invoke(lib.btfm_reward_features_roles, _ptr(out, ctypes.c_int32), out.size))
        return out

    @property
    def names(self) -> list:
        return [self._invoke(lib.btfm_reward_features_name, j).decode()
                for j in range(self.shape[1])]

    @property
    def config(self) -> str:
        value = self._invoke(lib.btfm_reward_features_config)
        check(0 if value is not None else -1)
        return value.decode()

    @property
    def events(self):
        """The dataset event index of each row."""
        out = np.empty(self.shape[0], dtype=np.int64)
        check(self._invoke(lib.btfm_reward_features_events, _ptr(out, _I64), out.size))
        return out

    @property
    def epochs(self):
        """rows x times x sources float32: the filtered, baselined epochs."""
        t = ctypes.c_int64()
        s = ctypes.c_int()
        check(self._invoke(lib.btfm_reward_features_epochs, None, 0, ctypes.byref(t),
                           ctypes.byref(s)))
        out = np.empty((self.shape[0], t.value, s.value), dtype=np.float32)
        check(self._invoke(lib.btfm_reward_features_epochs, _ptr(out, _F), out.size,
                           ctypes.byref(t), ctypes.byref(s)))
        return out

    def column(self, name: str, dataset=None):
        """A numeric events.tsv column ("item_id", "segment", ...) per row (NaN: n/a)."""
        dataset = dataset if dataset is not None else self._dataset
        out = np.empty(self.shape[0])
        with dataset._lock:
            check(self._invoke(lib.btfm_reward_features_column, dataset._require_open(),
                               name.encode(), _ptr(out, _D), out.size))
        return out
