/* Internals shared by the spectral files of lib/signal: FFT plans and their batched
 * ("lanes") execution, and the argument checks every spectral entry point makes.
 *
 * Batched layout: a complex element holds `lanes` independent transforms side by side,
 * its real parts first, then its imaginary parts: element e of a buffer occupies
 * doubles [2 e lanes, 2 e lanes + lanes) (real) and [.. + lanes, 2 (e + 1) lanes)
 * (imaginary). A real signal in lanes layout is x[t lanes + lane], so the even/odd
 * packing of a real FFT of even length needs no copy. lanes is 1 or BTFM_FFT_LANES. */
#ifndef BTFM_SIGNAL_SPECTRUM_INTERNAL_H
#define BTFM_SIGNAL_SPECTRUM_INTERNAL_H

#include <btfm/spectrum.h>
#include "core/internal.h"

/* Channels transformed together: one AVX-512 register of doubles, two AVX2 ones. */
#define BTFM_FFT_LANES 8

/* BTFM_FFT_LANES doubles (floats) as one GCC vector; aligned(8) (4) and may_alias so
 * that any double (float) address may be read as one. */
typedef double btfm_v8d __attribute__((vector_size(64), aligned(8), may_alias));
typedef float btfm_v8f __attribute__((vector_size(32), aligned(4), may_alias));

/* Force inlining, so the lane count becomes a constant inside every kernel; not in
 * sanitizer builds, where the instrumented, fully inlined kernels take minutes to
 * compile. */
#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#    define BTFM_SANITIZED 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define BTFM_SANITIZED 1
#endif
#if (defined(__GNUC__) || defined(__clang__)) && !defined(BTFM_SANITIZED)
#  define BTFM_INLINE static inline __attribute__((always_inline))
#else
#  define BTFM_INLINE static inline
#endif


/* A complex DFT plan of length n: mixed radix (Stockham autosort; radices 4, 2, 3, 5 and
 * generic odd ones) or Bluestein's chirp-z through a plan of a length with factors
 * 2, 3, 5 only. Immutable once made: one plan may run on many threads.
 *
 * Long mixed-radix plans also carry a four-step split n = n1 n2 (fft_kernels.h,
 * run_blocked), used instead of the passes when one batch of transforms
 * (2 n lanes doubles) takes at least BTFM_FFT_BLOCKED_BYTES: every pass of the plain
 * Stockham passes streams the whole batch through the caches, and at power-of-two
 * lengths its strided accesses also fall into the same cache sets. */
typedef struct btfm_cfft btfm_cfft;

#define BTFM_FFT_BLOCKED_BYTES ((size_t)1 << 20)
/* Adjacent columns (rows) of the four-step split moved together. */
#define BTFM_FFT_BLOCK 4

struct btfm_cfft {
    int64_t n;
    int n_factors;
    int factors[64];
    double *twiddles;      /* per pass: (radix - 1) (ido - 1) complex, forward sign */
    double *roots;         /* per generic pass: cos and sin of 2 pi j / radix */
    /* four-step split (when `first` is set): the data as an n1 x n2 matrix */
    struct btfm_cfft *first;  /* length n1, down the columns; never split itself */
    struct btfm_cfft *second; /* length n2, along the rows; never split itself */
    double *block_twiddles;   /* n complex: exp(-2 pi i r c / n) at c n1 + r */
    /* Bluestein (when `inner` is set) */
    btfm_cfft *inner;      /* plan of length m >= 2 n - 1 */
    double *chirp;         /* n complex: exp(-i pi k^2 / n) */
    double *kernel;        /* m complex: DFT of the conjugate chirp, divided by m */
};

btfm_status btfm_cfft_new(btfm_cfft **out, int64_t n);
void btfm_cfft_free(btfm_cfft *p);
/* Work buffer the execution needs, in doubles, for `lanes` transforms. */
size_t btfm_cfft_work_doubles(const btfm_cfft *p, int lanes);
/* Smallest length >= n whose only prime factors are 2, 3 and 5. */
int64_t btfm_fft_good_size(int64_t n);

/* The real FFT plan behind the public btfm_fft handle. */
struct btfm_fft {
    int64_t n;
    btfm_cfft *c;          /* length n / 2 (n even) or n (n odd) */
    double *twiddles;      /* n even: exp(-2 pi i k / n), k = 0 .. n / 2 - 1 */
    double *work;          /* single-transform work of the public entry points */
    double *spare;         /* n + 2 doubles for the float entry points */
    double *rows;          /* lanes buffers of the many-row entry points, made on first use */
    int rows_workers;      /* the threads `rows` has buffers for */
};

/* Work buffer of btfm_fft_forward_lanes / _inverse_lanes, in doubles. */
size_t btfm_fft_work_doubles(const btfm_fft *p, int lanes);

/* Forward real FFT of `lanes` signals x (n x lanes, overwritten) into out
 * ((n / 2 + 1) complex elements in lanes layout). Unnormalized, like numpy.fft.rfft. */
void btfm_fft_forward_lanes(const btfm_fft *p, double *x, double *out, double *work, int lanes);
/* The same in two halves: the transform (x overwritten), returning the complex
 * transform behind the bins (inside x or work), then bins [k0, k1) from it into out
 * (k1 - k0 complex elements in lanes layout). */
double *btfm_fft_forward_begin(const btfm_fft *p, double *x, double *work, int lanes);
void btfm_fft_forward_bins(const btfm_fft *p, const double *z, int64_t k0, int64_t k1,
                           double *out, int lanes);
/* Inverse: `in` ((n / 2 + 1) complex elements) to out (n x lanes), scaled by 1 / n like
 * numpy.fft.irfft; the imaginary parts of the DC and (even n) Nyquist bins are ignored. */
void btfm_fft_inverse_lanes(const btfm_fft *p, const double *in, double *out, double *work,
                            int lanes);

/* Complex DFT of `lanes` signals in place (forward sign, unnormalized). */
void btfm_cfft_forward_lanes(const btfm_cfft *p, double *data, double *work, int lanes);

/* Copy samples [t0, t0 + count) of channels [c0, c0 + lanes) of a time-major float
 * array (n_channels columns) into dst (count x lanes doubles); channels past n_channels
 * read as zero. */
void btfm_lanes_load(const float *x, int n_channels, int64_t t0, int64_t count, int c0,
                     double *dst);

/* Welch's estimate (welch.c) behind btfm_welch and the Welch plan: the options of
 * btfm_welch (nperseg 0, noverlap < 0 and nfft 0 for the defaults); `func` names the
 * public entry point in messages. */
typedef struct btfm_welch_options {
    int window;
    double kaiser_beta;
    int64_t nperseg, noverlap, nfft;
    int detrend, scaling, average;
    unsigned flags;
} btfm_welch_options;

btfm_status btfm_welch_compute(const btfm_welch_options *o, const float *x, int64_t n_times,
                               int n_channels, double sfreq, double *psd, double *freqs,
                               const char *func);
/* The number of frequencies for n_times samples (nfft / 2 + 1), or a negative status when
 * the options do not fit them. */
int64_t btfm_welch_n_freqs(const btfm_welch_options *o, int64_t n_times, const char *func);

/* The bins [*first, *last] of increasing `freqs` with fmin <= f <= fmax, the ones
 * btfm_band_power integrates for band number `band` (named in messages; -1 for the span of
 * all bands); BTFM_E_RANGE with fewer than two or edges outside the frequencies. */
btfm_status btfm_band_bins(const double *freqs, int64_t n_freqs, double fmin, double fmax,
                           int band, int64_t *first, int64_t *last);

/* Welch's estimate over a sliding window for real-time use (welch_sliding.c): samples
 * are pushed one chunk at a time, and the PSD of the last `window` samples is available
 * whenever that window starts at a multiple of the segment step (nperseg - noverlap),
 * equal to btfm_welch_compute's on the same samples within rounding (a direct DFT at the
 * bins instead of an FFT). Only the bins from just below fmin to just above fmax are
 * kept, so btfm_band_power over bands inside [fmin, fmax] gives the full spectrum's
 * answer. Mean average, constant or no detrending, windows other than Kaiser. Pushing
 * and asking allocate nothing; non-finite samples make the PSD of every window holding
 * them non-finite, and no other. */
typedef struct btfm_welch_sliding btfm_welch_sliding;
btfm_status btfm_welch_sliding_new(btfm_welch_sliding **out, const btfm_welch_options *o,
                                   double sfreq, int64_t window, int n_channels, double fmin,
                                   double fmax, const char *func);
void btfm_welch_sliding_free(btfm_welch_sliding *w);
/* Forget every sample pushed: the next one is sample 0 again. */
void btfm_welch_sliding_reset(btfm_welch_sliding *w);
/* The bins kept and their frequencies (Hz). */
int btfm_welch_sliding_n_freqs(const btfm_welch_sliding *w);
const double *btfm_welch_sliding_freqs(const btfm_welch_sliding *w);
/* The next n_times samples (n_times x n_channels). */
void btfm_welch_sliding_push(btfm_welch_sliding *w, const float *x, int64_t n_times);
/* The PSD (n_freqs x n_channels) of the last `window` samples; BTFM_E_STATE when that
 * window does not start at a multiple of the step. */
btfm_status btfm_welch_sliding_psd(const btfm_welch_sliding *w, double *psd);
/* Band powers without the PSD: once set (before the first push), each finished segment's
 * trapezoid integral over each band's bins (btfm_band_bins) is kept, and a window's band
 * powers (n_bands x n_channels, absolute) are the mean of its segments', which is
 * btfm_band_power on its PSD within rounding. The bands must resolve in the bins kept. */
btfm_status btfm_welch_sliding_set_bands(btfm_welch_sliding *w, const double *bands,
                                         int n_bands, const char *func);
btfm_status btfm_welch_sliding_band_power(const btfm_welch_sliding *w, double *power);

/* BTFM_E_NUMERIC naming the first non-finite sample (channel and sample index, and the
 * epoch when n_epochs > 1) unless `flags` has BTFM_ALLOW_NONFINITE. */
btfm_status btfm_spectrum_check_finite(const float *x, int64_t n_epochs, int64_t n_times,
                                       int n_channels, unsigned flags, const char *func);

/* The common shape checks: x and out non-NULL, n_times >= 1, n_channels >= 1, and the
 * element count representable. */
btfm_status btfm_spectrum_check_shape(const void *x, int64_t n_times, int n_channels,
                                      const void *out, const char *func);

/* Sample times as MNE computes them: (round(tmin sfreq) + i) / sfreq. */
double btfm_sample_time(double tmin, double sfreq, int64_t i);

#endif
