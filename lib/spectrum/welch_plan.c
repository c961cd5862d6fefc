/* The Welch plan: btfm_welch's options as a parameter table (the zstd CCtx pattern), run
 * through the same estimate. */
#include "spectrum_internal.h"
#include "core/param.h"

enum { WELCH_PARAM_COUNT = 9 };

struct btfm_welch_plan {
    double values[WELCH_PARAM_COUNT];
};

static const btfm_param_def welch_params[WELCH_PARAM_COUNT] = {
    {"window", BTFM_PARAM_INT, BTFM_WINDOW_HANN, 0, BTFM_WINDOW_KAISER,
     "Window (btfm_window): 0 hann, 1 hamming, 2 blackman, 3 boxcar, 4 kaiser; periodic."},
    {"kaiser_beta", BTFM_PARAM_REAL, 8.6, 0, 100,
     "Shape of the Kaiser window (8.6 is close to Blackman's); other windows ignore it."},
    {"nperseg", BTFM_PARAM_INT, 0, 0, 1 << 30,
     "Samples per segment; 0 takes min(256, the signal's length) as SciPy does."},
    {"noverlap", BTFM_PARAM_INT, -1, -1, 1 << 30,
     "Samples shared by consecutive segments; -1 takes nperseg / 2."},
    {"nfft", BTFM_PARAM_INT, 0, 0, 1 << 30,
     "FFT length (zero padding beyond nperseg); 0 takes nperseg."},
    {"detrend", BTFM_PARAM_INT, BTFM_DETREND_CONSTANT, 0, BTFM_DETREND_LINEAR,
     "Detrending of each segment: 0 none, 1 constant (its mean), 2 linear."},
    {"scaling", BTFM_PARAM_INT, BTFM_SCALING_DENSITY, 0, BTFM_SCALING_SPECTRUM,
     "0 density (V^2/Hz) or 1 spectrum (V^2)."},
    {"average", BTFM_PARAM_INT, BTFM_AVERAGE_MEAN, 0, BTFM_AVERAGE_MEDIAN,
     "Average over segments: 0 mean, 1 median (bias-corrected as SciPy)."},
    {"allow_nonfinite", BTFM_PARAM_BOOL, 0, 0, 1,
     "Let NaN/Inf input flow into the results instead of failing."},
};

const btfm_param_table btfm_welch_plan_param_table = {
    BTFM_OBJECT_WELCH_PLAN, "welch_plan", WELCH_PARAM_COUNT, welch_params,
};

btfm_status btfm_welch_plan_new(btfm_welch_plan **out)
{
    BTFM_CHECK_ARG(out, "btfm_welch_plan_new", "out");
    *out = btfm_params_alloc(sizeof **out, &btfm_welch_plan_param_table, "btfm_welch_plan_new");
    return *out ? BTFM_OK : BTFM_E_NOMEM;
}

void btfm_welch_plan_free(btfm_welch_plan *p) { btfm_free(p); }

btfm_status btfm_welch_plan_set_param(btfm_welch_plan *p, int param, double value)
{
    BTFM_CHECK_ARG(p, "btfm_welch_plan_set_param", "plan");
    return btfm_params_set(&btfm_welch_plan_param_table, p->values, param, value,
                           "btfm_welch_plan_set_param");
}

btfm_status btfm_welch_plan_get_param(const btfm_welch_plan *p, int param, double *value)
{
    BTFM_CHECK_ARG(p, "btfm_welch_plan_get_param", "plan");
    return btfm_params_get(&btfm_welch_plan_param_table, p->values, param, value,
                           "btfm_welch_plan_get_param");
}

static btfm_welch_options options_of(const btfm_welch_plan *p)
{
    const double *v = p->values;
    btfm_welch_options o = {
        (int)v[BTFM_WELCH_PARAM_WINDOW], v[BTFM_WELCH_PARAM_KAISER_BETA],
        (int64_t)v[BTFM_WELCH_PARAM_NPERSEG], (int64_t)v[BTFM_WELCH_PARAM_NOVERLAP],
        (int64_t)v[BTFM_WELCH_PARAM_NFFT], (int)v[BTFM_WELCH_PARAM_DETREND],
        (int)v[BTFM_WELCH_PARAM_SCALING], (int)v[BTFM_WELCH_PARAM_AVERAGE],
        v[BTFM_WELCH_PARAM_ALLOW_NONFINITE] != 0 ? BTFM_ALLOW_NONFINITE : 0u};
    return o;
}

int64_t btfm_welch_plan_n_freqs(const btfm_welch_plan *p, int64_t n_times)
{
    BTFM_CHECK_ARG(p, "btfm_welch_plan_n_freqs", "plan");
    const btfm_welch_options o = options_of(p);
    return btfm_welch_n_freqs(&o, n_times, "btfm_welch_plan_n_freqs");
}

btfm_status btfm_welch_plan_run(const btfm_welch_plan *p, double *psd, double *freqs,
                                const float *x, int64_t n_times, int n_channels, double sfreq)
{
    BTFM_CHECK_ARG(p, "btfm_welch_plan_run", "plan");
    const btfm_welch_options o = options_of(p);
    return btfm_welch_compute(&o, x, n_times, n_channels, sfreq, psd, freqs,
                              "btfm_welch_plan_run");
}
