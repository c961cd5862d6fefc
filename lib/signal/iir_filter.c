/* Causal filtering through second-order sections (transposed direct form II, the
 * recursion and operation order of scipy.signal.sosfilt), vectorized across channels:
 * time-major data give each sample's channels in one contiguous row. */
#include <math.h>
#include <string.h>
#include "signal_internal.h"
#include "dense/dense.h"

enum { TILE = BTFM_SOS_TILE, BLOCK = 128 };

btfm_status btfm_sos_init(btfm_sos *f, const char *func, const double *sos, int n_sections)
{
    f->coef = NULL;
    f->n_sections = 0;
    BTFM_CHECK_ARG(sos, func, "sos");
    if (n_sections < 1 || n_sections > BTFM_SOS_MAX_SECTIONS)
        return btfm_fail(BTFM_E_RANGE, "%s: n_sections = %d is outside [1, %d]", func,
                         n_sections, BTFM_SOS_MAX_SECTIONS);
    for (int s = 0; s < n_sections; s++) {
        const double *row = sos + 6 * s;
        for (int i = 0; i < 6; i++)
            if (!isfinite(row[i]))
                return btfm_fail(BTFM_E_NUMERIC, "%s: sos[%d][%d] = %g is not finite", func, s,
                                 i, row[i]);
        if (row[3] == 0)
            return btfm_fail(BTFM_E_INVALID, "%s: sos[%d][3] (a0) is 0; each section needs "
                             "a0 != 0 (designed filters have a0 = 1)", func, s);
    }
    f->coef = btfm_malloc((size_t)n_sections * 5 * sizeof *f->coef);
    if (!f->coef) return btfm_fail_nomem(func, (size_t)n_sections * 5 * sizeof *f->coef);
    for (int s = 0; s < n_sections; s++) {
        const double *row = sos + 6 * s;
        double a0 = row[3], *c = f->coef + 5 * s;
        if (a0 == 1) {
            c[0] = row[0], c[1] = row[1], c[2] = row[2], c[3] = row[4], c[4] = row[5];
        } else {
            c[0] = row[0] / a0, c[1] = row[1] / a0, c[2] = row[2] / a0;
            c[3] = row[4] / a0, c[4] = row[5] / a0;
        }
    }
    f->n_sections = n_sections;
    return BTFM_OK;
}

void btfm_sos_clear(btfm_sos *f)
{
    btfm_free(f->coef);
    f->coef = NULL;
    f->n_sections = 0;
}

/* n rows of TILE channels through every section, in place. */
BTFM_HOT BTFM_SIMD_CLONES
static void sos_kernel(const double *coef, int n_sections, double *restrict z,
                       float *restrict buf, int n)
{
    for (int t = 0; t < n; t++) {
        float *row = buf + (size_t)t * TILE;
        double v[TILE];
        for (int c = 0; c < TILE; c++) v[c] = row[c];
        for (int s = 0; s < n_sections; s++) {
            const double b0 = coef[5 * s], b1 = coef[5 * s + 1], b2 = coef[5 * s + 2];
            const double a1 = coef[5 * s + 3], a2 = coef[5 * s + 4];
            double *restrict z0 = z + (size_t)s * 2 * TILE, *restrict z1 = z0 + TILE;
            for (int c = 0; c < TILE; c++) {
                double y = b0 * v[c] + z0[c];
                z0[c] = b1 * v[c] - a1 * y + z1[c];
                z1[c] = b2 * v[c] - a2 * y;
                v[c] = y;
            }
        }
        for (int c = 0; c < TILE; c++) row[c] = (float)v[c];
    }
}

/* Index of the first non-finite value among n rows of TILE floats, or -1. */
BTFM_HOT static int64_t first_nonfinite(const float *buf, int n)
{
    if (!btfm_dense_any_nonfinite(buf, (size_t)n * TILE)) return -1;
    for (int t = 0; t < n; t++)
        for (int c = 0; c < TILE; c++)
            if (!isfinite(buf[t * TILE + c])) return t;
    return -1;
}

int64_t btfm_sos_run_tile(const btfm_sos *f, double *z, const float *x, ptrdiff_t x_step,
                          float *y, ptrdiff_t y_step, int64_t n, int cw, int check)
{
    float buf[BLOCK * TILE];
    if (cw < TILE) memset(buf, 0, sizeof buf);
    for (int64_t t0 = 0; t0 < n; t0 += BLOCK) {
        int len = n - t0 < BLOCK ? (int)(n - t0) : BLOCK;
        const float *src = x + t0 * x_step;
        if (cw == TILE) {
            for (int t = 0; t < len; t++) memcpy(buf + t * TILE, src + t * x_step, sizeof(float) * TILE);
        } else {
            for (int t = 0; t < len; t++) memcpy(buf + t * TILE, src + t * x_step, sizeof(float) * (size_t)cw);
        }
        if (check) {
            int64_t bad = first_nonfinite(buf, len);
            if (bad >= 0) return t0 + bad;
        }
        sos_kernel(f->coef, f->n_sections, z, buf, len);
        float *dst = y + t0 * y_step;
        if (cw == TILE) {
            for (int t = 0; t < len; t++) memcpy(dst + t * y_step, buf + t * TILE, sizeof(float) * TILE);
        } else {
            for (int t = 0; t < len; t++) memcpy(dst + t * y_step, buf + t * TILE, sizeof(float) * (size_t)cw);
        }
    }
    return -1;
}

void btfm_sos_zi(const btfm_sos *f, double *zi)
{
    /* scipy.signal.sosfilt_zi: each section's lfilter_zi (the fixed point of its state
     * under a unit step), scaled by the DC gain of the sections before it. */
    double scale = 1.0;
    for (int s = 0; s < f->n_sections; s++) {
        const double *c = f->coef + 5 * s;
        double b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4];
        double B0 = b1 - a1 * b0, B1 = b2 - a2 * b0;
        double z0 = (B0 + B1) / (1 + a1 + a2);
        zi[2 * s] = scale * z0;
        zi[2 * s + 1] = scale * (B1 - a2 * z0);
        scale *= (b0 + b1 + b2) / (1 + a1 + a2);
    }
}

btfm_status btfm_sosfilt_zi(const double *sos, int n_sections, double *zi)
{
    BTFM_CHECK_ARG(zi, "btfm_sosfilt_zi", "zi");
    btfm_sos f;
    btfm_status st = btfm_sos_init(&f, "btfm_sosfilt_zi", sos, n_sections);
    if (st != BTFM_OK) return st;
    for (int s = 0; s < n_sections; s++) {
        const double *c = f.coef + 5 * s;
        if (1 + c[3] + c[4] == 0) {
            btfm_sos_clear(&f);
            return btfm_fail(BTFM_E_NUMERIC, "btfm_sosfilt_zi: section %d has a pole at z = 1 "
                             "(1 + a1 + a2 = 0): no steady state exists", s);
        }
    }
    btfm_sos_zi(&f, zi);
    btfm_sos_clear(&f);
    return BTFM_OK;
}

/* Filter n_times rows of every channel with the caller's state (NULL: zeros). */
static void sos_filter_all(const btfm_sos *f, const float *x, int64_t n_times, int n_channels,
                           double *state, float *out)
{
    const int S = f->n_sections;
    double zt[2 * TILE * BTFM_SOS_MAX_SECTIONS];
    for (int c0 = 0; c0 < n_channels; c0 += TILE) {
        int cw = n_channels - c0 < TILE ? n_channels - c0 : TILE;
        memset(zt, 0, (size_t)S * 2 * TILE * sizeof(double));
        if (state)
            for (int s = 0; s < 2 * S; s++)
                memcpy(zt + (size_t)s * TILE, state + (size_t)s * n_channels + c0, sizeof(double) * (size_t)cw);
        btfm_sos_run_tile(f, zt, x + c0, n_channels, out + c0, n_channels, n_times, cw, 0);
        if (state)
            for (int s = 0; s < 2 * S; s++)
                memcpy(state + (size_t)s * n_channels + c0, zt + (size_t)s * TILE, sizeof(double) * (size_t)cw);
    }
}

btfm_status btfm_sosfilt(const double *sos, int n_sections, const float *x, int64_t n_times,
                         int n_channels, double *state, unsigned flags, float *out)
{
    static const char func[] = "btfm_sosfilt";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st != BTFM_OK) return st;
    if (n_times > 0) BTFM_CHECK_ARG(out, func, "out");
    st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags);
    if (st != BTFM_OK) return st;
    btfm_sos f;
    if ((st = btfm_sos_init(&f, func, sos, n_sections)) != BTFM_OK) return st;
    sos_filter_all(&f, x, n_times, n_channels, state, out);
    btfm_sos_clear(&f);
    return BTFM_OK;
}

/* ---- btfm_iir: a cascade and its state, for streams ---- */

struct btfm_iir {
    btfm_sos sos;
    int n_channels;
    double *state; /* n_sections x 2 x n_channels */
    double *zi;    /* n_sections x 2, or NULL when the cascade has no steady state */
};

btfm_status btfm_iir_new(btfm_iir **out, const double *sos, int n_sections, int n_channels)
{
    static const char func[] = "btfm_iir_new";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    if (n_channels < 1)
        return btfm_fail(BTFM_E_RANGE, "%s: n_channels = %d, expected at least 1", func, n_channels);
    btfm_iir *f = btfm_calloc(1, sizeof *f);
    if (!f) return btfm_fail_nomem(func, sizeof *f);
    btfm_status st = btfm_sos_init(&f->sos, func, sos, n_sections);
    if (st != BTFM_OK) {
        btfm_free(f);
        return st;
    }
    f->n_channels = n_channels;
    size_t n_state = (size_t)n_sections * 2 * (size_t)n_channels;
    f->state = btfm_calloc(n_state, sizeof(double));
    f->zi = btfm_malloc((size_t)n_sections * 2 * sizeof(double));
    if (!f->state || !f->zi) {
        btfm_iir_free(f);
        return btfm_fail_nomem(func, n_state * sizeof(double));
    }
    btfm_sos_zi(&f->sos, f->zi);
    *out = f;
    return BTFM_OK;
}

void btfm_iir_free(btfm_iir *f)
{
    if (!f) return;
    btfm_sos_clear(&f->sos);
    btfm_free(f->state);
    btfm_free(f->zi);
    btfm_free(f);
}

btfm_status btfm_iir_reset(btfm_iir *f, const float *initial)
{
    BTFM_CHECK_ARG(f, "btfm_iir_reset", "filter");
    const int S = f->sos.n_sections, C = f->n_channels;
    if (initial) {
        btfm_status st = btfm_signal_check_finite("btfm_iir_reset", initial, 1, C, 0, 0);
        if (st != BTFM_OK) return st;
        for (int s = 0; s < 2 * S; s++)
            if (!isfinite(f->zi[s]))
                return btfm_fail(BTFM_E_NUMERIC, "btfm_iir_reset: the cascade has a pole at "
                                 "z = 1, so it has no steady state; reset with initial NULL");
    }
    for (int s = 0; s < 2 * S; s++)
        for (int c = 0; c < C; c++)
            f->state[(size_t)s * C + c] = initial ? f->zi[s] * initial[c] : 0.0;
    return BTFM_OK;
}

btfm_status btfm_iir_reset_channel(btfm_iir *f, int channel, const float *initial)
{
    static const char func[] = "btfm_iir_reset_channel";
    BTFM_CHECK_ARG(f, func, "filter");
    const int S = f->sos.n_sections, C = f->n_channels;
    if (channel < 0 || channel >= C)
        return btfm_fail(BTFM_E_RANGE, "%s: channel %d is not in [0, %d)", func, channel, C);
    if (initial) {
        if (!isfinite(*initial))
            return btfm_fail(BTFM_E_NUMERIC, "%s: the initial value of channel %d is %g; "
                             "expected a finite value or NULL (at rest)", func, channel,
                             (double)*initial);
        for (int s = 0; s < 2 * S; s++)
            if (!isfinite(f->zi[s]))
                return btfm_fail(BTFM_E_NUMERIC, "%s: the cascade has a pole at z = 1, so it "
                                 "has no steady state; reset with initial NULL", func);
    }
    for (int s = 0; s < 2 * S; s++)
        f->state[(size_t)s * C + channel] = initial ? f->zi[s] * *initial : 0.0;
    return BTFM_OK;
}

btfm_status btfm_iir_process(btfm_iir *f, const float *x, int64_t n_times, unsigned flags,
                             float *out)
{
    static const char func[] = "btfm_iir_process";
    BTFM_CHECK_ARG(f, func, "filter");
    btfm_status st = btfm_signal_check_array(func, x, n_times, f->n_channels);
    if (st != BTFM_OK) return st;
    if (n_times > 0) BTFM_CHECK_ARG(out, func, "out");
    st = btfm_signal_check_finite(func, x, n_times, f->n_channels, 0, flags);
    if (st != BTFM_OK) return st;
    sos_filter_all(&f->sos, x, n_times, f->n_channels, f->state, out);
    return BTFM_OK;
}

btfm_status btfm_iir_state(const btfm_iir *f, double *state, size_t capacity)
{
    BTFM_CHECK_ARG(f, "btfm_iir_state", "filter");
    BTFM_CHECK_ARG(state, "btfm_iir_state", "state");
    size_t n = (size_t)f->sos.n_sections * 2 * (size_t)f->n_channels;
    if (capacity < n)
        return btfm_fail(BTFM_E_RANGE, "btfm_iir_state: state holds %zu doubles, the filter "
                         "needs %zu (n_sections x 2 x n_channels)", capacity, n);
    memcpy(state, f->state, n * sizeof(double));
    return BTFM_OK;
}

int btfm_iir_n_sections(const btfm_iir *f)
{
    return f ? f->sos.n_sections : btfm_fail(BTFM_E_INVALID, "btfm_iir_n_sections: filter is NULL");
}

int btfm_iir_n_channels(const btfm_iir *f)
{
    return f ? f->n_channels : btfm_fail(BTFM_E_INVALID, "btfm_iir_n_channels: filter is NULL");
}
