/* From inputs to the design a fit sees: the finite-value check, an aligner's map into a
 * shared space (neural translation), the SPM HRF convolution and the FIR delays of
 * encoding models (himalaya's Delayer), each within a run of consecutive samples of one
 * group so nothing reaches across runs. */
#include <string.h>
#include <btfm/aligner.h>
#include <btfm/container.h>
#include <btfm/glm.h>
#include "model_internal.h"
#include "dense/dense.h"

btfm_status btfm_model_check_finite(const float *x, int64_t rows, int64_t cols,
                                    const char *what, const char *func)
{
    int64_t row, col;
    if (!btfm_dense_find_nonfinite(x, rows, cols, cols, &row, &col)) return BTFM_OK;
    return btfm_dense_fail_nonfinite(func, what, "column", col, "row", row,
                                     x[row * cols + col], NULL);
}

/* The end of the run of samples starting at `start` that share a group. */
static int64_t run_end(const int64_t *groups, int64_t n, int64_t start)
{
    if (!groups) return n;
    int64_t end = start + 1;
    while (end < n && groups[end] == groups[start]) end++;
    return end;
}

/* out (n x p) = each column of x convolved causally with h (length L) within runs. */
static btfm_status convolve_runs(const float *x, int64_t n, int64_t p, const double *h,
                                 int64_t L, const int64_t *groups, float *out, const char *func)
{
    double *acc = btfm_model_doubles((size_t)p, func);
    if (!acc) return BTFM_E_NOMEM;
    for (int64_t start = 0; start < n;) {
        int64_t end = run_end(groups, n, start);
        for (int64_t t = start; t < end; t++) {
            for (int64_t f = 0; f < p; f++) acc[f] = 0;
            for (int64_t k = 0; k < L && t - k >= start; k++) {
                const float *row = x + (t - k) * p;
                for (int64_t f = 0; f < p; f++) acc[f] += h[k] * row[f];
            }
            for (int64_t f = 0; f < p; f++) out[t * p + f] = (float)acc[f];
        }
        start = end;
    }
    btfm_free(acc);
    return BTFM_OK;
}

model_input btfm_model_fit_input(const model_fit *f)
{
    return (model_input){f->aligner, f->aligner_subject, f->delays, f->n_delays, f->hrf,
                         f->t_r};
}

model_input btfm_model_settings_input(const btfm_model *m)
{
    return (model_input){m->aligner, m->aligner_subject, m->delays, m->n_delays,
                         MODEL_PARAM(m, HRF) != 0, MODEL_PARAM(m, T_R)};
}

btfm_aligner *btfm_model_copy_aligner(const btfm_aligner *a, const char *func)
{
    size_t size;
    btfm_aligner *copy = NULL;
    if (btfm_aligner_save_buffer(a, NULL, 0, &size)) return NULL;
    void *buf = btfm_malloc(size);
    if (!buf) {
        btfm_fail_nomem(func, size);
        return NULL;
    }
    if (!btfm_aligner_save_buffer(a, buf, size, &size)) btfm_aligner_load_buffer(&copy, buf, size);
    btfm_free(buf);
    return copy;
}

/* x mapped into the aligner's shared space (n x K floats, owned by the caller). */
static btfm_status map_aligner(const float *x, int64_t n, int64_t p, const model_input *in,
                               float **out, int64_t *k, const char *func)
{
    int64_t features, components;
    btfm_status st = btfm_aligner_subject_features(in->aligner, in->subject, &features);
    if (!st) st = btfm_aligner_n_components(in->aligner, &components);
    if (st) return st;
    if (features != p)
        return btfm_fail(BTFM_E_INVALID, "%s: x has %lld features but the aligner's subject %d "
                         "has %lld", func, (long long)p, in->subject, (long long)features);
    *out = btfm_dense_zeros_f(n, components, func);
    if (!*out) return BTFM_E_NOMEM;
    st = btfm_aligner_transform(in->aligner, in->subject, x, n, p, *out);
    if (st) {
        btfm_free(*out);
        *out = NULL;
    }
    *k = components;
    return st;
}

btfm_status btfm_model_design(const float *x, int64_t n, int64_t p, const model_input *in,
                              const int64_t *groups, const float **design, float **owned,
                              int64_t *width, const char *func)
{
    *design = NULL;
    *owned = NULL;
    btfm_status st = btfm_model_check_finite(x, n, p, "x", func);
    if (st) return st;
    float *mapped = NULL;
    if (in->aligner) {
        if ((st = map_aligner(x, n, p, in, &mapped, &p, func))) return st;
        x = mapped;
    }
    *width = p * (in->n_delays ? in->n_delays : 1);
    if (!in->n_delays && !in->hrf) {
        *design = x;
        *owned = mapped;
        return BTFM_OK;
    }
    const float *src = x;
    float *convolved = NULL;
    if (in->hrf) {
        int64_t L = 0;
        st = btfm_glm_hrf(BTFM_HRF_SPM, in->t_r, 1, 32.0, 0.0, NULL, 0, &L);
        double *h = st ? NULL : btfm_model_doubles((size_t)L, func);
        if (!st && !h) st = BTFM_E_NOMEM;
        if (!st) st = btfm_glm_hrf(BTFM_HRF_SPM, in->t_r, 1, 32.0, 0.0, h, (size_t)L, &L);
        convolved = st ? NULL : btfm_dense_zeros_f(n, p, func);
        if (!st && !convolved) st = BTFM_E_NOMEM;
        if (!st) st = convolve_runs(x, n, p, h, L, groups, convolved, func);
        btfm_free(h);
        if (st) {
            btfm_free(convolved);
            btfm_free(mapped);
            return st;
        }
        src = convolved;
    }
    if (!in->n_delays) {
        btfm_free(mapped);
        *design = *owned = convolved;
        return BTFM_OK;
    }
    const int n_delays = in->n_delays;
    float *out = btfm_dense_zeros_f(n, p * n_delays, func);
    if (!out) {
        btfm_free(convolved);
        btfm_free(mapped);
        return BTFM_E_NOMEM;
    }
    const int64_t width_ = p * n_delays;
    for (int64_t start = 0; start < n;) {
        int64_t end = run_end(groups, n, start);
        for (int d = 0; d < n_delays; d++)
            for (int64_t t = start; t < end; t++) {
                int64_t s = t - in->delays[d];
                if (s < start || s >= end) continue;
                memcpy(out + t * width_ + (int64_t)d * p, src + s * p, (size_t)p * sizeof *out);
            }
        start = end;
    }
    btfm_free(convolved);
    btfm_free(mapped);
    *design = *owned = out;
    return BTFM_OK;
}
