/* Metrics of an alignment: leave-one-subject-out time-segment matching (Chen 2015, as in
 * BrainIAK's tutorials), inter-subject correlation with Fisher-z averaging, and
 * between-subject classification by correlation to class centroids (Haxby 2011). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>
#include "align_internal.h"

static btfm_status check_block(const void *data, int n_subjects, int64_t n_times,
                               int64_t n_features, const void *out, const char *func)
{
    BTFM_CHECK_ARG(data, func, "data");
    BTFM_CHECK_ARG(out, func, "output");
    size_t count;
    if (n_subjects < 2 || n_times < 2 || n_features < 1 ||
        btfm_mul_size((size_t)n_subjects * (size_t)n_times, (size_t)n_features, &count) ||
        (uint64_t)n_times > 100000000)
        return btfm_fail(BTFM_E_INVALID, "%s: %d subjects x %lld time points x %lld "
                         "features; expected at least 2 subjects, 2 time points and 1 "
                         "feature", func, n_subjects, (long long)n_times, (long long)n_features);
    const float *x = data;
    int64_t row, f;
    if (!btfm_dense_find_nonfinite(x, (int64_t)n_subjects * n_times, n_features, n_features,
                                   &row, &f))
        return BTFM_OK;
    char context[32];
    snprintf(context, sizeof context, "subject %lld", (long long)(row / n_times));
    return btfm_dense_fail_nonfinite(func, context, "feature", f, "time point", row % n_times,
                                     x[row * n_features + f], NULL);
}

/* Mean over subjects other than `skip` (all when skip < 0) of float data `xf` or double
 * data `xd` (the other NULL) into out (T x V, double). */
static void mean_others(const float *xf, const double *xd, int n_subjects, size_t per, int skip,
                        double *out)
{
    memset(out, 0, per * sizeof(double));
    for (int s = 0; s < n_subjects; s++) {
        if (s == skip) continue;
        const size_t at = (size_t)s * per;
        if (xd)
            for (size_t j = 0; j < per; j++) out[j] += xd[at + j];
        else
            for (size_t j = 0; j < per; j++) out[j] += xf[at + j];
    }
    double inv = 1.0 / (skip >= 0 ? n_subjects - 1 : n_subjects);
    for (size_t j = 0; j < per; j++) out[j] *= inv;
}

/* Correlations between all windows of a (T x V) and all windows of b: the window
 * vectors are never built. cross = a b^T (T x T) summed along diagonals gives the window
 * dot products; row sums and squared sums give the window means and variances. */
static double segment_accuracy(const double *a, const double *b, int64_t T, int64_t V,
                               int64_t w, double *cross, double *sums)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)T, (blasint)V,
                1.0, a, (blasint)V, b, (blasint)V, 0.0, cross, (blasint)T);
    for (int64_t i = 1; i < T; i++) /* running sums down each diagonal */
        for (int64_t j = 1; j < T; j++) cross[i * T + j] += cross[(i - 1) * T + j - 1];
    double *sa = sums, *qa = sums + T + 1, *sb = sums + 2 * (T + 1), *qb = sums + 3 * (T + 1);
    sa[0] = qa[0] = sb[0] = qb[0] = 0.0; /* prefix sums over time of row sums */
    for (int64_t t = 0; t < T; t++) {
        double ra = 0, rqa = 0, rb = 0, rqb = 0;
        for (int64_t f = 0; f < V; f++) {
            ra += a[t * V + f];
            rqa += a[t * V + f] * a[t * V + f];
            rb += b[t * V + f];
            rqb += b[t * V + f] * b[t * V + f];
        }
        sa[t + 1] = sa[t] + ra;
        qa[t + 1] = qa[t] + rqa;
        sb[t + 1] = sb[t] + rb;
        qb[t + 1] = qb[t] + rqb;
    }
    const int64_t nseg = T - w; /* BrainIAK's count: the last full window is left out */
    const double n = (double)(w * V);
    int64_t correct = 0;
    for (int64_t i = 0; i < nseg; i++) {
        double mean_a = (sa[i + w] - sa[i]) / n;
        double var_a = (qa[i + w] - qa[i]) - n * mean_a * mean_a;
        int64_t best = -1;
        double best_r = -INFINITY;
        for (int64_t j = 0; j < nseg; j++) {
            if (j != i && (j - i < w && i - j < w)) continue; /* overlaps the true window */
            double dot = cross[(i + w - 1) * T + j + w - 1] -
                         (i > 0 && j > 0 ? cross[(i - 1) * T + j - 1] : 0.0);
            double mean_b = (sb[j + w] - sb[j]) / n;
            double var_b = (qb[j + w] - qb[j]) - n * mean_b * mean_b;
            double den = sqrt(var_a * var_b);
            double r = den > 0 ? (dot - n * mean_a * mean_b) / den : 0.0;
            if (r > best_r) {
                best_r = r;
                best = j;
            }
        }
        correct += best == i;
    }
    return (double)correct / (double)nseg;
}

btfm_status btfm_align_segment_matching_z(const float *data, int n_subjects, int64_t n_times,
                                          int64_t n_features, int64_t window, int zscore,
                                          double *accuracy)
{
    const char *func = "btfm_align_segment_matching";
    btfm_status st = check_block(data, n_subjects, n_times, n_features, accuracy, func);
    if (st) return st;
    if (window < 1 || n_times <= 2 * window)
        return btfm_fail(BTFM_E_RANGE, "%s: window = %lld with %lld time points; expected "
                         "1 <= window and more than 2 * window time points", func,
                         (long long)window, (long long)n_times);
    if (zscore != 0 && zscore != 1)
        return btfm_fail(BTFM_E_INVALID, "%s: zscore = %d; expected 0 or 1", func, zscore);
    const size_t per = (size_t)(n_times * n_features);
    double *all = btfm_dense_zeros((int64_t)n_subjects * n_times, n_features, func);
    double *others = btfm_dense_zeros(n_times, n_features, func);
    double *cross = btfm_dense_zeros(n_times, n_times, func);
    double *sums = btfm_dense_zeros(4 * (n_times + 1), 1, func);
    if (!all || !others || !cross || !sums) { st = BTFM_E_NOMEM; goto done; }
    for (size_t j = 0; j < per * (size_t)n_subjects; j++) all[j] = data[j];
    /* BrainIAK's procedure z-scores each subject's features over time first, so a feature
     * of large scale does not outweigh the others in the window correlations. */
    for (int s = 0; zscore && s < n_subjects; s++)
        btfm_dense_zscore_columns(all + (size_t)s * per, n_times, n_features);
    for (int s = 0; s < n_subjects; s++) {
        mean_others(NULL, all, n_subjects, per, s, others);
        accuracy[s] = segment_accuracy(all + (size_t)s * per, others, n_times, n_features,
                                       window, cross, sums);
    }
done:
    btfm_free(all);
    btfm_free(others);
    btfm_free(cross);
    btfm_free(sums);
    return st;
}

btfm_status btfm_align_segment_matching(const float *data, int n_subjects, int64_t n_times,
                                        int64_t n_features, int64_t window, double *accuracy)
{
    return btfm_align_segment_matching_z(data, n_subjects, n_times, n_features, window, 0,
                                         accuracy);
}

/* Pearson correlation of column f of x and y (T x V, strides V). */
static double column_corr(const float *x, const double *y_d, const float *y_f, int64_t T,
                          int64_t V, int64_t f)
{
    double mx = 0, my = 0;
    for (int64_t t = 0; t < T; t++) {
        mx += x[t * V + f];
        my += y_d ? y_d[t * V + f] : y_f[t * V + f];
    }
    mx /= (double)T;
    my /= (double)T;
    double sxy = 0, sxx = 0, syy = 0;
    for (int64_t t = 0; t < T; t++) {
        double dx = x[t * V + f] - mx;
        double dy = (y_d ? y_d[t * V + f] : y_f[t * V + f]) - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

btfm_status btfm_align_isc(const float *data, int n_subjects, int64_t n_times,
                           int64_t n_features, int pairwise, double *isc)
{
    const char *func = "btfm_align_isc";
    btfm_status st = check_block(data, n_subjects, n_times, n_features, isc, func);
    if (st) return st;
    if (pairwise != 0 && pairwise != 1)
        return btfm_fail(BTFM_E_INVALID, "%s: pairwise = %d; expected 0 (leave-one-out) or 1",
                         func, pairwise);
    const size_t per = (size_t)(n_times * n_features);
    double *others = pairwise ? NULL : btfm_dense_zeros(n_times, n_features, func);
    double *zsum = btfm_dense_zeros(n_features, 1, func);
    if ((!pairwise && !others) || !zsum) {
        btfm_free(others);
        btfm_free(zsum);
        return BTFM_E_NOMEM;
    }
    long n_terms = 0;
    for (int s = 0; s < n_subjects; s++) {
        const float *x = data + (size_t)s * per;
        if (!pairwise) {
            mean_others(data, NULL, n_subjects, per, s, others);
            for (int64_t f = 0; f < n_features; f++)
                zsum[f] += atanh(column_corr(x, others, NULL, n_times, n_features, f));
            n_terms++;
            continue;
        }
        for (int o = s + 1; o < n_subjects; o++) {
            const float *y = data + (size_t)o * per;
            for (int64_t f = 0; f < n_features; f++)
                zsum[f] += atanh(column_corr(x, NULL, y, n_times, n_features, f));
            n_terms++;
        }
    }
    for (int64_t f = 0; f < n_features; f++) isc[f] = tanh(zsum[f] / (double)n_terms);
    btfm_free(others);
    btfm_free(zsum);
    return BTFM_OK;
}

/* Pearson correlation of two vectors of length n. */
static double vector_corr(const float *x, const double *c, int64_t n)
{
    double mx = 0, mc = 0, sxy = 0, sxx = 0, scc = 0;
    for (int64_t i = 0; i < n; i++) {
        mx += x[i];
        mc += c[i];
    }
    mx /= (double)n;
    mc /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (c[i] - mc);
        sxx += (x[i] - mx) * (x[i] - mx);
        scc += (c[i] - mc) * (c[i] - mc);
    }
    return sxx > 0 && scc > 0 ? sxy / sqrt(sxx * scc) : -INFINITY;
}

btfm_status btfm_align_classification(const float *data, const int *labels,
                                      int n_subjects, int64_t n_times, int64_t n_features,
                                      double *accuracy)
{
    const char *func = "btfm_align_classification";
    BTFM_CHECK_ARG(labels, func, "labels");
    btfm_status st = check_block(data, n_subjects, n_times, n_features, accuracy, func);
    if (st) return st;
    int n_classes = 0;
    for (int64_t t = 0; t < n_times; t++) {
        if (labels[t] < 0 || labels[t] >= 1000000)
            return btfm_fail(BTFM_E_RANGE, "%s: labels[%lld] = %d; expected a class number "
                             "in [0, 1000000)", func, (long long)t, (int)labels[t]);
        if (labels[t] >= n_classes) n_classes = labels[t] + 1;
    }
    const size_t per = (size_t)(n_times * n_features);
    double *centroids = btfm_dense_zeros(n_classes, n_features, func);
    long *counts = btfm_calloc((size_t)n_classes, sizeof *counts);
    if (!centroids || !counts) {
        btfm_free(centroids);
        btfm_free(counts);
        return btfm_fail_nomem(func, (size_t)n_classes * sizeof *counts);
    }
    for (int s = 0; s < n_subjects; s++) {
        memset(centroids, 0, (size_t)(n_classes * n_features) * sizeof(double));
        memset(counts, 0, (size_t)n_classes * sizeof *counts);
        for (int o = 0; o < n_subjects; o++) {
            if (o == s) continue;
            for (int64_t t = 0; t < n_times; t++) {
                const float *x = data + (size_t)o * per + (size_t)(t * n_features);
                double *c = centroids + (size_t)labels[t] * (size_t)n_features;
                for (int64_t f = 0; f < n_features; f++) c[f] += x[f];
                counts[labels[t]]++;
            }
        }
        for (int k = 0; k < n_classes; k++)
            for (int64_t f = 0; f < n_features && counts[k]; f++)
                centroids[k * n_features + f] /= (double)counts[k];
        int64_t correct = 0;
        for (int64_t t = 0; t < n_times; t++) {
            const float *x = data + (size_t)s * per + (size_t)(t * n_features);
            int best = -1;
            double best_r = -INFINITY;
            for (int k = 0; k < n_classes; k++) {
                if (!counts[k]) continue;
                double r = vector_corr(x, centroids + (size_t)k * (size_t)n_features, n_features);
                if (r > best_r) {
                    best_r = r;
                    best = k;
                }
            }
            correct += best == labels[t];
        }
        accuracy[s] = (double)correct / (double)n_times;
    }
    btfm_free(centroids);
    btfm_free(counts);
    return BTFM_OK;
}
