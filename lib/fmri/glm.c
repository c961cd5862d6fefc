/* btfm_glm: the first-level GLM with OLS or AR(1) prewhitening, following nilearn's
 * run_glm (Yule-Walker AR(1) of the OLS residuals, binned to 0.01, voxels grouped by
 * bin and refitted on whitened data); plus the input checks of the fMRI files. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "glm_internal.h"

/* --- helpers --------------------------------------------------------------------- */

btfm_status btfm_glm_check_finite(const float *x, int64_t rows, int64_t cols,
                                  const char *func, const char *what)
{
    int64_t t, j;
    if (!btfm_dense_find_nonfinite(x, rows, cols, cols, &t, &j)) return BTFM_OK;
    return btfm_dense_fail_nonfinite(func, NULL, what, j, "volume", t, x[t * cols + j],
                                     "mask out or interpolate bad volumes first");
}

btfm_status btfm_glm_check_finite_d(const double *x, int64_t rows, int64_t cols,
                                    const char *func, const char *what)
{
    int64_t t, j;
    if (!btfm_dense_find_nonfinite_d(x, rows, cols, cols, &t, &j)) return BTFM_OK;
    return btfm_dense_fail_nonfinite(func, NULL, what, j, "row", t, x[t * cols + j], NULL);
}

btfm_status btfm_glm_poly_basis(int64_t rows, int order, double **basis)
{
    double *p = btfm_dense_zeros(rows, order + 1, "glm: detrend");
    if (!p) return BTFM_E_NOMEM;
    const int64_t k = order + 1;
    /* Powers of t in [-1, 1] (well conditioned), then modified Gram-Schmidt. */
    for (int64_t t = 0; t < rows; t++) {
        double u = rows > 1 ? 2.0 * (double)t / (double)(rows - 1) - 1.0 : 0.0, v = 1.0;
        for (int64_t j = 0; j < k; j++, v *= u) p[t * k + j] = v;
    }
    for (int64_t j = 0; j < k; j++) {
        for (int64_t i = 0; i < j; i++) {
            double dot = 0;
            for (int64_t t = 0; t < rows; t++) dot += p[t * k + i] * p[t * k + j];
            for (int64_t t = 0; t < rows; t++) p[t * k + j] -= dot * p[t * k + i];
        }
        double norm = 0;
        for (int64_t t = 0; t < rows; t++) norm += p[t * k + j] * p[t * k + j];
        norm = sqrt(norm);
        /* A degree above rows - 1 has nothing left: keep a zero column. */
        for (int64_t t = 0; t < rows; t++) p[t * k + j] = norm > 1e-10 ? p[t * k + j] / norm : 0;
    }
    *basis = p;
    return BTFM_OK;
}

/* The whitened design's pinv and unscaled covariance; a singular design is refused. */
static btfm_status design_pinv(const double *x, int64_t rows, int64_t cols, double *pinv,
                               double *cov, const char *func)
{
    int64_t rank;
    double cond;
    btfm_status st = btfm_dense_pinv(x, rows, cols, 1e-13, pinv, cov, &rank, &cond, func);
    if (!st && rank < cols)
        st = btfm_fail(BTFM_E_NUMERIC, "%s: the design is singular (condition number %g); "
                       "expected independent columns", func, cond);
    return st;
}

/* --- the handle ------------------------------------------------------------------ */

/* AR(1) bins: rho truncated to a multiple of 1/GLM_AR_BINS (nilearn's bins=100). */
#define GLM_AR_BINS 100

/* One noise group: its whitening coefficient and the whitened design's pinv and
 * unscaled covariance. OLS has one group with rho = 0. */
typedef struct glm_group {
    int bin;        /* rho = bin / GLM_AR_BINS */
    double *pinv;   /* p x n */
    double *cov;    /* p x p */
    double *design; /* n x p, whitened */
} glm_group;

struct btfm_glm {
    int noise;
    int64_t n_times, p;
    double *design;  /* n x p */
    int64_t n_voxels;
    float *betas;    /* p x n_voxels */
    float *variance; /* n_voxels */
    float *rho;      /* n_voxels */
    int *group;      /* n_voxels: index into groups */
    int n_groups;
    glm_group *groups;
    btfm_progress_fn progress_fn; /* btfm_glm_set_progress (NULL: the thread's) */
    void *progress_user;
};

/* A fit's results, moved out of the handle while a refit runs, so that a refit that
 * fails or is cancelled leaves the previous fit in place. */
typedef struct glm_results {
    int64_t n_voxels;
    float *betas, *variance, *rho;
    int *group;
    int n_groups;
    glm_group *groups;
} glm_results;

static glm_results take_results(btfm_glm *g)
{
    glm_results r = {g->n_voxels, g->betas, g->variance, g->rho, g->group, g->n_groups, g->groups};
    g->n_voxels = 0;
    g->betas = g->variance = g->rho = NULL;
    g->group = NULL;
    g->n_groups = 0;
    g->groups = NULL;
    return r;
}

static void put_results(btfm_glm *g, glm_results r)
{
    g->n_voxels = r.n_voxels;
    g->betas = r.betas;
    g->variance = r.variance;
    g->rho = r.rho;
    g->group = r.group;
    g->n_groups = r.n_groups;
    g->groups = r.groups;
}

const char *btfm_glm_noise_name(int noise_model)
{
    switch (noise_model) {
    case BTFM_GLM_OLS: return "ols";
    case BTFM_GLM_AR1: return "ar1";
    default: return NULL;
    }
}

static void clear_fit(btfm_glm *g)
{
    btfm_free(g->betas);
    btfm_free(g->variance);
    btfm_free(g->rho);
    btfm_free(g->group);
    for (int i = 0; i < g->n_groups; i++) {
        btfm_free(g->groups[i].pinv);
        btfm_free(g->groups[i].cov);
        btfm_free(g->groups[i].design);
    }
    btfm_free(g->groups);
    g->betas = g->variance = g->rho = NULL;
    g->group = NULL;
    g->groups = NULL;
    g->n_groups = 0;
    g->n_voxels = 0;
}

void btfm_glm_free(btfm_glm *g)
{
    if (!g) return;
    clear_fit(g);
    btfm_free(g->design);
    btfm_free(g);
}

btfm_status btfm_glm_new(btfm_glm **out, const double *design, int64_t n_times,
                         int64_t n_regressors, int noise_model)
{
    static const char func[] = "btfm_glm_new";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(design, func, "design");
    if (!btfm_glm_noise_name(noise_model))
        return btfm_fail(BTFM_E_INVALID, "%s: unknown noise model %d; expected "
                         "BTFM_GLM_OLS (1) or BTFM_GLM_AR1 (2)", func, noise_model);
    if (n_regressors < 1 || n_times <= n_regressors)
        return btfm_fail(BTFM_E_RANGE, "%s: a design of %lld volumes x %lld regressors; "
                         "expected at least one regressor and more volumes than regressors",
                         func, (long long)n_times, (long long)n_regressors);
    btfm_status st = btfm_glm_check_finite_d(design, n_times, n_regressors, func,
                                             "design column");
    if (st) return st;
    double *q;
    int64_t rank, dependent;
    if ((st = btfm_dense_basis(design, n_times, n_regressors, 1e-10, &q, &rank, &dependent,
                               func)))
        return st;
    btfm_free(q);
    if (rank < n_regressors)
        return btfm_fail(BTFM_E_NUMERIC, "%s: the design is singular: column %lld is (to "
                         "1e-10) a linear combination of the other columns (rank %lld of "
                         "%lld); remove it or the regressors it duplicates", func,
                         (long long)dependent, (long long)rank, (long long)n_regressors);
    btfm_glm *g = btfm_calloc(1, sizeof *g);
    double *copy = btfm_dense_zeros(n_times, n_regressors, func);
    if (!g || !copy) {
        btfm_free(g);
        btfm_free(copy);
        return g ? BTFM_E_NOMEM : btfm_fail_nomem(func, sizeof *g);
    }
    memcpy(copy, design, (size_t)(n_times * n_regressors) * sizeof(double));
    g->noise = noise_model;
    g->n_times = n_times;
    g->p = n_regressors;
    g->design = copy;
    *out = g;
    return BTFM_OK;
}

/* Group `gr` for AR bin `bin`: whiten the design and take its pinv. */
static btfm_status group_init(const btfm_glm *g, glm_group *gr, int bin)
{
    const int64_t n = g->n_times, p = g->p;
    const double rho = bin * 1.0 / GLM_AR_BINS;
    gr->bin = bin;
    gr->design = btfm_dense_zeros(n, p, "btfm_glm_fit");
    gr->pinv = btfm_dense_zeros(p, n, "btfm_glm_fit");
    gr->cov = btfm_dense_zeros(p, p, "btfm_glm_fit");
    if (!gr->design || !gr->pinv || !gr->cov) return BTFM_E_NOMEM;
    memcpy(gr->design, g->design, (size_t)(n * p) * sizeof(double));
    for (int64_t t = n - 1; t >= 1; t--)
        for (int64_t j = 0; j < p; j++)
            gr->design[t * p + j] -= rho * g->design[(t - 1) * p + j];
    return design_pinv(gr->design, n, p, gr->pinv, gr->cov, "btfm_glm_fit");
}

/* Fit the block y (n x c, overwritten by the residuals) with group gr: betas into
 * b (p x c), residual variance into var (c). */
BTFM_HOT static void fit_block(const btfm_glm *g, const glm_group *gr, double *y, int64_t c,
                               double *b, double *var)
{
    const int64_t n = g->n_times, p = g->p;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)p, (blasint)c, (blasint)n,
                1.0, gr->pinv, (blasint)n, y, (blasint)c, 0.0, b, (blasint)c);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n, (blasint)c, (blasint)p,
                -1.0, gr->design, (blasint)p, b, (blasint)c, 1.0, y, (blasint)c);
    for (int64_t j = 0; j < c; j++) var[j] = 0;
    for (int64_t t = 0; t < n; t++)
        for (int64_t j = 0; j < c; j++) var[j] += y[t * c + j] * y[t * c + j];
    for (int64_t j = 0; j < c; j++) var[j] /= (double)(n - p);
}

/* Residual sums of one block for the Yule-Walker estimate: sum r^2, sum r_t r_{t+1},
 * sum r, first and last residual, per voxel (5 doubles each). */
BTFM_HOT static void residual_sums(const double *r, int64_t n, int64_t c, double *sums)
{
    for (int64_t j = 0; j < c; j++) {
        double s0 = 0, s1 = 0, s = 0;
        for (int64_t t = 0; t < n; t++) {
            double v = r[t * c + j];
            s0 += v * v;
            s += v;
            if (t + 1 < n) s1 += v * r[(t + 1) * c + j];
        }
        double *o = sums + 5 * j;
        o[0] = s0;
        o[1] = s1;
        o[2] = s;
        o[3] = r[j];
        o[4] = r[(n - 1) * c + j];
    }
}

/* Whiten y (n x c) in place with coefficient rho: row t minus rho times row t - 1. */
static void whiten(double *y, int64_t n, int64_t c, double rho)
{
    for (int64_t t = n - 1; t >= 1; t--)
        for (int64_t j = 0; j < c; j++) y[t * c + j] -= rho * y[(t - 1) * c + j];
}

static btfm_status fit_alloc(btfm_glm *g, int64_t n_voxels)
{
    size_t nb, nv;
    if (btfm_mul_size((size_t)g->p, (size_t)n_voxels, &nb) ||
        btfm_mul_size(nb, sizeof(float), &nb) ||
        btfm_mul_size((size_t)n_voxels, sizeof(float), &nv))
        return btfm_fail(BTFM_E_NOMEM, "btfm_glm_fit: %lld voxels do not fit in memory",
                         (long long)n_voxels);
    g->betas = btfm_malloc(nb ? nb : 1);
    g->variance = btfm_malloc(nv ? nv : 1);
    g->rho = btfm_calloc((size_t)(n_voxels ? n_voxels : 1), sizeof(float));
    g->group = btfm_calloc((size_t)(n_voxels ? n_voxels : 1), sizeof(int));
    if (!g->betas || !g->variance || !g->rho || !g->group)
        return btfm_fail_nomem("btfm_glm_fit", nb);
    g->n_voxels = n_voxels;
    return BTFM_OK;
}

/* The AR(1) refit: per block of voxels, each group present refits its voxels. */
static btfm_status refit_ar1(btfm_glm *g, const float *data, btfm_progress *progress)
{
    const int64_t n = g->n_times, p = g->p, V = g->n_voxels;
    double *y = btfm_dense_zeros(n, GLM_BLOCK, "btfm_glm_fit");
    double *b = btfm_dense_zeros(p, GLM_BLOCK, "btfm_glm_fit");
    double var[GLM_BLOCK];
    int64_t idx[GLM_BLOCK];
    btfm_status st = (!y || !b) ? BTFM_E_NOMEM : BTFM_OK;
    for (int64_t v0 = 0; !st && v0 < V; v0 += GLM_BLOCK) {
        int64_t c = V - v0 < GLM_BLOCK ? V - v0 : GLM_BLOCK;
        if ((st = btfm_progress_update(progress, "AR(1) refit", (double)v0 / V))) break;
        char done[GLM_BLOCK] = {0};
        for (int64_t j0 = 0; j0 < c; j0++) {
            if (done[j0]) continue;
            const int gi = g->group[v0 + j0];
            const glm_group *gr = &g->groups[gi];
            int64_t m = 0;
            for (int64_t j = j0; j < c; j++)
                if (!done[j] && g->group[v0 + j] == gi) {
                    idx[m++] = v0 + j;
                    done[j] = 1;
                }
            for (int64_t t = 0; t < n; t++)
                for (int64_t k = 0; k < m; k++) y[t * m + k] = data[t * V + idx[k]];
            whiten(y, n, m, gr->bin * 1.0 / GLM_AR_BINS);
            fit_block(g, gr, y, m, b, var);
            for (int64_t k = 0; k < m; k++) {
                for (int64_t i = 0; i < p; i++) g->betas[i * V + idx[k]] = (float)b[i * m + k];
                g->variance[idx[k]] = (float)var[k];
            }
        }
    }
    btfm_free(y);
    btfm_free(b);
    return st;
}

/* Group the voxels by AR bin; groups in ascending bin order. */
static btfm_status make_groups(btfm_glm *g, const int *bins)
{
    const int64_t V = g->n_voxels;
    int lo = 0, hi = 0;
    for (int64_t v = 0; v < V; v++) {
        if (v == 0 || bins[v] < lo) lo = bins[v];
        if (v == 0 || bins[v] > hi) hi = bins[v];
    }
    int span = hi - lo + 1;
    int *slot = btfm_malloc((size_t)span * sizeof(int));
    if (!slot) return btfm_fail_nomem("btfm_glm_fit", (size_t)span * sizeof(int));
    for (int i = 0; i < span; i++) slot[i] = -1;
    for (int64_t v = 0; v < V; v++) slot[bins[v] - lo] = 0;
    int count = 0;
    for (int i = 0; i < span; i++)
        if (slot[i] == 0) slot[i] = count++;
    g->groups = btfm_calloc((size_t)count, sizeof *g->groups);
    btfm_status st = g->groups ? BTFM_OK : btfm_fail_nomem("btfm_glm_fit", sizeof *g->groups);
    if (!st) g->n_groups = count;
    for (int i = 0; !st && i < span; i++)
        if (slot[i] >= 0) st = group_init(g, &g->groups[slot[i]], lo + i);
    for (int64_t v = 0; !st && v < V; v++) g->group[v] = slot[bins[v] - lo];
    btfm_free(slot);
    return st;
}

btfm_status btfm_glm_fit(btfm_glm *g, const float *data, int64_t n_times, int64_t n_voxels)
{
    static const char func[] = "btfm_glm_fit";
    BTFM_CHECK_ARG(g, func, "glm");
    BTFM_CHECK_ARG(data, func, "data");
    if (n_times != g->n_times)
        return btfm_fail(BTFM_E_RANGE, "%s: data has %lld volumes but the design has %lld "
                         "rows", func, (long long)n_times, (long long)g->n_times);
    if (n_voxels < 1)
        return btfm_fail(BTFM_E_RANGE, "%s: %lld voxels; expected at least one", func,
                         (long long)n_voxels);
    btfm_status st = btfm_glm_check_finite(data, n_times, n_voxels, func, "voxel");
    if (st) return st;
    btfm_progress progress;
    if ((st = btfm_progress_start(&progress, g->progress_fn, g->progress_user, "GLM fit")))
        return st;
    btfm_dense_check_kernels("glm");
    glm_results previous = take_results(g);
    /* OLS is the whole fit; AR(1) refits every voxel after it */
    btfm_progress ols_part = btfm_progress_part(&progress, 0, g->noise == BTFM_GLM_AR1 ? 0.5 : 1);
    btfm_progress ar_part = btfm_progress_part(&progress, 0.5, 1);
    const int64_t n = n_times, p = g->p, V = n_voxels;
    glm_group ols = {0};
    double *y = btfm_dense_zeros(n, GLM_BLOCK, func);
    double *b = btfm_dense_zeros(p, GLM_BLOCK, func);
    double *sums = g->noise == BTFM_GLM_AR1 ? btfm_dense_zeros(V, 5, func) : NULL;
    int *bins = NULL;
    double var[GLM_BLOCK];
    if (!y || !b || (g->noise == BTFM_GLM_AR1 && !sums)) { st = BTFM_E_NOMEM; goto done; }
    if ((st = fit_alloc(g, V)) || (st = group_init(g, &ols, 0))) goto done;

    /* Pass 1: OLS betas and residuals. */
    for (int64_t v0 = 0; v0 < V; v0 += GLM_BLOCK) {
        int64_t c = V - v0 < GLM_BLOCK ? V - v0 : GLM_BLOCK;
        if ((st = btfm_progress_update(&ols_part, "OLS fit", (double)v0 / V))) goto done;
        btfm_dense_copy_fd(data + v0, V, n, c, y, c);
        fit_block(g, &ols, y, c, b, var);
        if (sums) residual_sums(y, n, c, sums + 5 * v0);
        btfm_dense_copy_df(b, c, p, c, g->betas + v0, V);
        for (int64_t j = 0; j < c; j++) g->variance[v0 + j] = (float)var[j];
    }
    if (g->noise == BTFM_GLM_OLS) {
        g->groups = btfm_calloc(1, sizeof *g->groups);
        if (!g->groups) { st = btfm_fail_nomem(func, sizeof *g->groups); goto done; }
        g->groups[0] = ols;
        memset(&ols, 0, sizeof ols);
        g->n_groups = 1;
        goto done;
    }

    /* Yule-Walker AR(1) as nilearn's _yule_walker: the residuals centred by their mean
     * over all voxels and volumes, rho = (sum y_t y_t+1 / (n - 1)) / (sum y_t^2 / n),
     * then truncated toward zero to a multiple of 0.01. */
    double total = 0;
    for (int64_t v = 0; v < V; v++) total += sums[5 * v + 2];
    const double m = total / ((double)n * (double)V);
    bins = btfm_malloc((size_t)V * sizeof(int));
    if (!bins) { st = btfm_fail_nomem(func, (size_t)V * sizeof(int)); goto done; }
    for (int64_t v = 0; v < V; v++) {
        const double *s = sums + 5 * v;
        double s0 = s[0] - 2 * m * s[2] + (double)n * m * m;
        double s1 = s[1] - m * (2 * s[2] - s[3] - s[4]) + (double)(n - 1) * m * m;
        double rho = s0 > 0 ? (s1 / (double)(n - 1)) / (s0 / (double)n) : 0.0;
        if (rho > 1.0) rho = 1.0;
        if (rho < -1.0) rho = -1.0;
        bins[v] = (int)(rho * GLM_AR_BINS);
        g->rho[v] = (float)(bins[v] * 1.0 / GLM_AR_BINS);
    }
    if ((st = make_groups(g, bins))) goto done;
    st = refit_ar1(g, data, &ar_part);
done:
    btfm_free(ols.pinv);
    btfm_free(ols.cov);
    btfm_free(ols.design);
    btfm_free(y);
    btfm_free(b);
    btfm_free(sums);
    btfm_free(bins);
    /* A stop asked at the last report comes after the work: the fit is kept. */
    if (!st && btfm_progress_done(&progress, "GLM fit") == BTFM_E_CANCELLED) btfm_clear_error();
    glm_results fresh = take_results(g);
    put_results(g, st ? fresh : previous); /* the one to discard */
    clear_fit(g);
    put_results(g, st ? previous : fresh);
    return st;
}

btfm_status btfm_glm_set_progress(btfm_glm *g, btfm_progress_fn fn, void *user)
{
    BTFM_CHECK_ARG(g, "btfm_glm_set_progress", "glm");
    g->progress_fn = fn;
    g->progress_user = user;
    return BTFM_OK;
}

btfm_status btfm_glm_dims(const btfm_glm *g, int64_t *n_regressors, int64_t *n_voxels,
                          int64_t *dof)
{
    BTFM_CHECK_ARG(g, "btfm_glm_dims", "glm");
    if (n_regressors) *n_regressors = g->p;
    if (n_voxels) *n_voxels = g->n_voxels;
    if (dof) *dof = g->n_times - g->p;
    return BTFM_OK;
}

static btfm_status check_output(const btfm_glm *g, const void *out, size_t capacity,
                                size_t need, const char *func)
{
    BTFM_CHECK_ARG(g, func, "glm");
    BTFM_CHECK_ARG(out, func, "out");
    if (!g->betas)
        return btfm_fail(BTFM_E_STATE, "%s: the GLM is not fitted; call btfm_glm_fit first",
                         func);
    if (capacity < need)
        return btfm_fail(BTFM_E_RANGE, "%s: the buffer holds %zu floats; %zu needed", func,
                         capacity, need);
    return BTFM_OK;
}

btfm_status btfm_glm_betas(const btfm_glm *g, float *out, size_t capacity)
{
    btfm_status st = check_output(g, out, capacity, g ? (size_t)(g->p * g->n_voxels) : 0,
                                  "btfm_glm_betas");
    if (st) return st;
    memcpy(out, g->betas, (size_t)(g->p * g->n_voxels) * sizeof(float));
    return BTFM_OK;
}

btfm_status btfm_glm_residual_variance(const btfm_glm *g, float *out, size_t capacity)
{
    btfm_status st = check_output(g, out, capacity, g ? (size_t)g->n_voxels : 0,
                                  "btfm_glm_residual_variance");
    if (st) return st;
    memcpy(out, g->variance, (size_t)g->n_voxels * sizeof(float));
    return BTFM_OK;
}

btfm_status btfm_glm_ar1(const btfm_glm *g, float *out, size_t capacity)
{
    btfm_status st = check_output(g, out, capacity, g ? (size_t)g->n_voxels : 0,
                                  "btfm_glm_ar1");
    if (st) return st;
    memcpy(out, g->rho, (size_t)g->n_voxels * sizeof(float));
    return BTFM_OK;
}

btfm_status btfm_glm_contrast(const btfm_glm *g, const double *contrast, int64_t n_regressors,
                              float *effect, float *variance, float *t)
{
    static const char func[] = "btfm_glm_contrast";
    BTFM_CHECK_ARG(g, func, "glm");
    BTFM_CHECK_ARG(contrast, func, "contrast");
    if (!g->betas)
        return btfm_fail(BTFM_E_STATE, "%s: the GLM is not fitted; call btfm_glm_fit first",
                         func);
    if (n_regressors != g->p)
        return btfm_fail(BTFM_E_RANGE, "%s: the contrast has %lld weights; the design has "
                         "%lld regressors", func, (long long)n_regressors, (long long)g->p);
    btfm_status st = btfm_glm_check_finite_d(contrast, 1, n_regressors, func, "contrast weight");
    if (st) return st;
    const int64_t p = g->p, V = g->n_voxels;
    double *ccc = btfm_dense_zeros(g->n_groups, 1, func);
    if (!ccc) return BTFM_E_NOMEM;
    for (int i = 0; i < g->n_groups; i++) {
        const double *cov = g->groups[i].cov;
        double s = 0;
        for (int64_t a = 0; a < p; a++)
            for (int64_t b = 0; b < p; b++) s += contrast[a] * cov[a * p + b] * contrast[b];
        ccc[i] = s;
    }
    for (int64_t v = 0; v < V; v++) {
        double e = 0;
        for (int64_t a = 0; a < p; a++) e += contrast[a] * g->betas[a * V + v];
        double var = (double)g->variance[v] * ccc[g->group[v]];
        if (effect) effect[v] = (float)e;
        if (variance) variance[v] = (float)var;
        if (t) t[v] = (float)(var > 0 ? e / sqrt(var) : 0.0);
    }
    btfm_free(ccc);
    return BTFM_OK;
}
