/* Noise ceilings from repeated presentations: how much of a response is explainable at
 * all. Split-half reliability stepped up by Spearman-Brown, and Schoppe et al.'s (2016)
 * signal power with CC_max and the normalized correlation CC_norm (calc_CCnorm.m, whose
 * conventions are kept: 1/T in the variances and covariance, 1/(T-1) in the signal
 * power). */
#include <math.h>
#include <string.h>
#include "model_internal.h"
#include "core/random.h"

static btfm_status check_repeats(const float *data, int n_repeats, int64_t n, int64_t t,
                                 const char *func)
{
    BTFM_CHECK_ARG(data, func, "data");
    if (n_repeats < 2 || n < 3 || t < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: %d repeats of %lld samples x %lld targets; "
                         "expected at least 2 repeats of 3 samples", func, n_repeats,
                         (long long)n, (long long)t);
    return btfm_model_check_finite(data, (int64_t)n_repeats * n, t, "data", func);
}

/* Pearson r of columns of a and b (n x t) into r (t). */
static void column_r(const double *a, const double *b, int64_t n, int64_t t, double *r,
                     double *work)
{
    double *ma = work, *mb = work + t, *sab = work + 2 * t, *saa = work + 3 * t, *sbb = work + 4 * t;
    memset(work, 0, (size_t)(5 * t) * sizeof *work);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < t; j++) {
            ma[j] += a[i * t + j] / (double)n;
            mb[j] += b[i * t + j] / (double)n;
        }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < t; j++) {
            const double da = a[i * t + j] - ma[j], db = b[i * t + j] - mb[j];
            sab[j] += da * db;
            saa[j] += da * da;
            sbb[j] += db * db;
        }
    for (int64_t j = 0; j < t; j++)
        r[j] = saa[j] > 0 && sbb[j] > 0 ? sab[j] / sqrt(saa[j] * sbb[j]) : NAN;
}

btfm_status btfm_noise_ceiling_split_half(double *out, const float *data, int n_repeats,
                                          int64_t n_samples, int64_t n_targets, int n_splits,
                                          uint64_t seed)
{
    const char *func = "btfm_noise_ceiling_split_half";
    BTFM_CHECK_ARG(out, func, "out");
    btfm_status st = check_repeats(data, n_repeats, n_samples, n_targets, func);
    if (st) return st;
    if (n_splits < 0 || n_splits > 100000)
        return btfm_fail(BTFM_E_INVALID, "%s: n_splits is %d; expected 0 (odd and even repeats) "
                         "to 100000 random halvings", func, n_splits);
    const int64_t n = n_samples, t = n_targets, block = n * t;
    double *half = btfm_model_doubles((size_t)(2 * block), func);
    double *r = btfm_model_doubles((size_t)t, func), *work = btfm_model_doubles((size_t)(5 * t), func);
    int *order = btfm_calloc((size_t)n_repeats, sizeof *order);
    if (!half || !r || !work || !order) {
        st = btfm_fail_nomem(func, (size_t)(2 * block) * sizeof(double));
        goto done;
    }
    memset(out, 0, (size_t)t * sizeof *out);
    const int rounds = n_splits ? n_splits : 1;
    uint64_t state = seed;
    for (int s = 0; s < rounds; s++) {
        for (int k = 0; k < n_repeats; k++) order[k] = k;
        if (n_splits) /* a seeded halving; otherwise even and odd repeats */
            for (int k = n_repeats - 1; k > 0; k--) {
                int j = (int)(btfm_splitmix64(&state) % (uint64_t)(k + 1)), tmp = order[k];
                order[k] = order[j];
                order[j] = tmp;
            }
        memset(half, 0, (size_t)(2 * block) * sizeof *half);
        int counts[2] = {0, 0};
        for (int k = 0; k < n_repeats; k++) {
            const int h = n_splits ? k >= n_repeats / 2 : order[k] % 2;
            counts[h]++;
            const float *rep = data + (int64_t)order[k] * block;
            for (int64_t i = 0; i < block; i++) half[h * block + i] += rep[i];
        }
        for (int64_t i = 0; i < block; i++) {
            half[i] /= counts[0];
            half[block + i] /= counts[1];
        }
        column_r(half, half + block, n, t, r, work);
        for (int64_t j = 0; j < t; j++) out[j] += r[j] / rounds;
    }
    for (int64_t j = 0; j < t; j++) out[j] = 2 * out[j] / (1 + out[j]);
done:
    btfm_free(half);
    btfm_free(r);
    btfm_free(work);
    btfm_free(order);
    return st;
}

btfm_status btfm_noise_ceiling_ccnorm(double *cc_max, double *cc_norm, const float *data,
                                      int n_repeats, int64_t n_samples, int64_t n_targets,
                                      const float *prediction)
{
    const char *func = "btfm_noise_ceiling_ccnorm";
    BTFM_CHECK_ARG(cc_max, func, "cc_max");
    if (cc_norm && !prediction)
        return btfm_fail(BTFM_E_INVALID, "%s: cc_norm needs the prediction", func);
    btfm_status st = check_repeats(data, n_repeats, n_samples, n_targets, func);
    if (!st && prediction)
        st = btfm_model_check_finite(prediction, n_samples, n_targets, "prediction", func);
    if (st) return st;
    const int64_t T = n_samples, t = n_targets, N = n_repeats, block = T * t;
    double *sum = btfm_model_doubles((size_t)block, func);
    double *mom = btfm_model_doubles((size_t)(6 * t), func);
    if (!sum || !mom) {
        btfm_free(sum);
        btfm_free(mom);
        return btfm_fail_nomem(func, (size_t)block * sizeof(double));
    }
    double *var_sum = mom, *sum_var = mom + t, *vy = mom + 2 * t, *vp = mom + 3 * t;
    double *cov = mom + 4 * t, *mean = mom + 5 * t;
    /* sum_n var(R_n): each trial's variance over time (1/(T-1)); the trial sum. */
    for (int64_t r = 0; r < N; r++) {
        const float *rep = data + r * block;
        memset(mean, 0, (size_t)t * sizeof *mean);
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = 0; j < t; j++) {
                mean[j] += rep[i * t + j] / (double)T;
                sum[i * t + j] += rep[i * t + j];
            }
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = 0; j < t; j++) {
                const double d = rep[i * t + j] - mean[j];
                sum_var[j] += d * d / (double)(T - 1);
            }
    }
    memset(mean, 0, (size_t)t * sizeof *mean);
    for (int64_t i = 0; i < block; i++) mean[i % t] += sum[i] / (double)T;
    for (int64_t i = 0; i < T; i++)
        for (int64_t j = 0; j < t; j++) {
            const double d = sum[i * t + j] - mean[j];
            var_sum[j] += d * d / (double)(T - 1);
            vy[j] += (d / N) * (d / N) / (double)T; /* the trial mean's variance, 1/T */
        }
    if (prediction) {
        double *pm = cov; /* the prediction's mean, then the covariance */
        memset(pm, 0, (size_t)t * sizeof *pm);
        for (int64_t i = 0; i < block; i++) pm[i % t] += prediction[i] / (double)T;
        for (int64_t j = 0; j < t; j++) mean[j] = pm[j];
        memset(cov, 0, (size_t)t * sizeof *cov);
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = 0; j < t; j++) {
                const double dp = prediction[i * t + j] - mean[j];
                double ym = 0;
                ym = sum[i * t + j] / N;
                vp[j] += dp * dp / (double)T;
                cov[j] += dp * ym / (double)T; /* dp sums to 0, so y needs no centering */
            }
    }
    for (int64_t j = 0; j < t; j++) {
        const double sp = (var_sum[j] - sum_var[j]) / (double)(N * (N - 1));
        cc_max[j] = sp > 0 && vy[j] > 0 ? sqrt(sp / vy[j]) : NAN;
        if (cc_norm) cc_norm[j] = sp > 0 && vp[j] > 0 ? cov[j] / sqrt(sp * vp[j]) : NAN;
    }
    btfm_free(sum);
    btfm_free(mom);
    return BTFM_OK;
}
