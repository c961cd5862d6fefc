/* EDF/BDF samples: record-major, signal-contiguous little-endian int16/int24 decoded into
 * time-major floats, one data record at a time (the only buffer the driver holds). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "edf_internal.h"
#include "core/parallel.h"
#include "core/read_file.h"

btfm_status btfm_edf_pread(btfm_dataset *ds, const edf_state *st, int64_t offset, size_t n, void *buf)
{
    size_t done;
    int err = btfm_pread_full(st->fd, buf, n, offset, &done);
    if (err || done < n)
        return btfm_fail(err ? BTFM_E_IO : BTFM_E_TRUNCATED, "edf: %s: byte %lld: %s",
                         ds->path, (long long)(offset + (int64_t)done),
                         err ? strerror(err) : "the file ended early (was it truncated "
                         "after opening?)");
    return BTFM_OK;
}

static btfm_status edf_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count, double *out)
{
    edf_state *st = ds->state;
    const edf_signal *s = &st->signals[st->signal_of_channel[ch]];
    const int64_t spr = s->samples_per_record;
    const int bps = st->bytes_per_sample;
    for (int64_t done = 0; done < count;) {
        int64_t r = (first + done) / spr, i0 = (first + done) % spr;
        int64_t n = spr - i0 < count - done ? spr - i0 : count - done;
        btfm_status status = btfm_edf_pread(ds, st, st->header_bytes + r * st->record_bytes +
                                            s->byte_offset + i0 * bps, (size_t)(n * bps), st->record);
        if (status) return status;
        const unsigned char *p = st->record;
        if (st->bdf)
            for (int64_t i = 0; i < n; i++) out[done + i] = btfm_bdf_sample(p + 3 * i);
        else
            for (int64_t i = 0; i < n; i++) out[done + i] = btfm_edf_sample(p + 2 * i);
        done += n;
    }
    return BTFM_OK;
}

/* Block reads: the records covering the window are decoded in tasks of a few records
 * (btfm_edf_decode), on both cores for large reads; each worker has its own record
 * buffer. Large reads write the output with streaming stores: the output is far larger
 * than the cache and is not read back here, so fetching each destination line before
 * writing it would only double the memory traffic. */
enum { TASK_FLOATS = 1 << 20 }; /* output floats a task decodes, about */

typedef struct edf_block_job {
    btfm_dataset *ds;
    int64_t first, count, spr, first_record, records_per_task;
    const int *picks;
    int n_picks, whole, streaming;
    edf_kernel kernel;
    size_t stride;
    float *out;
    const double *gain, *offset;
    unsigned char **records;          /* a record buffer a worker */
    const unsigned char **src;        /* n_picks pointers a worker */
} edf_block_job;

static btfm_status edf_block_task(void *ctx, int64_t index, int worker)
{
    const edf_block_job *j = ctx;
    btfm_dataset *ds = j->ds;
    const edf_state *st = ds->state;
    const int bps = st->bytes_per_sample;
    const unsigned char **src = j->src + (size_t)worker * (size_t)j->n_picks;
    unsigned char *record = j->records[worker];
    int64_t r0 = j->first_record + index * j->records_per_task;
    for (int64_t r = r0; r < r0 + j->records_per_task; r++) {
        int64_t t0 = r * j->spr > j->first ? r * j->spr : j->first;
        int64_t t1 = (r + 1) * j->spr < j->first + j->count ? (r + 1) * j->spr : j->first + j->count;
        if (t0 >= t1) break;
        int64_t i0 = t0 - r * j->spr, base = st->header_bytes + r * st->record_bytes;
        btfm_status status = BTFM_OK;
        if (j->whole) status = btfm_edf_pread(ds, st, base, (size_t)st->record_bytes, record);
        for (int k = 0; k < j->n_picks && !status; k++) {
            const edf_signal *s = &st->signals[st->signal_of_channel[j->picks[k]]];
            unsigned char *at = record + s->byte_offset + i0 * bps;
            if (!j->whole)
                status = btfm_edf_pread(ds, st, base + s->byte_offset + i0 * bps,
                                        (size_t)((t1 - t0) * bps), at);
            src[k] = at;
        }
        if (status) return status;
        edf_decode d = {src, j->gain, j->offset, j->n_picks, st->bdf, j->streaming, t1 - t0,
                        j->stride, j->out + (size_t)(t0 - j->first) * j->stride};
        btfm_edf_decode(&d, j->kernel);
    }
    return BTFM_OK;
}

static btfm_status edf_read_block(btfm_dataset *ds, int64_t first, int64_t count, const int *picks,
                                  int n_picks, size_t stride, float *out)
{
    edf_state *st = ds->state;
    const int64_t spr = ds->channels[picks[0]].samples_per_record;
    const int bps = st->bytes_per_sample;
    const int64_t first_record = first / spr, last_record = (first + count - 1) / spr;
    const int64_t n_records = last_record - first_record + 1;
    int64_t per_task = TASK_FLOATS / (spr * n_picks);
    if (per_task < 1) per_task = 1;
    const int64_t n_tasks = (n_records + per_task - 1) / per_task;
    const int n_threads = btfm_parallel_threads(n_tasks, (double)count * n_picks);
    /* Whole records when most signals are wanted; otherwise each signal's span, placed at
     * its own offset of the record buffer. */
    size_t scratch_bytes = (size_t)n_picks * 2 * sizeof(double) +
                           (size_t)n_threads * (sizeof(unsigned char *) +
                                                (size_t)n_picks * sizeof(const unsigned char *)) +
                           (size_t)(n_threads - 1) * (size_t)st->record_bytes;
    unsigned char *scratch = btfm_malloc(scratch_bytes);
    if (!scratch) return btfm_fail_nomem("edf read", scratch_bytes);
    double *gain = (double *)scratch, *offset = gain + n_picks;
    unsigned char **records = (unsigned char **)(offset + n_picks);
    const unsigned char **src = (const unsigned char **)(records + n_threads);
    unsigned char *buffers = (unsigned char *)(src + (size_t)n_threads * n_picks);
    records[0] = st->record; /* the caller's thread uses the dataset's own */
    for (int t = 1; t < n_threads; t++)
        records[t] = buffers + (size_t)(t - 1) * (size_t)st->record_bytes;
    for (int j = 0; j < n_picks; j++) {
        gain[j] = ds->channels[picks[j]].gain;
        offset[j] = ds->channels[picks[j]].offset;
    }
    edf_block_job job = {
        .ds = ds, .first = first, .count = count, .spr = spr, .first_record = first_record,
        .records_per_task = per_task, .picks = picks, .n_picks = n_picks,
        .whole = (int64_t)n_picks * spr * bps * 2 >= st->record_bytes,
        /* streaming stores pay off only past the caches */
        .streaming = n_picks == (int)stride && (size_t)count * stride * sizeof(float) > ((size_t)8 << 20),
        .kernel = btfm_edf_best_kernel(), .stride = stride, .out = out, .gain = gain,
        .offset = offset, .records = records, .src = src};
    btfm_status status = btfm_parallel_for(n_threads, n_tasks, edf_block_task, &job);
    btfm_free(scratch);
    return status;
}

static void edf_close(btfm_dataset *ds)
{
    edf_state *st = ds->state;
    if (!st) return;
    if (st->fd >= 0) close(st->fd);
    btfm_free(st->signals);
    btfm_free(st->signal_of_channel);
    btfm_free(st->record);
    btfm_free(st);
    ds->state = NULL;
}

const btfm_io_driver btfm_edf_driver = {"edf", edf_read_digital, edf_read_block, edf_close};

btfm_status btfm_edf_open(btfm_dataset **out, const char *path, int format, unsigned flags)
{
    *out = NULL;
    int fd;
    btfm_status opened = btfm_open_regular(path, "edf", &fd);
    if (opened) return opened;
    btfm_dataset *ds;
    edf_state *st;
    btfm_status status = btfm_edf_parse_header(&ds, path, fd, format, flags, &st);
    if (status) {
        close(fd);
        return status;
    }
    st->fd = fd;
    ds->driver = &btfm_edf_driver;
    ds->state = st;
    if ((status = btfm_edf_read_annotations(ds, st)) || (status = btfm_edf_read_triggers(ds, st)) ||
        (status = btfm_dataset_finish(ds))) {
        btfm_dataset_free(ds);
        return status;
    }
    *out = ds;
    return BTFM_OK;
}
