/* The aligner over MPI: each rank fits with its own subjects, the fit's per-iteration sums
 * combined across ranks through the aligner's reduction hook; gathering the maps to one
 * rank through the aligner's own serialized form. */
#ifdef BTFM_HAVE_MPI /* the layer is built only with MPI */
#include <math.h>
#include <string.h>
#include "mpi_internal.h"
#include "align/align_internal.h"

static btfm_status combine(void *ctx, double *values, int64_t n, align_op op, btfm_status st)
{
    return btfm_mpi_allreduce(ctx, values, n, op == ALIGN_MAX, st);
}

/* The settings every rank must share: method, parameters and time points, compared
 * through the maximum of each value and of its negation. */
static btfm_status check_same(const mpi_group *g, btfm_aligner *a, btfm_status st)
{
    enum { N = 2 + ALIGNER_PARAM_COUNT };
    double v[2 * N];
    const int have = a && a->n_subjects > 0;
    v[0] = a ? a->method : -HUGE_VAL;
    v[1] = have ? (double)a->n_times : -HUGE_VAL;
    for (int p = 0; p < ALIGNER_PARAM_COUNT; p++) v[2 + p] = a ? a->params[p] : -HUGE_VAL;
    for (int j = 0; j < N; j++) v[N + j] = v[j] == -HUGE_VAL ? -HUGE_VAL : -v[j];
    if ((st = btfm_mpi_allreduce(g, v, 2 * N, 1, st))) return st;
    const char *func = "btfm_aligner_fit_mpi";
    if (v[0] != -v[N])
        return btfm_fail(BTFM_E_INVALID, "%s: the ranks' aligners use different methods "
                         "(%g and %g); create them alike on every rank", func, -v[N], v[0]);
    if (v[1] != -HUGE_VAL && v[1] != -v[N + 1]) /* -HUGE_VAL: no rank has a subject */
        return btfm_fail(BTFM_E_INVALID, "%s: subjects on different ranks have %g and %g "
                         "time points; every subject must cover the same shared stimulus",
                         func, -v[N + 1], v[1]);
    for (int p = 0; p < ALIGNER_PARAM_COUNT; p++)
        if (v[2 + p] != -v[N + 2 + p])
            return btfm_fail(BTFM_E_INVALID, "%s: parameter %s is %g on one rank and %g on "
                             "another; set it alike on every rank", func,
                             btfm_aligner_param_table.defs[p].name, -v[N + 2 + p], v[2 + p]);
    if (v[1] != -HUGE_VAL) a->n_times = (int64_t)v[1]; /* also on ranks without subjects */
    return BTFM_OK;
}

btfm_status btfm_aligner_fit_mpi(btfm_aligner *a, MPI_Comm comm)
{
    const char *func = "btfm_aligner_fit_mpi";
    mpi_group g;
    btfm_status st = btfm_mpi_open(&g, comm, func);
    if (st) return st;
    if (!a) st = btfm_fail(BTFM_E_INVALID, "%s: aligner is NULL", func);
    /* this rank's first subject in the global order, and the total */
    double counts[1] = {0}, mine = a ? a->n_subjects : 0;
    long long first = 0;
    st = btfm_mpi_check(MPI_Exscan(&(long long){(long long)mine}, &first, 1, MPI_LONG_LONG,
                                   MPI_SUM, g.comm), "MPI_Exscan");
    if (g.rank == 0) first = 0; /* MPI_Exscan leaves rank 0's result undefined */
    counts[0] = mine;
    /* check_same fails alike on every rank, or relays one rank's error to the others */
    if (!(st = btfm_mpi_allreduce(&g, counts, 1, 0, st)) && !(st = check_same(&g, a, st))) {
        const align_reduce r = {combine, &g, (int)first, (int)counts[0]};
        st = btfm_align_fit_with(a, &r);
    }
    btfm_mpi_close(&g);
    return st;
}

btfm_status btfm_aligner_gather_mpi(btfm_aligner *a, int root, MPI_Comm comm)
{
    const char *func = "btfm_aligner_gather_mpi";
    mpi_group g;
    btfm_status st = btfm_mpi_open(&g, comm, func);
    if (st) return st;
    if (root < 0 || root >= g.size)
        st = btfm_fail(BTFM_E_RANGE, "%s: root %d is not a rank of the communicator's %d",
                       func, root, g.size);
    else if (!a)
        st = btfm_fail(BTFM_E_INVALID, "%s: aligner is NULL", func);
    else if (!a->fitted)
        st = btfm_fail(BTFM_E_STATE, "%s: the aligner is not fitted (call "
                       "btfm_aligner_fit_mpi first)", func);
    /* each rank's subjects in the aligner's saved form (nothing for a rank without) */
    size_t size = 0;
    void *mine = NULL;
    if (!st && a->n_subjects > 0) {
        btfm_aligner_save_buffer(a, NULL, 0, &size);
        if (!(mine = btfm_malloc(size))) st = btfm_fail_nomem(func, size);
        if (!st) st = btfm_aligner_save_buffer(a, mine, size, &size);
    }
    if (!st && size > (size_t)1 << 30)
        st = btfm_fail(BTFM_E_RANGE, "%s: %zu bytes of maps on one rank; at most 1 GiB",
                       func, size);
    int *sizes = NULL, *offsets = NULL;
    char *all = NULL;
    if (!st && g.rank == root) {
        sizes = btfm_calloc((size_t)g.size, sizeof *sizes);
        offsets = btfm_calloc((size_t)g.size, sizeof *offsets);
        if (!sizes || !offsets) st = btfm_fail_nomem(func, (size_t)g.size * sizeof(int));
    }
    if ((st = btfm_mpi_agree(&g, st))) goto done;
    int n = (int)size;
    if ((st = btfm_mpi_check(MPI_Gather(&n, 1, MPI_INT, sizes, 1, MPI_INT, root, g.comm),
                             "MPI_Gather")))
        goto done;
    long long total = 0;
    for (int r = 0; g.rank == root && r < g.size; r++) {
        offsets[r] = (int)total;
        total += sizes[r];
    }
    if (g.rank == root && total > INT32_MAX)
        st = btfm_fail(BTFM_E_RANGE, "%s: %lld bytes of maps; at most 2 GiB", func, total);
    if (!st && g.rank == root && !(all = btfm_malloc(total > 0 ? (size_t)total : 1)))
        st = btfm_fail_nomem(func, (size_t)total);
    if ((st = btfm_mpi_agree(&g, st))) goto done;
    if ((st = btfm_mpi_check(MPI_Gatherv(mine, n, MPI_BYTE, all, sizes, offsets, MPI_BYTE,
                                         root, g.comm), "MPI_Gatherv")))
        goto done;
    /* The root rebuilds the whole fit in rank order and takes its place. */
    btfm_aligner *merged = NULL;
    for (int r = 0; g.rank == root && r < g.size && !st; r++) {
        if (!sizes[r]) continue;
        btfm_aligner *part = NULL;
        st = btfm_aligner_load_buffer(&part, all + offsets[r], (size_t)sizes[r]);
        if (!st && !merged) {
            merged = part;
            part = NULL;
        } else if (!st) {
            st = btfm_align_append_maps(merged, part);
        }
        btfm_aligner_free(part);
    }
    if (!st && merged) btfm_align_swap(a, merged);
    btfm_aligner_free(merged);
    st = btfm_mpi_agree(&g, st);
done:
    btfm_free(mine);
    btfm_free(sizes);
    btfm_free(offsets);
    btfm_free(all);
    btfm_mpi_close(&g);
    return st;
}

#endif
