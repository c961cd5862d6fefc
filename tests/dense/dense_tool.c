/* Runs one lib/dense routine for tests/dense/test_dense_interop.py:
 *   dense_tool OP ROWS COLS [N_RHS]
 * reads ROWS x COLS doubles (row-major; then ROWS x N_RHS for lstsq) from stdin and writes
 * the results as doubles to stdout:
 *   svd: s, u, vt    thin_svd: rank, s, u, v    pinv: rank, pinv, cov    lstsq: rank, beta
 *   syev: w, v       det: det                    chol: R (upper, lower part zeroed)
 *   polar: the polar factor                      spd_inverse: log det, inverse
 * Exit status 1 with the library's message on stderr when the routine fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dense/dense.h"

static void put(const double *x, int64_t n)
{
    fwrite(x, sizeof(double), (size_t)n, stdout);
}

static int fail(void)
{
    fprintf(stderr, "%s\n", btfm_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    const char *op = argv[1];
    const int64_t rows = atoll(argv[2]), cols = atoll(argv[3]);
    const int64_t n_rhs = argc > 4 ? atoll(argv[4]) : 0;
    const int64_t p = rows < cols ? rows : cols;
    double *x = malloc(sizeof(double) * (size_t)(rows * cols + rows * n_rhs + 1));
    double *out = calloc((size_t)(4 * (rows + cols) * (rows + cols) + 8), sizeof(double));
    if (!x || !out) return 2;
    if (fread(x, sizeof(double), (size_t)(rows * cols + rows * n_rhs), stdin) !=
        (size_t)(rows * cols + rows * n_rhs))
        return 2;
    int64_t rank = 0;
    double value = 0;
    if (!strcmp(op, "svd")) {
        double *u = out, *s = u + rows * p, *vt = s + p;
        if (btfm_dense_svd(x, rows, cols, u, s, vt, "dense_tool")) return fail();
        put(s, p);
        put(u, rows * p);
        put(vt, p * cols);
    } else if (!strcmp(op, "thin_svd")) {
        double *u, *s, *v, det;
        if (btfm_dense_thin_svd(x, rows, cols, &u, &s, &v, &rank, &det, "dense_tool"))
            return fail();
        value = (double)rank;
        put(&value, 1);
        put(s, rank);
        put(u, rows * rank);
        put(v, cols * rank);
    } else if (!strcmp(op, "pinv")) {
        double *pinv = out, *cov = pinv + rows * cols;
        if (btfm_dense_pinv(x, rows, cols, -1, pinv, cov, &rank, NULL, "dense_tool"))
            return fail();
        value = (double)rank;
        put(&value, 1);
        put(pinv, cols * rows);
        put(cov, cols * cols);
    } else if (!strcmp(op, "lstsq")) {
        if (btfm_dense_lstsq(x, rows, cols, x + rows * cols, n_rhs, -1, out, &rank, "dense_tool"))
            return fail();
        value = (double)rank;
        put(&value, 1);
        put(out, cols * n_rhs);
    } else if (!strcmp(op, "syev")) {
        if (btfm_dense_syev(x, rows, out, "dense_tool")) return fail();
        put(out, rows);
        put(x, rows * rows);
    } else if (!strcmp(op, "det")) {
        if (btfm_dense_det(x, rows, &value, "dense_tool")) return fail();
        put(&value, 1);
    } else if (!strcmp(op, "chol")) {
        if (btfm_dense_chol(x, rows)) return fprintf(stderr, "not positive definite\n"), 1;
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < i; j++) x[i * rows + j] = 0;
        put(x, rows * rows);
    } else if (!strcmp(op, "polar")) {
        if (btfm_dense_polar(x, rows, cols, out, "dense_tool")) return fail();
        put(out, rows * cols);
    } else if (!strcmp(op, "spd_inverse")) {
        if (btfm_dense_spd_inverse(x, rows, out, &value))
            return fprintf(stderr, "not positive definite\n"), 1;
        put(&value, 1);
        put(out, rows * rows);
    } else {
        return 2;
    }
    free(x);
    free(out);
    return 0;
}
