"""Multichannel reliability features (btfm_cothb_calibrate_features) against scikit-learn's
StandardScaler + LogisticRegression on the same features, and the held-out d' against
the simulation's."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from scipy.stats import norm

import btfm



def steps(n, seed):
    """Steps right with probability 0.8 and three features in their own units: an ERN
    amplitude (uV, larger when wrong), a theta band power (uV^2) and a pupil size (mm),
    with a fourth feature that carries nothing; odd n on purpose."""
    rng = np.random.default_rng(seed)
    right = (rng.random(n) < 0.8).astype(np.int32)
    sign = np.where(right == 1, -0.5, 0.5)
    ern = 6.0 + 4.0 * (1.2 * sign + rng.standard_normal(n))
    theta = 30.0 + 12.0 * (0.8 * sign + rng.standard_normal(n))
    pupil = 4.0 + 0.3 * (0.5 * sign + rng.standard_normal(n))
    noise = 100.0 + 50.0 * rng.standard_normal(n)
    x = np.column_stack([ern, theta, pupil, noise]).astype(np.float32)
    return x, right, np.sqrt(1.2 ** 2 + 0.8 ** 2 + 0.5 ** 2)


@pytest.mark.parametrize("l2", [0.1, 3.0])
def test_feature_calibration_matches_sklearn(l2):
    x, right, _ = steps(1201, 1)
    c = btfm.CoTHB()
    c.calibrate_features(x, right, l2=l2)
    sk = make_pipeline(StandardScaler(), LogisticRegression(C=1 / l2, solver="newton-cholesky", tol=1e-12, max_iter=200))
    sk.fit(x.astype(np.float64), right)
    scaler, logit = sk[0], sk[1]
    weights = logit.coef_[0] / scaler.scale_
    intercept = logit.intercept_[0] - weights @ scaler.mean_
    cal = c.feature_calibration
    np.testing.assert_allclose(cal["weights"], weights, rtol=2e-4, atol=1e-6)
    assert abs(cal["intercept"] - intercept) < 2e-4 * max(1, abs(intercept))
    probe, _, _ = steps(57, 2)
    ours = np.array([c.reliability_of_features(row) for row in probe])
    np.testing.assert_allclose(ours, sk.predict_proba(probe.astype(np.float64))[:, 1], atol=2e-5)


def test_held_out_dprime_and_observation():
    x, right, truth = steps(3001, 3)
    c = btfm.CoTHB()
    c.calibrate_features(x, right, l2=1.0)
    # The held-out d' as scikit-learn's 5 contiguous folds give it, and near the truth.
    sk = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=200))
    held = cross_val_predict(sk, x.astype(np.float64), right, cv=KFold(5),
                             method="predict_proba")[:, 1]
    dprime = np.sqrt(2) * norm.ppf(roc_auc_score(right, held))
    assert abs(c.feature_calibration["dprime"] - dprime) < 2e-3
    assert abs(dprime - truth) < 0.15
    # A step's features are observed as their calibrated probability.
    c2 = btfm.CoTHB(policy=0)
    action = next(iter(c2))
    node = c2.add_node(action.node)
    c2.calibrate_features(x, right)
    c2.observe_features(node, x[0])
    assert abs(c2.reliability(node) - c2.reliability_of_features(x[0])) < 1e-12
    # Saved with the controller.
    again = btfm.CoTHB.from_bytes(c.to_bytes())
    assert again.feature_calibration == c.feature_calibration


def test_feature_calibration_errors():
    x, right, _ = steps(101, 4)
    c = btfm.CoTHB()
    with pytest.raises(btfm.Error, match="no feature calibration"):
        c.reliability_of_features(x[0])
    with pytest.raises(btfm.Error, match="correct\\[3\\] = 2"):
        bad = right.copy()
        bad[3] = 2
        c.calibrate_features(x, bad)
    with pytest.raises(btfm.Error, match="features\\[5\\]\\[1\\]"):
        nan = x.copy()
        nan[5, 1] = np.nan
        c.calibrate_features(nan, right)
    with pytest.raises(btfm.Error, match="at least 5 of each"):
        c.calibrate_features(x, np.ones_like(right))
    c.calibrate_features(x, right)
    with pytest.raises(btfm.Error, match="n_features = 3: the calibration has 4"):
        c.reliability_of_features(x[0, :3])
    assert c.feature_calibration is not None


def test_command_line_fits_the_same_calibration(tmp_path):
    """btfm cothb calibrate --features on a TSV of the same steps: scikit-learn's weights in
    the features' units, the library's held-out d', and a saved controller that loads."""
    import json
    import os
    import subprocess
    exe = os.environ.get("BTFM_EXE")
    if not exe:
        pytest.skip("no btfm program given")
    x, right, _ = steps(403, 5)
    names = ["ern", "theta", "pupil", "noise"]
    path = tmp_path / "steps.tsv"
    with open(path, "w") as f:
        f.write("\t".join(names + ["correct"]) + "\n")
        for row, y in zip(x, right):
            f.write("\t".join(repr(float(v)) for v in row) + "\t%d\n" % y)
    saved = tmp_path / "cal.btfm"
    r = subprocess.run([exe, "cothb", "calibrate", str(path), "--features", ",".join(names),
                        "--l2", "0.5", "--json", "--save", str(saved)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    sk = make_pipeline(StandardScaler(), LogisticRegression(C=2.0, solver="newton-cholesky", tol=1e-12, max_iter=200))
    sk.fit(x.astype(np.float64), right)
    weights = sk[1].coef_[0] / sk[0].scale_
    np.testing.assert_allclose([got["weights"][n] for n in names], weights, rtol=2e-4, atol=1e-6)
    c = btfm.CoTHB()
    c.calibrate_features(x, right, l2=0.5)
    assert got["steps"] == 403 and abs(got["dprime"] - c.feature_calibration["dprime"]) < 1e-9
    assert btfm.CoTHB.load(str(saved)).feature_calibration == c.feature_calibration
    bad = subprocess.run([exe, "cothb", "calibrate", str(path), "--features", "ern,pupli"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "pupli" in bad.stderr, bad.stderr
    bad = subprocess.run([exe, "cothb", "calibrate", str(path), "--features", "ern,"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "got 'ern,'" in bad.stderr, bad.stderr

