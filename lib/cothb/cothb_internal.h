/* The CoTHB controller's state, shared by its files (tree, inference, policy,
 * calibration, trace, persistence). Not installed. */
#ifndef BTFM_COTHB_INTERNAL_H
#define BTFM_COTHB_INTERNAL_H

#include <stdint.h>
#include <btfm/cothb.h>
#include "core/param.h"

#define COTHB_NSIG 8           /* BTFM_COTHB_SIGNAL_PATH + 1 */
#define COTHB_NPARAM 34        /* BTFM_COTHB_PARAM_MIN_DPRIME + 1 */
#define COTHB_NPARAM_V2 33     /* parameters of format 2 files written before min_dprime */
#define COTHB_NPARAM_V1 22     /* parameters of release 1.2 (format 1 files) */
#define COTHB_MAX_MONITORED 64 /* upper bound of the "monitored" parameter */
#define COTHB_NHEAD 2          /* logistic policy heads: continue, switch */
#define COTHB_PLAN_CACHE 4     /* planning tables kept, most recently used first */
#define COTHB_DPRIME_GRID 24   /* d' estimates: grid points 0 .. 24 times 0.125 */
#define COTHB_DPRIME_STEP 0.125
#define COTHB_DPRIME_FLOOR 0.01 /* readings known to 0.1 in log-odds */

extern const btfm_param_table btfm_cothb_param_table; /* tree.c */

enum {
    COTHB_FLAG_DECOMPOSED = 1,      /* a sub-problem was opened under the node */
    COTHB_FLAG_STALE_RETRIEVAL = 2, /* retrieved without evidence newer than its leaving */
    COTHB_FLAG_COMPLETE = 4,        /* a level-0 terminal registered as an answer */
    COTHB_FLAG_ANSWER = 8,          /* the host named its answer (btfm_cothb_set_answer) */
    COTHB_FLAG_READ = 16,           /* its own first reading counted in the base rate */
    COTHB_FLAG_PATH_READ = 32,      /* its first path reading counted in the path base rate */
    COTHB_FLAGS_ALL = 63,
};

/* Policies (the "policy" parameter). */
enum { COTHB_POLICY_THRESHOLDS = 0, COTHB_POLICY_LOGISTIC = 1, COTHB_POLICY_BUDGET = 2 };

/* Policy regions, remembered for hysteresis. */
enum { COTHB_MODE_NONE = 0, COTHB_MODE_CONTINUE = 1, COTHB_MODE_DECOMPOSE = 2,
       COTHB_MODE_LEAVE = 3 };

/* Trace event types; strategy events carry a cothb_strategy_event in `action`. */
enum { COTHB_EVENT_ACTION = 0, COTHB_EVENT_ADD = 1, COTHB_EVENT_OBSERVE = 2,
       COTHB_EVENT_STRATEGY = 3 };
enum { COTHB_STRATEGY_CREATE = 1, COTHB_STRATEGY_CONFIRM = 2, COTHB_STRATEGY_REJECT = 3,
       COTHB_STRATEGY_RETRIEVE = 4, COTHB_STRATEGY_EVICT = 5, COTHB_STRATEGY_GIVE_UP = 6,
       COTHB_STRATEGY_EVENT_MAX = 6 }; 

/* One thought node: no pointers, so nodes move with realloc and save as plain columns. */
typedef struct cothb_node {
    int64_t parent;          /* -1 for the root */
    int64_t created_step;    /* controller step at which it was added */
    int64_t sub_root;        /* the node that opened its sub-problem (level - 1), -1 at level 0 */
    int64_t room_up;         /* cache for branch points: every node from this one up to (not
                              * including) room_up has no room for a child; -1: none above */
    int64_t left_step;       /* step at which it was last left for another path, -1 never */
    int64_t observed_step;   /* step of its latest observation, -1 never */
    int64_t answer;          /* the host's answer key (COTHB_FLAG_ANSWER), else 0 */
    int32_t level, depth, status, n_children;
    uint32_t flags;
    int32_t strategy;        /* the strategy the step was asked with (probe.c) */
    int32_t rechecks;        /* re-check results combined into its evidence */
    int32_t n_evidence;      /* further readings (re-checks, outcomes) in evidence_sum */
    int32_t n_path;          /* further path readings in path_sum */
    int32_t reserved;
    double signals[COTHB_NSIG]; /* latest observed value of each slot, NaN if never */
    double beta_a, beta_b;      /* Beta posterior of the step's success */
    double sub_reliability;     /* reliability of a returned sub-problem, NaN if none */
    double evidence_sum;        /* sum of logit(reading) over the further readings */
    double path_sum;            /* sum of logit(path reading) over the further ones */
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
    double dprime;      /* sqrt(2) Phi^-1(AUC) of the calibration data (direction-free) */
} cothb_map;

/* A fitted multichannel feature calibration (features.c): P = sigmoid(w . x + b). */
typedef struct cothb_features {
    int64_t n;          /* features; 0 without a calibration */
    double *w, b;       /* weights in the features' units, intercept */
    double base_rate;   /* fraction of correct steps in the calibration data */
    double dprime;      /* held-out sqrt(2) Phi^-1(AUC), 0 at or below chance */
} cothb_features;

typedef struct cothb_plan_table cothb_plan_table; /* plan.c */

/* A strategy of the monitored set (Collins & Koechlin 2012): its reliability, the
 * posterior probability that it is the one that currently works. */
typedef struct cothb_strategy {
    int64_t id;
    double lambda;
    int64_t probe;      /* 1 while it is the actor and not confirmed (a probe or a retry) */
    int64_t tried;      /* 1 once retried since the last confirmed actor */
} cothb_strategy;

/* One answer of the vote (answers.c). */
typedef struct cothb_vote {
    int64_t key, node, paths; /* answer key, its most probable terminal, paths reaching it */
    double weight;            /* prod over its paths (1 + W odds) - 1 */
    double best;              /* probability of its most probable path */
} cothb_vote;

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
    cothb_features features;
    /* Budget policy (budget.c, answers.c). */
    int64_t *terminals;       /* level-0 terminals registered as answers, in order */
    int64_t n_terminals, cap_terminals;
    int64_t learned_length;   /* depth of the first level-0 terminal, 0 before */
    int64_t revisit;          /* terminal left to re-check a step of its path, else -1 */
    double read_sum;          /* first readings of fresh steps: sum and count (base rate) */
    int64_t read_count;
    double path_read_sum;     /* first path readings: sum and count (path base rate) */
    int64_t path_read_count;
    double read_logit_sum, read_logit_sq; /* first readings' log-odds: sum, sum of squares */
    cothb_plan_table *plans[COTHB_PLAN_CACHE]; /* planning tables (plan.c), not saved */
    int64_t dprime_count;     /* the d' estimate (plan.c) for these readings and base rate, */
    double dprime_base, dprime_value; /* valid while dprime_count = read_count + 1; not saved */
    int64_t dprime_pairs;     /* ... and dprime_pairs = n_pairs */
    /* Re-check agreement (agreement.c): per re-check of a level-0 step, the log-odds sum
     * and count of its earlier readings and the re-check's log-odds (3 doubles a row),
     * kept across reset like the first readings. */
    double *pairs;
    int64_t n_pairs, cap_pairs;
    double agree_loglik[COTHB_DPRIME_GRID + 1]; /* cache of their scores, not saved: */
    int64_t agree_done, agree_basis;           /* pairs scored; readings + pairs then */
    double agree_mean, agree_var, agree_p0;    /* the first readings' statistics then */
    /* While the re-checks overrule the spread (plan.c), readings are uncalibrated: a
     * reading's log-likelihood ratio is reading_slope (logit r - reading_center). */
    int64_t reading_mapped;
    double reading_slope, reading_center;
    /* Strategies (probe.c). */
    cothb_strategy strategies[COTHB_MAX_MONITORED + 1];
    int64_t n_strategies;
    double other;             /* probability that no monitored strategy works */
    int64_t actor;            /* id of the strategy new steps are asked with */
    int64_t next_strategy;    /* id the next probe gets */
};


static inline double cothb_param(const btfm_cothb *c, int p) { return c->params[p]; }

/* The node `id` or NULL; `func` names the caller in the BTFM_E_NOTFOUND message. */
btfm_status btfm_cothb_check_node(const btfm_cothb *c, int64_t id, const char *func);

/* Grow the node / trace arrays for one more entry (amortized doubling). */
btfm_status btfm_cothb_reserve_nodes(btfm_cothb *c, int64_t need, const char *func);
btfm_status btfm_cothb_trace_add(btfm_cothb *c, int type, int action, int64_t node,
                            int64_t target, const double *values, int n_values);

/* Copy src's configuration (parameters, calibration, logistic policy) into dst; its
 * search is not copied. */
btfm_status btfm_cothb_copy_config(btfm_cothb *dst, const btfm_cothb *src);

/* Fresh node fields (signals NaN, prior Beta, no sub-problem value). */
void btfm_cothb_node_init(const btfm_cothb *c, cothb_node *n, int64_t parent, int level,
                     int depth);

/* The nearest ancestor-or-self of `id` with room for another child (not abandoned, fewer
 * than max_breadth children), or -1: amortized O(1) by path compression, since a node
 * that has no room never gets it back (see btfm_cothb_reset_room when max_breadth grows). */
int64_t btfm_cothb_room_above(btfm_cothb *c, int64_t id);
void btfm_cothb_reset_room(btfm_cothb *c);

/* inference.c: the reliability the thresholds and logistic policies use, and the Beta
 * update of an outcome; the budget policy's evidence: readings combined in log-odds
 * against the base rate, and a path's probability. */
double btfm_cothb_inferred_reliability(const btfm_cothb *c, const cothb_node *n);
void btfm_cothb_update_outcome(cothb_node *n, double outcome);
double btfm_cothb_base_rate(const btfm_cothb *c);
double btfm_cothb_path_base_rate(const btfm_cothb *c);
int btfm_cothb_has_evidence(const cothb_node *n);
double btfm_cothb_evidence(const btfm_cothb *c, const cothb_node *n);
double btfm_cothb_path_probability(const btfm_cothb *c, int64_t terminal);
double btfm_cothb_logit(double p);
/* The reliability btfm_cothb_reliability reports: the policy's. */
double btfm_cothb_policy_reliability(const btfm_cothb *c, const cothb_node *n);
/* Record a node's observation in the evidence model (first readings, outcomes). */
void btfm_cothb_note_observation(btfm_cothb *c, cothb_node *n, const double *signals,
                                 int n_signals);
/* Combine a returned re-check (reliability and path readings) into node `target`. */
void btfm_cothb_combine_recheck(btfm_cothb *c, int64_t target, const cothb_node *sub);

/* answers.c: register a terminal, the vote, the best answer. */
btfm_status btfm_cothb_register_answer(btfm_cothb *c, int64_t terminal);
/* The vote over registered terminals into `votes` (capacity n_terminals); returns the
 * number of answers and the sum of their weights in *total. */
int64_t btfm_cothb_vote(const btfm_cothb *c, cothb_vote *votes, double *total);
/* The best answer: its node and probability; -1 when no answer was reached. */
int64_t btfm_cothb_best_answer(const btfm_cothb *c, double *probability);

/* persist_check.c: check a loaded controller; the load error naming a field. */
btfm_status btfm_cothb_validate(const btfm_cothb *c);
btfm_status btfm_cothb_load_error(int64_t node, const char *what, double value);

/* probe.c: strategies. */
void btfm_cothb_strategies_init(btfm_cothb *c);
btfm_status btfm_cothb_strategy_update(btfm_cothb *c, int64_t strategy, double reading);
int64_t btfm_cothb_strategy_index(const btfm_cothb *c, int64_t id);

/* plan.c: the budget policy's choice for a step under optimal stopping: accept, re-sample
 * or re-check the best candidate (reliability b) with `spare` actions beyond the path's
 * needs and `steps` steps left including this one; -1 when out of memory. */
enum { COTHB_STEP_ACCEPT = 0, COTHB_STEP_RESAMPLE = 1, COTHB_STEP_RECHECK = 2 };
int btfm_cothb_plan_step(btfm_cothb *c, double b, int64_t spare, int64_t steps, int can_recheck);
double btfm_cothb_signal_dprime(btfm_cothb *c);
void btfm_cothb_plans_free(btfm_cothb *c);

/* agreement.c: remember a re-check reading of level-0 step t (before it joins t's
 * evidence); the log-likelihood of the re-checks under each grid d' into loglik
 * (COTHB_DPRIME_GRID + 1), returning how many there are (0: loglik untouched); check
 * loaded rows. */
void btfm_cothb_note_recheck(btfm_cothb *c, const cothb_node *t, double reading);
int64_t btfm_cothb_agreement(btfm_cothb *c, double p0, double *loglik);
/* Readings' log-likelihood ratio for a signal of sensitivity d' under the agreement
 * model (slope and centre in log-odds). */
void btfm_cothb_agreement_map(const btfm_cothb *c, double dprime, double *slope, double *center);
/* The agreement state saved with the controller (COTHB_AGREE_STATE values), and back. */
#define COTHB_AGREE_STATE (COTHB_DPRIME_GRID + 1 + 8)
void btfm_cothb_agreement_state(const btfm_cothb *c, double *state);
btfm_status btfm_cothb_set_agreement_state(btfm_cothb *c, const double *state);
btfm_status btfm_cothb_check_pairs(const double *pairs, int64_t n);

/* budget.c: the budget policy's decision (a plan, applied by policy.c). */
typedef struct cothb_plan {
    int action;
    int64_t node, target;
    int close_status;   /* status of the current leaf when the action leaves it, or -1 */
    int64_t new_level;  /* level of the node an expansion asks for */
    int mode;           /* region decided, kept for hysteresis */
    double value;       /* reliability (or policy probability) the decision used */
    int drop_siblings;  /* EXTEND: abandon the monitored siblings of the node (budget) */
    int start_revisit;  /* the current terminal is left to re-check a step of its path */
    int end_revisit;    /* that re-check is over */
} cothb_plan;
/* close_status of a finished path left for more search: kept for the vote, monitored
 * but outside the bounded monitored set. */
#define COTHB_CLOSE_KEEP 100
void btfm_cothb_plan_finish(const btfm_cothb *c, cothb_plan *p);
void btfm_cothb_plan_budget(btfm_cothb *c, cothb_plan *p);
double btfm_cothb_action_cost(const btfm_cothb *c, int action);

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

/* features.c: release a feature calibration. */
void btfm_cothb_features_free(cothb_features *f);

/* quality.c: the standard normal quantile. */
double btfm_cothb_normal_quantile(double p);

/* splitmix64 on the controller's random state: a uniform double in [0, 1). */
double btfm_cothb_uniform(btfm_cothb *c);

#endif
