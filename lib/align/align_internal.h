/* The aligner's internals shared by the files of lib/align: the handle, the per-subject
 * map every method produces, and the fit's own products (the generic dense algebra is
 * lib/dense). */
#ifndef BTFM_ALIGN_INTERNAL_H
#define BTFM_ALIGN_INTERNAL_H

#include <btfm/aligner.h>
#include "core/internal.h"
#include "core/param.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "dense/dense.h"

#define ALIGNER_PARAM_COUNT 11
extern const btfm_param_table btfm_aligner_param_table; /* aligner.c */

/* Every method maps subject data x (n_times x n_features) to the common space as
 *   y = ((x - mean) / scale) a b + offset
 * with a (n_features x rank) and b (rank x n_components). SRM: a = W, b = I, scale = 1,
 * offset = 0. Hyperalignment: a b is the (scaled) Procrustes rotation kept in factored
 * form, so memory stays O(times x features) when features outnumber time points. */
typedef struct align_map {
    int64_t n_features;
    int64_t rank;
    double *mean;   /* n_features */
    double *scale;  /* n_features */
    double *a;      /* n_features x rank */
    double *b;      /* rank x n_components (the aligner's `basis` when b_shared) */
    double *offset; /* n_components */
    int b_shared;
} align_map;

/* How a fit combines its subjects' contributions. A fit in one process has none (every
 * subject is local); a distributed fit (lib/mpi) gives each process some of the subjects
 * and combines their sums through `combine`, which every process calls the same number
 * of times with the same n. */
typedef enum align_op { ALIGN_SUM, ALIGN_MAX } align_op;
typedef struct align_reduce {
    /* values[0..n) := their sum or maximum over the processes; `st` is this process's
     * status so far: returns it when it is an error, BTFM_E_REMOTE (with the failing
     * process's message) when another process failed, else BTFM_OK. */
    btfm_status (*combine)(void *ctx, double *values, int64_t n, align_op op, btfm_status st);
    void *ctx;
    int first;   /* global index of this process's first subject */
    int n_total; /* subjects over all processes */
} align_reduce;

struct btfm_aligner {
    int method;
    const align_reduce *reduce; /* during a distributed fit, else NULL */
    double params[ALIGNER_PARAM_COUNT];
    int n_subjects;
    int capacity;
    int64_t n_times;
    int64_t *n_features;  /* per subject */
    float **train;        /* training copies until the fit, then NULL */
    align_map *maps;      /* per subject, valid once fitted */
    int fitted;
    int64_t n_components;
    double *common;       /* n_times x n_components */
    double *basis;        /* a b factor every hyperalignment map shares, or NULL */
    int iterations;
    double objective;
    double change; /* the last iteration's relative objective change (NaN: none) */
    btfm_progress_fn progress_fn; /* btfm_aligner_set_progress (NULL: the thread's) */
    void *progress_user;
    btfm_progress *progress;      /* the running fit's, on the caller's thread; else NULL */
    double *history;              /* the objective after each SRM iteration (max_iter) */
    int n_history;
};

#define ALIGN_PARAM(a, p) ((a)->params[BTFM_ALIGNER_PARAM_##p])

/* Combine values across the processes of a distributed fit (a->reduce); with none it
 * returns st and leaves the values as they are. */
btfm_status btfm_align_combine(const btfm_aligner *a, double *values, int64_t n, align_op op,
                               btfm_status st);
/* The global index of local subject i and the number of subjects over all processes. */
int btfm_align_global_index(const btfm_aligner *a, int i);
int btfm_align_total_subjects(const btfm_aligner *a);

/* btfm_aligner_fit with `r` combining the processes' subjects (NULL: this process's
 * alone); lib/mpi passes its MPI reduction. */
btfm_status btfm_align_fit_with(btfm_aligner *a, const align_reduce *r);

/* Move the maps of fitted `from` (same method and common space) after those of fitted
 * `to`, leaving `from` without subjects; a gathered fit's subjects arrive this way. */
btfm_status btfm_align_append_maps(btfm_aligner *to, btfm_aligner *from);
/* Exchange the fits two handles hold, each keeping its host's progress callback (a
 * gathered fit replaces the caller's). */
void btfm_align_swap(btfm_aligner *x, btfm_aligner *y);

/* Method fits (one file each); the handle holds the training copies. */
btfm_status btfm_align_fit_hyperalignment(btfm_aligner *a);
btfm_status btfm_align_fit_srm(btfm_aligner *a);
btfm_status btfm_align_fit_srm_prob(btfm_aligner *a);
/* Fit map `subject` to the fitted common space from its shared-stimulus data. */
btfm_status btfm_align_hyper_fit_subject(btfm_aligner *a, int subject, const float *data);
btfm_status btfm_align_srm_fit_subject(btfm_aligner *a, int subject, const float *data);

/* Allocate a map's arrays (zeroed; scale set to 1). */
btfm_status btfm_align_map_alloc(align_map *m, int64_t n_features, int64_t rank,
                            int64_t n_components);
void btfm_align_map_clear(align_map *m);

/* --- products.c --- */

/* Single-precision products split in two parts run side by side when workers > 1 (on
 * the caller's thread otherwise), for callers that keep OpenBLAS on one thread:
 * c (n x n, upper part) = alpha a a^T for a (n x k), or alpha a^T a for a (k x n) when
 * trans; b := a b for upper triangular a (n x n) and b (n x cols); c (m x n) = a b for
 * a (m x k, row stride k) and b (k x n). Row-major throughout. */
void btfm_align_ssyrk_split(int workers, int trans, int64_t n, int64_t k, float alpha,
                            const float *a, int64_t lda, float *c, int64_t ldc);
void btfm_align_strmm_split(int workers, int64_t n, int64_t cols, const float *a,
                            int64_t lda, float *b, int64_t ldb);
void btfm_align_sgemm_split(int workers, int64_t m, int64_t n, int64_t k, const float *a,
                            const float *b, int64_t ldb, float *c, int64_t ldc);

/* Apply OpenBLAS's thread count for the duration of a call: returns the previous count
 * (to restore with btfm_align_threads_restore), or 0 when left alone. */
int btfm_align_threads_begin(const btfm_aligner *a);
void btfm_align_threads_restore(int previous);

/* The threads the per-subject phases of a fit use: num_threads when > 0, else OpenBLAS's
 * current count; 1 while OpenBLAS runs threads the library may not switch off. */
int btfm_align_workers(const btfm_aligner *a);

/* --- procrustes.c --- */

/* The source of a Procrustes problem: a centered T x V matrix X given by a T x rank
 * factor f with X = f w^T for some w (V x rank) with orthonormal columns: f = u diag(s)
 * from a thin SVD (whose orthogonal, graded form keeps the single-precision route below
 * accurate). Every result depends on X only through f f^T, except the rotation's factor
 * p, which is expressed in w's basis. */
typedef struct align_source {
    const double *f; /* n_times x rank */
    int64_t n_times;
    int64_t rank;
    int64_t n_features; /* V */
    double v_det;       /* det(w) when w is square, else 0 */
    /* Optional, for sources used in many steps: f in float, (Q f)[1:] in float
     * ((n_times - 1) x rank, Q as in btfm_align_centered_block) and ||f||^2; NULL to
     * have each step compute them. */
    const float *f32;
    const float *fc32;
    double norm2;
} align_source;

/* The solution R = w p qt * scale of min ||X R - Y|| over orthogonal R (optionally
 * scaled, optionally without reflection) for centered Y (T x n_target). */
typedef struct align_rotation {
    int64_t rank;   /* columns of p, rows of qt */
    double *p;      /* source rank x rank */
    double *qt;     /* rank x n_target */
    double scale;
    double trace;   /* sum of the (sign-corrected) singular values of X^T Y */
    double mapped_sq; /* ||X R||^2 */
} align_rotation;

btfm_status btfm_align_procrustes(const align_source *src, const double *target,
                             int64_t n_target, int scaling, int reflection,
                             align_rotation *out);
void btfm_align_rotation_clear(align_rotation *r);

/* The same problem for a float target (T x n_target): the T x V products (Y Y^T, the
 * aligned data L Y, qt) and the T x T algebra in single precision, nothing larger than
 * T x T besides them. `target_gram` (may be NULL) is Y Y^T (T x T, upper part) when the
 * caller has it. `mapped` (may be NULL) receives X R; `left` (may be NULL, T x T, upper
 * part) the operator L with X R = L Y, for callers that form L Y themselves, who then
 * pass `mapped` for the steps solved without L: *used_left says which it was (mapped is
 * written only when L is not). `out` (may be NULL) the factored rotation; `side` (may be
 * NULL) runs beside the eigendecomposition, or after the step when the route has none.
 * Falls back to the double route when T > n_target, when the reflection constraint
 * applies (square full-rank X^T Y), and when X^T Y is ill-conditioned (T close to V). */
/* Independent work to run beside a Procrustes step's eigendecomposition (which does not
 * scale within one problem): fn(ctx, index, 1) (fn may be NULL) on a second thread when
 * `threads` >= 2, else after it. The step's T x T products are split over `threads` too.
 * The caller keeps OpenBLAS on one thread meanwhile (the hyperalignment fit does). */
typedef struct align_side {
    btfm_task_fn fn;
    void *ctx;
    int64_t index;
    int threads;
} align_side;

btfm_status btfm_align_procrustes_float(const align_source *src, const float *target,
                                        int64_t n_target, const float *target_gram,
                                        int scaling, int reflection, float *mapped,
                                        float *left, int *used_left,
                                        align_rotation *out, const align_side *side);

/* The map of X onto a centered target Y (T x V') known through the upper Cholesky
 * factor R ((T-1) x (T-1), float) of its Gram matrix on the centered vectors, with
 * Y = Q [0; R^T B] for B ((T-1) x V') with orthonormal rows (Q as in
 * btfm_align_centered_block): the rotation is R = Z^T N B with N (T x (T-1), into n_out)
 * = scale dual H^-1/2 K^T, so a map needs one T x V product and B is shared by every
 * subject. `dual` (T x rank) satisfies w = Z^T dual. out receives rank T - 1, scale,
 * trace and mapped_sq (p and qt stay NULL). *applies is 0 when X^T Y is rank deficient
 * (the source's rank or the kept spectrum below T - 1): take
 * btfm_align_procrustes_float then. */
btfm_status btfm_align_procrustes_onto(const align_source *src, const double *dual,
                                       const float *rg, int scaling, float *n_out,
                                       align_rotation *out, int *applies);

/* Whether btfm_align_procrustes_float takes the T x T route for this problem (only that
 * route can return `left`). */
int btfm_align_procrustes_by_gram(const align_source *src, int64_t n_target, int reflection);

/* The n x n symmetric g (upper part, float) on the centered vectors: (Q g Q)[1:, 1:]
 * ((n-1) x (n-1), upper part), with Q the Householder reflection that maps the constant vector
 * to a multiple of e_0, so Q's columns 1..n-1 are an orthonormal basis of the centered
 * vectors. `w` has n doubles of scratch. */
void btfm_align_centered_block(const float *g, int64_t n, double *w, float *out);

/* (Q f)[1:] ((T-1) x r, float) for a centered factor f (T x r, float): f's rows on the
 * centered vectors. `w` has T doubles of scratch. */
void btfm_align_center_factor(const float *f, int64_t T, int64_t r, float *out, double *w);

/* out ((n-1) x cols) = (Q y)[1:] for centered y (n x cols): the vectors in that basis. */
void btfm_align_project_centered(const double *y, int64_t n, int64_t cols, double *out);

/* out ((m+1) x cols) = Q [0; y] for y (m x cols): vectors given in that basis back as
 * centered (m+1)-vectors. */
void btfm_align_embed_centered(const double *y, int64_t m, int64_t cols, double *out);

/* mapped (T x n_target) = X R = f p qt * scale. */
btfm_status btfm_align_rotation_apply(const align_source *src, const align_rotation *r,
                                 int64_t n_target, double *mapped);


/* --- srm.c: pieces both shared response models use --- */

/* Standardize subject i's data x (T x V, float) in place, fill maps[i].mean/scale and
 * allocate maps[i] with rank K and b = I (a = W is filled by the fit); *sq_norm receives
 * ||x||^2 after standardizing. */
btfm_status btfm_align_srm_prepare(btfm_aligner *a, int i, float *x, int64_t K,
                                    double *sq_norm);

/* w (V x K) = polar(x^T s) for x (T x V, float) and the shared response s (T x K, float),
 * through the K x K Gram matrix; *fit receives <w, x^T s> (the trace both objectives
 * need). `scratch` has V x K floats, `work` V x K doubles. */
btfm_status btfm_align_srm_update_w(const float *x, int64_t T, int64_t V, int64_t K,
                                    const float *s, double *w, float *scratch, double *work,
                                    double *fit);

/* accum (T x K) += weight * x w, with w_f a V x K float scratch. */
void btfm_align_srm_project(const float *x, int64_t T, int64_t V, int64_t K, const double *w,
                       float *w_f, double weight, double *accum);

/* The common-space size to use: n_features, or min(50, T, smallest V) when 0; fails
 * with BTFM_E_RANGE when K exceeds T or a subject's feature count. *max_features
 * receives the largest feature count (for scratch sizes). */
btfm_status btfm_align_srm_components(const btfm_aligner *a, int64_t *K, int64_t *max_features);

/* Prepare every subject (btfm_align_srm_prepare), draw its seeded orthonormal W, and store
 * ||X_i||^2 (after centering) in sq_norm[i]. */
btfm_status btfm_align_srm_start(btfm_aligner *a, int64_t K, double *sq_norm);

/* Room for one more subject in the per-subject arrays (aligner.c). */
btfm_status btfm_align_grow_subjects(btfm_aligner *a);

#endif
