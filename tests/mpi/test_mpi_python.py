"""btfm.Aligner.fit(my_subjects, comm=MPI.COMM_WORLD) under mpirun: each rank fits with a
block of the simulated subjects and must reach the single-process fit of all of them (the
shared response, each rank's maps, and every map after gather() on rank 0); a rank whose
subject has the wrong length makes every rank raise, the others with BTFM_E_REMOTE.
btfm.model.Model.fit(X, my_targets, comm=...): each rank's ridge fit equals its columns of the
one-process fit of every target; bad targets on one rank make every rank raise.
btfm.corpus.build(..., comm=) writes the bytes of the one-process build."""

import filecmp
import os
import shutil
import sys
import tempfile

import numpy as np
from mpi4py import MPI

import btfm

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
failures = []


def expect(ok, what):
    if not ok:
        failures.append(what)
        print(f"rank {rank}: {what}", file=sys.stderr)


def simulate(n, T=37, K=3):
    rng = np.random.default_rng(11)  # the same subjects on every rank
    s = rng.standard_normal((T, K))
    out = []
    for i in range(n):
        w, _ = np.linalg.qr(rng.standard_normal((20 + 5 * i, K)))
        out.append((s @ w.T + 0.3 * rng.standard_normal((T, 20 + 5 * i))).astype(np.float32))
    return out


def rel(x, y):
    return float(np.abs(x - y).max() / np.abs(y).max())


def block(n):
    return n * rank // size, n * (rank + 1) // size


params = dict(n_features=3, tol=0, max_iter=30, seed=3)
for method in ("srm", "probabilistic_srm"):
    for n in (5, 2):
        subjects = simulate(n)
        ref = btfm.Aligner(method, **params).fit(subjects)
        lo, hi = block(n)
        dist = btfm.Aligner(method, **params).fit(subjects[lo:hi], comm=comm)
        expect(dist.n_subjects == hi - lo, f"{dist.n_subjects} local subjects")
        expect(rel(dist.common, ref.common) <= 1e-5, f"{method} n={n}: shared response")
        for i in range(lo, hi):
            d = rel(dist.transform(subjects[i], i - lo), ref.transform(subjects[i], i))
            expect(d <= 1e-5, f"{method} n={n}: subject {i} differs by {d:g}")
        dist.gather(comm, root=0)
        if rank == 0:
            expect(dist.n_subjects == n, "gathered subjects")
            for i in range(n):
                d = rel(dist.transform(subjects[i], i), ref.transform(subjects[i], i))
                expect(d <= 1e-5, f"{method} n={n}: gathered subject {i} differs by {d:g}")

# One rank's subject is one time point short: every rank raises the same error.
subjects = simulate(4)
lo, hi = block(4)
mine = [x[:-1] if rank == size - 1 and j == lo else x for j, x in zip(range(lo, hi), subjects[lo:hi])]
try:  # refused by add_subject on the last rank
    btfm.Aligner("srm", **params).fit(mine, comm=comm)
    expect(False, "a wrong length went unnoticed")
except btfm.Error as e:
    bad = rank == size - 1
    expect(e.status_name == ("BTFM_E_INVALID" if bad else "BTFM_E_REMOTE"), str(e))
    expect("has 37 time points but subject 0 has 36" in e.message, e.message)
    expect(bad or f"rank {size - 1} of {size} failed" in e.message, e.message)

# Subjects of different lengths on different ranks: refused alike by the fit.
mine = [x[:-1] if rank == size - 1 else x for x in subjects[lo:hi]]
try:
    btfm.Aligner("srm", **params).fit(mine, comm=comm)
    expect(size == 1, "different lengths went unnoticed")
except btfm.Error as e:
    expect(e.status_name == "BTFM_E_INVALID" and "36 and 37 time points" in e.message, str(e))

try:
    btfm.Aligner("srm").fit(comm=object())
    expect(False, "a non-communicator was accepted")
except TypeError:
    pass

# Ridge over the targets (Model.fit(X, my_columns, comm=)): every rank's block of the
# one-process fit, also for a rank without targets (2 targets on 3 ranks), and every
# target's cross-validation scores gathered on every rank; a constant
# target on the last rank makes every rank raise.
rng = np.random.default_rng(5)
X = rng.standard_normal((41, 13)).astype(np.float32)
for t, kwargs in ((6, {}), (2, {"cv": 4})):
    Y = (X @ rng.standard_normal((13, t)) * np.linspace(0.2, 2, t)
         + rng.standard_normal((41, t))).astype(np.float32)
    ref = btfm.model.Model("ridge", **kwargs)
    ref.set_alphas([0.1, 1, 10, 100])
    ref.fit(X, Y)
    lo, hi = block(t)
    dist = btfm.model.Model("ridge", **kwargs)
    dist.set_alphas([0.1, 1, 10, 100])
    dist.fit(X, Y[:, lo:hi], comm=comm)
    expect(dist.fitted == (hi > lo), f"ridge t={t}: fitted {dist.fitted} with {hi - lo} targets")
    if hi > lo:
        expect(rel(dist.coef, ref.coef[:, lo:hi]) <= 1e-5, f"ridge t={t}: coefficients")
        expect(rel(dist.intercept, ref.intercept[lo:hi]) <= 1e-5, f"ridge t={t}: intercepts")
        expect(np.array_equal(dist.alpha, ref.alpha[lo:hi]), f"ridge t={t}: alphas")
    scores = dist.gather_cv_scores(comm)  # every target's, on every rank
    expect(scores.shape == ref.cv_scores.shape and rel(scores, ref.cv_scores) <= 1e-5,
           f"ridge t={t}: gathered cv scores")
Y = rng.standard_normal((41, 2)).astype(np.float32)
if rank == size - 1:
    Y[:, 1] = 1.5
try:
    btfm.model.Model("ridge").fit(X, Y, comm=comm)
    expect(False, "a constant target went unnoticed")
except btfm.Error as e:
    bad = rank == size - 1
    expect(e.status_name == ("BTFM_E_INVALID" if bad else "BTFM_E_REMOTE"), str(e))
    expect("constant" in e.message, e.message)

# A corpus over the ranks (btfm.corpus.build(..., comm=)): the bytes of the one-process
# build of the same EDF files, written by rank 0 after.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from cli_support import write_uv_edf  # noqa: E402
tmp = comm.bcast(tempfile.mkdtemp() if rank == 0 else None)
files = [os.path.join(tmp, f"sub-{i}_task-rest_eeg.edf") for i in range(4)]
if rank == 0:
    tt = np.arange(250 * 3) / 250
    for i, f in enumerate(files):
        write_uv_edf(f, [30 * np.sin(2 * np.pi * (4 + i) * tt), 5 * tt], 250, 3, onsets=(1,))
comm.Barrier()
settings = {"l_freq": 0, "sfreq": 0}
counts = btfm.corpus.build(None, os.path.join(tmp, "mpi"), b"a secret key", files, comm=comm,
                           **settings)
expect(counts == {"built": 4, "failed": 0}, f"corpus counts {counts}")
if rank == 0:
    btfm.corpus.build(None, os.path.join(tmp, "one"), b"a secret key", files, **settings)
    cmp = filecmp.dircmp(os.path.join(tmp, "mpi"), os.path.join(tmp, "one"))
    rec = cmp.subdirs.get("recordings")
    same = not (cmp.left_only or cmp.right_only or cmp.diff_files) and rec is not None and \
        not (rec.left_only or rec.right_only or rec.diff_files) and len(rec.same_files) == 8
    # dircmp compares by os.stat first: check the bytes too
    same = same and all(filecmp.cmp(os.path.join(tmp, "mpi", "recordings", f),
                                    os.path.join(tmp, "one", "recordings", f), shallow=False)
                        for f in rec.same_files) and filecmp.cmp(
        os.path.join(tmp, "mpi", "index.json"), os.path.join(tmp, "one", "index.json"),
        shallow=False)
    expect(same, "the distributed corpus differs from the one-process one")
    shutil.rmtree(tmp)

total = comm.allreduce(len(failures))
if rank == 0:
    print(f"{size} ranks: {'FAIL' if total else 'OK'} ({total} failed checks)")
sys.exit(1 if total else 0)
