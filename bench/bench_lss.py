"""Per-event LSS betas (Mumford 2012): libbtfm's btfm_glm_lss against NumPy on the same
simulated run, side by side, with the ratio.

    BTFM_LIBRARY=build/lib/libbtfm.so PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_lss.py [--events 200] [--voxels 50000] [--volumes 600]

References: the naive per-event numpy.linalg.lstsq loop (what users write; timed on a
subset of events and scaled, unless --full-naive), and a vectorized NumPy version of the
same algebra as the library (nuisance-residualized events, one GEMM). Results are checked
against each other before timing is reported. Timings are the best of --repeat runs.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "fmri"))
import references as ref  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import race, record  # noqa: E402
from btfm import glm  # noqa: E402


def best_of(repeat, func):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--voxels", type=int, default=50000)
    ap.add_argument("--volumes", type=int, default=600)
    ap.add_argument("--t-r", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-events", type=int, default=10,
                    help="events timed for the naive loop (scaled to all events)")
    ap.add_argument("--full-naive", action="store_true", help="time the naive loop on all events")
    args = ap.parse_args()

    rng = np.random.RandomState(0)
    n, v, t_r = args.volumes, args.voxels, args.t_r
    isi = (n * t_r - 40) / args.events
    onsets, durations, tt = ref.simulate_events(args.events, t_r, n, rng,
                                                isi=(0.8 * isi, 1.2 * isi) if isi < 8 else
                                                (isi - 1, isi))
    events = {"onset": onsets, "duration": durations, "trial_type": tt}
    e = glm.event_columns(events, t_r, n)
    nuis = glm.nuisance(t_r, n, confounds=rng.randn(n, 6))
    y, _ = ref.simulate_bold(e, nuis, v, noise=0.05, rng=rng)
    y64 = y.astype(np.float64)
    print(f"LSS: {args.events} events, {v} voxels x {n} volumes, {nuis.shape[1]} nuisance "
          f"regressors (6 confounds, cosine drifts, constant)")

    def ours():
        out = np.empty((e.shape[1], v), dtype=np.float32)
        from btfm import _lib, check
        check(_lib.lib.btfm_glm_lss(glm._ptr(y), n, v, glm._ptr(e), None, e.shape[1],
                                    glm._ptr(nuis), nuis.shape[1], glm._ptr(out)))
        return out

    b_ours, b_vec = ours(), ref.lss_vectorized(y64, e, nuis)
    times_ours, times_vec = race(ours, lambda: ref.lss_vectorized(y64, e, nuis), args.repeat)
    t_ours = min(times_ours)

    k = e.shape[1] if args.full_naive else min(args.naive_events, e.shape[1])
    sub = np.linspace(0, e.shape[1] - 1, k).astype(int)

    def naive():
        out = np.empty((k, v))
        for row, i in enumerate(sub):
            others = np.delete(e, i, axis=1).sum(1)
            x = np.column_stack([e[:, i], others, nuis])
            out[row] = np.linalg.lstsq(x, y64, rcond=None)[0][0]
        return out

    t_naive_part, b_naive = best_of(1, naive)
    t_naive = t_naive_part * e.shape[1] / k

    err_vec = np.abs(b_ours - b_vec).max() / np.abs(b_vec).max()
    err_naive = np.abs(b_ours[sub] - b_naive).max() / np.abs(b_naive).max()
    print(f"  max relative difference: vs vectorized NumPy {err_vec:.1e}, "
          f"vs per-event lstsq {err_naive:.1e}")
    record("lss", f"LSS {args.events} events x {v} voxels", times_ours, times_vec,
           "NumPy vectorized (same math)")
    naive_note = "" if args.full_naive else f" (timed on {k} events, scaled)"
    record("lss", f"LSS {args.events} events x {v} voxels{naive_note}", times_ours,
           (t_naive, t_naive), "NumPy per-event lstsq loop")


if __name__ == "__main__":
    main()
