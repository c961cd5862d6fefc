"""The reward layer against independent implementations on a simulated session: features
against MNE's EDF reader with SciPy's Butterworth, sosfiltfilt and Welch; the decoder
against scikit-learn's Ridge; metrics against scipy.stats."""

import numpy as np
import pytest

import btfm

mne = pytest.importorskip("mne")
scipy_signal = pytest.importorskip("scipy.signal")
stats = pytest.importorskip("scipy.stats")
sklearn_linear = pytest.importorskip("sklearn.linear_model")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("rs") / "session"
    btfm.sim.rating_session(str(root), n_annotators=3, n_items=24, seed=5, n_pairs=20)
    return root


def recording(root, k):
    b = btfm.bids.open(str(root))
    return b.query(datatype="eeg")[k]


def test_features_match_mne_and_scipy(session):
    rec = recording(session, 0)
    ds = rec.open()
    fb = btfm.RewardFeatures().compute(ds)
    x, names = fb.matrix, fb.names
    raw = mne.io.read_raw_edf(rec.path, preload=True, verbose="error")
    sf = raw.info["sfreq"]
    chans = [n.split(":")[0] for n in names if ":erp:0.050" in n]
    data = raw.get_data(picks=chans)
    sos = scipy_signal.butter(4, [0.5, 30], btype="bandpass", fs=sf, output="sos")
    filt = scipy_signal.sosfiltfilt(sos, data, axis=1)
    events = np.genfromtxt(str(rec.path).replace("_eeg.edf", "_events.tsv"), delimiter="\t",
                           names=True, dtype=None, encoding="utf-8")
    onsets = [float(e["onset"]) for e in events if e["trial_type"] == "item_end"]
    assert len(onsets) == x.shape[0] == 24
    n_ch = len(chans)
    t = (np.arange(-50, 201)) / sf
    worst = 0.0
    for row, onset in enumerate(onsets):
        s = int(np.floor(onset * sf + 0.5))
        ep = filt[:, s - 50:s + 201]
        ep = ep - ep[:, t <= 0].mean(axis=1, keepdims=True)
        for w in range(6):
            a = 0.05 + 0.1 * w
            mask = (t >= a - 1e-9) & (t <= a + 0.1 + 1e-9)
            ref = ep[:, mask].mean(axis=1)
            got = x[row, w * n_ch:(w + 1) * n_ch]
            good = got != 0
            worst = max(worst, np.max(np.abs(got[good] - ref[good])) / np.std(ref))
        # log10 band power of the post-event part by a one-segment Welch
        post = ep[:, 50:]
        f, p = scipy_signal.welch(post, fs=sf, window="hann", nperseg=post.shape[1],
                                  noverlap=0, detrend="constant", axis=1)
        for b, (lo, hi) in enumerate([(4, 8), (8, 13)]):
            m = (f >= lo) & (f <= hi)
            ref = np.log10(np.trapz(p[:, m], f[m], axis=1) + 1e-30)
            got = x[row, (6 + b) * n_ch:(7 + b) * n_ch]
            good = got != 0
            assert np.allclose(got[good], ref[good], atol=2e-3), (row, b)
    assert worst < 2e-3, worst


def test_column_follows_the_events_table_after_events_are_added(session):
    """A column is read from each row's own line of events.tsv (numpy's read of the file),
    also after the host added events before, between and with the "bids" type."""
    rec = recording(session, 1)
    ds = rec.open()
    events = np.genfromtxt(str(rec.path).replace("_eeg.edf", "_events.tsv"), delimiter="\t",
                           names=True, dtype=None, encoding="utf-8")
    want = np.array([float(e["item_id"]) for e in events if e["trial_type"] == "item_end"])
    fb = btfm.RewardFeatures().compute(ds)
    assert np.array_equal(fb.column("item_id"), want)
    first = ds.events[0].onset
    ds.add_event(first / 2, label="note")
    ds.add_event(first, label="item_end", type="bids")  # the host's own, not from the file
    ds.add_event(ds.events[-1].onset + 1.0, label="note")
    fb = btfm.RewardFeatures().compute(ds)
    assert fb.shape[0] == len(want) + 1
    with pytest.raises(btfm.Error, match="does not come from the dataset.s events table"):
        fb.column("item_id")
    # features taken before the host adds events keep reading their own lines
    ds = rec.open()
    fb = btfm.RewardFeatures().compute(ds)
    ds.add_event(ds.events[0].onset / 2, label="note")
    assert np.array_equal(fb.column("item_id"), want)


def _standardize(x, groups):
    out = np.empty_like(x, dtype=np.float64)
    for g in np.unique(groups):
        m = groups == g
        sd = x[m].std(axis=0, ddof=1)
        out[m] = np.where(sd > 0, (x[m] - x[m].mean(axis=0)) / np.where(sd > 0, sd, 1), 0)
    sd = out.std(axis=0, ddof=1)
    return np.where(sd > 0, (out - out.mean(axis=0)) / np.where(sd > 0, sd, 1), 0)


def synthetic(seed=0, n_annot=6, n_items=50, d=20, effect=0.8):
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(n_items)
    rows = []
    for a in range(n_annot):
        gain, shift = 1 + 0.3 * a, 2.0 * a
        x = shift + gain * (effect * np.outer(u, rng.standard_normal(d) * 0 + (np.arange(d) < 5))
                            + rng.standard_normal((n_items, d)))
        r = np.where(rng.random(n_items) < 0.4, np.round(4 + 1.3 * (u + 0.5 * rng.standard_normal(n_items))), np.nan)
        rows.append((x, r, np.full(n_items, f"ann{a}"), np.arange(n_items), u))
    x = np.vstack([r[0] for r in rows]).astype(np.float32)
    ratings = np.concatenate([r[1] for r in rows]).astype(np.float32)
    annot = np.concatenate([r[2] for r in rows])
    items = np.concatenate([r[3] for r in rows])
    latent = np.concatenate([r[4] for r in rows])
    return x, ratings, annot, items, latent


def test_decoder_matches_sklearn_ridge():
    x, ratings, annot, items, latent = synthetic()
    head = btfm.RewardHead("brain_only", n_alphas=1, alpha_min=12.5, alpha_max=12.5)
    head.fit(x, ratings=ratings, annotators=annot)
    w, b = head.weights
    codes = np.unique(annot, return_inverse=True)[1]
    xs = _standardize(x, codes)
    z = np.full(len(ratings), np.nan)
    for g in np.unique(codes):
        m = (codes == g) & ~np.isnan(ratings)
        z[m] = (ratings[m] - ratings[m].mean()) / ratings[m].std(ddof=1)
    rated = ~np.isnan(z)
    ref = sklearn_linear.Ridge(alpha=12.5).fit(xs[rated], z[rated])
    assert np.allclose(w, ref.coef_, atol=2e-4)
    assert abs(b - ref.intercept_) < 2e-4


def test_modes_predict_and_metrics_match_scipy():
    x, ratings, annot, items, latent = synthetic(seed=3)
    head = btfm.RewardHead("joint").fit(x, ratings=ratings, annotators=annot, items=items)
    out = head.predict(x, annotators=annot, ratings=ratings)
    assert set(out) == {"reward", "sd", "confidence", "penalty", "novelty"}
    assert all(v.shape == (len(x),) and v.dtype == np.float32 for v in out.values())
    m = btfm.reward.metrics(out["reward"], latent, out["confidence"], annotators=annot)
    pooled = m["pooled"]
    assert abs(pooled["pearson"] - stats.pearsonr(out["reward"], latent)[0]) < 1e-6
    assert abs(pooled["spearman"] - stats.spearmanr(out["reward"], latent)[0]) < 1e-6
    tau = stats.kendalltau(out["reward"], latent, variant="b")[0]
    assert abs(pooled["pairwise_accuracy"] - (1 + tau) / 2) < 0.02  # no ties in latent
    assert set(m["per_annotator"]) == {f"ann{a}" for a in range(6)}
    only = head.predict(x, annotators=annot, ratings=ratings, mode="ratings_only")
    assert pooled["pearson"] > stats.pearsonr(only["reward"], latent)[0] + 0.1
    assert head.mode == "joint"


def test_bytes_roundtrip_and_errors(tmp_path):
    x, ratings, annot, items, latent = synthetic(seed=4)
    head = btfm.RewardHead("joint").fit(x, ratings=ratings, annotators=annot,
                                        feature_config="synthetic v1")
    again = btfm.RewardHead.from_bytes(head.to_bytes())
    a = head.predict(x, annot, ratings)
    b = again.predict(x, annot, ratings)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    head.save(tmp_path / "head.btfm")
    assert np.array_equal(btfm.RewardHead.load(tmp_path / "head.btfm").reward(x, annot), head.reward(x, annot))
    with pytest.raises(btfm.Error, match="synthetic v2"):
        again.predict(x, annot, feature_config="synthetic v2")
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(btfm.Error, match="feature 2, item 3"):
        btfm.RewardHead().fit(bad, ratings=ratings, annotators=annot)
    with pytest.raises(btfm.Error, match="n_features is 19"):
        head.predict(x[:, :19], annot)
    with pytest.raises(btfm.Error, match="fewer than the 5 folds"):
        btfm.RewardHead().fit(x[:100], ratings=ratings[:100], annotators=annot[:100])
    with pytest.raises(ValueError, match="annotators is required"):
        btfm.RewardHead().fit(x, ratings=ratings)


def _pair_session(seed=4, n_annot=5, per=16, n_pairs=40):
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(n_annot * per)
    pairs = []
    for a in range(n_annot):
        for _ in range(n_pairs):
            i, j = a * per + rng.choice(per, 2, replace=False)
            win = u[i] + rng.standard_normal() > u[j] + rng.standard_normal()
            pairs.append((i, j) if win else (j, i))
    ann = np.repeat(np.arange(n_annot), per)
    x = (np.outer(u, np.ones(3)) + rng.standard_normal((n_annot * per, 3))).astype(np.float32)
    return x, np.array(pairs, dtype=np.int64), ann, u


def test_pair_scores_match_sklearn_logistic_on_difference_vectors():
    _, pairs, ann, _ = _pair_session()
    n = len(ann) + 3  # three items in no pair
    rng = np.random.default_rng(1)
    weight = rng.uniform(0.5, 2.0, len(pairs)).astype(np.float32)
    for alpha, w in [(1.0, None), (0.3, weight)]:
        got = btfm.reward.pair_scores(pairs, n, weight=w, alpha=alpha)
        d = np.zeros((2 * len(pairs), n))
        d[np.arange(len(pairs)), pairs[:, 0]] = 1
        d[np.arange(len(pairs)), pairs[:, 1]] = -1
        d[len(pairs):] = -d[:len(pairs)]  # both orders, so there are two classes
        y = np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
        sw = None if w is None else np.r_[w, w].astype(float)
        # Both orders double the loss: C halves for the same optimum.
        ref = sklearn_linear.LogisticRegression(C=0.5 / alpha, fit_intercept=False, tol=1e-10,
                                                solver="newton-cholesky",
                                                max_iter=10000).fit(d, y, sample_weight=sw)
        seen = np.zeros(n, bool)
        seen[pairs.ravel()] = True
        assert np.isnan(got[~seen]).all() and not np.isnan(got[seen]).any()
        assert np.allclose(got[seen], ref.coef_[0][seen], atol=1e-4), \
            np.abs(got[seen] - ref.coef_[0][seen]).max()
    with pytest.raises(btfm.Error, match="pairs row 0"):
        btfm.reward.pair_scores([[2, 2]], 4)


def test_ratings_only_mode_learns_from_pairs():
    x, pairs, ann, u = _pair_session()
    v = 0.6
    head = btfm.RewardHead("ratings_only", reliability=v, folds=5)
    head.fit(x, pairs=pairs, annotators=ann)
    s = btfm.reward.pair_scores(pairs, len(ann))
    out = head.predict(x, annotators=ann, ratings=s)
    # Ratings-only: the reward is v times the label standardized within its annotator.
    z = np.empty(len(ann))
    for a in np.unique(ann):
        m = ann == a
        z[m] = (s[m] - np.nanmean(s[m])) / np.nanstd(s[m], ddof=1)
    z[np.isnan(z)] = 0  # an item in no pair has no label: the prior mean
    assert np.allclose(out["reward"], v * z, atol=1e-5)
    assert stats.pearsonr(out["reward"], u)[0] > 0.5
    # A rating wins over the pair score where both exist; unrated rows take the pairs'.
    ratings = np.full(len(ann), np.nan, dtype=np.float32)
    ratings[::4] = np.round(3 + u[::4])
    both = btfm.RewardHead("ratings_only", reliability=v).fit(
        x, ratings=ratings, pairs=pairs, annotators=ann)
    assert both.fitted
