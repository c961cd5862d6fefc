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

/* Windows of btfm_firwin (scipy.signal.get_window names). Numbers are never reused. */
typedef enum btfm_fir_window {
    BTFM_FIR_WINDOW_HAMMING = 1,
    BTFM_FIR_WINDOW_HANN = 2,
    BTFM_FIR_WINDOW_BLACKMAN = 3,
    BTFM_FIR_WINDOW_KAISER = 4,      /* with the `beta` argument */
    BTFM_FIR_WINDOW_RECTANGULAR = 5, /* "boxcar" */
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

/* Flags of the filtering, resampling, referencing and epoching functions. */
#define BTFM_SIGNAL_ALLOW_NONFINITE 0x1u /* let NaN/Inf input propagate instead of failing
                                            with BTFM_E_NUMERIC naming channel and sample */
#define BTFM_SIGNAL_SINGLE_THREAD 0x2u   /* run on the calling thread only. Without it, long
                                            offline calls (sosfiltfilt, resample_poly,
                                            whole-dataset filtering) split the channels over
                                            the online CPUs (or BTFM_NUM_THREADS); results
                                            are identical either way */

/* Epoch outcome codes (the `reason` output of btfm_epochs); a reason >= 0 is the index
 * of the first channel whose peak-to-peak amplitude exceeded its rejection threshold. */
#define BTFM_EPOCH_KEPT (-1)
#define BTFM_EPOCH_OUT_OF_BOUNDS (-2) /* the window leaves the recording */

/* Name of a filter kind ("lowpass", "highpass", "bandpass", "bandstop"), window
 * ("hamming", "hann", "blackman", "kaiser", "boxcar"), pad ("none", "odd", "even",
 * "constant"); NULL when unknown. Static storage. */
BTFM_API const char *btfm_filter_kind_name(int kind);
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
/* Filter the next n_times samples (n_times x n_channels) into `out` (out == x allowed).
 * Allocates nothing. */
BTFM_API btfm_status btfm_iir_process(btfm_iir *f, const float *x, int64_t n_times,
                                      unsigned flags, float *out);
/* The current state (n_sections x 2 x n_channels doubles) into `state`. */
BTFM_API btfm_status btfm_iir_state(const btfm_iir *f, double *state, size_t capacity);
BTFM_API int btfm_iir_n_sections(const btfm_iir *f);
BTFM_API int btfm_iir_n_channels(const btfm_iir *f);

#ifdef __cplusplus
}
#endif

#endif
