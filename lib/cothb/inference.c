/* Reliability inference from step outcomes, in the spirit of Collins & Koechlin 2012
 * (PLoS Biology 10:e1001293): each monitored strategy (here: each step of a path) has a
 * reliability, the probability that it is the right one, updated by Bayes' rule from the
 * outcomes it produces.
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

double btfm_cothb_uniform(btfm_cothb *c)
{
    return (double)(btfm_splitmix64(&c->rng) >> 11) * 0x1.0p-53;
}
