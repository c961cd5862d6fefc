/* The CoTHB controller's state, shared by its files (tree, inference, policy,
 * calibration, trace, persistence). Not installed. */
#ifndef BTFM_COTHB_INTERNAL_H
#define BTFM_COTHB_INTERNAL_H

#include <stdint.h>
#include <btfm/cothb.h>
#include "core/param.h"

#define COTHB_NSIG 7           /* BTFM_COTHB_SIGNAL_TERMINAL + 1 */
#define COTHB_NPARAM 22        /* BTFM_COTHB_PARAM_TRACE + 1 */
#define COTHB_MAX_MONITORED 64 /* upper bound of the "monitored" parameter */
#define COTHB_NHEAD 2          /* logistic policy heads: continue, switch */

extern const btfm_param_table btfm_cothb_param_table; /* tree.c */

enum {
    COTHB_FLAG_DECOMPOSED = 1,      /* a sub-problem was opened under the node */
    COTHB_FLAG_STALE_RETRIEVAL = 2, /* retrieved without evidence newer than its leaving */
};

/* Policy regions, remembered for hysteresis. */
enum { COTHB_MODE_NONE = 0, COTHB_MODE_CONTINUE = 1, COTHB_MODE_DECOMPOSE = 2,
       COTHB_MODE_LEAVE = 3 };

/* Trace event types. */
enum { COTHB_EVENT_ACTION = 0, COTHB_EVENT_ADD = 1, COTHB_EVENT_OBSERVE = 2 };

/* One thought node: no pointers, so nodes move with realloc and save as plain columns. */
typedef struct cothb_node {
    int64_t parent;          /* -1 for the root */
    int64_t created_step;    /* controller step at which it was added */
    int64_t sub_root;        /* the node that opened its sub-problem (level - 1), -1 at level 0 */
    int64_t room_up;         /* cache for branch points: every node from this one up to (not
                              * including) room_up has no room for a child; -1: none above */
    int64_t left_step;       /* step at which it was last left for another path, -1 never */
    int64_t observed_step;   /* step of its latest observation, -1 never */
    int32_t level, depth, status, n_children;
    uint32_t flags;
    int32_t reserved;
    double signals[COTHB_NSIG]; /* latest observed value of each slot, NaN if never */
    double beta_a, beta_b;      /* Beta posterior of the step's success */
    double sub_reliability;     /* reliability of a returned sub-problem, NaN if none */
} cothb_node;

/* One trace record. For actions values[0] is the reliability the decision used and
 * values[1] the cost spent after it; for observations the signals as given. */
typedef struct cothb_event {
    int32_t type, action;
    int64_t step, node, target;
    double values[COTHB_NSIG];
} cothb_event;

/* A fitted reliability calibration (reliability_map.c). */
typedef struct cothb_map {
    int64_t method;     /* btfm_cothb_calibration */
    double a, b;        /* Platt: P = 1 / (1 + exp(a s + b)) */
    double *x, *y;      /* isotonic: n knots, increasing in sign * score (one allocation) */
    int64_t n;
    double sign;
    double base_rate;   /* fraction of correct steps in the calibration data */
} cothb_map;

struct btfm_cothb {
    double params[COTHB_NPARAM];
    cothb_node *nodes;
    int64_t n_nodes, cap_nodes;
    cothb_event *trace;
    int64_t n_trace, cap_trace;
    int64_t monitored[COTHB_MAX_MONITORED];
    int64_t n_monitored;
    int64_t current;      /* leaf of the followed path */
    int64_t explore_from; /* path left by the last BRANCH until CONFIRM, else -1 */
    int64_t mode;         /* COTHB_MODE_* of the last decision on the current path */
    int64_t pending;      /* EXTEND/BRANCH/DECOMPOSE waiting for add_node, else 0 */
    int64_t pending_node;
    int64_t pending_level;
    int64_t finished;     /* ANSWER or STOP once over, else 0 */
    int64_t final_node;
    int64_t last_action, last_node, last_target; /* what btfm_cothb_next returned last */
    int64_t steps;
    double cost;
    uint64_t rng;
    int64_t policy_fitted;
    double policy_w[COTHB_NHEAD][COTHB_NSIG];
    double policy_b[COTHB_NHEAD];
    cothb_map map;
};


static inline double cothb_param(const btfm_cothb *c, int p) { return c->params[p]; }

/* The node `id` or NULL; `func` names the caller in the BTFM_E_NOTFOUND message. */
btfm_status btfm_cothb_check_node(const btfm_cothb *c, int64_t id, const char *func);

/* Grow the node / trace arrays for one more entry (amortized doubling). */
btfm_status btfm_cothb_reserve_nodes(btfm_cothb *c, int64_t need, const char *func);
btfm_status btfm_cothb_trace_add(btfm_cothb *c, int type, int action, int64_t node,
                            int64_t target, const double *values, int n_values);

/* Fresh node fields (signals NaN, prior Beta, no sub-problem value). */
void btfm_cothb_node_init(const btfm_cothb *c, cothb_node *n, int64_t parent, int level,
                     int depth);

/* The nearest ancestor-or-self of `id` with room for another child (not abandoned, fewer
 * than max_breadth children), or -1: amortized O(1) by path compression, since a node
 * that has no room never gets it back (see btfm_cothb_reset_room when max_breadth grows). */
int64_t btfm_cothb_room_above(btfm_cothb *c, int64_t id);
void btfm_cothb_reset_room(btfm_cothb *c);

/* inference.c: the reliability the policy uses, and the Beta update of an outcome. */
double btfm_cothb_inferred_reliability(const btfm_cothb *c, const cothb_node *n);
void btfm_cothb_update_outcome(cothb_node *n, double outcome);

/* calibrate.c: the logistic policy's probability for `head` at node n; `alternative`
 * (NaN: none) stands in for an unobserved alternative signal. */
double btfm_cothb_policy_probability(const btfm_cothb *c, int head, const cothb_node *n,
                                     double alternative);

/* reliability_map.c: fit, apply and release a calibration map; the AUC of scores. */
btfm_status btfm_cothb_map_check(int method, const double *s, const int *y, int64_t n,
                                 int64_t *n_pos, const char *func);
btfm_status btfm_cothb_map_fit(cothb_map *m, int method, const double *s, const int *y,
                               int64_t n, const char *func);
double btfm_cothb_map_apply(const cothb_map *m, double score);
void btfm_cothb_map_free(cothb_map *m);
double btfm_cothb_auc(const double *s, const int *y, int64_t n, double *se, btfm_status *st,
                      const char *func);

/* quality.c: the standard normal quantile. */
double btfm_cothb_normal_quantile(double p);

/* splitmix64 on the controller's random state: a uniform double in [0, 1). */
double btfm_cothb_uniform(btfm_cothb *c);

#endif
