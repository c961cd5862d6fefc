/* Signal processing on time-major float arrays (n_times x n_channels, C order): IIR
 * (Butterworth, notch) and FIR (windowed sinc) design, causal filtering with explicit
 * state, zero-phase filtering, polyphase resampling, detrending, re-referencing,
 * bad-channel interpolation and epochs, plus dataset conveniences. doc/signal.md. */
#ifndef BTFM_SIGNAL_H
#define BTFM_SIGNAL_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Filter shapes. Numbers are never reused. */
typedef enum btfm_filter_kind {
    BTFM_FILTER_LOWPASS = 1,  /* passes below f1 */
    BTFM_FILTER_HIGHPASS = 2, /* passes above f1 */
    BTFM_FILTER_BANDPASS = 3, /* passes between f1 and f2 */
    BTFM_FILTER_BANDSTOP = 4, /* stops between f1 and f2 */
    BTFM_FILTER_KIND_MAX_ = 0x7fffffff
} btfm_filter_kind;

/* Windows: one numbering for every function that takes one (btfm_fir_design, btfm_welch,
 * the Welch plan), with scipy.signal.get_window's names and formulas. Functions that
 * design filters use the symmetric form, spectral estimates the periodic (DFT-even) one
 * (the symmetric window one sample longer, its last sample dropped). Numbers are never
 * reused. */
typedef enum btfm_window {
    BTFM_WINDOW_HANN = 0,     /* 0.5 + 0.5 cos(x), x = linspace(-pi, pi) */
    BTFM_WINDOW_HAMMING = 1,  /* 0.54 + 0.46 cos(x) */
    BTFM_WINDOW_BLACKMAN = 2, /* 0.42 + 0.5 cos(x) + 0.08 cos(2 x) */
    BTFM_WINDOW_BOXCAR = 3,   /* 1 */
    BTFM_WINDOW_KAISER = 4,   /* I0(beta sqrt(1 - r^2)) / I0(beta): takes a `beta` */
    BTFM_WINDOW_MAX_ = 0x7fffffff
} btfm_window;

/* Deprecated: the numbering btfm_firwin takes, kept for released programs. It differs
 * from btfm_window's (BTFM_FIR_WINDOW_HANN is 2, which btfm_welch reads as
 * BTFM_WINDOW_BLACKMAN): use btfm_window and btfm_fir_design. Numbers are never reused. */
typedef enum btfm_fir_window {
    BTFM_FIR_WINDOW_HAMMING = 1,     /* deprecated: BTFM_WINDOW_HAMMING */
    BTFM_FIR_WINDOW_HANN = 2,        /* deprecated: BTFM_WINDOW_HANN */
    BTFM_FIR_WINDOW_BLACKMAN = 3,    /* deprecated: BTFM_WINDOW_BLACKMAN */
    BTFM_FIR_WINDOW_KAISER = 4,      /* deprecated: BTFM_WINDOW_KAISER */
    BTFM_FIR_WINDOW_RECTANGULAR = 5, /* deprecated: BTFM_WINDOW_BOXCAR */
    BTFM_FIR_WINDOW_MAX_ = 0x7fffffff
} btfm_fir_window;

/* Padding of btfm_sosfiltfilt (scipy's padtype). Numbers are never reused. */
typedef enum btfm_pad {
    BTFM_PAD_NONE = 0,
    BTFM_PAD_ODD = 1,      /* 2 x[0] - x[k]: scipy's default */
    BTFM_PAD_EVEN = 2,     /* x[k] mirrored */
    BTFM_PAD_CONSTANT = 3, /* x[0] repeated */
    BTFM_PAD_MAX_ = 0x7fffffff
} btfm_pad;

/* Flags of the signal and spectrum functions (bitwise or). Non-finite input has one flag
 * for every function that checks it. */
typedef enum btfm_signal_flag {
    /* Let NaN/Inf input propagate into the results instead of failing with
     * BTFM_E_NUMERIC naming channel and sample (every signal and spectrum function). */
    BTFM_ALLOW_NONFINITE = 0x1,
    /* Run on the calling thread only. Without it, long offline calls (sosfiltfilt,
     * resample_poly, whole-dataset filtering) split the channels over the online CPUs (or
     * BTFM_NUM_THREADS); results are identical either way. */
    BTFM_SIGNAL_SINGLE_THREAD = 0x2,
    BTFM_SIGNAL_ALLOW_NONFINITE = BTFM_ALLOW_NONFINITE, /* deprecated name */
    BTFM_SIGNAL_FLAG_MAX_ = 0x7fffffff
} btfm_signal_flag;

/* Epoch outcome codes (the `reason` output of btfm_epochs); a reason >= 0 is the index
 * of the first channel whose peak-to-peak amplitude exceeded its rejection threshold. */
#define BTFM_EPOCH_KEPT (-1)
#define BTFM_EPOCH_OUT_OF_BOUNDS (-2) /* the window leaves the recording */

/* Name of a filter kind ("lowpass", "highpass", "bandpass", "bandstop"), window
 * ("hann", "hamming", "blackman", "boxcar", "kaiser"), pad ("none", "odd", "even",
 * "constant"); NULL when unknown. Static storage. btfm_fir_window_name is deprecated: it
 * names btfm_fir_window's numbering ("boxcar" for BTFM_FIR_WINDOW_RECTANGULAR). */
BTFM_API const char *btfm_filter_kind_name(int kind);
BTFM_API const char *btfm_window_name(int window);
BTFM_API const char *btfm_fir_window_name(int window);
BTFM_API const char *btfm_pad_name(int pad);

/* ---- IIR design (double precision, second-order sections) ----
 * A filter is n_sections rows of 6 doubles [b0 b1 b2 a0 a1 a2] (scipy's sos layout);
 * a0 is 1 for designed filters (other values are divided out when filtering). */

/* Number of sections of a Butterworth design: (order + 1) / 2 for low/high-pass, order
 * for band-pass/stop (those have 2 x order poles, as in SciPy); a negative status for
 * an order outside [1, 10] or an unknown kind. */
BTFM_API int btfm_butter_n_sections(int order, int kind);

/* Digital Butterworth filter, as scipy.signal.butter(order, Wn, btype, output='sos',
 * fs=sfreq): the same sections in the same order. Low/high-pass use the cutoff f1_hz
 * (f2_hz is ignored); band-pass/stop use f1_hz < f2_hz. Cutoffs must lie in
 * (0, sfreq / 2). `sos` receives btfm_butter_n_sections(order, kind) x 6 doubles;
 * `capacity` is its size in doubles. */
BTFM_API btfm_status btfm_butter(int order, int kind, double f1_hz, double f2_hz,
                                 double sfreq, double *sos, size_t capacity);

/* Second-order notch at freq_hz with quality factor `quality` (bandwidth freq / Q), as
 * scipy.signal.iirnotch(freq_hz, quality, sfreq): one section, 6 doubles into `sos`. */
BTFM_API btfm_status btfm_iirnotch(double freq_hz, double quality, double sfreq, double *sos);

/* ---- causal filtering ---- */

/* Initial state for a step response of unit amplitude, as scipy.signal.sosfilt_zi:
 * n_sections x 2 doubles into `zi`. The state of a channel whose input starts at the
 * value v is v x zi. */
BTFM_API btfm_status btfm_sosfilt_zi(const double *sos, int n_sections, double *zi);

/* Filter `x` (n_times x n_channels) causally through the cascade `sos`, as
 * scipy.signal.sosfilt(sos, x, axis=0, zi=state), into `out` (same shape; out == x is
 * allowed). `state` is n_sections x 2 x n_channels doubles in the caller's memory
 * (zeros to start at rest; btfm_sosfilt_zi for steady state), updated in place so that
 * consecutive chunks give exactly, bit for bit, the result of one call on the whole
 * signal. NULL state means zero initial conditions, not kept. Arithmetic is double;
 * scipy's float64 result rounded to float is what comes out. On failure the state is
 * unchanged. */
BTFM_API btfm_status btfm_sosfilt(const double *sos, int n_sections, const float *x,
                                  int64_t n_times, int n_channels, double *state,
                                  unsigned flags, float *out);

/* Zero-phase filtering, as scipy.signal.sosfiltfilt(sos, x, axis=0, padtype, padlen):
 * forward then backward over x padded at both ends by `padlen` samples (negative: the
 * default 3 x (2 n_sections + 1 - min(zeros among b2, zeros among a2))), each pass
 * starting from sosfilt_zi scaled by the first sample it sees. The magnitude response
 * is the square of the filter's. n_times must exceed padlen (BTFM_E_RANGE otherwise).
 * out == x is allowed. */
BTFM_API btfm_status btfm_sosfiltfilt(const double *sos, int n_sections, const float *x,
                                      int64_t n_times, int n_channels, int pad,
                                      int64_t padlen, unsigned flags, float *out);

/* A causal filter for streams: a copy of a cascade and one state per channel, carried
 * from one btfm_iir_process call to the next. */
typedef struct btfm_iir btfm_iir;

/* A filter of `n_sections` sections (copied) for `n_channels` channels, at rest. */
BTFM_API btfm_status btfm_iir_new(btfm_iir **out, const double *sos, int n_sections,
                                  int n_channels);
/* Release a filter. NULL is a no-op. */
BTFM_API void btfm_iir_free(btfm_iir *f);
/* Reset the state: at rest (initial NULL), or as if each channel c had held the value
 * initial[c] forever (sosfilt_zi x initial[c]), which avoids the start-up transient. */
BTFM_API btfm_status btfm_iir_reset(btfm_iir *f, const float *initial);
/* Reset one channel's state only, as btfm_iir_reset does for all (initial: that
 * channel's value, or NULL for at rest); the other channels are untouched. Allocates
 * nothing: a stream restarts a channel this way after a gap of non-finite samples. */
BTFM_API btfm_status btfm_iir_reset_channel(btfm_iir *f, int channel, const float *initial);
/* Filter the next n_times samples (n_times x n_channels) into `out` (out == x allowed).
 * Allocates nothing. */
BTFM_API btfm_status btfm_iir_process(btfm_iir *f, const float *x, int64_t n_times,
                                      unsigned flags, float *out);
/* The current state (n_sections x 2 x n_channels doubles) into `state`. */
BTFM_API btfm_status btfm_iir_state(const btfm_iir *f, double *state, size_t capacity);
BTFM_API int btfm_iir_n_sections(const btfm_iir *f);
BTFM_API int btfm_iir_n_channels(const btfm_iir *f);

/* ---- FIR design ---- */

/* Windowed-sinc FIR filter of `numtaps` taps, as scipy.signal.firwin(numtaps, cutoff,
 * window=..., pass_zero=<kind>, scale=True, fs=sfreq): low/high-pass with cutoff f1_hz,
 * band-pass/stop with f1_hz < f2_hz, cutoffs in (0, sfreq / 2). `window` is a
 * btfm_window (`kaiser_beta` is the Kaiser shape, ignored otherwise). High-pass and
 * band-stop filters pass the Nyquist frequency and need an odd numtaps. `taps` receives
 * numtaps doubles. Applying long FIR filters is done by FFT (include/btfm/spectrum.h). */
BTFM_API btfm_status btfm_fir_design(double *taps, int numtaps, int kind, double f1_hz,
                                     double f2_hz, int window, double kaiser_beta,
                                     double sfreq);

/* Deprecated: btfm_fir_design with `window` in btfm_fir_window's numbering (mapped to the
 * same window of btfm_window, so both give identical taps). */
BTFM_API btfm_status btfm_firwin(int numtaps, int kind, double f1_hz, double f2_hz, int window,
                                 double beta, double sfreq, double *taps);

/* ---- resampling ---- */

/* Samples after resampling n_times samples by up / down: ceil(n_times x up / down);
 * a negative status for invalid arguments. */
BTFM_API int64_t btfm_resample_poly_len(int64_t n_times, int up, int down);

/* Polyphase resampling by up / down of every channel, as scipy.signal.resample_poly(x,
 * up, down, axis=0) with its default window ('kaiser', 5.0) and zero padding: the
 * filter of the dataset readers (lib/core/polyphase.c). `out` receives
 * btfm_resample_poly_len(n_times, up, down) x n_channels floats. */
BTFM_API btfm_status btfm_resample_poly(const float *x, int64_t n_times, int n_channels,
                                        int up, int down, unsigned flags, float *out);

/* ---- detrending, referencing, interpolation ---- */

/* Detrend types, shared with Welch (btfm_welch). Numbers are never reused. */
typedef enum btfm_detrend_type {
    BTFM_DETREND_NONE = 0,     /* leave the data as they are */
    BTFM_DETREND_CONSTANT = 1, /* subtract each channel's (segment's) mean */
    BTFM_DETREND_LINEAR = 2,   /* subtract each channel's (segment's) least-squares line */
    BTFM_DETREND_MAX_ = 0x7fffffff
} btfm_detrend_type;

/* Remove the mean or the linear trend of each channel over time, as
 * scipy.signal.detrend(x, axis=0, type="constant"|"linear"), computed in double
 * (BTFM_DETREND_NONE copies). out == x is allowed. */
BTFM_API btfm_status btfm_detrend(const float *x, int64_t n_times, int n_channels, int type,
                                  unsigned flags, float *out);

/* Re-reference: subtract, at every sample, the mean of the `n_refs` channels `refs` from
 * the `n_targets` channels `targets` (NULL: every channel); other channels are copied.
 * MNE's set_eeg_reference("average") is refs = targets = the good EEG channels (bad
 * channels are left as they are); a single channel or a linked pair (e.g. mastoids) are
 * other choices of refs. out == x is allowed. */
BTFM_API btfm_status btfm_rereference(const float *x, int64_t n_times, int n_channels,
                                      const int *refs, int n_refs, const int *targets,
                                      int n_targets, unsigned flags, float *out);

/* Replace each channel with bad[c] != 0 by the inverse-distance-weighted mean (weights
 * 1 / d^2) of its `n_neighbors` nearest good channels, from sensor positions
 * (n_channels x 3 doubles, any unit). Good channels are copied. out == x is allowed. */
BTFM_API btfm_status btfm_interpolate_bads(const float *x, int64_t n_times, int n_channels,
                                           const double *positions, const unsigned char *bad,
                                           int n_neighbors, unsigned flags, float *out);

/* ---- epochs ---- */

/* Samples per epoch for the window [tmin, tmax] s at sfreq: round(tmax sfreq) -
 * round(tmin sfreq) + 1, rounding half to even as MNE does; negative status on error. */
BTFM_API int64_t btfm_epochs_n_times(double tmin, double tmax, double sfreq);

/* Cut epochs around events, as mne.Epochs(raw, events, tmin, tmax, baseline, reject):
 * epoch e covers samples event_samples[e] + round(tmin sfreq) ... + round(tmax sfreq).
 * Baseline: the mean over the epoch's times within [baseline_min, baseline_max] s
 * (-INFINITY / +INFINITY for the epoch's start / end; both NaN for no baseline) is
 * subtracted per channel. Rejection: an epoch is dropped when a channel's peak-to-peak
 * amplitude exceeds reject_ptp[c] (n_channels doubles, may be NULL; 0 or +INFINITY means
 * no limit for that channel). Kept epochs are written consecutively to `out`, each
 * btfm_epochs_n_times x n_channels floats (room for n_events of them is needed);
 * *n_kept counts them. For every event, kept[e] (may be NULL) is 1 or 0 and reason[e]
 * (may be NULL) is BTFM_EPOCH_KEPT, BTFM_EPOCH_OUT_OF_BOUNDS or the index of the first
 * channel over its threshold. Deprecated in favour of the epochs plan below
 * (btfm_epochs_plan_run), which names every option. */
BTFM_API btfm_status btfm_epochs(const float *x, int64_t n_times, int n_channels, double sfreq,
                                 const int64_t *event_samples, int64_t n_events, double tmin,
                                 double tmax, double baseline_min, double baseline_max,
                                 const double *reject_ptp, unsigned flags, float *out,
                                 int64_t *n_kept, unsigned char *kept, int *reason);

/* ---- datasets ---- */

/* Per-channel peak-to-peak limits from an MNE-style reject specification such as
 * "eeg=100e-6,eog=250e-6" (channel type names of btfm_channel_type_name, values in the
 * dataset's units, V for voltages): n_channels doubles into `reject_ptp`, 0 (no limit)
 * for other types and for channels marked bad. NULL or "" gives all zeros. */
BTFM_API btfm_status btfm_dataset_reject_limits(const btfm_dataset *ds, const char *spec,
                                                double *reject_ptp);

/* Zero-phase filter (btfm_sosfiltfilt, odd padding, default padlen) the whole dataset into
 * `out` (n_times x n_channels floats). Stim channels are copied unfiltered. */
BTFM_API btfm_status btfm_dataset_filter(btfm_dataset *ds, const double *sos, int n_sections,
                                         unsigned flags, float *out);

/* The same into a new in-memory dataset with the channels, events and identification of
 * `ds` (btfm_dataset_from_array), ready to be saved in any format. */
BTFM_API btfm_status btfm_dataset_filtered(btfm_dataset **out, btfm_dataset *ds,
                                           const double *sos, int n_sections, unsigned flags);

/* Epochs of a dataset around its events `events` (indices into btfm_dataset_event; NULL
 * with n_events = btfm_dataset_n_events for all), onsets rounded to the nearest sample.
 * Reads only the windows it needs. `reject` is a specification as in
 * btfm_dataset_reject_limits (bad channels never cause a rejection, as in MNE). Outputs
 * as in btfm_epochs. Deprecated in favour of btfm_epochs_plan_run_dataset. */
BTFM_API btfm_status btfm_dataset_epochs(btfm_dataset *ds, const int64_t *events,
                                         int64_t n_events, double tmin, double tmax,
                                         double baseline_min, double baseline_max,
                                         const char *reject, unsigned flags, float *out,
                                         int64_t *n_kept, unsigned char *kept, int *reason);

/* ---- epochs plans ---- */

/* An epochs plan: the options of btfm_epochs and btfm_dataset_epochs as parameters
 * (btfm_epochs_plan_set_param, introspectable through btfm_param_info with
 * BTFM_OBJECT_EPOCHS_PLAN) and rejection limits, applied to arrays or datasets. A plan is
 * only read by its runs: one plan may serve several threads at once while none changes
 * it. Those two functions are deprecated in favour of it. */
typedef struct btfm_epochs_plan btfm_epochs_plan;

typedef enum btfm_epochs_param {
    BTFM_EPOCHS_PARAM_TMIN = 0,                /* real: epoch start from the event, s (-0.2) */
    BTFM_EPOCHS_PARAM_TMAX = 1,                /* real: epoch end from the event, s (0.5) */
    BTFM_EPOCHS_PARAM_BASELINE = 2,            /* bool: subtract a baseline mean (1) */
    BTFM_EPOCHS_PARAM_BASELINE_MIN = 3,        /* real: its start, s (0) */
    BTFM_EPOCHS_PARAM_BASELINE_FROM_START = 4, /* bool: start at the epoch's start instead (1) */
    BTFM_EPOCHS_PARAM_BASELINE_MAX = 5,        /* real: its end, s (0) */
    BTFM_EPOCHS_PARAM_BASELINE_TO_END = 6,     /* bool: end at the epoch's end instead (0) */
    BTFM_EPOCHS_PARAM_ALLOW_NONFINITE = 7,     /* bool: as BTFM_ALLOW_NONFINITE */
    BTFM_EPOCHS_PARAM_MAX_ = 0x7fffffff
} btfm_epochs_param;

/* A plan with MNE's defaults (tmin -0.2 s, tmax 0.5 s, baseline (None, 0), no
 * rejection). Free with btfm_epochs_plan_free; NULL is a no-op there. */
BTFM_API btfm_status btfm_epochs_plan_new(btfm_epochs_plan **out);
BTFM_API void btfm_epochs_plan_free(btfm_epochs_plan *p);
BTFM_API btfm_status btfm_epochs_plan_set_param(btfm_epochs_plan *p, int param, double value);
BTFM_API btfm_status btfm_epochs_plan_get_param(const btfm_epochs_plan *p, int param,
                                                double *value);
/* Peak-to-peak rejection limits, one per channel (copied; 0 or +INFINITY: no limit for
 * that channel); NULL clears them. */
BTFM_API btfm_status btfm_epochs_plan_set_reject(btfm_epochs_plan *p, const double *reject_ptp,
                                                 int n_channels);
/* Rejection by channel type for datasets, as btfm_dataset_reject_limits ("eeg=100e-6");
 * it takes precedence over btfm_epochs_plan_set_reject there. NULL or "" clears it. */
BTFM_API btfm_status btfm_epochs_plan_set_reject_spec(btfm_epochs_plan *p, const char *spec);
/* Samples per epoch at sfreq (btfm_epochs_n_times of the plan's tmin and tmax). */
BTFM_API int64_t btfm_epochs_plan_n_times(const btfm_epochs_plan *p, double sfreq);
/* Epochs of x (n_times x n_channels) around event_samples, as btfm_epochs with the
 * plan's options (the limits of set_reject, which must then have n_channels entries; a
 * specification by type needs a dataset). Outputs as btfm_epochs. */
BTFM_API btfm_status btfm_epochs_plan_run(const btfm_epochs_plan *p, float *out,
                                          int64_t *n_kept, unsigned char *kept, int *reason,
                                          const float *x, int64_t n_times, int n_channels,
                                          double sfreq, const int64_t *event_samples,
                                          int64_t n_events);
/* Epochs of a dataset around its events, as btfm_dataset_epochs with the plan's options. */
BTFM_API btfm_status btfm_epochs_plan_run_dataset(const btfm_epochs_plan *p, float *out,
                                                  int64_t *n_kept, unsigned char *kept,
                                                  int *reason, btfm_dataset *ds,
                                                  const int64_t *events, int64_t n_events);

#ifdef __cplusplus
}
#endif

#endif
