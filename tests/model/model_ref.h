/* Independent references for the model tests: data from a seeded generator and ridge
 * regression by the normal equations solved with Gaussian elimination, one refit per
 * training set (no eigendecomposition, no shortcut formula). */
#ifndef BTFM_TESTS_MODEL_REF_H
#define BTFM_TESTS_MODEL_REF_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t ref_state = 12345;

static inline double ref_uniform(void)
{
    ref_state = ref_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(ref_state >> 11) + 0.5) / 9007199254740992.0;
}

static inline double ref_normal(void)
{
    return sqrt(-2 * log(ref_uniform())) * cos(6.283185307179586 * ref_uniform());
}

/* x (n x p) with column scales and offsets, y = x W + noise (n x t), as floats. */
static inline void ref_data(float *x, float *y, int64_t n, int64_t p, int64_t t, double noise)
{
    double *W = malloc(sizeof(double) * (size_t)(p * t));
    for (int64_t k = 0; k < p * t; k++) W[k] = ref_normal();
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < p; k++) x[i * p + k] = (float)((1 + k % 3) * ref_normal() + k);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < t; j++) {
            double v = 3.0 + noise * ref_normal();
            for (int64_t k = 0; k < p; k++) v += x[i * p + k] * W[k * t + j];
            y[i * t + j] = (float)v;
        }
    free(W);
}

/* Solve a (m x m, destroyed) z = b (destroyed into z) by Gaussian elimination with
 * partial pivoting. */
static inline void ref_solve(double *a, double *b, int64_t m)
{
    for (int64_t c = 0; c < m; c++) {
        int64_t piv = c;
        for (int64_t r = c + 1; r < m; r++)
            if (fabs(a[r * m + c]) > fabs(a[piv * m + c])) piv = r;
        for (int64_t k = 0; k < m; k++) {
            double tmp = a[c * m + k];
            a[c * m + k] = a[piv * m + k];
            a[piv * m + k] = tmp;
        }
        double tmp = b[c];
        b[c] = b[piv];
        b[piv] = tmp;
        for (int64_t r = c + 1; r < m; r++) {
            double f = a[r * m + c] / a[c * m + c];
            for (int64_t k = c; k < m; k++) a[r * m + k] -= f * a[c * m + k];
            b[r] -= f * b[c];
        }
    }
    for (int64_t c = m - 1; c >= 0; c--) {
        for (int64_t k = c + 1; k < m; k++) b[c] -= a[c * m + k] * b[k];
        b[c] /= a[c * m + c];
    }
}

/* Weighted ridge of target j on the rows with use[i] != 0 (all rows when use is NULL):
 * coef (p) and *icpt minimize sum w (y - x b - b0)^2 + alpha |b|^2 (b0 free when
 * intercept, else 0). Features are divided by their weighted standard deviation first
 * when standardize (coef returned in input units). */
static inline void ref_ridge(const float *x, const float *y, int64_t n, int64_t p, int64_t t,
                      int64_t j, const double *w, const char *use, double alpha, int intercept,
                      int standardize, double *coef, double *icpt)
{
    double sw = 0, my = 0, *mx = calloc((size_t)p, sizeof(double));
    double *sd = malloc(sizeof(double) * (size_t)p);
    for (int64_t i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        double wi = w ? w[i] : 1;
        sw += wi;
        my += wi * y[i * t + j];
        for (int64_t k = 0; k < p; k++) mx[k] += wi * x[i * p + k];
    }
    my = intercept ? my / sw : 0;
    for (int64_t k = 0; k < p; k++) mx[k] = intercept ? mx[k] / sw : 0;
    for (int64_t k = 0; k < p; k++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) {
            if (use && !use[i]) continue;
            double v = x[i * p + k] - mx[k];
            s += (w ? w[i] : 1) * v * v;
        }
        sd[k] = standardize ? sqrt(s / sw) : 1;
    }
    double *a = calloc((size_t)(p * p), sizeof(double)), *b = calloc((size_t)p, sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        double wi = w ? w[i] : 1, yc = y[i * t + j] - my;
        for (int64_t k = 0; k < p; k++) {
            double xk = (x[i * p + k] - mx[k]) / sd[k];
            b[k] += wi * xk * yc;
            for (int64_t l = 0; l < p; l++) a[k * p + l] += wi * xk * (x[i * p + l] - mx[l]) / sd[l];
        }
    }
    for (int64_t k = 0; k < p; k++) a[k * p + k] += alpha;
    ref_solve(a, b, p);
    *icpt = my;
    for (int64_t k = 0; k < p; k++) {
        coef[k] = b[k] / sd[k];
        *icpt -= coef[k] * mx[k];
    }
    free(mx);
    free(sd);
    free(a);
    free(b);
}

#endif
