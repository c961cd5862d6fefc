"""Epochs and references against MNE 1.3 on the same data: mne.Epochs (tmin/tmax
rounding, baseline, peak-to-peak rejection per channel type, events at the edges) and
set_eeg_reference("average") with bad channels."""

import numpy as np
import pytest

mne = pytest.importorskip("mne")

import btfm
from btfm import signal as bs

SFREQ = 250.0


def make_raw(seed=0):
    rng = np.random.default_rng(seed)
    n_times = 5000
    names = [f"EEG{i}" for i in range(6)] + ["EOG1", "STI"]
    types = ["eeg"] * 6 + ["eog", "stim"]
    data = rng.standard_normal((n_times, 8)) * 10e-6 + rng.uniform(-1e-3, 1e-3, 8)
    data[:, 7] = 0
    events = np.array([3, 400, 1100, 2000, 2600, 3300, 4100, 4990])
    data[2000 + 20, 1] += 400e-6   # an EEG artefact in event 3's epoch
    data[2600 + 10, 6] += 900e-6   # an EOG blink in event 4's epoch
    data = data.astype(np.float32)
    info = mne.create_info(names, SFREQ, types)
    raw = mne.io.RawArray(data.T.astype(np.float64), info, verbose=False)
    return raw, data, events, names, types


@pytest.mark.parametrize("tmin,tmax,baseline", [(-0.2, 0.5, (None, 0)), (-0.1, 0.3, None),
                                                (0.0, 0.8, (0.1, 0.3)), (-0.102, 0.498, (-0.05, None))])
def test_epochs_equal_mne(tmin, tmax, baseline):
    raw, data, events, names, types = make_raw()
    reject = {"eeg": 150e-6, "eog": 500e-6}
    mne_events = np.c_[events, np.zeros_like(events), np.ones_like(events)]
    epochs = mne.Epochs(raw, mne_events, tmin=tmin, tmax=tmax, baseline=baseline,
                        reject=reject, preload=True, verbose=False)
    ref = epochs.get_data()  # (n_kept, n_channels, n_times)
    limits = np.array([reject.get(t, 0.0) for t in types])
    ours = bs.epochs(data, SFREQ, events, tmin, tmax, baseline=baseline, reject=limits)
    mne_kept = np.array([len(log) == 0 for log in epochs.drop_log])
    assert np.array_equal(ours.kept, mne_kept)
    np.testing.assert_allclose(ours.times, epochs.times, rtol=0, atol=1e-12)
    assert ours.data.shape == (ref.shape[0], ref.shape[2], ref.shape[1])
    np.testing.assert_allclose(ours.data.transpose(0, 2, 1), ref, rtol=0, atol=1e-9)
    # reasons: MNE's drop log names the channels; ours the first one over its limit
    for reason, log in zip(ours.reasons, epochs.drop_log):
        if reason == "out_of_bounds":
            assert log in (("NO_DATA",), ("TOO_SHORT",))
        elif reason != "kept":
            assert names[reason] in log


def test_dataset_epochs_equal_mne(tmp_path):
    raw, data, events, names, types = make_raw(seed=4)
    ds = btfm.from_array(data, SFREQ, ch_names=names, ch_types=types)
    for e in events:
        ds.add_event(e / SFREQ, 0.0, "stim")
    ds.channel("EEG3").bad = True
    raw.info["bads"] = ["EEG3"]
    mne_events = np.c_[events, np.zeros_like(events), np.ones_like(events)]
    reject = {"eeg": 150e-6, "eog": 500e-6}
    epochs = mne.Epochs(raw, mne_events, tmin=-0.2, tmax=0.5, baseline=(None, 0),
                        reject=reject, preload=True, verbose=False, picks="all")
    ours = ds.epochs(tmin=-0.2, tmax=0.5, reject=reject)
    assert np.array_equal(ours.kept, [len(log) == 0 for log in epochs.drop_log])
    np.testing.assert_allclose(ours.data.transpose(0, 2, 1), epochs.get_data(), rtol=0,
                               atol=1e-9)
    assert "EEG1" in ours.reasons and "EOG1" in ours.reasons


def test_epochs_plan_serves_many_recordings_as_mne():
    """One EpochsPlan, configured once, cut from two recordings and a dataset: each equals
    mne.Epochs with the same options; the options read back as parameters."""
    plan = bs.EpochsPlan(-0.1, 0.3, (None, 0.05))
    assert plan.params["tmin"] == -0.1 and plan.baseline == (None, 0.05)
    reject = {"eeg": 150e-6, "eog": 500e-6}
    for seed in (0, 1):
        raw, data, events, names, types = make_raw(seed)
        plan.reject = np.array([reject.get(t, 0.0) for t in types])
        mne_events = np.c_[events, np.zeros_like(events), np.ones_like(events)]
        epochs = mne.Epochs(raw, mne_events, tmin=-0.1, tmax=0.3, baseline=(None, 0.05),
                            reject=reject, preload=True, verbose=False)
        ours = plan.run(data, SFREQ, events)
        assert np.array_equal(ours.kept, [len(log) == 0 for log in epochs.drop_log])
        np.testing.assert_allclose(ours.data.transpose(0, 2, 1), epochs.get_data(), rtol=0,
                                   atol=1e-9)
        with pytest.raises(ValueError, match="one limit per channel"):
            plan.run(data[:, :3], SFREQ, events)
    plan.reject = "eeg=150e-6,eog=500e-6"
    ds = btfm.from_array(data, SFREQ, ch_names=names, ch_types=types)
    for e in events:
        ds.add_event(e / SFREQ, 0.0, "stim")
    from_ds = plan.run_dataset(ds)
    np.testing.assert_array_equal(from_ds.kept, ours.kept)
    np.testing.assert_array_equal(from_ds.data, ours.data)
    with pytest.raises(btfm.Error) as err:
        plan.run(data, SFREQ, events)
    assert err.value.status_name == "BTFM_E_STATE"
    plan.close()


def test_label_selection_follows_mne_hierarchical_tags():
    """ds.epochs(label=...) picks the epochs MNE's epochs[label] picks from the same
    event_id (MNE's /-separated tags), and no match names the labels there are."""
    raw, data, events, names, types = make_raw(seed=5)
    labels = ["stim/left", "resp", "stim/right", "left/resp", "stim/left/strong",
              "stimulus", "resp", "stim/right"]
    ds = btfm.from_array(data, SFREQ, ch_names=names, ch_types=types)
    for e, label in zip(events, labels):
        ds.add_event(e / SFREQ, 0.0, label)
    event_id = {label: k + 1 for k, label in enumerate(dict.fromkeys(labels))}
    mne_events = np.c_[events, np.zeros_like(events), [event_id[x] for x in labels]]
    epochs = mne.Epochs(raw, mne_events, event_id, tmin=-0.1, tmax=0.2, baseline=None,
                        preload=True, verbose=False, picks="all")
    for query in ["stim", "left", "stim/left", "left/stim", "resp/left", "stimulus", "resp",
                  ["stimulus", "resp/left"]]:
        want = epochs[query]  # MNE's selection, out-of-bounds epochs dropped
        ours = ds.epochs(tmin=-0.1, tmax=0.2, baseline=None, label=query)
        chosen = ds.select_events(query)
        kept = [ds.events[i].onset for i, k in zip(chosen, ours.kept) if k]
        np.testing.assert_allclose(kept, want.events[:, 0] / SFREQ, rtol=0, atol=1e-9,
                                   err_msg=str(query))
        np.testing.assert_allclose(ours.data.transpose(0, 2, 1), want.get_data(), rtol=0,
                                   atol=1e-9, err_msg=str(query))
    with pytest.raises(btfm.NotFoundError, match="its event labels are: stim/left, resp, "
                       "stim/right, left/resp, stim/left/strong, stimulus"):
        ds.epochs(label="nope")
    with pytest.raises(KeyError):  # MNE refuses it too
        epochs["nope"]

def test_average_reference_equals_mne():
    raw, data, events, names, types = make_raw(seed=2)
    raw.info["bads"] = ["EEG2"]
    ref_raw, _ = mne.set_eeg_reference(raw.copy(), "average", projection=False, verbose=False)
    eeg = [i for i, t in enumerate(types) if t == "eeg"]
    good = [i for i in eeg if names[i] != "EEG2"]
    # MNE leaves bad channels as they are: refs = targets = the good EEG channels
    ours = bs.rereference(data, refs=good, targets=good)
    np.testing.assert_allclose(ours, ref_raw.get_data().T, rtol=0, atol=1e-9)
    # one channel as the reference
    ref1, _ = mne.set_eeg_reference(raw.copy(), ["EEG0"], verbose=False)
    np.testing.assert_allclose(bs.rereference(data, refs=[0], targets=good), ref1.get_data().T,
                               rtol=0, atol=1e-9)


def test_dataset_filter_equals_scipy_and_keeps_stim(tmp_path):
    import scipy.signal as ss
    raw, data, events, names, types = make_raw(seed=3)
    data[::500, 7] = 5  # trigger codes
    ds = btfm.from_array(data, SFREQ, ch_names=names, ch_types=types)
    y = ds.filter(1, 40, order=4)
    sos = ss.butter(4, [1, 40], "bandpass", output="sos", fs=SFREQ)
    ref = ss.sosfiltfilt(sos, data[:, :7], axis=0)
    rms = np.sqrt(np.mean(ref ** 2, axis=0))
    assert np.all(np.max(np.abs(y[:, :7] - ref), axis=0) <= 1e-5 * rms)
    assert np.array_equal(y[:, 7], data[:, 7])
    filtered = ds.filter(1, 40, as_dataset=True)
    assert filtered.ch_names == names and np.array_equal(filtered.data, y)
    path = tmp_path / "filtered.edf"
    filtered.save(path)
    assert btfm.open(path).n_channels == 8
