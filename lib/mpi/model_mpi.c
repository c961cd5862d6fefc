/* Ridge over MPI: the targets divided among ranks, every rank holding the shared design.
 * Targets are independent given the design (per-target alpha, no shared noise model), so
 * each rank fits its own block and the ranks agree before any of them keeps its fit. */
#ifdef BTFM_HAVE_MPI /* the layer is built only with MPI */
#include <math.h>
#include "mpi_internal.h"
#include "core/param.h"
#include "model/model_internal.h"

/* What a rank's settings must share with the others, compared through the maximum of
 * each value and of its negation; a rank without a model sends -HUGE_VAL. */
static btfm_status check_same(const mpi_group *g, const btfm_model *m, int64_t n, int64_t p,
                              btfm_status st)
{
    enum { N = 4 + MODEL_PARAM_COUNT };
    static const char *const names[4] = {"model type", "samples", "features", "alphas"};
    double v[2 * N];
    v[0] = m ? m->type : -HUGE_VAL;
    v[1] = (double)n;
    v[2] = (double)p;
    v[3] = m ? m->n_alphas : -HUGE_VAL;
    for (int k = 0; k < MODEL_PARAM_COUNT; k++) v[4 + k] = m ? m->params[k] : -HUGE_VAL;
    for (int j = 0; j < N; j++) v[N + j] = v[j] == -HUGE_VAL ? -HUGE_VAL : -v[j];
    if ((st = btfm_mpi_allreduce(g, v, 2 * N, 1, st))) return st;
    const char *func = "btfm_model_fit_mpi";
    for (int j = 0; j < N; j++)
        if (v[j] != -v[N + j])
            return btfm_fail(BTFM_E_INVALID, "%s: %s%s is %g on one rank and %g on another; "
                             "give every rank the same design and settings", func,
                             j < 4 ? names[j] : "parameter ",
                             j < 4 ? "" : btfm_param_table_of(BTFM_OBJECT_MODEL)->defs[j - 4].name,
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

btfm_status btfm_model_fit_mpi(btfm_model *m, const float *x, int64_t n_samples,
                               int64_t n_features, const float *y, int64_t n_targets,
                               MPI_Comm comm)
{
    const char *func = "btfm_model_fit_mpi";
    mpi_group g;
    btfm_status st = btfm_mpi_open(&g, comm, func);
    if (st) return st;
    if (!m) st = btfm_fail(BTFM_E_INVALID, "%s: model is NULL", func);
    else if (n_targets < 0)
        st = btfm_fail(BTFM_E_INVALID, "%s: n_targets is %lld; expected 0 or more", func,
                       (long long)n_targets);
    if (!(st = check_same(&g, m, n_samples, n_features, st))) st = check_supported(m, func);
    /* the same on every rank: fail alike, with no fit made */
    model_fit *fit = NULL;
    if (!st && n_targets > 0)
        st = btfm_model_fit_staged(m, x, n_samples, n_features, y, n_targets, &fit, func);
    st = btfm_mpi_agree(&g, st);
    if (!st && fit) btfm_model_fit_commit(m, fit);
    else btfm_model_fit_free(fit);
    btfm_mpi_close(&g);
    return st;
}

#endif
