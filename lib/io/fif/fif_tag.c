/* FIF files as tags and blocks: the file source (pread, or memory for gzip), the tag list
 * from the tag directory or a forward-only sequential scan, block nesting, and readers of
 * tag data. Every refusal names the byte offset of the tag at fault. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/read_file.h"
#include "fif_internal.h"

#define MAX_GZIP_BYTES ((size_t)1 << 34) /* 16 GiB: more than a raw file split at 2 GB */
#define MAX_BLOCK_DEPTH 64

/* ---- files ---- */

btfm_status btfm_fif_file_open(fif_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (btfm_io_strdup(&f->path, path, strlen(path))) return btfm_fail_nomem("fif", strlen(path));
    int fd;
    btfm_status opened = btfm_open_regular(path, "fif", &fd); /* a FIFO never blocks */
    if (opened) {
        btfm_fif_file_close(f);
        return opened;
    }
    unsigned char magic[2] = {0, 0};
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        btfm_status st = btfm_fail(BTFM_E_IO, "fif: %s: %s", path, strerror(errno));
        close(fd);
        btfm_fif_file_close(f);
        return st;
    }
    if (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        close(fd);
        char *bytes;
        size_t len;
        btfm_status st = btfm_read_gzip_file(path, "fif", MAX_GZIP_BYTES, &bytes, &len);
        if (st) {
            btfm_fif_file_close(f);
            return st;
        }
        f->bytes = (unsigned char *)bytes;
        f->owns_bytes = 1;
        f->size = (int64_t)len;
        return BTFM_OK;
    }
    f->fd = fd;
    f->size = (int64_t)sb.st_size;
    return BTFM_OK;
}

void btfm_fif_file_memory(fif_file *f, const unsigned char *bytes, size_t len, const char *name)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->bytes = (unsigned char *)bytes;
    f->size = (int64_t)len;
    if (btfm_io_strdup(&f->path, name, strlen(name))) f->path = NULL;
}

void btfm_fif_file_close(fif_file *f)
{
    if (f->fd >= 0) close(f->fd);
    if (f->owns_bytes) btfm_free(f->bytes);
    btfm_free(f->path);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

static const char *name_of(const fif_file *f) { return f->path ? f->path : "fif"; }

btfm_status btfm_fif_pread(const fif_file *f, void *buf, size_t n, int64_t offset)
{
    if (offset < 0 || offset > f->size || (int64_t)n > f->size - offset)
        return btfm_fail(BTFM_E_TRUNCATED, "fif: %s: %zu bytes at byte %lld run past the end "
                         "of the file (%lld bytes)", name_of(f), n, (long long)offset,
                         (long long)f->size);
    if (f->bytes) {
        memcpy(buf, f->bytes + offset, n);
        return BTFM_OK;
    }
    size_t got;
    int err = btfm_pread_full(f->fd, buf, n, offset, &got);
    if (err)
        return btfm_fail(BTFM_E_IO, "fif: %s: read at byte %lld failed: %s", name_of(f),
                         (long long)offset + (long long)got, strerror(err));
    if (got < n)
        return btfm_fail(BTFM_E_TRUNCATED, "fif: %s: the file ends at byte %lld, before "
                         "the data its tags describe (was it truncated after opening?)",
                         name_of(f), (long long)offset + (long long)got);
    return BTFM_OK;
}

/* ---- tag lists ---- */

typedef struct tag_header {
    int32_t kind;
    uint32_t type;
    int32_t size, next;
} tag_header;

static void decode_header(const unsigned char *b, tag_header *h)
{
    h->kind = (int32_t)btfm_fif_be32(b);
    h->type = btfm_fif_be32(b + 4);
    h->size = (int32_t)btfm_fif_be32(b + 8);
    h->next = (int32_t)btfm_fif_be32(b + 12);
}

static btfm_status append_tag(fif_tree *t, int64_t *cap, const tag_header *h, int64_t pos)
{
    void *tags = t->tags;
    btfm_status st = btfm_reserve(&tags, cap, t->n_tags + 1, sizeof *t->tags, "fif tags");
    t->tags = tags;
    if (st) return st;
    fif_tag *tag = &t->tags[t->n_tags++];
    tag->kind = h->kind;
    tag->type = h->type;
    tag->size = h->size;
    tag->pos = pos;
    tag->block = -1;
    return BTFM_OK;
}

/* The tag at `pos` must fit in the file. */
static btfm_status check_extent(const fif_file *f, const tag_header *h, int64_t pos)
{
    if (h->size < 0)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: tag kind %d at byte %lld has a negative size "
                         "(%d)", name_of(f), h->kind, (long long)pos, h->size);
    if (h->size > f->size - pos - FIFF_TAG_HEADER)
        return btfm_fail(BTFM_E_TRUNCATED, "fif: %s: tag kind %d at byte %lld claims %d data "
                         "bytes but the file ends at byte %lld", name_of(f), h->kind,
                         (long long)pos, h->size, (long long)f->size);
    return BTFM_OK;
}

/* Tags one after the other from byte 0. `next` 0 means "the following tag", -1 "the last
 * tag", anything else an absolute position, which must lie ahead: a pointer backwards
 * could loop forever. */
static btfm_status scan_sequential(fif_tree *t, const fif_file *f)
{
    int64_t cap = 0, pos = 0;
    for (;;) {
        if (pos == f->size) return BTFM_OK;
        unsigned char b[FIFF_TAG_HEADER];
        if (f->size - pos < FIFF_TAG_HEADER)
            return btfm_fail(BTFM_E_TRUNCATED, "fif: %s: the file ends inside the tag header "
                             "at byte %lld (%lld of 16 bytes)", name_of(f), (long long)pos,
                             (long long)(f->size - pos));
        btfm_status st = btfm_fif_pread(f, b, sizeof b, pos);
        if (st) return st;
        tag_header h;
        decode_header(b, &h);
        if ((st = check_extent(f, &h, pos)) || (st = append_tag(t, &cap, &h, pos))) return st;
        if (h.next == -1) return BTFM_OK;
        int64_t following = pos + FIFF_TAG_HEADER + h.size;
        if (h.next == 0) {
            pos = following;
            continue;
        }
        if (h.next < following || h.next > f->size)
            return btfm_fail(BTFM_E_FORMAT, "fif: %s: tag kind %d at byte %lld points to byte "
                             "%d as the next tag; expected a position after its own data "
                             "(byte %lld) and inside the file (a pointer backwards would loop)",
                             name_of(f), h.kind, (long long)pos, h.next, (long long)following);
        pos = h.next;
    }
}

/* The tag directory (FIFF_DIR, an array of kind, type, size, pos entries), checked entry
 * by entry against the file: 0 when used, 1 when absent or unusable (then a warning says
 * why and the caller scans). */
static int read_directory(fif_tree *t, const fif_file *f, int64_t dir_pos)
{
    unsigned char b[FIFF_TAG_HEADER];
    tag_header h;
    const char *why = NULL;
    if (dir_pos <= 0) return 1;
    if (dir_pos > f->size - FIFF_TAG_HEADER || btfm_fif_pread(f, b, sizeof b, dir_pos)) {
        why = "the pointer is past the end of the file";
    } else {
        decode_header(b, &h);
        if (h.kind != FIFF_DIR || h.type != FIFFT_DIR_ENTRY_STRUCT || h.size < 0 || h.size % 16 ||
            h.size > f->size - dir_pos - FIFF_TAG_HEADER)
            why = "no directory tag there";
    }
    int64_t n = why ? 0 : h.size / 16, cap = 0;
    unsigned char *entries = n ? btfm_malloc((size_t)n * 16) : NULL;
    if (n && (!entries || btfm_fif_pread(f, entries, (size_t)n * 16, dir_pos + FIFF_TAG_HEADER)))
        why = "it cannot be read";
    int64_t last_pos = -1;
    for (int64_t i = 0; !why && i < n; i++) {
        tag_header e;
        decode_header(entries + 16 * i, &e);
        int64_t pos = e.next; /* the entry's fourth field is the tag's position */
        if (e.kind == -1) break; /* terminating entry */
        if (pos < 0 || e.size < 0 || pos > f->size - FIFF_TAG_HEADER ||
            e.size > f->size - pos - FIFF_TAG_HEADER)
            why = "an entry points outside the file";
        else if (pos <= last_pos)
            why = "its entries are not in file order (a loop or a stale directory)";
        else if (append_tag(t, &cap, &e, pos))
            why = "out of memory";
        last_pos = pos;
    }
    btfm_free(entries);
    if (!why) return 0;
    btfm_free(t->tags);
    t->tags = NULL;
    t->n_tags = 0;
    btfm_warn("fif: %s: the tag directory at byte %lld is not usable (%s); scanning the tags "
              "in order instead", name_of(f), (long long)dir_pos, why);
    return 1;
}

/* ---- blocks ---- */

static btfm_status nest_blocks(fif_tree *t, const fif_file *f)
{
    int64_t cap = 0;
    int32_t stack[MAX_BLOCK_DEPTH];
    int depth = 0;
    for (int64_t i = 0; i < t->n_tags; i++) {
        fif_tag *tag = &t->tags[i];
        tag->block = depth ? stack[depth - 1] : -1;
        if (tag->kind == FIFF_BLOCK_START) {
            int32_t kind;
            btfm_status st = btfm_fif_read_int(f, tag, &kind);
            if (st) return st;
            if (depth == MAX_BLOCK_DEPTH)
                return btfm_fail(BTFM_E_FORMAT, "fif: %s: block %d at byte %lld is nested more "
                                 "than %d deep", name_of(f), kind, (long long)tag->pos,
                                 MAX_BLOCK_DEPTH);
            if (t->n_blocks == INT32_MAX)
                return btfm_fail(BTFM_E_FORMAT, "fif: %s: too many blocks", name_of(f));
            void *blocks = t->blocks;
            if ((st = btfm_reserve(&blocks, &cap, t->n_blocks + 1, sizeof *t->blocks, "fif blocks"))) {
                t->blocks = blocks;
                return st;
            }
            t->blocks = blocks;
            fif_block *b = &t->blocks[t->n_blocks];
            b->kind = kind;
            b->parent = depth ? stack[depth - 1] : -1;
            b->pos = tag->pos;
            stack[depth++] = t->n_blocks++;
        } else if (tag->kind == FIFF_BLOCK_END) {
            int32_t kind;
            btfm_status st = btfm_fif_read_int(f, tag, &kind);
            if (st) return st;
            if (depth == 0)
                return btfm_fail(BTFM_E_FORMAT, "fif: %s: the block end at byte %lld closes no "
                                 "open block", name_of(f), (long long)tag->pos);
            const fif_block *open = &t->blocks[stack[depth - 1]];
            if (open->kind != kind)
                return btfm_fail(BTFM_E_FORMAT, "fif: %s: the block end at byte %lld closes "
                                 "block %d, but block %d (opened at byte %lld) is the one open",
                                 name_of(f), (long long)tag->pos, kind, open->kind,
                                 (long long)open->pos);
            depth--;
            tag->block = depth ? stack[depth - 1] : -1;
        }
    }
    if (depth)
        return btfm_fail(BTFM_E_TRUNCATED, "fif: %s: block %d opened at byte %lld is never "
                         "closed (the file ends at byte %lld: truncated?)", name_of(f),
                         t->blocks[stack[depth - 1]].kind, (long long)t->blocks[stack[depth - 1]].pos,
                         (long long)f->size);
    return BTFM_OK;
}

btfm_status btfm_fif_tree_read(fif_tree *t, const fif_file *f)
{
    memset(t, 0, sizeof *t);
    unsigned char b[2 * FIFF_TAG_HEADER + 4];
    if (f->size < (int64_t)sizeof b)
        return btfm_fail(f->size == 0 ? BTFM_E_FORMAT : BTFM_E_TRUNCATED, "fif: %s: %lld bytes "
                         "is too short for a FIF file (a file id tag and a directory pointer "
                         "take 72)", name_of(f), (long long)f->size);
    btfm_status st = btfm_fif_pread(f, b, sizeof b, 0);
    if (st) return st;
    tag_header id, dir;
    decode_header(b, &id);
    if (id.kind != FIFF_FILE_ID || id.type != FIFFT_ID_STRUCT || id.size != 20)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: does not start with a file id tag (kind %d, "
                         "type %u, size %d at byte 0; expected kind 100, type 31, size 20)",
                         name_of(f), id.kind, id.type, id.size);
    unsigned char d[FIFF_TAG_HEADER + 4];
    if ((st = btfm_fif_pread(f, d, sizeof d, FIFF_TAG_HEADER + 20))) return st;
    decode_header(d, &dir);
    if (dir.kind != FIFF_DIR_POINTER || dir.size != 4)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: the second tag (byte 36) is kind %d, not the "
                         "directory pointer (kind 101)", name_of(f), dir.kind);
    int64_t dir_pos = (int32_t)btfm_fif_be32(d + FIFF_TAG_HEADER);
    if (read_directory(t, f, dir_pos) && (st = scan_sequential(t, f))) {
        btfm_fif_tree_clear(t);
        return st;
    }
    if ((st = nest_blocks(t, f))) btfm_fif_tree_clear(t);
    return st;
}

void btfm_fif_tree_clear(fif_tree *t)
{
    btfm_free(t->tags);
    btfm_free(t->blocks);
    memset(t, 0, sizeof *t);
}

int btfm_fif_block_within(const fif_tree *t, int32_t b, int32_t ancestor)
{
    if (ancestor < 0) return 1;
    for (; b >= 0; b = t->blocks[b].parent)
        if (b == ancestor) return 1;
    return 0;
}

int32_t btfm_fif_find_block(const fif_tree *t, int32_t kind, int32_t ancestor, int32_t after)
{
    for (int32_t b = after + 1; b < t->n_blocks; b++)
        if (t->blocks[b].kind == kind && b != ancestor && btfm_fif_block_within(t, b, ancestor))
            return b;
    return -1;
}

const fif_tag *btfm_fif_find_tag(const fif_tree *t, int32_t b, int32_t kind)
{
    for (int64_t i = 0; i < t->n_tags; i++)
        if (t->tags[i].block == b && t->tags[i].kind == kind) return &t->tags[i];
    return NULL;
}

void btfm_fif_block_kinds(const fif_tree *t, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int32_t b = 0; b < t->n_blocks; b++) {
        int32_t seen = 0;
        for (int32_t a = 0; a < b && !seen; a++) seen = t->blocks[a].kind == t->blocks[b].kind;
        if (seen) continue;
        int n = snprintf(out + len, cap - len, "%s%d", len ? ", " : "", t->blocks[b].kind);
        if (n < 0 || (size_t)n >= cap - len) {
            if (cap > 4) strcpy(out + cap - 4, "...");
            return;
        }
        len += (size_t)n;
    }
    if (!len) snprintf(out, cap, "none");
}

/* ---- tag data ---- */

static btfm_status expect(const fif_file *f, const fif_tag *tag, int ok, const char *what)
{
    if (ok) return BTFM_OK;
    return btfm_fail(BTFM_E_FORMAT, "fif: %s: tag kind %d at byte %lld has type %u and %d bytes; "
                     "expected %s", name_of(f), tag->kind, (long long)tag->pos, tag->type,
                     tag->size, what);
}

btfm_status btfm_fif_read_ints(const fif_file *f, const fif_tag *tag, int32_t *out, int n)
{
    btfm_status st = expect(f, tag, tag->type == FIFFT_INT && tag->size >= 4 * n,
                            n == 1 ? "an int" : "ints");
    unsigned char b[16];
    if (st || (st = btfm_fif_pread(f, b, (size_t)n * 4, tag->pos + FIFF_TAG_HEADER))) return st;
    for (int i = 0; i < n; i++) out[i] = (int32_t)btfm_fif_be32(b + 4 * i);
    return BTFM_OK;
}

btfm_status btfm_fif_read_int(const fif_file *f, const fif_tag *tag, int32_t *out)
{
    return btfm_fif_read_ints(f, tag, out, 1);
}

static double be_double(const unsigned char *b)
{
    uint64_t u = (uint64_t)btfm_fif_be32(b) << 32 | btfm_fif_be32(b + 4);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static double be_float(const unsigned char *b)
{
    uint32_t u = btfm_fif_be32(b);
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

btfm_status btfm_fif_read_double(const fif_file *f, const fif_tag *tag, double *out)
{
    return btfm_fif_read_floats(f, tag, out, 1);
}

btfm_status btfm_fif_read_floats(const fif_file *f, const fif_tag *tag, double *out, int64_t n)
{
    int is_float = tag->type == FIFFT_FLOAT, is_double = tag->type == FIFFT_DOUBLE;
    int64_t width = is_double ? 8 : 4;
    btfm_status st = expect(f, tag, (is_float || is_double) && tag->size == width * n,
                            n == 1 ? "one float or double" : "a float vector of the expected length");
    if (st) return st;
    unsigned char *b = btfm_malloc((size_t)tag->size + 1);
    if (!b) return btfm_fail_nomem("fif", (size_t)tag->size + 1);
    if (!(st = btfm_fif_pread(f, b, (size_t)tag->size, tag->pos + FIFF_TAG_HEADER)))
        for (int64_t i = 0; i < n; i++) out[i] = is_double ? be_double(b + 8 * i) : be_float(b + 4 * i);
    btfm_free(b);
    return st;
}

btfm_status btfm_fif_read_string(const fif_file *f, const fif_tag *tag, char **out)
{
    btfm_status st = expect(f, tag, tag->type == FIFFT_STRING, "a string");
    if (st) return st;
    char *b = btfm_malloc((size_t)tag->size + 1);
    if (!b) return btfm_fail_nomem("fif", (size_t)tag->size + 1);
    if ((st = btfm_fif_pread(f, b, (size_t)tag->size, tag->pos + FIFF_TAG_HEADER))) {
        btfm_free(b);
        return st;
    }
    size_t len = strnlen(b, (size_t)tag->size); /* writers may pad with NULs */
    *out = btfm_text_to_utf8(b, len); /* FIF strings are Latin-1; MNE writes UTF-8 */
    btfm_free(b);
    return *out ? BTFM_OK : btfm_fail_nomem("fif", 2 * len + 1);
}

btfm_status btfm_fif_matrix_dims(const fif_file *f, const fif_tag *tag, int32_t *rows,
                                 int32_t *cols)
{
    /* Dense matrices: type 0x40000000 | element type; the data end with the dimensions in
     * reverse order, then their count. */
    uint32_t element = tag->type & 0xFFFF, coding = tag->type >> 16;
    int width = element == FIFFT_DOUBLE ? 8 : element == FIFFT_FLOAT || element == FIFFT_INT ? 4 : 0;
    btfm_status st = expect(f, tag, coding == 0x4000 && width && tag->size >= 12,
                            "a dense 2-D matrix of floats, doubles or ints");
    unsigned char b[12];
    if (st || (st = btfm_fif_pread(f, b, 12, tag->pos + FIFF_TAG_HEADER + tag->size - 12))) return st;
    int32_t ndim = (int32_t)btfm_fif_be32(b + 8);
    *cols = (int32_t)btfm_fif_be32(b);
    *rows = (int32_t)btfm_fif_be32(b + 4);
    if (ndim != 2 || *rows < 0 || *cols < 0 ||
        (int64_t)*rows * *cols * width != (int64_t)tag->size - 12)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: matrix tag kind %d at byte %lld: %d dimensions "
                         "(%d x %d) do not match its %d bytes", name_of(f), tag->kind,
                         (long long)tag->pos, ndim, *rows, *cols, tag->size);
    return BTFM_OK;
}
