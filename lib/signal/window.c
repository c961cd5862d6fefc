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

int btfm_window_cosines(int window, double *a)
{
    switch (window) {
    case BTFM_WINDOW_HANN: a[0] = 0.5, a[1] = 0.5; return 2;
    case BTFM_WINDOW_HAMMING: a[0] = 0.54, a[1] = 1.0 - 0.54; return 2;
    case BTFM_WINDOW_BLACKMAN: a[0] = 0.42, a[1] = 0.50, a[2] = 0.08; return 3;
    case BTFM_WINDOW_BOXCAR: a[0] = 1.0; return 1;
    default: return 0;
    }
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
    double a[BTFM_WINDOW_MAX_COSINES] = {0};
    const int n_cos = btfm_window_cosines(window, a);
    for (int64_t i = 0; i < n; i++) {
        /* numpy.linspace(-pi, pi, m)[i], as scipy's general_cosine takes it */
        const double x = i == m - 1 ? M_PI : (double)i * step + -M_PI;
        if (window == BTFM_WINDOW_KAISER) {
            const double r = ((double)i - alpha) / alpha;
            w[i] = btfm_bessel_i0(kaiser_beta * sqrt(fmax(0.0, 1 - r * r))) /
                   btfm_bessel_i0(kaiser_beta);
        } else if (n_cos) {
            double v = a[0] * cos(0 * x);
            for (int j = 1; j < n_cos; j++) v += a[j] * cos(j * x);
            w[i] = v;
        } else {
            w[i] = 1.0;
        }
    }
}
