"""Figure of the CoTHB benchmark (doc/cothb_bench.svg): accuracy with 95% intervals of
every method against the signal's d', from `btfm cothb bench --json` output.

    btfm cothb bench --dprime 0,1,2,3 --budget 24 --json > chain.json
    python3 bench/plot_cothb_bench.py chain.json doc/cothb_bench.svg
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source, target):
    cells = json.load(open(source))
    methods = [m for m in cells[0]["methods"]]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for k, name in enumerate(methods):
        x = [c["dprime"] + 0.03 * (k - len(methods) / 2) for c in cells]
        y = [c["methods"][name]["accuracy"] for c in cells]
        lo = [a - c["methods"][name]["low"] for a, c in zip(y, cells)]
        hi = [c["methods"][name]["high"] - a for a, c in zip(y, cells)]
        style = "-" if name.startswith("cothb") else "--"
        ax.errorbar(x, y, yerr=[lo, hi], fmt=style + "o", ms=3, capsize=2, label=name,
                    lw=2 if name.startswith("cothb") else 1)
    ax.set_xlabel("signal strength d'")
    ax.set_ylabel("accuracy (1,000 problems, 95% intervals)")
    ax.set_title("Chain task, budget of %d generated steps for every method" % cells[0]["budget"])
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(target, metadata={"Date": None})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
