/* Predictions of a fitted model: the design (delays, HRF) of new inputs times the
 * coefficients (or the dual form), class probabilities, predictive standard deviations
 * (the ridge posterior or the Laplace approximation), and held-out scores. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "model_internal.h"
#include "dense/dense.h"

/* Checks shared by every prediction, then the design of x (owned: free it). */
static btfm_status predict_design(const btfm_model *m, const float *x, int64_t n,
                                  int64_t p, const float **design, float **owned,
                                  const char *func)
{
    BTFM_CHECK_ARG(m, func, "model");
    if (!m->fit) return btfm_fail(BTFM_E_STATE, "%s: the model is not fitted", func);
    BTFM_CHECK_ARG(x, func, "x");
    const model_fit *f = m->fit;
    if (n < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_samples is %lld; expected at least 1", func,
                         (long long)n);
    if (p != f->n_features)
        return btfm_fail(BTFM_E_INVALID, "%s: x has %lld features but the model was fitted on "
                         "%lld (n_features)", func, (long long)p, (long long)f->n_features);
    const model_input in = btfm_model_fit_input(f);
    int64_t width;
    return btfm_model_design(x, n, p, &in, NULL, design, owned, &width, func);
}

btfm_status btfm_model_linear(const model_fit *f, const float *d, int64_t n, float *out,
                              const char *func)
{
    const int64_t P = f->n_coef, t = f->n_outputs;
    if (f->coef) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)t, (int)P, 1.0f, d,
                    (int)P, f->coef, (int)t, 0.0f, out, (int)t);
    } else {
        /* (design train^T) dual, a tile of rows at a time. */
        const int64_t tile = 256, nt = f->n_train;
        double *xd = btfm_dense_zeros(tile, P, func), *k = btfm_dense_zeros(tile, nt, func);
        double *o = btfm_dense_zeros(tile, t, func);
        if (!xd || !k || !o) {
            btfm_free(xd);
            btfm_free(k);
            btfm_free(o);
            return BTFM_E_NOMEM;
        }
        for (int64_t r0 = 0; r0 < n; r0 += tile) {
            const int64_t m = n - r0 < tile ? n - r0 : tile;
            btfm_dense_copy_fd(d + r0 * P, P, m, P, xd, P);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)nt, (int)P, 1.0,
                        xd, (int)P, f->train, (int)P, 0.0, k, (int)nt);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)t, (int)nt, 1.0,
                        k, (int)nt, f->dual, (int)t, 0.0, o, (int)t);
            btfm_dense_copy_df(o, t, m, t, out + r0 * t, t);
        }
        btfm_free(xd);
        btfm_free(k);
        btfm_free(o);
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < t; j++) out[i * t + j] += (float)f->intercept[j];
    return BTFM_OK;
}

btfm_status btfm_model_predict(const btfm_model *m, float *out, const float *x,
                               int64_t n_samples, int64_t n_features)
{
    const char *func = "btfm_model_predict";
    BTFM_CHECK_ARG(out, func, "out");
    if (m && m->fit && m->fit->items && !x) {
        /* Free item scores: the scores themselves. */
        if (n_samples != m->fit->n_coef)
            return btfm_fail(BTFM_E_INVALID, "%s: x is NULL, so n_samples must be the %lld "
                             "items (got %lld)", func, (long long)m->fit->n_coef,
                             (long long)n_samples);
        memcpy(out, m->fit->coef, (size_t)n_samples * sizeof *out);
        return BTFM_OK;
    }
    const float *d;
    float *owned = NULL;
    btfm_status st = predict_design(m, x, n_samples, n_features, &d, &owned, func);
    if (!st) st = btfm_model_linear(m->fit, d, n_samples, out, func);
    btfm_free(owned);
    return st;
}

btfm_status btfm_model_predict_proba(const btfm_model *m, float *out, const float *x,
                                     int64_t n_samples, int64_t n_features)
{
    const char *func = "btfm_model_predict_proba";
    BTFM_CHECK_ARG(out, func, "out");
    if (m && m->type != BTFM_MODEL_LOGISTIC)
        return btfm_fail(BTFM_E_STATE, "%s: only logistic models give class probabilities "
                         "(this one is %s)", func, btfm_model_type_name(m->type));
    const float *d;
    float *owned = NULL;
    btfm_status st = predict_design(m, x, n_samples, n_features, &d, &owned, func);
    if (st) return st;
    const model_fit *f = m->fit;
    const int K = f->n_classes;
    float *eta = btfm_malloc((size_t)(n_samples * f->n_outputs) * sizeof *eta);
    if (!eta) st = btfm_fail_nomem(func, (size_t)(n_samples * f->n_outputs) * sizeof *eta);
    if (!st) st = btfm_model_linear(f, d, n_samples, eta, func);
    for (int64_t i = 0; !st && i < n_samples; i++) {
        if (K == 2) {
            double p1 = 1.0 / (1.0 + exp(-(double)eta[i]));
            out[i * 2] = (float)(1.0 - p1);
            out[i * 2 + 1] = (float)p1;
            continue;
        }
        const float *e = eta + i * K;
        double mx = e[0], sum = 0;
        for (int k = 1; k < K; k++) mx = e[k] > mx ? e[k] : mx;
        for (int k = 0; k < K; k++) sum += exp((double)e[k] - mx);
        for (int k = 0; k < K; k++) out[i * K + k] = (float)(exp((double)e[k] - mx) / sum);
    }
    btfm_free(eta);
    btfm_free(owned);
    return st;
}

/* Ridge: s2_j (1 + 1/sw + a^T (A + alpha_j)^-1 a), a the standardized design row. */
static btfm_status ridge_std(const model_fit *f, const float *d, int64_t n, float *out,
                             int intercept, const char *func)
{
    const int64_t P = f->n_coef, t = f->n_outputs, r = f->rank;
    /* The distinct alphas (targets share the grid's few values). */
    double *alphas = btfm_model_doubles((size_t)t, func);
    int *which = btfm_calloc((size_t)t, sizeof *which);
    double *a = btfm_model_doubles((size_t)P, func), *z = btfm_model_doubles((size_t)r, func);
    int n_alpha = 0;
    btfm_status st = alphas && which && a && z ? BTFM_OK : BTFM_E_NOMEM;
    for (int64_t j = 0; !st && j < t; j++) {
        int k = 0;
        while (k < n_alpha && alphas[k] != f->alpha[j]) k++;
        if (k == n_alpha) alphas[n_alpha++] = f->alpha[j];
        which[j] = k;
    }
    double *q = st ? NULL : btfm_model_doubles((size_t)n_alpha, func);
    if (!st && !q) st = BTFM_E_NOMEM;
    for (int64_t i = 0; !st && i < n; i++) {
        double norm2 = 0;
        for (int64_t k = 0; k < P; k++) {
            a[k] = ((double)d[i * P + k] - f->center[k]) / f->scale[k];
            norm2 += a[k] * a[k];
        }
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)P, (int)r, 1.0, f->basis, (int)r, a, 1,
                    0.0, z, 1);
        double z2 = 0;
        for (int64_t k = 0; k < r; k++) z2 += z[k] * z[k];
        for (int k = 0; k < n_alpha; k++) {
            double s = 0;
            for (int64_t l = 0; l < r; l++) s += z[l] * z[l] / (f->eig[l] + alphas[k]);
            if (r < P) s += fmax(norm2 - z2, 0) / alphas[k];
            q[k] = s;
        }
        const double base = 1.0 + (intercept ? 1.0 / f->sum_weights : 0.0);
        for (int64_t j = 0; j < t; j++)
            out[i * t + j] = (float)sqrt(f->noise_var[j] * (base + q[which[j]]));
    }
    btfm_free(q);
    btfm_free(alphas);
    btfm_free(which);
    btfm_free(a);
    btfm_free(z);
    return st;
}

/* Laplace: sqrt(a^T cov a) for a = [standardized design row, 1]. */
static btfm_status laplace_std(const model_fit *f, const float *d, int64_t n, float *out,
                               const char *func)
{
    const int64_t P = f->n_coef, t = f->n_outputs, np = f->n_par;
    double *a = btfm_model_doubles((size_t)np, func), *ca = btfm_model_doubles((size_t)np, func);
    if (!a || !ca) {
        btfm_free(a);
        btfm_free(ca);
        return BTFM_E_NOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < np; k++)
            a[k] = k < P ? ((double)d[i * P + k] - f->center[k]) / f->scale[k] : 1.0;
        for (int64_t j = 0; j < t; j++) {
            cblas_dsymv(CblasRowMajor, CblasUpper, (int)np, 1.0, f->cov + j * np * np, (int)np,
                        a, 1, 0.0, ca, 1);
            out[i * t + j] = (float)sqrt(fmax(cblas_ddot((int)np, a, 1, ca, 1), 0));
        }
    }
    btfm_free(a);
    btfm_free(ca);
    return BTFM_OK;
}

btfm_status btfm_model_predict_std(const btfm_model *m, float *out, const float *x,
                                   int64_t n_samples, int64_t n_features)
{
    const char *func = "btfm_model_predict_std";
    BTFM_CHECK_ARG(out, func, "out");
    if (m && m->type == BTFM_MODEL_BANDED_RIDGE)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: predictive deviations are not available for "
                         "banded ridge (each target has its own band weights)", func);
    const float *d;
    float *owned = NULL;
    btfm_status st = predict_design(m, x, n_samples, n_features, &d, &owned, func);
    if (st) return st;
    const model_fit *f = m->fit;
    if (f->cov)
        st = laplace_std(f, d, n_samples, out, func);
    else if (f->basis)
        st = ridge_std(f, d, n_samples, out, MODEL_PARAM(m, FIT_INTERCEPT) != 0, func);
    else
        st = btfm_fail(BTFM_E_STATE, "%s: this fit has no uncertainty record", func);
    btfm_free(owned);
    return st;
}

btfm_status btfm_model_score(const btfm_model *m, double *out, int kind, const float *x,
                             const float *y, int64_t n_samples, int64_t n_features,
                             int64_t n_targets)
{
    const char *func = "btfm_model_score";
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(y, func, "y");
    if (m->type != BTFM_MODEL_RIDGE && m->type != BTFM_MODEL_BANDED_RIDGE)
        return btfm_fail(BTFM_E_STATE, "%s: scores targets of ridge models (this one is %s)",
                         func, btfm_model_type_name(m->type));
    if (m->fit && n_targets != m->fit->n_outputs)
        return btfm_fail(BTFM_E_INVALID, "%s: y has %lld targets but the model predicts %lld "
                         "(n_targets)", func, (long long)n_targets,
                         (long long)m->fit->n_outputs);
    size_t count;
    if (n_samples < 1 || n_targets < 1 ||
        btfm_mul_size((size_t)n_samples, (size_t)n_targets, &count))
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples x %lld targets", func,
                         (long long)n_samples, (long long)n_targets);
    float *pred = btfm_malloc(count * sizeof *pred);
    if (!pred) return btfm_fail_nomem(func, count * sizeof *pred);
    btfm_status st = btfm_model_predict(m, pred, x, n_samples, n_features);
    if (!st) st = btfm_model_score_columns(out, kind, y, pred, n_samples, n_targets);
    btfm_free(pred);
    return st;
}
