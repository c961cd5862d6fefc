/* Every field of a loaded controller checked against the rest, so a damaged or
 * hand-made file is refused with the field named instead of making the controller index
 * out of bounds or reason from impossible values. */
#include <math.h>
#include "cothb_internal.h"

btfm_status btfm_cothb_load_error(int64_t node, const char *what, double value)
{
    if (node >= 0)
        return btfm_fail(BTFM_E_FORMAT, "btfm_cothb_load: node %lld: %s = %g is inconsistent "
                         "with the rest of the saved controller", (long long)node, what, value);
    return btfm_fail(BTFM_E_FORMAT, "btfm_cothb_load: %s = %g is inconsistent with the rest "
                     "of the saved controller", what, value);
}

#define BAD(what, value) btfm_cothb_load_error(-1, what, (double)(value))
#define BAD_NODE(id, what, value) btfm_cothb_load_error(id, what, (double)(value))

static int valid_signal(double v) { return isnan(v) || (v >= 0 && v <= 1); }
static int node_ref(int64_t id, int64_t n) { return id >= -1 && id < n; }

static btfm_status check_node(const btfm_cothb *c, int64_t i)
{
    const cothb_node *x = &c->nodes[i];
    if (i == 0 ? x->parent != -1 : (x->parent < 0 || x->parent >= i))
        return BAD_NODE(i, "parent", x->parent);
    if (x->status < 0 || x->status > BTFM_COTHB_ANSWERED) return BAD_NODE(i, "status", x->status);
    const cothb_node *p = i > 0 ? &c->nodes[x->parent] : NULL;
    if (x->level < 0 || x->level > 1000000 || (p && (x->level < p->level)))
        return BAD_NODE(i, "level", x->level);
    if (p ? x->depth != p->depth + 1 : x->depth != 0) return BAD_NODE(i, "depth", x->depth);
    int64_t sub_root = !p ? -1 : p->level < x->level ? x->parent : p->sub_root;
    if (x->sub_root != sub_root) return BAD_NODE(i, "sub_root", x->sub_root);
    if (x->created_step < 0 || x->created_step > c->steps)
        return BAD_NODE(i, "created_step", x->created_step);
    if (x->left_step < -1 || x->left_step > c->steps) return BAD_NODE(i, "left_step", x->left_step);
    if (x->observed_step < -1 || x->observed_step > c->steps)
        return BAD_NODE(i, "observed_step", x->observed_step);
    if (x->flags & ~(uint32_t)COTHB_FLAGS_ALL) return BAD_NODE(i, "flags", x->flags);
    if ((x->flags & (COTHB_FLAG_COMPLETE | COTHB_FLAG_ANSWER)) && x->level != 0)
        return BAD_NODE(i, "flags (an answer below level 0)", x->flags);
    if (x->strategy < 0 || x->strategy >= c->next_strategy)
        return BAD_NODE(i, "strategy", x->strategy);
    if (x->rechecks < 0) return BAD_NODE(i, "rechecks", x->rechecks);
    if (x->n_evidence < 0) return BAD_NODE(i, "n_evidence", x->n_evidence);
    if (x->n_path < 0) return BAD_NODE(i, "n_path", x->n_path);
    for (int j = 0; j < COTHB_NSIG; j++)
        if (!valid_signal(x->signals[j])) return BAD_NODE(i, btfm_cothb_signal_name(j), x->signals[j]);
    if (!(x->beta_a > 0) || !isfinite(x->beta_a)) return BAD_NODE(i, "posterior a", x->beta_a);
    if (!(x->beta_b > 0) || !isfinite(x->beta_b)) return BAD_NODE(i, "posterior b", x->beta_b);
    if (!valid_signal(x->sub_reliability))
        return BAD_NODE(i, "sub-problem reliability", x->sub_reliability);
    /* Each further reading adds a logit of a probability clamped to [1e-9, 1 - 1e-9]. */
    double bound = 21 * (double)x->n_evidence + 1e-9, path_bound = 21 * (double)x->n_path + 1e-9;
    if (!(fabs(x->evidence_sum) <= bound)) return BAD_NODE(i, "evidence_sum", x->evidence_sum);
    if (!(fabs(x->path_sum) <= path_bound)) return BAD_NODE(i, "path_sum", x->path_sum);
    return BTFM_OK;
}

/* Children counts must match the parent links, answers the registered terminals. */
static btfm_status check_counts(const btfm_cothb *c)
{
    int64_t n = c->n_nodes;
    int32_t *children = btfm_calloc((size_t)n, sizeof *children);
    if (!children) return btfm_fail_nomem("btfm_cothb_load", (size_t)n * sizeof *children);
    for (int64_t i = 1; i < n; i++) children[c->nodes[i].parent]++;
    int64_t wrong = -1;
    for (int64_t i = 0; i < n && wrong < 0; i++)
        if (children[i] != c->nodes[i].n_children) wrong = i;
    btfm_free(children);
    if (wrong >= 0) return BAD_NODE(wrong, "n_children", c->nodes[wrong].n_children);
    int64_t complete = 0;
    for (int64_t i = 0; i < n; i++) complete += (c->nodes[i].flags & COTHB_FLAG_COMPLETE) != 0;
    if (complete != c->n_terminals) return BAD("answer count", c->n_terminals);
    for (int64_t t = 0; t < c->n_terminals; t++) {
        int64_t id = c->terminals[t];
        if (id < 0 || id >= n || !(c->nodes[id].flags & COTHB_FLAG_COMPLETE)) return BAD("answer node", id);
        for (int64_t u = 0; u < t; u++)
            if (c->terminals[u] == id) return BAD("answer node registered twice", id);
    }
    return BTFM_OK;
}

static btfm_status check_strategies(const btfm_cothb *c)
{
    if (c->n_strategies > (int64_t)c->params[BTFM_COTHB_PARAM_MONITORED] + 1)
        return BAD("strategy count", c->n_strategies);
    double total = c->other;
    int actor = 0;
    if (!(c->other >= 0 && c->other <= 1)) return BAD("other strategies' reliability", c->other);
    for (int64_t i = 0; i < c->n_strategies; i++) {
        const cothb_strategy *s = &c->strategies[i];
        if (s->id < 0 || s->id >= c->next_strategy) return BAD("strategy id", s->id);
        if (!(s->lambda >= 0 && s->lambda <= 1)) return BAD("strategy reliability", s->lambda);
        for (int64_t j = 0; j < i; j++)
            if (c->strategies[j].id == s->id) return BAD("strategy monitored twice", s->id);
        if (s->probe && s->id != c->actor) return BAD("probe that is not the actor", s->id);
        actor |= s->id == c->actor;
        total += s->lambda;
    }
    if (!actor) return BAD("actor", c->actor);
    if (!(fabs(total - 1) < 1e-6)) return BAD("sum of strategy reliabilities", total);
    return BTFM_OK;
}

btfm_status btfm_cothb_validate(const btfm_cothb *c)
{
    int64_t n = c->n_nodes;
    if (c->current < 0 || c->current >= n) return BAD("current", c->current);
    if (!node_ref(c->explore_from, n)) return BAD("explore_from", c->explore_from);
    if (c->pending < 0 || c->pending > BTFM_COTHB_DECOMPOSE) return BAD("pending", c->pending);
    if (c->pending ? (c->pending_node < 0 || c->pending_node >= n) : c->pending_node != -1)
        return BAD("pending_node", c->pending_node);
    if (c->pending_level < 0 || c->pending_level > 1000000) return BAD("pending_level", c->pending_level);
    if (c->finished != 0 && c->finished != BTFM_COTHB_ANSWER && c->finished != BTFM_COTHB_STOP)
        return BAD("finished", c->finished);
    if (!node_ref(c->final_node, n)) return BAD("final_node", c->final_node);
    if (c->mode < COTHB_MODE_NONE || c->mode > COTHB_MODE_LEAVE) return BAD("mode", c->mode);
    if (c->steps < 0) return BAD("steps", c->steps);
    if (!(c->cost >= 0) || !isfinite(c->cost)) return BAD("cost", c->cost);
    if (c->last_action < 0 || c->last_action > BTFM_COTHB_STOP) return BAD("last action", c->last_action);
    if (!node_ref(c->last_node, n)) return BAD("last node", c->last_node);
    if (!node_ref(c->last_target, n)) return BAD("last target", c->last_target);
    if (c->policy_fitted == 0 && c->params[BTFM_COTHB_PARAM_POLICY] == COTHB_POLICY_LOGISTIC)
        return BAD("policy (logistic without a fitted policy)", 1);
    if (c->learned_length < 0 || c->learned_length > 1e9) return BAD("learned path length", c->learned_length);
    if (c->revisit != -1 && (c->revisit < 0 || c->revisit >= n ||
                             !(c->nodes[c->revisit].flags & COTHB_FLAG_COMPLETE)))
        return BAD("revisited answer", c->revisit);
    if (c->read_count < 0 || !(c->read_sum >= 0 && c->read_sum <= (double)c->read_count))
        return BAD("first readings", c->read_sum);
    if (!(c->read_logit_sq >= 0 && isfinite(c->read_logit_sq)) || !isfinite(c->read_logit_sum) ||
        !(c->read_logit_sum * c->read_logit_sum <= c->read_logit_sq * (double)c->read_count * (1 + 1e-9) + 1e-9))
        return BAD("first readings' log-odds", c->read_logit_sq);
    if (c->path_read_count < 0 ||
        !(c->path_read_sum >= 0 && c->path_read_sum <= (double)c->path_read_count))
        return BAD("first path readings", c->path_read_sum);
    for (int64_t i = 0; i < c->n_monitored; i++) {
        if (c->monitored[i] < 0 || c->monitored[i] >= n ||
            c->nodes[c->monitored[i]].status != BTFM_COTHB_MONITORED)
            return BAD("monitored", c->monitored[i]);
        for (int64_t j = 0; j < i; j++)
            if (c->monitored[j] == c->monitored[i]) return BAD("monitored twice", c->monitored[i]);
    }
    btfm_status st = check_strategies(c);
    for (int64_t i = 0; !st && i < n; i++) st = check_node(c, i);
    if (!st) st = check_counts(c);
    if (st) return st;
    for (int h = 0; h < COTHB_NHEAD; h++) {
        if (!isfinite(c->policy_b[h])) return BAD("policy bias of head", h);
        for (int j = 0; j < COTHB_NSIG; j++)
            if (!isfinite(c->policy_w[h][j])) return BAD("policy weight of head", h);
    }
    for (int64_t i = 0; i < c->n_trace; i++) {
        const cothb_event *e = &c->trace[i];
        int strategy = e->type == COTHB_EVENT_STRATEGY;
        if (e->step < 0 || e->step > c->steps || (!strategy && (e->node < 0 || e->node >= n)) ||
            (strategy && (e->node < 0 || e->node >= c->next_strategy)) || !node_ref(e->target, n))
            return BAD("trace event", i);
        /* values: finite or NaN (not recorded); an added node's level is its own (the
         * trace writer prints it as an integer) */
        for (int j = 0; j < COTHB_NSIG; j++)
            if (isinf(e->values[j])) return BAD("trace value (infinite)", i);
        if (e->type == COTHB_EVENT_ADD && e->values[0] != (double)c->nodes[e->node].level)
            return BAD("trace event (level of an added node)", i);
    }
    return BTFM_OK;
}
