/* The FFT kernels, written once over a lane vector type and included by fft_exec.c for
 * each lane count: before inclusion VEC is the type of one lane vector (double, or a
 * GCC vector of BTFM_FFT_LANES doubles), FN(name) names the instance and FFT_OUTLINED
 * declares the two functions kept out of line (compiled once for each instruction set)
 * so that the transforms are not inlined into every caller. A complex element is two
 * VECs, real then imaginary (spectrum_internal.h's lanes layout).
 *
 * Passes: the Stockham autosort structure of FFTPACK (Swarztrauber 1982): input viewed
 * as (ido, radix, l1), output as (ido, l1, radix), outputs j > 0 of position i > 0
 * twiddled by WA(j - 1, i). Bluestein 1970 for lengths with large prime factors. */

#define CC(i, j, k) (cc + 2 * ((i) + ido * ((j) + P * (k))))
#define CH(i, k, j) (ch + 2 * ((i) + ido * ((k) + l1 * (j))))
#define WA(j, i) (wa + 2 * ((j) * (ido - 1) + (i) - 1))

/* y = (tr + i ti) w, or y = tr + i ti when tw is 0. */
#define PUT(y, tr, ti, w)                                                                \
    do {                                                                                 \
        if (tw) {                                                                        \
            VEC tr_ = (tr), ti_ = (ti);                                                  \
            (y)[0] = tr_ * (w)[0] - ti_ * (w)[1];                                        \
            (y)[1] = tr_ * (w)[1] + ti_ * (w)[0];                                        \
        } else {                                                                         \
            (y)[0] = (tr);                                                               \
            (y)[1] = (ti);                                                               \
        }                                                                                \
    } while (0)

BTFM_INLINE void FN(bfly2)(const VEC *a, const VEC *b, VEC *y0, VEC *y1, const double *w1,
                           const int tw)
{
    VEC ar = a[0], ai = a[1], br = b[0], bi = b[1];
    y0[0] = ar + br;
    y0[1] = ai + bi;
    PUT(y1, ar - br, ai - bi, w1);
}

BTFM_INLINE void FN(bfly3)(const VEC *a0, const VEC *a1, const VEC *a2, VEC *y0, VEC *y1,
                           VEC *y2, const double *w1, const double *w2, const int tw)
{
    const double s = 0.86602540378443864676; /* sin(2 pi / 3) */
    VEC sr = a1[0] + a2[0], si = a1[1] + a2[1];
    VEC dr = a1[0] - a2[0], di = a1[1] - a2[1];
    VEC mr = a0[0] - 0.5 * sr, mi = a0[1] - 0.5 * si;
    y0[0] = a0[0] + sr;
    y0[1] = a0[1] + si;
    PUT(y1, mr + s * di, mi - s * dr, w1);
    PUT(y2, mr - s * di, mi + s * dr, w2);
}

/* The length-4 DFT of b0..b3 into (zr, zi) (forward sign: w4 = -i). */
BTFM_INLINE void FN(dft4)(const VEC *b0, const VEC *b1, const VEC *b2, const VEC *b3, VEC *zr,
                          VEC *zi)
{
    VEC t0r = b0[0] + b2[0], t0i = b0[1] + b2[1];
    VEC t1r = b0[0] - b2[0], t1i = b0[1] - b2[1];
    VEC t2r = b1[0] + b3[0], t2i = b1[1] + b3[1];
    VEC t3r = b1[0] - b3[0], t3i = b1[1] - b3[1];
    zr[0] = t0r + t2r;
    zi[0] = t0i + t2i;
    zr[1] = t1r + t3i;
    zi[1] = t1i - t3r;
    zr[2] = t0r - t2r;
    zi[2] = t0i - t2i;
    zr[3] = t1r - t3i;
    zi[3] = t1i + t3r;
}

BTFM_INLINE void FN(bfly4)(const VEC *a0, const VEC *a1, const VEC *a2, const VEC *a3, VEC *y0,
                           VEC *y1, VEC *y2, VEC *y3, const double *w1, const double *w2,
                           const double *w3, const int tw)
{
    VEC zr[4], zi[4];
    FN(dft4)(a0, a1, a2, a3, zr, zi);
    y0[0] = zr[0];
    y0[1] = zi[0];
    PUT(y1, zr[1], zi[1], w1);
    PUT(y2, zr[2], zi[2], w2);
    PUT(y3, zr[3], zi[3], w3);
}

BTFM_INLINE void FN(bfly5)(const VEC *a0, const VEC *a1, const VEC *a2, const VEC *a3,
                           const VEC *a4, VEC *y0, VEC *y1, VEC *y2, VEC *y3, VEC *y4,
                           const double *w1, const double *w2, const double *w3,
                           const double *w4, const int tw)
{
    const double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;
    const double s1 = 0.95105651629515357212, s2 = 0.58778525229247312917;
    VEC s14r = a1[0] + a4[0], s14i = a1[1] + a4[1];
    VEC d14r = a1[0] - a4[0], d14i = a1[1] - a4[1];
    VEC s23r = a2[0] + a3[0], s23i = a2[1] + a3[1];
    VEC d23r = a2[0] - a3[0], d23i = a2[1] - a3[1];
    VEC x0r = a0[0], x0i = a0[1];
    y0[0] = x0r + s14r + s23r;
    y0[1] = x0i + s14i + s23i;
    VEC m1r = x0r + c1 * s14r + c2 * s23r, m1i = x0i + c1 * s14i + c2 * s23i;
    VEC m2r = x0r + c2 * s14r + c1 * s23r, m2i = x0i + c2 * s14i + c1 * s23i;
    /* -i (s1 d14 + s2 d23) and -i (s2 d14 - s1 d23) */
    VEC u1r = s1 * d14i + s2 * d23i, u1i = -(s1 * d14r + s2 * d23r);
    VEC u2r = s2 * d14i - s1 * d23i, u2i = -(s2 * d14r - s1 * d23r);
    PUT(y1, m1r + u1r, m1i + u1i, w1);
    PUT(y4, m1r - u1r, m1i - u1i, w4);
    PUT(y2, m2r + u2r, m2i + u2i, w2);
    PUT(y3, m2r - u2r, m2i - u2i, w3);
}

/* Radix 8 as two radix-4 DFTs of the even and odd inputs: X_k = E_k + w8^k O_k,
 * X_{k+4} = E_k - w8^k O_k, with w8 = exp(-i pi / 4). */
BTFM_INLINE void FN(bfly8)(const VEC *const a[8], VEC *const y[8], const double *const w[8],
                           const int tw)
{
    const double h = 0.70710678118654752440; /* 1 / sqrt(2) */
    VEC er[4], ei[4], or_[4], oi[4];
    FN(dft4)(a[0], a[2], a[4], a[6], er, ei);
    FN(dft4)(a[1], a[3], a[5], a[7], or_, oi);
    /* w8^1 = (1 - i) / sqrt 2, w8^2 = -i, w8^3 = -(1 + i) / sqrt 2 */
    VEC p1r = h * (or_[1] + oi[1]), p1i = h * (oi[1] - or_[1]);
    VEC p2r = oi[2], p2i = -or_[2];
    VEC p3r = h * (oi[3] - or_[3]), p3i = -h * (or_[3] + oi[3]);
    y[0][0] = er[0] + or_[0];
    y[0][1] = ei[0] + oi[0];
    PUT(y[4], er[0] - or_[0], ei[0] - oi[0], w[4]);
    PUT(y[1], er[1] + p1r, ei[1] + p1i, w[1]);
    PUT(y[5], er[1] - p1r, ei[1] - p1i, w[5]);
    PUT(y[2], er[2] + p2r, ei[2] + p2i, w[2]);
    PUT(y[6], er[2] - p2r, ei[2] - p2i, w[6]);
    PUT(y[3], er[3] + p3r, ei[3] + p3i, w[3]);
    PUT(y[7], er[3] - p3r, ei[3] - p3i, w[7]);
}

/* Odd radix P by symmetric pairs: X_m = a0 + sum_j (a_j + a_{P-j}) cos(2 pi j m / P)
 * - i (a_j - a_{P-j}) sin(2 pi j m / P), X_{P-m} the same with the sine's sign flipped.
 * Inputs are in_step VECs apart, outputs out_step, twiddles wstep doubles. */
BTFM_INLINE void FN(bfly_generic)(const VEC *cc, int64_t in_step, VEC *ch, int64_t out_step,
                                  const double *w, int64_t wstep, const double *roots, int P,
                                  const int tw)
{
    VEC sr[FFT_MAX_HALF], si[FFT_MAX_HALF], dr[FFT_MAX_HALF], di[FFT_MAX_HALF];
    const int half = (P - 1) / 2;
    VEC r0 = cc[0], i0 = cc[1];
    for (int j = 1; j <= half; j++) {
        const VEC *a = cc + j * in_step, *b = cc + (P - j) * in_step;
        sr[j - 1] = a[0] + b[0];
        si[j - 1] = a[1] + b[1];
        dr[j - 1] = a[0] - b[0];
        di[j - 1] = a[1] - b[1];
        r0 += sr[j - 1];
        i0 += si[j - 1];
    }
    ch[0] = r0;
    ch[1] = i0;
    for (int m = 1; m <= half; m++) {
        VEC *y = ch + m * out_step, *z = ch + (P - m) * out_step;
        const double *wy = w + (m - 1) * wstep, *wz = w + (P - m - 1) * wstep;
        VEC mr = cc[0], mi = cc[1], ur = (VEC){0}, ui = (VEC){0};
        int jm = 0;
        for (int j = 0; j < half; j++) {
            jm += m;
            if (jm >= P) jm -= P;
            const double c = roots[2 * jm], s = roots[2 * jm + 1];
            mr += c * sr[j];
            mi += c * si[j];
            ur += s * di[j];
            ui -= s * dr[j];
        }
        PUT(y, mr + ur, mi + ui, wy);
        PUT(z, mr - ur, mi - ui, wz);
    }
}

/* The length-P DFT of position i of sub-transform k (tw: twiddled, i > 0). */
BTFM_INLINE void FN(butterfly)(int P, int64_t i, int64_t k, int64_t ido, int64_t l1,
                               const VEC *restrict cc, VEC *restrict ch,
                               const double *restrict wa, const double *roots, const int tw)
{
    const double *t1 = tw ? WA(0, i) : fft_no_twiddle;
    const double *t2 = tw && P > 2 ? WA(1, i) : fft_no_twiddle;
    const double *t3 = tw && P > 3 ? WA(2, i) : fft_no_twiddle;
    const double *t4 = tw && P > 4 ? WA(3, i) : fft_no_twiddle;
    switch (P) {
    case 2:
        FN(bfly2)(CC(i, 0, k), CC(i, 1, k), CH(i, k, 0), CH(i, k, 1), t1, tw);
        break;
    case 3:
        FN(bfly3)(CC(i, 0, k), CC(i, 1, k), CC(i, 2, k), CH(i, k, 0), CH(i, k, 1), CH(i, k, 2),
                  t1, t2, tw);
        break;
    case 4:
        FN(bfly4)(CC(i, 0, k), CC(i, 1, k), CC(i, 2, k), CC(i, 3, k), CH(i, k, 0), CH(i, k, 1),
                  CH(i, k, 2), CH(i, k, 3), t1, t2, t3, tw);
        break;
    case 5:
        FN(bfly5)(CC(i, 0, k), CC(i, 1, k), CC(i, 2, k), CC(i, 3, k), CC(i, 4, k), CH(i, k, 0),
                  CH(i, k, 1), CH(i, k, 2), CH(i, k, 3), CH(i, k, 4), t1, t2, t3, t4, tw);
        break;
    case 8: {
        const VEC *const in[8] = {CC(i, 0, k), CC(i, 1, k), CC(i, 2, k), CC(i, 3, k),
                                  CC(i, 4, k), CC(i, 5, k), CC(i, 6, k), CC(i, 7, k)};
        VEC *const out[8] = {CH(i, k, 0), CH(i, k, 1), CH(i, k, 2), CH(i, k, 3),
                             CH(i, k, 4), CH(i, k, 5), CH(i, k, 6), CH(i, k, 7)};
        const double *const w[8] = {fft_no_twiddle, t1, t2, t3, t4,
                                    tw ? WA(4, i) : fft_no_twiddle,
                                    tw ? WA(5, i) : fft_no_twiddle,
                                    tw ? WA(6, i) : fft_no_twiddle};
        FN(bfly8)(in, out, w, tw);
        break;
    }
    default:
        FN(bfly_generic)(CC(i, 0, k), 2 * ido, CH(i, k, 0), 2 * ido * l1, t1,
                         tw ? 2 * (ido - 1) : 0, roots, P, tw);
        break;
    }
}

/* One pass of radix P over the l1 sub-transforms; position 0 needs no twiddles. */
BTFM_INLINE void FN(pass)(int P, int64_t ido, int64_t l1, const VEC *restrict cc,
                          VEC *restrict ch, const double *restrict wa, const double *roots)
{
    for (int64_t k = 0; k < l1; k++) {
        FN(butterfly)(P, 0, k, ido, l1, cc, ch, wa, roots, 0);
        for (int64_t i = 1; i < ido; i++) FN(butterfly)(P, i, k, ido, l1, cc, ch, wa, roots, 1);
    }
}

/* The passes of a mixed-radix plan, alternating between data and work: returns the one
 * the result ends in. */
FFT_OUTLINED VEC *FN(run_passes)(const btfm_cfft *p, VEC *data, VEC *work)
{
    VEC *in = data, *out = work;
    const double *tw = p->twiddles, *roots = p->roots;
    int64_t l1 = 1;
    for (int f = 0; f < p->n_factors; f++) {
        const int P = p->factors[f];
        const int64_t ido = p->n / (l1 * P);
        switch (P) {
        case 2: FN(pass)(2, ido, l1, in, out, tw, NULL); break;
        case 3: FN(pass)(3, ido, l1, in, out, tw, NULL); break;
        case 4: FN(pass)(4, ido, l1, in, out, tw, NULL); break;
        case 5: FN(pass)(5, ido, l1, in, out, tw, NULL); break;
        case 8: FN(pass)(8, ido, l1, in, out, tw, NULL); break;
        default:
            FN(pass)(P, ido, l1, in, out, tw, roots);
            roots += 2 * P;
            break;
        }
        tw += 2 * (size_t)(P - 1) * (size_t)(ido - 1);
        VEC *swap = in;
        in = out;
        out = swap;
        l1 *= P;
    }
    return in;
}

/* Four-step (Bailey 1990) for long lengths n = n1 n2, the data seen as the n1 x n2
 * matrix x[r n2 + c]: length-n1 transforms down every column, each output r of column c
 * twiddled by w_n^(r c), then length-n2 transforms along every row, whose output k of
 * row r is X[r + n1 k], written transposed into `work`. Columns and rows move
 * BTFM_FFT_BLOCK at a time, so that each strided access touches that many adjacent
 * elements, and every transform runs on a buffer that stays in cache. Overwrites data;
 * returns work. */
FFT_OUTLINED VEC *FN(run_blocked)(const btfm_cfft *p, VEC *data, VEC *work)
{
    enum { B = BTFM_FFT_BLOCK };
    const btfm_cfft *f1 = p->first, *f2 = p->second;
    const int64_t n1 = f1->n, n2 = f2->n, len = n1 > n2 ? n1 : n2;
    VEC *out = work, *buf = work + 2 * p->n, *sub = buf + 2 * B * len;
    for (int64_t c0 = 0; c0 < n2; c0 += B) {
        const int nb = n2 - c0 < B ? (int)(n2 - c0) : B;
        for (int64_t r = 0; r < n1; r++) {
            const VEC *src = data + 2 * (r * n2 + c0);
            for (int b = 0; b < nb; b++) {
                buf[2 * (b * n1 + r)] = src[2 * b];
                buf[2 * (b * n1 + r) + 1] = src[2 * b + 1];
            }
        }
        for (int b = 0; b < nb; b++) {
            VEC *col = buf + 2 * b * n1;
            const VEC *y = FN(run_passes)(f1, col, sub);
            const double *w = p->block_twiddles + 2 * (c0 + b) * n1;
            for (int64_t r = 0; r < n1; r++) {
                VEC yr = y[2 * r], yi = y[2 * r + 1];
                col[2 * r] = yr * w[2 * r] - yi * w[2 * r + 1];
                col[2 * r + 1] = yr * w[2 * r + 1] + yi * w[2 * r];
            }
        }
        for (int64_t r = 0; r < n1; r++) {
            VEC *dst = data + 2 * (r * n2 + c0);
            for (int b = 0; b < nb; b++) {
                dst[2 * b] = buf[2 * (b * n1 + r)];
                dst[2 * b + 1] = buf[2 * (b * n1 + r) + 1];
            }
        }
    }
    for (int64_t r0 = 0; r0 < n1; r0 += B) {
        const int nb = n1 - r0 < B ? (int)(n1 - r0) : B;
        const VEC *y[B];
        for (int b = 0; b < nb; b++)
            y[b] = FN(run_passes)(f2, data + 2 * (r0 + b) * n2, buf + 2 * b * len);
        for (int64_t k = 0; k < n2; k++) {
            VEC *dst = out + 2 * (k * n1 + r0);
            for (int b = 0; b < nb; b++) {
                dst[2 * b] = y[b][2 * k];
                dst[2 * b + 1] = y[b][2 * k + 1];
            }
        }
    }
    return out;
}

/* A mixed-radix plan, four-step when it is split and the batch is long enough. */
BTFM_INLINE VEC *FN(run_smooth)(const btfm_cfft *p, VEC *data, VEC *work)
{
    if (p->first && sizeof(VEC) * 2 * (size_t)p->n >= BTFM_FFT_BLOCKED_BYTES)
        return FN(run_blocked)(p, data, work);
    return FN(run_passes)(p, data, work);
}

/* The complex DFT of data, using work (btfm_cfft_work_doubles); returns the one of them
 * the result ends in.
 *
 * Bluestein: X_k = c_k sum_j (x_j c_j) conj(c_{k-j}) with c_k = exp(-i pi k^2 / n), the
 * convolution done circularly at the inner plan's length m. */
BTFM_INLINE VEC *FN(cfft_exec)(const btfm_cfft *p, VEC *data, VEC *work)
{
    if (!p->inner) return FN(run_smooth)(p, data, work);
    const int64_t n = p->n, m = p->inner->n;
    VEC *a = work, *inner_work = work + 2 * m;
    for (int64_t k = 0; k < n; k++) {
        const double cr = p->chirp[2 * k], ci = p->chirp[2 * k + 1];
        VEC xr = data[2 * k], xi = data[2 * k + 1];
        a[2 * k] = xr * cr - xi * ci;
        a[2 * k + 1] = xr * ci + xi * cr;
    }
    memset(a + 2 * n, 0, sizeof(VEC) * 2 * (size_t)(m - n));
    for (int round = 0;; round++) {
        const VEC *y = FN(run_smooth)(p->inner, a, inner_work);
        if (round == 1) {
            for (int64_t k = 0; k < n; k++) { /* c_k conj(y_k) */
                const double cr = p->chirp[2 * k], ci = p->chirp[2 * k + 1];
                VEC yr = y[2 * k], yi = y[2 * k + 1];
                data[2 * k] = yr * cr + yi * ci;
                data[2 * k + 1] = yr * ci - yi * cr;
            }
            return data;
        }
        for (int64_t k = 0; k < m; k++) { /* conj(Y K): the next forward pass inverts */
            const double kr = p->kernel[2 * k], ki = p->kernel[2 * k + 1];
            VEC yr = y[2 * k], yi = y[2 * k + 1];
            a[2 * k] = yr * kr - yi * ki;
            a[2 * k + 1] = -(yr * ki + yi * kr);
        }
    }
}

/* Real forward transform: for even n, the packed signal z_k = x_2k + i x_2k+1 is
 * transformed at length h = n / 2, then X_k = E_k + w^k O_k with E_k = (Z_k +
 * conj Z_{h-k}) / 2 and O_k = -i (Z_k - conj Z_{h-k}) / 2. Odd n goes through a complex
 * transform of length n. In two halves, so that the many-row path can turn bins into
 * rows a block at a time: real_forward_begin transforms (x is overwritten) and returns
 * Z, real_forward_bins makes bins [k0, k1) of X from it into out (k1 - k0 elements). */
BTFM_INLINE VEC *FN(real_forward_begin)(const btfm_fft *p, VEC *x, VEC *work)
{
    const int64_t n = p->n;
    VEC *src = x, *w = work;
    if (n % 2) {
        src = work;
        w = work + 2 * n;
        for (int64_t k = 0; k < n; k++) {
            src[2 * k] = x[k];
            src[2 * k + 1] = (VEC){0};
        }
    }
    return FN(cfft_exec)(p->c, src, w);
}

BTFM_INLINE void FN(real_forward_bins)(const btfm_fft *p, const VEC *z, int64_t k0, int64_t k1,
                                       VEC *out)
{
    const int64_t n = p->n;
    if (n % 2) {
        memcpy(out, z + 2 * k0, sizeof(VEC) * 2 * (size_t)(k1 - k0));
        return;
    }
    const int64_t h = n / 2;
    VEC *o = out - 2 * k0; /* o[2 k] is bin k */
    for (int64_t k = k0 > 1 ? k0 : 1; k < k1 && k < h; k++) {
        const VEC *a = z + 2 * k, *b = z + 2 * (h - k);
        const double wr = p->twiddles[2 * k], wi = p->twiddles[2 * k + 1];
        VEC er = 0.5 * (a[0] + b[0]), ei = 0.5 * (a[1] - b[1]);
        VEC or_ = 0.5 * (a[1] + b[1]), oi = -0.5 * (a[0] - b[0]);
        o[2 * k] = er + or_ * wr - oi * wi;
        o[2 * k + 1] = ei + or_ * wi + oi * wr;
    }
    VEC zr = z[0], zi = z[1], zero = (VEC){0};
    if (k0 == 0) {
        o[0] = zr + zi;
        o[1] = zero;
    }
    if (k1 == h + 1) {
        o[2 * h] = zr - zi;
        o[2 * h + 1] = zero;
    }
}

BTFM_INLINE void FN(real_forward)(const btfm_fft *p, VEC *x, VEC *out, VEC *work)
{
    FN(real_forward_bins)(p, FN(real_forward_begin)(p, x, work), 0, p->n / 2 + 1, out);
}

/* Real inverse transform, the forward one read backwards: Z_k = (X_k + conj X_{h-k}) +
 * i w^-k (X_k - conj X_{h-k}), inverted at length h as conj(DFT(conj Z)). */
BTFM_INLINE void FN(real_inverse)(const btfm_fft *p, const VEC *in, VEC *out, VEC *work)
{
    const int64_t n = p->n;
    const double scale = 1.0 / (double)n;
    if (n % 2 == 0) {
        const int64_t h = n / 2;
        for (int64_t k = 0; k < h; k++) {
            const VEC *a = in + 2 * k, *b = in + 2 * (h - k);
            const double wr = p->twiddles[2 * k], wi = -p->twiddles[2 * k + 1];
            /* the imaginary parts of DC and Nyquist are ignored */
            VEC ar = a[0], ai = k > 0 ? a[1] : (VEC){0}, br = b[0], bi = k > 0 ? b[1] : (VEC){0};
            VEC sr = ar + br, si = ai - bi, dr = ar - br, di = ai + bi;
            VEC tr = dr * wr - di * wi, ti = dr * wi + di * wr;
            out[2 * k] = sr - ti;
            out[2 * k + 1] = -(si + tr); /* conjugated for the forward transform */
        }
        const VEC *z = FN(cfft_exec)(p->c, out, work);
        for (int64_t k = 0; k < h; k++) {
            out[2 * k] = z[2 * k] * scale;
            out[2 * k + 1] = z[2 * k + 1] * -scale;
        }
    } else {
        VEC *z = work, *cwork = work + 2 * n;
        z[0] = in[0];
        z[1] = (VEC){0};
        for (int64_t k = 1; k <= n / 2; k++) { /* conj(X) at k, X at n - k */
            z[2 * k] = in[2 * k];
            z[2 * k + 1] = -in[2 * k + 1];
            z[2 * (n - k)] = in[2 * k];
            z[2 * (n - k) + 1] = in[2 * k + 1];
        }
        const VEC *y = FN(cfft_exec)(p->c, z, cwork);
        for (int64_t k = 0; k < n; k++) out[k] = y[2 * k] * scale;
    }
}

#undef CC
#undef CH
#undef WA
#undef PUT
