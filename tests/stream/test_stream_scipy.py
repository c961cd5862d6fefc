"""The stream against SciPy as the independent truth: sosfilt with its state carried
chunk to chunk (zi), the common average, scipy.signal.welch on each window and the
trapezoid band power; ERP window means from NumPy; the state indices from those powers;
and on the simulator, that each index moves with the latent state it is meant to follow."""

import numpy as np
import pytest

import btfm

signal = pytest.importorskip("scipy.signal")

SFREQ = 250.0
BANDS = [(1, 4), (4, 8), (8, 13), (13, 30)]


def recording(n, n_channels, seed=3):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SFREQ
    x = rng.normal(0, 10e-6, (n, n_channels))
    x += 20e-6 * np.sin(2 * np.pi * 10 * t)[:, None] * np.linspace(0.5, 1.5, n_channels)
    x += 8e-6 * np.sin(2 * np.pi * 50 * t)[:, None] + 1e-3  # mains hum and a DC offset
    return x.astype(np.float32)


def scipy_pipeline(x, chunk):
    """What a Python developer writes: sosfilt chunk by chunk with zi, CAR, welch."""
    sos = np.vstack([signal.butter(4, [1, 40], "bandpass", fs=SFREQ, output="sos"),
                     np.concatenate(signal.iirnotch(50, 30, fs=SFREQ))[None, :]])
    zi = np.zeros((sos.shape[0], 2, x.shape[1]))
    parts = []
    for i in range(0, len(x), chunk):
        y, zi = signal.sosfilt(sos, x[i:i + chunk].astype(np.float64), axis=0, zi=zi)
        parts.append(y.astype(np.float32))
    y = np.concatenate(parts)
    y = (y - y.astype(np.float64).mean(axis=1, keepdims=True)).astype(np.float32)
    return y


def band_powers(window, nperseg=125, noverlap=62, bands=BANDS):
    freqs, psd = signal.welch(window.astype(np.float64), SFREQ, nperseg=nperseg,
                              noverlap=noverlap, axis=0)
    out = []
    for lo, hi in bands:
        sel = (freqs >= lo) & (freqs <= hi)
        out.append(np.trapz(psd[sel], freqs[sel], axis=0))
    return np.array(out)  # bands x channels


def pushed_windows(s, x, chunk):
    """The window rows of x pushed in chunks of `chunk` samples."""
    for i in range(0, len(x), chunk):
        s.push(x[i:i + chunk])
    rows = s.pull()
    return rows[rows[:, s.column("kind")] == btfm.stream.ROW_WINDOW]


def worst_band_error(s, windows, y, first_column, n_bands, want):
    """The largest relative difference between the windows' band columns and
    want(the window's 250 SciPy-filtered samples), bands x channels."""
    C, worst = y.shape[1], 0.0
    first = s.column(first_column)
    for row in windows:
        end = int(row[s.column("sample")])
        got = row[first:first + n_bands * C].reshape(n_bands, C)
        expected = want(y[end - 249:end + 1])
        worst = max(worst, float(np.max(np.abs(got - expected) / np.abs(expected))))
    return worst


@pytest.mark.parametrize("chunk", [1, 13, 97, 600])
def test_band_powers_match_scipy(chunk):
    n, C = int(8 * SFREQ), 6
    x = recording(n, C)
    s = btfm.Stream(C, SFREQ, notch=50, reference="average", segment=0.5, segment_step=0.25,
                    capacity=1024)
    # 0.25 s at 250 Hz rounds to 63 samples: segments of 125 every 63, windows every 63
    windows = pushed_windows(s, x, chunk)
    worst = worst_band_error(s, windows, scipy_pipeline(x, 50), "delta:0", 4, band_powers)
    assert len(windows) == (n - 250) // 63 + 1
    assert worst < 1e-5, worst


# Relative band powers (each band over the span of all of them), with segments of 125
# every 63 samples and of 128 every 64 (a step that divides the segment: the sliding
# estimate's blocked form) and bands that do not start at 1 Hz.
@pytest.mark.parametrize("nperseg,step", [(125, 63), (128, 64)])
def test_relative_band_powers_match_scipy(nperseg, step):
    n, C, bands = int(6 * SFREQ), 5, [(4, 8), (8, 13), (20, 45)]
    x = recording(n, C, seed=4)
    s = btfm.Stream(C, SFREQ, notch=50, reference="average", segment=nperseg / SFREQ,
                    segment_step=step / SFREQ, hop=step / SFREQ, bands=bands, relative=True,
                    capacity=1024)
    windows = pushed_windows(s, x, 13)

    def relative(window):
        return (band_powers(window, nperseg, nperseg - step, bands) /
                band_powers(window, nperseg, nperseg - step, [(4, 45)]))

    worst = worst_band_error(s, windows, scipy_pipeline(x, 50), "theta:0", 3, relative)
    assert len(windows) == (n - 250) // step + 1
    assert worst < 1e-5, worst


def test_erp_and_indices_match_numpy():
    n, C = int(10 * SFREQ), 4
    x = recording(n, C, seed=8)
    markers = [2.0, 3.52, 7.0]
    s = btfm.Stream(C, SFREQ, notch=50, reference="average", erp_windows=[(0.1, 0.2)],
                    frontal=[0], posterior=[2, 3], segment=0.5, segment_step=0.25)
    for m in markers:
        s.push_marker(m, code=7)
    s.calibrate(True)
    for i in range(0, n, 25):
        s.push(x[i:i + 25])
        if i == 1500:
            s.calibrate(False)
    rows = s.pull()
    y = scipy_pipeline(x, n)
    epochs = rows[rows[:, s.column("kind")] == btfm.stream.ROW_EPOCH]
    assert len(epochs) == 3
    for row, m in zip(epochs, markers):
        k = int(round(m * SFREQ))
        assert int(row[s.column("sample")]) == k
        epoch = y[k - 50:k + 201].astype(np.float64)  # tmin -0.2 s, tmax 0.8 s
        epoch -= epoch[:51].mean(axis=0)  # baseline [tmin, 0]
        t = np.arange(-50, 201) / SFREQ
        want = epoch[(t >= 0.1) & (t <= 0.2)].mean(axis=0)
        got = row[s.column("erp0:0"):s.column("erp0:0") + C]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    windows = rows[rows[:, s.column("kind")] == btfm.stream.ROW_WINDOW]
    state = np.empty((len(windows), 4))
    for r, row in enumerate(windows):
        end = int(row[s.column("sample")])
        freqs, psd = signal.welch(y[end - 249:end + 1].astype(np.float64), SFREQ, nperseg=125,
                                  noverlap=62, axis=0)
        p = [np.trapz(psd[(freqs >= lo) & (freqs <= hi)], freqs[(freqs >= lo) & (freqs <= hi)],
                      axis=0) for lo, hi in [(4, 8), (8, 13), (13, 30)]]
        theta, alpha, beta = p
        state[r] = [np.log10(theta[0]), theta[0] / alpha[2:].mean(),
                    (theta.mean() + alpha.mean()) / beta.mean(), np.log10(alpha[2:].mean())]
        got = [row[s.column("state:" + name)] for name in btfm.stream.INDICES[:4]]
        np.testing.assert_allclose(got, state[r], rtol=1e-5)
    # z-scores against the windows flagged as calibration, with the sample SD
    calib = (windows[:, s.column("flags")].astype(int) & btfm.stream.FLAG_CALIBRATING) > 0
    assert 3 < calib.sum() < len(windows)
    mean, sd = state[calib].mean(axis=0), state[calib].std(axis=0, ddof=1)
    after = np.flatnonzero(~calib)
    after = after[after > np.flatnonzero(calib).max()]
    for r in after:
        got = [windows[r, s.column("z:" + name)] for name in btfm.stream.INDICES[:4]]
        np.testing.assert_allclose(got, (state[r] - mean) / sd, rtol=1e-4, atol=1e-6)


def test_marker_by_sample_matches_numpy_and_time():
    # host timestamps with jitter (not sample / sfreq); markers at samples, one of them
    # pushed after its sample; ERP means from NumPy on SciPy's filtering, and the rows of
    # the same markers given by their samples' times
    n, C = int(6 * SFREQ), 3
    x = recording(n, C, seed=11)
    ts = 500.0 + np.arange(n) / SFREQ + np.random.default_rng(2).uniform(0, 1e-4, n)
    samples = [np.int64(120), 511, 1003]
    rows = {}
    for form in ("sample", "time"):
        s = btfm.Stream(C, SFREQ, notch=50, reference="average", erp_windows=[(0.1, 0.2)])
        mark = ((lambda k: s.push_marker(sample=k, code=3)) if form == "sample"
                else (lambda k: s.push_marker(float(ts[k]), code=3)))
        for k in samples[:2]:
            mark(k)
        for i in range(0, n, 25):
            s.push(x[i:i + 25], timestamps=ts[i:i + 25])
            if i == 1100:
                mark(samples[2])  # late: its sample is in the history
        r = s.pull()
        rows[form] = r[r[:, s.column("kind")] == btfm.stream.ROW_EPOCH]
    assert rows["sample"].tobytes() == rows["time"].tobytes()
    y = scipy_pipeline(x, n)
    for row, k in zip(rows["sample"], samples):
        assert int(row[s.column("sample")]) == k and row[s.column("time")] == ts[k]
        epoch = y[k - 50:k + 201].astype(np.float64)
        epoch -= epoch[:51].mean(axis=0)
        t = np.arange(-50, 201) / SFREQ
        want = epoch[(t >= 0.1) & (t <= 0.2)].mean(axis=0)
        got = row[s.column("erp0:0"):s.column("erp0:0") + C]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    with pytest.raises(btfm.Error) as err:
        s.push_marker(sample=-1)
    assert err.value.status_name == "BTFM_E_RANGE"
    with pytest.raises(btfm.Error, match="oldest sample kept"):
        s.push_marker(sample=10)
    for bad in (dict(), dict(time=1.0, sample=5)):
        with pytest.raises(TypeError):
            s.push_marker(**bad)
    with pytest.raises(TypeError):
        s.push_marker(sample=5.0)
