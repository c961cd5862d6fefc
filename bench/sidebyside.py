"""Side-by-side timing shared by the benchmarks: both sides warmed up, their runs
interleaved (ours, theirs, ours, ...) so both see the same load, best and median of each
and their ratios; every ratio also appended as one JSON line to the file named by
BTFM_BENCH_JSON, which bench/run-all collects into one table.
"""

import json
import os
import statistics
import time


def _time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def race(ours, theirs, runs, warmup=1):
    """Wall times of `runs` interleaved runs of each, after `warmup` untimed runs of each:
    (our times, their times)."""
    for _ in range(warmup):
        ours()
        theirs()
    t_ours, t_theirs = [], []
    for _ in range(runs):
        t_ours.append(_time(ours))
        t_theirs.append(_time(theirs))
    return t_ours, t_theirs


def load():
    """The 1-minute load average, for the record of each figure."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def record(bench, case, ours, theirs, reference, target=None, unit="s"):
    """Print one ratio line and append it to BTFM_BENCH_JSON: `ours` and `theirs` are
    lists of times (best and median are taken) or (best, median) pairs."""
    def stats(times):
        if isinstance(times, tuple):
            return times
        return min(times), statistics.median(times)
    ob, om = stats(ours)
    tb, tm = stats(theirs)
    row = {"bench": bench, "case": case, "reference": reference,
           "ours_best": ob, "ours_median": om, "ref_best": tb, "ref_median": tm,
           "ratio_best": tb / ob if ob > 0 else float("inf"),
           "ratio_median": tm / om if om > 0 else float("inf"),
           "target": target, "load": load(), "unit": unit}
    goal = f" (target >= {target:g}x)" if target else ""
    def pair(best, median):  # microseconds below a millisecond, where ms would show 0.0
        if max(best, median) < 1e-3:
            return f"{best * 1e6:.1f} / {median * 1e6:.1f} us"
        return f"{best * 1e3:.1f} / {median * 1e3:.1f} ms"
    print(f"  {case}: ours {pair(ob, om)}, {reference} {pair(tb, tm)} (best / median): "
          f"{row['ratio_best']:.2f}x / {row['ratio_median']:.2f}x{goal}, load {row['load']:.1f}")
    path = os.environ.get("BTFM_BENCH_JSON")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    return row
