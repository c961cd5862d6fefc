/* From inputs to the design a fit sees: the finite-value check, the SPM HRF convolution
 * and the FIR delays of encoding models (himalaya's Delayer), each within a run of
 * consecutive samples of one group so nothing reaches across runs. */
#include <string.h>
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

btfm_status btfm_model_design(const float *x, int64_t n, int64_t p, const int32_t *delays,
                              int n_delays, int hrf, double t_r, const int64_t *groups,
                              const float **design, float **owned, const char *func)
{
    *design = NULL;
    *owned = NULL;
    btfm_status st = btfm_model_check_finite(x, n, p, "x", func);
    if (st) return st;
    if (!n_delays && !hrf) {
        *design = x;
        return BTFM_OK;
    }
    const float *src = x;
    float *convolved = NULL;
    if (hrf) {
        int64_t L = 0;
        st = btfm_glm_hrf(BTFM_HRF_SPM, t_r, 1, 32.0, 0.0, NULL, 0, &L);
        double *h = st ? NULL : btfm_model_doubles((size_t)L, func);
        if (!st && !h) st = BTFM_E_NOMEM;
        if (!st) st = btfm_glm_hrf(BTFM_HRF_SPM, t_r, 1, 32.0, 0.0, h, (size_t)L, &L);
        convolved = st ? NULL : btfm_dense_zeros_f(n, p, func);
        if (!st && !convolved) st = BTFM_E_NOMEM;
        if (!st) st = convolve_runs(x, n, p, h, L, groups, convolved, func);
        btfm_free(h);
        if (st) {
            btfm_free(convolved);
            return st;
        }
        src = convolved;
    }
    if (!n_delays) {
        *design = *owned = convolved;
        return BTFM_OK;
    }
    float *out = btfm_dense_zeros_f(n, p * n_delays, func);
    if (!out) {
        btfm_free(convolved);
        return BTFM_E_NOMEM;
    }
    const int64_t width = p * n_delays;
    for (int64_t start = 0; start < n;) {
        int64_t end = run_end(groups, n, start);
        for (int d = 0; d < n_delays; d++)
            for (int64_t t = start; t < end; t++) {
                int64_t s = t - delays[d];
                if (s < start || s >= end) continue;
                memcpy(out + t * width + (int64_t)d * p, src + s * p, (size_t)p * sizeof *out);
            }
        start = end;
    }
    btfm_free(convolved);
    *design = *owned = out;
    return BTFM_OK;
}
