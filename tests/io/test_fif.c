/* FIF reader against files written here byte by byte from the FIFF structure (big-endian
 * tags of kind, type, size, next; blocks; channel info records; raw data buffers), by a
 * writer independent of the library: values per data type (stored number x range x cal),
 * the tag directory and its fallback, split files by name and by number, and a named
 * error for every kind of damage (truncation at every byte, sizes past the end, pointers
 * backwards, unbalanced or too deep blocks, bad buffers, split loops), plus allocation
 * failures at every step. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "counting_alloc.h"

/* ---- an independent writer ---- */

typedef struct writer {
    unsigned char *b;
    size_t n, cap;
    long tag_pos[512];  /* every tag written, for the directory */
    int n_tags;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 256;
        w->b = realloc(w->b, w->cap);
        ck_assert_ptr_nonnull(w->b);
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put32(writer *w, uint32_t v)
{
    unsigned char b[4];
    be32(b, v);
    put(w, b, 4);
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void tag(writer *w, int32_t kind, uint32_t type, const void *data, int32_t size)
{
    ck_assert_int_lt(w->n_tags, 512);
    w->tag_pos[w->n_tags++] = (long)w->n;
    put32(w, (uint32_t)kind);
    put32(w, type);
    put32(w, (uint32_t)size);
    put32(w, 0); /* FIFFV_NEXT_SEQ */
    if (size) put(w, data, (size_t)size);
}

static void tag_int(writer *w, int32_t kind, int32_t v)
{
    unsigned char b[4];
    be32(b, (uint32_t)v);
    tag(w, kind, 3, b, 4);
}

static void tag_float(writer *w, int32_t kind, float v)
{
    unsigned char b[4];
    be32(b, float_bits(v));
    tag(w, kind, 4, b, 4);
}

static void tag_string(writer *w, int32_t kind, const char *s)
{
    tag(w, kind, 10, s, (int32_t)strlen(s));
}

static void block_start(writer *w, int32_t kind) { tag_int(w, 104, kind); }
static void block_end(writer *w, int32_t kind) { tag_int(w, 105, kind); }

typedef struct chan {
    const char *name;
    int32_t kind, unit, coil;
    float range, cal;
} chan;

static void ch_info(writer *w, int scanno, const chan *c)
{
    unsigned char b[96];
    memset(b, 0, sizeof b);
    be32(b, (uint32_t)scanno);
    be32(b + 4, (uint32_t)scanno);
    be32(b + 8, (uint32_t)c->kind);
    be32(b + 12, float_bits(c->range));
    be32(b + 16, float_bits(c->cal));
    be32(b + 20, (uint32_t)c->coil);
    be32(b + 24, float_bits(0.01f * (float)scanno)); /* location x, y, z */
    be32(b + 28, float_bits(-0.02f));
    be32(b + 32, float_bits(0.03f));
    be32(b + 72, (uint32_t)c->unit);
    memcpy(b + 80, c->name, strlen(c->name) < 16 ? strlen(c->name) : 16);
    tag(w, 203, 30, b, 96);
}

static const chan CHANNELS[3] = {
    {"MEG 0111", 1, 112, 3024, 1.0f, 2.5e-13f},   /* magnetometer, T */
    {"EEG 001", 2, 107, 1, 0.5f, 3.0e-6f},        /* EEG, V */
    {"STI 014", 3, 107, 0, 1.0f, 1.0f},           /* stim */
};

enum { T_SHORT = 2, T_INT = 3, T_FLOAT = 4, T_DOUBLE = 5 };
#define N_PER_BUFFER 7
#define N_BUFFERS 3
#define FIRST_SAMP 100

/* The stored number of channel c at sample t. */
static double stored(int type, int c, int t)
{
    if (c == 2) return t >= 8 && t < 12 ? 4 : 0; /* one trigger of value 4 */
    double v = (t * 37 + c * 11) % 201 - 100;
    if (type == T_INT) v *= 100000;
    if (type == T_FLOAT || type == T_DOUBLE) v *= 0.125;
    return v;
}

static void data_buffer(writer *w, int type, int first)
{
    size_t size = type == T_SHORT ? 2 : type == T_DOUBLE ? 8 : 4;
    unsigned char b[N_PER_BUFFER * 3 * 8], *p = b;
    for (int t = first; t < first + N_PER_BUFFER; t++)
        for (int c = 0; c < 3; c++, p += size) {
            double v = stored(type, c, t);
            if (type == T_SHORT) {
                uint16_t u = (uint16_t)(int16_t)v;
                p[0] = (unsigned char)(u >> 8);
                p[1] = (unsigned char)u;
            } else if (type == T_INT) {
                be32(p, (uint32_t)(int32_t)v);
            } else if (type == T_FLOAT) {
                be32(p, float_bits((float)v));
            } else {
                uint64_t u;
                memcpy(&u, &v, 8);
                be32(p, (uint32_t)(u >> 32));
                be32(p + 4, (uint32_t)u);
            }
        }
    tag(w, 300, (uint32_t)type, b, (int32_t)(p - b));
}

typedef struct spec {
    int type;
    int n_buffers;
    int skip_after;          /* a skip of one buffer after this buffer index, -1: none */
    const char *next_name;   /* FIFFB_REF to the next split file by name */
    int next_num;            /* or by number (> 0) */
    int no_end_blocks;       /* leave the blocks open */
} spec;

/* File id, directory pointer (-1), measurement block with info and raw data. */
static writer make_file(const spec *s)
{
    writer w;
    memset(&w, 0, sizeof w);
    unsigned char id[20] = {0};
    be32(id, 0x00010003);
    tag(&w, 100, 31, id, 20);
    tag_int(&w, 101, -1);
    block_start(&w, 100);
    block_start(&w, 101);
    tag_int(&w, 200, 3);
    tag_float(&w, 201, 250.0f);
    for (int c = 0; c < 3; c++) ch_info(&w, c + 1, &CHANNELS[c]);
    unsigned char date[8];
    be32(date, 1600000000u);
    be32(date + 4, 500000u);
    tag(&w, 204, 3, date, 8);
    block_end(&w, 101);
    block_start(&w, 102);
    tag_int(&w, 208, FIRST_SAMP);
    for (int k = 0; k < s->n_buffers; k++) {
        data_buffer(&w, s->type, k * N_PER_BUFFER);
        if (k == s->skip_after) tag_int(&w, 301, 1);
    }
    if (s->next_name || s->next_num) {
        block_start(&w, 118);
        tag_int(&w, 115, 2);
        if (s->next_name) tag_string(&w, 118, s->next_name);
        else tag_int(&w, 117, s->next_num);
        block_end(&w, 118);
    }
    if (!s->no_end_blocks) {
        block_end(&w, 102);
        block_end(&w, 100);
    }
    return w;
}

/* Append a tag directory (kind 102, entries kind/type/size/pos and a terminator) and point
 * the directory pointer at it. */
static void add_directory(writer *w)
{
    long dir_pos = (long)w->n;
    int n = w->n_tags;
    unsigned char *entries = calloc((size_t)n + 1, 16);
    ck_assert_ptr_nonnull(entries);
    for (int i = 0; i < n; i++) {
        memcpy(entries + 16 * i, w->b + w->tag_pos[i], 12); /* kind, type, size */
        be32(entries + 16 * i + 12, (uint32_t)w->tag_pos[i]);
    }
    memset(entries + 16 * n, 0xFF, 16);
    tag(w, 102, 32, entries, (n + 1) * 16);
    free(entries);
    be32(w->b + 36 + 16, (uint32_t)dir_pos); /* the pointer's data, after its header */
}

static char dir[64];

/* Warnings about the tag directory, counted; the others (positions left out) expected. */
static int warnings;
static void count_warning(int level, const char *message, void *user)
{
    (void)user;
    if (level == BTFM_LOG_WARNING && strstr(message, "tag directory")) warnings++;
}

static const char *path_of(const char *name)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void save(const writer *w, const char *name, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(w->b, 1, n, f), n);
    fclose(f);
}

static void setup(void)
{
    btfm_set_log_callback(count_warning, NULL);
    strcpy(dir, "/tmp/btfm-fif-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    btfm_set_log_callback(NULL, NULL);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.') unlink(path_of(e->d_name));
    if (d) closedir(d);
    rmdir(dir);
}

/* ---- values ---- */

static void check_values(btfm_dataset *ds, int type, int n_samples, int skip_after)
{
    ck_assert_int_eq(btfm_dataset_n_times(ds), n_samples);
    float *x = malloc(sizeof(float) * (size_t)n_samples * 3);
    ck_assert_ok(btfm_dataset_read(ds, 0, n_samples, NULL, 0, x));
    for (int t = 0; t < n_samples; t++)
        for (int c = 0; c < 3; c++) {
            int buffer = t / N_PER_BUFFER, in_file = t;
            double want;
            if (skip_after >= 0 && buffer == skip_after + 1) {
                want = 0; /* a skipped buffer reads as zeros */
            } else {
                if (skip_after >= 0 && buffer > skip_after + 1) in_file -= N_PER_BUFFER;
                want = stored(type, c, in_file) * (double)CHANNELS[c].range * (double)CHANNELS[c].cal;
            }
            ck_assert_msg(x[3 * t + c] == (float)want, "type %d, t %d, c %d: %g != %g", type, t, c,
                          (double)x[3 * t + c], want);
        }
    free(x);
}

START_TEST(each_type_reads_stored_times_range_times_cal)
{
    static const int types[] = {T_SHORT, T_INT, T_FLOAT, T_DOUBLE};
    int type = types[_i];
    spec s = {type, N_BUFFERS, -1, NULL, 0, 0};
    writer w = make_file(&s);
    save(&w, "a_raw.fif", w.n);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, path_of("a_raw.fif"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_format(ds), BTFM_FORMAT_FIF);
    ck_assert(btfm_dataset_sfreq(ds) == 250.0);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "EEG 001");
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 0), BTFM_CH_MEG_MAG);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 2), BTFM_CH_STIM);
    ck_assert_str_eq(btfm_dataset_channel_unit(ds, 0), "T");
    check_values(ds, type, N_PER_BUFFER * N_BUFFERS, -1);
    /* start = meas date + first_samp / sfreq */
    double start;
    ck_assert_ok(btfm_dataset_start_time(ds, &start));
    ck_assert(fabs(start - (1600000000.5 + FIRST_SAMP / 250.0)) < 1e-6);
    /* the stim channel's value 4 from sample 8 to 12 */
    ck_assert_int_eq(btfm_dataset_n_events(ds), 1);
    double onset, duration;
    int code;
    ck_assert_ok(btfm_dataset_event(ds, 0, &onset, &duration, NULL, NULL, &code));
    ck_assert(onset == 8 / 250.0 && fabs(duration - 4 / 250.0) < 1e-12 && code == 4);
    /* the EEG channel's location (head frame) is kept, the MEG one through no transform
     * (none in the file): device frame, so the EEG position is left out */
    ck_assert_str_eq(btfm_dataset_coordinate_frame(ds), "device");
    double xyz[3];
    ck_assert_ok(btfm_dataset_channel_position(ds, 0, xyz));
    ck_assert(xyz[0] == (double)0.01f && xyz[1] == (double)-0.02f && xyz[2] == (double)0.03f);
    ck_assert_status(btfm_dataset_channel_position(ds, 1, xyz), BTFM_E_NOTFOUND);
    btfm_dataset_free(ds);
    free(w.b);
}
END_TEST

START_TEST(skips_read_as_zeros_and_are_gap_events)
{
    spec s = {T_FLOAT, N_BUFFERS, 0, NULL, 0, 0};
    writer w = make_file(&s);
    save(&w, "skip_raw.fif", w.n);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, path_of("skip_raw.fif"), BTFM_FORMAT_AUTO, 0));
    check_values(ds, T_FLOAT, N_PER_BUFFER * (N_BUFFERS + 1), 0);
    int gaps = 0;
    for (int64_t i = 0; i < btfm_dataset_n_events(ds); i++) {
        double onset, duration;
        const char *type;
        ck_assert_ok(btfm_dataset_event(ds, i, &onset, &duration, &type, NULL, NULL));
        if (strcmp(type, "gap") == 0) {
            gaps++;
            ck_assert(onset == N_PER_BUFFER / 250.0 && duration == N_PER_BUFFER / 250.0);
        }
    }
    ck_assert_int_eq(gaps, 1);
    btfm_dataset_free(ds);
    free(w.b);
}
END_TEST


START_TEST(tag_directory_and_its_fallback)
{
    spec s = {T_INT, N_BUFFERS, -1, NULL, 0, 0};
    writer w = make_file(&s);
    add_directory(&w);
    save(&w, "d_raw.fif", w.n);
    warnings = 0;
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, path_of("d_raw.fif"), BTFM_FORMAT_AUTO, 0));
    check_values(ds, T_INT, N_PER_BUFFER * N_BUFFERS, -1);
    btfm_dataset_free(ds);
    ck_assert_int_eq(warnings, 0);
    /* an entry out of file order (as a loop would be): warned, and the tags are scanned */
    long dir_pos = w.tag_pos[w.n_tags - 1];
    be32(w.b + dir_pos + 16 + 16 * 3 + 12, 0);
    save(&w, "d_raw.fif", w.n);
    ck_assert_ok(btfm_dataset_open(&ds, path_of("d_raw.fif"), BTFM_FORMAT_AUTO, 0));
    check_values(ds, T_INT, N_PER_BUFFER * N_BUFFERS, -1);
    btfm_dataset_free(ds);
    ck_assert_int_eq(warnings, 1);
    /* an entry past the end of the file */
    be32(w.b + dir_pos + 16 + 16 * 3 + 12, 0x7fffff00);
    save(&w, "d_raw.fif", w.n);
    ck_assert_ok(btfm_dataset_open(&ds, path_of("d_raw.fif"), BTFM_FORMAT_AUTO, 0));
    btfm_dataset_free(ds);
    ck_assert_int_eq(warnings, 2);
    free(w.b);
}
END_TEST

START_TEST(split_files_by_name_and_number)
{
    spec first = {T_SHORT, 2, -1, "sp_raw-1.fif", 0, 0};
    spec second = {T_SHORT, 1, -1, NULL, 2, 0}; /* by number: sp_raw-2.fif */
    spec third = {T_SHORT, 1, -1, NULL, 0, 0};
    writer a = make_file(&first), b = make_file(&second), c = make_file(&third);
    save(&a, "sp_raw.fif", a.n);
    save(&b, "sp_raw-1.fif", b.n);
    save(&c, "sp_raw-2.fif", c.n);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, path_of("sp_raw.fif"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_n_times(ds), 4 * N_PER_BUFFER);
    float x[4 * N_PER_BUFFER * 3];
    ck_assert_ok(btfm_dataset_read(ds, 0, 4 * N_PER_BUFFER, NULL, 0, x));
    /* each part restarts its stored pattern at its own first buffer */
    int starts[4] = {0, N_PER_BUFFER, 0, 0};
    for (int k = 0; k < 4; k++)
        for (int t = 0; t < N_PER_BUFFER; t++) {
            double want = stored(T_SHORT, 1, starts[k] + t) * 0.5 * (double)3.0e-6f;
            ck_assert(x[3 * (k * N_PER_BUFFER + t) + 1] == (float)want);
        }
    btfm_dataset_free(ds);
    /* a missing part is named; with complete records the parts before it are read */
    unlink(path_of("sp_raw-2.fif"));
    ck_assert_status(btfm_dataset_open(&ds, path_of("sp_raw.fif"), BTFM_FORMAT_AUTO, 0), BTFM_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "sp_raw-2.fif, which does not exist"));
    ck_assert_ok(btfm_dataset_open(&ds, path_of("sp_raw.fif"), BTFM_FORMAT_AUTO, BTFM_OPEN_COMPLETE_RECORDS));
    ck_assert_int_eq(btfm_dataset_n_times(ds), 3 * N_PER_BUFFER);
    btfm_dataset_free(ds);
    /* a part naming an earlier part is a loop */
    spec looping = {T_SHORT, 1, -1, "sp_raw.fif", 0, 0};
    writer l = make_file(&looping);
    save(&l, "sp_raw-1.fif", l.n);
    ck_assert_status(btfm_dataset_open(&ds, path_of("sp_raw.fif"), BTFM_FORMAT_AUTO, 0), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "a loop"));
    free(a.b);
    free(b.b);
    free(c.b);
    free(l.b);
}
END_TEST

/* ---- damage ---- */

static void expect_refusal(const writer *w, size_t n, int status, const char *text)
{
    save(w, "bad_raw.fif", n);
    btfm_dataset *ds = (btfm_dataset *)1;
    int st = btfm_dataset_open(&ds, path_of("bad_raw.fif"), BTFM_FORMAT_FIF, 0);
    ck_assert_msg(st == status, "got %s (%s), expected %s", btfm_status_name(st), btfm_last_error(),
                  btfm_status_name(status));
    ck_assert_ptr_null(ds);
    if (text) ck_assert_msg(strstr(btfm_last_error(), text), "\"%s\" lacks \"%s\"", btfm_last_error(), text);
}

START_TEST(truncation_at_every_byte_is_named)
{
    spec s = {T_FLOAT, N_BUFFERS, -1, NULL, 0, 0};
    writer w = make_file(&s);
    for (size_t n = 0; n < w.n; n++) {
        save(&w, "cut_raw.fif", n);
        btfm_dataset *ds = NULL;
        int st = btfm_dataset_open(&ds, path_of("cut_raw.fif"), BTFM_FORMAT_FIF, 0);
        ck_assert_msg(st == BTFM_E_TRUNCATED || st == BTFM_E_FORMAT, "cut at %zu: %s", n,
                      btfm_status_name(st));
        ck_assert_msg(strstr(btfm_last_error(), "byte") != NULL, "cut at %zu: %s", n, btfm_last_error());
    }
    free(w.b);
}
END_TEST

START_TEST(damaged_structure_is_named)
{
    spec s = {T_FLOAT, N_BUFFERS, -1, NULL, 0, 0};
    writer w = make_file(&s);
    long raw_start = -1, first_buffer = -1;
    for (int i = 0; i < w.n_tags; i++) {
        uint32_t kind = (uint32_t)w.b[w.tag_pos[i] + 3] | (uint32_t)w.b[w.tag_pos[i] + 2] << 8;
        if (kind == 300 && first_buffer < 0) first_buffer = w.tag_pos[i];
        if (kind == 104 && w.b[w.tag_pos[i] + 16 + 3] == 102) raw_start = w.tag_pos[i];
    }
    ck_assert(raw_start > 0 && first_buffer > 0);
    writer d = w;
    d.b = malloc(w.n);
    /* an absurd size */
    memcpy(d.b, w.b, w.n);
    be32(d.b + first_buffer + 8, 0x7fffffff);
    expect_refusal(&d, w.n, BTFM_E_TRUNCATED, "claims 2147483647 data bytes");
    /* a negative size */
    memcpy(d.b, w.b, w.n);
    be32(d.b + first_buffer + 8, (uint32_t)-5);
    expect_refusal(&d, w.n, BTFM_E_FORMAT, "negative size");
    /* a next pointer backwards: a loop */
    memcpy(d.b, w.b, w.n);
    be32(d.b + first_buffer + 12, (uint32_t)raw_start);
    expect_refusal(&d, w.n, BTFM_E_FORMAT, "a pointer backwards would loop");
    /* a buffer that is not a whole number of samples */
    memcpy(d.b, w.b, w.n);
    be32(d.b + first_buffer + 4, T_DOUBLE); /* 84 bytes of 8-byte samples of 3 channels */
    expect_refusal(&d, w.n, BTFM_E_FORMAT, "not a whole number of samples");
    /* complex data */
    memcpy(d.b, w.b, w.n);
    be32(d.b + first_buffer + 4, 20);
    expect_refusal(&d, w.n, BTFM_E_UNSUPPORTED, "complex");
    /* an unknown data type */
    memcpy(d.b, w.b, w.n);
    be32(d.b + first_buffer + 4, 10);
    expect_refusal(&d, w.n, BTFM_E_FORMAT, "has type 10");
    /* a file that is not FIF */
    memcpy(d.b, w.b, w.n);
    d.b[3] = 99;
    expect_refusal(&d, w.n, BTFM_E_FORMAT, "does not start with a file id tag");
    free(d.b);
    free(w.b);

    /* blocks left open, and an end without a start */
    spec open_blocks = {T_FLOAT, 1, -1, NULL, 0, 1};
    w = make_file(&open_blocks);
    expect_refusal(&w, w.n, BTFM_E_TRUNCATED, "is never closed");
    block_end(&w, 102);
    block_end(&w, 100);
    block_end(&w, 100);
    expect_refusal(&w, w.n, BTFM_E_FORMAT, "closes no open block");
    free(w.b);
    w = make_file(&open_blocks);
    block_end(&w, 101);
    expect_refusal(&w, w.n, BTFM_E_FORMAT, "closes block 101, but block 102");
    free(w.b);
    /* nesting deeper than any real file */
    w = make_file(&open_blocks);
    for (int i = 0; i < 70; i++) block_start(&w, 999);
    expect_refusal(&w, w.n, BTFM_E_FORMAT, "nested more than 64 deep");
    free(w.b);
}
END_TEST

START_TEST(bad_measurement_info_is_named)
{
    writer w;
    memset(&w, 0, sizeof w);
    unsigned char id[20] = {0};
    tag(&w, 100, 31, id, 20);
    tag_int(&w, 101, -1);
    block_start(&w, 100);
    block_start(&w, 101);
    tag_int(&w, 200, 2);
    tag_float(&w, 201, 250.0f);
    ch_info(&w, 1, &CHANNELS[0]); /* one record for two channels */
    block_end(&w, 101);
    block_start(&w, 102);
    data_buffer(&w, T_FLOAT, 0);
    block_end(&w, 102);
    block_end(&w, 100);
    expect_refusal(&w, w.n, BTFM_E_FORMAT, "1 channel info records for 2 channels");
    free(w.b);
    /* no raw data at all: the blocks found are named */
    memset(&w, 0, sizeof w);
    tag(&w, 100, 31, id, 20);
    tag_int(&w, 101, -1);
    block_start(&w, 310);
    block_start(&w, 311);
    block_end(&w, 311);
    block_end(&w, 310);
    expect_refusal(&w, w.n, BTFM_E_FORMAT, "it has 6 tags (136 bytes) in blocks 310, 311");
    free(w.b);
}
END_TEST

/* ---- allocation failures ---- */

static int open_and_read(void)
{
    btfm_dataset *ds = NULL;
    int st = btfm_dataset_open(&ds, path_of("oom_raw.fif"), BTFM_FORMAT_AUTO, 0);
    float x[N_PER_BUFFER * 3];
    if (!st) st = btfm_dataset_read(ds, 2, N_PER_BUFFER, NULL, 0, x);
    btfm_dataset_free(ds);
    return st;
}

START_TEST(every_allocation_failure_is_clean)
{
    spec s = {T_SHORT, N_BUFFERS, 1, "oom_raw-1.fif", 0, 0};
    spec s2 = {T_SHORT, 1, -1, NULL, 0, 0};
    writer a = make_file(&s), b = make_file(&s2);
    save(&a, "oom_raw.fif", a.n);
    save(&b, "oom_raw-1.fif", b.n);
    ck_assert_ok(btfm_set_allocator(count_malloc, count_realloc, count_free, &counter));
    int succeeded = 0;
    for (long budget = 0; budget < 2000 && !succeeded; budget++) {
        counter.calls = counter.live = 0;
        counter.budget = budget;
        int st = open_and_read();
        ck_assert_msg(st == BTFM_OK || st == BTFM_E_NOMEM, "budget %ld: %s", budget, btfm_last_error());
        ck_assert_msg(counter.live == 0, "budget %ld leaked %ld blocks", budget, counter.live);
        succeeded = st == BTFM_OK;
    }
    ck_assert(succeeded);
    counter.budget = -1;
    ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
    free(a.b);
    free(b.b);
}
END_TEST

static Suite *fif_suite(void)
{
    Suite *s = suite_create("fif");
    TCase *tc = tcase_create("fif");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, each_type_reads_stored_times_range_times_cal, 0, 4);
    tcase_add_test(tc, skips_read_as_zeros_and_are_gap_events);
    tcase_add_test(tc, tag_directory_and_its_fallback);
    tcase_add_test(tc, split_files_by_name_and_number);
    tcase_add_test(tc, truncation_at_every_byte_is_named);
    tcase_add_test(tc, damaged_structure_is_named);
    tcase_add_test(tc, bad_measurement_info_is_named);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(fif_suite)
