"""The embedding-to-brain encoder (btfm_reward_encoder_fit, btfm.reward.BrainEncoder)
against scikit-learn's RidgeCV on the same rows and folds (penalties, coefficients, nested
held-out r), and against a simulated session's ground truth: the injected reward
positivity of each presentation is predicted from embeddings of the items' latent values
as well as the item's expected response allows, the EEG features' encoder predicts new
items' reward, shuffled embeddings predict nothing, and synthetic annotators carry the
fit's residual spread."""

import csv
import glob
import json
import os
import subprocess

import numpy as np
import pytest

import btfm

sklearn_linear = pytest.importorskip("sklearn.linear_model")
sklearn_ms = pytest.importorskip("sklearn.model_selection")

ALPHAS = 10.0 ** np.arange(-2, 6)


def standardize(x, groups):
    """z within each annotator, then over all rows (ddof 1 both times)."""
    out = np.empty_like(x, dtype=np.float64)
    for g in np.unique(groups):
        m = groups == g
        out[m] = (x[m] - x[m].mean(axis=0)) / x[m].std(axis=0, ddof=1)
    return (out - out.mean(axis=0)) / out.std(axis=0, ddof=1)


def item_folds(items, folds):
    order = {}
    for i in items:
        order.setdefault(int(i), len(order))
    return np.array([order[int(i)] * folds // len(order) for i in items])


def ridge_cv(x, y, fold):
    """One RidgeCV per target over the predefined folds (alpha per target)."""
    fits = []
    for j in range(y.shape[1]):
        cv = sklearn_ms.PredefinedSplit(fold)
        fits.append(sklearn_linear.RidgeCV(alphas=ALPHAS, cv=cv).fit(x, y[:, j]))
    return fits


def test_encoder_matches_sklearn_ridgecv():
    rng = np.random.default_rng(11)
    n_items, n_annot, dim, d, folds = 37, 4, 6, 5, 4
    emb = rng.standard_normal((n_items, dim)).astype(np.float32)
    w = rng.standard_normal((dim, d)) * np.array([1.0, 0.5, 0.2, 0.1, 0.05])
    # each annotator sees a different subset and order of the items
    items, annot = [], []
    for a in range(n_annot):
        seen = rng.permutation(n_items)[: n_items - 3 * a]
        items += seen.tolist()
        annot += [a] * len(seen)
    items, annot = np.array(items), np.array(annot)
    gain = 1 + np.arange(n_annot)[annot, None]
    feat = (gain * (emb[items] @ w + rng.standard_normal((len(items), d)))
            + 10 * annot[:, None]).astype(np.float32)

    model = btfm.model.Model("ridge")
    model.set_alphas(ALPHAS)
    r = np.empty(d)
    from btfm._lib import lib
    from btfm.reward import _ptr, _D, _F, _I64
    it64, an64 = items.astype(np.int64), annot.astype(np.int64)
    model._fit_call(lib.btfm_reward_encoder_fit, None, _ptr(r, _D), d, _ptr(emb, _F), n_items,
                    dim, _ptr(it64, _I64), _ptr(feat, _F), len(items), d, _ptr(an64, _I64),
                    folds)

    y = standardize(feat.astype(np.float64), annot)
    x = emb[items].astype(np.float64)
    fold = item_folds(items, folds)
    ref = ridge_cv(x, y, fold)
    assert np.allclose(model.alpha, [f.alpha_ for f in ref])
    coef = np.array([f.coef_ for f in ref]).T
    assert np.max(np.abs(model.coef - coef)) < 1e-4 * np.max(np.abs(coef))
    assert np.allclose(model.intercept, [f.intercept_ for f in ref], atol=1e-5)

    # nested: each outer fold of items chooses its penalties over the other folds
    pred = np.empty_like(y)
    for f in range(folds):
        train, test = fold != f, fold == f
        inner = np.unique(fold[train], return_inverse=True)[1]
        for j, fit in enumerate(ridge_cv(x[train], y[train], inner)):
            pred[test, j] = fit.predict(x[test])
    want = [np.corrcoef(pred[:, j], y[:, j])[0, 1] for j in range(d)]
    assert np.allclose(r, want, atol=1e-4), (r, want)
    assert r[0] > 0.5 > r[-1]  # the strong feature is predicted, the faint one hardly

    # the Python class gives the same, and predicts in the standardized units
    enc = btfm.reward.BrainEncoder(folds=folds, alphas=ALPHAS).fit(emb, feat, items, annot)
    assert np.allclose(enc.held_out_r_, r, atol=1e-6)
    new = rng.standard_normal((3, dim)).astype(np.float32)
    got = enc.predict(new)["features"]
    assert np.allclose(got, np.array([f.predict(new.astype(np.float64)) for f in ref]).T,
                       atol=1e-4)


def test_encoder_errors():
    emb = np.zeros((4, 2), np.float32)
    feat = np.ones((8, 1), np.float32)
    items, annot = np.arange(8) % 4, np.arange(8) // 4
    with pytest.raises(btfm.Error, match="constant within every annotator"):
        btfm.reward.BrainEncoder(folds=3).fit(emb, feat, items, annot)
    with pytest.raises(btfm.Error, match="items\\[1\\] is 9"):
        btfm.reward.BrainEncoder(folds=3).fit(emb, np.arange(8.0)[:, None], [0, 9] * 4, annot)
    with pytest.raises(btfm.Error, match="fewer than the 5 folds"):
        btfm.reward.BrainEncoder(folds=5).fit(emb, np.arange(8.0)[:, None], items, annot)
    emb[2, 1] = np.nan
    with pytest.raises(btfm.Error, match="embeddings.*NaN"):
        btfm.reward.BrainEncoder(folds=3).fit(emb, np.arange(8.0)[:, None], items, annot)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("enc") / "session"
    btfm.sim.rating_session(str(root), n_annotators=4, n_items=80, seed=7, n_pairs=5)
    return root


def column(table, name):
    return np.asarray(table[name], dtype=np.float64)


def eeg_features(session, index):
    """Default reward features of every recording stacked: the matrix, each row's item
    (a row of the embeddings, through index), annotator and rating (the simulator's
    perceived table, NaN where none), and the feature names."""
    b = btfm.bids.open(str(session))
    x, rows, annot, ratings = [], [], [], []
    for a, rec in enumerate(b.query(datatype="eeg")):
        ds = rec.open()
        fb = btfm.RewardFeatures().compute(ds)
        x.append(fb.matrix)
        shown = fb.column("item_id", ds)
        rows += [index[int(i)] for i in shown]
        annot += [a] * len(shown)
        seen = btfm.sim.truth(str(session), "perceived", subject=a + 1)
        rating = dict(zip(column(seen, "item_id").astype(int), column(seen, "rating")))
        ratings += [rating[int(i)] for i in shown]
        names = fb.names
    return np.concatenate(x), np.array(rows), np.array(annot), np.array(ratings), names


def test_encoder_recovers_simulated_responses(session):
    items_t = btfm.sim.truth(str(session), "items")
    latent = np.stack([column(items_t, k) for k in
                       ("reward", "confidence", "negative_affect", "novelty")], axis=1)
    ids = column(items_t, "item_id").astype(int)
    n_items = len(ids)
    rng = np.random.default_rng(3)
    # the host's embeddings: the items' latent values mixed into 16 dimensions
    emb = (latent @ rng.standard_normal((4, 16))).astype(np.float32)
    index = {i: k for k, i in enumerate(ids)}

    # 1) the injected amplitudes as the responses: E[rewp | item] is linear in the item's
    # reward, so the held-out r must reach the correlation of each row with that
    # expectation (the ceiling), and new items' predictions follow their reward.
    rows, annot, amp = [], [], []
    for a in range(1, 5):
        seen = btfm.sim.truth(str(session), "perceived", subject=a)
        rows += [index[int(i)] for i in column(seen, "item_id")]
        annot += [a] * len(seen["item_id"])
        amp.append(np.stack([column(seen, k) for k in ("rewp_uv", "p3a_uv")], axis=1))
    rows, annot, amp = np.array(rows), np.array(annot), np.concatenate(amp).astype(np.float32)
    enc = btfm.reward.BrainEncoder(folds=5).fit(emb, amp, rows, annot)
    z = standardize(amp.astype(np.float64), annot)
    ceiling = np.corrcoef(z[:, 0], latent[rows, 0])[0, 1]
    assert abs(enc.held_out_r_[0] - ceiling) < 0.03, (enc.held_out_r_, ceiling)
    assert enc.held_out_r_[1] > 0.5
    train = rows < 60
    part = btfm.reward.BrainEncoder(folds=5).fit(emb, amp[train], rows[train], annot[train])
    pred = part.predict(emb[60:])["features"]
    assert np.corrcoef(pred[:, 0], latent[60:, 0])[0, 1] > 0.97
    # synthetic annotators: prediction plus noise with the rows' residual spread
    fitted = enc.predict(emb[rows])["features"]
    resid = np.sqrt(np.mean((z - fitted) ** 2, axis=0))
    many = np.repeat(emb, 25, axis=0)
    spread = np.std(enc.synthesize(many, seed=4)["features"] - enc.predict(many)["features"],
                    axis=0)
    assert np.allclose(spread, resid, rtol=0.06), (spread, resid)
    other = enc.synthesize(emb, seed=5)["features"]
    assert not np.allclose(other, enc.synthesize(emb, seed=4)["features"])

    # 2) the EEG features: the reward positivity window at Pz is predicted on new items
    x, frows, fannot, ratings, names = eeg_features(session, index)
    keep = x.std(axis=0) > 0  # bad channels give zeros
    x, names = x[:, keep], [n for n, k in zip(names, keep) if k]
    eeg = btfm.reward.BrainEncoder(folds=5).fit(emb, x, frows, fannot, ratings=ratings)
    pz = names.index("Pz:erp:0.250-0.350")
    assert eeg.held_out_r_[pz] > 0.15, eeg.held_out_r_[pz]
    assert eeg.rating_held_out_r_ > 0.3
    train = frows < 60
    part = btfm.reward.BrainEncoder(folds=5).fit(emb, x[train], frows[train], fannot[train])
    assert np.corrcoef(part.predict(emb[60:])["features"][:, pz], latent[60:, 0])[0, 1] > 0.6
    # shuffled embeddings carry nothing about the items: no feature is predicted
    shuffled = emb[rng.permutation(n_items)]
    null = btfm.reward.BrainEncoder(folds=5).fit(shuffled, x, frows, fannot)
    assert null.held_out_r_[pz] < 0.1


def btfm_cli(*args):
    r = subprocess.run([os.environ["BTFM_EXE"], *map(str, args)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_cli_pair_scores_match_python(session, tmp_path):
    chosen, rejected = [], []
    for path in sorted(glob.glob(str(session / "sub-*" / "beh" / "*_task-preference_beh.tsv"))):
        for row in csv.DictReader(open(path), delimiter="\t"):
            c = int(row["chosen_item"])
            chosen.append(c)
            rejected.append(int(row["item_b"]) if c == int(row["item_a"]) else int(row["item_a"]))
    ids = sorted(set(chosen) | set(rejected))
    index = {i: k for k, i in enumerate(ids)}
    pairs = np.array([[index[c], index[r]] for c, r in zip(chosen, rejected)])
    want = btfm.reward.pair_scores(pairs, len(ids))
    got = json.loads(btfm_cli("reward", "pair-scores", session, "--json"))
    assert [g["item_id"] for g in got] == ids
    assert np.allclose([g["score"] for g in got], want, atol=1e-6)
    assert [g["n_pairs"] for g in got] == np.bincount(pairs.ravel()).tolist()
    # one table of choices with weights, another penalty
    table = tmp_path / "choices.tsv"
    weight = 0.5 + np.arange(len(chosen)) % 3
    with open(table, "w") as f:
        f.write("chosen\trejected\tweight\n")
        for c, r, w in zip(chosen, rejected, weight):
            f.write(f"{c}\t{r}\t{w}\n")
    out = btfm_cli("reward", "pair-scores", table, "--alpha", "0.5").splitlines()
    assert out[0] == "item_id\tscore\tn_pairs"
    want = btfm.reward.pair_scores(pairs, len(ids), weight=weight, alpha=0.5)
    assert np.allclose([float(line.split("\t")[1]) for line in out[1:]], want, atol=2e-6)


def test_cli_encoder_matches_python(session, tmp_path):
    items_t = btfm.sim.truth(str(session), "items")
    ids = column(items_t, "item_id").astype(int)
    latent = np.stack([column(items_t, k) for k in ("reward", "novelty")], axis=1)
    emb = (latent @ np.random.default_rng(8).standard_normal((2, 5))).astype(np.float32)
    path = tmp_path / "emb.tsv"
    with open(path, "w") as f:
        f.write("item_id\t" + "\t".join(f"e{k}" for k in range(5)) + "\n")
        for i, e in zip(ids, emb):
            f.write(f"{i}\t" + "\t".join(f"{v:.9g}" for v in e) + "\n")
    out = json.loads(btfm_cli("reward", "encoder", session, path, tmp_path / "enc.btfm",
                              "--folds", "4", "--json"))
    # the same through Python: default features of each recording, constant ones left out
    index = {i: k for k, i in enumerate(ids)}
    x, rows, annot, ratings, names = eeg_features(session, index)
    keep = np.array([any(np.ptp(x[annot == a, j]) > 0 for a in set(annot))
                     for j in range(x.shape[1])])
    enc = btfm.reward.BrainEncoder(folds=4, alphas=10.0 ** np.arange(-2, 7)).fit(
        emb, x[:, keep], rows, annot, ratings=ratings)
    assert [f["name"] for f in out["features"]] == [n for n, k in zip(names, keep) if k]
    assert np.allclose([f["held_out_r"] for f in out["features"]], enc.held_out_r_, atol=1e-5)
    assert abs(out["rating_r"] - enc.rating_held_out_r_) < 1e-5
    saved = btfm.model.Model.load(str(tmp_path / "enc.btfm"))
    assert np.allclose(saved.predict(emb[:5]), enc.predict(emb[:5])["features"], atol=1e-5)
