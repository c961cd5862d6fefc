/* The budget policy (policy 2, the default): a search that knows what it may still spend
 * (max_cost, max_steps, max_nodes) and how many steps a path still needs (path_length,
 * or the depth of the first answer), and never starts what it cannot finish.
 *
 * Each step is accepted, re-checked (a sub-problem: one more independent reading,
 * combined with the others in log-odds) or re-sampled (an alternative child of its
 * parent) by optimal stopping under the signal's estimated sensitivity (plan.c), with
 * the budget that finishing the path leaves; with planning off, a step at or above
 * continue_threshold is accepted and one below it re-checked if it is at least
 * branch_threshold (and has re-checks left), else re-sampled, while the budget leaves
 * room to finish the path. Candidates left behind stay monitored, and once nothing can
 * be spent on the step the most reliable of them is taken (retrieved). A finished path
 * adds its answer to the vote (answers.c). With budget left, the weakest step of the
 * path is re-checked or re-sampled with a new suffix when that pays (optimal stopping
 * for that step, or the thresholds), else a new path is started, until the voted answer
 * is probable enough (stop_confidence) or nothing more fits; the search then answers
 * with the voted answer, and stops without one only if no path was finished. While the
 * estimated d' is below min_dprime the readings cannot improve a step: every step is
 * accepted and spare budget goes to new paths (self-consistency through the vote). */
#include <math.h>
#include "cothb_internal.h"

static double param(const btfm_cothb *c, int p) { return c->params[p]; }

/* Whether `extends` EXTENDs, `branches` BRANCHes, `rechecks` re-checks (DECOMPOSE and
 * RETURN) and `others` further actions fit in the cost, action and node budgets, one
 * action being kept for the final answer. */
static int affordable(const btfm_cothb *c, int64_t extends, int64_t branches, int64_t rechecks,
                      int64_t others)
{
    double other = param(c, BTFM_COTHB_PARAM_COST_OTHER);
    double cost = (double)extends * param(c, BTFM_COTHB_PARAM_COST_EXTEND) +
                  (double)branches * param(c, BTFM_COTHB_PARAM_COST_BRANCH) +
                  (double)rechecks * (param(c, BTFM_COTHB_PARAM_COST_DECOMPOSE) + other) +
                  (double)others * other;
    double actions = (double)(extends + branches + 2 * rechecks + others);
    double nodes = (double)(extends + branches + rechecks);
    return c->cost + cost <= param(c, BTFM_COTHB_PARAM_MAX_COST) &&
           (double)c->steps + actions + 1 <= param(c, BTFM_COTHB_PARAM_MAX_STEPS) &&
           (double)c->n_nodes + nodes <= param(c, BTFM_COTHB_PARAM_MAX_NODES);
}

static int64_t path_length(const btfm_cothb *c)
{
    int64_t length = (int64_t)param(c, BTFM_COTHB_PARAM_PATH_LENGTH);
    return length > 0 ? length : c->learned_length;
}

/* EXTENDs still needed after accepting a step at `depth` (one when unknown). */
static int64_t to_finish(const btfm_cothb *c, int depth)
{
    int64_t length = path_length(c);
    return length > depth ? length - depth : 1;
}

static double reliability(const btfm_cothb *c, int64_t id)
{
    return btfm_cothb_evidence(c, &c->nodes[id]);
}

static int has_room(const btfm_cothb *c, int64_t id)
{
    const cothb_node *n = &c->nodes[id];
    return n->status != BTFM_COTHB_ABANDONED && n->n_children < param(c, BTFM_COTHB_PARAM_MAX_BREADTH) &&
           n->depth + 1 <= param(c, BTFM_COTHB_PARAM_MAX_DEPTH);
}

static void set(cothb_plan *p, int action, int64_t node, int64_t target, int close_status)
{
    p->action = action;
    p->node = node;
    p->target = target;
    p->close_status = close_status;
}

/* The end: the voted answer, or STOP when no path was finished. */
void btfm_cothb_plan_finish(const btfm_cothb *c, cothb_plan *p)
{
    double probability;
    int64_t best = btfm_cothb_best_answer(c, &probability);
    if (best >= 0) {
        set(p, BTFM_COTHB_ANSWER, best, -1, -1);
        p->value = probability;
    } else {
        set(p, BTFM_COTHB_STOP, c->current, -1, -1);
    }
}

static void extend(const btfm_cothb *c, cothb_plan *p, int64_t id)
{
    if (!affordable(c, 1, 0, 0, 0) || !has_room(c, id)) {
        btfm_cothb_plan_finish(c, p);
        return;
    }
    set(p, BTFM_COTHB_EXTEND, id, -1, -1);
    p->new_level = c->nodes[id].level;
    p->drop_siblings = 1; /* the step is taken: its left-behind candidates are done */
}

/* The most reliable candidate for the step `id` takes: itself or a monitored sibling. */
static int64_t best_candidate(const btfm_cothb *c, int64_t id)
{
    int64_t best = id;
    double r = reliability(c, id);
    for (int64_t i = 0; i < c->n_monitored; i++) {
        int64_t m = c->monitored[i];
        if (c->nodes[m].parent == c->nodes[id].parent && reliability(c, m) > r) {
            best = m;
            r = reliability(c, m);
        }
    }
    return best;
}

/* A step of a sub-problem (a re-check): go on until its terminal step, then return. */
static void plan_sub_problem(const btfm_cothb *c, cothb_plan *p)
{
    int64_t cur = c->current;
    const cothb_node *n = &c->nodes[cur];
    if (n->signals[BTFM_COTHB_SIGNAL_TERMINAL] >= 0.5 || !affordable(c, 1, 0, 0, 1) ||
        !has_room(c, cur)) {
        set(p, BTFM_COTHB_RETURN, cur, n->sub_root, BTFM_COTHB_CONFIRMED);
        p->value = reliability(c, cur);
        return;
    }
    set(p, BTFM_COTHB_EXTEND, cur, -1, -1);
    p->new_level = n->level;
}

/* The weakest step with evidence on the path ending at `terminal` (-1 if none). */
static int64_t weakest_step(const btfm_cothb *c, int64_t terminal)
{
    int64_t weakest = -1;
    double lowest = 2;
    for (int64_t id = terminal; id > 0; id = c->nodes[id].parent) {
        const cothb_node *n = &c->nodes[id];
        if (n->level != 0 || !btfm_cothb_has_evidence(n)) continue;
        double r = reliability(c, id);
        if (r < lowest) {
            lowest = r;
            weakest = id;
        }
    }
    return weakest;
}

/* Whether the readings carry enough to steer single steps (min_dprime); else spare budget
 * goes to independent paths, settled by the vote. */
static int signal_steers(btfm_cothb *c)
{
    return btfm_cothb_signal_dprime(c) >= param(c, BTFM_COTHB_PARAM_MIN_DPRIME);
}

/* Re-samples that fit beyond the `rest` EXTENDs a path still needs. */
static int64_t spare_steps(const btfm_cothb *c, int64_t rest)
{
    double unit = fmax(param(c, BTFM_COTHB_PARAM_COST_BRANCH), 1e-12);
    double cost = (param(c, BTFM_COTHB_PARAM_MAX_COST) - c->cost -
                   (double)rest * param(c, BTFM_COTHB_PARAM_COST_EXTEND)) / unit;
    double actions = param(c, BTFM_COTHB_PARAM_MAX_STEPS) - (double)c->steps - 1 - (double)rest;
    double nodes = param(c, BTFM_COTHB_PARAM_MAX_NODES) - (double)c->n_nodes - (double)rest;
    double spare = fmin(fmin(cost, actions / 2), nodes); /* a re-check takes two actions */
    return spare < 1 ? 0 : spare > 1e9 ? 1000000000 : (int64_t)spare;
}

/* What to do with step `id` of a finished path (the rest of the path being fixed): accept
 * it, re-check it or re-sample it with a new suffix. With planning, by optimal stopping
 * for the one step with the whole spare budget; else re-check between the thresholds,
 * re-sample below branch_threshold. Only what fits is chosen. */
static int revisit_choice(btfm_cothb *c, int64_t id)
{
    const cothb_node *n = &c->nodes[id];
    double r = reliability(c, id);
    int64_t suffix = path_length(c) - n->depth;
    int can_recheck = n->rechecks < param(c, BTFM_COTHB_PARAM_RECHECKS) &&
                      affordable(c, 0, 0, 1, 1) && has_room(c, id);
    int can_resample = n->parent >= 0 && has_room(c, n->parent) &&
                       affordable(c, suffix > 0 ? suffix : 0, 1, 0, 0);
    if (!signal_steers(c)) return COTHB_STEP_ACCEPT;
    int choice = param(c, BTFM_COTHB_PARAM_PLANNING) != 0
                     ? btfm_cothb_plan_step(c, r, spare_steps(c, 0), 1, can_recheck) : -1;
    if (choice == COTHB_STEP_RESAMPLE && !can_resample)
        return can_recheck ? COTHB_STEP_RECHECK : COTHB_STEP_ACCEPT;
    if (choice >= 0) return choice;
    /* Thresholds (or no memory for the planning tables). */
    if (r >= param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD)) return COTHB_STEP_ACCEPT;
    if (r >= param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD) && can_recheck) return COTHB_STEP_RECHECK;
    return can_resample ? COTHB_STEP_RESAMPLE : COTHB_STEP_ACCEPT;
}

/* Back at a step of a finished path after re-checking it: re-check it again, re-sample
 * it with a new suffix, or resume the path. */
static void plan_revisit(btfm_cothb *c, cothb_plan *p)
{
    int64_t cur = c->current, terminal = c->revisit;
    const cothb_node *n = &c->nodes[cur];
    int choice = revisit_choice(c, cur);
    if (choice == COTHB_STEP_RECHECK) {
        set(p, BTFM_COTHB_DECOMPOSE, cur, -1, -1);
        p->new_level = n->level + 1;
    } else if (choice == COTHB_STEP_RESAMPLE) {
        set(p, BTFM_COTHB_BRANCH, n->parent, cur, -1);
        p->new_level = 0;
        p->end_revisit = 1;
    } else {
        set(p, BTFM_COTHB_RETRIEVE, terminal, cur, -1);
        p->end_revisit = 1;
    }
}

/* A path is finished: answer, or spend what is left on its weakest step or a new path. */
static void plan_after_path(btfm_cothb *c, cothb_plan *p)
{
    int64_t cur = c->current;
    double probability;
    int64_t best = btfm_cothb_best_answer(c, &probability);
    if (best >= 0 && probability >= param(c, BTFM_COTHB_PARAM_STOP_CONFIDENCE)) {
        set(p, BTFM_COTHB_ANSWER, best, -1, -1);
        p->value = probability;
        return;
    }
    int64_t w = weakest_step(c, cur), length = path_length(c);
    int choice = w >= 0 ? revisit_choice(c, w) : COTHB_STEP_ACCEPT;
    if (choice == COTHB_STEP_RECHECK) {
        set(p, BTFM_COTHB_DECOMPOSE, w, cur, COTHB_CLOSE_KEEP);
        p->new_level = c->nodes[w].level + 1;
        p->start_revisit = 1;
        return;
    }
    if (choice == COTHB_STEP_RESAMPLE) {
        set(p, BTFM_COTHB_BRANCH, c->nodes[w].parent, cur, COTHB_CLOSE_KEEP);
        p->new_level = 0;
        return;
    }
    if (length > 0 && has_room(c, 0) && affordable(c, length - 1, 1, 0, 0)) {
        set(p, BTFM_COTHB_BRANCH, 0, cur, COTHB_CLOSE_KEEP);
        p->new_level = 0;
        return;
    }
    btfm_cothb_plan_finish(c, p);
}

/* The step at the current leaf by optimal stopping (plan.c): 1 when a plan was made,
 * 0 to fall back to the thresholds (no memory for the tables). */
static int plan_step(btfm_cothb *c, cothb_plan *p)
{
    int64_t cur = c->current, best = best_candidate(c, cur);
    const cothb_node *n = &c->nodes[cur];
    int64_t rest = to_finish(c, n->depth);
    int can_recheck = best == cur && n->rechecks < param(c, BTFM_COTHB_PARAM_RECHECKS) &&
                      has_room(c, cur);
    int choice = btfm_cothb_plan_step(c, reliability(c, best), spare_steps(c, rest), rest + 1,
                                      can_recheck);
    if (choice < 0) return 0;
    if (choice == COTHB_STEP_RESAMPLE && (!has_room(c, n->parent) || !affordable(c, rest, 1, 0, 0)))
        choice = COTHB_STEP_ACCEPT;
    if (choice == COTHB_STEP_RECHECK && !affordable(c, rest, 0, 1, 0)) choice = COTHB_STEP_ACCEPT;
    if (choice == COTHB_STEP_RECHECK) {
        set(p, BTFM_COTHB_DECOMPOSE, cur, -1, -1);
        p->new_level = n->level + 1;
    } else if (choice == COTHB_STEP_RESAMPLE) {
        set(p, BTFM_COTHB_BRANCH, n->parent, cur, BTFM_COTHB_MONITORED);
        p->new_level = 0;
    } else if (best != cur) {
        set(p, BTFM_COTHB_RETRIEVE, best, cur, BTFM_COTHB_MONITORED);
    } else {
        extend(c, p, cur);
    }
    return 1;
}

void btfm_cothb_plan_budget(btfm_cothb *c, cothb_plan *p)
{
    int64_t cur = c->current;
    const cothb_node *n = &c->nodes[cur];
    set(p, BTFM_COTHB_STOP, cur, -1, -1);
    p->value = cur == 0 ? 1 : reliability(c, cur);
    p->mode = COTHB_MODE_NONE;
    if (n->level > 0) {
        plan_sub_problem(c, p);
        return;
    }
    if (c->revisit >= 0 && cur != c->revisit) {
        plan_revisit(c, p);
        return;
    }
    if (n->flags & COTHB_FLAG_COMPLETE) {
        plan_after_path(c, p);
        return;
    }
    if (cur == 0) {
        extend(c, p, cur);
        return;
    }
    double r = p->value, tau = param(c, BTFM_COTHB_PARAM_CONTINUE_THRESHOLD);
    if (!btfm_cothb_has_evidence(n)) {
        extend(c, p, cur);
        return;
    }
    if (param(c, BTFM_COTHB_PARAM_PLANNING) != 0 && plan_step(c, p)) return;
    if (r >= tau || !signal_steers(c)) {
        extend(c, p, cur);
        return;
    }
    /* Below the threshold: spend on this step what leaves enough to finish the path. */
    int64_t rest = to_finish(c, n->depth);
    if (r >= param(c, BTFM_COTHB_PARAM_BRANCH_THRESHOLD) &&
        n->rechecks < param(c, BTFM_COTHB_PARAM_RECHECKS) && affordable(c, rest, 0, 1, 0) &&
        has_room(c, cur)) {
        set(p, BTFM_COTHB_DECOMPOSE, cur, -1, -1);
        p->new_level = n->level + 1;
        return;
    }
    if (has_room(c, n->parent) && affordable(c, rest, 1, 0, 0)) {
        set(p, BTFM_COTHB_BRANCH, n->parent, cur, BTFM_COTHB_MONITORED);
        p->new_level = 0;
        return;
    }
    int64_t best = best_candidate(c, cur);
    if (best != cur) {
        set(p, BTFM_COTHB_RETRIEVE, best, cur, BTFM_COTHB_MONITORED);
        return;
    }
    extend(c, p, cur);
}
