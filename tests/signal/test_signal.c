/* Unit tests of the signal layer against closed forms: pass-band gains of designed
 * filters, impulse responses against a direct-form-I recursion, steady states, exact
 * chunking, resampling and detrending of signals with known results, references,
 * interpolation, epochs of a ramp; and the error paths (NULL, ranges, NaN). SciPy/MNE
 * comparisons live in tests/signal/. */
#include <complex.h>
#include <math.h>
#include <stdint.h>
#include "unit.h"
#include "progress_watch.h"

/* |H(e^{jw})| of a cascade at w = 2 pi f / sfreq. */
static double gain(const double *sos, int n, double f, double sfreq)
{
    double complex z = cexp(I * 2 * M_PI * f / sfreq), h = 1;
    for (int s = 0; s < n; s++) {
        const double *c = sos + 6 * s;
        h *= (c[0] + c[1] / z + c[2] / (z * z)) / (c[3] + c[4] / z + c[5] / (z * z));
    }
    return cabs(h);
}

START_TEST(butter_gains)
{
    double sos[60];
    for (int order = 1; order <= 10; order++) {
        int n = btfm_butter_n_sections(order, BTFM_FILTER_LOWPASS);
        ck_assert_int_eq(n, (order + 1) / 2);
        ck_assert_ok(btfm_butter(order, BTFM_FILTER_LOWPASS, 40, 0, 512, sos, 60));
        ck_assert_double_eq_tol(gain(sos, n, 0, 512), 1.0, 1e-12);
        ck_assert_double_eq_tol(gain(sos, n, 40, 512), sqrt(0.5), 1e-9); /* -3 dB at cutoff */
        ck_assert_ok(btfm_butter(order, BTFM_FILTER_HIGHPASS, 1, 0, 512, sos, 60));
        ck_assert_double_eq_tol(gain(sos, n, 256, 512), 1.0, 1e-12);
        ck_assert_double_eq_tol(gain(sos, n, 1, 512), sqrt(0.5), 1e-9);
        n = btfm_butter_n_sections(order, BTFM_FILTER_BANDPASS);
        ck_assert_int_eq(n, order);
        ck_assert_ok(btfm_butter(order, BTFM_FILTER_BANDPASS, 8, 12, 250, sos, 60));
        /* unit gain at the geometric centre of the pre-warped band edges */
        double w1 = tan(M_PI * 8 / 250), w2 = tan(M_PI * 12 / 250);
        double fc = atan(sqrt(w1 * w2)) * 250 / M_PI;
        ck_assert_double_eq_tol(gain(sos, n, fc, 250), 1.0, 1e-9);
        ck_assert_double_eq_tol(gain(sos, n, 8, 250), sqrt(0.5), 1e-8);
        ck_assert_ok(btfm_butter(order, BTFM_FILTER_BANDSTOP, 8, 12, 250, sos, 60));
        ck_assert_double_eq_tol(gain(sos, n, 0, 250), 1.0, 1e-9);
        ck_assert(gain(sos, n, fc, 250) < 1e-6); /* zero at the centre */
    }
}
END_TEST

START_TEST(notch_gains)
{
    double sos[6];
    ck_assert_ok(btfm_iirnotch(50, 30, 1000, sos));
    ck_assert(gain(sos, 1, 50, 1000) < 1e-12);
    ck_assert_double_eq_tol(gain(sos, 1, 0, 1000), 1.0, 1e-12);
    /* the -3 dB points lie freq / Q apart */
    ck_assert_status(btfm_iirnotch(600, 30, 1000, sos), BTFM_E_RANGE);
    ck_assert_status(btfm_iirnotch(50, 0, 1000, sos), BTFM_E_RANGE);
}
END_TEST

START_TEST(design_errors)
{
    double sos[60];
    ck_assert_status(btfm_butter(0, BTFM_FILTER_LOWPASS, 10, 0, 100, sos, 60), BTFM_E_RANGE);
    ck_assert(strstr(btfm_last_error(), "order 0 is outside [1, 10]"));
    ck_assert_status(btfm_butter(11, BTFM_FILTER_LOWPASS, 10, 0, 100, sos, 60), BTFM_E_RANGE);
    ck_assert_status(btfm_butter(4, BTFM_FILTER_LOWPASS, 50, 0, 100, sos, 60), BTFM_E_RANGE);
    ck_assert(strstr(btfm_last_error(), "50 Hz is outside (0, 50)"));
    ck_assert_status(btfm_butter(4, BTFM_FILTER_LOWPASS, 0, 0, 100, sos, 60), BTFM_E_RANGE);
    ck_assert_status(btfm_butter(4, BTFM_FILTER_BANDPASS, 20, 10, 100, sos, 60), BTFM_E_RANGE);
    ck_assert_status(btfm_butter(4, BTFM_FILTER_BANDPASS, 10, NAN, 100, sos, 60), BTFM_E_RANGE);
    ck_assert_status(btfm_butter(4, 9, 10, 0, 100, sos, 60), BTFM_E_INVALID);
    ck_assert_status(btfm_butter(4, BTFM_FILTER_BANDPASS, 10, 20, 100, sos, 23), BTFM_E_RANGE);
    ck_assert_status(btfm_butter(4, BTFM_FILTER_LOWPASS, 10, 0, 100, NULL, 60), BTFM_E_INVALID);
    ck_assert_str_eq(btfm_filter_kind_name(BTFM_FILTER_BANDSTOP), "bandstop");
    ck_assert_ptr_null(btfm_filter_kind_name(0));
}
END_TEST

/* Direct form I recursion of one section, in double: the independent reference. */
static void df1(const double *c, const double *x, double *y, int n)
{
    for (int t = 0; t < n; t++) {
        double v = c[0] * x[t];
        if (t >= 1) v += c[1] * x[t - 1] - c[4] * y[t - 1];
        if (t >= 2) v += c[2] * x[t - 2] - c[5] * y[t - 2];
        y[t] = v / c[3];
    }
}

START_TEST(impulse_response)
{
    double sos[12];
    ck_assert_ok(btfm_butter(4, BTFM_FILTER_LOWPASS, 30, 0, 250, sos, 12));
    enum { N = 200, C = 19 };
    float x[N * C] = {0}, y[N * C];
    for (int c = 0; c < C; c++) x[c] = (float)(c + 1); /* impulse of height c + 1 */
    ck_assert_ok(btfm_sosfilt(sos, 2, x, N, C, NULL, 0, y));
    double in[N] = {1}, mid[N], out[N];
    df1(sos, in, mid, N);
    df1(sos + 6, mid, out, N);
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++)
            ck_assert_double_eq_tol(y[t * C + c], (c + 1) * out[t], 1e-6 * (c + 1));
}
END_TEST

START_TEST(steady_state_and_chunks)
{
    double sos[24], zi[8];
    ck_assert_ok(btfm_butter(4, BTFM_FILTER_LOWPASS, 10, 0, 100, sos, 24));
    ck_assert_ok(btfm_sosfilt_zi(sos, 2, zi));
    enum { N = 500, C = 3 };
    static float x[N * C], y[N * C], y2[N * C];
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++) x[t * C + c] = (float)(c - 1) * 2.5f;
    /* a constant input started in its steady state stays there (DC gain 1) */
    double state[2 * 2 * C], state2[2 * 2 * C];
    for (int s = 0; s < 4; s++)
        for (int c = 0; c < C; c++) state[s * C + c] = state2[s * C + c] = zi[s] * x[c];
    ck_assert_ok(btfm_sosfilt(sos, 2, x, N, C, state, 0, y));
    for (int i = 0; i < N * C; i++) ck_assert_double_eq_tol(y[i], x[i], 1e-5);
    /* chunks of 1, 7 and the rest give the one-shot result bit for bit */
    for (int i = 0; i < N * C; i++) x[i] = (float)sin(0.1 * i) + (float)(i % 7);
    ck_assert_ok(btfm_sosfilt(sos, 2, x, N, C, state, 0, y));
    ck_assert_ok(btfm_sosfilt(sos, 2, x, 1, C, state2, 0, y2));
    ck_assert_ok(btfm_sosfilt(sos, 2, x + C, 7, C, state2, 0, y2 + C));
    ck_assert_ok(btfm_sosfilt(sos, 2, x + 8 * C, N - 8, C, state2, 0, y2 + 8 * C));
    ck_assert_mem_eq(y, y2, sizeof y);
    ck_assert_mem_eq(state, state2, sizeof state);
    /* the handle does the same */
    btfm_iir *f;
    ck_assert_ok(btfm_iir_new(&f, sos, 2, C));
    ck_assert_ok(btfm_iir_reset(f, x));
    ck_assert_int_eq(btfm_iir_n_sections(f), 2);
    ck_assert_ok(btfm_iir_process(f, x, N, 0, y2));
    double zero_state[4 * C];
    for (int s = 0; s < 4; s++)
        for (int c = 0; c < C; c++) zero_state[s * C + c] = zi[s] * x[c];
    ck_assert_ok(btfm_sosfilt(sos, 2, x, N, C, zero_state, 0, y));
    ck_assert_mem_eq(y, y2, sizeof y);
    ck_assert_status(btfm_iir_state(f, state, 3), BTFM_E_RANGE);
    btfm_iir_free(f);
    btfm_iir_free(NULL);
}
END_TEST

START_TEST(nonfinite_and_errors)
{
    double sos[6], state[4] = {1, 2, 3, 4};
    ck_assert_ok(btfm_butter(2, BTFM_FILTER_LOWPASS, 10, 0, 100, sos, 6));
    float x[100 * 2], y[100 * 2];
    for (int i = 0; i < 200; i++) x[i] = (float)i;
    x[2 * 57 + 1] = INFINITY;
    ck_assert_status(btfm_sosfilt(sos, 1, x, 100, 2, state, 0, y), BTFM_E_NUMERIC);
    ck_assert(strstr(btfm_last_error(), "channel 1, sample 57 holds Inf"));
    ck_assert_double_eq(state[0], 1); /* unchanged on failure */
    ck_assert_status(btfm_sosfiltfilt(sos, 1, x, 100, 2, BTFM_PAD_ODD, -1, 0, y), BTFM_E_NUMERIC);
    ck_assert(strstr(btfm_last_error(), "channel 1, sample 57"));
    ck_assert_status(btfm_sosfiltfilt(sos, 1, x, 100, 2, BTFM_PAD_ODD, -1, 0, x), BTFM_E_NUMERIC);
    ck_assert(isinf(x[2 * 57 + 1]) && x[0] == 0); /* in place: untouched */
    ck_assert_ok(btfm_sosfilt(sos, 1, x, 100, 2, NULL, BTFM_ALLOW_NONFINITE, y));
    ck_assert(!isfinite(y[2 * 99 + 1]) && isfinite(y[2 * 99]));
    x[2 * 57 + 1] = 0;
    ck_assert_status(btfm_sosfilt(NULL, 1, x, 100, 2, NULL, 0, y), BTFM_E_INVALID);
    ck_assert_status(btfm_sosfilt(sos, 0, x, 100, 2, NULL, 0, y), BTFM_E_RANGE);
    ck_assert_status(btfm_sosfilt(sos, 1, x, 100, 0, NULL, 0, y), BTFM_E_RANGE);
    ck_assert_status(btfm_sosfilt(sos, 1, NULL, 100, 2, NULL, 0, y), BTFM_E_INVALID);
    ck_assert_ok(btfm_sosfilt(sos, 1, NULL, 0, 2, NULL, 0, NULL)); /* empty input */
    ck_assert_status(btfm_sosfiltfilt(sos, 1, x, 9, 2, BTFM_PAD_ODD, -1, 0, y), BTFM_E_RANGE);
    ck_assert(strstr(btfm_last_error(), "9 samples"));
    ck_assert_status(btfm_sosfiltfilt(sos, 1, x, 100, 2, 7, -1, 0, y), BTFM_E_INVALID);
    double bad[6] = {1, 0, 0, 0, 0, 0};
    ck_assert_status(btfm_sosfilt(bad, 1, x, 100, 2, NULL, 0, y), BTFM_E_INVALID);
    btfm_iir *f = (btfm_iir *)1;
    ck_assert_status(btfm_iir_new(&f, sos, 1, 0), BTFM_E_RANGE);
    ck_assert_ptr_null(f);
    ck_assert_status(btfm_iir_process(NULL, x, 1, 0, y), BTFM_E_INVALID);
}
END_TEST

START_TEST(zero_phase_of_a_slow_sine)
{
    /* a sine inside the pass band comes out scaled by |H|^2 and without delay */
    enum { N = 4000, C = 2 };
    static float x[N * C], y[N * C];
    double sos[24];
    ck_assert_ok(btfm_butter(4, BTFM_FILTER_BANDPASS, 1, 40, 500, sos, 24));
    for (int t = 0; t < N; t++) x[t * C] = x[t * C + 1] = (float)sin(2 * M_PI * 10 * t / 500.0);
    ck_assert_ok(btfm_sosfiltfilt(sos, 4, x, N, C, BTFM_PAD_ODD, -1, 0, y));
    double g = gain(sos, 4, 10, 500);
    /* the edge transients of a 1 Hz high-pass edge decay over about 3 s */
    for (int t = 1500; t < N - 1500; t++) ck_assert_double_eq_tol(y[t * C], g * g * x[t * C], 1e-4);
}
END_TEST

/* A filter cancelled in place leaves the signal as it was; watched to the end it gives
 * the same bits as without a callback. Channels and samples enough for several batches
 * (tiles of 32 channels, blocks of 512 output samples). */
START_TEST(cancel_leaves_the_signal)
{
    enum { N = 700, C = 130 };
    float *x = malloc(sizeof(float) * N * C * 4), *keep = x + N * C, *want = keep + N * C,
          *out = want + N * C;
    for (int i = 0; i < N * C; i++) x[i] = (float)sin(0.01 * i) + (float)(i % 7) * 0.1f;
    memcpy(keep, x, sizeof(float) * N * C);
    double sos[12];
    ck_assert_ok(btfm_butter(4, BTFM_FILTER_LOWPASS, 30, 0, 250, sos, 12));
    ck_assert_ok(btfm_sosfiltfilt(sos, 2, x, N, C, BTFM_PAD_ODD, -1, 0, want));
    watched w = {0, 2, 0, 0};
    btfm_set_thread_progress(watch, &w);
    ck_assert_status(btfm_sosfiltfilt(sos, 2, x, N, C, BTFM_PAD_ODD, -1, 0, x), BTFM_E_CANCELLED);
    ck_assert_int_eq(w.calls, 2);
    ck_assert_mem_eq(x, keep, sizeof(float) * N * C);
    w = (watched){0, 0, 0, 0};
    ck_assert_ok(btfm_sosfiltfilt(sos, 2, x, N, C, BTFM_PAD_ODD, -1, 0, x));
    ck_assert(w.last == 1.0 && w.backwards == 0 && w.calls >= 3);
    ck_assert_mem_eq(x, want, sizeof(float) * N * C);
    /* resampling by 3: 2100 output samples of 2 channels, five blocks */
    btfm_set_thread_progress(NULL, NULL);
    ck_assert_ok(btfm_resample_poly(keep, N, 2, 3, 1, 0, want));
    w = (watched){0, 2, 0, 0};
    btfm_set_thread_progress(watch, &w);
    ck_assert_status(btfm_resample_poly(keep, N, 2, 3, 1, 0, out), BTFM_E_CANCELLED);
    w = (watched){0, 0, 0, 0};
    ck_assert_ok(btfm_resample_poly(keep, N, 2, 3, 1, 0, out));
    ck_assert(w.last == 1.0 && w.backwards == 0 && w.calls >= 3);
    ck_assert_mem_eq(out, want, sizeof(float) * 3 * N * 2);
    btfm_set_thread_progress(NULL, NULL);
    free(x);
}
END_TEST

START_TEST(firwin_closed_forms)
{
    double h[101];
    ck_assert_ok(btfm_firwin(101, BTFM_FILTER_LOWPASS, 20, 0, BTFM_FIR_WINDOW_HAMMING, 0, 250, h));
    double sum = 0;
    for (int i = 0; i < 101; i++) {
        sum += h[i];
        ck_assert_double_eq_tol(h[i], h[100 - i], 1e-15); /* linear phase */
    }
    ck_assert_double_eq_tol(sum, 1.0, 1e-12);
    ck_assert_ok(btfm_firwin(101, BTFM_FILTER_HIGHPASS, 20, 0, BTFM_FIR_WINDOW_KAISER, 8, 250, h));
    double alt = 0;
    for (int i = 0; i < 101; i++) alt += h[i] * (i % 2 ? -1 : 1);
    ck_assert_double_eq_tol(fabs(alt), 1.0, 1e-12); /* unit gain at Nyquist */
    ck_assert_status(btfm_firwin(100, BTFM_FILTER_HIGHPASS, 20, 0, 1, 0, 250, h), BTFM_E_RANGE);
    ck_assert_status(btfm_firwin(11, BTFM_FILTER_LOWPASS, 20, 0, 9, 0, 250, h), BTFM_E_INVALID);
    ck_assert_status(btfm_firwin(11, BTFM_FILTER_LOWPASS, 125, 0, 1, 0, 250, h), BTFM_E_RANGE);
}
END_TEST

/* The deprecated names give the same results as the one vocabulary: each
 * btfm_fir_window number through btfm_firwin equals its btfm_window through
 * btfm_fir_design, tap for tap; the names agree; the non-finite flag has one value under
 * its three names; the Welch window is the periodic form of the design window (the
 * symmetric one of n + 1 samples without its last), against the formulas by hand. */
START_TEST(old_and_new_window_names_agree)
{
    static const int pairs[][2] = {{BTFM_FIR_WINDOW_HAMMING, BTFM_WINDOW_HAMMING},
                                   {BTFM_FIR_WINDOW_HANN, BTFM_WINDOW_HANN},
                                   {BTFM_FIR_WINDOW_BLACKMAN, BTFM_WINDOW_BLACKMAN},
                                   {BTFM_FIR_WINDOW_KAISER, BTFM_WINDOW_KAISER},
                                   {BTFM_FIR_WINDOW_RECTANGULAR, BTFM_WINDOW_BOXCAR}};
    for (int p = 0; p < 5; p++) {
        double old_taps[63], new_taps[63];
        ck_assert_ok(btfm_firwin(63, BTFM_FILTER_BANDPASS, 8, 30, pairs[p][0], 6.5, 250,
                                 old_taps));
        ck_assert_ok(btfm_fir_design(new_taps, 63, BTFM_FILTER_BANDPASS, 8, 30, pairs[p][1], 6.5,
                                     250));
        ck_assert_msg(memcmp(old_taps, new_taps, sizeof old_taps) == 0, "window %s differs",
                      btfm_window_name(pairs[p][1]));
        ck_assert_str_eq(btfm_fir_window_name(pairs[p][0]), btfm_window_name(pairs[p][1]));
    }
    ck_assert_ptr_null(btfm_window_name(5));
    ck_assert_ptr_null(btfm_fir_window_name(0));
    double h[11];
    ck_assert_status(btfm_fir_design(h, 11, BTFM_FILTER_LOWPASS, 20, 0, 5, 0, 250), BTFM_E_INVALID);
    ck_assert_status(btfm_fir_design(h, 11, BTFM_FILTER_LOWPASS, 20, 0, BTFM_WINDOW_KAISER, -1,
                                     250), BTFM_E_RANGE);
    ck_assert_int_eq(BTFM_SIGNAL_ALLOW_NONFINITE, BTFM_ALLOW_NONFINITE);
    ck_assert_int_eq(BTFM_SPECTRUM_PROPAGATE_NONFINITE, BTFM_ALLOW_NONFINITE);

    /* The same spectrum under the deprecated non-finite names, and the Hann periodogram of
     * one segment of a cosine: 0.5 - 0.5 cos(2 pi k / n) by hand. */
    enum { N = 64 };
    float x[N];
    double w[N], by_hand = 0, psd[3][N / 2 + 1];
    for (int t = 0; t < N; t++) {
        x[t] = (float)cos(2 * M_PI * 5 * t / N);
        w[t] = 0.5 - 0.5 * cos(2 * M_PI * t / N);
    }
    const unsigned flags[3] = {BTFM_ALLOW_NONFINITE, BTFM_SIGNAL_ALLOW_NONFINITE,
                               BTFM_SPECTRUM_PROPAGATE_NONFINITE};
    for (int f = 0; f < 3; f++)
        ck_assert_ok(btfm_welch(x, N, 1, 1.0, BTFM_WINDOW_HANN, N, 0, N, BTFM_DETREND_NONE,
                                BTFM_SCALING_SPECTRUM, BTFM_AVERAGE_MEAN, flags[f], psd[f], NULL));
    ck_assert(memcmp(psd[0], psd[1], sizeof psd[0]) == 0 && memcmp(psd[0], psd[2], sizeof psd[0]) == 0);
    double re = 0, im = 0, sum_w = 0;
    for (int t = 0; t < N; t++) {
        re += w[t] * x[t] * cos(2 * M_PI * 5 * t / N);
        im -= w[t] * x[t] * sin(2 * M_PI * 5 * t / N);
        sum_w += w[t];
    }
    by_hand = 2 * (re * re + im * im) / (sum_w * sum_w); /* one-sided, spectrum scaling */
    ck_assert_double_eq_tol(psd[0][5], by_hand, 1e-6 * by_hand);
    /* Kaiser needs a beta, which btfm_welch does not take. */
    ck_assert_status(btfm_welch(x, N, 1, 1.0, BTFM_WINDOW_KAISER, N, 0, N, BTFM_DETREND_NONE,
                                BTFM_SCALING_SPECTRUM, BTFM_AVERAGE_MEAN, 0, psd[0], NULL),
                     BTFM_E_INVALID);
}
END_TEST

START_TEST(resample_constant_and_identity)
{
    enum { N = 1000, C = 17 };
    static float x[N * C], y[N * C * 2];
    for (int i = 0; i < N * C; i++) x[i] = 3.0f;
    ck_assert_int_eq(btfm_resample_poly_len(N, 1, 4), 250);
    ck_assert_int_eq(btfm_resample_poly_len(N, 3, 2), 1500);
    ck_assert_ok(btfm_resample_poly(x, N, C, 1, 4, 0, y));
    for (int t = 20; t < 230; t++) /* away from the zero-padded edges */
        for (int c = 0; c < C; c++) ck_assert_double_eq_tol(y[t * C + c], 3.0, 1e-3);
    for (int i = 0; i < N * C; i++) x[i] = (float)(i % 13);
    ck_assert_ok(btfm_resample_poly(x, N, C, 5, 5, 0, y));
    ck_assert_mem_eq(x, y, sizeof x);
    ck_assert_status(btfm_resample_poly(x, N, C, 0, 4, 0, y), BTFM_E_RANGE);
    ck_assert_status(btfm_resample_poly(x, N, C, 1, 4, 0, x), BTFM_E_INVALID);
}
END_TEST

START_TEST(detrend_lines)
{
    enum { N = 301, C = 4 };
    static float x[N * C], y[N * C];
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++) x[t * C + c] = (float)(c * 1.5 - 0.25 * c * t);
    ck_assert_ok(btfm_detrend(x, N, C, BTFM_DETREND_LINEAR, 0, y));
    for (int i = 0; i < N * C; i++) ck_assert_double_eq_tol(y[i], 0, 1e-4);
    ck_assert_ok(btfm_detrend(x, N, C, BTFM_DETREND_CONSTANT, 0, y));
    for (int t = 0; t < N; t++) /* mean of c * 1.5 - 0.25 c t over t is c * 1.5 - 37.5 c */
        for (int c = 0; c < C; c++) ck_assert_double_eq_tol(y[t * C + c], -0.25 * c * (t - 150.0), 1e-4);
    ck_assert_status(btfm_detrend(x, N, C, 3, 0, y), BTFM_E_INVALID);
}
END_TEST

START_TEST(references_and_interpolation)
{
    enum { N = 3, C = 4 };
    float x[N * C] = {1, 2, 3, 10, 4, 6, 8, 0, -1, -1, -1, 5}, y[N * C];
    int refs[] = {0, 1, 2}, targets[] = {0, 1, 2};
    ck_assert_ok(btfm_rereference(x, N, C, refs, 3, targets, 3, 0, y));
    float expect[N * C] = {-1, 0, 1, 10, -2, 0, 2, 0, 0, 0, 0, 5};
    ck_assert_mem_eq(y, expect, sizeof y);
    ck_assert_ok(btfm_rereference(x, N, C, refs + 2, 1, NULL, 0, 0, y)); /* to channel 2, all */
    ck_assert_double_eq(y[3], 7);
    ck_assert_status(btfm_rereference(x, N, C, (int[]){4}, 1, NULL, 0, 0, y), BTFM_E_RANGE);
    ck_assert_status(btfm_rereference(x, N, C, refs, 0, NULL, 0, 0, y), BTFM_E_RANGE);
    /* channel 1 halfway between 0 and 2 on a line, 3 far away: the mean of 0 and 2 */
    double pos[C * 3] = {0, 0, 0, 1, 0, 0, 2, 0, 0, 50, 0, 0};
    unsigned char bad[C] = {0, 1, 0, 0};
    ck_assert_ok(btfm_interpolate_bads(x, N, C, pos, bad, 2, 0, y));
    ck_assert_double_eq_tol(y[1], 2, 1e-6);
    ck_assert_double_eq_tol(y[5], 6, 1e-6);
    ck_assert_double_eq(y[3], 10);
    ck_assert_status(btfm_interpolate_bads(x, N, C, pos, bad, 4, 0, y), BTFM_E_RANGE);
}
END_TEST

START_TEST(epochs_of_a_ramp)
{
    enum { N = 1000, C = 3 };
    static float x[N * C];
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++) x[t * C + c] = (float)(t + 100 * c);
    ck_assert_int_eq(btfm_epochs_n_times(-0.1, 0.2, 100), 31);
    ck_assert_int_eq(btfm_epochs_n_times(-0.025, 0.025, 100), 5); /* -2.5 and 2.5 round to even */
    int64_t events[] = {5, 100, 500, 990};
    static float out[4 * 31 * C];
    int64_t n_kept;
    unsigned char kept[4];
    int reason[4];
    double reject[C] = {0, 0, 0};
    ck_assert_ok(btfm_epochs(x, N, C, 100, events, 4, -0.1, 0.2, -INFINITY, 0, reject, 0, out,
                             &n_kept, kept, reason));
    ck_assert_int_eq(n_kept, 2);
    ck_assert_int_eq(reason[0], BTFM_EPOCH_OUT_OF_BOUNDS);
    ck_assert_int_eq(reason[1], BTFM_EPOCH_KEPT);
    ck_assert_int_eq(reason[3], BTFM_EPOCH_OUT_OF_BOUNDS);
    ck_assert(kept[1] && kept[2] && !kept[0]);
    /* baseline = mean of the ramp over -0.1 .. 0 s (11 samples, centred on -5) */
    for (int i = 0; i < 31; i++)
        for (int c = 0; c < C; c++) ck_assert_double_eq_tol(out[i * C + c], i - 10 + 5, 1e-4);
    reject[1] = 29.5; /* the ramp rises 30 over the epoch: channel 1 rejects */
    ck_assert_ok(btfm_epochs(x, N, C, 100, events, 4, -0.1, 0.2, NAN, NAN, reject, 0, out,
                             &n_kept, kept, reason));
    ck_assert_int_eq(n_kept, 0);
    ck_assert_int_eq(reason[1], 1);
    ck_assert_status(btfm_epochs(x, N, C, 100, events, 4, 0.2, -0.1, NAN, NAN, NULL, 0, out,
                                 &n_kept, kept, reason), BTFM_E_RANGE);
    ck_assert_status(btfm_epochs(x, N, C, 100, events, 4, -0.1, 0.2, 0.5, 0.6, NULL, 0, out,
                                 &n_kept, kept, reason), BTFM_E_RANGE);
    ck_assert_status(btfm_epochs(x, N, C, 100, events, 4, -0.1, 0.2, NAN, NAN, NULL, 0, out,
                                 NULL, kept, reason), BTFM_E_INVALID);
}
END_TEST

START_TEST(dataset_conveniences)
{
    enum { N = 2000, C = 3 };
    static float x[N * C], y[N * C];
    for (int t = 0; t < N; t++) {
        x[t * C] = (float)sin(2 * M_PI * 5 * t / 200.0) + 2.0f;
        x[t * C + 1] = (float)(t % 2 ? 1 : -1);
        x[t * C + 2] = t == 700 ? 3.0f : 0.0f;
    }
    btfm_dataset *ds, *filtered;
    ck_assert_ok(btfm_dataset_from_array(&ds, x, N, C, 200, NULL));
    ck_assert_ok(btfm_dataset_set_channel_type(ds, 0, BTFM_CH_EEG));
    ck_assert_ok(btfm_dataset_set_channel_type(ds, 1, BTFM_CH_EOG));
    ck_assert_ok(btfm_dataset_set_channel_type(ds, 2, BTFM_CH_STIM));
    double sos[12];
    ck_assert_ok(btfm_butter(2, BTFM_FILTER_LOWPASS, 30, 0, 200, sos, 12));
    ck_assert_ok(btfm_dataset_filter(ds, sos, 1, 0, y));
    for (int t = 300; t < N - 300; t++) {
        ck_assert_double_eq_tol(y[t * C], x[t * C], 2e-2);       /* 5 Hz passes */
        ck_assert_double_eq_tol(y[t * C + 1], 0, 1e-3);          /* Nyquist is stopped */
        ck_assert(y[t * C + 2] == x[t * C + 2]);                 /* stim copied */
    }
    ck_assert_ok(btfm_dataset_filtered(&filtered, ds, sos, 1, 0));
    ck_assert_int_eq(btfm_dataset_n_times(filtered), N);
    ck_assert_int_eq(btfm_dataset_channel_type(filtered, 2), BTFM_CH_STIM);
    btfm_dataset_free(filtered);
    double limits[C];
    ck_assert_ok(btfm_dataset_reject_limits(ds, "eeg=1e-4, eog=2", limits));
    ck_assert(limits[0] == 1e-4 && limits[1] == 2 && limits[2] == 0);
    ck_assert_status(btfm_dataset_reject_limits(ds, "brain=3", limits), BTFM_E_NOTFOUND);
    ck_assert_status(btfm_dataset_reject_limits(ds, "eeg=-3", limits), BTFM_E_FORMAT);
    ck_assert_ok(btfm_dataset_add_event(ds, 3.5, 0, "trigger", "a", 1));
    ck_assert_ok(btfm_dataset_add_event(ds, 9.99, 0, "trigger", "b", 2));
    static float ep[2 * 41 * C];
    int64_t n_kept;
    int reason[2];
    ck_assert_ok(btfm_dataset_epochs(ds, NULL, 2, -0.1, 0.1, NAN, NAN, "eog=1.5", 0, ep,
                                     &n_kept, NULL, reason));
    ck_assert_int_eq(n_kept, 0);
    ck_assert_int_eq(reason[0], 1);                        /* EOG swings by 2 > 1.5 */
    ck_assert_int_eq(reason[1], BTFM_EPOCH_OUT_OF_BOUNDS);
    ck_assert_ok(btfm_dataset_epochs(ds, (int64_t[]){0}, 1, -0.1, 0.1, NAN, NAN, NULL, 0, ep,
                                     &n_kept, NULL, reason));
    ck_assert_int_eq(n_kept, 1);
    ck_assert(ep[0] == x[(700 - 20) * C]);                  /* 3.5 s x 200 Hz = sample 700 */
    ck_assert_status(btfm_dataset_epochs(ds, (int64_t[]){5}, 1, -0.1, 0.1, NAN, NAN, NULL, 0,
                                         ep, &n_kept, NULL, reason), BTFM_E_RANGE);
    btfm_dataset_free(ds);
}
END_TEST

/* The plan and the deprecated entry points share one computation: identical bytes for
 * every baseline form, with and without rejection, on arrays and datasets. */
START_TEST(epochs_plan_matches_the_old_entry_points)
{
    enum { N = 997, C = 3, E = 5 }; /* a prime length; 31 samples an epoch */
    static float x[N * C], a[E * 31 * C], b[E * 31 * C];
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++) x[t * C + c] = (float)(sin(0.05 * t * (c + 1)) + 0.01 * t);
    const int64_t events[E] = {5, 100, 500, 700, 990};
    const double reject[C] = {0, 1.9, 0};
    btfm_epochs_plan *p;
    ck_assert_ok(btfm_epochs_plan_new(&p));
    ck_assert_ok(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_TMIN, -0.1));
    ck_assert_ok(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_TMAX, 0.2));
    ck_assert_int_eq(btfm_epochs_plan_n_times(p, 100), 31);
    /* baseline forms: (None, 0), none, (-0.05, 0.1), (0, None) */
    const double forms[4][6] = {{1, 1, 0, 0, 0, 0},  {0, 0, 0, 0, 0, 0},
                                {1, 0, -0.05, 0, 0.1, 0}, {1, 0, 0, 1, 0, 0}};
    const double bmin[4] = {-INFINITY, NAN, -0.05, 0}, bmax[4] = {0, NAN, 0.1, INFINITY};
    for (int f = 0; f < 4; f++)
        for (int r = 0; r < 2; r++) {
            ck_assert_ok(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_BASELINE, forms[f][0]));
            ck_assert_ok(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_BASELINE_FROM_START,
                                                    forms[f][1]));
            ck_assert_ok(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_BASELINE_MIN,
                                                    forms[f][2]));
            ck_assert_ok(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_BASELINE_TO_END,
                                                    forms[f][3]));
            ck_assert_ok(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_BASELINE_MAX,
                                                    forms[f][4]));
            ck_assert_ok(btfm_epochs_plan_set_reject(p, r ? reject : NULL, C));
            int64_t ka, kb;
            int ra[E], rb[E];
            memset(a, 0, sizeof a);
            memset(b, 0, sizeof b);
            ck_assert_ok(btfm_epochs(x, N, C, 100, events, E, -0.1, 0.2, bmin[f], bmax[f],
                                     r ? reject : NULL, 0, a, &ka, NULL, ra));
            ck_assert_ok(btfm_epochs_plan_run(p, b, &kb, NULL, rb, x, N, C, 100, events, E));
            ck_assert_int_eq(ka, kb);
            ck_assert(ka == (r ? 2 : 3)); /* channel 1 swings by ~2 in two of the three */
            ck_assert_mem_eq(ra, rb, sizeof ra);
            ck_assert_mem_eq(a, b, sizeof a);
        }
    /* Limits for another channel count, a type specification on an array. */
    ck_assert_status(btfm_epochs_plan_run(p, b, NULL, NULL, NULL, x, N, C, 100, events, E),
                     BTFM_E_INVALID);
    ck_assert_ok(btfm_epochs_plan_set_reject(p, reject, 2));
    int64_t k;
    ck_assert_status(btfm_epochs_plan_run(p, b, &k, NULL, NULL, x, N, C, 100, events, E),
                     BTFM_E_INVALID);
    ck_assert_ok(btfm_epochs_plan_set_reject(p, NULL, 0));
    ck_assert_status(btfm_epochs_plan_set_reject(p, (double[]){-1}, 1), BTFM_E_RANGE);
    ck_assert_ok(btfm_epochs_plan_set_reject_spec(p, "eeg=1"));
    ck_assert_status(btfm_epochs_plan_run(p, b, &k, NULL, NULL, x, N, C, 100, events, E),
                     BTFM_E_STATE);

    /* Datasets: the type specification, and the plan's own limits without one. */
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_from_array(&ds, x, N, C, 100, NULL));
    ck_assert_ok(btfm_dataset_set_channel_type(ds, 1, BTFM_CH_EOG));
    for (int e = 0; e < E; e++)
        ck_assert_ok(btfm_dataset_add_event(ds, events[e] / 100.0, 0, "trigger", "s", 1));
    ck_assert_ok(btfm_epochs_plan_set_reject_spec(p, "eog=1.9"));
    int64_t ka, kb;
    int ra[E], rb[E];
    ck_assert_ok(btfm_dataset_epochs(ds, NULL, E, -0.1, 0.2, 0, INFINITY, "eog=1.9", 0, a, &ka,
                                     NULL, ra));
    ck_assert_ok(btfm_epochs_plan_run_dataset(p, b, &kb, NULL, rb, ds, NULL, E));
    ck_assert(ka == kb && ka == 2);
    ck_assert_mem_eq(ra, rb, sizeof ra);
    ck_assert_mem_eq(a, b, (size_t)ka * 31 * C * sizeof(float));
    ck_assert_ok(btfm_epochs_plan_set_reject_spec(p, NULL));
    ck_assert_ok(btfm_epochs_plan_set_reject(p, reject, C));
    ck_assert_ok(btfm_epochs_plan_run_dataset(p, b, &kb, NULL, rb, ds, NULL, E));
    ck_assert_int_eq(kb, 2);
    ck_assert_mem_eq(a, b, (size_t)kb * 31 * C * sizeof(float));
    btfm_dataset_free(ds);

    /* Introspection and parameter errors. */
    const char *name;
    double def;
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_EPOCHS_PLAN), "epochs_plan");
    ck_assert_ok(btfm_param_info(BTFM_OBJECT_EPOCHS_PLAN, BTFM_EPOCHS_PARAM_TMIN, &name, NULL,
                                 &def, NULL, NULL));
    ck_assert_str_eq(name, "tmin");
    ck_assert(def == -0.2);
    double v;
    ck_assert_ok(btfm_epochs_plan_get_param(p, BTFM_EPOCHS_PARAM_TMAX, &v));
    ck_assert(v == 0.2);
    ck_assert_status(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_BASELINE, 2), BTFM_E_RANGE);
    ck_assert_status(btfm_epochs_plan_set_param(p, 99, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_epochs_plan_set_param(p, BTFM_EPOCHS_PARAM_TMIN, NAN), BTFM_E_RANGE);
    ck_assert_status(btfm_epochs_plan_run(NULL, b, &k, NULL, NULL, x, N, C, 100, events, E),
                     BTFM_E_INVALID);
    btfm_epochs_plan_free(p);
    btfm_epochs_plan_free(NULL);
}
END_TEST

static Suite *signal_suite(void)
{
    Suite *s = suite_create("signal");
    TCase *tc = tcase_create("signal");
    unit_set_timeout(tc, 0.2); /* seconds of work on an idle machine */
    tcase_add_test(tc, butter_gains);
    tcase_add_test(tc, notch_gains);
    tcase_add_test(tc, design_errors);
    tcase_add_test(tc, impulse_response);
    tcase_add_test(tc, steady_state_and_chunks);
    tcase_add_test(tc, nonfinite_and_errors);
    tcase_add_test(tc, zero_phase_of_a_slow_sine);
    tcase_add_test(tc, cancel_leaves_the_signal);
    tcase_add_test(tc, firwin_closed_forms);
    tcase_add_test(tc, old_and_new_window_names_agree);
    tcase_add_test(tc, resample_constant_and_identity);
    tcase_add_test(tc, detrend_lines);
    tcase_add_test(tc, references_and_interpolation);
    tcase_add_test(tc, epochs_of_a_ramp);
    tcase_add_test(tc, dataset_conveniences);
    tcase_add_test(tc, epochs_plan_matches_the_old_entry_points);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(signal_suite)
