/* Builds without the 'mpi' feature: the distributed functions exist (the ABI is the same
 * in every build) and say that this build cannot run them. */
#include "core/internal.h"

#ifndef BTFM_HAVE_MPI
/* The communicator is never looked at, so its type does not matter here. */
BTFM_API btfm_status btfm_aligner_fit_mpi(void *a, void *comm);
BTFM_API btfm_status btfm_aligner_gather_mpi(void *a, int root, void *comm);
BTFM_API btfm_status btfm_model_fit_mpi(void *m, const float *x, int64_t n_samples,
                                        int64_t n_features, const float *y,
                                        int64_t n_targets, void *comm);
BTFM_API btfm_status btfm_model_cv_scores_mpi(const void *m, double *out, size_t capacity,
                                              void *comm);
BTFM_API btfm_status btfm_corpus_build_mpi(void *b, const char *source, const char *out_dir,
                                           int64_t *n_built, int64_t *n_failed, void *comm);

static btfm_status missing(const char *func)
{
    return btfm_fail(BTFM_E_UNSUPPORTED, "%s: this build of libbtfm has no MPI (configure "
                     "with -Dmpi=enabled and Open MPI's libopenmpi-dev)", func);
}

btfm_status btfm_aligner_fit_mpi(void *a, void *comm)
{
    return missing("btfm_aligner_fit_mpi");
}

btfm_status btfm_aligner_gather_mpi(void *a, int root, void *comm)
{
    return missing("btfm_aligner_gather_mpi");
}

btfm_status btfm_model_fit_mpi(void *m, const float *x, int64_t n_samples,
                               int64_t n_features, const float *y, int64_t n_targets,
                               void *comm)
{
    return missing("btfm_model_fit_mpi");
}

btfm_status btfm_model_cv_scores_mpi(const void *m, double *out, size_t capacity, void *comm)
{
    return missing("btfm_model_cv_scores_mpi");
}

btfm_status btfm_corpus_build_mpi(void *b, const char *source, const char *out_dir,
                                  int64_t *n_built, int64_t *n_failed, void *comm)
{
    if (n_built) *n_built = 0;
    if (n_failed) *n_failed = 0;
    return missing("btfm_corpus_build_mpi");
}
#endif
