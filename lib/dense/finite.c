/* The finite-value scan every layer runs on its inputs, and the one message that names
 * the first NaN or Inf found. */
#include <math.h>
#include <string.h>
#include "dense.h"

/* An exponent of all ones is NaN or Inf: an integer test the compiler vectorizes. */
BTFM_HOT int btfm_dense_any_nonfinite(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return bad != 0;
}

BTFM_HOT int btfm_dense_any_nonfinite_d(const double *x, size_t n)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, x + i, sizeof bits);
        bad |= (bits & 0x7ff0000000000000u) == 0x7ff0000000000000u;
    }
    return bad != 0;
}

/* The scan of x (float when size is 4, else double): whole blocks of about 4096 values
 * (whole rows when contiguous) through the fast test, element by element only in a
 * block that fails it. */
static int find(const void *x, size_t size, int64_t rows, int64_t cols, int64_t ld,
                int64_t *row, int64_t *col)
{
    const float *f = x;
    const double *d = x;
    const int64_t block = ld == cols && cols > 0 ? 1 + 4096 / cols : 1;
    for (int64_t t0 = 0; t0 < rows; t0 += block) {
        const int64_t n = rows - t0 < block ? rows - t0 : block;
        const size_t first = (size_t)(t0 * ld), count = (size_t)((n - 1) * ld + cols);
        if (size == 4 ? !btfm_dense_any_nonfinite(f + first, count)
                      : !btfm_dense_any_nonfinite_d(d + first, count))
            continue;
        for (int64_t t = t0; t < t0 + n; t++)
            for (int64_t j = 0; j < cols; j++)
                if (!isfinite(size == 4 ? (double)f[t * ld + j] : d[t * ld + j])) {
                    *row = t;
                    *col = j;
                    return 1;
                }
    }
    return 0;
}

int btfm_dense_find_nonfinite(const float *x, int64_t rows, int64_t cols, int64_t ld,
                              int64_t *row, int64_t *col)
{
    return find(x, sizeof *x, rows, cols, ld, row, col);
}

int btfm_dense_find_nonfinite_d(const double *x, int64_t rows, int64_t cols, int64_t ld,
                                int64_t *row, int64_t *col)
{
    return find(x, sizeof *x, rows, cols, ld, row, col);
}

btfm_status btfm_dense_fail_nonfinite(const char *func, const char *context,
                                      const char *col_name, int64_t col,
                                      const char *row_name, int64_t row, double value,
                                      const char *advice)
{
    const char *what = isnan(value) ? "NaN" : value > 0 ? "Inf" : "-Inf";
    return btfm_fail(BTFM_E_NUMERIC, "%s: %s%s%s %lld, %s %lld holds %s; expected finite "
                     "values%s%s%s", func, context ? context : "", context ? ", " : "",
                     col_name, (long long)col, row_name, (long long)row, what,
                     advice ? " (" : "", advice ? advice : "", advice ? ")" : "");
}
