/* Version of the headers (macros) and of the library actually loaded (functions). */
#ifndef BTFM_VERSION_H
#define BTFM_VERSION_H

#include <stddef.h>
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BTFM_VERSION_MAJOR 1
#define BTFM_VERSION_MINOR 3
#define BTFM_VERSION_PATCH 0
#define BTFM_VERSION_STRINGIFY_(x) #x
#define BTFM_VERSION_EXPAND_(x) BTFM_VERSION_STRINGIFY_(x)
/* "1.3.0" */
#define BTFM_VERSION_STRING                                                             \
    BTFM_VERSION_EXPAND_(BTFM_VERSION_MAJOR) "." BTFM_VERSION_EXPAND_(BTFM_VERSION_MINOR) \
    "." BTFM_VERSION_EXPAND_(BTFM_VERSION_PATCH)
/* MAJOR * 10000 + MINOR * 100 + PATCH: 10300 for 1.3.0. */
#define BTFM_VERSION_NUMBER \
    (BTFM_VERSION_MAJOR * 10000 + BTFM_VERSION_MINOR * 100 + BTFM_VERSION_PATCH)
/* True when the headers are at least version major.minor.patch. */
#define BTFM_VERSION_CHECK(major, minor, patch) \
    (BTFM_VERSION_NUMBER >= ((major) * 10000 + (minor) * 100 + (patch)))

/* Version of the loaded library, in the BTFM_VERSION_NUMBER encoding. Compare it with
 * BTFM_VERSION_NUMBER to detect a program running against an older library. */
BTFM_API unsigned btfm_version_number(void);

/* "1.2.2". Static storage, never NULL. */
BTFM_API const char *btfm_version_string(void);

/* Space-separated list of what this build contains: modules ("core"), formats and
 * optional dependencies, e.g. "core container zlib". Static storage, never NULL. */
BTFM_API const char *btfm_capabilities(void);

/* 1 when the build contains the named capability (one word of btfm_capabilities()),
 * 0 otherwise (also for NULL). */
BTFM_API int btfm_has_capability(const char *name);

/* What this process runs on (since 1.3), as text of "key: value" lines: version,
 * capabilities, cpu (its name), cpu_isa (sse3 ... avx512), cpu_features, cpu_count, blas
 * (library and version), blas_config (OpenBLAS's openblas_get_config), blas_kernels (the
 * kernel family OpenBLAS chose, e.g. "Haswell"), blas_kernels_isa, blas_threads,
 * blas_threading, blas_thread_control ("on" or "off", below), the environment variables
 * OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS and OMP_NUM_THREADS ("(unset)" when absent), and
 * advice (which OPENBLAS_CORETYPE would use the CPU fully, or "none"). More keys may follow in later releases. *written receives the
 * size including the terminating NUL. A NULL `buffer` is a size query; a `capacity` too
 * small for a non-NULL buffer writes nothing and returns BTFM_E_RANGE. The report is
 * made on each call (thread counts and the environment can change). */
BTFM_API btfm_status btfm_runtime_info(char *buffer, size_t capacity, size_t *written);

/* OpenBLAS's thread count is one setting for the whole process, shared with the host and
 * with anything else in it that uses OpenBLAS (NumPy, for one). By default (0) libbtfm never
 * changes it: work the library spreads over its own threads then runs on one thread of its
 * own whenever OpenBLAS has more than one, so the two never compete for the cores. A host
 * that owns the process and wants the library's own threading (faster hyperalignment,
 * doc/THREADING.md) passes 1: calls then switch OpenBLAS to the count they want for their
 * duration, through one counted, locked setting that restores the host's count when the
 * last of them returns (since 1.3). Returns the previous setting. The `btfm` command
 * line turns it on. */
BTFM_API int btfm_set_blas_thread_control(int enabled);

/* The current setting of btfm_set_blas_thread_control: 1 or 0 (since 1.3). */
BTFM_API int btfm_get_blas_thread_control(void);

#ifdef __cplusplus
}
#endif

#endif
