/* What the distributed fits of lib/mpi share: a private duplicate of the caller's
 * communicator, and agreement on failure, so that a rank's error reaches every rank
 * instead of leaving them waiting in a collective. */
#ifndef BTFM_MPI_INTERNAL_H
#define BTFM_MPI_INTERNAL_H
#ifdef BTFM_HAVE_MPI /* the layer is built only with MPI */

#include <btfm/mpi.h>
#include "core/internal.h"

typedef struct mpi_group {
    MPI_Comm comm; /* our duplicate (MPI_COMM_NULL until opened) */
    int rank, size;
    /* A subgroup of the caller's ranks: its members' ranks in the caller's communicator
     * (of label_size ranks), which messages name; NULL for the whole communicator. */
    const int *labels;
    int label_size;
} mpi_group;

/* Duplicate `comm` (errors returned, not fatal) for one call; `func` names the caller in
 * messages. Collective. Fails locally when MPI is not initialized. */
btfm_status btfm_mpi_open(mpi_group *g, MPI_Comm comm, const char *func);
void btfm_mpi_close(mpi_group *g);

/* Agree on failure: returns st when it is an error, BTFM_E_REMOTE with the message of
 * the lowest failing rank when another rank failed, else BTFM_OK. Collective. */
btfm_status btfm_mpi_agree(const mpi_group *g, btfm_status st);

/* An MPI call's result as a status: BTFM_OK, or BTFM_E_REMOTE naming the call and MPI's
 * message. */
btfm_status btfm_mpi_check(int rc, const char *call);

/* values[0..n) := their sum (or maximum) over the ranks, after agreeing on `st`. */
btfm_status btfm_mpi_allreduce(const mpi_group *g, double *values, int64_t n, int max,
                               btfm_status st);

/* FNV-1a over bytes, continuing from h (start with BTFM_MPI_HASH_START): a value every
 * rank computes from what must be the same on every rank. */
#define BTFM_MPI_HASH_START 0xcbf29ce484222325ull
uint64_t btfm_mpi_hash(uint64_t h, const void *data, size_t size);

/* Whether v[0..n) is the same on every rank, after agreeing on `st`: BTFM_E_INVALID on
 * every rank naming names[j] (with func) for the first value that differs. Collective. */
btfm_status btfm_mpi_same(const mpi_group *g, double *v, int n, const char *const *names,
                          const char *func, btfm_status st);

#endif
#endif
