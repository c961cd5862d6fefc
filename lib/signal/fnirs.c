/* fNIRS on time-major arrays: optical density, the modified Beer-Lambert law (Delpy et
 * al. 1988; MNE's beer_lambert_law) and short-channel regression (Scholkmann et al.
 * 2014, eq. 26-27). Conventions and units: doc/fnirs.md. */
#include <math.h>
#include <string.h>
#include "fnirs_internal.h"

btfm_status btfm_fnirs_optical_density(const float *x, int64_t n_times, int n_channels,
                                       unsigned flags, float *out)
{
    static const char func[] = "btfm_fnirs_optical_density";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st) return st;
    BTFM_CHECK_ARG(out, func, "out");
    if ((st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags))) return st;
    if (n_times == 0) return BTFM_OK;
    size_t n = (size_t)n_times * (size_t)n_channels;
    /* MNE: any intensity <= 0 makes every value |x|, then at least the smallest channel
     * minimum that is not 0, so that means are positive and logarithms finite. */
    int any_nonpositive = 0;
    for (size_t i = 0; i < n && !any_nonpositive; i++) any_nonpositive = !(x[i] > 0);
    double floor_value = 0;
    if (any_nonpositive) {
        floor_value = INFINITY;
        for (int c = 0; c < n_channels; c++) {
            double lowest = INFINITY;
            for (int64_t t = 0; t < n_times; t++) {
                double v = fabs((double)x[(size_t)t * (size_t)n_channels + (size_t)c]);
                if (v < lowest) lowest = v;
            }
            if (lowest > 0 && lowest < floor_value) floor_value = lowest;
        }
        if (isinf(floor_value))
            return btfm_fail(BTFM_E_NUMERIC, "%s: every intensity is 0: no optical density", func);
        btfm_warn("%s: intensities <= 0; using |x|, at least %g, as MNE does", func, floor_value);
    }
    double *mean = btfm_calloc((size_t)n_channels, sizeof *mean);
    if (!mean) return btfm_fail_nomem(func, (size_t)n_channels * sizeof *mean);
    for (int64_t t = 0; t < n_times; t++)
        for (int c = 0; c < n_channels; c++) {
            double v = x[(size_t)t * (size_t)n_channels + (size_t)c];
            if (any_nonpositive) v = fmax(fabs(v), floor_value);
            mean[c] += v;
        }
    for (int c = 0; c < n_channels; c++) mean[c] /= (double)n_times;
    for (int64_t t = 0; t < n_times; t++)
        for (int c = 0; c < n_channels; c++) {
            size_t i = (size_t)t * (size_t)n_channels + (size_t)c;
            double v = x[i];
            if (any_nonpositive) v = fmax(fabs(v), floor_value);
            out[i] = (float)-log(v / mean[c]);
        }
    btfm_free(mean);
    return BTFM_OK;
}

/* MNE multiplies the decadic extinction coefficients (cm^-1/M) by 0.2303, ln(10) / 10
 * rounded: natural-log optical density per mm. */
#define MNE_ABSORPTION_FACTOR 0.2303

/* The 2 x w pseudo-inverse of the w x 2 matrix E (row-major) into inv (2 x w,
 * row-major): (E^T E)^-1 E^T; 0 when E^T E is singular. */
static int pinv_columns2(const double *e, int w, double *inv)
{
    double a = 0, b = 0, d = 0;
    for (int i = 0; i < w; i++) {
        a += e[2 * i] * e[2 * i];
        b += e[2 * i] * e[2 * i + 1];
        d += e[2 * i + 1] * e[2 * i + 1];
    }
    double det = a * d - b * b;
    if (!(fabs(det) > 1e-12 * (a * d)) || !isfinite(det)) return 0;
    for (int i = 0; i < w; i++) {
        inv[i] = (d * e[2 * i] - b * e[2 * i + 1]) / det;
        inv[w + i] = (a * e[2 * i + 1] - b * e[2 * i]) / det;
    }
    return 1;
}

/* Members of pair p: their channel indices into `members` (at most n_channels). */
static int members_of(const int *pair, int n_channels, int p, int *members)
{
    int n = 0;
    for (int c = 0; c < n_channels; c++)
        if (pair[c] == p) members[n++] = c;
    return n;
}

btfm_status btfm_fnirs_beer_lambert(const float *od, int64_t n_times, int n_channels,
                                    const int *pair, const double *wavelength_nm,
                                    const double *distance_m, int n_pairs, double ppf,
                                    unsigned flags, float *hb)
{
    static const char func[] = "btfm_fnirs_beer_lambert";
    btfm_status st = btfm_signal_check_array(func, od, n_times, n_channels);
    if (st) return st;
    BTFM_CHECK_ARG(pair, func, "pair");
    BTFM_CHECK_ARG(wavelength_nm, func, "wavelength_nm");
    BTFM_CHECK_ARG(distance_m, func, "distance_m");
    BTFM_CHECK_ARG(hb, func, "hb");
    if (n_pairs < 1 || n_pairs > n_channels)
        return btfm_fail(BTFM_E_INVALID, "%s: n_pairs = %d, expected 1 .. n_channels (%d)", func,
                         n_pairs, n_channels);
    if (!(ppf > 0) || !isfinite(ppf))
        return btfm_fail(BTFM_E_INVALID, "%s: ppf = %g, expected a positive partial pathlength "
                         "factor (MNE uses 6)", func, ppf);
    for (int c = 0; c < n_channels; c++)
        if (pair[c] >= n_pairs)
            return btfm_fail(BTFM_E_RANGE, "%s: pair[%d] = %d is outside [0, %d)", func, c, pair[c],
                             n_pairs);
    if ((st = btfm_signal_check_finite(func, od, n_times, n_channels, 0, flags))) return st;
    int *members = btfm_malloc((size_t)n_channels * sizeof *members);
    double *e = btfm_malloc((size_t)n_channels * 2 * sizeof *e);
    double *inv = btfm_malloc((size_t)n_pairs * 2 * (size_t)n_channels * sizeof *inv);
    int *count = btfm_calloc((size_t)n_pairs, sizeof *count);
    int *first = btfm_malloc((size_t)n_pairs * (size_t)n_channels * sizeof *first);
    if (!members || !e || !inv || !count || !first) {
        st = btfm_fail_nomem(func, (size_t)n_pairs * 2 * (size_t)n_channels * sizeof *inv);
        goto done;
    }
    /* Per pair: E (w x 2) scaled by distance and ppf, and its pseudo-inverse. */
    for (int p = 0; p < n_pairs && !st; p++) {
        int w = members_of(pair, n_channels, p, members);
        double d = distance_m[p];
        if (w < 2) {
            st = btfm_fail(BTFM_E_INVALID, "%s: pair %d has %d channel%s; each pair needs two or "
                           "more wavelengths", func, p, w, w == 1 ? "" : "s");
            break;
        }
        for (int i = 0; i < w && !st; i++) {
            double o, r;
            if ((st = btfm_fnirs_extinction(wavelength_nm[members[i]], &o, &r))) break;
            double scale = MNE_ABSORPTION_FACTOR * (isfinite(d) && d > 0 ? d : 0) * ppf;
            e[2 * i] = o * scale;
            e[2 * i + 1] = r * scale;
        }
        if (st) break;
        count[p] = w;
        memcpy(first + (size_t)p * (size_t)n_channels, members, (size_t)w * sizeof *members);
        double *ip = inv + (size_t)p * 2 * (size_t)n_channels;
        if (!(isfinite(d) && d > 0)) {
            /* MNE: a zero pinv, concentrations of 0, and a warning. */
            btfm_warn("%s: pair %d: source-detector distance %g m; its concentrations are 0", func,
                      p, d);
            memset(ip, 0, 2 * (size_t)w * sizeof *ip);
            continue;
        }
        if (d > 0.1)
            btfm_warn("%s: pair %d: source-detector distance %g m is above 10 cm; are the optode "
                      "positions in metres?", func, p, d);
        if (!pinv_columns2(e, w, ip))
            st = btfm_fail(BTFM_E_NUMERIC, "%s: pair %d: its wavelengths do not separate HbO from "
                           "HbR (the extinction matrix is singular; two equal wavelengths?)", func, p);
    }
    for (int64_t t = 0; t < n_times && !st; t++) {
        const float *row = od + (size_t)t * (size_t)n_channels;
        float *o = hb + (size_t)t * 2 * (size_t)n_pairs;
        for (int p = 0; p < n_pairs; p++) {
            const double *ip = inv + (size_t)p * 2 * (size_t)n_channels;
            const int *m = first + (size_t)p * (size_t)n_channels;
            double hbo = 0, hbr = 0;
            for (int i = 0; i < count[p]; i++) {
                hbo += ip[i] * row[m[i]];
                hbr += ip[count[p] + i] * row[m[i]];
            }
            o[2 * p] = (float)(hbo * 1e-3);
            o[2 * p + 1] = (float)(hbr * 1e-3);
        }
    }
done:
    btfm_free(members);
    btfm_free(e);
    btfm_free(inv);
    btfm_free(count);
    btfm_free(first);
    return st;
}

btfm_status btfm_fnirs_short_channel_regression(const float *x, int64_t n_times, int n_channels,
                                                const int *short_of, unsigned flags, float *out)
{
    static const char func[] = "btfm_fnirs_short_channel_regression";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st) return st;
    BTFM_CHECK_ARG(short_of, func, "short_of");
    BTFM_CHECK_ARG(out, func, "out");
    for (int c = 0; c < n_channels; c++)
        if (short_of[c] >= n_channels || short_of[c] == c || (short_of[c] >= 0 && short_of[short_of[c]] >= 0))
            return btfm_fail(BTFM_E_INVALID, "%s: short_of[%d] = %d: expected -1 or the index of "
                             "another channel that is not itself regressed", func, c, short_of[c]);
    if ((st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags))) return st;
    double *alpha = btfm_calloc((size_t)n_channels, sizeof *alpha);
    double *power = btfm_calloc((size_t)n_channels, sizeof *power);
    if (!alpha || !power) {
        btfm_free(alpha);
        btfm_free(power);
        return btfm_fail_nomem(func, (size_t)n_channels * 2 * sizeof *alpha);
    }
    /* Eq. 27: alpha = <short, long> / <short, short>; eq. 26: long - alpha short. */
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * (size_t)n_channels;
        for (int c = 0; c < n_channels; c++) {
            int s = short_of[c];
            if (s < 0) continue;
            alpha[c] += (double)row[s] * row[c];
            power[c] += (double)row[s] * row[s];
        }
    }
    for (int c = 0; c < n_channels; c++) alpha[c] = power[c] > 0 ? alpha[c] / power[c] : 0;
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * (size_t)n_channels;
        float *o = out + (size_t)t * (size_t)n_channels;
        /* Short channels are never targets, so an in-place row stays valid as it changes. */
        for (int c = 0; c < n_channels; c++)
            o[c] = short_of[c] < 0 ? row[c] : (float)(row[c] - alpha[c] * row[short_of[c]]);
    }
    btfm_free(alpha);
    btfm_free(power);
    return BTFM_OK;
}
