/* Distributed fits over MPI: each rank of a communicator holds part of the data and the
 * ranks reach the single-process result together. Installed only in builds with the 'mpi'
 * feature (btfm_capabilities() lists "mpi"); the other headers never name MPI types.
 * Every call here is collective: each rank of `comm` makes it, in the same order. The
 * host initializes MPI (MPI_Init or MPI_Init_thread) before and finalizes it after. */
#ifndef BTFM_MPI_H
#define BTFM_MPI_H

#include <mpi.h>
#include "aligner.h"
#include "corpus.h"
#include "model.h"

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

/* Ridge with the targets divided among the ranks: every rank passes the same design x
 * (n_samples x n_features) and settings, and y holds its own block of targets
 * (n_samples x n_targets; a rank may hold none: n_targets 0, y NULL). The targets, in rank
 * order, are the fit's target list. Each rank decomposes the shared design itself and
 * fits its own targets against the design's decompositions (its SVD, through the Gram
 * or kernel matrix of each training set), which the first rank holding targets computes
 * and broadcasts; so the coefficients, intercepts, alphas and cross-validation scores of
 * `m` equal btfm_model_fit of all targets in one process restricted to this rank's
 * columns, up to rounding; a rank without targets keeps its model as it was. The
 * design's contents (x, weights, groups, folds, delays) must be the same on every rank
 * (compared through a hash: BTFM_E_INVALID on every rank otherwise). Only ridge with alpha_per_target on and noise_rank 0 (the targets
 * independent of each other); others are BTFM_E_UNSUPPORTED. When one rank fails, it
 * returns its error and every other rank BTFM_E_REMOTE, and no rank's model changes. */
BTFM_API btfm_status btfm_model_fit_mpi(btfm_model *m, const float *x, int64_t n_samples,
                                        int64_t n_features, const float *y,
                                        int64_t n_targets, MPI_Comm comm);

/* After btfm_model_fit_mpi with more than one alpha: the cross-validation scores of every
 * rank's targets, on every rank, as btfm_model_cv_scores of the one-process fit gives
 * them: n_alphas x (all targets) in C order, the targets in rank order. out holds at
 * least n_alphas x (all targets) values (BTFM_E_RANGE otherwise). BTFM_E_STATE on every
 * rank when a rank's model was fitted in another way since, or by another distributed
 * fit. */
BTFM_API btfm_status btfm_model_cv_scores_mpi(const btfm_model *m, double *out,
                                              size_t capacity, MPI_Comm comm);

/* btfm_corpus_build with the recordings divided among the ranks: every rank passes a
 * builder with the same settings and sources and the same out_dir, a folder every rank
 * sees (a shared file system). Rank 0 creates and cleans out_dir and writes plan.json;
 * every rank plans the same recordings (compared across ranks: BTFM_E_INVALID on every
 * rank when they differ) and builds every size-th of them from its rank on
 * (btfm_corpus_builder_build_one); rank 0 merges the index. out_dir then holds the bytes
 * btfm_corpus_build in one process writes. *n_built and *n_failed (may be NULL) count the
 * corpus's recordings on every rank. Each rank reports its own recordings through the
 * builder's progress callback; a failure or cancel on one rank returns its error there and
 * BTFM_E_REMOTE on the others, with no index written (a rerun builds what is missing). */
BTFM_API btfm_status btfm_corpus_build_mpi(btfm_corpus_builder *b, const char *source,
                                           const char *out_dir, int64_t *n_built,
                                           int64_t *n_failed, MPI_Comm comm);

#ifdef __cplusplus
}
#endif

#endif
