"""`mpirun -n 3 btfm align fit OUT inputs...` splits the inputs by rank and writes the
model of the single-process `btfm align fit` (compared through the Python package), with
the same objective after each iteration, also in the --plot figure rank 0 draws (read
back from the SVG); an unreadable input on one rank fails the whole run, on time, without
writing OUT."""

import os
import subprocess
import sys
import tempfile

import numpy as np

import btfm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import svg_read  # noqa: E402

BTFM = os.environ["BTFM_EXE"]
MPIRUN = [os.environ["MPIRUN"], "-n", "3", "--oversubscribe", "--allow-run-as-root"]

with tempfile.TemporaryDirectory() as tmp:
    rng = np.random.default_rng(5)
    s = rng.standard_normal((45, 4))
    paths = []
    for i in range(5):
        w, _ = np.linalg.qr(rng.standard_normal((28 + i, 4)))
        x = (s @ w.T + 0.3 * rng.standard_normal((45, 28 + i))).astype(np.float32)
        paths.append(os.path.join(tmp, f"sub{i}.npy"))
        np.save(paths[-1], x)
    opts = ["--method", "probabilistic_srm", "--n-features", "4", "--param", "tol=0",
            "--param", "max_iter=20"]
    one, three = os.path.join(tmp, "one.model"), os.path.join(tmp, "three.model")
    subprocess.run([BTFM, "align", "fit", one, *paths, *opts], check=True)
    svg = os.path.join(tmp, "fit.svg")
    r = subprocess.run(MPIRUN + [BTFM, "align", "fit", three, *paths, *opts, "--plot", svg],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("5 subjects") == 1, r.stdout  # rank 0 alone reports
    a, b = btfm.Aligner.load(one), btfm.Aligner.load(three)
    assert b.n_subjects == 5
    for i, p in enumerate(paths):
        x = np.load(p)
        ya, yb = a.transform(x, i), b.transform(x, i)
        d = np.abs(ya - yb).max() / np.abs(ya).max()
        assert d <= 1e-5, (i, d)
    history = np.array(a.fit_history)
    assert len(history) == 20 and np.allclose(b.fit_history, history, rtol=1e-5, atol=0)
    _, (conv, held) = svg_read.read(svg)
    pts = np.array(conv.series("objective")["parts"][0])
    assert np.allclose(pts[:, 0], np.arange(1, 21), atol=0.02)
    assert np.allclose(pts[:, 1], history, atol=0.01 * np.ptp(history))
    # rank 0 read every input for the held-out panel: one score per subject
    assert len(held.series("aligned")["parts"][0]) == 5

    bad = os.path.join(tmp, "bad.model")
    broken = os.path.join(tmp, "broken.npy")
    with open(broken, "wb") as f:
        f.write(b"\x93NUMPY not really")
    r = subprocess.run(MPIRUN + [BTFM, "align", "fit", bad, *paths[:4], broken, *opts],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "broken.npy" in r.stderr, r.stderr
    assert not os.path.exists(bad)
print("OK")
sys.exit(0)
