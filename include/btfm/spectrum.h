/* Spectral analysis of time-major recordings: real FFT plans, FFT-based FIR filtering,
 * Welch and multitaper power spectral densities, band power, and ERP features of epochs.
 * Arrays are C order; signals are n_times x n_channels floats; spectra come back as
 * n_freqs x n_channels doubles. See doc/spectrum.md. */
#ifndef BTFM_SPECTRUM_H
#define BTFM_SPECTRUM_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "signal.h" /* btfm_window, btfm_signal_flag, btfm_detrend_type */

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of the spectral functions (bitwise or). */
typedef enum btfm_spectrum_flag {
    /* Deprecated name of BTFM_ALLOW_NONFINITE (signal.h), the flag every signal and
     * spectrum function takes for NaN/Inf input. */
    BTFM_SPECTRUM_PROPAGATE_NONFINITE = BTFM_ALLOW_NONFINITE,
    /* btfm_band_power: divide by the power over [lowest band edge, highest band edge]. */
    BTFM_SPECTRUM_RELATIVE = 2,
    BTFM_SPECTRUM_FLAG_MAX_ = 0x7fffffff
} btfm_spectrum_flag;

/* ---- Real FFT ------------------------------------------------------------------ */

/* A plan for real transforms of one length n (any n >= 1: radices 2, 3, 4, 5, other
 * odd primes up to 65, Bluestein's algorithm beyond). Computed in double precision. A
 * plan holds its own work memory: use one plan from one thread at a time; different
 * plans are independent. */
typedef struct btfm_fft btfm_fft;

/* A plan for length n (1 <= n <= 2^30). Free with btfm_fft_free. */
BTFM_API btfm_status btfm_fft_new(btfm_fft **out, int64_t n);

/* Release a plan. NULL is a no-op. */
BTFM_API void btfm_fft_free(btfm_fft *plan);

/* The plan's length, or a negative status for a NULL plan. */
BTFM_API int64_t btfm_fft_length(const btfm_fft *plan);

/* Forward transform of n reals into n / 2 + 1 complex bins, interleaved (re, im):
 * out[2 k] + i out[2 k + 1] = sum_t in[t] exp(-2 pi i k t / n), as numpy.fft.rfft. */
BTFM_API btfm_status btfm_fft_rfft(btfm_fft *plan, const double *in, double *out);

/* Inverse: n / 2 + 1 interleaved complex bins to n reals, scaled by 1 / n, as
 * numpy.fft.irfft(in, n); the imaginary parts of bin 0 (and bin n / 2 for even n) are
 * ignored. */
BTFM_API btfm_status btfm_fft_irfft(btfm_fft *plan, const double *in, double *out);

/* The same in single precision at the interfaces (computed in double). */
BTFM_API btfm_status btfm_fft_rfft_f32(btfm_fft *plan, const float *in, float *out);
BTFM_API btfm_status btfm_fft_irfft_f32(btfm_fft *plan, const float *in, float *out);

/* Many rows at once: in holds n_rows rows of n reals one after another, out n_rows rows
 * of n / 2 + 1 interleaved complex bins; the same values as btfm_fft_rfft on each row
 * within rounding, several rows transformed together by vector instructions. The plan
 * keeps the buffers of the first call for the next ones. in and out must not overlap. */
BTFM_API btfm_status btfm_fft_rfft_rows(btfm_fft *plan, const double *in, int64_t n_rows,
                                        double *out);

/* The inverse of each of n_rows rows of n / 2 + 1 interleaved bins into n_rows rows of n
 * reals, as btfm_fft_irfft; in and out must not overlap. */
BTFM_API btfm_status btfm_fft_irfft_rows(btfm_fft *plan, const double *in, int64_t n_rows,
                                         double *out);

/* ---- FIR filtering by FFT ------------------------------------------------------ */

/* Convolution modes of btfm_fir_apply, those of scipy.signal.convolve. */
typedef enum btfm_conv_mode {
    BTFM_CONV_FULL = 0,  /* n_times + n_taps - 1 samples */
    BTFM_CONV_SAME = 1,  /* n_times samples, centred: full[(n_taps - 1) / 2 ...] */
    BTFM_CONV_VALID = 2, /* n_times - n_taps + 1 samples (needs n_times >= n_taps) */
    BTFM_CONV_MODE_MAX_ = 0x7fffffff
} btfm_conv_mode;

/* Output length of btfm_fir_apply, or a negative status for bad arguments. */
BTFM_API int64_t btfm_fir_output_length(int64_t n_times, int64_t n_taps, int mode);

/* Convolve every channel of x (n_times x n_channels) with `taps` (n_taps values) by
 * overlap-save FFTs: out (btfm_fir_output_length x n_channels) equals
 * scipy.signal.oaconvolve(x, taps[:, None], mode, axes=0). out must not overlap x. */
BTFM_API btfm_status btfm_fir_apply(const float *x, int64_t n_times, int n_channels,
                                    const double *taps, int64_t n_taps, int mode,
                                    unsigned flags, float *out);

/* Zero-phase FIR filtering as MNE applies a linear-phase FIR filter (phase='zero'): each
 * channel is extended at both ends by min(n_taps, n_times) - 1 samples of odd reflection
 * (2 x[0] - x[k], MNE's 'reflect_limited'), convolved with the taps, and the group delay
 * (n_taps - 1) / 2 removed; out is n_times x n_channels. n_taps must be odd. */
BTFM_API btfm_status btfm_fir_zero_phase(const float *x, int64_t n_times, int n_channels,
                                         const double *taps, int64_t n_taps, unsigned flags,
                                         float *out);

/* ---- Power spectral densities -------------------------------------------------- */

typedef enum btfm_psd_scaling {
    BTFM_SCALING_DENSITY = 0,  /* V^2/Hz: 1 / (sfreq sum w^2) */
    BTFM_SCALING_SPECTRUM = 1, /* V^2: 1 / (sum w)^2 */
    BTFM_SCALING_MAX_ = 0x7fffffff
} btfm_psd_scaling;

typedef enum btfm_psd_average {
    BTFM_AVERAGE_MEAN = 0,
    BTFM_AVERAGE_MEDIAN = 1, /* divided by SciPy's median bias for the segment count */
    BTFM_AVERAGE_MAX_ = 0x7fffffff
} btfm_psd_average;

/* Welch's PSD of every channel of x (n_times x n_channels), the estimate of
 * scipy.signal.welch(x, sfreq, window, nperseg, noverlap, nfft, detrend,
 * return_onesided=True, scaling, axis=0, average): segments of nperseg samples
 * (0 = 256) every nperseg - noverlap samples (noverlap < 0 = nperseg / 2), each
 * detrended, windowed, zero-padded to nfft (0 = nperseg) and transformed; one-sided
 * (bins 1 .. below Nyquist doubled). psd receives nfft / 2 + 1 rows x n_channels and
 * freqs (may be NULL) the nfft / 2 + 1 frequencies k sfreq / nfft. nperseg > n_times,
 * noverlap >= nperseg and nfft < nperseg are BTFM_E_RANGE. `window` is a btfm_window (in
 * its periodic form); BTFM_WINDOW_KAISER, which needs a beta, is refused here (a Welch
 * plan takes it). Deprecated in favour of the Welch plan below, which names every option. */
BTFM_API btfm_status btfm_welch(const float *x, int64_t n_times, int n_channels, double sfreq,
                                int window, int64_t nperseg, int64_t noverlap, int64_t nfft,
                                int detrend, int scaling, int average, unsigned flags,
                                double *psd, double *freqs);

/* A Welch plan: btfm_welch's options as parameters (btfm_welch_plan_set_param,
 * introspectable through btfm_param_info with BTFM_OBJECT_WELCH_PLAN), applied to any
 * number of signals. A plan is only read by btfm_welch_plan_run: one plan may serve
 * several threads at once while none changes it. */
typedef struct btfm_welch_plan btfm_welch_plan;

typedef enum btfm_welch_param {
    BTFM_WELCH_PARAM_WINDOW = 0,          /* int: btfm_window (default hann) */
    BTFM_WELCH_PARAM_KAISER_BETA = 1,     /* real: shape of BTFM_WINDOW_KAISER (8.6) */
    BTFM_WELCH_PARAM_NPERSEG = 2,         /* int: samples per segment; 0 = min(256, n) */
    BTFM_WELCH_PARAM_NOVERLAP = 3,        /* int: overlap; -1 = nperseg / 2 */
    BTFM_WELCH_PARAM_NFFT = 4,            /* int: FFT length; 0 = nperseg */
    BTFM_WELCH_PARAM_DETREND = 5,         /* int: btfm_detrend_type (default constant) */
    BTFM_WELCH_PARAM_SCALING = 6,         /* int: btfm_psd_scaling (default density) */
    BTFM_WELCH_PARAM_AVERAGE = 7,         /* int: btfm_psd_average (default mean) */
    BTFM_WELCH_PARAM_ALLOW_NONFINITE = 8, /* bool: as BTFM_ALLOW_NONFINITE */
    BTFM_WELCH_PARAM_MAX_ = 0x7fffffff
} btfm_welch_param;

/* A plan with SciPy's defaults (scipy.signal.welch). Free with btfm_welch_plan_free. */
BTFM_API btfm_status btfm_welch_plan_new(btfm_welch_plan **out);
/* Release a plan; NULL is a no-op. */
BTFM_API void btfm_welch_plan_free(btfm_welch_plan *p);
BTFM_API btfm_status btfm_welch_plan_set_param(btfm_welch_plan *p, int param, double value);
BTFM_API btfm_status btfm_welch_plan_get_param(const btfm_welch_plan *p, int param,
                                               double *value);
/* The number of frequencies (nfft / 2 + 1) the plan gives for n_times samples, or a
 * negative status when its options do not fit them. */
BTFM_API int64_t btfm_welch_plan_n_freqs(const btfm_welch_plan *p, int64_t n_times);
/* Welch's PSD of every channel of x (n_times x n_channels) with the plan's options, as
 * btfm_welch: psd receives btfm_welch_plan_n_freqs rows x n_channels doubles, freqs (may
 * be NULL) the frequencies. Identical to btfm_welch with the same options. */
BTFM_API btfm_status btfm_welch_plan_run(const btfm_welch_plan *p, double *psd, double *freqs,
                                         const float *x, int64_t n_times, int n_channels,
                                         double sfreq);

/* Discrete prolate spheroidal sequences (Slepian 1978) as scipy.signal.windows.dpss(n,
 * half_bandwidth, n_tapers, sym, norm=2, return_ratios=True): unit-energy tapers from
 * the tridiagonal eigenproblem (before truncation to n when sym is 0), signs by Percival
 * and Walden's convention. tapers receives n_tapers x n, ratios (may be NULL) the
 * concentration of each taper in [-W, W]. Needs 0 < half_bandwidth < n / 2 and
 * 1 <= n_tapers <= n. */
BTFM_API btfm_status btfm_dpss(int64_t n, double half_bandwidth, int n_tapers, int sym,
                               double *tapers, double *ratios);

/* Multitaper PSD of every channel of x (n_times x n_channels), the estimate of MNE's
 * psd_array_multitaper(x.T, sfreq, bandwidth, adaptive=False, low_bias,
 * normalization='full'): the mean is removed, DPSS tapers of half bandwidth
 * NW = bandwidth n_times / (2 sfreq) (bandwidth <= 0: NW = 4), int(2 NW) of them of
 * which low_bias keeps those with concentration > 0.9; eigenvalue-weighted average of
 * the tapered periodograms, one-sided, divided by sfreq (V^2/Hz). psd receives
 * n_times / 2 + 1 rows x n_channels, freqs (may be NULL) the frequencies, n_tapers (may
 * be NULL) the number of tapers used. NW < 0.5 is BTFM_E_RANGE. */
BTFM_API btfm_status btfm_psd_multitaper(const float *x, int64_t n_times, int n_channels,
                                         double sfreq, double bandwidth, int low_bias,
                                         unsigned flags, int *n_tapers, double *psd,
                                         double *freqs);

/* ---- Band power ---------------------------------------------------------------- */

/* The named frequency bands (edges in Hz, see btfm_band_edges). */
typedef enum btfm_band {
    BTFM_BAND_DELTA = 0, /* 1 - 4 */
    BTFM_BAND_THETA = 1, /* 4 - 8 */
    BTFM_BAND_ALPHA = 2, /* 8 - 13 */
    BTFM_BAND_BETA = 3,  /* 13 - 30 */
    BTFM_BAND_GAMMA = 4, /* 30 - 45 */
    BTFM_BAND_MAX_ = 0x7fffffff
} btfm_band;

/* Name of a band ("delta" ... "gamma"); NULL if unknown. */
BTFM_API const char *btfm_band_name(int band);

/* Edges of a named band in Hz. */
BTFM_API btfm_status btfm_band_edges(int band, double *fmin, double *fmax);

/* Power in frequency bands of a PSD (n_freqs rows x n_channels, at increasing
 * frequencies freqs): band b spans bands[2 b] .. bands[2 b + 1] Hz and its power is the
 * trapezoid integral (numpy.trapz) of the PSD over the bins with fmin <= f <= fmax, so
 * adjacent bands share their edge bin. With BTFM_SPECTRUM_RELATIVE each power is divided
 * by the integral over [lowest band edge, highest band edge]. power receives n_bands x
 * n_channels. A band outside [freqs[0], freqs[n_freqs - 1]], with fmin >= fmax or
 * holding fewer than two bins is BTFM_E_RANGE. */
BTFM_API btfm_status btfm_band_power(const double *psd, const double *freqs, int64_t n_freqs,
                                     int n_channels, const double *bands, int n_bands,
                                     unsigned flags, double *power);

/* ---- ERP features -------------------------------------------------------------- */

/* Peak modes, those of MNE's Evoked.get_peak. */
typedef enum btfm_peak_mode {
    BTFM_PEAK_ABS = 0, /* largest |x|; the signed value is reported */
    BTFM_PEAK_POS = 1, /* largest positive value */
    BTFM_PEAK_NEG = 2, /* most negative value */
    BTFM_PEAK_MODE_MAX_ = 0x7fffffff
} btfm_peak_mode;

/* Epochs are n_epochs x n_times x n_channels floats; sample i is at time
 * (round(tmin sfreq) + i) / sfreq seconds, as MNE's epoch times. The window holds the
 * samples with t_start <= t <= t_stop (exactly, as Evoked.get_peak); a window reaching
 * outside the epoch's times, with t_start > t_stop, or holding no sample is
 * BTFM_E_RANGE. Outputs are n_epochs x n_channels. */

/* Mean amplitude of each epoch and channel over the window. */
BTFM_API btfm_status btfm_erp_mean_amplitude(const float *epochs, int64_t n_epochs,
                                             int64_t n_times, int n_channels, double sfreq,
                                             double tmin, double t_start, double t_stop,
                                             unsigned flags, double *amplitude);

/* Peak of each epoch and channel in the window: amplitude (signed value) and latency
 * (s); the first sample wins ties. When the window holds no positive (POS) or negative
 * (NEG) value, both are NaN for that epoch and channel. */
BTFM_API btfm_status btfm_erp_peak(const float *epochs, int64_t n_epochs, int64_t n_times,
                                   int n_channels, double sfreq, double tmin, double t_start,
                                   double t_stop, int mode, unsigned flags, double *amplitude,
                                   double *latency);

#ifdef __cplusplus
}
#endif

#endif
