/* fNIRS processing against closed forms: optical density's definition and MNE's rule for
 * values <= 0, the modified Beer-Lambert law inverting its own forward model, Prahl's
 * table at listed wavelengths, short-channel regression removing a known mixture, the
 * scalp coupling index of identical, opposite and constant signals; and the dataset
 * helpers' names, types and geometry. */
#include <math.h>
#include "unit.h"

#define NT 400

START_TEST(test_optical_density)
{
    /* Two channels, the second 7.5 times the first: the same optical density. */
    static float x[NT * 2], od[NT * 2];
    double mean = 0;
    for (int t = 0; t < NT; t++) {
        double v = 2.0 + sin(0.05 * t) * 0.3;
        x[2 * t] = (float)v;
        x[2 * t + 1] = (float)(7.5 * v);
        mean += (float)v;
    }
    mean /= NT;
    ck_assert_ok(btfm_fnirs_optical_density(x, NT, 2, 0, od));
    for (int t = 0; t < NT; t++) {
        ck_assert(fabs(od[2 * t] - -log(x[2 * t] / mean)) < 1e-6);
        ck_assert(fabs(od[2 * t] - od[2 * t + 1]) < 1e-6);
    }
    /* A value <= 0: |x|, floored at the smallest channel minimum that is not 0 (MNE:
     * channel 0's minimum is 0 and is skipped, channel 1's is 0.5). */
    float y[4 * 2] = {1, 2, -0.25, 2, 0, 4, 1, 0.5};
    ck_assert_ok(btfm_fnirs_optical_density(y, 4, 2, 0, od));
    double c0[4] = {1, 0.5, 0.5, 1}, m0 = 3.0 / 4;
    for (int t = 0; t < 4; t++) ck_assert(fabs(od[2 * t] - -log(c0[t] / m0)) < 1e-6);
    float zero[3] = {0, 0, 0};
    ck_assert_status(btfm_fnirs_optical_density(zero, 3, 1, 0, od), BTFM_E_NUMERIC);
    x[5] = NAN;
    ck_assert_status(btfm_fnirs_optical_density(x, NT, 2, 0, od), BTFM_E_NUMERIC);
}
END_TEST

START_TEST(test_extinction_table)
{
    double o, r;
    ck_assert_ok(btfm_fnirs_extinction(760, &o, &r));
    ck_assert(o == 586 && r == 1548.52); /* Prahl's 760 nm row */
    ck_assert_ok(btfm_fnirs_extinction(761, &o, &r));
    ck_assert(fabs(o - 592) < 1e-9 && fabs(r - (1548.52 + 1508.44) / 2) < 1e-9);
    ck_assert_ok(btfm_fnirs_extinction(850, &o, NULL));
    ck_assert(o == 1058);
    ck_assert_status(btfm_fnirs_extinction(1200, &o, &r), BTFM_E_RANGE);
}
END_TEST

/* od = 0.2303 E d ppf [HbO; HbR] 1e3 (the forward model MNE inverts), then back. */
START_TEST(test_beer_lambert_inverts_its_forward_model)
{
    enum { W = 3 };
    const double wl[W] = {690, 760, 850}, d = 0.03, ppf = 6.0;
    static float od[NT * (W + 2)], hb[NT * 4];
    int pair[W + 2] = {0, 0, 0, 1, 1};
    double wavelength[W + 2] = {690, 760, 850, 760, 850}, dist[2] = {d, 0.0};
    double e[W][2];
    for (int w = 0; w < W; w++) ck_assert_ok(btfm_fnirs_extinction(wl[w], &e[w][0], &e[w][1]));
    for (int t = 0; t < NT; t++) {
        double hbo = 1e-6 * sin(0.01 * t), hbr = -4e-7 * cos(0.013 * t);
        for (int w = 0; w < W; w++)
            od[t * (W + 2) + w] = (float)(0.2303 * d * ppf * 1e3 * (e[w][0] * hbo + e[w][1] * hbr));
        od[t * (W + 2) + 3] = od[t * (W + 2) + 1];
        od[t * (W + 2) + 4] = od[t * (W + 2) + 2];
    }
    ck_assert_ok(btfm_fnirs_beer_lambert(od, NT, W + 2, pair, wavelength, dist, 2, ppf, 0, hb));
    for (int t = 0; t < NT; t++) {
        ck_assert_msg(fabs(hb[4 * t] - 1e-6 * sin(0.01 * t)) < 1e-12, "HbO at %d", t);
        ck_assert_msg(fabs(hb[4 * t + 1] + 4e-7 * cos(0.013 * t)) < 1e-12, "HbR at %d", t);
        ck_assert(hb[4 * t + 2] == 0 && hb[4 * t + 3] == 0); /* distance 0: zeros, as MNE */
    }
    /* Two equal wavelengths cannot separate HbO from HbR; one channel is not a pair. */
    double same[W + 2] = {760, 760, 760, 760, 760};
    ck_assert_status(btfm_fnirs_beer_lambert(od, NT, W + 2, pair, same, dist, 2, ppf, 0, hb),
                     BTFM_E_NUMERIC);
    int lonely[W + 2] = {0, 0, 0, 1, -1};
    ck_assert_status(btfm_fnirs_beer_lambert(od, NT, W + 2, lonely, wavelength, dist, 2, ppf, 0, hb),
                     BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "pair 1 has 1 channel"));
    ck_assert_status(btfm_fnirs_beer_lambert(od, NT, W + 2, pair, wavelength, dist, 2, 0.0, 0, hb),
                     BTFM_E_INVALID);
}
END_TEST

START_TEST(test_short_channel_regression_removes_the_mixture)
{
    /* long = brain + 0.7 short, with brain orthogonal to short: brain comes back. */
    static float x[NT * 3], out[NT * 3];
    for (int t = 0; t < NT; t++) {
        double s = sin(2 * M_PI * t / 40.0), brain = cos(2 * M_PI * t / 40.0);
        x[3 * t] = (float)(brain + 0.7 * s);
        x[3 * t + 1] = (float)s;
        x[3 * t + 2] = (float)(0.1 * t);
    }
    int short_of[3] = {1, -1, -1};
    ck_assert_ok(btfm_fnirs_short_channel_regression(x, NT, 3, short_of, 0, out));
    for (int t = 0; t < NT; t++) {
        ck_assert(fabs(out[3 * t] - cos(2 * M_PI * t / 40.0)) < 1e-5);
        ck_assert(out[3 * t + 1] == x[3 * t + 1] && out[3 * t + 2] == x[3 * t + 2]);
    }
    ck_assert_ok(btfm_fnirs_short_channel_regression(x, NT, 3, short_of, 0, x)); /* in place */
    ck_assert(fabs(x[0] - 1.0) < 1e-5);
    int chained[3] = {1, 2, -1};
    ck_assert_status(btfm_fnirs_short_channel_regression(x, NT, 3, chained, 0, out), BTFM_E_INVALID);
}
END_TEST

START_TEST(test_scalp_coupling_index_extremes)
{
    /* Pair 0: the same cardiac signal; pair 1: opposite; pair 2: one constant channel. */
    static float od[NT * 7];
    for (int t = 0; t < NT; t++) {
        double c = sin(2 * M_PI * 1.1 * t / 10.0) + 0.2 * sin(2 * M_PI * 0.05 * t / 10.0);
        od[7 * t] = od[7 * t + 1] = (float)c;
        od[7 * t + 2] = (float)c;
        od[7 * t + 3] = (float)-c;
        od[7 * t + 4] = (float)c;
        od[7 * t + 5] = 0.5f;
        od[7 * t + 6] = (float)t;
    }
    int pair[7] = {0, 0, 1, 1, 2, 2, -1};
    double sci[7];
    ck_assert_ok(btfm_fnirs_scalp_coupling_index(od, NT, 7, pair, 10.0, NULL, 0, sci));
    ck_assert(fabs(sci[0] - 1) < 1e-9 && fabs(sci[1] - 1) < 1e-9);
    ck_assert(fabs(sci[2] + 1) < 1e-9 && fabs(sci[3] + 1) < 1e-9);
    ck_assert(sci[4] == 0 && sci[5] == 0 && isnan(sci[6]));
    const double narrow[4] = {0.7, 1.5, 0.3, 4.0}; /* 1.5 + 4 Hz passes Nyquist (5 Hz) */
    ck_assert_status(btfm_fnirs_scalp_coupling_index(od, NT, 7, pair, 10.0, narrow, 0, sci),
                     BTFM_E_RANGE);
}
END_TEST

/* A dataset of two pairs at two wavelengths plus one EEG channel. */
static btfm_dataset *nirs_dataset(void)
{
    static float x[NT * 5];
    for (int t = 0; t < NT; t++)
        for (int c = 0; c < 5; c++) x[5 * t + c] = (float)(1.0 + 0.1 * sin(0.02 * t * (c + 1)));
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_from_array(&ds, x, NT, 5, 10.0, NULL));
    const double s1[3] = {0, 0, 0}, d1[3] = {0.03, 0, 0}, d2[3] = {0.006, 0.008, 0};
    const char *names[5] = {"S1_D1 760", "S1_D1 850", "EEG Cz", "S1_D2 760", "S1_D2 850"};
    for (int c = 0; c < 5; c++) {
        ck_assert_ok(btfm_dataset_set_channel_name(ds, c, names[c]));
        ck_assert_ok(btfm_dataset_set_channel_type(ds, c, c == 2 ? BTFM_CH_EEG : BTFM_CH_FNIRS_CW_AMPLITUDE));
    }
    ck_assert_ok(btfm_dataset_set_nirs_channel(ds, 0, 1, 1, 760, s1, d1));
    ck_assert_ok(btfm_dataset_set_nirs_channel(ds, 1, 1, 1, 850, s1, d1));
    ck_assert_ok(btfm_dataset_set_nirs_channel(ds, 3, 1, 2, 760, s1, d2));
    ck_assert_ok(btfm_dataset_set_nirs_channel(ds, 4, 1, 2, 850, s1, d2));
    ck_assert_ok(btfm_dataset_add_event(ds, 1.5, 0.5, "stim", "tap", 1));
    return ds;
}

START_TEST(test_dataset_helpers)
{
    btfm_dataset *ds = nirs_dataset(), *od = NULL, *hb = NULL, *clean = NULL;
    double dist[5];
    unsigned char is_short[5];
    ck_assert_ok(btfm_dataset_nirs_distances(ds, dist));
    ck_assert(fabs(dist[0] - 0.03) < 1e-15 && isnan(dist[2]) && fabs(dist[3] - 0.01) < 1e-15);
    ck_assert_ok(btfm_dataset_short_channels(ds, 0.0101, is_short));
    ck_assert(!is_short[0] && !is_short[2] && is_short[3] && is_short[4]);
    ck_assert_status(btfm_dataset_beer_lambert(&hb, ds, 6.0), BTFM_E_INVALID); /* not OD yet */

    ck_assert_ok(btfm_dataset_optical_density(&od, ds));
    ck_assert_int_eq(btfm_dataset_channel_type(od, 0), BTFM_CH_FNIRS_OD);
    ck_assert_int_eq(btfm_dataset_channel_type(od, 2), BTFM_CH_EEG);
    float a[5], b[5];
    ck_assert_ok(btfm_dataset_read(ds, 7, 1, NULL, 0, a));
    ck_assert_ok(btfm_dataset_read(od, 7, 1, NULL, 0, b));
    ck_assert(a[2] == b[2]); /* EEG copied */

    ck_assert_ok(btfm_dataset_beer_lambert(&hb, od, 6.0));
    ck_assert_int_eq(btfm_dataset_n_channels(hb), 5);
    static const char *names[5] = {"S1_D1 hbo", "S1_D1 hbr", "EEG Cz", "S1_D2 hbo", "S1_D2 hbr"};
    for (int c = 0; c < 5; c++) ck_assert_str_eq(btfm_dataset_channel_name(hb, c), names[c]);
    ck_assert_int_eq(btfm_dataset_channel_type(hb, 1), BTFM_CH_HBR);
    ck_assert_str_eq(btfm_dataset_channel_unit(hb, 0), "M");
    ck_assert_int_eq(btfm_dataset_n_events(hb), 1);
    int s, d;
    double w;
    ck_assert_ok(btfm_dataset_nirs_channel(hb, 3, &s, &d, &w, NULL, NULL));
    ck_assert(s == 1 && d == 2 && isnan(w));

    ck_assert_ok(btfm_dataset_short_channel_regression(&clean, hb, 0.0101));
    ck_assert_int_eq(btfm_dataset_n_channels(clean), 5);
    btfm_dataset_free(clean);
    clean = NULL;
    ck_assert_status(btfm_dataset_short_channel_regression(&clean, hb, 0.001), BTFM_E_NOTFOUND);

    double sci[5];
    ck_assert_ok(btfm_dataset_scalp_coupling_index(od, NULL, sci));
    ck_assert(isnan(sci[2]) && sci[0] == sci[1] && sci[0] >= -1 && sci[0] <= 1);
    btfm_dataset_free(hb);
    btfm_dataset_free(od);
    btfm_dataset_free(ds);
}
END_TEST

static Suite *fnirs_suite(void)
{
    Suite *s = suite_create("fnirs");
    TCase *tc = tcase_create("fnirs");
    tcase_add_test(tc, test_optical_density);
    tcase_add_test(tc, test_extinction_table);
    tcase_add_test(tc, test_beer_lambert_inverts_its_forward_model);
    tcase_add_test(tc, test_short_channel_regression_removes_the_mixture);
    tcase_add_test(tc, test_scalp_coupling_index_extremes);
    tcase_add_test(tc, test_dataset_helpers);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(fnirs_suite)
