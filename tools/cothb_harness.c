/* One cell of the CoTHB benchmark: every method on the same problems within the same
 * budget, each method's knobs tuned on other problems first, accuracies with 95% Wilson
 * intervals and CoTHB's paired difference to the best baseline with a 95% interval
 * (doc/cothb.md, "Benchmark"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cothb_harness.h"

#define TUNE_OFFSET 1000000000LL /* tuning problems: ids from here, never evaluated */

/* Accuracy (and mean steps) of `method` with knobs `k` on problems first .. first + n - 1;
 * `outcomes` (may be NULL) receives each problem's 0 or 1. */
static btfm_status evaluate(const harness_task *t, int method, const harness_knobs *k,
                            int budget, int64_t first, int n, char *outcomes, double *accuracy,
                            double *steps)
{
    long right = 0, used_total = 0;
    for (int i = 0; i < n; i++) {
        int ok = 0, used = 0;
        btfm_status st = harness_solve(t, method, k, budget, first + i, &ok, &used);
        if (st) return st;
        right += ok;
        used_total += used;
        if (outcomes) outcomes[i] = (char)ok;
    }
    *accuracy = (double)right / n;
    if (steps) *steps = (double)used_total / n;
    return BTFM_OK;
}

/* The knob setting of `method` with the best accuracy on the tuning problems (the first
 * of equals). Reject: tau (and, switch family, retries); beam: every (b, k) that fits. */
static btfm_status tune_baseline(const harness_task *t, int method, int budget, int n,
                                 harness_knobs *best)
{
    static const double taus[] = {0,    0.1,  0.2,  0.3,  0.4,  0.5,  0.6,  0.65, 0.7,
                                  0.75, 0.8,  0.85, 0.9,  0.93, 0.95, 0.97, 0.98, 0.99,
                                  0.995, 0.999};
    double best_accuracy = -1;
    harness_knobs k;
    harness_knobs_defaults(&k);
    *best = k;
    if (method == HARNESS_M_REJECT) {
        int max_retries = t->family == HARNESS_SWITCH ? 2 : 0;
        for (int r = 0; r <= max_retries; r++)
            for (size_t i = 0; i < sizeof taus / sizeof taus[0]; i++) {
                if (t->signal == HARNESS_OUTCOME && i > 1) break; /* outcomes are 0 or 1 */
                k.tau = t->signal == HARNESS_OUTCOME ? 0.5 + (double)i : taus[i];
                k.retries = r;
                double a;
                btfm_status st = evaluate(t, method, &k, budget, TUNE_OFFSET, n, NULL, &a, NULL);
                if (st) return st;
                if (a > best_accuracy) {
                    best_accuracy = a;
                    *best = k;
                }
            }
    } else if (method == HARNESS_M_BEAM) {
        for (int b = 1; b <= 12; b++)
            for (int w = 1; w <= 12; w++) { /* b = w = 1 is a chain: beam always fits */
                /* depth 1: w children of the root; then at most b kept, w children each */
                long steps = w + (long)(t->depth - 1) * (b < w ? b : w) * w;
                if (b > w || steps > budget) continue;
                k.beam = b;
                k.width = w;
                double a;
                btfm_status st = evaluate(t, method, &k, budget, TUNE_OFFSET, n, NULL, &a, NULL);
                if (st) return st;
                if (a > best_accuracy) {
                    best_accuracy = a;
                    *best = k;
                }
            }
    }
    return BTFM_OK;
}

/* CoTHB tuned through the library's own tuner on the tuning problems. */
typedef struct tuning_host {
    const harness_task *task;
    int budget;
} tuning_host;

static int tuner_episode(btfm_cothb *c, int64_t problem, double *reward, void *user)
{
    tuning_host *h = user;
    harness_knobs k;
    harness_knobs_defaults(&k);
    k.config = c;
    int ok = 0, used = 0;
    btfm_status st = harness_solve(h->task, HARNESS_M_COTHB_TUNED, &k, h->budget,
                                   TUNE_OFFSET + problem, &ok, &used);
    *reward = ok;
    return st;
}

static btfm_status tune_cothb(harness_cell *cell, int n, btfm_progress_fn progress, void *user)
{
    btfm_cothb_tuner *tuner = NULL;
    btfm_cothb *base = NULL;
    btfm_status st = btfm_cothb_tuner_new(&tuner);
    if (!st) st = btfm_cothb_new(&base);
    if (!st) st = btfm_cothb_tuner_set_param(tuner, BTFM_COTHB_TUNER_PARAM_PROBLEMS, n);
    if (!st) st = btfm_cothb_tuner_set_param(tuner, BTFM_COTHB_TUNER_PARAM_HELD_OUT, n / 2);
    if (!st && progress) st = btfm_cothb_tuner_set_progress(tuner, progress, user);
    if (!st && cell->task.family == HARNESS_SWITCH) {
        /* Strategies matter here: tune the inference of which one works as well. */
        static const double cont[] = {0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98};
        static const double branch[] = {0, 0.2, 0.4, 0.6};
        static const double rechecks[] = {0, 1, 2};
        static const double volatility[] = {0.01, 0.05, 0.1, 0.2, 0.3};
        static const double slip[] = {0.05, 0.1, 0.2, 0.3};
        static const double chance[] = {0.05, 0.1, 0.2, 0.3};
        static const double prior[] = {0.1, 0.2, 0.3, 0.5};
        const struct { int param; const double *values; int n; } knobs[] = {
            {BTFM_COTHB_PARAM_CONTINUE_THRESHOLD, cont, 7}, {BTFM_COTHB_PARAM_BRANCH_THRESHOLD, branch, 4},
            {BTFM_COTHB_PARAM_RECHECKS, rechecks, 3},       {BTFM_COTHB_PARAM_VOLATILITY, volatility, 5},
            {BTFM_COTHB_PARAM_SLIP, slip, 4},               {BTFM_COTHB_PARAM_CHANCE, chance, 4},
            {BTFM_COTHB_PARAM_PROBE_PRIOR, prior, 4},
        };
        for (size_t i = 0; !st && i < sizeof knobs / sizeof knobs[0]; i++)
            st = btfm_cothb_tuner_add_knob(tuner, knobs[i].param, knobs[i].values, knobs[i].n);
    }
    tuning_host host = {&cell->task, cell->budget};
    if (!st) st = btfm_cothb_tuner_run(tuner, base, tuner_episode, &host);
    if (!st) st = btfm_cothb_tuner_apply(tuner, base);
    btfm_cothb_tuner_free(tuner);
    if (st) {
        btfm_cothb_free(base);
        return st;
    }
    cell->knobs[HARNESS_M_COTHB_TUNED].config = base;
    return BTFM_OK;
}

/* Raw hosts: the defaults with the library's Platt calibration, fitted on 2000 labelled
 * steps (paths, for path signals) of problems no cell evaluates. */
static btfm_status calibrated_cothb(harness_cell *cell)
{
    enum { LABELLED = 2000 };
    double *scores = malloc(sizeof(double) * LABELLED);
    int *correct = malloc(sizeof(int) * LABELLED);
    btfm_cothb *c = NULL;
    btfm_status st = !scores || !correct ? BTFM_E_NOMEM : btfm_cothb_new(&c);
    if (!st) {
        harness_labelled_steps(&cell->task, LABELLED, 77, scores, correct);
        st = btfm_cothb_calibrate_reliability(c, BTFM_COTHB_CALIBRATION_PLATT, scores, correct,
                                              LABELLED);
    }
    free(scores);
    free(correct);
    if (st) {
        btfm_cothb_free(c);
        return st;
    }
    cell->knobs[HARNESS_M_COTHB_CALIBRATED].config = c;
    cell->knobs[HARNESS_M_COTHB_CALIBRATED].scores = 1;
    return BTFM_OK;
}

/* Wilson's 95% interval of a proportion. */
static void wilson(double p, int n, double *low, double *high)
{
    const double z = 1.959963984540054;
    double centre = (p + z * z / (2.0 * n)) / (1 + z * z / n);
    double half = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / (1 + z * z / n);
    *low = centre - half;
    *high = centre + half;
}

btfm_status harness_run_cell(harness_cell *cell, int problems, int tune_problems,
                             btfm_progress_fn progress, void *user)
{
    const harness_task *t = &cell->task;
    char *outcomes = malloc((size_t)problems * HARNESS_METHOD_COUNT);
    if (!outcomes) return BTFM_E_NOMEM;
    btfm_status st = BTFM_OK;
    for (int m = 0; m < HARNESS_METHOD_COUNT; m++) {
        harness_knobs_defaults(&cell->knobs[m]);
        cell->ran[m] = m != HARNESS_M_COTHB_CALIBRATED ||
                       (t->host == HARNESS_RAW && t->signal != HARNESS_OUTCOME);
        cell->accuracy[m] = cell->low[m] = cell->high[m] = cell->steps[m] = NAN;
    }
    if (!st) st = tune_baseline(t, HARNESS_M_REJECT, cell->budget, tune_problems,
                                &cell->knobs[HARNESS_M_REJECT]);
    if (!st) st = tune_baseline(t, HARNESS_M_BEAM, cell->budget, tune_problems,
                                &cell->knobs[HARNESS_M_BEAM]);
    /* The defaults in a controller reset for each problem, as a fresh one would be, which
     * keeps its planning tables from one problem to the next. */
    if (!st) st = btfm_cothb_new(&cell->knobs[HARNESS_M_COTHB].config);
    if (!st) st = tune_cothb(cell, tune_problems, progress, user);
    if (!st && cell->ran[HARNESS_M_COTHB_CALIBRATED]) st = calibrated_cothb(cell);
    for (int m = 0; !st && m < HARNESS_METHOD_COUNT; m++) {
        if (!cell->ran[m]) continue;
        st = evaluate(t, m, &cell->knobs[m], cell->budget, 0, problems,
                      outcomes + (size_t)m * problems, &cell->accuracy[m], &cell->steps[m]);
        wilson(cell->accuracy[m], problems, &cell->low[m], &cell->high[m]);
    }
    if (!st) {
        int best = 0;
        for (int m = 1; m < HARNESS_M_COTHB; m++)
            if (cell->accuracy[m] > cell->accuracy[best]) best = m;
        cell->best_baseline = best;
        for (int v = 0; v < 3; v++) {
            cell->diff[v] = cell->diff_low[v] = cell->diff_high[v] = NAN;
            if (!cell->ran[HARNESS_M_COTHB + v]) continue;
            const char *ours = outcomes + (size_t)(HARNESS_M_COTHB + v) * problems;
            const char *theirs = outcomes + (size_t)best * problems;
            double sum = 0, sq = 0;
            for (int i = 0; i < problems; i++) {
                double d = ours[i] - theirs[i];
                sum += d;
                sq += d * d;
            }
            double mean = sum / problems, var = (sq - sum * mean) / (problems - 1 > 0 ? problems - 1 : 1);
            double half = 1.959963984540054 * sqrt(fmax(var, 0) / problems);
            cell->diff[v] = mean;
            cell->diff_low[v] = mean - half;
            cell->diff_high[v] = mean + half;
        }
    }
    free(outcomes);
    return st;
}

void harness_free_cell(harness_cell *cell)
{
    for (int m = 0; m < HARNESS_METHOD_COUNT; m++) {
        btfm_cothb_free(cell->knobs[m].config);
        cell->knobs[m].config = NULL;
    }
}
