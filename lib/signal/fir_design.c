/* FIR design by the window method, as scipy.signal.firwin with scale=True: a sum of
 * ideal band responses (sinc), times a symmetric window, normalized to unit gain at the
 * centre of the first pass band (DC for low-pass, Nyquist for high-pass). */
#include <math.h>
#include "signal_internal.h"

static double sinc(double x) { return x == 0 ? 1.0 : sin(M_PI * x) / (M_PI * x); }

/* The design itself; `func` names the public entry point in messages. */
static btfm_status design(double *taps, int numtaps, int kind, double f1_hz, double f2_hz,
                          int window, double beta, double sfreq, const char *func)
{
    BTFM_CHECK_ARG(taps, func, "taps");
    if (numtaps < 1 || numtaps > 1 << 24)
        return btfm_fail(BTFM_E_RANGE, "%s: numtaps = %d is outside [1, %d]", func, numtaps, 1 << 24);
    if (kind < BTFM_FILTER_LOWPASS || kind > BTFM_FILTER_BANDSTOP)
        return btfm_fail(BTFM_E_INVALID, "%s: unknown filter kind %d (1 lowpass, 2 highpass, "
                         "3 bandpass, 4 bandstop)", func, kind);
    btfm_status st = btfm_window_check(window, beta, func);
    if (st) return st;
    if (!(sfreq > 0) || !isfinite(sfreq))
        return btfm_fail(BTFM_E_RANGE, "%s: sfreq = %g Hz must be positive and finite", func, sfreq);
    int band = kind >= BTFM_FILTER_BANDPASS;
    double nyq = 0.5 * sfreq;
    for (int k = 0; k < 1 + band; k++) {
        double f = k ? f2_hz : f1_hz;
        if (!(f > 0 && f < nyq))
            return btfm_fail(BTFM_E_RANGE, "%s: %s = %g Hz is outside (0, %g), the open interval "
                             "from 0 to the Nyquist frequency", func, k ? "f2_hz" : "f1_hz", f, nyq);
    }
    if (band && !(f1_hz < f2_hz))
        return btfm_fail(BTFM_E_RANGE, "%s: band edges f1_hz = %g Hz and f2_hz = %g Hz must "
                         "satisfy f1_hz < f2_hz", func, f1_hz, f2_hz);
    int pass_nyquist = kind == BTFM_FILTER_HIGHPASS || kind == BTFM_FILTER_BANDSTOP;
    if (pass_nyquist && numtaps % 2 == 0)
        return btfm_fail(BTFM_E_RANGE, "%s: a %s filter passes the Nyquist frequency and needs an "
                         "odd numtaps, got %d", func, btfm_filter_kind_name(kind), numtaps);
    /* Pass bands as (left, right) pairs in units of the Nyquist frequency. */
    double c1 = f1_hz / nyq, c2 = f2_hz / nyq, bands[4];
    int n_bands;
    switch (kind) {
    case BTFM_FILTER_LOWPASS: bands[0] = 0, bands[1] = c1, n_bands = 1; break;
    case BTFM_FILTER_HIGHPASS: bands[0] = c1, bands[1] = 1, n_bands = 1; break;
    case BTFM_FILTER_BANDPASS: bands[0] = c1, bands[1] = c2, n_bands = 1; break;
    default: bands[0] = 0, bands[1] = c1, bands[2] = c2, bands[3] = 1, n_bands = 2; break;
    }
    btfm_window_fill(window, beta, numtaps, 0, taps);
    double alpha = 0.5 * (numtaps - 1);
    for (int i = 0; i < numtaps; i++) {
        double m = i - alpha, h = 0;
        for (int b = 0; b < n_bands; b++) {
            double left = bands[2 * b], right = bands[2 * b + 1];
            h += right * sinc(right * m);
            h -= left * sinc(left * m);
        }
        taps[i] *= h;
    }
    double left = bands[0], right = bands[1];
    double scale_frequency = left == 0 ? 0.0 : right == 1 ? 1.0 : 0.5 * (left + right);
    double sum = 0;
    for (int i = 0; i < numtaps; i++) sum += taps[i] * cos(M_PI * (i - alpha) * scale_frequency);
    for (int i = 0; i < numtaps; i++) taps[i] /= sum;
    return BTFM_OK;
}

btfm_status btfm_fir_design(double *taps, int numtaps, int kind, double f1_hz, double f2_hz,
                            int window, double kaiser_beta, double sfreq)
{
    return design(taps, numtaps, kind, f1_hz, f2_hz, window, kaiser_beta, sfreq,
                  "btfm_fir_design");
}

btfm_status btfm_firwin(int numtaps, int kind, double f1_hz, double f2_hz, int window,
                        double beta, double sfreq, double *taps)
{
    if (btfm_window_from_fir(window) < 0)
        return btfm_fail(BTFM_E_INVALID, "btfm_firwin: unknown window %d (1 hamming, 2 hann, "
                         "3 blackman, 4 kaiser, 5 boxcar)", window);
    return design(taps, numtaps, kind, f1_hz, f2_hz, btfm_window_from_fir(window), beta, sfreq,
                  "btfm_firwin");
}
