/* Budget-aware steps as optimal stopping (the budget policy with planning on): each
 * step's candidates are accepted, re-read or replaced so as to maximize the probability
 * that the finished path is right, the budget being shared by the steps still to take.
 *
 * Readings follow equal-variance Gaussian signal detection: a fresh step is right with
 * the base rate p0, the log-likelihood ratio of its reading is N(+d'^2/2, d'^2) when it
 * is right and N(-d'^2/2, d'^2) when it is wrong, and a calibrated reliability is
 * r = sigmoid(logit p0 + LLR). d' is the calibration's (when one is fitted) or the
 * posterior mean given the spread of the first readings of fresh steps (kept across
 * btfm_cothb_reset: they describe the host's signal). Backward induction over the spare
 * budget s (steps beyond those the path still needs), the steps left m and the
 * reliability b of the best candidate for the current step:
 *     W(b, s, m) = max { b V(s, m - 1),                         accept
 *                        sum_k P(r_k) W(max(b, r_k), s - 1, m),   re-sample (best kept)
 *                        sum_k P(r_k | b) W(b + r_k, s - 1, m) }  re-check (log-odds sum)
 *     V(s, m) = sum_k P(r_k) W(r_k, s, m),   V(s, 0) = 1,
 * on 32 bins of log-odds; the last four tables are kept, on a coarse grid of (p0, d'),
 * so a search computes few of them (about 3 ms each). */
#include <math.h>
#include <string.h>
#include "cothb_internal.h"

#define BINS 32
#define MAX_SPARE 48
#define MAX_STEPS 32

struct cothb_plan_table {
    double p0, dprime;
    int spare, steps;
    double lo, width;                /* bin centres lo + (k + 1/2) width (log-odds) */
    double pr[BINS], ok[BINS], bad[BINS];
    double v[MAX_SPARE + 1][MAX_STEPS + 1];
    double w[MAX_STEPS + 1][MAX_SPARE + 1][BINS];
};

static double normal_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

/* W at log-odds z (linear between bin centres, flat beyond the ends). */
static double w_at(const cothb_plan_table *t, int m, int s, double z)
{
    double x = (z - t->lo) / t->width - 0.5;
    if (x <= 0) return t->w[m][s][0];
    if (x >= BINS - 1) return t->w[m][s][BINS - 1];
    int k = (int)x;
    double f = x - k;
    return (1 - f) * t->w[m][s][k] + f * t->w[m][s][k + 1];
}

static void build(cothb_plan_table *t)
{
    double lp = btfm_cothb_logit(t->p0), d = t->dprime, mu = d * d / 2;
    t->lo = lp - mu - 4 * d;
    t->width = (2 * mu + 8 * d) / BINS;
    for (int k = 0; k < BINS; k++) {
        double a = k == 0 ? -INFINITY : t->lo + k * t->width;
        double b = k == BINS - 1 ? INFINITY : t->lo + (k + 1) * t->width;
        t->ok[k] = normal_cdf((b - lp - mu) / d) - normal_cdf((a - lp - mu) / d);
        t->bad[k] = normal_cdf((b - lp + mu) / d) - normal_cdf((a - lp + mu) / d);
        t->pr[k] = t->p0 * t->ok[k] + (1 - t->p0) * t->bad[k];
    }
    for (int s = 0; s <= t->spare; s++) t->v[s][0] = 1;
    for (int m = 1; m <= t->steps; m++) {
        for (int s = 0; s <= t->spare; s++) {
            for (int i = 0; i < BINS; i++) {
                double zi = t->lo + (i + 0.5) * t->width, b = sigmoid(zi);
                double best = b * t->v[s][m - 1];
                if (s > 0) {
                    double resample = 0, recheck = 0;
                    for (int k = 0; k < BINS; k++) {
                        resample += t->pr[k] * t->w[m][s - 1][k > i ? k : i];
                        double zk = t->lo + (k + 0.5) * t->width - lp;
                        recheck += (b * t->ok[k] + (1 - b) * t->bad[k]) * w_at(t, m, s - 1, zi + zk);
                    }
                    if (resample > best) best = resample;
                    if (recheck > best) best = recheck;
                }
                t->w[m][s][i] = best;
            }
            double v = 0;
            for (int k = 0; k < BINS; k++) v += t->pr[k] * t->w[m][s][k];
            t->v[s][m] = v;
        }
    }
}

/* d' from the calibration, else from the spread of the first readings of the search:
 * their log-odds have variance v(d) = d^2 + p0 (1 - p0) d^4 (the LLR is +-d^2/2 + d Z),
 * and with n readings of sample variance s^2, (n - 1) s^2 / v is chi-square with n - 1
 * degrees of freedom. The posterior mean of d over a grid (flat prior on [0, 3]), with
 * v floored at 0.1^2 (readings known to 0.1 in log-odds), so that readings that never
 * vary (a calibrated host whose signal carries nothing) give d near 0 within a few
 * steps, and readings that vary give d as their spread says.
 * The spread speaks for d' only if the readings are calibrated; re-checks say how much
 * readings of one step agree whatever their scale (agreement.c). When they favour
 * another d' than the spread's by a Bayes factor above 10 (their likelihood averaged over
 * the grid against its value at the spread's d'), as raw scores that vary but carry
 * nothing do, and there are at least 100 of them, d' is their posterior mean instead. */
#define AGREEMENT_BAYES_FACTOR 10
/* Fewer re-checks never overrule the spread: readings far from the Gaussian model (a
 * verifier's 0.05 / 0.5 / 0.95 verdicts) can give a few re-checks a large Bayes factor. */
#define AGREEMENT_MIN_RECHECKS 100

static double grid_mean(const double *loglik)
{
    double top = -INFINITY, mass = 0, mean = 0;
    for (int i = 0; i <= COTHB_DPRIME_GRID; i++) top = fmax(top, loglik[i]);
    for (int i = 0; i <= COTHB_DPRIME_GRID; i++) {
        double w = exp(loglik[i] - top);
        mass += w;
        mean += w * i * COTHB_DPRIME_STEP;
    }
    return mean / mass;
}

/* The re-checks' d' when they contradict the spread's estimate `spread` (readings are
 * then mapped to calibrated log-likelihood ratios), else `spread`. */
static double checked_by_agreement(btfm_cothb *c, double p0, double spread)
{
    double loglik[COTHB_DPRIME_GRID + 1];
    c->reading_mapped = 0;
    if (btfm_cothb_agreement(c, p0, loglik) < AGREEMENT_MIN_RECHECKS) return spread;
    double x = fmin(spread / COTHB_DPRIME_STEP, COTHB_DPRIME_GRID);
    int k = (int)fmin(floor(x), COTHB_DPRIME_GRID - 1);
    double at = loglik[k] + (x - k) * (loglik[k + 1] - loglik[k]), average = 0;
    for (int i = 0; i <= COTHB_DPRIME_GRID; i++) average += exp(fmin(loglik[i] - at, 700));
    average /= COTHB_DPRIME_GRID + 1;
    if (!(average > AGREEMENT_BAYES_FACTOR)) return spread;
    double d = grid_mean(loglik);
    c->reading_mapped = 1;
    btfm_cothb_agreement_map(c, d, &c->reading_slope, &c->reading_center);
    return d;
}

double btfm_cothb_signal_dprime(btfm_cothb *c)
{
    if (c->map.method != BTFM_COTHB_CALIBRATION_NONE && c->map.dprime > 0) return c->map.dprime;
    if (c->features.n && c->features.dprime > 0) return c->features.dprime;
    double n = (double)c->read_count, p0 = btfm_cothb_base_rate(c);
    /* Readings and re-checks only accumulate, so their counts (and the base rate)
     * identify the estimate: it is computed once per new reading, not at every step. */
    if (c->dprime_count == c->read_count + 1 && c->dprime_base == p0 &&
        c->dprime_pairs == c->n_pairs)
        return c->dprime_value;
    double ss = n > 1 ? fmax(c->read_logit_sq - c->read_logit_sum * c->read_logit_sum / n, 0) : 0;
    double loglik[COTHB_DPRIME_GRID + 1];
    for (int i = 0; i <= COTHB_DPRIME_GRID; i++) {
        double d = i * COTHB_DPRIME_STEP;
        double v = d * d + p0 * (1 - p0) * d * d * d * d + COTHB_DPRIME_FLOOR;
        loglik[i] = n > 1 ? -0.5 * ((n - 1) * log(v) + ss / v) : 0;
    }
    c->dprime_count = c->read_count + 1;
    c->dprime_base = p0;
    c->dprime_pairs = c->n_pairs;
    c->dprime_value = checked_by_agreement(c, p0, grid_mean(loglik));
    return c->dprime_value;
}

static const cothb_plan_table *table_for(btfm_cothb *c, double p0, double dprime, int spare,
                                         int steps)
{
    /* A coarse grid, so that searches reuse their tables (kept across btfm_cothb_reset). */
    p0 = fmin(fmax(round(p0 * 20) / 20, 0.05), 0.95);
    dprime = fmin(fmax(round(dprime * 4) / 4, 0.25), 6); /* d' = 0 has no table */
    spare = spare > MAX_SPARE ? MAX_SPARE : spare;
    steps = steps > MAX_STEPS ? MAX_STEPS : steps;
    for (int i = 0; i < COTHB_PLAN_CACHE; i++) {
        cothb_plan_table *t = c->plans[i];
        if (t && t->p0 == p0 && t->dprime == dprime && t->spare >= spare && t->steps >= steps) {
            memmove(c->plans + 1, c->plans, (size_t)i * sizeof *c->plans); /* to the front */
            c->plans[0] = t;
            return t;
        }
    }
    cothb_plan_table *t = c->plans[COTHB_PLAN_CACHE - 1]; /* the least recently used */
    if (!t) t = btfm_malloc(sizeof *t);
    if (!t) return NULL; /* out of memory: the caller falls back to the thresholds */
    memmove(c->plans + 1, c->plans, (COTHB_PLAN_CACHE - 1) * sizeof *c->plans);
    c->plans[0] = t;
    t->p0 = p0;
    t->dprime = dprime;
    /* Room for a whole search's spare budget, so one table serves every step. */
    t->spare = spare < 16 ? 16 : spare;
    t->steps = steps < 8 ? 8 : steps;
    if (t->spare > MAX_SPARE) t->spare = MAX_SPARE;
    if (t->steps > MAX_STEPS) t->steps = MAX_STEPS;
    build(t);
    return t;
}

void btfm_cothb_plans_free(btfm_cothb *c)
{
    for (int i = 0; i < COTHB_PLAN_CACHE; i++) {
        btfm_free(c->plans[i]);
        c->plans[i] = NULL;
    }
}

int btfm_cothb_plan_step(btfm_cothb *c, double b, int64_t spare, int64_t steps, int can_recheck)
{
    double d = btfm_cothb_signal_dprime(c);
    /* Readings that carry (next to) nothing cannot improve a step: spare budget is kept for
     * independent paths (budget.c). */
    if (d < fmax(c->params[BTFM_COTHB_PARAM_MIN_DPRIME], 0.05) || spare <= 0 || steps <= 0)
        return COTHB_STEP_ACCEPT;
    const cothb_plan_table *t = table_for(c, btfm_cothb_base_rate(c), d, (int)(spare < MAX_SPARE ? spare : MAX_SPARE),
                                          (int)(steps < MAX_STEPS ? steps : MAX_STEPS));
    if (!t) return -1;
    int s = spare > t->spare ? t->spare : (int)spare, m = steps > t->steps ? t->steps : (int)steps;
    double lp = btfm_cothb_logit(t->p0), zb = btfm_cothb_logit(b);
    double accept = b * t->v[s][m - 1], resample = 0, recheck = 0;
    for (int k = 0; k < BINS; k++) {
        double zk = t->lo + (k + 0.5) * t->width;
        resample += t->pr[k] * w_at(t, m, s - 1, zk > zb ? zk : zb);
        recheck += (b * t->ok[k] + (1 - b) * t->bad[k]) * w_at(t, m, s - 1, zb + zk - lp);
    }
    if (can_recheck && recheck > accept && recheck >= resample) return COTHB_STEP_RECHECK;
    return resample > accept ? COTHB_STEP_RESAMPLE : COTHB_STEP_ACCEPT;
}
