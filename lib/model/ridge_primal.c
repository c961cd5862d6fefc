/* Ridge's primal route (features no more than samples): every sum the folds need comes
 * from one pass over the rows, block by fold (Gram X^T W X and cross-products X^T W Y of
 * each test block, gap and the rest), so a training set's sums are the total minus its
 * blocks. Each training set's Gram matrix is eigendecomposed once (the thin SVD of X) and
 * serves every alpha; the held-out error of an alpha is a quadratic form in the
 * eigenbasis, and leave-one-out is scikit-learn's closed form e_i = r_i / (1 - h_ii). */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "ridge_internal.h"
#include "dense/dense.h"

/* One training set's decomposition (a fold's, or every sample's for the final fit). */
typedef struct primal_set {
    double sw_tr, sw_te;
    double *mx;    /* p: training mean of the shifted design (0 without intercept) */
    double *sx_te; /* p: test sum of w x' */
    double *s2;    /* p: eigenvalues of the standardized centered Gram, descending, >= 0 */
    double *V;     /* p x p: its eigenvectors (columns) */
    double *P;     /* p x p: diag(factor) V, coefficients = P diag(1/(s2 + alpha)) P^T z */
    double *factor;/* p: column factors (1 / scale, times the band weight) */
    double *G;     /* p x p: P^T A_test P, the test Gram in the eigenbasis (folds only) */
    double *u;     /* p: P^T (test sum of w (x' - mx)) (folds only) */
} primal_set;

static void set_clear(primal_set *s)
{
    btfm_free(s->mx);
    btfm_free(s->sx_te);
    btfm_free(s->s2);
    btfm_free(s->V);
    btfm_free(s->P);
    btfm_free(s->factor);
    btfm_free(s->G);
    btfm_free(s->u);
    memset(s, 0, sizeof *s);
}

/* Sums over rows of the design: W += X'^T X' (upper part), sx += sum w x', *sw += sum w,
 * with X' the sqrt(w)-weighted shifted rows. */
static btfm_status add_rows_x(const ridge_ctx *c, const int64_t *rows, int64_t count,
                              double *W, double *sx, double *sw, double *tile)
{
    const int64_t p = c->p;
    for (int64_t r0 = 0; r0 < count; r0 += RIDGE_TILE) {
        int64_t m = count - r0 < RIDGE_TILE ? count - r0 : RIDGE_TILE;
        btfm_ridge_gather(c, c->x, p, 0, p, c->mu_x, rows + r0, 0, m, tile);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)m, 1.0, tile, (int)p,
                    1.0, W, (int)p);
        for (int64_t r = 0; r < m; r++) {
            double s = c->w ? sqrt(c->w[rows[r0 + r]]) : 1.0;
            *sw += s * s;
            for (int64_t f = 0; f < p; f++) sx[f] += s * tile[r * p + f];
        }
    }
    return BTFM_OK;
}

/* Cross sums over rows for targets [j0, j0 + nc): Z += X'^T Y', sy += sum w y',
 * syy += sum w y'^2. */
static void add_rows_xy(const ridge_ctx *c, const int64_t *rows, int64_t count, int64_t j0,
                        int64_t nc, double *Z, double *sy, double *syy, double *xt, double *yt)
{
    const int64_t p = c->p;
    for (int64_t r0 = 0; r0 < count; r0 += RIDGE_TILE) {
        int64_t m = count - r0 < RIDGE_TILE ? count - r0 : RIDGE_TILE;
        const int64_t *rr = rows ? rows + r0 : NULL; /* NULL: rows r0 .. r0 + m */
        btfm_ridge_gather(c, c->x, p, 0, p, c->mu_x, rr, r0, m, xt);
        btfm_ridge_gather(c, c->y, c->t, j0, nc, c->mu_y + j0, rr, r0, m, yt);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)nc, (int)m, 1.0, xt,
                    (int)p, yt, (int)nc, 1.0, Z, (int)nc);
        for (int64_t r = 0; r < m; r++) {
            double s = c->w ? sqrt(c->w[rr ? rr[r] : r0 + r]) : 1.0;
            const double *yr = yt + r * nc;
            for (int64_t j = 0; j < nc; j++) {
                sy[j] += s * yr[j];
                syy[j] += yr[j] * yr[j];
            }
        }
    }
}

static void fill_lower(double *A, int64_t p)
{
    for (int64_t i = 0; i < p; i++)
        for (int64_t k = 0; k < i; k++) A[i * p + k] = A[k * p + i];
}

/* Decompose a training set given its sums (W upper, sx, sw over the training rows) and
 * its test sums (Wt upper, sxt, swt; NULL for the final fit). Takes W (it becomes V). */
static btfm_status decompose(const ridge_ctx *c, double *W, const double *sx, double sw,
                             const double *Wt, const double *sxt, double swt, primal_set *s)
{
    const int64_t p = c->p;
    const char *func = c->func;
    s->V = W; /* owned from here on, whatever happens */
    s->mx = btfm_model_doubles((size_t)p, func);
    s->sx_te = btfm_model_doubles((size_t)p, func);
    s->s2 = btfm_model_doubles((size_t)p, func);
    s->factor = btfm_model_doubles((size_t)p, func);
    s->P = btfm_dense_zeros(p, p, func);
    if (!s->mx || !s->sx_te || !s->s2 || !s->factor || !s->P) return BTFM_E_NOMEM;
    if (!(sw > 0))
        return btfm_fail(BTFM_E_INVALID, "%s: sample_weight: a training set has total weight "
                         "0", func);
    s->sw_tr = sw;
    s->sw_te = swt;
    if (c->intercept)
        for (int64_t f = 0; f < p; f++) s->mx[f] = sx[f] / sw;
    if (sxt) memcpy(s->sx_te, sxt, (size_t)p * sizeof *sxt);
    fill_lower(W, p);
    /* Center: A = W - sw mx mx^T; the column factors: 1 / std (standardize), times the
     * band weight. */
    for (int64_t i = 0; i < p; i++)
        for (int64_t k = 0; k < p; k++) W[i * p + k] -= sw * s->mx[i] * s->mx[k];
    for (int64_t f = 0; f < p; f++) {
        double sd = c->standardize ? sqrt(fmax(W[f * p + f], 0) / sw) : 1.0;
        s->factor[f] = (sd > 0 ? 1.0 / sd : 1.0) * (c->col_scale ? c->col_scale[f] : 1.0);
    }
    for (int64_t i = 0; i < p; i++)
        for (int64_t k = 0; k < p; k++) W[i * p + k] *= s->factor[i] * s->factor[k];
    btfm_status st = btfm_dense_syev(W, p, s->s2, func);
    if (st) return st;
    for (int64_t k = 0; k < p; k++)
        if (!(s->s2[k] > 0)) s->s2[k] = 0;
    for (int64_t i = 0; i < p; i++)
        for (int64_t k = 0; k < p; k++) s->P[i * p + k] = s->factor[i] * W[i * p + k];
    if (!Wt) return BTFM_OK;
    /* The test Gram about the training mean, in the eigenbasis. */
    double *A = btfm_dense_zeros(p, p, func);
    double *T = btfm_dense_zeros(p, p, func);
    s->G = btfm_dense_zeros(p, p, func);
    s->u = btfm_model_doubles((size_t)p, func);
    if (!A || !T || !s->G || !s->u) {
        btfm_free(A);
        btfm_free(T);
        return BTFM_E_NOMEM;
    }
    for (int64_t i = 0; i < p; i++)
        for (int64_t k = i; k < p; k++) {
            double v = Wt[i * p + k] - sxt[i] * s->mx[k] - s->mx[i] * sxt[k] +
                       swt * s->mx[i] * s->mx[k];
            A[i * p + k] = A[k * p + i] = v;
        }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p, (int)p, (int)p, 1.0, A,
                (int)p, s->P, (int)p, 0.0, T, (int)p);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)p, (int)p, 1.0, s->P,
                (int)p, T, (int)p, 0.0, s->G, (int)p);
    for (int64_t f = 0; f < p; f++) A[f] = sxt[f] - swt * s->mx[f];
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)p, (int)p, 1.0, s->P, (int)p, A, 1, 0.0, s->u, 1);
    btfm_free(A);
    btfm_free(T);
    btfm_free(s->V); /* folds need P only */
    s->V = NULL;
    return BTFM_OK;
}

/* Everything the primal route holds across target chunks. */
typedef struct primal {
    ridge_ctx *c;
    int n_folds;
    primal_set *folds; /* n_folds */
    primal_set full;
    double *zs;        /* leave-one-out: n x p, sqrt(w) (x' - mx) P */
    double *xt, *yt;   /* row tiles */
} primal;

/* Every training set's decomposition from one pass over the rows. */
static btfm_status decompose_all(primal *pr)
{
    ridge_ctx *c = pr->c;
    const int64_t p = c->p;
    const model_splits *s = c->splits;
    const int K = s && !s->loo ? s->n_folds : 0;
    const char *func = c->func;
    btfm_status st = BTFM_OK;
    double *Wtot = btfm_dense_zeros(p, p, func), *sxtot = btfm_model_doubles((size_t)p, func);
    double *Wte = K ? btfm_dense_zeros((int64_t)K * p, p, func) : NULL;
    double *sxte = K ? btfm_dense_zeros(K, p, func) : NULL;
    double *swte = K ? btfm_model_doubles((size_t)K, func) : NULL;
    double *Wg = btfm_dense_zeros(p, p, func), *sxg = btfm_model_doubles((size_t)p, func);
    pr->folds = K ? btfm_calloc((size_t)K, sizeof *pr->folds) : NULL;
    if (!Wtot || !sxtot || !Wg || !sxg || (K && (!Wte || !sxte || !swte || !pr->folds)))
        st = BTFM_E_NOMEM;
    pr->n_folds = pr->folds ? K : 0;
    double swtot = 0;
    for (int f = 0; !st && f < K; f++) {
        add_rows_x(c, s->test + s->test_start[f], s->test_start[f + 1] - s->test_start[f],
                   Wte + (int64_t)f * p * p, sxte + (int64_t)f * p, &swte[f], pr->xt);
        for (int64_t i = 0; i < p * p; i++) Wtot[i] += Wte[(int64_t)f * p * p + i];
        for (int64_t i = 0; i < p; i++) sxtot[i] += sxte[(int64_t)f * p + i];
        swtot += swte[f];
    }
    if (!st) add_rows_x(c, c->rest, c->n_rest, Wtot, sxtot, &swtot, pr->xt);
    btfm_progress sub = btfm_progress_part(c->progress, 0.0, 0.1);
    for (int f = 0; !st && f < K; f++) {
        /* Training sums: the total minus the test block minus the gap. */
        double swg = 0;
        memset(Wg, 0, (size_t)(p * p) * sizeof *Wg);
        memset(sxg, 0, (size_t)p * sizeof *sxg);
        add_rows_x(c, s->gap + s->gap_start[f], s->gap_start[f + 1] - s->gap_start[f], Wg, sxg,
                   &swg, pr->xt);
        const double *Wf = Wte + (int64_t)f * p * p, *sxf = sxte + (int64_t)f * p;
        for (int64_t i = 0; i < p * p; i++) Wg[i] = Wtot[i] - Wf[i] - Wg[i];
        for (int64_t i = 0; i < p; i++) sxg[i] = sxtot[i] - sxf[i] - sxg[i];
        st = decompose(c, Wg, sxg, swtot - swte[f] - swg, Wf, sxf, swte[f], &pr->folds[f]);
        Wg = NULL;
        if (!st && f + 1 < K && !(Wg = btfm_dense_zeros(p, p, func))) st = BTFM_E_NOMEM;
        if (!st) st = btfm_progress_update(&sub, "decompositions", (f + 1.0) / (K + 1.0));
    }
    if (!st) {
        st = decompose(c, Wtot, sxtot, swtot, NULL, NULL, 0, &pr->full);
        Wtot = NULL;
    }
    btfm_free(Wtot);
    btfm_free(sxtot);
    btfm_free(Wte);
    btfm_free(sxte);
    btfm_free(swte);
    btfm_free(Wg);
    btfm_free(sxg);
    return st;
}

/* A training set's arrays on a rank that receives its decomposition (fold: 1 for a
 * fold's set, 0 for the final fit's). */
static btfm_status set_alloc(primal_set *s, int64_t p, int fold, const char *func)
{
    s->mx = btfm_model_doubles((size_t)p, func);
    s->sx_te = btfm_model_doubles((size_t)p, func);
    s->s2 = btfm_model_doubles((size_t)p, func);
    s->factor = btfm_model_doubles((size_t)p, func);
    s->P = btfm_dense_zeros(p, p, func);
    if (fold) {
        s->G = btfm_dense_zeros(p, p, func);
        s->u = btfm_model_doubles((size_t)p, func);
    } else {
        s->V = btfm_dense_zeros(p, p, func);
    }
    return s->mx && s->sx_te && s->s2 && s->factor && s->P && (fold ? s->G && s->u : !!s->V)
               ? BTFM_OK
               : BTFM_E_NOMEM;
}

/* Every training set's arrays, to be filled by the computing rank's decompositions. */
static btfm_status receive_alloc(primal *pr)
{
    ridge_ctx *c = pr->c;
    const model_splits *s = c->splits;
    const int K = s && !s->loo ? s->n_folds : 0;
    if (K && !(pr->folds = btfm_calloc((size_t)K, sizeof *pr->folds)))
        return btfm_fail_nomem(c->func, (size_t)K * sizeof *pr->folds);
    pr->n_folds = K;
    btfm_status st = BTFM_OK;
    for (int f = 0; f < K && !st; f++) st = set_alloc(&pr->folds[f], c->p, 1, c->func);
    return st ? st : set_alloc(&pr->full, c->p, 0, c->func);
}

/* A distributed fit's one share point: every training set's decomposition from the
 * computing rank (2 p^2 + 5 p + 2 doubles a fold, 2 p^2 + 4 p + 2 for the final fit). */
static btfm_status share_sets(primal *pr, btfm_status st)
{
    const int64_t p = pr->c->p;
    const int n_sets = pr->n_folds + 1;
    double **ptr = btfm_calloc((size_t)n_sets * 8, sizeof *ptr);
    int64_t *len = btfm_calloc((size_t)n_sets * 8, sizeof *len);
    double *sw = btfm_model_doubles(2 * (size_t)n_sets, pr->c->func);
    if (!st && (!ptr || !len || !sw)) st = btfm_fail_nomem(pr->c->func, (size_t)n_sets * 64);
    int count = 0;
    for (int f = 0; !st && f < n_sets; f++) {
        primal_set *s = f < pr->n_folds ? &pr->folds[f] : &pr->full;
        const int fold = f < pr->n_folds;
        double *const a[7] = {s->mx, s->sx_te, s->s2, s->factor, s->P, fold ? s->G : s->V, s->u};
        const int64_t l[7] = {p, p, p, p, p * p, p * p, p};
        for (int i = 0; i < (fold ? 7 : 6); i++) {
            ptr[count] = a[i];
            len[count++] = l[i];
        }
        sw[2 * f] = s->sw_tr;
        sw[2 * f + 1] = s->sw_te;
    }
    if (!st) {
        ptr[count] = sw;
        len[count++] = 2 * (int64_t)n_sets;
    }
    st = btfm_ridge_share(pr->c->share, ptr, len, count, st);
    for (int f = 0; !st && f < n_sets; f++) {
        primal_set *s = f < pr->n_folds ? &pr->folds[f] : &pr->full;
        s->sw_tr = sw[2 * f];
        s->sw_te = sw[2 * f + 1];
    }
    btfm_free(ptr);
    btfm_free(len);
    btfm_free(sw);
    return st;
}

/* Scratch of one chunk of nc targets. */
typedef struct chunk_buf {
    int64_t nc;
    double *Zte, *syte, *syyte; /* per fold: K x p x nc, K x nc, K x nc */
    double *Ztot, *sytot, *syytot;
    double *Zg, *syg, *syyg;    /* a fold's gap sums, then its centered training sums */
    double *C, *Q, *DC, *E;     /* p x nc each */
    double *my, *shift;         /* nc */
} chunk_buf;

static void buf_clear(chunk_buf *b)
{
    double **all[] = {&b->Zte, &b->syte, &b->syyte, &b->Ztot, &b->sytot, &b->syytot, &b->Zg,
                      &b->syg, &b->syyg, &b->C, &b->Q, &b->DC, &b->E, &b->my, &b->shift};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        btfm_free(*all[i]);
        *all[i] = NULL;
    }
}

static btfm_status buf_alloc(chunk_buf *b, int64_t K, int64_t p, int64_t nc, const char *func)
{
    b->nc = nc;
    const int64_t k = K ? K : 1;
    b->Zte = btfm_dense_zeros(k * p, nc, func);
    b->syte = btfm_dense_zeros(k, nc, func);
    b->syyte = btfm_dense_zeros(k, nc, func);
    b->Ztot = btfm_dense_zeros(p, nc, func);
    b->sytot = btfm_dense_zeros(1, nc, func);
    b->syytot = btfm_dense_zeros(1, nc, func);
    b->Zg = btfm_dense_zeros(p, nc, func);
    b->syg = btfm_dense_zeros(1, nc, func);
    b->syyg = btfm_dense_zeros(1, nc, func);
    b->C = btfm_dense_zeros(p, nc, func);
    b->Q = btfm_dense_zeros(p, nc, func);
    b->DC = btfm_dense_zeros(p, nc, func);
    b->E = btfm_dense_zeros(p, nc, func);
    b->my = btfm_dense_zeros(1, nc, func);
    b->shift = btfm_dense_zeros(1, nc, func);
    if (!b->Zte || !b->syte || !b->syyte || !b->Ztot || !b->sytot || !b->syytot || !b->Zg ||
        !b->syg || !b->syyg || !b->C || !b->Q || !b->DC || !b->E || !b->my || !b->shift)
        return BTFM_E_NOMEM;
    return BTFM_OK;
}

static void zero(double *a, int64_t count) { memset(a, 0, (size_t)count * sizeof *a); }

/* out (p x nc) = P^T in. */
static void project(const double *P, int64_t p, const double *in, int64_t nc, double *out)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)nc, (int)p, 1.0, P,
                (int)p, in, (int)nc, 0.0, out, (int)nc);
}

/* The held-out scores of fold f for every alpha, added to c->cv. */
static void fold_scores(primal *pr, int f, int64_t j0, chunk_buf *b)
{
    ridge_ctx *c = pr->c;
    const primal_set *s = &pr->folds[f];
    const model_splits *sp = c->splits;
    const int64_t p = c->p, nc = b->nc, t = c->t;
    const double *Zte = b->Zte + (int64_t)f * p * nc, *syte = b->syte + (int64_t)f * nc;
    const double *syyte = b->syyte + (int64_t)f * nc;
    zero(b->Zg, p * nc);
    zero(b->syg, nc);
    zero(b->syyg, nc);
    add_rows_xy(c, sp->gap + sp->gap_start[f], sp->gap_start[f + 1] - sp->gap_start[f], j0, nc,
                b->Zg, b->syg, b->syyg, pr->xt, pr->yt);
    for (int64_t j = 0; j < nc; j++)
        b->my[j] = c->intercept ? (b->sytot[j] - syte[j] - b->syg[j]) / s->sw_tr : 0.0;
    /* Centered training cross-products, and the test ones about the training means. */
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j < nc; j++) {
            const int64_t ij = i * nc + j;
            b->Zg[ij] = b->Ztot[ij] - Zte[ij] - b->Zg[ij] - s->sw_tr * s->mx[i] * b->my[j];
            b->E[ij] = Zte[ij] - s->sx_te[i] * b->my[j] - s->mx[i] * syte[j] +
                       s->sw_te * s->mx[i] * b->my[j];
        }
    project(s->P, p, b->Zg, nc, b->C);
    project(s->P, p, b->E, nc, b->Q);
    for (int a = 0; a < c->n_alphas; a++) {
        const double alpha = c->alphas[a];
        for (int64_t k = 0; k < p; k++) {
            const double d = 1.0 / (s->s2[k] + alpha);
            for (int64_t j = 0; j < nc; j++) b->DC[k * nc + j] = d * b->C[k * nc + j];
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p, (int)nc, (int)p, 1.0,
                    s->G, (int)p, b->DC, (int)nc, 0.0, b->E, (int)nc);
        /* Moments about the training mean: y_c = y - my, prediction_c = x_c b. */
        double *sp_ = b->syg, *spp = b->syyg, *syp = b->Zg;
        zero(sp_, nc);
        zero(spp, nc);
        zero(syp, nc);
        for (int64_t k = 0; k < p; k++) {
            const double *dc = b->DC + k * nc, *e = b->E + k * nc, *q = b->Q + k * nc;
            const double u = s->u[k];
            for (int64_t j = 0; j < nc; j++) {
                sp_[j] += u * dc[j];
                spp[j] += dc[j] * e[j];
                syp[j] += dc[j] * q[j];
            }
        }
        for (int64_t j = 0; j < nc; j++) {
            const double my = b->my[j];
            const double sy = syte[j] - s->sw_te * my;
            const double syy = syyte[j] - 2 * my * syte[j] + s->sw_te * my * my;
            c->cv[a * t + j0 + j] +=
                btfm_ridge_fold_score(c->scoring, s->sw_te, sy, syy, sp_[j], spp[j], syp[j]);
        }
    }
}

/* sqrt(w) (x' - mx) P for every sample: leave-one-out's leverages and residuals. */
static btfm_status loo_prepare(primal *pr)
{
    ridge_ctx *c = pr->c;
    const int64_t n = c->n, p = c->p;
    pr->zs = btfm_dense_zeros(n, p, c->func);
    double *shift = btfm_model_doubles((size_t)p, c->func);
    if (!pr->zs || !shift) {
        btfm_free(shift);
        return BTFM_E_NOMEM;
    }
    for (int64_t f = 0; f < p; f++) shift[f] = c->mu_x[f] + pr->full.mx[f];
    for (int64_t r0 = 0; r0 < n; r0 += RIDGE_TILE) {
        int64_t m = n - r0 < RIDGE_TILE ? n - r0 : RIDGE_TILE;
        btfm_ridge_gather(c, c->x, p, 0, p, shift, NULL, r0, m, pr->xt);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)p, (int)p, 1.0,
                    pr->xt, (int)p, pr->full.P, (int)p, 0.0, pr->zs + r0 * p, (int)p);
    }
    btfm_free(shift);
    return BTFM_OK;
}

/* Leave-one-out scores of every alpha (scikit-learn's _RidgeGCV): the residual of the fit
 * on all samples over 1 - h_ii, the intercept's leverage w_i / sum w included. */
static btfm_status loo_scores(primal *pr, int64_t j0, chunk_buf *b)
{
    ridge_ctx *c = pr->c;
    const primal_set *s = &pr->full;
    const int64_t n = c->n, p = c->p, nc = b->nc, t = c->t;
    double *h = btfm_model_doubles(RIDGE_TILE, c->func);
    double *d = btfm_model_doubles((size_t)p, c->func);
    double *mom = btfm_dense_zeros(6, nc, c->func);
    if (!h || !d || !mom) {
        btfm_free(h);
        btfm_free(d);
        btfm_free(mom);
        return BTFM_E_NOMEM;
    }
    for (int64_t j = 0; j < nc; j++) {
        b->my[j] = c->intercept ? b->sytot[j] / s->sw_tr : 0.0;
        b->shift[j] = c->mu_y[j0 + j] + b->my[j];
    }
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j < nc; j++)
            b->Zg[i * nc + j] = b->Ztot[i * nc + j] - s->sw_tr * s->mx[i] * b->my[j];
    project(s->P, p, b->Zg, nc, b->C);
    btfm_status st = BTFM_OK;
    for (int a = 0; a < c->n_alphas && !st; a++) {
        for (int64_t k = 0; k < p; k++) {
            d[k] = 1.0 / (s->s2[k] + c->alphas[a]);
            for (int64_t j = 0; j < nc; j++) b->DC[k * nc + j] = d[k] * b->C[k * nc + j];
        }
        zero(mom, 6 * nc);
        for (int64_t r0 = 0; r0 < n; r0 += RIDGE_TILE) {
            const int64_t m = n - r0 < RIDGE_TILE ? n - r0 : RIDGE_TILE;
            for (int64_t r = 0; r < m; r++) {
                const double *z = pr->zs + (r0 + r) * p;
                double hi = c->intercept ? ridge_w(c, r0 + r) / s->sw_tr : 0.0;
                for (int64_t k = 0; k < p; k++) hi += z[k] * z[k] * d[k];
                h[r] = 1.0 / (1.0 - hi);
            }
            btfm_ridge_gather(c, c->y, t, j0, nc, b->shift, NULL, r0, m, pr->yt);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)nc, (int)p,
                        -1.0, pr->zs + r0 * p, (int)p, b->DC, (int)nc, 1.0, pr->yt, (int)nc);
            for (int64_t r = 0; r < m; r++) {
                const double *res = pr->yt + r * nc;
                for (int64_t j = 0; j < nc; j++) {
                    double e = res[j] * h[r];
                    mom[j] += e * e;
                }
            }
            if (c->scoring == BTFM_SCORE_PEARSON) {
                /* Moments of y and of the leave-one-out prediction y - e / sqrt(w). */
                for (int64_t r = 0; r < m; r++) {
                    const double wi = ridge_w(c, r0 + r);
                    if (wi <= 0) continue;
                    const float *yr = c->y + (r0 + r) * t + j0;
                    const double *res = pr->yt + r * nc;
                    for (int64_t j = 0; j < nc; j++) {
                        double yv = (double)yr[j] - b->shift[j];
                        double pv = yv - res[j] * h[r] / sqrt(wi);
                        mom[nc + j] += wi * yv;
                        mom[2 * nc + j] += wi * yv * yv;
                        mom[3 * nc + j] += wi * pv;
                        mom[4 * nc + j] += wi * pv * pv;
                        mom[5 * nc + j] += wi * yv * pv;
                    }
                }
            }
        }
        for (int64_t j = 0; j < nc; j++) {
            double score;
            if (c->scoring == BTFM_SCORE_NEG_MSE) {
                score = -mom[j] / (double)n;
            } else if (c->scoring == BTFM_SCORE_R2) {
                double my = b->sytot[j] / s->sw_tr;
                double sst = b->syytot[j] - s->sw_tr * my * my;
                score = sst > 0 ? 1.0 - mom[j] / sst : 0.0;
            } else {
                score = btfm_model_score_moments(BTFM_SCORE_PEARSON, s->sw_tr, mom[nc + j],
                                                 mom[2 * nc + j], mom[3 * nc + j],
                                                 mom[4 * nc + j], mom[5 * nc + j]);
            }
            c->cv[a * t + j0 + j] = score;
        }
    }
    btfm_free(h);
    btfm_free(d);
    btfm_free(mom);
    return st;
}

/* Coefficients, intercepts and noise variances of targets [j0, j0 + nc) from every
 * sample, each with its chosen alpha. */
static void final_fit(primal *pr, int64_t j0, chunk_buf *b, model_fit *fit)
{
    ridge_ctx *c = pr->c;
    const primal_set *s = &pr->full;
    const int64_t p = c->p, nc = b->nc, t = c->t;
    for (int64_t j = 0; j < nc; j++) b->my[j] = c->intercept ? b->sytot[j] / s->sw_tr : 0.0;
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j < nc; j++)
            b->Zg[i * nc + j] = b->Ztot[i * nc + j] - s->sw_tr * s->mx[i] * b->my[j];
    project(s->P, p, b->Zg, nc, b->C);
    double *rss = b->syg, *df = b->syyg;
    zero(rss, nc);
    zero(df, nc);
    for (int64_t k = 0; k < p; k++)
        for (int64_t j = 0; j < nc; j++) {
            const double d = 1.0 / (s->s2[k] + c->alphas[c->best[j0 + j]]);
            const double ck = b->C[k * nc + j];
            b->DC[k * nc + j] = d * ck;
            rss[j] += ck * ck * (2 * d - d * d * s->s2[k]);
            df[j] += s->s2[k] * d;
        }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p, (int)nc, (int)p, 1.0, s->P,
                (int)p, b->DC, (int)nc, 0.0, b->E, (int)nc);
    for (int64_t j = 0; j < nc; j++) {
        double icpt = c->intercept ? c->mu_y[j0 + j] + b->my[j] : 0.0;
        for (int64_t i = 0; i < p && c->intercept; i++)
            icpt -= (c->mu_x[i] + s->mx[i]) * b->E[i * nc + j];
        fit->intercept[j0 + j] = icpt;
        double b2 = b->syytot[j] - 2 * b->my[j] * b->sytot[j] + s->sw_tr * b->my[j] * b->my[j];
        double resid = b2 - rss[j];
        double dof = (double)c->n_eff - df[j] - (c->intercept ? 1 : 0);
        fit->noise_var[j0 + j] =
            fmax(resid, 0) / s->sw_tr * (double)c->n_eff / (dof > 1 ? dof : 1);
    }
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j < nc; j++) fit->coef[i * t + j0 + j] = (float)b->E[i * nc + j];
}

/* One chunk of targets: their sums, then the scores and/or the final fit. */
static btfm_status run_chunk(primal *pr, int64_t j0, int64_t nc, int do_cv, int do_final,
                             chunk_buf *b, model_fit *fit)
{
    ridge_ctx *c = pr->c;
    const int64_t p = c->p;
    const int K = pr->n_folds;
    const model_splits *sp = c->splits;
    b->nc = nc;
    zero(b->Ztot, p * nc);
    zero(b->sytot, nc);
    zero(b->syytot, nc);
    if (do_cv && K) {
        for (int f = 0; f < K; f++) {
            double *Zf = b->Zte + (int64_t)f * p * nc, *syf = b->syte + (int64_t)f * nc;
            double *syyf = b->syyte + (int64_t)f * nc;
            zero(Zf, p * nc);
            zero(syf, nc);
            zero(syyf, nc);
            add_rows_xy(c, sp->test + sp->test_start[f], sp->test_start[f + 1] - sp->test_start[f],
                        j0, nc, Zf, syf, syyf, pr->xt, pr->yt);
            for (int64_t i = 0; i < p * nc; i++) b->Ztot[i] += Zf[i];
            for (int64_t j = 0; j < nc; j++) {
                b->sytot[j] += syf[j];
                b->syytot[j] += syyf[j];
            }
        }
        add_rows_xy(c, c->rest, c->n_rest, j0, nc, b->Ztot, b->sytot, b->syytot, pr->xt, pr->yt);
        for (int f = 0; f < K; f++) fold_scores(pr, f, j0, b);
        for (int a = 0; a < c->n_alphas; a++)
            for (int64_t j = 0; j < nc; j++) c->cv[a * c->t + j0 + j] /= K;
    } else {
        add_rows_xy(c, NULL, c->n, j0, nc, b->Ztot, b->sytot, b->syytot, pr->xt, pr->yt);
        if (do_cv) {
            btfm_status st = loo_scores(pr, j0, b);
            if (st) return st;
        }
    }
    if (do_final) {
        if (do_cv && c->per_target)
            for (int64_t j = j0; j < j0 + nc; j++) {
                int best = 0;
                for (int a = 1; a < c->n_alphas; a++)
                    if (c->cv[a * c->t + j] > c->cv[best * c->t + j]) best = a;
                c->best[j] = best;
            }
        final_fit(pr, j0, b, fit);
    }
    return BTFM_OK;
}

/* The fit's record of the final decomposition: the posterior's basis. */
static btfm_status keep_basis(primal *pr, model_fit *fit)
{
    ridge_ctx *c = pr->c;
    const int64_t p = c->p;
    fit->rank = p;
    fit->basis = pr->full.V;
    pr->full.V = NULL;
    fit->eig = btfm_model_doubles((size_t)p, c->func);
    if (!fit->eig) return BTFM_E_NOMEM;
    memcpy(fit->eig, pr->full.s2, (size_t)p * sizeof *fit->eig);
    for (int64_t f = 0; f < p; f++) {
        fit->center[f] = c->mu_x[f] + pr->full.mx[f];
        fit->scale[f] = 1.0 / pr->full.factor[f];
    }
    return BTFM_OK;
}

btfm_status btfm_ridge_primal(ridge_ctx *c, model_fit *fit)
{
    primal pr = {.c = c};
    chunk_buf b = {0};
    const int64_t p = c->p;
    const int loo = c->splits && c->splits->loo;
    const int K = c->splits && !loo ? c->splits->n_folds : 0;
    const int64_t chunk = btfm_ridge_chunk(c, 8.0 * (double)p * (K + 8) + 8.0 * RIDGE_TILE);
    pr.xt = btfm_dense_zeros(RIDGE_TILE, p, c->func);
    pr.yt = btfm_dense_zeros(RIDGE_TILE, chunk, c->func);
    btfm_status st = pr.xt && pr.yt ? BTFM_OK : BTFM_E_NOMEM;
    const ridge_share *sh = c->share;
    if (!st) st = sh && !sh->compute ? receive_alloc(&pr) : decompose_all(&pr);
    if (sh) st = share_sets(&pr, st);
    if (!st && loo) st = loo_prepare(&pr);
    if (!st) st = buf_alloc(&b, K, p, chunk, c->func);
    /* One pass when each target chooses its own alpha; otherwise the scores of every
     * target first, then the shared choice, then the coefficients. */
    const int two_pass = c->cv && !c->per_target;
    for (int pass = 0; pass < 1 + two_pass && !st; pass++) {
        const int do_cv = c->cv && pass == 0, do_final = !two_pass || pass == 1;
        if (pass == 1) btfm_ridge_choose(c);
        btfm_progress part = btfm_progress_part(c->progress, two_pass ? 0.1 + 0.45 * pass : 0.1,
                                                two_pass ? 0.55 + 0.45 * pass : 1.0);
        for (int64_t j0 = 0; j0 < c->t && !st; j0 += chunk) {
            int64_t nc = c->t - j0 < chunk ? c->t - j0 : chunk;
            st = run_chunk(&pr, j0, nc, do_cv, do_final, &b, fit);
            if (!st) st = btfm_progress_update(&part, "targets", (double)(j0 + nc) / c->t);
        }
    }
    if (!st) st = keep_basis(&pr, fit);
    for (int f = 0; f < pr.n_folds; f++) set_clear(&pr.folds[f]);
    btfm_free(pr.folds);
    set_clear(&pr.full);
    btfm_free(pr.zs);
    btfm_free(pr.xt);
    btfm_free(pr.yt);
    buf_clear(&b);
    return st;
}
