/* 1/f^beta noise by filtering white noise through first-order pole-zero sections whose
 * poles sit two per decade and whose zeros follow each pole by beta/2 of the spacing
 * (the interlaced pole-zero approximation; Keshner 1982, Kasdin 1995): the amplitude
 * slope averages -beta/2 with ripple below 0.2 dB. Poles and zeros map to the z-plane by
 * the matched-z rule. Each section keeps unit gain at 0 Hz. */
#include <string.h>
#include "sim_internal.h"

void btfm_sim_pink_design(sim_pink *p, double exponent, double f_low, double sfreq)
{
    const double ratio = 3.16227766016837933200; /* sqrt(10): two poles a decade */
    double nyquist = 0.5 * sfreq;
    int n = 0;
    for (double f = f_low; f < nyquist && n < SIM_PINK_MAX_SECTIONS; f *= ratio, n++) {
        double f_zero = f * btfm_sim_pow(ratio, 0.5 * exponent);
        p->pole[n] = btfm_sim_exp(-SIM_TWO_PI * f / sfreq);
        p->zero[n] = btfm_sim_exp(-SIM_TWO_PI * f_zero / sfreq);
        p->gain[n] = (1.0 - p->pole[n]) / (1.0 - p->zero[n]);
    }
    p->n_sections = n;
    /* Output variance for unit white input: the impulse response's energy, summed until
     * the slowest pole has decayed below 1e-12 of its start. */
    double x_prev[SIM_PINK_MAX_SECTIONS] = {0}, y_prev[SIM_PINK_MAX_SECTIONS] = {0};
    double energy = 0;
    int64_t length = (int64_t)(28.0 * sfreq / (SIM_TWO_PI * f_low)) + 64;
    for (int64_t t = 0; t < length; t++) {
        double x = t == 0 ? 1.0 : 0.0;
        for (int k = 0; k < n; k++) {
            double y = p->pole[k] * y_prev[k] + p->gain[k] * (x - p->zero[k] * x_prev[k]);
            x_prev[k] = x;
            y_prev[k] = y;
            x = y;
        }
        energy += x * x;
    }
    p->input_scale = energy > 0 ? 1.0 / sqrt(energy) : 1.0;
}

btfm_status btfm_sim_pink_state_new(sim_pink_state *s, int n)
{
    size_t count = (size_t)SIM_PINK_MAX_SECTIONS * (size_t)n;
    s->n = n;
    s->x_prev = btfm_calloc(count, sizeof(double));
    s->y_prev = btfm_calloc(count, sizeof(double));
    if (!s->x_prev || !s->y_prev) {
        btfm_sim_pink_state_free(s);
        return btfm_fail_nomem("sim: 1/f noise state", 2 * count * sizeof(double));
    }
    return BTFM_OK;
}

void btfm_sim_pink_state_free(sim_pink_state *s)
{
    btfm_free(s->x_prev);
    btfm_free(s->y_prev);
    s->x_prev = s->y_prev = NULL;
}

/* Rows outer, filters inner: the filters are independent, so the inner loop runs across
 * them in vector lanes while each keeps its own recursion. */
BTFM_HOT void btfm_sim_pink_run(const sim_pink *p, sim_pink_state *s, int first, int width,
                           float *x, int64_t count, size_t stride)
{
    enum { LANES = 64 };
    double in[LANES];
    for (int base = 0; base < width; base += LANES) {
        int w = width - base < LANES ? width - base : LANES;
        for (int64_t t = 0; t < count; t++) {
            float *row = x + (size_t)t * stride + base;
            for (int i = 0; i < w; i++) in[i] = (double)row[i] * p->input_scale;
            for (int k = 0; k < p->n_sections; k++) {
                double *xp = s->x_prev + (size_t)k * (size_t)s->n + (size_t)(first + base);
                double *yp = s->y_prev + (size_t)k * (size_t)s->n + (size_t)(first + base);
                const double a = p->pole[k], g = p->gain[k], z = p->zero[k];
                for (int i = 0; i < w; i++) {
                    double y = a * yp[i] + g * (in[i] - z * xp[i]);
                    xp[i] = in[i];
                    yp[i] = y;
                    in[i] = y;
                }
            }
            for (int i = 0; i < w; i++) row[i] = (float)in[i];
        }
    }
}
