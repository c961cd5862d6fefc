/* btfm_loader: a corpus served as batches. The sampler follows PyTorch's
 * DistributedSampler (a permutation seeded by seed + epoch, padded by repeating its head
 * or truncated, rank r taking every R-th index from r); background threads assemble the
 * batches into a ring of preallocated buffers, and btfm_loader_next hands them out in
 * order, allocating nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "loader_internal.h"
#include "core/random.h"

static const btfm_param_def loader_params[LOADER_PARAM_COUNT] = {
    {"window_s", BTFM_PARAM_REAL, 4, 1e-6, 1e6, "Window length in seconds (fixed-length windows)."},
    {"stride_s", BTFM_PARAM_REAL, 0, 0, 1e6, "Stride between window starts in seconds (0: the window length)."},
    {"event_locked", BTFM_PARAM_BOOL, 0, 0, 1, "One window per selected event, from tmin to tmax around it."},
    {"tmin", BTFM_PARAM_REAL, -0.2, -1e4, 1e4, "Event-locked window start, seconds from the event."},
    {"tmax", BTFM_PARAM_REAL, 0.8, -1e4, 1e4, "Event-locked window end, seconds from the event (included, as in MNE)."},
    {"split", BTFM_PARAM_INT, 3, 0, 3, "Split served: 0 train, 1 validation, 2 test, 3 all."},
    {"split_by", BTFM_PARAM_INT, 0, 0, 3, "Split unit: 0 subject, 1 session, 2 recording, 3 window."},
    {"val_fraction", BTFM_PARAM_REAL, 0.1, 0, 1, "Share of the groups in the validation split."},
    {"test_fraction", BTFM_PARAM_REAL, 0.1, 0, 1, "Share of the groups in the test split."},
    {"seed", BTFM_PARAM_INT, 0, 0, 9007199254740991.0, "Seed of the splits, the shuffles and the masks."},
    {"shuffle", BTFM_PARAM_BOOL, 1, 0, 1, "Reshuffle the windows every epoch (permutation seeded by seed + epoch)."},
    {"rank", BTFM_PARAM_INT, 0, 0, 1e6, "This process's rank among world_size."},
    {"world_size", BTFM_PARAM_INT, 1, 1, 1e6, "Number of ranks sharing each epoch."},
    {"drop_last", BTFM_PARAM_BOOL, 0, 0, 1, "Drop the tail so ranks get equal shares (DistributedSampler), instead of padding with the head."},
    {"batch_size", BTFM_PARAM_INT, 256, 1, 1e6, "Windows a batch."},
    {"drop_last_batch", BTFM_PARAM_BOOL, 0, 0, 1, "Drop an epoch's last, short batch (DataLoader's drop_last)."},
    {"num_threads", BTFM_PARAM_INT, 2, 1, 64, "Background threads assembling batches."},
    {"n_buffers", BTFM_PARAM_INT, 4, 2, 64, "Batches in the ring of buffers."},
    {"patch_len", BTFM_PARAM_INT, 0, 0, 1e6, "Samples a token (0: one token a channel); must divide the window length."},
    {"mask_ratio", BTFM_PARAM_REAL, 0, 0, 1, "Share of each window's tokens masked (rounded to whole tokens)."},
    {"time_major", BTFM_PARAM_BOOL, 0, 0, 1, "Batches as rows x time x channel (fMRI: one parcel vector a TR) instead of rows x channel x time."},
    {"tokens", BTFM_PARAM_INT, 0, 0, 1, "Token values: 0 the samples, 1 log10 band powers (delta, theta, alpha, beta, gamma) of each patch."},
};

const btfm_param_table btfm_loader_param_table = {
    BTFM_OBJECT_LOADER, "loader", LOADER_PARAM_COUNT, loader_params,
};

typedef struct worker_arg {
    struct btfm_loader *l;
    int index;
} worker_arg;

struct btfm_batch {
    int64_t rows;
    float *data;         /* data_bytes, not inherited by fork's children */
    size_t data_bytes;
    int32_t *labels, *recordings, *channel_ids;
    uint8_t *mask;
    int64_t *window_ids, *starts;
    float *positions;
    int64_t ready;       /* the batch number it holds, -1 while none */
};

struct btfm_loader {
    double params[LOADER_PARAM_COUNT];
    char *events;
    corpus_rec *recs;
    int64_t n_recs;
    char **names;
    int n_names, max_channels;
    double sfreq;
    /* prepared from the parameters (ready != 0) */
    int ready;
    window_spec spec;
    window_list windows;
    char **labels;
    int n_labels;
    int64_t T, P, patch, n_samples, n_batches, batch_size;
    int64_t *perm, *order, order_epoch;
    struct btfm_batch *ring;
    int n_ring, gather_kernel;
    uint32_t **scratch; /* per thread: token indices for masks */
    /* band-power tokens: their tables, and per thread a row of samples */
    band_plan band;
    float **rowbuf;
    int bands;
    /* state */
    int64_t epoch, position;
    /* threads */
    pthread_t *threads;
    struct worker_arg *args;
    int n_threads, running, stop, holding;
    int64_t next_fill, released, run_epoch;
    btfm_status failure;
    char failure_msg[1024];
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void stop_threads(btfm_loader *l)
{
    if (!l->running) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    for (int t = 0; t < l->n_threads; t++) pthread_join(l->threads[t], NULL);
    l->running = 0;
    l->stop = 0;
    l->holding = 0;
}

static void unprepare(btfm_loader *l)
{
    stop_threads(l);
    btfm_window_list_free(&l->windows);
    for (int i = 0; l->labels && i < l->n_labels; i++) btfm_free(l->labels[i]);
    btfm_free(l->labels);
    l->labels = NULL, l->n_labels = 0;
    for (int i = 0; l->ring && i < l->n_ring; i++) {
        struct btfm_batch *b = &l->ring[i];
        btfm_free_unshared(b->data, b->data_bytes), btfm_free(b->labels), btfm_free(b->recordings);
        btfm_free(b->channel_ids), btfm_free(b->mask), btfm_free(b->window_ids);
        btfm_free(b->starts), btfm_free(b->positions);
    }
    btfm_free(l->ring);
    l->ring = NULL;
    for (int t = 0; l->scratch && t < l->n_threads; t++) btfm_free(l->scratch[t]);
    for (int t = 0; l->rowbuf && t < l->n_threads; t++) btfm_free(l->rowbuf[t]);
    btfm_free(l->rowbuf);
    l->rowbuf = NULL;
    btfm_band_plan_free(&l->band);
    l->bands = 0;
    btfm_free(l->scratch), btfm_free(l->threads), btfm_free(l->perm), btfm_free(l->order);
    btfm_free(l->args);
    l->args = NULL, l->scratch = NULL, l->threads = NULL, l->perm = NULL, l->order = NULL;
    l->ready = 0;
}

btfm_status btfm_loader_new(btfm_loader **out, const char *dir)
{
    BTFM_CHECK_ARG(out, "btfm_loader_new", "out");
    BTFM_CHECK_ARG(dir, "btfm_loader_new", "dir");
    *out = NULL;
    btfm_loader *l = btfm_calloc(1, sizeof *l);
    if (!l) return btfm_fail_nomem("btfm_loader_new", sizeof *l);
    btfm_params_defaults(&btfm_loader_param_table, l->params);
    btfm_status st = btfm_corpus_open_index(dir, &l->recs, &l->n_recs, &l->names, &l->n_names);
    if (st) { btfm_free(l); return st; }
    l->sfreq = l->recs[0].sfreq;
    for (int64_t i = 0; i < l->n_recs; i++) {
        if (l->recs[i].n_channels > l->max_channels) l->max_channels = l->recs[i].n_channels;
        if (fabs(l->recs[i].sfreq - l->sfreq) > 1e-9 * l->sfreq && st == BTFM_OK)
            st = btfm_fail(BTFM_E_UNSUPPORTED, "btfm_loader_new: %s: recording %s is at %g Hz and "
                           "%s at %g Hz; a loader needs one rate (build with the sfreq parameter)",
                           dir, l->recs[0].id, l->sfreq, l->recs[i].id, l->recs[i].sfreq);
    }
    if (st) { btfm_corpus_close_index(l->recs, l->n_recs, l->names, l->n_names); btfm_free(l); return st; }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    *out = l;
    return BTFM_OK;
}

void btfm_loader_free(btfm_loader *l)
{
    if (!l) return;
    unprepare(l);
    btfm_corpus_close_index(l->recs, l->n_recs, l->names, l->n_names);
    btfm_free(l->events);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    btfm_free(l);
}

btfm_status btfm_loader_set_param(btfm_loader *l, int param, double value)
{
    BTFM_CHECK_ARG(l, "btfm_loader_set_param", "loader");
    unprepare(l); /* the threads read the parameters */
    btfm_status st = btfm_params_set(&btfm_loader_param_table, l->params, param, value,
                                     "btfm_loader_set_param");
    if (st == BTFM_OK) l->epoch = 0, l->position = 0;
    return st;
}

btfm_status btfm_loader_get_param(const btfm_loader *l, int param, double *value)
{
    BTFM_CHECK_ARG(l, "btfm_loader_get_param", "loader");
    BTFM_CHECK_ARG(value, "btfm_loader_get_param", "value");
    return btfm_params_get(&btfm_loader_param_table, l->params, param, value,
                           "btfm_loader_get_param");
}

btfm_status btfm_loader_set_events(btfm_loader *l, const char *labels)
{
    BTFM_CHECK_ARG(l, "btfm_loader_set_events", "loader");
    char *copy = NULL;
    if (labels && *labels && !(copy = btfm_strdup(labels)))
        return btfm_fail_nomem("btfm_loader_set_events", strlen(labels));
    unprepare(l);
    btfm_free(l->events);
    l->events = copy;
    l->epoch = 0, l->position = 0;
    return BTFM_OK;
}

/* ---- preparing: windows, sampler sizes, the ring ---- */

static btfm_status make_spec(btfm_loader *l, window_spec *s, int split)
{
    const double *p = l->params;
    memset(s, 0, sizeof *s);
    s->event_locked = p[BTFM_LOADER_EVENT_LOCKED] != 0;
    if (s->event_locked) {
        int64_t a = (int64_t)nearbyint(p[BTFM_LOADER_TMIN] * l->sfreq);
        int64_t b = (int64_t)nearbyint(p[BTFM_LOADER_TMAX] * l->sfreq);
        if (b < a)
            return btfm_fail(BTFM_E_RANGE, "loader: tmax %g s is before tmin %g s",
                             p[BTFM_LOADER_TMAX], p[BTFM_LOADER_TMIN]);
        s->length = b - a + 1;
        s->offset = a;
        s->stride = 1;
    } else {
        s->length = (int64_t)nearbyint(p[BTFM_LOADER_WINDOW_S] * l->sfreq);
        s->stride = p[BTFM_LOADER_STRIDE_S] > 0
                        ? (int64_t)nearbyint(p[BTFM_LOADER_STRIDE_S] * l->sfreq) : s->length;
        if (s->length < 1 || s->stride < 1)
            return btfm_fail(BTFM_E_RANGE, "loader: window %g s with stride %g s is under one "
                             "sample at %g Hz", p[BTFM_LOADER_WINDOW_S], p[BTFM_LOADER_STRIDE_S],
                             l->sfreq);
    }
    s->events = l->events;
    s->split = split;
    s->split_by = (int)p[BTFM_LOADER_SPLIT_BY];
    s->val_fraction = p[BTFM_LOADER_VAL_FRACTION];
    s->test_fraction = p[BTFM_LOADER_TEST_FRACTION];
    s->seed = (uint64_t)p[BTFM_LOADER_SEED];
    if (s->val_fraction + s->test_fraction > 1)
        return btfm_fail(BTFM_E_RANGE, "loader: val_fraction %g + test_fraction %g exceed 1",
                         s->val_fraction, s->test_fraction);
    return BTFM_OK;
}

static btfm_status ensure_labels(btfm_loader *l)
{
    if (l->labels) return BTFM_OK;
    return btfm_corpus_labels(l->recs, l->n_recs, l->events, &l->labels, &l->n_labels);
}

/* Band-power tokens: the tables, and a row of samples per thread to compute them from. */
static btfm_status prepare_bands(btfm_loader *l)
{
    if (l->params[BTFM_LOADER_TIME_MAJOR] != 0)
        return btfm_fail(BTFM_E_INVALID, "loader: band-power tokens are channel x patch; "
                         "time_major must be 0");
    btfm_status st = btfm_band_plan_init(&l->band, l->patch, l->sfreq);
    if (st) return st;
    l->rowbuf = btfm_calloc((size_t)l->n_threads, sizeof *l->rowbuf);
    if (!l->rowbuf) return btfm_fail_nomem("loader", 0);
    for (int t = 0; t < l->n_threads; t++)
        if (!(l->rowbuf[t] = btfm_malloc((size_t)(l->max_channels * l->T) * sizeof(float))))
            return btfm_fail_nomem("loader", 0);
    l->bands = 1;
    return BTFM_OK;
}

static btfm_status alloc_batch(btfm_loader *l, struct btfm_batch *b)
{
    size_t B = (size_t)l->batch_size, C = (size_t)l->max_channels, T = (size_t)l->T;
    size_t P = (size_t)l->P, data;
    if (l->params[BTFM_LOADER_TOKENS] != 0 && (size_t)BTFM_LOADER_N_BANDS * P > T)
        T = (size_t)BTFM_LOADER_N_BANDS * P; /* patches shorter than the band count */
    if (btfm_mul_size(B * C, T * sizeof(float), &data))
        return btfm_fail(BTFM_E_RANGE, "loader: a batch of %zu x %zu x %zu floats is too large", B, C, T);
    b->data = btfm_malloc_unshared(data);
    b->data_bytes = data;
    b->labels = btfm_malloc(B * sizeof *b->labels);
    b->recordings = btfm_malloc(B * sizeof *b->recordings);
    b->channel_ids = btfm_malloc(B * C * sizeof *b->channel_ids);
    b->mask = btfm_malloc(B * C * P);
    b->window_ids = btfm_malloc(B * sizeof *b->window_ids);
    b->starts = btfm_malloc(B * sizeof *b->starts);
    b->positions = btfm_malloc(B * C * 3 * sizeof *b->positions);
    b->ready = -1;
    if (!b->data || !b->labels || !b->recordings || !b->channel_ids || !b->mask ||
        !b->window_ids || !b->starts || !b->positions)
        return btfm_fail_nomem("loader batch", data);
    return BTFM_OK;
}

static btfm_status prepare(btfm_loader *l)
{
    if (l->ready) return BTFM_OK;
    const double *p = l->params;
    int R = (int)p[BTFM_LOADER_WORLD_SIZE], r = (int)p[BTFM_LOADER_RANK];
    if (r >= R)
        return btfm_fail(BTFM_E_RANGE, "loader: rank %d of a world of %d (ranks are 0 .. %d)",
                         r, R, R - 1);
    btfm_status st = make_spec(l, &l->spec, (int)p[BTFM_LOADER_SPLIT]);
    if (st == BTFM_OK) st = ensure_labels(l);
    if (st == BTFM_OK)
        st = btfm_corpus_windows(l->recs, l->n_recs, &l->spec, l->labels, l->n_labels, &l->windows,
                            NULL, NULL);
    if (st) { unprepare(l); return st; }
    l->T = l->spec.length;
    l->patch = (int64_t)p[BTFM_LOADER_PATCH_LEN];
    if (l->patch == 0) l->patch = l->T;
    if (l->T % l->patch != 0) {
        unprepare(l);
        return btfm_fail(BTFM_E_RANGE, "loader: patch_len %lld does not divide the window's %lld "
                         "samples", (long long)l->patch, (long long)l->T);
    }
    l->P = l->T / l->patch;
    int64_t N = l->windows.n;
    if (N == 0) {
        unprepare(l);
        return btfm_fail(BTFM_E_NOTFOUND, "loader: split %d has no window (window %lld samples, "
                         "%lld recordings)", (int)p[BTFM_LOADER_SPLIT], (long long)l->T,
                         (long long)l->n_recs);
    }
    /* DistributedSampler's num_samples */
    if (p[BTFM_LOADER_DROP_LAST] != 0 && N % R != 0) l->n_samples = (N - R + R - 1) / R;
    else l->n_samples = (N + R - 1) / R;
    l->batch_size = (int64_t)p[BTFM_LOADER_BATCH_SIZE];
    l->n_batches = p[BTFM_LOADER_DROP_LAST_BATCH] != 0 ? l->n_samples / l->batch_size
                                                       : (l->n_samples + l->batch_size - 1) / l->batch_size;
    l->n_threads = (int)p[BTFM_LOADER_NUM_THREADS];
    l->n_ring = (int)p[BTFM_LOADER_N_BUFFERS];
    l->perm = btfm_malloc((size_t)N * sizeof *l->perm);
    l->order = btfm_malloc((size_t)(l->n_samples > 0 ? l->n_samples : 1) * sizeof *l->order);
    l->ring = btfm_calloc((size_t)l->n_ring, sizeof *l->ring);
    l->threads = btfm_calloc((size_t)l->n_threads, sizeof *l->threads);
    l->args = btfm_calloc((size_t)l->n_threads, sizeof *l->args);
    l->scratch = btfm_calloc((size_t)l->n_threads, sizeof *l->scratch);
    if (!l->perm || !l->order || !l->ring || !l->threads || !l->args || !l->scratch) {
        unprepare(l);
        return btfm_fail_nomem("loader", 0);
    }
    l->gather_kernel = btfm_corpus_gather_kernel((size_t)(l->batch_size * l->max_channels * l->T) *
                                                 sizeof(float));
    if (p[BTFM_LOADER_TOKENS] != 0) st = prepare_bands(l);
    for (int i = 0; i < l->n_ring && st == BTFM_OK; i++) st = alloc_batch(l, &l->ring[i]);
    for (int t = 0; t < l->n_threads && st == BTFM_OK; t++)
        if (!(l->scratch[t] = btfm_malloc((size_t)(l->max_channels * l->P) * sizeof(uint32_t))))
            st = btfm_fail_nomem("loader", 0);
    if (st) { unprepare(l); return st; }
    l->order_epoch = -1;
    l->ready = 1;
    return BTFM_OK;
}

/* The sampler: this rank's windows of `epoch`, in order. */
static void epoch_order(btfm_loader *l, int64_t epoch, int64_t *order)
{
    const double *p = l->params;
    int64_t N = l->windows.n, R = (int64_t)p[BTFM_LOADER_WORLD_SIZE],
            r = (int64_t)p[BTFM_LOADER_RANK];
    if (p[BTFM_LOADER_SHUFFLE] != 0)
        btfm_corpus_permutation(l->perm, N, (uint64_t)p[BTFM_LOADER_SEED] + (uint64_t)epoch, 0);
    else
        for (int64_t i = 0; i < N; i++) l->perm[i] = i;
    for (int64_t i = 0; i < l->n_samples; i++) order[i] = l->perm[(r + i * R) % N];
}

/* ---- assembling a batch ---- */

static inline float sample_at(const corpus_rec *r, int64_t index)
{
    const unsigned char *q = r->map + 2 * index;
    uint16_t u = (uint16_t)(q[0] | q[1] << 8);
    return r->dtype == BTFM_CORPUS_INT16 ? (float)(int16_t)u * r->scale[index % r->n_channels]
                                         : btfm_half_to_float(u);
}

static void fill_rows(btfm_loader *l, struct btfm_batch *b, int64_t row, int64_t w, int worker)
{
    const corpus_rec *r = &l->recs[l->windows.rec[w]];
    int64_t T = l->T, C = l->max_channels, start = l->windows.start[w], Cr = r->n_channels;
    float *out = l->bands ? l->rowbuf[worker] : b->data + row * C * T;
    int time_major = l->params[BTFM_LOADER_TIME_MAJOR] != 0;
    if (time_major) {
        for (int64_t t = 0; t < T; t++) {
            for (int64_t c = 0; c < Cr; c++) out[t * C + c] = sample_at(r, (start + t) * Cr + c);
            for (int64_t c = Cr; c < C; c++) out[t * C + c] = 0;
        }
    } else { /* band tokens read the row straight back: it stays in the caches */
        int kernel = l->bands && l->gather_kernel == BTFM_GATHER_STREAM ? BTFM_GATHER_AVX2
                                                                          : l->gather_kernel;
        btfm_corpus_gather(r, start, T, C, kernel, out);
    }
    if (l->bands)
        btfm_band_tokens(&l->band, out, Cr, C, T, b->data + row * C * l->P * BTFM_LOADER_N_BANDS);
    b->labels[row] = l->windows.label[w];
    b->recordings[row] = l->windows.rec[w];
    b->window_ids[row] = w;
    b->starts[row] = start;
    for (int64_t c = 0; c < C; c++) {
        b->channel_ids[row * C + c] = c < Cr ? r->channel_ids[c] : -1;
        for (int k = 0; k < 3; k++)
            b->positions[(row * C + c) * 3 + k] = c < Cr ? r->positions[3 * c + k] : NAN;
    }
    /* the mask: round(ratio x tokens) of the recording's tokens, drawn from a stream of
     * (seed, epoch, window) so it does not depend on the thread or on resuming */
    uint8_t *mask = b->mask + row * C * l->P;
    memset(mask, 0, (size_t)(C * l->P));
    int64_t tokens = Cr * l->P, n_mask = (int64_t)nearbyint(l->params[BTFM_LOADER_MASK_RATIO] * (double)tokens);
    if (n_mask <= 0) return;
    uint32_t *idx = l->scratch[worker];
    for (int64_t k = 0; k < tokens; k++) idx[k] = (uint32_t)k;
    uint64_t state = (uint64_t)l->params[BTFM_LOADER_SEED] * 0x9e3779b97f4a7c15ULL ^
                     (uint64_t)l->run_epoch * 0xbf58476d1ce4e5b9ULL ^ (uint64_t)(w + 1) * 0x94d049bb133111ebULL;
    for (int64_t k = 0; k < n_mask; k++) {
        int64_t j = k + (int64_t)btfm_corpus_draw(&state, (uint64_t)(tokens - k));
        uint32_t t = idx[k];
        idx[k] = idx[j];
        idx[j] = t;
        int64_t c = idx[k] / l->P, p = idx[k] % l->P;
        mask[c * l->P + p] = 1;
    }
}

static void fill_batch(btfm_loader *l, struct btfm_batch *b, int64_t batch, int worker)
{
    int64_t first = batch * l->batch_size, rows = l->n_samples - first;
    if (rows > l->batch_size) rows = l->batch_size;
    b->rows = rows;
    for (int64_t i = 0; i < rows; i++) fill_rows(l, b, i, l->order[first + i], worker);
}

static void *worker_main(void *arg)
{
    btfm_loader *l = ((worker_arg *)arg)->l;
    int worker = ((worker_arg *)arg)->index;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        if (l->stop || l->next_fill >= l->n_batches) break;
        int64_t batch = l->next_fill++;
        /* its slot is free once batch - n_ring has been released by the consumer */
        while (!l->stop && batch >= l->released + l->n_ring) pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop) break;
        struct btfm_batch *b = &l->ring[batch % l->n_ring];
        pthread_mutex_unlock(&l->mu);
        fill_batch(l, b, batch, worker);
        pthread_mutex_lock(&l->mu);
        b->ready = batch;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static btfm_status start_threads(btfm_loader *l)
{
    if (l->order_epoch != l->epoch) {
        epoch_order(l, l->epoch, l->order);
        l->order_epoch = l->epoch;
    }
    for (int i = 0; i < l->n_ring; i++) l->ring[i].ready = -1;
    l->next_fill = l->position;
    l->released = l->position;
    l->run_epoch = l->epoch;
    l->stop = 0;
    l->holding = 0;
    int want = l->n_threads, started = 0;
    for (int t = 0; t < want; t++) {
        l->args[t].l = l;
        l->args[t].index = t;
        if (pthread_create(&l->threads[t], NULL, worker_main, &l->args[t]) != 0) break;
        started++;
    }
    l->running = 1;
    if (started < want) {
        l->n_threads = started;
        stop_threads(l);
        l->n_threads = want;
        return btfm_fail(BTFM_E_NOMEM, "loader: cannot start %d threads", want);
    }
    return BTFM_OK;
}

btfm_status btfm_loader_next(btfm_loader *l, const btfm_batch **out)
{
    BTFM_CHECK_ARG(l, "btfm_loader_next", "loader");
    BTFM_CHECK_ARG(out, "btfm_loader_next", "out");
    *out = NULL;
    btfm_status st = prepare(l);
    if (st) return st;
    if (l->running) {
        pthread_mutex_lock(&l->mu);
        if (l->holding) {
            l->released++;
            l->holding = 0;
            pthread_cond_broadcast(&l->cv);
        }
        pthread_mutex_unlock(&l->mu);
    }
    if (l->position >= l->n_batches) { /* the epoch is over */
        stop_threads(l);
        l->epoch++;
        l->position = 0;
        return BTFM_OK;
    }
    if (!l->running && (st = start_threads(l))) return st;
    struct btfm_batch *b = &l->ring[l->position % l->n_ring];
    pthread_mutex_lock(&l->mu);
    while (b->ready != l->position) pthread_cond_wait(&l->cv, &l->mu);
    l->holding = 1;
    pthread_mutex_unlock(&l->mu);
    l->position++;
    *out = b;
    return BTFM_OK;
}

btfm_status btfm_loader_state(const btfm_loader *l, int64_t *epoch, int64_t *position)
{
    BTFM_CHECK_ARG(l, "btfm_loader_state", "loader");
    if (epoch) *epoch = l->epoch;
    if (position) *position = l->position;
    return BTFM_OK;
}

btfm_status btfm_loader_set_state(btfm_loader *l, int64_t epoch, int64_t position)
{
    BTFM_CHECK_ARG(l, "btfm_loader_set_state", "loader");
    btfm_status st = prepare(l);
    if (st) return st;
    if (epoch < 0 || position < 0 || position > l->n_batches)
        return btfm_fail(BTFM_E_RANGE, "btfm_loader_set_state: epoch %lld, position %lld; an "
                         "epoch has %lld batches", (long long)epoch, (long long)position,
                         (long long)l->n_batches);
    stop_threads(l);
    l->epoch = epoch;
    l->position = position;
    return BTFM_OK;
}

/* ---- sizes and counts ---- */

int64_t btfm_loader_n_recordings(const btfm_loader *l)
{
    return l ? l->n_recs : btfm_fail(BTFM_E_INVALID, "btfm_loader_n_recordings: loader is NULL");
}

double btfm_loader_sfreq(const btfm_loader *l) { return l ? l->sfreq : NAN; }

btfm_status btfm_loader_recording(const btfm_loader *l, int64_t i, const char **id,
                                  int64_t *n_times, int *n_channels)
{
    BTFM_CHECK_ARG(l, "btfm_loader_recording", "loader");
    if (i < 0 || i >= l->n_recs)
        return btfm_fail(BTFM_E_RANGE, "btfm_loader_recording: recording %lld of %lld",
                         (long long)i, (long long)l->n_recs);
    if (id) *id = l->recs[i].id;
    if (n_times) *n_times = l->recs[i].n_times;
    if (n_channels) *n_channels = l->recs[i].n_channels;
    return BTFM_OK;
}

int btfm_loader_n_channels(const btfm_loader *l)
{
    return l ? l->max_channels : btfm_fail(BTFM_E_INVALID, "btfm_loader_n_channels: loader is NULL");
}

int64_t btfm_loader_window_len(btfm_loader *l)
{
    BTFM_CHECK_ARG(l, "btfm_loader_window_len", "loader");
    window_spec s;
    btfm_status st = make_spec(l, &s, 3);
    return st ? st : s.length;
}

int btfm_loader_n_channel_names(const btfm_loader *l)
{
    return l ? l->n_names : btfm_fail(BTFM_E_INVALID, "btfm_loader_n_channel_names: loader is NULL");
}

const char *btfm_loader_channel_name(const btfm_loader *l, int id)
{
    return l && id >= 0 && id < l->n_names ? l->names[id] : NULL;
}

int btfm_loader_n_labels(btfm_loader *l)
{
    BTFM_CHECK_ARG(l, "btfm_loader_n_labels", "loader");
    btfm_status st = ensure_labels(l);
    return st ? st : l->n_labels;
}

const char *btfm_loader_label(btfm_loader *l, int id)
{
    if (!l || ensure_labels(l) != BTFM_OK || id < 0 || id >= l->n_labels) return NULL;
    return l->labels[id];
}

btfm_status btfm_loader_count(btfm_loader *l, int split, int64_t *n_windows, int64_t *n_skipped)
{
    BTFM_CHECK_ARG(l, "btfm_loader_count", "loader");
    if (split < 0 || split > 3)
        return btfm_fail(BTFM_E_RANGE, "btfm_loader_count: split %d (0 train, 1 validation, "
                         "2 test, 3 all)", split);
    window_spec s;
    btfm_status st = make_spec(l, &s, split);
    if (st == BTFM_OK) st = ensure_labels(l);
    if (st == BTFM_OK)
        st = btfm_corpus_windows(l->recs, l->n_recs, &s, l->labels, l->n_labels, NULL, n_windows,
                            n_skipped);
    return st;
}

btfm_status btfm_loader_n_batches(btfm_loader *l, int64_t *n_samples, int64_t *n_batches)
{
    BTFM_CHECK_ARG(l, "btfm_loader_n_batches", "loader");
    btfm_status st = prepare(l);
    if (st) return st;
    if (n_samples) *n_samples = l->n_samples;
    if (n_batches) *n_batches = l->n_batches;
    return BTFM_OK;
}

btfm_status btfm_loader_epoch_order(btfm_loader *l, int64_t epoch, int64_t *ids, int64_t capacity)
{
    BTFM_CHECK_ARG(l, "btfm_loader_epoch_order", "loader");
    BTFM_CHECK_ARG(ids, "btfm_loader_epoch_order", "ids");
    btfm_status st = prepare(l);
    if (st) return st;
    if (capacity < l->n_samples)
        return btfm_fail(BTFM_E_RANGE, "btfm_loader_epoch_order: room for %lld ids; the epoch "
                         "has %lld", (long long)capacity, (long long)l->n_samples);
    if (epoch < 0) return btfm_fail(BTFM_E_RANGE, "btfm_loader_epoch_order: epoch %lld", (long long)epoch);
    stop_threads(l); /* the permutation buffer is shared with the threads */
    l->order_epoch = -1;
    epoch_order(l, epoch, ids);
    return BTFM_OK;
}

/* ---- batches ---- */

int64_t btfm_batch_size(const btfm_batch *b) { return b ? b->rows : 0; }
const float *btfm_batch_data(const btfm_batch *b) { return b ? b->data : NULL; }
const int32_t *btfm_batch_labels(const btfm_batch *b) { return b ? b->labels : NULL; }
const uint8_t *btfm_batch_mask(const btfm_batch *b) { return b ? b->mask : NULL; }
const int64_t *btfm_batch_window_ids(const btfm_batch *b) { return b ? b->window_ids : NULL; }
const int32_t *btfm_batch_recordings(const btfm_batch *b) { return b ? b->recordings : NULL; }
const int64_t *btfm_batch_starts(const btfm_batch *b) { return b ? b->starts : NULL; }
const int32_t *btfm_batch_channel_ids(const btfm_batch *b) { return b ? b->channel_ids : NULL; }
const float *btfm_batch_positions(const btfm_batch *b) { return b ? b->positions : NULL; }
