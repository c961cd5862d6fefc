/* Reliability calibration: a map from a host's raw score to P(step correct), fitted on
 * labelled steps. Platt scaling (Platt 1999; the Newton method of Lin, Lin & Weng 2007,
 * with Platt's smoothed targets, as scikit-learn's sigmoid calibration) or isotonic
 * regression (pool adjacent violators; predictions interpolate linearly between the
 * fitted points and clip outside them, as scikit-learn's IsotonicRegression). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cothb_internal.h"

static const char *const method_names[] = {"none", "platt", "isotonic"};

const char *btfm_cothb_calibration_name(int method)
{
    return method >= 0 && method <= BTFM_COTHB_CALIBRATION_ISOTONIC ? method_names[method] : NULL;
}

void btfm_cothb_map_free(cothb_map *m)
{
    btfm_free(m->x);
    memset(m, 0, sizeof *m);
}

/* Platt's cross-entropy of P = 1 / (1 + exp(a s + b)) against the smoothed targets. */
static double platt_objective(const double *s, const double *t, int64_t n, double a, double b)
{
    double f = 0;
    for (int64_t i = 0; i < n; i++) {
        double z = s[i] * a + b;
        f += z >= 0 ? t[i] * z + log1p(exp(-z)) : (t[i] - 1) * z + log1p(exp(z));
    }
    return f;
}

static btfm_status fit_platt(cothb_map *m, const double *s, const int *y, int64_t n,
                             int64_t n_pos, const char *func)
{
    double *t = btfm_malloc((size_t)n * sizeof *t);
    if (!t) return btfm_fail_nomem(func, (size_t)n * sizeof *t);
    double n_neg = (double)(n - n_pos), hi = (n_pos + 1.0) / (n_pos + 2.0), lo = 1 / (n_neg + 2);
    for (int64_t i = 0; i < n; i++) t[i] = y[i] ? hi : lo;
    double a = 0, b = log((n_neg + 1) / (n_pos + 1.0));
    double f = platt_objective(s, t, n, a, b);
    for (int iter = 0; iter < 200; iter++) {
        double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
        for (int64_t i = 0; i < n; i++) {
            double z = s[i] * a + b, p, q;
            if (z >= 0) {
                p = exp(-z) / (1 + exp(-z));
                q = 1 / (1 + exp(-z));
            } else {
                p = 1 / (1 + exp(z));
                q = exp(z) / (1 + exp(z));
            }
            double d2 = p * q, d1 = t[i] - p;
            h11 += s[i] * s[i] * d2;
            h22 += d2;
            h21 += s[i] * d2;
            g1 += s[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < 1e-11 * (double)n && fabs(g2) < 1e-11 * (double)n) break;
        double det = h11 * h22 - h21 * h21;
        double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * da + g2 * db, step = 1;
        while (step >= 1e-12) {
            double fa = platt_objective(s, t, n, a + step * da, b + step * db);
            if (fa < f + 1e-4 * step * gd) {
                a += step * da;
                b += step * db;
                f = fa;
                break;
            }
            step /= 2;
        }
        if (step < 1e-12) break; /* no descent left: at the optimum within rounding */
    }
    btfm_free(t);
    if (!isfinite(a) || !isfinite(b))
        return btfm_fail(BTFM_E_NUMERIC, "%s: the Platt fit diverged (a = %g, b = %g)", func, a, b);
    m->a = a;
    m->b = b;
    return BTFM_OK;
}

typedef struct scored {
    double score;
    int label;
} scored;

static int by_score(const void *p, const void *q)
{
    double x = ((const scored *)p)->score, z = ((const scored *)q)->score;
    return (x > z) - (x < z);
}

/* Pool adjacent violators on the distinct scores (ties averaged first, weighted by
 * their count), increasing in sign * score. */
static btfm_status fit_isotonic(cothb_map *m, const double *s, const int *y, int64_t n,
                                double sign, const char *func)
{
    size_t bytes = (size_t)n * (sizeof(scored) + 3 * sizeof(double) + sizeof(int64_t));
    scored *v = btfm_malloc(bytes);
    if (!v) return btfm_fail_nomem(func, bytes);
    double *x = (double *)(v + n), *w = x + n, *mean = w + n;
    int64_t *start = (int64_t *)(mean + n);
    for (int64_t i = 0; i < n; i++) {
        v[i].score = sign * s[i];
        v[i].label = y[i] != 0;
    }
    qsort(v, (size_t)n, sizeof *v, by_score);
    /* Distinct scores with the mean label of their ties. */
    int64_t k = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        double sum = 0;
        for (; j < n && v[j].score == v[i].score; j++) sum += v[j].label;
        x[k] = v[i].score;
        w[k] = (double)(j - i);
        mean[k] = sum / (double)(j - i);
        k++;
        i = j;
    }
    /* Blocks, written over the arrays they are read from (block b <= point i): mean,
     * weight and the index of their first distinct score. */
    int64_t blocks = 0;
    double *bw = w;
    for (int64_t i = 0; i < k; i++) {
        double bm = mean[i], wt = w[i];
        int64_t st = i;
        while (blocks > 0 && mean[blocks - 1] >= bm) {
            blocks--;
            bm = (mean[blocks] * bw[blocks] + bm * wt) / (bw[blocks] + wt);
            wt += bw[blocks];
            st = start[blocks];
        }
        mean[blocks] = bm;
        bw[blocks] = wt;
        start[blocks] = st;
        blocks++;
    }
    /* Knots: the first and last distinct score of each block, at the block's mean. */
    double *knots = btfm_malloc((size_t)(4 * blocks) * sizeof *knots);
    if (!knots) {
        btfm_free(v);
        return btfm_fail_nomem(func, (size_t)(4 * blocks) * sizeof *knots);
    }
    int64_t nk = 0;
    for (int64_t b = 0; b < blocks; b++) {
        int64_t last = b + 1 < blocks ? start[b + 1] - 1 : k - 1;
        knots[nk] = x[start[b]];
        knots[2 * blocks + nk++] = mean[b];
        if (last != start[b]) {
            knots[nk] = x[last];
            knots[2 * blocks + nk++] = mean[b];
        }
    }
    memmove(knots + nk, knots + 2 * blocks, (size_t)nk * sizeof *knots); /* y right after x */
    m->x = knots;
    m->y = knots + nk;
    m->n = nk;
    m->sign = sign;
    btfm_free(v);
    return BTFM_OK;
}

static int by_value(const void *p, const void *q)
{
    double x = *(const double *)p, z = *(const double *)q;
    return (x > z) - (x < z);
}

/* AUC of the scores (ties count one half): the direction of an isotonic map and a
 * signal-quality figure, with DeLong's (1988) standard error in *se (may be NULL) from
 * the placement values of each class in the other. 0.5 when a class is empty. */
double btfm_cothb_auc(const double *s, const int *y, int64_t n, double *se, btfm_status *st,
                      const char *func)
{
    *st = BTFM_OK;
    double *v = btfm_malloc((size_t)n * sizeof *v);
    if (!v) {
        *st = btfm_fail_nomem(func, (size_t)n * sizeof *v);
        return NAN;
    }
    int64_t n1 = 0;
    for (int64_t i = 0; i < n; i++)
        if (y[i]) v[n1++] = s[i];
    int64_t n0 = n1;
    for (int64_t i = 0; i < n; i++)
        if (!y[i]) v[n0++] = s[i];
    n0 -= n1;
    if (se) *se = NAN;
    if (n1 == 0 || n0 == 0) {
        btfm_free(v);
        return 0.5;
    }
    double *pos = v, *neg = v + n1;
    qsort(pos, (size_t)n1, sizeof *pos, by_value);
    qsort(neg, (size_t)n0, sizeof *neg, by_value);
    /* Placement of each positive among the negatives (share below, ties one half), and
     * of each negative among the positives (share above); two passes over sorted runs. */
    double sum10 = 0, sq10 = 0, sum01 = 0, sq01 = 0;
    for (int64_t i = 0, below = 0, equal = 0; i < n1; i++) {
        while (below < n0 && neg[below] < pos[i]) below++;
        if (equal < below) equal = below;
        while (equal < n0 && neg[equal] == pos[i]) equal++;
        double placement = ((double)below + 0.5 * (double)(equal - below)) / (double)n0;
        sum10 += placement;
        sq10 += placement * placement;
    }
    for (int64_t j = 0, below = 0, equal = 0; j < n0; j++) {
        while (below < n1 && pos[below] < neg[j]) below++;
        if (equal < below) equal = below;
        while (equal < n1 && pos[equal] == neg[j]) equal++;
        double placement = ((double)(n1 - equal) + 0.5 * (double)(equal - below)) / (double)n1;
        sum01 += placement;
        sq01 += placement * placement;
    }
    btfm_free(v);
    double auc = sum10 / (double)n1;
    if (se && n1 > 1 && n0 > 1) {
        double var10 = (sq10 - sum10 * sum10 / (double)n1) / (double)(n1 - 1);
        double var01 = (sq01 - sum01 * sum01 / (double)n0) / (double)(n0 - 1);
        *se = sqrt(fmax(var10, 0) / (double)n1 + fmax(var01, 0) / (double)n0);
    }
    return auc;
}

btfm_status btfm_cothb_map_check(int method, const double *s, const int *y, int64_t n,
                                 int64_t *n_pos, const char *func)
{
    if (method < BTFM_COTHB_CALIBRATION_NONE || method > BTFM_COTHB_CALIBRATION_ISOTONIC)
        return btfm_fail(BTFM_E_INVALID, "%s: method %d: expected 0 (none), 1 (platt) or 2 "
                         "(isotonic)", func, method);
    if (n < 2)
        return btfm_fail(BTFM_E_INVALID, "%s: n = %lld: expected at least 2 labelled steps",
                         func, (long long)n);
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(s[i]))
            return btfm_fail(BTFM_E_RANGE, "%s: scores[%lld] = %g: expected a finite number",
                             func, (long long)i, s[i]);
        if (method == BTFM_COTHB_CALIBRATION_NONE && !(s[i] >= 0 && s[i] <= 1))
            return btfm_fail(BTFM_E_RANGE, "%s: scores[%lld] = %g: without calibration the "
                             "scores are probabilities and must lie in [0, 1]", func,
                             (long long)i, s[i]);
        if (y[i] != 0 && y[i] != 1)
            return btfm_fail(BTFM_E_INVALID, "%s: correct[%lld] = %d: expected 1 (the step was "
                             "correct) or 0", func, (long long)i, y[i]);
        pos += y[i];
    }
    if (pos == 0 || pos == n)
        return btfm_fail(BTFM_E_INVALID, "%s: all %lld steps are %s; calibration needs correct "
                         "and wrong steps", func, (long long)n, pos ? "correct" : "wrong");
    *n_pos = pos;
    return BTFM_OK;
}

btfm_status btfm_cothb_map_fit(cothb_map *m, int method, const double *s, const int *y,
                               int64_t n, const char *func)
{
    int64_t n_pos = 0;
    btfm_status st = btfm_cothb_map_check(method, s, y, n, &n_pos, func);
    if (st) return st;
    cothb_map fitted = {0};
    fitted.method = method;
    fitted.base_rate = (double)n_pos / (double)n;
    double auc = 0.5;
    if (method != BTFM_COTHB_CALIBRATION_NONE) auc = btfm_cothb_auc(s, y, n, NULL, &st, func);
    if (st) return st;
    /* Calibrated, higher is always better: the sensitivity without its direction. */
    fitted.dprime = sqrt(2.0) * btfm_cothb_normal_quantile(fmin(fmax(auc, 1 - auc), 1 - 1e-6));
    if (method == BTFM_COTHB_CALIBRATION_PLATT)
        st = fit_platt(&fitted, s, y, n, n_pos, func);
    else if (method == BTFM_COTHB_CALIBRATION_ISOTONIC)
        st = fit_isotonic(&fitted, s, y, n, auc >= 0.5 ? 1 : -1, func);
    if (st) return st;
    btfm_cothb_map_free(m);
    *m = fitted;
    return BTFM_OK;
}

double btfm_cothb_map_apply(const cothb_map *m, double score)
{
    switch (m->method) {
    case BTFM_COTHB_CALIBRATION_PLATT: {
        double z = m->a * score + m->b;
        return z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z));
    }
    case BTFM_COTHB_CALIBRATION_ISOTONIC: {
        double x = m->sign * score;
        if (x <= m->x[0]) return m->y[0];
        if (x >= m->x[m->n - 1]) return m->y[m->n - 1];
        int64_t lo = 0, hi = m->n - 1; /* x[lo] < x < x[hi] */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (m->x[mid] <= x) lo = mid; else hi = mid;
        }
        double f = (x - m->x[lo]) / (m->x[hi] - m->x[lo]);
        return m->y[lo] + f * (m->y[hi] - m->y[lo]);
    }
    default: return score;
    }
}

btfm_status btfm_cothb_calibrate_reliability(btfm_cothb *c, int method, const double *scores,
                                             const int *correct, int64_t n)
{
    static const char func[] = "btfm_cothb_calibrate_reliability";
    BTFM_CHECK_ARG(c, func, "controller");
    BTFM_CHECK_ARG(scores, func, "scores");
    BTFM_CHECK_ARG(correct, func, "correct");
    return btfm_cothb_map_fit(&c->map, method, scores, correct, n, func);
}

btfm_status btfm_cothb_reliability_of_score(const btfm_cothb *c, double score, double *probability)
{
    static const char func[] = "btfm_cothb_reliability_of_score";
    BTFM_CHECK_ARG(c, func, "controller");
    BTFM_CHECK_ARG(probability, func, "probability");
    if (!isfinite(score))
        return btfm_fail(BTFM_E_RANGE, "%s: score = %g: expected a finite number", func, score);
    if (c->map.method == BTFM_COTHB_CALIBRATION_NONE && !(score >= 0 && score <= 1))
        return btfm_fail(BTFM_E_RANGE, "%s: score = %g: no calibration is fitted, so a score "
                         "must be a probability in [0, 1]; call "
                         "btfm_cothb_calibrate_reliability first", func, score);
    *probability = btfm_cothb_map_apply(&c->map, score);
    return BTFM_OK;
}

btfm_status btfm_cothb_observe_score(btfm_cothb *c, int64_t node, int signal, double score)
{
    static const char func[] = "btfm_cothb_observe_score";
    BTFM_CHECK_ARG(c, func, "controller");
    if (signal < 0 || signal >= COTHB_NSIG || signal == BTFM_COTHB_SIGNAL_TERMINAL)
        return btfm_fail(BTFM_E_INVALID, "%s: signal %d: expected a probability slot (0 to %d, "
                         "not terminal)", func, signal, COTHB_NSIG - 1);
    double p;
    btfm_status st = btfm_cothb_reliability_of_score(c, score, &p);
    if (st) return st;
    double signals[COTHB_NSIG];
    for (int i = 0; i < COTHB_NSIG; i++) signals[i] = i == signal ? p : NAN;
    return btfm_cothb_observe(c, node, signals, signal + 1);
}
