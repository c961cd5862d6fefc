/* Zero-phase filtering: scipy.signal.sosfiltfilt (padding at both ends and steady-state
 * initial conditions scaled by the first sample each pass sees), one tile of channels
 * per task. The forward pass writes into `out`, the backward pass runs over it in place;
 * the pads live in small per-worker buffers. On failure `out` may be partly written
 * (never when out == x). */
#include <math.h>
#include <string.h>
#include "signal_internal.h"
#include "core/parallel_progress.h"

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

typedef struct job {
    btfm_sos f;
    double zi[2 * BTFM_SOS_MAX_SECTIONS];
    const float *x;
    float *out;
    int64_t n_times, edge;
    int n_channels, pad, check;
    float *pads;            /* per worker: left and right pads, edge x TILE floats each */
    size_t pad_floats;
    int64_t *bad_sample;    /* per task: first non-finite sample of the tile, or -1 */
} job;

/* Extension samples for one tile, in float as numpy computes them for float32 data:
 * left[i] precedes x[0] by edge - i samples, right[i] follows x[n-1] by i + 1. */
static void make_pads(const job *j, int c0, int cw, float *left, float *right)
{
    const int64_t n = j->n_times, edge = j->edge;
    const size_t C = (size_t)j->n_channels;
    const float *first = j->x + c0, *last = j->x + (size_t)(n - 1) * C + c0;
    for (int64_t i = 0; i < edge; i++) {
        const float *l = j->x + (size_t)(edge - i) * C + c0;
        const float *r = j->x + (size_t)(n - 2 - i) * C + c0;
        float *lo = left + i * TILE, *ro = right + i * TILE;
        for (int c = 0; c < cw; c++) {
            if (j->pad == BTFM_PAD_ODD) {
                lo[c] = 2.0f * first[c] - l[c];
                ro[c] = 2.0f * last[c] - r[c];
            } else if (j->pad == BTFM_PAD_EVEN) {
                lo[c] = l[c];
                ro[c] = r[c];
            } else {
                lo[c] = first[c];
                ro[c] = last[c];
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

static btfm_status filtfilt_tile(void *ctx, int64_t task, int worker)
{
    job *j = ctx;
    const int c0 = (int)task * TILE;
    const int cw = j->n_channels - c0 < TILE ? j->n_channels - c0 : TILE;
    const int S = j->f.n_sections;
    const int64_t n = j->n_times, edge = j->edge;
    const ptrdiff_t step = j->n_channels;
    float *left = j->pads + (size_t)worker * 2 * j->pad_floats, *right = left + j->pad_floats;
    double z[2 * TILE * BTFM_SOS_MAX_SECTIONS];
    make_pads(j, c0, cw, left, right);
    /* forward: left pad, signal, right pad */
    set_state(z, j->zi, S, edge > 0 ? left : j->x + c0, cw);
    btfm_sos_run_tile(&j->f, z, left, TILE, left, TILE, edge, cw, 0);
    int64_t bad = btfm_sos_run_tile(&j->f, z, j->x + c0, step, j->out + c0, step, n, cw, j->check);
    j->bad_sample[task] = bad;
    if (bad >= 0) return BTFM_OK; /* reported by the caller, earliest sample first */
    btfm_sos_run_tile(&j->f, z, right, TILE, right, TILE, edge, cw, 0);
    /* backward from the last forward output: right pad, then the signal, reversed */
    float *right_end = right + (edge - 1) * TILE;
    float *tail = j->out + (size_t)(n - 1) * (size_t)step + c0;
    set_state(z, j->zi, S, edge > 0 ? right_end : tail, cw);
    if (edge > 0) btfm_sos_run_tile(&j->f, z, right_end, -TILE, right_end, -TILE, edge, cw, 0);
    btfm_sos_run_tile(&j->f, z, tail, -step, tail, -step, n, cw, 0);
    return BTFM_OK;
}

btfm_status btfm_sosfiltfilt(const double *sos, int n_sections, const float *x,
                             int64_t n_times, int n_channels, int pad, int64_t padlen,
                             unsigned flags, float *out)
{
    static const char func[] = "btfm_sosfiltfilt";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st != BTFM_OK) return st;
    BTFM_CHECK_ARG(out, func, "out");
    if (pad < BTFM_PAD_NONE || pad > BTFM_PAD_CONSTANT)
        return btfm_fail(BTFM_E_INVALID, "%s: unknown pad %d (0 none, 1 odd, 2 even, "
                         "3 constant)", func, pad);
    job j = {.x = x, .out = out, .n_times = n_times, .n_channels = n_channels, .pad = pad,
             .check = !(flags & BTFM_ALLOW_NONFINITE)};
    if ((st = btfm_sos_init(&j.f, func, sos, n_sections)) != BTFM_OK) return st;
    j.edge = pad == BTFM_PAD_NONE ? 0 : padlen < 0 ? default_padlen(sos, n_sections) : padlen;
    if (n_times <= j.edge || n_times < 1) {
        btfm_sos_clear(&j.f);
        return btfm_fail(BTFM_E_RANGE, "%s: the data have %lld samples, the padding needs more "
                         "than padlen = %lld (3 x the number of filter taps by default); use "
                         "a longer signal, a lower order or a smaller padlen", func,
                         (long long)n_times, (long long)j.edge);
    }
    /* In place, a failure must not leave half-filtered data: scan first. (Out of place the
     * forward pass finds them; the pads repeat signal samples, so none is missed.) */
    if (j.check && (const float *)out == x &&
        (st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags)) != BTFM_OK) {
        btfm_sos_clear(&j.f);
        return st;
    }
    btfm_sos_zi(&j.f, j.zi);
    int n_tasks = (n_channels + TILE - 1) / TILE;
    int n_threads = btfm_signal_threads(n_tasks, (double)n_times * n_channels * n_sections, flags);
    j.pad_floats = (size_t)(j.edge > 0 ? j.edge : 1) * TILE;
    j.pads = btfm_malloc((size_t)n_threads * 2 * j.pad_floats * sizeof(float));
    j.bad_sample = btfm_malloc((size_t)n_tasks * sizeof(int64_t));
    if (!j.pads || !j.bad_sample) {
        btfm_free(j.pads);
        btfm_free(j.bad_sample);
        btfm_sos_clear(&j.f);
        return btfm_fail_nomem(func, (size_t)n_threads * 2 * j.pad_floats * sizeof(float));
    }
    /* The thread's callback (btfm_set_thread_progress), told after batches of channels.
     * In place, a cancel must not leave half-filtered data: with a callback the result
     * goes to a copy first. */
    btfm_progress progress;
    st = btfm_progress_start(&progress, NULL, NULL, func);
    size_t n_values = (size_t)n_times * (size_t)n_channels;
    float *copy = !st && progress.fn && (const float *)out == x
                      ? btfm_malloc_large(n_values * sizeof(float)) : NULL;
    if (!st && progress.fn && (const float *)out == x && !copy)
        st = btfm_fail_nomem(func, n_values * sizeof(float));
    if (copy) j.out = copy;
    if (!st)
        st = btfm_parallel_for_progress(&progress, "channels", n_threads, n_tasks, filtfilt_tile, &j);
    if (st) {
        btfm_free(copy);
        btfm_free(j.pads);
        btfm_free(j.bad_sample);
        btfm_sos_clear(&j.f);
        return st;
    }
    if (copy) {
        memcpy(out, copy, n_values * sizeof(float));
        btfm_free(copy);
    }
    if (btfm_progress_done(&progress, func) == BTFM_E_CANCELLED) btfm_clear_error();
    /* Report the earliest non-finite sample (lowest channel on ties). */
    int64_t bad_t = -1;
    int bad_c = 0;
    for (int task = 0; task < n_tasks; task++) {
        int64_t t = j.bad_sample[task];
        if (t < 0 || (bad_t >= 0 && t >= bad_t)) continue;
        for (int c = task * TILE; c < n_channels && c < (task + 1) * TILE; c++)
            if (!isfinite(x[(size_t)t * n_channels + c])) {
                bad_t = t;
                bad_c = c;
                break;
            }
    }
    btfm_free(j.pads);
    btfm_free(j.bad_sample);
    btfm_sos_clear(&j.f);
    if (bad_t >= 0)
        return btfm_signal_fail_nonfinite(func, bad_c, bad_t, x[(size_t)bad_t * n_channels + bad_c]);
    return BTFM_OK;
}
