/* Hyperalignment (Haxby et al. 2011, Neuron), following PyMVPA's Hyperalignment:
 * level 1 grows a template from the reference subject, level 2 re-aligns each subject to
 * the leave-one-out mean for a number of passes, level 3 fits the final maps to the
 * common template. Every Procrustes step works on T-sized problems: each subject is
 * decomposed once (hyper_subject.c), the T x V products run in single precision, the
 * template's own work on column blocks (hyper_template.c). In a distributed fit each
 * process holds some of the subjects: level 1's template passes from process to process
 * in the subjects' global order, and the means of levels 2 and 3 are summed across them,
 * so the fit is the one-process fit of all subjects. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "hyper_internal.h"
#include "core/scratch.h"

/* The common template as level 3's T x T route shares it among subjects: the upper
 * Cholesky factor rg of its Gram matrix on the centered vectors ((T-1) x (T-1), float)
 * and the orthonormal rows `basis` ((T-1) x K, double) with C = Q [0; rg^T basis]. */
typedef struct common_factor {
    float *rg;
    double *basis;
} common_factor;

static void common_factor_clear(common_factor *cf)
{
    btfm_free(cf->rg);
    btfm_free(cf->basis);
    cf->rg = NULL;
    cf->basis = NULL;
}

/* The factor of the template c (T x K, double) from its float Gram matrix g (upper part);
 * leaves cf empty when g is not numerically positive definite on the centered vectors
 * (level 3 then takes the factored route). */
static btfm_status common_factor_init(const double *c, const float *g, int64_t T, int64_t K,
                                      common_factor *cf)
{
    const char *where = "btfm_aligner_fit";
    const int64_t m = T - 1;
    double *w = btfm_dense_zeros(T, 1, where);
    double *rd = btfm_dense_zeros(m, m, where);
    cf->rg = btfm_malloc((size_t)(m * m) * sizeof(float));
    cf->basis = btfm_dense_zeros(m, K, where);
    btfm_status st = (!w || !rd || !cf->rg || !cf->basis)
                         ? btfm_fail_nomem(where, (size_t)(m * K) * sizeof(double))
                         : BTFM_OK;
    if (!st) {
        btfm_align_centered_block(g, T, w, cf->rg);
        if (btfm_dense_chol_f(cf->rg, m) != 0) {
            common_factor_clear(cf);
        } else {
            /* basis = rg^-T (Q c)[1:] */
            btfm_align_project_centered(c, T, K, cf->basis);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < m; j++) rd[i * m + j] = j >= i ? cf->rg[i * m + j] : 0.0;
            cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit,
                        (blasint)m, (blasint)K, 1.0, rd, (blasint)m, cf->basis, (blasint)K);
        }
    }
    if (st) common_factor_clear(cf);
    btfm_free(w);
    btfm_free(rd);
    return st;
}

/* The level-3 map through a shared template factor: a = z^T N (V x (T-1)), b = basis
 * (shared: the fit hands the basis to the aligner once every map refers to it).
 * *done is 0 when the problem needs the factored route instead. */
static btfm_status final_map_onto(const btfm_aligner *a, const hyper_subject *h,
                                  const float *z, int64_t V, const common_factor *cf,
                                  double target_sq, align_map *m, double *sq, int *done)
{
    const int64_t T = a->n_times, K = a->n_components, n = T - 1;
    align_source src = btfm_hyper_source(h, T, V);
    align_rotation rot;
    *done = 0;
    if (!cf || !cf->rg || !btfm_align_procrustes_by_gram(&src, K, (int)ALIGN_PARAM(a, REFLECTION)))
        return BTFM_OK;
    float *nf = btfm_malloc((size_t)(T * n) * sizeof(float));
    float *af = btfm_malloc((size_t)(V * n) * sizeof(float));
    btfm_status st = (!nf || !af) ? btfm_fail_nomem("btfm_aligner_fit", (size_t)(V * n) * 4)
                                  : BTFM_OK;
    if (!st)
        st = btfm_align_procrustes_onto(&src, h->dual, cf->rg, (int)ALIGN_PARAM(a, SCALING),
                                        nf, &rot, done);
    if (!st && *done && !(st = btfm_align_map_alloc(m, V, n, K))) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)n,
                    (blasint)T, 1.0f, z, (blasint)V, nf, (blasint)n, 0.0f, af, (blasint)n);
        for (int64_t j = 0; j < V * n; j++) m->a[j] = af[j];
        btfm_free(m->b); /* every map shares the template's basis */
        m->b = cf->basis;
        m->b_shared = 1;
        *sq = rot.mapped_sq - 2.0 * rot.scale * rot.trace + target_sq;
    }
    btfm_free(nf);
    btfm_free(af);
    return st;
}

/* The level-3 map of one subject onto the common template `target` (T x K, float; its
 * Gram matrix `target_gram` may be NULL):
 * a = w p scale = z^T (dual p scale), b = qt. *sq receives ||X R - C||^2 from the
 * factors: ||X R||^2 - 2 scale trace + ||C||^2. */
static btfm_status final_map(const btfm_aligner *a, const hyper_subject *h, const float *z,
                             int64_t V, const float *target, const float *target_gram,
                             const common_factor *cf, double target_sq, align_map *m,
                             double *sq)
{
    const int64_t T = a->n_times, K = a->n_components;
    align_source src = btfm_hyper_source(h, T, V);
    align_rotation rot;
    int done;
    btfm_status st = final_map_onto(a, h, z, V, cf, target_sq, m, sq, &done);
    if (st || done) return st;
    st = btfm_align_procrustes_float(&src, target, K, target_gram, (int)ALIGN_PARAM(a, SCALING),
                                     (int)ALIGN_PARAM(a, REFLECTION), NULL, NULL, NULL, &rot, NULL);
    if (st) return st;
    const int64_t r = h->rank, r2 = rot.rank;
    float *df = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *pf = btfm_malloc((size_t)(r * r2) * sizeof(float));
    float *left = btfm_malloc((size_t)(T * r2) * sizeof(float));
    float *af = btfm_malloc((size_t)(V * r2) * sizeof(float));
    if (!df || !pf || !left || !af || (st = btfm_align_map_alloc(m, V, r2, 0))) {
        st = st ? st : btfm_fail_nomem("btfm_aligner_fit", (size_t)(V * r2) * sizeof(float));
        goto done;
    }
    for (int64_t j = 0; j < T * r; j++) df[j] = (float)h->dual[j];
    for (int64_t j = 0; j < r * r2; j++) pf[j] = (float)rot.p[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r2,
                (blasint)r, (float)rot.scale, df, (blasint)r, pf, (blasint)r2, 0.0f, left,
                (blasint)r2);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)r2, (blasint)T,
                1.0f, z, (blasint)V, left, (blasint)r2, 0.0f, af, (blasint)r2);
    for (int64_t j = 0; j < V * r2; j++) m->a[j] = af[j];
    /* b = qt, taken over rather than copied; offset is K zeros. */
    btfm_free(m->b);
    btfm_free(m->offset);
    m->b = rot.qt;
    rot.qt = NULL;
    m->offset = btfm_dense_zeros(K, 1, "btfm_aligner_fit");
    if (!m->offset) { st = BTFM_E_NOMEM; goto done; }
    *sq = rot.mapped_sq - 2.0 * rot.scale * rot.trace + target_sq;
done:
    btfm_free(df);
    btfm_free(pf);
    btfm_free(left);
    btfm_free(af);
    btfm_align_rotation_clear(&rot);
    return st;
}

/* mapped = procrustes(subject -> target).apply, `side` (may be NULL) beside it. */
static btfm_status map_to(const btfm_aligner *a, const hyper_subject *h, int64_t V,
                          const float *target, int64_t n_target, float *mapped,
                          const align_side *side)
{
    align_source src = btfm_hyper_source(h, a->n_times, V);
    return btfm_align_procrustes_float(&src, target, n_target, NULL,
                                       (int)ALIGN_PARAM(a, SCALING),
                                       (int)ALIGN_PARAM(a, REFLECTION), mapped, NULL, NULL,
                                       NULL, side);
}

/* z-score the columns of x (rows x cols, float) in place; `acc` has 2 cols doubles. */
static void zscore_float(float *x, int64_t rows, int64_t cols, double *acc)
{
    (void)btfm_dense_standardize(x, rows, cols, cols, 1, acc, acc + cols);
}

/* Reduce the template to its top `k` principal directions (PyMVPA's output_dim):
 * with C = u s v^T, C v_k = u_k s_k, so the top k eigenpairs of the T x T Gram matrix
 * C C^T = u s^2 u^T (g, float, upper part) give the reduced template without a
 * V-sized product. */
static btfm_status reduce_common(btfm_aligner *a, const float *g, int64_t k)
{
    const int64_t T = a->n_times;
    double *gd = btfm_dense_zeros(T, T, "btfm_aligner_fit");
    double *w = btfm_dense_zeros(k, 1, "btfm_aligner_fit");
    double *u = btfm_dense_zeros(T, k, "btfm_aligner_fit");
    btfm_status st = (!gd || !w || !u) ? BTFM_E_NOMEM : BTFM_OK;
    if (!st) {
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = i; j < T; j++) gd[i * T + j] = g[i * T + j];
        st = btfm_dense_syev_top(gd, T, k, w, u, "btfm_aligner_fit: the common template");
    }
    /* A direction below 1e-3 of the largest singular value (the float Gram matrix
     * resolves no finer) counts as null. */
    if (!st && !(w[k - 1] > w[0] * 1e-6 && w[k - 1] > 0))
        st = btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds the rank "
                       "of the common template", (long long)k);
    if (!st && !(a->common = btfm_dense_zeros(T, k, "btfm_aligner_fit"))) st = BTFM_E_NOMEM;
    if (!st) { /* columns in descending order of the singular values */
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < k; j++) a->common[t * k + j] = u[t * k + j] * sqrt(w[j]);
        btfm_dense_zscore_columns(a->common, T, k);
    }
    btfm_free(gd);
    btfm_free(w);
    btfm_free(u);
    return st;
}

/* What the per-subject phases of a fit share; each task writes only its subject's
 * entries. */
typedef struct hyper_fit {
    btfm_aligner *a;
    hyper_subject *hs;
    float **mapped;     /* per subject, T x Vc */
    int ref;            /* the reference's local index, -1 when another process has it */
    int64_t Vc;
    const float *common; /* level 2: the template (T x Vc); level 3: the target */
    const float *gram;   /* level 3: the target's Gram matrix, or NULL */
    const common_factor *factor; /* level 3: the target's shared factor, or NULL */
    int *order;          /* level 1: the local subjects but the reference, in order */
    int n_order;
    int step0;           /* level 1: the global step of order[0] */
    int *blocks;         /* level 1: per run of steps on one process, that process's first
                          * subject + 1; n_blocks runs in global order */
    int n_blocks;
    double *pass;        /* distributed fit: T x Vc sums passed between processes */
    int workers;         /* threads for the per-subject phases and level 1's blocks */
    double target_sq;    /* level 3: ||target||^2 */
    double *sq;          /* level 3: per subject ||X R - C||^2 */
} hyper_fit;

static btfm_status prepare_task(void *ctx, int64_t i, int worker)
{
    hyper_fit *fit = ctx;
    btfm_aligner *a = fit->a;
    /* the reference enters the template as whitened (alpha < 1) or as it is */
    return btfm_hyper_prepare(a, a->train[i], a->n_features[i], a->maps[i].mean, a->maps[i].scale,
                   &fit->hs[i], i == fit->ref ? fit->mapped[i] : NULL);
}

/* The preparation of the reference (when local) and of the first local subject of
 * level 1. */
static btfm_status prepare_first_task(void *ctx, int64_t k, int worker)
{
    hyper_fit *fit = ctx;
    return prepare_task(ctx, k == 0 && fit->ref >= 0 ? fit->ref : fit->order[0], worker);
}

/* Level 2 for subject i: M_i = z(P(Z_i -> z((N C - M_i) / (N - 1)))), C the plain mean of
 * the previous pass. */
BTFM_HOT static btfm_status level2_task(void *ctx, int64_t i, int worker)
{
    hyper_fit *fit = ctx;
    btfm_aligner *a = fit->a;
    const int64_t T = a->n_times, Vc = fit->Vc;
    const int N = btfm_align_total_subjects(a);
    const size_t tbytes = (size_t)(T * Vc) * sizeof(float);
    float *target = btfm_scratch_get(tbytes);
    double *acc = btfm_dense_zeros((2 * Vc), 1, "btfm_aligner_fit");
    btfm_status st = BTFM_OK;
    if (!target || !acc) {
        st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * Vc) * sizeof(float));
    } else {
        const float *mi = fit->mapped[i];
        const float n = (float)N, n1 = 1.0f / (float)(N - 1);
        for (int64_t j = 0; j < T * Vc; j++) target[j] = (n * fit->common[j] - mi[j]) * n1;
        zscore_float(target, T, Vc, acc);
        st = map_to(a, &fit->hs[i], a->n_features[i], target, Vc, fit->mapped[i], NULL);
        if (!st) zscore_float(fit->mapped[i], T, Vc, acc);
    }
    btfm_scratch_put(target, tbytes);
    btfm_free(acc);
    return st;
}

/* Level 3 for subject i: its final map to the common template. */
static btfm_status level3_task(void *ctx, int64_t i, int worker)
{
    hyper_fit *fit = ctx;
    btfm_aligner *a = fit->a;
    const int64_t V = a->n_features[i];
    align_map *m = &a->maps[i];
    double *mean = m->mean, *scale = m->scale;
    m->mean = m->scale = NULL;
    btfm_align_map_clear(m);
    btfm_status st = final_map(a, &fit->hs[i], a->train[i], V, fit->common, fit->gram,
                               fit->factor, fit->target_sq, m, &fit->sq[i]);
    if (!st) {
        memcpy(m->mean, mean, (size_t)V * sizeof(double));
        memcpy(m->scale, scale, (size_t)V * sizeof(double));
        btfm_free(mean);
        btfm_free(scale);
    } else { /* keep the statistics for undoing the standardization */
        btfm_align_map_clear(m);
        m->mean = mean;
        m->scale = scale;
    }
    return st;
}

/* The template as the plain mean of the aligned data (PyMVPA's combiner2), z-scored when
 * `zscore`, or only z-scored when mean_of is NULL; `gram` (may be NULL, T x T, upper
 * part) receives the result's C C^T. */
static btfm_status template_update(const hyper_fit *fit, float *const *mean_of, int zscore,
                                   float *common, float *gram)
{
    const int W = fit->workers;
    const int64_t T = fit->a->n_times, Vc = fit->Vc, chunk = btfm_hyper_template_chunk(Vc, W);
    template_scratch ts;
    btfm_status st = btfm_hyper_template_scratch_init(&ts, W, T, chunk, gram != NULL);
    if (st) return st;
    template_blocks l = {mean_of, fit->a->n_subjects, NULL, NULL, zscore, common,
                         gram ? ts.gram : NULL, ts.acc, T, Vc, chunk};
    st = btfm_hyper_template_run(&l, W);
    if (!st && gram) memcpy(gram, ts.gram[0], (size_t)(T * T) * sizeof(float));
    btfm_hyper_template_scratch_clear(&ts);
    return st;
}

/* The plain mean of every subject's aligned data into `common`: summed across the
 * processes of a distributed fit (in double, as one process sums), else template_update.
 * Called alike on every process; `st` joins the processes' combination. */
static btfm_status template_mean(const hyper_fit *fit, float *common, btfm_status st)
{
    const btfm_aligner *a = fit->a;
    if (!a->reduce) return st ? st : template_update(fit, fit->mapped, 0, common, NULL);
    const int64_t n = a->n_times * fit->Vc;
    double *sum = fit->pass;
    for (int64_t j = 0; !st && j < n; j++) sum[j] = 0.0; /* NULL after a failure */
    for (int i = 0; !st && i < a->n_subjects; i++)
        for (int64_t j = 0; j < n; j++) sum[j] += fit->mapped[i][j];
    st = btfm_align_combine(a, sum, n, ALIGN_SUM, st);
    const double total = btfm_align_total_subjects(a);
    for (int64_t j = 0; !st && j < n; j++) common[j] = (float)(sum[j] / total);
    return st;
}

/* A distributed fit's level-1 template from the process that grew it last (`mine`) to
 * every other, which adds zeros; without a reduction there is nothing to pass. */
static btfm_status pass_template(const hyper_fit *fit, float *common, int mine, btfm_status st)
{
    const btfm_aligner *a = fit->a;
    if (!a->reduce) return st;
    const int64_t n = a->n_times * fit->Vc;
    for (int64_t j = 0; !st && j < n; j++) fit->pass[j] = mine ? common[j] : 0.0;
    st = btfm_align_combine(a, fit->pass, n, ALIGN_SUM, st);
    for (int64_t j = 0; !st && !mine && j < n; j++) common[j] = (float)fit->pass[j];
    return st;
}

/* Level 1: the template grows subject by subject from the reference (in `common`). Each
 * step's T x T algebra runs on the caller's thread, its eigendecomposition beside the
 * preparation of the next subject, its T x V products and z-scores on column blocks. In
 * a distributed fit each process grows it through its run of subjects in turn. */
static btfm_status level1(hyper_fit *fit, float *common, btfm_status st)
{
    btfm_aligner *a = fit->a;
    const int n = fit->n_order, W = fit->workers, N = btfm_align_total_subjects(a);
    const int own = btfm_align_global_index(a, 0) + 1;
    const int64_t T = a->n_times, Vc = fit->Vc, chunk = btfm_hyper_template_chunk(Vc, W);
    const int scaling = (int)ALIGN_PARAM(a, SCALING), reflection = (int)ALIGN_PARAM(a, REFLECTION);
    const int by_gram = T <= Vc; /* whether any step can take the T x T route */
    float *left = by_gram ? btfm_malloc((size_t)(T * T) * sizeof(float)) : NULL;
    template_scratch ts = {0};
    if (!st)
        st = (by_gram && !left)
                 ? btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float))
                 : btfm_hyper_template_scratch_init(&ts, W, T, chunk, by_gram);
    template_blocks l = {NULL, 0, NULL, NULL, 1, common, by_gram ? ts.gram : NULL, ts.acc,
                         T, Vc, chunk};
    if (!st && fit->ref >= 0) {
        memcpy(common, fit->mapped[fit->ref], (size_t)(T * Vc) * sizeof(float));
        st = btfm_hyper_template_run(&l, W);
    }
    st = pass_template(fit, common, fit->ref >= 0, st);
    for (int b = 0; b < fit->n_blocks && !st; b++) {
        const int mine = fit->blocks[b] == own;
        if (mine && a->reduce && by_gram) { /* the passed template's Gram matrix */
            template_blocks g = l;
            g.zscore = 0;
            st = btfm_hyper_template_run(&g, W);
        }
        for (int s = 0; mine && !st && s < n; s++) {
            const int i = fit->order[s];
            const int64_t V = a->n_features[i];
            /* the last step has no preparation beside it, but still its workers */
            align_side side = {s + 1 < n ? prepare_task : NULL, fit,
                               s + 1 < n ? fit->order[s + 1] : 0, W};
            align_source src = btfm_hyper_source(&fit->hs[i], T, V);
            l.left = by_gram && btfm_align_procrustes_by_gram(&src, Vc, reflection) ? left
                                                                                 : NULL;
            if (l.left) { /* an ill-conditioned step fills mapped in double instead of left */
                int used_left = 0;
                st = btfm_align_procrustes_float(&src, common, Vc, ts.gram[0], scaling,
                                                 reflection, fit->mapped[i], left, &used_left,
                                                 NULL, &side);
                if (!used_left) l.left = NULL;
            } else
                st = map_to(a, &fit->hs[i], V, common, Vc, fit->mapped[i], &side);
            l.mapped = fit->mapped[i];
            if (!st) st = btfm_hyper_template_run(&l, W);
            /* level 1 takes the first 40% of the fit */
            if (!st)
                st = btfm_progress_update(a->progress, "level 1",
                                          0.4 * (fit->step0 + s + 1.0) / (N - 1));
        }
        st = pass_template(fit, common, mine, st);
    }
    btfm_hyper_template_scratch_clear(&ts);
    btfm_free(left);
    return st;
}

/* The reference's global index (the parameter, or the subject with most features, the
 * first of them) and its feature count; with the processes' subjects in global order,
 * runs of level-1 steps (fit->blocks). Called alike on every process. */
static btfm_status plan_level1(hyper_fit *fit, int *ref, int64_t *Vc, btfm_status st)
{
    btfm_aligner *a = fit->a;
    const int N = btfm_align_total_subjects(a), first = btfm_align_global_index(a, 0);
    /* per global subject: its feature count, and its process's first subject + 1 */
    double *info = btfm_dense_zeros(2 * N, 1, "btfm_aligner_fit");
    fit->blocks = btfm_malloc((size_t)N * sizeof *fit->blocks);
    if (!st && (!info || !fit->blocks))
        st = btfm_fail_nomem("btfm_aligner_fit", (size_t)N * 2 * sizeof(double));
    for (int i = 0; !st && i < a->n_subjects; i++) {
        info[first + i] = (double)a->n_features[i];
        info[N + first + i] = first + 1.0;
    }
    st = btfm_align_combine(a, info, info ? 2 * N : 0, ALIGN_SUM, st);
    if (!st && *ref < 0) {
        *ref = 0;
        for (int g = 1; g < N; g++)
            if (info[g] > info[*ref]) *ref = g;
    }
    fit->n_blocks = 0;
    for (int g = 0; !st && g < N; g++) {
        const int owner = (int)info[N + g];
        if (g != *ref && (fit->n_blocks == 0 || fit->blocks[fit->n_blocks - 1] != owner))
            fit->blocks[fit->n_blocks++] = owner;
    }
    /* the global step of this process's first level-1 subject */
    fit->step0 = first - (*ref < first ? 1 : 0);
    if (!st) *Vc = (int64_t)info[*ref];
    btfm_free(info);
    return st;
}

btfm_status btfm_align_fit_hyperalignment(btfm_aligner *a)
{
    const int N = a->n_subjects, N_all = btfm_align_total_subjects(a);
    const int first = btfm_align_global_index(a, 0);
    const int64_t T = a->n_times;
    int ref = (int)ALIGN_PARAM(a, REFERENCE);
    if (ref >= N_all)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: reference = %d but there are only "
                         "%d subjects (numbered from 0; -1 picks the one with most features)",
                         ref, N_all);
    const int64_t K = (int64_t)ALIGN_PARAM(a, N_FEATURES);
    if (K > T)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds the %lld "
                         "time points", (long long)K, (long long)T);
    /* Local failures join the next combination of a distributed fit, so that every
     * process stops at the same one; hence `if (!st)` steps between combinations. */
    const size_t n_alloc = N > 0 ? (size_t)N : 1;
    hyper_subject *hs = btfm_calloc(n_alloc, sizeof *hs);
    float **mapped = btfm_calloc(n_alloc, sizeof *mapped);
    double *sq = btfm_dense_zeros(N > 0 ? N : 1, 1, "btfm_aligner_fit");
    int *order = btfm_malloc(n_alloc * sizeof *order);
    float *common = NULL, *target = NULL, *gram = NULL;
    int prepared = 0; /* training copies that may be standardized in place */
    common_factor factor = {NULL, NULL};
    hyper_fit fit = {.a = a, .hs = hs, .mapped = mapped, .sq = sq, .order = order,
                     .workers = btfm_align_workers(a)};
    /* Every phase spreads its own work over the workers, with OpenBLAS on one thread per
     * caller: OpenBLAS's own threads would keep spinning between calls and take a core
     * from the workers. */
    const int blas_threads = btfm_dense_blas_threads_push(1);
    btfm_status st = BTFM_OK;
    if (!hs || !mapped || !sq || !order)
        st = btfm_fail_nomem("btfm_aligner_fit", n_alloc * sizeof(hyper_subject));
    int64_t Vc = 0;
    if ((st = plan_level1(&fit, &ref, &Vc, st))) goto done;
    fit.Vc = Vc;
    fit.ref = ref >= first && ref < first + N ? ref - first : -1;
    common = btfm_malloc((size_t)(T * Vc) * sizeof(float));
    if (!common) st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * Vc) * sizeof(float));
    if (!st && a->reduce && !(fit.pass = btfm_dense_zeros(T, Vc, "btfm_aligner_fit")))
        st = BTFM_E_NOMEM;
    for (int i = 0; i < N && !st; i++) {
        mapped[i] = btfm_malloc((size_t)(T * Vc) * sizeof(float));
        if (!mapped[i]) st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * Vc) * 4);
    }
    /* Statistics start as mean 0, scale 1, so undoing a subject never reached is a no-op. */
    for (int i = 0; i < N && !st; i++)
        if (!(st = btfm_align_map_alloc(&a->maps[i], a->n_features[i], 0, 0)))
            prepared = i + 1;
    for (int i = 0; i < N; i++)
        if (i != fit.ref) order[fit.n_order++] = i;
    /* The reference and the first subject of level 1 are prepared side by side; every
     * later subject beside the eigendecomposition of the level-1 step before its own,
     * so that level 1's sequential steps leave no core idle. */
    const int n_first = (fit.ref >= 0) + (fit.n_order > 0);
    if (!st && n_first > 0)
        st = btfm_parallel_for(fit.workers, n_first, prepare_first_task, &fit);
    if ((st = level1(&fit, common, st))) goto done;
    if ((st = template_mean(&fit, common, st))) goto done;

    /* Level 2: each subject against the mean of the others, `level2_passes` times; the
     * subjects of a pass are independent. As in PyMVPA, the template stays the plain
     * mean between passes and is z-scored once at the end. */
    fit.common = common;
    for (int pass = 0; pass < (int)ALIGN_PARAM(a, LEVEL2_PASSES); pass++) {
        if (N > 0) st = btfm_parallel_for(fit.workers, N, level2_task, &fit);
        if ((st = template_mean(&fit, common, st))) goto done;
        /* a cancel here joins the next combination */
        st = btfm_progress_update(a->progress, "level 2",
                                  0.4 + 0.4 * (pass + 1.0) / ALIGN_PARAM(a, LEVEL2_PASSES));
    }
    /* The final z-score also forms the template's Gram matrix, which the reduction and
     * level 3's T x T route both start from. */
    if (!st && !(gram = btfm_malloc((size_t)(T * T) * sizeof(float))))
        st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float));
    if (!st) st = template_update(&fit, NULL, 1, common, gram);
    for (int i = 0; i < N; i++) { /* the aligned data are no longer needed */
        btfm_free(mapped[i]);
        mapped[i] = NULL;
    }
    if (!st && K > 0 && K < Vc) {
        if (!(st = reduce_common(a, gram, K))) a->n_components = K;
    } else if (!st) {
        if (!(a->common = btfm_dense_zeros(T, Vc, "btfm_aligner_fit"))) st = BTFM_E_NOMEM;
        for (int64_t j = 0; !st && j < T * Vc; j++) a->common[j] = common[j];
        if (!st) a->n_components = Vc;
    }

    /* Level 3: the final map of every subject to the common template (whose Gram matrix
     * every subject's T x T route shares). */
    const int64_t Kc = a->n_components;
    target = common; /* T x Vc floats hold the T x Kc target */
    for (int64_t j = 0; !st && j < T * Kc; j++) {
        target[j] = (float)a->common[j];
        fit.target_sq += a->common[j] * a->common[j];
    }
    /* The T x T route needs T <= Kc, so Kc = Vc: the target is the template itself, whose
     * Gram matrix is at hand. */
    if (!st && T <= Kc) st = common_factor_init(a->common, gram, T, Kc, &factor);
    fit.common = target;
    fit.gram = T <= Kc ? gram : NULL;
    fit.factor = &factor;
    if (!st) st = btfm_progress_update(a->progress, "level 3", 0.85);
    if (!st && N > 0) st = btfm_parallel_for(fit.workers, N, level3_task, &fit);
    double total = 0.0;
    for (int i = 0; i < N; i++) total += sq[i];
    if ((st = btfm_align_combine(a, &total, 1, ALIGN_SUM, st))) goto done;
    a->basis = factor.basis; /* the maps refer to it */
    factor.basis = NULL;
    a->objective = (total > 0 ? total : 0.0) / ((double)N_all * (double)T * (double)Kc);
    a->iterations = 0;
    a->change = NAN;
done:
    btfm_dense_blas_threads_pop(blas_threads);
    if (st)
        for (int i = 0; i < prepared; i++)
            if (a->maps[i].mean && a->maps[i].scale)
                btfm_hyper_unstandardize(a->train[i], T, a->n_features[i],
                                         a->maps[i].mean, a->maps[i].scale);
    for (int i = 0; hs && i < N; i++) btfm_hyper_subject_clear(&hs[i]);
    for (int i = 0; mapped && i < N; i++) btfm_free(mapped[i]);
    btfm_free(hs);
    btfm_free(order);
    btfm_free(mapped);
    btfm_free(common);
    btfm_free(sq);
    btfm_free(gram);
    btfm_free(fit.blocks);
    btfm_free(fit.pass);
    common_factor_clear(&factor);
    return st;
}

btfm_status btfm_align_hyper_fit_subject(btfm_aligner *a, int subject, const float *data)
{
    const int64_t T = a->n_times, V = a->n_features[subject], K = a->n_components;
    hyper_subject h = {0};
    double *mean = btfm_dense_zeros(V, 1, "btfm_aligner_add_subject");
    double *scale = btfm_dense_zeros(V, 1, "btfm_aligner_add_subject");
    float *z = btfm_malloc((size_t)(T * V) * sizeof(float));
    float *target = btfm_malloc((size_t)(T * K) * sizeof(float));
    btfm_status st = (!mean || !scale || !z || !target)
                         ? btfm_fail_nomem("btfm_aligner_add_subject", (size_t)(T * V) * 4)
                         : BTFM_OK;
    double sq;
    if (!st) {
        memcpy(z, data, (size_t)(T * V) * sizeof(float));
        for (int64_t j = 0; j < T * K; j++) target[j] = (float)a->common[j];
        st = btfm_hyper_prepare(a, z, V, mean, scale, &h, NULL);
    }
    if (!st) st = final_map(a, &h, z, V, target, NULL, NULL, 0.0, &a->maps[subject], &sq);
    if (!st) {
        memcpy(a->maps[subject].mean, mean, (size_t)V * sizeof(double));
        memcpy(a->maps[subject].scale, scale, (size_t)V * sizeof(double));
    }
    btfm_hyper_subject_clear(&h);
    btfm_free(mean);
    btfm_free(scale);
    btfm_free(z);
    btfm_free(target);
    return st;
}
