/* Status codes returned by every fallible function, and the per-thread error message. */
#ifndef BTFM_STATUS_H
#define BTFM_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 0 is success, errors are negative. A number is never reused for another meaning:
 * a retired code stays in this list. New codes are added at the end. */
typedef enum btfm_status {
    BTFM_OK = 0,
    BTFM_E_INVALID = -1,     /* an argument is invalid (NULL handle, bad enum, bad size) */
    BTFM_E_NOMEM = -2,       /* an allocation failed */
    BTFM_E_IO = -3,          /* the operating system refused a read, write or rename */
    BTFM_E_FORMAT = -4,      /* input data is malformed */
    BTFM_E_UNSUPPORTED = -5, /* valid input that this build cannot handle */
    BTFM_E_RANGE = -6,       /* a value (parameter, index, count) is out of bounds */
    BTFM_E_STATE = -7,       /* the call is not allowed in the object's current state */
    BTFM_E_CHECKSUM = -8,    /* stored data does not match its checksum */
    BTFM_E_VERSION = -9,     /* data written by a newer, incompatible format version */
    BTFM_E_KIND = -10,       /* data describes another kind of object than expected */
    BTFM_E_TRUNCATED = -11,  /* input ends before its declared end */
    BTFM_E_NOTFOUND = -12,   /* a named item (file, array, channel) does not exist */
    BTFM_E_NUMERIC = -13,    /* NaN/Inf input or a numerically impossible problem */
    BTFM_E_INTERNAL = -14,   /* a bug in libbtfm: please report it with the message */
    BTFM_E_CANCELLED = -15,  /* the progress callback asked to stop; nothing half-done is kept */
    BTFM_E_AGAIN = -16,      /* a bounded buffer is full (real-time queues); try again later */
    BTFM_E_REMOTE = -17,     /* another rank of a distributed run failed; its message is here */
    BTFM_STATUS_MIN_ = -0x7fffffff /* keeps the enum's size fixed; not a status */
} btfm_status;

/* Symbolic name of a status, e.g. "BTFM_E_FORMAT"; NULL for a number that names no
 * status. Static storage. Bindings enumerate codes 0, -1, -2, ... until NULL. */
BTFM_API const char *btfm_status_name(int status);

/* One-line description of a status, e.g. "malformed input"; never NULL (an unknown
 * number gives "unknown status"). Static storage. */
BTFM_API const char *btfm_status_str(int status);

/* The message of the most recent failure on the calling thread: what happened, where
 * (file, byte offset, channel, parameter) and what was expected. Never NULL; "" when
 * no call on this thread has failed. Valid until the next libbtfm call on this thread. */
BTFM_API const char *btfm_last_error(void);

/* Status of the most recent failure on the calling thread (BTFM_OK if none). */
BTFM_API int btfm_last_error_status(void);

/* Forget the calling thread's last error. */
BTFM_API void btfm_clear_error(void);

#ifdef __cplusplus
}
#endif

#endif
