/* Shared scaffolding of the Check unit suites. */
#ifndef BTFM_TESTS_UNIT_H
#define BTFM_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <btfm/btfm.h>

/* ck_assert that a call returned `expected`, showing the library's message if not. */
#define ck_assert_status(call, expected)                                                 \
    do {                                                                                 \
        int st_ = (call);                                                                \
        ck_assert_msg(st_ == (expected), "%s returned %s (%s), expected %s", #call,      \
                      btfm_status_name(st_) ? btfm_status_name(st_) : "?",               \
                      btfm_last_error(), btfm_status_name(expected));                    \
    } while (0)

#define ck_assert_ok(call) ck_assert_status(call, BTFM_OK)

#define BTFM_UNIT_MAIN(make_suite)                                                       \
    int main(void)                                                                       \
    {                                                                                    \
        SRunner *sr = srunner_create(make_suite());                                      \
        srunner_run_all(sr, CK_NORMAL);                                                  \
        int failed = srunner_ntests_failed(sr);                                          \
        srunner_free(sr);                                                                \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                \
    }

#endif
