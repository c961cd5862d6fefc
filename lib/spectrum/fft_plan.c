/* Complex FFT plans: the factorization into radices, the twiddle factors of every pass,
 * and the chirp and kernel of Bluestein's algorithm for lengths with a prime factor too
 * large for the generic odd-radix pass. */
#include <math.h>
#include <string.h>
#include "spectrum_internal.h"

enum { MAX_GENERIC_RADIX = 65 }; /* bfly_generic's limit (fft_exec.c) */

/* exp(-2 pi i r / n) in long double, so each factor is correctly rounded in practice. */
static void unit_root(int64_t r, int64_t n, double *out)
{
    const long double pi = 3.141592653589793238462643383279502884L;
    long double angle = 2.0L * pi * (long double)r / (long double)n;
    out[0] = (double)cosl(angle);
    out[1] = (double)-sinl(angle);
}

int64_t btfm_fft_good_size(int64_t n)
{
    if (n <= 1) return 1;
    int64_t best = INT64_MAX;
    for (int64_t p5 = 1; p5 < 2 * n; p5 *= 5)
        for (int64_t p35 = p5; p35 < 2 * n; p35 *= 3) {
            int64_t x = p35;
            while (x < n) x *= 2;
            if (x < best) best = x;
        }
    return best;
}

static int factorize(int64_t n, int *factors)
{
    int count = 0, twos = 0;
    while (n % 2 == 0) {
        twos++;
        n /= 2;
    }
    for (; twos >= 3; twos -= 3) factors[count++] = 8;
    if (twos) factors[count++] = twos == 2 ? 4 : 2;
    for (int64_t f = 3; f * f <= n; f += 2)
        while (n % f == 0) {
            if (f > MAX_GENERIC_RADIX) return -1;
            factors[count++] = (int)f;
            n /= f;
        }
    if (n > 1) {
        if (n > MAX_GENERIC_RADIX) return -1;
        factors[count++] = (int)n;
    }
    return count;
}

void btfm_cfft_free(btfm_cfft *p)
{
    if (!p) return;
    btfm_free(p->twiddles);
    btfm_free(p->roots);
    btfm_cfft_free(p->inner);
    btfm_free(p->chirp);
    btfm_free(p->kernel);
    btfm_cfft_free(p->first);
    btfm_cfft_free(p->second);
    btfm_free(p->block_twiddles);
    btfm_free(p);
}

size_t btfm_cfft_work_doubles(const btfm_cfft *p, int lanes)
{
    const size_t L = (size_t)lanes;
    if (p->inner) return 2 * L * (size_t)p->inner->n + btfm_cfft_work_doubles(p->inner, lanes);
    size_t w = 2 * L * (size_t)p->n;
    if (p->first) { /* the transposed result, the block of columns, one transform's work */
        size_t len = (size_t)(p->first->n > p->second->n ? p->first->n : p->second->n);
        w += 2 * L * len * (BTFM_FFT_BLOCK + 1);
    }
    return w;
}

static btfm_status mixed_radix(btfm_cfft *p)
{
    size_t n_twiddles = 0, n_roots = 0;
    int64_t l1 = 1;
    for (int f = 0; f < p->n_factors; f++) {
        int radix = p->factors[f];
        int64_t ido = p->n / (l1 * radix);
        n_twiddles += (size_t)(radix - 1) * (size_t)(ido - 1);
        if (radix > 5 && radix != 8) n_roots += (size_t)radix;
        l1 *= radix;
    }
    p->twiddles = btfm_malloc(sizeof(double) * 2 * (n_twiddles + 1));
    p->roots = btfm_malloc(sizeof(double) * 2 * (n_roots + 1));
    if (!p->twiddles || !p->roots) return btfm_fail_nomem("btfm_fft_new", n_twiddles * 16);
    double *tw = p->twiddles, *roots = p->roots;
    l1 = 1;
    for (int f = 0; f < p->n_factors; f++) {
        int radix = p->factors[f];
        int64_t ido = p->n / (l1 * radix);
        for (int j = 1; j < radix; j++)
            for (int64_t i = 1; i < ido; i++, tw += 2)
                unit_root((int64_t)j * l1 * i % p->n, p->n, tw);
        if (radix > 5 && radix != 8)
            for (int j = 0; j < radix; j++, roots += 2) {
                unit_root(j, radix, roots);
                roots[1] = -roots[1]; /* cos and +sin of 2 pi j / radix */
            }
        l1 *= radix;
    }
    return BTFM_OK;
}

static btfm_status bluestein(btfm_cfft *p)
{
    const int64_t n = p->n;
    btfm_status st = btfm_cfft_new(&p->inner, btfm_fft_good_size(2 * n - 1));
    if (st) return st;
    const int64_t m = p->inner->n;
    p->chirp = btfm_malloc(sizeof(double) * 2 * (size_t)n);
    p->kernel = btfm_calloc(2 * (size_t)m, sizeof(double));
    double *work = btfm_malloc(sizeof(double) * btfm_cfft_work_doubles(p->inner, 1));
    if (!p->chirp || !p->kernel || !work) {
        btfm_free(work);
        return btfm_fail_nomem("btfm_fft_new", sizeof(double) * 4 * (size_t)m);
    }
    for (int64_t k = 0; k < n; k++) /* exp(-i pi k^2 / n), k^2 reduced mod 2 n first */
        unit_root((int64_t)((uint64_t)k * (uint64_t)k % (uint64_t)(2 * n)), 2 * n,
                  p->chirp + 2 * k);
    for (int64_t k = 0; k < n; k++) {
        p->kernel[2 * k] = p->chirp[2 * k];
        p->kernel[2 * k + 1] = -p->chirp[2 * k + 1];
        if (k > 0) {
            p->kernel[2 * (m - k)] = p->chirp[2 * k];
            p->kernel[2 * (m - k) + 1] = -p->chirp[2 * k + 1];
        }
    }
    btfm_cfft_forward_lanes(p->inner, p->kernel, work, 1);
    for (int64_t k = 0; k < 2 * m; k++) p->kernel[k] /= (double)m;
    btfm_free(work);
    return BTFM_OK;
}

static btfm_status cfft_make(btfm_cfft **out, int64_t n, int may_split);

/* The four-step split of a long length: n1 the largest divisor of n up to sqrt(n) (every
 * divisor of a mixed-radix length is one too), when that leaves both sides long enough
 * to be worth the extra pass. */
static btfm_status four_step(btfm_cfft *p)
{
    const int64_t n = p->n;
    if ((size_t)n * 2 * sizeof(btfm_v8d) < BTFM_FFT_BLOCKED_BYTES) return BTFM_OK;
    int64_t n1 = 1;
    for (int64_t d = 2; d * d <= n; d++)
        if (n % d == 0) n1 = d;
    if (n1 < 16) return BTFM_OK;
    const int64_t n2 = n / n1;
    btfm_status st = cfft_make(&p->first, n1, 0);
    if (!st) st = cfft_make(&p->second, n2, 0);
    if (st) return st;
    p->block_twiddles = btfm_malloc(sizeof(double) * 2 * (size_t)n);
    if (!p->block_twiddles) return btfm_fail_nomem("btfm_fft_new", sizeof(double) * 2 * (size_t)n);
    for (int64_t c = 0; c < n2; c++)
        for (int64_t r = 0; r < n1; r++)
            unit_root(r * c % n, n, p->block_twiddles + 2 * (c * n1 + r));
    return BTFM_OK;
}

btfm_status btfm_cfft_new(btfm_cfft **out, int64_t n)
{
    return cfft_make(out, n, 1);
}

static btfm_status cfft_make(btfm_cfft **out, int64_t n, int may_split)
{
    *out = NULL;
    btfm_cfft *p = btfm_calloc(1, sizeof *p);
    if (!p) return btfm_fail_nomem("btfm_fft_new", sizeof *p);
    p->n = n;
    int count = factorize(n, p->factors);
    btfm_status st;
    if (count >= 0) {
        p->n_factors = count;
        st = mixed_radix(p);
        if (!st && may_split) st = four_step(p);
    } else {
        st = bluestein(p);
    }
    if (st) {
        btfm_cfft_free(p);
        return st;
    }
    *out = p;
    return BTFM_OK;
}
