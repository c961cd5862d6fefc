"""btfm.model against scikit-learn on the same splits (coefficients, chosen alphas, CV
scores), Bradley-Terry against a NumPy Newton reference, and interval calibration on
simulated data."""

import numpy as np
import pytest

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.linear_model import LogisticRegressionCV as SkLogisticRegressionCV
from sklearn.linear_model import RidgeCV as SkRidgeCV
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, LeaveOneGroupOut
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from btfm.model import BradleyTerry, LogisticRegressionCV, Model, RidgeCV

ALPHAS = np.logspace(-2, 4, 13)


def data(n, p, t, seed=0, noise=5.0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + 3).astype(np.float32)
    Y = (X @ rng.standard_normal((p, t)) + noise * rng.standard_normal((n, t)) + 7)
    return X, Y.astype(np.float32)


def rel(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(b).max()


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("shape", [(200, 30, 5), (41, 41, 2), (37, 89, 3), (53, 7, 1)])
def test_ridge_gcv_equals_sklearn(solver, shape):
    X, Y = data(*shape)
    w = np.random.default_rng(1).uniform(0.2, 2, shape[0])
    m = RidgeCV(alphas=ALPHAS, solver=solver).fit(X, Y, sample_weight=w)
    sk = SkRidgeCV(alphas=ALPHAS, alpha_per_target=True, store_cv_values=True)
    sk.fit(X.astype(float), Y.astype(float), sample_weight=w)
    assert np.array_equal(np.atleast_1d(m.alpha_), np.atleast_1d(sk.alpha_))
    assert rel(m.coef_, sk.coef_) < 1e-6
    assert np.abs(m.intercept_ - sk.intercept_).max() < 1e-5 * np.abs(sk.intercept_).max()
    assert rel(m.cv_scores_.T, -sk.cv_values_.mean(axis=0)) < 1e-8


def test_ridge_shared_alpha_and_no_intercept_equal_sklearn():
    X, Y = data(150, 20, 4, seed=2)
    m = RidgeCV(alphas=ALPHAS, alpha_per_target=False).fit(X, Y)
    sk = SkRidgeCV(alphas=ALPHAS).fit(X.astype(float), Y.astype(float))
    assert m.alpha_ == sk.alpha_ and rel(m.coef_, sk.coef_) < 1e-6
    m = RidgeCV(alphas=ALPHAS, fit_intercept=False).fit(X, Y)
    sk = SkRidgeCV(alphas=ALPHAS, fit_intercept=False, alpha_per_target=True)
    sk.fit(X.astype(float), Y.astype(float))
    assert np.array_equal(m.alpha_, sk.alpha_) and rel(m.coef_, sk.coef_) < 1e-6


@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_ridge_kfold_per_target_equals_gridsearch(solver):
    """RidgeCV(cv=KFold(5)) wrapped per target, as a user would: alpha, coefficients and
    every fold-averaged score; the same with StandardScaler in a pipeline."""
    X, Y = data(120, 15, 3, seed=3)
    Xd, Yd = X.astype(float), Y.astype(float)
    alphas = ALPHAS[::2]
    for standardize in (False, True):
        m = RidgeCV(alphas=alphas, cv=5, standardize=standardize, solver=solver).fit(X, Y)
        for j in range(Y.shape[1]):
            est = make_pipeline(StandardScaler(), Ridge()) if standardize else Ridge()
            key = "ridge__alpha" if standardize else "alpha"
            gs = GridSearchCV(est, {key: alphas}, cv=KFold(5)).fit(Xd, Yd[:, j])
            assert m.alpha_[j] == gs.best_params_[key]
            assert np.abs(gs.cv_results_["mean_test_score"] - m.cv_scores_[:, j]).max() < 1e-9
            best = gs.best_estimator_
            coef = best[-1].coef_ / best[0].scale_ if standardize else best.coef_
            assert rel(m.coef_[j], coef) < 1e-6


def test_ridge_groups_equal_leave_one_group_out_and_group_kfold():
    X, Y = data(150, 10, 3, seed=4)
    groups = np.repeat([4, 0, 3, 1, 2], 30)
    m = RidgeCV(alphas=ALPHAS, groups=groups).fit(X, Y)
    m2 = RidgeCV(alphas=ALPHAS, cv=LeaveOneGroupOut(), groups=groups).fit(X, Y)
    for j in range(3):
        gs = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=LeaveOneGroupOut())
        gs.fit(X.astype(float), Y[:, j].astype(float), groups=groups)
        assert m.alpha_[j] == m2.alpha_[j] == gs.best_params_["alpha"]
        assert np.abs(gs.cv_results_["mean_test_score"] - m.cv_scores_[:, j]).max() < 1e-9
    with pytest.raises(ValueError, match="test sets overlap"):
        from sklearn.model_selection import ShuffleSplit
        RidgeCV(alphas=ALPHAS, cv=ShuffleSplit(3, random_state=0)).fit(X, Y)


def test_logistic_cv_equals_sklearn():
    """The same C chosen from the same fold scores as LogisticRegressionCV (lbfgs, whose
    accuracies do not depend on its last digits), and at that C the coefficients of
    LogisticRegression solved to convergence (newton-cg; lbfgs stops short of 1e-5)."""
    rng = np.random.default_rng(5)
    X = (rng.standard_normal((300, 8)) * rng.uniform(0.5, 3, 8) + 1).astype(np.float32)
    eta = X @ (rng.standard_normal(8) * 0.5) + rng.logistic(size=300)
    Xd = X.astype(float)
    for y, cv in (((eta > 1).astype(int), KFold(5)), (np.digitize(eta, [0, 2]), StratifiedKFold(4))):
        m = LogisticRegressionCV(Cs=6, cv=cv).fit(X, y)
        sk = SkLogisticRegressionCV(Cs=6, cv=cv, max_iter=1000).fit(Xd, y)
        assert np.array_equal(m.C_, sk.C_)
        assert np.abs(m.cv_scores_ - sk.scores_[1].mean(axis=0)).max() < 1e-12
        ref = LogisticRegression(C=sk.C_[0], solver="newton-cg", tol=1e-10).fit(Xd, y)
        assert rel(m.coef_, ref.coef_) < 1e-5
        assert np.abs(m.intercept_ - ref.intercept_).max() < 1e-5 * (1 + np.abs(ref.intercept_).max())
        assert np.abs(m.predict_proba(X) - ref.predict_proba(Xd)).max() < 1e-5
    sw = rng.uniform(0.3, 2, 300)
    y = (eta > 1).astype(int)
    m = LogisticRegressionCV(Cs=[0.1], fit_intercept=False).fit(X, y, sample_weight=sw)
    ref = LogisticRegression(C=0.1, fit_intercept=False, solver="newton-cg", tol=1e-10)
    ref.fit(Xd, y, sample_weight=sw)
    assert rel(m.coef_, ref.coef_) < 1e-5


def davidson_reference(D, outcome, alpha, iters=60):
    """Newton's method on Davidson's likelihood in NumPy (weights, log nu)."""
    th = np.zeros(D.shape[1] + 1)
    th[-1] = np.log(0.5)
    tw, tl, tt = (outcome == 1) * 1.0, (outcome == 0) * 1.0, (outcome == 0.5) * 1.0

    def parts(th):
        u, z = D @ th[:-1] / 2, th[-1]
        lz = np.logaddexp(np.logaddexp(u, -u), z)
        value = np.sum(-(tw - tl) * u - tt * z + lz) + alpha / 2 * th[:-1] @ th[:-1]
        return u, z, lz, value

    for _ in range(iters):
        u, z, lz, value = parts(th)
        a, q = np.exp(u - lz) - np.exp(-u - lz), np.exp(z - lz)
        g = np.r_[D.T @ (0.5 * (a - (tw - tl))) + alpha * th[:-1], np.sum(q - tt)]
        H = np.zeros((th.size, th.size))
        H[:-1, :-1] = D.T @ ((0.25 * ((1 - q) - a * a))[:, None] * D) + alpha * np.eye(D.shape[1])
        H[:-1, -1] = H[-1, :-1] = D.T @ (-0.5 * a * q)
        H[-1, -1] = np.sum(q * (1 - q))
        step, t = np.linalg.solve(H, -g), 1.0
        while parts(th + t * step)[3] > value + 1e-4 * t * g @ step:
            t /= 2
        th = th + t * step
    return th


def test_bradley_terry_equals_newton_reference_and_logistic():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 8)).astype(np.float32)
    pairs = np.array([rng.choice(60, 2, replace=False) for _ in range(800)])
    D = (X[pairs[:, 0]] - X[pairs[:, 1]]).astype(float)
    y = (rng.random(800) < 1 / (1 + np.exp(-D @ rng.standard_normal(8)))).astype(float)
    bt = BradleyTerry(alphas=[2.0]).fit(X, pairs, y)
    sk = LogisticRegression(C=0.5, fit_intercept=False, solver="newton-cg", tol=1e-12)
    sk.fit(D, y.astype(int))
    assert rel(bt.coef_, sk.coef_[0]) < 1e-5
    o = y.copy()
    o[rng.random(800) < 0.2] = 0.5
    bt = BradleyTerry(alphas=[2.0], ties="davidson").fit(X, pairs, o)
    ref = davidson_reference(D, o, 2.0)
    assert rel(bt.coef_, ref[:-1]) < 1e-5
    assert abs(bt.tie_parameter_ - np.exp(ref[-1])) < 1e-6
    p = bt.predict_proba(pairs[:20], X)
    assert np.allclose(p.sum(axis=1), 1)


def test_ridge_intervals_are_calibrated():
    """A 90% predictive interval covers 88-92% of held-out points when the data follow
    the model (weights drawn from a Gaussian prior, Gaussian noise)."""
    rng = np.random.default_rng(7)
    n, p, t = 400, 60, 40
    X = rng.standard_normal((n + 2000, p)).astype(np.float32)
    W = rng.standard_normal((p, t)) * 0.3
    Y = (X @ W + rng.standard_normal((n + 2000, t))).astype(np.float32)
    m = RidgeCV(alphas=np.logspace(-1, 3, 9), cv=5).fit(X[:n], Y[:n])
    lo, hi = m.predict_interval(X[n:], level=0.9)
    cover = np.mean((Y[n:] >= lo) & (Y[n:] <= hi))
    assert 0.88 <= cover <= 0.92, cover


def test_save_load_and_bytes_round_trip(tmp_path):
    X, Y = data(80, 6, 3, seed=8)
    m = RidgeCV(alphas=ALPHAS, cv=4).fit(X, Y)
    m.save(tmp_path / "r.model")
    loaded = Model.load(tmp_path / "r.model")
    assert np.array_equal(loaded.predict(X), m.model_.predict(X))
    again = Model.from_bytes(m.model_.to_bytes())
    assert np.array_equal(again.alpha, m.alpha_)


def himalaya_random_search(Xs, Y, gammas, alphas, n_folds):
    """himalaya's solve_multiple_kernel_ridge_random_search written out in NumPy (no
    intercept, l2_neg_loss, contiguous folds): for each band weighting gamma the kernel
    sum_b gamma_b X_b X_b^T, each fold's kernel ridge for every alpha, the fold-mean score
    per target; each target keeps the best (gamma, alpha), earlier candidates winning ties;
    then the refit in primal form with band b scaled by sqrt(gamma_b). Returns the chosen
    gamma per target (bands x targets), alpha per target, and coefficients (features x
    targets) in the units of X."""
    n, t = Y.shape
    folds = np.array_split(np.arange(n), n_folds)
    best = np.full(t, -np.inf)
    chosen_g = np.zeros((len(Xs), t))
    chosen_a = np.zeros(t)
    for g in gammas:
        K = sum(gb * Xb @ Xb.T for gb, Xb in zip(g, Xs))
        scores = np.zeros((len(alphas), t))
        for test in folds:
            train = np.setdiff1d(np.arange(n), test)
            Ktt = K[np.ix_(train, train)]
            for k, a in enumerate(alphas):
                dual = np.linalg.solve(Ktt + a * np.eye(train.size), Y[train])
                pred = K[np.ix_(test, train)] @ dual
                scores[k] += -((Y[test] - pred) ** 2).mean(axis=0) / n_folds
        k_best = scores.argmax(axis=0)
        s = scores[k_best, np.arange(t)]
        better = s > best
        best[better] = s[better]
        chosen_g[:, better] = np.asarray(g)[:, None]
        chosen_a[better] = np.asarray(alphas)[k_best[better]]
    coef = np.zeros((sum(X.shape[1] for X in Xs), t))
    for j in range(t):
        scale = np.concatenate([np.full(X.shape[1], np.sqrt(chosen_g[b, j]))
                                for b, X in enumerate(Xs)])
        Xsc = np.hstack(Xs) * scale
        p = Xsc.shape[1]
        coef[:, j] = scale * np.linalg.solve(Xsc.T @ Xsc + chosen_a[j] * np.eye(p),
                                             Xsc.T @ Y[:, j])
    return chosen_g, chosen_a, coef


def test_banded_ridge_equals_himalaya_random_search_reference():
    """Three bands (odd sizes), targets driven by different bands: the weighting and alpha
    each target chooses, the coefficients, and the R^2 split by band (himalaya's
    r2_score_split: sum_i (2 y_i p_bi - p_bi sum_c p_ci) / sum_i y_i^2, centred)."""
    from btfm.model import BandedRidgeCV
    rng = np.random.default_rng(9)
    sizes, n, t = (7, 11, 5), 120, 6
    Xs = [rng.standard_normal((n, s)) for s in sizes]
    W = [rng.standard_normal((s, t)) for s in sizes]
    drive = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0.3, 1, 1], [1, 0.1, 0]]).T
    Y = sum(drive[b] * (Xs[b] @ W[b]) for b in range(3)) + rng.standard_normal((n, t))
    X = np.hstack(Xs).astype(np.float32)
    Y = Y.astype(np.float32)
    bands = np.repeat([0, 1, 2], sizes)
    gammas = rng.dirichlet(np.ones(3), 12)
    gammas[0] = 1 / 3
    alphas = np.logspace(-1, 3, 9)
    m = BandedRidgeCV(bands=bands, alphas=alphas, n_iter=gammas, cv=5, fit_intercept=False,
                      scoring="neg_mse").fit(X, Y)
    Xd = [x.astype(np.float32).astype(float) for x in np.split(X, np.cumsum(sizes)[:-1], 1)]
    g, a, coef = himalaya_random_search(Xd, Y.astype(float), gammas, alphas, 5)
    assert np.allclose(m.band_weights_, g, rtol=1e-12), (m.band_weights_, g)
    assert np.array_equal(m.alpha_, a)
    assert rel(m.coef_.T, coef) < 1e-5
    assert np.allclose(m.deltas_, np.log(g / a))
    # Held-out split of R^2 by band.
    Xt = rng.standard_normal((80, sum(sizes))).astype(np.float32)
    Yt = (sum(drive[b] * (Xt[:, bands == b] @ W[b]) for b in range(3))
          + rng.standard_normal((80, t))).astype(np.float32)
    split = m.score_split(Xt, Yt)
    yc = Yt - Yt.mean(axis=0)
    parts = np.stack([Xt[:, bands == b] @ m.coef_.T[bands == b] for b in range(3)])
    parts = parts - parts.mean(axis=1, keepdims=True)
    want = (2 * yc * parts - parts * parts.sum(axis=0)).sum(axis=1) / (yc ** 2).sum(axis=0)
    assert np.abs(split - want).max() < 1e-5
    total = parts.sum(axis=0)
    r2 = 1 - ((yc - total) ** 2).sum(axis=0) / (yc ** 2).sum(axis=0)
    assert np.abs(split.sum(axis=0) - r2).max() < 1e-5
    # Targets driven by one band: that band holds nearly all of the explained variance.
    single = [0, 1, 2, 5]
    assert np.array_equal(split[:, single].argmax(axis=0), [0, 1, 2, 0])
    others = split[:, single].copy()
    others[[0, 1, 2, 0], np.arange(4)] = 0
    assert np.abs(others).max() < 0.1, split


def test_binary_solver_on_hard_and_soft_problems():
    """The quasi-Newton solver two-class logistic regression and Bradley-Terry share, on
    uncentered features scaled from 0.2 to 5 with a weak penalty and almost separable
    classes, against scikit-learn's newton-cg; and Bradley-Terry with sample weights and
    probabilistic outcomes, against logistic regression on the differences where each pair
    is two weighted rows (won with weight w y, lost with weight w (1 - y))."""
    rng = np.random.default_rng(11)
    X = (rng.standard_normal((211, 13)) * rng.uniform(0.2, 5, 13) + 3).astype(np.float32)
    eta = X.astype(float) @ np.linspace(-1, 1, 13)
    y = (eta > np.median(eta)).astype(int)
    y[:3] = 1 - y[:3]  # a few mistakes keep the optimum finite
    m = LogisticRegressionCV(Cs=[1e3]).fit(X, y)
    ref = LogisticRegression(C=1e3, solver="newton-cg", tol=1e-10)
    ref.fit(X.astype(float), y)
    assert rel(m.coef_, ref.coef_) < 1e-5
    items, p, n = 37, 7, 301
    Xi = rng.standard_normal((items, p)).astype(np.float32)
    pairs = np.array([rng.choice(items, 2, replace=False) for _ in range(n)])
    D = (Xi[pairs[:, 0]] - Xi[pairs[:, 1]]).astype(float)
    prob = rng.uniform(0, 1, n)
    w = rng.uniform(0.2, 3, n)
    bt = BradleyTerry(alphas=[0.7]).fit(Xi, pairs, prob, sample_weight=w)
    sk = LogisticRegression(C=1 / 0.7, fit_intercept=False, solver="newton-cg", tol=1e-12)
    sk.fit(np.r_[D, D], np.r_[np.ones(n), np.zeros(n)],
           sample_weight=np.r_[w * prob, w * (1 - prob)])
    assert rel(bt.coef_, sk.coef_[0]) < 1e-6


def cv_sse(X, y, lam, folds):
    """Held-out squared error summed over the folds of ridge with a penalty per column
    (lam: ... x p, any leading shape), centred on each training fold."""
    lam = np.asarray(lam, float)
    total = np.zeros(lam.shape[:-1])
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        xm, ym = X[train].mean(0), y[train].mean()
        Xc, yc = X[train] - xm, y[train] - ym
        A = Xc.T @ Xc + lam[..., :, None] * np.eye(X.shape[1])
        w = np.linalg.solve(A, np.broadcast_to(Xc.T @ yc, lam.shape)[..., None])[..., 0]
        r = (y[test] - ym) - w @ (X[test] - xm).T
        total += (r ** 2).sum(-1)
    return total


@pytest.mark.parametrize("search", ["gradient", "coordinate"])
def test_banded_search_finds_the_exhaustive_grid_minimum(search):
    """Two bands of 4 and 6 features, 5 contiguous folds: the gradient search's (BFGS) and
    the coordinate search's band penalties against the minimum of the held-out squared
    error over an exhaustive grid of log penalties (steps of 0.2, then 0.004 around the
    best), per target; and neither ends worse than the random search it starts from."""
    from btfm.model import BandedRidgeCV
    rng = np.random.default_rng(21)
    n, sizes = 90, (4, 6)
    X = (rng.standard_normal((n, 10)) * rng.uniform(0.5, 2, 10) + 1).astype(np.float32)
    bands = np.repeat([0, 1], sizes)
    w0, w1 = rng.standard_normal(4), rng.standard_normal(6)
    Y = np.stack([X[:, :4] @ w0 + 0.3 * (X[:, 4:] @ w1), 0.4 * (X[:, :4] @ w0) + X[:, 4:] @ w1], 1)
    Y = (Y + 2.0 * rng.standard_normal((n, 2)) + 3).astype(np.float32)
    Xd, Yd = X.astype(float), Y.astype(float)
    folds = np.array_split(np.arange(n), 5)
    alphas = np.logspace(-2, 4, 7)
    rand = BandedRidgeCV(bands=bands, alphas=alphas, n_iter=10, cv=5).fit(X, Y)
    grad = BandedRidgeCV(bands=bands, alphas=alphas, n_iter=10, cv=5, search=search).fit(X, Y)
    coarse = np.arange(-4, 7.0001, 0.2)
    for j in range(2):
        lam_rand = rand.alpha_[j] / rand.band_weights_[:, j]
        lam_grad = grad.alpha_[j] / grad.band_weights_[:, j]
        ours = cv_sse(Xd, Yd[:, j], lam_grad[bands], folds)
        assert ours <= cv_sse(Xd, Yd[:, j], lam_rand[bands], folds) * (1 + 1e-9)
        best = None
        for grid in (coarse, None):
            if grid is None:  # around the coarse minimum
                g0, g1 = best
                a = g0 + np.arange(-0.12, 0.12001, 0.004)
                b = g1 + np.arange(-0.12, 0.12001, 0.004)
            else:
                a = b = grid
            L0, L1 = np.meshgrid(a, b, indexing="ij")
            lam = np.stack([np.exp(L0), np.exp(L1)], -1)[..., bands]
            sse = cv_sse(Xd, Yd[:, j], lam, folds)
            i0, i1 = np.unravel_index(sse.argmin(), sse.shape)
            if grid is not None:  # an interior minimum: the comparison means something
                assert 0 < i0 < len(a) - 1 and 0 < i1 < len(b) - 1, (j, a[i0], b[i1])
            best = (a[i0], b[i1])
            grid_min = sse.min()
        assert ours <= grid_min * (1 + 1e-7), (j, ours, grid_min)
        assert np.abs(np.log(lam_grad) - np.array(best)).max() < 0.02, (j, np.log(lam_grad), best)
    # The refit: ridge on all samples at those penalties, in closed form.
    for j in range(2):
        lam = (grad.alpha_[j] / grad.band_weights_[:, j])[bands]
        Xc, yc = Xd - Xd.mean(0), Yd[:, j] - Yd[:, j].mean()
        w = np.linalg.solve(Xc.T @ Xc + np.diag(lam), Xc.T @ yc)
        assert rel(grad.coef_[j], w) < 1e-5
        assert abs(grad.intercept_[j] - (Yd[:, j].mean() - Xd.mean(0) @ w)) < 1e-4
    with pytest.raises(Exception, match="K folds"):
        BandedRidgeCV(bands=bands, cv=0, search=search).fit(X, Y)
    # Banded models (either search) survive a save and a load.
    for m in (rand, grad):
        again = Model.from_bytes(m.model_.to_bytes())
        assert np.array_equal(again.predict(X), m.model_.predict(X))
        assert np.array_equal(again.band_weights(2), m.model_.band_weights())


def test_banded_coordinate_search_recovers_known_band_penalties():
    """Simulated responses with known per-band penalties: band b's weights drawn with
    variance s_b^2 and noise of variance s^2 make lambda_b = s^2 / s_b^2 the Bayes-optimal
    ridge penalty of band b (here e^2 and e^5, against a Gram matrix of about 240 per
    feature: both penalties matter, the second band's weights are small). On four
    targets, the coordinate search's held-out error is never above the minimum over an
    exhaustive grid of the two log penalties (steps of 0.25 over [-2, 9]); the log
    penalties, as a median over 12 targets, land near the truth."""
    from btfm.model import BandedRidgeCV
    rng = np.random.default_rng(5)
    n, sizes, t = 300, (6, 8), 12
    bands = np.repeat([0, 1], sizes)
    log_lam = np.array([2.0, 5.0])
    noise = 1.0
    sd = noise / np.sqrt(np.exp(log_lam))[bands]
    X = rng.standard_normal((n, bands.size))
    W = rng.standard_normal((bands.size, t)) * sd[:, None]
    Y = X @ W + noise * rng.standard_normal((n, t))
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    Xd, Yd = X.astype(float), Y.astype(float)
    folds = np.array_split(np.arange(n), 5)
    m = BandedRidgeCV(bands=bands, alphas=np.logspace(-2, 4, 7), n_iter=5, cv=5,
                      search="coordinate").fit(X, Y)
    found = np.log(m.alpha_[None, :] / m.band_weights_)  # bands x targets
    grid = np.arange(-2, 9.0001, 0.25)
    L0, L1 = np.meshgrid(grid, grid, indexing="ij")
    lam = np.stack([np.exp(L0), np.exp(L1)], -1)[..., bands]
    for j in range(4):
        ours = cv_sse(Xd, Yd[:, j], np.exp(found[:, j])[bands], folds)
        assert ours <= cv_sse(Xd, Yd[:, j], lam, folds).min() * (1 + 1e-9), j
    assert np.abs(np.median(found, 1) - log_lam).max() < 0.75, np.median(found, 1)


def test_newton_solver_equals_sklearn():
    """solver="newton" runs Newton's method (IRLS) alone: the path two-class fits fall back
    on when their quasi-Newton steps run out. Against scikit-learn's newton-cholesky on
    uncentered features scaled from 0.3 to 4 with sample weights, weak to strong
    penalties and a cross-validated C; Bradley-Terry against logistic regression on the
    differences; and each equal to the default solver's fit."""
    rng = np.random.default_rng(31)
    n, p = 157, 11
    X = (rng.standard_normal((n, p)) * rng.uniform(0.3, 4, p) + 2).astype(np.float32)
    Xd = X.astype(float)
    eta = (Xd - 2) @ (rng.standard_normal(p) * 0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    sw = rng.uniform(0.5, 2, n)
    for C in (0.01, 1.0, 100.0):
        m = LogisticRegressionCV(Cs=[C], solver="newton").fit(X, y, sample_weight=sw)
        ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-10, max_iter=1000)
        ref.fit(Xd, y, sample_weight=sw)
        assert rel(m.coef_, ref.coef_) < 1e-5, C
        assert abs(m.intercept_[0] - ref.intercept_[0]) < 1e-5 * (1 + abs(ref.intercept_[0]))
        auto = LogisticRegressionCV(Cs=[C]).fit(X, y, sample_weight=sw)
        assert rel(auto.coef_, m.coef_) < 1e-6, C
    m = LogisticRegressionCV(Cs=6, cv=KFold(4), solver="newton").fit(X, y)
    sk = SkLogisticRegressionCV(Cs=6, cv=KFold(4), solver="newton-cholesky", tol=1e-10,
                                max_iter=1000).fit(Xd, y)
    assert np.array_equal(m.C_, sk.C_)
    assert rel(m.coef_, sk.coef_) < 1e-5
    items = 41
    Xi = rng.standard_normal((items, 7)).astype(np.float32)
    pairs = np.array([rng.choice(items, 2, replace=False) for _ in range(500)])
    D = (Xi[pairs[:, 0]] - Xi[pairs[:, 1]]).astype(float)
    o = (rng.random(500) < 1 / (1 + np.exp(-D @ rng.standard_normal(7)))).astype(float)
    bt = BradleyTerry(alphas=[0.7], solver="newton").fit(Xi, pairs, o)
    ref = LogisticRegression(C=1 / 0.7, fit_intercept=False, solver="newton-cholesky",
                             tol=1e-12, max_iter=1000).fit(D, o.astype(int))
    assert rel(bt.coef_, ref.coef_[0]) < 1e-5
    assert rel(BradleyTerry(alphas=[0.7]).fit(Xi, pairs, o).coef_, bt.coef_) < 1e-6
    with pytest.raises(ValueError, match="solver"):
        LogisticRegressionCV(solver="sag").fit(X, y)
    ridge = Model("ridge")
    ridge.set_param("solver", 3)
    with pytest.raises(Exception, match="solver 3"):
        ridge.fit(X, X[:, :2].copy())
