/* The CoTHB policy: which action comes next. Reliability high: follow the current path;
 * low: leave it for a monitored alternative or a new branch (Collins & Koechlin 2012:
 * a few monitored strategies, a new one created when none is reliable, an exploratory
 * one confirmed once reliable); in between: decompose the step into a sub-problem one
 * level lower and return with its result. A decision is planned without side effects,
 * checked against the budgets, then applied, so a refused action changes nothing. */
#include <math.h>
#include <string.h>
#include "cothb_internal.h"

typedef cothb_plan plan;

static const cothb_node *node_at(const btfm_cothb *c, int64_t id) { return &c->nodes[id]; }

/* Threshold policy: the node's reliability. Logistic policy: P(continue | signals). */
static double decision_value(const btfm_cothb *c, const cothb_node *n)
{
    if (cothb_param(c, BTFM_COTHB_PARAM_POLICY) == 1)
        return btfm_cothb_policy_probability(c, 0, n, NAN);
    return btfm_cothb_inferred_reliability(c, n);
}

/* The node that opened the sub-problem `n` belongs to (nearest ancestor one level up),
 * kept in the node when it is added. */
static int64_t sub_root(const btfm_cothb *c, const cothb_node *n)
{
    (void)c;
    return n->sub_root;
}

static int can_expand(const btfm_cothb *c, const cothb_node *n)
{
    return n->depth + 1 <= cothb_param(c, BTFM_COTHB_PARAM_MAX_DEPTH) &&
           n->n_children < cothb_param(c, BTFM_COTHB_PARAM_MAX_BREADTH);
}

/* Where to try an alternative to leaf `id`: the nearest ancestor with room for another
 * child, without climbing out of the current sub-problem (its opening node is the
 * highest allowed). -1 if none. */
static int64_t branch_point(btfm_cothb *c, int64_t id)
{
    const cothb_node *n = node_at(c, id);
    if (n->parent < 0) return -1;
    int64_t p = btfm_cothb_room_above(c, n->parent);
    if (p < 0 || (n->sub_root >= 0 && node_at(c, p)->depth < node_at(c, n->sub_root)->depth))
        return -1;
    return p;
}

/* The most reliable monitored leaf of the same sub-problem as `id`, or -1. */
static int64_t best_monitored(const btfm_cothb *c, int64_t id)
{
    const cothb_node *n = node_at(c, id);
    int64_t root = sub_root(c, n), best = -1;
    double best_value = -1;
    for (int64_t i = 0; i < c->n_monitored; i++) {
        const cothb_node *m = node_at(c, c->monitored[i]);
        if (m->level != n->level || sub_root(c, m) != root) continue;
        double v = btfm_cothb_inferred_reliability(c, m);
        if (v > best_value) {
            best_value = v;
            best = c->monitored[i];
        }
    }
    return best;
}

static void set_plan(plan *p, int action, int64_t node, int64_t target, int close_status)
{
    p->action = action;
    p->node = node;
    p->target = target;
    p->close_status = close_status;
}

/* A monitored path is retrieved on evidence that came after it was left. Without any it
 * can still be retrieved, but only once: left again without new evidence, it is
 * abandoned, so a search can never cycle between paths it already judged. */
static int fresh_evidence(const cothb_node *m) { return m->observed_step >= m->left_step; }

/* Whether leaving for monitored path `m` is justified: thresholds, the path's own
 * reliability or a retrieval signal that came after it was left; logistic policy,
 * P(switch) from the current leaf's signals with the alternative being m itself. */
static int retrieval_justified(const btfm_cothb *c, const cothb_node *n, const cothb_node *m)
{
    double r = btfm_cothb_inferred_reliability(c, m);
    if (fresh_evidence(m) && m->signals[BTFM_COTHB_SIGNAL_RETRIEVAL] >= 0.5) return 1;
    if (cothb_param(c, BTFM_COTHB_PARAM_POLICY) == 1)
        return btfm_cothb_policy_probability(c, 1, n, r) >= 0.5;
    return r >= cothb_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD);
}

/* Leave the current leaf: retrieve a reliable monitored path, else branch, else give up
 * the sub-problem (RETURN with reliability 0), else retrieve whatever is left, else STOP. */
static void plan_leave(btfm_cothb *c, plan *p, int dead_end)
{
    int64_t cur = c->current;
    const cothb_node *n = node_at(c, cur);
    int close = dead_end || (n->flags & COTHB_FLAG_STALE_RETRIEVAL) ? BTFM_COTHB_ABANDONED
                                                                    : BTFM_COTHB_MONITORED;
    int64_t m = best_monitored(c, cur);
    p->mode = COTHB_MODE_LEAVE;
    if (m >= 0 && retrieval_justified(c, n, node_at(c, m))) {
        set_plan(p, BTFM_COTHB_RETRIEVE, m, cur, close);
        return;
    }
    int64_t bp = branch_point(c, cur);
    if (bp >= 0) {
        set_plan(p, BTFM_COTHB_BRANCH, bp, cur, close);
        p->new_level = n->level;
    } else if (n->level > 0) {
        set_plan(p, BTFM_COTHB_RETURN, cur, sub_root(c, n), BTFM_COTHB_ABANDONED);
        p->value = 0; /* the sub-problem failed: its parent step is unreliable */
    } else if (m >= 0) {
        set_plan(p, BTFM_COTHB_RETRIEVE, m, cur, BTFM_COTHB_ABANDONED);
    } else {
        set_plan(p, BTFM_COTHB_STOP, cur, -1, -1);
    }
}

/* Continue, decompose or leave, with hysteresis: the region the current path is in is
 * widened by `hysteresis`, so a value must cross a threshold by that much to change it. */
static int region(btfm_cothb *c, const cothb_node *n, double v)
{
    double h = cothb_param(c, BTFM_COTHB_PARAM_HYSTERESIS);
    double hi = cothb_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD);
    double lo = cothb_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD);
    if (c->mode == COTHB_MODE_CONTINUE) hi -= h;
    if (c->mode == COTHB_MODE_LEAVE) lo += h;
    if (lo > hi) lo = hi;
    if (cothb_param(c, BTFM_COTHB_PARAM_POLICY) == 0) {
        double margin = cothb_param(c, BTFM_COTHB_PARAM_SWITCH_MARGIN);
        if (n->signals[BTFM_COTHB_SIGNAL_ALTERNATIVE] - v > margin ||
            n->signals[BTFM_COTHB_SIGNAL_EXPLORATION] - v > margin)
            return COTHB_MODE_LEAVE; /* NaN compares false: unobserved never triggers */
    }
    if (v >= hi) {
        double eps = cothb_param(c, BTFM_COTHB_PARAM_EXPLORE_EPSILON);
        if (eps > 0 && btfm_cothb_uniform(c) < eps) return COTHB_MODE_LEAVE;
        return COTHB_MODE_CONTINUE;
    }
    return v < lo ? COTHB_MODE_LEAVE : COTHB_MODE_DECOMPOSE;
}

static void plan_decision(btfm_cothb *c, plan *p)
{
    if (cothb_param(c, BTFM_COTHB_PARAM_POLICY) == COTHB_POLICY_BUDGET) {
        btfm_cothb_plan_budget(c, p);
        return;
    }
    int64_t cur = c->current;
    const cothb_node *n = node_at(c, cur);
    /* The root is the problem statement: there is nothing to judge before a first step. */
    double v = cur == 0 ? 1.0 : decision_value(c, n);
    p->value = v;
    p->close_status = -1;
    p->target = -1;
    p->node = cur;
    if (n->signals[BTFM_COTHB_SIGNAL_TERMINAL] >= 0.5) {
        if (n->level > 0) {
            /* The sub-problem's result is its reliability, whatever the policy. */
            set_plan(p, BTFM_COTHB_RETURN, cur, sub_root(c, n), BTFM_COTHB_CONFIRMED);
            p->value = btfm_cothb_inferred_reliability(c, n);
            p->mode = COTHB_MODE_NONE;
        } else if (v >= cothb_param(c, BTFM_COTHB_PARAM_ANSWER_THRESHOLD)) {
            set_plan(p, BTFM_COTHB_ANSWER, cur, -1, BTFM_COTHB_ANSWERED);
        } else {
            plan_leave(c, p, 1);
        }
        return;
    }
    if (c->explore_from >= 0 && cur != 0 &&
        (v >= cothb_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD) ||
         n->signals[BTFM_COTHB_SIGNAL_CONFIRMATION] >= 0.5)) {
        set_plan(p, BTFM_COTHB_CONFIRM, cur, c->explore_from, -1);
        p->mode = COTHB_MODE_CONTINUE;
        return;
    }
    int r = cur == 0 ? COTHB_MODE_CONTINUE : region(c, n, v);
    if (r == COTHB_MODE_LEAVE) {
        plan_leave(c, p, 0);
        return;
    }
    p->mode = r;
    if (!can_expand(c, n)) {
        plan_leave(c, p, 1);
    } else if (r == COTHB_MODE_DECOMPOSE && !(n->flags & COTHB_FLAG_DECOMPOSED) &&
               n->level + 1 < cothb_param(c, BTFM_COTHB_PARAM_MAX_LEVELS)) {
        set_plan(p, BTFM_COTHB_DECOMPOSE, cur, -1, -1);
        p->new_level = n->level + 1;
    } else {
        set_plan(p, BTFM_COTHB_EXTEND, cur, -1, -1);
        p->new_level = n->level;
    }
}

double btfm_cothb_action_cost(const btfm_cothb *c, int action)
{
    switch (action) {
    case BTFM_COTHB_EXTEND: return cothb_param(c, BTFM_COTHB_PARAM_COST_EXTEND);
    case BTFM_COTHB_BRANCH: return cothb_param(c, BTFM_COTHB_PARAM_COST_BRANCH);
    case BTFM_COTHB_DECOMPOSE: return cothb_param(c, BTFM_COTHB_PARAM_COST_DECOMPOSE);
    case BTFM_COTHB_ANSWER:
    case BTFM_COTHB_STOP: return 0;
    default: return cothb_param(c, BTFM_COTHB_PARAM_COST_OTHER);
    }
}

static int is_expansion(int action)
{
    return action == BTFM_COTHB_EXTEND || action == BTFM_COTHB_BRANCH ||
           action == BTFM_COTHB_DECOMPOSE;
}

static void monitored_remove(btfm_cothb *c, int64_t index)
{
    c->monitored[index] = c->monitored[--c->n_monitored];
}

/* Keep `id` among the monitored paths; when the set is full the least reliable of the
 * set and `id` is abandoned (a bounded set, as in Collins & Koechlin). */
static void monitor(btfm_cothb *c, int64_t id)
{
    int64_t capacity = (int64_t)cothb_param(c, BTFM_COTHB_PARAM_MONITORED);
    while (c->n_monitored > capacity) {
        c->nodes[c->monitored[c->n_monitored - 1]].status = BTFM_COTHB_ABANDONED;
        c->n_monitored--;
    }
    c->nodes[id].status = BTFM_COTHB_MONITORED;
    if (c->n_monitored < capacity) {
        c->monitored[c->n_monitored++] = id;
        return;
    }
    int64_t worst = 0;
    for (int64_t i = 1; i < c->n_monitored; i++)
        if (btfm_cothb_policy_reliability(c, &c->nodes[c->monitored[i]]) <
            btfm_cothb_policy_reliability(c, &c->nodes[c->monitored[worst]]))
            worst = i;
    int64_t evicted = c->monitored[worst];
    if (btfm_cothb_policy_reliability(c, &c->nodes[evicted]) <
        btfm_cothb_policy_reliability(c, &c->nodes[id])) {
        c->monitored[worst] = id;
    } else {
        evicted = id;
    }
    c->nodes[evicted].status = BTFM_COTHB_ABANDONED;
}

static void close_current(btfm_cothb *c, int status)
{
    if (status == BTFM_COTHB_MONITORED) {
        c->nodes[c->current].left_step = c->steps;
        monitor(c, c->current);
    } else if (status == COTHB_CLOSE_KEEP) {
        c->nodes[c->current].left_step = c->steps;
        c->nodes[c->current].status = BTFM_COTHB_MONITORED;
    } else if (status >= 0) {
        c->nodes[c->current].status = status;
    }
}

/* After a sub-problem returns, its monitored leaves can no longer be retrieved. */
static void drop_monitored_below(btfm_cothb *c, int level)
{
    for (int64_t i = c->n_monitored - 1; i >= 0; i--) {
        if (c->nodes[c->monitored[i]].level > level) {
            c->nodes[c->monitored[i]].status = BTFM_COTHB_ABANDONED;
            monitored_remove(c, i);
        }
    }
}

/* The monitored candidates left behind for the step `id` takes (budget policy). */
static void drop_siblings(btfm_cothb *c, int64_t id)
{
    for (int64_t i = c->n_monitored - 1; i >= 0; i--) {
        int64_t m = c->monitored[i];
        if (m != id && c->nodes[m].parent == c->nodes[id].parent) {
            c->nodes[m].status = BTFM_COTHB_ABANDONED;
            monitored_remove(c, i);
        }
    }
}

static void apply(btfm_cothb *c, const plan *p)
{
    if (p->action != BTFM_COTHB_STOP) c->steps++; /* STOP is the end, not an action taken */
    c->cost += btfm_cothb_action_cost(c, p->action);
    if (p->start_revisit) c->revisit = c->current;
    if (p->end_revisit) c->revisit = -1;
    switch (p->action) {
    case BTFM_COTHB_BRANCH:
        close_current(c, p->close_status);
        c->explore_from = c->current;
        /* fall through */
    case BTFM_COTHB_EXTEND:
    case BTFM_COTHB_DECOMPOSE:
        if (p->action == BTFM_COTHB_DECOMPOSE) {
            c->nodes[p->node].flags |= COTHB_FLAG_DECOMPOSED;
            close_current(c, p->close_status);
        }
        if (p->drop_siblings && c->nodes[p->node].level == 0) drop_siblings(c, p->node);
        c->pending = p->action;
        c->pending_node = p->node;
        c->pending_level = p->new_level;
        c->mode = p->mode;
        break;
    case BTFM_COTHB_RETRIEVE:
        close_current(c, p->close_status);
        for (int64_t i = 0; i < c->n_monitored; i++)
            if (c->monitored[i] == p->node) monitored_remove(c, i);
        c->current = p->node;
        c->nodes[p->node].status = BTFM_COTHB_CURRENT;
        if (!fresh_evidence(&c->nodes[p->node])) c->nodes[p->node].flags |= COTHB_FLAG_STALE_RETRIEVAL;
        c->explore_from = -1;
        c->mode = COTHB_MODE_NONE;
        break;
    case BTFM_COTHB_RETURN:
        close_current(c, p->close_status);
        if (cothb_param(c, BTFM_COTHB_PARAM_POLICY) == COTHB_POLICY_BUDGET)
            btfm_cothb_combine_recheck(c, p->target, &c->nodes[p->node]);
        else
            c->nodes[p->target].sub_reliability = p->value;
        c->nodes[p->target].status = BTFM_COTHB_CURRENT;
        c->current = p->target;
        drop_monitored_below(c, c->nodes[p->target].level);
        if (c->explore_from >= 0 && c->nodes[c->explore_from].level > c->nodes[p->target].level)
            c->explore_from = -1;
        c->mode = COTHB_MODE_NONE;
        break;
    case BTFM_COTHB_CONFIRM:
        c->explore_from = -1;
        c->mode = p->mode;
        break;
    case BTFM_COTHB_ANSWER:
        c->nodes[p->node].status = BTFM_COTHB_ANSWERED;
        c->finished = p->action;
        c->final_node = p->node;
        break;
    default: /* STOP */
        c->finished = p->action;
        c->final_node = p->node;
        break;
    }
}

btfm_status btfm_cothb_next(btfm_cothb *c, int *action, int64_t *node, int64_t *target)
{
    static const char func[] = "btfm_cothb_next";
    BTFM_CHECK_ARG(c, func, "controller");
    BTFM_CHECK_ARG(action, func, "action");
    BTFM_CHECK_ARG(node, func, "node");
    if (c->finished)
        return btfm_fail(BTFM_E_STATE, "%s: the search is over (%s at node %lld)", func,
                         btfm_cothb_action_name((int)c->finished), (long long)c->final_node);
    if (c->pending)
        return btfm_fail(BTFM_E_STATE, "%s: the %s of node %lld still waits for its node; "
                         "call btfm_cothb_add_node(c, %lld, &id) first", func,
                         btfm_cothb_action_name((int)c->pending), (long long)c->pending_node,
                         (long long)c->pending_node);
    double hi = cothb_param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD);
    double lo = cothb_param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD);
    if (lo > hi)
        return btfm_fail(BTFM_E_RANGE, "%s: branch_threshold %g exceeds continue_threshold %g; "
                         "expected branch_threshold <= continue_threshold", func, lo, hi);
    plan p = {0};
    int budget = cothb_param(c, BTFM_COTHB_PARAM_POLICY) == COTHB_POLICY_BUDGET;
    if (c->steps >= cothb_param(c, BTFM_COTHB_PARAM_MAX_STEPS)) {
        set_plan(&p, BTFM_COTHB_STOP, c->current, -1, -1);
        if (budget) btfm_cothb_plan_finish(c, &p);
    } else {
        plan_decision(c, &p);
        int out_of_nodes = is_expansion(p.action) &&
                           c->n_nodes >= cothb_param(c, BTFM_COTHB_PARAM_MAX_NODES);
        if (out_of_nodes ||
            c->cost + btfm_cothb_action_cost(c, p.action) > cothb_param(c, BTFM_COTHB_PARAM_MAX_COST)) {
            memset(&p, 0, sizeof p);
            set_plan(&p, BTFM_COTHB_STOP, c->current, -1, -1);
            if (budget) btfm_cothb_plan_finish(c, &p); /* the voted answer, if any */
        }
    }
    /* Reserve what the action needs first, so nothing fails half-applied. */
    btfm_status st = BTFM_OK;
    if (is_expansion(p.action)) st = btfm_cothb_reserve_nodes(c, c->n_nodes + 1, func);
    if (!st && cothb_param(c, BTFM_COTHB_PARAM_TRACE))
        st = btfm_reserve((void **)&c->trace, &c->cap_trace, c->n_trace + 1, sizeof *c->trace,
                          "cothb trace");
    if (st) return st;
    apply(c, &p);
    double values[2] = {p.value, c->cost};
    btfm_cothb_trace_add(c, COTHB_EVENT_ACTION, p.action, p.node, p.target, values, 2);
    c->last_action = p.action;
    c->last_node = p.node;
    c->last_target = p.target;
    *action = p.action;
    *node = p.node;
    if (target) *target = p.target;
    return BTFM_OK;
}

btfm_status btfm_cothb_last_action(const btfm_cothb *c, int *action, int64_t *node,
                                   int64_t *target)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_last_action", "controller");
    if (!c->last_action)
        return btfm_fail(BTFM_E_STATE, "btfm_cothb_last_action: no action yet; call "
                         "btfm_cothb_next first");
    if (action) *action = (int)c->last_action;
    if (node) *node = c->last_node;
    if (target) *target = c->last_target;
    return BTFM_OK;
}

btfm_status btfm_cothb_run(btfm_cothb *c, btfm_cothb_step_fn step, int *final_action,
                           int64_t *final_node, void *user)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_run", "controller");
    BTFM_CHECK_ARG(step, "btfm_cothb_run", "step");
    for (;;) {
        int action;
        int64_t node, target, id = -1;
        btfm_status st = btfm_cothb_next(c, &action, &node, &target);
        if (st) return st;
        if (is_expansion(action) && (st = btfm_cothb_add_node(c, node, &id))) return st;
        double signals[COTHB_NSIG];
        for (int i = 0; i < COTHB_NSIG; i++) signals[i] = NAN;
        int rc = step(action, node, id, signals, COTHB_NSIG, user);
        if (rc != BTFM_OK)
            return rc < 0 ? rc : btfm_fail(BTFM_E_INVALID, "btfm_cothb_run: the step callback "
                                           "returned %d; expected 0 or a negative status", rc);
        if (id >= 0 && (st = btfm_cothb_observe(c, id, signals, COTHB_NSIG))) return st;
        if (action == BTFM_COTHB_ANSWER || action == BTFM_COTHB_STOP) {
            if (final_action) *final_action = action;
            if (final_node) *final_node = node;
            return BTFM_OK;
        }
    }
}
