"""Per-event BOLD responses for a reward head: simulate a rapid event-related run with a
known response to each event, clean it, fit a condition-level GLM with AR(1) noise, and
estimate one beta per event with least-squares-separate (LSS). Run by the tests."""
import numpy as np

import btfm

rng = np.random.RandomState(0)
t_r, n_scans, n_voxels = 2.0, 380, 400
onsets = 10.0 + np.cumsum(rng.uniform(5.0, 9.0, size=80))
events = {"onset": onsets, "duration": np.ones(80),
          "trial_type": np.where(np.arange(80) % 2, "liked", "disliked")}

# Ground truth: every event evokes its own amplitude in every voxel, plus slow drift,
# motion-like confounds and AR(1) noise.
truth = rng.randn(80, n_voxels)
motion = rng.randn(n_scans, 6).cumsum(axis=0) * 0.1
responses = btfm.glm.event_columns(events, t_r, n_scans)     # n_scans x 80
noise = rng.randn(n_scans, n_voxels) * 0.05
for t in range(1, n_scans):
    noise[t] += 0.3 * noise[t - 1]
drift = np.linspace(0, 1, n_scans)[:, None] * rng.randn(1, n_voxels)
bold = (500 + responses @ truth + motion @ rng.randn(6, n_voxels) * 0.2 + drift
        + noise).astype(np.float32)

# Condition-level GLM: "liked" minus "disliked".
X, names = btfm.glm.design_matrix(events, t_r, n_scans, confounds=motion)
model = btfm.glm.fit(bold, X, noise_model="ar1")
effect, variance, t = model.contrast([1.0 if n == "liked" else -1.0 if n == "disliked"
                                      else 0.0 for n in names])
print(f"design {X.shape}, AR(1) bins used: {len(np.unique(model.ar1))}, "
      f"median |t| liked - disliked: {np.median(np.abs(t)):.2f}")

# One beta per event (LSS, others per condition), the reward head's input.
betas = btfm.glm.lss(bold, events, t_r, confounds=motion, per_condition=True)
r = np.corrcoef(betas.ravel(), truth.ravel())[0, 1]
print(f"LSS betas {betas.shape}: correlation with the simulated responses r = {r:.3f}")
assert r > 0.85, r

# Cleaning for other uses (connectivity, decoding): nilearn's order, cosine high-pass.
cleaned = btfm.glm.clean(bold, t_r, filter="cosine", high_pass=1 / 128, confounds=motion)
print(f"cleaned: mean {cleaned.mean():.1e}, sample std {cleaned.std(axis=0, ddof=1).mean():.3f}")
