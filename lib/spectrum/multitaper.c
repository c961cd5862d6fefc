/* Discrete prolate spheroidal sequences (Slepian 1978) from the tridiagonal eigenproblem
 * (Percival & Walden 1993), with scipy.signal.windows.dpss's conventions, and the
 * multitaper PSD (Thomson 1982) of MNE's psd_array_multitaper without adaptive
 * weighting. */
#include <math.h>
#include <string.h>
#include "spectrum_internal.h"
#include "dense/dense.h"

/* Autocorrelations r[k][lag], lag < m, of the rows of v (k x m), through the FFT. */
static btfm_status autocorrelations(const double *v, int k, int64_t m, double *r)
{
    const int64_t n = btfm_fft_good_size(2 * m - 1);
    btfm_fft *plan = NULL;
    btfm_status st = btfm_fft_new(&plan, n);
    if (st) return st;
    double *buf = btfm_malloc(sizeof(double) * (size_t)(3 * n + 4));
    if (!buf) {
        btfm_fft_free(plan);
        return btfm_fail_nomem("btfm_dpss", sizeof(double) * (size_t)(3 * n));
    }
    double *x = buf, *spec = buf + n;
    for (int i = 0; i < k; i++) {
        memset(x, 0, sizeof(double) * (size_t)n);
        memcpy(x, v + (size_t)i * (size_t)m, sizeof(double) * (size_t)m);
        btfm_fft_rfft(plan, x, spec);
        for (int64_t f = 0; f <= n / 2; f++) {
            spec[2 * f] = spec[2 * f] * spec[2 * f] + spec[2 * f + 1] * spec[2 * f + 1];
            spec[2 * f + 1] = 0.0;
        }
        btfm_fft_irfft(plan, spec, x);
        memcpy(r + (size_t)i * (size_t)m, x, sizeof(double) * (size_t)m);
    }
    btfm_free(buf);
    btfm_fft_free(plan);
    return BTFM_OK;
}

/* Tapers of length m (the extended length when not symmetric) into v (k x m), with
 * their concentration ratios. */
static btfm_status solve(int64_t m, double nw, int k, double *v, double *ratios)
{
    const double pi = 3.14159265358979323846;
    const double w = nw / (double)m;
    size_t mm = (size_t)m;
    double *d = btfm_malloc(sizeof(double) * mm * 2 + sizeof(double) * mm * (size_t)k +
                            sizeof(double) * (size_t)k);
    if (!d) return btfm_fail_nomem("btfm_dpss", sizeof(double) * mm * (size_t)(2 + k));
    double *e = d + mm, *z = e + mm, *eig = z + mm * (size_t)k;
    const double c = cos(2.0 * pi * w);
    for (int64_t i = 0; i < m; i++) {
        double h = 0.5 * (double)(m - 1 - 2 * i);
        d[i] = h * h * c;
        e[i] = i + 1 < m ? 0.5 * (double)(i + 1) * (double)(m - i - 1) : 0.0;
    }
    btfm_status st = btfm_dense_tridiag_top(d, e, m, k, eig, z, "btfm_dpss");
    if (!st) {
        const double thresh = fmax(1e-7, 1.0 / (double)m);
        for (int t = 0; t < k; t++) { /* largest eigenvalue first */
            const double *col = z + (size_t)t * mm;
            double *row = v + (size_t)t * mm, sign = 1.0;
            if (t % 2 == 0) { /* symmetric tapers: positive average */
                double sum = 0.0;
                for (int64_t i = 0; i < m; i++) sum += col[i];
                if (sum < 0) sign = -1.0;
            } else { /* antisymmetric tapers: start with a positive lobe */
                for (int64_t i = 0; i < m; i++)
                    if (col[i] * col[i] > thresh) {
                        if (col[i] < 0) sign = -1.0;
                        break;
                    }
            }
            for (int64_t i = 0; i < m; i++) row[i] = sign * col[i];
        }
        double *r = z; /* reuse: k x m autocorrelations */
        st = autocorrelations(v, k, m, r);
        for (int t = 0; !st && ratios && t < k; t++) {
            double sum = 2.0 * w * r[(size_t)t * mm];
            for (int64_t lag = 1; lag < m; lag++) {
                double a = pi * 2.0 * w * (double)lag; /* 4 W sinc(2 W lag) */
                sum += r[(size_t)t * mm + lag] * 4.0 * w * sin(a) / a;
            }
            ratios[t] = sum;
        }
    }
    btfm_free(d);
    return st;
}

btfm_status btfm_dpss(int64_t n, double half_bandwidth, int n_tapers, int sym, double *tapers,
                      double *ratios)
{
    BTFM_CHECK_ARG(tapers, "btfm_dpss", "tapers");
    if (n < 2 || n > (1 << 24))
        return btfm_fail(BTFM_E_RANGE, "btfm_dpss: length %lld; expected 2 to 2^24",
                         (long long)n);
    if (!(half_bandwidth > 0.0) || !(half_bandwidth < (double)n / 2.0))
        return btfm_fail(BTFM_E_RANGE, "btfm_dpss: half bandwidth NW = %g; expected "
                         "0 < NW < n / 2 = %g", half_bandwidth, (double)n / 2.0);
    if (n_tapers < 1 || n_tapers > n)
        return btfm_fail(BTFM_E_RANGE, "btfm_dpss: %d tapers; expected 1 to the length %lld",
                         n_tapers, (long long)n);
    const int64_t m = sym ? n : n + 1;
    double *v = btfm_malloc(sizeof(double) * (size_t)m * (size_t)n_tapers);
    if (!v) return btfm_fail_nomem("btfm_dpss", sizeof(double) * (size_t)(m * n_tapers));
    btfm_status st = solve(m, half_bandwidth, n_tapers, v, ratios);
    if (!st)
        for (int t = 0; t < n_tapers; t++) /* periodic: drop the last sample */
            memcpy(tapers + (size_t)t * (size_t)n, v + (size_t)t * (size_t)m,
                   sizeof(double) * (size_t)n);
    btfm_free(v);
    return st;
}

/* Adds weight |X_k|^2 of the tapered spectra of one channel group into acc. */
BTFM_HOT BTFM_SIMD_CLONES static void add_power(btfm_v8d *acc, const btfm_v8d *spec, int64_t n_bins,
                                           double weight)
{
    for (int64_t f = 0; f < n_bins; f++)
        acc[f] += weight * (spec[2 * f] * spec[2 * f] + spec[2 * f + 1] * spec[2 * f + 1]);
}

BTFM_HOT BTFM_SIMD_CLONES static void taper(btfm_v8d *out, const btfm_v8d *x, const double *taper,
                                       int64_t n)
{
    for (int64_t t = 0; t < n; t++) out[t] = x[t] * taper[t];
}

static btfm_status spectra(const float *x, int64_t n, int C, const double *tapers,
                           const double *eig, int k, double scale, double *psd)
{
    enum { L = BTFM_FFT_LANES };
    typedef btfm_v8d V;
    const int64_t n_bins = n / 2 + 1;
    btfm_fft *plan = NULL;
    btfm_status st = btfm_fft_new(&plan, n);
    if (st) return st;
    size_t work = btfm_fft_work_doubles(plan, L);
    size_t total = (2 * (size_t)n + 3 * (size_t)n_bins) * L + work;
    V *mem = btfm_malloc(sizeof(double) * total);
    if (!mem) {
        btfm_fft_free(plan);
        return btfm_fail_nomem("btfm_psd_multitaper", sizeof(double) * total);
    }
    V *sig = mem, *seg = sig + n, *spec = seg + n, *acc = spec + 2 * n_bins;
    double *fwork = (double *)(acc + n_bins);
    for (int c0 = 0; c0 < C; c0 += L) {
        const int have = C - c0 < L ? C - c0 : L;
        btfm_lanes_load(x, C, 0, n, c0, (double *)sig);
        V mean = {0};
        for (int64_t t = 0; t < n; t++) mean += sig[t];
        mean /= (double)n;
        for (int64_t t = 0; t < n; t++) sig[t] -= mean;
        memset(acc, 0, sizeof(V) * (size_t)n_bins);
        for (int i = 0; i < k; i++) {
            taper(seg, sig, tapers + (size_t)i * (size_t)n, n);
            btfm_fft_forward_lanes(plan, (double *)seg, (double *)spec, fwork, L);
            add_power(acc, spec, n_bins, eig[i]);
        }
        for (int64_t f = 0; f < n_bins; f++) {
            /* one-sided: every bin doubled, except DC and (even n) Nyquist */
            double s = (f == 0 || (n % 2 == 0 && f == n / 2)) ? scale : 2.0 * scale;
            for (int l = 0; l < have; l++) psd[f * C + c0 + l] = acc[f][l] * s;
        }
    }
    btfm_free(mem);
    btfm_fft_free(plan);
    return BTFM_OK;
}

btfm_status btfm_psd_multitaper(const float *x, int64_t n_times, int n_channels, double sfreq,
                                double bandwidth, int low_bias, unsigned flags, int *n_tapers,
                                double *psd, double *freqs)
{
    const char *func = "btfm_psd_multitaper";
    btfm_status st = btfm_spectrum_check_shape(x, n_times, n_channels, psd, func);
    if (st) return st;
    if (!(sfreq > 0.0) || !isfinite(sfreq))
        return btfm_fail(BTFM_E_RANGE, "%s: sfreq = %g; expected a positive sampling rate "
                         "in Hz", func, sfreq);
    if (!isfinite(bandwidth))
        return btfm_fail(BTFM_E_RANGE, "%s: bandwidth = %g; expected a finite value in Hz "
                         "(<= 0 for the default NW = 4)", func, bandwidth);
    const double nw = bandwidth > 0.0 ? bandwidth * (double)n_times / (2.0 * sfreq) : 4.0;
    if (nw < 0.5)
        return btfm_fail(BTFM_E_RANGE, "%s: bandwidth %g Hz gives a half bandwidth NW = %g < "
                         "0.5; use at least %g Hz", func, bandwidth, nw, sfreq / (double)n_times);
    const int k_max = (int)(2.0 * nw);
    if (n_times < 2 || nw >= (double)n_times / 2.0 || k_max > n_times)
        return btfm_fail(BTFM_E_RANGE, "%s: half bandwidth NW = %g needs more than %lld "
                         "samples (at least 2 NW + 1)", func, nw, (long long)n_times);
    st = btfm_spectrum_check_finite(x, 1, n_times, n_channels, flags, func);
    if (st) return st;

    double *tapers = btfm_malloc(sizeof(double) * ((size_t)k_max * (size_t)n_times + (size_t)k_max));
    if (!tapers) return btfm_fail_nomem(func, sizeof(double) * (size_t)k_max * (size_t)n_times);
    double *eig = tapers + (size_t)k_max * (size_t)n_times;
    st = btfm_dpss(n_times, nw, k_max, 0, tapers, eig);
    int k = k_max;
    if (!st && low_bias) { /* keep the tapers concentrated > 0.9, else the best one */
        int kept = 0, best = 0;
        for (int i = 0; i < k_max; i++) {
            if (eig[i] > eig[best]) best = i;
            if (eig[i] > 0.9) {
                memmove(tapers + (size_t)kept * (size_t)n_times,
                        tapers + (size_t)i * (size_t)n_times, sizeof(double) * (size_t)n_times);
                eig[kept++] = eig[i];
            }
        }
        if (kept == 0) {
            memmove(tapers, tapers + (size_t)best * (size_t)n_times,
                    sizeof(double) * (size_t)n_times);
            eig[0] = eig[best];
            kept = 1;
        }
        k = kept;
    }
    if (!st) {
        double eig_sum = 0.0;
        for (int i = 0; i < k; i++) eig_sum += eig[i];
        /* MNE: psd = 2 sum_k l_k |X_k|^2 / sum_k l_k with DC and Nyquist halved,
         * normalization='full' divides by sfreq */
        st = spectra(x, n_times, n_channels, tapers, eig, k, 1.0 / (eig_sum * sfreq), psd);
    }
    if (!st && n_tapers) *n_tapers = k;
    if (!st && freqs)
        for (int64_t f = 0; f <= n_times / 2; f++) freqs[f] = (double)f * sfreq / (double)n_times;
    btfm_free(tapers);
    return st;
}
