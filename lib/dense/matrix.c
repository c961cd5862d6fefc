/* Row-major matrices: checked allocations, strided copies between float and double, and
 * the per-column statistics that standardize data before a fit. */
#include <math.h>
#include <cblas.h>
#include "dense.h"

static void *zeros(int64_t rows, int64_t cols, size_t size, const char *where)
{
    size_t count, bytes;
    if (rows < 0 || cols < 0 || btfm_mul_size((size_t)rows, (size_t)cols, &count) ||
        btfm_mul_size(count ? count : 1, size, &bytes)) {
        btfm_fail(BTFM_E_NOMEM, "%s: a %lld x %lld matrix does not fit in memory", where,
                  (long long)rows, (long long)cols);
        return NULL;
    }
    void *p = btfm_calloc(count ? count : 1, size);
    if (!p) btfm_fail_nomem(where, bytes);
    return p;
}

double *btfm_dense_zeros(int64_t rows, int64_t cols, const char *where)
{
    return zeros(rows, cols, sizeof(double), where);
}

float *btfm_dense_zeros_f(int64_t rows, int64_t cols, const char *where)
{
    return zeros(rows, cols, sizeof(float), where);
}

void btfm_dense_copy_fd(const float *src, int64_t ld_src, int64_t rows, int64_t cols,
                        double *dst, int64_t ld_dst)
{
    for (int64_t t = 0; t < rows; t++) {
        const float *s = src + t * ld_src;
        double *d = dst + t * ld_dst;
        for (int64_t j = 0; j < cols; j++) d[j] = s[j];
    }
}

void btfm_dense_copy_df(const double *src, int64_t ld_src, int64_t rows, int64_t cols,
                        float *dst, int64_t ld_dst)
{
    for (int64_t t = 0; t < rows; t++) {
        const double *s = src + t * ld_src;
        float *d = dst + t * ld_dst;
        for (int64_t j = 0; j < cols; j++) d[j] = (float)s[j];
    }
}

btfm_status btfm_dense_gram_fd(const float *x, int64_t rows, int64_t cols, int64_t ld,
                               double *g, const char *where)
{
    enum { BLOCK = 256 };
    double *b = btfm_dense_zeros(rows, BLOCK, where);
    if (!b) return BTFM_E_NOMEM;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = i; j < rows; j++) g[i * rows + j] = 0.0;
    for (int64_t c0 = 0; c0 < cols; c0 += BLOCK) {
        const int64_t n = cols - c0 < BLOCK ? cols - c0 : BLOCK;
        btfm_dense_copy_fd(x + c0, ld, rows, n, b, n);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)rows, (blasint)n, 1.0, b,
                    (blasint)n, 1.0, g, (blasint)rows);
    }
    btfm_free(b);
    return BTFM_OK;
}

BTFM_HOT BTFM_SIMD_CLONES double btfm_dense_standardize(float *x, int64_t rows, int64_t cols,
                                                        int64_t ld, int zscore, double *mean,
                                                        double *scale)
{
    double sq_norm = 0.0;
    /* One pass for the statistics (sums and sums of squares in double), one to apply. */
    for (int64_t f = 0; f < cols; f++) mean[f] = scale[f] = 0.0;
    for (int64_t t = 0; t < rows; t++) {
        const float *row = x + t * ld;
        for (int64_t f = 0; f < cols; f++) {
            double v = row[f];
            mean[f] += v;
            scale[f] += v * v;
        }
    }
    for (int64_t f = 0; f < cols; f++) {
        mean[f] /= (double)rows;
        double var = scale[f] / (double)rows - mean[f] * mean[f];
        if (var < 0) var = 0;
        double sd = sqrt(var);
        scale[f] = zscore && sd > 0 ? sd : 1.0;
        sq_norm += (double)rows * var / (scale[f] * scale[f]);
    }
    /* The application in float, a tile of columns at a time. */
    enum { TILE = 256 };
    float mu[TILE], inv[TILE];
    for (int64_t f0 = 0; f0 < cols; f0 += TILE) {
        const int64_t n = cols - f0 < TILE ? cols - f0 : TILE;
        for (int64_t f = 0; f < n; f++) {
            mu[f] = (float)mean[f0 + f];
            inv[f] = (float)(1.0 / scale[f0 + f]);
        }
        for (int64_t t = 0; t < rows; t++) {
            float *row = x + t * ld + f0;
            for (int64_t f = 0; f < n; f++) row[f] = (row[f] - mu[f]) * inv[f];
        }
    }
    return sq_norm;
}

void btfm_dense_zscore_columns(double *x, int64_t rows, int64_t cols)
{
    double *mean = btfm_calloc((size_t)cols * 2, sizeof(double));
    if (!mean) { /* a column at a time: the same result without the workspace */
        for (int64_t f = 0; f < cols; f++) {
            double m = 0, v = 0;
            for (int64_t t = 0; t < rows; t++) m += x[t * cols + f];
            m /= (double)rows;
            for (int64_t t = 0; t < rows; t++) v += (x[t * cols + f] - m) * (x[t * cols + f] - m);
            double sd = sqrt(v / (double)rows);
            for (int64_t t = 0; t < rows; t++)
                x[t * cols + f] = sd > 0 ? (x[t * cols + f] - m) / sd : 0.0;
        }
        return;
    }
    double *var = mean + cols;
    for (int64_t t = 0; t < rows; t++)
        for (int64_t f = 0; f < cols; f++) mean[f] += x[t * cols + f];
    for (int64_t f = 0; f < cols; f++) mean[f] /= (double)rows;
    for (int64_t t = 0; t < rows; t++)
        for (int64_t f = 0; f < cols; f++) {
            double d = x[t * cols + f] - mean[f];
            var[f] += d * d;
        }
    for (int64_t f = 0; f < cols; f++) {
        double sd = sqrt(var[f] / (double)rows);
        var[f] = sd > 0 ? 1.0 / sd : 0.0;
    }
    for (int64_t t = 0; t < rows; t++)
        for (int64_t f = 0; f < cols; f++)
            x[t * cols + f] = (x[t * cols + f] - mean[f]) * var[f];
    btfm_free(mean);
}
