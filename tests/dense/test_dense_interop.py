"""lib/dense against NumPy's LAPACK-backed linear algebra on random matrices of awkward
shapes (1 x 1, prime sizes, square, wide and tall, rank deficient), through dense_tool."""

import os
import subprocess

import numpy as np
import pytest

TOOL = os.environ["BTFM_DENSE_TOOL"]
SHAPES = [(1, 1), (2, 3), (7, 7), (13, 5), (5, 13), (97, 31), (31, 97), (64, 64)]


def run(op, x, rhs=None):
    data = np.ascontiguousarray(x, dtype=np.float64).tobytes()
    args = [TOOL, op, str(x.shape[0]), str(x.shape[1])]
    if rhs is not None:
        data += np.ascontiguousarray(rhs, dtype=np.float64).tobytes()
        args.append(str(rhs.shape[1]))
    done = subprocess.run(args, input=data, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return np.frombuffer(done.stdout, dtype=np.float64)


def matrix(rows, cols, seed, rank=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols))
    if rank is not None:  # a product through rank dimensions
        x = rng.standard_normal((rows, rank)) @ rng.standard_normal((rank, cols))
    return x


@pytest.mark.parametrize("shape", SHAPES)
def test_svd(shape):
    rows, cols = shape
    x = matrix(rows, cols, rows * 100 + cols)
    p = min(rows, cols)
    out = run("svd", x)
    s, u, vt = out[:p], out[p:p + rows * p].reshape(rows, p), out[p + rows * p:].reshape(p, cols)
    np.testing.assert_allclose(s, np.linalg.svd(x, compute_uv=False), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(u @ np.diag(s) @ vt, x, atol=1e-12)
    np.testing.assert_allclose(u.T @ u, np.eye(p), atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES + [(40, 12, 5), (12, 40, 5)])
def test_thin_svd_from_gram(shape):
    rows, cols, *rank = shape
    x = matrix(rows, cols, 7 + rows + cols, rank[0] if rank else None)
    out = run("thin_svd", x)
    r = int(out[0])
    s = out[1:1 + r]
    u = out[1 + r:1 + r + rows * r].reshape(rows, r)
    v = out[1 + r + rows * r:].reshape(cols, r)
    ref = np.linalg.svd(x, compute_uv=False)
    expected_rank = int(np.sum(ref > 1e-7 * ref[0]))
    assert r == expected_rank
    # The Gram route squares the condition number: relative to s_max, 1e-7 accuracy.
    np.testing.assert_allclose(s, ref[:r], atol=1e-7 * ref[0])
    np.testing.assert_allclose(u @ np.diag(s) @ v.T, x, atol=1e-6 * ref[0])


@pytest.mark.parametrize("shape", SHAPES + [(30, 9, 4), (9, 30, 4)])
def test_pinv(shape):
    rows, cols, *rank = shape
    x = matrix(rows, cols, 3 * rows + cols, rank[0] if rank else None)
    out = run("pinv", x)
    r = int(out[0])
    pinv = out[1:1 + rows * cols].reshape(cols, rows)
    cov = out[1 + rows * cols:].reshape(cols, cols)
    assert r == np.linalg.matrix_rank(x)
    np.testing.assert_allclose(pinv, np.linalg.pinv(x), atol=1e-10)
    np.testing.assert_allclose(cov, pinv @ pinv.T, atol=1e-9)


@pytest.mark.parametrize("shape", SHAPES + [(30, 9, 4), (9, 30, 4)])
def test_lstsq(shape):
    rows, cols, *rank = shape
    x = matrix(rows, cols, 11 * rows + cols, rank[0] if rank else None)
    y = matrix(rows, 3, rows)
    out = run("lstsq", x, y)
    beta = out[1:].reshape(cols, 3)
    ref, _, ref_rank, _ = np.linalg.lstsq(x, y, rcond=None)
    assert int(out[0]) == ref_rank
    np.testing.assert_allclose(beta, ref, atol=1e-10)


@pytest.mark.parametrize("n", [1, 2, 7, 31, 64])
def test_symmetric_eigen_and_det(n):
    a = matrix(n, n, n)
    sym = a + a.T
    out = run("syev", sym)
    w, v = out[:n], out[n:].reshape(n, n)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(sym)[::-1], atol=1e-11)
    np.testing.assert_allclose(sym @ v, v * w, atol=1e-10)
    det = run("det", a)[0]
    assert det == pytest.approx(np.linalg.det(a), rel=1e-10)


@pytest.mark.parametrize("n", [1, 3, 17, 64])
def test_cholesky_and_spd_inverse(n):
    a = matrix(n, n, 5 * n)
    spd = a @ a.T + n * np.eye(n)
    r = run("chol", spd).reshape(n, n)
    np.testing.assert_allclose(r, np.linalg.cholesky(spd).T, atol=1e-11)
    out = run("spd_inverse", spd)
    sign, logdet = np.linalg.slogdet(spd)
    assert sign == 1 and out[0] == pytest.approx(logdet, rel=1e-12)
    np.testing.assert_allclose(out[1:].reshape(n, n), np.linalg.inv(spd), atol=1e-11)


@pytest.mark.parametrize("shape", [(1, 1), (7, 7), (13, 5), (97, 31)])
def test_polar(shape):
    x = matrix(*shape, sum(shape))
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose(run("polar", x).reshape(shape), u @ vt, atol=1e-11)


def test_not_positive_definite_is_refused():
    done = subprocess.run([TOOL, "chol", "2", "2"], input=np.array([1.0, 2, 2, 1]).tobytes(),
                          capture_output=True, check=False)
    assert done.returncode == 1 and b"not positive definite" in done.stderr
