/* Shared scaffolding of the Check unit suites. */
#ifndef BTFM_TESTS_UNIT_H
#define BTFM_TESTS_UNIT_H

#include <check.h>
#include <stdio.h>
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

/* One assertion for a whole range: `cond` (an expression of the index variable `i`) must
 * hold for i = 0 .. n-1; the message (which may use `i`) describes the first i where it
 * does not. Every passing ck_assert writes a message to Check's log, so asserting
 * element by element in a loop over millions of values makes a test slow for nothing. */
#define ck_assert_all(i, n, cond, ...)                                                   \
    do {                                                                                 \
        int64_t i = 0, n_ = (int64_t)(n);                                                \
        while (i < n_ && (cond)) i++;                                                    \
        ck_assert_msg(i == n_, __VA_ARGS__);                                             \
    } while (0)

/* Under valgrind (BTFM_UNDER_VALGRIND, set by the valgrind test setup) every operation is
 * 20-50 times slower, and what valgrind checks (memory errors, leaks) does not depend on
 * the size of the data: tests run the same checks on less data there. */
static inline int unit_under_valgrind(void)
{
    return getenv("BTFM_UNDER_VALGRIND") != NULL;
}
#define UNIT_SIZE(normal, under_valgrind) (unit_under_valgrind() ? (under_valgrind) : (normal))

/* The Check timeout of a test case from the work it does: `idle_seconds`, the time its
 * tests take together in an optimized build on an idle machine, times 20 for a loaded
 * machine and debug builds, and at least 60 s. Sanitizer builds multiply it again
 * (CK_TIMEOUT_MULTIPLIER, set in tests/meson.build); valgrind runs tests without fork,
 * where Check has no timeouts. */
static inline void unit_set_timeout(TCase *tc, double idle_seconds)
{
    double seconds = 20.0 * idle_seconds;
    tcase_set_timeout(tc, seconds < 60.0 ? 60.0 : seconds);
}

/* The bytes of a file (malloc'd, with a 0 after them; *size their count): the test fails
 * when the file cannot be read. */
static inline unsigned char *unit_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    ck_assert_msg(n >= 0, "cannot size %s", path);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(fread(b, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    b[n] = 0;
    fclose(f);
    *size = (size_t)n;
    return b;
}

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
