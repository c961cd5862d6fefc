/* The BrainVision reader: opens the .vhdr, finds the data and marker files (falling back
 * to the header's own stem when the named files were renamed away), turns markers into
 * events, and reads sample windows from the data file with pread, touching only the
 * bytes a window needs. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/read_file.h"
#include "brainvision_internal.h"

#define MAX_TEXT_FILE (64u << 20) /* headers and marker files are kilobytes; refuse absurd ones */
#define CHUNK_BYTES (1u << 20)    /* data bytes read at a time */

/* ---- files ---- */

/* `name` as written in the header, relative to the header's folder unless absolute. */
static char *beside(const char *vhdr, const char *name)
{
    const char *slash = strrchr(vhdr, '/');
    size_t dir = name[0] == '/' || !slash ? 0 : (size_t)(slash - vhdr) + 1;
    size_t n = strlen(name);
    char *out = btfm_malloc(dir + n + 1);
    if (!out) return NULL;
    memcpy(out, vhdr, dir);
    memcpy(out + dir, name, n + 1);
    return out;
}

/* The header's path with its extension replaced by that of `name` (or `fallback_ext`). */
static char *same_stem(const char *vhdr, const char *name, const char *fallback_ext)
{
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    const char *ext = strrchr(base, '.') ? strrchr(base, '.') : fallback_ext;
    const char *vbase = strrchr(vhdr, '/') ? strrchr(vhdr, '/') + 1 : vhdr;
    size_t stem = strrchr(vbase, '.') ? (size_t)(strrchr(vbase, '.') - vhdr) : strlen(vhdr);
    char *out = btfm_malloc(stem + strlen(ext) + 1);
    if (!out) return NULL;
    memcpy(out, vhdr, stem);
    strcpy(out + stem, ext);
    return out;
}

/* Where the named file is, or the same-stem file when the named one is gone (the files
 * were renamed and the header still names the old ones). NULL with *st set if neither. */
static char *locate(const char *vhdr, const char *name, const char *what, const char *fallback_ext,
                    btfm_status *st)
{
    char *named = beside(vhdr, name), *stem = NULL;
    *st = BTFM_OK;
    if (named && access(named, F_OK) == 0) return named;
    if (named && (stem = same_stem(vhdr, name, fallback_ext)) != NULL && access(stem, F_OK) == 0) {
        btfm_warn("brainvision: %s names the %s file \"%s\", which does not exist; reading %s "
                  "(same name as the header) instead", vhdr, what, name, stem);
        btfm_free(named);
        return stem;
    }
    *st = named && stem ? btfm_fail(BTFM_E_NOTFOUND, "brainvision: %s: the %s file \"%s\" does "
                                    "not exist, nor does %s", vhdr, what, named, stem)
                        : btfm_fail_nomem("brainvision", strlen(vhdr) + strlen(name) + 8);
    btfm_free(named);
    btfm_free(stem);
    return NULL;
}

static btfm_status pread_all(const btfm_dataset *ds, int fd, void *buf, size_t n, int64_t offset)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, (off_t)offset);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            return btfm_fail(BTFM_E_IO, "brainvision: %s: data read at byte %lld failed: %s",
                             ds->path, (long long)offset, strerror(errno));
        if (got == 0)
            return btfm_fail(BTFM_E_TRUNCATED, "brainvision: %s: the data file ends at byte %lld, "
                             "before the samples the header describes (was it truncated after "
                             "opening?)", ds->path, (long long)offset);
        p += got;
        n -= (size_t)got;
        offset += got;
    }
    return BTFM_OK;
}

/* ---- samples ---- */

static inline int16_t le_i16(const unsigned char *b) { return (int16_t)(uint16_t)(b[0] | b[1] << 8); }

static inline int32_t le_i32(const unsigned char *b)
{
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

static inline float le_f32(const unsigned char *b)
{
    uint32_t u = (uint32_t)le_i32(b);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline double sample_at(const unsigned char *b, int binary_format)
{
    switch (binary_format) {
    case BTFM_BV_INT_16: return le_i16(b);
    case BTFM_BV_INT_32: return le_i32(b);
    default: return le_f32(b);
    }
}

/* Calls `take(user, row, bytes of the row's channel 0 or of channel ch)` over the window,
 * reading at most CHUNK_BYTES at a time. Multiplexed: contiguous rows; vectorized: the
 * channel's own span (ch >= 0), or every channel's span in turn. */
typedef struct window {
    btfm_dataset *ds;
    int64_t first, count;
} window;

static btfm_status read_multiplexed(const window *w, void (*take)(void *, int64_t, int64_t,
                                                                  const unsigned char *),
                                    void *user)
{
    btfm_bv_state *s = w->ds->state;
    if (w->count == 0) return BTFM_OK;
    size_t row = btfm_bv_sample_size(s->header.binary_format) * (size_t)s->header.n_channels;
    int64_t rows = row >= CHUNK_BYTES ? 1 : (int64_t)(CHUNK_BYTES / row);
    if (rows > w->count) rows = w->count;
    unsigned char *buf = btfm_malloc((size_t)rows * row);
    if (!buf) return btfm_fail_nomem("brainvision read", (size_t)rows * row);
    btfm_status st = BTFM_OK;
    for (int64_t done = 0; done < w->count && !st; done += rows) {
        int64_t n = w->count - done < rows ? w->count - done : rows;
        st = pread_all(w->ds, s->fd, buf, (size_t)n * row, (w->first + done) * (int64_t)row);
        if (!st) take(user, done, n, buf);
    }
    btfm_free(buf);
    return st;
}

static btfm_status read_span(const window *w, int ch, double *out, size_t stride)
{
    btfm_bv_state *s = w->ds->state;
    if (w->count == 0) return BTFM_OK;
    int fmt = s->header.binary_format;
    size_t size = btfm_bv_sample_size(fmt);
    int64_t per = (int64_t)(CHUNK_BYTES / size);
    if (per > w->count) per = w->count;
    unsigned char *buf = btfm_malloc((size_t)per * size);
    if (!buf) return btfm_fail_nomem("brainvision read", (size_t)per * size);
    btfm_status st = BTFM_OK;
    int64_t base = ((int64_t)ch * s->n_samples + w->first) * (int64_t)size;
    for (int64_t done = 0; done < w->count && !st; done += per) {
        int64_t n = w->count - done < per ? w->count - done : per;
        st = pread_all(w->ds, s->fd, buf, (size_t)n * size, base + done * (int64_t)size);
        for (int64_t i = 0; !st && i < n; i++) out[(size_t)(done + i) * stride] = sample_at(buf + i * size, fmt);
    }
    btfm_free(buf);
    return st;
}

/* Gathers one channel (read_digital) or all (btfm_bv_read_rows) from multiplexed rows. */
typedef struct gather {
    const btfm_bv_state *s;
    int ch;         /* -1: all channels */
    double *out;
} gather;

static void take_digital(void *user, int64_t done, int64_t n, const unsigned char *buf)
{
    gather *g = user;
    int fmt = g->s->header.binary_format, n_ch = g->s->header.n_channels;
    size_t size = btfm_bv_sample_size(fmt);
    if (g->ch >= 0) {
        for (int64_t r = 0; r < n; r++)
            g->out[done + r] = sample_at(buf + ((size_t)r * (size_t)n_ch + (size_t)g->ch) * size, fmt);
        return;
    }
    double *o = g->out + (size_t)done * (size_t)n_ch;
    for (size_t i = 0; i < (size_t)n * (size_t)n_ch; i++) o[i] = sample_at(buf + i * size, fmt);
}

static btfm_status bv_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count, double *out)
{
    btfm_bv_state *s = ds->state;
    window w = {ds, first, count};
    if (s->header.vectorized) return read_span(&w, ch, out, 1);
    gather g = {s, ch, out};
    return read_multiplexed(&w, take_digital, &g);
}

btfm_status btfm_bv_read_rows(btfm_dataset *ds, int64_t first, int64_t count, double *out)
{
    btfm_bv_state *s = ds->state;
    window w = {ds, first, count};
    btfm_status st = BTFM_OK;
    if (count == 0) return st;
    if (s->header.vectorized) {
        for (int c = 0; c < ds->n_channels && !st; c++) st = read_span(&w, c, out + c, (size_t)ds->n_channels);
        return st;
    }
    gather g = {s, -1, out};
    return read_multiplexed(&w, take_digital, &g);
}

typedef struct block {
    int binary_format;
    int n_picks;
    size_t row;      /* bytes from one sample's row to the next in the buffer */
    size_t stride;   /* floats from one output row to the next */
    float *out;
    size_t *offset;  /* byte offset of each pick's value in a buffer row */
    double *gain;    /* of each pick */
} block;

/* The hot loop: one pass over the buffered rows, writing output rows in order, with the
 * format decided once. */
#define CONVERT_ROWS(decode)                                                                \
    for (int64_t r = 0; r < n; r++) {                                                       \
        float *o = b->out + (size_t)(done + r) * b->stride;                                 \
        const unsigned char *in = buf + (size_t)r * b->row;                                 \
        for (int j = 0; j < b->n_picks; j++) o[j] = (float)(decode(in + b->offset[j]) * b->gain[j]); \
    }

static void take_block(void *user, int64_t done, int64_t n, const unsigned char *buf)
{
    block *b = user;
    switch (b->binary_format) {
    case BTFM_BV_INT_16: CONVERT_ROWS(le_i16) break;
    case BTFM_BV_INT_32: CONVERT_ROWS(le_i32) break;
    default: CONVERT_ROWS(le_f32) break;
    }
}

/* Vectorized: a chunk of rows is gathered as one span per pick (pick-major in the
 * buffer), then converted row by row so the output is written in order. */
static btfm_status read_vectorized(const window *w, block *b, const int *picks)
{
    const btfm_bv_state *s = w->ds->state;
    size_t size = btfm_bv_sample_size(b->binary_format);
    int64_t rows = (int64_t)(CHUNK_BYTES / (size * (size_t)b->n_picks));
    if (rows < 1) rows = 1;
    if (rows > w->count) rows = w->count;
    /* Spans one cache line apart beyond their length: power-of-two strides between the
     * streams read side by side would map them onto the same cache sets. */
    size_t span = (size_t)rows * size + 64;
    unsigned char *buf = btfm_malloc(span * (size_t)b->n_picks);
    if (!buf) return btfm_fail_nomem("brainvision read", span * (size_t)b->n_picks);
    b->row = size;
    for (int j = 0; j < b->n_picks; j++) b->offset[j] = (size_t)j * span;
    btfm_status st = BTFM_OK;
    for (int64_t done = 0; done < w->count && !st; done += rows) {
        int64_t n = w->count - done < rows ? w->count - done : rows;
        for (int j = 0; j < b->n_picks && !st; j++)
            st = pread_all(w->ds, s->fd, buf + b->offset[j], (size_t)n * size,
                           ((int64_t)picks[j] * s->n_samples + w->first + done) * (int64_t)size);
        if (!st) take_block(b, done, n, buf);
    }
    btfm_free(buf);
    return st;
}

static btfm_status bv_read_block(btfm_dataset *ds, int64_t first, int64_t count, const int *picks,
                                 int n_picks, size_t stride, float *out)
{
    btfm_bv_state *s = ds->state;
    window w = {ds, first, count};
    int fmt = s->header.binary_format;
    block b = {fmt, n_picks, btfm_bv_sample_size(fmt) * (size_t)ds->n_channels, stride, out,
               btfm_malloc((size_t)n_picks * sizeof(size_t)), btfm_malloc((size_t)n_picks * sizeof(double))};
    btfm_status st = !b.offset || !b.gain ? btfm_fail_nomem("brainvision read", (size_t)n_picks * 16)
                                          : BTFM_OK;
    for (int j = 0; !st && j < n_picks; j++) {
        b.offset[j] = (size_t)picks[j] * btfm_bv_sample_size(fmt);
        b.gain[j] = ds->channels[picks[j]].gain;
    }
    if (!st) st = s->header.vectorized ? read_vectorized(&w, &b, picks) : read_multiplexed(&w, take_block, &b);
    btfm_free(b.offset);
    btfm_free(b.gain);
    return st;
}

static void bv_close(btfm_dataset *ds)
{
    btfm_bv_state *s = ds->state;
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    btfm_bv_header_clear(&s->header);
    btfm_free(s);
    ds->state = NULL;
}

const btfm_io_driver btfm_bv_driver = {"brainvision", bv_read_digital, bv_read_block, bv_close};

/* ---- opening ---- */

/* Samples per channel from the data file's size (and DataPoints when given). */
static btfm_status count_samples(btfm_bv_state *s, const char *data_path, unsigned flags)
{
    struct stat sb;
    if (fstat(s->fd, &sb) != 0)
        return btfm_fail(BTFM_E_IO, "brainvision: %s: %s", data_path, strerror(errno));
    const btfm_bv_header *h = &s->header;
    size_t size = btfm_bv_sample_size(h->binary_format);
    int64_t row = (int64_t)size * h->n_channels, bytes = (int64_t)sb.st_size;
    int64_t n = bytes / row, extra = bytes % row;
    if (h->vectorized && h->data_points >= 0) {
        /* Channel c starts at c x DataPoints samples: any other size leaves it unknown. */
        if (n != h->data_points || extra)
            return btfm_fail(n < h->data_points ? BTFM_E_TRUNCATED : BTFM_E_FORMAT,
                             "brainvision: %s: %lld bytes; expected DataPoints=%lld x %d channels "
                             "x %zu bytes (%s), i.e. %lld whole samples of %lld bytes", data_path,
                             (long long)bytes, (long long)h->data_points, h->n_channels, size,
                             btfm_bv_format_name(h->binary_format), (long long)h->data_points,
                             (long long)row);
        s->n_samples = h->data_points;
        return BTFM_OK;
    }
    if (extra && (h->vectorized || !(flags & BTFM_OPEN_COMPLETE_RECORDS)))
        return btfm_fail(BTFM_E_TRUNCATED, "brainvision: %s: %lld bytes is not a whole number of "
                         "samples of %d channels x %zu bytes (%s): the file is truncated, or "
                         "NumberOfChannels/BinaryFormat is wrong%s", data_path, (long long)bytes,
                         h->n_channels, size, btfm_bv_format_name(h->binary_format),
                         h->vectorized ? "" : " (BTFM_OPEN_COMPLETE_RECORDS reads the complete rows)");
    if (extra)
        btfm_warn("brainvision: %s: the last %lld bytes are an incomplete sample row; reading the "
                  "%lld complete rows", data_path, (long long)extra, (long long)n);
    if (!h->vectorized && h->data_points >= 0 && h->data_points != n)
        btfm_warn("brainvision: %s: DataPoints=%lld but the data file holds %lld samples; using "
                  "the data file", data_path, (long long)h->data_points, (long long)n);
    if (n == 0)
        return btfm_fail(BTFM_E_TRUNCATED, "brainvision: %s: %lld bytes: the data file holds no "
                         "complete sample of %d channels x %zu bytes (%s)", data_path,
                         (long long)bytes, h->n_channels, size,
                         btfm_bv_format_name(h->binary_format));
    s->n_samples = n;
    return BTFM_OK;
}

static btfm_status fill_channels(btfm_dataset *ds, const btfm_bv_state *s, const char *path)
{
    double rate = 1e6 / s->header.interval_us;
    /* the largest magnitude the binary format stores */
    const int fmt = s->header.binary_format;
    const double largest = fmt == BTFM_BV_INT_16 ? 32768.0 : fmt == BTFM_BV_INT_32 ? 2147483648.0
                                                                                 : FLT_MAX;
    for (int i = 0; i < ds->n_channels; i++) {
        const btfm_bv_channel_info *info = &s->header.channels[i];
        btfm_channel *c = &ds->channels[i];
        double factor;
        const char *si;
        btfm_unit_to_si(info->unit, &factor, &si);
        if (!isfinite(info->resolution * factor * largest))
            return btfm_fail(BTFM_E_FORMAT, "brainvision: %s: Ch%d resolution %g %s scales "
                             "stored values (up to %g in %s) beyond the largest finite number; "
                             "expected a resolution that keeps every sample finite", path, i + 1,
                             info->resolution, info->unit, largest, btfm_bv_format_name(fmt));
        if (btfm_io_strdup(&c->name, info->name, strlen(info->name)) ||
            btfm_io_strdup(&c->unit, si, strlen(si)) ||
            btfm_io_strdup(&c->stored_unit, info->unit, strlen(info->unit)) ||
            btfm_io_strdup(&c->transducer, "", 0) || btfm_io_strdup(&c->prefilter, "", 0))
            return BTFM_E_NOMEM;
        c->type = btfm_channel_type_from_label(info->name);
        c->rate = rate;
        c->n_samples = s->n_samples;
        c->samples_per_record = s->n_samples > INT32_MAX ? INT32_MAX : (int)s->n_samples;
        c->gain = info->resolution * factor;
        c->offset = 0;
    }
    return BTFM_OK;
}

/* Markers become events; the first "New Segment" with a date gives the start time. A
 * missing marker file only costs the events, so it is a warning, not a refusal. */
static btfm_status read_markers(btfm_dataset *ds, const char *vhdr, const char *name)
{
    btfm_status st;
    char *path = locate(vhdr, name, "marker", ".vmrk", &st), *bytes = NULL;
    if (!path) {
        if (st != BTFM_E_NOTFOUND) return st;
        btfm_warn("%s; the recording has no events", btfm_last_error());
        return BTFM_OK;
    }
    size_t len = 0;
    btfm_bv_markers m;
    memset(&m, 0, sizeof m);
    st = btfm_read_file(path, "brainvision", MAX_TEXT_FILE, &bytes, &len);
    if (!st) st = btfm_bv_markers_parse(&m, bytes, len, path);
    btfm_free(bytes);
    btfm_free(path);
    for (int64_t i = 0; !st && i < m.n; i++) {
        const btfm_bv_marker *mk = &m.items[i];
        if (!ds->has_start_time && mk->has_date && strcmp(mk->type, "New Segment") == 0) {
            ds->has_start_time = 1;
            ds->start_time = mk->date;
        }
        st = btfm_dataset_append_event(ds, ((double)mk->position - 1) / ds->sfreq,
                                    (double)mk->size / ds->sfreq, mk->type, mk->description,
                                    btfm_bv_marker_code(mk->description));
    }
    btfm_bv_markers_clear(&m);
    return st;
}

btfm_status btfm_brainvision_open(btfm_dataset **out, const char *path, unsigned flags)
{
    *out = NULL;
    char *bytes = NULL, *data_path = NULL;
    size_t len = 0;
    btfm_status st = btfm_read_file(path, "brainvision", MAX_TEXT_FILE, &bytes, &len);
    if (st) return st;
    btfm_bv_state *s = btfm_calloc(1, sizeof *s);
    if (!s) {
        btfm_free(bytes);
        return btfm_fail_nomem("brainvision", sizeof *s);
    }
    s->fd = -1;
    st = btfm_bv_header_parse(&s->header, bytes, len, path);
    btfm_free(bytes);
    if (!st) data_path = locate(path, s->header.data_file, "data", ".eeg", &st);
    if (!st) st = btfm_open_regular(data_path, "brainvision", &s->fd);
    if (!st) st = count_samples(s, data_path, flags);
    btfm_free(data_path);
    btfm_dataset *ds = NULL;
    if (!st) st = btfm_dataset_alloc(&ds, path, BTFM_FORMAT_BRAINVISION, s->header.n_channels);
    if (st) {
        ds = NULL;
        if (s->fd >= 0) close(s->fd);
        btfm_bv_header_clear(&s->header);
        btfm_free(s);
        return st;
    }
    ds->driver = &btfm_bv_driver;
    ds->state = s;
    ds->sfreq = 1e6 / s->header.interval_us;
    st = fill_channels(ds, s, path);
    if (!st && s->header.marker_file) st = read_markers(ds, path, s->header.marker_file);
    if (!st) st = btfm_dataset_finish(ds);
    if (st) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}
