#!/usr/bin/env python3
"""Ridge over MPI: libbtfm's btfm_model_fit_mpi (targets divided among ranks, the design's
decomposition computed on one rank and broadcast) with 1 and 2 ranks, against libbtfm's
one-process fit and scikit-learn's RidgeCV(alpha_per_target=True) on all targets, at the
same sizes.

    python3 bench/bench_mpi_ridge.py [--build build] [--quick] [--ranks 1,2]

launches itself under mpirun once per rank count. Every side fits the same design and
targets with the same alpha grid and leave-one-out selection (RidgeCV's default GCV);
each job warms every side up once, then runs them interleaved. The distributed fit's
time is the slowest rank's; the one-process references run on rank 0 while the other
ranks sleep. Communication share: the time of the collectives our fit makes (the
settings' agreement, the target counts, the split of the ranks holding targets, the
broadcast of the decomposition, 2 p^2 + 4 p + 2 doubles, and the agreements on failure)
replayed alone, over the fit's time. One BLAS thread on every side
(OPENBLAS_NUM_THREADS=1): P ranks use P cores.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ALPHAS = np.logspace(-2, 4, 10)


def simulate(n, p, t, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)).astype(np.float32)
    b = rng.standard_normal((p, t)) * (rng.random(t) < 0.5)  # half the targets noise only
    y = x @ b / np.sqrt(p) + rng.standard_normal((n, t)) * np.linspace(0.3, 3, t)
    return x, y.astype(np.float32)


def worker(args):
    """One rank of a job (under mpirun): rank 0 prints one JSON line."""
    from mpi4py import MPI
    import btfm
    from sklearn.linear_model import RidgeCV
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    n, p, t = args.samples, args.features, args.targets
    x, y = simulate(n, p, t)
    lo, hi = t * rank // size, t * (rank + 1) // size
    mine = np.ascontiguousarray(y[:, lo:hi])
    dist = btfm.model.Model("ridge")
    dist.set_alphas(ALPHAS)

    def ours_mpi():
        dist.fit(x, mine, comm=comm)

    def ours_one():
        m = btfm.model.Model("ridge")
        m.set_alphas(ALPHAS)
        return m.fit(x, y)

    def sklearn():
        return RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(x, y)

    def replay():  # our fit's collectives alone (lib/mpi/model_mpi.c, ridge_primal.c)
        flags = np.zeros(1, np.int32)
        settings = np.zeros(2 * 24)
        grid = np.zeros(2 * ALPHAS.size)
        counts = np.zeros(size, np.int64)
        decomposition = np.zeros(2 * p * p + 4 * p + 2)
        dup = comm.Dup()
        for buf in (settings, grid):
            dup.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
            dup.Allreduce(MPI.IN_PLACE, buf, op=MPI.MAX)
        dup.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
        dup.Allgather(np.array([hi - lo], np.int64), counts)
        sub = dup.Split(0, rank)
        sub.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
        for i in range(0, decomposition.size, p * p):  # one broadcast per array
            sub.Bcast(decomposition[i:i + p * p], root=0)
        sub.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
        dup.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
        sub.Free()
        dup.Free()

    def timed(fn, alone=False):
        comm.Barrier()
        t0 = time.perf_counter()
        if not alone:
            fn()
            return comm.allreduce(time.perf_counter() - t0, MPI.MAX)
        # rank 0 alone; the others sleep rather than poll (a polling rank takes a core)
        if rank == 0:
            fn()
            dt = time.perf_counter() - t0
            for r in range(1, size):
                comm.send(dt, dest=r)
            return dt
        req = comm.irecv(source=0)
        while True:
            done, dt = req.test()
            if done:
                return dt
            time.sleep(0.01)

    timed(ours_mpi), timed(ours_one, True), timed(sklearn, True), timed(replay)  # warm-up
    times = {"mpi": [], "one": [], "sklearn": [], "replay": []}
    for _ in range(args.runs):
        times["mpi"].append(timed(ours_mpi))
        times["replay"].append(timed(replay))
        times["one"].append(timed(ours_one, True))
        times["sklearn"].append(timed(sklearn, True))
    # The fits agree: every target's scores gathered, against the one-process fit; the
    # one-process coefficients against scikit-learn's.
    scores = dist.gather_cv_scores(comm)
    if rank == 0:
        one, sk = ours_one(), sklearn()
        d_scores = float(np.max(np.abs(scores - one.cv_scores)))
        d_coef = float(np.max(np.abs(one.coef - sk.coef_.T)) / np.max(np.abs(sk.coef_)))
        same_alpha = float(np.mean(one.alpha == sk.alpha_))
        print(json.dumps({"ranks": size, **times, "d_scores": d_scores, "d_coef": d_coef,
                          "same_alpha": same_alpha, "load": os.getloadavg()[0]}),
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--features", type=int, default=200)
    ap.add_argument("--targets", type=int, default=4000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if args.quick:
        args.targets, args.runs = 1000, 3
    if args.worker:
        return worker(args)
    build = os.path.abspath(args.build)
    env = dict(os.environ, BTFM_LIBRARY=os.path.join(build, "lib", "libbtfm.so.1"),
               PYTHONPATH=os.path.join(HERE, "..", "bindings", "python"),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", OMPI_MCA_btl="self,vader",
               OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_mpi_yield_when_idle="1")  # waiting ranks give up the core
    sys.path.insert(0, HERE)
    from sidebyside import record
    n, p, t = args.samples, args.features, args.targets
    print(f"ridge, {n} samples x {p} features, {t} targets, {ALPHAS.size} alphas, "
          f"leave-one-out; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')}, "
          f"{os.cpu_count()} cores, one BLAS thread a process")
    for ranks in [int(r) for r in args.ranks.split(",")]:
        cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--allow-run-as-root",
               sys.executable, os.path.abspath(__file__), "--worker", "--samples", str(n),
               "--features", str(p), "--targets", str(t), "--runs", str(args.runs)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        label = f"{ranks} rank{'s' if ranks > 1 else ''}"
        share = min(row["replay"]) / min(row["mpi"])
        print(f"{label}: load {row['load']:.1f}; gathered scores vs one process "
              f"{row['d_scores']:.1e}; one-process coefficients vs scikit-learn "
              f"{row['d_coef']:.1e} (relative), same alpha on {100 * row['same_alpha']:.1f}% "
              f"of targets; communication {100 * share:.2f}% "
              f"({1e3 * min(row['replay']):.2f} ms of {1e3 * min(row['mpi']):.0f} ms)")
        record("mpi", f"ridge {label} vs libbtfm in one process", row["mpi"], row["one"],
               "btfm_model_fit")
        record("mpi", f"ridge {label} vs scikit-learn", row["mpi"], row["sklearn"],
               "RidgeCV(alpha_per_target=True)")
        print(f"  median {statistics.median(row['mpi']):.3f} s over {len(row['mpi'])} runs")


if __name__ == "__main__":
    sys.exit(main())
