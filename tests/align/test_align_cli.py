"""`btfm align` driven as a user would: .npy files written and read by NumPy (the
independent implementation of the format), the fitted model checked against the
simulation's truth and against the same model used from Python."""

import os
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import references as ref  # noqa: E402
import btfm  # noqa: E402
import svg_read  # noqa: E402
from cli_support import run  # noqa: E402

BTFM = os.environ.get("BTFM_EXE")
pytestmark = pytest.mark.skipif(not BTFM, reason="BTFM_EXE names the btfm program")


def test_fit_and_transform(tmp_path):
    train, test, *_ = ref.simulate(4, 200, 100, 40, 4, noise=0.3, seed=5)
    inputs = []
    for i, x in enumerate(train):
        inputs.append(tmp_path / f"sub-{i}.npy")
        np.save(inputs[-1], x if i % 2 else x.astype(np.float64))  # f4 and f8 inputs
    model = tmp_path / "srm.model"
    r = run("align", "fit", "--method", "srm", "--n-features", 4, "--param", "seed=3", model,
            *inputs)
    assert r.returncode == 0, r.stderr
    al = btfm.Aligner.load(model)
    assert (al.method, al.n_subjects, al.n_components, al.get_param("seed")) == ("srm", 4, 4, 3)
    # the iterations and the final change, as the saved model reports them
    iters = al.fit_info[0]
    assert f"{iters} iterations (final relative objective change {al.fit_change:.3g})" in r.stdout
    assert al.fit_change <= 1e-6
    # no progress bar on a pipe; asked for, one that runs to its end
    assert not re.search(r"\[[#.]{30}\]", r.stderr)
    r = run("align", "fit", "--n-features", 4, tmp_path / "bar.model", *inputs,
            env=dict(os.environ, BTFM_PROGRESS="always"))
    assert r.returncode == 0 and re.search(r"\[#{30}\] 100% alignment fit", r.stderr), r.stderr
    images = []
    for i, x in enumerate(test):
        np.save(tmp_path / "in.npy", x)
        r = run("align", "transform", model, tmp_path / "in.npy", tmp_path / "out.npy",
                "--subject", i)
        assert r.returncode == 0, r.stderr
        images.append(np.load(tmp_path / "out.npy"))
        np.testing.assert_array_equal(images[-1], al.transform(x, i))
    assert ref.segment_matching(images).mean() >= 0.95
    r = run("align", "transform", model, tmp_path / "out.npy", tmp_path / "back.npy",
            "--subject", 3, "--inverse")
    assert r.returncode == 0 and np.load(tmp_path / "back.npy").shape == (100, 40)


@pytest.mark.parametrize("method", ["srm", "hyperalignment"])
def test_fit_plot_draws_convergence_and_held_out_scores(tmp_path, method):
    """The figure mapped back from its pixels: the convergence panel is the fit's
    objective after each iteration (SRM's falls at every one), the held-out panel the
    segment matching that BrainIAK's procedure (references.py, NumPy) gives on the last
    fifth of each subject, after a fit on the first four fifths with the same settings."""
    train, *_ = ref.simulate(4, 200, 10, 30, 4, noise=0.5, seed=8)
    inputs = []
    for i, x in enumerate(train):
        inputs.append(tmp_path / f"sub-{i}.npy")
        np.save(inputs[-1], x)
    model, svg = tmp_path / "m.model", tmp_path / "fit.svg"
    k = ["--n-features", 4] if method == "srm" else []
    r = run("align", "fit", "--method", method, *k, "--plot", svg, model, *inputs)
    assert r.returncode == 0, r.stderr
    _, (conv, held) = svg_read.read(str(svg))
    al = btfm.Aligner(method, **({"n_features": 4} if method == "srm" else {}))
    al.fit([x for x in train])
    if method == "srm":
        pts = np.array(conv.series("objective")["parts"][0])
        history = np.array(al.fit_history)
        assert len(history) == al.fit_info[0] == len(pts) >= 2
        np.testing.assert_allclose(pts[:, 0], np.arange(1, len(pts) + 1), atol=0.02)
        span = np.ptp(history) or 1.0
        np.testing.assert_allclose(pts[:, 1], history, atol=0.01 * span)
        # SRM's error falls at every iteration (up to single-precision rounding)
        assert np.all(np.diff(history) <= 1e-6) and history[-1] < history[0]
        # saved with the model, the history of the fit the CLI ran
        np.testing.assert_allclose(btfm.Aligner.load(model).fit_history, history, rtol=1e-5)
    else:
        assert al.fit_history == [] and "does not iterate" in conv.title
    split = 200 - 200 // 5
    part = btfm.Aligner(method, **({"n_features": 4} if method == "srm" else {}))
    part.fit([x[:split] for x in train])
    images = [part.transform(x[split:], i) for i, x in enumerate(train)]
    want = ref.segment_matching(images, win_size=10)
    raw = ref.segment_matching([x[split:] for x in train], win_size=10)
    got = np.array(held.series("aligned")["parts"][0])
    np.testing.assert_allclose(got[:, 0], np.arange(4), atol=0.02)
    np.testing.assert_allclose(got[:, 1], want, atol=0.01)
    anat = np.array(held.series("anatomical")["parts"][0])
    np.testing.assert_allclose(anat[:, 1], raw, atol=0.01)
    assert want.mean() > raw.mean() + 0.3  # alignment beats anatomy on this simulation


@pytest.mark.parametrize("content,message", [
    (b"not numpy", "not a .npy file"),
    ("int", "dtype"),
    ("3d", "expected a 2-D"),
    ("fortran", "Fortran-ordered"),
    ("truncated", "truncated"),
])
def test_bad_npy_inputs(tmp_path, content, message):
    bad = tmp_path / "bad.npy"
    if content == "int":
        np.save(bad, np.zeros((10, 3), dtype=np.int32))
    elif content == "3d":
        np.save(bad, np.zeros((2, 10, 3), dtype=np.float32))
    elif content == "fortran":
        np.save(bad, np.asfortranarray(np.random.rand(10, 3).astype(np.float32)))
    elif content == "truncated":
        np.save(bad, np.random.rand(10, 3).astype(np.float32))
        bad.write_bytes(bad.read_bytes()[:-8])
    else:
        bad.write_bytes(content)
    good = tmp_path / "good.npy"
    np.save(good, np.random.rand(10, 3).astype(np.float32))
    r = run("align", "fit", tmp_path / "m.model", good, bad)
    assert r.returncode == 1 and message in r.stderr and "bad.npy" in r.stderr


def test_usage_errors(tmp_path):
    assert run("align", "fit", "--method", "pca", "m", "a.npy", "b.npy").returncode == 2
    r = run("align", "fit", "--mask", "mask.nii.gz", tmp_path / "m", tmp_path / "a.nii.gz",
            tmp_path / "b.nii.gz")
    assert r.returncode == 1 and "a.nii.gz" in r.stderr
    assert run("align", "transform", "m").returncode == 2


def test_fit_on_nifti_volumes_with_a_mask(tmp_path):
    """Subjects as 4D NIfTI files written by nibabel, masked by a mask image: the model
    equals the one fitted from Python on the masked matrices nibabel gives."""
    nib = pytest.importorskip("nibabel")
    train, test, *_ = ref.simulate(3, 120, 60, 30, 3, noise=0.3, seed=9)
    shape = (5, 4, 4)  # 80 voxels, 30 inside the mask
    inside = np.zeros(80, bool)
    inside[np.random.default_rng(1).choice(80, 30, replace=False)] = True
    mask3d = inside.reshape(shape, order="F")
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    nib.save(nib.Nifti1Image(mask3d.astype(np.uint8), affine), tmp_path / "mask.nii.gz")
    paths, matrices = [], []
    for i, x in enumerate(train):
        vol = np.zeros((80, x.shape[0]), np.float32)
        vol[inside] = x.T
        img = nib.Nifti1Image(vol.reshape(shape + (x.shape[0],), order="F"), affine)
        paths.append(tmp_path / f"sub-{i}_bold.nii.gz")
        nib.save(img, paths[-1])
        data = nib.load(paths[-1]).get_fdata()
        matrices.append(data.reshape((80, -1), order="F")[inside].T.astype(np.float32))
    model = tmp_path / "srm.model"
    r = run("align", "fit", "--method", "srm", "--n-features", 3, "--param", "seed=2", "--mask",
            tmp_path / "mask.nii.gz", model, *paths)
    assert r.returncode == 0, r.stderr
    expected = btfm.Aligner("srm", n_features=3, seed=2).fit(matrices)
    got = btfm.Aligner.load(model)
    np.testing.assert_array_equal(got.transform(matrices[0], 0), expected.transform(matrices[0], 0))
    r = run("align", "transform", model, paths[1], tmp_path / "shared.npy", "--subject", 1,
            "--mask", tmp_path / "mask.nii.gz")
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "shared.npy"),
                                  expected.transform(matrices[1], 1))
