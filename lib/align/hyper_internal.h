/* Hyperalignment's internals shared by hyperalign.c (the three levels),
 * hyper_subject.c (each subject's decomposition) and hyper_template.c (the template's
 * work on blocks of its columns). */
#ifndef BTFM_HYPER_INTERNAL_H
#define BTFM_HYPER_INTERNAL_H

#include "align_internal.h"

/* One subject's standardized, optionally whitened data X in factored form: X = f w^T
 * with w (V x rank) orthonormal, and dual (T x rank) with w = Z^T dual for the
 * standardized data Z, so a map R = w p * scale applies to Z as Z^T dual p * scale.
 * Regularized whitening (PyMVPA's alpha) multiplies Z = u s v^T by
 * v diag(1/sqrt((1-a)s^2 + a)) v^T, which only rescales the singular values to
 * sw = s / sqrt((1-a) s^2 + a): f = u sw, w = v, dual = u sw / s^2. From a Cholesky
 * factor R^T R of the Gram matrix on the centered vectors: f = Q [0; R^T] and
 * dual = Q [0; R^-1]. */
typedef struct hyper_subject {
    double *f, *dual;
    int64_t rank;
    double v_det;
    float *f32, *fc32; /* f and (Q f)[1:] in float, for the steps */
    double norm2;      /* ||f||^2 */
} hyper_subject;

void btfm_hyper_subject_clear(hyper_subject *h);

/* The subject as the source of a Procrustes step. */
align_source btfm_hyper_source(const hyper_subject *h, int64_t n_times, int64_t n_features);

/* Standardize x (T x V, float, in place) with the statistics into mean/scale and
 * decompose it once for the whole fit into h; `whitened` (may be NULL) receives the data
 * as they enter the template (whitened when alpha < 1). */
btfm_status btfm_hyper_prepare(const btfm_aligner *a, float *x, int64_t V, double *mean,
                               double *scale, hyper_subject *h, float *whitened);

/* Undo the in-place standardization of a training copy. */
void btfm_hyper_unstandardize(float *x, int64_t T, int64_t V, const double *mean,
                              const double *scale);

/* The template's T x V work on blocks of its columns (one block a worker): optionally
 * the plain mean of the subjects' aligned data; level 1's update with one subject's
 * aligned data L C, their z-score and C = (M + C) / 2; the z-score of the template; and
 * the blocks' share of its Gram matrix for the next Procrustes step. */
typedef struct template_blocks {
    float *const *mean_of; /* C = mean of these n_mean arrays first, or NULL */
    int n_mean;
    const float *left;     /* T x T operator (upper part), or NULL when `mapped` is formed */
    float *mapped;         /* level 1: the subject's aligned data, or NULL */
    int zscore;            /* z-score the template's columns last */
    float *common;
    float **gram;          /* per worker: its blocks' C C^T (upper part), or NULL */
    double **acc;          /* per worker: 2 x chunk doubles */
    int64_t T, Vc, chunk;
} template_blocks;

/* Per-worker scratch for btfm_hyper_template_run (gram when T x T blocks are wanted). */
typedef struct template_scratch {
    float **gram;
    double **acc;
    int workers;
    size_t gram_bytes;
} template_scratch;

/* Run the blocks on `workers` threads; gram[0] receives the whole C C^T. */
btfm_status btfm_hyper_template_run(template_blocks *l, int workers);

/* Per-worker scratch for `workers` blocks of `chunk` columns (T x T Gram matrices when
 * with_gram). */
btfm_status btfm_hyper_template_scratch_init(template_scratch *ts, int workers, int64_t T,
                                             int64_t chunk, int with_gram);
void btfm_hyper_template_scratch_clear(template_scratch *ts);

/* Column blocks of at least 16 floats, one a worker. */
int64_t btfm_hyper_template_chunk(int64_t Vc, int workers);

#endif
