/* What the library knows about the BLAS it runs on: OpenBLAS's kernel family against the
 * CPU's instruction set, and the one-time advice when the two disagree. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>
#include <cblas.h>
#include <btfm/version.h>
#include "dense.h"

/* OpenBLAS 0.3.21's x86-64 kernel families (driver/others/dynamic.c) by the instruction
 * set their kernels use. */
static const struct {
    const char *family;
    btfm_isa isa;
} families[] = {
    {"Prescott", BTFM_ISA_SSE3},      {"Opteron_SSE3", BTFM_ISA_SSE3},
    {"Opteron", BTFM_ISA_SSE3},       {"Barcelona", BTFM_ISA_SSE3},
    {"Bobcat", BTFM_ISA_SSE3},        {"Nano", BTFM_ISA_SSE3},
    {"Atom", BTFM_ISA_SSSE3},         {"Core2", BTFM_ISA_SSSE3},
    {"Penryn", BTFM_ISA_SSE41},       {"Dunnington", BTFM_ISA_SSE41},
    {"Nehalem", BTFM_ISA_SSE42},      {"Sandybridge", BTFM_ISA_AVX},
    {"Bulldozer", BTFM_ISA_AVX},      {"Piledriver", BTFM_ISA_AVX},
    {"Steamroller", BTFM_ISA_AVX},    {"Excavator", BTFM_ISA_AVX},
    {"Haswell", BTFM_ISA_AVX2},       {"Zen", BTFM_ISA_AVX2},
    {"SkylakeX", BTFM_ISA_AVX512},    {"Cooperlake", BTFM_ISA_AVX512},
    {"SapphireRapids", BTFM_ISA_AVX512},
};

btfm_isa btfm_dense_kernel_isa(const char *family)
{
    for (size_t i = 0; family && i < sizeof families / sizeof families[0]; i++)
        if (strcasecmp(family, families[i].family) == 0) return families[i].isa;
    return BTFM_ISA_UNKNOWN;
}

const char *btfm_dense_kernel_upgrade(const char *family, btfm_isa cpu)
{
    /* the family OpenBLAS accepts in OPENBLAS_CORETYPE for each level */
    static const char *const best[] = {NULL,      "Prescott",    "Core2",   "Penryn",
                                       "Nehalem", "Sandybridge", "Haswell", "SkylakeX"};
    btfm_isa have = btfm_dense_kernel_isa(family);
    if (have == BTFM_ISA_UNKNOWN || cpu <= have || cpu > BTFM_ISA_AVX512) return NULL;
    return best[cpu];
}

const char *btfm_dense_blas_kernels(void)
{
    const char *core = openblas_get_corename();
    return core ? core : "unknown";
}

const char *btfm_dense_blas_config(void)
{
    const char *config = openblas_get_config();
    return config ? config : "unknown";
}

int btfm_dense_blas_threads(void) { return openblas_get_num_threads(); }

const char *btfm_dense_blas_threading(void)
{
    switch (openblas_get_parallel()) {
    case 0: return "sequential";
    case 1: return "pthreads";
    case 2: return "openmp";
    default: return "unknown";
    }
}

void btfm_dense_check_kernels(const char *who)
{
    static atomic_int told;
    if (getenv("OPENBLAS_CORETYPE") || atomic_load(&told)) return;
    const char *core = btfm_dense_blas_kernels();
    const btfm_isa cpu = btfm_cpu_isa();
    const char *upgrade = btfm_dense_kernel_upgrade(core, cpu);
    if (!upgrade || atomic_exchange(&told, 1)) return;
    btfm_warn("%s: OpenBLAS picked its '%s' kernels (%s) on this %s CPU, which it does not "
              "recognize; OPENBLAS_CORETYPE=%s in the environment of the process runs its "
              "%s kernels, several times faster for large products (btfm version --verbose "
              "shows what runs)", who, core, btfm_isa_name(btfm_dense_kernel_isa(core)),
              btfm_isa_name(cpu), upgrade, btfm_isa_name(cpu));
}

/* OpenBLAS's thread count is one setting for the whole process. The library changes it
 * only when the host allowed it (btfm_set_blas_thread_control), and then through here:
 * the first call in saves the host's count and the last one out restores it, so
 * concurrent calls (each saving and restoring on its own would restore each other's
 * setting) never leave it changed. The switch, the lock and the count are the library's
 * only shared state, and they only guard this setting. */
static atomic_int blas_control;
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_depth, blas_host_threads;

BTFM_API int btfm_set_blas_thread_control(int enabled)
{
    return atomic_exchange(&blas_control, enabled ? 1 : 0);
}

BTFM_API int btfm_get_blas_thread_control(void) { return atomic_load(&blas_control); }

int btfm_dense_blas_threads_push(int wanted)
{
    if (!atomic_load(&blas_control)) return 0;
    pthread_mutex_lock(&blas_lock);
    const int previous = openblas_get_num_threads();
    if (blas_depth++ == 0) blas_host_threads = previous;
    if (wanted > 0 && previous != wanted) openblas_set_num_threads(wanted);
    pthread_mutex_unlock(&blas_lock);
    return previous;
}

void btfm_dense_blas_threads_pop(int previous)
{
    if (previous <= 0) return; /* the push changed nothing */
    pthread_mutex_lock(&blas_lock);
    const int restore = --blas_depth == 0 ? blas_host_threads : previous;
    if (restore > 0 && openblas_get_num_threads() != restore) openblas_set_num_threads(restore);
    pthread_mutex_unlock(&blas_lock);
}

int btfm_dense_blas_workers(int wanted)
{
    if (wanted <= 0) wanted = openblas_get_num_threads();
    if (wanted > 1 && !atomic_load(&blas_control) && openblas_get_num_threads() > 1)
        return 1; /* OpenBLAS's own threads have the cores */
    return wanted;
}
