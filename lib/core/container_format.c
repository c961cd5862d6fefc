/* The container's byte format (doc/container.md): a magic, then chunks of
 * type[4] | length u64 | payload | CRC-32 of type, length and payload; all little-endian.
 * HEAD first, one ARRY per array, TAIL last. Chunk types starting with a lowercase
 * letter are optional and skipped by readers that do not know them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "atomic_file.h"
#include "container_internal.h"
#include "read_file.h"
#include "param.h"
#include <btfm/version.h>

static const unsigned char magic[8] = {0x89, 'B', 'T', 'F', 'M', '\r', '\n', 0x1A};
#define CHUNK_OVERHEAD 16 /* type 4 + length 8 + crc 4 */
#define HEAD_FIXED 18     /* 4 u32 + kind length u16 */
#define ARRY_FIXED 6      /* name length u16 + dtype u8 + ndim u8 + reserved u16 */

/* ---- little-endian encoding ---- */

static void put_u16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint16_t get_u16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get_u32(const unsigned char *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }

/* Array elements are stored little-endian; swap in place on big-endian hosts. */
static void to_little_endian(void *data, size_t nbytes, size_t elem)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    unsigned char *p = data;
    for (size_t i = 0; elem > 1 && i + elem <= nbytes; i += elem)
        for (size_t a = 0, b = elem - 1; a < b; a++, b--) {
            unsigned char t = p[i + a];
            p[i + a] = p[i + b];
            p[i + b] = t;
        }
#else
    (void)data; (void)nbytes; (void)elem;
#endif
}

/* ---- writing ---- */

typedef struct sink {
    FILE *fp;             /* file sink, or */
    unsigned char *buf;   /* memory sink */
    size_t pos;
    uLong crc;
    int failed;
} sink;

static void emit(sink *s, const void *bytes, size_t n)
{
    if (s->failed || n == 0) return;
    const unsigned char *p = bytes;
    for (size_t done = 0; done < n;) { /* crc32 takes uInt lengths */
        uInt part = (uInt)(n - done > 0x40000000u ? 0x40000000u : n - done);
        s->crc = crc32(s->crc, p + done, part);
        done += part;
    }
    if (s->fp) {
        if (fwrite(bytes, 1, n, s->fp) != n) s->failed = errno ? errno : EIO;
    } else {
        memcpy(s->buf + s->pos, bytes, n);
    }
    s->pos += n;
}

static void begin_chunk(sink *s, const char type[4], uint64_t length)
{
    unsigned char h[12];
    memcpy(h, type, 4);
    put_u64(h + 4, length);
    s->crc = crc32(0L, Z_NULL, 0);
    emit(s, h, sizeof h);
}

static void end_chunk(sink *s)
{
    unsigned char c[4];
    put_u32(c, (uint32_t)s->crc);
    emit(s, c, sizeof c);
}

static uint64_t array_payload(const btfm_array *a)
{
    return ARRY_FIXED + strlen(a->name) + 8u * (uint64_t)a->ndim + a->nbytes;
}

static uint64_t serialized_size(const btfm_container *c)
{
    uint64_t n = sizeof magic + CHUNK_OVERHEAD + HEAD_FIXED + strlen(c->kind) + CHUNK_OVERHEAD;
    for (int i = 0; i < c->count; i++) n += CHUNK_OVERHEAD + array_payload(&c->arrays[i]);
    return n;
}

static void serialize(const btfm_container *c, sink *s)
{
    unsigned char h[HEAD_FIXED];
    emit(s, magic, sizeof magic);
    size_t kind_len = strlen(c->kind);
    begin_chunk(s, "HEAD", HEAD_FIXED + kind_len);
    put_u32(h, BTFM_CONTAINER_FORMAT);      /* format version */
    put_u32(h + 4, BTFM_CONTAINER_FORMAT);  /* oldest reader that can read it */
    put_u32(h + 8, btfm_version_number());  /* library that wrote it */
    put_u32(h + 12, (uint32_t)c->count);
    put_u16(h + 16, (uint16_t)kind_len);
    emit(s, h, HEAD_FIXED);
    emit(s, c->kind, kind_len);
    end_chunk(s);
    for (int i = 0; i < c->count; i++) {
        const btfm_array *a = &c->arrays[i];
        size_t name_len = strlen(a->name);
        begin_chunk(s, "ARRY", array_payload(a));
        unsigned char f[ARRY_FIXED + 8 * BTFM_CONTAINER_MAX_NDIM];
        put_u16(f, (uint16_t)name_len);
        emit(s, f, 2);
        emit(s, a->name, name_len);
        f[0] = (unsigned char)a->dtype;
        f[1] = (unsigned char)a->ndim;
        put_u16(f + 2, 0);
        for (int d = 0; d < a->ndim; d++) put_u64(f + 4 + 8 * d, (uint64_t)a->shape[d]);
        emit(s, f, 4 + 8 * (size_t)a->ndim);
        to_little_endian(a->data, a->nbytes, btfm_dtype_size(a->dtype));
        emit(s, a->data, a->nbytes);
        to_little_endian(a->data, a->nbytes, btfm_dtype_size(a->dtype)); /* back to native */
        end_chunk(s);
    }
    begin_chunk(s, "TAIL", 0);
    end_chunk(s);
}

btfm_status btfm_container_serialized_size(const btfm_container *c, size_t *size)
{
    BTFM_CHECK_ARG(c, "btfm_container_serialized_size", "container");
    BTFM_CHECK_ARG(size, "btfm_container_serialized_size", "size");
    uint64_t n = serialized_size(c);
    if (n > SIZE_MAX)
        return btfm_fail(BTFM_E_RANGE, "btfm_container_serialized_size: %llu bytes do not fit "
                         "in memory", (unsigned long long)n);
    *size = (size_t)n;
    return BTFM_OK;
}

btfm_status btfm_container_save_buffer(const btfm_container *c, void *buffer, size_t capacity,
                                       size_t *written)
{
    size_t need;
    BTFM_CHECK_ARG(written, "btfm_container_save_buffer", "written");
    btfm_status st = btfm_container_serialized_size(c, &need);
    if (st) return st;
    *written = need;
    if (!buffer) return BTFM_OK; /* a size query */
    if (capacity < need)
        return btfm_fail(BTFM_E_RANGE, "btfm_container_save_buffer: container \"%s\" needs %zu "
                         "bytes, the buffer has %zu", c->kind, need, capacity);
    sink s = {.buf = buffer};
    serialize(c, &s);
    return BTFM_OK;
}

btfm_status btfm_container_save(const btfm_container *c, const char *path)
{
    BTFM_CHECK_ARG(c, "btfm_container_save", "container");
    BTFM_CHECK_ARG(path, "btfm_container_save", "path");
    btfm_atomic_file af;
    btfm_status st = btfm_atomic_open(&af, path, c->params[BTFM_CONTAINER_PARAM_FSYNC] != 0);
    if (st) return st;
    sink s = {.fp = af.fp};
    serialize(c, &s);
    if (s.failed) {
        btfm_atomic_abort(&af);
        return btfm_fail(BTFM_E_IO, "btfm_container_save: %s: write failed after %zu bytes: %s; "
                         "the file was left as it was", path, s.pos, strerror(s.failed));
    }
    return btfm_atomic_commit(&af);
}

/* ---- reading ---- */

typedef struct source {
    const unsigned char *p;
    size_t size;
    const char *name;     /* path or "buffer", for messages */
} source;

static btfm_status parse_head(btfm_container **out, const source *src, size_t at,
                              const unsigned char *pay, uint64_t len, uint32_t *n_arrays,
                              const char *expected_kind)
{
    if (len < HEAD_FIXED)
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: HEAD chunk of %llu bytes, "
                         "expected at least %d", src->name, at, (unsigned long long)len, HEAD_FIXED);
    uint32_t version = get_u32(pay), min_reader = get_u32(pay + 4);
    if (min_reader > BTFM_CONTAINER_FORMAT)
        return btfm_fail(BTFM_E_VERSION, "container: %s: byte %zu: format version %u needs a "
                         "reader of version %u or later; this library (%s) reads up to "
                         "version %d", src->name, at + 12, version, min_reader, btfm_version_string(),
                         BTFM_CONTAINER_FORMAT);
    if (version < 1 || min_reader < 1 || min_reader > version)
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: impossible format version %u "
                         "(oldest reader %u)", src->name, at + 12, version, min_reader);
    *n_arrays = get_u32(pay + 12);
    size_t kind_len = get_u16(pay + 16);
    if (kind_len != len - HEAD_FIXED)
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: kind of %zu bytes in a HEAD "
                         "chunk with room for %llu", src->name, at + 12 + 16, kind_len,
                         (unsigned long long)(len - HEAD_FIXED));
    const char *kind = (const char *)pay + HEAD_FIXED;
    btfm_status st = btfm_container_check_name("container", "kind", kind, kind_len);
    if (st) return st;
    if (expected_kind && (strlen(expected_kind) != kind_len ||
                          memcmp(expected_kind, kind, kind_len) != 0))
        return btfm_fail(BTFM_E_KIND, "container: %s holds a \"%.*s\", expected a \"%s\"",
                         src->name, (int)kind_len, kind, expected_kind);
    char name[BTFM_CONTAINER_MAX_NAME + 1];
    memcpy(name, kind, kind_len);
    name[kind_len] = '\0';
    return btfm_container_new(out, name);
}

static btfm_status parse_array(btfm_container *c, const source *src, size_t at,
                               const unsigned char *pay, uint64_t len, uint32_t index)
{
    size_t body = at + 12; /* payload offset, for messages */
    if (len < 2) goto short_chunk;
    size_t name_len = get_u16(pay);
    if (len < 2 + name_len + 4) goto short_chunk;
    const unsigned char *f = pay + 2 + name_len;
    int dtype = f[0], ndim = f[1];
    if (btfm_dtype_size(dtype) == 0)
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: array %u has dtype %d, "
                         "expected 1 to 6", src->name, body + 2 + name_len, index, dtype);
    if (ndim > BTFM_CONTAINER_MAX_NDIM || get_u16(f + 2) != 0)
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: array %u has ndim %d and "
                         "reserved field %u, expected ndim <= %d and 0", src->name,
                         body + 3 + name_len, index, ndim, get_u16(f + 2), BTFM_CONTAINER_MAX_NDIM);
    uint64_t head = 2 + name_len + 4 + 8u * (uint64_t)ndim;
    if (len < head) goto short_chunk;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    for (int d = 0; d < ndim; d++) {
        uint64_t v = get_u64(f + 4 + 8 * d);
        if (v > INT64_MAX)
            return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: array %u extent %d is "
                             "negative", src->name, body + 2 + name_len + 4 + 8 * (size_t)d,
                             index, d);
        shape[d] = (int64_t)v;
    }
    size_t count, nbytes;
    if (btfm_shape_elements(ndim, shape, &count) ||
        btfm_mul_size(count, btfm_dtype_size(dtype), &nbytes) || nbytes != len - head)
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: array %u (\"%.*s\") declares "
                         "a shape whose data does not match the %llu data bytes of its chunk",
                         src->name, body, index, (int)name_len, (const char *)pay + 2,
                         (unsigned long long)(len - head));
    const unsigned char *data = pay + head;
    if (dtype == BTFM_DTYPE_UTF8 && !btfm_utf8_valid((const char *)data, nbytes))
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: text \"%.*s\" is not valid "
                         "UTF-8", src->name, body + (size_t)head, (int)name_len, (const char *)pay + 2);
    btfm_array *a;
    btfm_status st = btfm_container_append(c, "container", (const char *)pay + 2, name_len,
                                           dtype, ndim, shape, data, &a);
    if (st == BTFM_E_STATE || st == BTFM_E_INVALID) { /* a duplicate or invalid name */
        char why[512];
        snprintf(why, sizeof why, "%s", btfm_last_error());
        return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: array %u: %s", src->name,
                         body, index, why);
    }
    if (st) return st;
    to_little_endian(a->data, a->nbytes, btfm_dtype_size(dtype));
    return BTFM_OK;
short_chunk:
    return btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: ARRY chunk %u of %llu bytes is "
                     "too short for its own header", src->name, at, index, (unsigned long long)len);
}

static btfm_status parse(btfm_container **out, const source *src, const char *expected_kind)
{
    *out = NULL;
    if (src->size < sizeof magic || memcmp(src->p, magic, sizeof magic) != 0)
        return btfm_fail(src->size < sizeof magic && memcmp(src->p, magic, src->size) == 0
                             ? BTFM_E_TRUNCATED : BTFM_E_FORMAT,
                         "container: %s: not a libbtfm container (the first 8 bytes are not "
                         "the container magic \\x89BTFM\\r\\n\\x1a)", src->name);
    btfm_container *c = NULL;
    btfm_status st = BTFM_OK;
    uint32_t n_arrays = 0, seen_arrays = 0;
    size_t at = sizeof magic;
    for (;;) {
        if (src->size - at < CHUNK_OVERHEAD) {
            st = btfm_fail(BTFM_E_TRUNCATED, "container: %s: byte %zu: the data ends %s; "
                           "expected a chunk of at least %d bytes", src->name, at,
                           c ? "before the TAIL chunk" : "before the HEAD chunk", CHUNK_OVERHEAD);
            break;
        }
        const unsigned char *h = src->p + at;
        char type[5] = {(char)h[0], (char)h[1], (char)h[2], (char)h[3], 0};
        uint64_t len = get_u64(h + 4);
        if (len > src->size - at - CHUNK_OVERHEAD) {
            st = btfm_fail(BTFM_E_TRUNCATED, "container: %s: byte %zu: chunk declares %llu "
                           "bytes but only %zu remain", src->name, at, (unsigned long long)len,
                           src->size - at - CHUNK_OVERHEAD);
            break;
        }
        uLong crc = crc32(crc32(0L, Z_NULL, 0), h, 12);
        for (uint64_t done = 0; done < len;) {
            uInt part = (uInt)(len - done > 0x40000000u ? 0x40000000u : len - done);
            crc = crc32(crc, h + 12 + done, part);
            done += part;
        }
        uint32_t stored = get_u32(h + 12 + len);
        if ((uint32_t)crc != stored) {
            st = btfm_fail(BTFM_E_CHECKSUM, "container: %s: byte %zu: chunk of %llu bytes fails "
                           "its CRC-32 (stored 0x%08x, computed 0x%08x): the data is corrupt",
                           src->name, at, (unsigned long long)len, stored, (uint32_t)crc);
            break;
        }
        const unsigned char *pay = h + 12;
        if (!c && memcmp(type, "HEAD", 4) != 0) {
            st = btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: first chunk is \"%s\", "
                           "expected HEAD", src->name, at, type);
            break;
        }
        if (memcmp(type, "HEAD", 4) == 0) {
            if (c) {
                st = btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: a second HEAD chunk",
                               src->name, at);
                break;
            }
            st = parse_head(&c, src, at, pay, len, &n_arrays, expected_kind);
        } else if (memcmp(type, "ARRY", 4) == 0) {
            if (seen_arrays == n_arrays)
                st = btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: more ARRY chunks than "
                               "the %u the HEAD declares", src->name, at, n_arrays);
            else
                st = parse_array(c, src, at, pay, len, seen_arrays++);
        } else if (memcmp(type, "TAIL", 4) == 0) {
            size_t end = at + CHUNK_OVERHEAD + (size_t)len;
            if (len != 0 || seen_arrays != n_arrays || end != src->size)
                st = btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: TAIL chunk after %u of "
                               "%u arrays, with %llu payload bytes and %zu bytes after it; "
                               "expected all arrays, 0 and 0", src->name, at, seen_arrays,
                               n_arrays, (unsigned long long)len, src->size - end);
            break;
        } else if (type[0] >= 'a' && type[0] <= 'z') {
            btfm_log(BTFM_LOG_DEBUG, "container: %s: byte %zu: skipping optional chunk \"%s\"",
                     src->name, at, type);
        } else {
            st = btfm_fail(BTFM_E_FORMAT, "container: %s: byte %zu: unknown required chunk "
                           "type \"%s\"", src->name, at, type);
        }
        if (st) break;
        at += CHUNK_OVERHEAD + (size_t)len;
    }
    if (st) {
        btfm_container_free(c);
        return st;
    }
    *out = c;
    return BTFM_OK;
}

btfm_status btfm_container_load_buffer(btfm_container **out, const void *buffer, size_t size,
                                       const char *expected_kind)
{
    BTFM_CHECK_ARG(out, "btfm_container_load_buffer", "out");
    *out = NULL;
    if (size) BTFM_CHECK_ARG(buffer, "btfm_container_load_buffer", "buffer");
    source src = {buffer, size, "buffer"};
    return parse(out, &src, expected_kind);
}

btfm_status btfm_container_load(btfm_container **out, const char *path,
                                const char *expected_kind)
{
    BTFM_CHECK_ARG(out, "btfm_container_load", "out");
    *out = NULL;
    BTFM_CHECK_ARG(path, "btfm_container_load", "path");
    char *bytes;
    size_t size;
    btfm_status st = btfm_read_file(path, "btfm_container_load", SIZE_MAX - 1, &bytes, &size);
    if (st) return st;
    source src = {(const unsigned char *)bytes, size, path};
    st = parse(out, &src, expected_kind);
    btfm_free(bytes);
    return st;
}
