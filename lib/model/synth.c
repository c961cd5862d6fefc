/* Synthetic responses of an encoding model to stimuli nobody was scanned on: its
 * predictions plus Gaussian noise with the fit's residual variance per target, or with a
 * low-rank-plus-diagonal model of the residual covariance (the residuals' leading
 * principal components, the rest per target), written as a dataset any layer reads like a
 * recording. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include <btfm/dataset.h>
#include "model_internal.h"
#include "core/random.h"
#include "dense/dense.h"

double btfm_model_uniform(uint64_t *state)
{
    return ((double)(btfm_splitmix64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double btfm_model_normal(uint64_t *state)
{
    return sqrt(-2.0 * log(btfm_model_uniform(state))) *
           cos(6.283185307179586 * btfm_model_uniform(state));
}

btfm_status btfm_model_noise_factor(model_fit *f, const float *design, int64_t n,
                                    const float *y, int64_t rank, const char *func)
{
    const int64_t t = f->n_outputs;
    if (rank > (n < t ? n : t))
        return btfm_fail(BTFM_E_INVALID, "%s: noise_rank is %lld but the residuals of %lld "
                         "samples x %lld targets have rank %lld at most", func, (long long)rank,
                         (long long)n, (long long)t, (long long)(n < t ? n : t));
    float *pred = btfm_dense_zeros_f(n, t, func);
    double *r = btfm_dense_zeros(n, t, func);
    const int64_t m = n <= t ? n : t; /* the smaller Gram matrix */
    double *g = btfm_dense_zeros(m, m, func), *w = btfm_model_doubles((size_t)rank, func);
    double *v = btfm_dense_zeros(m, rank, func);
    f->noise_factor = btfm_dense_zeros(t, rank, func);
    f->noise_diag = btfm_model_doubles((size_t)t, func);
    btfm_status st = pred && r && g && w && v && f->noise_factor && f->noise_diag ? BTFM_OK
                                                                                 : BTFM_E_NOMEM;
    if (!st) st = btfm_model_linear(f, design, n, pred, func);
    if (!st) {
        for (int64_t i = 0; i < n * t; i++) r[i] = (double)y[i] - pred[i];
        cblas_dsyrk(CblasRowMajor, CblasUpper, n <= t ? CblasNoTrans : CblasTrans, (int)m,
                    (int)(n <= t ? t : n), 1.0, r, (int)t, 0.0, g, (int)m);
        st = btfm_dense_syev_top(g, m, rank, w, v, func);
    }
    if (!st) {
        /* Loadings L (t x rank) with L L^T the rank-k part of R^T R / n. */
        if (n <= t) {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)t, (int)rank, (int)n,
                        1.0 / sqrt((double)n), r, (int)t, v, (int)rank, 0.0, f->noise_factor,
                        (int)rank);
        } else {
            for (int64_t j = 0; j < t; j++)
                for (int64_t k = 0; k < rank; k++)
                    f->noise_factor[j * rank + k] = v[j * rank + k] * sqrt(fmax(w[k], 0) / n);
        }
        for (int64_t j = 0; j < t; j++) {
            double total = 0, low = 0;
            for (int64_t i = 0; i < n; i++) total += r[i * t + j] * r[i * t + j] / (double)n;
            for (int64_t k = 0; k < rank; k++)
                low += f->noise_factor[j * rank + k] * f->noise_factor[j * rank + k];
            f->noise_diag[j] = fmax(total - low, 1e-6 * total);
        }
        f->noise_rank = rank;
    }
    btfm_free(pred);
    btfm_free(r);
    btfm_free(g);
    btfm_free(w);
    btfm_free(v);
    return st;
}

btfm_status btfm_model_synthesize(const btfm_model *m, float *out, const float *x,
                                  int64_t n_samples, int64_t n_features, int noise,
                                  uint64_t seed)
{
    const char *func = "btfm_model_synthesize";
    BTFM_CHECK_ARG(m, func, "model");
    if (m->type != BTFM_MODEL_RIDGE && m->type != BTFM_MODEL_BANDED_RIDGE)
        return btfm_fail(BTFM_E_STATE, "%s: synthetic responses come from ridge (encoding) "
                         "models (this one is %s)", func, btfm_model_type_name(m->type));
    if (noise < BTFM_NOISE_NONE || noise > BTFM_NOISE_LOW_RANK)
        return btfm_fail(BTFM_E_INVALID, "%s: noise is %d; expected 0 none, 1 independent or "
                         "2 low_rank", func, noise);
    if (m->fit && noise == BTFM_NOISE_LOW_RANK && !m->fit->noise_rank)
        return btfm_fail(BTFM_E_STATE, "%s: low-rank noise needs a fit made with noise_rank > "
                         "0", func);
    btfm_status st = btfm_model_predict(m, out, x, n_samples, n_features);
    if (st || noise == BTFM_NOISE_NONE) return st;
    const model_fit *f = m->fit;
    const int64_t t = f->n_outputs, k = noise == BTFM_NOISE_LOW_RANK ? f->noise_rank : 0;
    double *z = btfm_model_doubles((size_t)(k ? k : 1), func);
    if (!z) return BTFM_E_NOMEM;
    uint64_t state = seed;
    for (int64_t i = 0; i < n_samples; i++) {
        for (int64_t c = 0; c < k; c++) z[c] = btfm_model_normal(&state);
        for (int64_t j = 0; j < t; j++) {
            double e;
            if (k) {
                e = sqrt(f->noise_diag[j]) * btfm_model_normal(&state);
                for (int64_t c = 0; c < k; c++) e += f->noise_factor[j * k + c] * z[c];
            } else {
                e = sqrt(f->noise_var[j]) * btfm_model_normal(&state);
            }
            out[i * t + j] += (float)e;
        }
    }
    btfm_free(z);
    return BTFM_OK;
}

btfm_status btfm_model_synthesize_dataset(const btfm_model *m, btfm_dataset **out,
                                          const float *x, int64_t n_samples,
                                          int64_t n_features, int noise, uint64_t seed,
                                          double sfreq, const btfm_dataset *like)
{
    const char *func = "btfm_model_synthesize_dataset";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(m, func, "model");
    if (!m->fit) return btfm_fail(BTFM_E_STATE, "%s: the model is not fitted", func);
    const int64_t t = m->fit->n_outputs;
    if (t > 2147483647 || n_samples < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples of %lld targets do not make a "
                         "dataset", func, (long long)n_samples, (long long)t);
    float *data = btfm_dense_zeros_f(n_samples, t, func);
    if (!data) return BTFM_E_NOMEM;
    btfm_status st = btfm_model_synthesize(m, data, x, n_samples, n_features, noise, seed);
    if (!st) st = btfm_dataset_from_array(out, data, n_samples, (int)t, sfreq, like);
    btfm_free(data);
    return st;
}
