/* Parameter tables: the shared mechanism (white-box, on a table made for the test) and
 * the public introspection on the container's table. */
#include <math.h>
#include "unit.h"
#include "core/param.h"

static const btfm_param_def defs[] = {
    {"alpha", BTFM_PARAM_REAL, 0.5, 0.0, 1.0, "A real in [0, 1]."},
    {"n_iter", BTFM_PARAM_INT, 10, 1, 1000, "A count."},
    {"verbose", BTFM_PARAM_BOOL, 0, 0, 1, "A switch."},
};
static const btfm_param_table table = {99, "widget", 3, defs};

START_TEST(defaults_set_get)
{
    double v[3];
    btfm_params_defaults(&table, v);
    ck_assert_double_eq(v[0], 0.5);
    ck_assert_double_eq(v[1], 10);
    ck_assert_double_eq(v[2], 0);
    ck_assert_ok(btfm_params_set(&table, v, 0, 0.25, "f"));
    ck_assert_ok(btfm_params_set(&table, v, 1, 1000, "f"));   /* bounds are inclusive */
    ck_assert_ok(btfm_params_set(&table, v, 2, 1, "f"));
    double got;
    ck_assert_ok(btfm_params_get(&table, v, 0, &got, "f"));
    ck_assert_double_eq(got, 0.25);
    ck_assert_ok(btfm_params_get(&table, v, 1, &got, "f"));
    ck_assert_double_eq(got, 1000);
}
END_TEST

START_TEST(refusals_name_parameter_value_and_bounds)
{
    double v[3];
    btfm_params_defaults(&table, v);
    ck_assert_status(btfm_params_set(&table, v, 0, 1.5, "widget_set"), BTFM_E_RANGE);
    ck_assert_str_eq(btfm_last_error(), "widget_set: widget alpha = 1.5 is outside its bounds [0, 1]");
    ck_assert_status(btfm_params_set(&table, v, 1, 2.5, "widget_set"), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "n_iter = 2.5: expected a whole number"));
    ck_assert_status(btfm_params_set(&table, v, 2, 2, "widget_set"), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "verbose = 2 is outside its bounds [0, 1]"));
    ck_assert_status(btfm_params_set(&table, v, 0, NAN, "widget_set"), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "alpha = nan: expected a finite real"));
    ck_assert_status(btfm_params_set(&table, v, 0, INFINITY, "widget_set"), BTFM_E_RANGE);
    ck_assert_status(btfm_params_set(&table, v, 3, 0, "widget_set"), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "no parameter 3"));
    ck_assert_status(btfm_params_set(&table, v, -1, 0, "widget_set"), BTFM_E_INVALID);
    /* A refused value leaves the stored one as it was. */
    ck_assert_double_eq(v[0], 0.5);
    ck_assert_double_eq(v[1], 10);
    ck_assert_status(btfm_params_get(&table, v, 0, NULL, "widget_get"), BTFM_E_INVALID);
}
END_TEST

START_TEST(public_introspection)
{
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_CONTAINER), "container");
    ck_assert_ptr_null(btfm_object_kind_name(0));
    ck_assert_ptr_null(btfm_object_kind_name(BTFM_OBJECT_CONTAINER + 1000));
    ck_assert_int_eq(btfm_param_count(BTFM_OBJECT_CONTAINER), 1);
    ck_assert_int_eq(btfm_param_count(0), BTFM_E_INVALID);
    const char *name;
    int type;
    double def, lo, hi;
    ck_assert_ok(btfm_param_info(BTFM_OBJECT_CONTAINER, BTFM_CONTAINER_PARAM_FSYNC, &name,
                                 &type, &def, &lo, &hi));
    ck_assert_str_eq(name, "fsync");
    ck_assert_int_eq(type, BTFM_PARAM_BOOL);
    ck_assert_double_eq(def, 1);
    ck_assert_double_eq(lo, 0);
    ck_assert_double_eq(hi, 1);
    ck_assert_ok(btfm_param_info(BTFM_OBJECT_CONTAINER, 0, NULL, NULL, NULL, NULL, NULL));
    ck_assert_status(btfm_param_info(BTFM_OBJECT_CONTAINER, 1, &name, 0, 0, 0, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_param_info(7777, 0, &name, 0, 0, 0, 0), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(btfm_param_description(BTFM_OBJECT_CONTAINER, 0));
    ck_assert_ptr_null(btfm_param_description(BTFM_OBJECT_CONTAINER, 1));
    int p = -1;
    ck_assert_ok(btfm_param_find(BTFM_OBJECT_CONTAINER, "fsync", &p));
    ck_assert_int_eq(p, BTFM_CONTAINER_PARAM_FSYNC);
    ck_assert_status(btfm_param_find(BTFM_OBJECT_CONTAINER, "fsnyc", &p), BTFM_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "its parameters are: fsync"));
    ck_assert_status(btfm_param_find(BTFM_OBJECT_CONTAINER, NULL, &p), BTFM_E_INVALID);
}
END_TEST

START_TEST(container_param_round_trip)
{
    btfm_container *c = NULL;
    ck_assert_ok(btfm_container_new(&c, "k"));
    double v = -1;
    ck_assert_ok(btfm_container_get_param(c, BTFM_CONTAINER_PARAM_FSYNC, &v));
    ck_assert_double_eq(v, 1);
    ck_assert_ok(btfm_container_set_param(c, BTFM_CONTAINER_PARAM_FSYNC, 0));
    ck_assert_ok(btfm_container_get_param(c, BTFM_CONTAINER_PARAM_FSYNC, &v));
    ck_assert_double_eq(v, 0);
    ck_assert_status(btfm_container_set_param(c, BTFM_CONTAINER_PARAM_FSYNC, 2), BTFM_E_RANGE);
    ck_assert_str_eq(btfm_last_error(),
                     "btfm_container_set_param: container fsync = 2 is outside its bounds [0, 1]");
    ck_assert_status(btfm_container_set_param(NULL, 0, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_container_get_param(NULL, 0, &v), BTFM_E_INVALID);
    btfm_container_free(c);
}
END_TEST

static Suite *param_suite(void)
{
    Suite *s = suite_create("param");
    TCase *tc = tcase_create("param");
    unit_set_timeout(tc, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(tc, defaults_set_get);
    tcase_add_test(tc, refusals_name_parameter_value_and_bounds);
    tcase_add_test(tc, public_introspection);
    tcase_add_test(tc, container_param_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(param_suite)
