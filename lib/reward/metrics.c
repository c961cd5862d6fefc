/* How well rewards match a truth: Pearson and Spearman correlation, pairwise ordering
 * accuracy and the expected calibration error of the confidence, pooled and per
 * annotator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "reward_internal.h"
#include "dense/dense.h"

static double pearson(const double *a, const double *b, int64_t n)
{
    double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
    for (int64_t i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= n, mb /= n;
    for (int64_t i = 0; i < n; i++) {
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
        sab += (a[i] - ma) * (b[i] - mb);
    }
    return n > 1 && saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

typedef struct ranked { double value; int64_t index; } ranked;
static int cmp_ranked(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    return a->value < b->value ? -1 : a->value > b->value;
}

/* Average ranks (ties share the mean of their positions), as scipy.stats.rankdata. */
static void ranks(const double *v, int64_t n, ranked *scratch, double *out)
{
    for (int64_t i = 0; i < n; i++) scratch[i] = (ranked){v[i], i};
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_ranked);
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        while (b < n && scratch[b].value == scratch[a].value) b++;
        for (int64_t k = a; k < b; k++) out[scratch[k].index] = 0.5 * (double)(a + b - 1) + 1;
        a = b;
    }
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* One row of metrics for n items (reward r, confidence c or NULL, truth t). */
static btfm_status metrics_row(double *row, const double *r, const double *c, const double *t,
                               int64_t n, const char *func)
{
    for (int k = 0; k < BTFM_REWARD_N_METRICS; k++) row[k] = NAN;
    row[BTFM_REWARD_METRIC_N] = (double)n;
    if (n < 2) return BTFM_OK;
    double *rr = btfm_dense_zeros(n, 3, func);
    ranked *scratch = btfm_malloc((size_t)n * sizeof *scratch);
    if (!rr || !scratch) {
        btfm_free(rr);
        btfm_free(scratch);
        return btfm_fail_nomem(func, (size_t)n * 40);
    }
    row[BTFM_REWARD_METRIC_PEARSON] = pearson(r, t, n);
    ranks(r, n, scratch, rr);
    ranks(t, n, scratch, rr + n);
    row[BTFM_REWARD_METRIC_SPEARMAN] = pearson(rr, rr + n, n);
    double good = 0, total = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) {
            if (t[i] == t[j]) continue;
            double s = (r[i] - r[j]) * (t[i] - t[j]);
            good += s > 0 ? 1 : s == 0 ? 0.5 : 0;
            total += 1;
        }
    if (total > 0) row[BTFM_REWARD_METRIC_PAIRWISE] = good / total;
    if (c) {
        double *sorted = rr + 2 * n;
        memcpy(sorted, t, (size_t)n * sizeof *sorted);
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_d);
        double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
        double conf[10] = {0}, hit[10] = {0}, cnt[10] = {0};
        for (int64_t i = 0; i < n; i++) {
            int b = (int)floor(c[i] * 10);
            b = b < 0 ? 0 : b > 9 ? 9 : b;
            conf[b] += c[i];
            hit[b] += t[i] > median;
            cnt[b] += 1;
        }
        double ece = 0;
        for (int b = 0; b < 10; b++)
            if (cnt[b] > 0) ece += fabs(hit[b] - conf[b]) / (double)n;
        row[BTFM_REWARD_METRIC_ECE] = ece;
    }
    btfm_free(rr);
    btfm_free(scratch);
    return BTFM_OK;
}

btfm_status btfm_reward_metrics(double *out, size_t capacity, int64_t *n_groups,
                                const float *reward, const float *confidence,
                                const float *truth, const int64_t *annotators, int64_t n_items)
{
    const char *func = "btfm_reward_metrics";
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(reward, func, "reward");
    BTFM_CHECK_ARG(truth, func, "truth");
    if (n_items < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_items is %lld; expected at least one item",
                         func, (long long)n_items);
    for (int64_t i = 0; i < n_items; i++) {
        if (!isfinite(reward[i]))
            return btfm_fail(BTFM_E_NUMERIC, "%s: reward[%lld] is %g; expected finite values",
                             func, (long long)i, reward[i]);
        if (confidence && !(confidence[i] >= 0 && confidence[i] <= 1))
            return btfm_fail(BTFM_E_NUMERIC, "%s: confidence[%lld] is %g; expected a "
                             "probability in [0, 1]", func, (long long)i, confidence[i]);
    }
    int32_t *group = btfm_malloc((size_t)n_items * sizeof *group);
    double *buf = btfm_dense_zeros(n_items, 3, func);
    int64_t groups = 0;
    btfm_status st = group && buf ? BTFM_OK : btfm_fail_nomem(func, (size_t)n_items * 28);
    if (!st && annotators) st = btfm_reward_group_ids(annotators, n_items, group, &groups, func);
    if (!st && capacity < (size_t)(1 + groups) * BTFM_REWARD_N_METRICS)
        st = btfm_fail(BTFM_E_RANGE, "%s: out holds %zu doubles; %lld rows of %d need %lld",
                       func, capacity, (long long)(1 + groups), BTFM_REWARD_N_METRICS,
                       (long long)(1 + groups) * BTFM_REWARD_N_METRICS);
    for (int64_t g = -1; !st && g < groups; g++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n_items; i++)
            if ((g < 0 || group[i] == g) && !isnan(truth[i])) {
                buf[m] = reward[i];
                buf[n_items + m] = truth[i];
                buf[2 * n_items + m] = confidence ? confidence[i] : 0;
                m++;
            }
        double *rowbuf = out + (size_t)(g + 1) * BTFM_REWARD_N_METRICS;
        /* metrics_row needs its three inputs contiguous per kind. */
        double *r = btfm_dense_zeros(m ? m : 1, 3, func);
        if (!r) st = BTFM_E_NOMEM;
        if (!st) {
            memcpy(r, buf, (size_t)m * sizeof *r);
            memcpy(r + m, buf + n_items, (size_t)m * sizeof *r);
            memcpy(r + 2 * m, buf + 2 * n_items, (size_t)m * sizeof *r);
            st = metrics_row(rowbuf, r, confidence ? r + 2 * m : NULL, r + m, m, func);
        }
        btfm_free(r);
    }
    if (!st && n_groups) *n_groups = groups;
    btfm_free(group);
    btfm_free(buf);
    return st;
}
