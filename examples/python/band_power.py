#!/usr/bin/env python3
"""Band power of simulated EEG: Welch PSD of every channel, absolute and relative power
in the classic bands, and the multitaper estimate for comparison. The simulation puts a
10 Hz rhythm on the occipital channels and a 20 Hz rhythm on the central one, so the
dominant band of each channel is known and checked.

Run from a build tree with:
    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \
        /usr/bin/python3 examples/python/band_power.py
"""

import numpy as np

from btfm import spectrum

sfreq = 256.0
n_times = int(60 * sfreq)  # one minute
channels = ["O1", "O2", "Cz", "Fz"]
rhythm = {"O1": 10.0, "O2": 10.0, "Cz": 20.0, "Fz": None}  # Hz, or None for noise only

rng = np.random.default_rng(0)
t = np.arange(n_times) / sfreq
x = np.empty((n_times, len(channels)), dtype=np.float32)  # time x channels, volts
for c, name in enumerate(channels):
    noise = np.cumsum(rng.standard_normal(n_times)) * 0.02e-6  # 1/f-like background
    noise -= np.convolve(noise, np.ones(256) / 256, mode="same")  # without the drift
    wave = 0 if rhythm[name] is None else 8e-6 * np.sin(2 * np.pi * rhythm[name] * t)
    x[:, c] = noise + wave + 1e-6 * rng.standard_normal(n_times)

# Welch PSD: 2 s Hann segments, 50% overlap, density scaling (V^2/Hz).
freqs, psd = spectrum.welch(x, sfreq, nperseg=512)
print(f"PSD: {psd.shape[0]} frequencies x {psd.shape[1]} channels, {freqs[1]:.2f} Hz apart")

bands = ["delta", "theta", "alpha", "beta", "gamma"]
absolute = spectrum.band_power(psd, freqs, bands)  # V^2, bands x channels
relative = spectrum.band_power(psd, freqs, bands, relative=True)

print("band    " + "".join(f"{name:>10}" for name in channels))
for b, band in enumerate(bands):
    lo, hi = spectrum.BANDS[band]
    print(f"{band:<7} " + "".join(f"{100 * r:9.1f}%" for r in relative[b])
          + f"   ({lo:g}-{hi:g} Hz)")

dominant = [bands[i] for i in relative.argmax(axis=0)]
print("dominant band:", dict(zip(channels, dominant)))
assert dominant[:3] == ["alpha", "alpha", "beta"], dominant
assert np.allclose(relative.sum(axis=0), 1.0, atol=0.05)  # adjacent bands share edge bins

# A sinusoid of amplitude A carries A^2 / 2 of power: 32 (uV)^2 for 8 uV.
alpha_uv2 = absolute[bands.index("alpha"), 0] * 1e12
print(f"O1 alpha power {alpha_uv2:.1f} uV^2 (the 10 Hz rhythm alone: 32.0)")
assert 30.0 < alpha_uv2 < 36.0

# The multitaper estimate (MNE's default half bandwidth NW = 4) agrees on the bands.
mt_freqs, mt_psd = spectrum.psd_multitaper(x, sfreq, fmax=60.0)
mt_relative = spectrum.band_power(mt_psd, mt_freqs, bands, relative=True)
print("multitaper dominant band:",
      dict(zip(channels, (bands[i] for i in mt_relative.argmax(axis=0)))))
assert np.abs(mt_relative - relative).max() < 0.05
