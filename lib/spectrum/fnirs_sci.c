/* Scalp coupling index (Pollonini et al. 2014, Hear. Res. 309:84): the correlation of a
 * source-detector pair's wavelengths in the cardiac band, after MNE's zero-phase FIR
 * band-pass (mne.filter.create_filter with fir_design='firwin'), as
 * mne.preprocessing.nirs.scalp_coupling_index computes it. */
#include <math.h>
#include <string.h>
#include "io/dataset_internal.h"
#include "signal/fnirs_internal.h"
#include "spectrum_internal.h"

#define MNE_HAMMING_LENGTH_FACTOR 3.3 /* mne.filter._length_factors['hamming'] */

/* Python's round(): half to even, whatever the floating-point rounding mode. */
static double round_half_even(double x)
{
    double r = floor(x), d = x - r;
    if (d > 0.5 || (d == 0.5 && fmod(r, 2.0) != 0)) r += 1;
    return r;
}

/* Add (sign +1) or subtract a low-pass of MNE's _firwin_design into h (n taps, centred):
 * cut between `lo` and `hi` (frequencies in units of the Nyquist frequency). */
static btfm_status add_lowpass(double *h, int n, double lo, double hi, double sign,
                               const char *func)
{
    double transition = (hi - lo) / 2.;
    int m = (int)round_half_even(MNE_HAMMING_LENGTH_FACTOR / transition);
    m += 1 - m % 2;
    if (m > n)
        return btfm_fail(BTFM_E_RANGE, "%s: a transition band needs %d taps, more than the %d "
                         "of the filter", func, m, n);
    double *piece = btfm_malloc((size_t)m * sizeof *piece);
    if (!piece) return btfm_fail_nomem(func, (size_t)m * sizeof *piece);
    btfm_status st = btfm_firwin(m, BTFM_FILTER_LOWPASS, (hi + lo) / 2., 0, BTFM_FIR_WINDOW_HAMMING,
                                 0, 2.0, piece);
    int offset = (n - m) / 2;
    for (int i = 0; !st && i < m; i++) h[offset + i] += sign * piece[i];
    btfm_free(piece);
    return st;
}

/* MNE's band-pass: length ceil(3.3 / min(transition) x sfreq) made odd, the high edge's
 * low-pass minus the low edge's, each as long as its own transition needs. */
static btfm_status mne_bandpass(const double *band, double sfreq, double **taps, int *n_taps,
                                const char *func)
{
    double l = band[0], h = band[1], lt = band[2], ht = band[3], nyq = sfreq / 2.;
    if (!(l > 0 && l < h && h < nyq && lt > 0 && ht > 0 && l - lt >= 0 && h + ht <= nyq) ||
        !isfinite(lt) || !isfinite(ht))
        return btfm_fail(BTFM_E_RANGE, "%s: band %g-%g Hz with transitions %g and %g Hz does not "
                         "fit in 0-%g Hz (the Nyquist frequency)", func, l, h, lt, ht, nyq);
    double seconds = MNE_HAMMING_LENGTH_FACTOR / (lt < ht ? lt : ht);
    double length = ceil(seconds * sfreq);
    if (length > (double)(1 << 24))
        return btfm_fail(BTFM_E_RANGE, "%s: the filter would need %g taps", func, length);
    int n = length < 1 ? 1 : (int)length;
    n += (n - 1) % 2;
    double *t = btfm_calloc((size_t)n, sizeof *t);
    if (!t) return btfm_fail_nomem(func, (size_t)n * sizeof *t);
    double s1 = (l - lt) / nyq, p1 = l / nyq, p2 = h / nyq, s2 = (h + ht) / nyq;
    btfm_status st = add_lowpass(t, n, p2, s2, 1.0, func);
    if (!st) st = add_lowpass(t, n, s1, p1, -1.0, func);
    if (st) {
        btfm_free(t);
        return st;
    }
    *taps = t;
    *n_taps = n;
    return BTFM_OK;
}

static double correlation(const float *x, int64_t n, int stride, int a, int b)
{
    double ma = 0, mb = 0;
    for (int64_t t = 0; t < n; t++) {
        ma += x[(size_t)t * (size_t)stride + (size_t)a];
        mb += x[(size_t)t * (size_t)stride + (size_t)b];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t t = 0; t < n; t++) {
        double u = x[(size_t)t * (size_t)stride + (size_t)a] - ma;
        double v = x[(size_t)t * (size_t)stride + (size_t)b] - mb;
        sab += u * v;
        saa += u * u;
        sbb += v * v;
    }
    double r = sab / sqrt(saa * sbb);
    return isfinite(r) ? r : 0.0; /* MNE: a constant channel gives 0 */
}

static int constant(const float *x, int64_t n, int stride, int c)
{
    for (int64_t t = 1; t < n; t++)
        if (x[(size_t)t * (size_t)stride + (size_t)c] != x[(size_t)c]) return 0;
    return 1;
}

btfm_status btfm_fnirs_scalp_coupling_index(const float *od, int64_t n_times, int n_channels,
                                            const int *pair, double sfreq, const double *band,
                                            unsigned flags, double *sci)
{
    static const char func[] = "btfm_fnirs_scalp_coupling_index";
    static const double mne_band[4] = {0.7, 1.5, 0.3, 0.3};
    btfm_status st = btfm_signal_check_array(func, od, n_times, n_channels);
    if (st) return st;
    BTFM_CHECK_ARG(pair, func, "pair");
    BTFM_CHECK_ARG(sci, func, "sci");
    if (n_times < 2)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples; a correlation needs at least 2", func,
                         (long long)n_times);
    if (!(sfreq > 0) || !isfinite(sfreq))
        return btfm_fail(BTFM_E_INVALID, "%s: sfreq = %g, expected a positive rate", func, sfreq);
    if ((st = btfm_signal_check_finite(func, od, n_times, n_channels, 0, flags))) return st;
    double *taps = NULL;
    int n_taps = 0;
    if ((st = mne_bandpass(band ? band : mne_band, sfreq, &taps, &n_taps, func))) return st;
    size_t n = (size_t)n_times * (size_t)n_channels;
    float *filtered = btfm_malloc(n * sizeof *filtered);
    if (!filtered) {
        btfm_free(taps);
        return btfm_fail_nomem(func, n * sizeof *filtered);
    }
    st = btfm_fir_zero_phase(od, n_times, n_channels, taps, n_taps, flags, filtered);
    for (int c = 0; !st && c < n_channels; c++) {
        if (pair[c] < 0) {
            sci[c] = NAN;
            continue;
        }
        /* The smallest correlation with another member of the pair (MNE: the other one). */
        double lowest = INFINITY;
        for (int j = 0; j < n_channels; j++)
            if (j != c && pair[j] == pair[c]) {
                double r = correlation(filtered, n_times, n_channels, c < j ? c : j, c < j ? j : c);
                if (r < lowest) lowest = r;
            }
        sci[c] = isinf(lowest) ? 0.0 : lowest;
    }
    for (int c = 0; !st && c < n_channels; c++)
        if (pair[c] >= 0 && constant(od, n_times, n_channels, c)) sci[c] = 0.0;
    btfm_free(taps);
    btfm_free(filtered);
    return st;
}

btfm_status btfm_dataset_scalp_coupling_index(btfm_dataset *ds, const double *band, double *sci)
{
    static const char func[] = "btfm_dataset_scalp_coupling_index";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(sci, func, "sci");
    int nc = ds->n_channels, n_pairs;
    int *pair = btfm_malloc((size_t)nc * sizeof *pair);
    if (!pair) return btfm_fail_nomem(func, (size_t)nc * sizeof *pair);
    btfm_fnirs_pairs(ds, BTFM_CH_FNIRS_OD, pair, &n_pairs);
    if (n_pairs == 0) {
        btfm_free(pair);
        return btfm_fail(BTFM_E_INVALID, "%s: %s has no optical-density channels with their "
                         "source and detector (btfm_dataset_optical_density makes them)", func,
                         ds->path);
    }
    /* The optical densities side by side (MNE filters only those). */
    int n_od = 0;
    for (int c = 0; c < nc; c++) n_od += pair[c] >= 0;
    size_t nt = (size_t)ds->n_times, n = nt * (size_t)nc;
    float *x = btfm_malloc((n ? n : 1) * sizeof *x);
    int *od_pair = btfm_malloc((size_t)n_od * sizeof *od_pair);
    double *od_sci = btfm_malloc((size_t)n_od * sizeof *od_sci);
    btfm_status st = x && od_pair && od_sci ? btfm_dataset_read(ds, 0, ds->n_times, NULL, 0, x)
                                            : btfm_fail_nomem(func, n * sizeof *x);
    if (!st) {
        for (size_t t = 0; t < nt; t++)
            for (int c = 0, k = 0; c < nc; c++)
                if (pair[c] >= 0) x[t * (size_t)n_od + (size_t)k++] = x[t * (size_t)nc + (size_t)c];
        for (int c = 0, k = 0; c < nc; c++)
            if (pair[c] >= 0) od_pair[k++] = pair[c];
        st = btfm_fnirs_scalp_coupling_index(x, ds->n_times, n_od, od_pair, ds->sfreq, band, 0,
                                             od_sci);
    }
    for (int c = 0, k = 0; !st && c < nc; c++) sci[c] = pair[c] >= 0 ? od_sci[k++] : NAN;
    btfm_free(x);
    btfm_free(od_pair);
    btfm_free(od_sci);
    btfm_free(pair);
    return st;
}
