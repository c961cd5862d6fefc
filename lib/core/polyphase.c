/* Polyphase resampling (see polyphase.h for the definition it implements). */
#include <math.h>
#include <string.h>
#include "polyphase.h"

double btfm_bessel_i0(double x)
{
    /* Power series sum (x/2)^(2k) / (k!)^2: converges for every x we use (beta <= 50). */
    double term = 1.0, sum = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 500; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

btfm_status btfm_polyphase_new(btfm_polyphase **out, int up, int down)
{
    *out = NULL;
    if (up < 1 || down < 1 || up > 1000000 || down > 1000000)
        return btfm_fail(BTFM_E_RANGE, "resample: up = %d and down = %d must be in [1, 1000000]",
                         up, down);
    int g = gcd(up, down);
    up /= g;
    down /= g;
    int max_rate = up > down ? up : down;
    if (max_rate > 10000)
        return btfm_fail(BTFM_E_RANGE, "resample: the reduced ratio %d/%d needs a filter of "
                         "%d taps; rates this far apart are not supported", up, down,
                         20 * max_rate + 1);
    btfm_polyphase *p = btfm_calloc(1, sizeof *p);
    int half = 10 * max_rate, n = 2 * half + 1;
    if (!p || !(p->h = btfm_malloc((size_t)n * sizeof *p->h))) {
        btfm_free(p);
        return btfm_fail_nomem("resample", (size_t)n * sizeof(double));
    }
    p->up = up;
    p->down = down;
    p->half_len = half;
    /* firwin(n, 1/max_rate, window=('kaiser', 5.0)), normalized to unit DC gain, times up. */
    const double beta = 5.0, cutoff = 1.0 / max_rate, i0_beta = btfm_bessel_i0(beta);
    double sum = 0;
    for (int k = 0; k < n; k++) {
        double t = k - half;
        double arg = M_PI * cutoff * t;
        double sinc = t == 0 ? 1.0 : sin(arg) / arg;
        double r = 2.0 * k / (n - 1) - 1.0;
        double w = btfm_bessel_i0(beta * sqrt(fmax(0.0, 1.0 - r * r))) / i0_beta;
        p->h[k] = cutoff * sinc * w;
        sum += p->h[k];
    }
    for (int k = 0; k < n; k++) p->h[k] *= up / sum;
    *out = p;
    return BTFM_OK;
}

void btfm_polyphase_free(btfm_polyphase *p)
{
    if (!p) return;
    btfm_free(p->h);
    btfm_free(p);
}

int64_t btfm_polyphase_output_len(const btfm_polyphase *p, int64_t n_in)
{
    return (n_in * p->up + p->down - 1) / p->down;
}

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

void btfm_polyphase_input_range(const btfm_polyphase *p, int64_t n_in, int64_t first,
                                int64_t count, int64_t *in_first, int64_t *in_count)
{
    int64_t lo = -floor_div(-(first * p->down - p->half_len), p->up); /* ceil */
    int64_t hi = floor_div((first + count - 1) * p->down + p->half_len, p->up);
    if (lo < 0) lo = 0;
    if (hi > n_in - 1) hi = n_in - 1;
    *in_first = lo;
    *in_count = hi >= lo ? hi - lo + 1 : 0;
}

/* The inputs m_lo .. m_hi (within [in_lo, in_hi]) that output n depends on; tap of input m
 * is h[half + n down - m up]. */
static inline void taps_of(const btfm_polyphase *p, int64_t n, int64_t in_lo, int64_t in_hi,
                           int64_t *m_lo, int64_t *m_hi)
{
    *m_lo = -floor_div(-(n * p->down - p->half_len), p->up);
    *m_hi = floor_div(n * p->down + p->half_len, p->up);
    if (*m_lo < in_lo) *m_lo = in_lo;
    if (*m_hi > in_hi) *m_hi = in_hi;
}

void btfm_polyphase_apply(const btfm_polyphase *p, const double *x, int64_t in_first,
                          int64_t in_count, int64_t first, int64_t count, float *out,
                          size_t stride)
{
    const int64_t up = p->up, down = p->down, half = p->half_len;
    for (int64_t i = 0; i < count; i++) {
        int64_t n = first + i, m_lo, m_hi;
        taps_of(p, n, in_first, in_first + in_count - 1, &m_lo, &m_hi);
        double acc = 0;
        for (int64_t m = m_lo; m <= m_hi; m++) acc += x[m - in_first] * p->h[half + n * down - m * up];
        out[(size_t)i * stride] = (float)acc;
    }
}

enum { ROW_TILE = 16 };

/* One output of ROW_TILE channels from `n_rows` input rows (`stride` floats apart) whose
 * taps are h[0], h[-up], h[-2 up], ...: float products and two interleaved float partial
 * sums. That is the precision of scipy.signal.resample_poly on float32 data (which
 * computes in float32), at twice the SIMD width of double and without one long chain. */
typedef float v8f __attribute__((vector_size(32)));

static inline void accumulate(const float *rows, size_t stride, const double *h, int64_t up,
                              int64_t n_rows, float *res)
{
    v8f even0 = {0}, even1 = {0}, odd0 = {0}, odd1 = {0}, a, b;
    int64_t r = 0;
    for (; r + 1 < n_rows; r += 2) {
        const float *r0 = rows + (size_t)r * stride, *r1 = r0 + stride;
        const float w0 = (float)h[-r * up], w1 = (float)h[-(r + 1) * up];
        memcpy(&a, r0, sizeof a);
        memcpy(&b, r0 + 8, sizeof b);
        even0 += a * w0;
        even1 += b * w0;
        memcpy(&a, r1, sizeof a);
        memcpy(&b, r1 + 8, sizeof b);
        odd0 += a * w1;
        odd1 += b * w1;
    }
    if (r < n_rows) {
        const float *r0 = rows + (size_t)r * stride, w0 = (float)h[-r * up];
        memcpy(&a, r0, sizeof a);
        memcpy(&b, r0 + 8, sizeof b);
        even0 += a * w0;
        even1 += b * w0;
    }
    even0 += odd0;
    even1 += odd1;
    memcpy(res, &even0, sizeof even0);
    memcpy(res + 8, &even1, sizeof even1);
}

BTFM_HOT BTFM_SIMD_CLONES
static void apply_tile(const btfm_polyphase *p, const float *x, int64_t n_in, int n_channels,
                       int c0, int cw, int64_t first, int64_t count, float *out)
{
    enum { MAX_ROWS = 256 }; /* 2 half_len / up + 1 <= 201 rows feed one output */
    float in[MAX_ROWS * ROW_TILE], res[ROW_TILE];
    const size_t C = (size_t)n_channels;
    for (int64_t i = 0; i < count; i++) {
        int64_t n = first + i, m_lo, m_hi;
        taps_of(p, n, 0, n_in - 1, &m_lo, &m_hi);
        int64_t rows = m_hi - m_lo + 1;
        const double *h = p->h + p->half_len + n * p->down - m_lo * p->up;
        if (cw == ROW_TILE || rows > MAX_ROWS) {
            accumulate(x + (size_t)m_lo * C + c0, C, h, p->up, rows, res);
        } else { /* a partial tile: the same arithmetic on a zero-padded copy */
            memset(in, 0, sizeof(float) * (size_t)(rows > 0 ? rows : 0) * ROW_TILE);
            for (int64_t r = 0; r < rows; r++)
                memcpy(in + r * ROW_TILE, x + (size_t)(m_lo + r) * C + c0, sizeof(float) * (size_t)cw);
            accumulate(in, ROW_TILE, h, p->up, rows, res);
        }
        memcpy(out + (size_t)i * C + c0, res, sizeof(float) * (size_t)cw);
    }
}

void btfm_polyphase_apply_rows(const btfm_polyphase *p, const float *x, int64_t n_in,
                               int n_channels, int c0, int cw, int64_t first, int64_t count,
                               float *out)
{
    apply_tile(p, x, n_in, n_channels, c0, cw, first, count, out);
}
