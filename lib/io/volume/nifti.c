/* The NIfTI driver: NIfTI-1 and NIfTI-2 headers through nifticlib (after our own checks),
 * samples read a volume at a time (pread for .nii/.img, the gzip reader for .gz) and
 * gathered into the active mask's channels. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <nifti2_io.h>
#include "core/json.h"
#include "core/parallel.h"
#include "core/read_file.h"
#include "gzip_reader.h"
#include "volume_internal.h"
#ifdef BTFM_HAVE_ISAL
#  include "deflate_tail.h"
#endif

typedef struct nifti_state {
    char *data_path;
    int64_t data_offset;
    int fd;                 /* uncompressed data file, else -1 */
    btfm_gzip_reader *gz;   /* compressed data file, else NULL */
    int64_t n_volumes;
    int datatype, bytes, swapped, scaled;
    double slope, inter;
    size_t volume_bytes;
    unsigned char *raw;     /* one volume as stored */
    int64_t raw_index;      /* the volume in `raw`, -1 when none */
    double *sums;           /* label masks: one sum per channel */
    double *values;         /* label masks: one volume as doubles */
    int64_t *runs;          /* scratch: the picks as runs of adjacent voxels (first, length) */
    int64_t runs_cap, n_runs;
} nifti_state;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* ---- reading one volume ---- */

/* Where volume t starts in the (uncompressed) data file. */
static int64_t volume_at(const nifti_state *st, int64_t t)
{
    return st->data_offset + t * (int64_t)st->volume_bytes;
}

/* A volume's bytes as stored into the machine's byte order. */
static void fix_order(const nifti_state *st, unsigned char *raw)
{
    if (!st->swapped) return;
    size_t n = st->volume_bytes / (size_t)st->bytes;
    if (st->bytes == 2) {
        uint16_t *p = (uint16_t *)raw;
        for (size_t i = 0; i < n; i++) p[i] = (uint16_t)(p[i] >> 8 | p[i] << 8);
    } else if (st->bytes == 4) {
        uint32_t *p = (uint32_t *)raw;
        for (size_t i = 0; i < n; i++) p[i] = __builtin_bswap32(p[i]);
    } else if (st->bytes == 8) {
        uint64_t *p = (uint64_t *)raw;
        for (size_t i = 0; i < n; i++) p[i] = __builtin_bswap64(p[i]);
    }
}

/* Volume t as stored (byte order fixed) into raw; the .gz stream is shared, so only
 * uncompressed files may be read this way from several threads at once. The last volume
 * of a .gz also checks that the compressed data ends intact. */
static btfm_status read_raw_into(nifti_state *st, int64_t t, unsigned char *raw)
{
    int64_t at = volume_at(st, t);
    if (st->gz) {
        btfm_status s = btfm_gzip_read(st->gz, at, raw, st->volume_bytes, t);
        if (!s && t == st->n_volumes - 1) s = btfm_gzip_check_end(st->gz, t);
        if (s) return s;
    } else {
        size_t done;
        int err = btfm_pread_full(st->fd, raw, st->volume_bytes, at, &done);
        if (err)
            return btfm_fail(BTFM_E_IO, "nifti: %s: volume %lld: %s", st->data_path,
                             (long long)t, strerror(err));
        if (done < st->volume_bytes)
            return btfm_fail(BTFM_E_TRUNCATED, "nifti: %s: volume %lld ends after %zu of %zu "
                             "bytes at byte %lld", st->data_path, (long long)t, done,
                             st->volume_bytes, (long long)(at + (int64_t)done));
    }
    fix_order(st, raw);
    return BTFM_OK;
}

static btfm_status read_raw_volume(btfm_dataset *ds, int64_t t)
{
    nifti_state *st = ds->state;
    if (st->raw_index == t) return BTFM_OK;
    st->raw_index = -1;
    btfm_status s = read_raw_into(st, t, st->raw);
    if (!s) st->raw_index = t;
    return s;
}

/* The datatypes read, as X(NIfTI code, C type). */
#define FOR_EACH_TYPE(X)                                                                 \
    X(2, uint8_t) X(256, int8_t) X(4, int16_t) X(512, uint16_t) X(8, int32_t)          \
    X(768, uint32_t) X(16, float) X(64, double) X(1024, int64_t) X(1280, uint64_t)

/* The physical values of the picked voxels of a volume into out, one run of adjacent
 * voxels at a time: each run converts a contiguous stretch, which the compiler turns into
 * vector code for the instruction set picked at load time. */
BTFM_HOT BTFM_SIMD_CLONES static void gather(const nifti_state *st, const unsigned char *raw,
                                             float *out)
{
    const int64_t *runs = st->runs;
    const double slope = st->slope, inter = st->inter;
#define GATHER(code, T)                                                                  \
    case code:                                                                           \
        for (int64_t r = 0; r < st->n_runs; r++) {                                       \
            const T *src = (const T *)raw + runs[2 * r];                                 \
            const int64_t len = runs[2 * r + 1];                                         \
            if (st->scaled)                                                              \
                for (int64_t k = 0; k < len; k++)                                        \
                    out[k] = (float)((double)src[k] * slope + inter);                    \
            else                                                                         \
                for (int64_t k = 0; k < len; k++) out[k] = (float)src[k];                \
            out += len;                                                                  \
        }                                                                                \
        break;
    switch (st->datatype) { FOR_EACH_TYPE(GATHER) }
#undef GATHER
}

/* st->runs from the voxels of the picked channels, in pick order. */
static btfm_status make_runs(nifti_state *st, const btfm_volume *vol, const int *picks,
                             int n_picks)
{
    void *p = st->runs;
    btfm_status s = btfm_reserve(&p, &st->runs_cap, 2 * (int64_t)n_picks, sizeof *st->runs,
                                 "nifti read");
    st->runs = p;
    if (s) return s;
    int64_t n = 0;
    for (int j = 0; j < n_picks; j++) {
        const int64_t v = vol->voxel[picks[j]];
        if (n && st->runs[2 * n - 2] + st->runs[2 * n - 1] == v) {
            st->runs[2 * n - 1]++;
        } else {
            st->runs[2 * n] = v;
            st->runs[2 * n + 1] = 1;
            n++;
        }
    }
    st->n_runs = n;
    return BTFM_OK;
}

/* Every voxel of the volume in st->raw as doubles (physical values). */
static void volume_values(const nifti_state *st, int64_t n_voxels, double *out)
{
#define ALL(code, T)                                                                     \
    case code: {                                                                         \
        const T *src = (const T *)st->raw;                                               \
        for (int64_t v = 0; v < n_voxels; v++)                                           \
            out[v] = st->scaled ? (double)src[v] * st->slope + st->inter : (double)src[v]; \
        break;                                                                           \
    }
    switch (st->datatype) { FOR_EACH_TYPE(ALL) }
#undef ALL
}

btfm_status btfm_nifti_read_volume(btfm_dataset *ds, int64_t t, double *out)
{
    btfm_status st = read_raw_volume(ds, t);
    if (!st) volume_values(ds->state, ds->volume->n_voxels, out);
    return st;
}

/* Label means of the volume in st->raw into st->sums (one per channel). */
static void label_means(btfm_dataset *ds)
{
    nifti_state *st = ds->state;
    const btfm_volume *vol = ds->volume;
    volume_values(st, vol->n_voxels, st->values);
    memset(st->sums, 0, (size_t)ds->n_channels * sizeof *st->sums);
    for (int64_t v = 0; v < vol->n_voxels; v++)
        if (vol->label_of[v] >= 0) st->sums[vol->label_of[v]] += st->values[v];
    for (int c = 0; c < ds->n_channels; c++) st->sums[c] /= (double)vol->label_count[c];
}

enum { PARALLEL_TASK_FLOATS = 1 << 20 }; /* output floats a task gathers, about */

typedef struct gather_job {
    nifti_state *st;
    int64_t first, count, per_task;
    int n_picks;
    size_t stride;
    float *out;
    unsigned char *extra; /* volume buffers of workers 1 .. */
} gather_job;

static btfm_status gather_task(void *ctx, int64_t index, int worker)
{
    const gather_job *j = ctx;
    unsigned char *raw = worker ? j->extra + (size_t)(worker - 1) * j->st->volume_bytes : j->st->raw;
    for (int64_t t = index * j->per_task; t < (index + 1) * j->per_task && t < j->count; t++) {
        btfm_status s = read_raw_into(j->st, j->first + t, raw);
        if (s) return s;
        gather(j->st, raw, j->out + (size_t)t * j->stride);
    }
    return BTFM_OK;
}

/* .nii.gz reads of several volumes on two threads: the gzip stream is sequential, so one
 * thread inflates volume t + 1 while the other gathers volume t. A free thread takes
 * whichever step is ready (inflating first), so one thread alone runs them in turn and
 * the result is the serial path's. */
enum { PIPE_BUFFERS = 3 };

typedef struct pipe_job {
    nifti_state *st;
    int64_t first, count;
    size_t stride;
    float *out;
    unsigned char *buf[PIPE_BUFFERS];
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int64_t inflated, gathered; /* volumes done, each in order */
    int inflating, gathering, failed;
} pipe_job;

static btfm_status pipe_task(void *ctx, int64_t index, int worker)
{
    pipe_job *j = ctx;
    btfm_status s = BTFM_OK;
    pthread_mutex_lock(&j->lock);
    while (!j->failed && j->gathered < j->count) {
        if (!j->inflating && j->inflated < j->count && j->inflated - j->gathered < PIPE_BUFFERS) {
            const int64_t t = j->inflated;
            j->inflating = 1;
            pthread_mutex_unlock(&j->lock);
            s = read_raw_into(j->st, j->first + t, j->buf[t % PIPE_BUFFERS]);
            pthread_mutex_lock(&j->lock);
            j->inflating = 0;
            if (s) j->failed = 1;
            else j->inflated++;
        } else if (!j->gathering && j->gathered < j->inflated) {
            const int64_t t = j->gathered;
            j->gathering = 1;
            pthread_mutex_unlock(&j->lock);
            gather(j->st, j->buf[t % PIPE_BUFFERS], j->out + (size_t)t * j->stride);
            pthread_mutex_lock(&j->lock);
            j->gathering = 0;
            j->gathered++;
        } else {
            pthread_cond_wait(&j->changed, &j->lock);
            continue;
        }
        pthread_cond_broadcast(&j->changed);
    }
    pthread_mutex_unlock(&j->lock);
    return s;
}

static btfm_status read_pipelined(nifti_state *st, int64_t first, int64_t count, size_t stride,
                                  float *out)
{
    pipe_job j = {.st = st, .first = first, .count = count, .stride = stride, .out = out};
    unsigned char *extra = btfm_malloc((PIPE_BUFFERS - 1) * st->volume_bytes);
    if (!extra) return btfm_fail_nomem("nifti read", (PIPE_BUFFERS - 1) * st->volume_bytes);
    j.buf[0] = st->raw;
    for (int b = 1; b < PIPE_BUFFERS; b++) j.buf[b] = extra + (size_t)(b - 1) * st->volume_bytes;
    st->raw_index = -1;
    btfm_status s;
    if (pthread_mutex_init(&j.lock, NULL) != 0) {
        s = btfm_fail(BTFM_E_NOMEM, "nifti read: cannot create a mutex");
    } else if (pthread_cond_init(&j.changed, NULL) != 0) {
        pthread_mutex_destroy(&j.lock);
        s = btfm_fail(BTFM_E_NOMEM, "nifti read: cannot create a condition variable");
    } else {
        s = btfm_parallel_for(2, 2, pipe_task, &j);
        pthread_cond_destroy(&j.changed);
        pthread_mutex_destroy(&j.lock);
    }
    btfm_free(extra);
    return s;
}

#ifdef BTFM_HAVE_ISAL
/* .nii.gz reads to the end of a large file of one gzip member, on two threads that each
 * inflate part of the member. Task 0 (thread A) reads and gathers volumes from the start
 * as the serial path does. Task 1 (thread B) inflates the tail of the member from a
 * deflate block boundary it finds (deflate_tail.h); the tail's offset in the data follows
 * from the member's length in its trailer. When A reaches the tail, A's last 32 KiB fill in
 * the tail's references to the data before it, and both threads gather its volumes. The
 * tail counts only when the member's CRC-32, A's part combined with the tail's, matches
 * the trailer; otherwise (and when B finds no boundary or is too late) A reads on alone,
 * and the result is the serial path's, errors included. */
enum { SPLIT_MIN_BYTES = 8 << 20, SPLIT_SEARCH = 256 << 10, SPLIT_MARGIN = 256 << 10 };
#define SPLIT_PATIENCE_NS 5000000L /* A waits for B while B moves within this */
/* Where B starts, as a fraction of the file: B decodes the first stretch of its part with
 * our own decoder, slower than ISA-L's, so it takes less than half. */
#define SPLIT_AT 0.60

typedef struct split_job {
    nifti_state *st;
    int64_t first, count;
    size_t stride;
    float *out;
    unsigned char *buf_a;    /* A's second volume buffer (the first is st->raw) */
    unsigned char *buf_b;    /* B's volume buffer */
    int64_t job, job_busy;   /* a volume A handed to B to gather, and the one B gathers */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    btfm_deflate_tail tail;
    btfm_deflate_tail_progress progress; /* B's, and A's way to stop it */
    int b_started;           /* B runs (so A may wait for it) */
    int64_t b_from, size;    /* B's part of the file starts at byte b_from of `size` */
    int tail_ready;          /* 0 while B inflates, 1 when the tail is ready, -1 none */
    int stage;               /* 0 A reading, 1 both gathering the tail, -1 A on its own */
    int64_t tail_at;         /* the tail's offset in the uncompressed data */
    int64_t touch;           /* the first volume (index in the read) with tail bytes */
    int64_t next, gathered;  /* tail volumes handed out and done */
    uint32_t *crcs;          /* from `touch` on: CRC-32 of each volume's tail bytes */
    unsigned char window[BTFM_DEFLATE_WINDOW];
} split_job;

/* Whole tail volumes, taken in turn by both threads. */
static void split_gather(split_job *j, unsigned char *buf)
{
    nifti_state *st = j->st;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int64_t i = j->stage == 1 && j->next < j->count ? j->next++ : -1;
        pthread_mutex_unlock(&j->lock);
        if (i < 0) return;
        size_t from = (size_t)(volume_at(st, j->first + i) - j->tail_at);
        j->crcs[i - j->touch] = btfm_deflate_tail_copy(&j->tail, from, st->volume_bytes, buf);
        fix_order(st, buf);
        gather(st, buf, j->out + (size_t)i * j->stride);
        pthread_mutex_lock(&j->lock);
        j->gathered++;
        pthread_cond_broadcast(&j->changed);
        pthread_mutex_unlock(&j->lock);
    }
}

static void split_stage(split_job *j, int stage)
{
    pthread_mutex_lock(&j->lock);
    j->stage = stage;
    if (stage < 0) atomic_store(&j->progress.cancel, 1);
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
}

/* Volumes i .. of the read the serial way; the reader goes back where it must. */
static btfm_status split_serial(split_job *j, int64_t i)
{
    for (; i < j->count; i++) {
        btfm_status s = read_raw_into(j->st, j->first + i, j->st->raw);
        if (s) return s;
        gather(j->st, j->st->raw, j->out + (size_t)i * j->stride);
    }
    return BTFM_OK;
}

/* A near B's part, with the lock held: wait for B when B will be done sooner than A could
 * inflate the rest itself (a byte through our decoder costs about twice one through
 * ISA-L's); stop B once A has passed where B is. */
static void split_wait(split_job *j)
{
    const int64_t a = btfm_gzip_compressed_pos(j->st->gz);
    if (a < j->b_from - SPLIT_MARGIN) return;
    const int64_t b = j->b_from + (int64_t)atomic_load(&j->progress.done);
    if (atomic_load(&j->progress.cancel)) return;
    if (atomic_load(&j->progress.fast) || 2 * (j->size - b) <= j->size - a) {
        /* only while B moves: a thread kept off the processors by other work is not
         * waited for (A goes on alone) */
        size_t seen = atomic_load(&j->progress.done);
        while (!j->tail_ready) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += SPLIT_PATIENCE_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&j->changed, &j->lock, &until) != ETIMEDOUT) continue;
            size_t done = atomic_load(&j->progress.done);
            if (done == seen && !j->tail_ready) {
                atomic_store(&j->progress.cancel, 1);
                return;
            }
            seen = done;
        }
    } else if (a > b) {
        atomic_store(&j->progress.cancel, 1);
    }
}

static btfm_status split_head(split_job *j)
{
    nifti_state *st = j->st;
    const int64_t vb = (int64_t)st->volume_bytes, w = BTFM_DEFLATE_WINDOW;
    int64_t i = 0, ta = -1;
    btfm_status s = BTFM_OK;
    for (; i < j->count; i++) {
        const int64_t va = volume_at(st, j->first + i);
        if (ta < 0) {
            pthread_mutex_lock(&j->lock);
            if (j->b_started && !j->tail_ready) split_wait(j);
            int ready = j->tail_ready;
            pthread_mutex_unlock(&j->lock);
            /* the tail counts when the window before it is still ahead */
            if (ready == 1 && j->tail_at - w >= va && j->tail_at < volume_at(st, j->first + j->count))
                ta = j->tail_at;
            else if (ready)
                break;
        }
        if (ta >= 0 && va + vb > ta - w) break;
        /* two volume buffers: B, once its tail is ready, gathers the volume A inflated
         * last while A inflates the next */
        unsigned char *raw = i & 1 ? j->buf_a : st->raw;
        pthread_mutex_lock(&j->lock);
        while (i >= 2 && (j->job == i - 2 || j->job_busy == i - 2))
            pthread_cond_wait(&j->changed, &j->lock);
        pthread_mutex_unlock(&j->lock);
        if ((s = read_raw_into(st, j->first + i, raw))) break;
        pthread_mutex_lock(&j->lock);
        int handed = j->tail_ready == 1 && j->stage == 0 && j->job < 0;
        if (handed) {
            j->job = i;
            pthread_cond_broadcast(&j->changed);
        }
        pthread_mutex_unlock(&j->lock);
        if (!handed) gather(st, raw, j->out + (size_t)i * j->stride);
    }
    pthread_mutex_lock(&j->lock);
    while (j->job >= 0 || j->job_busy >= 0) pthread_cond_wait(&j->changed, &j->lock);
    pthread_mutex_unlock(&j->lock);
    if (s || ta < 0) {
        split_stage(j, -1);
        return s ? s : split_serial(j, i);
    }
    /* up to the tail, keeping the last 32 KiB */
    int64_t va = 0, head = 0;
    for (; i < j->count; i++) {
        va = volume_at(st, j->first + i);
        head = va + vb < ta ? vb : ta - va;
        if ((s = btfm_gzip_read(st->gz, va, st->raw, (size_t)head, j->first + i))) {
            split_stage(j, -1);
            return s;
        }
        int64_t lo = va > ta - w ? va : ta - w;
        if (lo < va + head)
            memcpy(j->window + (lo - (ta - w)), st->raw + (lo - va), (size_t)(va + head - lo));
        if (head < vb) break;
        fix_order(st, st->raw);
        gather(st, st->raw, j->out + (size_t)i * j->stride);
        if (va + vb == ta) {
            i++;
            head = 0;
            break;
        }
    }
    uint32_t crc = 0;
    if (!btfm_gzip_head_crc(st->gz, ta, &crc) ||
        btfm_deflate_tail_set_window(&j->tail, j->window) != 0) {
        split_stage(j, -1);
        return split_serial(j, i);
    }
    /* both threads gather the tail's volumes; A starts with the one that straddles it */
    j->touch = i;
    pthread_mutex_lock(&j->lock);
    j->next = i + (head > 0);
    j->stage = 1;
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
    if (head > 0) {
        j->crcs[0] = btfm_deflate_tail_copy(&j->tail, 0, (size_t)(vb - head), st->raw + head);
        fix_order(st, st->raw);
        gather(st, st->raw, j->out + (size_t)i * j->stride);
        pthread_mutex_lock(&j->lock);
        j->gathered++;
        pthread_mutex_unlock(&j->lock);
    }
    split_gather(j, st->raw);
    pthread_mutex_lock(&j->lock);
    while (j->gathered < j->count - j->touch) pthread_cond_wait(&j->changed, &j->lock);
    pthread_mutex_unlock(&j->lock);
    /* the member's CRC-32: A's part, each volume's tail bytes, the bytes after the last */
    const btfm_deflate_tail *t = &j->tail;
    for (int64_t k = i; k < j->count; k++) {
        size_t n = (size_t)(k == i && head ? vb - head : vb);
        crc = (uint32_t)crc32_combine(crc, j->crcs[k - i], (z_off_t)n);
    }
    for (size_t at = (size_t)(volume_at(st, j->first + j->count) - ta); at < t->n;) {
        size_t n = t->n - at < (size_t)vb ? t->n - at : (size_t)vb;
        crc = (uint32_t)crc32_combine(crc, btfm_deflate_tail_copy(t, at, n, st->raw), (z_off_t)n);
        at += n;
    }
    st->raw_index = -1;
    /* (the tail's offset came from the trailer's length, so the length checks too) */
    if (crc == t->trailer_crc) {
        btfm_gzip_end_at(st->gz, ta + (int64_t)t->n);
        return BTFM_OK;
    }
    return split_serial(j, i);
}

static btfm_status split_tail(split_job *j)
{
    nifti_state *st = j->st;
    int r = -1;
    struct stat sb;
    int fd = btfm_gzip_fd(st->gz);
    pthread_mutex_lock(&j->lock);
    int go = j->stage == 0 && fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size >= SPLIT_MIN_BYTES;
    const size_t size = go ? (size_t)sb.st_size : 0, from = (size_t)((double)size * SPLIT_AT);
    j->b_started = go;
    j->b_from = (int64_t)from;
    j->size = (int64_t)size;
    pthread_mutex_unlock(&j->lock);
    if (go) {
        /* B's part of the file, read rather than mapped: a file cut short meanwhile then
         * fails the checks instead of raising SIGBUS */
        unsigned char *part = btfm_malloc_large(size - from);
        size_t got = 0;
        if (part && btfm_pread_full(fd, part, size - from, (int64_t)from, &got) == 0 &&
            got == size - from &&
            ((uint32_t)part[got - 4] | (uint32_t)part[got - 3] << 8 |
             (uint32_t)part[got - 2] << 16 | (uint32_t)part[got - 1] << 24) ==
                (uint32_t)volume_at(st, st->n_volumes))
            /* (only a member of the image's data and nothing more: the trailer's length) */
            r = btfm_deflate_tail_inflate(part, got, 0, SPLIT_SEARCH, &j->progress, &j->tail);
        btfm_free(part);
    }
    pthread_mutex_lock(&j->lock);
    if (r == 0) { /* a tail is never longer than its member's ISIZE */
        j->tail_at = (int64_t)(j->tail.trailer_isize - (uint32_t)j->tail.n);
        j->tail_ready = 1;
    } else {
        j->tail_ready = -1;
    }
    pthread_cond_broadcast(&j->changed);
    /* until A reaches the tail, gather the volumes A hands over */
    while (j->tail_ready == 1 && j->stage == 0) {
        if (j->job < 0) {
            pthread_cond_wait(&j->changed, &j->lock);
            continue;
        }
        const int64_t i = j->job_busy = j->job;
        j->job = -1;
        pthread_mutex_unlock(&j->lock);
        gather(st, i & 1 ? j->buf_a : st->raw, j->out + (size_t)i * j->stride);
        pthread_mutex_lock(&j->lock);
        j->job_busy = -1;
        pthread_cond_broadcast(&j->changed);
    }
    pthread_mutex_unlock(&j->lock);
    split_gather(j, j->buf_b);
    return BTFM_OK;
}

static btfm_status split_task(void *ctx, int64_t index, int worker)
{
    (void)worker;
    return index == 0 ? split_head(ctx) : split_tail(ctx);
}

/* A condition variable whose timed waits count on the monotonic clock. */
static int monotonic_cond(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) return -1;
    int r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (r == 0) r = pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
    return r;
}

static btfm_status read_split(nifti_state *st, int64_t first, int64_t count, size_t stride,
                              float *out)
{
    split_job *j = btfm_calloc(1, sizeof *j);
    if (!j) return btfm_fail_nomem("nifti read", sizeof *j);
    *j = (split_job){.st = st, .first = first, .count = count, .stride = stride, .out = out};
    atomic_init(&j->progress.cancel, 0);
    atomic_init(&j->progress.done, 0);
    atomic_init(&j->progress.fast, 0);
    j->job = j->job_busy = -1;
    j->buf_a = btfm_malloc(st->volume_bytes);
    j->buf_b = btfm_malloc(st->volume_bytes);
    j->crcs = btfm_malloc((size_t)count * sizeof *j->crcs);
    btfm_status s;
    if (!j->buf_a || !j->buf_b || !j->crcs) {
        s = btfm_fail_nomem("nifti read", 2 * st->volume_bytes + (size_t)count * sizeof *j->crcs);
    } else if (pthread_mutex_init(&j->lock, NULL) != 0) {
        s = btfm_fail(BTFM_E_NOMEM, "nifti read: cannot create a mutex");
    } else if (monotonic_cond(&j->changed) != 0) {
        pthread_mutex_destroy(&j->lock);
        s = btfm_fail(BTFM_E_NOMEM, "nifti read: cannot create a condition variable");
    } else {
        st->raw_index = -1;
        s = btfm_parallel_for(2, 2, split_task, j);
        pthread_cond_destroy(&j->changed);
        pthread_mutex_destroy(&j->lock);
    }
    btfm_deflate_tail_free(&j->tail);
    btfm_free(j->buf_a);
    btfm_free(j->buf_b);
    btfm_free(j->crcs);
    btfm_free(j);
    return s;
}

/* Whether a read of volumes [first, first + count) is one for read_split: to the end of a
 * large compressed file. */
static int split_pays(const nifti_state *st, int64_t first, int64_t count)
{
    struct stat sb;
    int fd = btfm_gzip_fd(st->gz);
    return first + count == st->n_volumes && count > 1 && fd >= 0 && fstat(fd, &sb) == 0 &&
           sb.st_size >= SPLIT_MIN_BYTES && S_ISREG(sb.st_mode) &&
           volume_at(st, st->n_volumes) <= (int64_t)UINT32_MAX;
}
#endif

static btfm_status nifti_read_block(btfm_dataset *ds, int64_t first, int64_t count,
                                    const int *picks, int n_picks, size_t stride, float *out)
{
    nifti_state *st = ds->state;
    const btfm_volume *vol = ds->volume;
    int labels = vol->kind == BTFM_MASK_LABELS;
    if (!labels) {
        btfm_status s = make_runs(st, vol, picks, n_picks);
        if (s) return s;
    }
    /* Large voxel reads of an uncompressed file on every core: volumes in tasks of a
     * few, each worker with its own volume buffer. */
    if (!labels && !st->gz) {
        int64_t per_task = PARALLEL_TASK_FLOATS / n_picks > 0 ? PARALLEL_TASK_FLOATS / n_picks : 1;
        int64_t n_tasks = (count + per_task - 1) / per_task;
        int threads = btfm_parallel_threads(n_tasks, (double)count * n_picks);
        if (threads > 1) {
            unsigned char *extra = btfm_malloc((size_t)(threads - 1) * st->volume_bytes);
            if (!extra) return btfm_fail_nomem("nifti read", (size_t)(threads - 1) * st->volume_bytes);
            gather_job j = {st, first, count, per_task, n_picks, stride, out, extra};
            st->raw_index = -1; /* worker 0 reuses st->raw */
            btfm_status s = btfm_parallel_for(threads, n_tasks, gather_task, &j);
            btfm_free(extra);
            return s;
        }
    }
    if (!labels && st->gz && count > 1 &&
        btfm_parallel_threads(count, (double)count * (double)st->volume_bytes) > 1) {
#ifdef BTFM_HAVE_ISAL
        if (split_pays(st, first, count)) return read_split(st, first, count, stride, out);
#endif
        return read_pipelined(st, first, count, stride, out);
    }
    for (int64_t t = 0; t < count; t++) {
        btfm_status s = read_raw_volume(ds, first + t);
        if (s) return s;
        float *row = out + (size_t)t * stride;
        if (labels) {
            label_means(ds);
            for (int j = 0; j < n_picks; j++) row[j] = (float)st->sums[picks[j]];
        } else
            gather(st, st->raw, row);
    }
    return BTFM_OK;
}

static btfm_status nifti_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count,
                                      double *out)
{
    /* Channels carry physical values with gain 1: one float per volume. */
    for (int64_t t = 0; t < count; t++) {
        float v;
        btfm_status s = nifti_read_block(ds, first + t, 1, &ch, 1, 1, &v);
        if (s) return s;
        out[t] = v;
    }
    return BTFM_OK;
}

static void nifti_close(btfm_dataset *ds)
{
    nifti_state *st = ds->state;
    if (!st) return;
    if (st->fd >= 0) close(st->fd);
    btfm_gzip_close(st->gz);
    btfm_free(st->data_path);
    btfm_free(st->raw);
    btfm_free(st->sums);
    btfm_free(st->values);
    btfm_free(st->runs);
    btfm_free(st);
    ds->state = NULL;
}

static const btfm_io_driver nifti_driver = {"nifti", nifti_read_digital, nifti_read_block,
                                            nifti_close};

btfm_status btfm_nifti_label_scratch(btfm_dataset *ds)
{
    nifti_state *st = ds->state;
    btfm_free(st->sums);
    st->sums = btfm_calloc((size_t)(ds->n_channels ? ds->n_channels : 1), sizeof *st->sums);
    if (!st->values) st->values = btfm_malloc((size_t)ds->volume->n_voxels * sizeof *st->values);
    return st->sums && st->values ? BTFM_OK
                                  : btfm_fail_nomem("nifti labels", (size_t)ds->volume->n_voxels * 8);
}

/* ---- opening ---- */

/* The header file of `path`: .img -> .hdr (and .img.gz -> .hdr.gz). */
static char *header_path(const char *path)
{
    char *h = btfm_strdup(path);
    if (!h) return NULL;
    size_t n = strlen(h);
    if (ends_with(h, ".img")) memcpy(h + n - 4, ".hdr", 4);
    else if (ends_with(h, ".img.gz")) memcpy(h + n - 7, ".hdr", 4);
    return h;
}

static btfm_status read_head(const char *path, unsigned char *buf, size_t cap, size_t *n,
                             int64_t *file_size)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return btfm_fail(errno == ENOENT ? BTFM_E_NOTFOUND : BTFM_E_IO, "nifti: %s: %s", path,
                         strerror(errno));
    *file_size = ends_with(path, ".gz") ? -1 : (int64_t)sb.st_size;
    int fd;
    btfm_status st = btfm_open_regular(path, "nifti", &fd);
    btfm_gzip_reader *g = NULL;
    if (!st) st = btfm_gzip_open(&g, fd, path);
    if (!st) st = btfm_gzip_read_head(g, buf, cap, n);
    btfm_gzip_close(g);
    return st;
}

static double unit_scale(int code, int spatial)
{
    if (spatial) return code == NIFTI_UNITS_METER ? 1000.0 : code == NIFTI_UNITS_MICRON ? 1e-3 : 1.0;
    return code == NIFTI_UNITS_MSEC ? 1e-3 : code == NIFTI_UNITS_USEC ? 1e-6 : 1.0;
}

static void fill_geometry(btfm_volume *vol, const nifti_image *nim)
{
    vol->nx = nim->nx;
    vol->ny = nim->ny;
    vol->nz = nim->nz;
    vol->nt = nim->nt;
    vol->n_voxels = vol->nx * vol->ny * vol->nz;
    vol->qform_code = nim->qform_code;
    vol->sform_code = nim->sform_code;
    vol->xyz_units = nim->xyz_units;
    vol->time_units = nim->time_units;
    vol->quatern[0] = nim->quatern_b;
    vol->quatern[1] = nim->quatern_c;
    vol->quatern[2] = nim->quatern_d;
    vol->qoffset[0] = nim->qoffset_x;
    vol->qoffset[1] = nim->qoffset_y;
    vol->qoffset[2] = nim->qoffset_z;
    vol->qfac = nim->qfac;
    for (int i = 0; i < 8; i++) vol->pixdim[i] = nim->pixdim[i];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++) vol->srow[4 * r + c] = nim->sto_xyz.m[r][c];
    /* The best affine, as nibabel: sform, else qform, else from the voxel sizes with x
     * flipped and the grid centre at the origin. */
    memset(vol->affine, 0, sizeof vol->affine);
    vol->affine[15] = 1.0;
    if (nim->sform_code > 0 || nim->qform_code > 0) {
        const nifti_dmat44 *m = nim->sform_code > 0 ? &nim->sto_xyz : &nim->qto_xyz;
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++) vol->affine[4 * r + c] = m->m[r][c];
    } else {
        double shape[3] = {(double)vol->nx, (double)vol->ny, (double)vol->nz};
        for (int i = 0; i < 3; i++) {
            double zoom = nim->pixdim[i + 1] * (i == 0 ? -1.0 : 1.0);
            vol->affine[5 * i] = zoom;
            vol->affine[4 * i + 3] = -(shape[i] - 1.0) / 2.0 * zoom;
        }
    }
    for (int i = 0; i < 3; i++) vol->zooms[i] = nim->pixdim[i + 1] * unit_scale(nim->xyz_units, 1);
    vol->zooms[3] = nim->nt > 1 || nim->pixdim[4] > 0 ? nim->pixdim[4] * unit_scale(nim->time_units, 0) : 0.0;
}

static btfm_status open_data(nifti_state *st, const nifti_image *nim, const char *path)
{
    if (!(st->data_path = btfm_strdup(nim->iname))) return btfm_fail_nomem("nifti", strlen(nim->iname));
    btfm_status opened = btfm_open_regular(st->data_path, "nifti: data file", &st->fd);
    if (opened) return opened;
    if (ends_with(st->data_path, ".gz")) {
        int fd = st->fd;
        st->fd = -1; /* the gzip reader owns it now */
        return btfm_gzip_open(&st->gz, fd, st->data_path);
    }
    struct stat sb;
    double need = (double)st->data_offset + (double)st->volume_bytes * (double)nim->nt;
    if (fstat(st->fd, &sb) == 0 && (double)sb.st_size < need)
        return btfm_fail(BTFM_E_TRUNCATED, "nifti: %s: the data file %s has %lld bytes, the header "
                         "describes %.0f", path, st->data_path, (long long)sb.st_size, need);
    return BTFM_OK;
}

/* The BIDS sidecar beside an image (run_bold.nii.gz -> run_bold.json), when there is one,
 * as the dataset's metadata (RepetitionTime, SliceTiming, ...). A sidecar that is not
 * valid JSON is refused, naming its line and column. */
static btfm_status read_sidecar(btfm_dataset *ds, const char *path)
{
    size_t n = strlen(path), cut = ends_with(path, ".nii.gz") ? 7 : ends_with(path, ".nii") ? 4 : 0;
    if (!cut) return BTFM_OK;
    char *json_path = btfm_malloc(n - cut + 6);
    if (!json_path) return btfm_fail_nomem("nifti sidecar", n);
    memcpy(json_path, path, n - cut);
    memcpy(json_path + n - cut, ".json", 6);
    struct stat sb;
    btfm_status st = BTFM_OK;
    if (stat(json_path, &sb) == 0) {
        btfm_json *meta;
        st = btfm_json_read_file(&meta, json_path);
        if (!st && btfm_json_kind_of(meta) != BTFM_JSON_OBJECT) {
            btfm_json_free(meta);
            st = btfm_fail(BTFM_E_FORMAT, "nifti: %s: the sidecar is not a JSON object", json_path);
        } else if (!st)
            st = btfm_dataset_take_metadata(ds, meta);
    }
    btfm_free(json_path);
    return st;
}

btfm_status btfm_nifti_open(btfm_dataset **out, const char *path, unsigned flags)
{
    *out = NULL;
    char *hdr = header_path(path);
    if (!hdr) return btfm_fail_nomem("nifti", strlen(path));
    unsigned char head[540];
    size_t n;
    int64_t file_size = -1;
    btfm_nifti_header h;
    btfm_status st = read_head(hdr, head, sizeof head, &n, &file_size);
    if (!st) st = btfm_nifti_check_header(head, n, file_size, hdr, &h);
    if (st) {
        btfm_free(hdr);
        return st;
    }
    if (h.dim[5] * h.dim[6] * h.dim[7] != 1) {
        btfm_fail(BTFM_E_UNSUPPORTED, "nifti: %s: %lld-dimensional data (dims 5-7: %lld x %lld x "
                  "%lld); volume datasets are 3D or 4D", hdr, (long long)h.dim[0],
                  (long long)h.dim[5], (long long)h.dim[6], (long long)h.dim[7]);
        btfm_free(hdr);
        return BTFM_E_UNSUPPORTED;
    }
    if (h.scl_slope != 0 && isfinite(h.scl_slope) && !isfinite(h.scl_inter)) {
        btfm_fail(BTFM_E_FORMAT, "nifti: %s: scl_slope is %g but scl_inter is %g; expected a "
                  "finite intercept", hdr, h.scl_slope, h.scl_inter);
        btfm_free(hdr);
        return BTFM_E_FORMAT;
    }
    nifti_set_debug_level(0);
    nifti_image *nim = nifti_image_read(hdr, 0);
    if (!nim) {
        btfm_fail(BTFM_E_FORMAT, "nifti: %s: nifticlib refused the header (or could not find the "
                  "image file of a .hdr/.img pair)", hdr);
        btfm_free(hdr);
        return BTFM_E_FORMAT;
    }
    btfm_free(hdr);
    btfm_dataset *ds = NULL;
    nifti_state *ns = NULL;
    btfm_volume *vol = NULL;
    if ((st = btfm_dataset_alloc(&ds, path, BTFM_FORMAT_NIFTI, 0))) goto fail;
    if (!(ns = btfm_calloc(1, sizeof *ns))) {
        st = btfm_fail_nomem("nifti", sizeof *ns);
        goto fail;
    }
    ns->fd = -1;
    ns->raw_index = -1;
    ds->state = ns;
    ds->driver = &nifti_driver;
    if (!(vol = btfm_calloc(1, sizeof *vol))) {
        st = btfm_fail_nomem("nifti", sizeof *vol);
        goto fail;
    }
    ds->volume = vol;
    fill_geometry(vol, nim);
    ns->datatype = h.datatype;
    ns->bytes = btfm_nifti_datatype_size(h.datatype);
    ns->swapped = h.swapped;
    ns->scaled = h.scl_slope != 0 && isfinite(h.scl_slope) && !(h.scl_slope == 1 && h.scl_inter == 0);
    ns->slope = ns->scaled ? h.scl_slope : 1.0;
    ns->inter = ns->scaled ? h.scl_inter : 0.0;
    ns->data_offset = nim->iname_offset;
    ns->n_volumes = vol->nt;
    ns->volume_bytes = (size_t)vol->n_voxels * (size_t)ns->bytes;
    if ((st = open_data(ns, nim, path))) goto fail;
    if (!(ns->raw = btfm_malloc(ns->volume_bytes))) {
        st = btfm_fail_nomem("nifti volume", ns->volume_bytes);
        goto fail;
    }
    double tr = vol->zooms[3];
    if (vol->nt > 1 && !(tr > 0 && isfinite(tr)))
        btfm_warn("nifti: %s: no repetition time (pixdim[4] is %g); sfreq set to 1 Hz", path,
                  nim->pixdim[4]);
    ds->sfreq = tr > 0 && isfinite(tr) ? 1.0 / tr : 1.0;
    ds->n_times = vol->nt;
    ds->record_duration = 0;
    vol->kind = BTFM_MASK_ALL;
    if (!(vol->voxel = btfm_malloc((size_t)vol->n_voxels * sizeof *vol->voxel))) {
        st = btfm_fail_nomem("nifti mask", (size_t)vol->n_voxels * 8);
        goto fail;
    }
    for (int64_t v = 0; v < vol->n_voxels; v++) vol->voxel[v] = v;
    vol->n_mask = vol->n_voxels;
    if (vol->n_voxels > INT32_MAX) {
        st = btfm_fail(BTFM_E_UNSUPPORTED, "nifti: %s: %lld voxels a volume; at most %d channels",
                       path, (long long)vol->n_voxels, INT32_MAX);
        goto fail;
    }
    /* Images read only for their values (masks, atlases) need no channel table. */
    if (!(flags & BTFM_NIFTI_VALUES_ONLY) && (st = btfm_volume_make_channels(ds, (int)vol->n_voxels)))
        goto fail;
    if (!(flags & BTFM_NIFTI_VALUES_ONLY) && (st = read_sidecar(ds, path))) goto fail;
    nifti_image_free(nim);
    *out = ds;
    return BTFM_OK;
fail:
    nifti_image_free(nim);
    btfm_dataset_free(ds);
    return st;
}
