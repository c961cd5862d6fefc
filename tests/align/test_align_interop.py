"""libbtfm's aligner against SciPy and the NumPy references of tests/align/references.py
(PyMVPA hyperalignment, BrainIAK SRMs and metrics) on simulated shared responses with
known ground truth and unrelated anatomical layouts."""

import os
import sys

import numpy as np
import pytest
import scipy.linalg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import references as ref  # noqa: E402
import btfm  # noqa: E402

N, T_TRAIN, T_TEST, V, K = 5, 300, 200, 120, 8


@pytest.fixture(scope="module")
def sim():
    return ref.simulate(N, T_TRAIN, T_TEST, V, K, noise=0.3, seed=3)


def rotation_residual(a, b):
    """Relative residual of the best orthogonal map of a onto b (SRM's symmetry)."""
    q, _ = scipy.linalg.orthogonal_procrustes(a, b)
    return np.linalg.norm(a @ q - b) / np.linalg.norm(b)


@pytest.mark.parametrize("t,v,flip", [(40, 6, False), (12, 50, False), (40, 6, True),
                                      (30, 30, True)])
def test_procrustes_matches_scipy(t, v, flip):
    """The aligned data of a two-subject hyperalignment with level 2 off and the
    template equal to the reference reduce to one Procrustes fit; compared with
    scipy.linalg.orthogonal_procrustes on the same z-scored data."""
    rng = np.random.RandomState(t * 100 + v)
    x = rng.randn(t, v)
    q = np.linalg.qr(rng.randn(v, v))[0]
    if flip != (np.linalg.det(q) < 0):
        q[:, 0] = -q[:, 0]
    y = x @ q + 0.3 * rng.randn(t, v)
    zx, zy = ref.zscore(x), ref.zscore(y)
    r, _ = scipy.linalg.orthogonal_procrustes(zx, zy)
    al = btfm.Aligner("hyperalignment", level2_passes=0, scaling=False, reference=1)
    al.fit([x.astype(np.float32), y.astype(np.float32)])
    ours = al.transform(x.astype(np.float32), subject=0)
    # Level 3 maps x onto the template z(mean(z(x R1), z(y))); rebuild it from SciPy.
    p1 = ref.zscore(zx @ r)
    common = ref.zscore((p1 + zy) / 2)
    r3, _ = scipy.linalg.orthogonal_procrustes(zx, common)
    np.testing.assert_allclose(ours, zx @ r3, atol=2e-4 * np.abs(zx @ r3).max())


@pytest.mark.parametrize("scaling,reflection,alpha,passes", [
    (True, True, 1.0, 1), (False, False, 1.0, 2), (True, True, 0.9, 1)])
def test_hyperalignment_matches_pymvpa(sim, scaling, reflection, alpha, passes):
    train, test, *_ = sim
    transform, common = ref.hyperalignment(train, scaling, reflection, passes, alpha=alpha)
    al = btfm.Aligner("hyperalignment", scaling=scaling, reflection=reflection,
                      alpha=alpha, level2_passes=passes)
    al.fit(train)
    np.testing.assert_allclose(al.common, common, atol=1e-3)
    for i in range(N):  # training data: the rotations agree where the data lives
        expect = transform(train[i], i)
        np.testing.assert_allclose(al.transform(train[i], i), expect,
                                   atol=2e-3 * np.abs(expect).max())
    ours = btfm.segment_matching([al.transform(test[i], i) for i in range(N)])
    theirs = ref.segment_matching([transform(test[i], i) for i in range(N)])
    assert abs(ours.mean() - theirs.mean()) <= 0.01
    if alpha == 1.0:
        assert ours.mean() >= 0.95


def test_anatomical_alignment_is_near_chance(sim):
    _, test, *_ = sim
    acc = btfm.segment_matching(test)
    assert acc.mean() < 0.05
    np.testing.assert_allclose(acc, ref.segment_matching(test), atol=1e-12)


@pytest.mark.parametrize("method", ["srm", "probabilistic_srm"])
def test_srm_matches_brainiak(sim, method):
    train, test, s_train, *_ = sim
    fit = ref.det_srm if method == "srm" else ref.prob_srm
    w, s, means = fit(train, K, n_iter=30)
    al = btfm.Aligner(method, n_features=K, max_iter=30, zscore=False, tol=0)
    al.fit(train)
    assert al.fit_info[0] == 30
    # The shared response agrees up to a rotation within the shared space.
    assert rotation_residual(al.common.astype(np.float64), s) < 0.01
    # Both recover the simulated truth up to rotation.
    assert rotation_residual(s_train, al.common.astype(np.float64)) < 0.3
    ours = btfm.segment_matching([al.transform(test[i], i) for i in range(N)])
    theirs = ref.segment_matching([(test[i] - means[i]) @ w[i] for i in range(N)])
    assert ours.mean() >= 0.95
    assert abs(ours.mean() - theirs.mean()) <= 0.01


def test_transform_removes_the_subject_mean(sim):
    """BrainIAK's transform() forgets the subject mean. With data far from zero mean,
    the deterministic SRM's shared response is exactly the mean of the subjects'
    transformed training data only when transform removes the mean fitted at training."""
    train, *_ = sim
    shifted = [(x + 5.0 * (i + 1)).astype(np.float32) for i, x in enumerate(train)]
    al = btfm.Aligner("srm", n_features=K, zscore=False).fit(shifted)
    mean_image = np.mean([al.transform(x, i) for i, x in enumerate(shifted)], axis=0)
    np.testing.assert_allclose(mean_image, al.common, atol=1e-3)
    # The same data without the shift give the same common space (the means are removed).
    al0 = btfm.Aligner("srm", n_features=K, zscore=False).fit(train)
    np.testing.assert_allclose(al0.common, al.common, atol=1e-3)


def test_metrics_match_numpy(sim):
    _, test, *_ = sim
    rng = np.random.RandomState(0)
    data = np.stack(test)[:, :, :10]
    np.testing.assert_allclose(btfm.isc(data), ref.isc(data), atol=1e-6)
    np.testing.assert_allclose(btfm.isc(data, pairwise=True), ref.isc(data, True), atol=1e-6)
    labels = rng.randint(0, 4, size=data.shape[1])
    np.testing.assert_allclose(btfm.classification(data, labels),
                               ref.classification(data, labels), atol=1e-12)
    np.testing.assert_allclose(btfm.segment_matching(data, 5), ref.segment_matching(data, 5),
                               atol=1e-12)


# Fewer time points than features (T < V), the shape of fMRI: the T x T routes
# (hyperalignment's Procrustes through Y Y^T, the SRM's updates through X X^T) against
# the same references.
N_W, T_W, V_W, K_W = 4, 120, 200, 5


@pytest.fixture(scope="module")
def wide():
    return ref.simulate(N_W, T_W, 100, V_W, K_W, noise=0.3, seed=5)


@pytest.mark.parametrize("scaling,reflection,alpha,passes", [
    (True, True, 1.0, 1), (False, False, 1.0, 2), (True, True, 0.9, 1)])
def test_wide_hyperalignment_matches_pymvpa(wide, scaling, reflection, alpha, passes):
    train, test, *_ = wide
    transform, common = ref.hyperalignment(train, scaling, reflection, passes, alpha=alpha)
    al = btfm.Aligner("hyperalignment", scaling=scaling, reflection=reflection,
                      alpha=alpha, level2_passes=passes)
    al.fit(train)
    np.testing.assert_allclose(al.common, common, atol=1e-3)
    # With T < V the rotation is only determined on the training data's row space (the
    # full V x V SVD picks an arbitrary completion, libbtfm the minimum-norm one), so the
    # aligned training data agree exactly and held-out data through segment matching.
    for i in range(N_W):
        expect = transform(train[i], i)
        np.testing.assert_allclose(al.transform(train[i], i), expect,
                                   atol=2e-3 * np.abs(expect).max())
    # The reported objective is its definition: mean squared distance of the aligned
    # training data to the common template.
    images = np.stack([al.transform(train[i], i) for i in range(N_W)]).astype(np.float64)
    assert al.fit_info[1] == pytest.approx(np.mean((images - al.common) ** 2), rel=1e-3)
    # Held-out accuracies are compared without whitening: with it (alpha < 1) at this
    # size both are low (~0.35) and rest on the completion off the row space, where
    # the two solutions legitimately differ.
    if alpha == 1.0:
        ours = btfm.segment_matching([al.transform(test[i], i) for i in range(N_W)])
        theirs = ref.segment_matching([transform(test[i], i) for i in range(N_W)])
        assert abs(ours.mean() - theirs.mean()) <= 0.01
        assert ours.mean() >= 0.95


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_wide_hyperalignment_threads_match_pymvpa(wide, threads):
    """The per-subject phases on 1, 2 or 3 threads: the same template and maps as
    PyMVPA's algorithm (two level-2 passes, so each phase runs more than once)."""
    train, *_ = wide
    transform, common = ref.hyperalignment(train, level2_niter=2)
    al = btfm.Aligner("hyperalignment", level2_passes=2, num_threads=threads).fit(train)
    np.testing.assert_allclose(al.common, common, atol=1e-3)
    for i in range(N_W):
        expect = transform(train[i], i)
        np.testing.assert_allclose(al.transform(train[i], i), expect,
                                   atol=2e-3 * np.abs(expect).max())


def test_wide_hyperalignment_reduced_matches_pymvpa(wide):
    """n_features = K: the template reduced to its top K principal directions; the maps
    agree with PyMVPA's Procrustes onto that template (up to the directions' signs)."""
    train, _, *_ = wide
    transform, reduced = ref.hyperalignment(train, n_features=K_W)
    al = btfm.Aligner("hyperalignment", n_features=K_W).fit(train)
    signs = np.sign(np.sum(al.common * reduced, axis=0))
    np.testing.assert_allclose(al.common * signs, reduced, atol=1e-3)
    for i in range(N_W):
        expect = transform(train[i], i)
        np.testing.assert_allclose(al.transform(train[i], i) * signs, expect,
                                   atol=2e-3 * np.abs(expect).max())


def test_wide_srm_matches_brainiak(wide):
    train, test, *_ = wide
    w, s, means = ref.det_srm(train, K_W, n_iter=30)
    al = btfm.Aligner("srm", n_features=K_W, max_iter=30, zscore=False, tol=0).fit(train)
    assert al.fit_info[0] == 30
    assert rotation_residual(al.common.astype(np.float64), s) < 0.01
    ours = btfm.segment_matching([al.transform(test[i], i) for i in range(N_W)])
    theirs = ref.segment_matching([(test[i] - means[i]) @ w[i] for i in range(N_W)])
    assert abs(ours.mean() - theirs.mean()) <= 0.01
    # The maps are orthonormal, as the model requires: transforming the identity (plus
    # the subject mean the transform removes) gives W_i.
    for i, x in enumerate(train):
        w_i = al.transform(np.eye(V_W) + np.asarray(x, np.float64).mean(0), i)
        np.testing.assert_allclose(w_i.T @ w_i, np.eye(K_W), atol=1e-4)


def test_square_hyperalignment_held_out_matches_float64():
    """T = V: each centered X_i^T Y has singular values down to 1e-5 of the largest, which
    float products resolve to percents; the held-out maps must still agree with a float64
    implementation of the documented procedure (singular values below 1e-8 of the largest
    dropped), as the training outputs do."""
    n, t, v = 8, 250, 250
    train, test, *_ = ref.simulate(n, t, 100, v, 10, noise=0.1, seed=0)
    rng = np.random.RandomState(1)
    for x in train + test:  # 30% of the voxels carry extra noise of their own
        idx = rng.choice(v, int(0.3 * v), replace=False)
        x[:, idx] += rng.randn(x.shape[0], idx.size).astype(np.float32)
    transform, common = ref.hyperalignment(train, null_tol=1e-8)
    al = btfm.Aligner("hyperalignment").fit(train)
    np.testing.assert_allclose(al.common, common, atol=1e-3)
    for i in range(n):
        for x in (train[i], test[i]):
            expect = transform(x, i)
            err = np.linalg.norm(al.transform(x, i) - expect) / np.linalg.norm(expect)
            assert err < 1e-4, (i, err)


def test_segment_matching_zscores_like_brainiak():
    """Features of scales 0.1 to 10: BrainIAK's procedure z-scores each subject's
    features over time before matching, so the large-scale noisy features do not drown
    the informative small ones. The default matches a NumPy implementation of it; the
    raw variant matches the procedure without z-scoring, and scores lower."""
    rng = np.random.RandomState(7)
    n, t, v = 4, 120, 30
    shared = rng.randn(t, v)
    scales = np.logspace(-1, 1, v)
    data = [((shared + 0.8 * rng.randn(t, v)) * scales).astype(np.float32) for _ in range(n)]
    for x in data:  # the large features carry only noise of their own
        x[:, v // 2:] = (rng.randn(t, v - v // 2) * scales[v // 2:]).astype(np.float32)
    ours = btfm.segment_matching(data, 5)
    np.testing.assert_allclose(ours, ref.segment_matching(data, 5), atol=1e-12)
    raw = btfm.segment_matching(data, 5, zscore=False)
    np.testing.assert_allclose(raw, ref.segment_matching(data, 5, zscore=False), atol=1e-12)
    assert ours.mean() > raw.mean() + 0.2


def test_srm_stops_on_its_tolerance_and_reports_the_change():
    """The default SRM runs until the relative objective change falls to tol (1e-6)
    under a generous cap; the reported change is the one between the last two
    objectives, as fits stopped one iteration apart (tol = 0) give them."""
    train, test, *_ = ref.simulate(4, 150, 100, 60, 5, noise=1.0, seed=11)
    for method in ("srm", "probabilistic_srm"):
        al = btfm.Aligner(method, n_features=5).fit(train)
        iters, objective = al.fit_info
        assert 10 < iters < 1000
        assert al.fit_change <= 1e-6
        last = btfm.Aligner(method, n_features=5, max_iter=iters, tol=0).fit(train)
        before = btfm.Aligner(method, n_features=5, max_iter=iters - 1, tol=0).fit(train)
        assert last.fit_info[1] == pytest.approx(objective, rel=1e-12)
        expect = abs(last.fit_info[1] - before.fit_info[1]) / abs(last.fit_info[1])
        assert al.fit_change == pytest.approx(expect, rel=1e-6, abs=1e-15)
        capped = btfm.Aligner(method, n_features=5, max_iter=3).fit(train)
        assert capped.fit_info[0] == 3 and capped.fit_change > 1e-6
    assert np.isnan(btfm.Aligner("hyperalignment").fit(train).fit_change)
    # Where it matters: 30% of the voxels with loud noise of their own, where BrainIAK's
    # 10 iterations stop short; run to its tolerance, held-out matching is higher.
    train, test, *_ = ref.simulate(6, 300, 200, 200, 10, noise=1.0, seed=0)
    rng = np.random.RandomState(1)
    for x in train + test:
        idx = rng.choice(200, 60, replace=False)
        x[:, idx] += (3.0 * rng.randn(x.shape[0], 60)).astype(np.float32)
    acc = {}
    for max_iter in (10, 1000):
        al = btfm.Aligner("srm", n_features=10, max_iter=max_iter).fit(train)
        acc[max_iter] = btfm.segment_matching([al.transform(test[i], i) for i in range(6)]).mean()
    assert al.fit_info[0] > 10 and al.fit_change <= 1e-6
    assert acc[1000] > acc[10] + 0.01, acc
