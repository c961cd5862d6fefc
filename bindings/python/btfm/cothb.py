"""btfm.CoTHB: the branching controller for reasoning search (doc/cothb.md).

The controller says what to do next (extend the current path, branch, decompose a step
into a sub-problem, return, retrieve a monitored path, confirm, answer, stop); the host
does it and reports the new node and its signals:

    with btfm.CoTHB(max_steps=200, seed=1) as c:
        for action in c:                       # ends after "answer" or "stop"
            if action.expands:
                node = c.add_node(action.node)
                c.observe(node, reliability=verifier(node), terminal=is_done(node))
        print(c.trace())                       # every action and signal, as dicts
"""

from __future__ import annotations

import collections
import ctypes
import json
import math

from ._errors import check
from ._handle import Handle
from ._lib import lib
from ._params import ParamsMixin, param_info
from ._progress import attached
from ._util import enumerate_names, from_cstr, to_cpath

__all__ = ["CoTHB", "CoTHBTuner", "Action", "NodeInfo", "Answer", "Strategy", "COTHB_ACTIONS",
           "COTHB_SIGNALS", "COTHB_DECISIONS", "CALIBRATIONS", "signal_quality"]


# The handle travels as a void pointer (declared so in _lib._SIGNATURES).
CoTHBPtr = ctypes.c_void_p

#: {number: name} of actions, signal slots, node statuses and human decisions, read from
#: the library so new ones appear without a change here.
COTHB_ACTIONS = {k: v for k, v in enumerate_names(lib.btfm_cothb_action_name, 1).items()}
COTHB_SIGNALS = [name for _, name in sorted(enumerate_names(lib.btfm_cothb_signal_name, 0).items())]
_STATUSES = enumerate_names(lib.btfm_cothb_status_name, 0)
COTHB_DECISIONS = [name for _, name in
                   sorted(enumerate_names(lib.btfm_cothb_decision_name, 0).items())]
#: Reliability calibration methods: ["none", "platt", "isotonic"].
CALIBRATIONS = [name for _, name in
                sorted(enumerate_names(lib.btfm_cothb_calibration_name, 0).items())]
_QUALITY = [lib.btfm_cothb_quality_name(i).decode() for i in range(lib.btfm_cothb_quality_count())]
_EXPANSIONS = {"extend", "branch", "decompose"}
_FINAL = {"answer", "stop"}

Action = collections.namedtuple("Action", ["action", "node", "target"])
Action.__doc__ = """What the controller asks for: action name ("extend", "branch",
"decompose", "return", "retrieve", "confirm", "answer", "stop"), the node it concerns and
a second node (-1 if none): where a "return" lands, the path a "retrieve"/"confirm" left."""
Action.expands = property(lambda self: self.action in _EXPANSIONS,
                          doc="True when the host must add a node (extend/branch/decompose).")
Action.final = property(lambda self: self.action in _FINAL,
                        doc='True for "answer" and "stop": the search is over.')

NodeInfo = collections.namedtuple("NodeInfo",
                                  ["parent", "level", "status", "depth", "n_children"])

_STEP_FN = lib.btfm_cothb_run.argtypes[1]  # btfm_cothb_step_fn
_EPISODE_FN = lib.btfm_cothb_tuner_run.argtypes[2]  # btfm_cothb_episode_fn

Answer = collections.namedtuple("Answer", ["answer", "node", "probability", "paths"])
Answer.__doc__ = """One answer of the reliability-weighted vote: the host's answer key (the
terminal's id when it named none), its most probable terminal node, the estimated
probability that it is right and the number of finished paths that reached it."""

Strategy = collections.namedtuple("Strategy", ["reliability", "state"])
Strategy.__doc__ = """A strategy of the monitored set: its reliability (NaN once forgotten)
and its state ("forgotten", "monitored", "actor" or "probe")."""
_STRATEGY_STATES = ["forgotten", "monitored", "actor", "probe"]
_TUNING = [name for _, name in sorted(enumerate_names(lib.btfm_cothb_tuning_name, 0).items())]


def _signal_array(signals, named):
    """A ctypes double array from a sequence, a dict name -> value, and/or keywords."""
    values = [math.nan] * len(COTHB_SIGNALS)
    if signals is not None:
        if isinstance(signals, dict):
            named = {**signals, **named}
        else:
            seq = [float(v) for v in signals]
            if len(seq) > len(values):
                raise ValueError(f"got {len(seq)} signals; the library knows {len(values)}: "
                                 f"{', '.join(COTHB_SIGNALS)}")
            values[:len(seq)] = seq
    for name, value in named.items():
        if name not in COTHB_SIGNALS:
            raise ValueError(f"unknown signal {name!r}; known: {', '.join(COTHB_SIGNALS)}")
        values[COTHB_SIGNALS.index(name)] = math.nan if value is None else float(value)
    return (ctypes.c_double * len(values))(*values)


def _labelled(scores, correct):
    """ctypes arrays (double scores, int labels) of equal length from sequences."""
    values = [float(v) for v in scores]
    labels = [int(bool(v)) if isinstance(v, bool) else int(v) for v in correct]
    if len(values) != len(labels):
        raise ValueError(f"{len(values)} scores but {len(labels)} labels")
    return ((ctypes.c_double * len(values))(*values), (ctypes.c_int * len(labels))(*labels),
            len(values))


def _calibration_code(method) -> int:
    if isinstance(method, str):
        if method not in CALIBRATIONS:
            raise ValueError(f"unknown calibration {method!r}; known: {', '.join(CALIBRATIONS)}")
        return CALIBRATIONS.index(method)
    return int(method)


def signal_quality(scores, correct, method="isotonic", folds=5) -> dict:
    """Is a reliability signal worth using? From labelled steps (scores: raw host scores;
    correct: 1 if the step was correct, else 0) a dict with "n", "base_rate", "auc" (with
    a 95% interval "auc_low", "auc_high"), "dprime" (sqrt(2) Phi^-1(AUC)), "ece_raw" (the
    raw scores' expected calibration error, NaN unless they lie in [0, 1]) and, for the
    calibration `method` ("none", "platt", "isotonic") fitted on folds - 1 folds and
    applied to the held-out one (step i in fold i % folds), "ece", "brier" (next to
    "brier_base_rate", always saying the base rate) and "log_loss"."""
    s, y, n = _labelled(scores, correct)
    out = (ctypes.c_double * len(_QUALITY))()
    check(lib.btfm_cothb_signal_quality(s, y, n, _calibration_code(method), int(folds), out,
                                        len(_QUALITY)))
    return dict(zip(_QUALITY, out))


class CoTHB(ParamsMixin, Handle):
    """The CoTHB controller. Keyword arguments set parameters (btfm.param_info("cothb")):
    CoTHB(continue_threshold=0.8, max_steps=500, seed=3).

    Pull API: next() -> Action; add_node(parent) -> id; observe(id, reliability=..., ...).
    Iterating yields actions until "answer" or "stop" (the host adds the node of each
    expanding action before asking for the next). run(step) drives it with a callback.
    """

    _type_name = "btfm.CoTHB"
    _free = lib.btfm_cothb_free
    _param_kind = "cothb"
    _set_param_func = "btfm_cothb_set_param"
    _get_param_func = "btfm_cothb_get_param"

    def __init__(self, **params):
        ptr = CoTHBPtr()
        check(lib.btfm_cothb_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        for name, value in params.items():
            self.set_param(name, value)

    def next(self) -> Action:
        """The next action (btfm.Error BTFM_E_STATE if a node is still owed or the search
        is over)."""
        action, node, target = ctypes.c_int(), ctypes.c_int64(), ctypes.c_int64()
        check(self._invoke(lib.btfm_cothb_next, ctypes.byref(action), ctypes.byref(node),
                           ctypes.byref(target)))
        return Action(COTHB_ACTIONS.get(action.value, str(action.value)), node.value,
                      target.value)

    def __iter__(self):
        while True:
            action = self.next()
            yield action
            if action.final:
                return

    def add_node(self, parent: int) -> int:
        """Add the node the pending extend/branch/decompose asked for; returns its id."""
        new_id = ctypes.c_int64()
        check(self._invoke(lib.btfm_cothb_add_node, int(parent), ctypes.byref(new_id)))
        return new_id.value

    def observe(self, node: int, signals=None, **named) -> None:
        """Report signals for `node`: a sequence in slot order, a dict, or keywords
        (reliability=0.9, outcome=1, terminal=True ...). Missing ones are not observed;
        each value must lie in [0, 1]."""
        values = _signal_array(signals, named)
        check(self._invoke(lib.btfm_cothb_observe, int(node), values, len(values)))

    def run(self, step) -> Action:
        """Drive the search to its end with a callback, step(action, new_node) -> signals.

        `step` is called once for every action, the final "answer" or "stop" included
        (then new_node is -1 and what it returns is ignored). `action` is the Action
        next() would have returned, target included. For "extend", "branch" and
        "decompose" the controller has already added `new_node` (a child of
        action.node) and step returns its signals (a dict name -> value, a sequence in
        slot order, or None); for other actions new_node is -1. An exception raised by
        step stops the run and is raised again here. Returns the final action."""
        failure = []
        ptr_holder = []

        def trampoline(action, node, new_node, signals, n_signals, _user):
            try:
                target = ctypes.c_int64(-1)
                check(lib.btfm_cothb_last_action(ptr_holder[0], None, None,
                                                 ctypes.byref(target)))
                act = Action(COTHB_ACTIONS.get(action, str(action)), node, target.value)
                given = step(act, new_node)
                if new_node >= 0 and given:
                    values = _signal_array(given, {})
                    for i in range(min(n_signals, len(values))):
                        signals[i] = values[i]
                return 0
            except BaseException as exc:  # noqa: BLE001 - re-raised after the C call
                failure.append(exc)
                return -1

        callback = _STEP_FN(trampoline)
        action, node = ctypes.c_int(), ctypes.c_int64()
        with self._lock:
            ptr_holder.append(self._require_open())
            status = lib.btfm_cothb_run(ptr_holder[0], callback, ctypes.byref(action),
                                        ctypes.byref(node), None)
        if failure:
            raise failure[0]
        check(status)
        return self.last_action

    @property
    def last_action(self) -> Action:
        """The action next() (or run()) returned last, with its target."""
        action, node, target = ctypes.c_int(), ctypes.c_int64(), ctypes.c_int64()
        check(self._invoke(lib.btfm_cothb_last_action, ctypes.byref(action),
                           ctypes.byref(node), ctypes.byref(target)))
        return Action(COTHB_ACTIONS.get(action.value, str(action.value)), node.value,
                      target.value)

    def __len__(self) -> int:
        return check(self._invoke(lib.btfm_cothb_n_nodes))

    def node(self, node: int) -> NodeInfo:
        """Parent, level, status name, depth and number of children of a node."""
        parent, level, status = ctypes.c_int64(), ctypes.c_int(), ctypes.c_int()
        depth, children = ctypes.c_int(), ctypes.c_int()
        check(self._invoke(lib.btfm_cothb_node_info, int(node), ctypes.byref(parent),
                           ctypes.byref(level), ctypes.byref(status), ctypes.byref(depth),
                           ctypes.byref(children)))
        return NodeInfo(parent.value, level.value, _STATUSES.get(status.value, status.value),
                        depth.value, children.value)

    def reliability(self, node: int) -> float:
        """The reliability the policy uses for `node`."""
        value = ctypes.c_double()
        check(self._invoke(lib.btfm_cothb_reliability, int(node), ctypes.byref(value)))
        return value.value

    def posterior(self, node: int) -> tuple:
        """(a, b) of the Beta posterior of the node's step success."""
        a, b = ctypes.c_double(), ctypes.c_double()
        check(self._invoke(lib.btfm_cothb_posterior, int(node), ctypes.byref(a),
                           ctypes.byref(b)))
        return a.value, b.value

    @property
    def progress(self) -> tuple:
        """(current leaf, steps taken, cost spent)."""
        cur, steps, cost = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_double()
        check(self._invoke(lib.btfm_cothb_progress, ctypes.byref(cur), ctypes.byref(steps),
                           ctypes.byref(cost)))
        return cur.value, steps.value, cost.value

    def calibrate(self, features, decisions, l2: float = 1.0) -> None:
        """Fit the logistic policy to human decisions. `features`: rows of signal values
        (column j = signal slot j, 1 to 7 columns, values in [0, 1]); `decisions`:
        "continue", "switch", "explore" (or 0, 1, 2). Same objective as scikit-learn's
        LogisticRegression(C=1/l2); switches the policy parameter to 1."""
        rows = [[float(v) for v in row] for row in features]
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise ValueError("features must be a non-empty table with rows of equal length")
        codes = [COTHB_DECISIONS.index(d) if isinstance(d, str) else int(d) for d in decisions]
        if len(codes) != len(rows):
            raise ValueError(f"{len(rows)} feature rows but {len(codes)} decisions")
        n_features = len(rows[0])
        flat = (ctypes.c_double * (len(rows) * n_features))(*[v for r in rows for v in r])
        labels = (ctypes.c_int * len(codes))(*codes)
        check(self._invoke(lib.btfm_cothb_calibrate, flat, len(rows), n_features, labels,
                           float(l2)))

    def calibrate_reliability(self, scores, correct, method="platt") -> None:
        """Fit the map from raw host scores to P(step correct) on labelled steps
        ("platt" or "isotonic"; "none" clears it). observe_score() then maps raw scores
        through it."""
        s, y, n = _labelled(scores, correct)
        check(self._invoke(lib.btfm_cothb_calibrate_reliability, _calibration_code(method), s, y,
                           n))

    def reliability_of_score(self, score: float) -> float:
        """P(step correct) for a raw score through the fitted calibration."""
        value = ctypes.c_double()
        check(self._invoke(lib.btfm_cothb_reliability_of_score, float(score),
                           ctypes.byref(value)))
        return value.value

    def observe_score(self, node: int, score: float, signal: str = "reliability") -> None:
        """Observe a raw score for `node` in a signal slot, through the calibration."""
        if signal not in COTHB_SIGNALS:
            raise ValueError(f"unknown signal {signal!r}; known: {', '.join(COTHB_SIGNALS)}")
        check(self._invoke(lib.btfm_cothb_observe_score, int(node), COTHB_SIGNALS.index(signal),
                           float(score)))

    def calibrate_features(self, features, correct, l2: float = 1.0) -> None:
        """Fit P(step correct | features) on labelled steps: features (n_steps x
        n_features; ERN amplitude, band powers, pupil size... in any units), correct (1 or
        0 per step), through the model layer's logistic regression on standardized
        features (scikit-learn's StandardScaler + LogisticRegression(C=1/l2))."""
        from .model import _f32, _ptr, np  # numpy is needed here only
        x = _f32(features, "features", 2)
        y = np.ascontiguousarray(np.asarray(correct).astype(np.int32))
        if y.shape != (x.shape[0],):
            raise ValueError(f"correct must hold one label per row of features "
                             f"({x.shape[0]}), got shape {y.shape}")
        check(self._invoke(lib.btfm_cothb_calibrate_features, _ptr(x, ctypes.c_float),
                           x.shape[0], x.shape[1], _ptr(y, ctypes.c_int32), float(l2)))

    def reliability_of_features(self, features) -> float:
        """P(step correct) for one step's features through the feature calibration."""
        from .model import _f32, _ptr
        x = _f32(features, "features", 1)
        value = ctypes.c_double()
        check(self._invoke(lib.btfm_cothb_reliability_of_features, ctypes.byref(value),
                           _ptr(x, ctypes.c_float), x.shape[0]))
        return value.value

    def observe_features(self, node: int, features, signal: str = "reliability") -> None:
        """Observe one step's features for `node` in a signal slot, through the feature
        calibration."""
        from .model import _f32, _ptr
        if signal not in COTHB_SIGNALS:
            raise ValueError(f"unknown signal {signal!r}; known: {', '.join(COTHB_SIGNALS)}")
        x = _f32(features, "features", 1)
        check(self._invoke(lib.btfm_cothb_observe_features, int(node),
                           COTHB_SIGNALS.index(signal), _ptr(x, ctypes.c_float), x.shape[0]))

    @property
    def feature_calibration(self) -> dict | None:
        """{"weights": per feature in its units, "intercept", "dprime" (held-out)} of the
        feature calibration, or None without one."""
        with self._lock:
            ptr = self._require_open()
            n = check(lib.btfm_cothb_n_features(ptr))
            if not n:
                return None
            w, b, d = (ctypes.c_double * n)(), ctypes.c_double(), ctypes.c_double()
            check(lib.btfm_cothb_feature_weights(ptr, w, n, ctypes.byref(b), ctypes.byref(d)))
        return {"weights": list(w), "intercept": b.value, "dprime": d.value}

    def policy(self, head: int = 0) -> tuple:
        """(weights per signal slot, bias) of head 0 (continue vs leave) or 1 (switch vs
        explore)."""
        n = len(COTHB_SIGNALS)
        weights, bias = (ctypes.c_double * n)(), ctypes.c_double()
        check(self._invoke(lib.btfm_cothb_policy, int(head), weights, n, ctypes.byref(bias)))
        return list(weights), bias.value

    def trace_jsonl(self) -> str:
        """Every action, added node and observation so far, as JSON Lines."""
        with self._lock:
            ptr = self._require_open()
            size = ctypes.c_size_t()
            check(lib.btfm_cothb_trace_jsonl(ptr, None, 0, ctypes.byref(size)))
            buf = ctypes.create_string_buffer(size.value + 1)
            check(lib.btfm_cothb_trace_jsonl(ptr, buf, size.value + 1, ctypes.byref(size)))
        return buf.raw[:size.value].decode("utf-8")

    def trace(self) -> list:
        """The trace as a list of dicts (one per JSON line)."""
        return [json.loads(line) for line in self.trace_jsonl().splitlines()]

    def save(self, path) -> None:
        """Save the whole state (kind "cothb" container, written atomically)."""
        check(self._invoke(lib.btfm_cothb_save, to_cpath(path)))

    def to_bytes(self) -> bytes:
        """The whole state as the bytes save() would write."""
        return self._serialize(lib.btfm_cothb_save_buffer)

    @classmethod
    def load(cls, path) -> "CoTHB":
        """A controller saved by save(); it continues exactly where it was."""
        return cls._open_with(lib.btfm_cothb_load, CoTHBPtr, to_cpath(path))

    @classmethod
    def from_bytes(cls, data) -> "CoTHB":
        """A controller from to_bytes() output."""
        data = bytes(data)
        return cls._open_with(lib.btfm_cothb_load_buffer, CoTHBPtr, data, len(data))

    def reset(self) -> None:
        """Start a new problem: the search is cleared, the parameters, calibration,
        logistic policy and the statistics of the readings seen so far (from which the
        budget policy estimates the signal's base rate and d') are kept, the random state
        is seeded again."""
        check(self._invoke(lib.btfm_cothb_reset))

    def set_answer(self, node: int, answer: int) -> None:
        """Name the answer a level-0 terminal reached (an integer key, e.g. a hash of the
        answer's text), so paths reaching the same answer vote together."""
        check(self._invoke(lib.btfm_cothb_set_answer, int(node), int(answer)))

    @property
    def answer(self):
        """The voted best answer as an Answer, or None before any path was finished."""
        best = [a for a in self.answers() if a.node == self._best_node()]
        return best[0] if best else None

    def _best_node(self) -> int:
        node = ctypes.c_int64(-1)
        with self._lock:
            status = lib.btfm_cothb_answer(self._require_open(), ctypes.byref(node), None, None)
        return node.value if status == 0 else -2

    def answers(self) -> list:
        """Every answer reached so far with its vote (a list of Answer)."""
        out = []
        with self._lock:
            ptr = self._require_open()
            for i in range(check(lib.btfm_cothb_n_answers(ptr))):
                key, node, paths = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
                p = ctypes.c_double()
                check(lib.btfm_cothb_answer_info(ptr, i, ctypes.byref(key), ctypes.byref(node),
                                                 ctypes.byref(p), ctypes.byref(paths)))
                out.append(Answer(key.value, node.value, p.value, paths.value))
        return out

    def node_strategy(self, node: int) -> int:
        """The strategy number the node's step was asked with (0 until a first probe)."""
        value = ctypes.c_int64()
        check(self._invoke(lib.btfm_cothb_node_strategy, int(node), ctypes.byref(value)))
        return value.value

    def strategies(self) -> list:
        """Every strategy created so far (numbered from 0), as Strategy tuples."""
        out = []
        with self._lock:
            ptr = self._require_open()
            for i in range(check(lib.btfm_cothb_n_strategies(ptr))):
                r, state = ctypes.c_double(), ctypes.c_int()
                check(lib.btfm_cothb_strategy_info(ptr, i, ctypes.byref(r), ctypes.byref(state)))
                out.append(Strategy(r.value, _STRATEGY_STATES[state.value]
                                    if state.value < len(_STRATEGY_STATES) else state.value))
        return out

    def __repr__(self):
        if self.closed:
            return "<btfm.CoTHB closed>"
        current, steps, cost = self.progress
        return f"<btfm.CoTHB {len(self)} nodes, current {current}, {steps} steps, cost {cost:g}>"


class _Borrowed(CoTHB):
    """A controller the library owns for the length of one tuning episode."""

    def close(self) -> None:
        self._ptr = None


class CoTHBTuner(ParamsMixin, Handle):
    """Tune a controller's knobs against task reward (doc/cothb.md, "Tuning").

    CoTHBTuner(problems=500, held_out=500, rounds=2, first_problem=0). add_knob(name,
    values) chooses which parameters are tuned (default: planning, min_dprime,
    continue_threshold, branch_threshold, rechecks, stop_confidence, wrong_answers);
    run(base, episode)
    calls episode(controller, problem) -> reward for each training and held-out problem,
    the controller already set to the setting being tried, and returns the report.
    """

    _type_name = "btfm.CoTHBTuner"
    _free = lib.btfm_cothb_tuner_free
    _param_kind = "cothb_tuner"
    _set_param_func = "btfm_cothb_tuner_set_param"
    _get_param_func = "btfm_cothb_tuner_get_param"

    def __init__(self, **params):
        ptr = ctypes.c_void_p()
        check(lib.btfm_cothb_tuner_new(ctypes.byref(ptr)))
        super().__init__(ptr)
        for name, value in params.items():
            self.set_param(name, value)

    def add_knob(self, name: str, values) -> None:
        """Tune controller parameter `name` over `values` (1 to 64, within its bounds)."""
        names = [p.name for p in param_info("cothb")]
        if name not in names:
            raise ValueError(f"unknown cothb parameter {name!r}; known: {', '.join(names)}")
        vals = [float(v) for v in values]
        arr = (ctypes.c_double * max(len(vals), 1))(*vals)
        check(self._invoke(lib.btfm_cothb_tuner_add_knob, names.index(name), arr, len(vals)))

    def run(self, base: CoTHB, episode, progress=None) -> dict:
        """Tune starting from `base`'s parameters; episode(controller, problem) returns
        the reward (1 right, 0 wrong, or any finite number). The report as a dict
        (train_reward, held_out_reward with its 95% interval, the paired difference to
        the starting setting with its interval, episodes, settings)."""
        failure = []

        def trampoline(ptr, problem, reward, _user):
            try:
                c = _Borrowed._adopt(ptr)
                value = float(episode(c, int(problem)))
                c.close()
                if not math.isfinite(value):
                    raise ValueError(f"episode {problem} returned a non-finite reward {value}")
                reward[0] = value
                return 0
            except BaseException as exc:  # noqa: BLE001 - re-raised after the C call
                failure.append(exc)
                return -15  # BTFM_E_CANCELLED: stop the tuning

        callback = _EPISODE_FN(trampoline)
        with self._lock, base._lock:
            ptr, base_ptr = self._require_open(), base._require_open()
            with attached(lib.btfm_cothb_tuner_set_progress, ptr, progress):
                status = lib.btfm_cothb_tuner_run(ptr, base_ptr, callback, None)
        if failure:
            raise failure[0]
        check(status)
        return self.result

    @property
    def result(self) -> dict:
        """The report of the last run (btfm.Error BTFM_E_STATE before one)."""
        values = (ctypes.c_double * len(_TUNING))()
        check(self._invoke(lib.btfm_cothb_tuner_result, values, len(_TUNING)))
        return dict(zip(_TUNING, list(values)))

    @property
    def knobs(self) -> dict:
        """{parameter name: chosen value} (NaN before a run)."""
        names = [p.name for p in param_info("cothb")]
        out = {}
        with self._lock:
            ptr = self._require_open()
            for i in range(check(lib.btfm_cothb_tuner_n_knobs(ptr))):
                param, chosen = ctypes.c_int(), ctypes.c_double()
                check(lib.btfm_cothb_tuner_knob(ptr, i, ctypes.byref(param), ctypes.byref(chosen)))
                out[names[param.value]] = chosen.value
        return out

    def apply(self, controller: CoTHB) -> None:
        """Set the chosen values on `controller`."""
        with self._lock, controller._lock:
            check(lib.btfm_cothb_tuner_apply(self._require_open(), controller._require_open()))
