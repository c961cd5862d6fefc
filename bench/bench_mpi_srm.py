#!/usr/bin/env python3
"""Probabilistic SRM over MPI: libbtfm's btfm_aligner_fit_mpi against BrainIAK's MPI SRM
algorithm written in NumPy with mpi4py (BrainIAK itself does not install here), with 1, 2
and 4 ranks on this machine, each rank holding a block of the subjects.

    python3 bench/bench_mpi_srm.py [--build build] [--quick] [--ranks 1,2,4]

launches itself under mpirun once per rank count. Both sides run the same number of EM
iterations (tol=0) on the same data, warmed up once, then interleaved; a run's time is the
slowest rank's. Communication share: the reference's time inside its mpi4py calls; ours,
the time of the same sequence of collectives our fit makes (per iteration one MPI_Allreduce
of a status flag and one of T x K + 3 doubles) replayed alone, over the fit's time.
Prints the model of doc/distributed.md next to each measurement.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def simulate(n, t, v, k, seed=3):
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((t, k))
    out = []
    for _ in range(n):
        w, _ = np.linalg.qr(rng.standard_normal((v, k)))
        out.append((s @ w.T + 0.5 * rng.standard_normal((t, v))).astype(np.float32))
    return out


class Clock:
    """Time spent inside communication calls."""

    def __init__(self):
        self.comm = 0.0

    def __call__(self, fn, *args):
        t0 = time.perf_counter()
        r = fn(*args)
        self.comm += time.perf_counter() - t0
        return r


def brainiak_srm_mpi(comm, mine, first, n_all, k, n_iter, clock, seed=0):
    """BrainIAK SRM._srm's distribution (REFERENCE-NOTES "BrainIAK MPI SRM"): rank 0
    inverts the K x K matrices and updates S and Sigma_s from the reduced sums, then
    broadcasts them; each rank updates its own W_i and rho_i^2; rho^2 is allreduced.
    Means removed and the noise trace taken after, as our fit does."""
    import scipy.linalg
    rank = comm.Get_rank()
    x = [(d.astype(np.float64) - d.astype(np.float64).mean(0)).T for d in mine]  # V x T
    t = mine[0].shape[0] if mine else 0
    t = clock(comm.allreduce, t, __import__("mpi4py").MPI.MAX)
    rng = np.random.default_rng(seed)
    w = [np.linalg.qr(rng.standard_normal((xi.shape[0], k)))[0] for xi in x]
    rho2 = np.zeros(n_all)
    rho2[first:first + len(x)] = 1.0
    rho2 = clock(comm.allreduce, rho2)
    trace_xtx = np.zeros(n_all)
    trace_xtx[first:first + len(x)] = [np.sum(xi ** 2) for xi in x]
    voxels = np.zeros(n_all)
    voxels[first:first + len(x)] = [xi.shape[0] for xi in x]
    sigma_s = np.identity(k)
    shared = None
    for _ in range(n_iter):
        if rank == 0:
            rho0 = (1 / rho2).sum()
            inv_sigma_s = scipy.linalg.inv(sigma_s)
            inv_sigma_s_rhos = scipy.linalg.inv(inv_sigma_s + np.identity(k) * rho0)
        local = np.zeros((k, t))
        for i, xi in enumerate(x):
            local += w[i].T @ xi / rho2[first + i]
        total = clock(comm.reduce, local)
        if rank == 0:
            shared = sigma_s @ (np.identity(k) - rho0 * inv_sigma_s_rhos) @ total
            sigma_s = inv_sigma_s_rhos + shared @ shared.T / t
            trace_sigma_s = t * np.trace(sigma_s)
        else:
            trace_sigma_s = None
        shared = clock(comm.bcast, shared)
        trace_sigma_s = clock(comm.bcast, trace_sigma_s)
        rho_local = np.zeros(n_all)
        for i, xi in enumerate(x):
            a = xi @ shared.T
            a[np.diag_indices(min(a.shape))] += 0.001
            u, _, vt = np.linalg.svd(a, full_matrices=False)
            w[i] = u @ vt
            rho_local[first + i] = (trace_xtx[first + i] - 2 * np.sum(w[i] * a) +
                                    trace_sigma_s) / (t * voxels[first + i])
        rho2 = clock(comm.allreduce, rho_local)
    return shared


def worker(args):
    """One rank of a run (under mpirun): prints one JSON line on rank 0."""
    from mpi4py import MPI
    import btfm
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    n, t, v, k, iters = args.subjects, args.times, args.voxels, args.k, args.iterations
    first, last = n * rank // size, n * (rank + 1) // size
    mine = simulate(n, t, v, k)[first:last]

    def ours():
        btfm.Aligner("probabilistic_srm", n_features=k, tol=0, max_iter=iters,
                     num_threads=1).fit(mine, comm=comm)

    ref_clock = Clock()

    def theirs():
        brainiak_srm_mpi(comm, mine, first, n, k, iters, ref_clock)

    def replay():  # our fit's collectives alone: setup (3) and 2 per iteration
        flag = np.zeros(1, np.int32)
        buf = np.zeros(t * k + 3)
        for _ in range(3):
            comm.Allreduce(MPI.IN_PLACE, flag, op=MPI.MAX)
        for _ in range(iters):
            comm.Allreduce(MPI.IN_PLACE, flag, op=MPI.MAX)
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)

    def timed(fn):
        comm.Barrier()
        t0 = time.perf_counter()
        fn()
        return comm.allreduce(time.perf_counter() - t0, MPI.MAX)

    timed(ours), timed(theirs), timed(replay)  # warm-up
    t_ours, t_ref, t_replay, ref_share = [], [], [], []
    for _ in range(args.runs):
        t_ours.append(timed(ours))
        t_replay.append(timed(replay))
        ref_clock.comm = 0.0
        t_ref.append(timed(theirs))
        ref_share.append(comm.allreduce(ref_clock.comm, MPI.SUM) / size / t_ref[-1])
    if rank == 0:
        print(json.dumps({"ranks": size, "ours": t_ours, "ref": t_ref, "replay": t_replay,
                          "ref_share": ref_share, "load": os.getloadavg()[0]}), flush=True)


def model(n, t, v, k, iters, ranks, cores, flops, alpha, beta):
    """doc/distributed.md: per-iteration time of P ranks on `cores` cores, each core doing
    `flops` float operations per second; collectives of latency alpha and beta s/byte."""
    import math
    per_rank = math.ceil(n / ranks)
    compute = per_rank * (4 * t * v * k + 3 * v * k * k) + 7 * t * k * k + 2 * k ** 3
    share = max(1.0, ranks / cores)  # ranks beyond the cores share them
    steps = math.ceil(math.log2(ranks)) if ranks > 1 else 0
    comm = 2 * steps * alpha + (2 * (ranks - 1) / ranks) * 8 * (t * k + 3) * beta
    return iters * (compute / flops * share + comm), iters * comm


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--ranks", default="1,2,4")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--subjects", type=int, default=16)
    p.add_argument("--times", type=int, default=300)
    p.add_argument("--voxels", type=int, default=2000)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    if args.quick:
        args.subjects, args.voxels, args.runs = 8, 1000, 2
    if args.worker:
        return worker(args)
    build = os.path.abspath(args.build)
    env = dict(os.environ, BTFM_LIBRARY=os.path.join(build, "lib", "libbtfm.so.1"),
               PYTHONPATH=os.path.join(HERE, "..", "bindings", "python"),
               OPENBLAS_NUM_THREADS="1", OMPI_MCA_btl="self,vader",
               OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_mpi_yield_when_idle="1")  # waiting ranks give up the core
    sys.path.insert(0, HERE)
    from sidebyside import record
    n, t, v, k, iters = args.subjects, args.times, args.voxels, args.k, args.iterations
    print(f"probabilistic SRM, {n} subjects x {t} time points x {v} voxels, K = {k}, "
          f"{iters} iterations; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')}, "
          f"{os.cpu_count()} cores")
    rows = {}
    for ranks in [int(r) for r in args.ranks.split(",")]:
        cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--allow-run-as-root",
               sys.executable, os.path.abspath(__file__), "--worker",
               "--subjects", str(n), "--times", str(t), "--voxels", str(v), "--k", str(k),
               "--iterations", str(iters), "--runs", str(args.runs)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows[ranks] = row
        share = min(row["replay"]) / min(row["ours"])
        record("mpi", f"probabilistic SRM, {ranks} rank{'s' if ranks > 1 else ''} "
               f"(communication {100 * share:.1f}% ours, "
               f"{100 * min(row['ref_share']):.1f}% reference)", row["ours"], row["ref"],
               "BrainIAK MPI SRM (NumPy + mpi4py)")
    # The model with this machine's figures: per-core speed from the 1-rank fit,
    # collectives from the replays.
    if 1 in rows:
        flops_1 = (n * (4 * t * v * k + 3 * v * k * k)) * iters / min(rows[1]["ours"])
        print(f"measured: {flops_1 / 1e9:.2f} GFLOP/s on one core (from the 1-rank fit)")
        for ranks, row in sorted(rows.items()):
            alpha = 0.5 * min(row["replay"]) / max(1, 2 * iters + 3) if ranks > 1 else 0.0
            predicted, comm = model(n, t, v, k, iters, ranks, os.cpu_count(), flops_1,
                                    alpha, 0.0)
            print(f"  {ranks} ranks: measured {min(row['ours']):.3f} s (median "
                  f"{sorted(row['ours'])[len(row['ours']) // 2]:.3f}), model "
                  f"{predicted:.3f} s; collectives measured {min(row['replay']) * 1e3:.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
