"""fNIRS from light to haemoglobin: simulate a finger-tapping recording (HbO up and HbR
down in each 10-s block, a cardiac pulse, and a scalp signal that short channels see
too), then optical density, scalp coupling index, short-channel regression, the
modified Beer-Lambert law and a block average. A SNIRF file would be opened with
btfm.open("sub-01_task-tapping_nirs.snirf") and processed the same way. Run by the tests."""
import numpy as np

import btfm

sfreq, seconds = 10.0, 300
t = np.arange(int(sfreq * seconds)) / sfreq
rng = np.random.default_rng(1)
onsets = np.arange(20.0, 280.0, 30.0)
boxcar = np.zeros_like(t)
for onset in onsets:
    boxcar[(t >= onset) & (t < onset + 10)] = 1
kernel = np.exp(-np.arange(0, 15, 1 / sfreq) / 3.0)
response = np.convolve(boxcar, kernel)[:t.size] / kernel.sum() * 20
hbo_true, hbr_true = 5e-8 * response, -2e-8 * response          # M (peak ~1 uM), in the brain
scalp = 0.8e-6 * np.sin(2 * np.pi * 0.08 * t + 1) + 0.2e-6 * rng.standard_normal(t.size)
cardiac = 0.1e-6 * np.sin(2 * np.pi * 1.2 * t)

# Two long pairs (3 cm) over the motor cortex and one short pair (8 mm) beside them.
wavelengths = (760.0, 850.0)
pairs = [(1, 1, 0.03), (2, 1, 0.03), (1, 2, 0.008)]
columns, geometry = [], []
for source, detector, distance in pairs:
    brain = 0.0 if distance < 0.01 else 1.0
    for wl in wavelengths:
        e_hbo, e_hbr = btfm.fnirs.extinction(wl)
        hbo = brain * hbo_true + scalp + cardiac
        hbr = brain * hbr_true + 0.3 * scalp
        od = 0.2303 * distance * btfm.fnirs.MNE_PPF * 1e3 * (e_hbo * hbo + e_hbr * hbr)
        columns.append(np.exp(-od) * (1 + 0.0002 * rng.standard_normal(t.size)))
        geometry.append(btfm.NirsGeometry(source, detector, wl, (0.0, 0.0, 0.0),
                                          (distance, 0.0, 0.0)))
names = [f"S{g.source}_D{g.detector} {g.wavelength:.0f}" for g in geometry]
raw = btfm.from_array(np.array(columns).T.astype(np.float32), sfreq, ch_names=names,
                      ch_types=["fnirs_cw_amplitude"] * len(names))
for channel, g in zip(raw.channels, geometry):
    channel.nirs = g
for onset in onsets:
    raw.add_event(onset, 10.0, "tapping", type="stim")

od = raw.optical_density()
sci = od.scalp_coupling_index()
print("scalp coupling index:", " ".join(f"{v:.2f}" for v in sci))
print("short channels:", [n for n, s in zip(raw.ch_names, raw.short_channels()) if s])
clean = od.short_channel_regression(max_distance=0.01)
hb = clean.beer_lambert(ppf=btfm.fnirs.MNE_PPF)
print("channels:", hb.ch_names)

# Block average of S1_D1's HbO and HbR, 0-20 s after each onset.
data = hb.data
window = np.arange(int(20 * sfreq))
starts = (onsets * sfreq).astype(int)
hbo_avg = np.mean([data[s + window, hb.ch_names.index("S1_D1 hbo")] for s in starts], axis=0)
hbr_avg = np.mean([data[s + window, hb.ch_names.index("S1_D1 hbr")] for s in starts], axis=0)
peak_o = hbo_avg.max() - hbo_avg[0]
peak_r = hbr_avg.min() - hbr_avg[0]
truth_o = np.mean([hbo_true[s + window] for s in starts], axis=0)
print(f"HbO rises {peak_o * 1e6:.2f} uM (simulated {(truth_o.max() - truth_o[0]) * 1e6:.2f}), "
      f"HbR falls {-peak_r * 1e6:.2f} uM")
assert abs(peak_o - (truth_o.max() - truth_o[0])) < 0.15 * truth_o.max() and peak_r < 0
