/* Status names and the thread-local last-error message behind btfm_last_error(). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define BTFM_ERROR_CAPACITY 1024

static _Thread_local char last_message[BTFM_ERROR_CAPACITY];
static _Thread_local int last_status;

static const struct {
    const char *name;
    const char *text;
} status_table[] = {
    /*   0 */ {"BTFM_OK", "success"},
    /*  -1 */ {"BTFM_E_INVALID", "invalid argument"},
    /*  -2 */ {"BTFM_E_NOMEM", "out of memory"},
    /*  -3 */ {"BTFM_E_IO", "input/output error"},
    /*  -4 */ {"BTFM_E_FORMAT", "malformed input"},
    /*  -5 */ {"BTFM_E_UNSUPPORTED", "not supported by this build"},
    /*  -6 */ {"BTFM_E_RANGE", "value out of range"},
    /*  -7 */ {"BTFM_E_STATE", "not allowed in the current state"},
    /*  -8 */ {"BTFM_E_CHECKSUM", "checksum mismatch"},
    /*  -9 */ {"BTFM_E_VERSION", "written by a newer format version"},
    /* -10 */ {"BTFM_E_KIND", "wrong kind of object"},
    /* -11 */ {"BTFM_E_TRUNCATED", "input is truncated"},
    /* -12 */ {"BTFM_E_NOTFOUND", "not found"},
    /* -13 */ {"BTFM_E_NUMERIC", "numerical error (NaN, Inf or singular problem)"},
    /* -14 */ {"BTFM_E_INTERNAL", "internal error"},
    /* -15 */ {"BTFM_E_CANCELLED", "cancelled by the progress callback"},
    /* -16 */ {"BTFM_E_AGAIN", "a bounded buffer is full; try again later"},
    /* -17 */ {"BTFM_E_REMOTE", "another process of a distributed run failed"},
};

#define STATUS_COUNT ((int)(sizeof status_table / sizeof status_table[0]))

const char *btfm_status_name(int status)
{
    if (status > 0 || -status >= STATUS_COUNT) return NULL;
    return status_table[-status].name;
}

const char *btfm_status_str(int status)
{
    if (status > 0 || -status >= STATUS_COUNT) return "unknown status";
    return status_table[-status].text;
}

const char *btfm_last_error(void) { return last_message; }

int btfm_last_error_status(void) { return last_status; }

void btfm_clear_error(void)
{
    last_message[0] = '\0';
    last_status = BTFM_OK;
}

btfm_status btfm_fail(btfm_status status, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    char *full = n >= 0 && (size_t)n >= sizeof last_message ? malloc((size_t)n + 1) : NULL;
    if (n < 0) {
        snprintf(last_message, sizeof last_message, "%s", btfm_status_str(status));
    } else if (full) {
        /* A long message (a long path) loses its middle, not its end: the cause and what
         * was expected come last. */
        vsnprintf(full, (size_t)n + 1, fmt, again);
        const size_t head = sizeof last_message / 2 - 8, tail = sizeof last_message - head - 6;
        memcpy(last_message, full, head);
        memcpy(last_message + head, " ... ", 5);
        memcpy(last_message + head + 5, full + (size_t)n - tail, tail + 1);
        free(full);
    } else if ((size_t)n >= sizeof last_message) { /* mark the cut so nobody misreads it */
        memcpy(last_message + sizeof last_message - 4, "...", 4);
    }
    va_end(again);
    last_status = status;
    btfm_log(BTFM_LOG_DEBUG, "%s: %s", btfm_status_name(status) ? btfm_status_name(status) : "?",
             last_message);
    return status;
}

const char *btfm_printable(const char *s, char *buf, size_t cap)
{
    size_t used = 0;
    for (; *s && used + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        used += (size_t)snprintf(buf + used, cap - used, c < 32 || c == 127 ? "\\x%02X" : "%c", c);
    }
    buf[used < cap ? used : cap - 1] = '\0';
    return buf;
}

btfm_status btfm_fail_nomem(const char *where, size_t size)
{
    return btfm_fail(BTFM_E_NOMEM, "%s: cannot allocate %zu bytes", where, size);
}
