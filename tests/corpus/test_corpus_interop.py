"""Corpora against independent implementations: recordings read by MNE (EEG from EDF, MEG
from FIF) or h5py (fNIRS from SNIRF) and preprocessed by SciPy and scikit-learn's
RobustScaler give the stored values and the loader's tokens (read back with plain NumPy
memmaps, as doc/corpus.md describes); provenance digests and pseudonyms from hashlib and
hmac; the sampler against torch's DistributedSampler; zero-copy torch batches; a build
killed at random moments and rerun equals an uninterrupted one byte for byte."""
import gc
import hashlib
import hmac
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import btfm

mne = pytest.importorskip("mne")
scipy_signal = pytest.importorskip("scipy.signal")
preprocessing = pytest.importorskip("sklearn.preprocessing")

SF = 500.0
N_CH = 7
KEY = b"corpus test key"
BTFM_EXE = os.environ.get("BTFM_EXE")


def write_edfs(folder, n_subjects=3, seconds=20, seed=0):
    rng = np.random.default_rng(seed)
    paths = []
    for s in range(n_subjects):
        n = int(seconds * SF)
        t = np.arange(n) / SF
        x = (20e-6 * np.sin(2 * np.pi * (6 + s) * t)[:, None] * rng.uniform(0.5, 1.5, N_CH)
             + 5e-6 * rng.standard_normal((n, N_CH)) + 1e-5 * (s + 1))
        ds = btfm.from_array(x.astype(np.float32), SF, ch_names=[f"E{c}" for c in range(N_CH)],
                             ch_types=["eeg"] * N_CH, units=["V"] * N_CH)
        for k in range(1, seconds - 1, 2):
            ds.add_event(k, 0, "stim/%s" % ("a" if k % 4 == 1 else "b"))
        path = os.path.join(folder, f"sub-{s + 1:02d}_task-rest_eeg.edf")
        ds.save(path)
        paths.append(path)
    return paths


def mne_data(path):
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    return raw.get_data().T  # time x channel, volts, float64


def corpus_entries(out):
    with open(os.path.join(out, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    return index, {e["subject"]: e for e in index["recordings"]}


def memmap_values(out, entry):
    """The recipe of doc/corpus.md, with NumPy alone."""
    dtype = "<i2" if entry["dtype"] == "int16" else "<f2"
    values = np.memmap(os.path.join(out, entry["file"]), dtype=dtype, mode="r",
                       shape=tuple(entry["shape"]))
    values = np.asarray(values, dtype=np.float64)
    if entry["dtype"] == "int16":
        values = values * np.asarray(entry["scale"])
    return values


def pseudonym(label):
    return hmac.new(KEY, label.encode(), hashlib.sha256).hexdigest()[:16]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sources")
    return write_edfs(str(folder))


@pytest.mark.parametrize("dtype", ["int16", "float16"])
def test_robust_z_of_mne_data_matches_sklearn(sources, tmp_path, dtype):
    out = str(tmp_path / "corpus")
    r = btfm.corpus.build(None, out, KEY, files=sources, sfreq=0, l_freq=0, h_freq=0,
                          reference=0, clip=0, dtype=0 if dtype == "int16" else 1)
    assert r == {"built": 3, "failed": 0}
    index, entries = corpus_entries(out)
    for s, path in enumerate(sources):
        entry = entries[pseudonym(f"{s + 1:02d}")]
        x = mne_data(path)
        z = preprocessing.RobustScaler().fit_transform(x)
        got = memmap_values(out, entry)
        assert got.shape == z.shape
        if dtype == "int16":
            tol = np.asarray(entry["scale"]) * 0.5 + 1e-5 * np.abs(z)
        else:
            tol = np.abs(z) * 2.0 ** -11 + 2.0 ** -24 + 1e-5 * np.abs(z)
        assert np.all(np.abs(got - z) <= tol), np.max(np.abs(got - z) - tol)
        assert np.allclose(entry["median"], np.median(x, axis=0), rtol=1e-5, atol=1e-12)
        q75, q25 = np.percentile(x, [75, 25], axis=0)
        assert np.allclose(entry["iqr"], q75 - q25, rtol=1e-5, atol=1e-12)
        # provenance and privacy
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
        assert [src["sha256"] for src in entry["sources"] if src["role"] == "eeg.edf"] == [sha]
    text = open(os.path.join(out, "index.json"), encoding="utf-8").read()
    assert "sub-01_" not in text and '"01"' not in text


def test_full_pipeline_matches_scipy(sources, tmp_path):
    out = str(tmp_path / "corpus")
    btfm.corpus.build(None, out, KEY, files=sources, sfreq=250, l_freq=1, h_freq=40,
                      filter_order=4, reference=1, clip=0)
    _, entries = corpus_entries(out)
    sos = scipy_signal.butter(4, [1, 40], btype="bandpass", fs=SF, output="sos")
    for s, path in enumerate(sources):
        x = mne_data(path)
        x = x - x.mean(axis=1, keepdims=True)  # average reference
        x = scipy_signal.sosfiltfilt(sos, x, axis=0)
        x = scipy_signal.resample_poly(x, 1, 2, axis=0)
        z = preprocessing.RobustScaler().fit_transform(x)
        entry = entries[pseudonym(f"{s + 1:02d}")]
        got = memmap_values(out, entry)
        assert entry["sfreq"] == 250 and got.shape == z.shape
        # float32 filtering against float64: within a few thousandths of an IQR
        assert np.max(np.abs(got - z)) < 5e-3, np.max(np.abs(got - z))


def test_date_sessions_pseudonymized_and_merge_takes_the_plan(sources, tmp_path):
    out = str(tmp_path / "corpus")
    btfm.corpus.build(None, out, KEY, files=sources, sfreq=0)
    dated = str(tmp_path / "sub-01_ses-20230115_task-rest_eeg.edf")
    shutil.copy(sources[0], dated)
    btfm.corpus.build(None, out, KEY, files=[dated], sfreq=0)  # same folder, one file
    index, entries = corpus_entries(out)
    assert index["n_recordings"] == 1 and list(entries) == [pseudonym("01")]
    want = hmac.new(KEY, b"ses-20230115", hashlib.sha256).hexdigest()[:16]
    assert entries[pseudonym("01")]["session"] == want
    text = open(os.path.join(out, "index.json"), encoding="utf-8").read()
    assert "20230115" not in text and "ses-" + want in text


@pytest.fixture(scope="module")
def corpus(sources, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("built") / "corpus")
    btfm.corpus.build(None, out, KEY, files=sources, keep_annotations="stim")
    return out


@pytest.mark.parametrize("world", [1, 3, 4, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_matches_torch_distributed_sampler(corpus, world, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler
    loader = btfm.corpus.Loader(corpus, window_s=1, stride_s=0.7, shuffle=False,
                                world_size=world, drop_last=drop_last)
    n, _ = loader.count("all")
    seen = []
    for rank in range(world):
        loader.set_param("rank", rank)
        ours = loader.epoch_order(0)
        sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=False,
                                     drop_last=drop_last)
        assert list(ours) == list(sampler) and loader.n_samples == len(sampler)
        loader.set_param("shuffle", True)
        shuffled = loader.epoch_order(3)
        assert len(shuffled) == len(sampler)
        seen.append(shuffled)
        loader.set_param("shuffle", False)
    allw = np.concatenate(seen)
    if not drop_last:
        assert set(allw) == set(range(n))          # every window, the head repeated
    else:
        assert len(set(allw)) == len(allw)         # disjoint across ranks
    del torch


def test_band_power_tokens_match_scipy_periodogram(corpus):
    common = dict(window_s=2, batch_size=16, patch_len=125, split="all", shuffle=False)
    raw = btfm.corpus.Loader(corpus, **common)
    x = raw.next_batch()["data"].astype(np.float64)  # rows x C x P x 125 samples
    bands = btfm.corpus.Loader(corpus, tokens=1, **common)  # owns the batch's buffers
    powers = bands.next_batch()["data"]
    f, pxx = scipy_signal.periodogram(x, fs=250, window="hann", axis=-1)
    want = np.stack([np.log10(np.maximum(pxx[..., (f >= lo) & (f < hi)].mean(axis=-1), 1e-12))
                     for lo, hi in btfm.corpus.BANDS.values()], axis=-1)
    assert powers.shape == x.shape[:3] + (5,)
    assert np.max(np.abs(powers - want)) < 1e-4, np.max(np.abs(powers - want))
    # patches too short for a bin in 1-4 Hz are refused, naming the band
    with pytest.raises(btfm.Error, match="1-4 Hz"):
        btfm.corpus.Loader(corpus, tokens=1, window_s=2, patch_len=25).next_batch()


def test_a_batch_keeps_its_loader_alive(corpus):
    """A batch taken from a loader nobody holds stays valid: its views keep the loader
    (and the buffers they show) alive."""
    common = dict(window_s=2, batch_size=16, split="all", shuffle=False)
    held = btfm.corpus.Loader(corpus, **common)
    want = {k: v.copy() for k, v in held.next_batch().items()}
    batch = btfm.corpus.Loader(corpus, **common).next_batch()  # the loader is dropped here
    gc.collect()
    reuse = [np.full(want["data"].size * 2, 7.0, dtype=np.float32) for _ in range(8)]
    for key, value in want.items():
        assert np.array_equal(batch[key], value, equal_nan=value.dtype.kind == "f"), key
    del reuse


def test_a_fork_leaves_the_batch_buffers_private(corpus):
    """A host that forks (a DataLoader's workers) does not make the ring of batch buffers
    copy-on-write: the next epoch rewrites them without a page fault a page. The windows
    the epoch writes span about 2,400 pages; with the buffers inherited, each would fault."""
    loader = btfm.corpus.Loader(corpus, window_s=8, stride_s=0.25, batch_size=64, split="all",
                                shuffle=False, num_threads=1, n_buffers=2)
    n = loader.count("all")[0]
    pages = n * 7 * loader.window_len * 4 // 4096
    assert pages > 2000
    for _ in loader:
        pass  # every buffer touched once
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in loader:
        pass
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < pages // 4, (faults, pages)


def test_batches_are_the_stored_windows_and_torch_shares_them(corpus):
    torch = pytest.importorskip("torch")
    c = btfm.corpus.Corpus(corpus)
    loader = btfm.corpus.Loader(corpus, window_s=0.5, batch_size=16, seed=3, num_threads=2,
                                patch_len=25, mask_ratio=0.5)
    T = loader.window_len
    assert T == 125
    data = [c.data(i) for i in range(len(c.recordings))]
    order = loader.epoch_order(0)
    k = 0
    for batch in loader:
        for row in range(len(batch["window_ids"])):
            assert batch["window_ids"][row] == order[k]
            rec, start = batch["recordings"][row], batch["starts"][row]
            want = data[rec][start:start + T].T.reshape(N_CH, T // 25, 25)
            assert np.array_equal(batch["data"][row], want)
            assert batch["mask"][row].sum() == round(0.5 * N_CH * (T // 25))
            names = [loader.channel_names[i] for i in batch["channel_ids"][row]]
            assert names == c.recordings[rec]["channel_names"]
            k += 1
    assert k == loader.n_samples
    # torch: the same batches, tensors over the loader's buffers
    loader.set_state(0, 0)
    first = next(iter(loader))
    address = first["data"].__array_interface__["data"][0]
    ids = first["window_ids"].copy()
    loader.set_state(0, 0)
    dataset = loader.torch()
    assert isinstance(dataset, torch.utils.data.IterableDataset)
    tensors = next(iter(torch.utils.data.DataLoader(dataset, batch_size=None)))
    assert tensors["data"].data_ptr() == address
    assert torch.equal(tensors["window_ids"], torch.from_numpy(ids))


def test_resume_gives_the_same_next_batch(corpus):
    a = btfm.corpus.Loader(corpus, window_s=1, batch_size=4, seed=11)
    it = iter(a)
    for _ in range(3):
        next(it)
    state = a.state
    want = {k: v.copy() for k, v in next(it).items()}
    b = btfm.corpus.Loader(corpus, window_s=1, batch_size=4, seed=11, num_threads=1)
    b.set_state(*state)
    got = b.next_batch()
    for name in want:
        assert np.array_equal(want[name], got[name], equal_nan=True), name


def test_event_locked_labels(corpus):
    loader = btfm.corpus.Loader(corpus, events="stim", event_locked=True, tmin=-0.1, tmax=0.3,
                                batch_size=100, shuffle=False)
    assert loader.labels == ["stim/a", "stim/b"]
    assert loader.window_len == 101  # MNE at 250 Hz: round(0.3 sf) - round(-0.1 sf) + 1
    batch = loader.next_batch()
    assert len(batch["labels"]) == 3 * 9 and set(batch["labels"]) == {0, 1}


@pytest.mark.skipif(not BTFM_EXE, reason="needs the btfm command (BTFM_EXE)")
def test_killed_build_resumes_to_the_same_bytes(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    paths = write_edfs(str(folder), n_subjects=6, seconds=40, seed=5)
    key = tmp_path / "key"
    key.write_bytes(KEY)

    def build(out, kill_after=None):
        cmd = [BTFM_EXE, "corpus", "build", *paths, str(out), "--key-file", str(key),
               "--param", "num_threads=2"]
        if kill_after is None:
            subprocess.run(cmd, check=True, capture_output=True)
            return
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(kill_after)
        p.send_signal(signal.SIGKILL)
        p.wait()

    def files(out):
        return {os.path.relpath(os.path.join(d, f), out): open(os.path.join(d, f), "rb").read()
                for d, _, fs in os.walk(out) for f in fs}

    start = time.monotonic()
    build(tmp_path / "reference")
    duration = time.monotonic() - start
    reference = files(tmp_path / "reference")
    rng = random.Random(1)
    for attempt in range(3):
        out = tmp_path / f"killed{attempt}"
        build(out, kill_after=rng.uniform(0.05, 0.9) * duration)
        build(out)
        assert files(out) == reference


def write_bold(folder, shape=(7, 6, 5), n_vols=101, tr=2.0, seed=4):
    """A 4-D NIfTI run, a mask and a label image written by nibabel: odd and prime sizes,
    an oblique affine, voxels with their own level and slow drift."""
    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(seed)
    t = np.arange(n_vols) * tr
    data = (100 + 20 * rng.random(shape)[..., None]
            + 3 * np.sin(2 * np.pi * 0.004 * t + rng.random(shape)[..., None] * 6)
            + rng.standard_normal(shape + (n_vols,))).astype(np.float32)
    affine = np.array([[2.5, 0.1, 0, -9], [0, 2.5, 0.2, -7.5], [0, 0, 3, -6], [0, 0, 0, 1]])
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = tr
    paths = {"bold": os.path.join(folder, "sub-07_task-movie_bold.nii"),
             "mask": os.path.join(folder, "mask.nii"), "atlas": os.path.join(folder, "atlas.nii")}
    nib.save(img, paths["bold"])
    mask = rng.random(shape) < 0.6
    nib.save(nib.Nifti1Image(mask.astype(np.uint8), affine), paths["mask"])
    labels = rng.integers(0, 4, shape).astype(np.int16)  # 0 is background
    nib.save(nib.Nifti1Image(labels, affine), paths["atlas"])
    return paths, data.astype(np.float64), mask, labels, affine


@pytest.mark.parametrize("high_pass", [0.0, 0.01])
def test_fmri_voxels_match_nibabel(tmp_path, high_pass):
    paths, data, mask, _, affine = write_bold(str(tmp_path))
    out = str(tmp_path / "corpus")
    report = btfm.corpus.build(None, out, KEY, files=[paths["bold"]], mask=paths["mask"],
                               fmri_l_freq=high_pass, fmri_h_freq=0, clip=0, dtype=1)
    assert report == {"built": 1, "failed": 0}
    index, entries = corpus_entries(out)
    entry = entries[pseudonym("07")]
    assert entry["datatype"] == "func" and entry["sfreq"] == pytest.approx(0.5)
    # voxels in the file's order (x fastest): nibabel's array raveled in Fortran order
    order = np.flatnonzero(mask.ravel(order="F"))
    x = data.reshape(-1, data.shape[-1], order="F")[order].T  # time x voxel
    if high_pass:
        sos = scipy_signal.butter(4, high_pass, btype="highpass", fs=0.5, output="sos")
        x = scipy_signal.sosfiltfilt(sos, x, axis=0)
    z = preprocessing.RobustScaler().fit_transform(x)
    got = memmap_values(out, entry)
    assert got.shape == z.shape == (101, mask.sum())
    # float16 storage: relative error 2^-11 of the value, plus float32 arithmetic
    assert np.max(np.abs(got - z) / (np.abs(z) + 1)) < 2e-3, np.max(np.abs(got - z))
    # every voxel's position: its centre through the affine, in metres
    ijk = np.stack(np.unravel_index(order, mask.shape, order="F"), axis=1)
    centres = (ijk @ affine[:3, :3].T + affine[:3, 3]) / 1000
    assert np.allclose(np.asarray(entry["channel_positions"], float), centres, atol=1e-9)


def test_fmri_parcels_match_label_means(tmp_path):
    paths, data, _, labels, _ = write_bold(str(tmp_path))
    out = str(tmp_path / "corpus")
    btfm.corpus.build(None, out, KEY, files=[paths["bold"]], atlas=paths["atlas"],
                      fmri_l_freq=0, clip=0, dtype=0)
    _, entries = corpus_entries(out)
    entry = entries[pseudonym("07")]
    # NiftiLabelsMasker's signals: the mean of each label's voxels, labels ascending
    x = np.stack([data[labels == k].mean(axis=0) for k in (1, 2, 3)], axis=1)
    z = preprocessing.RobustScaler().fit_transform(x)
    got = memmap_values(out, entry)
    assert got.shape == z.shape
    # int16 rounding (half a step) plus float32 sums of voxels near 100 (about 1e-4 of an IQR)
    scale = np.asarray(entry["scale"])
    assert np.all(np.abs(got - z) <= scale / 2 + 3e-4), np.max(np.abs(got - z) - scale / 2)


def expected_z(x, sf, sfreq, l_freq=0.5, h_freq=75.0, clip=20.0):
    """The preprocessing of doc/corpus.md without re-referencing, in SciPy and scikit-learn:
    Butterworth band-pass forward and backward, polyphase resampling, robust z, clip."""
    from fractions import Fraction
    bands = [l_freq, h_freq] if h_freq < sf / 2 else [l_freq]
    sos = scipy_signal.butter(4, bands, btype="bandpass" if len(bands) == 2 else "highpass",
                              fs=sf, output="sos")
    y = scipy_signal.sosfiltfilt(sos, x, axis=0)
    ratio = Fraction(sfreq) / Fraction(sf)
    y = scipy_signal.resample_poly(y, ratio.numerator, ratio.denominator, axis=0)
    return np.clip(preprocessing.RobustScaler().fit_transform(y), -clip, clip)


def assert_tokens(out, z, window_s, patch_len):
    """The loader's first batch of patch tokens (channel x patch x sample) against the
    windows of z cut and reshaped in NumPy."""
    loader = btfm.corpus.Loader(out, window_s=window_s, patch_len=patch_len, shuffle=False,
                                batch_size=4, num_threads=1)
    batch = loader.next_batch()
    T = loader.window_len
    assert batch["data"].shape == (4, z.shape[1], T // patch_len, patch_len)
    for i, start in enumerate(batch["starts"]):
        want = z[start:start + T].T.reshape(z.shape[1], T // patch_len, patch_len)
        assert np.max(np.abs(batch["data"][i] - want)) < 5e-3


def write_meg_fif(path):
    """Five channels (two magnetometers, two gradiometers, one EEG) saved by MNE."""
    sf, n = 600.0, 12000
    names = ["MEG 0111", "MEG 0112", "MEG 0113", "EEG 001", "MEG 0121"]
    types = ["mag", "grad", "grad", "eeg", "mag"]
    units = np.array([2e-12, 3e-11, 3e-11, 1e-5, 1e-12])
    rng = np.random.default_rng(5)
    t = np.arange(n) / sf
    x = (np.sin(2 * np.pi * (7 + 3 * np.arange(5))[:, None] * t)
         + 0.5 * rng.standard_normal((5, n))) * units[:, None]
    raw = mne.io.RawArray(x, mne.create_info(names, sf, types), verbose="error")
    raw.save(path, verbose="error")
    return sf


def write_snirf(path):
    """Six continuous-wave amplitudes at 10 Hz (two sources, two detectors, two
    wavelengths), written with h5py from the specification."""
    pytest.importorskip("h5py")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "io"))
    import snirfspec
    sf, n = 10.0, 1500
    pairs = [(1, 1), (1, 2), (2, 2)]
    rng = np.random.default_rng(6)
    t = np.arange(n) / sf
    data = (1.0 + 0.05 * np.sin(2 * np.pi * 0.1 * t)[:, None] * rng.uniform(0.5, 2, 6)
            + 0.01 * rng.standard_normal((n, 6)))
    src, det = snirfspec.probe_positions(2, 2)
    snirfspec.write(path, data, t, snirfspec.cw_layout(2, 2, pairs), [760.0, 850.0], src, det)
    return sf


def check_meg(out, entry, path, sf):
    """MEG: magnetometers and gradiometers (not the EEG channel), on their own reference,
    with the EEG band and rate: MNE's read preprocessed by SciPy and scikit-learn."""
    assert entry["datatype"] == "meg" and entry["sfreq"] == 250
    assert entry["channel_names"] == ["MEG 0111", "MEG 0112", "MEG 0113", "MEG 0121"]
    assert entry["channel_types"] == ["meg_mag", "meg_grad", "meg_grad", "meg_mag"]
    assert "reference" not in entry["preprocessing"]
    meg = mne.io.read_raw_fif(path, preload=True, verbose="error").get_data(picks="meg").T
    z = expected_z(meg, sf, 250)
    got = memmap_values(out, entry)
    assert got.shape == z.shape
    assert np.max(np.abs(got - z)) < 5e-3, np.max(np.abs(got - z))
    return z


def check_nirs(out, entry, path, sf):
    """fNIRS: the continuous-wave amplitudes, named as MNE names them, unreferenced, with
    the fNIRS defaults (0.05-0.7 Hz, 5 Hz): h5py's read preprocessed by SciPy and
    scikit-learn."""
    import h5py
    assert entry["datatype"] == "nirs" and entry["sfreq"] == 5
    assert entry["preprocessing"]["l_freq"] == 0.05 and entry["preprocessing"]["h_freq"] == 0.7
    assert entry["channel_names"] == mne.io.read_raw_snirf(path, verbose="error").ch_names
    assert entry["channel_types"] == ["fnirs_cw_amplitude"] * 6
    with h5py.File(path, "r") as f:
        x = f["nirs/data1/dataTimeSeries"][()]
    z = expected_z(x, sf, 5, l_freq=0.05, h_freq=0.7)
    got = memmap_values(out, entry)
    assert got.shape == z.shape
    assert np.max(np.abs(got - z)) < 5e-3, np.max(np.abs(got - z))
    return z


@pytest.mark.parametrize("name, write, check, label, window_s, patch_len", [
    ("sub-07_task-rest_meg.fif", write_meg_fif, check_meg, "07", 2, 125),
    ("sub-09_task-rest_nirs.snirf", write_snirf, check_nirs, "09", 20, 10)])
def test_meg_and_fnirs_files_with_their_defaults(tmp_path, name, write, check, label,
                                                 window_s, patch_len):
    path = str(tmp_path / name)
    sf = write(path)
    out = str(tmp_path / "corpus")
    assert btfm.corpus.build(None, out, KEY, files=[path]) == {"built": 1, "failed": 0}
    z = check(out, corpus_entries(out)[1][pseudonym(label)], path, sf)
    assert_tokens(out, z, window_s=window_s, patch_len=patch_len)


def test_bids_folder_default_query_takes_every_datatype(tmp_path):
    """A BIDS folder with EEG, MEG and fNIRS recordings: the default query builds all three,
    each with its datatype's picks, band and rate; a query narrows it to one."""
    root = tmp_path / "bids"
    for sub, dt in (("01", "eeg"), ("02", "meg"), ("03", "nirs")):
        (root / f"sub-{sub}" / dt).mkdir(parents=True)
    (root / "dataset_description.json").write_text(
        '{"Name": "three datatypes", "BIDSVersion": "1.8.0"}')
    common = {"TaskName": "rest", "PowerLineFrequency": 50, "SoftwareFilters": "n/a"}
    sidecars = {"eeg": {"SamplingFrequency": SF, "EEGReference": "Cz"},
                "meg": {"SamplingFrequency": 600, "DewarPosition": "upright",
                        "DigitizedLandmarks": False, "DigitizedHeadPoints": False},
                "nirs": {"SamplingFrequency": 10, "NIRSChannelCount": 6,
                         "NIRSSourceOptodeCount": 2, "NIRSDetectorOptodeCount": 2}}
    for dt, fields in sidecars.items():
        (root / f"task-rest_{dt}.json").write_text(json.dumps({**common, **fields}))
    eeg = write_edfs(str(root / "sub-01" / "eeg"), n_subjects=1, seconds=6)[0]
    meg = str(root / "sub-02" / "meg" / "sub-02_task-rest_meg.fif")
    nirs = str(root / "sub-03" / "nirs" / "sub-03_task-rest_nirs.snirf")
    meg_sf, nirs_sf = write_meg_fif(meg), write_snirf(nirs)
    out = str(tmp_path / "corpus")
    assert btfm.corpus.build(str(root), out, KEY) == {"built": 3, "failed": 0}
    entries = corpus_entries(out)[1]
    assert sorted(e["datatype"] for e in entries.values()) == ["eeg", "meg", "nirs"]
    e = entries[pseudonym("01")]
    assert e["datatype"] == "eeg" and e["sfreq"] == 250 and e["channel_types"] == ["eeg"] * N_CH
    check_meg(out, entries[pseudonym("02")], meg, meg_sf)
    check_nirs(out, entries[pseudonym("03")], nirs, nirs_sf)
    only = str(tmp_path / "meg-only")
    assert btfm.corpus.build(str(root), only, KEY, query="datatype=meg") == {"built": 1,
                                                                            "failed": 0}
    assert list(corpus_entries(only)[1]) == [pseudonym("02")]
