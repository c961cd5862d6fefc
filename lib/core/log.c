/* The log callback and level; the default writes to standard error. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include "internal.h"

static const char *level_names[] = {"error", "warning", "info", "debug"};
#define LEVEL_COUNT ((int)(sizeof level_names / sizeof level_names[0]))

static void default_log(int level, const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "btfm: %s: %s\n", btfm_log_level_name(level), message);
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static btfm_log_fn log_fn = default_log;
static void *log_user;
static atomic_int log_level = BTFM_LOG_WARNING;

void btfm_set_log_callback(btfm_log_fn fn, void *user)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn ? fn : default_log;
    log_user = fn ? user : NULL;
    pthread_mutex_unlock(&log_lock);
}

btfm_status btfm_set_log_level(int level)
{
    if (level < 0 || level >= LEVEL_COUNT)
        return btfm_fail(BTFM_E_RANGE, "btfm_set_log_level: level %d is outside [0, %d] "
                         "(error, warning, info, debug)", level, LEVEL_COUNT - 1);
    atomic_store(&log_level, level);
    return BTFM_OK;
}

int btfm_get_log_level(void) { return atomic_load(&log_level); }

const char *btfm_log_level_name(int level)
{
    return level >= 0 && level < LEVEL_COUNT ? level_names[level] : NULL;
}

void btfm_log(int level, const char *fmt, ...)
{
    if (level > atomic_load(&log_level)) return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    btfm_log_fn fn = log_fn;
    void *user = log_user;
    pthread_mutex_unlock(&log_lock);
    fn(level, message, user);
}
