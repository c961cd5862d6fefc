"""`mpirun -n 3 btfm align fit OUT inputs...` splits the inputs by rank and writes the
model of the single-process `btfm align fit` (compared through the Python package), with
the same objective after each iteration, also in the --plot figure rank 0 draws (read
back from the SVG); an unreadable input on one rank fails the whole run, on time, without
writing OUT. `mpirun -n 3 btfm corpus build` writes the bytes of the one-process build.
"""

import filecmp
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

    # btfm corpus build under mpirun: the ranks divide the recordings, rank 0 merges the
    # index; the folder holds the bytes of the one-process build (4 recordings, one of
    # them not EDF, on 3 ranks).
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "tools"))
    from cli_support import write_uv_edf  # noqa: E402
    edfs = []
    for i in range(3):
        edfs.append(os.path.join(tmp, f"sub-{i}_task-rest_eeg.edf"))
        t = np.arange(250 * 4) / 250
        write_uv_edf(edfs[-1], [20 * np.sin(2 * np.pi * (5 + i) * t), 10 * np.cos(t + i)],
                     250, 4, onsets=(1, 2))
    edfs.append(os.path.join(tmp, "sub-9_task-rest_eeg.edf"))
    with open(edfs[-1], "w") as f:
        f.write("not EDF")
    c_one, c_three = os.path.join(tmp, "c_one"), os.path.join(tmp, "c_three")
    key = ["--key", "a secret key", "--param", "l_freq=0", "--param", "sfreq=0"]
    subprocess.run([BTFM, "corpus", "build", *edfs, c_one, *key], check=True,
                   capture_output=True)
    r = subprocess.run(MPIRUN + [BTFM, "corpus", "build", *edfs, c_three, *key],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("3 recordings built, 1 failed") == 1, r.stdout  # rank 0 reports
    names = []
    for d, _, files in os.walk(c_one):
        names += [os.path.relpath(os.path.join(d, f), c_one) for f in files]
    assert len(names) >= 8 and "index.json" in names, names
    match, mismatch, errors = filecmp.cmpfiles(c_one, c_three, names, shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    assert sorted(names) == sorted(os.path.relpath(os.path.join(d, f), c_three)
                                   for d, _, files in os.walk(c_three) for f in files)
print("OK")
sys.exit(0)
