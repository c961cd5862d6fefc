/* Unit tests of the spectral functions against closed forms: the DFT of a cosine, the
 * inverse of the forward transform, Parseval, batched against single transforms, white
 * noise PSD levels, a sinusoid's power, band power of a flat spectrum, DPSS
 * orthonormality, FIR identities, ERP features of known waveforms; and the errors.
 * Interop against NumPy, SciPy and MNE lives in tests/spectrum/. */
#include <math.h>
#include <stdio.h>
#include "unit.h"
#include "spectrum/spectrum_internal.h"

static const double PI = 3.14159265358979323846;

/* Deterministic standard normal numbers (xorshift + Box-Muller). */
static uint64_t rng_state = 88172645463325252ull;
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2.0 * log(uniform())) * cos(2.0 * PI * uniform()); }

static const int64_t lengths[] = {1, 2, 3, 5, 7, 8, 12, 17, 30, 64, 67, 97, 210, 256,
                                  1009, 1024, 30030};

START_TEST(test_fft_cosine_is_two_spikes)
{
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        const int64_t n = lengths[i];
        if (n < 4) continue;
        const int64_t k0 = n / 3;
        double *x = malloc(sizeof(double) * (size_t)n), *X = malloc(sizeof(double) * (size_t)(n + 2));
        for (int64_t t = 0; t < n; t++) x[t] = cos(2.0 * PI * (double)(k0 * t % n) / (double)n);
        btfm_fft *plan;
        ck_assert_ok(btfm_fft_new(&plan, n));
        ck_assert_int_eq(btfm_fft_length(plan), n);
        ck_assert_ok(btfm_fft_rfft(plan, x, X));
        for (int64_t k = 0; k <= n / 2; k++) {
            double expect = k == k0 ? (double)n / 2.0 : 0.0;
            ck_assert_msg(fabs(X[2 * k] - expect) < 1e-9 * (double)n && fabs(X[2 * k + 1]) < 1e-9 * (double)n,
                          "n = %lld, bin %lld: %g%+gi, expected %g", (long long)n,
                          (long long)k, X[2 * k], X[2 * k + 1], expect);
        }
        btfm_fft_free(plan);
        free(x);
        free(X);
    }
}
END_TEST

START_TEST(test_fft_inverse_and_parseval)
{
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        const int64_t n = lengths[i];
        double *x = malloc(sizeof(double) * (size_t)n), *y = malloc(sizeof(double) * (size_t)n);
        double *X = malloc(sizeof(double) * (size_t)(n + 2));
        double energy = 0.0;
        for (int64_t t = 0; t < n; t++) {
            x[t] = gauss();
            energy += x[t] * x[t];
        }
        btfm_fft *plan;
        ck_assert_ok(btfm_fft_new(&plan, n));
        ck_assert_ok(btfm_fft_rfft(plan, x, X));
        double spectral = 0.0; /* sum over all n bins of |X|^2, from the half spectrum */
        for (int64_t k = 0; k <= n / 2; k++) {
            double p = X[2 * k] * X[2 * k] + X[2 * k + 1] * X[2 * k + 1];
            spectral += (k == 0 || (n % 2 == 0 && k == n / 2)) ? p : 2.0 * p;
        }
        ck_assert_msg(fabs(spectral / (double)n - energy) <= 1e-12 * energy,
                      "Parseval fails at n = %lld: %.17g vs %.17g", (long long)n,
                      spectral / (double)n, energy);
        ck_assert_ok(btfm_fft_irfft(plan, X, y));
        ck_assert_all(t, n, fabs(y[t] - x[t]) < 1e-12 * sqrt(energy), "n = %lld, sample %lld",
                      (long long)n, (long long)t);
        /* in place: the spectrum buffer receives the signal */
        ck_assert_ok(btfm_fft_irfft(plan, X, X));
        ck_assert_all(t, n, fabs(X[t] - x[t]) < 1e-12 * sqrt(energy), "in place: n = %lld, "
                      "sample %lld", (long long)n, (long long)t);
        btfm_fft_free(plan);
        free(x);
        free(y);
        free(X);
    }
}
END_TEST

/* The batched kernels (BTFM_FFT_LANES transforms at once) give the single results. */
START_TEST(test_fft_lanes_match_single)
{
    enum { L = BTFM_FFT_LANES };
    const int64_t ns[] = {1, 6, 15, 97, 128, 131, 1000};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        const int64_t n = ns[i], bins = n / 2 + 1;
        btfm_fft *plan;
        ck_assert_ok(btfm_fft_new(&plan, n));
        double *x = malloc(sizeof(double) * (size_t)(n * L)), *X = malloc(sizeof(double) * (size_t)(2 * bins * L));
        double *y = malloc(sizeof(double) * (size_t)(n * L)), *one = malloc(sizeof(double) * (size_t)(n + 2));
        double *work = malloc(sizeof(double) * btfm_fft_work_doubles(plan, L));
        double *xs = malloc(sizeof(double) * (size_t)(n * L));
        for (int64_t j = 0; j < n * L; j++) xs[j] = x[j] = gauss();
        btfm_fft_forward_lanes(plan, x, X, work, L);
        for (int l = 0; l < L; l++) {
            double sig[1024];
            for (int64_t t = 0; t < n; t++) sig[t] = xs[t * L + l];
            ck_assert_ok(btfm_fft_rfft(plan, sig, one));
            for (int64_t k = 0; k < bins; k++) {
                ck_assert(fabs(X[2 * L * k + l] - one[2 * k]) < 1e-12 * (double)n);
                ck_assert(fabs(X[2 * L * k + L + l] - one[2 * k + 1]) < 1e-12 * (double)n);
            }
        }
        btfm_fft_inverse_lanes(plan, X, y, work, L);
        ck_assert_all(j, n * L, fabs(y[j] - xs[j]) < 1e-12 * (double)n, "n = %lld, value %lld",
                      (long long)n, (long long)j);
        btfm_fft_free(plan);
        free(x);
        free(X);
        free(y);
        free(one);
        free(work);
        free(xs);
    }
}
END_TEST

/* The smallest length whose batched transform takes the four-step path
 * (spectrum_internal.h; complex 8192 = 64 x 128; longer and Bluestein lengths are checked
 * against NumPy in tests/spectrum). Every lane holds a tone with its own bin and phase,
 * so the whole spectrum has a closed form: n/2 e^(i phase) at the tone's bin, zero
 * elsewhere. */
START_TEST(test_fft_four_step)
{
    enum { L = BTFM_FFT_LANES };
    const int64_t ns[] = {16384};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        const int64_t n = ns[i], bins = n / 2 + 1;
        btfm_fft *plan;
        ck_assert_ok(btfm_fft_new(&plan, n));
        ck_assert_msg(plan->c->first != NULL, "n = %lld has no four-step split", (long long)n);
        double *x = malloc(sizeof(double) * (size_t)(n * L)), *X = malloc(sizeof(double) * (size_t)(2 * bins * L));
        double *xs = malloc(sizeof(double) * (size_t)(n * L));
        double *work = malloc(sizeof(double) * btfm_fft_work_doubles(plan, L));
        int64_t bin[L];
        double phase[L];
        for (int l = 0; l < L; l++) {
            bin[l] = 1 + (n / 2 - 2) * l / (L - 1) + l * 37; /* low to high, odd offsets */
            if (bin[l] >= n / 2) bin[l] = n / 2 - 1 - l;
            phase[l] = 0.3 + 0.7 * l;
            for (int64_t t = 0; t < n; t++)
                xs[t * L + l] = x[t * L + l] =
                    cos(2.0 * PI * (double)(bin[l] * t % n) / (double)n + phase[l]);
        }
        btfm_fft_forward_lanes(plan, x, X, work, L);
        double worst = 0.0;
        for (int l = 0; l < L; l++)
            for (int64_t k = 0; k < bins; k++) {
                double er = k == bin[l] ? 0.5 * (double)n * cos(phase[l]) : 0.0;
                double ei = k == bin[l] ? 0.5 * (double)n * sin(phase[l]) : 0.0;
                double d = fmax(fabs(X[2 * L * k + l] - er), fabs(X[2 * L * k + L + l] - ei));
                if (d > worst) worst = d;
            }
        ck_assert_msg(worst < 1e-9 * (double)n, "n = %lld: largest error %g", (long long)n, worst);
        btfm_fft_inverse_lanes(plan, X, x, work, L); /* the forward one overwrote x */
        worst = 0.0;
        for (int64_t j = 0; j < n * L; j++) worst = fmax(worst, fabs(x[j] - xs[j]));
        ck_assert_msg(worst < 1e-12, "n = %lld: inverse off by %g", (long long)n, worst);
        btfm_fft_free(plan);
        free(x);
        free(xs);
        free(X);
        free(work);
    }
}
END_TEST

START_TEST(test_fft_errors)
{
    btfm_fft *plan = (btfm_fft *)1;
    ck_assert_status(btfm_fft_new(&plan, 0), BTFM_E_RANGE);
    ck_assert_ptr_null(plan);
    ck_assert_status(btfm_fft_new(NULL, 8), BTFM_E_INVALID);
    double x[8] = {0}, X[10];
    ck_assert_status(btfm_fft_rfft(NULL, x, X), BTFM_E_INVALID);
    ck_assert_int_eq(btfm_fft_length(NULL), BTFM_E_INVALID);
    ck_assert_ok(btfm_fft_new(&plan, 8));
    ck_assert_status(btfm_fft_rfft(plan, NULL, X), BTFM_E_INVALID);
    ck_assert_status(btfm_fft_irfft(plan, X, NULL), BTFM_E_INVALID);
    btfm_fft_free(plan);
    btfm_fft_free(NULL);
}
END_TEST

/* float entry points: the DFT of a cosine in single precision. */
START_TEST(test_fft_float)
{
    const int64_t n = 100;
    float x[100], X[102], y[100];
    for (int t = 0; t < n; t++) x[t] = (float)cos(2.0 * PI * 7.0 * t / (double)n);
    btfm_fft *plan;
    ck_assert_ok(btfm_fft_new(&plan, n));
    ck_assert_ok(btfm_fft_rfft_f32(plan, x, X));
    ck_assert(fabs(X[14] - 50.0f) < 1e-4);
    ck_assert(fabs(X[12]) < 1e-4);
    ck_assert_ok(btfm_fft_irfft_f32(plan, X, y));
    for (int t = 0; t < n; t++) ck_assert(fabs(y[t] - x[t]) < 1e-6);
    btfm_fft_free(plan);
}
END_TEST

static float *white_noise(int64_t n, int C, double sigma)
{
    float *x = malloc(sizeof(float) * (size_t)(n * C));
    for (int64_t j = 0; j < n * C; j++) x[j] = (float)(sigma * gauss());
    return x;
}

/* White noise of variance s^2 sampled at fs has the one-sided density s^2 / (fs / 2).
 * Averaged over the bins between DC and Nyquist of ~1000 segments, the estimate's
 * relative standard error is well under 1%; the bound is 3%. */
START_TEST(test_welch_white_noise_level)
{
    const int64_t n = UNIT_SIZE(1 << 17, 1 << 16); /* the mean of 127 bins over 1023 or 511
                                                    * segments: within 3% either way */
    const int C = 11;
    const double fs = 200.0, sigma = 3e-6;
    float *x = white_noise(n, C, sigma);
    const int windows[] = {BTFM_WINDOW_HANN, BTFM_WINDOW_HAMMING, BTFM_WINDOW_BLACKMAN,
                           BTFM_WINDOW_BOXCAR};
    double psd[129 * 11], freqs[129];
    for (int w = 0; w < 4; w++)
        for (int average = 0; average < 2; average++) {
            ck_assert_ok(btfm_welch(x, n, C, fs, windows[w], 256, -1, 0, BTFM_DETREND_CONSTANT,
                                    BTFM_SCALING_DENSITY, average, 0, psd, freqs));
            ck_assert_double_eq_tol(freqs[128], 100.0, 1e-12);
            for (int c = 0; c < C; c++) {
                double mean = 0.0;
                for (int f = 1; f < 128; f++) mean += psd[f * C + c];
                mean /= 127.0;
                double expect = sigma * sigma / (fs / 2.0);
                ck_assert_msg(fabs(mean / expect - 1.0) < 0.03, "window %d average %d channel "
                              "%d: mean density %g, expected %g", w, average, c, mean, expect);
            }
        }
    free(x);
}
END_TEST

/* A sinusoid A cos(2 pi f0 t) on a bin, boxcar window, spectrum scaling: the bin holds
 * its mean square A^2 / 2; DC holds the squared offset. */
START_TEST(test_welch_sinusoid_power)
{
    const int64_t n = 4096, nper = 512;
    const double fs = 512.0, amplitude = 2.5, offset = 0.75;
    float *x = malloc(sizeof(float) * (size_t)n);
    for (int64_t t = 0; t < n; t++)
        x[t] = (float)(offset + amplitude * cos(2.0 * PI * 40.0 * (double)t / fs));
    double psd[257];
    ck_assert_ok(btfm_welch(x, n, 1, fs, BTFM_WINDOW_BOXCAR, nper, 0, 0, BTFM_DETREND_NONE,
                            BTFM_SCALING_SPECTRUM, BTFM_AVERAGE_MEAN, 0, psd, NULL));
    ck_assert_double_eq_tol(psd[40], amplitude * amplitude / 2.0, 1e-5);
    ck_assert_double_eq_tol(psd[0], offset * offset, 1e-6);
    ck_assert(psd[39] < 1e-9 && psd[41] < 1e-9);
    /* constant detrending removes the offset */
    ck_assert_ok(btfm_welch(x, n, 1, fs, BTFM_WINDOW_BOXCAR, nper, 0, 0, BTFM_DETREND_CONSTANT,
                            BTFM_SCALING_SPECTRUM, BTFM_AVERAGE_MEAN, 0, psd, NULL));
    ck_assert(psd[0] < 1e-9);
    /* a pure ramp is removed entirely by linear detrending */
    for (int64_t t = 0; t < n; t++) x[t] = (float)(0.001 * (double)t - 1.0);
    ck_assert_ok(btfm_welch(x, n, 1, fs, BTFM_WINDOW_HANN, nper, -1, 0, BTFM_DETREND_LINEAR,
                            BTFM_SCALING_DENSITY, BTFM_AVERAGE_MEDIAN, 0, psd, NULL));
    for (int f = 0; f <= 256; f++) ck_assert(psd[f] < 1e-12);
    free(x);
}
END_TEST

START_TEST(test_welch_errors)
{
    float x[1000] = {0};
    double psd[600], freqs[600];
    ck_assert_status(btfm_welch(NULL, 1000, 1, 100, 0, 100, -1, 0, 1, 0, 0, 0, psd, freqs), BTFM_E_INVALID);
    ck_assert_status(btfm_welch(x, 1000, 1, 100, 0, 100, -1, 0, 1, 0, 0, 0, NULL, freqs), BTFM_E_INVALID);
    ck_assert_status(btfm_welch(x, 0, 1, 100, 0, 100, -1, 0, 1, 0, 0, 0, psd, freqs), BTFM_E_INVALID);
    ck_assert_status(btfm_welch(x, 100, 10, 100, 0, 101, -1, 0, 1, 0, 0, 0, psd, freqs), BTFM_E_RANGE);
    ck_assert(strstr(btfm_last_error(), "nperseg = 101") != NULL);
    ck_assert_status(btfm_welch(x, 1000, 1, 100, 0, 100, 100, 0, 1, 0, 0, 0, psd, freqs), BTFM_E_RANGE);
    ck_assert(strstr(btfm_last_error(), "noverlap") != NULL);
    ck_assert_status(btfm_welch(x, 1000, 1, 100, 0, 100, -1, 50, 1, 0, 0, 0, psd, freqs), BTFM_E_RANGE);
    ck_assert_status(btfm_welch(x, 1000, 1, -5, 0, 100, -1, 0, 1, 0, 0, 0, psd, freqs), BTFM_E_RANGE);
    ck_assert_status(btfm_welch(x, 1000, 1, 100, 9, 100, -1, 0, 1, 0, 0, 0, psd, freqs), BTFM_E_INVALID);
    ck_assert_status(btfm_welch(x, 1000, 1, 100, 0, 100, -1, 0, 3, 0, 0, 0, psd, freqs), BTFM_E_INVALID);
    ck_assert_status(btfm_welch(x, 1000, 1, 100, 0, 100, -1, 0, 1, 2, 0, 0, psd, freqs), BTFM_E_INVALID);
    ck_assert_status(btfm_welch(x, 1000, 1, 100, 0, 100, -1, 0, 1, 0, 2, 0, psd, freqs), BTFM_E_INVALID);
}
END_TEST

/* The plan and btfm_welch share one computation: identical bytes for each option set;
 * Kaiser (plan only) with beta 0 is the boxcar window. */
START_TEST(test_welch_plan_matches_welch)
{
    enum { N = 1009, C = 3 }; /* a prime length */
    float x[N * C];
    for (int j = 0; j < N * C; j++) x[j] = (float)gauss();
    static double a[505 * C], b[505 * C], fa[505], fb[505];
    /* window, nperseg, noverlap, nfft, detrend, scaling, average, flags */
    const int64_t sets[][8] = {
        {BTFM_WINDOW_HANN, 0, -1, 0, BTFM_DETREND_CONSTANT, 0, 0, 0},
        {BTFM_WINDOW_HAMMING, 128, 100, 256, BTFM_DETREND_LINEAR, 1, 1, 0},
        {BTFM_WINDOW_BLACKMAN, 97, 0, 97, BTFM_DETREND_NONE, 0, 1, BTFM_ALLOW_NONFINITE},
        {BTFM_WINDOW_BOXCAR, N, 0, 0, BTFM_DETREND_CONSTANT, 1, 0, 0},
    };
    btfm_welch_plan *p;
    ck_assert_ok(btfm_welch_plan_new(&p));
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        const int64_t *o = sets[k];
        for (int i = 0; i < 7; i++) /* the parameters in the order of the set */
            ck_assert_ok(btfm_welch_plan_set_param(p, i == 0 ? 0 : i + 1, (double)o[i]));
        ck_assert_ok(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_ALLOW_NONFINITE, o[7] != 0));
        int64_t nf = btfm_welch_plan_n_freqs(p, N);
        const int64_t nfft = o[3] ? o[3] : o[1] ? o[1] : 256;
        ck_assert_int_eq(nf, nfft / 2 + 1);
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        ck_assert_ok(btfm_welch(x, N, C, 250, (int)o[0], o[1], o[2], o[3], (int)o[4], (int)o[5],
                                (int)o[6], (unsigned)o[7], a, fa));
        ck_assert_ok(btfm_welch_plan_run(p, b, fb, x, N, C, 250));
        ck_assert_mem_eq(a, b, (size_t)(nf * C) * sizeof(double));
        ck_assert_mem_eq(fa, fb, (size_t)nf * sizeof(double));
    }
    ck_assert_ok(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_WINDOW, BTFM_WINDOW_KAISER));
    ck_assert_ok(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_KAISER_BETA, 0));
    ck_assert_ok(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_NPERSEG, 200));
    ck_assert_ok(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_NOVERLAP, -1));
    ck_assert_ok(btfm_welch_plan_run(p, b, NULL, x, N, C, 250));
    ck_assert_ok(btfm_welch(x, N, C, 250, BTFM_WINDOW_BOXCAR, 200, -1, 0, BTFM_DETREND_CONSTANT,
                            1, 0, 0, a, NULL));
    for (int j = 0; j < 101 * C; j++) ck_assert_double_eq_tol(b[j], a[j], 1e-12 * fabs(a[j]));
    /* Options that do not fit the signal, bad values, introspection. */
    ck_assert_ok(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_NPERSEG, 2000));
    ck_assert_int_eq(btfm_welch_plan_n_freqs(p, N), BTFM_E_RANGE);
    ck_assert_status(btfm_welch_plan_run(p, b, NULL, x, N, C, 250), BTFM_E_RANGE);
    ck_assert(strstr(btfm_last_error(), "btfm_welch_plan_run: nperseg = 2000") != NULL);
    ck_assert_status(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_WINDOW, 5), BTFM_E_RANGE);
    ck_assert_status(btfm_welch_plan_set_param(p, BTFM_WELCH_PARAM_NFFT, 1.5), BTFM_E_RANGE);
    double v;
    ck_assert_ok(btfm_welch_plan_get_param(p, BTFM_WELCH_PARAM_KAISER_BETA, &v));
    ck_assert(v == 0);
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_WELCH_PLAN), "welch_plan");
    int param;
    ck_assert_ok(btfm_param_find(BTFM_OBJECT_WELCH_PLAN, "noverlap", &param));
    ck_assert_int_eq(param, BTFM_WELCH_PARAM_NOVERLAP);
    ck_assert_status(btfm_welch_plan_run(NULL, b, NULL, x, N, C, 250), BTFM_E_INVALID);
    btfm_welch_plan_free(p);
    btfm_welch_plan_free(NULL);
}
END_TEST

/* NaN is refused with its channel and sample named, or propagates with the flag. */
START_TEST(test_nonfinite)
{
    const int C = 3;
    float x[300 * 3];
    for (int j = 0; j < 300 * C; j++) x[j] = (float)gauss();
    x[123 * C + 2] = NAN;
    double psd[65 * 3], freqs[65], power[3];
    ck_assert_status(btfm_welch(x, 300, C, 100, 0, 128, -1, 0, 1, 0, 0, 0, psd, freqs), BTFM_E_NUMERIC);
    ck_assert_msg(strstr(btfm_last_error(), "channel 2, sample 123") != NULL, "%s", btfm_last_error());
    ck_assert_ok(btfm_welch(x, 300, C, 100, 0, 128, -1, 0, 1, 0, 0,
                            BTFM_ALLOW_NONFINITE, psd, freqs));
    ck_assert(isnan(psd[10 * C + 2]));
    ck_assert(!isnan(psd[10 * C + 1]));
    ck_assert_ok(btfm_welch(x, 300, C, 100, 0, 128, -1, 0, 1, 0, BTFM_AVERAGE_MEDIAN,
                            BTFM_ALLOW_NONFINITE, psd, freqs));
    ck_assert(isnan(psd[10 * C + 2]));
    int k;
    double mt[151 * 3];
    ck_assert_status(btfm_psd_multitaper(x, 300, C, 100, 0, 1, 0, &k, mt, NULL), BTFM_E_NUMERIC);
    float out[300 * 3];
    double taps[3] = {0.25, 0.5, 0.25};
    ck_assert_status(btfm_fir_apply(x, 300, C, taps, 3, BTFM_CONV_SAME, 0, out), BTFM_E_NUMERIC);
    ck_assert_status(btfm_fir_zero_phase(x, 300, C, taps, 3, 0, out), BTFM_E_NUMERIC);
    ck_assert_status(btfm_erp_mean_amplitude(x, 3, 100, C, 100, 0, 0, 0.5, 0, power), BTFM_E_NUMERIC);
    ck_assert_msg(strstr(btfm_last_error(), "epoch 1, channel 2, sample 23") != NULL, "%s",
                  btfm_last_error());
    ck_assert_ok(btfm_erp_mean_amplitude(x, 3, 100, C, 100, 0, 0, 0.5, BTFM_ALLOW_NONFINITE, psd));
    ck_assert(isnan(psd[1 * C + 2]) && !isnan(psd[1 * C + 1]));
}
END_TEST

/* A flat PSD of level p integrates to p (fmax - fmin) when the edges fall on bins. */
START_TEST(test_band_power_flat)
{
    const int C = 2;
    double freqs[129], psd[129 * 2], power[5 * 2], bands[10];
    for (int f = 0; f <= 128; f++) {
        freqs[f] = 0.5 * f;
        psd[f * C] = 2.0;
        psd[f * C + 1] = 0.5 * f; /* a ramp: the trapezoid rule is exact */
    }
    static const char *const names[] = {"delta", "theta", "alpha", "beta", "gamma"};
    for (int b = 0; b < 5; b++) {
        ck_assert_ok(btfm_band_edges(b, &bands[2 * b], &bands[2 * b + 1]));
        ck_assert_str_eq(btfm_band_name(b), names[b]);
    }
    ck_assert_ptr_null(btfm_band_name(5));
    ck_assert_double_eq(bands[4], 8.0);
    ck_assert_double_eq(bands[5], 13.0);
    ck_assert_ok(btfm_band_power(psd, freqs, 129, C, bands, 5, 0, power));
    for (int b = 0; b < 5; b++) {
        double lo = bands[2 * b], hi = bands[2 * b + 1];
        ck_assert_double_eq_tol(power[b * C], 2.0 * (hi - lo), 1e-12);
        ck_assert_double_eq_tol(power[b * C + 1], (hi * hi - lo * lo) / 2.0, 1e-12);
    }
    ck_assert_ok(btfm_band_power(psd, freqs, 129, C, bands, 5, BTFM_SPECTRUM_RELATIVE, power));
    ck_assert_double_eq_tol(power[2 * C], 5.0 / 44.0, 1e-12);
    /* errors: outside the spectrum, reversed, fewer than two bins */
    double beyond[2] = {50.0, 70.0}, reversed[2] = {8.0, 4.0}, thin[2] = {10.1, 10.4};
    ck_assert_status(btfm_band_power(psd, freqs, 129, C, beyond, 1, 0, power), BTFM_E_RANGE);
    ck_assert(strstr(btfm_last_error(), "outside") != NULL);
    ck_assert_status(btfm_band_power(psd, freqs, 129, C, reversed, 1, 0, power), BTFM_E_RANGE);
    ck_assert_status(btfm_band_power(psd, freqs, 129, C, thin, 1, 0, power), BTFM_E_RANGE);
    ck_assert_status(btfm_band_power(psd, NULL, 129, C, bands, 1, 0, power), BTFM_E_INVALID);
    ck_assert_status(btfm_band_edges(7, &bands[0], &bands[1]), BTFM_E_INVALID);
    psd[3] = NAN;
    ck_assert_status(btfm_band_power(psd, freqs, 129, C, bands, 1, 0, power), BTFM_E_NUMERIC);
}
END_TEST

/* Symmetric DPSS tapers are orthonormal, concentrations decrease and lie in (0, 1). */
START_TEST(test_dpss_orthonormal)
{
    const int64_t n = 200;
    const int K = 6;
    double *v = malloc(sizeof(double) * (size_t)(n * K)), ratios[6];
    ck_assert_ok(btfm_dpss(n, 3.5, K, 1, v, ratios));
    for (int a = 0; a < K; a++) {
        for (int b = 0; b < K; b++) {
            double dot = 0.0;
            for (int64_t t = 0; t < n; t++) dot += v[a * n + t] * v[b * n + t];
            ck_assert_double_eq_tol(dot, a == b ? 1.0 : 0.0, 1e-10);
        }
        ck_assert(ratios[a] > 0.0 && ratios[a] < 1.0);
        if (a > 0) ck_assert(ratios[a] < ratios[a - 1]);
        double sum = 0.0; /* even tapers symmetric with positive mean, odd antisymmetric */
        for (int64_t t = 0; t < n; t++) sum += v[a * n + t];
        if (a % 2 == 0) ck_assert(sum > 0.0);
        for (int64_t t = 0; t < n; t++)
            ck_assert(fabs(v[a * n + t] - (a % 2 ? -1 : 1) * v[a * n + n - 1 - t]) < 1e-10);
    }
    ck_assert(ratios[0] > 0.999);
    ck_assert_status(btfm_dpss(n, 0.0, K, 1, v, ratios), BTFM_E_RANGE);
    ck_assert_status(btfm_dpss(n, 100.0, K, 1, v, ratios), BTFM_E_RANGE);
    ck_assert_status(btfm_dpss(n, 3.5, 0, 1, v, ratios), BTFM_E_RANGE);
    ck_assert_status(btfm_dpss(n, 3.5, K, 1, NULL, ratios), BTFM_E_INVALID);
    free(v);
}
END_TEST

/* Multitaper PSD of white noise: its sample variance over fs / 2 on average. */
START_TEST(test_multitaper_white_noise)
{
    /* 20 s of signal either way, so NW = 20 and the taper count stay the same */
    const int64_t n = UNIT_SIZE(20000, 5000);
    const int C = 3;
    const double fs = (double)n / 20.0, sigma = 2.0;
    float *x = white_noise(n, C, sigma);
    double *psd = malloc(sizeof(double) * (size_t)((n / 2 + 1) * C)), *freqs = malloc(sizeof(double) * (size_t)(n / 2 + 1));
    int k = 0;
    ck_assert_ok(btfm_psd_multitaper(x, n, C, fs, 2.0, 1, 0, &k, psd, freqs));
    /* NW = 20: int(2 NW) = 40 tapers, of which those concentrated > 0.9 are kept: about
     * the Shannon number 2 NW less one or two */
    double *tapers = malloc(sizeof(double) * (size_t)(40 * n)), ratios[40];
    ck_assert_ok(btfm_dpss(n, 20.0, 40, 0, tapers, ratios));
    int concentrated = 0;
    for (int i = 0; i < 40; i++) concentrated += ratios[i] > 0.9;
    ck_assert_int_eq(k, concentrated);
    ck_assert(k >= 37 && k <= 39);
    free(tapers);
    ck_assert_double_eq_tol(freqs[n / 2], fs / 2.0, 1e-9);
    /* Parseval: the average over bins is the channel's own sample variance over fs / 2
     * (tapers weight the samples nearly evenly), which takes the draw's luck out of the
     * comparison: 0.3% standard deviation at n = 5000 over random draws, the bound is 2%. */
    for (int c = 0; c < C; c++) {
        double mean = 0.0, sum = 0.0, sq = 0.0;
        for (int64_t f = 1; f < n / 2; f++) mean += psd[f * C + c];
        mean /= (double)(n / 2 - 1);
        for (int64_t t = 0; t < n; t++) sum += x[t * C + c];
        for (int64_t t = 0; t < n; t++) sq += (x[t * C + c] - sum / (double)n) * (x[t * C + c] - sum / (double)n);
        const double variance = sq / (double)n;
        ck_assert_msg(fabs(variance / (sigma * sigma) - 1.0) < 0.1, "channel %d: variance %g", c, variance);
        ck_assert_msg(fabs(mean / (variance / (fs / 2.0)) - 1.0) < 0.02, "channel %d: %g", c, mean);
    }
    ck_assert_status(btfm_psd_multitaper(x, n, C, fs, 0.01, 1, 0, &k, psd, freqs), BTFM_E_RANGE);
    ck_assert_status(btfm_psd_multitaper(x, n, C, 0.0, 2.0, 1, 0, &k, psd, freqs), BTFM_E_RANGE);
    free(x);
    free(psd);
    free(freqs);
}
END_TEST

/* FIR identities: a unit impulse response copies the signal; an impulse signal gives the
 * taps back; a symmetric filter leaves a constant scaled by the taps' sum (the odd
 * reflection of a constant is that constant). */
START_TEST(test_fir_identities)
{
    const int64_t n = 700;
    const int C = 10;
    float *x = white_noise(n, C, 1.0), *out = malloc(sizeof(float) * (size_t)((n + 64) * C));
    double one = 1.0;
    ck_assert_ok(btfm_fir_apply(x, n, C, &one, 1, BTFM_CONV_SAME, 0, out));
    for (int64_t j = 0; j < n * C; j++) ck_assert(fabsf(out[j] - x[j]) < 1e-6f);
    double taps[63];
    for (int k = 0; k < 63; k++) taps[k] = exp(-0.5 * (k - 31) * (k - 31) / 50.0);
    float impulse[100 * 2] = {0};
    impulse[0] = 1.0f;
    impulse[1] = 2.0f;
    ck_assert_int_eq(btfm_fir_output_length(100, 63, BTFM_CONV_FULL), 162);
    ck_assert_int_eq(btfm_fir_output_length(100, 63, BTFM_CONV_VALID), 38);
    ck_assert_ok(btfm_fir_apply(impulse, 100, 2, taps, 63, BTFM_CONV_FULL, 0, out));
    for (int k = 0; k < 162; k++) {
        double expect = k < 63 ? taps[k] : 0.0;
        ck_assert(fabs(out[2 * k] - expect) < 1e-6 && fabs(out[2 * k + 1] - 2 * expect) < 1e-6);
    }
    double sum = 0.0;
    for (int k = 0; k < 63; k++) sum += taps[k];
    for (int64_t j = 0; j < n * C; j++) x[j] = 3.0f;
    ck_assert_ok(btfm_fir_zero_phase(x, n, C, taps, 63, 0, out));
    for (int64_t j = 0; j < n * C; j++) ck_assert(fabs(out[j] - 3.0 * sum) < 1e-4);
    /* errors */
    ck_assert_status(btfm_fir_zero_phase(x, n, C, taps, 62, 0, out), BTFM_E_INVALID);
    ck_assert_status(btfm_fir_apply(x, 10, C, taps, 63, BTFM_CONV_VALID, 0, out), BTFM_E_RANGE);
    ck_assert_status(btfm_fir_apply(x, n, C, taps, 63, 7, 0, out), BTFM_E_INVALID);
    ck_assert_status(btfm_fir_apply(x, n, C, taps, 63, BTFM_CONV_SAME, 0, x), BTFM_E_INVALID);
    ck_assert_status(btfm_fir_apply(x, n, C, NULL, 63, BTFM_CONV_SAME, 0, out), BTFM_E_INVALID);
    ck_assert_status(btfm_fir_apply(x, n, C, taps, 0, BTFM_CONV_SAME, 0, out), BTFM_E_RANGE);
    taps[5] = INFINITY;
    ck_assert_status(btfm_fir_apply(x, n, C, taps, 63, BTFM_CONV_SAME, 0, out), BTFM_E_NUMERIC);
    ck_assert_int_lt(btfm_fir_output_length(10, 63, BTFM_CONV_VALID), 0);
    free(x);
    free(out);
}
END_TEST

/* ERP features of a known waveform: epoch e, channel c holds (c + 1) sin(pi t / 0.5)
 * scaled by (e + 1) on t in [-0.2, 0.798] s at 500 Hz: a positive peak at 0.25 s, a
 * negative one at 0.75 s, and a mean of 0 over [0, 0.5) shifted by known terms. */
START_TEST(test_erp_features)
{
    const int64_t E = 2, T = 500;
    const int C = 3;
    const double fs = 500.0, tmin = -0.2;
    float *x = malloc(sizeof(float) * (size_t)(E * T * C));
    for (int64_t e = 0; e < E; e++)
        for (int64_t t = 0; t < T; t++)
            for (int c = 0; c < C; c++) {
                double time = (-100.0 + (double)t) / fs;
                x[(e * T + t) * C + c] = (float)((double)(e + 1) * (c + 1) * sin(2.0 * PI * time));
            }
    double amp[6], lat[6];
    ck_assert_ok(btfm_erp_peak(x, E, T, C, fs, tmin, 0.0, 0.5, BTFM_PEAK_POS, 0, amp, lat));
    for (int k = 0; k < 6; k++) {
        ck_assert_double_eq_tol(amp[k], (double)(k / C + 1) * (k % C + 1), 1e-5);
        ck_assert_double_eq_tol(lat[k], 0.25, 1e-12);
    }
    ck_assert_ok(btfm_erp_peak(x, E, T, C, fs, tmin, 0.0, 0.798, BTFM_PEAK_ABS, 0, amp, lat));
    ck_assert_double_eq_tol(lat[0], 0.25, 1e-12); /* equal |peaks|: the first wins */
    ck_assert_ok(btfm_erp_peak(x, E, T, C, fs, tmin, 0.0, 0.798, BTFM_PEAK_NEG, 0, amp, lat));
    ck_assert_double_eq_tol(lat[4], 0.75, 1e-12);
    ck_assert_double_eq_tol(amp[4], -4.0, 1e-5);
    /* no positive value in [0.55, 0.95] -> NaN */
    ck_assert_ok(btfm_erp_peak(x, E, T, C, fs, tmin, 0.52, 0.7, BTFM_PEAK_POS, 0, amp, lat));
    ck_assert(isnan(amp[0]) && isnan(lat[0]));
    /* the whole epoch is one period: mean 0; over [0, 0.5] the mean of 251 samples */
    ck_assert_ok(btfm_erp_mean_amplitude(x, E, T, C, fs, tmin, -0.2, 0.798, 0, amp));
    for (int k = 0; k < 6; k++) ck_assert(fabs(amp[k]) < 1e-6);
    ck_assert_ok(btfm_erp_mean_amplitude(x, E, T, C, fs, tmin, 0.0, 0.5, 0, amp));
    double s = 0.0;
    for (int t = 0; t <= 250; t++) s += sin(2.0 * PI * t / fs);
    ck_assert_double_eq_tol(amp[5], 6.0 * s / 251.0, 1e-5);
    /* window errors as MNE's get_peak: outside the epoch, reversed, between samples */
    ck_assert_status(btfm_erp_mean_amplitude(x, E, T, C, fs, tmin, -0.3, 0.5, 0, amp), BTFM_E_RANGE);
    ck_assert_status(btfm_erp_mean_amplitude(x, E, T, C, fs, tmin, 0.0, 0.9, 0, amp), BTFM_E_RANGE);
    ck_assert_status(btfm_erp_mean_amplitude(x, E, T, C, fs, tmin, 0.5, 0.1, 0, amp), BTFM_E_RANGE);
    ck_assert_status(btfm_erp_mean_amplitude(x, E, T, C, fs, tmin, 0.1001, 0.1015, 0, amp), BTFM_E_RANGE);
    ck_assert_status(btfm_erp_peak(x, E, T, C, fs, tmin, 0.0, 0.5, 3, 0, amp, lat), BTFM_E_INVALID);
    ck_assert_status(btfm_erp_peak(x, E, T, C, fs, tmin, 0.0, 0.5, 0, 0, amp, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_erp_peak(x, 0, T, C, fs, tmin, 0.0, 0.5, 0, 0, amp, lat), BTFM_E_INVALID);
    free(x);
}
END_TEST

/* The sliding estimate (the stream's spectrum) against btfm_welch on each window it can
 * give: the blocked form (cosine windows, a step dividing the segment; bins folded at 0 Hz
 * and at Nyquist, 1-3 taps) and the per-segment form (a step that does not divide it,
 * nfft > nperseg), pushed in uneven chunks that straddle blocks. */
START_TEST(test_welch_sliding_matches_welch)
{
    enum { N = 150, C = 5, W = 48 };
    const double fs = 250;
    float x[N * C];
    for (int j = 0; j < N * C; j++) x[j] = (float)(gauss() + 3.0); /* an offset to detrend */
    static double ref[129 * C], fr[129], got[129 * C];
    /* window, nperseg, noverlap, nfft, detrend, fmin, fmax */
    const double sets[][7] = {
        {BTFM_WINDOW_HANN, 16, 8, 0, BTFM_DETREND_CONSTANT, 0, 125},
        {BTFM_WINDOW_HAMMING, 16, 12, 0, BTFM_DETREND_NONE, 20, 60},
        {BTFM_WINDOW_BLACKMAN, 24, 16, 0, BTFM_DETREND_CONSTANT, 0, 30},
        {BTFM_WINDOW_BOXCAR, 12, 6, 0, BTFM_DETREND_CONSTANT, 100, 125},
        {BTFM_WINDOW_HANN, 15, 6, 0, BTFM_DETREND_CONSTANT, 10, 110},
        {BTFM_WINDOW_HANN, 16, 8, 32, BTFM_DETREND_CONSTANT, 5, 50},
    };
    static const int chunks[] = {5, 1, 11, 3};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        const double *o = sets[k];
        const int64_t nperseg = (int64_t)o[1], step = nperseg - (int64_t)o[2];
        const int64_t nfft = o[3] ? (int64_t)o[3] : nperseg;
        const btfm_welch_options opt = {(int)o[0], 0, nperseg, (int64_t)o[2], (int64_t)o[3],
                                        (int)o[4], BTFM_SCALING_DENSITY, BTFM_AVERAGE_MEAN, 0};
        btfm_welch_sliding *w;
        ck_assert_ok(btfm_welch_sliding_new(&w, &opt, fs, W, C, o[5], o[6], "test"));
        const int K = btfm_welch_sliding_n_freqs(w);
        const double *freqs = btfm_welch_sliding_freqs(w);
        const int64_t k0 = (int64_t)llround(freqs[0] * (double)nfft / fs);
        ck_assert_msg(freqs[0] <= o[5] && freqs[K - 1] >= o[6], "set %zu: bins %g-%g Hz", k,
                      freqs[0], freqs[K - 1]);
        int64_t pos = 0, checked = 0;
        double worst = 0;
        for (int c = 0; pos < N; c++) {
            int64_t len = chunks[c % 4], next = pos < W ? W : pos + step - (pos - W) % step;
            if (len > next - pos) len = next - pos;
            if (len > N - pos) len = N - pos;
            btfm_welch_sliding_push(w, x + pos * C, len);
            pos += len;
            if (pos < W || (pos - W) % step) {
                ck_assert_status(btfm_welch_sliding_psd(w, got), BTFM_E_STATE);
                continue;
            }
            ck_assert_ok(btfm_welch_sliding_psd(w, got));
            ck_assert_ok(btfm_welch(x + (pos - W) * C, W, C, fs, (int)o[0], nperseg, (int64_t)o[2],
                                    (int64_t)o[3], (int)o[4], BTFM_SCALING_DENSITY,
                                    BTFM_AVERAGE_MEAN, 0, ref, fr));
            double top = 0;
            for (int j = 0; j < K * C; j++) top = fmax(top, ref[k0 * C + j]);
            for (int j = 0; j < K * C; j++)
                worst = fmax(worst, fabs(got[j] - ref[k0 * C + j]) / top);
            ck_assert_all(i, K, freqs[i] == fr[k0 + i], "set %zu: bin %lld is at %g Hz, not %g",
                          k, (long long)i, freqs[i], fr[k0 + i]);
            checked++;
        }
        ck_assert_msg(worst < 1e-12, "set %zu: largest difference %g of the largest bin", k, worst);
        ck_assert_int_eq(checked, (N - W) / step + 1);
        btfm_welch_sliding_free(w);
    }
}
END_TEST

static Suite *spectrum_suite(void)
{
    Suite *s = suite_create("spectrum");
    TCase *tc = tcase_create("core");
    unit_set_timeout(tc, 5.0); /* seconds of work on an idle machine */
    tcase_add_test(tc, test_fft_cosine_is_two_spikes);
    tcase_add_test(tc, test_fft_inverse_and_parseval);
    tcase_add_test(tc, test_fft_lanes_match_single);
    tcase_add_test(tc, test_fft_four_step);
    tcase_add_test(tc, test_fft_errors);
    tcase_add_test(tc, test_fft_float);
    tcase_add_test(tc, test_welch_white_noise_level);
    tcase_add_test(tc, test_welch_sinusoid_power);
    tcase_add_test(tc, test_welch_errors);
    tcase_add_test(tc, test_welch_plan_matches_welch);
    tcase_add_test(tc, test_welch_sliding_matches_welch);
    tcase_add_test(tc, test_nonfinite);
    tcase_add_test(tc, test_band_power_flat);
    tcase_add_test(tc, test_dpss_orthonormal);
    tcase_add_test(tc, test_multitaper_white_noise);
    tcase_add_test(tc, test_fir_identities);
    tcase_add_test(tc, test_erp_features);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(spectrum_suite)
