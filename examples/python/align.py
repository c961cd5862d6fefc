"""Align three simulated subjects with the shared response model, predict one subject's
held-out responses from another's, and save the model. Run by the tests."""
import os
import tempfile

import numpy as np

import btfm

rng = np.random.RandomState(0)
T, V, K = 300, 80, 5
shared = rng.randn(2 * T, K)                     # the stimulus-driven signal
subjects = []
for _ in range(3):                               # each brain lays it out differently
    layout = np.linalg.qr(rng.randn(V, K))[0]
    subjects.append((shared @ layout.T + 0.3 * rng.randn(2 * T, V)).astype(np.float32))
train = [x[:T] for x in subjects]
test = [x[T:] for x in subjects]

aligner = btfm.Aligner("srm", n_features=K).fit(train)
images = [aligner.transform(x, subject=i) for i, x in enumerate(test)]
print("segment matching after alignment:", btfm.segment_matching(images).round(3))
print("segment matching anatomically:   ", btfm.segment_matching(test).round(3))

predicted = aligner.inverse_transform(images[0], subject=1)
r = np.corrcoef(predicted.ravel(), test[1].ravel())[0, 1]
print(f"subject 1 predicted from subject 0: r = {r:.3f}")

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "srm.btfm")
    aligner.save(path)
    again = btfm.Aligner.load(path)
    assert np.array_equal(again.transform(test[2], 2), images[2])
    print("saved and reloaded:", again)
# Noise-free prediction would reach sqrt(0.0625 / (0.0625 + 0.09)) = 0.64 here.
assert btfm.segment_matching(images).min() >= 0.95 and r > 0.5
