"""The simulators' output checked by independent implementations: NumPy's Philox and SciPy's
normal law for the random numbers, MNE for the EEG files (EDF+, BDF+, BrainVision),
nibabel for the NIfTI files, SciPy's Welch for the spectrum (1/f slope, alpha peak, line
peak), and the latent values recovered from the written files at the default SNR: the
levels doc/simulation.md states. The library's SRM recovers the shared response."""

import csv
import os
import subprocess

import mne
import nibabel
import numpy as np
import pytest
from scipy import signal, stats

import btfm

mne.set_log_level("error")
TOOL = os.environ["BTFM_SIM_TOOL"]


def tool(*args):
    return subprocess.run([TOOL, *map(str, args)], check=True, capture_output=True,
                          text=True).stdout.split()


def tsv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def number(cell):
    return float("nan") if cell == "n/a" else float(cell)


# ---- random numbers ----

def test_philox_equals_numpy():
    key, counter = [0x243F6A8885A308D3, 0x13198A2E03707344], [5, 7, 11, 13]
    ours = [int(w, 16) for w in tool("philox", *key, *counter)]
    # NumPy increments the counter before each block: start one below.
    gen = np.random.Philox(key=np.array(key, dtype=np.uint64),
                           counter=np.array([counter[0] - 1] + counter[1:], dtype=np.uint64))
    assert ours == [int(w) for w in gen.random_raw(4)]
    # A stream: key (seed, purpose), counter (n, entity, 0, 0) from n = 0.
    ours = [int(w, 16) for w in tool("stream", 42, 5, 77, 12)]
    gen = np.random.Philox(key=np.array([42, 5], dtype=np.uint64),
                           counter=np.array([2**64 - 1, 76, 0, 0], dtype=np.uint64))
    assert ours == [int(w) for w in gen.random_raw(12)]


def test_normals_follow_the_normal_law():
    x = np.array(tool("normals", 9, 200000), dtype=float)
    ks = stats.kstest(x, "norm")
    assert ks.pvalue > 0.01, ks
    # The tails, where the ziggurat's slow paths run: P(|x| > 3) and P(|x| > 3.65).
    assert abs(np.mean(np.abs(x) > 3) - 2 * stats.norm.sf(3)) < 4e-4
    assert abs(np.mean(np.abs(x) > 3.6541528853610088) - 2 * stats.norm.sf(3.6541528853610088)) < 1.5e-4


# ---- sessions ----

@pytest.fixture(scope="module")
def default_session(tmp_path_factory):
    """The default rating session (8 annotators x 60 items, 32 + 2 channels, 250 Hz)."""
    return btfm.sim.rating_session(tmp_path_factory.mktemp("default") / "session")


@pytest.fixture(scope="module")
def null_session(tmp_path_factory):
    """The same session with no latent value in the signals (effect_scale = 0)."""
    return btfm.sim.rating_session(tmp_path_factory.mktemp("null") / "session", effect_scale=0)


def eeg_path(root, sub, ext="edf"):
    return root / f"sub-{sub}" / "eeg" / f"sub-{sub}_task-rating_eeg.{ext}"


def test_edf_opens_in_mne_like_in_btfm(default_session):
    path = eeg_path(default_session, "03")
    raw = mne.io.read_raw_edf(path, preload=True)
    ours = btfm.open(path)
    data = ours.read()
    assert raw.ch_names == [c.name for c in ours.channels]
    np.testing.assert_allclose(raw.get_data().T, data, atol=2e-10)  # float32 of the same int16
    events = tsv(path.parent / "sub-03_task-rating_events.tsv")
    assert len(raw.annotations) == len(events)
    np.testing.assert_allclose(raw.annotations.onset, [float(e["onset"]) for e in events], atol=1e-6)
    assert list(raw.annotations.description) == [e["trial_type"] for e in events]
    channels = tsv(path.parent / "sub-03_task-rating_channels.tsv")
    assert [c["name"] for c in channels] == raw.ch_names
    assert raw.info["sfreq"] == 250


def test_brainvision_and_bdf_open_in_mne(tmp_path):
    for fmt, ext, read in [(3, "vhdr", mne.io.read_raw_brainvision), (2, "bdf", mne.io.read_raw_bdf)]:
        root = btfm.sim.rating_session(tmp_path / ext, n_annotators=1, n_items=6, n_pairs=10, eeg_format=fmt,
                                       n_channels=64, sfreq=500)
        raw = read(eeg_path(root, "01", ext), preload=True)
        ours = btfm.open(eeg_path(root, "01", ext))
        assert raw.info["sfreq"] == 500 and len(raw.ch_names) == 66
        np.testing.assert_allclose(raw.get_data().T, ours.read(), atol=1e-9)
        gaze = [a for a in raw.annotations.description if a.endswith("gaze")]
        events = tsv(eeg_path(root, "01", ext).parent / "sub-01_task-rating_events.tsv")
        assert len(gaze) == sum(e["trial_type"] == "gaze" for e in events)


def welch(path, picks=None):
    raw = mne.io.read_raw_edf(path, preload=True)
    x = raw.get_data() * 1e6
    f, p = signal.welch(x, fs=raw.info["sfreq"], nperseg=int(4 * raw.info["sfreq"]))
    return raw.ch_names, f, p


@pytest.mark.parametrize("exponent,line", [(1.5, 50.0), (1.0, 60.0)])
def test_spectrum_has_its_slope_alpha_and_line(tmp_path, exponent, line):
    root = btfm.sim.rating_session(tmp_path / "s", n_annotators=1, n_items=40, blink_rate=0,
                                   artifact_rate=0, n_bad_channels=0, aperiodic_exponent=exponent,
                                   line_freq=line, seed=4)
    names, f, p = welch(eeg_path(root, "01"))
    eeg = [i for i, n in enumerate(names) if "EOG" not in n]
    # 1/f: the median spectrum's log-log slope over 2-40 Hz, alpha's band left out.
    median = np.median(p[eeg], axis=0)
    band = (f >= 2) & (f <= 40) & ~((f >= 6) & (f <= 15))
    slope = np.polyfit(np.log10(f[band]), np.log10(median[band]), 1)[0]
    assert abs(slope + exponent) < 0.15, slope
    # Alpha: posterior channels peak at the annotator's alpha frequency.
    annotator = tsv(root / "derivatives/truth/annotators.tsv")[0]
    posterior = [names.index(n) for n in ("O1", "Oz", "O2", "P3", "P4")]
    spectrum = np.mean(p[posterior], axis=0)
    fit = np.polyfit(np.log10(f[band]), np.log10(spectrum[band]), 1)
    excess = spectrum / 10 ** np.polyval(fit, np.log10(np.maximum(f, 0.1)))
    window = (f >= 6) & (f <= 15)
    peak = f[window][np.argmax(excess[window])]
    assert abs(peak - float(annotator["alpha_freq"])) <= 0.5, (peak, annotator["alpha_freq"])
    assert excess[window].max() > 2.0
    # Line noise: a narrow peak at line_freq, far above its neighbours.
    at = np.argmin(np.abs(f - line))
    near = (np.abs(f - line) > 2) & (np.abs(f - line) < 6)
    assert median[at] > 20 * np.median(median[near])


# The channels each component is read from, its window after the event, its latent.
COMPONENTS = {
    "rewp": (["Pz", "CP1", "CP2", "P3", "P4"], "item_end", 0.25, 0.35, "reward"),
    "frn": (["Fz", "FC1", "FC2", "Cz"], "item_end", 0.22, 0.28, "negative_affect"),
    "p3a": (["Cz", "FC1", "FC2", "CP1", "CP2"], "item_onset", 0.30, 0.40, "novelty"),
}


def item_amplitudes(root):
    """Per item, the component's amplitude in the event-locked average over annotators:
    the mean over the window minus the 200 ms before the event, over the good channels
    of the component's cluster."""
    n_annotators = len(tsv(root / "derivatives/truth/annotators.tsv"))
    out = {k: {} for k in list(COMPONENTS) + ["theta"]}
    for a in range(1, n_annotators + 1):
        sub = f"{a:02d}"
        path = eeg_path(root, sub)
        # The library's reader (MNE reads the same values: test_edf_opens_in_mne_like_in_btfm).
        raw = btfm.open(path)
        x, fs, names = raw.read().T * 1e6, raw.sfreq, [c.name for c in raw.channels]
        bad = {c["name"] for c in tsv(path.parent / f"sub-{sub}_task-rating_channels.tsv")
               if c["status"] == "bad"}
        events = tsv(path.parent / f"sub-{sub}_task-rating_events.tsv")
        for name, (channels, kind, t0, t1, _) in COMPONENTS.items():
            trace = x[[names.index(c) for c in channels if c not in bad]].mean(axis=0)
            for e in events:
                if e["trial_type"] != kind:
                    continue
                n = int(round(float(e["onset"]) * fs))
                value = trace[n + int(t0 * fs):n + int(t1 * fs)].mean() - trace[n - int(0.2 * fs):n].mean()
                out[name].setdefault(int(e["item_id"]), []).append(value)
        # Theta: the 4-8 Hz envelope at frontal-midline channels, 250-650 ms after item_end,
        # minus the 500 ms before it (induced activity: no phase locking to average).
        trace = x[[names.index(c) for c in ("Fz", "FC1", "FC2") if c not in bad]].mean(axis=0)
        sos = signal.butter(4, [4, 8], btype="band", fs=fs, output="sos")
        envelope = np.abs(signal.hilbert(signal.sosfiltfilt(sos, trace)))
        for e in events:
            if e["trial_type"] == "item_end":
                n = int(round(float(e["onset"]) * fs))
                value = envelope[n + int(0.25 * fs):n + int(0.65 * fs)].mean() - envelope[n - int(0.5 * fs):n].mean()
                out["theta"].setdefault(int(e["item_id"]), []).append(value)
    items = {int(r["item_id"]): r for r in tsv(root / "derivatives/truth/items.tsv")}
    result = {}
    for name, (*_, latent) in COMPONENTS.items():
        ids = sorted(items)
        amplitude = np.array([np.mean(out[name][i]) for i in ids])
        truth = np.array([float(items[i][latent]) for i in ids])
        result[name] = np.corrcoef(amplitude, truth)[0, 1]
    ids = sorted(items)
    theta = np.array([np.mean(out["theta"][i]) for i in ids])
    result["theta"] = np.corrcoef(theta, [float(items[i]["confidence"]) for i in ids])[0, 1]
    return result


def test_components_follow_the_latent_values(default_session):
    r = item_amplitudes(default_session)
    # doc/simulation.md ("What the defaults give") states these levels.
    assert r["rewp"] > 0.6, r
    assert r["frn"] < -0.5, r
    assert r["p3a"] > 0.5, r
    assert r["theta"] < -0.4, r  # theta grows with effort, 1 - confidence


def test_no_latent_value_without_effect(null_session):
    r = item_amplitudes(null_session)
    assert all(abs(v) < 0.3 for v in r.values()), r


def test_injected_amplitudes_are_the_truth_files(default_session):
    """The single-trial amplitudes the truth lists follow the perceived values exactly."""
    p = tsv(default_session / "derivatives/truth/sub-01/sub-01_perceived.tsv")
    params = btfm.sim.params("rating_session")
    defaults = {q.name: q.default for q in params}
    reward = np.array([float(r["reward"]) for r in p])
    rewp = np.array([float(r["rewp_uv"]) for r in p])
    np.testing.assert_allclose(rewp, defaults["rewp_base_uv"] + defaults["rewp_effect_uv"] * reward,
                               atol=1e-6)
    rated = [r for r in p if r["rating"] != "n/a"]
    assert len(rated) == round(0.3 * 60)
    assert stats.spearmanr([float(r["rating"]) for r in rated],
                           [float(r["reward"]) for r in rated]).correlation > 0.5


def test_fmri_follows_the_regressors(tmp_path):
    root = btfm.sim.rating_session(tmp_path / "s", n_annotators=1, n_items=40, fmri=True)
    img = nibabel.load(root / "sub-01/func/sub-01_task-rating_bold.nii.gz")
    assert img.shape[:3] == (16, 19, 15) and img.header.get_zooms() == (4.0, 4.0, 4.0, 2.0)
    np.testing.assert_allclose(img.affine[:3, 3], [-30, -36, -28])
    labels = np.asarray(nibabel.load(root / "derivatives/truth/clusters_dseg.nii.gz").dataobj)
    clusters = {int(r["label"]): r for r in tsv(root / "derivatives/truth/clusters.tsv")}
    data = np.asarray(img.dataobj)
    regressors = tsv(root / "derivatives/truth/sub-01/sub-01_task-rating_regressors.tsv")
    reward = np.array([float(r["reward_pct"]) for r in regressors])
    for label, row in clusters.items():
        if not row["name"].startswith("striatum"):
            continue
        series = data[labels == label].mean(axis=0)
        assert np.corrcoef(series, reward)[0, 1] > 0.6, row["name"]


def test_srm_recovers_the_shared_response(tmp_path):
    root = btfm.sim.shared_response(tmp_path / "s")
    shared = np.array([[float(v) for v in r.values()]
                       for r in tsv(root / "derivatives/truth/shared_response.tsv")])
    aligner = btfm.Aligner("srm")
    aligner.set_param("n_features", shared.shape[1])
    aligner.set_param("max_iter", 20)
    for s in range(1, 7):
        img = nibabel.load(root / f"sub-{s:02d}/func/sub-{s:02d}_task-shared_bold.nii.gz")
        x = np.asarray(img.dataobj, dtype=np.float32)
        aligner.add_subject(np.ascontiguousarray(x.reshape(-1, x.shape[-1], order="F").T))
    aligner.fit()
    # Canonical correlations between the fitted and the true shared response.
    a = aligner.common - aligner.common.mean(axis=0)
    b = shared - shared.mean(axis=0)
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    canonical = np.linalg.svd(qa.T @ qb, compute_uv=False)
    assert canonical.min() > 0.98, canonical
