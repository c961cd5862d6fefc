/* Checks for the tests run under mpirun: each rank counts its failed checks and prints
 * them with its rank; mpi_failures() sums the counts over every rank. */
#ifndef BTFM_TEST_MPI_EXPECT_H
#define BTFM_TEST_MPI_EXPECT_H

#include <stdio.h>
#include <mpi.h>

static int rank, size, failures;

#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "rank %d: %s:%d: ", rank, __FILE__, __LINE__);                 \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

/* The failed checks of every rank (call on every rank). */
static inline int mpi_failures(void)
{
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return all;
}

#endif
