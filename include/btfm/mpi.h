/* Distributed fits over MPI: each rank of a communicator holds part of the data and the
 * ranks reach the single-process result together. Installed only in builds with the 'mpi'
 * feature (btfm_capabilities() lists "mpi"); the other headers never name MPI types.
 * Every call here is collective: each rank of `comm` makes it, in the same order. The
 * host initializes MPI (MPI_Init or MPI_Init_thread) before and finalizes it after. */
#ifndef BTFM_MPI_H
#define BTFM_MPI_H

#include <mpi.h>
#include "aligner.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fit `a` over the subjects every rank of `comm` added to its own aligner (of the same
 * method and parameters): the subjects, in rank order, are the fit's subject list, so
 * subject i of rank r is global subject (subjects of ranks 0..r-1) + i. A rank may hold
 * no subject. SRM and probabilistic SRM combine their per-iteration sums across the
 * ranks (MPI_Allreduce of T x K + 3 doubles); hyperalignment passes its level-1
 * template from rank to rank in the subjects' order and sums the aligned data of levels
 * 2 and 3 across the ranks (T x V_c doubles, V_c the reference's features).
 * Afterwards every rank has the common space and the maps of its own subjects (numbered
 * from 0 on each rank); the result equals btfm_aligner_fit of all the subjects in one
 * process up to rounding. When the input of one rank is wrong, that rank returns its
 * error and every other one BTFM_E_REMOTE with the failing rank's message. */
BTFM_API btfm_status btfm_aligner_fit_mpi(btfm_aligner *a, MPI_Comm comm);

/* After btfm_aligner_fit_mpi: rank `root` receives every rank's subject maps, in global
 * order, into its aligner, which then transforms, saves and loads like one fitted in one
 * process; the other ranks' aligners are left as they are. */
BTFM_API btfm_status btfm_aligner_gather_mpi(btfm_aligner *a, int root, MPI_Comm comm);

#ifdef __cplusplus
}
#endif

#endif
