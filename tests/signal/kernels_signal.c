/* The signal layer under this process's OpenBLAS kernel family (tests/kernels). It calls
 * no BLAS today; this case keeps its double-precision paths in the matrix, so a later
 * use of BLAS there is covered from the start: a linear trend is removed exactly, and a
 * zero-phase low-pass keeps a constant exactly. */
#include <math.h>
#include "kernel_cases.h"

START_TEST(detrend_and_filtfilt_keep_exact_answers)
{
    enum { N = 1001, C = 3 };
    float *x = malloc(sizeof(float) * N * C), *out = malloc(sizeof(float) * N * C);
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++) x[t * C + c] = (float)(c + 1) * (0.5f + 0.001f * (float)t);
    ck_assert_ok(btfm_detrend(x, N, C, BTFM_DETREND_LINEAR, 0, out));
    for (int j = 0; j < N * C; j++) ck_assert_msg(fabsf(out[j]) < 1e-5f, "detrend leaves %g", out[j]);
    double sos[6 * 2];
    int sections = btfm_butter_n_sections(4, BTFM_FILTER_LOWPASS);
    ck_assert_int_eq(sections, 2);
    ck_assert_ok(btfm_butter(4, BTFM_FILTER_LOWPASS, 30.0, 0.0, 250.0, sos, 12));
    for (int j = 0; j < N * C; j++) x[j] = (float)(1 + j % C);
    ck_assert_ok(btfm_sosfiltfilt(sos, sections, x, N, C, BTFM_PAD_ODD, -1, 0, out));
    for (int j = 0; j < N * C; j++)
        ck_assert_msg(fabsf(out[j] - x[j]) < 1e-5f, "a constant becomes %g", out[j]);
    free(x);
    free(out);
}
END_TEST

TCase *kernels_signal(void)
{
    TCase *tc = tcase_create("signal");
    unit_set_timeout(tc, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(tc, detrend_and_filtfilt_keep_exact_answers);
    return tc;
}
