/* The dense-algebra unit (lib/dense) against closed forms: matrices built from known
 * factors (Householder reflections, known spectra), the path graph's tridiagonal spectrum,
 * least squares whose solutions are known by hand, and the finite scan's positions. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include "unit.h"
#include "dense/dense.h"

/* The Householder reflection I - 2 v v^T / v^T v (n x n) for v_i = sin(seed * (i + 1)) + 0.3:
 * symmetric and orthogonal, so a matrix with known factors. */
static void householder(double *q, int n, double seed)
{
    double v[64], vv = 0;
    for (int i = 0; i < n; i++) {
        v[i] = sin(seed * (i + 1)) + 0.3;
        vv += v[i] * v[i];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) q[i * n + j] = (i == j) - 2.0 * v[i] * v[j] / vv;
}

/* c (m x n) = a (m x k) b (k x n), or a^T b with a (k x m) when ta. */
static void matmul(const double *a, int ta, const double *b, double *c, int m, int k, int n)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int l = 0; l < k; l++) s += (ta ? a[l * m + i] : a[i * k + l]) * b[l * n + j];
            c[i * n + j] = s;
        }
}

static double max_abs_diff(const double *a, const double *b, int n)
{
    double d = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

/* x (rows x cols) = U[:, :p] diag(s) V[:, :p]^T from two reflections, p = min(rows, cols). */
static void known_svd(double *x, int rows, int cols, const double *s)
{
    double u[64 * 64], v[64 * 64];
    int p = rows < cols ? rows : cols;
    householder(u, rows, 0.7);
    householder(v, cols, 1.9);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double acc = 0;
            for (int k = 0; k < p; k++) acc += u[i * rows + k] * s[k] * v[j * cols + k];
            x[i * cols + j] = acc;
        }
}

START_TEST(test_zeros_and_copies)
{
    double *z = btfm_dense_zeros(3, 5, "test");
    ck_assert_ptr_nonnull(z);
    for (int i = 0; i < 15; i++) ck_assert(z[i] == 0.0);
    btfm_free(z);
    z = btfm_dense_zeros(0, 7, "test"); /* an empty matrix is a valid block */
    ck_assert_ptr_nonnull(z);
    btfm_free(z);
    ck_assert_ptr_null(btfm_dense_zeros(INT64_MAX / 2, 4, "test: design"));
    ck_assert_int_eq(btfm_last_error_status(), BTFM_E_NOMEM);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "test: design: a "));
    ck_assert_ptr_null(btfm_dense_zeros(-1, 4, "test"));
    float *f = btfm_dense_zeros_f(2, 3, "test");
    ck_assert_ptr_nonnull(f);
    btfm_free(f);

    /* Columns 2..4 of a 3 x 7 float block into a packed 3 x 3 double one, and back into
     * columns 1..3 of a 3 x 5 float block. */
    float src[21], back[15];
    double mid[9];
    for (int i = 0; i < 21; i++) src[i] = (float)i * 0.5f - 3.0f;
    for (int i = 0; i < 15; i++) back[i] = -99.0f;
    btfm_dense_copy_fd(src + 2, 7, 3, 3, mid, 3);
    for (int t = 0; t < 3; t++)
        for (int j = 0; j < 3; j++) ck_assert(mid[t * 3 + j] == (double)src[t * 7 + 2 + j]);
    btfm_dense_copy_df(mid, 3, 3, 3, back + 1, 5);
    for (int t = 0; t < 3; t++)
        for (int j = 0; j < 5; j++)
            ck_assert(back[t * 5 + j] == (j >= 1 && j <= 3 ? src[t * 7 + 1 + j] : -99.0f));
}
END_TEST

START_TEST(test_finite_scan)
{
    /* Sizes around the fast test's block (4096 values) and odd widths. */
    const int64_t shapes[][2] = {{1, 1}, {7, 3}, {4097, 1}, {1, 4099}, {683, 6}, {300, 17}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t rows = shapes[s][0], cols = shapes[s][1], ld = cols + 2;
        float *x = calloc((size_t)(rows * ld), sizeof(float));
        double *d = calloc((size_t)(rows * ld), sizeof(double));
        int64_t r, c;
        ck_assert_int_eq(btfm_dense_find_nonfinite(x, rows, cols, ld, &r, &c), 0);
        ck_assert_int_eq(btfm_dense_find_nonfinite_d(d, rows, cols, cols, &r, &c), 0);
        /* Padding beyond the columns is not looked at. */
        x[cols] = NAN;
        ck_assert_int_eq(btfm_dense_find_nonfinite(x, rows, cols, ld, &r, &c), 0);
        x[cols] = 0.0f;
        const int64_t br = rows - 1 - rows / 3, bc = cols / 2;
        x[br * ld + bc] = INFINITY;
        x[(rows - 1) * ld + cols - 1] = NAN; /* a later one is not reported */
        ck_assert_int_eq(btfm_dense_find_nonfinite(x, rows, cols, ld, &r, &c), 1);
        ck_assert(r == br && c == bc);
        d[br * cols + bc] = -INFINITY;
        ck_assert_int_eq(btfm_dense_find_nonfinite_d(d, rows, cols, cols, &r, &c), 1);
        ck_assert(r == br && c == bc);
        ck_assert_int_eq(btfm_dense_any_nonfinite(x, (size_t)(br * ld + bc)), 0);
        ck_assert_int_eq(btfm_dense_any_nonfinite(x, (size_t)(br * ld + bc + 1)), 1);
        free(x);
        free(d);
    }
    /* The largest finite values are finite. */
    float big[2] = {FLT_MAX, -FLT_MAX};
    double dbig[2] = {DBL_MAX, -DBL_MIN};
    ck_assert_int_eq(btfm_dense_any_nonfinite(big, 2), 0);
    ck_assert_int_eq(btfm_dense_any_nonfinite_d(dbig, 2), 0);

    ck_assert_int_eq(btfm_dense_fail_nonfinite("f", "epoch 2", "channel", 5, "sample", 17,
                                               NAN, "advice"), BTFM_E_NUMERIC);
    ck_assert_str_eq(btfm_last_error(), "f: epoch 2, channel 5, sample 17 holds NaN; expected "
                                        "finite values (advice)");
    btfm_dense_fail_nonfinite("g", NULL, "voxel", 0, "volume", 3, -INFINITY, NULL);
    ck_assert_str_eq(btfm_last_error(), "g: voxel 0, volume 3 holds -Inf; expected finite values");
}
END_TEST

START_TEST(test_standardize)
{
    /* Column 0: 1..5 (mean 3, population sd sqrt 2); column 1 constant; column 2 = -2 t. */
    float x[5 * 4];
    for (int t = 0; t < 5; t++) {
        x[t * 4 + 0] = (float)(t + 1);
        x[t * 4 + 1] = 7.0f;
        x[t * 4 + 2] = -2.0f * (float)t;
        x[t * 4 + 3] = 1234.0f; /* outside the block: untouched */
    }
    double mean[3], scale[3];
    double sq = btfm_dense_standardize(x, 5, 3, 4, 1, mean, scale);
    ck_assert(fabs(mean[0] - 3) < 1e-12 && fabs(scale[0] - sqrt(2.0)) < 1e-12);
    ck_assert(fabs(mean[1] - 7) < 1e-12 && scale[1] == 1.0);
    ck_assert(fabs(mean[2] + 4) < 1e-12 && fabs(scale[2] - 2 * sqrt(2.0)) < 1e-12);
    ck_assert(fabs(sq - 10.0) < 1e-9); /* two z-scored columns of 5 values: 5 each */
    for (int t = 0; t < 5; t++) {
        ck_assert(fabs(x[t * 4 + 0] - (t - 2) / sqrt(2.0)) < 1e-6);
        ck_assert(x[t * 4 + 1] == 0.0f && x[t * 4 + 3] == 1234.0f);
    }
    double d[4 * 2] = {1, 10, 2, 10, 3, 10, 6, 10};
    btfm_dense_zscore_columns(d, 4, 2);
    const double sd = sqrt((4 + 1 + 0 + 9) / 4.0); /* mean 3 */
    ck_assert(fabs(d[0] + 2 / sd) < 1e-12 && fabs(d[6] - 3 / sd) < 1e-12);
    ck_assert(d[1] == 0 && d[7] == 0);
}
END_TEST

START_TEST(test_symmetric_eigen)
{
    enum { N = 7 };
    const double lambda[N] = {-1.5, 4.0, 0.25, 9.0, 2.0, 0.0, 3.5};
    double q[N * N], a[N * N], m[N * N], w[N], t[N * N];
    householder(q, N, 0.4);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < N; k++) s += q[i * N + k] * lambda[k] * q[j * N + k];
            a[i * N + j] = s;
        }
    memcpy(m, a, sizeof m);
    for (int i = 1; i < N; i++)
        for (int j = 0; j < i; j++) m[i * N + j] = 1e30; /* only the upper part is read */
    ck_assert_ok(btfm_dense_syev(m, N, w, "test"));
    const double sorted[N] = {9.0, 4.0, 3.5, 2.0, 0.25, 0.0, -1.5};
    ck_assert(max_abs_diff(w, sorted, N) < 1e-12);
    /* a v_k = w_k v_k for the columns of m */
    matmul(a, 0, m, t, N, N, N);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) ck_assert(fabs(t[i * N + k] - w[k] * m[i * N + k]) < 1e-12);

    float mf[N * N], wf[N];
    for (int i = 0; i < N * N; i++) mf[i] = (float)a[i];
    ck_assert_ok(btfm_dense_syev_f(mf, N, wf, "test"));
    for (int k = 0; k < N; k++) ck_assert(fabs(wf[k] - sorted[k]) < 1e-5);
    for (int k = 0; k < N; k++) { /* the same vectors up to sign */
        double dot = 0;
        for (int i = 0; i < N; i++) dot += mf[i * N + k] * m[i * N + k];
        ck_assert(fabs(fabs(dot) - 1) < 1e-5);
    }

    double top_w[3], top_v[N * 3];
    memcpy(m, a, sizeof m);
    ck_assert_ok(btfm_dense_syev_top(m, N, 3, top_w, top_v, "test"));
    ck_assert(max_abs_diff(top_w, sorted, 3) < 1e-12);
    for (int k = 0; k < 3; k++) {
        double r = 0;
        for (int i = 0; i < N; i++) {
            double av = 0;
            for (int j = 0; j < N; j++) av += a[i * N + j] * top_v[j * 3 + k];
            r = fmax(r, fabs(av - top_w[k] * top_v[i * 3 + k]));
        }
        ck_assert(r < 1e-12);
    }
}
END_TEST

START_TEST(test_tridiagonal)
{
    /* The path graph's adjacency (0 on the diagonal, 1 beside it) has eigenvalues
     * 2 cos(pi j / (n + 1)) and eigenvectors sqrt(2 / (n + 1)) sin(pi i j / (n + 1)). */
    enum { N = 31, K = 4 };
    double d[N], e[N], w[K], v[K * N];
    for (int i = 0; i < N; i++) {
        d[i] = 0;
        e[i] = 1;
    }
    ck_assert_ok(btfm_dense_tridiag_top(d, e, N, K, w, v, "test"));
    for (int j = 1; j <= K; j++) {
        ck_assert(fabs(w[j - 1] - 2 * cos(M_PI * j / (N + 1))) < 1e-13);
        double dot = 0;
        for (int i = 1; i <= N; i++)
            dot += v[(j - 1) * N + i - 1] * sqrt(2.0 / (N + 1)) * sin(M_PI * i * j / (N + 1));
        ck_assert(fabs(fabs(dot) - 1) < 1e-12);
    }
}
END_TEST

START_TEST(test_svd)
{
    const int shapes[][2] = {{9, 5}, {5, 9}, {6, 6}, {13, 1}};
    const double s_known[9] = {7.0, 3.0, 2.5, 1.0, 0.5, 0.25, 0.2, 0.1, 0.05};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const int rows = shapes[c][0], cols = shapes[c][1], p = rows < cols ? rows : cols;
        double x[81], u[81], s[9], vt[81], back[81];
        known_svd(x, rows, cols, s_known);
        ck_assert_ok(btfm_dense_svd(x, rows, cols, u, s, vt, "test"));
        ck_assert(max_abs_diff(s, s_known, p) < 1e-12);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                double acc = 0;
                for (int k = 0; k < p; k++) acc += u[i * p + k] * s[k] * vt[k * cols + j];
                back[i * cols + j] = acc;
            }
        ck_assert(max_abs_diff(back, x, rows * cols) < 1e-12);

        /* The Gram route: the same values; u and v orthonormal and x v = u s. */
        double *gu, *gs, *gv, v_det;
        int64_t rank;
        ck_assert_ok(btfm_dense_thin_svd(x, rows, cols, &gu, &gs, &gv, &rank, &v_det, "test"));
        ck_assert_int_eq(rank, p);
        ck_assert(max_abs_diff(gs, s_known, p) < 1e-9);
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < p; k++) {
                double xv = 0;
                for (int j = 0; j < cols; j++) xv += x[i * cols + j] * gv[j * p + k];
                ck_assert(fabs(xv - gu[i * p + k] * gs[k]) < 1e-9);
            }
        if (rank == cols && rows > cols) ck_assert(fabs(fabs(v_det) - 1) < 1e-9);
        else ck_assert(v_det == 0.0);
        btfm_free(gu);
        btfm_free(gs);
        btfm_free(gv);
    }
    /* Rank 2 of a 6 x 8 matrix: the Gram route keeps 2 directions. */
    const double s_low[6] = {4.0, 1.0, 0, 0, 0, 0};
    double x[48], *gu, *gs, v_det;
    int64_t rank;
    known_svd(x, 6, 8, s_low);
    ck_assert_ok(btfm_dense_thin_svd(x, 6, 8, &gu, &gs, NULL, &rank, &v_det, "test"));
    ck_assert_int_eq(rank, 2);
    ck_assert(fabs(gs[0] - 4) < 1e-12 && fabs(gs[1] - 1) < 1e-12);
    btfm_free(gu);
    btfm_free(gs);
    /* All zeros: one null direction keeps shapes valid. */
    memset(x, 0, sizeof x);
    ck_assert_ok(btfm_dense_thin_svd(x, 6, 8, &gu, &gs, NULL, &rank, &v_det, "test"));
    ck_assert(rank == 1 && gs[0] == 0);
    btfm_free(gu);
    btfm_free(gs);
}
END_TEST

START_TEST(test_polar_and_det)
{
    /* m = Q S with Q (7 x 4) orthonormal columns and S = R diag(d) R^T positive definite:
     * the polar factor is Q. */
    enum { R = 7, C = 4 };
    double h[R * R], g[C * C], q[R * C], sm[C * C], m[R * C], out[R * C];
    const double dg[C] = {3, 1, 0.5, 2};
    householder(h, R, 1.1);
    householder(g, C, 2.3);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) q[i * C + j] = h[i * R + j];
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) {
            double acc = 0;
            for (int k = 0; k < C; k++) acc += g[i * C + k] * dg[k] * g[j * C + k];
            sm[i * C + j] = acc;
        }
    matmul(q, 0, sm, m, R, C, C);
    ck_assert_ok(btfm_dense_polar(m, R, C, out, "test"));
    ck_assert(max_abs_diff(out, q, R * C) < 1e-12);

    /* A reflection has det -1, a product of two +1; a singular matrix 0; an upper
     * triangle the product of its diagonal. */
    double det;
    ck_assert_ok(btfm_dense_det(h, R, &det, "test"));
    ck_assert(fabs(det + 1) < 1e-12);
    double hh[R * R];
    matmul(h, 0, h, hh, R, R, R);
    ck_assert_ok(btfm_dense_det(hh, R, &det, "test"));
    ck_assert(fabs(det - 1) < 1e-12);
    double tri[9] = {2, 5, -1, 0, -3, 4, 0, 0, 0.5};
    ck_assert_ok(btfm_dense_det(tri, 3, &det, "test"));
    ck_assert(fabs(det + 3) < 1e-14);
    double sing[9] = {1, 2, 3, 2, 4, 6, 0, 1, 1};
    ck_assert_ok(btfm_dense_det(sing, 3, &det, "test"));
    ck_assert(fabs(det) < 1e-14);
}
END_TEST

START_TEST(test_pinv_and_lstsq)
{
    /* Full column rank 9 x 5: pinv x = I, cov = (x^T x)^-1 = V diag(1/s^2) V^T, and the
     * condition number s_max / s_min. */
    const double s_known[5] = {7.0, 3.0, 2.5, 1.0, 0.5};
    double x[45], pinv[45], cov[25], t[81];
    known_svd(x, 9, 5, s_known);
    int64_t rank;
    double cond;
    ck_assert_ok(btfm_dense_pinv(x, 9, 5, -1, pinv, cov, &rank, &cond, "test"));
    ck_assert_int_eq(rank, 5);
    ck_assert(fabs(cond - 14.0) < 1e-10);
    matmul(pinv, 0, x, t, 5, 9, 5);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) ck_assert(fabs(t[i * 5 + j] - (i == j)) < 1e-12);
    double xtx[25], prod[25];
    matmul(x, 1, x, xtx, 5, 9, 5);
    matmul(cov, 0, xtx, prod, 5, 5, 5);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) ck_assert(fabs(prod[i * 5 + j] - (i == j)) < 1e-10);

    /* Rank 3 of 9 x 5: the four Moore-Penrose conditions hold over the kept values. */
    const double s_low[5] = {5.0, 2.0, 1.0, 0.0, 0.0};
    known_svd(x, 9, 5, s_low);
    ck_assert_ok(btfm_dense_pinv(x, 9, 5, -1, pinv, NULL, &rank, &cond, "test"));
    ck_assert_int_eq(rank, 3);
    ck_assert(cond > 1e12);
    double xp[81], xpx[45], pxp[45];
    matmul(x, 0, pinv, xp, 9, 5, 9);  /* x pinv, 9 x 9 */
    matmul(xp, 0, x, xpx, 9, 9, 5);   /* x pinv x = x */
    ck_assert(max_abs_diff(xpx, x, 45) < 1e-12);
    matmul(pinv, 0, x, t, 5, 9, 5);   /* pinv x, 5 x 5 */
    matmul(t, 0, pinv, pxp, 5, 5, 9); /* pinv x pinv = pinv */
    ck_assert(max_abs_diff(pxp, pinv, 45) < 1e-12);
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++) ck_assert(fabs(xp[i * 9 + j] - xp[j * 9 + i]) < 1e-12);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) ck_assert(fabs(t[i * 5 + j] - t[j * 5 + i]) < 1e-12);

    /* A line through 4 points: intercept and slope by the textbook formulas. */
    const double tt[4] = {0, 1, 3, 4}, yy[4] = {1, 2, 2, 5};
    double design[8], y2[8], beta[4];
    for (int i = 0; i < 4; i++) {
        design[i * 2] = 1;
        design[i * 2 + 1] = tt[i];
        y2[i * 2] = yy[i];
        y2[i * 2 + 1] = -3 * yy[i]; /* a second right-hand side */
    }
    double mt = 2, my = 2.5, sxy = 0, sxx = 0;
    for (int i = 0; i < 4; i++) {
        sxy += (tt[i] - mt) * (yy[i] - my);
        sxx += (tt[i] - mt) * (tt[i] - mt);
    }
    ck_assert_ok(btfm_dense_lstsq(design, 4, 2, y2, 2, -1, beta, &rank, "test"));
    ck_assert_int_eq(rank, 2);
    ck_assert(fabs(beta[2] - sxy / sxx) < 1e-12 && fabs(beta[0] - (my - sxy / sxx * mt)) < 1e-12);
    ck_assert(fabs(beta[3] + 3 * beta[2]) < 1e-12 && fabs(beta[1] + 3 * beta[0]) < 1e-12);
    /* Underdetermined and rank deficient: the minimum-norm solutions. */
    double one_row[3] = {1, 1, 2}, rhs = 6, b3[3];
    ck_assert_ok(btfm_dense_lstsq(one_row, 1, 3, &rhs, 1, -1, b3, &rank, "test"));
    ck_assert_int_eq(rank, 1);
    ck_assert(fabs(b3[0] - 1) < 1e-12 && fabs(b3[1] - 1) < 1e-12 && fabs(b3[2] - 2) < 1e-12);
    double twin[6] = {1, 1, 2, 2, 3, 3}, ty[3] = {2, 4, 6}, b2[2];
    ck_assert_ok(btfm_dense_lstsq(twin, 3, 2, ty, 1, -1, b2, &rank, "test"));
    ck_assert_int_eq(rank, 1);
    ck_assert(fabs(b2[0] - 1) < 1e-12 && fabs(b2[1] - 1) < 1e-12);
}
END_TEST

START_TEST(test_cholesky)
{
    /* a = R^T R for a known upper R. */
    enum { N = 5 };
    double r[N * N] = {0}, a[N * N], f[N * N];
    for (int i = 0; i < N; i++)
        for (int j = i; j < N; j++) r[i * N + j] = i == j ? 1.0 + i : 0.1 * (i + 2 * j) - 0.3;
    matmul(r, 1, r, a, N, N, N);
    memcpy(f, a, sizeof f);
    ck_assert_int_eq(btfm_dense_chol(f, N), 0);
    for (int i = 0; i < N; i++)
        for (int j = i; j < N; j++) ck_assert(fabs(f[i * N + j] - r[i * N + j]) < 1e-12);
    /* Solves against x known: b = a x. */
    double x[N * 2], b[N * 2];
    for (int i = 0; i < N * 2; i++) x[i] = cos(i + 0.5);
    matmul(a, 0, x, b, N, N, 2);
    btfm_dense_chol_solve(f, N, b, 2);
    ck_assert(max_abs_diff(b, x, N * 2) < 1e-12);
    matmul(a, 0, x, b, N, N, 2);
    memcpy(f, a, sizeof f);
    ck_assert_int_eq(btfm_dense_spd_solve(f, N, b, 2), 0);
    ck_assert(max_abs_diff(b, x, N * 2) < 1e-12);
    /* From the right: c = y a, solved for y (3 x N). */
    double y[3 * N], c[3 * N];
    for (int i = 0; i < 3 * N; i++) y[i] = sin(i * 1.3);
    matmul(y, 0, a, c, 3, N, N);
    memcpy(f, a, sizeof f);
    ck_assert_int_eq(btfm_dense_spd_solve_right(f, N, c, 3), 0);
    ck_assert(max_abs_diff(c, y, 3 * N) < 1e-12);
    /* Inverse and log determinant (det a = prod R_ii^2 = (5!)^2). */
    double inv[N * N], ld, prod[N * N];
    ck_assert_int_eq(btfm_dense_spd_inverse(a, N, inv, &ld), 0);
    ck_assert(fabs(ld - 2 * log(120.0)) < 1e-12);
    matmul(inv, 0, a, prod, N, N, N);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) ck_assert(fabs(prod[i * N + j] - (i == j)) < 1e-12);
    /* Not positive definite: the leading minor of order 2 of [[1, 2], [2, 1]]. */
    double bad[4] = {1, 2, 2, 1};
    ck_assert_int_eq(btfm_dense_chol(bad, 2), 2);
    double bad2[4] = {1, 2, 2, 1};
    ck_assert_int_eq(btfm_dense_spd_inverse(bad2, 2, inv, &ld), 2);
}
END_TEST

START_TEST(test_qr_bases)
{
    /* Columns 1, t, 2 + 3 t, t^2 over 6 points: rank 3, the third column dependent. */
    enum { T = 6 };
    double x[T * 4], *q;
    int64_t rank, dependent;
    for (int t = 0; t < T; t++) {
        x[t * 4] = 1;
        x[t * 4 + 1] = t;
        x[t * 4 + 2] = 2 + 3 * t;
        x[t * 4 + 3] = t * t;
    }
    ck_assert_ok(btfm_dense_basis(x, T, 4, 1e-10, &q, &rank, &dependent, "test"));
    ck_assert_int_eq(rank, 3);
    ck_assert(dependent == 0 || dependent == 1 || dependent == 2);
    double qtq[9];
    matmul(q, 1, q, qtq, 3, T, 3);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) ck_assert(fabs(qtq[i * 3 + j] - (i == j)) < 1e-12);
    /* Projecting out the span leaves t^3's residual on a cubic's last orthogonal
     * direction: orthogonal to every column, and t^2 itself leaves nothing. */
    double y[T * 2], work[3 * 2];
    for (int t = 0; t < T; t++) {
        y[t * 2] = t * t;
        y[t * 2 + 1] = t * t * t;
    }
    btfm_dense_project_out(q, T, 3, y, 2, work);
    for (int t = 0; t < T; t++) ck_assert(fabs(y[t * 2]) < 1e-11);
    for (int c = 0; c < 4; c++) {
        double dot = 0;
        for (int t = 0; t < T; t++) dot += x[t * 4 + c] * y[t * 2 + 1];
        ck_assert(fabs(dot) < 1e-10);
    }
    btfm_free(q);
    ck_assert_ok(btfm_dense_basis(x, T, 2, 1e-10, &q, &rank, &dependent, "test"));
    ck_assert(rank == 2 && dependent == -1);
    btfm_free(q);

    /* Seeded orthonormal matrices: orthonormal, the same for a seed, other for another. */
    double a[11 * 4], b[11 * 4], g[16];
    ck_assert_ok(btfm_dense_random_orthonormal(a, 11, 4, 42, "test"));
    ck_assert_ok(btfm_dense_random_orthonormal(b, 11, 4, 42, "test"));
    ck_assert(memcmp(a, b, sizeof a) == 0);
    matmul(a, 1, a, g, 4, 11, 4);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) ck_assert(fabs(g[i * 4 + j] - (i == j)) < 1e-12);
    ck_assert_ok(btfm_dense_random_orthonormal(b, 11, 4, 43, "test"));
    ck_assert(max_abs_diff(a, b, 44) > 0.1);
}
END_TEST

static Suite *dense_suite(void)
{
    Suite *s = suite_create("dense");
    TCase *tc = tcase_create("dense");
    unit_set_timeout(tc, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(tc, test_zeros_and_copies);
    tcase_add_test(tc, test_finite_scan);
    tcase_add_test(tc, test_standardize);
    tcase_add_test(tc, test_symmetric_eigen);
    tcase_add_test(tc, test_tridiagonal);
    tcase_add_test(tc, test_svd);
    tcase_add_test(tc, test_polar_and_det);
    tcase_add_test(tc, test_pinv_and_lstsq);
    tcase_add_test(tc, test_cholesky);
    tcase_add_test(tc, test_qr_bases);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(dense_suite)
