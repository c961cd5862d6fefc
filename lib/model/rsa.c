/* Representational similarity analysis (Kriegeskorte 2008) as rsatoolbox computes it:
 * RDMs by correlation distance, squared Euclidean distance per channel and the
 * cross-validated Mahalanobis distance (crossnobis, Walther 2016); their comparison by
 * Spearman, Kendall's tau-a, rho-a (Nili 2014; Schuett 2023), Pearson and cosine; and the
 * leave-one-subject-out noise ceiling over RDMs pooled for the comparison. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "model_internal.h"

static const char *const rdm_names[] = {NULL, "correlation", "euclidean", "crossnobis"};
static const char *const compare_names[] = {NULL, "spearman", "kendall_tau_a", "rho_a",
                                            "pearson", "cosine"};

const char *btfm_rdm_name(int kind)
{
    return kind >= 1 && kind <= 3 ? rdm_names[kind] : NULL;
}

const char *btfm_rdm_comparison_name(int method)
{
    return method >= 1 && method <= 5 ? compare_names[method] : NULL;
}

int64_t btfm_rdm_size(int64_t n_conditions)
{
    return n_conditions >= 2 ? n_conditions * (n_conditions - 1) / 2 : 0;
}

/* (a_i - a_j) P (b_i - b_j)^T / channels for every pair, added to out with `weight`;
 * P NULL is the identity. */
static btfm_status add_distances(double *out, const double *a, const double *b, int64_t n,
                                 int64_t p, const double *precision, double weight,
                                 const char *func)
{
    double *da = btfm_model_doubles((size_t)p, func), *db = btfm_model_doubles((size_t)p, func);
    double *pb = btfm_model_doubles((size_t)p, func);
    if (!da || !db || !pb) {
        btfm_free(da);
        btfm_free(db);
        btfm_free(pb);
        return BTFM_E_NOMEM;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++, k++) {
            for (int64_t c = 0; c < p; c++) {
                da[c] = a[i * p + c] - a[j * p + c];
                db[c] = b[i * p + c] - b[j * p + c];
            }
            const double *rhs = db;
            if (precision) {
                cblas_dsymv(CblasRowMajor, CblasUpper, (int)p, 1.0, precision, (int)p, db, 1,
                            0.0, pb, 1);
                rhs = pb;
            }
            out[k] += weight * cblas_ddot((int)p, da, 1, rhs, 1) / (double)p;
        }
    btfm_free(da);
    btfm_free(db);
    btfm_free(pb);
    return BTFM_OK;
}

btfm_status btfm_rdm(double *out, int kind, const float *patterns, int n_folds,
                     int64_t n_conditions, int64_t n_channels, const double *precision)
{
    const char *func = "btfm_rdm";
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(patterns, func, "patterns");
    if (!btfm_rdm_name(kind))
        return btfm_fail(BTFM_E_INVALID, "%s: kind is %d; expected 1 correlation, 2 euclidean "
                         "or 3 crossnobis", func, kind);
    if (n_conditions < 2 || n_channels < 1 || n_folds < 1 || n_folds > 100000)
        return btfm_fail(BTFM_E_INVALID, "%s: %d folds of %lld conditions x %lld channels; "
                         "expected at least 2 conditions and 1 channel", func, n_folds,
                         (long long)n_conditions, (long long)n_channels);
    if (kind == BTFM_RDM_CROSSNOBIS && n_folds < 2)
        return btfm_fail(BTFM_E_INVALID, "%s: n_folds is %d; crossnobis cross-validates over "
                         "at least 2 independent folds (runs)", func, n_folds);
    if (kind != BTFM_RDM_CROSSNOBIS && n_folds != 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_folds is %d; %s RDMs take one set of patterns",
                         func, n_folds, btfm_rdm_name(kind));
    const int64_t n = n_conditions, p = n_channels, m = btfm_rdm_size(n);
    btfm_status st = btfm_model_check_finite(patterns, (int64_t)n_folds * n, p, "patterns", func);
    if (st) return st;
    double *u = btfm_model_doubles((size_t)(n_folds * n * p), func);
    double *rest = btfm_model_doubles((size_t)(n * p), func);
    if (!u || !rest) {
        btfm_free(u);
        btfm_free(rest);
        return BTFM_E_NOMEM;
    }
    for (int64_t k = 0; k < n_folds * n * p; k++) u[k] = patterns[k];
    memset(out, 0, (size_t)m * sizeof *out);
    if (kind == BTFM_RDM_EUCLIDEAN) {
        st = add_distances(out, u, u, n, p, NULL, 1.0, func);
    } else if (kind == BTFM_RDM_CORRELATION) {
        /* 1 - Pearson r: z-score each condition's pattern over channels. */
        for (int64_t i = 0; i < n; i++) {
            double *row = u + i * p, mean = 0, ss = 0;
            for (int64_t c = 0; c < p; c++) mean += row[c] / (double)p;
            for (int64_t c = 0; c < p; c++) ss += (row[c] - mean) * (row[c] - mean);
            const double sd = sqrt(ss / (double)p);
            for (int64_t c = 0; c < p; c++) row[c] = sd > 0 ? (row[c] - mean) / sd : NAN;
        }
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i + 1; j < n; j++, k++)
                out[k] = 1.0 - cblas_ddot((int)p, u + i * p, 1, u + j * p, 1) / (double)p;
    } else {
        /* Crossnobis: each fold against the mean of the others. */
        for (int f = 0; f < n_folds && !st; f++) {
            memset(rest, 0, (size_t)(n * p) * sizeof *rest);
            for (int g = 0; g < n_folds; g++)
                if (g != f)
                    for (int64_t k = 0; k < n * p; k++) rest[k] += u[g * n * p + k] / (n_folds - 1);
            st = add_distances(out, rest, u + (int64_t)f * n * p, n, p, precision,
                               1.0 / n_folds, func);
        }
    }
    btfm_free(u);
    btfm_free(rest);
    return st;
}

typedef struct ranked {
    double value;
    int64_t index;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Average ranks (ties share their mean rank, from 1, as scipy's rankdata) of v into r. */
static btfm_status ranks(const double *v, int64_t n, double *r, const char *func)
{
    ranked *order = btfm_malloc((size_t)n * sizeof *order);
    if (!order) return btfm_fail_nomem(func, (size_t)n * sizeof *order);
    for (int64_t i = 0; i < n; i++) order[i] = (ranked){v[i], i};
    qsort(order, (size_t)n, sizeof *order, cmp_ranked);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && order[j + 1].value == order[i].value) j++;
        for (int64_t k = i; k <= j; k++) r[order[k].index] = (i + j) / 2.0 + 1.0;
        i = j + 1;
    }
    btfm_free(order);
    return BTFM_OK;
}

static double pearson(const double *a, const double *b, int64_t n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++) {
        ma += a[i] / (double)n;
        mb += b[i] / (double)n;
    }
    for (int64_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

btfm_status btfm_rdm_compare(double *out, int method, const double *a, const double *b,
                             int64_t n_entries)
{
    const char *func = "btfm_rdm_compare";
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(a, func, "a");
    BTFM_CHECK_ARG(b, func, "b");
    if (!btfm_rdm_comparison_name(method))
        return btfm_fail(BTFM_E_INVALID, "%s: method is %d; expected 1 spearman, 2 "
                         "kendall_tau_a, 3 rho_a, 4 pearson or 5 cosine", func, method);
    if (n_entries < 3)
        return btfm_fail(BTFM_E_INVALID, "%s: n_entries is %lld; RDMs of at least 3 conditions "
                         "have 3 entries", func, (long long)n_entries);
    for (int64_t i = 0; i < n_entries; i++)
        if (!isfinite(a[i]) || !isfinite(b[i]))
            return btfm_fail(BTFM_E_NUMERIC, "%s: entry %lld of %s is not finite", func,
                             (long long)i, isfinite(a[i]) ? "b" : "a");
    const int64_t n = n_entries;
    if (method == BTFM_RDM_PEARSON) {
        *out = pearson(a, b, n);
        return BTFM_OK;
    }
    if (method == BTFM_RDM_COSINE) {
        const double ab = cblas_ddot((int)n, a, 1, b, 1), aa = cblas_ddot((int)n, a, 1, a, 1);
        const double bb = cblas_ddot((int)n, b, 1, b, 1);
        *out = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : NAN;
        return BTFM_OK;
    }
    if (method == BTFM_RDM_KENDALL_TAU_A) {
        /* (concordant - discordant) / (n (n - 1) / 2), ties counting neither */
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i + 1; j < n; j++) {
                const double da = a[i] - a[j], db = b[i] - b[j];
                s += ((da > 0) - (da < 0)) * ((db > 0) - (db < 0));
            }
        *out = s / (n * (n - 1) / 2.0);
        return BTFM_OK;
    }
    double *ra = btfm_model_doubles((size_t)n, func), *rb = btfm_model_doubles((size_t)n, func);
    btfm_status st = ra && rb ? BTFM_OK : BTFM_E_NOMEM;
    if (!st) st = ranks(a, n, ra, func);
    if (!st) st = ranks(b, n, rb, func);
    if (!st && method == BTFM_RDM_SPEARMAN) {
        *out = pearson(ra, rb, n);
    } else if (!st) {
        /* rho-a: 12 sum (r_a - mean)(r_b - mean) / (n^3 - n) */
        const double mean = (n + 1) / 2.0;
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += (ra[i] - mean) * (rb[i] - mean);
        *out = 12.0 * s / ((double)n * n * n - n);
    }
    btfm_free(ra);
    btfm_free(rb);
    return st;
}

/* rdms (count x m) pooled for `method` into out (m): averaged ranks for the rank
 * comparisons, z-scores for Pearson (shifted to a minimum of 0), RMS-normalized values
 * for cosine (rsatoolbox's pool_rdm). `skip` (-1: none) leaves one RDM out. */
static btfm_status pool(double *out, int method, const double *rdms, int count, int64_t m,
                        int skip, double *work, const char *func)
{
    memset(out, 0, (size_t)m * sizeof *out);
    const int used = count - (skip >= 0);
    for (int s = 0; s < count; s++) {
        if (s == skip) continue;
        const double *v = rdms + (int64_t)s * m;
        if (method == BTFM_RDM_PEARSON) {
            double mean = 0, ss = 0;
            for (int64_t k = 0; k < m; k++) mean += v[k] / (double)m;
            for (int64_t k = 0; k < m; k++) ss += (v[k] - mean) * (v[k] - mean);
            const double sd = sqrt(ss / (double)m);
            for (int64_t k = 0; k < m; k++) work[k] = sd > 0 ? (v[k] - mean) / sd : 0;
        } else if (method == BTFM_RDM_COSINE) {
            double ss = 0;
            for (int64_t k = 0; k < m; k++) ss += v[k] * v[k] / (double)m;
            for (int64_t k = 0; k < m; k++) work[k] = ss > 0 ? v[k] / sqrt(ss) : 0;
        } else {
            btfm_status st = ranks(v, m, work, func);
            if (st) return st;
        }
        for (int64_t k = 0; k < m; k++) out[k] += work[k];
    }
    /* Sum, then divide once: averaged ranks stay exact, so their ties stay ties. */
    for (int64_t k = 0; k < m; k++) out[k] /= used;
    if (method == BTFM_RDM_PEARSON) {
        double min = out[0];
        for (int64_t k = 1; k < m; k++) min = out[k] < min ? out[k] : min;
        for (int64_t k = 0; k < m; k++) out[k] -= min;
    }
    return BTFM_OK;
}

btfm_status btfm_rdm_noise_ceiling(double *lower, double *upper, int method, const double *rdms,
                                   int n_subjects, int64_t n_entries)
{
    const char *func = "btfm_rdm_noise_ceiling";
    BTFM_CHECK_ARG(lower, func, "lower");
    BTFM_CHECK_ARG(upper, func, "upper");
    BTFM_CHECK_ARG(rdms, func, "rdms");
    if (n_subjects < 2)
        return btfm_fail(BTFM_E_INVALID, "%s: n_subjects is %d; the leave-one-subject-out "
                         "ceiling needs at least 2 subjects' RDMs", func, n_subjects);
    const int64_t m = n_entries;
    double *pooled = btfm_model_doubles((size_t)m, func), *work = btfm_model_doubles((size_t)m, func);
    btfm_status st = pooled && work ? BTFM_OK : BTFM_E_NOMEM;
    double lo = 0, up = 0, value;
    /* upper: each subject against the pool of all (itself included); lower: of the others */
    for (int s = 0; s < n_subjects && !st; s++) {
        st = pool(pooled, method, rdms, n_subjects, m, -1, work, func);
        if (!st) st = btfm_rdm_compare(&value, method, pooled, rdms + (int64_t)s * m, m);
        up += value / n_subjects;
        if (!st) st = pool(pooled, method, rdms, n_subjects, m, s, work, func);
        if (!st) st = btfm_rdm_compare(&value, method, pooled, rdms + (int64_t)s * m, m);
        lo += value / n_subjects;
    }
    if (!st) {
        *lower = lo;
        *upper = up;
    }
    btfm_free(pooled);
    btfm_free(work);
    return st;
}
