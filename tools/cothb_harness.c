/* Synthetic reasoning search with a hidden correct path (doc/cothb.md, "Benchmark").
 * Each node has `breadth` candidate children, exactly one correct on the hidden path; a
 * proposer returns the correct unproposed candidate with probability `accuracy`; a
 * step's reliability signal is (1 - noise) * truth + noise * U(0, 1). An answer is
 * correct when its leaf lies on the hidden path. Wrong leaves carry one of three wrong
 * answer values, so wrong chains can outvote right ones in self-consistency. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cothb_harness.h"

#define WRONG_ANSWERS 3

typedef struct hnode {
    int depth, on_path, proposed, correct_proposed, answer;
    int sub_index;        /* 0 for a main step; 1.. for steps of a sub-problem */
    int subject;          /* the main node a sub-problem step examines */
    double sub_sum;       /* sum of the sub-problem's readings so far */
} hnode;

typedef struct problem {
    const harness_config *cfg;
    uint64_t rng;
    hnode *nodes;
    int n_nodes, cap_nodes;
} problem;

void harness_defaults(harness_config *cfg)
{
    cfg->depth = 6;
    cfg->breadth = 4;
    cfg->accuracy = 0.8;
    cfg->noise = 0.2;
    cfg->problems = 400;
    cfg->seed = 1;
    cfg->sc_chains = 5;
    cfg->tot_beam = 2;
    cfg->tot_proposals = 3;
    cfg->cothb_max_steps = 60;
    cfg->sub_steps = 2;
}

const char *harness_method_name(int method)
{
    static const char *const names[] = {"greedy-cot", "self-consistency", "tot-top-b", "cothb"};
    return method >= 0 && method < HARNESS_METHOD_COUNT ? names[method] : NULL;
}

static double uniform(problem *p)
{
    uint64_t z = (p->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static int new_node(problem *p, int depth, int on_path)
{
    if (p->n_nodes == p->cap_nodes) {
        int cap = p->cap_nodes ? 2 * p->cap_nodes : 64;
        hnode *grown = realloc(p->nodes, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        p->nodes = grown;
        p->cap_nodes = cap;
    }
    hnode *n = &p->nodes[p->n_nodes];
    memset(n, 0, sizeof *n);
    n->depth = depth;
    n->on_path = on_path;
    n->subject = -1;
    n->answer = on_path ? 0 : 1 + (int)(uniform(p) * WRONG_ANSWERS);
    return p->n_nodes++;
}

/* The proposer: the next unproposed candidate child of `parent`, or -1 when all
 * `breadth` have been proposed. The last candidate left is the correct one if it has
 * not come yet. */
static int propose(problem *p, int parent)
{
    hnode *par = &p->nodes[parent];
    if (par->proposed >= p->cfg->breadth) return -1;
    int correct = 0;
    if (par->on_path && !par->correct_proposed)
        correct = par->proposed == p->cfg->breadth - 1 || uniform(p) < p->cfg->accuracy;
    par->proposed++;
    if (correct) par->correct_proposed = 1;
    int depth = par->depth + 1, on_path = par->on_path && correct;
    return new_node(p, depth, on_path);
}

static double reading(problem *p, int truth)
{
    return (1 - p->cfg->noise) * truth + p->cfg->noise * uniform(p);
}

static void reset(problem *p, const harness_config *cfg, int index)
{
    p->cfg = cfg;
    /* Scramble (seed, index) into the start of the stream: consecutive problems must not
     * share a shifted stream (splitmix64 advances by the same constant each draw). */
    uint64_t z = cfg->seed * 0x2545f4914f6cdd1dULL + (uint64_t)index + 1;
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
    z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
    p->rng = z ^ (z >> 33);
    p->n_nodes = 0;
    new_node(p, 0, 1);
}

/* One greedy chain from the root: its leaf, and the steps it took. */
static int greedy_chain(problem *p, int *expanded)
{
    int cur = 0;
    while (cur >= 0 && p->nodes[cur].depth < p->cfg->depth) {
        cur = propose(p, cur);
        ++*expanded;
    }
    return cur;
}

static int solve_greedy(problem *p, int *expanded)
{
    int leaf = greedy_chain(p, expanded);
    return leaf >= 0 && p->nodes[leaf].on_path;
}

static int solve_self_consistency(problem *p, int *expanded)
{
    int votes[WRONG_ANSWERS + 1] = {0}, first_seen[WRONG_ANSWERS + 1];
    for (int a = 0; a <= WRONG_ANSWERS; a++) first_seen[a] = p->cfg->sc_chains;
    for (int k = 0; k < p->cfg->sc_chains; k++) {
        /* Independent chains: each starts from a fresh root with the same hidden path. */
        int root = new_node(p, 0, 1), cur = root;
        while (cur >= 0 && p->nodes[cur].depth < p->cfg->depth) {
            cur = propose(p, cur);
            ++*expanded;
        }
        if (cur < 0) continue;
        int a = p->nodes[cur].answer;
        votes[a]++;
        if (first_seen[a] > k) first_seen[a] = k;
    }
    int best = -1;
    for (int a = 0; a <= WRONG_ANSWERS; a++)
        if (votes[a] && (best < 0 || votes[a] > votes[best] ||
                         (votes[a] == votes[best] && first_seen[a] < first_seen[best])))
            best = a;
    return best == 0;
}

typedef struct scored {
    int node;
    double score;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

static int solve_tot(problem *p, int *expanded)
{
    int b = p->cfg->tot_beam, k = p->cfg->tot_proposals;
    scored *frontier = calloc((size_t)b * (size_t)k + 1, sizeof *frontier);
    scored *next = calloc((size_t)b * (size_t)k + 1, sizeof *next);
    if (!frontier || !next) {
        free(frontier);
        free(next);
        return 0;
    }
    int n_frontier = 1;
    frontier[0].node = 0;
    for (int d = 0; d < p->cfg->depth; d++) {
        int n_next = 0;
        for (int f = 0; f < n_frontier; f++) {
            for (int j = 0; j < k; j++) {
                int child = propose(p, frontier[f].node);
                if (child < 0) break;
                ++*expanded;
                next[n_next].node = child;
                next[n_next++].score = reading(p, p->nodes[child].on_path);
            }
        }
        qsort(next, (size_t)n_next, sizeof *next, by_score_desc);
        n_frontier = n_next < b ? n_next : b;
        memcpy(frontier, next, (size_t)n_frontier * sizeof *frontier);
    }
    int ok = n_frontier > 0 && p->nodes[frontier[0].node].on_path;
    free(frontier);
    free(next);
    return ok;
}

/* The host side of CoTHB: controller and problem number nodes alike (both start with
 * the root and add one node per expansion). A main step's signal reads its truth; a
 * sub-problem (DECOMPOSE) re-examines its subject step with fresh readings and reports
 * their running mean, so decomposition buys a better estimate of an uncertain step. */
typedef struct cothb_host {
    problem *p;
    btfm_cothb *c;
} cothb_host;

static int cothb_step(int action, int64_t node, int64_t new_id, double *signals,
                      int n_signals, void *user)
{
    cothb_host *h = user;
    problem *p = h->p;
    (void)action;
    (void)n_signals;
    if (new_id < 0) return BTFM_OK;
    int level = 0;
    btfm_status st = btfm_cothb_node_info(h->c, new_id, NULL, &level, NULL, NULL, NULL);
    if (st) return st;
    int parent = (int)node, id;
    if (level > 0) {
        id = new_node(p, p->nodes[parent].depth + 1, 0);
        if (id < 0) return BTFM_E_NOMEM;
        hnode *par = &p->nodes[parent], *n = &p->nodes[id];
        int sub = par->sub_index > 0;
        n->sub_index = sub ? par->sub_index + 1 : 1;
        n->subject = sub ? par->subject : parent;
        n->sub_sum = (sub ? par->sub_sum : 0) + reading(p, p->nodes[n->subject].on_path);
        signals[BTFM_COTHB_SIGNAL_RELIABILITY] = n->sub_sum / n->sub_index;
        signals[BTFM_COTHB_SIGNAL_TERMINAL] = n->sub_index >= p->cfg->sub_steps;
    } else {
        id = propose(p, parent);
        if (id == -1) { /* every candidate was proposed: a dead end */
            id = new_node(p, p->nodes[parent].depth + 1, 0);
            if (id < 0) return BTFM_E_NOMEM;
            signals[BTFM_COTHB_SIGNAL_RELIABILITY] = 0;
            signals[BTFM_COTHB_SIGNAL_TERMINAL] = 1;
        } else {
            signals[BTFM_COTHB_SIGNAL_RELIABILITY] = reading(p, p->nodes[id].on_path);
            signals[BTFM_COTHB_SIGNAL_TERMINAL] = p->nodes[id].depth >= p->cfg->depth;
        }
    }
    return id == new_id ? BTFM_OK : BTFM_E_INTERNAL;
}

static int solve_cothb(problem *p, int *expanded)
{
    btfm_cothb *c;
    btfm_status st = btfm_cothb_new(&c);
    if (st) return st;
    const harness_config *cfg = p->cfg;
    /* Sub-problem children share the breadth budget, hence the allowance. */
    if (!st) st = btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_STEPS, cfg->cothb_max_steps);
    if (!st) st = btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_BREADTH, cfg->breadth + 2);
    if (!st) st = btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_DEPTH,
                                       cfg->depth * (cfg->sub_steps + 1) + 1);
    if (!st) st = btfm_cothb_set_param(c, BTFM_COTHB_PARAM_MAX_LEVELS, 2);
    if (!st) st = btfm_cothb_set_param(c, BTFM_COTHB_PARAM_POLICY, 0); /* the thresholds */
    if (!st) st = btfm_cothb_set_param(c, BTFM_COTHB_PARAM_TRACE, 0);
    if (!st) st = btfm_cothb_set_param(c, BTFM_COTHB_PARAM_SEED, (double)(p->rng >> 12));
    cothb_host host = {p, c};
    int action = 0;
    int64_t final_node = -1;
    if (!st) st = btfm_cothb_run(c, cothb_step, &action, &final_node, &host);
    *expanded += (int)(btfm_cothb_n_nodes(c) - 1);
    btfm_cothb_free(c);
    if (st) return st;
    return action == BTFM_COTHB_ANSWER && p->nodes[final_node].on_path &&
           p->nodes[final_node].sub_index == 0 && p->nodes[final_node].depth == cfg->depth;
}

btfm_status harness_run(const harness_config *cfg, int method, harness_result *out)
{
    if (method < 0 || method >= HARNESS_METHOD_COUNT) return BTFM_E_INVALID;
    problem p = {0};
    long successes = 0, expanded = 0;
    for (int i = 0; i < cfg->problems; i++) {
        reset(&p, cfg, i);
        int steps = 0, ok = 0;
        switch (method) {
        case HARNESS_GREEDY: ok = solve_greedy(&p, &steps); break;
        case HARNESS_SELF_CONSISTENCY: ok = solve_self_consistency(&p, &steps); break;
        case HARNESS_TOT: ok = solve_tot(&p, &steps); break;
        default: ok = solve_cothb(&p, &steps); break;
        }
        if (ok < 0) {
            free(p.nodes);
            return ok;
        }
        successes += ok;
        expanded += steps;
    }
    free(p.nodes);
    out->success = (double)successes / cfg->problems;
    out->mean_expanded = (double)expanded / cfg->problems;
    return BTFM_OK;
}
