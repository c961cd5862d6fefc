/* What this process runs on, for people and bug reports: the library, the CPU, the BLAS
 * and its kernel family, and the environment variables that steer OpenBLAS. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <btfm/version.h>
#include "core/cpu.h"
#include "dense/dense.h"
#include "io/volume/gzip_reader.h"

typedef struct report {
    char text[4096];
    size_t used;
} report;

static void line(report *r, const char *key, const char *fmt, ...) BTFM_PRINTF(3, 4);
static void line(report *r, const char *key, const char *fmt, ...)
{
    if (r->used >= sizeof r->text) return;
    int n = snprintf(r->text + r->used, sizeof r->text - r->used, "%s: ", key);
    if (n > 0) r->used += (size_t)n;
    if (r->used >= sizeof r->text) return;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(r->text + r->used, sizeof r->text - r->used, fmt, ap);
    va_end(ap);
    if (n > 0) r->used += (size_t)n;
    if (r->used + 1 < sizeof r->text) r->text[r->used++] = '\n';
    if (r->used >= sizeof r->text) r->used = sizeof r->text - 1;
    r->text[r->used] = '\0';
}

static void advice(report *r, const char *core, btfm_isa cpu)
{
    const char *upgrade = btfm_dense_kernel_upgrade(core, cpu);
    const char *env = getenv("OPENBLAS_CORETYPE");
    if (!upgrade)
        line(r, "advice", "none");
    else
        line(r, "advice", "OpenBLAS runs its %s kernels (%s) on this %s CPU%s%s%s; "
             "OPENBLAS_CORETYPE=%s in the environment runs its %s kernels", core,
             btfm_isa_name(btfm_dense_kernel_isa(core)), btfm_isa_name(cpu),
             env ? ", as OPENBLAS_CORETYPE=" : "", env ? env : "", env ? " asks" : "",
             upgrade, btfm_isa_name(cpu));
}

btfm_status btfm_runtime_info(char *buffer, size_t capacity, size_t *written)
{
    BTFM_CHECK_ARG(written, "btfm_runtime_info", "written");
    report *r = btfm_malloc(sizeof *r);
    if (!r) return btfm_fail_nomem("btfm_runtime_info", sizeof *r);
    r->used = 0;
    r->text[0] = '\0';
    char cpu_name[64], features[256];
    btfm_cpu_name(cpu_name, sizeof cpu_name);
    btfm_cpu_features(features, sizeof features);
    const btfm_isa cpu = btfm_cpu_isa();
    const char *core = btfm_dense_blas_kernels(), *config = btfm_dense_blas_config();
    line(r, "version", "%s", btfm_version_string());
    line(r, "capabilities", "%s", btfm_capabilities());
    line(r, "inflate", "%s", btfm_gzip_backend());
    line(r, "cpu", "%s", cpu_name);
    line(r, "cpu_isa", "%s", btfm_isa_name(cpu));
    line(r, "cpu_features", "%s", features);
    line(r, "cpu_count", "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    /* openblas_get_config starts with the library's name and version */
    int name_len = 0;
    for (int spaces = 0; config[name_len] && (config[name_len] != ' ' || ++spaces < 2);) name_len++;
    line(r, "blas", "%.*s", name_len, config);
    line(r, "blas_config", "%s", config);
    line(r, "blas_kernels", "%s", core);
    line(r, "blas_kernels_isa", "%s", btfm_isa_name(btfm_dense_kernel_isa(core)));
    line(r, "blas_threads", "%d", btfm_dense_blas_threads());
    line(r, "blas_threading", "%s", btfm_dense_blas_threading());
    line(r, "blas_thread_control", "%s", btfm_get_blas_thread_control() ? "on" : "off");
    const char *env_names[] = {"OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"};
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++) {
        const char *v = getenv(env_names[i]);
        line(r, env_names[i], "%s", v ? v : "(unset)");
    }
    advice(r, core, cpu);
    const size_t size = r->used + 1;
    *written = size;
    btfm_status st = BTFM_OK;
    if (buffer && capacity < size)
        st = btfm_fail(BTFM_E_RANGE, "btfm_runtime_info: the report needs %zu bytes, the "
                       "buffer holds %zu", size, capacity);
    else if (buffer)
        memcpy(buffer, r->text, size);
    btfm_free(r);
    return st;
}
