/* A private communicator per distributed call and agreement on failure: every rank learns
 * whether some rank failed and, if so, the first failing rank's status and message. */
#ifdef BTFM_HAVE_MPI /* the layer is built only with MPI */
#include <stdio.h>
#include <string.h>
#include "mpi_internal.h"

btfm_status btfm_mpi_check(int rc, const char *call)
{
    if (rc == MPI_SUCCESS) return BTFM_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", rc);
    return btfm_fail(BTFM_E_REMOTE, "%s failed: %s", call, text);
}

btfm_status btfm_mpi_open(mpi_group *g, MPI_Comm comm, const char *func)
{
    int up = 0, down = 0;
    g->comm = MPI_COMM_NULL;
    g->labels = NULL;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (!up || down)
        return btfm_fail(BTFM_E_STATE, "%s: MPI is %s; the host calls MPI_Init before and "
                         "MPI_Finalize after the distributed calls", func,
                         down ? "already finalized" : "not initialized");
    if (comm == MPI_COMM_NULL)
        return btfm_fail(BTFM_E_INVALID, "%s: comm is MPI_COMM_NULL", func);
    /* Our own communicator keeps our messages apart from the host's, and returns errors
     * rather than aborting the job. */
    btfm_status st = btfm_mpi_check(MPI_Comm_dup(comm, &g->comm), "MPI_Comm_dup");
    if (!st) st = btfm_mpi_check(MPI_Comm_set_errhandler(g->comm, MPI_ERRORS_RETURN),
                                 "MPI_Comm_set_errhandler");
    if (!st) st = btfm_mpi_check(MPI_Comm_rank(g->comm, &g->rank), "MPI_Comm_rank");
    if (!st) st = btfm_mpi_check(MPI_Comm_size(g->comm, &g->size), "MPI_Comm_size");
    if (st) btfm_mpi_close(g);
    return st;
}

void btfm_mpi_close(mpi_group *g)
{
    if (g->comm != MPI_COMM_NULL) MPI_Comm_free(&g->comm);
    g->comm = MPI_COMM_NULL;
}

btfm_status btfm_mpi_agree(const mpi_group *g, btfm_status st)
{
    int failed = st != BTFM_OK, any = 0;
    btfm_status net = btfm_mpi_check(MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, g->comm),
                                     "MPI_Allreduce");
    if (net) return st ? st : net;
    if (!any) return BTFM_OK;
    int me = failed ? g->rank : g->size, first = g->size;
    MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, g->comm);
    /* the first failing rank's status and message, NUL-terminated within 1024 bytes */
    char text[1024 + sizeof(int)];
    int code = st;
    memset(text, 0, sizeof text);
    if (g->rank == first) {
        snprintf(text + sizeof(int), 1024, "%s", btfm_last_error());
        memcpy(text, &code, sizeof code);
    }
    MPI_Bcast(text, (int)sizeof text, MPI_BYTE, first, g->comm);
    if (failed) return st;
    memcpy(&code, text, sizeof code);
    const char *name = btfm_status_name(code);
    return btfm_fail(BTFM_E_REMOTE, "rank %d of %d failed with %s: %s",
                     g->labels ? g->labels[first] : first, g->labels ? g->label_size : g->size,
                     name ? name : "an error", text + sizeof(int));
}

btfm_status btfm_mpi_allreduce(const mpi_group *g, double *values, int64_t n, int max,
                               btfm_status st)
{
    if ((st = btfm_mpi_agree(g, st))) return st;
    /* in pieces MPI's int counts can hold */
    for (int64_t done = 0; done < n;) {
        const int64_t part = n - done < (1 << 30) ? n - done : (1 << 30);
        st = btfm_mpi_check(MPI_Allreduce(MPI_IN_PLACE, values + done, (int)part, MPI_DOUBLE,
                                          max ? MPI_MAX : MPI_SUM, g->comm),
                            "MPI_Allreduce");
        if (st) return st;
        done += part;
    }
    return BTFM_OK;
}

uint64_t btfm_mpi_hash(uint64_t h, const void *data, size_t size)
{
    const unsigned char *b = data;
    for (size_t i = 0; data && i < size; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

btfm_status btfm_mpi_same(const mpi_group *g, double *v, int n, const char *const *names,
                          const char *func, btfm_status st)
{
    double *both = btfm_malloc(2 * (size_t)n * sizeof *both);
    if (!both && !st) st = btfm_fail_nomem(func, 2 * (size_t)n * sizeof *both);
    for (int j = 0; both && j < n; j++) {
        both[j] = v[j];
        both[n + j] = -v[j];
    }
    if (!(st = btfm_mpi_allreduce(g, both, 2 * n, 1, st)))
        for (int j = 0; j < n && !st; j++)
            if (both[j] != -both[n + j])
                st = btfm_fail(BTFM_E_INVALID, "%s: %s is %.17g on one rank and %.17g on "
                               "another; give every rank the same", func, names[j],
                               -both[n + j], both[j]);
    btfm_free(both);
    return st;
}

#endif
