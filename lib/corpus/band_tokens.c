/* Band-power tokens: each patch of a window as log10 of its mean power density in the
 * delta to gamma bands, as scipy.signal.periodogram with a periodic Hann window (mean
 * removed, one-sided density), by a DFT of the in-band bins only. */
#include <math.h>
#include <string.h>
#include "loader_internal.h"

/* The bands (Hz, [lo, hi)) of BTFM_LOADER_N_BANDS. */
static const double band_edges[BTFM_LOADER_N_BANDS][2] = {
    {1, 4}, {4, 8}, {8, 13}, {13, 30}, {30, 45}};

void btfm_band_plan_free(band_plan *bp)
{
    btfm_free(bp->hann), btfm_free(bp->dft), btfm_free(bp->bin_scale), btfm_free(bp->bin_band);
    memset(bp, 0, sizeof *bp);
}

/* The periodic Hann window w, cos and sin of the bins f_k = k sfreq / patch in a band
 * (windowed), and periodogram's density scale 1 / (sfreq sum w^2), doubled off 0 and
 * Nyquist. */
btfm_status btfm_band_plan_init(band_plan *bp, int64_t L, double fs)
{
    memset(bp, 0, sizeof *bp);
    bp->patch = L;
    int64_t k_max = L / 2;
    int n = 0;
    for (int64_t k = 1; k <= k_max; k++) {
        double f = (double)k * fs / (double)L;
        for (int j = 0; j < BTFM_LOADER_N_BANDS; j++) n += f >= band_edges[j][0] && f < band_edges[j][1];
    }
    bp->hann = btfm_malloc((size_t)L * sizeof *bp->hann);
    bp->dft = btfm_malloc((size_t)(2 * (n ? n : 1) * L) * sizeof *bp->dft);
    bp->bin_scale = btfm_malloc((size_t)(n ? n : 1) * sizeof *bp->bin_scale);
    bp->bin_band = btfm_malloc((size_t)(n ? n : 1) * sizeof *bp->bin_band);
    if (!bp->hann || !bp->dft || !bp->bin_scale || !bp->bin_band) {
        btfm_band_plan_free(bp);
        return btfm_fail_nomem("loader", 0);
    }
    double sum_w2 = 0;
    for (int64_t i = 0; i < L; i++) {
        bp->hann[i] = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)L);
        sum_w2 += bp->hann[i] * bp->hann[i];
    }
    for (int64_t k = 1; k <= k_max; k++) {
        double f = (double)k * fs / (double)L;
        for (int j = 0; j < BTFM_LOADER_N_BANDS; j++) {
            if (!(f >= band_edges[j][0] && f < band_edges[j][1])) continue;
            int b = bp->n_bins++;
            bp->bin_band[b] = j;
            bp->band_bins[j] += 1;
            bp->bin_scale[b] = (2 * k == L ? 1.0 : 2.0) / (fs * sum_w2);
            for (int64_t i = 0; i < L; i++) {
                double a = 2 * M_PI * (double)((k * i) % L) / (double)L;
                bp->dft[(2 * b) * L + i] = cos(a) * bp->hann[i];
                bp->dft[(2 * b + 1) * L + i] = sin(a) * bp->hann[i];
            }
        }
    }
    for (int j = 0; j < BTFM_LOADER_N_BANDS; j++)
        if (bp->band_bins[j] == 0) {
            btfm_band_plan_free(bp);
            return btfm_fail(BTFM_E_RANGE, "loader: band-power tokens: patches of %lld samples "
                             "at %g Hz have no frequency bin in %g-%g Hz (bins every %g Hz up to "
                             "%g Hz); use longer patches or a higher rate", (long long)L, fs,
                             band_edges[j][0], band_edges[j][1], fs / (double)L,
                             (double)k_max * fs / (double)L);
        }
    return BTFM_OK;
}

void btfm_band_tokens(const band_plan *bp, const float *raw, int64_t Cr, int64_t C, int64_t T,
                      float *out)
{
    int64_t L = bp->patch, P = T / L;
    for (int64_t c = 0; c < C; c++) {
        for (int64_t p = 0; p < P; p++) {
            float *o = out + (c * P + p) * BTFM_LOADER_N_BANDS;
            if (c >= Cr) {
                for (int j = 0; j < BTFM_LOADER_N_BANDS; j++) o[j] = 0;
                continue;
            }
            const float *v = raw + c * T + p * L;
            double mean = 0, power[BTFM_LOADER_N_BANDS] = {0};
            for (int64_t i = 0; i < L; i++) mean += v[i];
            mean /= (double)L;
            for (int b = 0; b < bp->n_bins; b++) {
                const double *cs = bp->dft + 2 * b * L, *sn = cs + L;
                double re = 0, im = 0;
                for (int64_t i = 0; i < L; i++) {
                    double d = v[i] - mean;
                    re += d * cs[i], im += d * sn[i];
                }
                power[bp->bin_band[b]] += (re * re + im * im) * bp->bin_scale[b];
            }
            for (int j = 0; j < BTFM_LOADER_N_BANDS; j++) {
                double m = power[j] / bp->band_bins[j];
                o[j] = (float)log10(m > 1e-12 ? m : 1e-12);
            }
        }
    }
}
