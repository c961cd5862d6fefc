/* Helpers shared by the signal layer: argument checks on time-major arrays, the
 * finite-value scan, and the second-order-section kernel. Not installed. */
#ifndef BTFM_SIGNAL_INTERNAL_H
#define BTFM_SIGNAL_INTERNAL_H

#include <stdint.h>
#include "core/internal.h"
#include "core/parallel.h"
#include <btfm/signal.h>

/* Channels filtered together by the section kernel: two cache lines of floats. Wider tiles
 * give the recursion more independent chains per sample (32 channels ran the 4-section
 * band-pass of bench_filter.py in 115 ms of CPU against 142 ms with 16; 64 in 98 ms, but
 * then 64 channels make one task and one thread). */
#define BTFM_SOS_TILE 32
/* Longest cascade accepted (Butterworth band filters of order 10 have 10 sections). */
#define BTFM_SOS_MAX_SECTIONS 64

/* Check the shape of a time-major array argument: x not NULL (unless n_times is 0),
 * n_times >= 0, n_channels >= 1, and n_times x n_channels floats addressable. */
btfm_status btfm_signal_check_array(const char *func, const float *x, int64_t n_times,
                                    int n_channels);

/* BTFM_E_NUMERIC: "<func>: channel c, sample s holds NaN; ..." (btfm_dense_fail_nonfinite). */
btfm_status btfm_signal_fail_nonfinite(const char *func, int channel, int64_t sample, float value);

/* BTFM_E_NUMERIC naming the first non-finite value (channel, sample) of the n_times x
 * n_channels block at x, unless `flags` allows them. `first_sample` is added to the
 * reported sample index. */
btfm_status btfm_signal_check_finite(const char *func, const float *x, int64_t n_times,
                                     int n_channels, int64_t first_sample, unsigned flags);

/* --- window.c --- */

/* Window `window` (btfm_window) of n samples into w: symmetric (filter design) or
 * periodic (spectral estimates), as scipy.signal.get_window(name, n, fftbins=periodic);
 * `kaiser_beta` shapes BTFM_WINDOW_KAISER. The arguments are valid (btfm_window_check). */
void btfm_window_fill(int window, double kaiser_beta, int64_t n, int periodic, double *w);
/* The coefficients a[j] of a window that is a sum of cosines, w = sum_j a[j] cos(j x) over
 * x = linspace(-pi, pi) (Hann, Hamming, Blackman, boxcar): their count, or 0 for another
 * window. `a` holds BTFM_WINDOW_MAX_COSINES. */
enum { BTFM_WINDOW_MAX_COSINES = 3 };
int btfm_window_cosines(int window, double *a);
/* BTFM_E_INVALID for an unknown window, BTFM_E_RANGE for a Kaiser beta outside [0, 100]. */
btfm_status btfm_window_check(int window, double kaiser_beta, const char *func);
/* The btfm_window of a deprecated btfm_fir_window number, or -1. */
int btfm_window_from_fir(int fir_window);

/* --- epochs.c: the epochs behind btfm_epochs, btfm_dataset_epochs and the epochs plan ---
 * Times in seconds; baseline ends NaN and NaN for none, -INFINITY / +INFINITY for the
 * epoch's edges; reject_ptp (one limit per channel, may be NULL) or, for datasets,
 * reject_spec (as btfm_dataset_reject_limits, may be NULL; it takes precedence). */
typedef struct btfm_epochs_options {
    double tmin, tmax, baseline_min, baseline_max;
    unsigned flags;
    const double *reject_ptp;
    const char *reject_spec;
} btfm_epochs_options;

btfm_status btfm_epochs_compute(const btfm_epochs_options *o, const float *x, int64_t n_times,
                                int n_channels, double sfreq, const int64_t *event_samples,
                                int64_t n_events, float *out, int64_t *n_kept,
                                unsigned char *kept, int *reason, const char *func);
btfm_status btfm_epochs_compute_dataset(const btfm_epochs_options *o, btfm_dataset *ds,
                                        const int64_t *events, int64_t n_events, float *out,
                                        int64_t *n_kept, unsigned char *kept, int *reason,
                                        const char *func);

/* The geometry of an epoch (btfm_epochs' conventions) at a sampling rate: its first
 * sample relative to the event, its length, its baseline samples [base_lo, base_hi)
 * within the epoch (equal: no baseline). Baseline ends as in btfm_epochs_options. */
typedef struct btfm_epoch_geometry {
    int64_t offset, n_times;
    int64_t base_lo, base_hi;
} btfm_epoch_geometry;
btfm_status btfm_epoch_geometry_make(btfm_epoch_geometry *g, double tmin, double tmax,
                                     double baseline_min, double baseline_max, double sfreq);
/* Check one epoch e (g->n_times x n_channels) against the peak-to-peak limits `reject`
 * (may be NULL) and, when kept, subtract its baseline in place; returns the first channel
 * over its limit or BTFM_EPOCH_KEPT. `work` holds 3 x n_channels doubles. Allocates
 * nothing (the real-time path uses it). */
int btfm_epoch_finish(const btfm_epoch_geometry *g, float *e, int n_channels,
                      const double *reject, double *work);

/* The rows of btfm_rereference after its checks, given the targets as a mask of
 * n_channels bytes: allocates nothing (the real-time path uses it). */
void btfm_rereference_rows(const float *x, int64_t n_times, int n_channels, const int *refs,
                           int n_refs, const unsigned char *is_target, float *out);

/* Threads for a call of `n_tasks` independent tasks and about `work` operations: 1 for
 * small work or with BTFM_SIGNAL_SINGLE_THREAD, else the online CPUs (or the environment
 * variable BTFM_NUM_THREADS), at most n_tasks. */
int btfm_signal_threads(int n_tasks, double work, unsigned flags);
/* The tasks themselves run through btfm_parallel_for (core/parallel.h). */

/* A cascade normalized to a0 = 1: per section b0 b1 b2 a1 a2. */
typedef struct btfm_sos {
    int n_sections;
    double *coef; /* n_sections x 5 */
} btfm_sos;

/* Validate a caller's sos array (finite, a0 != 0) and normalize it into `f` (coef
 * allocated; free with btfm_sos_clear). */
btfm_status btfm_sos_init(btfm_sos *f, const char *func, const double *sos, int n_sections);
void btfm_sos_clear(btfm_sos *f);

/* Run the cascade over the samples x[0], x[x_step], ... (n samples of cw <= TILE
 * channels, consecutive floats per sample), writing y[0], y[y_step], ... in place order
 * (y may alias x). `z` is the tile state: n_sections x 2 x TILE doubles. With `check`,
 * stops at the first block holding a NaN/Inf and returns the index of its first such
 * sample (nothing of that block is written); otherwise returns -1. */
int64_t btfm_sos_run_tile(const btfm_sos *f, double *z, const float *x, ptrdiff_t x_step,
                          float *y, ptrdiff_t y_step, int64_t n, int cw, int check);

/* The step-response state of sosfilt_zi for a normalized cascade: n_sections x 2. */
void btfm_sos_zi(const btfm_sos *f, double *zi);

#endif
