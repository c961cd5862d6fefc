/* Execution of FFT plans on batches of transforms ("lanes", spectrum_internal.h): the
 * Stockham autosort passes of radix 4, 2, 3, 5 and any odd radix in the pass structure of
 * FFTPACK (Swarztrauber 1982), Bluestein's chirp-z transform (Bluestein 1970) for lengths
 * with large prime factors, and the even/odd packing that turns a real transform of even
 * length into a complex one of half the length. Every kernel is written once for a lane
 * count L and instantiated for 1 and BTFM_FFT_LANES lanes. */
#include <string.h>
#include "spectrum_internal.h"

/* Element pointers of a pass: input viewed as (ido, radix, l1), output as (ido, l1,
 * radix), twiddle j (output j + 1) of position i. */
#define CC(i, j, k) (cc + 2 * L * ((i) + ido * ((j) + P * (k))))
#define CH(i, k, j) (ch + 2 * L * ((i) + ido * ((k) + l1 * (j))))
#define WA(j, i) (wa + 2 * ((j) * (ido - 1) + (i) - 1))

/* y = t * w (complex, lane l), or y = t when tw is 0. */
#define PUT(y, tr, ti, w)                                                                \
    do {                                                                                 \
        if (tw) {                                                                        \
            (y)[l] = (tr) * (w)[0] - (ti) * (w)[1];                                      \
            (y)[L + l] = (tr) * (w)[1] + (ti) * (w)[0];                                  \
        } else {                                                                         \
            (y)[l] = (tr);                                                               \
            (y)[L + l] = (ti);                                                           \
        }                                                                                \
    } while (0)

BTFM_INLINE void bfly2(const double *a, const double *b, double *y0, double *y1,
                       const double *w1, const int tw, const int L)
{
    for (int l = 0; l < L; l++) {
        double ar = a[l], ai = a[L + l], br = b[l], bi = b[L + l];
        y0[l] = ar + br;
        y0[L + l] = ai + bi;
        PUT(y1, ar - br, ai - bi, w1);
    }
}

BTFM_INLINE void bfly3(const double *a0, const double *a1, const double *a2, double *y0,
                       double *y1, double *y2, const double *w1, const double *w2,
                       const int tw, const int L)
{
    const double s = 0.86602540378443864676; /* sin(2 pi / 3) */
    for (int l = 0; l < L; l++) {
        double sr = a1[l] + a2[l], si = a1[L + l] + a2[L + l];
        double dr = a1[l] - a2[l], di = a1[L + l] - a2[L + l];
        double mr = a0[l] - 0.5 * sr, mi = a0[L + l] - 0.5 * si;
        y0[l] = a0[l] + sr;
        y0[L + l] = a0[L + l] + si;
        PUT(y1, mr + s * di, mi - s * dr, w1);
        PUT(y2, mr - s * di, mi + s * dr, w2);
    }
}

BTFM_INLINE void bfly4(const double *a0, const double *a1, const double *a2, const double *a3,
                       double *y0, double *y1, double *y2, double *y3, const double *w1,
                       const double *w2, const double *w3, const int tw, const int L)
{
    for (int l = 0; l < L; l++) {
        double t0r = a0[l] + a2[l], t0i = a0[L + l] + a2[L + l];
        double t1r = a0[l] - a2[l], t1i = a0[L + l] - a2[L + l];
        double t2r = a1[l] + a3[l], t2i = a1[L + l] + a3[L + l];
        double t3r = a1[l] - a3[l], t3i = a1[L + l] - a3[L + l];
        y0[l] = t0r + t2r;
        y0[L + l] = t0i + t2i;
        PUT(y1, t1r + t3i, t1i - t3r, w1);
        PUT(y2, t0r - t2r, t0i - t2i, w2);
        PUT(y3, t1r - t3i, t1i + t3r, w3);
    }
}

BTFM_INLINE void bfly5(const double *a0, const double *a1, const double *a2, const double *a3,
                       const double *a4, double *y0, double *y1, double *y2, double *y3,
                       double *y4, const double *w1, const double *w2, const double *w3,
                       const double *w4, const int tw, const int L)
{
    const double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;
    const double s1 = 0.95105651629515357212, s2 = 0.58778525229247312917;
    for (int l = 0; l < L; l++) {
        double s14r = a1[l] + a4[l], s14i = a1[L + l] + a4[L + l];
        double d14r = a1[l] - a4[l], d14i = a1[L + l] - a4[L + l];
        double s23r = a2[l] + a3[l], s23i = a2[L + l] + a3[L + l];
        double d23r = a2[l] - a3[l], d23i = a2[L + l] - a3[L + l];
        double x0r = a0[l], x0i = a0[L + l];
        y0[l] = x0r + s14r + s23r;
        y0[L + l] = x0i + s14i + s23i;
        double m1r = x0r + c1 * s14r + c2 * s23r, m1i = x0i + c1 * s14i + c2 * s23i;
        double m2r = x0r + c2 * s14r + c1 * s23r, m2i = x0i + c2 * s14i + c1 * s23i;
        /* -i (s1 d14 + s2 d23) and -i (s2 d14 - s1 d23) */
        double u1r = s1 * d14i + s2 * d23i, u1i = -(s1 * d14r + s2 * d23r);
        double u2r = s2 * d14i - s1 * d23i, u2i = -(s2 * d14r - s1 * d23r);
        PUT(y1, m1r + u1r, m1i + u1i, w1);
        PUT(y4, m1r - u1r, m1i - u1i, w4);
        PUT(y2, m2r + u2r, m2i + u2i, w2);
        PUT(y3, m2r - u2r, m2i - u2i, w3);
    }
}

static const double no_twiddle[2] = {1.0, 0.0};

enum { MAX_HALF = 32 }; /* generic radices up to 2 MAX_HALF + 1 */

/* Odd radix P by symmetric pairs: X_m = a0 + sum_j (a_j + a_{P-j}) cos(2 pi j m / P)
 * - i (a_j - a_{P-j}) sin(2 pi j m / P), and X_{P-m} with the sine's sign flipped.
 * in[j] / out[j] point at input / output j; w at WA(0, i) with jumps of wstep. */
BTFM_INLINE void bfly_generic(const double *cc, int64_t in_step, double *ch, int64_t out_step,
                              const double *w, int64_t wstep, const double *roots, int P,
                              const int tw, const int L)
{
    double sr[MAX_HALF][BTFM_FFT_LANES], si[MAX_HALF][BTFM_FFT_LANES];
    double dr[MAX_HALF][BTFM_FFT_LANES], di[MAX_HALF][BTFM_FFT_LANES];
    const int half = (P - 1) / 2;
    for (int j = 1; j <= half; j++) {
        const double *a = cc + j * in_step, *b = cc + (P - j) * in_step;
        for (int l = 0; l < L; l++) {
            sr[j - 1][l] = a[l] + b[l];
            si[j - 1][l] = a[L + l] + b[L + l];
            dr[j - 1][l] = a[l] - b[l];
            di[j - 1][l] = a[L + l] - b[L + l];
        }
    }
    for (int l = 0; l < L; l++) {
        double r = cc[l], i = cc[L + l];
        for (int j = 0; j < half; j++) {
            r += sr[j][l];
            i += si[j][l];
        }
        ch[l] = r;
        ch[L + l] = i;
    }
    for (int m = 1; m <= half; m++) {
        double *y = ch + m * out_step, *z = ch + (P - m) * out_step;
        const double *wy = w + (m - 1) * wstep, *wz = w + (P - m - 1) * wstep;
        for (int l = 0; l < L; l++) {
            double mr = cc[l], mi = cc[L + l], ur = 0, ui = 0;
            int jm = 0;
            for (int j = 0; j < half; j++) {
                jm += m;
                if (jm >= P) jm -= P;
                double c = roots[2 * jm], s = roots[2 * jm + 1];
                mr += c * sr[j][l];
                mi += c * si[j][l];
                ur += s * di[j][l];
                ui -= s * dr[j][l];
            }
            PUT(y, mr + ur, mi + ui, wy);
            PUT(z, mr - ur, mi - ui, wz);
        }
    }
}

/* The length-P DFT of position i of sub-transform k: inputs ido apart, outputs j
 * twiddled by WA(j - 1, i) when tw is set (i > 0). */
BTFM_INLINE void butterfly(int P, int64_t i, int64_t k, int64_t ido, int64_t l1,
                           const double *restrict cc, double *restrict ch,
                           const double *restrict wa, const double *roots, const int tw,
                           const int L)
{
    const double *t1 = tw ? WA(0, i) : no_twiddle, *t2 = tw && P > 2 ? WA(1, i) : no_twiddle;
    const double *t3 = tw && P > 3 ? WA(2, i) : no_twiddle;
    const double *t4 = tw && P > 4 ? WA(3, i) : no_twiddle;
    switch (P) {
    case 2:
        bfly2(CC(i, 0, k), CC(i, 1, k), CH(i, k, 0), CH(i, k, 1), t1, tw, L);
        break;
    case 3:
        bfly3(CC(i, 0, k), CC(i, 1, k), CC(i, 2, k), CH(i, k, 0), CH(i, k, 1), CH(i, k, 2),
              t1, t2, tw, L);
        break;
    case 4:
        bfly4(CC(i, 0, k), CC(i, 1, k), CC(i, 2, k), CC(i, 3, k), CH(i, k, 0), CH(i, k, 1),
              CH(i, k, 2), CH(i, k, 3), t1, t2, t3, tw, L);
        break;
    case 5:
        bfly5(CC(i, 0, k), CC(i, 1, k), CC(i, 2, k), CC(i, 3, k), CC(i, 4, k), CH(i, k, 0),
              CH(i, k, 1), CH(i, k, 2), CH(i, k, 3), CH(i, k, 4), t1, t2, t3, t4, tw, L);
        break;
    default:
        bfly_generic(CC(i, 0, k), 2 * L * ido, CH(i, k, 0), 2 * L * ido * l1, t1,
                     tw ? 2 * (ido - 1) : 0, roots, P, tw, L);
        break;
    }
}

/* One pass of radix P over the l1 sub-transforms; position 0 needs no twiddles. */
BTFM_INLINE void pass(int P, int64_t ido, int64_t l1, const double *restrict cc,
                      double *restrict ch, const double *restrict wa, const double *roots,
                      const int L)
{
    for (int64_t k = 0; k < l1; k++) {
        butterfly(P, 0, k, ido, l1, cc, ch, wa, roots, 0, L);
        for (int64_t i = 1; i < ido; i++) butterfly(P, i, k, ido, l1, cc, ch, wa, roots, 1, L);
    }
}

/* The passes of a mixed-radix plan; the result ends in `data`. */
BTFM_INLINE void run_passes(const btfm_cfft *p, double *data, double *work, const int L)
{
    double *in = data, *out = work;
    const double *tw = p->twiddles, *roots = p->roots;
    int64_t l1 = 1;
    for (int f = 0; f < p->n_factors; f++) {
        const int P = p->factors[f];
        const int64_t ido = p->n / (l1 * P);
        switch (P) {
        case 2: pass(2, ido, l1, in, out, tw, NULL, L); break;
        case 3: pass(3, ido, l1, in, out, tw, NULL, L); break;
        case 4: pass(4, ido, l1, in, out, tw, NULL, L); break;
        case 5: pass(5, ido, l1, in, out, tw, NULL, L); break;
        default:
            pass(P, ido, l1, in, out, tw, roots, L);
            roots += 2 * P;
            break;
        }
        tw += 2 * (size_t)(P - 1) * (size_t)(ido - 1);
        double *swap = in;
        in = out;
        out = swap;
        l1 *= P;
    }
    if (in != data) memcpy(data, in, sizeof(double) * 2 * (size_t)L * (size_t)p->n);
}

/* Bluestein: X_k = c_k sum_j (x_j c_j) conj(c_{k-j}) with c_k = exp(-i pi k^2 / n), the
 * convolution done circularly at the plan's length m through the inner plan. */
BTFM_INLINE void run_bluestein(const btfm_cfft *p, double *data, double *work, const int L)
{
    const int64_t n = p->n, m = p->inner->n;
    double *a = work, *inner_work = work + 2 * (size_t)L * (size_t)m;
    for (int64_t k = 0; k < n; k++) {
        const double cr = p->chirp[2 * k], ci = p->chirp[2 * k + 1];
        const double *x = data + 2 * L * k;
        double *y = a + 2 * L * k;
        for (int l = 0; l < L; l++) {
            y[l] = x[l] * cr - x[L + l] * ci;
            y[L + l] = x[l] * ci + x[L + l] * cr;
        }
    }
    memset(a + 2 * L * n, 0, sizeof(double) * 2 * (size_t)L * (size_t)(m - n));
    run_passes(p->inner, a, inner_work, L);
    for (int64_t k = 0; k < m; k++) { /* conj(A K): the next forward pass inverts */
        const double kr = p->kernel[2 * k], ki = p->kernel[2 * k + 1];
        double *y = a + 2 * L * k;
        for (int l = 0; l < L; l++) {
            double r = y[l] * kr - y[L + l] * ki, i = y[l] * ki + y[L + l] * kr;
            y[l] = r;
            y[L + l] = -i;
        }
    }
    run_passes(p->inner, a, inner_work, L);
    for (int64_t k = 0; k < n; k++) { /* c_k conj(a_k) */
        const double cr = p->chirp[2 * k], ci = p->chirp[2 * k + 1];
        const double *y = a + 2 * L * k;
        double *x = data + 2 * L * k;
        for (int l = 0; l < L; l++) {
            x[l] = y[l] * cr + y[L + l] * ci;
            x[L + l] = y[l] * ci - y[L + l] * cr;
        }
    }
}

BTFM_INLINE void cfft_run(const btfm_cfft *p, double *data, double *work, const int L)
{
    if (p->inner)
        run_bluestein(p, data, work, L);
    else
        run_passes(p, data, work, L);
}

/* Real forward transform: for even n, the packed signal z_k = x_2k + i x_2k+1 is
 * transformed at length n / 2, then X_k = E_k + w^k O_k with E_k = (Z_k + conj Z_{h-k})/2,
 * O_k = -i (Z_k - conj Z_{h-k}) / 2. Odd n goes through a complex transform of length n. */
BTFM_INLINE void real_forward(const btfm_fft *p, double *x, double *out, double *work,
                              const int L)
{
    const int64_t n = p->n;
    if (n % 2 == 0) {
        const int64_t h = n / 2;
        cfft_run(p->c, x, work, L);
        for (int l = 0; l < L; l++) {
            double zr = x[l], zi = x[L + l];
            out[l] = zr + zi;
            out[L + l] = 0.0;
            out[2 * L * h + l] = zr - zi;
            out[2 * L * h + L + l] = 0.0;
        }
        for (int64_t k = 1; k < h; k++) {
            const double *a = x + 2 * L * k, *b = x + 2 * L * (h - k);
            const double wr = p->twiddles[2 * k], wi = p->twiddles[2 * k + 1];
            double *y = out + 2 * L * k;
            for (int l = 0; l < L; l++) {
                double er = 0.5 * (a[l] + b[l]), ei = 0.5 * (a[L + l] - b[L + l]);
                double or_ = 0.5 * (a[L + l] + b[L + l]), oi = -0.5 * (a[l] - b[l]);
                y[l] = er + or_ * wr - oi * wi;
                y[L + l] = ei + or_ * wi + oi * wr;
            }
        }
    } else {
        double *z = work, *cwork = work + 2 * (size_t)L * (size_t)n;
        for (int64_t k = 0; k < n; k++)
            for (int l = 0; l < L; l++) {
                z[2 * L * k + l] = x[L * k + l];
                z[2 * L * k + L + l] = 0.0;
            }
        cfft_run(p->c, z, cwork, L);
        memcpy(out, z, sizeof(double) * 2 * (size_t)L * (size_t)(n / 2 + 1));
    }
}

/* Real inverse transform, the forward one read backwards: Z_k = (X_k + conj X_{h-k})
 * + i w^-k (X_k - conj X_{h-k}), inverted at length n / 2 as conj(DFT(conj Z)). */
BTFM_INLINE void real_inverse(const btfm_fft *p, const double *in, double *out, double *work,
                              const int L)
{
    const int64_t n = p->n;
    const double scale = 1.0 / (double)n;
    if (n % 2 == 0) {
        const int64_t h = n / 2;
        for (int64_t k = 0; k < h; k++) {
            const double *a = in + 2 * L * k, *b = in + 2 * L * (h - k);
            const double wr = p->twiddles[2 * k], wi = -p->twiddles[2 * k + 1];
            const double keep = k > 0; /* the imaginary parts of DC and Nyquist are ignored */
            double *z = out + 2 * L * k;
            for (int l = 0; l < L; l++) {
                double ar = a[l], ai = keep * a[L + l], br = b[l], bi = keep * b[L + l];
                double sr = ar + br, si = ai - bi, dr = ar - br, di = ai + bi;
                double tr = dr * wr - di * wi, ti = dr * wi + di * wr;
                z[l] = sr - ti;
                z[L + l] = -(si + tr); /* conjugated for the forward transform */
            }
        }
        cfft_run(p->c, out, work, L);
        for (int64_t k = 0; k < h; k++)
            for (int l = 0; l < L; l++) {
                out[2 * L * k + l] *= scale;
                out[2 * L * k + L + l] *= -scale;
            }
    } else {
        double *z = work, *cwork = work + 2 * (size_t)L * (size_t)n;
        for (int l = 0; l < L; l++) {
            z[l] = in[l];
            z[L + l] = 0.0;
        }
        for (int64_t k = 1; k <= n / 2; k++) {
            const double *a = in + 2 * L * k;
            double *lo = z + 2 * L * k, *hi = z + 2 * L * (n - k);
            for (int l = 0; l < L; l++) { /* conj(X) at k, X at n - k */
                lo[l] = a[l];
                lo[L + l] = -a[L + l];
                hi[l] = a[l];
                hi[L + l] = a[L + l];
            }
        }
        cfft_run(p->c, z, cwork, L);
        for (int64_t k = 0; k < n; k++)
            for (int l = 0; l < L; l++) out[L * k + l] = z[2 * L * k + l] * scale;
    }
}

BTFM_HOT static void cfft_1(const btfm_cfft *p, double *d, double *w) { cfft_run(p, d, w, 1); }
BTFM_HOT static void forward_1(const btfm_fft *p, double *x, double *out, double *w)
{
    real_forward(p, x, out, w, 1);
}
BTFM_HOT static void inverse_1(const btfm_fft *p, const double *in, double *out, double *w)
{
    real_inverse(p, in, out, w, 1);
}

BTFM_HOT BTFM_CLONES static void cfft_n(const btfm_cfft *p, double *d, double *w)
{
    cfft_run(p, d, w, BTFM_FFT_LANES);
}
BTFM_HOT BTFM_CLONES static void forward_n(const btfm_fft *p, double *x, double *out, double *w)
{
    real_forward(p, x, out, w, BTFM_FFT_LANES);
}
BTFM_HOT BTFM_CLONES static void inverse_n(const btfm_fft *p, const double *in, double *out,
                                           double *w)
{
    real_inverse(p, in, out, w, BTFM_FFT_LANES);
}

void btfm_cfft_forward_lanes(const btfm_cfft *p, double *data, double *work, int lanes)
{
    if (lanes == 1)
        cfft_1(p, data, work);
    else
        cfft_n(p, data, work);
}

void btfm_fft_forward_lanes(const btfm_fft *p, double *x, double *out, double *work, int lanes)
{
    if (lanes == 1)
        forward_1(p, x, out, work);
    else
        forward_n(p, x, out, work);
}

void btfm_fft_inverse_lanes(const btfm_fft *p, const double *in, double *out, double *work,
                            int lanes)
{
    if (lanes == 1)
        inverse_1(p, in, out, work);
    else
        inverse_n(p, in, out, work);
}
