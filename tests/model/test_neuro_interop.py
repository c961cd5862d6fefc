"""The neuroscience on top of the fits against ground truth and independent code: noise
ceilings on simulations with a known ceiling, encoding scores normalized by them (near 1
for the true features, near 0 for shuffled ones), RSA against SciPy and NumPy
implementations of rsatoolbox's formulas, decoding permutation tests, steering
directions, neural translation (a known map, and through an aligner's shared space) and
synthetic responses."""

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import rankdata, spearmanr

import btfm
from btfm import model as bm


def repeats(n=300, t=20, r=6, noise=1.5, seed=0):
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n, t))
    return signal, signal[None] + noise * rng.standard_normal((r, n, t))


def test_noise_ceilings_recover_the_simulated_ceiling():
    """Unit signal variance, noise 1.5 per repeat, 6 repeats: the repeat mean's
    reliability is 1 / (1 + 1.5^2 / 6) = 0.727; the largest reachable r is its root."""
    signal, data = repeats()
    truth = 1 / (1 + 1.5 ** 2 / 6)
    split = bm.noise_ceiling(data, "split_half")
    assert abs(split.mean() - truth) < 0.03 and split.std() < 0.06
    random_halves = bm.noise_ceiling(data, "split_half", n_splits=10, seed=3)
    assert abs(random_halves.mean() - truth) < 0.03
    assert abs(bm.noise_ceiling(data, "schoppe").mean() - np.sqrt(truth)) < 0.02
    # CC_norm of the true signal is 1 (within the estimate's noise), of noise about 0.
    assert abs(bm.cc_norm(data, signal).mean() - 1) < 0.03
    assert abs(bm.cc_norm(data, np.random.default_rng(1).standard_normal(signal.shape)).mean()) < 0.05


def test_ccnorm_follows_the_reference_formula():
    """calc_CCnorm.m's arithmetic in NumPy: 1/T in the variances, 1/(T-1) in SP."""
    _, data = repeats(n=50, t=3, r=4)
    pred = np.random.default_rng(2).standard_normal((50, 3))
    R = data.astype(np.float32).astype(float)
    ref = []
    for j in range(3):
        y, yh = R[:, :, j].mean(0), pred[:, j].astype(np.float32)
        sp = (np.var(R[:, :, j].sum(0), ddof=1) - np.var(R[:, :, j], axis=1, ddof=1).sum()) / (4 * 3)
        ref.append(np.mean((y - y.mean()) * (yh - yh.mean())) / np.sqrt(sp * np.var(yh)))
    assert np.allclose(bm.cc_norm(data, pred), ref, atol=1e-6)


def test_encoding_scores_normalized_by_the_ceiling():
    rng = np.random.default_rng(4)
    n, p, t = 400, 40, 60
    X = rng.standard_normal((n + 200, p)).astype(np.float32)
    signal = X @ rng.standard_normal((p, t))
    data = signal[None] + 3 * rng.standard_normal((4, n + 200, t))
    train = data[:, :n].mean(0)
    true = bm.EncodingModel(delays=None).fit(X[:n], train)
    assert abs(true.normalized_score(X[n:], data[:, n:]).mean() - 1) < 0.05
    assert abs(true.normalized_score(X[n:], data[:, n:], "schoppe").mean() - 1) < 0.05
    shuffled = X.copy()
    rng.shuffle(shuffled[:n])
    wrong = bm.EncodingModel(delays=None).fit(shuffled[:n], train)
    # Each target's r is a random cosine of two weight vectors in 40 dimensions (sd 0.16):
    # their mean over 60 targets stays within 0.08 of 0.
    assert abs(wrong.normalized_score(X[n:], data[:, n:]).mean()) < 0.08


def test_fir_delays_recover_a_lagged_response():
    """Responses driven by the features 2 samples earlier: only delay 2's weights carry
    the map, and nested cross-validation scores it well."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((600, 4)).astype(np.float32)
    W = rng.standard_normal((4, 3))
    Y = np.zeros((600, 3))
    Y[2:] = X[:-2] @ W
    Y += 0.3 * rng.standard_normal(Y.shape)
    enc = bm.EncodingModel(delays=[1, 2, 3, 4]).fit(X, Y)
    coef = enc.coef_.reshape(3, 4, 4)  # targets x delays x features
    assert np.abs(coef[:, 1] - W.T).max() < 0.05
    assert np.abs(coef[:, [0, 2, 3]]).max() < 0.05
    assert enc.cross_validate(X, Y, n_outer=4).min() > 0.95


def rsatoolbox_crossnobis(P, precision):
    """rsatoolbox's crossnobis in NumPy: each fold against the mean of the others."""
    folds, n, c = P.shape
    d = np.zeros(n * (n - 1) // 2)
    for f in range(folds):
        A = np.delete(P, f, axis=0).mean(0)
        B = P[f]
        for k, (i, j) in enumerate(itertools.combinations(range(n), 2)):
            d[k] += (A[i] - A[j]) @ precision @ (B[i] - B[j]) / c / folds
    return d


def test_rdms_and_comparisons_match_references():
    rng = np.random.default_rng(6)
    P = rng.standard_normal((9, 40)).astype(np.float32)
    assert np.allclose(bm.rdm(P), pdist(P.astype(float), "correlation"))
    assert np.allclose(bm.rdm(P, "euclidean"), pdist(P.astype(float), "sqeuclidean") / 40)
    folds = (P[None] + 0.5 * rng.standard_normal((3, 9, 40))).astype(np.float32)
    noise = rng.standard_normal((200, 40))
    prec = np.linalg.inv(np.cov(noise.T) + 0.1 * np.eye(40))
    assert np.allclose(bm.rdm(folds, "crossnobis", prec),
                       rsatoolbox_crossnobis(folds.astype(float), prec))
    # Crossnobis is unbiased: identical conditions give distances around 0, not above.
    same = np.repeat(rng.standard_normal((1, 40)), 9, axis=0)[None] + rng.standard_normal((4, 9, 40))
    assert abs(bm.rdm(same.astype(np.float32), "crossnobis").mean()) < 0.05
    a = np.round(rng.standard_normal(36), 1)  # ties on purpose
    b = np.round(a + rng.standard_normal(36), 1)
    assert np.isclose(bm.compare_rdms(a, b, "spearman"), spearmanr(a, b)[0])
    conc = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
               for i, j in itertools.combinations(range(36), 2))
    assert np.isclose(bm.compare_rdms(a, b, "kendall_tau_a"), conc / (36 * 35 / 2))
    ra, rb = rankdata(a) - 18.5, rankdata(b) - 18.5
    assert np.isclose(bm.compare_rdms(a, b, "rho_a"), 12 * ra @ rb / (36 ** 3 - 36))
    assert np.isclose(bm.compare_rdms(a, b, "pearson"), np.corrcoef(a, b)[0, 1])


def test_rdm_noise_ceiling_is_rsatoolbox_leave_one_out():
    rng = np.random.default_rng(7)
    truth = rng.standard_normal(45)
    rdms = truth + 0.8 * rng.standard_normal((6, 45))
    lower, upper = bm.rdm_noise_ceiling(rdms, "spearman")
    ranks = np.array([rankdata(r) for r in rdms])
    lo = np.mean([spearmanr(np.delete(ranks, s, 0).mean(0), rdms[s])[0] for s in range(6)])
    up = np.mean([spearmanr(ranks.mean(0), rdms[s])[0] for s in range(6)])
    assert np.isclose(lower, lo) and np.isclose(upper, up) and lower < upper
    # The true RDM scores between the bounds; a random one near 0.
    score = np.mean([spearmanr(truth, r)[0] for r in rdms])
    assert lower - 0.05 < score < upper + 0.02
    result = bm.rsa(rng.standard_normal((10, 5)), [rng.standard_normal((10, 8)) for _ in range(3)])
    assert result["brain_rdms"].shape == (3, 45) and len(result["noise_ceiling"]) == 2


def test_permutation_test_finds_signal_and_not_noise():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((200, 6)).astype(np.float32)
    y = 0.6 * X[:, 0] + rng.standard_normal(200)
    score, p, null = bm.permutation_test(bm.RidgeCV(cv=4), X, y, n_permutations=40)
    assert score > 0.15 and p == 1 / 41 and null.shape == (40,) and null.max() < score
    score, p, _ = bm.permutation_test(bm.RidgeCV(cv=4), X, rng.standard_normal(200), 40)
    assert p > 0.05
    again = bm.permutation_test(bm.RidgeCV(cv=4), X, y, n_permutations=40)
    assert again[1] == 1 / 41  # seeded: the same permutations
    labels = (y > 0).astype(int)
    acc, p, _ = bm.permutation_test(bm.LogisticRegressionCV(Cs=3, cv=3), X, labels, 15)
    assert acc > 0.6 and p <= 2 / 16


def test_steering_directions_point_along_the_class_difference():
    rng = np.random.default_rng(9)
    d = rng.standard_normal(12)
    d /= np.linalg.norm(d)
    labels = np.tile([0, 1], 100)
    Z = rng.standard_normal((200, 12)) + 2 * np.outer(labels, d)
    for method in ("mean_difference", "logistic"):
        v, acc = bm.steering_direction(Z, labels, method)
        assert abs(np.linalg.norm(v) - 1) < 1e-6 and v @ d > 0.9 and acc > 0.75


def test_translation_recovers_a_known_map_and_works_through_an_aligner():
    rng = np.random.default_rng(10)
    A = rng.standard_normal((500, 6)).astype(np.float32)
    M = rng.standard_normal((6, 4))
    B = A @ M + 0.1 * rng.standard_normal((500, 4))
    tr = bm.NeuralTranslation().fit(A, B)
    assert np.abs(tr.coef_ - M.T).max() < 0.02
    # Two subjects sharing a response: translate subject 0 into subject 1 through SRM.
    S = rng.standard_normal((400, 5))
    subj = [(S @ np.linalg.qr(rng.standard_normal((30, 5)))[0].T
             + 0.2 * rng.standard_normal((400, 30))).astype(np.float32) for _ in range(2)]
    aligner = btfm.Aligner("srm", n_features=5, seed=0).fit([x[:300] for x in subj])
    tr = bm.NeuralTranslation(aligner=aligner, subject=0).fit(subj[0][:300], subj[1][:300])
    # The best any map can do is subject 1's shared part: each voxel's signal variance
    # 5/30 against noise 0.04 allows r = sqrt(0.167 / 0.207) = 0.90.
    r = tr.score_targets(subj[0][300:], subj[1][300:], "pearson")
    assert r.mean() > 0.8
    back = bm.Model.from_bytes(tr.model_.to_bytes())
    assert np.allclose(back.predict(subj[0][300:]), tr.model_.predict(subj[0][300:]))


def test_synthetic_responses_follow_the_residual_covariance():
    rng = np.random.default_rng(11)
    n, p, t = 1500, 5, 8
    X = rng.standard_normal((n, p)).astype(np.float32)
    L = rng.standard_normal((t, 2))
    noise = rng.standard_normal((n, 2)) @ L.T + 0.5 * rng.standard_normal((n, t))
    Y = X @ rng.standard_normal((p, t)) + noise
    enc = bm.EncodingModel(delays=None, noise_rank=2).fit(X, Y)
    sim = enc.model_.synthesize(X, "low_rank", seed=3) - enc.model_.predict(X)
    cov, truth = np.cov(sim.T), L @ L.T + 0.25 * np.eye(t)
    assert np.abs(cov - truth).max() < 0.25 * np.abs(truth).max()
    ind = enc.model_.synthesize(X, "independent", seed=3) - enc.model_.predict(X)
    assert np.allclose(ind.var(axis=0), np.diag(truth), rtol=0.15)
    assert np.array_equal(enc.model_.synthesize(X, "none"), enc.model_.predict(X))
    ds = enc.model_.synthesize_dataset(X[:100], sfreq=0.5)
    assert (ds.n_times, ds.n_channels) == (100, t)


def test_brain_score_ranks_layers():
    rng = np.random.default_rng(12)
    good = rng.standard_normal((300, 8)).astype(np.float32)
    bad = rng.standard_normal((300, 8)).astype(np.float32)
    brain = good @ rng.standard_normal((8, 10)) + rng.standard_normal((300, 10))
    assert bm.brain_score(good, brain) > 0.8 > 0.1 > bm.brain_score(bad, brain)
