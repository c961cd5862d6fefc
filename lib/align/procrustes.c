/* Orthogonal Procrustes through T-sized problems (Schoenemann 1966; PyMVPA's
 * ProcrusteanMapper with its scale defect fixed). For X = f w^T (T x V, f T x r, w with
 * orthonormal columns), X^T Y = w W with W = f^T Y (r x V'), so the rotation is
 * w polar(W): nothing V x V is ever formed. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "align_internal.h"
#include "core/scratch.h"

void btfm_align_rotation_clear(align_rotation *r)
{
    btfm_free(r->p);
    btfm_free(r->qt);
    memset(r, 0, sizeof *r);
}

btfm_status btfm_align_procrustes(const align_source *src, const double *target,
                             int64_t n_target, int scaling, int reflection,
                             align_rotation *out)
{
    const int64_t T = src->n_times, r = src->rank;
    memset(out, 0, sizeof *out);
    double *w = btfm_dense_zeros(r, n_target, "aligner: Procrustes");
    double *p = NULL, *d = NULL, *v = NULL, *qt = NULL;
    int64_t r2 = 0;
    double v_det;
    btfm_status st = w ? BTFM_OK : BTFM_E_NOMEM;
    if (st) goto done;
    /* W = f^T Y (r x V') and its thin SVD p d qt (from the smaller Gram matrix). */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r, (blasint)n_target,
                (blasint)T, 1.0, src->f, (blasint)r, target, (blasint)n_target, 0.0, w,
                (blasint)n_target);
    if ((st = btfm_dense_thin_svd(w, r, n_target, &p, &d, &v, &r2, &v_det, "aligner"))) goto done;
    if (!(d[0] > 0)) {
        st = btfm_fail(BTFM_E_NUMERIC, "aligner: Procrustes: source and target are "
                       "uncorrelated (X^T Y = 0); nothing to align");
        goto done;
    }
    qt = btfm_dense_zeros(r2, n_target, "aligner: Procrustes");
    if (!qt) { st = BTFM_E_NOMEM; goto done; }
    for (int64_t k = 0; k < r2; k++)
        for (int64_t j = 0; j < n_target; j++) qt[k * n_target + j] = v[j * r2 + k];
    double trace = 0.0;
    for (int64_t k = 0; k < r2; k++) trace += d[k];

    /* A reflection can only be forced when X^T Y has full rank and is square; otherwise a
     * null direction can be flipped at no cost, so every solution has a proper twin. */
    if (!reflection && src->v_det != 0.0 && r2 == r && r == src->n_features &&
        n_target == r) {
        double det_p, det_q;
        if ((st = btfm_dense_det(p, r, &det_p, "aligner")) ||
            (st = btfm_dense_det(qt, r, &det_q, "aligner")))
            goto done;
        if (src->v_det * det_p * det_q < 0) {
            for (int64_t i = 0; i < r; i++) p[i * r2 + r2 - 1] = -p[i * r2 + r2 - 1];
            /* The scale uses the singular values with the sign actually applied
             * (Umeyama 1991), not PyMVPA's overwritten ones. */
            trace -= 2.0 * d[r2 - 1];
        }
    }
    /* ||X||^2 = ||f||^2; ||X R||^2 = scale^2 ||f p||^2 (qt has orthonormal rows). */
    double norm2 = 0.0, fp2 = 0.0;
    for (int64_t j = 0; j < T * r; j++) norm2 += src->f[j] * src->f[j];
    double *fp = btfm_dense_zeros(T, r2, "aligner: Procrustes");
    if (!fp) { st = BTFM_E_NOMEM; goto done; }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r2,
                (blasint)r, 1.0, src->f, (blasint)r, p, (blasint)r2, 0.0, fp, (blasint)r2);
    for (int64_t j = 0; j < T * r2; j++) fp2 += fp[j] * fp[j];
    btfm_free(fp);
    out->scale = scaling ? trace / norm2 : 1.0;
    out->trace = trace;
    out->mapped_sq = out->scale * out->scale * fp2;
    out->rank = r2;
    out->p = p;
    out->qt = qt;
    p = qt = NULL;
done:
    btfm_free(w);
    btfm_free(p);
    btfm_free(d);
    btfm_free(v);
    btfm_free(qt);
    return st;
}

btfm_status btfm_align_rotation_apply(const align_source *src, const align_rotation *r,
                                 int64_t n_target, double *mapped)
{
    const int64_t T = src->n_times, rank = src->rank;
    double *left = btfm_dense_zeros(T, r->rank, "aligner: Procrustes");
    if (!left) return BTFM_E_NOMEM;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r->rank,
                (blasint)rank, r->scale, src->f, (blasint)rank, r->p, (blasint)r->rank, 0.0,
                left, (blasint)r->rank);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)n_target,
                (blasint)r->rank, 1.0, left, (blasint)r->rank, r->qt, (blasint)n_target, 0.0,
                mapped, (blasint)n_target);
    btfm_free(left);
    return BTFM_OK;
}

/* Whether the reflection constraint can bite: X^T Y square and of full rank. */
static int reflection_applies(const align_source *src, int64_t n_target, int reflection)
{
    return !reflection && src->v_det != 0.0 && src->rank == src->n_features &&
           n_target == src->rank;
}

/* The double-precision route above, on float target and output. */
static btfm_status procrustes_double(const align_source *src, const float *target,
                                     int64_t n_target, int scaling, int reflection,
                                     float *mapped, align_rotation *out)
{
    const int64_t T = src->n_times;
    double *y = btfm_dense_zeros(T, n_target, "aligner: Procrustes");
    double *m = mapped ? btfm_dense_zeros(T, n_target, "aligner: Procrustes") : NULL;
    align_rotation rot;
    btfm_status st = (!y || (mapped && !m)) ? BTFM_E_NOMEM : BTFM_OK;
    if (!st) {
        for (int64_t j = 0; j < T * n_target; j++) y[j] = target[j];
        st = btfm_align_procrustes(src, y, n_target, scaling, reflection, &rot);
    }
    if (!st && mapped) {
        st = btfm_align_rotation_apply(src, &rot, n_target, m);
        for (int64_t j = 0; !st && j < T * n_target; j++) mapped[j] = (float)m[j];
    }
    if (!st && out) *out = rot;
    else if (!st) btfm_align_rotation_clear(&rot);
    btfm_free(y);
    btfm_free(m);
    return st;
}

/* (Q G Q)[1:, 1:] ((n-1) x (n-1), upper part) for the symmetric n x n g given by its
 * upper part, with Q = I - beta h h^T, h = 1 + sqrt(n) e_0 the Householder reflection that
 * maps the constant vector to -sqrt(n) e_0: Q's columns 1..n-1 are an orthonormal basis of
 * the centered vectors. Q G Q = G - h v^T - v h^T with v = p - (beta/2)(h^T p) h,
 * p = beta G h; h_i = 1 past row 0. `w` has n doubles of scratch. */
void btfm_align_centered_block(const float *g, int64_t n, double *w, float *out)
{
    const double beta = 1.0 / ((double)n + sqrt((double)n)), h0 = 1.0 + sqrt((double)n);
    for (int64_t i = 0; i < n; i++) w[i] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double hi = i == 0 ? h0 : 1.0, acc = 0.0;
        for (int64_t j = i; j < n; j++) {
            double v = g[i * n + j];
            acc += (j == 0 ? h0 : 1.0) * v;
            if (j != i) w[j] += hi * v;
        }
        w[i] += acc;
    }
    double hp = 0.0;
    for (int64_t i = 0; i < n; i++) {
        w[i] *= beta;
        hp += (i == 0 ? h0 : 1.0) * w[i];
    }
    for (int64_t i = 0; i < n; i++) w[i] -= 0.5 * beta * hp * (i == 0 ? h0 : 1.0);
    const int64_t m = n - 1;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = i; j < m; j++)
            out[i * m + j] = (float)((double)g[(i + 1) * n + j + 1] - w[i + 1] - w[j + 1]);
}

void btfm_align_embed_centered(const double *y, int64_t m, int64_t cols, double *out)
{
    const int64_t n = m + 1;
    const double beta = 1.0 / ((double)n + sqrt((double)n)), h0 = 1.0 + sqrt((double)n);
    /* Q [0; y] = [0; y] - beta h (h^T [0; y]), and h^T [0; y] is the column sums of y. */
    for (int64_t j = 0; j < cols; j++) out[j] = 0.0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < cols; j++) out[j] += y[i * cols + j];
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < cols; j++)
            out[(i + 1) * cols + j] = y[i * cols + j] - beta * out[j];
    for (int64_t j = 0; j < cols; j++) out[j] *= -beta * h0;
}

void btfm_align_project_centered(const double *y, int64_t n, int64_t cols, double *out)
{
    const double beta = 1.0 / ((double)n + sqrt((double)n)), sn = sqrt((double)n);
    /* (Q y)[1:] = y[1:] - beta (h^T y), h^T y = sqrt(n) y[0] + 1^T y. */
    double *hy = out; /* its first row holds h^T y until the end */
    for (int64_t j = 0; j < cols; j++) hy[j] = sn * y[j];
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < cols; j++) hy[j] += y[i * cols + j];
    for (int64_t i = n - 1; i >= 1; i--)
        for (int64_t j = 0; j < cols; j++)
            out[(i - 1) * cols + j] = y[i * cols + j] - beta * hy[j];
}

/* (Q f)[1:] ((T-1) x r, float) for a centered factor f (T x r, float): f on the centered
 * vectors. With R the upper Cholesky factor of a centered target's Gram matrix there
 * ((Q G Q)[1:, 1:] = R^T R), K = R (Q f)[1:] gives f^T G f = K^T K. `w` has T doubles of
 * scratch. */
void btfm_align_center_factor(const float *f, int64_t T, int64_t r, float *out, double *w)
{
    /* f' = (Q f)[1:]: row i of f minus beta (h^T f), h^T f = sqrt(T) f[0] + 1^T f. */
    const double beta = 1.0 / ((double)T + sqrt((double)T)), h0 = 1.0 + sqrt((double)T);
    double *hf = w; /* r <= T doubles */
    for (int64_t j = 0; j < r; j++) hf[j] = (h0 - 1.0) * f[j];
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < r; j++) hf[j] += f[t * r + j];
    for (int64_t t = 1; t < T; t++)
        for (int64_t j = 0; j < r; j++)
            out[(t - 1) * r + j] = (float)(f[t * r + j] - beta * hf[j]);
}

/* K = R (Q f)[1:] ((T-1) x r) into k, from the source's precomputed (Q f)[1:] when it has
 * one. `w` has T doubles of scratch. */
static void form_k(const align_source *src, const float *f, const float *rg, float *k,
                   double *w, int workers)
{
    const int64_t T = src->n_times, r = src->rank, m = T - 1;
    if (src->fc32)
        memcpy(k, src->fc32, (size_t)(m * r) * sizeof(float));
    else
        btfm_align_center_factor(f, T, r, k, w);
    btfm_align_strmm_split(workers, m, r, rg, m, k, r);
}

/* H = f^T G f (r x r, upper part) for a centered source factor f (T x r, float) and a
 * centered target's Gram matrix G (T x T, upper part). Both live on the centered vectors:
 * with G's Cholesky factor there, H = K^T K (form_k): a triangular product and a rank
 * update instead of two full products. A G that is not numerically positive definite
 * there takes the two products. `scratch` has T x r floats. */
static btfm_status form_h(const align_source *src, const float *f, const float *g, float *h,
                          float *scratch, int workers)
{
    const int64_t T = src->n_times, r = src->rank;
    const char *where = "aligner: Procrustes";
    const int64_t m = T - 1;
    const size_t gbytes = (size_t)(m * m) * sizeof(float);
    float *gc = btfm_scratch_get(gbytes);
    double *w = btfm_dense_zeros(T, 1, where);
    if (!gc || !w) {
        btfm_scratch_put(gc, gbytes);
        btfm_free(w);
        return btfm_fail_nomem(where, gbytes);
    }
    btfm_align_centered_block(g, T, w, gc);
    int chol = btfm_dense_chol_f(gc, m) == 0;
    if (chol) {
        form_k(src, f, gc, scratch, w, workers);
        btfm_align_ssyrk_split(workers, 1, r, m, 1.0f, scratch, r, h, r);
    } else {
        cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (blasint)T, (blasint)r, 1.0f, g,
                    (blasint)T, f, (blasint)r, 0.0f, scratch, (blasint)r);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r, (blasint)r,
                    (blasint)T, 1.0f, f, (blasint)r, scratch, (blasint)r, 0.0f, h,
                    (blasint)r);
        for (int64_t i = 0; i < r; i++) /* symmetrize into the upper part */
            for (int64_t j = i + 1; j < r; j++)
                h[i * r + j] = 0.5f * (h[i * r + j] + h[j * r + i]);
    }
    btfm_scratch_put(gc, gbytes);
    btfm_free(w);
    return BTFM_OK;
}

/* The eigendecomposition of the symmetric r x r matrix h (formed in float, upper part):
 * eigenvectors into h (columns, descending), eigenvalues into d2 (double), *r2 the count
 * above the null threshold. The float eigensolver errs by about 1e-7 of the largest
 * eigenvalue, a relative error of 1e-7 kappa in the weakest kept direction: accepted
 * while kappa = d2[0] / d2[r2 - 1] <= 1e3. A wider spectrum sets *wide (and *r2 = 0):
 * T close to V leaves X^T Y with singular values down to 1e-5 of the largest, and float
 * products, which square them in H and divide by them in the maps, leave those
 * directions (and held-out data through them) off by percents; the caller solves such
 * problems in double from the source's double factor instead. */
static btfm_status eigen_float(float *h, int64_t r, double *d2, int64_t *r2, int *wide)
{
    *wide = 0;
    *r2 = 0;
    const char *where = "aligner: Procrustes";
    float *w = btfm_malloc((size_t)r * sizeof(float));
    btfm_status st = !w ? btfm_fail_nomem(where, (size_t)r * sizeof(float)) : BTFM_OK;
    if (!st) st = btfm_dense_syev_f(h, r, w, "aligner");
    for (int64_t k = 0; !st && k < r; k++) d2[k] = w[k];
    btfm_free(w);
    /* Float products resolve H's eigenvalues to about 1e-9 of the largest: directions
     * below 1e-8 count as null (the minimum-norm solution). */
    int64_t n = 0;
    while (!st && n < r && d2[n] > d2[0] * 1e-8 && d2[n] > 0) n++;
    if (!st && n == 0)
        return btfm_fail(BTFM_E_NUMERIC, "aligner: Procrustes: source and target are "
                         "uncorrelated (X^T Y = 0); nothing to align");
    if (!st && d2[n - 1] < 1e-3 * d2[0]) {
        *wide = 1;
        return BTFM_OK;
    }
    if (!st) *r2 = n;
    return st;
}

/* The eigenproblem on the caller's thread, `side` (the next subject's preparation) on
 * a second one. */
typedef struct eigen_beside {
    float *h;
    int64_t r;
    double *d2;
    int64_t *r2;
    int *wide;
    const align_side *side;
} eigen_beside;

static btfm_status eigen_or_side(void *ctx, int64_t index, int worker)
{
    eigen_beside *e = ctx;
    (void)worker;
    if (index == 0) return eigen_float(e->h, e->r, e->d2, e->r2, e->wide);
    return e->side->fn(e->side->ctx, e->side->index, 1);
}

static btfm_status eigen_with_side(float *h, int64_t r, double *d2, int64_t *r2, int *wide,
                                   const align_side *side)
{
    if (!side || !side->fn) return eigen_float(h, r, d2, r2, wide);
    eigen_beside e = {h, r, d2, r2, wide, side};
    return btfm_parallel_for(side->threads < 2 ? 1 : 2, 2, eigen_or_side, &e);
}

int btfm_align_procrustes_by_gram(const align_source *src, int64_t n_target, int reflection)
{
    /* The T x T route pays off when the target is wider than it is long; otherwise (and
     * for the rare square full-rank case without reflections) the r-sized route does. */
    return src->n_times <= n_target && !reflection_applies(src, n_target, reflection);
}

BTFM_HOT btfm_status btfm_align_procrustes_float(const align_source *src, const float *target,
                                        int64_t n_target, const float *target_gram,
                                        int scaling, int reflection, float *mapped,
                                        float *left, int *used_left,
                                        align_rotation *out, const align_side *side)
{
    const int64_t T = src->n_times, r = src->rank;
    if (out) memset(out, 0, sizeof *out);
    if (!btfm_align_procrustes_by_gram(src, n_target, reflection)) {
        if (left)
            return btfm_fail(BTFM_E_INTERNAL, "aligner: Procrustes: the T x T operator "
                             "asked for a problem solved by the r-sized route");
        btfm_status st = procrustes_double(src, target, n_target, scaling, reflection,
                                           mapped, out);
        if (!st && side && side->fn) st = side->fn(side->ctx, side->index, 0);
        return st;
    }
    const char *where = "aligner: Procrustes";
    const size_t gbytes = (size_t)(T * T) * sizeof(float), fbytes = (size_t)(T * r) * sizeof(float),
                 hbytes = (size_t)(r * r) * sizeof(float);
    float *g = btfm_scratch_get(gbytes);
    float *f = btfm_scratch_get(fbytes);
    float *gf = btfm_scratch_get(fbytes);
    float *h = btfm_scratch_get(hbytes);
    double *d2 = btfm_dense_zeros(r, 1, where);
    double *p = NULL, *qt = NULL;
    btfm_status st = BTFM_OK;
    if (!g || !f || !gf || !h || !d2) {
        st = btfm_fail_nomem(where, (size_t)(T * T) * sizeof(float));
        goto done;
    }
    /* G = Y Y^T (T x T); H = f^T G f = W W^T for W = f^T Y, the r x V' matrix with
     * X^T Y = w W, so H = p d^2 p^T gives the SVD of X^T Y. All in single precision:
     * H is formed from float data, so a double eigensolver would resolve nothing more. */
    double norm2 = src->norm2;
    if (src->f32) {
        memcpy(f, src->f32, (size_t)(T * r) * sizeof(float));
    } else {
        norm2 = 0.0;
        for (int64_t j = 0; j < T * r; j++) {
            f[j] = (float)src->f[j];
            norm2 += src->f[j] * src->f[j];
        }
    }
    if (target_gram)
        memcpy(g, target_gram, (size_t)(T * T) * sizeof(float));
    else
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)n_target,
                    1.0f, target, (blasint)n_target, 0.0f, g, (blasint)T);
    const int workers = side ? side->threads : 1;
    if ((st = form_h(src, f, g, h, gf, workers))) goto done;
    int64_t r2;
    int wide;
    if ((st = eigen_with_side(h, r, d2, &r2, &wide, side))) goto done;
    if (wide) { /* in double; a T x T operator would carry the float error (no left) */
        if (used_left) *used_left = 0;
        st = procrustes_double(src, target, n_target, scaling, reflection, mapped, out);
        goto done;
    }
    if (used_left) *used_left = left != NULL;
    double trace = 0.0;
    for (int64_t k = 0; k < r2; k++) trace += sqrt(d2[k]);
    const double scale = scaling ? trace / norm2 : 1.0;
    if (out) {
        p = btfm_dense_zeros(r, r2, where);
        qt = btfm_dense_zeros(r2, n_target, where);
        if (!p || !qt) { st = BTFM_E_NOMEM; goto done; }
        for (int64_t i = 0; i < r; i++)
            for (int64_t k = 0; k < r2; k++) p[i * r2 + k] = h[i * r + k];
    }
    /* With P = p d^-1/2 (r x r2, in place of h), B = f P (T x r2, in place of gf):
     * X R = scale f p d^-1 p^T f^T Y = L Y with L = scale B B^T, qt = d^-1/2 B^T Y. */
    for (int64_t k = 0; k < r2; k++) d2[k] = 1.0 / sqrt(sqrt(d2[k])); /* now d^-1/2 */
    for (int64_t i = 0; i < r; i++)
        for (int64_t k = 0; k < r2; k++) h[i * r2 + k] = (float)(h[i * r + k] * d2[k]);
    btfm_align_sgemm_split(workers, T, r2, r, f, h, r2, gf, r2);
    if (mapped || left) { /* L is symmetric: a rank update forms its upper part */
        float *l = left ? left : g;
        btfm_align_ssyrk_split(workers, 0, T, r2, (float)scale, gf, r2, l, T);
        if (mapped && !left)
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (blasint)T, (blasint)n_target,
                        1.0f, l, (blasint)T, target, (blasint)n_target, 0.0f, mapped,
                        (blasint)n_target);
    }
    if (out) {
        /* ||X R||^2 = scale^2 ||f p||^2, and column k of f p is d_k^1/2 times B's
         * (d2 holds d^-1/2 by now). */
        double fp2 = 0.0;
        for (int64_t t = 0; t < T; t++)
            for (int64_t k = 0; k < r2; k++) {
                double b = gf[t * r2 + k];
                fp2 += b * b / (d2[k] * d2[k]);
            }
        float *qf = btfm_malloc((size_t)(r2 * n_target) * sizeof(float));
        if (!qf) { st = btfm_fail_nomem(where, (size_t)(r2 * n_target) * sizeof(float)); goto done; }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r2, (blasint)n_target,
                    (blasint)T, 1.0f, gf, (blasint)r2, target, (blasint)n_target, 0.0f, qf,
                    (blasint)n_target);
        for (int64_t k = 0; k < r2; k++)
            for (int64_t j = 0; j < n_target; j++)
                qt[k * n_target + j] = qf[k * n_target + j] * d2[k];
        btfm_free(qf);
        out->rank = r2;
        out->p = p;
        out->qt = qt;
        out->scale = scale;
        out->trace = trace;
        out->mapped_sq = scale * scale * fp2;
        p = qt = NULL;
    }
done:
    btfm_scratch_put(g, gbytes);
    btfm_scratch_put(f, fbytes);
    btfm_scratch_put(gf, fbytes);
    btfm_scratch_put(h, hbytes);
    btfm_free(d2);
    btfm_free(p);
    btfm_free(qt);
    return st;
}

BTFM_HOT btfm_status btfm_align_procrustes_onto(const align_source *src, const double *dual,
                                                const float *rg, int scaling, float *n_out,
                                                align_rotation *out, int *applies)
{
    const char *where = "aligner: Procrustes";
    const int64_t T = src->n_times, r = src->rank, m = T - 1;
    memset(out, 0, sizeof *out);
    *applies = 0;
    if (r != m) return BTFM_OK; /* a rank-deficient source: the factored route */
    float *f = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *df = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *k = btfm_malloc((size_t)(m * r) * sizeof(float));
    float *h = btfm_malloc((size_t)(r * r) * sizeof(float));
    float *fp = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *kp = btfm_malloc((size_t)(m * r) * sizeof(float));
    double *d2 = btfm_dense_zeros((r > T ? r : T), 1, where);
    btfm_status st = (!f || !df || !k || !h || !fp || !kp || !d2)
                         ? btfm_fail_nomem(where, (size_t)(T * r) * sizeof(float))
                         : BTFM_OK;
    int64_t r2 = 0;
    double norm2 = src->f32 ? src->norm2 : 0.0;
    for (int64_t j = 0; !st && j < T * r; j++) {
        df[j] = (float)dual[j];
        if (src->f32) continue;
        f[j] = (float)src->f[j];
        norm2 += src->f[j] * src->f[j];
    }
    if (!st && src->f32) memcpy(f, src->f32, (size_t)(T * r) * sizeof(float));
    if (!st) {
        form_k(src, f, rg, k, d2, 1);
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)r, (blasint)m, 1.0f, k,
                    (blasint)r, 0.0f, h, (blasint)r);
        int wide;
        st = eigen_float(h, r, d2, &r2, &wide);
    }
    if (st || r2 < r) goto done; /* X^T Y rank deficient or ill-conditioned: the factored route */
    *applies = 1;
    double trace = 0.0;
    for (int64_t j = 0; j < r; j++) trace += sqrt(d2[j]);
    const double scale = scaling ? trace / norm2 : 1.0;
    /* P = p d^-1/2 (in place of h), so H^-1/2 = P P^T. */
    for (int64_t j = 0; j < r; j++) d2[j] = 1.0 / sqrt(sqrt(d2[j]));
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < r; j++) h[i * r + j] = (float)(h[i * r + j] * d2[j]);
    /* ||X R||^2 = scale^2 ||f p||^2, column j of f p being d_j^1/2 times f P's. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r, (blasint)r,
                1.0f, f, (blasint)r, h, (blasint)r, 0.0f, fp, (blasint)r);
    double fp2 = 0.0;
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < r; j++) {
            double b = fp[t * r + j];
            fp2 += b * b / (d2[j] * d2[j]);
        }
    /* N = scale dual P (K P)^T: K P (in place of k's copy), dual P (in place of fp). */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)r, (blasint)r,
                1.0f, k, (blasint)r, h, (blasint)r, 0.0f, kp, (blasint)r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r, (blasint)r,
                1.0f, df, (blasint)r, h, (blasint)r, 0.0f, fp, (blasint)r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)m, (blasint)r,
                (float)scale, fp, (blasint)r, kp, (blasint)r, 0.0f, n_out, (blasint)m);
    out->rank = m;
    out->scale = scale;
    out->trace = trace;
    out->mapped_sq = scale * scale * fp2;
done:
    btfm_free(f);
    btfm_free(df);
    btfm_free(k);
    btfm_free(h);
    btfm_free(fp);
    btfm_free(kp);
    btfm_free(d2);
    return st;
}
