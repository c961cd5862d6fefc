/* The windows of every function that takes one, written once: scipy.signal.get_window's
 * formulas in its symmetric form (filter design) and periodic form (spectral estimates),
 * their names, and the deprecated numbering of btfm_firwin mapped onto them. */
#include <math.h>
#include "signal_internal.h"
#include "core/polyphase.h"

static const char *const names[] = {"hann", "hamming", "blackman", "boxcar", "kaiser"};

const char *btfm_window_name(int window)
{
    return window >= 0 && window <= BTFM_WINDOW_KAISER ? names[window] : NULL;
}

const char *btfm_fir_window_name(int window)
{
    int w = btfm_window_from_fir(window);
    return w < 0 ? NULL : names[w];
}

int btfm_window_from_fir(int fir_window)
{
    static const int map[] = {-1, BTFM_WINDOW_HAMMING, BTFM_WINDOW_HANN, BTFM_WINDOW_BLACKMAN,
                              BTFM_WINDOW_KAISER, BTFM_WINDOW_BOXCAR};
    return fir_window >= 1 && fir_window <= 5 ? map[fir_window] : -1;
}

btfm_status btfm_window_check(int window, double kaiser_beta, const char *func)
{
    if (!btfm_window_name(window))
        return btfm_fail(BTFM_E_INVALID, "%s: unknown window %d (0 hann, 1 hamming, 2 blackman, "
                         "3 boxcar, 4 kaiser)", func, window);
    if (window == BTFM_WINDOW_KAISER && !(kaiser_beta >= 0 && kaiser_beta <= 100))
        return btfm_fail(BTFM_E_RANGE, "%s: Kaiser beta = %g is outside [0, 100]", func,
                         kaiser_beta);
    return BTFM_OK;
}

void btfm_window_fill(int window, double kaiser_beta, int64_t n, int periodic, double *w)
{
    /* The periodic window is the symmetric one of n + 1 samples without its last. */
    const int64_t m = periodic ? n + 1 : n;
    if (n == 1) { /* scipy's length guard: a single sample is 1 in either form */
        w[0] = 1.0;
        return;
    }
    const double step = (M_PI - -M_PI) / (double)(m - 1), alpha = (double)(m - 1) / 2.0;
    for (int64_t i = 0; i < n; i++) {
        /* numpy.linspace(-pi, pi, m)[i], as scipy's general_cosine takes it */
        const double x = i == m - 1 ? M_PI : (double)i * step + -M_PI;
        switch (window) {
        case BTFM_WINDOW_HANN: w[i] = 0.5 * cos(0 * x) + 0.5 * cos(1 * x); break;
        case BTFM_WINDOW_HAMMING: w[i] = 0.54 * cos(0 * x) + (1.0 - 0.54) * cos(1 * x); break;
        case BTFM_WINDOW_BLACKMAN:
            w[i] = 0.42 * cos(0 * x) + 0.50 * cos(1 * x) + 0.08 * cos(2 * x);
            break;
        case BTFM_WINDOW_KAISER: {
            const double r = ((double)i - alpha) / alpha;
            w[i] = btfm_bessel_i0(kaiser_beta * sqrt(fmax(0.0, 1 - r * r))) /
                   btfm_bessel_i0(kaiser_beta);
            break;
        }
        default: w[i] = 1.0; break;
        }
    }
}
