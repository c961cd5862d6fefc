"""Filter a simulated EEG recording (1-40 Hz band-pass, 50 Hz notch), cut epochs around
its events with a baseline and artefact rejection, average them into an evoked response,
and downsample; also stream the same data through a causal filter. Run by the tests."""
import os
import tempfile

import numpy as np

import btfm
from btfm import signal

sfreq, n_channels = 250.0, 8
rng = np.random.default_rng(0)
t = np.arange(int(60 * sfreq)) / sfreq
x = rng.normal(0, 10e-6, (t.size, n_channels))                      # background EEG (V)
x += 50e-6 * np.sin(2 * np.pi * 0.05 * t)[:, None]                   # slow drift
x += 20e-6 * np.sin(2 * np.pi * 50 * t)[:, None]                     # line noise
onsets = np.arange(2.0, 58.0, 1.5)
for onset in onsets:                                                 # an evoked bump at 300 ms
    k = (t > onset) & (t < onset + 0.6)
    x[k] += 8e-6 * np.exp(-((t[k] - onset - 0.3) / 0.05) ** 2)[:, None]
x[int(20.1 * sfreq), 3] += 300e-6                                    # one artefact
ds = btfm.from_array(x.astype(np.float32), sfreq,
                     ch_names=[f"EEG{i}" for i in range(n_channels)], ch_types=["eeg"] * n_channels)
for onset in onsets:
    ds.add_event(onset, 0.0, "stim", type="trigger")

clean = ds.filter(1, 40, order=4, notch=50, as_dataset=True)        # a new dataset
epochs = clean.epochs(label="stim", tmin=-0.2, tmax=0.8, baseline=(None, 0),
                      reject={"eeg": 100e-6})
evoked = epochs.data.mean(axis=0)
peak = epochs.times[np.argmax(evoked.mean(axis=1))]
print(f"{len(epochs.kept)} events, {epochs.data.shape[0]} epochs kept, "
      f"dropped: {[r for r in epochs.reasons if r != 'kept']}; evoked peak at {peak * 1000:.0f} ms")
assert abs(peak - 0.3) < 0.02 and epochs.reasons.count("EEG3") == 1

down = signal.resample_poly(clean.data, 1, 2)                        # 125 Hz
print(f"downsampled to {down.shape[0]} samples")

sos = signal.butter(4, (1, 40), "bandpass", sfreq=sfreq)             # streaming, causal
f = signal.CausalFilter(sos, n_channels)
streamed = np.vstack([f.process(chunk) for chunk in np.array_split(ds.data, 100)])
assert np.array_equal(streamed, signal.sosfilt(sos, ds.data))

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "clean.edf")
    clean.save(path)
    print(f"saved {os.path.basename(path)}: {btfm.open(path).n_channels} channels")
