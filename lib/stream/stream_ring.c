/* The two lock-free single-producer single-consumer rings of a stream: output rows (push
 * produces, pull consumes) and markers (the marker thread produces, push consumes).
 *
 * Dropping the oldest row means the producer may advance the tail too: both sides move it
 * by compare-and-swap, and a consumer that lost the race to a lapping producer throws its
 * copy away. Row words are copied with relaxed atomic accesses so that such a copy is a
 * well-defined (discarded) read, never a data race. */
#include <math.h>
#include <string.h>
#include "stream_internal.h"

static void copy_in(uint64_t *slot, const double *row, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &row[i], sizeof bits);
        __atomic_store_n(&slot[i], bits, __ATOMIC_RELAXED);
    }
}

static void copy_out(double *row, const uint64_t *slot, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t bits = __atomic_load_n(&slot[i], __ATOMIC_RELAXED);
        memcpy(&row[i], &bits, sizeof bits);
    }
}

uint64_t btfm_stream_ring_free(stream_rt *rt)
{
    uint64_t head = atomic_load_explicit(&rt->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&rt->tail, memory_order_acquire);
    return rt->capacity - (head - tail);
}

void btfm_stream_ring_put(stream_rt *rt, const double *row)
{
    const uint64_t head = atomic_load_explicit(&rt->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&rt->tail, memory_order_acquire);
    while (head - tail >= rt->capacity) {
        /* full: the oldest row goes (a refusing stream checked the room before) */
        if (atomic_compare_exchange_weak_explicit(&rt->tail, &tail, tail + 1,
                                                  memory_order_acq_rel, memory_order_acquire)) {
            atomic_fetch_add_explicit(&rt->dropped, 1, memory_order_relaxed);
            break;
        }
    }
    copy_in(rt->ring + (head % rt->capacity) * (uint64_t)rt->n_columns, row, rt->n_columns);
    atomic_store_explicit(&rt->head, head + 1, memory_order_release);
}

btfm_status btfm_stream_pull(btfm_stream *s, double *out, size_t capacity, size_t *n_rows)
{
    static const char func[] = "btfm_stream_pull";
    BTFM_CHECK_ARG(s, func, "stream");
    BTFM_CHECK_ARG(n_rows, func, "n_rows");
    *n_rows = 0;
    if (!s->rt) return btfm_fail(BTFM_E_STATE, "%s: configure the stream first", func);
    if (capacity > 0) BTFM_CHECK_ARG(out, func, "out");
    stream_rt *rt = s->rt;
    size_t n = 0;
    while (n < capacity) {
        uint64_t tail = atomic_load_explicit(&rt->tail, memory_order_acquire);
        uint64_t head = atomic_load_explicit(&rt->head, memory_order_acquire);
        if (tail == head) break;
        double *row = out + n * (size_t)rt->n_columns;
        copy_out(row, rt->ring + (tail % rt->capacity) * (uint64_t)rt->n_columns, rt->n_columns);
        /* the copy counts only if the producer did not drop this row meanwhile */
        if (atomic_compare_exchange_strong_explicit(&rt->tail, &tail, tail + 1,
                                                    memory_order_acq_rel, memory_order_acquire))
            n++;
    }
    *n_rows = n;
    return BTFM_OK;
}

/* A marker into the marker ring (its time, or its sample), from the one marker thread. */
static btfm_status marker_put(stream_rt *rt, double time, int64_t sample, int code,
                              const char *label, const char *func)
{
    const uint64_t head = atomic_load_explicit(&rt->marker_head, memory_order_relaxed);
    const uint64_t tail = atomic_load_explicit(&rt->marker_tail, memory_order_acquire);
    if (head - tail >= STREAM_MARKER_SLOTS)
        return btfm_fail(BTFM_E_AGAIN, "%s: %d markers are waiting for their samples; push "
                         "samples first", func, STREAM_MARKER_SLOTS);
    stream_marker *m = &rt->markers[head % STREAM_MARKER_SLOTS];
    m->time = time;
    m->sample = sample;
    m->code = code;
    m->label[0] = '\0';
    if (label) {
        size_t n = strlen(label);
        if (n >= STREAM_LABEL_BYTES) n = STREAM_LABEL_BYTES - 1;
        memcpy(m->label, label, n);
        m->label[n] = '\0';
    }
    atomic_store_explicit(&rt->marker_head, head + 1, memory_order_release);
    return BTFM_OK;
}

btfm_status btfm_stream_push_marker(btfm_stream *s, double time, int code, const char *label)
{
    static const char func[] = "btfm_stream_push_marker";
    BTFM_CHECK_ARG(s, func, "stream");
    stream_rt *rt = s->rt;
    if (!rt) return btfm_fail(BTFM_E_STATE, "%s: configure the stream first", func);
    if (!isfinite(time))
        return btfm_fail(BTFM_E_INVALID, "%s: time = %g; expected a finite time in s", func, time);
    uint64_t bits = atomic_load_explicit(&rt->oldest_time_bits, memory_order_acquire);
    double oldest;
    memcpy(&oldest, &bits, sizeof oldest);
    double earliest = oldest - rt->tmin; /* the marker's epoch starts at time + tmin */
    if (time < earliest)
        return btfm_fail(BTFM_E_RANGE, "%s: a marker at %g s needs samples from %g s, but the "
                         "oldest sample kept is at %g s (history %g s); push markers sooner "
                         "or keep more history", func, time, time + rt->tmin, oldest,
                         (double)rt->n_history / rt->sfreq);
    return marker_put(rt, time, -1, code, label, func);
}

btfm_status btfm_stream_push_marker_sample(btfm_stream *s, int64_t sample, int code,
                                           const char *label)
{
    static const char func[] = "btfm_stream_push_marker_sample";
    BTFM_CHECK_ARG(s, func, "stream");
    stream_rt *rt = s->rt;
    if (!rt) return btfm_fail(BTFM_E_STATE, "%s: configure the stream first", func);
    if (sample < 0 || sample > INT64_MAX / 4)
        return btfm_fail(BTFM_E_RANGE, "%s: sample = %lld; expected a sample index from 0 (the "
                         "stream's count of pushed samples)", func, (long long)sample);
    const int64_t oldest = atomic_load_explicit(&rt->oldest_sample, memory_order_acquire);
    /* the epoch starts at sample + offset (offset < 0 with a pre-marker part) */
    if (oldest != INT64_MIN && sample + rt->geo.offset < oldest)
        return btfm_fail(BTFM_E_RANGE, "%s: a marker at sample %lld needs samples from %lld, "
                         "but the oldest sample kept is %lld (history %g s); push markers "
                         "sooner or keep more history", func, (long long)sample,
                         (long long)(sample + rt->geo.offset), (long long)oldest,
                         (double)rt->n_history / rt->sfreq);
    return marker_put(rt, NAN, sample, code, label, func);
}

int btfm_stream_marker_take(stream_rt *rt, stream_marker *m)
{
    const uint64_t tail = atomic_load_explicit(&rt->marker_tail, memory_order_relaxed);
    const uint64_t head = atomic_load_explicit(&rt->marker_head, memory_order_acquire);
    if (tail == head) return 0;
    *m = rt->markers[tail % STREAM_MARKER_SLOTS];
    atomic_store_explicit(&rt->marker_tail, tail + 1, memory_order_release);
    return 1;
}
