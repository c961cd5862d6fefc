"""btfm.CoTHB against independent truth: SciPy's Beta distribution for the inference,
scikit-learn's LogisticRegression for the calibration, Python's json for the trace, and
exact arithmetic for the Game of 24 example's answer."""

import math
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import btfm
from conftest import SOURCE_ROOT, subprocess_env


def chain(c, reliabilities, terminal_last=True):
    """Drive c with the given reliabilities for successive new nodes; actions seen."""
    seen, it = [], iter(reliabilities)
    for action in c:
        seen.append(action)
        if action.expands:
            r = next(it)
            node = c.add_node(action.node)
            last = terminal_last and len([a for a in seen if a.expands]) == len(reliabilities)
            c.observe(node, reliability=r, terminal=1.0 if last else None)
    return seen


def test_params_and_iteration_protocol():
    c = btfm.CoTHB(max_steps=50, continue_threshold=0.8, policy=0)
    assert c.params["max_steps"] == 50 and c.get_param("continue_threshold") == 0.8
    assert {p.name for p in btfm.param_info("cothb")} >= {"hysteresis", "seed", "monitored"}
    seen = chain(c, [0.9, 0.95, 0.9])
    assert [a.action for a in seen] == ["extend", "extend", "extend", "answer"]
    assert seen[-1].node == 3 and c.node(3).status == "answered"
    assert c.progress == (3, 4, 3.0)
    with pytest.raises(btfm.Error) as err:
        c.next()
    assert err.value.status_name == "BTFM_E_STATE"
    c.close()
    with pytest.raises(ValueError):
        c.next()


def test_beta_posterior_matches_scipy():
    from scipy import stats

    c = btfm.CoTHB(prior_success=1.5, prior_failure=2.5, policy=0)
    c.next()
    node = c.add_node(0)
    outcomes = [1, 0, 1, 1, 0.25, 1]
    for o in outcomes:
        c.observe(node, outcome=o)
    a, b = c.posterior(node)
    ref = stats.beta(1.5 + sum(outcomes), 2.5 + sum(1 - o for o in outcomes))
    assert (a, b) == pytest.approx(ref.args, abs=1e-12)
    assert c.reliability(node) == pytest.approx(ref.mean(), abs=1e-12)


def test_calibration_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    n = 3000
    x = rng.uniform(size=(n, 3))
    p_continue = 1 / (1 + np.exp(-(12 * x[:, 0] - 3 * x[:, 2] - 6)))
    p_switch = 1 / (1 + np.exp(-(10 * x[:, 1] - 5)))
    u, v = rng.uniform(size=n), rng.uniform(size=n)
    decisions = np.where(u < p_continue, 0, np.where(v < p_switch, 1, 2))
    l2 = 0.5
    c = btfm.CoTHB()
    c.calibrate(x.tolist(), [btfm.COTHB_DECISIONS[d] for d in decisions], l2=l2)
    assert c.params["policy"] == 1
    heads = [(np.ones(n, bool), decisions == 0), (decisions != 0, decisions == 1)]
    for head, (rows, labels) in enumerate(heads):
        # newton-cg converges tightly (lbfgs stops about 1e-4 short of the optimum).
        ref = LogisticRegression(C=1 / l2, solver="newton-cg", tol=1e-10,
                                 max_iter=1000).fit(x[rows], labels[rows])
        weights, bias = c.policy(head)
        assert weights[:3] == pytest.approx(ref.coef_[0].tolist(), abs=1e-5)
        assert weights[3:] == [0.0] * (len(btfm.COTHB_SIGNALS) - 3)
        assert bias == pytest.approx(ref.intercept_[0], abs=1e-5)
    # The continue threshold on reliability recovered from the simulated people: 0.5
    # (12 x - 6 = 0) at the table's mean of the third signal is 0.5 + 3 * 0.5 / 12.
    weights, bias = c.policy(0)
    assert -(bias + weights[2] * x[:, 2].mean()) / weights[0] == pytest.approx(0.625, abs=0.03)


def test_trace_is_json_lines_of_every_action_and_signal():
    c = btfm.CoTHB(policy=0)
    seen = chain(c, [0.9, 0.1, 0.95, 0.9])
    trace = c.trace()
    actions = [e for e in trace if e["event"] == "action"]
    assert [(e["action"], e["node"], e["target"]) for e in actions] == \
        [(a.action, a.node, a.target) for a in seen]
    observed = [e["signals"]["reliability"] for e in trace if e["event"] == "observe"]
    assert observed == [0.9, 0.1, 0.95, 0.9]
    adds = [e for e in trace if e["event"] == "add"]
    assert [e["node"] for e in adds] == [1, 2, 3, 4]
    assert all(e["step"] >= 0 for e in trace)
    assert c.trace_jsonl().count("\n") == len(trace)


def test_save_load_reproduces_the_continuation(tmp_path):
    def host(seed):
        state = [seed]

        def step(action, new_node):
            if new_node < 0:
                return None
            state[0] = (state[0] * 1103515245 + 12345) % 2**31
            r = state[0] / 2**31
            return {"reliability": r, "terminal": 1.0 if state[0] % 7 == 0 else None}
        return step

    c = btfm.CoTHB(explore_epsilon=0.3, seed=11, max_steps=300)
    for _ in range(10):
        action = c.next()
        if action.expands:
            c.observe(c.add_node(action.node), reliability=0.5)
    blob = c.to_bytes()
    path = tmp_path / "ctl.btfm"
    c.save(path)
    d, e = btfm.CoTHB.from_bytes(blob), btfm.CoTHB.load(path)
    finals = [x.run(host(5)) for x in (c, d, e)]
    assert finals[0] == finals[1] == finals[2]
    assert c.trace() == d.trace() == e.trace()
    with pytest.raises(btfm.Error) as err:
        btfm.CoTHB.from_bytes(btfm.Container("aligner").to_bytes())
    assert err.value.status_name == "BTFM_E_KIND"


def test_run_passes_targets_and_the_final_action():
    """run() gives each action's real target (the trace's, written by the library) and
    calls the callback for the final action too, as documented."""
    c = btfm.CoTHB(policy=0)
    seen = []
    reliabilities = iter([0.9, 0.1, 0.95, 0.9])

    def step(action, new_node):
        seen.append((action, new_node))
        if new_node < 0:
            return None
        return {"reliability": next(reliabilities), "terminal": 1.0 if new_node == 4 else None}

    final = c.run(step)
    traced = [(e["action"], e["node"], e["target"]) for e in c.trace() if e["event"] == "action"]
    assert [(a.action, a.node, a.target) for a, _ in seen] == traced
    assert [a.action for a, _ in seen] == ["extend", "extend", "branch", "confirm", "extend",
                                           "answer"]
    assert seen[2][0].target == 2 and seen[3][0].target == 2  # the path left, node 2
    assert seen[-1] == (final, -1) and final == ("answer", 4, -1)
    assert c.last_action == final


def test_bad_input_raises_named_errors():
    c = btfm.CoTHB()
    with pytest.raises(btfm.NotFoundError):
        c.observe(5, reliability=0.5)
    for bad in (1.5, -0.1, math.inf):
        with pytest.raises(btfm.Error) as err:
            c.observe(0, reliability=bad)
        assert err.value.status_name == "BTFM_E_RANGE"
    with pytest.raises(ValueError):
        c.observe(0, confidence=0.5)
    with pytest.raises(btfm.Error) as err:
        btfm.CoTHB(max_steps=0)
    assert err.value.status_name == "BTFM_E_RANGE" and "max_steps" in str(err.value)
    assert c.next().action == "extend"
    with pytest.raises(btfm.Error) as err:
        c.next()
    assert err.value.status_name == "BTFM_E_STATE"
    with pytest.raises(btfm.Error):
        c.add_node(7)
    with pytest.raises(ZeroDivisionError):  # a host exception comes back unchanged
        c.add_node(0)
        btfm.CoTHB().run(lambda action, node: 1 / 0)


def test_game_of_24_example_finds_a_true_solution():
    script = SOURCE_ROOT / "examples" / "python" / "cothb_search.py"
    out = subprocess.run([sys.executable, str(script), "3", "3", "8", "8"],
                         env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    expression = re.search(r"solution: (.*) = 24$", out.stdout, re.M).group(1)
    assert sorted(int(t) for t in re.findall(r"\d+", expression)) == [3, 3, 8, 8]
    value = eval(re.sub(r"(\d+)", r"Fraction(\1)", expression), {"Fraction": Fraction})
    assert value == 24
    assert "final action: answer" in out.stdout


def _steps(rng, n, dprime):
    """Steps correct with probability 0.8, error-signal-like scores x ~ N(-+d'/2, 1)
    (high when wrong, as an error-related potential), labels."""
    correct = rng.uniform(size=n) < 0.8
    x = rng.normal(size=n) + np.where(correct, -dprime / 2, dprime / 2)
    return x, correct.astype(int)


def test_platt_calibration_matches_sklearn():
    from sklearn.calibration import _sigmoid_calibration

    rng = np.random.default_rng(7)
    x, y = _steps(rng, 3000, 1.2)
    a, b = _sigmoid_calibration(x, y)  # P = 1 / (1 + exp(a x + b)), Platt's targets
    c = btfm.CoTHB()
    c.calibrate_reliability(x, y, "platt")
    for s in (-3.0, -1.0, 0.0, 0.5, 2.5):
        assert c.reliability_of_score(s) == pytest.approx(1 / (1 + math.exp(a * s + b)), abs=2e-5)


@pytest.mark.parametrize("increasing", [True, False])
def test_isotonic_calibration_matches_sklearn(increasing):
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(11)
    x, y = _steps(rng, 997, 1.0)  # a prime count
    x = np.round(x, 1)            # many ties
    if increasing:
        x = -x                    # scores that rise with correctness
    ref = IsotonicRegression(increasing=increasing, out_of_bounds="clip").fit(x, y)
    c = btfm.CoTHB()
    c.calibrate_reliability(x.tolist(), y.tolist(), "isotonic")
    grid = np.linspace(x.min() - 1, x.max() + 1, 301)
    ours = [c.reliability_of_score(s) for s in grid]
    assert ours == pytest.approx(ref.predict(grid).tolist(), abs=1e-12)
    node_parent = c.next().node
    node = c.add_node(node_parent)
    c.observe_score(node, float(grid[100]))
    assert c.reliability(node) == pytest.approx(ref.predict(grid[100:101])[0], abs=1e-12)
    blob = c.to_bytes()
    assert btfm.CoTHB.from_bytes(blob).reliability_of_score(0.3) == c.reliability_of_score(0.3)


def _ece(p, y, bins=10):
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return sum(abs(p[idx == b].sum() - y[idx == b].sum()) for b in range(bins)) / len(p)


def test_signal_quality_matches_sklearn_metrics():
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
    from scipy import stats

    rng = np.random.default_rng(3)
    x, y = _steps(rng, 1201, 1.5)
    folds = 4
    report = btfm.signal_quality(x, y, method="isotonic", folds=folds)
    # Out-of-fold isotonic predictions, fold = index % folds, as documented.
    p = np.empty(len(x))
    idx = np.arange(len(x))
    for f in range(folds):
        train, test = idx % folds != f, idx % folds == f
        auc_train = roc_auc_score(y[train], x[train])
        ref = IsotonicRegression(increasing=auc_train >= 0.5, out_of_bounds="clip")
        p[test] = ref.fit(x[train], y[train]).predict(x[test])
    auc = roc_auc_score(y, x)
    assert report["n"] == len(x) and report["base_rate"] == pytest.approx(y.mean())
    assert report["auc"] == pytest.approx(auc, abs=1e-12)
    assert report["auc"] < 0.5 and report["dprime"] < 0  # an error signal: high means wrong
    assert report["dprime"] == pytest.approx(math.sqrt(2) * stats.norm.ppf(auc), abs=1e-8)
    assert report["auc_low"] < auc < report["auc_high"]
    assert report["ece"] == pytest.approx(_ece(p, y), abs=1e-12)
    assert report["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert report["log_loss"] == pytest.approx(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)),
                                               abs=1e-9)
    assert report["brier_base_rate"] == pytest.approx(y.mean() * (1 - y.mean()))
    assert math.isnan(report["ece_raw"])
    raw = 1 / (1 + np.exp(x))  # the raw sigmoid of the signal, uncalibrated
    none = btfm.signal_quality(raw, y, method="none", folds=0)
    assert none["ece_raw"] == pytest.approx(_ece(raw, y), abs=1e-12) == none["ece"]
    with pytest.raises(btfm.Error) as err:
        btfm.signal_quality(x, y, method="none")
    assert err.value.status_name == "BTFM_E_RANGE"
    with pytest.raises(ValueError):
        btfm.signal_quality(x, y, method="beta")


def test_the_vote_follows_its_closed_form():
    # Three one-step paths: answers 100 (0.5), 100 (0.5), 200 (0.9). With W wrong answers
    # the odds of an answer are prod(1 + W p / (1 - p)) - 1 over its paths, and
    # P(a) = w_a / (1 + sum w) (doc/cothb.md, "Answers").
    for wrong in (1, 4):
        c = btfm.CoTHB(path_length=1, max_cost=3, stop_confidence=1, probe=0, planning=0,
                       continue_threshold=0, branch_threshold=0, wrong_answers=wrong)
        keys = iter([(0.5, 100), (0.5, 100), (0.9, 200)])
        for action in c:
            if action.expands:
                r, key = next(keys)
                node = c.add_node(action.node)
                c.observe(node, reliability=r, terminal=1.0)
                c.set_answer(node, key)
        w = {100: (1 + wrong) ** 2 - 1, 200: 1 + wrong * 9 - 1}
        total = 1 + sum(w.values())
        got = {a.answer: (a.probability, a.paths) for a in c.answers()}
        assert got[100] == (pytest.approx(w[100] / total, abs=1e-12), 2)
        assert got[200] == (pytest.approx(w[200] / total, abs=1e-12), 1)
        assert c.answer.answer == 200 and action.action == "answer" and action.node == c.answer.node
        c.reset()
        assert len(c) == 1 and c.answer is None and c.get_param("wrong_answers") == wrong


def test_tuner_finds_the_rewarding_setting_and_reports_held_out_intervals():
    # Reward 1 only when continue_threshold is 0.8: the tuner must choose it, and the
    # held-out difference to the starting setting (0.7) is exactly 1 on every problem.
    seen = []

    def episode(c, problem):
        seen.append(problem)
        assert len(c) == 1  # a fresh search each time
        return 1.0 if c.get_param("continue_threshold") == 0.8 else 0.0

    t = btfm.CoTHBTuner(problems=7, held_out=5, first_problem=100)
    t.add_knob("continue_threshold", [0.6, 0.8, 0.9])
    report = t.run(btfm.CoTHB(), episode)
    assert t.knobs == {"continue_threshold": 0.8}
    assert report["held_out_reward"] == 1 and report["base_held_out_reward"] == 0
    assert report["difference"] == 1 and report["difference_low"] == report["difference_high"] == 1
    assert min(seen) == 100 and len(set(seen)) == 12
    c = btfm.CoTHB()
    t.apply(c)
    assert c.get_param("continue_threshold") == 0.8
    with pytest.raises(ZeroDivisionError):
        t.run(btfm.CoTHB(), lambda c, problem: 1 / 0)
    with pytest.raises(btfm.Error) as err:
        t.run(btfm.CoTHB(), episode, progress=lambda stage, fraction: fraction > 0.3)
    assert err.value.status_name == "BTFM_E_CANCELLED"
    assert t.knobs == {"continue_threshold": 0.8}  # the cancelled run left it as it was
    with pytest.raises(ValueError):
        t.add_knob("no_such_knob", [1])
