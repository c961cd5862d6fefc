/* Log callback: where lenient parsers and long fits report warnings and progress. */
#ifndef BTFM_LOG_H
#define BTFM_LOG_H

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum btfm_log_level {
    BTFM_LOG_ERROR = 0,
    BTFM_LOG_WARNING = 1,
    BTFM_LOG_INFO = 2,
    BTFM_LOG_DEBUG = 3,
    BTFM_LOG_LEVEL_MAX_ = 0x7fffffff /* keeps the enum's size fixed; not a level */
} btfm_log_level;

/* Receives one message (one line, no trailing newline) at a time. It may be called
 * from any thread that calls into libbtfm; it must not call back into libbtfm. */
typedef void (*btfm_log_fn)(int level, const char *message, void *user);

/* Install the callback (NULL restores the default, which writes messages at or below
 * the level to standard error as "btfm: warning: ..."). Thread-safe. */
BTFM_API void btfm_set_log_callback(btfm_log_fn fn, void *user);

/* Messages above this level are dropped before formatting. Default BTFM_LOG_WARNING.
 * Out-of-range levels are refused with BTFM_E_RANGE. Thread-safe. */
BTFM_API btfm_status btfm_set_log_level(int level);
BTFM_API int btfm_get_log_level(void);

/* Name of a level ("error", "warning", "info", "debug"); NULL for an unknown one. */
BTFM_API const char *btfm_log_level_name(int level);

#ifdef __cplusplus
}
#endif

#endif
