/* The lean kernel-family cases of every BLAS-using layer (tests/common/kernel_cases.h),
 * run once per OpenBLAS kernel family: meson sets OPENBLAS_CORETYPE, and the run is
 * skipped (77) when OpenBLAS did not load that family (a CPU without its instructions). */
#include <stdio.h>
#include <strings.h>
#include <cblas.h>
#include "kernel_cases.h"

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
#define KERNEL_CASE_ADD(layer) suite_add_tcase(s, kernels_##layer());
    KERNEL_CASES(KERNEL_CASE_ADD)
#undef KERNEL_CASE_ADD
    return s;
}

int main(void)
{
    const char *wanted = getenv("OPENBLAS_CORETYPE");
    const char *core = openblas_get_corename();
    printf("OpenBLAS kernel family: %s (OPENBLAS_CORETYPE=%s)\n", core ? core : "?",
           wanted ? wanted : "unset");
    if (wanted && (!core || strcasecmp(core, wanted) != 0)) {
        printf("OpenBLAS did not load the %s kernels on this CPU: skipped\n", wanted);
        return 77;
    }
    SRunner *sr = srunner_create(kernels_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
