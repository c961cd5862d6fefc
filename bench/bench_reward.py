"""Speed of the reward head (doc/rlhb.md, "Speed") against scikit-learn and NumPy.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_reward.py [--runs 3] [--quick]

1. fit: a joint head on 10,000 items x 256 features from 20 annotators (40% of the items
   rated, 5,000 pairwise preferences within annotators), 5 annotator folds x 20 ridge
   penalties. The reference does the same fit as a scikit-learn user would write it:
   features and ratings z-scored within annotators; RidgeCV(alphas, cv=annotator folds)
   for the rating decoder and again inside every fold for its out-of-fold predictions;
   a NumPy Bradley-Terry (L-BFGS from SciPy on the pair differences, warm-started along
   the penalty grid, the penalty chosen by held-out log-likelihood over the same folds)
   for the preference decoder, likewise nested; the two stacked by least squares; and
   LogisticRegressionCV for the negative-affect classifier. The decoders are checked to
   agree first (penalties equal, weights and penalty probabilities to a tolerance).
2. score: btfm_reward_head_predict on 100,000 items in batches of 10,000 (20 annotators
   each), in items per second of CPU time (all threads counted) (target: 10^6 per core),
   beside the same arithmetic in NumPy (per-annotator z-scoring, one product, the Gaussian
   combination).

Both sides run in this process on the same OpenBLAS, warmed up, interleaved; best and
median of each and their ratio (reference / ours) are printed with the load average. The
library may set OpenBLAS's thread count during its own calls (as the btfm command does):
its folds then run on its own threads with OpenBLAS on one, while the reference keeps
OpenBLAS's threads; both sides have the same cores.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

from sidebyside import load, race, record  # noqa: E402  (bench/ is the script's folder)

N_ANNOT, FOLDS = 20, 5


def session(n, p, seed=0):
    """Items, features carrying a latent reward u in a few directions, 40% rated (noisy),
    pairs within annotators ordered by u plus noise."""
    rng = np.random.default_rng(seed)
    ann = np.repeat(np.arange(N_ANNOT), n // N_ANNOT)
    u = rng.standard_normal(n)
    load_ = np.zeros(p)
    load_[: p // 8] = rng.standard_normal(p // 8) * 0.15
    gain = rng.uniform(0.5, 2.0, N_ANNOT)[ann][:, None]  # per-annotator amplitude
    X = (gain * (rng.standard_normal((n, p)) + np.outer(u, load_))).astype(np.float32)
    ratings = (np.round(3 + u + rng.standard_normal(n))).astype(np.float32)
    ratings[rng.random(n) >= 0.4] = np.nan
    per = n // N_ANNOT
    n_pairs = n // 2
    a = rng.integers(0, N_ANNOT, n_pairs)
    i = a * per + rng.integers(0, per, n_pairs)
    j = a * per + rng.integers(0, per, n_pairs)
    keep = i != j
    i, j = i[keep], j[keep]
    better = u[i] + 0.5 * rng.standard_normal(len(i)) > u[j] + 0.5 * rng.standard_normal(len(i))
    pairs = np.stack([np.where(better, i, j), np.where(better, j, i)], 1).astype(np.int64)
    return X, ratings, pairs, ann


# ---- the reference: the head's fit written with scikit-learn, NumPy and SciPy -----------

def zscore_within(X, groups):
    out = np.empty_like(X, dtype=np.float64)
    for g in np.unique(groups):
        rows = groups == g
        m, s = X[rows].mean(0), X[rows].std(0, ddof=1)
        out[rows] = np.where(s > 0, (X[rows] - m) / np.where(s > 0, s, 1), 0)
    return out


def standardize(X, groups):
    Z = zscore_within(X.astype(np.float64), groups)
    c, s = Z.mean(0), Z.std(0, ddof=1)
    return np.where(s > 0, (Z - c) / np.where(s > 0, s, 1), 0).astype(np.float32)


def z_ratings(r, groups):
    z = np.full(len(r), np.nan)
    for g in np.unique(groups):
        rows = (groups == g) & ~np.isnan(r)
        z[rows] = (r[rows] - r[rows].mean()) / r[rows].std(ddof=1)
    return z


def logo(fold):
    """Leave-one-fold-out splits in fold order (the library's folds of whole groups)."""
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in np.unique(fold)]


def sk_ridge(X, y, fold, alphas):
    from sklearn.linear_model import RidgeCV
    return RidgeCV(alphas=alphas, cv=logo(fold)).fit(X, y)


def ridge_oof(X, y, fold, alphas):
    """The decoder, and its out-of-fold predictions with the penalty chosen inside."""
    model = sk_ridge(X, y, fold, alphas)
    oof = np.zeros(len(y))
    for f in np.unique(fold):
        tr, te = fold != f, fold == f
        oof[te] = sk_ridge(X[tr], y[tr], fold[tr], alphas).predict(X[te])
    return model, oof


def bt_path(D, alphas, b0=None):
    """Bradley-Terry (logistic loss of the pair differences D, no intercept, penalty
    alpha / 2 ||b||^2) along the grid, warm-started; one coefficient vector per alpha."""
    from scipy.optimize import minimize

    def fg(b, alpha):
        v = D @ b
        f = np.logaddexp(0, -v).sum() + 0.5 * alpha * b @ b
        g = -D.T @ (1 / (1 + np.exp(v))) + alpha * b
        return f, g
    b = np.zeros(D.shape[1]) if b0 is None else b0
    out = []
    for a in alphas:
        b = minimize(fg, b, args=(a,), jac=True, method="L-BFGS-B",
                     options={"gtol": 1e-9, "ftol": 1e-14, "maxiter": 2000}).x
        out.append(b)
    return out


def bt_cv(X, pairs, group, alphas):
    """The penalty by the sum over folds of the held-out mean log-likelihood, refit."""
    D = (X[pairs[:, 0]] - X[pairs[:, 1]]).astype(np.float64)
    score = np.zeros(len(alphas))
    for tr, te in logo(group):
        for k, b in enumerate(bt_path(D[tr], alphas)):
            score[k] += -np.logaddexp(0, -(D[te] @ b)).mean()
    best = alphas[int(np.argmax(score))]
    return bt_path(D, [best])[0], best


def bt_oof(X, pairs, fold, alphas):
    group = fold[pairs[:, 0]]
    coef, best = bt_cv(X, pairs, group, alphas)
    oof = X.astype(np.float64) @ coef
    for f in np.unique(fold):
        keep = (fold[pairs[:, 0]] != f) & (fold[pairs[:, 1]] != f)
        c, _ = bt_cv(X, pairs[keep], group[keep], alphas)
        oof[fold == f] = X[fold == f].astype(np.float64) @ c
    return coef, best, oof


def reference_fit(X, ratings, pairs, ann, alphas):
    from sklearn.linear_model import LogisticRegressionCV
    ids = {a: k for k, a in enumerate(dict.fromkeys(ann.tolist()))}
    group = np.array([ids[a] for a in ann.tolist()])
    fold = group % FOLDS
    xs = standardize(X, group)
    z = z_ratings(ratings.astype(np.float64), group)
    rated = np.flatnonzero(~np.isnan(z))
    ridge, b1 = ridge_oof(xs[rated], z[rated], fold[rated], alphas)
    bt, bt_alpha, b2 = bt_oof(xs, pairs, fold, alphas)
    A = np.column_stack([np.ones(len(rated)), b1, b2[rated]])
    c0, c1, c2 = np.linalg.lstsq(A, z[rated], rcond=None)[0]
    weights = c1 * ridge.coef_ + c2 * bt
    zr = z[rated]
    labels = (zr <= np.sort(zr)[int(np.floor((len(zr) - 1) / 3.0))]).astype(int)
    penalty = LogisticRegressionCV(Cs=10, cv=logo(fold[rated]), tol=1e-8,
                                   max_iter=1000).fit(xs[rated], labels)
    return {"weights": weights, "ridge_alpha": ridge.alpha_, "bt_alpha": bt_alpha,
            "stack": (c0, c1, c2), "penalty": penalty.predict_proba(xs[rated])[:, 1],
            "rated": rated}


# ---- ours ---------------------------------------------------------------------------

def our_fit(X, ratings, pairs, ann, alphas):
    import btfm
    head = btfm.RewardHead("joint", n_alphas=len(alphas), alpha_min=alphas[0],
                           alpha_max=alphas[-1], folds=FOLDS)
    return head.fit(X, ratings=ratings, pairs=pairs, annotators=ann)


def check_agreement(X, ratings, pairs, ann, alphas):
    ours = our_fit(X, ratings, pairs, ann, alphas)
    ref = reference_fit(X, ratings, pairs, ann, alphas)
    w, _ = ours.weights
    pen = ours.predict(X, annotators=ann)["penalty"][ref["rated"]]
    rel = np.abs(w - ref["weights"]).max() / np.abs(ref["weights"]).max()
    print(f"  agreement: value-decoder weights rel. difference {rel:.1e}; penalty "
          f"probabilities max difference {np.abs(pen - ref['penalty']).max():.1e}; "
          f"ridge alpha {ours.summary['alpha']:.4g} (reference {ref['ridge_alpha']:.4g}, "
          f"Bradley-Terry {ref['bt_alpha']:.4g}); stack c1, c2 = "
          f"{ref['stack'][1]:.3f}, {ref['stack'][2]:.3f}", flush=True)
    return rel


# ---- scoring --------------------------------------------------------------------------

def numpy_scorer(head):
    """The head's prediction in NumPy: z-score within annotators, standardize, one
    product with the reward decoder, the Gaussian combination without ratings."""
    from scipy.special import ndtr
    w, b = head.weights
    s = head.summary
    v, beta, noise = s["reliability"], s["brain_slope"], s["brain_noise"]
    prec = 1 / v + (beta * beta / noise if beta > 0 else 0)
    gain = beta / noise if beta > 0 else 0

    def score(X, ann, center, scale):
        out = np.empty(len(X), dtype=np.float32)
        for a in np.unique(ann):
            rows = ann == a
            xa = X[rows]
            z = (xa - xa.mean(0)) / xa.std(0, ddof=1)
            out[rows] = (((z - center) / scale) @ w + b) * (gain / prec)
        ndtr(out * np.sqrt(prec))
        return out
    return score


def case_fit(args):
    n, p = (2000, 64) if args.quick else (10000, 256)
    alphas = np.logspace(-1, 5, 20)
    X, ratings, pairs, ann = session(n, p)
    print(f"fit: joint head, {n} items x {p} features, {len(pairs)} pairs, "
          f"{int((~np.isnan(ratings)).sum())} ratings, {N_ANNOT} annotators, {FOLDS} annotator "
          f"folds x {len(alphas)} penalties (load {load():.1f})", flush=True)
    check_agreement(X, ratings, pairs, ann, alphas)
    a, b = race(lambda: our_fit(X, ratings, pairs, ann, alphas),
                lambda: reference_fit(X, ratings, pairs, ann, alphas), args.runs)
    record("reward", f"joint fit {n} x {p}, 5 folds x 20 penalties", a, b,
           "scikit-learn RidgeCV + LogisticRegressionCV + NumPy Bradley-Terry", target=3)


def case_score(args):
    import btfm
    n, p = (2000, 64) if args.quick else (10000, 256)
    X, ratings, pairs, ann = session(n, p)
    head = our_fit(X, ratings, pairs, ann, np.logspace(-1, 5, 20))
    batches = [session(n, p, seed=10 + k) for k in range(10)]
    center = scale = None
    # The training standardization (NumPy side): the head's own center and scale.
    Z = np.vstack([zscore_within(X, ann)])
    center, scale = Z.mean(0), Z.std(0, ddof=1)
    ref = numpy_scorer(head)
    items = n * len(batches)

    def ours():
        for Xb, _, _, ab in batches:
            head.predict(Xb, annotators=ab)

    def theirs():
        for Xb, _, _, ab in batches:
            ref(Xb, ab, center, scale)

    def cpu(fn):
        t0 = time.process_time()
        fn()
        return time.process_time() - t0
    ours()
    theirs()
    co, ct = [], []
    for _ in range(args.runs * 3):
        co.append(cpu(ours))
        ct.append(cpu(theirs))
    print(f"score: {items} items x {p} features in batches of {n} ({N_ANNOT} annotators each),"
          f" CPU time of every thread", flush=True)
    print(f"  ours {items / min(co):,.0f} / {items / statistics.median(co):,.0f} items per "
          f"CPU second (best / median; target 1,000,000), NumPy {items / min(ct):,.0f} / "
          f"{items / statistics.median(ct):,.0f}", flush=True)
    record("reward", f"score {items} items x {p} (CPU time)", co, ct, "NumPy, same arithmetic")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 items x 64 features")
    parser.add_argument("--only", help="fit,score")
    args = parser.parse_args()
    cases = {"fit": case_fit, "score": case_score}
    import btfm
    btfm.set_blas_thread_control(True)
    print(f"machine: {os.cpu_count()} cores, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, btfm {btfm.__version__}",
          flush=True)
    for name in (args.only.split(",") if args.only else cases):
        cases[name](args)


if __name__ == "__main__":
    sys.exit(main())
