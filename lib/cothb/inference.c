/* Reliability of a step. The thresholds and logistic policies (release 1.2) keep a Beta
 * posterior of each step's outcomes:
 *
 * A step's success is Bernoulli(p) with a conjugate Beta(a0, b0) prior (a0 =
 * prior_success, b0 = prior_failure). An outcome o in [0, 1] (1 success, 0 failure,
 * fractions for graded evidence) is a fractional observation:
 *     a <- a + o,   b <- b + (1 - o),
 * and the reliability is the posterior mean  lambda = a / (a + b).
 * With s successes and f failures this is (a0 + s) / (a0 + b0 + s + f), the closed form
 * the tests check. */
#include <math.h>
#include "cothb_internal.h"
#include "core/random.h"

void btfm_cothb_update_outcome(cothb_node *n, double outcome)
{
    n->beta_a += outcome;
    n->beta_b += 1.0 - outcome;
}

/* The order says which evidence is most direct: a finished sub-problem settled the step
 * (that is what decomposition is for), then the host's own reliability estimate, then
 * what the outcomes imply. */
double btfm_cothb_inferred_reliability(const btfm_cothb *c, const cothb_node *n)
{
    (void)c;
    if (!isnan(n->sub_reliability)) return n->sub_reliability;
    double r = n->signals[BTFM_COTHB_SIGNAL_RELIABILITY];
    if (!isnan(r)) return r;
    return n->beta_a / (n->beta_a + n->beta_b);
}

/* The budget policy's evidence. A calibrated reading r of a step means P(correct | its
 * signal) = r for a step drawn at the base rate p0, so its log likelihood ratio is
 * logit(r) - logit(p0), and independent readings of one step (its own reliability
 * signal, each returned re-check, each outcome) add up:
 *     logit(reliability) = logit(r_own or p0) + sum over the further readings of
 *                          (logit(r_j) - logit(p0)).
 * The base rate is the base_rate parameter, else the calibration's, else the mean of
 * the first readings of fresh steps (which is p0 when they are calibrated), shrunk
 * toward 1/2 by one pseudo-reading. Whole-path readings combine the same way against the
 * mean of the first path readings. A path's probability is its terminal's path evidence
 * when there is some, else the product of its level-0 steps' reliabilities (steps
 * without evidence at the base rate). */
double btfm_cothb_logit(double p)
{
    p = fmin(fmax(p, 1e-9), 1 - 1e-9);
    return log(p / (1 - p));
}

static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }
static double clamp_rate(double p) { return fmin(fmax(p, 0.01), 0.99); }

double btfm_cothb_base_rate(const btfm_cothb *c)
{
    double b = c->params[BTFM_COTHB_PARAM_BASE_RATE];
    if (b > 0) return clamp_rate(b);
    if (c->map.method != BTFM_COTHB_CALIBRATION_NONE) return clamp_rate(c->map.base_rate);
    if (c->features.n) return clamp_rate(c->features.base_rate);
    return clamp_rate((c->read_sum + 0.5) / ((double)c->read_count + 1));
}

double btfm_cothb_path_base_rate(const btfm_cothb *c)
{
    return clamp_rate((c->path_read_sum + 0.5) / ((double)c->path_read_count + 1));
}

int btfm_cothb_has_evidence(const cothb_node *n)
{
    return !isnan(n->signals[BTFM_COTHB_SIGNAL_RELIABILITY]) || n->n_evidence > 0;
}

double btfm_cothb_evidence(const btfm_cothb *c, const cothb_node *n)
{
    double base = btfm_cothb_logit(btfm_cothb_base_rate(c));
    double own = n->signals[BTFM_COTHB_SIGNAL_RELIABILITY];
    if (c->reading_mapped && c->map.method == BTFM_COTHB_CALIBRATION_NONE && !c->features.n) {
        /* uncalibrated readings (agreement.c) */
        double a = c->reading_slope, m = c->reading_center;
        return sigmoid(base + (isnan(own) ? 0 : a * (btfm_cothb_logit(own) - m)) +
                       a * (n->evidence_sum - (double)n->n_evidence * m));
    }
    double z = (isnan(own) ? base : btfm_cothb_logit(own)) + n->evidence_sum -
               (double)n->n_evidence * base;
    return sigmoid(z);
}

double btfm_cothb_path_probability(const btfm_cothb *c, int64_t terminal)
{
    const cothb_node *t = &c->nodes[terminal];
    double own = t->signals[BTFM_COTHB_SIGNAL_PATH];
    if (!isnan(own) || t->n_path > 0) {
        double base = btfm_cothb_logit(btfm_cothb_path_base_rate(c));
        return sigmoid((isnan(own) ? base : btfm_cothb_logit(own)) + t->path_sum -
                       (double)t->n_path * base);
    }
    double log_p = 0;
    for (int64_t id = terminal; id > 0; id = c->nodes[id].parent)
        if (c->nodes[id].level == 0) log_p += log(btfm_cothb_evidence(c, &c->nodes[id]));
    return exp(log_p);
}

double btfm_cothb_policy_reliability(const btfm_cothb *c, const cothb_node *n)
{
    if (c->params[BTFM_COTHB_PARAM_POLICY] == COTHB_POLICY_BUDGET) return btfm_cothb_evidence(c, n);
    return btfm_cothb_inferred_reliability(c, n);
}

void btfm_cothb_note_observation(btfm_cothb *c, cothb_node *n, const double *signals,
                                 int n_signals)
{
    if (n->level != 0) return; /* re-check readings come back with their RETURN */
    int probe = c->params[BTFM_COTHB_PARAM_PROBE] != 0;
    double r = signals[BTFM_COTHB_SIGNAL_RELIABILITY];
    if (!isnan(r) && !(n->flags & COTHB_FLAG_READ)) {
        n->flags |= COTHB_FLAG_READ;
        c->read_sum += r;
        c->read_count++;
        double z = btfm_cothb_logit(r);
        c->read_logit_sum += z;
        c->read_logit_sq += z * z;
        if (probe) btfm_cothb_strategy_update(c, n->strategy, r);
    }
    if (n_signals > BTFM_COTHB_SIGNAL_OUTCOME && !isnan(signals[BTFM_COTHB_SIGNAL_OUTCOME])) {
        double o = signals[BTFM_COTHB_SIGNAL_OUTCOME];
        n->evidence_sum += btfm_cothb_logit(o);
        n->n_evidence++;
        if (probe) btfm_cothb_strategy_update(c, n->strategy, o);
    }
    if (n_signals > BTFM_COTHB_SIGNAL_PATH && !isnan(signals[BTFM_COTHB_SIGNAL_PATH]) &&
        !(n->flags & COTHB_FLAG_PATH_READ)) {
        n->flags |= COTHB_FLAG_PATH_READ;
        c->path_read_sum += signals[BTFM_COTHB_SIGNAL_PATH];
        c->path_read_count++;
    }
}

void btfm_cothb_combine_recheck(btfm_cothb *c, int64_t target, const cothb_node *sub)
{
    cothb_node *t = &c->nodes[target];
    double r = sub->signals[BTFM_COTHB_SIGNAL_RELIABILITY];
    double path = sub->signals[BTFM_COTHB_SIGNAL_PATH];
    btfm_cothb_note_recheck(c, t, r);
    if (!isnan(r)) {
        t->evidence_sum += btfm_cothb_logit(r);
        t->n_evidence++;
    }
    if (!isnan(path)) {
        t->path_sum += btfm_cothb_logit(path);
        t->n_path++;
    }
    t->rechecks++;
}

double btfm_cothb_uniform(btfm_cothb *c)
{
    return (double)(btfm_splitmix64(&c->rng) >> 11) * 0x1.0p-53;
}
