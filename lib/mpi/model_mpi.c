/* Ridge over MPI: the targets divided among ranks, every rank holding the shared design.
 * Targets are independent given the design (per-target alpha, no shared noise model), so
 * each rank fits its own block with the design's decompositions computed once, on the
 * first rank holding targets, and broadcast; the ranks agree before any of them keeps its
 * fit. The cross-validation scores of every target are gathered on request. */
#ifdef BTFM_HAVE_MPI /* the layer is built only with MPI */
#include <math.h>
#include "mpi_internal.h"
#include "core/param.h"
#include "model/model_internal.h"

/* The contents every rank's design must share: x, the sample weights, groups, folds and
 * delays (the ranks use one rank's decompositions of them). */
static uint64_t hash_design(const btfm_model *m, const float *x, int64_t n, int64_t p)
{
    uint64_t h = BTFM_MPI_HASH_START;
    if (n > 0 && p > 0) h = btfm_mpi_hash(h, x, (size_t)n * (size_t)p * sizeof *x);
    if (!m) return h;
    h = btfm_mpi_hash(h, m->weights, (size_t)m->n_weights * sizeof *m->weights);
    h = btfm_mpi_hash(h, m->groups, (size_t)m->n_groups * sizeof *m->groups);
    h = btfm_mpi_hash(h, m->folds, (size_t)m->n_folds * sizeof *m->folds);
    return btfm_mpi_hash(h, m->delays, (size_t)m->n_delays * sizeof *m->delays);
}

/* What a rank's settings must share with the others, compared through the maximum of
 * each value and of its negation; a rank without a model sends -HUGE_VAL. */
static btfm_status check_same(const mpi_group *g, const btfm_model *m, const float *x,
                              int64_t n, int64_t p, btfm_status st)
{
    enum { N = 6 + MODEL_PARAM_COUNT };
    static const char *const names[6] = {"model type", "samples", "features", "alphas",
                                         "the design's contents (x, weights, groups, folds "
                                         "or delays; hash)",
                                         "the design's contents (x, weights, groups, folds "
                                         "or delays; hash)"};
    double v[2 * N];
    const uint64_t h = x ? hash_design(m, x, n, p) : 0;
    v[0] = m ? m->type : -HUGE_VAL;
    v[1] = (double)n;
    v[2] = (double)p;
    v[3] = m ? m->n_alphas : -HUGE_VAL;
    v[4] = (double)(h >> 32);
    v[5] = (double)(h & 0xffffffffu);
    for (int k = 0; k < MODEL_PARAM_COUNT; k++) v[6 + k] = m ? m->params[k] : -HUGE_VAL;
    for (int j = 0; j < N; j++) v[N + j] = v[j] == -HUGE_VAL ? -HUGE_VAL : -v[j];
    if ((st = btfm_mpi_allreduce(g, v, 2 * N, 1, st))) return st;
    const char *func = "btfm_model_fit_mpi";
    for (int j = 0; j < N; j++)
        if (v[j] != -v[N + j])
            return btfm_fail(BTFM_E_INVALID, "%s: %s%s is %g on one rank and %g on another; "
                             "give every rank the same design and settings", func,
                             j < 6 ? names[j] : "parameter ",
                             j < 6 ? "" : btfm_param_table_of(BTFM_OBJECT_MODEL)->defs[j - 6].name,
                             -v[N + j], v[j]);
    /* the alpha grid itself */
    const int k = m->n_alphas;
    double *a = btfm_model_doubles(2 * (size_t)k, func);
    if (!a) st = BTFM_E_NOMEM;
    for (int i = 0; a && i < k; i++) {
        a[i] = m->alphas[i];
        a[k + i] = -m->alphas[i];
    }
    if (!(st = btfm_mpi_allreduce(g, a, 2 * k, 1, st)))
        for (int i = 0; i < k && !st; i++)
            if (a[i] != -a[k + i])
                st = btfm_fail(BTFM_E_INVALID, "%s: alpha %d is %g on one rank and %g on "
                               "another; set the same grid on every rank", func, i,
                               -a[k + i], a[i]);
    btfm_free(a);
    return st;
}

/* The distributed fit does not change the answer only where targets are independent. */
static btfm_status check_supported(const btfm_model *m, const char *func)
{
    if (m->type != BTFM_MODEL_RIDGE)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: a %s model is fitted in one process; "
                         "ridge runs over MPI", func, btfm_model_type_name(m->type));
    if (MODEL_PARAM(m, ALPHA_PER_TARGET) == 0)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: alpha_per_target is off (one alpha chosen "
                         "over every target); over MPI each target chooses its own", func);
    if (MODEL_PARAM(m, NOISE_RANK) > 0)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: noise_rank %g couples the targets through "
                         "their residual covariance; fit it in one process", func,
                         MODEL_PARAM(m, NOISE_RANK));
    return BTFM_OK;
}

/* The share points of the ranks holding targets (lib/model's ridge_share). `remote`
 * records that another rank's failure stopped this one. */
typedef struct share_ctx {
    mpi_group sub;
    int agreed, remote;
} share_ctx;

static btfm_status share_agree(void *ctx, btfm_status st)
{
    share_ctx *s = ctx;
    btfm_status out = btfm_mpi_agree(&s->sub, st);
    s->agreed |= out != BTFM_OK;
    s->remote |= out != BTFM_OK && st == BTFM_OK;
    return out;
}

static btfm_status share_bcast(void *ctx, double *values, int64_t n)
{
    share_ctx *s = ctx;
    btfm_status st = BTFM_OK;
    for (int64_t done = 0; done < n && !st;) { /* in pieces MPI's int counts can hold */
        const int64_t part = n - done < (1 << 30) ? n - done : (1 << 30);
        st = btfm_mpi_check(MPI_Bcast(values + done, (int)part, MPI_DOUBLE, 0, s->sub.comm),
                            "MPI_Bcast");
        done += part;
    }
    return st;
}

/* Every rank's target count (counts[size]); the ranks holding targets form s->sub, whose
 * rank 0 (the lowest such rank) computes the decompositions. Collective over g. */
static btfm_status split_targets(const mpi_group *g, int64_t n_targets, long long *counts,
                                 int *labels, share_ctx *s, btfm_status st)
{
    s->sub = (mpi_group){.comm = MPI_COMM_NULL, .labels = labels, .label_size = g->size};
    if ((st = btfm_mpi_agree(g, st))) return st;
    long long mine = n_targets;
    st = btfm_mpi_check(MPI_Allgather(&mine, 1, MPI_LONG_LONG, counts, 1, MPI_LONG_LONG,
                                      g->comm), "MPI_Allgather");
    if (!st) st = btfm_mpi_check(MPI_Comm_split(g->comm, n_targets > 0 ? 0 : MPI_UNDEFINED,
                                                g->rank, &s->sub.comm), "MPI_Comm_split");
    if (st || s->sub.comm == MPI_COMM_NULL) return st;
    int k = 0;
    for (int r = 0; r < g->size; r++)
        if (counts[r] > 0) labels[k++] = r;
    MPI_Comm_set_errhandler(s->sub.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s->sub.comm, &s->sub.rank);
    MPI_Comm_size(s->sub.comm, &s->sub.size);
    return BTFM_OK;
}

btfm_status btfm_model_fit_mpi(btfm_model *m, const float *x, int64_t n_samples,
                               int64_t n_features, const float *y, int64_t n_targets,
                               MPI_Comm comm)
{
    const char *func = "btfm_model_fit_mpi";
    mpi_group g;
    btfm_status st = btfm_mpi_open(&g, comm, func);
    if (st) return st;
    if (!m) st = btfm_fail(BTFM_E_INVALID, "%s: model is NULL", func);
    else if (!x) st = btfm_fail(BTFM_E_INVALID, "%s: x is NULL", func);
    else if (n_targets < 0)
        st = btfm_fail(BTFM_E_INVALID, "%s: n_targets is %lld; expected 0 or more", func,
                       (long long)n_targets);
    if (!(st = check_same(&g, m, x, n_samples, n_features, st))) st = check_supported(m, func);
    /* the same on every rank: fail alike, with no fit made */
    if (st) {
        btfm_mpi_close(&g);
        return st;
    }
    long long *counts = btfm_calloc((size_t)g.size, sizeof *counts);
    int *labels = btfm_calloc((size_t)g.size, sizeof *labels);
    if (!counts || !labels) st = btfm_fail_nomem(func, (size_t)g.size * sizeof *counts);
    share_ctx sc = {0};
    st = split_targets(&g, n_targets, counts, labels, &sc, st);
    model_fit *fit = NULL;
    if (!st && n_targets > 0) {
        const ridge_share sh = {sc.sub.rank == 0, share_agree, share_bcast, &sc};
        st = btfm_model_fit_staged(m, x, n_samples, n_features, y, n_targets, &sh, &fit, func);
        /* the last share point, where a rank that failed on its own tells the others */
        if (!sc.agreed) st = share_agree(&sc, st);
    }
    /* Every rank, also those without targets; the first rank that failed on its own
     * names the cause. */
    st = btfm_mpi_agree(&g, sc.remote ? BTFM_OK : st);
    if (!st) {
        long long first = 0, total = 0;
        for (int r = 0; r < g.size; r++) {
            first += r < g.rank ? counts[r] : 0;
            total += counts[r];
        }
        if (fit) btfm_model_fit_commit(m, fit);
        fit = NULL;
        { /* a rank without targets keeps its fit, and gathers nothing of it */
            m->distributed = 1;
            m->dist_first = first;
            m->dist_count = n_targets;
            m->dist_total = total;
        }
    }
    btfm_model_fit_free(fit);
    btfm_mpi_close(&sc.sub);
    btfm_mpi_close(&g);
    btfm_free(counts);
    btfm_free(labels);
    return st;
}

btfm_status btfm_model_cv_scores_mpi(const btfm_model *m, double *out, size_t capacity,
                                     MPI_Comm comm)
{
    const char *func = "btfm_model_cv_scores_mpi";
    mpi_group g;
    btfm_status st = btfm_mpi_open(&g, comm, func);
    if (st) return st;
    const int64_t mine = m && m->distributed ? m->dist_count : 0;
    const model_fit *f = mine > 0 ? m->fit : NULL;
    if (!m)
        st = btfm_fail(BTFM_E_INVALID, "%s: model is NULL", func);
    else if (!m->distributed)
        st = btfm_fail(BTFM_E_STATE, "%s: the model's last fit was not btfm_model_fit_mpi",
                       func);
    else if (mine > 0 && !f->cv_scores)
        st = btfm_fail(BTFM_E_STATE, "%s: no cross-validation ran (the grid has one alpha)",
                       func);
    /* The ranks' records of the fit must describe one fit: the same total and grid, and
     * blocks that follow each other in rank order. */
    double v[6] = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL, -HUGE_VAL, 0, 0};
    if (!st) {
        v[0] = (double)m->dist_total;
        v[1] = -v[0];
        v[2] = f ? f->n_cv_alphas : -HUGE_VAL;
        v[3] = f ? -v[2] : -HUGE_VAL;
    }
    if ((st = btfm_mpi_allreduce(&g, v, 4, 1, st))) goto done;
    long long *counts = NULL, total = (long long)v[0];
    const int A = v[2] == -HUGE_VAL ? 0 : (int)v[2];
    if (v[0] != -v[1] || v[2] != -v[3])
        st = btfm_fail(BTFM_E_STATE, "%s: the ranks' models come from different fits (%g and "
                       "%g targets, %g and %g alphas); call it after one btfm_model_fit_mpi",
                       func, -v[1], v[0], v[3] == -HUGE_VAL ? 0 : -v[3], v[2]);
    else if (A == 0)
        st = btfm_fail(BTFM_E_STATE, "%s: no rank holds targets", func);
    else if (!out)
        st = btfm_fail(BTFM_E_INVALID, "%s: out is NULL", func);
    else if (capacity < (size_t)A * (size_t)total)
        st = btfm_fail(BTFM_E_RANGE, "%s: out holds %zu values; the scores need %lld (%d "
                       "alphas x %lld targets)", func, capacity, (long long)A * total, A,
                       total);
    if (!st && !(counts = btfm_calloc((size_t)g.size, sizeof *counts)))
        st = btfm_fail_nomem(func, (size_t)g.size * sizeof *counts);
    if ((st = btfm_mpi_agree(&g, st))) goto done_counts;
    long long c = mine;
    st = btfm_mpi_check(MPI_Allgather(&c, 1, MPI_LONG_LONG, counts, 1, MPI_LONG_LONG, g.comm),
                        "MPI_Allgather");
    long long sum = 0, before = 0;
    for (int r = 0; !st && r < g.size; r++) {
        before += r < g.rank ? counts[r] : 0;
        sum += counts[r];
    }
    if (!st && (sum != total || (mine > 0 && m->dist_first != before)))
        st = btfm_fail(BTFM_E_STATE, "%s: the ranks' blocks of targets (%lld in all) do not "
                       "make the fit's %lld; call it after one btfm_model_fit_mpi on this "
                       "communicator", func, sum, total);
    if ((st = btfm_mpi_agree(&g, st))) goto done_counts;
    /* One alpha's row at a time: each rank's block of it, in rank order. */
    int *sizes = btfm_calloc((size_t)g.size, sizeof *sizes);
    int *offsets = btfm_calloc((size_t)g.size, sizeof *offsets);
    if (!sizes || !offsets) st = btfm_fail_nomem(func, (size_t)g.size * sizeof *sizes);
    for (int r = 0, o = 0; !st && r < g.size; r++) {
        if (counts[r] > INT32_MAX || o > INT32_MAX - counts[r])
            st = btfm_fail(BTFM_E_RANGE, "%s: %lld targets; at most 2^31 - 1", func, total);
        else {
            sizes[r] = (int)counts[r];
            offsets[r] = o;
            o += sizes[r];
        }
    }
    st = btfm_mpi_agree(&g, st);
    for (int a = 0; a < A && !st; a++)
        st = btfm_mpi_check(MPI_Allgatherv(f ? f->cv_scores + (int64_t)a * mine : NULL,
                                           (int)mine, MPI_DOUBLE, out + (int64_t)a * total,
                                           sizes, offsets, MPI_DOUBLE, g.comm),
                            "MPI_Allgatherv");
    btfm_free(sizes);
    btfm_free(offsets);
done_counts:
    btfm_free(counts);
done:
    btfm_mpi_close(&g);
    return st;
}

#endif
