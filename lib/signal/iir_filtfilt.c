/* Zero-phase filtering: scipy.signal.sosfiltfilt (Gustafsson-style edge handling by
 * padding and steady-state initial conditions), one tile of channels at a time. The
 * forward pass writes into `out`, the backward pass runs over it in place. */
#include <math.h>
#include <string.h>
#include "signal_internal.h"

enum { TILE = BTFM_SOS_TILE };

static int64_t default_padlen(const double *sos, int n_sections)
{
    int zeros_b2 = 0, zeros_a2 = 0;
    for (int s = 0; s < n_sections; s++) {
        zeros_b2 += sos[6 * s + 2] == 0;
        zeros_a2 += sos[6 * s + 5] == 0;
    }
    int ntaps = 2 * n_sections + 1 - (zeros_b2 < zeros_a2 ? zeros_b2 : zeros_a2);
    return 3 * (int64_t)ntaps;
}

/* Pad rows for one tile: left[i] is extension sample i (the first `edge`), right[i] the
 * i-th after the last sample, computed in float as numpy does for float32 data. */
static void make_pads(const float *x, int64_t n_times, int n_channels, int c0, int cw, int pad,
                      int64_t edge, float *left, float *right)
{
    const float *first = x + c0, *last = x + (size_t)(n_times - 1) * n_channels + c0;
    for (int64_t i = 0; i < edge; i++) {
        const float *l = x + (size_t)(edge - i) * n_channels + c0;
        const float *r = x + (size_t)(n_times - 2 - i) * n_channels + c0;
        float *lo = left + i * TILE, *ro = right + i * TILE;
        for (int c = 0; c < cw; c++) {
            switch (pad) {
            case BTFM_PAD_ODD:
                lo[c] = 2.0f * first[c] - l[c];
                ro[c] = 2.0f * last[c] - r[c];
                break;
            case BTFM_PAD_EVEN:
                lo[c] = l[c];
                ro[c] = r[c];
                break;
            default:
                lo[c] = first[c];
                ro[c] = last[c];
                break;
            }
        }
    }
}

static void set_state(double *z, const double *zi, int n_sections, const float *row, int cw)
{
    memset(z, 0, sizeof(double) * 2 * TILE * (size_t)n_sections);
    for (int s = 0; s < 2 * n_sections; s++)
        for (int c = 0; c < cw; c++) z[s * TILE + c] = zi[s] * row[c];
}

btfm_status btfm_sosfiltfilt(const double *sos, int n_sections, const float *x,
                             int64_t n_times, int n_channels, int pad, int64_t padlen,
                             unsigned flags, float *out)
{
    static const char func[] = "btfm_sosfiltfilt";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st != BTFM_OK) return st;
    BTFM_CHECK_ARG(out, func, "out");
    btfm_sos f;
    if ((st = btfm_sos_init(&f, func, sos, n_sections)) != BTFM_OK) return st;
    if (pad < BTFM_PAD_NONE || pad > BTFM_PAD_CONSTANT) {
        btfm_sos_clear(&f);
        return btfm_fail(BTFM_E_INVALID, "%s: unknown pad %d (0 none, 1 odd, 2 even, "
                         "3 constant)", func, pad);
    }
    int64_t edge = pad == BTFM_PAD_NONE ? 0 : padlen < 0 ? default_padlen(sos, n_sections) : padlen;
    if (n_times <= edge || n_times < 1) {
        btfm_sos_clear(&f);
        return btfm_fail(BTFM_E_RANGE, "%s: the data have %lld samples, the padding needs more "
                         "than padlen = %lld (3 x the number of filter taps by default); use "
                         "a longer signal, a lower order or a smaller padlen", func,
                         (long long)n_times, (long long)edge);
    }
    if ((st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags)) != BTFM_OK) {
        btfm_sos_clear(&f);
        return st;
    }
    double zi[2 * BTFM_SOS_MAX_SECTIONS], z[2 * TILE * BTFM_SOS_MAX_SECTIONS];
    btfm_sos_zi(&f, zi);
    size_t pad_floats = (size_t)(edge > 0 ? edge : 1) * TILE;
    float *left = btfm_calloc(2 * pad_floats, sizeof(float)), *right = left + pad_floats;
    if (!left) {
        btfm_sos_clear(&f);
        return btfm_fail_nomem(func, 2 * pad_floats * sizeof(float));
    }
    const ptrdiff_t step = n_channels;
    for (int c0 = 0; c0 < n_channels; c0 += TILE) {
        int cw = n_channels - c0 < TILE ? n_channels - c0 : TILE;
        make_pads(x, n_times, n_channels, c0, cw, pad, edge, left, right);
        /* forward: left pad, signal, right pad */
        set_state(z, zi, n_sections, edge > 0 ? left : x + c0, cw);
        btfm_sos_run_tile(&f, z, left, TILE, left, TILE, edge, cw);
        btfm_sos_run_tile(&f, z, x + c0, step, out + c0, step, n_times, cw);
        btfm_sos_run_tile(&f, z, right, TILE, right, TILE, edge, cw);
        /* backward from the last forward output: right pad, then the signal, reversed */
        const float *y_end = edge > 0 ? right + (edge - 1) * TILE
                                      : out + (size_t)(n_times - 1) * n_channels + c0;
        set_state(z, zi, n_sections, y_end, cw);
        if (edge > 0)
            btfm_sos_run_tile(&f, z, right + (edge - 1) * TILE, -TILE, right + (edge - 1) * TILE,
                              -TILE, edge, cw);
        float *tail = out + (size_t)(n_times - 1) * n_channels + c0;
        btfm_sos_run_tile(&f, z, tail, -step, tail, -step, n_times, cw);
    }
    btfm_free(left);
    btfm_sos_clear(&f);
    return BTFM_OK;
}
