/* The CoTHB evaluation harness: synthetic reasoning-search problems with a hidden
 * correct path and noisy reliability signals, solved by CoTHB and by three baselines
 * (greedy chain of thought, self-consistency, Tree-of-Thoughts top-b). Public API only;
 * used by `btfm cothb bench`, bench/bench_cothb.c and the tests. */
#ifndef BTFM_TOOLS_COTHB_HARNESS_H
#define BTFM_TOOLS_COTHB_HARNESS_H

#include <stdint.h>
#include <btfm/btfm.h>

enum { HARNESS_GREEDY, HARNESS_SELF_CONSISTENCY, HARNESS_TOT, HARNESS_COTHB,
       HARNESS_METHOD_COUNT };

typedef struct harness_config {
    int depth;            /* steps from the problem to an answer */
    int breadth;          /* candidate steps per node (one is correct on the hidden path) */
    double accuracy;      /* probability the proposer's next candidate is the correct one */
    double noise;         /* signal noise: reliability = (1 - noise) truth + noise U(0,1) */
    int problems;         /* problems per measurement */
    uint64_t seed;
    int sc_chains;        /* self-consistency: chains voted */
    int tot_beam;         /* Tree of Thoughts: kept per depth (b) */
    int tot_proposals;    /* Tree of Thoughts: candidates per kept node */
    int cothb_max_steps;  /* CoTHB step budget */
    int sub_steps;        /* CoTHB: steps of a decomposition sub-problem */
} harness_config;

typedef struct harness_result {
    double success;       /* fraction of problems answered correctly */
    double mean_expanded; /* mean number of steps proposed (nodes created) per problem */
} harness_result;

/* Defaults: depth 6, breadth 4, accuracy 0.8, noise 0.2, 400 problems, seed 1,
 * 5 chains, beam 2 x 3 proposals, CoTHB budget 60 steps, sub-problems of 2 steps. */
void harness_defaults(harness_config *cfg);

const char *harness_method_name(int method);

/* Solve cfg->problems problems with `method`. */
btfm_status harness_run(const harness_config *cfg, int method, harness_result *out);

#endif
