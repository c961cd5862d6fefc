/* The command under mpirun (builds with MPI): MPI is started when the launcher's
 * environment says so, each rank reads its share of the inputs, and the fit runs over
 * the ranks with rank 0 writing the result (align fit), or the ranks build a corpus's
 * recordings and rank 0 merges its index (corpus build). Elsewhere: one process, rank 0 of 1. */
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#ifdef BTFM_CLI_MPI
#  include <btfm/mpi.h>
#endif

#ifdef BTFM_CLI_MPI
static int started;
#endif

void cli_mpi_begin(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
#ifdef BTFM_CLI_MPI
    /* Open MPI's launcher (mpirun, or a scheduler through PMIx) sets these. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK")) return;
    int up = 0;
    MPI_Initialized(&up);
    if (!up && MPI_Init(NULL, NULL) != MPI_SUCCESS) return;
    started = !up;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
#endif
}

int cli_mpi_failed(int failed)
{
#ifdef BTFM_CLI_MPI
    if (started) {
        int any = 0;
        MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        return any;
    }
#endif
    return failed;
}

btfm_status cli_mpi_fit(btfm_aligner *a)
{
#ifdef BTFM_CLI_MPI
    if (started) {
        btfm_status st = btfm_aligner_fit_mpi(a, MPI_COMM_WORLD);
        return st ? st : btfm_aligner_gather_mpi(a, 0, MPI_COMM_WORLD);
    }
#endif
    return btfm_aligner_fit(a);
}

btfm_status cli_mpi_build(btfm_corpus_builder *b, const char *source, const char *out,
                          int64_t *built, int64_t *failed)
{
#ifdef BTFM_CLI_MPI
    if (started) return btfm_corpus_build_mpi(b, source, out, built, failed, MPI_COMM_WORLD);
#endif
    return btfm_corpus_build(b, source, out, built, failed);
}

void cli_mpi_end(void)
{
#ifdef BTFM_CLI_MPI
    if (started) MPI_Finalize();
    started = 0;
#endif
}
