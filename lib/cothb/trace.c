/* The trace as JSON Lines: one object per action, added node and observation. Written
 * in two passes (measure, then write) so a too-small buffer is left untouched. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include "cothb_internal.h"

typedef struct writer {
    char *out; /* NULL while measuring */
    size_t len;
} writer;

static void put(writer *w, const char *fmt, ...) BTFM_PRINTF(2, 3);

static void put(writer *w, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (w->out)
        for (size_t i = 0; i < len; i++) w->out[w->len + i] = line[i];
    w->len += len;
}

/* JSON has no NaN: unobserved values are written as null. */
static void put_number(writer *w, double v)
{
    if (isfinite(v))
        put(w, "%.17g", v);
    else
        put(w, "null");
}

static void write_event(writer *w, const cothb_event *e)
{
    put(w, "{\"step\":%lld,", (long long)e->step);
    switch (e->type) {
    case COTHB_EVENT_ACTION:
        put(w, "\"event\":\"action\",\"action\":\"%s\",\"node\":%lld,\"target\":%lld,"
            "\"value\":", btfm_cothb_action_name(e->action), (long long)e->node,
            (long long)e->target);
        put_number(w, e->values[0]);
        put(w, ",\"cost\":");
        put_number(w, e->values[1]);
        break;
    case COTHB_EVENT_STRATEGY: {
        static const char *const changes[] = {NULL, "create", "confirm", "reject", "retrieve",
                                              "evict", "give_up"};
        put(w, "\"event\":\"strategy\",\"change\":\"%s\",\"strategy\":%lld,\"reliability\":",
            changes[e->action], (long long)e->node);
        put_number(w, e->values[0]);
        break;
    }
    case COTHB_EVENT_ADD:
        put(w, "\"event\":\"add\",\"node\":%lld,\"parent\":%lld,\"level\":%d", (long long)e->node,
            (long long)e->target, (int)e->values[0]);
        break;
    default: {
        put(w, "\"event\":\"observe\",\"node\":%lld,\"signals\":{", (long long)e->node);
        int first = 1;
        for (int i = 0; i < COTHB_NSIG; i++) {
            if (isnan(e->values[i])) continue;
            put(w, "%s\"%s\":", first ? "" : ",", btfm_cothb_signal_name(i));
            put_number(w, e->values[i]);
            first = 0;
        }
        put(w, "}");
    }
    }
    put(w, "}\n");
}

btfm_status btfm_cothb_trace_jsonl(const btfm_cothb *c, char *buffer, size_t capacity,
                                   size_t *written)
{
    BTFM_CHECK_ARG(c, "btfm_cothb_trace_jsonl", "controller");
    BTFM_CHECK_ARG(written, "btfm_cothb_trace_jsonl", "written");
    writer w = {NULL, 0};
    for (int64_t i = 0; i < c->n_trace; i++) write_event(&w, &c->trace[i]);
    *written = w.len;
    if (!buffer) return BTFM_OK;
    if (capacity <= w.len)
        return btfm_fail(BTFM_E_RANGE, "btfm_cothb_trace_jsonl: the trace needs %zu bytes and "
                         "a NUL, the buffer has %zu", w.len, capacity);
    w.out = buffer;
    w.len = 0;
    for (int64_t i = 0; i < c->n_trace; i++) write_event(&w, &c->trace[i]);
    buffer[w.len] = '\0';
    return BTFM_OK;
}
