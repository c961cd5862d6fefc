/* Version of the headers (macros) and of the library actually loaded (functions). */
#ifndef BTFM_VERSION_H
#define BTFM_VERSION_H

#include "export.h"

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

#ifdef __cplusplus
}
#endif

#endif
