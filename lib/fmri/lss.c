/* Per-event betas: least-squares-all and least-squares-separate (Mumford 2012).
 * By Frisch-Waugh-Lovell, every model's event betas follow from the event regressors
 * with the nuisance span projected out, E~ = (I - Q Q^T) E: with P = E~^T E~ and
 * G = E~^T Y (one GEMM over the data), LSA solves P B = G, and LSS's model for event i
 * (its column, the sum of the others per condition) needs only sums of rows of P and G,
 * so each event costs O(conditions) per voxel instead of a refit. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "glm_internal.h"

/* Voxels per block of the data pass: wide enough for efficient GEMMs. */
#define LSS_BLOCK 1024

/* The shared part: the residualized events and their Gram matrix, and for event
 * regressors that are zero outside a short window (HRF-convolved events), the sparse
 * route G = E^T Y - (E^T Q)(Q^T Y), which costs far less than the dense E~^T Y. */
typedef struct lss_model {
    int64_t n, n_events;
    double *events; /* n x n_events, nuisance projected out */
    double *gram;   /* n_events x n_events */
    int sparse;
    const double *raw;  /* n x n_events, the caller's events */
    int64_t *first, *last; /* per event: its nonzero rows [first, last) */
    double *q;          /* n x rank: orthonormal basis of the nuisance */
    int64_t rank;
    double *etq;        /* n_events x rank: E^T Q */
} lss_model;

static void model_clear(lss_model *m)
{
    btfm_free(m->events);
    btfm_free(m->gram);
    btfm_free(m->first);
    btfm_free(m->last);
    btfm_free(m->q);
    btfm_free(m->etq);
}

static btfm_status model_init(lss_model *m, const char *func, const float *data, int64_t n,
                              int64_t n_voxels, const double *events, int64_t n_events,
                              const double *nuisance, int64_t n_nuisance, const float *betas)
{
    memset(m, 0, sizeof *m);
    BTFM_CHECK_ARG(data, func, "data");
    BTFM_CHECK_ARG(events, func, "events");
    BTFM_CHECK_ARG(betas, func, "betas");
    if (n_nuisance < 0 || (n_nuisance > 0 && !nuisance))
        return btfm_fail(BTFM_E_INVALID, "%s: %lld nuisance regressors at %p", func,
                         (long long)n_nuisance, (const void *)nuisance);
    if (n_events < 1 || n_voxels < 1 || n <= n_events + n_nuisance)
        return btfm_fail(BTFM_E_RANGE, "%s: %lld volumes, %lld voxels, %lld events and %lld "
                         "nuisance regressors; expected events and voxels, and more volumes "
                         "than regressors", func, (long long)n, (long long)n_voxels,
                         (long long)n_events, (long long)n_nuisance);
    btfm_status st = btfm_glm_check_finite(data, n, n_voxels, func, "voxel");
    if (!st) st = btfm_glm_check_finite_d(events, n, n_events, func, "event regressor");
    if (!st && n_nuisance > 0)
        st = btfm_glm_check_finite_d(nuisance, n, n_nuisance, func, "nuisance regressor");
    if (st) return st;
    m->n = n;
    m->n_events = n_events;
    m->raw = events;
    m->events = btfm_dense_zeros(n, n_events, func);
    m->gram = btfm_dense_zeros(n_events, n_events, func);
    m->first = btfm_calloc((size_t)n_events, sizeof(int64_t));
    m->last = btfm_calloc((size_t)n_events, sizeof(int64_t));
    double *work = NULL;
    if (!m->events || !m->gram || !m->first || !m->last) {
        st = btfm_fail_nomem(func, (size_t)n_events * sizeof(int64_t));
        goto done;
    }
    int64_t support = 0;
    for (int64_t e = 0; e < n_events; e++) {
        int64_t a = 0, b = n;
        while (a < n && events[a * n_events + e] == 0) a++;
        if (a == n) {
            st = btfm_fail(BTFM_E_NUMERIC, "%s: the regressor of event %lld is all zeros; "
                           "expected its HRF-convolved response", func, (long long)e);
            goto done;
        }
        while (b > a && events[(b - 1) * n_events + e] == 0) b--;
        m->first[e] = a;
        m->last[e] = b;
        support += b - a;
    }
    m->sparse = support < n * n_events / 4;
    memcpy(m->events, events, (size_t)(n * n_events) * sizeof(double));
    if (n_nuisance > 0) {
        if ((st = btfm_dense_basis(nuisance, n, n_nuisance, 1e-10, &m->q, &m->rank, NULL,
                                   func)))
            goto done;
        work = btfm_dense_zeros(m->rank, n_events, func);
        m->etq = btfm_dense_zeros(n_events, m->rank, func);
        if (!work || !m->etq) { st = BTFM_E_NOMEM; goto done; }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)n_events,
                    (blasint)m->rank, (blasint)n, 1.0, events, (blasint)n_events, m->q,
                    (blasint)m->rank, 0.0, m->etq, (blasint)m->rank);
        btfm_dense_project_out(m->q, n, m->rank, m->events, n_events, work);
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)n_events, (blasint)n_events,
                (blasint)n, 1.0, m->events, (blasint)n_events, m->events, (blasint)n_events,
                0.0, m->gram, (blasint)n_events);
done:
    btfm_free(work);
    if (st) model_clear(m);
    return st;
}

/* Run `per_block` on G = E~^T Y for each block of voxels. */
typedef void (*block_fn)(const void *ctx, double *g, int64_t c, float *betas,
                         int64_t n_voxels, int64_t first);

/* g (n_events x c) = E^T y over each event's nonzero rows. */
BTFM_HOT static void sparse_products(const lss_model *m, const double *y, int64_t c, double *g)
{
    const int64_t E = m->n_events;
    for (int64_t e = 0; e < E; e++) {
        double *ge = g + e * c;
        for (int64_t j = 0; j < c; j++) ge[j] = 0;
        for (int64_t t = m->first[e]; t < m->last[e]; t++) {
            const double w = m->raw[t * E + e];
            const double *row = y + t * c;
            for (int64_t j = 0; j < c; j++) ge[j] += w * row[j];
        }
    }
}

static btfm_status for_each_block(const lss_model *m, const float *data, int64_t n_voxels,
                                  const char *func, block_fn per_block, const void *ctx,
                                  float *betas)
{
    const int64_t n = m->n, E = m->n_events, r = m->rank;
    double *y = btfm_dense_zeros(n, LSS_BLOCK, func);
    double *g = btfm_dense_zeros(E, LSS_BLOCK, func);
    double *qty = m->sparse && r > 0 ? btfm_dense_zeros(r, LSS_BLOCK, func) : NULL;
    btfm_status st = (!y || !g || (m->sparse && r > 0 && !qty)) ? BTFM_E_NOMEM : BTFM_OK;
    /* the calling thread's callback (btfm_set_thread_progress): these calls take no handle */
    btfm_progress progress;
    if (!st) st = btfm_progress_start(&progress, NULL, NULL, func);
    for (int64_t v0 = 0; !st && v0 < n_voxels; v0 += LSS_BLOCK) {
        int64_t c = n_voxels - v0 < LSS_BLOCK ? n_voxels - v0 : LSS_BLOCK;
        if ((st = btfm_progress_update(&progress, "voxels", (double)v0 / n_voxels))) break;
        btfm_dense_copy_fd(data + v0, n_voxels, n, c, y, c);
        if (m->sparse) {
            /* E~^T y = E^T y - (E^T Q)(Q^T y): the projection moved onto the data side. */
            sparse_products(m, y, c, g);
            if (r > 0) {
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r, (blasint)c,
                            (blasint)n, 1.0, m->q, (blasint)r, y, (blasint)c, 0.0, qty,
                            (blasint)c);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)E, (blasint)c,
                            (blasint)r, -1.0, m->etq, (blasint)r, qty, (blasint)c, 1.0, g,
                            (blasint)c);
            }
        } else {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)E, (blasint)c,
                        (blasint)n, 1.0, m->events, (blasint)E, y, (blasint)c, 0.0, g,
                        (blasint)c);
        }
        per_block(ctx, g, c, betas, n_voxels, v0);
    }
    if (!st && btfm_progress_done(&progress, func) == BTFM_E_CANCELLED) btfm_clear_error();
    btfm_free(y);
    btfm_free(g);
    btfm_free(qty);
    return st;
}

/* An event whose regressor is (to 1e-10) a combination of the others and the nuisance. */
static btfm_status collinear_event(const lss_model *m, const char *func)
{
    double *q;
    int64_t rank, dependent;
    btfm_status st = btfm_dense_basis(m->events, m->n, m->n_events, 1e-10, &q, &rank,
                                      &dependent, func);
    btfm_free(q);
    if (st) return st;
    return btfm_fail(BTFM_E_NUMERIC, "%s: the design is singular: the regressor of event %lld "
                     "is a combination of the other events' and the nuisance regressors; "
                     "merge or drop overlapping events", func, (long long)(dependent >= 0 ? dependent : 0));
}

/* --- LSA ---------------------------------------------------------------------- */

typedef struct lsa_ctx {
    const lss_model *m;
    const double *chol; /* Cholesky factor of the Gram matrix */
} lsa_ctx;

static void lsa_block(const void *ctx_, double *g, int64_t c, float *betas,
                      int64_t n_voxels, int64_t first)
{
    const lsa_ctx *ctx = ctx_;
    const int64_t E = ctx->m->n_events;
    /* Solved in place: g is this block's scratch. */
    btfm_dense_chol_solve(ctx->chol, E, g, c);
    btfm_dense_copy_df(g, c, E, c, betas + first, n_voxels);
}

btfm_status btfm_glm_lsa(const float *data, int64_t n_times, int64_t n_voxels,
                         const double *events, int64_t n_events, const double *nuisance,
                         int64_t n_nuisance, float *betas)
{
    static const char func[] = "btfm_glm_lsa";
    lss_model m;
    btfm_status st = model_init(&m, func, data, n_times, n_voxels, events, n_events, nuisance,
                                n_nuisance, betas);
    if (st) return st;
    double *chol = btfm_dense_zeros(n_events, n_events, func);
    if (!chol) { st = BTFM_E_NOMEM; goto done; }
    memcpy(chol, m.gram, (size_t)(n_events * n_events) * sizeof(double));
    int info = btfm_dense_chol(chol, n_events);
    /* U_ii^2 / P_ii: the fraction of event i left unexplained by the events before it. */
    double min_d = INFINITY;
    for (int64_t i = 0; info == 0 && i < n_events; i++) {
        double d = chol[i * n_events + i] * chol[i * n_events + i];
        min_d = fmin(min_d, d / m.gram[i * n_events + i]);
    }
    if (info != 0 || !(min_d > 1e-10)) { st = collinear_event(&m, func); goto done; }
    lsa_ctx ctx = {&m, chol};
    st = for_each_block(&m, data, n_voxels, func, lsa_block, &ctx, betas);
done:
    btfm_free(chol);
    model_clear(&m);
    return st;
}

/* --- LSS ---------------------------------------------------------------------- */

typedef struct lss_ctx {
    const lss_model *m;
    const int *condition; /* per event */
    int64_t n_conditions;
    const double *own;    /* per event: weight of its own G row (w0 - w_own_condition) */
    const double *weight; /* n_events x n_conditions: weights of the condition sums */
    double *sums;         /* n_conditions x LSS_BLOCK scratch */
} lss_ctx;

BTFM_HOT static void lss_block(const void *ctx_, double *g, int64_t c, float *betas,
                               int64_t n_voxels, int64_t first)
{
    const lss_ctx *ctx = ctx_;
    const int64_t E = ctx->m->n_events, K = ctx->n_conditions;
    double *h = ctx->sums;
    memset(h, 0, (size_t)(K * c) * sizeof(double));
    for (int64_t e = 0; e < E; e++) {
        double *dst = h + (int64_t)ctx->condition[e] * c;
        const double *src = g + e * c;
        for (int64_t j = 0; j < c; j++) dst[j] += src[j];
    }
    for (int64_t e = 0; e < E; e++) {
        float *out = betas + e * n_voxels + first;
        const double *ge = g + e * c, *w = ctx->weight + e * K;
        for (int64_t j = 0; j < c; j++) {
            double b = ctx->own[e] * ge[j];
            for (int64_t k = 0; k < K; k++) b += w[k] * h[k * c + j];
            out[j] = (float)b;
        }
    }
}

/* Solve the (1 + K) system of event e's model for the first row of its inverse: the
 * weights that turn [E~_e, others_1 .. others_K]^T y into the event's beta. Columns of
 * conditions with no other event are left out (weight 0). */
static btfm_status lss_weights(const lss_model *m, const int *cond, int64_t K,
                               const double *r, const double *s, int64_t e, double *own,
                               double *weight, const char *func)
{
    const int64_t E = m->n_events, ce = cond[e];
    const double pee = m->gram[e * E + e];
    double a[65 * 65], rhs[65];
    int64_t col[65], size = 1;
    for (int64_t k = 0; k < K; k++) {
        /* |others_k|^2 = S_kk - 2 [c_e = k] R_ek + [c_e = k] P_ee */
        double nk = s[k * K + k] - (ce == k ? 2 * r[e * K + k] - pee : 0);
        weight[k] = 0;
        if (nk > 1e-12 * pee) col[size++] = k;
    }
    for (int64_t i = 0; i < size; i++) {
        for (int64_t j = 0; j < size; j++) {
            double v;
            if (i == 0 && j == 0) {
                v = pee;
            } else if (i == 0 || j == 0) {
                int64_t k = col[i + j];
                v = r[e * K + k] - (ce == k ? pee : 0);
            } else {
                int64_t k = col[i], l = col[j];
                v = s[k * K + l] - (ce == k ? r[e * K + l] : 0) - (ce == l ? r[e * K + k] : 0) +
                    (ce == k && ce == l ? pee : 0);
            }
            a[i * size + j] = v;
        }
        rhs[i] = i == 0 ? 1.0 : 0.0;
    }
    double diag0 = a[0];
    int info = btfm_dense_spd_solve(a, size, rhs, 1);
    /* The Cholesky pivot of the event's own column, relative to its norm, measures how
     * much of the event the other columns leave unexplained. */
    if (info != 0 || !(1.0 / (rhs[0] * diag0) > 1e-10))
        return btfm_fail(BTFM_E_NUMERIC, "%s: the model of event %lld is singular: its "
                         "regressor is a combination of the other events' sums and the "
                         "nuisance regressors; expected separable events", func, (long long)e);
    for (int64_t i = 1; i < size; i++) weight[col[i]] = rhs[i];
    *own = rhs[0] - weight[ce];
    return BTFM_OK;
}

btfm_status btfm_glm_lss(const float *data, int64_t n_times, int64_t n_voxels,
                         const double *events, const int *conditions, int64_t n_events,
                         const double *nuisance, int64_t n_nuisance, float *betas)
{
    static const char func[] = "btfm_glm_lss";
    int64_t K = 1;
    for (int64_t e = 0; conditions && e < n_events; e++) {
        if (conditions[e] < 0 || conditions[e] >= n_events || conditions[e] >= 64)
            return btfm_fail(BTFM_E_RANGE, "%s: event %lld has condition %d; expected 0 .. %lld "
                             "(at most 64 conditions)", func, (long long)e, conditions[e],
                             (long long)(n_events < 64 ? n_events - 1 : 63));
        if (conditions[e] + 1 > K) K = conditions[e] + 1;
    }
    lss_model m;
    btfm_status st = model_init(&m, func, data, n_times, n_voxels, events, n_events, nuisance,
                                n_nuisance, betas);
    if (st) return st;
    const int64_t E = n_events;
    int *cond = btfm_calloc((size_t)E, sizeof *cond);
    double *r = btfm_dense_zeros(E, K, func);      /* R_ek = sum_{j in k} P_ej */
    double *s = btfm_dense_zeros(K, K, func);      /* S_kl = sum_{j in k, i in l} P_ji */
    double *own = btfm_dense_zeros(E, 1, func);
    double *weight = btfm_dense_zeros(E, K, func);
    double *sums = btfm_dense_zeros(K, LSS_BLOCK, func);
    if (!cond || !r || !s || !own || !weight || !sums) {
        st = cond ? BTFM_E_NOMEM : btfm_fail_nomem(func, (size_t)E * sizeof *cond);
        goto done;
    }
    for (int64_t e = 0; e < E; e++) cond[e] = conditions ? conditions[e] : 0;
    for (int64_t e = 0; e < E; e++)
        for (int64_t j = 0; j < E; j++) r[e * K + cond[j]] += m.gram[e * E + j];
    for (int64_t e = 0; e < E; e++)
        for (int64_t l = 0; l < K; l++) s[cond[e] * K + l] += r[e * K + l];
    for (int64_t e = 0; !st && e < E; e++)
        st = lss_weights(&m, cond, K, r, s, e, &own[e], weight + e * K, func);
    if (st) goto done;
    lss_ctx ctx = {&m, cond, K, own, weight, sums};
    st = for_each_block(&m, data, n_voxels, func, lss_block, &ctx, betas);
done:
    btfm_free(cond);
    btfm_free(r);
    btfm_free(s);
    btfm_free(own);
    btfm_free(weight);
    btfm_free(sums);
    model_clear(&m);
    return st;
}
