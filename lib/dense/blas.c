/* What the library knows about the BLAS it runs on: OpenBLAS's kernel choice. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "dense.h"

void btfm_dense_check_kernels(const char *who)
{
    /* Once a process: an OpenBLAS release older than the CPU may fall back to its AVX2
     * kernels, which run the single-precision products at about half the speed of its
     * AVX-512 ones. Not when OPENBLAS_CORETYPE chose them. */
    static atomic_int told;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    const char *core = openblas_get_corename();
    if (!core || getenv("OPENBLAS_CORETYPE") || atomic_exchange(&told, 1)) return;
    __builtin_cpu_init();
    if ((!strcmp(core, "Haswell") || !strcmp(core, "Zen")) &&
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        btfm_warn("%s: OpenBLAS picked its '%s' (AVX2) kernels on this AVX-512 CPU; "
                  "OPENBLAS_CORETYPE=SkylakeX in the environment of the process makes its "
                  "products about twice as fast", who, core);
#else
    (void)told;
    (void)who;
#endif
}
