"""Speed of the model layer against scikit-learn and NumPy (doc/models.md, "Speed").

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_model.py [--runs 3] [--quick] [--only ridge,logistic,...]

Each case runs libbtfm and the reference on the same float64-representable data in one
process (both on the same OpenBLAS and thread count), one warm-up round each, then
--runs rounds interleaved (ours, reference, ours, ...); it prints the best and median
times and the ratios reference / ours, and checks the answers agree first.

1. ridge-kfold: 10,000 samples x 256 features x 1,000 targets, 5 contiguous folds x 20
   alphas, alpha per target. Reference: scikit-learn per target as a user writes it
   (GridSearchCV(Ridge(), alphas, cv=KFold(5)); RidgeCV(cv=KFold(5)) refuses
   alpha_per_target), timed on --sk-targets targets and scaled to 1,000; and the strongest
   simple baseline, the same algebra vectorized in NumPy (one eigendecomposition of each
   fold's Gram matrix, every alpha and target at once).
2. ridge-gcv: the same data, leave-one-out in closed form against RidgeCV(alphas,
   alpha_per_target=True) over all targets.
3. logistic: 10,000 x 256, binary, 10 Cs, 5 folds, against LogisticRegressionCV on the
   same folds (lbfgs, tol 1e-6 as needed for coefficients to agree to 1e-5). The host
   lets libbtfm set OpenBLAS's threads (btfm.set_blas_thread_control(True), as the btfm
   command line does), so the folds run on the library's threads with one OpenBLAS
   thread each; scikit-learn runs its folds in turn with OpenBLAS on every core, and
   again with n_jobs=2 (folds in two worker processes).
4. bradley-terry: 10,000 pairs of 2,000 items x 256 features, 10 alphas, 5 folds, against
   LogisticRegressionCV on the feature differences without intercept (the same model).
5. encoding: 600 volumes x 50,000 voxels x 1,000 features, 4 FIR delays, 5-fold inner CV
   over 10 alphas: time and peak memory of each side in a child process, against the
   same kernel-ridge algebra in NumPy.
6. predict: 10,000 x 256 -> 1,000 targets (10^7 values) on one OpenBLAS thread, against
   NumPy X @ W + b: values per second per core.
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


from sidebyside import record  # noqa: E402  (bench/ is the script's folder)

def interleave(runs, ours, ref):
    """Warm both up, then alternate; lists of wall times."""
    ours()
    ref()
    a, b = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref()
        b.append(time.perf_counter() - t0)
    return a, b


def report(name, ours, ref, scale=1.0, ref_name="reference"):
    ref = [t * scale for t in ref]
    bo, mo, br, mr = min(ours), statistics.median(ours), min(ref), statistics.median(ref)
    print(f"  {name}: libbtfm best {bo:8.3f} s median {mo:8.3f} s | {ref_name} best {br:8.3f} s "
          f"median {mr:8.3f} s | ratio best {br / bo:6.2f}x median {mr / mo:6.2f}x", flush=True)
    record("model", name, ours, (br, mr), ref_name)  # into bench/run-all's table


@contextlib.contextmanager
def blas_control():
    """The host lets libbtfm set OpenBLAS's thread count around its own parallel work."""
    import btfm
    before = btfm.set_blas_thread_control(True)
    try:
        yield
    finally:
        btfm.set_blas_thread_control(before)


def rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


def ridge_data(n, p, t, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(np.float32)
    W = rng.standard_normal((p, t)) * rng.uniform(0, 0.3, t)
    Y = (X @ W + rng.standard_normal((n, t))).astype(np.float32)
    return X, Y


def numpy_kfold_ridge(X, Y, alphas, folds):
    """Per-target alpha by K-fold R^2 (mean over folds), refit: the library's algebra in
    NumPy (centered per training fold, eigendecomposition of the Gram matrix)."""
    n = X.shape[0]
    scores = np.zeros((len(alphas), Y.shape[1]))
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        xm, ym = X[train].mean(0), Y[train].mean(0)
        Xt, Yt = X[train] - xm, Y[train] - ym
        e, V = np.linalg.eigh(Xt.T @ Xt)
        XtY = V.T @ (Xt.T @ Yt)
        Xv = (X[test] - xm) @ V
        yt = Y[test]
        sst = ((yt - yt.mean(0)) ** 2).sum(0)
        for k, a in enumerate(alphas):
            pred = Xv @ (XtY / (e + a)[:, None]) + ym
            scores[k] += (1 - ((yt - pred) ** 2).sum(0) / sst) / len(folds)
    best = np.asarray(alphas)[scores.argmax(0)]
    xm, ym = X.mean(0), Y.mean(0)
    Xc = X - xm
    e, V = np.linalg.eigh(Xc.T @ Xc)
    proj = V.T @ (Xc.T @ (Y - ym))
    coef = V @ (proj / (e[:, None] + best[None, :]))
    return coef, best


def case_ridge(args):
    from sklearn.linear_model import Ridge
    from sklearn.linear_model import RidgeCV as SkRidgeCV
    from sklearn.model_selection import GridSearchCV, KFold

    from btfm.model import RidgeCV
    n, p, t = (2000, 128, 200) if args.quick else (10000, 256, 1000)
    alphas = np.logspace(-2, 5, 20)
    X, Y = ridge_data(n, p, t)
    Xd, Yd = X.astype(float), Y.astype(float)
    folds = np.array_split(np.arange(n), 5)
    print(f"ridge, {n} x {p} x {t} targets, 20 alphas, alpha per target", flush=True)

    ours = RidgeCV(alphas=alphas, cv=5).fit(X, Y)
    coef, best = numpy_kfold_ridge(Xd, Yd, alphas, folds)
    k = args.sk_targets
    sk = [GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5)).fit(Xd, Yd[:, j])
          for j in range(k)]
    print(f"  5-fold: alphas equal scikit-learn on {k} targets: "
          f"{all(ours.alpha_[j] == sk[j].best_params_['alpha'] for j in range(k))}, "
          f"coef rel. difference {max(rel(ours.coef_[j], sk[j].best_estimator_.coef_) for j in range(k)):.1e}; "
          f"alphas equal NumPy on all: {np.array_equal(ours.alpha_, best)}, "
          f"coef {rel(ours.coef_.T, coef):.1e}", flush=True)

    def sk_some():
        for j in range(k):
            GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5)).fit(Xd, Yd[:, j])
    a, b = interleave(args.runs, lambda: RidgeCV(alphas=alphas, cv=5).fit(X, Y), sk_some)
    report("5-fold x 20 alphas", a, b, scale=t / k,
           ref_name=f"scikit-learn GridSearchCV per target (scaled from {k})")
    a, b = interleave(args.runs, lambda: RidgeCV(alphas=alphas, cv=5).fit(X, Y),
                      lambda: numpy_kfold_ridge(Xd, Yd, alphas, folds))
    report("5-fold x 20 alphas", a, b, ref_name="NumPy, same algebra vectorized")

    gcv = RidgeCV(alphas=alphas).fit(X, Y)
    skg = SkRidgeCV(alphas=alphas, alpha_per_target=True).fit(Xd, Yd)
    print(f"  GCV: alphas equal scikit-learn: {np.array_equal(gcv.alpha_, skg.alpha_)}, "
          f"coef rel. difference {rel(gcv.coef_, skg.coef_):.1e}", flush=True)
    a, b = interleave(args.runs, lambda: RidgeCV(alphas=alphas).fit(X, Y),
                      lambda: SkRidgeCV(alphas=alphas, alpha_per_target=True).fit(Xd, Yd))
    report("leave-one-out (GCV)", a, b, ref_name="scikit-learn RidgeCV")


def case_logistic(args):
    from sklearn.linear_model import LogisticRegressionCV as SkLogisticRegressionCV
    from sklearn.model_selection import PredefinedSplit

    from btfm.model import LogisticRegressionCV
    n, p = (2000, 64) if args.quick else (10000, 256)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, p)).astype(np.float32)
    w = rng.standard_normal(p) * 0.2
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(int)
    Xd = X.astype(float)
    Cs = np.logspace(-4, 4, 10)
    test_fold = np.repeat(np.arange(5), n // 5)
    print(f"logistic, {n} x {p}, 10 Cs, 5 contiguous folds", flush=True)

    def sk_fit(n_jobs=None):
        return SkLogisticRegressionCV(Cs=Cs, cv=PredefinedSplit(test_fold), tol=1e-6,
                                      max_iter=1000, n_jobs=n_jobs).fit(Xd, y)
    ours = LogisticRegressionCV(Cs=Cs, cv=5).fit(X, y)
    sk = sk_fit()
    print(f"  C equal: {ours.C_[0] == sk.C_[0]}, coef rel. difference "
          f"{rel(ours.coef_.ravel(), sk.coef_.ravel()):.1e}", flush=True)
    with blas_control():
        a, b = interleave(args.runs, lambda: LogisticRegressionCV(Cs=Cs, cv=5).fit(X, y), sk_fit)
        report("logistic CV", a, b, ref_name="scikit-learn LogisticRegressionCV")
        a, b = interleave(args.runs, lambda: LogisticRegressionCV(Cs=Cs, cv=5).fit(X, y),
                          lambda: sk_fit(n_jobs=2))
        report("logistic CV", a, b, ref_name="scikit-learn LogisticRegressionCV n_jobs=2")
        # Both sides at tol 1e-6 (ours: no step above 1e-6 relative; scikit-learn: no
        # gradient entry above 1e-6), about as far from the converged fit.
        loose = LogisticRegressionCV(Cs=Cs, cv=5, tol=1e-6).fit(X, y)
        print(f"  tol 1e-6: C equal: {loose.C_[0] == sk.C_[0]}, coef rel. difference "
              f"{rel(loose.coef_.ravel(), sk.coef_.ravel()):.1e}", flush=True)
        a, b = interleave(args.runs, lambda: LogisticRegressionCV(Cs=Cs, cv=5, tol=1e-6).fit(X, y),
                          sk_fit)
        report("logistic CV, tol 1e-6", a, b, ref_name="scikit-learn LogisticRegressionCV")


def case_bradley_terry(args):
    from sklearn.linear_model import LogisticRegressionCV as SkLogisticRegressionCV
    from sklearn.model_selection import PredefinedSplit

    from btfm.model import BradleyTerry
    n_pairs, items, p = (2000, 400, 64) if args.quick else (10000, 2000, 256)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((items, p)).astype(np.float32)
    pairs = np.stack([rng.integers(0, items, n_pairs), rng.integers(0, items, n_pairs)], 1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    D = (X[pairs[:, 0]].astype(float) - X[pairs[:, 1]].astype(float))
    y = (rng.random(len(pairs)) < 1 / (1 + np.exp(-D @ (rng.standard_normal(p) * 0.2))))
    alphas = 1 / np.logspace(-4, 4, 10)
    test_fold = np.arange(len(pairs)) * 5 // len(pairs)
    print(f"Bradley-Terry, {len(pairs)} pairs of {items} items x {p} features, 10 alphas, "
          f"5 folds", flush=True)

    def sk_fit(n_jobs=None):
        return SkLogisticRegressionCV(Cs=1 / alphas, cv=PredefinedSplit(test_fold),
                                      fit_intercept=False, tol=1e-6, max_iter=1000,
                                      n_jobs=n_jobs).fit(D, y)
    split = PredefinedSplit(test_fold)
    ours = BradleyTerry(alphas=alphas, cv=split, scoring="accuracy").fit(X, pairs, y.astype(float))
    sk = sk_fit()
    print(f"  C equal: {1 / ours.alpha_ == sk.C_[0]}, coef rel. difference "
          f"{rel(ours.coef_.ravel(), sk.coef_.ravel()):.1e}", flush=True)
    def ours():
        BradleyTerry(alphas=alphas, cv=split, scoring="accuracy").fit(X, pairs, y.astype(float))
    with blas_control():
        a, b = interleave(args.runs, ours, sk_fit)
        report("Bradley-Terry CV", a, b,
               ref_name="scikit-learn LogisticRegressionCV on differences")
        a, b = interleave(args.runs, ours, lambda: sk_fit(n_jobs=2))
        report("Bradley-Terry CV", a, b,
               ref_name="scikit-learn LogisticRegressionCV on differences n_jobs=2")


ENCODING_CHILD = r"""
import sys, time, resource, numpy as np
side, n, v, p = sys.argv[1], *map(int, sys.argv[2:5])
rng = np.random.default_rng(3)
X = rng.standard_normal((n, p)).astype(np.float32)
Y = rng.standard_normal((n, v)).astype(np.float32)
Y[:, : v // 2] += (X[:, :20] @ rng.standard_normal((20, v // 2)) * 0.1).astype(np.float32)
alphas = np.logspace(0, 5, 10)
delays = (1, 2, 3, 4)
t0 = time.perf_counter()
if side == "btfm":
    from btfm.model import EncodingModel
    m = EncodingModel(delays=delays, alphas=alphas, cv=5).fit(X, Y)
    alpha = m.alpha_
else:
    D = np.zeros((n, p * len(delays)))
    for k, d in enumerate(delays):
        D[d:, k * p:(k + 1) * p] = X[:n - d]
    Yd = Y.astype(np.float64)
    folds = np.array_split(np.arange(n), 5)
    scores = np.zeros((len(alphas), v))
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        xm, ym = D[train].mean(0), Yd[train].mean(0)
        Dt = D[train] - xm
        e, U = np.linalg.eigh(Dt @ Dt.T)
        UtY = U.T @ (Yd[train] - ym)
        Kv = (D[test] - xm) @ Dt.T @ U
        yt = Yd[test]
        sst = ((yt - yt.mean(0)) ** 2).sum(0)
        for k, a in enumerate(alphas):
            pred = Kv @ (UtY / (e + a)[:, None]) + ym
            scores[k] += 1 - ((yt - pred) ** 2).sum(0) / sst
    alpha = alphas[scores.argmax(0)]
    Dc = D - D.mean(0)
    e, U = np.linalg.eigh(Dc @ Dc.T)
    UtY = U.T @ (Yd - Yd.mean(0))
    coef = np.empty((D.shape[1], v))
    for a in np.unique(alpha):
        cols = alpha == a
        coef[:, cols] = Dc.T @ (U @ (UtY[:, cols] / (e + a)[:, None]))
wall = time.perf_counter() - t0
print(wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      ",".join(str(int(np.log10(a) * 1000)) for a in alpha[:50]))
"""


def case_encoding(args):
    n, v, p = (300, 5000, 200) if args.quick else (600, 50000, 1000)
    print(f"encoding model, {n} volumes x {v} voxels x {p} features, 4 FIR delays, 5-fold x "
          f"10 alphas (each side in a child process)", flush=True)
    res = {"btfm": [], "numpy": []}
    picks = {}
    for r in range(args.runs):
        for side in ("btfm", "numpy"):
            out = subprocess.run([sys.executable, "-c", ENCODING_CHILD, side, str(n), str(v),
                                  str(p)], capture_output=True, text=True, check=True).stdout
            wall, rss, chosen = out.split()
            res[side].append((float(wall), float(rss)))
            picks[side] = chosen
    print(f"  alphas of the first 50 voxels equal: {picks['btfm'] == picks['numpy']}")
    for side in res:
        walls = [w for w, _ in res[side]]
        print(f"  {side}: best {min(walls):.2f} s median {statistics.median(walls):.2f} s, "
              f"peak RSS {max(m for _, m in res[side]):.0f} MiB")
    a, b = [w for w, _ in res["btfm"]], [w for w, _ in res["numpy"]]
    print(f"  ratio best {min(b) / min(a):.2f}x median {statistics.median(b) / statistics.median(a):.2f}x")
    record("model", "encoding model (child processes)", a, b, "NumPy")


def case_predict(args):
    from threadpoolctl import threadpool_limits

    from btfm.model import RidgeCV
    n, p, t = (2000, 128, 500) if args.quick else (10000, 256, 1000)
    X, Y = ridge_data(n, p, t)
    m = RidgeCV(alphas=[1.0]).fit(X[:2000], Y[:2000])
    W = m.coef_.T.astype(np.float32).copy()
    b = m.intercept_.astype(np.float32)
    with threadpool_limits(1):
        same = rel(m.predict(X), X @ W + b)
        a, r = interleave(max(args.runs, 5), lambda: m.model_.predict(X), lambda: X @ W + b)
    print(f"predict, {n} x {p} -> {t} targets on one thread (difference {same:.1e})")
    report("predict", a, r, ref_name="NumPy X @ W + b (float32)")
    print(f"  libbtfm {n * t / min(a) / 1e6:.0f} million values/s/core (best), "
          f"{n * t / statistics.median(a) / 1e6:.0f} (median)")


CASES = {"ridge": case_ridge, "logistic": case_logistic, "bradley-terry": case_bradley_terry,
         "encoding": case_encoding, "predict": case_predict}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the program")
    ap.add_argument("--sk-targets", type=int, default=3,
                    help="targets scikit-learn's per-target search is timed on (scaled)")
    ap.add_argument("--only", default=",".join(CASES))
    args = ap.parse_args()
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    for name in args.only.split(","):
        CASES[name](args)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
