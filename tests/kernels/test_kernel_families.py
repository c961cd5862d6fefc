"""The same answers under every OpenBLAS kernel family: lean fits of every BLAS-using
layer (hyperalignment at T = 200, whose Cholesky factor had the order Prescott's strtri
crashed on; both SRMs; an OLS GLM; DPSS tapers and a multitaper PSD) run in a child
process per OPENBLAS_CORETYPE on one OpenBLAS thread, then compared with each other and
with NumPy/SciPy references. Stated tolerances (relative to each output's norm):
FAMILIES_AGREE between any two families, and the reference tolerances below."""

import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "align"))
import references as ref  # noqa: E402

FAMILIES = ["Prescott", "Nehalem", "Sandybridge", "Haswell", "SkylakeX"]
FAMILIES_AGREE = {"hyper": 1e-4, "srm": 1e-5, "prob_srm": 1e-5, "glm": 1e-6,
                  "dpss": 1e-12, "psd": 1e-9}
SUBJECTS, T_TRAIN, T_TEST, V, K = 3, 200, 120, 300, 20


def data():
    return ref.simulate(SUBJECTS, T_TRAIN, T_TEST, V, K, noise=0.5, seed=11)


def design():
    rng = np.random.RandomState(5)
    x = np.column_stack([np.ones(300), rng.randn(300, 11)])
    y = (x @ rng.randn(12, 7) + 0.1 * rng.randn(300, 7)).astype(np.float32)
    return x, y


def signal():
    t = np.arange(1001) / 250.0
    rng = np.random.RandomState(9)
    return (np.sin(2 * np.pi * 10 * t)[:, None] + 0.5 * rng.randn(1001, 4)).astype(np.float32)


def child(out):
    """Run in a process whose OpenBLAS loaded one family: every output into `out`."""
    import btfm
    train, test, *_ = data()
    results = {"family": btfm.runtime_info()["blas_kernels"]}
    for name, method, k in [("hyper", "hyperalignment", K), ("srm", "srm", 10),
                            ("prob_srm", "probabilistic_srm", 10)]:
        a = btfm.Aligner(method=method, n_features=k)
        a.fit(train)
        results[name] = np.stack([a.transform(x, i) for i, x in enumerate(test)])
    x, y = design()
    results["glm"] = btfm.glm.GLM(x, noise_model="ols").fit(y).betas
    results["dpss"] = btfm.spectrum.dpss(255, 4.0, 7)[0]
    results["psd"] = btfm.spectrum.psd_multitaper(signal(), 250.0)[0]
    np.savez(out, **results)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for family in FAMILIES:
        path = str(tmp_path_factory.mktemp(family) / "out.npz")
        env = dict(os.environ, OPENBLAS_CORETYPE=family, OPENBLAS_NUM_THREADS="1")
        r = subprocess.run([sys.executable, os.path.abspath(__file__), path], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, "%s: exit %d\n%s" % (family, r.returncode, r.stderr)
        got = dict(np.load(path))
        if str(got["family"]).lower() != family.lower():
            continue  # this CPU lacks the family's instructions: OpenBLAS loaded another
        out[family] = got
    assert "Prescott" in out and "Haswell" in out
    return out


def rel(a, b):
    return np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b)


@pytest.mark.parametrize("key", sorted(FAMILIES_AGREE))
def test_families_agree(runs, key):
    base = runs["Haswell"][key]
    for family, got in runs.items():
        assert rel(got[key], base) < FAMILIES_AGREE[key], (family, key, rel(got[key], base))


def test_hyperalignment_matches_pymvpa_reference(runs):
    train, test, *_ = data()
    transform, _ = ref.hyperalignment(train, n_features=K)
    want = np.stack([transform(x, i) for i, x in enumerate(test)])
    for family, got in runs.items():
        # the reduced template's directions are defined up to sign (one per component,
        # shared by every subject)
        signs = np.sign(np.einsum("itk,itk->k", got["hyper"], want))
        assert rel(got["hyper"] * signs, want) < 1e-3, (family, rel(got["hyper"] * signs, want))


def test_glm_and_dpss_match_numpy_and_scipy(runs):
    import scipy.signal
    x, y = design()
    betas = np.linalg.lstsq(x, y.astype(np.float64), rcond=None)[0]
    tapers = scipy.signal.windows.dpss(255, 4.0, 7)
    for family, got in runs.items():
        assert rel(got["glm"], betas) < 1e-6, family
        assert rel(got["dpss"], tapers) < 1e-9, family


if __name__ == "__main__":
    child(sys.argv[1])
