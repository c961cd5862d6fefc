/* Datasets whose samples a producer computes on demand, a block of rows at a time and in
 * order: the writers pull a recording of any length through one block of memory, so a
 * simulator streams to disk what it could never hold. Read forward only (the previous
 * block stays readable). */
#include <string.h>
#include "dataset_internal.h"

typedef struct generated_state {
    btfm_generate_fn fn;
    void *ctx;
    int64_t block;           /* rows the producer makes per call */
    float *rows;             /* 2 x block x n_channels, time-major: the last blocks made */
    int64_t first, count;    /* rows held: [first, first + count), count <= 2 x block */
    btfm_status failed;      /* the producer failed: its later blocks cannot follow */
} generated_state;

/* Make row `t` one of the rows held, producing blocks forward until it is. The previous
 * block stays available, so a reader may go back up to `block` rows from the newest: the
 * writers reading a record channel by channel never have to look further. */
static btfm_status cover(btfm_dataset *ds, generated_state *g, int64_t t)
{
    if (t >= g->first && t < g->first + g->count) return BTFM_OK;
    if (g->failed)
        return btfm_fail(g->failed, "%s: generated dataset: an earlier block failed (%s); "
                         "its samples cannot be produced again", ds->path,
                         btfm_status_name(g->failed));
    if (t < g->first)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: generated dataset: samples are produced "
                         "forward only; sample %lld was asked after sample %lld", ds->path,
                         (long long)t, (long long)g->first);
    size_t width = (size_t)ds->n_channels;
    while (t >= g->first + g->count) {
        if (g->count > g->block) { /* keep the newest block only */
            int64_t drop = g->count - g->block;
            memmove(g->rows, g->rows + (size_t)drop * width, (size_t)g->block * width * sizeof(float));
            g->first += drop;
            g->count = g->block;
        }
        int64_t next = g->first + g->count;
        int64_t n = ds->n_times - next < g->block ? ds->n_times - next : g->block;
        btfm_status st = g->fn(g->ctx, next, n, g->rows + (size_t)g->count * width);
        if (st) {
            g->failed = st;
            return st;
        }
        g->count += n;
    }
    return BTFM_OK;
}

static btfm_status generated_read_block(btfm_dataset *ds, int64_t first, int64_t count,
                                        const int *picks, int n_picks, size_t stride,
                                        float *out)
{
    generated_state *g = ds->state;
    size_t width = (size_t)ds->n_channels;
    for (int64_t t = first; t < first + count;) {
        btfm_status st = cover(ds, g, t);
        if (st) return st;
        int64_t end = g->first + g->count < first + count ? g->first + g->count : first + count;
        for (; t < end; t++) {
            const float *row = g->rows + (size_t)(t - g->first) * width;
            float *o = out + (size_t)(t - first) * stride;
            for (int j = 0; j < n_picks; j++) o[j] = row[picks[j]];
        }
    }
    return BTFM_OK;
}

static btfm_status generated_read_digital(btfm_dataset *ds, int ch, int64_t first,
                                          int64_t count, double *out)
{
    generated_state *g = ds->state;
    size_t width = (size_t)ds->n_channels;
    for (int64_t t = first; t < first + count;) {
        btfm_status st = cover(ds, g, t);
        if (st) return st;
        int64_t end = g->first + g->count < first + count ? g->first + g->count : first + count;
        for (; t < end; t++) out[t - first] = g->rows[(size_t)(t - g->first) * width + (size_t)ch];
    }
    return BTFM_OK;
}

static void generated_close(btfm_dataset *ds)
{
    generated_state *g = ds->state;
    if (g) btfm_free(g->rows);
    btfm_free(g);
}

static const btfm_io_driver generated_driver = {"generated", generated_read_digital,
                                                generated_read_block, generated_close};

btfm_status btfm_dataset_generated(btfm_dataset **out, int64_t n_times, int n_channels,
                                   double sfreq, int64_t block, btfm_generate_fn fn, void *ctx)
{
    static const char func[] = "btfm_dataset_generated";
    *out = NULL;
    if (n_times < 1 || n_channels < 1 || block < 1 || !(sfreq > 0))
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples of %d channels at %g Hz in blocks of "
                         "%lld; expected positive sizes and rate", func, (long long)n_times,
                         n_channels, sfreq, (long long)block);
    size_t bytes;
    if (btfm_mul_size(2 * (size_t)block, (size_t)n_channels, &bytes) ||
        btfm_mul_size(bytes, sizeof(float), &bytes))
        return btfm_fail(BTFM_E_RANGE, "%s: a block of %lld x %d floats is too large", func,
                         (long long)block, n_channels);
    btfm_dataset *ds;
    btfm_status st = btfm_dataset_alloc(&ds, "<generated>", BTFM_FORMAT_MEMORY, n_channels);
    if (st) return st;
    generated_state *g = btfm_calloc(1, sizeof *g);
    ds->state = g;
    ds->driver = &generated_driver;
    if (!g || !(g->rows = btfm_malloc(bytes))) {
        btfm_dataset_free(ds);
        return btfm_fail_nomem(func, bytes);
    }
    g->fn = fn;
    g->ctx = ctx;
    g->block = block;
    for (int i = 0; i < n_channels; i++) {
        btfm_channel *c = &ds->channels[i];
        if (btfm_channel_copy(c, NULL, i)) {
            btfm_dataset_free(ds);
            return btfm_fail_nomem(func, 64);
        }
        c->rate = sfreq;
        c->n_samples = n_times;
        c->samples_per_record = (int)(n_times < INT32_MAX ? n_times : INT32_MAX);
    }
    if ((st = btfm_dataset_finish(ds))) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}
