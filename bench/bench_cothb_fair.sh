#!/bin/sh
# The CoTHB accuracy benchmark of doc/cothb.md ("Benchmark"): CoTHB and the baselines at
# equal budgets of generated steps, each method tuned on 200 other problems, 1,000
# problems a cell, 95% intervals, on the chain task (d' 0 to 3 at budgets of 24 and 48;
# raw host, informative and uninformative; path and outcome signals) and on the switch task. Deterministic: the same seed gives the same
# numbers on any machine.
#
#   bench/bench_cothb_fair.sh [BTFM]      (default: build/tools/btfm)
set -e
btfm=${1:-build/tools/btfm}
common="--problems 1000 --tune-problems 200"
"$btfm" cothb bench $common --dprime 0,0.5,1,2,3 --budget 24 --json > cothb_chain.json
python3 "$(dirname "$0")/plot_cothb_bench.py" cothb_chain.json cothb_bench.svg
"$btfm" cothb bench $common --dprime 0,0.5,1,2,3 --budget 48
"$btfm" cothb bench $common --host raw --dprime 2 --budget 24
# Raw scores that vary but carry nothing (d' = 0, log-odds of spread 1).
"$btfm" cothb bench $common --host raw --dprime 0 --budget 24
"$btfm" cothb bench $common --signal path --dprime 2 --budget 24
"$btfm" cothb bench $common --signal outcome --budget 24
"$btfm" cothb bench $common --family switch --dprime 2 --budget 32
