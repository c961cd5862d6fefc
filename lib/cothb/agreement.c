/* How informative the signal is, from how well re-check readings of a step agree with its
 * earlier readings: a signal that carries nothing gives readings of the same step that
 * are no more alike than readings of different steps, however much they vary.
 *
 * Model (scale-free, equal-variance signal detection in log-odds): a reading's log-odds
 * are N(m + D/2, s^2) when the step is right and N(m - D/2, s^2) when it is wrong, with
 * d' = D / s, right steps at the base rate p0. The first readings of fresh steps fix the
 * mixture's mean M and variance S^2 = s^2 (1 + p0 (1 - p0) d'^2), so for each d' of the
 * grid s, D and m follow; a re-check reading r of a step whose k earlier readings sum to
 * L is then scored by its density given them,
 *     P(right | earlier) N(r; m + D/2, s^2) + P(wrong | earlier) N(r; m - D/2, s^2),
 *     logit P(right | earlier) = logit p0 + (D / s^2)(L - k m),
 * which stays right whatever rule chose to re-check the step from its earlier readings.
 * A calibrated host is the special case s = d' (plan.c uses the spread alone then). */
#include <math.h>
#include <string.h>
#include "cothb_internal.h"

#define MAX_PAIRS (1 << 16) /* re-checks remembered; later ones are not recorded */

void btfm_cothb_note_recheck(btfm_cothb *c, const cothb_node *t, double reading)
{
    double own = t->signals[BTFM_COTHB_SIGNAL_RELIABILITY];
    /* Only readings of the step itself: no outcome mixed into its evidence. */
    if (t->level != 0 || isnan(own) || isnan(reading) || t->n_evidence != t->rechecks ||
        c->n_pairs >= MAX_PAIRS)
        return;
    /* A reading of exactly 0 or 1 is a verdict, not a noisy reading of the signal. */
    if (reading <= 1e-9 || reading >= 1 - 1e-9 || own <= 1e-9 || own >= 1 - 1e-9) return;
    /* Out of memory, this re-check is not remembered (the estimate only has one less). */
    if (btfm_reserve((void **)&c->pairs, &c->cap_pairs, c->n_pairs + 1, 3 * sizeof *c->pairs,
                     "cothb re-checks"))
        return;
    double *row = c->pairs + c->n_pairs * 3;
    row[0] = btfm_cothb_logit(own) + t->evidence_sum;
    row[1] = 1 + (double)t->n_evidence;
    row[2] = btfm_cothb_logit(reading);
    c->n_pairs++;
}

static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

/* Add the log-density of pairs [from, to) under every grid d' to c->agree_loglik. */
static void score(btfm_cothb *c, int64_t from, int64_t to)
{
    double mean = c->agree_mean, var = c->agree_var, p0 = c->agree_p0, q = p0 * (1 - p0);
    double prior = btfm_cothb_logit(p0);
    for (int i = 0; i <= COTHB_DPRIME_GRID; i++) {
        double d = i * COTHB_DPRIME_STEP, s2 = var / (1 + q * d * d), s = sqrt(s2);
        double gap = d * s, m = mean - (p0 - 0.5) * gap, sum = 0;
        for (int64_t j = from; j < to; j++) {
            const double *row = c->pairs + j * 3;
            double right = sigmoid(prior + gap / s2 * (row[0] - row[1] * m));
            double a = (row[2] - m - gap / 2) / s, b = (row[2] - m + gap / 2) / s;
            double lo = fmin(a * a, b * b) / 2; /* log-sum-exp around the larger density */
            double mix = right * exp(lo - a * a / 2) + (1 - right) * exp(lo - b * b / 2);
            sum += log(fmax(mix, 1e-300)) - lo - log(s);
        }
        c->agree_loglik[i] += sum;
    }
}

int64_t btfm_cothb_agreement(btfm_cothb *c, double p0, double *loglik)
{
    double n = (double)c->read_count;
    if (c->n_pairs < 1 || n < 2) return 0;
    /* The mixture's mean and variance move with every reading; scores are recomputed for
     * all pairs when readings and pairs have grown by a tenth, else new pairs are added
     * with the statistics of the last recomputation (amortized O(1) a pair). */
    int64_t basis = c->read_count + c->n_pairs;
    if (c->agree_basis <= 0 || (double)basis > 1.1 * (double)c->agree_basis + 8 ||
        fabs(p0 - c->agree_p0) > 0.02) {
        c->agree_mean = c->read_logit_sum / n;
        c->agree_var = fmax(c->read_logit_sq - c->read_logit_sum * c->read_logit_sum / n, 0) /
                           (n - 1) + COTHB_DPRIME_FLOOR;
        c->agree_p0 = p0;
        c->agree_basis = basis;
        c->agree_done = 0;
        memset(c->agree_loglik, 0, sizeof c->agree_loglik);
    }
    if (c->agree_done < c->n_pairs) score(c, c->agree_done, c->n_pairs);
    c->agree_done = c->n_pairs;
    memcpy(loglik, c->agree_loglik, sizeof c->agree_loglik);
    return c->n_pairs;
}

void btfm_cothb_agreement_map(const btfm_cothb *c, double dprime, double *slope, double *center)
{
    double p0 = c->agree_p0, s = sqrt(c->agree_var / (1 + p0 * (1 - p0) * dprime * dprime));
    *slope = dprime / s;
    *center = c->agree_mean - (p0 - 0.5) * dprime * s;
}

void btfm_cothb_agreement_state(const btfm_cothb *c, double *state)
{
    memcpy(state, c->agree_loglik, sizeof c->agree_loglik);
    double *rest = state + COTHB_DPRIME_GRID + 1;
    rest[0] = (double)c->agree_done;
    rest[1] = (double)c->agree_basis;
    rest[2] = c->agree_mean;
    rest[3] = c->agree_var;
    rest[4] = c->agree_p0;
    rest[5] = (double)c->reading_mapped;
    rest[6] = c->reading_slope;
    rest[7] = c->reading_center;
}

btfm_status btfm_cothb_set_agreement_state(btfm_cothb *c, const double *state)
{
    for (int i = 0; i < COTHB_AGREE_STATE; i++)
        if (!isfinite(state[i])) return btfm_cothb_load_error(-1, "re-check agreement", state[i]);
    const double *rest = state + COTHB_DPRIME_GRID + 1;
    if (!(rest[0] >= 0 && rest[0] <= (double)c->n_pairs && rest[0] == floor(rest[0])))
        return btfm_cothb_load_error(-1, "re-checks scored", rest[0]);
    if (!(rest[1] >= 0 && rest[1] <= 1e15 && rest[1] == floor(rest[1])))
        return btfm_cothb_load_error(-1, "re-check basis", rest[1]);
    if (!(rest[3] >= 0) || !(rest[4] >= 0 && rest[4] <= 1) || !(rest[5] == 0 || rest[5] == 1) ||
        !(rest[6] >= 0))
        return btfm_cothb_load_error(-1, "re-check agreement", rest[3]);
    memcpy(c->agree_loglik, state, sizeof c->agree_loglik);
    c->agree_done = (int64_t)rest[0];
    c->agree_basis = (int64_t)rest[1];
    c->agree_mean = rest[2];
    c->agree_var = rest[3];
    c->agree_p0 = rest[4];
    c->reading_mapped = (int64_t)rest[5];
    c->reading_slope = rest[6];
    c->reading_center = rest[7];
    return BTFM_OK;
}

btfm_status btfm_cothb_check_pairs(const double *pairs, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        const double *row = pairs + j * 3;
        if (!(row[1] >= 1 && row[1] <= 1e9 && row[1] == floor(row[1])))
            return btfm_cothb_load_error(-1, "re-check reading count", row[1]);
        if (!(fabs(row[0]) <= 21 * row[1]) || !(fabs(row[2]) <= 21))
            return btfm_cothb_load_error(-1, "re-check reading log-odds",
                                         fabs(row[2]) <= 21 ? row[0] : row[2]);
    }
    return BTFM_OK;
}
