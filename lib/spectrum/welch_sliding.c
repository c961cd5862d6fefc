/* Welch's estimate (welch.c) over a sliding window, kept up to date sample by sample for
 * real-time use: each segment's windowed DFT at the few bins a band power needs grows as
 * its samples arrive, so a window's PSD costs no FFT and no allocation when it is asked. */
#include <math.h>
#include <string.h>
#include "spectrum_internal.h"
#include "signal/signal_internal.h"

/* Samples taken together: each accumulator is read and written once per block rather than
 * once per sample. */
enum { SAMPLE_BLOCK = 16, MAX_BLOCKS = 16, FINISH_TILE = 16 };

/* Two ways to grow a segment's DFT.
 * - Blocked, when the window is a sum of cosines (Hann, Hamming, Blackman, boxcar), nfft =
 *   nperseg and the step divides nperseg (the stream's case): each block of `step` samples
 *   gets one unwindowed DFT at the bins, shared by the nperseg / step segments holding it;
 *   a segment's DFT is the sum of its blocks' turned by their offsets, and the window is
 *   applied to it there as a few taps across neighbouring bins (a cosine in time is a shift
 *   in frequency). A sample then costs one accumulator instead of one per open segment.
 * - Otherwise each open segment accumulates w[t] e^{-2 pi i k t / nfft} itself. */
enum { MAX_TAPS = 3 };

struct btfm_welch_sliding {
    int n_channels, n_bins;
    int64_t k0;                                 /* the first bin kept */
    int64_t nperseg, step, nfft, window, n_seg; /* segments per window */
    int n_active;                               /* accumulators open at once */
    int detrend;
    int64_t pos;                                /* samples pushed */
    double *freqs;                              /* n_bins */
    double *tw;                                 /* per accumulator row: twiddles, n_acc_bins x 2 */
    double *tw_sum;                             /* n_bins x 2: the window's own DFT */
    double *bin_scale;                          /* n_bins */
    double *acc;                                /* n_active x (n_acc_bins x 2 + 1) x C */
    double *periodograms;                       /* n_seg x n_bins x C */
    double *xd;                                 /* SAMPLE_BLOCK x C: samples in double */
    /* blocked only */
    int blocked, n_acc_bins, n_taps;            /* accumulator bins u0 .. u0 + n_acc_bins - 1 */
    int turn_real;                              /* every turn is real */
    int64_t u0;
    double taps[MAX_TAPS];                      /* X_w[k] = sum_j taps[|j|] X[k + j] */
    double *turn;                               /* (nperseg / step) x n_acc_bins x 2 */
    double *dft;                                /* n_acc_bins x 2 x FINISH_TILE: a segment's DFT */
    /* band powers per segment, when set */
    int n_bands;
    int *band_bins;                             /* n_bands x 2: first and last bin */
    double *seg_power;                          /* n_seg x n_bands x C */
    int64_t n_finished;                         /* segments integrated */
    /* the sum of the band powers of the next window's segments but its last, made by the
     * first push after a segment finishes so that the push ending a window only adds */
    double *older;                              /* n_bands x C */
    int64_t older_first;                        /* the first of those segments, or -1 */
};

void btfm_welch_sliding_free(btfm_welch_sliding *w)
{
    if (!w) return;
    btfm_free(w->freqs);
    btfm_free(w->tw);
    btfm_free(w->acc);
    btfm_free(w->periodograms);
    btfm_free(w->turn);
    btfm_free(w->dft);
    btfm_free(w->band_bins);
    btfm_free(w->seg_power);
    btfm_free(w->older);
    btfm_free(w);
}

void btfm_welch_sliding_reset(btfm_welch_sliding *w)
{
    w->pos = 0;
    w->n_finished = 0;
    w->older_first = -1;
}

int btfm_welch_sliding_n_freqs(const btfm_welch_sliding *w) { return w->n_bins; }

const double *btfm_welch_sliding_freqs(const btfm_welch_sliding *w) { return w->freqs; }

btfm_status btfm_welch_sliding_new(btfm_welch_sliding **out, const btfm_welch_options *o,
                                   double sfreq, int64_t window, int n_channels, double fmin,
                                   double fmax, const char *func)
{
    *out = NULL;
    int64_t n_freqs = btfm_welch_n_freqs(o, window, func);
    if (n_freqs < 0) return (btfm_status)n_freqs;
    if (o->average != BTFM_AVERAGE_MEAN || o->detrend == BTFM_DETREND_LINEAR)
        return btfm_fail(BTFM_E_INVALID, "%s: a sliding Welch estimate takes the mean over "
                         "segments and constant or no detrending", func);
    if (o->window == BTFM_WINDOW_KAISER)
        return btfm_fail(BTFM_E_INVALID, "%s: the Kaiser window is not offered here", func);
    const int64_t nperseg = o->nperseg ? o->nperseg : (window < 256 ? window : 256);
    const int64_t noverlap = o->noverlap < 0 ? nperseg / 2 : o->noverlap;
    const int64_t nfft = o->nfft ? o->nfft : nperseg;
    const double df = sfreq / (double)nfft;
    if (!(fmin >= 0) || !(fmax > fmin) || fmax > sfreq / 2)
        return btfm_fail(BTFM_E_RANGE, "%s: frequencies [%g, %g] Hz; expected 0 <= fmin < fmax "
                         "<= %g (Nyquist)", func, fmin, fmax, sfreq / 2);
    /* the bins that reach just past both ends, as btfm_band_power needs */
    int64_t k0 = (int64_t)floor(fmin / df + 1e-9), k1 = (int64_t)ceil(fmax / df - 1e-9);
    if (k1 > nfft / 2) k1 = nfft / 2;
    btfm_welch_sliding *w = btfm_calloc(1, sizeof *w);
    if (!w) return btfm_fail_nomem(func, sizeof *w);
    const int C = n_channels, K = (int)(k1 - k0 + 1);
    w->n_channels = C;
    w->n_bins = K;
    w->k0 = k0;
    w->nperseg = nperseg;
    w->step = nperseg - noverlap;
    w->nfft = nfft;
    w->window = window;
    w->n_seg = (window - nperseg) / w->step + 1;
    w->detrend = o->detrend;
    w->older_first = -1;
    double cosines[BTFM_WINDOW_MAX_COSINES];
    const int n_cos = btfm_window_cosines(o->window, cosines);
    w->blocked = n_cos > 0 && nfft == nperseg && nperseg % w->step == 0 &&
                 nperseg / w->step <= MAX_BLOCKS;
    int U = K; /* accumulator bins */
    if (w->blocked) {
        /* the bins the taps reach, folded into [0, nfft / 2] by X[-q] = X[nfft - q] = conj X[q] */
        const int64_t J = n_cos - 1;
        w->u0 = k0 - J > 0 ? k0 - J : 0;
        const int64_t u1 = k1 + J < nfft / 2 ? k1 + J : nfft / 2;
        U = (int)(u1 - w->u0 + 1);
        w->n_taps = n_cos;
        w->taps[0] = cosines[0];
        for (int j = 1; j < n_cos; j++) w->taps[j] = (j % 2 ? -0.5 : 0.5) * cosines[j];
        w->n_active = (int)(nperseg / w->step);
    } else {
        w->n_active = (int)((nperseg + w->step - 1) / w->step);
    }
    w->n_acc_bins = U;
    const int64_t tw_rows = w->blocked ? w->step : nperseg;
    size_t n_tw = (size_t)tw_rows * U * 2, n_acc = (size_t)w->n_active * (2 * (size_t)U + 1) * C;
    size_t n_per = (size_t)w->n_seg * K * C;
    w->freqs = btfm_malloc(sizeof(double) *
                           ((size_t)K * 4 + (size_t)SAMPLE_BLOCK * C + (size_t)nperseg));
    w->tw = btfm_malloc(sizeof(double) * n_tw);
    w->acc = btfm_calloc(n_acc, sizeof(double));
    w->periodograms = btfm_calloc(n_per, sizeof(double));
    if (w->blocked) {
        w->turn = btfm_malloc(sizeof(double) * (size_t)w->n_active * U * 2);
        w->dft = btfm_calloc(2 * (size_t)U * FINISH_TILE, sizeof(double));
    }
    if (!w->freqs || !w->tw || !w->acc || !w->periodograms ||
        (w->blocked && (!w->turn || !w->dft))) {
        btfm_welch_sliding_free(w);
        return btfm_fail_nomem(func, sizeof(double) * (n_tw + n_acc + n_per));
    }
    w->tw_sum = w->freqs + K;
    w->bin_scale = w->tw_sum + 2 * K;
    w->xd = w->bin_scale + K;
    double *win = w->xd + (size_t)SAMPLE_BLOCK * C;
    btfm_window_fill(o->window, o->kaiser_beta, nperseg, 1, win);
    double sum = 0, sum_sq = 0;
    for (int64_t t = 0; t < nperseg; t++) {
        sum += win[t];
        sum_sq += win[t] * win[t];
    }
    const double scale = o->scaling == BTFM_SCALING_DENSITY ? 1.0 / (sfreq * sum_sq)
                                                            : 1.0 / (sum * sum);
    const int64_t last_doubled = nfft % 2 ? nfft / 2 : nfft / 2 - 1; /* as welch.c */
    for (int k = 0; k < K; k++) {
        int64_t f = k0 + k;
        w->freqs[k] = (double)f * sfreq / (double)nfft;
        w->bin_scale[k] = f >= 1 && f <= last_doubled ? 2.0 * scale : scale;
        w->tw_sum[2 * k] = w->tw_sum[2 * k + 1] = 0;
        for (int64_t t = 0; t < nperseg; t++) {
            double phase = 2.0 * M_PI * (double)((f * t) % nfft) / (double)nfft;
            w->tw_sum[2 * k] += win[t] * cos(phase);
            w->tw_sum[2 * k + 1] += -win[t] * sin(phase);
        }
    }
    /* the twiddles: a block's unwindowed ones, or a segment's windowed ones; each phase is
     * reduced exactly before the trigonometry */
    const int64_t first = w->blocked ? w->u0 : k0;
    for (int64_t t = 0; t < tw_rows; t++)
        for (int u = 0; u < U; u++) {
            const int64_t f = first + u;
            const double phase = 2.0 * M_PI * (double)((f * t) % nfft) / (double)nfft;
            const double g = w->blocked ? 1.0 : win[t];
            double *c = w->tw + ((size_t)t * U + u) * 2;
            c[0] = g * cos(phase);
            c[1] = -g * sin(phase);
        }
    /* block r of a segment starts r step samples in: its DFT turns by e^{-2 pi i u r step /
     * nfft}, exact at quarter turns (with 50% overlap every turn is +-1, and real) */
    w->turn_real = 1;
    for (int r = 0; w->blocked && r < w->n_active; r++)
        for (int u = 0; u < U; u++) {
            const int64_t num = ((first + u) * r * w->step) % nfft;
            double *c = w->turn + ((size_t)r * U + u) * 2;
            if (num * 4 % nfft == 0) {
                static const double quarter[4][2] = {{1, 0}, {0, -1}, {-1, 0}, {0, 1}};
                c[0] = quarter[num * 4 / nfft][0];
                c[1] = quarter[num * 4 / nfft][1];
            } else {
                const double phase = 2.0 * M_PI * (double)num / (double)nfft;
                c[0] = cos(phase);
                c[1] = -sin(phase);
            }
            w->turn_real &= c[1] == 0;
        }
    *out = w;
    return BTFM_OK;
}

/* Add n sample rows x (n x C), the first at the segment's local time given by tw's row, to
 * the segment's accumulator a: per bin and tile of channels the sums stay in registers over
 * the rows (the accumulators of a 64-channel stream outgrow L1), and each element still
 * adds its samples in time order, so the sums are those of a sample-by-sample loop. */
enum { CHANNEL_TILE = 16 };

BTFM_HOT BTFM_SIMD_CLONES
static void accumulate(double *restrict a, const double *restrict x, int n,
                       const double *restrict tw, int K, int C)
{
    const size_t row = 2 * (size_t)K;
    for (int k = 0; k < K; k++) {
        double *restrict re = a + (size_t)(2 * k) * C, *restrict im = re + C;
        const double *restrict twk = tw + 2 * k;
        int c0 = 0;
        for (; c0 + CHANNEL_TILE <= C; c0 += CHANNEL_TILE) {
            double r[CHANNEL_TILE], i[CHANNEL_TILE];
            for (int j = 0; j < CHANNEL_TILE; j++) r[j] = re[c0 + j], i[j] = im[c0 + j];
            for (int t = 0; t < n; t++) {
                const double cr = twk[t * row], ci = twk[t * row + 1];
                const double *restrict xt = x + (size_t)t * C + c0;
                for (int j = 0; j < CHANNEL_TILE; j++) {
                    r[j] += xt[j] * cr;
                    i[j] += xt[j] * ci;
                }
            }
            for (int j = 0; j < CHANNEL_TILE; j++) re[c0 + j] = r[j], im[c0 + j] = i[j];
        }
        for (int t = 0; t < n; t++) {
            const double cr = twk[t * row], ci = twk[t * row + 1];
            for (int c = c0; c < C; c++) {
                re[c] += x[(size_t)t * C + c] * cr;
                im[c] += x[(size_t)t * C + c] * ci;
            }
        }
    }
    double *restrict sum = a + (size_t)2 * K * C;
    for (int t = 0; t < n; t++)
        for (int c = 0; c < C; c++) sum[c] += x[(size_t)t * C + c];
}

/* The periodogram of a finished segment from its accumulator. */
static void finish_segment(const btfm_welch_sliding *w, const double *a, double *p)
{
    const int K = w->n_bins, C = w->n_channels;
    const double *sum = a + (size_t)2 * K * C;
    for (int k = 0; k < K; k++) {
        const double *re = a + (size_t)(2 * k) * C, *im = re + C;
        const double wr = w->tw_sum[2 * k], wi = w->tw_sum[2 * k + 1];
        for (int c = 0; c < C; c++) {
            double mean = w->detrend == BTFM_DETREND_CONSTANT ? sum[c] / (double)w->nperseg : 0;
            double xr = re[c] - mean * wr, xi = im[c] - mean * wi;
            p[(size_t)k * C + c] = (xr * xr + xi * xi) * w->bin_scale[k];
        }
    }
}

/* The blocked form's periodogram of the segment made of the n_active blocks ending with the
 * one in slot `last`: the blocks' DFTs turned to the segment's start and added in block
 * order, the window's taps across neighbouring bins, the mean removed, then as above. A
 * tile of channels at a time, so that its DFT stays in L1 while the taps read it. */
BTFM_HOT BTFM_SIMD_CLONES
static void finish_blocks(const btfm_welch_sliding *w, int last, double *p)
{
    enum { T = FINISH_TILE };
    const int K = w->n_bins, C = w->n_channels, U = w->n_acc_bins, R = w->n_active;
    const size_t acc_size = (2 * (size_t)U + 1) * C;
    const int64_t N = w->nfft;
    const double inv_n = w->detrend == BTFM_DETREND_CONSTANT ? 1.0 / (double)w->nperseg : 0.0;
    double *restrict X = w->dft;
    for (int c0 = 0; c0 < C; c0 += T) {
        const int cw = C - c0 < T ? C - c0 : T;
        double mean[T];
        for (int r = 0; r < R; r++) {
            const double *restrict a = w->acc + (size_t)((last + 1 + r) % R) * acc_size + c0;
            for (int u = 0; u < U; u++) {
                const double tr = w->turn[((size_t)r * U + u) * 2];
                const double ti = w->turn[((size_t)r * U + u) * 2 + 1];
                const double *restrict br = a + (size_t)(2 * u) * C, *restrict bi = br + C;
                double *restrict xr = X + (size_t)(2 * u) * T, *restrict xi = xr + T;
                if (w->turn_real && r == 0)
                    for (int c = 0; c < cw; c++) xr[c] = br[c] * tr, xi[c] = bi[c] * tr;
                else if (w->turn_real)
                    for (int c = 0; c < cw; c++) xr[c] += br[c] * tr, xi[c] += bi[c] * tr;
                else if (r == 0)
                    for (int c = 0; c < cw; c++)
                        xr[c] = br[c] * tr - bi[c] * ti, xi[c] = br[c] * ti + bi[c] * tr;
                else
                    for (int c = 0; c < cw; c++)
                        xr[c] += br[c] * tr - bi[c] * ti, xi[c] += br[c] * ti + bi[c] * tr;
            }
            const double *restrict sum = a + (size_t)2 * U * C;
            for (int c = 0; c < cw; c++) mean[c] = (r ? mean[c] : 0.0) + sum[c];
        }
        for (int c = 0; c < cw; c++) mean[c] *= inv_n;
        for (int k = 0; k < K; k++) {
            const int64_t f = w->k0 + k;
            double *restrict out = p + (size_t)k * C + c0;
            const double wr = w->tw_sum[2 * k], wi = w->tw_sum[2 * k + 1], sc = w->bin_scale[k];
            const double *xr0 = X + (size_t)(2 * (f - w->u0)) * T, *xi0 = xr0 + T;
            /* the outer taps' bins, each folded into the accumulated range (conjugate if folded) */
            const double *lr[MAX_TAPS], *li[MAX_TAPS], *hr[MAX_TAPS], *hi[MAX_TAPS];
            double ls[MAX_TAPS], hs[MAX_TAPS];
            for (int j = 1; j < w->n_taps; j++) {
                int64_t q = f - j, s = 1;
                if (q < 0) q = -q, s = -1;
                lr[j] = X + (size_t)(2 * (q - w->u0)) * T, li[j] = lr[j] + T, ls[j] = (double)s;
                q = f + j, s = 1;
                if (q > N / 2) q = N - q, s = -1;
                hr[j] = X + (size_t)(2 * (q - w->u0)) * T, hi[j] = hr[j] + T, hs[j] = (double)s;
            }
            const double t0 = w->taps[0];
            if (w->n_taps == 2) {
                const double t1 = w->taps[1], s1 = ls[1], s2 = hs[1];
                const double *restrict ar = lr[1], *restrict ai = li[1], *restrict br = hr[1],
                                       *restrict bi = hi[1];
                for (int c = 0; c < cw; c++) {
                    const double yr = t0 * xr0[c] + t1 * (ar[c] + br[c]) - mean[c] * wr;
                    const double yi = t0 * xi0[c] + t1 * (s1 * ai[c] + s2 * bi[c]) - mean[c] * wi;
                    out[c] = (yr * yr + yi * yi) * sc;
                }
            } else {
                for (int c = 0; c < cw; c++) {
                    double yr = t0 * xr0[c], yi = t0 * xi0[c];
                    for (int j = 1; j < w->n_taps; j++) {
                        yr += w->taps[j] * (lr[j][c] + hr[j][c]);
                        yi += w->taps[j] * (ls[j] * li[j][c] + hs[j] * hi[j][c]);
                    }
                    yr -= mean[c] * wr;
                    yi -= mean[c] * wi;
                    out[c] = (yr * yr + yi * yi) * sc;
                }
            }
        }
    }
}

/* The trapezoid integral of each band over the periodogram p of segment m, as
 * btfm_band_power's per channel, with the channels side by side. */
BTFM_HOT BTFM_SIMD_CLONES
static void integrate_bands(btfm_welch_sliding *w, const double *p, int64_t m)
{
    const int C = w->n_channels;
    double *restrict out = w->seg_power + (size_t)(m % w->n_seg) * w->n_bands * C;
    w->n_finished = m + 1;
    for (int b = 0; b < w->n_bands; b++, out += C) {
        for (int c = 0; c < C; c++) out[c] = 0.0;
        for (int i = w->band_bins[2 * b]; i < w->band_bins[2 * b + 1]; i++) {
            const double df = w->freqs[i + 1] - w->freqs[i];
            const double *restrict lo = p + (size_t)i * C, *restrict hi = lo + C;
            for (int c = 0; c < C; c++) out[c] += df * (lo[c] + hi[c]) / 2.0;
        }
    }
}

static void push_blocked(btfm_welch_sliding *w, int64_t n0, int64_t n1)
{
    const int C = w->n_channels, U = w->n_acc_bins, R = w->n_active;
    const size_t acc_size = (2 * (size_t)U + 1) * C;
    for (int64_t t = n0; t < n1;) {
        const int64_t b = t / w->step, start = b * w->step, end = start + w->step;
        const int64_t hi = end < n1 ? end : n1;
        double *a = w->acc + (size_t)(b % R) * acc_size;
        if (t == start) memset(a, 0, acc_size * sizeof(double)); /* the block opens here */
        accumulate(a, w->xd + (size_t)(t - n0) * C, (int)(hi - t),
                   w->tw + (size_t)(t - start) * U * 2, U, C);
        if (hi == end && b >= R - 1) { /* the segment of blocks b - R + 1 .. b is complete */
            double *p = w->periodograms + (size_t)((b - R + 1) % w->n_seg) * w->n_bins * C;
            finish_blocks(w, (int)(b % R), p);
            if (w->n_bands) integrate_bands(w, p, b - R + 1);
        }
        t = hi;
    }
}

/* The next window's segments but its last summed into `older`, once per finished segment. */
static void sum_older(btfm_welch_sliding *w)
{
    const int64_t first = w->n_finished - (w->n_seg - 1);
    if (!w->n_bands || w->n_seg < 2 || first < 0 || first == w->older_first) return;
    const size_t n = (size_t)w->n_bands * w->n_channels;
    memcpy(w->older, w->seg_power + (size_t)(first % w->n_seg) * n, n * sizeof(double));
    for (int64_t s = 1; s < w->n_seg - 1; s++) {
        const double *p = w->seg_power + (size_t)((first + s) % w->n_seg) * n;
        for (size_t i = 0; i < n; i++) w->older[i] += p[i];
    }
    w->older_first = first;
}

void btfm_welch_sliding_push(btfm_welch_sliding *w, const float *x, int64_t n_times)
{
    sum_older(w);
    const int K = w->n_bins, C = w->n_channels;
    const size_t acc_size = (2 * (size_t)K + 1) * C;
    for (int64_t i = 0; i < n_times; i += SAMPLE_BLOCK) {
        const int64_t len = n_times - i < SAMPLE_BLOCK ? n_times - i : SAMPLE_BLOCK;
        const int64_t n0 = w->pos, n1 = n0 + len; /* samples [n0, n1) */
        for (size_t j = 0; j < (size_t)len * C; j++) w->xd[j] = x[(size_t)i * C + j];
        w->pos = n1;
        if (w->blocked) {
            push_blocked(w, n0, n1);
            continue;
        }
        /* each segment touching the block, in order: a slot is reused only by a segment
         * opening after the slot's previous one finished */
        const int64_t m_first = n0 >= w->nperseg ? (n0 - w->nperseg) / w->step + 1 : 0;
        for (int64_t m = m_first; m <= (n1 - 1) / w->step; m++) {
            const int64_t start = m * w->step, end = start + w->nperseg;
            const int64_t lo = start > n0 ? start : n0, hi = end < n1 ? end : n1;
            double *a = w->acc + (size_t)(m % w->n_active) * acc_size;
            if (lo == start) memset(a, 0, acc_size * sizeof(double)); /* it opens here */
            accumulate(a, w->xd + (size_t)(lo - n0) * C, (int)(hi - lo),
                       w->tw + (size_t)(lo - start) * K * 2, K, C);
            if (hi == end) {
                double *p = w->periodograms + (size_t)(m % w->n_seg) * K * C;
                finish_segment(w, a, p);
                if (w->n_bands) integrate_bands(w, p, m);
            }
        }
    }
}

/* The first segment of the window ending now, or a negative status when there is none. */
static int64_t first_segment(const btfm_welch_sliding *w, const char *func)
{
    const int64_t start = w->pos - w->window;
    if (start < 0 || start % w->step)
        return btfm_fail(BTFM_E_STATE, "%s: a window must start at a multiple of the segment "
                         "step (%lld samples) after %lld samples; %lld samples were pushed",
                         func, (long long)w->step, (long long)w->window, (long long)w->pos);
    return start / w->step;
}

/* The mean over the window's segments of n values per segment in `per_segment`. */
static void segment_mean(const btfm_welch_sliding *w, const double *per_segment, size_t n,
                         int64_t m0, double *out)
{
    const double inv = 1.0 / (double)w->n_seg;
    memcpy(out, per_segment + (size_t)(m0 % w->n_seg) * n, n * sizeof(double));
    for (int64_t s = 1; s < w->n_seg; s++) {
        const double *p = per_segment + (size_t)((m0 + s) % w->n_seg) * n;
        for (size_t i = 0; i < n; i++) out[i] += p[i];
    }
    for (size_t i = 0; i < n; i++) out[i] *= inv;
}

btfm_status btfm_welch_sliding_psd(const btfm_welch_sliding *w, double *psd)
{
    const int64_t m0 = first_segment(w, "btfm_welch_sliding_psd");
    if (m0 < 0) return (btfm_status)m0;
    segment_mean(w, w->periodograms, (size_t)w->n_bins * w->n_channels, m0, psd);
    return BTFM_OK;
}

btfm_status btfm_welch_sliding_set_bands(btfm_welch_sliding *w, const double *bands,
                                         int n_bands, const char *func)
{
    int *bins = btfm_malloc(sizeof(int) * 2 * (size_t)n_bands);
    double *power = btfm_calloc((size_t)w->n_seg * n_bands * w->n_channels, sizeof(double));
    double *older = btfm_calloc((size_t)n_bands * w->n_channels, sizeof(double));
    if (!bins || !power || !older) {
        btfm_free(bins);
        btfm_free(power);
        btfm_free(older);
        return btfm_fail_nomem(func, sizeof(double) * (size_t)w->n_seg * n_bands * w->n_channels);
    }
    for (int b = 0; b < n_bands; b++) {
        int64_t first, last;
        btfm_status st = btfm_band_bins(w->freqs, w->n_bins, bands[2 * b], bands[2 * b + 1], b,
                                        &first, &last);
        if (st) {
            btfm_free(bins);
            btfm_free(power);
            btfm_free(older);
            return st;
        }
        bins[2 * b] = (int)first;
        bins[2 * b + 1] = (int)last;
    }
    btfm_free(w->band_bins);
    btfm_free(w->seg_power);
    btfm_free(w->older);
    w->band_bins = bins;
    w->seg_power = power;
    w->older = older;
    w->older_first = -1;
    w->n_bands = n_bands;
    return BTFM_OK;
}

btfm_status btfm_welch_sliding_band_power(const btfm_welch_sliding *w, double *power)
{
    static const char func[] = "btfm_welch_sliding_band_power";
    if (!w->n_bands) return btfm_fail(BTFM_E_STATE, "%s: no bands were set", func);
    const int64_t m0 = first_segment(w, func);
    if (m0 < 0) return (btfm_status)m0;
    const size_t n = (size_t)w->n_bands * w->n_channels;
    if (w->older_first != m0) {
        segment_mean(w, w->seg_power, n, m0, power);
        return BTFM_OK;
    }
    /* what segment_mean adds, in its order, with all but the last segment done before */
    const double inv = 1.0 / (double)w->n_seg;
    const double *last = w->seg_power + (size_t)((m0 + w->n_seg - 1) % w->n_seg) * n;
    for (size_t i = 0; i < n; i++) power[i] = (w->older[i] + last[i]) * inv;
    return BTFM_OK;
}
