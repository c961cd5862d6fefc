/* btfm_aligner: functional alignment of several people's recordings into one common
 * space: hyperalignment (Haxby 2011) and the shared response model (Chen 2015), plus
 * the metrics that judge an alignment (time-segment matching, ISC, classification). */
#ifndef BTFM_ALIGNER_H
#define BTFM_ALIGNER_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "progress.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_aligner btfm_aligner;

/* Alignment methods. Numbers are never reused. */
typedef enum btfm_align_method {
    BTFM_ALIGN_HYPERALIGNMENT = 1,    /* Procrustes levels 1-3 (Haxby 2011, PyMVPA) */
    BTFM_ALIGN_SRM = 2,               /* deterministic shared response model */
    BTFM_ALIGN_PROBABILISTIC_SRM = 3, /* EM shared response model (Chen 2015) */
    BTFM_ALIGN_METHOD_MAX_ = 0x7fffffff
} btfm_align_method;

/* Parameters (btfm_aligner_set_param); see btfm_param_info(BTFM_OBJECT_ALIGNER) for
 * defaults and bounds. Set them before btfm_aligner_fit. */
typedef enum btfm_aligner_param {
    BTFM_ALIGNER_PARAM_N_FEATURES = 0,   /* int: common-space size K; 0 = automatic */
    BTFM_ALIGNER_PARAM_MAX_ITER = 1,     /* int: SRM iterations at most */
    BTFM_ALIGNER_PARAM_TOL = 2,          /* real: SRM relative objective change to stop */
    BTFM_ALIGNER_PARAM_SEED = 3,         /* int: SRM initialization seed */
    BTFM_ALIGNER_PARAM_SCALING = 4,      /* bool: hyperalignment Procrustes with scale */
    BTFM_ALIGNER_PARAM_REFLECTION = 5,   /* bool: hyperalignment allows reflections */
    BTFM_ALIGNER_PARAM_REFERENCE = 6,    /* int: hyperalignment reference, -1 = most features */
    BTFM_ALIGNER_PARAM_LEVEL2_PASSES = 7,/* int: hyperalignment level-2 passes */
    BTFM_ALIGNER_PARAM_ALPHA = 8,        /* real: regularized whitening, 1 = none */
    BTFM_ALIGNER_PARAM_ZSCORE = 9,       /* bool: z-score each subject's features first */
    BTFM_ALIGNER_PARAM_NUM_THREADS = 10, /* int: threads (doc/alignment.md), 0 = OpenBLAS's */
    BTFM_ALIGNER_PARAM_MAX_ = 0x7fffffff
} btfm_aligner_param;

/* Name of a method ("hyperalignment", "srm", "probabilistic_srm"); NULL if unknown. */
BTFM_API const char *btfm_align_method_name(int method);

/* A new, empty aligner using `method` (btfm_align_method). Free with btfm_aligner_free. */
BTFM_API btfm_status btfm_aligner_new(btfm_aligner **out, int method);

/* Release an aligner. NULL is a no-op. */
BTFM_API void btfm_aligner_free(btfm_aligner *a);

BTFM_API btfm_status btfm_aligner_set_param(btfm_aligner *a, int param, double value);
BTFM_API btfm_status btfm_aligner_get_param(const btfm_aligner *a, int param, double *value);

/* The method (btfm_align_method), or a negative status for a NULL aligner. */
BTFM_API int btfm_aligner_method(const btfm_aligner *a);

/* Add one subject's recording: `data` is time-major, n_times rows of n_features values
 * (float, C order), copied. Every subject must have the same n_times (the same
 * stimulus); feature counts may differ. NaN/Inf values and features constant over time
 * are refused (BTFM_E_NUMERIC, naming subject, time point and feature): remove them
 * (e.g. voxels outside the mask) before adding.
 *   Before btfm_aligner_fit the subject joins the training set. After it, the subject
 * is fitted to the existing common space from data recorded on the same shared
 * stimulus as the training data (n_times equal to the training's), without refitting
 * the others. Either way it gets the next subject index. */
BTFM_API btfm_status btfm_aligner_add_subject(btfm_aligner *a, const float *data,
                                              int64_t n_times, int64_t n_features);

/* Fit the common space and every subject's map to it. Needs at least two subjects.
 * Training copies are released afterwards (memory O(subjects x times x features)
 * during the fit). BTFM_E_RANGE when n_features exceeds the time points or a subject's
 * feature count; BTFM_E_STATE when already fitted. */
BTFM_API btfm_status btfm_aligner_fit(btfm_aligner *a);

/* Report the progress of btfm_aligner_fit to `fn` (NULL: the calling thread's callback,
 * btfm_set_thread_progress): stages "level 1", "level 2", "level 3" (hyperalignment) or
 * the iterations (SRM, fractions of max_iter). A callback that asks to stop ends the fit
 * with BTFM_E_CANCELLED and the aligner as before the call: not fitted, its subjects
 * kept for another fit. Since 1.3. */
BTFM_API btfm_status btfm_aligner_set_progress(btfm_aligner *a, btfm_progress_fn fn,
                                               void *user);

/* 1 once fitted (or loaded), 0 before, negative status for a NULL aligner. */
BTFM_API int btfm_aligner_is_fitted(const btfm_aligner *a);

/* Dimensions. n_subjects counts every added subject; n_times is the shared stimulus
 * length (0 before any subject); n_components is the common space's size (valid once
 * fitted); subject_features is subject `subject`'s feature count. */
BTFM_API btfm_status btfm_aligner_n_subjects(const btfm_aligner *a, int *n_subjects);
BTFM_API btfm_status btfm_aligner_n_times(const btfm_aligner *a, int64_t *n_times);
BTFM_API btfm_status btfm_aligner_n_components(const btfm_aligner *a, int64_t *n_components);
BTFM_API btfm_status btfm_aligner_subject_features(const btfm_aligner *a, int subject,
                                                   int64_t *n_features);

/* After the fit: SRM iterations run (0 for hyperalignment) and the final objective
 * (deterministic SRM: mean squared reconstruction error; probabilistic SRM: the
 * log-likelihood without its constant; hyperalignment: mean squared distance of the
 * aligned subjects to the common template). Either pointer may be NULL. */
BTFM_API btfm_status btfm_aligner_fit_info(const btfm_aligner *a, int *iterations,
                                           double *objective);

/* After an SRM fit: the relative objective change of its last iteration,
 * |f_k - f_(k-1)| / |f_k|, at most `tol` when the fit converged and larger when it
 * stopped at `max_iter`; NaN for hyperalignment and for a single iteration. Since 1.3. */
BTFM_API btfm_status btfm_aligner_fit_change(const btfm_aligner *a, double *change);

/* The objective after each iteration of the last fit, the convergence of
 * btfm_aligner_fit_info's value: SRM's relative reconstruction error, the probabilistic
 * SRM's log-likelihood (up to a constant). Up to `capacity` values into `out`;
 * *n_iterations gets their number (0 for hyperalignment, which does not iterate). Saved
 * with the model (a file written before 1.3 gives 0); after a distributed fit every rank
 * holds the whole fit's values. Since 1.3. */
BTFM_API btfm_status btfm_aligner_fit_history(const btfm_aligner *a, double *out,
                                              size_t capacity, int *n_iterations);

/* The common-space time series the subjects were aligned to (n_times x n_components,
 * the template for hyperalignment, the shared response for SRM) into `out`. */
BTFM_API btfm_status btfm_aligner_common(const btfm_aligner *a, float *out, size_t capacity);

/* Map subject `subject`'s data (n_times x the subject's feature count, any n_times)
 * into the common space: `out` receives n_times x n_components floats. */
BTFM_API btfm_status btfm_aligner_transform(const btfm_aligner *a, int subject,
                                            const float *data, int64_t n_times,
                                            int64_t n_features, float *out);

/* Map common-space data (n_times x n_components) into subject `subject`'s space:
 * `out` receives n_times x the subject's feature count floats. Combined with another
 * subject's transform, this predicts one person's responses from another's. */
BTFM_API btfm_status btfm_aligner_inverse_transform(const btfm_aligner *a, int subject,
                                                    const float *shared, int64_t n_times,
                                                    int64_t n_components, float *out);

/* Save / load a fitted aligner through the model container (kind "aligner"). The
 * buffer variants behave like btfm_container_save_buffer / _load_buffer. */
BTFM_API btfm_status btfm_aligner_save(const btfm_aligner *a, const char *path);
BTFM_API btfm_status btfm_aligner_save_buffer(const btfm_aligner *a, void *buffer,
                                              size_t capacity, size_t *written);
BTFM_API btfm_status btfm_aligner_load(btfm_aligner **out, const char *path);
BTFM_API btfm_status btfm_aligner_load_buffer(btfm_aligner **out, const void *buffer,
                                              size_t size);

/* Metrics. `data` holds n_subjects blocks of n_times x n_features floats (C order:
 * subject, time, feature), typically transformed data in the common space. */

/* Leave-one-subject-out time-segment matching (Chen 2015): each window of
 * `window` consecutive time points of one subject is matched, by Pearson correlation,
 * to every window of the other subjects' average; windows overlapping the true one
 * (other than itself) are excluded. accuracy[s] receives the fraction of subject s's
 * windows matched to the right time. Needs n_times >= 2 * window. The features are
 * taken as they are (no z-scoring): features of very different scales weigh
 * unequally; btfm_align_segment_matching_z with zscore = 1 is BrainIAK's procedure. */
BTFM_API btfm_status btfm_align_segment_matching(const float *data, int n_subjects,
                                                 int64_t n_times, int64_t n_features,
                                                 int64_t window, double *accuracy);

/* Time-segment matching as above, with zscore = 1 each subject's features first
 * z-scored over time (BrainIAK's procedure; constant features become 0), zscore = 0
 * the data as they are. The bindings' default is 1. Since 1.3. */
BTFM_API btfm_status btfm_align_segment_matching_z(const float *data, int n_subjects,
                                                   int64_t n_times, int64_t n_features,
                                                   int64_t window, int zscore,
                                                   double *accuracy);

/* Inter-subject correlation of each feature over time: leave-one-out (each subject
 * against the mean of the others; pairwise = 0) or every pair (pairwise = 1), the
 * correlations averaged through Fisher's z: isc[f] = tanh(mean(atanh(r))). A feature
 * constant in some subject gives NaN for that feature. */
BTFM_API btfm_status btfm_align_isc(const float *data, int n_subjects, int64_t n_times,
                                    int64_t n_features, int pairwise, double *isc);

/* Leave-one-subject-out classification by correlation to class centroids: `labels`
 * (n_times entries, the same for every subject, values >= 0) labels each time point
 * (or sample); the centroids of the other subjects' samples classify each sample of
 * the left-out subject by highest Pearson correlation. accuracy[s] receives subject
 * s's fraction correct. */
BTFM_API btfm_status btfm_align_classification(const float *data, const int *labels,
                                               int n_subjects, int64_t n_times,
                                               int64_t n_features, double *accuracy);

#ifdef __cplusplus
}
#endif

#endif
