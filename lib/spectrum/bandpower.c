/* Power in frequency bands: the named EEG bands and the trapezoid integral of a PSD over
 * the bins inside each band (both edges included), absolute or relative to the power
 * over the span of all the bands. */
#include <math.h>
#include "spectrum_internal.h"

static const struct {
    const char *name;
    double fmin, fmax;
} bands_table[] = {
    {"delta", 1.0, 4.0}, {"theta", 4.0, 8.0}, {"alpha", 8.0, 13.0},
    {"beta", 13.0, 30.0}, {"gamma", 30.0, 45.0},
};

const char *btfm_band_name(int band)
{
    if (band < 0 || band > BTFM_BAND_GAMMA) return NULL;
    return bands_table[band].name;
}

btfm_status btfm_band_edges(int band, double *fmin, double *fmax)
{
    BTFM_CHECK_ARG(fmin, "btfm_band_edges", "fmin");
    BTFM_CHECK_ARG(fmax, "btfm_band_edges", "fmax");
    if (!btfm_band_name(band))
        return btfm_fail(BTFM_E_INVALID, "btfm_band_edges: band %d is unknown; expected 0 "
                         "(delta) to %d (gamma)", band, BTFM_BAND_GAMMA);
    *fmin = bands_table[band].fmin;
    *fmax = bands_table[band].fmax;
    return BTFM_OK;
}

btfm_status btfm_band_bins(const double *freqs, int64_t n_freqs, double fmin, double fmax,
                           int band, int64_t *first, int64_t *last)
{
    const char *func = "btfm_band_power";
    if (!isfinite(fmin) || !isfinite(fmax) || fmin >= fmax)
        return btfm_fail(BTFM_E_RANGE, "%s: band %d is [%g, %g] Hz; expected finite edges "
                         "with fmin < fmax", func, band, fmin, fmax);
    if (fmin < freqs[0] || fmax > freqs[n_freqs - 1])
        return btfm_fail(BTFM_E_RANGE, "%s: band %d [%g, %g] Hz reaches outside the "
                         "spectrum's frequencies [%g, %g] Hz (Nyquist)", func, band, fmin,
                         fmax, freqs[0], freqs[n_freqs - 1]);
    int64_t a = 0;
    while (a < n_freqs && freqs[a] < fmin) a++;
    int64_t b = n_freqs - 1;
    while (b >= 0 && freqs[b] > fmax) b--;
    if (b - a + 1 < 2)
        return btfm_fail(BTFM_E_RANGE, "%s: band %d [%g, %g] Hz holds %lld frequency bin%s; "
                         "expected at least 2 (use a longer segment or nfft)", func, band,
                         fmin, fmax, (long long)(b >= a ? b - a + 1 : 0),
                         b - a + 1 == 1 ? "" : "s");
    *first = a;
    *last = b;
    return BTFM_OK;
}

/* numpy.trapz(psd[first:last+1, c], freqs[first:last+1]). */
static double trapezoid(const double *psd, const double *freqs, int C, int c, int64_t first,
                        int64_t last)
{
    double sum = 0.0;
    for (int64_t i = first; i < last; i++)
        sum += (freqs[i + 1] - freqs[i]) * (psd[i * C + c] + psd[(i + 1) * C + c]) / 2.0;
    return sum;
}

btfm_status btfm_band_power(const double *psd, const double *freqs, int64_t n_freqs,
                            int n_channels, const double *bands, int n_bands, unsigned flags,
                            double *power)
{
    const char *func = "btfm_band_power";
    BTFM_CHECK_ARG(freqs, func, "freqs");
    BTFM_CHECK_ARG(bands, func, "bands");
    btfm_status st = btfm_spectrum_check_shape(psd, n_freqs, n_channels, power, func);
    if (st) return st;
    if (n_freqs < 2 || n_bands < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld frequencies and %d bands; expected at "
                         "least 2 frequencies and 1 band", func, (long long)n_freqs, n_bands);
    for (int64_t i = 0; i < n_freqs; i++)
        if (!isfinite(freqs[i]) || (i > 0 && freqs[i] <= freqs[i - 1]))
            return btfm_fail(BTFM_E_INVALID, "%s: freqs[%lld] = %g; expected finite, "
                             "increasing frequencies", func, (long long)i, freqs[i]);
    if (!(flags & BTFM_ALLOW_NONFINITE))
        for (int64_t i = 0; i < n_freqs * n_channels; i++)
            if (!isfinite(psd[i]))
                return btfm_fail(BTFM_E_NUMERIC, "%s: channel %lld, frequency bin %lld is %g; "
                                 "expected finite values (or pass "
                                 "BTFM_ALLOW_NONFINITE)", func,
                                 (long long)(i % n_channels), (long long)(i / n_channels),
                                 psd[i]);
    double lowest = INFINITY, highest = -INFINITY;
    for (int b = 0; b < n_bands; b++) {
        int64_t first, last;
        st = btfm_band_bins(freqs, n_freqs, bands[2 * b], bands[2 * b + 1], b, &first, &last);
        if (st) return st;
        lowest = fmin(lowest, bands[2 * b]);
        highest = fmax(highest, bands[2 * b + 1]);
    }
    int64_t total_first = 0, total_last = 0;
    if (flags & BTFM_SPECTRUM_RELATIVE) {
        st = btfm_band_bins(freqs, n_freqs, lowest, highest, -1, &total_first, &total_last);
        if (st) return st;
    }
    for (int b = 0; b < n_bands; b++) {
        int64_t first, last;
        btfm_band_bins(freqs, n_freqs, bands[2 * b], bands[2 * b + 1], b, &first, &last);
        for (int c = 0; c < n_channels; c++) {
            double p = trapezoid(psd, freqs, n_channels, c, first, last);
            if (flags & BTFM_SPECTRUM_RELATIVE)
                p /= trapezoid(psd, freqs, n_channels, c, total_first, total_last);
            power[(size_t)b * (size_t)n_channels + (size_t)c] = p;
        }
    }
    return BTFM_OK;
}
