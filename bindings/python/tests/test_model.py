"""btfm.model from Python: the scikit-learn style estimators, the handle's parameters,
errors that name the argument, progress and cancellation, persistence. Agreement with
scikit-learn on the same splits is in tests/model/."""

import numpy as np
import pytest

import btfm
from btfm.model import BradleyTerry, LogisticRegressionCV, Model, RidgeCV, score_columns


def simulate(n=120, p=8, t=4, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(np.float32)
    W = rng.standard_normal((p, t))
    return X, (X @ W + noise * rng.standard_normal((n, t))).astype(np.float32), W


def test_ridge_estimator_shapes_and_recovery():
    X, Y, W = simulate()
    m = RidgeCV(alphas=np.logspace(-3, 3, 7), cv=5).fit(X, Y)
    assert m.coef_.shape == (4, 8) and m.intercept_.shape == (4,) and m.alpha_.shape == (4,)
    assert m.cv_scores_.shape == (7, 4)
    # Noise 0.5 against signal variance |W_j|^2 ~ 8: the weights come back within 10%.
    assert np.abs(m.coef_ - W.T).max() < 0.1 * np.abs(W).max()
    assert m.score(X, Y) > 0.95
    assert m.predict(X).shape == (120, 4)
    one = RidgeCV(alphas=[1.0]).fit(X, Y[:, 0])
    assert one.coef_.shape == (8,) and isinstance(one.intercept_, float)
    assert one.cv_scores_ is None
    assert "alphas" in m.get_params() and m.set_params(gap=2).gap == 2


def test_model_parameters_and_errors():
    m = Model("ridge", cv=3, gap=1)
    assert m.get_param("cv") == 3 and m.params["gap"] == 1
    assert list(m.alphas) == [0.1, 1.0, 10.0]
    with pytest.raises(btfm.Error, match="alphas\\[1\\]"):
        m.set_alphas([1.0, -1.0])
    with pytest.raises(ValueError, match="unknown model type"):
        Model("lasso")
    X, Y, _ = simulate(n=20)
    with pytest.raises(btfm.Error, match="cv is 30 folds"):
        Model("ridge", cv=30).fit(X, Y)
    Y2 = Y.copy()
    Y2[:, 2] = 1.0
    with pytest.raises(btfm.Error, match="target 2 is constant"):
        RidgeCV(cv=4).fit(X, Y2)
    Xn = X.copy()
    Xn[3, 5] = np.nan
    with pytest.raises(btfm.Error, match="column 5, row 3 holds NaN") as err:
        RidgeCV().fit(Xn, Y)
    assert err.value.status_name == "BTFM_E_NUMERIC"
    fitted = RidgeCV().fit(X, Y)
    with pytest.raises(btfm.Error, match="x has 7 features"):
        fitted.predict(X[:, :7])


def test_progress_reports_and_cancels_without_losing_the_fit():
    X, Y, _ = simulate(n=200, t=30)
    m = Model("ridge", cv=5)
    m.set_alphas(np.logspace(-2, 2, 5))
    seen = []
    m.fit(X, Y, progress=lambda stage, fraction: seen.append(fraction))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    before = m.predict(X)
    with pytest.raises(btfm.Error) as err:
        m.fit(X, -Y, progress=lambda stage, fraction: fraction > 0.3)
    assert err.value.status_name == "BTFM_E_CANCELLED"
    assert np.array_equal(m.predict(X), before)


def test_logistic_and_bradley_terry_estimators(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 5)).astype(np.float32)
    y = np.array(["no", "yes"])[(X[:, 0] + 0.3 * rng.standard_normal(300) > 0).astype(int)]
    clf = LogisticRegressionCV(Cs=5, cv=5).fit(X, y)
    assert list(clf.classes_) == ["no", "yes"] and clf.coef_.shape == (1, 5)
    assert clf.score(X, y) > 0.85 and set(clf.predict(X)) <= {"no", "yes"}
    assert np.allclose(clf.predict_proba(X).sum(axis=1), 1, atol=1e-6)
    assert clf.predict_std(X[:3]).shape == (3,)
    items = rng.standard_normal((40, 3)).astype(np.float32)
    pairs = np.array([rng.choice(40, 2, replace=False) for _ in range(500)])
    d = items[pairs[:, 0]] @ [1.0, -1.0, 0.5] - items[pairs[:, 1]] @ [1.0, -1.0, 0.5]
    won = (rng.random(500) < 1 / (1 + np.exp(-2 * d))).astype(float)
    bt = BradleyTerry(cv=5, groups=np.arange(500) % 7).fit(items, pairs, won)
    assert np.corrcoef(bt.coef_, [1.0, -1.0, 0.5])[0, 1] > 0.95
    assert bt.score(pairs, won, items) > 0.7
    bt.save(tmp_path / "bt.model")
    back = Model.load(tmp_path / "bt.model")
    assert back.type == "bradley_terry"
    assert np.allclose(back.predict(items)[:, 0], bt.predict(items))


def test_score_columns_and_repr():
    y = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert np.allclose(score_columns(y, y, "r2"), 1) and np.allclose(score_columns(y, y, "r"), 1)
    assert score_columns(y, y + 1, "neg_mse")[0] == -1
    assert "not fitted" in repr(Model())


def test_banded_ridge_estimator_finds_the_informative_band():
    """Features 0-3 carry the signal, 4-7 are noise: the random search's weightings give
    the first band nearly all the weight, and the R^2 split credits it."""
    from btfm.model import BandedRidgeCV
    rng = np.random.default_rng(3)
    X = rng.standard_normal((150, 8)).astype(np.float32)
    Y = (X[:, :4] @ rng.standard_normal((4, 3)) + 0.5 * rng.standard_normal((150, 3)))
    bands = [0, 0, 0, 0, 1, 1, 1, 1]
    m = BandedRidgeCV(bands=bands, alphas=np.logspace(-1, 3, 5), n_iter=15).fit(X, Y)
    assert m.band_weights_.shape == (2, 3) and np.allclose(m.band_weights_.sum(axis=0), 1)
    assert (m.band_weights_[0] > 0.8).all(), m.band_weights_
    assert m.cv_scores_.shape == (15, 3)
    assert m.deltas_.shape == (2, 3)
    split = m.score_split(X, Y.astype(np.float32))
    assert (split[0] > 0.8).all() and (np.abs(split[1]) < 0.05).all(), split
    one = BandedRidgeCV(bands=bands, n_iter=np.eye(2) * 0.98 + 0.01).fit(X, Y[:, 0])
    assert one.band_weights_.shape == (2,) and one.band_weights_[0] == 0.99
    with pytest.raises(ValueError, match="needs bands"):
        BandedRidgeCV().fit(X, Y)
