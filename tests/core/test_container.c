/* The model-file container: checked byte for byte against an encoder written here from
 * doc/container.md with its own bitwise CRC-32, round trips of every dtype, detection of
 * every corrupted byte and every truncation, and atomic saves that never half-write. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"

/* ---- a reference encoder, independent of the library (bitwise CRC, no zlib) ---- */

static uint32_t ref_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

typedef struct { unsigned char *p; size_t n, cap; } bytes;

static void add(bytes *b, const void *src, size_t n)
{
    if (n == 0) return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void add_le(bytes *b, uint64_t v, int width)
{
    unsigned char t[8];
    for (int i = 0; i < width; i++) t[i] = (unsigned char)(v >> (8 * i));
    add(b, t, (size_t)width);
}

static void add_chunk(bytes *b, const char *type, const bytes *payload)
{
    size_t start = b->n;
    add(b, type, 4);
    add_le(b, payload->n, 8);
    add(b, payload->p, payload->n);
    add_le(b, ref_crc32(0, b->p + start, b->n - start), 4);
}

static void add_magic(bytes *b) { add(b, "\x89" "BTFM\r\n\x1a", 8); }

static void head_payload(bytes *h, uint32_t version, uint32_t min_reader, uint32_t n_arrays,
                         const char *kind)
{
    add_le(h, version, 4);
    add_le(h, min_reader, 4);
    add_le(h, BTFM_VERSION_NUMBER, 4);
    add_le(h, n_arrays, 4);
    add_le(h, strlen(kind), 2);
    add(h, kind, strlen(kind));
}

static void array_payload(bytes *a, const char *name, int dtype, int ndim,
                          const int64_t *shape, const void *data, size_t nbytes)
{
    add_le(a, strlen(name), 2);
    add(a, name, strlen(name));
    unsigned char f[4] = {(unsigned char)dtype, (unsigned char)ndim, 0, 0};
    add(a, f, 4);
    for (int d = 0; d < ndim; d++) add_le(a, (uint64_t)shape[d], 8);
    add(a, data, nbytes); /* this host is little-endian (checked below) */
}

/* ---- fixtures ---- */

static const float weights[6] = {0.5f, -1.25f, 2.0f, 0.0f, 3.5f, -0.75f};
static const int64_t weights_shape[2] = {2, 3};
static const int64_t ids[3] = {-1, 0, INT64_MAX};
static const int64_t ids_shape[1] = {3};
static const char note[] = "h\xc3\xa9 \xe2\x9c\x93"; /* "hé ✓" */

static btfm_container *make_demo(void)
{
    btfm_container *c = NULL;
    ck_assert_ok(btfm_container_new(&c, "demo"));
    ck_assert_ok(btfm_container_put(c, "w", BTFM_DTYPE_F32, 2, weights_shape, weights));
    ck_assert_ok(btfm_container_put(c, "ids", BTFM_DTYPE_I64, 1, ids_shape, ids));
    ck_assert_ok(btfm_container_put_text(c, "note", note));
    return c;
}

static bytes reference_demo(void)
{
    bytes out = {0}, h = {0}, a = {0}, empty = {0};
    add_magic(&out);
    head_payload(&h, 1, 1, 3, "demo");
    add_chunk(&out, "HEAD", &h);
    array_payload(&a, "w", BTFM_DTYPE_F32, 2, weights_shape, weights, sizeof weights);
    add_chunk(&out, "ARRY", &a);
    a.n = 0;
    array_payload(&a, "ids", BTFM_DTYPE_I64, 1, ids_shape, ids, sizeof ids);
    add_chunk(&out, "ARRY", &a);
    a.n = 0;
    int64_t len = (int64_t)strlen(note);
    array_payload(&a, "note", BTFM_DTYPE_UTF8, 1, &len, note, strlen(note));
    add_chunk(&out, "ARRY", &a);
    add_chunk(&out, "TAIL", &empty);
    free(h.p);
    free(a.p);
    return out;
}

static unsigned char *serialize(const btfm_container *c, size_t *n)
{
    ck_assert_ok(btfm_container_save_buffer(c, NULL, 0, n));
    unsigned char *buf = malloc(*n);
    size_t written = 0;
    ck_assert_ok(btfm_container_save_buffer(c, buf, *n, &written));
    ck_assert_uint_eq(written, *n);
    return buf;
}

static void assert_demo(const btfm_container *c)
{
    ck_assert_str_eq(btfm_container_kind(c), "demo");
    ck_assert_int_eq(btfm_container_count(c), 3);
    float w[6];
    int64_t got_ids[3];
    char text[32];
    size_t len = 0;
    ck_assert_ok(btfm_container_get(c, "w", BTFM_DTYPE_F32, 6, w));
    ck_assert_mem_eq(w, weights, sizeof w);
    ck_assert_ok(btfm_container_get(c, "ids", BTFM_DTYPE_I64, 3, got_ids));
    ck_assert_mem_eq(got_ids, ids, sizeof ids);
    ck_assert_ok(btfm_container_get_text(c, "note", text, sizeof text, &len));
    ck_assert_str_eq(text, note);
    ck_assert_uint_eq(len, strlen(note));
    const char *name;
    int dtype, ndim;
    int64_t shape[8];
    ck_assert_ok(btfm_container_array_info(c, 0, &name, &dtype, &ndim, shape));
    ck_assert_str_eq(name, "w");
    ck_assert_int_eq(dtype, BTFM_DTYPE_F32);
    ck_assert_int_eq(ndim, 2);
    ck_assert_int_eq(shape[0], 2);
    ck_assert_int_eq(shape[1], 3);
}

/* ---- the format ---- */

START_TEST(reference_crc_is_crc32)
{
    ck_assert_uint_eq(ref_crc32(0, (const unsigned char *)"123456789", 9), 0xCBF43926u);
    const uint16_t one = 1;
    ck_assert_msg(*(const unsigned char *)&one == 1, "the reference encoder assumes little-endian");
}
END_TEST

START_TEST(bytes_match_the_specification)
{
    btfm_container *c = make_demo();
    size_t n;
    unsigned char *buf = serialize(c, &n);
    bytes ref = reference_demo();
    ck_assert_uint_eq(n, ref.n);
    ck_assert_mem_eq(buf, ref.p, n);
    size_t size = 0;
    ck_assert_ok(btfm_container_serialized_size(c, &size));
    ck_assert_uint_eq(size, n);
    btfm_container *back = NULL;
    ck_assert_ok(btfm_container_load_buffer(&back, ref.p, ref.n, "demo"));
    assert_demo(back);
    btfm_container_free(back);
    btfm_container_free(c);
    free(buf);
    free(ref.p);
}
END_TEST

START_TEST(round_trip_every_dtype_and_shape)
{
    btfm_container *c = NULL, *back = NULL;
    ck_assert_ok(btfm_container_new(&c, "all"));
    uint8_t u8[5] = {0, 1, 127, 128, 255};
    int32_t i32[4] = {INT32_MIN, -1, 0, INT32_MAX};
    double f64[3] = {-0.0, NAN, INFINITY};
    float scalar = 3.25f;
    int64_t s5[1] = {5}, s4[1] = {4}, s3[1] = {3}, s0[1] = {0}, s8[8] = {1, 1, 2, 1, 1, 1, 1, 2};
    double d8[4] = {1, 2, 3, 4};
    ck_assert_ok(btfm_container_put(c, "u8", BTFM_DTYPE_U8, 1, s5, u8));
    ck_assert_ok(btfm_container_put(c, "i32", BTFM_DTYPE_I32, 1, s4, i32));
    ck_assert_ok(btfm_container_put(c, "f64", BTFM_DTYPE_F64, 1, s3, f64));
    ck_assert_ok(btfm_container_put(c, "scalar", BTFM_DTYPE_F32, 0, NULL, &scalar));
    ck_assert_ok(btfm_container_put(c, "empty", BTFM_DTYPE_F32, 1, s0, NULL));
    ck_assert_ok(btfm_container_put(c, "eight_dims", BTFM_DTYPE_F64, 8, s8, d8));
    ck_assert_ok(btfm_container_put_text(c, "empty_text", ""));
    char path[] = "/tmp/btfm-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(path));
    char file[64];
    snprintf(file, sizeof file, "%s/model.btfm", path);
    ck_assert_ok(btfm_container_save(c, file));
    ck_assert_ok(btfm_container_load(&back, file, NULL));
    ck_assert_int_eq(btfm_container_count(back), 7);
    for (int i = 0; i < 7; i++) {
        const void *a, *b;
        size_t na, nb;
        const char *name;
        int dt1, dt2, nd1, nd2;
        int64_t sh1[8], sh2[8];
        ck_assert_ok(btfm_container_array_info(c, i, &name, &dt1, &nd1, sh1));
        ck_assert_ok(btfm_container_array_info(back, i, NULL, &dt2, &nd2, sh2));
        ck_assert_int_eq(dt1, dt2);
        ck_assert_int_eq(nd1, nd2);
        ck_assert_mem_eq(sh1, sh2, sizeof(int64_t) * (size_t)nd1);
        ck_assert_ok(btfm_container_array_data(c, i, &a, &na));
        ck_assert_ok(btfm_container_array_data(back, i, &b, &nb));
        ck_assert_uint_eq(na, nb);
        if (na) ck_assert_mem_eq(a, b, na); /* bit-exact, NaN and -0.0 included */
        ck_assert_uint_eq((uintptr_t)b % 64, 0);
    }
    size_t len = 99;
    char one[1];
    ck_assert_ok(btfm_container_get_text(back, "empty_text", one, 1, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(one, "");
    btfm_container_free(back);
    btfm_container_free(c);
    unlink(file);
    rmdir(path);
}
END_TEST

START_TEST(every_corrupted_byte_is_detected)
{
    btfm_container *c = make_demo();
    size_t n;
    unsigned char *buf = serialize(c, &n);
    const unsigned char masks[3] = {0x01, 0x80, 0xFF};
    for (size_t i = 0; i < n; i++)
        for (int m = 0; m < 3; m++) {
            buf[i] ^= masks[m];
            btfm_container *back = NULL;
            int st = btfm_container_load_buffer(&back, buf, n, NULL);
            ck_assert_msg(st != BTFM_OK, "byte %zu ^ 0x%02x was not detected", i, masks[m]);
            ck_assert_msg(st == BTFM_E_FORMAT || st == BTFM_E_CHECKSUM || st == BTFM_E_TRUNCATED,
                          "byte %zu: unexpected %s: %s", i, btfm_status_name(st), btfm_last_error());
            ck_assert_ptr_null(back);
            ck_assert_ptr_nonnull(strstr(btfm_last_error(), "buffer"));
            buf[i] ^= masks[m];
        }
    btfm_container_free(c);
    free(buf);
}
END_TEST

START_TEST(every_truncation_is_detected)
{
    btfm_container *c = make_demo();
    size_t n;
    unsigned char *buf = serialize(c, &n);
    for (size_t len = 0; len < n; len++) {
        unsigned char *copy = malloc(len ? len : 1); /* so a reader overrun is caught by ASan */
        memcpy(copy, buf, len);
        btfm_container *back = NULL;
        int st = btfm_container_load_buffer(&back, copy, len, NULL);
        ck_assert_msg(st == BTFM_E_TRUNCATED, "length %zu of %zu: %s: %s", len, n,
                      btfm_status_name(st), btfm_last_error());
        ck_assert_ptr_null(back);
        free(copy);
    }
    /* Trailing bytes after the end chunk are refused too. */
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, buf, n);
    longer[n] = 0;
    btfm_container *back = NULL;
    ck_assert_status(btfm_container_load_buffer(&back, longer, n + 1, NULL), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "1 bytes after it"));
    free(longer);
    btfm_container_free(c);
    free(buf);
}
END_TEST

START_TEST(newer_versions_and_optional_chunks)
{
    bytes empty = {0};
    float v = 1.5f;
    /* A version-2 file that needs a version-2 reader is refused with the versions named. */
    bytes f = {0}, h = {0}, a = {0};
    add_magic(&f);
    head_payload(&h, 2, 2, 0, "x");
    add_chunk(&f, "HEAD", &h);
    add_chunk(&f, "TAIL", &empty);
    btfm_container *c = NULL;
    ck_assert_status(btfm_container_load_buffer(&c, f.p, f.n, NULL), BTFM_E_VERSION);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "format version 2 needs a reader of version 2"));
    /* A version-2 file readable by version 1, with an optional chunk, loads. */
    f.n = h.n = 0;
    add_magic(&f);
    head_payload(&h, 2, 1, 1, "x");
    add_chunk(&f, "HEAD", &h);
    bytes meta = {0};
    add(&meta, "anything", 8);
    add_chunk(&f, "meta", &meta);
    array_payload(&a, "v", BTFM_DTYPE_F32, 0, NULL, &v, sizeof v);
    add_chunk(&f, "ARRY", &a);
    add_chunk(&f, "TAIL", &empty);
    ck_assert_ok(btfm_container_load_buffer(&c, f.p, f.n, "x"));
    float got = 0;
    ck_assert_ok(btfm_container_get(c, "v", BTFM_DTYPE_F32, 1, &got));
    ck_assert_float_eq(got, 1.5f);
    btfm_container_free(c);
    /* An unknown required chunk is refused. */
    f.n = h.n = 0;
    add_magic(&f);
    head_payload(&h, 1, 1, 0, "x");
    add_chunk(&f, "HEAD", &h);
    add_chunk(&f, "ZZZZ", &meta);
    add_chunk(&f, "TAIL", &empty);
    ck_assert_status(btfm_container_load_buffer(&c, f.p, f.n, NULL), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "unknown required chunk type \"ZZZZ\""));
    /* Two arrays of the same name are refused. */
    f.n = h.n = 0;
    add_magic(&f);
    head_payload(&h, 1, 1, 2, "x");
    add_chunk(&f, "HEAD", &h);
    add_chunk(&f, "ARRY", &a);
    add_chunk(&f, "ARRY", &a);
    add_chunk(&f, "TAIL", &empty);
    ck_assert_status(btfm_container_load_buffer(&c, f.p, f.n, NULL), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "already has an array \"v\""));
    /* A shape that disagrees with the data size is refused before any allocation. */
    f.n = h.n = a.n = 0;
    add_magic(&f);
    head_payload(&h, 1, 1, 1, "x");
    add_chunk(&f, "HEAD", &h);
    int64_t huge[2] = {INT64_MAX / 2, 4};
    array_payload(&a, "v", BTFM_DTYPE_F32, 2, huge, &v, sizeof v);
    add_chunk(&f, "ARRY", &a);
    add_chunk(&f, "TAIL", &empty);
    ck_assert_status(btfm_container_load_buffer(&c, f.p, f.n, NULL), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "does not match"));
    free(f.p);
    free(h.p);
    free(a.p);
    free(meta.p);
}
END_TEST

START_TEST(wrong_kind_is_refused)
{
    btfm_container *c = make_demo(), *back = NULL;
    size_t n;
    unsigned char *buf = serialize(c, &n);
    ck_assert_status(btfm_container_load_buffer(&back, buf, n, "aligner"), BTFM_E_KIND);
    ck_assert_str_eq(btfm_last_error(), "container: buffer holds a \"demo\", expected a \"aligner\"");
    ck_assert_ptr_null(back);
    ck_assert_status(btfm_container_load_buffer(&back, buf, n, "dem"), BTFM_E_KIND);
    ck_assert_ok(btfm_container_load_buffer(&back, buf, n, NULL));
    btfm_container_free(back);
    btfm_container_free(c);
    free(buf);
}
END_TEST

START_TEST(bad_arguments_get_named_errors)
{
    btfm_container *c = NULL;
    float x[2] = {1, 2};
    int64_t s2[1] = {2}, neg[1] = {-1}, big[2] = {INT64_MAX, INT64_MAX};
    ck_assert_status(btfm_container_new(NULL, "k"), BTFM_E_INVALID);
    ck_assert_status(btfm_container_new(&c, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_container_new(&c, ""), BTFM_E_INVALID);
    ck_assert_status(btfm_container_new(&c, "bad\xff"), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "not valid UTF-8"));
    ck_assert_ok(btfm_container_new(&c, "k"));
    ck_assert_status(btfm_container_put(NULL, "a", BTFM_DTYPE_F32, 1, s2, x), BTFM_E_INVALID);
    ck_assert_str_eq(btfm_last_error(), "btfm_container_put: container is NULL");
    ck_assert_status(btfm_container_put(c, NULL, BTFM_DTYPE_F32, 1, s2, x), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "a", BTFM_DTYPE_F32, 1, s2, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "a", BTFM_DTYPE_F32, 1, NULL, x), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "a", 0, 1, s2, x), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "unknown dtype 0"));
    ck_assert_status(btfm_container_put(c, "a", 99, 1, s2, x), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "a", BTFM_DTYPE_F32, 9, s2, x), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "a", BTFM_DTYPE_F32, -1, s2, x), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "a", BTFM_DTYPE_F32, 1, neg, x), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "a", BTFM_DTYPE_F32, 2, big, x), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put(c, "", BTFM_DTYPE_F32, 1, s2, x), BTFM_E_INVALID);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[299] = '\0';
    ck_assert_status(btfm_container_put(c, longname, BTFM_DTYPE_F32, 1, s2, x), BTFM_E_INVALID);
    int64_t s1x2[2] = {1, 2};
    ck_assert_status(btfm_container_put(c, "t", BTFM_DTYPE_UTF8, 2, s1x2, "ab"), BTFM_E_INVALID);
    ck_assert_status(btfm_container_put_text(c, "t", "\xc0\xaf"), BTFM_E_INVALID); /* overlong */
    ck_assert_status(btfm_container_put_text(c, "t", "\xed\xa0\x80"), BTFM_E_INVALID); /* surrogate */
    ck_assert_status(btfm_container_put_text(c, "t", NULL), BTFM_E_INVALID);
    ck_assert_int_eq(btfm_container_count(c), 0); /* nothing half-added */
    ck_assert_ok(btfm_container_put(c, "a", BTFM_DTYPE_F32, 1, s2, x));
    ck_assert_status(btfm_container_put(c, "a", BTFM_DTYPE_F32, 1, s2, x), BTFM_E_STATE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "already has an array \"a\""));
    float out[2];
    double dout[2];
    ck_assert_status(btfm_container_get(c, "a", BTFM_DTYPE_F64, 2, dout), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "holds f32, expected f64"));
    ck_assert_status(btfm_container_get(c, "a", BTFM_DTYPE_F32, 3, out), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "has 2 elements, expected 3"));
    ck_assert_status(btfm_container_get(c, "b", BTFM_DTYPE_F32, 2, out), BTFM_E_NOTFOUND);
    ck_assert_status(btfm_container_get(c, "a", BTFM_DTYPE_F32, 2, NULL), BTFM_E_INVALID);
    int idx;
    ck_assert_status(btfm_container_find(c, "zz", &idx), BTFM_E_NOTFOUND);
    ck_assert_ok(btfm_container_find(c, "a", &idx));
    ck_assert_int_eq(idx, 0);
    ck_assert_status(btfm_container_array_info(c, 1, NULL, NULL, NULL, NULL), BTFM_E_RANGE);
    ck_assert_status(btfm_container_array_info(c, -1, NULL, NULL, NULL, NULL), BTFM_E_RANGE);
    ck_assert_status(btfm_container_array_data(NULL, 0, NULL, NULL), BTFM_E_INVALID);
    ck_assert_ok(btfm_container_put_text(c, "t", "hello"));
    char small[5];
    size_t len = 0;
    ck_assert_status(btfm_container_get_text(c, "t", small, sizeof small, &len), BTFM_E_RANGE);
    ck_assert_uint_eq(len, 5);
    ck_assert_status(btfm_container_get_text(c, "a", small, sizeof small, &len), BTFM_E_FORMAT);
    ck_assert_int_eq(btfm_container_count(NULL), BTFM_E_INVALID);
    ck_assert_ptr_null(btfm_container_kind(NULL));
    size_t n = 0;
    unsigned char tiny[8];
    ck_assert_status(btfm_container_save_buffer(c, tiny, sizeof tiny, &n), BTFM_E_RANGE);
    ck_assert_uint_gt(n, sizeof tiny);
    ck_assert_status(btfm_container_save_buffer(c, tiny, sizeof tiny, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_container_save(c, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_container_save(c, "/nonexistent-folder/x.btfm"), BTFM_E_IO);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "/nonexistent-folder/x.btfm"));
    btfm_container *back = (btfm_container *)&n;
    ck_assert_status(btfm_container_load(&back, "/nonexistent-folder/x.btfm", NULL), BTFM_E_NOTFOUND);
    ck_assert_ptr_null(back);
    ck_assert_status(btfm_container_load(&back, "/tmp", NULL), BTFM_E_IO);
    ck_assert_status(btfm_container_load_buffer(&back, NULL, 10, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_container_load_buffer(&back, "", 0, NULL), BTFM_E_TRUNCATED);
    ck_assert_status(btfm_container_load_buffer(&back, "PK\x03\x04zipzipzip", 12, NULL), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "not a libbtfm container"));
    ck_assert_status(btfm_container_load(NULL, "x", NULL), BTFM_E_INVALID);
    btfm_container_free(NULL);
    btfm_container_free(c);
    ck_assert_int_eq(btfm_live_allocations(), 0);
}
END_TEST

/* ---- atomic saves ---- */

static btfm_container *make_big(float fill, size_t n_floats)
{
    btfm_container *c = NULL;
    float *data = malloc(n_floats * sizeof *data);
    for (size_t i = 0; i < n_floats; i++) data[i] = fill;
    int64_t shape[1] = {(int64_t)n_floats};
    ck_assert_ok(btfm_container_new(&c, "big"));
    ck_assert_ok(btfm_container_set_param(c, BTFM_CONTAINER_PARAM_FSYNC, 0));
    ck_assert_ok(btfm_container_put(c, "data", BTFM_DTYPE_F32, 1, shape, data));
    free(data);
    return c;
}

/* The fill value of a saved big container; every element must agree. */
static float loaded_fill(const char *path, size_t n_floats)
{
    btfm_container *c = NULL;
    ck_assert_msg(btfm_container_load(&c, path, "big") == BTFM_OK, "%s", btfm_last_error());
    const void *p;
    size_t nbytes;
    ck_assert_ok(btfm_container_array_data(c, 0, &p, &nbytes));
    ck_assert_uint_eq(nbytes, n_floats * sizeof(float));
    const float *f = p;
    ck_assert_all(i, n_floats, f[i] == f[0], "element %lld is %g, element 0 %g", (long long)i,
                  (double)f[i], (double)f[0]);
    float fill = f[0];
    btfm_container_free(c);
    return fill;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

START_TEST(failed_save_leaves_old_file_intact)
{
    char dir[] = "/tmp/btfm-atomic-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.btfm", dir);
    const size_t n = 1 << 16;
    btfm_container *old = make_big(1.0f, n), *fresh = make_big(2.0f, n);
    ck_assert_ok(btfm_container_save(old, path));
    /* Make every write past 4 KiB fail (EFBIG), as a full disk would. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit saved, limit;
    getrlimit(RLIMIT_FSIZE, &saved);
    limit = saved;
    limit.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &limit);
    ck_assert_status(btfm_container_save(fresh, path), BTFM_E_IO);
    setrlimit(RLIMIT_FSIZE, &saved);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "the file was left as it was"));
    ck_assert_float_eq(loaded_fill(path, n), 1.0f);
    ck_assert_int_eq(count_entries(dir), 1); /* no temporary file left behind */
    btfm_container_free(old);
    btfm_container_free(fresh);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(killed_save_never_leaves_a_half_written_file)
{
    if (getenv("BTFM_UNDER_VALGRIND")) return; /* fork + kill timing is meaningless there */
    char dir[] = "/tmp/btfm-kill-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.btfm", dir);
    const size_t n = 1 << 21; /* 8 MiB of floats: a save takes a few milliseconds */
    btfm_container *first = make_big(0.0f, n);
    ck_assert_ok(btfm_container_save(first, path));
    btfm_container_free(first);
    for (int round = 0; round < 6; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int k = 1;; k++) {
                btfm_container *c = make_big((float)k, n);
                btfm_container_save(c, path);
                btfm_container_free(c);
            }
        }
        usleep(5000 + 7000 * (useconds_t)round);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        /* Whatever the moment of the kill, the file is one complete save. */
        float fill = loaded_fill(path, n);
        ck_assert_float_eq(fill, floorf(fill));
    }
    /* Killed saves may leave their temporary file, never a damaged target. */
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strstr(e->d_name, ".tmp-")) {
            char tmp[600];
            snprintf(tmp, sizeof tmp, "%s/%s", dir, e->d_name);
            unlink(tmp);
        }
    closedir(d);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(save_keeps_the_mode_of_a_replaced_file)
{
    char dir[] = "/tmp/btfm-mode-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.btfm", dir);
    btfm_container *c = make_demo();
    ck_assert_ok(btfm_container_save(c, path));
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_ok(btfm_container_save(c, path));
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0640);
    btfm_container *back = NULL;
    ck_assert_ok(btfm_container_load(&back, path, "demo"));
    assert_demo(back);
    btfm_container_free(back);
    btfm_container_free(c);
    unlink(path);
    rmdir(dir);
}
END_TEST

static Suite *container_suite(void)
{
    Suite *s = suite_create("container");
    TCase *format = tcase_create("format");
    unit_set_timeout(format, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(format, reference_crc_is_crc32);
    tcase_add_test(format, bytes_match_the_specification);
    tcase_add_test(format, round_trip_every_dtype_and_shape);
    tcase_add_test(format, every_corrupted_byte_is_detected);
    tcase_add_test(format, every_truncation_is_detected);
    tcase_add_test(format, newer_versions_and_optional_chunks);
    tcase_add_test(format, wrong_kind_is_refused);
    tcase_add_test(format, bad_arguments_get_named_errors);
    suite_add_tcase(s, format);
    TCase *atomic = tcase_create("atomic");
    unit_set_timeout(atomic, 2.0); /* seconds of work on an idle machine */
    tcase_add_test(atomic, failed_save_leaves_old_file_intact);
    tcase_add_test(atomic, killed_save_never_leaves_a_half_written_file);
    tcase_add_test(atomic, save_keeps_the_mode_of_a_replaced_file);
    suite_add_tcase(s, atomic);
    return s;
}

BTFM_UNIT_MAIN(container_suite)
