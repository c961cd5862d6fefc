/* Sensor positions, coordinate frames and fNIRS geometry of datasets: set, read back,
 * carried into derived datasets, refused when malformed. */
#include <math.h>
#include "unit.h"

static btfm_dataset *three_channels(void)
{
    float data[2 * 3] = {1, 2, 3, 4, 5, 6};
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_from_array(&ds, data, 2, 3, 10.0, NULL));
    return ds;
}

START_TEST(test_positions_round_trip)
{
    btfm_dataset *ds = three_channels();
    double xyz[3];
    ck_assert_str_eq(btfm_dataset_coordinate_frame(ds), "unknown");
    ck_assert_status(btfm_dataset_channel_position(ds, 0, xyz), BTFM_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "has no position"));
    const double p1[3] = {0.01, -0.02, 0.03};
    ck_assert_ok(btfm_dataset_set_channel_position(ds, 1, p1));
    ck_assert_ok(btfm_dataset_channel_position(ds, 1, xyz));
    ck_assert(xyz[0] == 0.01 && xyz[1] == -0.02 && xyz[2] == 0.03);
    ck_assert_status(btfm_dataset_channel_position(ds, 0, xyz), BTFM_E_NOTFOUND);
    ck_assert_ok(btfm_dataset_set_coordinate_frame(ds, "ACPC"));
    ck_assert_str_eq(btfm_dataset_coordinate_frame(ds), "ACPC");

    /* A derived dataset keeps positions and frame. */
    float data[2 * 3] = {0};
    btfm_dataset *copy = NULL;
    ck_assert_ok(btfm_dataset_from_array(&copy, data, 2, 3, 10.0, ds));
    ck_assert_ok(btfm_dataset_channel_position(copy, 1, xyz));
    ck_assert(xyz[1] == -0.02);
    ck_assert_str_eq(btfm_dataset_coordinate_frame(copy), "ACPC");
    btfm_dataset_free(copy);

    ck_assert_ok(btfm_dataset_set_channel_position(ds, 1, NULL));
    ck_assert_status(btfm_dataset_channel_position(ds, 1, xyz), BTFM_E_NOTFOUND);
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(test_positions_refuse_bad_input)
{
    btfm_dataset *ds = three_channels();
    const double bad[3] = {0, NAN, 0}, good[3] = {0, 0, 0};
    double xyz[3];
    ck_assert_status(btfm_dataset_set_channel_position(ds, 0, bad), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_set_channel_position(ds, 3, good), BTFM_E_RANGE);
    ck_assert_status(btfm_dataset_channel_position(ds, -1, xyz), BTFM_E_RANGE);
    ck_assert_status(btfm_dataset_channel_position(ds, 0, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_set_coordinate_frame(ds, ""), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_set_coordinate_frame(ds, "\xff"), BTFM_E_INVALID);
    ck_assert_ptr_null(btfm_dataset_coordinate_frame(NULL));
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(test_nirs_geometry_gives_the_midpoint)
{
    btfm_dataset *ds = three_channels();
    const double src[3] = {0.0, 0.0, 0.0}, det[3] = {0.03, 0.04, 0.0};
    int s = 0, d = 0;
    double w = 0, xyz[3], sp[3], dp[3];
    ck_assert_status(btfm_dataset_nirs_channel(ds, 0, &s, &d, &w, sp, dp), BTFM_E_NOTFOUND);
    ck_assert_ok(btfm_dataset_set_nirs_channel(ds, 0, 2, 5, 760.0, src, det));
    ck_assert_ok(btfm_dataset_set_nirs_channel(ds, 1, 2, 5, NAN, NULL, NULL));
    ck_assert_ok(btfm_dataset_nirs_channel(ds, 0, &s, &d, &w, sp, dp));
    ck_assert(s == 2 && d == 5 && w == 760.0 && dp[0] == 0.03 && dp[1] == 0.04);
    ck_assert_ok(btfm_dataset_channel_position(ds, 0, xyz));
    ck_assert(xyz[0] == 0.015 && xyz[1] == 0.02 && xyz[2] == 0.0);
    ck_assert_ok(btfm_dataset_nirs_channel(ds, 1, NULL, NULL, &w, sp, NULL));
    ck_assert(isnan(w) && isnan(sp[0]));
    ck_assert_status(btfm_dataset_channel_position(ds, 1, xyz), BTFM_E_NOTFOUND);
    ck_assert_status(btfm_dataset_nirs_channel(ds, 2, NULL, NULL, NULL, NULL, NULL),
                     BTFM_E_NOTFOUND);
    ck_assert_status(btfm_dataset_set_nirs_channel(ds, 2, 0, 1, 760, NULL, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_set_nirs_channel(ds, 2, 1, 1, -5, NULL, NULL), BTFM_E_INVALID);

    float data[2 * 3] = {0};
    btfm_dataset *copy = NULL;
    ck_assert_ok(btfm_dataset_from_array(&copy, data, 2, 3, 10.0, ds));
    ck_assert_ok(btfm_dataset_nirs_channel(copy, 0, &s, &d, &w, NULL, NULL));
    ck_assert(s == 2 && d == 5 && w == 760.0);
    btfm_dataset_free(copy);
    btfm_dataset_free(ds);
}
END_TEST

static Suite *position_suite(void)
{
    Suite *s = suite_create("position");
    TCase *tc = tcase_create("position");
    unit_set_timeout(tc, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(tc, test_positions_round_trip);
    tcase_add_test(tc, test_positions_refuse_bad_input);
    tcase_add_test(tc, test_nirs_geometry_gives_the_midpoint);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(position_suite)
