"""The user-state indices on the simulator: a rating session whose posterior alpha follows
a latent engagement trace (doc/simulation.md) replayed through a stream; each index that
the simulator drives must move with that trace (Pearson r over windows, stated below), and
not without the coupling; the blink rate must count the simulated blinks."""

import numpy as np
import pytest

import btfm


def replay(tmp_path, name, **sim):
    root = tmp_path / name
    btfm.sim.rating_session(str(root), n_annotators=1, n_items=40, seed=3, artifact_rate=0,
                            n_bad_channels=0, **sim)
    rec = btfm.bids.open(str(root)).query(datatype="eeg")[0]
    ds = rec.open()
    names = [c.name for c in ds.channels]
    types = [c.type for c in ds.channels]
    x = ds.read()
    s = btfm.Stream(x.shape[1], ds.sfreq, picks=[i for i, t in enumerate(types) if t == "eeg"],
                    frontal=[names.index("Fz"), names.index("Cz")],
                    posterior=[names.index(n) for n in ("P3", "Pz", "P4", "O1", "Oz", "O2")],
                    reference="average", notch=50, eog_channel=names.index("VEOG"),
                    capacity=1 << 16)
    for i in range(0, len(x), 50):
        s.push(x[i:i + 50])
    rows = s.pull(1 << 16)
    t = rows[:, s.column("time")]
    eng = btfm.sim.truth(str(root), "engagement", 1)
    onset = np.asarray(eng["onset"], float)
    latent = np.asarray(eng["engagement"], float)
    # the latent engagement averaged over each 1 s window
    window_latent = np.array([latent[(onset > u - 1.0) & (onset <= u)].mean() for u in t])
    r = {name: np.corrcoef(rows[:, s.column("state:" + name)], window_latent)[0, 1]
         for name in ("theta_alpha", "engagement", "posterior_alpha")}
    art = btfm.sim.truth(str(root), "artifacts", 1)
    blinks = np.asarray(art["onset"], float)[np.array([k == "blink" for k in art["type"]])]
    true_rate = np.array([((blinks > u - 30) & (blinks <= u)).sum() * 60 / min(30.0, u)
                          for u in t])
    return r, rows[:, s.column("state:blink_rate")], true_rate


def test_indices_follow_latent_engagement(tmp_path):
    r, rate, true_rate = replay(tmp_path, "coupled")
    # alpha falls as engagement rises (alpha_engagement 0.6): posterior alpha falls and the
    # theta / alpha load index rises. The (theta + alpha) / beta ratio falls too (r = -0.18
    # here) but a session without the coupling reaches -0.11 by chance over this 5-minute
    # trace, so it is not asserted (doc/streaming.md).
    assert r["posterior_alpha"] < -0.3, r
    assert r["theta_alpha"] > 0.15, r
    # blinks counted on the VEOG channel against the simulated blink onsets
    assert np.corrcoef(rate, true_rate)[0, 1] > 0.9
    assert abs(rate.mean() - true_rate.mean()) < 0.1 * true_rate.mean()


def test_indices_do_not_move_without_coupling(tmp_path):
    r, _, _ = replay(tmp_path, "null", alpha_engagement=0.0)
    assert abs(r["posterior_alpha"]) < 0.1 and abs(r["theta_alpha"]) < 0.1, r
