"""btfm.Aligner and the alignment metrics from Python: the sklearn-style workflow, the
parameter surface, errors, persistence. Numerical agreement with SciPy/NumPy references
is in tests/align/."""

import numpy as np
import pytest

import btfm


def simulate(n=4, t=200, v=50, k=5, noise=0.3, seed=0):
    rng = np.random.RandomState(seed)
    s = rng.randn(t, k)
    layouts = [np.linalg.qr(rng.randn(v, k))[0] for _ in range(n)]
    return [(s @ w.T + noise * rng.randn(t, v)).astype(np.float32) for w in layouts], s


def test_fit_transform_inverse_and_metrics():
    data, s = simulate()
    al = btfm.Aligner(method="srm", n_features=5, seed=1)
    al.fit(data[:3])
    assert al.fitted and al.n_subjects == 3 and al.n_times == 200 and al.n_components == 5
    assert al.get_param("seed") == 1
    assert al.add_subject(data[3]) == 3  # fitted to the existing space
    images = [al.transform(x, subject=i) for i, x in enumerate(data)]
    assert images[0].shape == (200, 5) and images[0].dtype == np.float32
    # Every subject's image matches the others' (segment matching near 1, truth: same S).
    assert btfm.segment_matching(images, window=5).min() >= 0.95
    # Each image is the true S up to a rotation plus the subject's noise projected on
    # K directions: unit-variance components against noise variance 0.09 leave
    # 0.09 / 1.09 = 8% of the image unexplained by S; unrelated data would leave ~100%.
    coef, res, *_ = np.linalg.lstsq(s, images[3], rcond=None)
    assert res.sum() / (images[3] ** 2).sum() < 0.12
    back = al.inverse_transform(images[0], subject=1)
    assert back.shape == (200, 50)
    # Per feature: signal variance 5/50 = 0.1 against noise 0.09; a noise-free
    # prediction of subject 1 correlates with its data at sqrt(0.1 / 0.19) = 0.73.
    assert np.corrcoef(back.ravel(), data[1].ravel())[0, 1] > 0.65
    assert btfm.isc(images).min() > 0.8
    labels = np.arange(200) % 2
    assert btfm.classification(images, labels).shape == (4,)


def test_zero_copy_and_conversion():
    data, _ = simulate(n=2)
    al = btfm.Aligner("hyperalignment")
    al.add_subject(data[0])
    al.add_subject(np.asfortranarray(data[1].astype(np.float64)))  # converted once
    al.fit()
    assert al.n_components == 50
    with pytest.raises(ValueError, match="2 dimensions"):
        al.transform(data[0][0], subject=0)


def test_errors_carry_library_messages():
    data, _ = simulate(n=2)
    with pytest.raises(ValueError, match="unknown method"):
        btfm.Aligner("pca")
    al = btfm.Aligner("srm", n_features=5)
    bad = data[0].copy()
    bad[3, 7] = np.nan
    with pytest.raises(btfm.Error, match="subject 0, feature 7, time point 3 holds NaN"):
        al.add_subject(bad)
    al.add_subject(data[0])
    with pytest.raises(btfm.Error, match="subject 1 has 199 time points but subject 0 has 200"):
        al.add_subject(data[1][:199])
    with pytest.raises(btfm.Error) as err:
        al.set_param("alpha", 2.0)
    assert err.value.status_name == "BTFM_E_RANGE"
    al.add_subject(data[1])
    al.set_param("n_features", 201)
    with pytest.raises(btfm.Error, match="exceeds the 200 time points"):
        al.fit()


def test_save_load_bytes(tmp_path):
    data, _ = simulate()
    al = btfm.Aligner("probabilistic_srm", n_features=5).fit(data)
    path = tmp_path / "model.btfm"
    al.save(path)
    for other in (btfm.Aligner.load(path), btfm.Aligner.from_bytes(al.to_bytes())):
        assert other.method == "probabilistic_srm"
        np.testing.assert_array_equal(other.transform(data[2], 2), al.transform(data[2], 2))
    assert btfm.Container.load(path).kind == "aligner"
    with pytest.raises(btfm.Error):
        btfm.Aligner.from_bytes(btfm.Container("other").to_bytes())


def test_params_listed():
    names = [p.name for p in btfm.param_info("aligner")]
    assert names[:3] == ["n_features", "max_iter", "tol"] and "num_threads" in names
    assert set(btfm.ALIGN_METHODS) == {"hyperalignment", "srm", "probabilistic_srm"}


def test_hyperalignment_wide_save_load_inverse(tmp_path):
    """Fewer time points than features: the maps share the template's basis. A saved and
    reloaded model transforms identically; the least-squares inverse of an image maps
    back onto that image (y b^T b = y for y in b's row space); a subject added after the
    fit aligns with the others."""
    data, _ = simulate(n=4, t=40, v=100, k=4)
    al = btfm.Aligner("hyperalignment").fit(data[:3])
    path = tmp_path / "ha.btfm"
    al.save(path)
    for other in (btfm.Aligner.load(path), btfm.Aligner.from_bytes(al.to_bytes())):
        np.testing.assert_array_equal(other.transform(data[1], 1), al.transform(data[1], 1))
    y = al.transform(data[2], 2)
    back = al.inverse_transform(y, 2)
    np.testing.assert_allclose(al.transform(back, 2), y, atol=1e-4 * np.abs(y).max())
    assert al.add_subject(data[3]) == 3
    images = [al.transform(x, subject=i) for i, x in enumerate(data)]
    assert btfm.segment_matching(images, window=5).min() >= 0.95


@pytest.mark.parametrize("method", ["hyperalignment", "srm", "probabilistic_srm"])
def test_fit_progress_and_cancel_leave_the_aligner_as_it_was(method):
    data, _ = simulate(n=3)
    kw = dict(method=method, n_features=5) if method != "hyperalignment" else dict(method=method)
    fresh = btfm.Aligner(**kw).fit(data)
    al = btfm.Aligner(**kw)
    for x in data:
        al.add_subject(x)
    # (no `as err`: the traceback would hold this frame, and the handles, until a gc)
    with pytest.raises(btfm.Error, match="cancelled by the progress callback"):
        al.fit(progress=lambda stage, fraction: fraction > 0)
    assert not al.fitted and al.n_subjects == 3
    seen = []
    al.fit(progress=lambda stage, fraction: seen.append((stage, fraction)))
    fractions = [f for _, f in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    np.testing.assert_allclose(al.transform(data[0], 0), fresh.transform(data[0], 0),
                               rtol=0, atol=1e-4)
