/* The controller handle and its tree of thought nodes: creation, parameters, adding
 * and observing nodes, accessors. The decisions themselves are in policy.c. */
#include <math.h>
#include <string.h>
#include "cothb_internal.h"

static const btfm_param_def cothb_params[] = {
    {"continue_threshold", BTFM_PARAM_REAL, 0.7, 0, 1,
     "Follow the current path while its reliability is at or above this."},
    {"branch_threshold", BTFM_PARAM_REAL, 0.3, 0, 1,
     "Leave the current path (retrieve or branch) when its reliability is below this; "
     "between the two thresholds the step is decomposed."},
    {"hysteresis", BTFM_PARAM_REAL, 0.05, 0, 0.5,
     "A region is left only once reliability crosses its threshold by this margin, so "
     "noise near a threshold does not make the policy flip back and forth."},
    {"answer_threshold", BTFM_PARAM_REAL, 0.5, 0, 1,
     "A terminal node at level 0 is answered when its reliability is at least this."},
    {"switch_margin", BTFM_PARAM_REAL, 0.2, 0, 1,
     "Leave the current path when the alternative or exploration signal exceeds its "
     "reliability by more than this."},
    {"max_steps", BTFM_PARAM_INT, 1000, 1, 1e12,
     "Actions allowed in total; every action consumes one, so the search always ends."},
    {"max_nodes", BTFM_PARAM_INT, 100000, 2, 1e12,
     "Nodes allowed in the tree, the root included."},
    {"max_depth", BTFM_PARAM_INT, 64, 1, 1e9, "Steps allowed from the root to any node."},
    {"max_breadth", BTFM_PARAM_INT, 16, 1, 1e9,
     "Children allowed per node (new paths from the root included)."},
    {"max_levels", BTFM_PARAM_INT, 3, 1, 1e6,
     "Abstraction levels allowed (1 disables decomposition)."},
    {"max_cost", BTFM_PARAM_REAL, 1e12, 1e-9, 1e300,
     "Total cost allowed; an action that would exceed it is replaced by STOP."},
    {"cost_extend", BTFM_PARAM_REAL, 1, 0, 1e12, "Cost of an EXTEND action."},
    {"cost_branch", BTFM_PARAM_REAL, 1, 0, 1e12, "Cost of a BRANCH action."},
    {"cost_decompose", BTFM_PARAM_REAL, 1, 0, 1e12, "Cost of a DECOMPOSE action."},
    {"cost_other", BTFM_PARAM_REAL, 0, 0, 1e12,
     "Cost of RETURN, RETRIEVE and CONFIRM (they still use one step each)."},
    {"monitored", BTFM_PARAM_INT, 3, 1, COTHB_MAX_MONITORED,
     "Alternative paths kept for retrieval (Collins & Koechlin found about three)."},
    {"prior_success", BTFM_PARAM_REAL, 1, 1e-6, 1e6,
     "Beta prior pseudo-count of successes of a new step."},
    {"prior_failure", BTFM_PARAM_REAL, 1, 1e-6, 1e6,
     "Beta prior pseudo-count of failures of a new step."},
    {"explore_epsilon", BTFM_PARAM_REAL, 0, 0, 1,
     "Probability of branching although the current path is reliable (seeded)."},
    {"seed", BTFM_PARAM_INT, 0, 0, 9007199254740991.0,
     "Seed of the random state; setting it restarts the random sequence."},
    {"policy", BTFM_PARAM_INT, 2, 0, 2,
     "0: thresholds on reliability; 1: the logistic policy fitted by btfm_cothb_calibrate; "
     "2: the budget policy (re-checks, re-samples, new paths and a vote within the budget)."},
    {"trace", BTFM_PARAM_BOOL, 1, 0, 1, "Record every action and signal for the JSONL trace."},
    {"path_length", BTFM_PARAM_INT, 0, 0, 1e9,
     "Steps from the problem to an answer, when the host knows it (0: the depth of the "
     "first answer reached); the budget policy never starts a path it cannot finish."},
    {"rechecks", BTFM_PARAM_INT, 2, 0, 1e6,
     "Re-checks (sub-problems) the budget policy may open for one step."},
    {"wrong_answers", BTFM_PARAM_REAL, 1, 1, 1e6,
     "How many different wrong answers wrong paths spread over: 1 (wrong paths may always "
     "agree) makes agreement the weakest evidence in the vote."},
    {"stop_confidence", BTFM_PARAM_REAL, 0.99, 0, 1,
     "The budget policy answers before its budget is spent once the voted answer's "
     "probability reaches this."},
    {"base_rate", BTFM_PARAM_REAL, 0, 0, 0.99,
     "Probability that a new step is correct, the prior the host's reliabilities were "
     "calibrated against (0: the calibration's, else the mean of the first readings)."},
    {"probe", BTFM_PARAM_BOOL, 1, 0, 1,
     "Infer which strategy works from step evidence and ask new steps with it "
     "(Collins & Koechlin 2012)."},
    {"volatility", BTFM_PARAM_REAL, 0.05, 0, 0.5,
     "Probability that the strategy that works changes from one step to the next."},
    {"slip", BTFM_PARAM_REAL, 0.1, 0.001, 0.5,
     "Probability that a step taken with the strategy that works is wrong anyway."},
    {"chance", BTFM_PARAM_REAL, 0.1, 0.001, 0.5,
     "Probability that a step taken with a strategy that does not work is right anyway."},
    {"probe_prior", BTFM_PARAM_REAL, 0.2, 0.01, 0.5,
     "Reliability a newly created strategy starts with."},
    {"planning", BTFM_PARAM_BOOL, 1, 0, 1,
     "Budget policy: accept, re-check or re-sample each step by optimal stopping under the "
     "signal's estimated d' and base rate (0: by continue_threshold and branch_threshold)."},
    {"min_dprime", BTFM_PARAM_REAL, 0.4, 0, 10,
     "Budget policy: while the readings' estimated d' (or the calibration's) is below this, "
     "they carry too little to steer single steps: each step is accepted and the spare "
     "budget goes to independent paths settled by the vote (0: always steer)."},
};

const btfm_param_table btfm_cothb_param_table = {
    BTFM_OBJECT_COTHB, "cothb", (int)(sizeof cothb_params / sizeof cothb_params[0]),
    cothb_params,
};

_Static_assert(sizeof cothb_params / sizeof cothb_params[0] == COTHB_NPARAM,
               "COTHB_NPARAM matches the table");

static const char *const action_names[] = {NULL, "extend", "branch", "decompose", "return",
                                           "retrieve", "confirm", "answer", "stop"};
static const char *const signal_names[] = {"reliability", "alternative", "exploration",
                                           "retrieval", "confirmation", "outcome", "terminal",
                                           "path"};
_Static_assert(sizeof signal_names / sizeof signal_names[0] == COTHB_NSIG, "one name a slot");
static const char *const status_names[] = {"open", "current", "monitored", "confirmed",
                                           "abandoned", "answered"};
static const char *const decision_names[] = {"continue", "switch", "explore"};
#define NAME_OF(table, i) \
    ((i) >= 0 && (i) < (int)(sizeof table / sizeof table[0]) ? table[i] : NULL)

const char *btfm_cothb_action_name(int action) { return NAME_OF(action_names, action); }
const char *btfm_cothb_signal_name(int signal) { return NAME_OF(signal_names, signal); }
const char *btfm_cothb_status_name(int status) { return NAME_OF(status_names, status); }
const char *btfm_cothb_decision_name(int d) { return NAME_OF(decision_names, d); }
int btfm_cothb_n_signals(void) { return COTHB_NSIG; }

int btfm_cothb_signal_count(void) { return COTHB_NSIG; }
size_t btfm_cothb_node_bytes(void) { return sizeof(cothb_node); }

btfm_status btfm_cothb_check_node(const btfm_cothb *c, int64_t id, const char *func)
{
    if (id < 0 || id >= c->n_nodes)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: node %lld does not exist (the controller has "
                         "nodes 0 to %lld)", func, (long long)id, (long long)c->n_nodes - 1);
    return BTFM_OK;
}

btfm_status btfm_cothb_reserve_nodes(btfm_cothb *c, int64_t need, const char *func)
{
    return btfm_reserve((void **)&c->nodes, &c->cap_nodes, need, sizeof *c->nodes, func);
}

btfm_status btfm_cothb_trace_add(btfm_cothb *c, int type, int action, int64_t node,
                            int64_t target, const double *values, int n_values)
{
    if (!c->params[BTFM_COTHB_PARAM_TRACE]) return BTFM_OK;
    btfm_status st = btfm_reserve((void **)&c->trace, &c->cap_trace, c->n_trace + 1, sizeof *c->trace,
                          "cothb trace");
    if (st) return st;
    cothb_event *e = &c->trace[c->n_trace++];
    e->type = type;
    e->action = action;
    e->step = c->steps;
    e->node = node;
    e->target = target;
    for (int i = 0; i < COTHB_NSIG; i++) e->values[i] = i < n_values ? values[i] : NAN;
    return BTFM_OK;
}

void btfm_cothb_node_init(const btfm_cothb *c, cothb_node *n, int64_t parent, int level, int depth)
{
    memset(n, 0, sizeof *n);
    n->parent = parent;
    n->created_step = c->steps;
    n->sub_root = -1;
    n->room_up = c->n_nodes; /* itself (the slot it fills): its own room is checked first */
    n->left_step = -1;
    n->observed_step = -1;
    n->strategy = (int32_t)c->actor;
    n->level = level;
    n->depth = depth;
    n->status = BTFM_COTHB_CURRENT;
    for (int i = 0; i < COTHB_NSIG; i++) n->signals[i] = NAN;
    n->beta_a = c->params[BTFM_COTHB_PARAM_PRIOR_SUCCESS];
    n->beta_b = c->params[BTFM_COTHB_PARAM_PRIOR_FAILURE];
    n->sub_reliability = NAN;
}

static void seed_rng(btfm_cothb *c)
{
    c->rng = (uint64_t)c->params[BTFM_COTHB_PARAM_SEED] ^ 0x6a09e667f3bcc909ULL;
}

btfm_status btfm_cothb_new(btfm_cothb **out)
{
    BTFM_CHECK_ARG(out, "btfm_cothb_new", "out");
    *out = NULL;
    btfm_cothb *c = btfm_calloc(1, sizeof *c);
    if (!c) return btfm_fail_nomem("btfm_cothb_new", sizeof *c);
    btfm_params_defaults(&btfm_cothb_param_table, c->params);
    btfm_status st = btfm_cothb_reserve_nodes(c, 1, "btfm_cothb_new");
    if (st) {
        btfm_free(c);
        return st;
    }
    btfm_cothb_node_init(c, &c->nodes[0], -1, 0, 0);
    c->n_nodes = 1;
    c->current = 0;
    c->explore_from = -1;
    c->final_node = -1;
    c->pending_node = -1;
    c->last_node = -1;
    c->last_target = -1;
    c->revisit = -1;
    btfm_cothb_strategies_init(c);
    seed_rng(c);
    *out = c;
    return BTFM_OK;
}

btfm_status btfm_cothb_copy_config(btfm_cothb *dst, const btfm_cothb *src)
{
    cothb_map map = src->map;
    if (src->map.n > 0) {
        size_t bytes = (size_t)src->map.n * 2 * sizeof(double);
        map.x = btfm_malloc(bytes);
        if (!map.x) return btfm_fail_nomem("cothb configuration", bytes);
        memcpy(map.x, src->map.x, bytes);
        map.y = map.x + src->map.n;
    }
    cothb_features features = src->features;
    if (src->features.n > 0) {
        size_t bytes = (size_t)src->features.n * sizeof *features.w;
        features.w = btfm_malloc(bytes);
        if (!features.w) {
            btfm_cothb_map_free(&map);
            return btfm_fail_nomem("cothb configuration", bytes);
        }
        memcpy(features.w, src->features.w, bytes);
    }
    btfm_cothb_map_free(&dst->map);
    dst->map = map;
    btfm_cothb_features_free(&dst->features);
    dst->features = features;
    memcpy(dst->params, src->params, sizeof dst->params);
    memcpy(dst->policy_w, src->policy_w, sizeof dst->policy_w);
    memcpy(dst->policy_b, src->policy_b, sizeof dst->policy_b);
    dst->policy_fitted = src->policy_fitted;
    return btfm_cothb_reset(dst);
}

btfm_status btfm_cothb_reset(btfm_cothb *c)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_reset", "controller");
    c->n_nodes = 1;
    c->n_trace = 0;
    c->n_monitored = 0;
    c->n_terminals = 0;
    c->current = 0;
    c->explore_from = -1;
    c->mode = COTHB_MODE_NONE;
    c->pending = 0;
    c->pending_node = -1;
    c->pending_level = 0;
    c->finished = 0;
    c->final_node = -1;
    c->steps = 0;
    c->cost = 0;
    c->last_action = 0;
    c->last_node = -1;
    c->last_target = -1;
    c->learned_length = 0;
    c->revisit = -1;
    /* The readings' statistics (base rate, spread) describe the host's signal, not the
     * problem: they are kept, so each problem starts with what earlier ones showed. */
    btfm_cothb_strategies_init(c);
    btfm_cothb_node_init(c, &c->nodes[0], -1, 0, 0);
    seed_rng(c);
    return BTFM_OK;
}

void btfm_cothb_free(btfm_cothb *c)
{
    if (!c) return;
    btfm_free(c->nodes);
    btfm_free(c->trace);
    btfm_free(c->terminals);
    btfm_free(c->pairs);
    btfm_cothb_map_free(&c->map);
    btfm_cothb_features_free(&c->features);
    btfm_cothb_plans_free(c);
    btfm_free(c);
}

btfm_status btfm_cothb_set_param(btfm_cothb *c, int param, double value)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_set_param", "controller");
    double before = c->params[BTFM_COTHB_PARAM_MAX_BREADTH];
    btfm_status st = btfm_params_set(&btfm_cothb_param_table, c->params, param, value,
                                     "btfm_cothb_set_param");
    if (!st && param == BTFM_COTHB_PARAM_SEED) seed_rng(c);
    if (!st && param == BTFM_COTHB_PARAM_MAX_BREADTH && value > before) btfm_cothb_reset_room(c);
    if (!st && param == BTFM_COTHB_PARAM_POLICY && value == 1 && !c->policy_fitted) {
        c->params[param] = 0;
        return btfm_fail(BTFM_E_STATE, "btfm_cothb_set_param: policy = 1 needs a fitted "
                         "logistic policy; call btfm_cothb_calibrate first");
    }
    return st;
}

btfm_status btfm_cothb_get_param(const btfm_cothb *c, int param, double *value)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_get_param", "controller");
    return btfm_params_get(&btfm_cothb_param_table, c->params, param, value,
                           "btfm_cothb_get_param");
}

btfm_status btfm_cothb_add_node(btfm_cothb *c, int64_t parent, int64_t *id)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_add_node", "controller");
    BTFM_CHECK_ARG(id, "btfm_cothb_add_node", "id");
    if (!c->pending)
        return btfm_fail(BTFM_E_STATE, "btfm_cothb_add_node: no EXTEND, BRANCH or DECOMPOSE "
                         "is waiting for a node; call btfm_cothb_next first");
    if (parent != c->pending_node)
        return btfm_fail(BTFM_E_STATE, "btfm_cothb_add_node: the pending %s asked for a child "
                         "of node %lld, not of node %lld", btfm_cothb_action_name((int)c->pending),
                         (long long)c->pending_node, (long long)parent);
    btfm_status st = btfm_cothb_reserve_nodes(c, c->n_nodes + 1, "btfm_cothb_add_node");
    if (st) return st;
    cothb_node *p = &c->nodes[parent];
    cothb_node *n = &c->nodes[c->n_nodes];
    btfm_cothb_node_init(c, n, parent, (int)c->pending_level, p->depth + 1);
    n->sub_root = p->level < n->level ? parent : p->sub_root;
    if (n->level > 0) n->strategy = p->strategy; /* a re-check looks at its step's strategy */
    p->n_children++;
    if (p->status == BTFM_COTHB_CURRENT || p->status == BTFM_COTHB_OPEN)
        p->status = BTFM_COTHB_CONFIRMED;
    *id = c->n_nodes++;
    c->current = *id;
    c->pending = 0;
    c->pending_node = -1;
    double level = n->level;
    return btfm_cothb_trace_add(c, COTHB_EVENT_ADD, 0, *id, parent, &level, 1);
}

btfm_status btfm_cothb_observe(btfm_cothb *c, int64_t node, const double *signals,
                               int n_signals)
{
    static const char func[] = "btfm_cothb_observe";
    BTFM_CHECK_ARG(c, func, "controller");
    BTFM_CHECK_ARG(signals, func, "signals");
    btfm_status st = btfm_cothb_check_node(c, node, func);
    if (st) return st;
    if (n_signals < 1 || n_signals > COTHB_NSIG)
        return btfm_fail(BTFM_E_INVALID, "%s: n_signals = %d: expected 1 to %d", func,
                         n_signals, COTHB_NSIG);
    cothb_node *n = &c->nodes[node];
    if (n->status == BTFM_COTHB_ABANDONED || n->status == BTFM_COTHB_ANSWERED)
        return btfm_fail(BTFM_E_STATE, "%s: node %lld is %s: a closed node takes no signals",
                         func, (long long)node, btfm_cothb_status_name(n->status));
    for (int i = 0; i < n_signals; i++) {
        double v = signals[i];
        if (isnan(v)) continue;
        if (!(v >= 0 && v <= 1))
            return btfm_fail(BTFM_E_RANGE, "%s: node %lld: signal %s = %g: expected a value in "
                             "[0, 1], or NaN for not observed", func, (long long)node,
                             btfm_cothb_signal_name(i), v);
    }
    n->observed_step = c->steps;
    n->flags &= ~(uint32_t)COTHB_FLAG_STALE_RETRIEVAL; /* new evidence */
    if (c->params[BTFM_COTHB_PARAM_TRACE]) { /* reserve first: nothing half-recorded */
        st = btfm_reserve((void **)&c->trace, &c->cap_trace, c->n_trace + 2, sizeof *c->trace,
                          "cothb trace");
        if (st) return st;
    }
    int terminal = n_signals > BTFM_COTHB_SIGNAL_TERMINAL &&
                   signals[BTFM_COTHB_SIGNAL_TERMINAL] >= 0.5 && n->level == 0;
    if (terminal && !(n->flags & COTHB_FLAG_COMPLETE)) {
        st = btfm_reserve((void **)&c->terminals, &c->cap_terminals, c->n_terminals + 1,
                          sizeof *c->terminals, "cothb answers");
        if (st) return st;
    }
    for (int i = 0; i < n_signals; i++) {
        if (isnan(signals[i])) continue;
        n->signals[i] = signals[i];
        if (i == BTFM_COTHB_SIGNAL_OUTCOME) btfm_cothb_update_outcome(n, signals[i]);
    }
    if (terminal) btfm_cothb_register_answer(c, node); /* room reserved above */
    st = btfm_cothb_trace_add(c, COTHB_EVENT_OBSERVE, 0, node, -1, signals, n_signals);
    btfm_cothb_note_observation(c, n, signals, n_signals); /* may add strategy events */
    return st;
}

static int has_room(const btfm_cothb *c, const cothb_node *n)
{
    return n->status != BTFM_COTHB_ABANDONED &&
           n->n_children < c->params[BTFM_COTHB_PARAM_MAX_BREADTH];
}

int64_t btfm_cothb_room_above(btfm_cothb *c, int64_t id)
{
    int64_t found = id;
    while (found >= 0 && !has_room(c, &c->nodes[found])) {
        int64_t up = c->nodes[found].room_up;
        found = up == found ? c->nodes[found].parent : up;
    }
    /* Path compression: every node passed has no room, now or later. */
    for (int64_t i = id; i >= 0 && i != found;) {
        int64_t up = c->nodes[i].room_up;
        int64_t next = up == i ? c->nodes[i].parent : up;
        c->nodes[i].room_up = found;
        i = next;
    }
    return found;
}

void btfm_cothb_reset_room(btfm_cothb *c)
{
    for (int64_t i = 0; i < c->n_nodes; i++) c->nodes[i].room_up = i;
}

static int64_t n_nodes(const btfm_cothb *c, const char *func)
{
    if (!c) return btfm_fail(BTFM_E_INVALID, "%s: controller is NULL", func);
    return c->n_nodes;
}

int64_t btfm_cothb_n_nodes(const btfm_cothb *c) { return n_nodes(c, "btfm_cothb_n_nodes"); }

int64_t btfm_cothb_node_count(const btfm_cothb *c) { return n_nodes(c, "btfm_cothb_node_count"); }

btfm_status btfm_cothb_node_info(const btfm_cothb *c, int64_t id, int64_t *parent, int *level,
                                 int *status, int *depth, int *n_children)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_node_info", "controller");
    btfm_status st = btfm_cothb_check_node(c, id, "btfm_cothb_node_info");
    if (st) return st;
    const cothb_node *n = &c->nodes[id];
    if (parent) *parent = n->parent;
    if (level) *level = n->level;
    if (status) *status = n->status;
    if (depth) *depth = n->depth;
    if (n_children) *n_children = n->n_children;
    return BTFM_OK;
}

btfm_status btfm_cothb_reliability(const btfm_cothb *c, int64_t id, double *value)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_reliability", "controller");
    BTFM_CHECK_ARG(value, "btfm_cothb_reliability", "value");
    btfm_status st = btfm_cothb_check_node(c, id, "btfm_cothb_reliability");
    if (st) return st;
    *value = btfm_cothb_policy_reliability(c, &c->nodes[id]);
    return BTFM_OK;
}

btfm_status btfm_cothb_posterior(const btfm_cothb *c, int64_t id, double *a, double *b)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_posterior", "controller");
    btfm_status st = btfm_cothb_check_node(c, id, "btfm_cothb_posterior");
    if (st) return st;
    if (a) *a = c->nodes[id].beta_a;
    if (b) *b = c->nodes[id].beta_b;
    return BTFM_OK;
}

btfm_status btfm_cothb_progress(const btfm_cothb *c, int64_t *current, int64_t *steps,
                                double *cost)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_progress", "controller");
    if (current) *current = c->current;
    if (steps) *steps = c->steps;
    if (cost) *cost = c->cost;
    return BTFM_OK;
}
