/* Strategies as in Collins & Koechlin (2012, PLoS Biology 10:e1001293), "PROBE": a small
 * monitored set of strategies (the ways a host can take a step), each with a reliability
 * lambda, the posterior probability that it is the one that currently works, plus the
 * probability `other` that none of them does. New steps are asked with the actor.
 *
 * Each piece of evidence about a step taken with strategy s (a calibrated reading r of
 * its correctness, or an outcome, 1 or 0) is one trial:
 *  1. volatility: the working strategy may have changed since the last trial,
 *        lambda_k <- (1 - tau) lambda_k + tau (1 - lambda_k) / (n - 1)
 *     over the n entries (the monitored strategies and `other`);
 *  2. Bayes: a working strategy's step fails with the slip rate eps, a wrong one's
 *     succeeds by chance g, so with base rate p0 the reading's likelihood is
 *        right: (1 - eps) r / p0 + eps (1 - r) / (1 - p0),
 *        wrong: g r / p0 + (1 - g) (1 - r) / (1 - p0)
 *     (an outcome o is the reading r = o); lambda_s takes the first, every other entry
 *     (they work only if s does not) the second; then normalize.
 *  3. the actor: exploit while lambda_actor > 1/2. Otherwise retrieve a monitored
 *     strategy with lambda > 1/2 if there is one (rejecting an unconfirmed actor);
 *     else explore: retry the most reliable monitored strategy not yet retried since
 *     the last confirmation (a probe drawn from memory, as Collins & Koechlin's probe
 *     mixes the strategies of long-term memory), and when every one was, create a
 *     probe: a new strategy with lambda = theta, the others scaled by 1 - theta, while
 *     the set (monitored + 1 strategies) has room; a full set is retried again, best
 *     first. An unconfirmed actor is
 *     confirmed once its lambda exceeds 1/2, and given up once it falls below theta/2.
 * Step evidence on a strategy other than the actor's does not distinguish among the
 * others (each of them works only if the actor does not), which is why exploring must
 * try them. A failure of a reliable actor is first taken for a slip; the posterior
 * leaves it after failures that slips no longer explain. */
#include <math.h>
#include "cothb_internal.h"

int64_t btfm_cothb_strategy_index(const btfm_cothb *c, int64_t id)
{
    for (int64_t i = 0; i < c->n_strategies; i++)
        if (c->strategies[i].id == id) return i;
    return -1;
}

static double theta(const btfm_cothb *c) { return c->params[BTFM_COTHB_PARAM_PROBE_PRIOR]; }

static void note(btfm_cothb *c, int event, int64_t strategy, double lambda)
{
    if (!c->params[BTFM_COTHB_PARAM_TRACE]) return;
    double values[1] = {lambda};
    /* A failed trace append loses one record, not the controller's state. */
    (void)btfm_cothb_trace_add(c, COTHB_EVENT_STRATEGY, event, strategy, -1, values, 1);
}

void btfm_cothb_strategies_init(btfm_cothb *c)
{
    c->n_strategies = 1;
    c->strategies[0].id = 0;
    c->strategies[0].lambda = 1 - theta(c);
    c->strategies[0].probe = 0;
    c->strategies[0].tried = 0;
    c->other = theta(c);
    c->actor = 0;
    c->next_strategy = 1;
}

static void remove_at(btfm_cothb *c, int64_t i)
{
    c->other += c->strategies[i].lambda;
    c->strategies[i] = c->strategies[--c->n_strategies];
}

/* A new probe becomes the actor (Collins & Koechlin's exploration). */
static void create_probe(btfm_cothb *c)
{
    int64_t capacity = (int64_t)c->params[BTFM_COTHB_PARAM_MONITORED] + 1;
    while (c->n_strategies >= capacity) { /* evict the least reliable non-actor */
        int64_t worst = -1;
        for (int64_t i = 0; i < c->n_strategies; i++)
            if (c->strategies[i].id != c->actor &&
                (worst < 0 || c->strategies[i].lambda < c->strategies[worst].lambda))
                worst = i;
        if (worst < 0) worst = 0;
        note(c, COTHB_STRATEGY_EVICT, c->strategies[worst].id, c->strategies[worst].lambda);
        remove_at(c, worst);
    }
    double t = theta(c);
    for (int64_t i = 0; i < c->n_strategies; i++) c->strategies[i].lambda *= 1 - t;
    c->other *= 1 - t;
    cothb_strategy *s = &c->strategies[c->n_strategies++];
    s->id = c->next_strategy++;
    s->lambda = t;
    s->probe = 1;
    s->tried = 1;
    c->actor = s->id;
    note(c, COTHB_STRATEGY_CREATE, s->id, t);
}

/* Step 3: keep, confirm, retrieve or explore. */
static void choose_actor(btfm_cothb *c)
{
    int64_t a = btfm_cothb_strategy_index(c, c->actor), reliable = -1, retry = -1;
    for (int64_t i = 0; i < c->n_strategies; i++) {
        const cothb_strategy *k = &c->strategies[i];
        if (i == a) continue;
        if (k->lambda > 0.5) reliable = i;
        /* Retried only if it is at least as promising as a new strategy would be. */
        if (!k->tried && k->lambda >= theta(c) &&
            (retry < 0 || k->lambda > c->strategies[retry].lambda))
            retry = i;
    }
    if (a >= 0 && c->strategies[a].lambda > 0.5) {
        cothb_strategy *s = &c->strategies[a];
        if (s->probe) {
            s->probe = 0;
            note(c, COTHB_STRATEGY_CONFIRM, s->id, s->lambda);
        }
        for (int64_t i = 0; i < c->n_strategies; i++) c->strategies[i].tried = 0;
        return;
    }
    if (a >= 0 && c->strategies[a].probe && reliable < 0 && c->strategies[a].lambda >= theta(c) / 2)
        return; /* an unconfirmed actor still learning */
    if (a >= 0) {
        cothb_strategy *s = &c->strategies[a];
        s->tried = 1;
        if (s->probe) {
            s->probe = 0;
            note(c, reliable >= 0 ? COTHB_STRATEGY_REJECT : COTHB_STRATEGY_GIVE_UP, s->id, s->lambda);
        }
    }
    int64_t next = reliable >= 0 ? reliable : retry;
    if (next < 0 && c->n_strategies >= (int64_t)c->params[BTFM_COTHB_PARAM_MONITORED] + 1) {
        /* A full set, every member retried: retry them again, best first, rather than
         * evicting one for a stranger. */
        for (int64_t i = 0; i < c->n_strategies; i++)
            if (i != a && (next < 0 || c->strategies[i].lambda > c->strategies[next].lambda))
                next = i;
    }
    if (next >= 0) {
        cothb_strategy *k = &c->strategies[next];
        c->actor = k->id;
        k->tried = 1;
        k->probe = reliable < 0; /* a retry: unconfirmed until reliable again */
        note(c, COTHB_STRATEGY_RETRIEVE, k->id, k->lambda);
        return;
    }
    create_probe(c);
}

btfm_status btfm_cothb_strategy_update(btfm_cothb *c, int64_t strategy, double reading)
{
    int64_t s = btfm_cothb_strategy_index(c, strategy);
    if (s < 0) return BTFM_OK; /* a strategy no longer monitored: nothing to update */
    double tau = c->params[BTFM_COTHB_PARAM_VOLATILITY];
    double eps = c->params[BTFM_COTHB_PARAM_SLIP], g = c->params[BTFM_COTHB_PARAM_CHANCE];
    double p0 = btfm_cothb_base_rate(c);
    double r = fmin(fmax(reading, 0), 1);
    double n = (double)c->n_strategies + 1;
    double right = (1 - eps) * r / p0 + eps * (1 - r) / (1 - p0);
    double wrong = g * r / p0 + (1 - g) * (1 - r) / (1 - p0);
    double total = 0;
    for (int64_t i = 0; i < c->n_strategies; i++) {
        cothb_strategy *k = &c->strategies[i];
        k->lambda = (1 - tau) * k->lambda + tau * (1 - k->lambda) / (n - 1);
        k->lambda *= i == s ? right : wrong;
        total += k->lambda;
    }
    c->other = ((1 - tau) * c->other + tau * (1 - c->other) / (n - 1)) * wrong;
    total += c->other;
    if (!(total > 0) || !isfinite(total)) return BTFM_OK; /* impossible evidence: ignore */
    for (int64_t i = 0; i < c->n_strategies; i++) c->strategies[i].lambda /= total;
    c->other /= total;
    choose_actor(c);
    return BTFM_OK;
}

btfm_status btfm_cothb_node_strategy(const btfm_cothb *c, int64_t node, int64_t *strategy)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_node_strategy", "controller");
    BTFM_CHECK_ARG(strategy, "btfm_cothb_node_strategy", "strategy");
    btfm_status st = btfm_cothb_check_node(c, node, "btfm_cothb_node_strategy");
    if (st) return st;
    *strategy = c->nodes[node].strategy;
    return BTFM_OK;
}

int64_t btfm_cothb_n_strategies(const btfm_cothb *c)
{
    if (!c) return btfm_fail(BTFM_E_INVALID, "btfm_cothb_n_strategies: controller is NULL");
    return c->next_strategy;
}

btfm_status btfm_cothb_strategy_info(const btfm_cothb *c, int64_t strategy, double *reliability,
                                     int *state)
{
    static const char func[] = "btfm_cothb_strategy_info";
    BTFM_CHECK_ARG(c, func, "controller");
    if (strategy < 0 || strategy >= c->next_strategy)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: strategy %lld does not exist (strategies 0 to "
                         "%lld so far)", func, (long long)strategy, (long long)c->next_strategy - 1);
    int64_t i = btfm_cothb_strategy_index(c, strategy);
    if (reliability) *reliability = i < 0 ? NAN : c->strategies[i].lambda;
    if (state)
        *state = i < 0 ? BTFM_COTHB_STRATEGY_FORGOTTEN
                 : strategy == c->actor ? (c->strategies[i].probe ? BTFM_COTHB_STRATEGY_PROBE
                                                                  : BTFM_COTHB_STRATEGY_ACTOR)
                                        : BTFM_COTHB_STRATEGY_MONITORED;
    return BTFM_OK;
}
