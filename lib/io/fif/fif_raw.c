/* FIF raw data: the buffers of the raw data block (16/32-bit integers, floats, doubles,
 * skips) across split files, presented as one recording starting at the first stored
 * sample; windowed reads that pread only the rows a window covers, and the stim channel's
 * triggers. Buffers are time-major (a row of every channel per sample), so a read is one
 * pass over the rows with the byte order and scale applied on the way out. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/progress.h"
#include "fif_internal.h"

#define CHUNK_BYTES (1u << 20) /* file bytes converted at a time */
#define MAX_SPLIT_FILES 4096
#define PROGRESS_BYTES (64u << 20) /* reads above this report progress */

enum { ROLE_NEXT_FILE = 2 };

typedef struct fif_buffer {
    int32_t file;
    int32_t type;            /* FIFFT_*, 0 for a skip (zeros, as MNE gives) */
    int64_t pos;             /* of the data */
    int64_t first, n;        /* dataset samples */
} fif_buffer;

typedef struct fif_state {
    fif_file *files;
    int n_files;
    fif_buffer *buffers;
    int64_t n_buffers, cap;
    int n_channels;
} fif_state;

static size_t sample_size(int32_t type)
{
    switch (type) {
    case FIFFT_SHORT: case FIFFT_DAU_PACK16: return 2;
    case FIFFT_INT: case FIFFT_FLOAT: return 4;
    case FIFFT_DOUBLE: return 8;
    default: return 0;
    }
}

static const char *type_name(int32_t type)
{
    switch (type) {
    case FIFFT_SHORT: case FIFFT_DAU_PACK16: return "int16";
    case FIFFT_INT: return "int32";
    case FIFFT_FLOAT: return "float32";
    case FIFFT_DOUBLE: return "float64";
    default: return "none";
    }
}

/* ---- decoding ---- */

#if defined(__GNUC__) || defined(__clang__)
#  define BSWAP16(x) __builtin_bswap16(x)
#  define BSWAP32(x) __builtin_bswap32(x)
#  define BSWAP64(x) __builtin_bswap64(x)
#else
#  define BSWAP16(x) ((uint16_t)((x) >> 8 | (x) << 8))
#  define BSWAP32(x) ((x) >> 24 | ((x) >> 8 & 0xFF00u) | ((x) << 8 & 0xFF0000u) | (x) << 24)
#  define BSWAP64(x) ((uint64_t)BSWAP32((uint32_t)(x)) << 32 | BSWAP32((uint32_t)((x) >> 32)))
#endif

static inline double get_i16(const unsigned char *p)
{
    uint16_t u;
    memcpy(&u, p, 2);
    return (int16_t)BSWAP16(u);
}

static inline double get_i32(const unsigned char *p)
{
    uint32_t u;
    memcpy(&u, p, 4);
    return (int32_t)BSWAP32(u);
}

static inline double get_f32(const unsigned char *p)
{
    uint32_t u;
    memcpy(&u, p, 4);
    u = BSWAP32(u);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double get_f64(const unsigned char *p)
{
    uint64_t u;
    memcpy(&u, p, 8);
    u = BSWAP64(u);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Rows of `in` (row_bytes apart) to output rows (`stride` floats apart): column j of a row
 * is the stored value of channel cols[j] times gain[j]. `contiguous`: cols[j] = cols[0] + j,
 * the common whole-file case, where the inner loop streams and vectorizes. */
typedef struct convert {
    int32_t type;
    size_t row_bytes, stride;
    int n_picks, contiguous;
    const int *cols;
    const double *gain;
} convert;

#define CONVERT(get, size)                                                                 \
    do {                                                                                   \
        if (cv->contiguous) {                                                              \
            for (int64_t r = 0; r < n_rows; r++) {                                         \
                const unsigned char *row = in + (size_t)r * cv->row_bytes + (size_t)cv->cols[0] * (size); \
                float *o = out + (size_t)r * cv->stride;                                   \
                for (int j = 0; j < cv->n_picks; j++)                                      \
                    o[j] = (float)(get(row + (size_t)j * (size)) * cv->gain[j]);           \
            }                                                                              \
        } else {                                                                           \
            for (int64_t r = 0; r < n_rows; r++) {                                         \
                const unsigned char *row = in + (size_t)r * cv->row_bytes;                 \
                float *o = out + (size_t)r * cv->stride;                                   \
                for (int j = 0; j < cv->n_picks; j++)                                      \
                    o[j] = (float)(get(row + (size_t)cv->cols[j] * (size)) * cv->gain[j]); \
            }                                                                              \
        }                                                                                  \
    } while (0)

BTFM_HOT BTFM_SIMD_CLONES
static void convert_rows(const convert *cv, const unsigned char *in, int64_t n_rows, float *out)
{
    switch (cv->type) {
    case FIFFT_SHORT: case FIFFT_DAU_PACK16: CONVERT(get_i16, 2); break;
    case FIFFT_INT: CONVERT(get_i32, 4); break;
    case FIFFT_FLOAT: CONVERT(get_f32, 4); break;
    default: CONVERT(get_f64, 8); break;
    }
}

static double get_any(int32_t type, const unsigned char *p)
{
    switch (type) {
    case FIFFT_SHORT: case FIFFT_DAU_PACK16: return get_i16(p);
    case FIFFT_INT: return get_i32(p);
    case FIFFT_FLOAT: return get_f32(p);
    default: return get_f64(p);
    }
}

/* ---- the buffer table ---- */

/* Index of the buffer holding dataset sample `t` (buffers are sorted and contiguous). */
static int64_t buffer_at(const fif_state *s, int64_t t)
{
    int64_t lo = 0, hi = s->n_buffers - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (s->buffers[mid].first <= t) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* Calls `take(user, done, rows, bytes)` for consecutive chunks of the rows of samples
 * [first, first + count), or `zeros(user, done, rows)` over skips. */
typedef struct walker {
    btfm_dataset *ds;
    void (*take)(void *user, const fif_buffer *b, int64_t done, int64_t rows, const unsigned char *bytes);
    void (*zeros)(void *user, int64_t done, int64_t rows);
    void *user;
    btfm_progress *progress;
} walker;

static btfm_status walk(const walker *w, int64_t first, int64_t count)
{
    fif_state *s = w->ds->state;
    size_t widest = 8 * (size_t)s->n_channels;
    size_t chunk = CHUNK_BYTES > widest ? CHUNK_BYTES : widest;
    unsigned char *buf = btfm_malloc(chunk);
    if (!buf) return btfm_fail_nomem("fif read", chunk);
    btfm_status st = BTFM_OK;
    int64_t done = 0;
    for (int64_t k = buffer_at(s, first); done < count && !st && k < s->n_buffers; k++) {
        const fif_buffer *b = &s->buffers[k];
        int64_t lo = first + done - b->first;
        int64_t hi = b->n < first + count - b->first ? b->n : first + count - b->first;
        if (!b->type) {
            w->zeros(w->user, done, hi - lo);
            done += hi - lo;
            continue;
        }
        size_t row = sample_size(b->type) * (size_t)s->n_channels;
        int64_t per = (int64_t)(chunk / row);
        for (int64_t r = lo; r < hi && !st; r += per) {
            int64_t n = hi - r < per ? hi - r : per;
            st = btfm_fif_pread(&s->files[b->file], buf, (size_t)n * row, b->pos + r * (int64_t)row);
            if (!st) w->take(w->user, b, done, n, buf);
            done += n;
            if (!st && w->progress) st = btfm_progress_update(w->progress, "fif read", (double)done / (double)count);
        }
    }
    btfm_free(buf);
    return st;
}

typedef struct block_ctx {
    convert cv;
    float *out;
    int n_channels;
} block_ctx;

static void take_rows(void *user, const fif_buffer *b, int64_t done, int64_t rows,
                      const unsigned char *bytes)
{
    block_ctx *c = user;
    c->cv.type = b->type;
    c->cv.row_bytes = sample_size(b->type) * (size_t)c->n_channels;
    convert_rows(&c->cv, bytes, rows, c->out + (size_t)done * c->cv.stride);
}

static void zero_rows(void *user, int64_t done, int64_t rows)
{
    block_ctx *c = user;
    for (int64_t r = 0; r < rows; r++)
        memset(c->out + (size_t)(done + r) * c->cv.stride, 0, (size_t)c->cv.n_picks * sizeof(float));
}

static btfm_status fif_read_block(btfm_dataset *ds, int64_t first, int64_t count, const int *picks,
                                  int n_picks, size_t stride, float *out)
{
    fif_state *s = ds->state;
    double *gain = btfm_malloc((size_t)n_picks * sizeof *gain);
    if (!gain) return btfm_fail_nomem("fif read", (size_t)n_picks * sizeof *gain);
    int contiguous = 1;
    for (int j = 0; j < n_picks; j++) {
        gain[j] = ds->channels[picks[j]].gain;
        contiguous &= picks[j] == picks[0] + j;
    }
    block_ctx c = {{0, 0, stride, n_picks, contiguous, picks, gain}, out, s->n_channels};
    btfm_progress progress;
    int report = (uint64_t)count * (uint64_t)s->n_channels * 4 > PROGRESS_BYTES;
    btfm_status st = report ? btfm_progress_start(&progress, NULL, NULL, "fif read") : BTFM_OK;
    walker w = {ds, take_rows, zero_rows, &c, report ? &progress : NULL};
    if (!st) st = walk(&w, first, count);
    if (!st && report) st = btfm_progress_done(&progress, "fif read");
    btfm_free(gain);
    return st;
}

typedef struct digital_ctx {
    int ch, n_channels;
    double *out;
} digital_ctx;

static void take_digital(void *user, const fif_buffer *b, int64_t done, int64_t rows,
                         const unsigned char *bytes)
{
    digital_ctx *c = user;
    size_t size = sample_size(b->type), row = size * (size_t)c->n_channels;
    for (int64_t r = 0; r < rows; r++)
        c->out[done + r] = get_any(b->type, bytes + (size_t)r * row + (size_t)c->ch * size);
}

static void zero_digital(void *user, int64_t done, int64_t rows)
{
    digital_ctx *c = user;
    for (int64_t r = 0; r < rows; r++) c->out[done + r] = 0;
}

static btfm_status fif_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count, double *out)
{
    digital_ctx c = {ch, ((fif_state *)ds->state)->n_channels, out};
    walker w = {ds, take_digital, zero_digital, &c, NULL};
    return walk(&w, first, count);
}

static void fif_close(btfm_dataset *ds)
{
    fif_state *s = ds->state;
    if (!s) return;
    for (int i = 0; i < s->n_files; i++) btfm_fif_file_close(&s->files[i]);
    btfm_free(s->files);
    btfm_free(s->buffers);
    btfm_free(s);
    ds->state = NULL;
}

static const btfm_io_driver fif_driver = {"fif", fif_read_digital, fif_read_block, fif_close};

/* ---- the raw data block of one file ---- */

static btfm_status add_buffer(fif_state *s, int32_t file, int32_t type, int64_t pos, int64_t first,
                              int64_t n)
{
    void *buffers = s->buffers;
    btfm_status st = btfm_reserve(&buffers, &s->cap, s->n_buffers + 1, sizeof *s->buffers, "fif buffers");
    s->buffers = buffers;
    if (st) return st;
    s->buffers[s->n_buffers++] = (fif_buffer){file, type, pos, first, n};
    return BTFM_OK;
}

/* The raw data block: FIFFB_RAW_DATA, else continuous data, else MaxShield (IAS) raw data
 * inside the measurement block. */
static btfm_status find_raw_block(const fif_file *f, const fif_tree *t, int32_t *raw)
{
    int32_t meas = btfm_fif_find_block(t, FIFFB_MEAS, -1, -1);
    *raw = meas < 0 ? -1 : btfm_fif_find_block(t, FIFFB_RAW_DATA, meas, -1);
    if (*raw < 0 && meas >= 0) *raw = btfm_fif_find_block(t, FIFFB_CONTINUOUS_DATA, meas, -1);
    if (*raw < 0 && meas >= 0 && (*raw = btfm_fif_find_block(t, FIFFB_IAS_RAW_DATA, meas, -1)) >= 0)
        btfm_warn("fif: %s: raw data recorded with internal active shielding (MaxShield); "
                  "without MaxFilter/SSS processing they contain strong artifacts", f->path);
    if (*raw >= 0) return BTFM_OK;
    char kinds[256];
    btfm_fif_block_kinds(t, kinds, sizeof kinds);
    return btfm_fail(BTFM_E_FORMAT, "fif: %s: no raw data block (102, 112 or 119 inside a "
                     "measurement block 100): not a raw recording (evoked, epochs, forward, "
                     "BEM and other FIF files are not datasets); it has %lld tags (%lld bytes) in "
                     "blocks %s", f->path, (long long)t->n_tags, (long long)f->size, kinds);
}

/* The buffers of file `k`, appended after *end samples; *first_samp set from file 0. */
static btfm_status read_buffers(fif_state *s, int k, const fif_tree *t, int64_t *end,
                                int64_t *first_samp, const char **data_type)
{
    const fif_file *f = &s->files[k];
    int32_t raw;
    btfm_status found = find_raw_block(f, t, &raw);
    if (found) return found;
    int64_t skip = 0, leading_skip = 0, file_first = -1;
    int seen_buffer = 0;
    for (int64_t i = 0; i < t->n_tags; i++) {
        const fif_tag *tag = &t->tags[i];
        if (tag->block != raw) continue;
        btfm_status st = BTFM_OK;
        if (tag->kind == FIFF_FIRST_SAMPLE && !seen_buffer && file_first < 0) {
            int32_t v;
            if ((st = btfm_fif_read_int(f, tag, &v))) return st;
            file_first = v;
        } else if (tag->kind == FIFF_DATA_SKIP) {
            int32_t v;
            if ((st = btfm_fif_read_int(f, tag, &v))) return st;
            if (v < 0)
                return btfm_fail(BTFM_E_FORMAT, "fif: %s: data skip of %d buffers at byte %lld",
                                 f->path, v, (long long)tag->pos);
            if (seen_buffer) skip = v;
            else leading_skip = v;
        } else if (tag->kind == FIFF_DATA_BUFFER) {
            if (tag->type == FIFFT_COMPLEX_FLOAT || tag->type == FIFFT_COMPLEX_DOUBLE)
                return btfm_fail(BTFM_E_UNSUPPORTED, "fif: %s: complex data buffer at byte %lld "
                                 "(complex raw data are not supported)", f->path, (long long)tag->pos);
            size_t size = sample_size((int32_t)tag->type);
            if (!size)
                return btfm_fail(BTFM_E_FORMAT, "fif: %s: data buffer at byte %lld has type %u; "
                                 "expected int16 (2 or 16), int32 (3), float (4) or double (5)",
                                 f->path, (long long)tag->pos, tag->type);
            size_t row = size * (size_t)s->n_channels;
            if (tag->size == 0 || (size_t)tag->size % row)
                return btfm_fail(BTFM_E_FORMAT, "fif: %s: data buffer at byte %lld has %d bytes, "
                                 "not a whole number of samples of %d channels x %zu bytes",
                                 f->path, (long long)tag->pos, tag->size, s->n_channels, size);
            int64_t n = (int64_t)((size_t)tag->size / row);
            if (!seen_buffer && k == 0) {
                *first_samp = (file_first < 0 ? 0 : file_first) + leading_skip * n;
                *data_type = type_name((int32_t)tag->type);
            }
            seen_buffer = 1;
            if (skip && (st = add_buffer(s, k, 0, 0, *end, skip * n))) return st;
            *end += skip * n;
            skip = 0;
            if ((st = add_buffer(s, k, (int32_t)tag->type, tag->pos + FIFF_TAG_HEADER, *end, n))) return st;
            *end += n;
        }
    }
    if (!seen_buffer && k == 0)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: the raw data block has no data buffers", f->path);
    return BTFM_OK;
}

/* The next split file named by a FIFFB_REF block with the role "next file": by name
 * (beside this file), or by number (MNE's rule: name-N.fif after name.fif or name-M.fif).
 * NULL with BTFM_OK when there is none. */
static btfm_status next_file_name(const fif_file *f, const fif_tree *t, char **out)
{
    *out = NULL;
    for (int32_t b = btfm_fif_find_block(t, FIFFB_REF, -1, -1); b >= 0;
         b = btfm_fif_find_block(t, FIFFB_REF, -1, b)) {
        const fif_tag *role = btfm_fif_find_tag(t, b, FIFF_REF_ROLE);
        int32_t r = 0;
        btfm_status st = role ? btfm_fif_read_int(f, role, &r) : BTFM_OK;
        if (st) return st;
        if (r != ROLE_NEXT_FILE) continue;
        const char *slash = strrchr(f->path, '/');
        size_t dir = slash ? (size_t)(slash - f->path) + 1 : 0;
        const fif_tag *name = btfm_fif_find_tag(t, b, FIFF_REF_FILE_NAME);
        const fif_tag *num = btfm_fif_find_tag(t, b, FIFF_REF_FILE_NUM);
        char *base = NULL;
        if (name) {
            if ((st = btfm_fif_read_string(f, name, &base))) return st;
            if (!*base || strchr(base, '/')) {
                st = btfm_fail(BTFM_E_FORMAT, "fif: %s: the next split file's name \"%s\" (byte "
                               "%lld) is empty or has a folder", f->path, base, (long long)name->pos);
                btfm_free(base);
                return st;
            }
        } else if (num) {
            int32_t n;
            if ((st = btfm_fif_read_int(f, num, &n))) return st;
            const char *file = f->path + dir, *dot = strchr(file, '.');
            if (!dot) dot = file + strlen(file);
            const char *dash = NULL;
            for (const char *p = file; p < dot; p++)
                if (*p == '-') dash = p;
            size_t stem = (size_t)(dot - file);
            if (dash && dash + 1 < dot && strspn(dash + 1, "0123456789") == (size_t)(dot - dash - 1))
                stem = (size_t)(dash - file);
            size_t len = stem + strlen(dot) + 16;
            if (!(base = btfm_malloc(len))) return btfm_fail_nomem("fif", len);
            snprintf(base, len, "%.*s-%d%s", (int)stem, file, n, dot);
        } else {
            continue;
        }
        size_t len = dir + strlen(base) + 1;
        char *path = btfm_malloc(len);
        if (path) snprintf(path, len, "%.*s%s", (int)dir, f->path, base);
        btfm_free(base);
        if (!path) return btfm_fail_nomem("fif", len);
        *out = path;
        return BTFM_OK;
    }
    return BTFM_OK;
}

/* Channel count and rate of a continuation file must match the first file's. */
static btfm_status check_continuation(const fif_info *first, const fif_file *f, const fif_tree *t)
{
    fif_info info;
    btfm_status st = btfm_fif_info_read(&info, f, t);
    if (st) return st;
    if (info.n_channels != first->n_channels || info.sfreq != first->sfreq)
        st = btfm_fail(BTFM_E_FORMAT, "fif: %s: a split file with %d channels at %g Hz after a "
                       "first file with %d channels at %g Hz", f->path, info.n_channels,
                       info.sfreq, first->n_channels, first->sfreq);
    btfm_fif_info_clear(&info);
    return st;
}

static btfm_status add_file(fif_state *s, const char *path)
{
    fif_file *files = btfm_realloc(s->files, (size_t)(s->n_files + 1) * sizeof *files);
    if (!files) return btfm_fail_nomem("fif", (size_t)(s->n_files + 1) * sizeof *files);
    s->files = files;
    btfm_status st = btfm_fif_file_open(&s->files[s->n_files], path);
    if (!st) s->n_files++;
    return st;
}

/* Follow the chain of split files from file 0, appending their buffers. */
static btfm_status read_splits(fif_state *s, const fif_info *info, const fif_tree *t0,
                               unsigned flags, int64_t *end)
{
    char *next = NULL;
    btfm_status st = next_file_name(&s->files[0], t0, &next);
    while (!st && next) {
        for (int i = 0; i < s->n_files && !st; i++)
            if (strcmp(s->files[i].path, next) == 0)
                st = btfm_fail(BTFM_E_FORMAT, "fif: %s: names %s as its next split file, which "
                               "is already part of the recording (a loop)", s->files[s->n_files - 1].path, next);
        if (!st && s->n_files >= MAX_SPLIT_FILES)
            st = btfm_fail(BTFM_E_FORMAT, "fif: %s: more than %d split files", s->files[0].path,
                           MAX_SPLIT_FILES);
        if (st) break;
        if ((st = add_file(s, next)) == BTFM_E_NOTFOUND && (flags & BTFM_OPEN_COMPLETE_RECORDS)) {
            btfm_warn("fif: %s names the split file %s, which does not exist; reading the files "
                      "before it", s->files[s->n_files - 1].path, next);
            st = BTFM_OK;
            break;
        }
        if (st == BTFM_E_NOTFOUND)
            st = btfm_fail(BTFM_E_NOTFOUND, "fif: %s names the split file %s, which does not "
                           "exist (split files must keep the names they were written with; "
                           "BTFM_OPEN_COMPLETE_RECORDS reads the files before it)",
                           s->files[s->n_files - 1].path, next);
        if (st) break;
        btfm_free(next);
        next = NULL;
        fif_tree t;
        fif_file *f = &s->files[s->n_files - 1];
        if ((st = btfm_fif_tree_read(&t, f))) break;
        int64_t unused_first = 0;
        const char *unused_type = NULL;
        st = check_continuation(info, f, &t);
        if (!st) st = read_buffers(s, s->n_files - 1, &t, end, &unused_first, &unused_type);
        if (!st) st = next_file_name(f, &t, &next);
        btfm_fif_tree_clear(&t);
    }
    btfm_free(next);
    return st;
}

/* ---- triggers ---- */

/* The stim channel events come from: STI101 (summing channel of newer systems), else
 * STI 014, else the first stim channel (MNE's default choice); -1 when none. */
static int stim_channel(const btfm_dataset *ds)
{
    static const char *preferred[] = {"STI101", "STI 014"};
    for (size_t p = 0; p < 2; p++)
        for (int i = 0; i < ds->n_channels; i++)
            if (ds->channels[i].type == BTFM_CH_STIM && strcmp(ds->channels[i].name, preferred[p]) == 0)
                return i;
    for (int i = 0; i < ds->n_channels; i++)
        if (ds->channels[i].type == BTFM_CH_STIM) return i;
    return -1;
}

/* ---- opening ---- */

static btfm_status read_identity(btfm_dataset *ds, const fif_file *f, const fif_tree *t,
                                 const fif_info *info)
{
    int32_t subject = btfm_fif_find_block(t, FIFFB_SUBJECT, info->meas_block, -1);
    const fif_tag *his = subject < 0 ? NULL : btfm_fif_find_tag(t, subject, FIFF_SUBJ_HIS_ID);
    const fif_tag *desc = btfm_fif_find_tag(t, info->info_block, FIFF_COMMENT);
    char *s = NULL;
    btfm_status st = BTFM_OK;
    if (his && !(st = btfm_fif_read_string(f, his, &s))) {
        btfm_free(ds->subject);
        ds->subject = s;
    }
    if (!st && desc && !(st = btfm_fif_read_string(f, desc, &s))) {
        btfm_free(ds->recording);
        ds->recording = s;
    }
    return st;
}

static btfm_status open_dataset(btfm_dataset **out, fif_state *s, const fif_tree *t,
                                const fif_info *info, unsigned flags, int follow_splits)
{
    int64_t end = 0, first_samp = 0;
    const char *data_type = "none";
    s->n_channels = info->n_channels;
    btfm_status st = read_buffers(s, 0, t, &end, &first_samp, &data_type);
    if (!st && follow_splits) st = read_splits(s, info, t, flags, &end);
    if (st) return st;
    btfm_dataset *ds;
    if ((st = btfm_dataset_alloc(&ds, s->files[0].path ? s->files[0].path : "fif", BTFM_FORMAT_FIF,
                                 info->n_channels)))
        return st;
    ds->driver = &fif_driver;
    ds->state = s;
    ds->sfreq = info->sfreq;
    if ((st = btfm_fif_fill_channels(ds, info, &s->files[0], t))) goto fail;
    for (int i = 0; i < ds->n_channels; i++) {
        ds->channels[i].n_samples = end;
        ds->channels[i].samples_per_record = end > INT32_MAX ? INT32_MAX : (int)end;
    }
    if (info->has_meas_date) {
        ds->has_start_time = 1;
        ds->start_time = info->meas_date + (double)first_samp / info->sfreq;
    }
    for (int64_t k = 0; k < s->n_buffers && !st; k++)
        if (!s->buffers[k].type)
            st = btfm_dataset_append_event(ds, (double)s->buffers[k].first / info->sfreq,
                                           (double)s->buffers[k].n / info->sfreq, "gap", "BAD_ACQ_SKIP", 0);
    if (!st) st = read_identity(ds, &s->files[0], t, info);
    if (!st) st = btfm_fif_read_meta(ds, info, &s->files[0], t, first_samp, s->n_files, data_type);
    int stim = stim_channel(ds);
    if (!st && stim >= 0) st = btfm_io_stim_events(ds, stim, 1, ~0u);
    if (!st) st = btfm_dataset_finish(ds);
    if (st) goto fail;
    *out = ds;
    return BTFM_OK;
fail:
    ds->state = NULL; /* the caller still owns s */
    btfm_dataset_free(ds);
    return st;
}

btfm_status btfm_fif_open_file(btfm_dataset **out, fif_file *first, unsigned flags, int follow_splits)
{
    *out = NULL;
    fif_state *s = btfm_calloc(1, sizeof *s);
    if (!s || !(s->files = btfm_malloc(sizeof *s->files))) {
        btfm_free(s);
        btfm_fif_file_close(first);
        return btfm_fail_nomem("fif", sizeof *s);
    }
    s->files[0] = *first;
    s->n_files = 1;
    fif_tree t;
    fif_info info;
    int32_t raw;
    btfm_status st = btfm_fif_tree_read(&t, &s->files[0]);
    if (!st) {
        if (!(st = find_raw_block(&s->files[0], &t, &raw)) &&
            !(st = btfm_fif_info_read(&info, &s->files[0], &t))) {
            st = open_dataset(out, s, &t, &info, flags, follow_splits);
            btfm_fif_info_clear(&info);
        }
        btfm_fif_tree_clear(&t);
    }
    if (st) {
        btfm_dataset tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.state = s;
        fif_close(&tmp);
    }
    return st;
}

btfm_status btfm_fif_open(btfm_dataset **out, const char *path, unsigned flags)
{
    *out = NULL;
    fif_file f;
    btfm_status st = btfm_fif_file_open(&f, path);
    return st ? st : btfm_fif_open_file(out, &f, flags, 1);
}
