/* Preloaded (LD_PRELOAD) in front of OpenBLAS by test_runtime_report.py: reports the
 * kernel family named by BTFM_FAKE_CORENAME, as OpenBLAS itself does when it falls back
 * on a CPU it does not recognize, without OPENBLAS_CORETYPE in the environment. */
#include <stdlib.h>

__attribute__((visibility("default"))) char *openblas_get_corename(void);

char *openblas_get_corename(void)
{
    char *name = getenv("BTFM_FAKE_CORENAME");
    return name ? name : "Prescott";
}
