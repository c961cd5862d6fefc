"""The user-state indices on the simulator: rating sessions whose posterior alpha
(alpha_engagement), ongoing frontal-midline theta (theta_engagement_uv) and blink rate
(blink_engagement) follow a latent engagement trace (doc/simulation.md) replayed through a
stream. Each index must move with that trace (Pearson r over windows, thresholds below)
when its coupling is on, and stay within |r| < 0.1 of it when the coupling is off; the blink
counter must count the simulated blinks. Sessions of 120 items (16 minutes): the latent
trace moves on a 20 s time scale, so a shorter one leaves too few independent stretches to
tell a coupling from chance. Blinks are off in the spectral sessions: reading both raises
engagement and suppresses blinks, whose low-frequency power would otherwise tie every
spectral index to engagement through the eyes (doc/streaming.md, "On the simulator")."""

import numpy as np
import pytest

import btfm

SPECTRAL = ("fm_theta", "theta_alpha", "engagement", "posterior_alpha")


def replay(root, **sim):
    btfm.sim.rating_session(str(root), n_annotators=1, n_items=120, seed=3, artifact_rate=0,
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
    out = {"time": t}
    # the latent engagement averaged over each 1 s window, and over the blink rate's 30 s
    out["latent"] = np.array([latent[(onset > u - 1.0) & (onset <= u)].mean() for u in t])
    out["latent30"] = np.array([latent[(onset > u - 30.0) & (onset <= u)].mean() for u in t])
    for name in SPECTRAL + ("blink_rate",):
        out[name] = rows[:, s.column("state:" + name)]
    art = btfm.sim.truth(str(root), "artifacts", 1)
    blinks = np.asarray(art["onset"], float)[np.array([k == "blink" for k in art["type"]])]
    out["true_rate"] = np.array([((blinks > u - 30) & (blinks <= u)).sum() * 60 / min(30.0, u)
                                 for u in t])
    return out


SESSIONS = {
    "null": dict(blink_rate=0, alpha_engagement=0),
    "alpha": dict(blink_rate=0, alpha_engagement=1),
    "theta": dict(blink_rate=0, alpha_engagement=0, theta_engagement_uv=6),
    "blink_null": dict(blink_rate=40),
    "blink": dict(blink_rate=40, blink_engagement=0.9),
}


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    root = tmp_path_factory.mktemp("sessions")
    return {name: replay(root / name, **sim) for name, sim in SESSIONS.items()}


def r_latent(run, index, over="latent"):
    ok = run["time"] >= 30 if over == "latent30" else slice(None)
    return np.corrcoef(run[index][ok], run[over][ok])[0, 1]


def test_alpha_indices_follow_latent_engagement(sessions):
    # alpha falls as engagement rises (alpha_engagement 1): posterior alpha falls, the
    # theta / alpha load index rises, the (theta + alpha) / beta ratio falls
    r = {k: r_latent(sessions["alpha"], k) for k in SPECTRAL}
    assert r["posterior_alpha"] < -0.5, r
    assert r["theta_alpha"] > 0.3, r
    assert r["engagement"] < -0.15, r


def test_frontal_theta_follows_latent_engagement(sessions):
    # ongoing theta at Fz/FCz grows with engagement (theta_engagement_uv 6)
    r = {k: r_latent(sessions["theta"], k) for k in SPECTRAL}
    assert r["fm_theta"] > 0.35, r
    assert r["theta_alpha"] > 0.3, r


def test_spectral_indices_do_not_move_without_coupling(sessions):
    r = {k: r_latent(sessions["null"], k) for k in SPECTRAL}
    assert all(abs(v) < 0.1 for v in r.values()), r


def test_blink_rate_follows_latent_engagement(sessions):
    # blinks thinned to 1 - 0.9 e(t): the 30 s blink rate falls as engagement rises; without
    # the coupling only reading ties blinks to engagement (they thin while reading)
    coupled = r_latent(sessions["blink"], "blink_rate", "latent30")
    null = r_latent(sessions["blink_null"], "blink_rate", "latent30")
    assert coupled < -0.35, coupled
    assert abs(null) < 0.1, null


def test_blink_counter_counts_simulated_blinks(sessions):
    for name in ("blink", "blink_null"):
        run = sessions[name]
        rate, true_rate = run["blink_rate"], run["true_rate"]
        assert np.corrcoef(rate, true_rate)[0, 1] > 0.9, name
        assert abs(rate.mean() - true_rate.mean()) < 0.1 * true_rate.mean(), name
