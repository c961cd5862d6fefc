"""btfm.plot's figures read back from matplotlib's artists: the traces are the input array
scaled as documented, the events the ones added; the spectra SciPy's welch of the same
array; the convergence the fit's history; the held-out scores BrainIAK's segment matching
in NumPy (tests/align/references.py) on a second fit, and the raw features'."""

import sys

import numpy as np
import pytest

import btfm
from conftest import SOURCE_ROOT

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_recording_traces_and_events():
    rng = np.random.default_rng(3)
    sfreq, n = 97.0, 1501  # 15.5 s: the first 10 s are drawn
    x = (rng.standard_normal((n, 3)) * [1e-5, 2e-4, 1.0]).astype(np.float32)
    names = ["Fz", "EOG", "STI"]
    ds = btfm.from_array(x, sfreq, ch_names=names, units=["V", "V", "V"])
    for onset, label in [(0.5, "stim/left"), (9.9, "resp"), (12.0, "late")]:
        ds.add_event(onset, label=label)
    ax = btfm.plot.recording(ds)
    shown = int(np.ceil(10 * sfreq))
    lines = [line for line in ax.get_lines() if line.get_label() in names]
    assert [line.get_label() for line in lines] == names
    for c, line in enumerate(lines):
        seg = x[:shown, c].astype(np.float64)
        mid, half = (seg.max() + seg.min()) / 2, (seg.max() - seg.min()) / 2
        np.testing.assert_allclose(line.get_xdata(), np.arange(shown) / sfreq)
        np.testing.assert_allclose(line.get_ydata(), 2 - c + 0.4 * (seg - mid) / half,
                                   rtol=0, atol=1e-9)
    marks = {line.get_label(): line.get_xdata()[0] for line in ax.get_lines()
             if line.get_label() not in names}
    assert marks == {"stim/left": 0.5, "resp": 9.9}  # 12 s lies past the drawn seconds
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    ds.close()


def test_psd_lines_are_scipys_welch():
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2048, 5)).astype(np.float32)
    f, p = btfm.spectrum.welch(x, 128.0, nperseg=256)
    ax = btfm.plot.psd(f, p, ch_names=list("abcde"))
    fs, ps = signal.welch(x.astype(np.float64), 128.0, nperseg=256, axis=0)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list("abcde")
    for c, line in enumerate(lines):
        np.testing.assert_allclose(line.get_xdata(), fs)
        np.testing.assert_allclose(line.get_ydata(), ps[:, c], rtol=1e-4)
    assert ax.get_yscale() == "log"
    # epochs x frequencies x channels: the mean over epochs; 1-D: one line
    epochs = np.stack([ps, 3 * ps])
    ax = btfm.plot.psd(fs, epochs)
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), 2 * ps[:, 1])
    assert len(btfm.plot.psd(fs, ps[:, 0]).get_lines()) == 1
    with pytest.raises(ValueError, match="129 frequencies"):
        btfm.plot.psd(fs, ps.T)


@pytest.mark.parametrize("method", ["srm", "hyperalignment"])
def test_alignment_convergence_and_held_out_scores(method):
    sys.path.insert(0, str(SOURCE_ROOT / "tests" / "align"))
    ref = pytest.importorskip("references")
    train, *_ = ref.simulate(4, 200, 10, 30, 4, noise=0.5, seed=8)
    params = {"n_features": 4} if method == "srm" else {}
    al = btfm.Aligner(method, **params).fit(train)
    conv, held = btfm.plot.alignment(al, train)
    if method == "srm":
        (line,) = conv.get_lines()
        np.testing.assert_array_equal(line.get_ydata(), al.fit_history)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, al.fit_info[0] + 1))
    else:
        assert conv.get_lines() == [] and "does not iterate" in conv.get_title()
    split = 200 - 200 // 5
    part = btfm.Aligner(method, **params).fit([x[:split] for x in train])
    want = ref.segment_matching([part.transform(x[split:], i) for i, x in enumerate(train)],
                                win_size=10)
    raw = ref.segment_matching([x[split:] for x in train], win_size=10)
    aligned, anatomical = held.get_lines()
    np.testing.assert_allclose(aligned.get_ydata(), want, atol=1e-6)
    np.testing.assert_allclose(anatomical.get_ydata(), raw, atol=1e-6)
    assert want.mean() > raw.mean() + 0.3


def test_without_matplotlib_the_error_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    ds = btfm.from_array(np.zeros((10, 1), np.float32), 10.0)
    with pytest.raises(ImportError, match="python3-matplotlib"):
        btfm.plot.recording(ds)
    ds.close()
