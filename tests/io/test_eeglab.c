/* EEGLAB .set files built here byte by byte from the MAT-file level 5 description (both
 * byte orders, small elements, compressed variables): the values written come back, and
 * every malformed structure is refused with the byte offset. MNE comparisons:
 * test_eeglab_mne.py. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "unit.h"
#include "io/eeglab/eeglab_internal.h"

/* A growing byte buffer written in one byte order. */
typedef struct mat_writer {
    unsigned char bytes[8192];
    size_t n;
    int big;
} mat_writer;

static void put(mat_writer *w, uint64_t v, int size)
{
    for (int i = 0; i < size; i++)
        w->bytes[w->n++] = (unsigned char)(v >> (8 * (w->big ? size - 1 - i : i)));
}

static void pad(mat_writer *w) { while (w->n % 8) w->bytes[w->n++] = 0; }

static void element(mat_writer *w, uint32_t type, const void *data, uint32_t size, int width)
{
    if (size <= 4 && size > 0 && !w->big) { /* small element format */
        put(w, (uint64_t)size << 16 | type, 4);
        for (uint32_t i = 0; i < size; i += (uint32_t)width) {
            uint64_t v = 0;
            memcpy(&v, (const unsigned char *)data + i, (size_t)width);
            put(w, v, width);
        }
        while (w->n % 8) w->bytes[w->n++] = 0;
        return;
    }
    put(w, type, 4);
    put(w, size, 4);
    for (uint32_t i = 0; i < size; i += (uint32_t)width) {
        uint64_t v = 0;
        memcpy(&v, (const unsigned char *)data + i, (size_t)width);
        put(w, v, width);
    }
    pad(w);
}

/* Opens an miMATRIX: returns where its size goes, filled by close_matrix. */
static size_t open_matrix(mat_writer *w, int cls, int rows, int cols, const char *name)
{
    put(w, 14, 4);
    size_t at = w->n;
    put(w, 0, 4);
    uint32_t flags[2] = {(uint32_t)cls, 0};
    element(w, 6, flags, 8, 4);
    int32_t dims[2] = {rows, cols};
    element(w, 5, dims, 8, 4);
    element(w, 1, name, (uint32_t)strlen(name), 1);
    return at;
}

static void close_matrix(mat_writer *w, size_t at)
{
    size_t n = w->n;
    w->n = at;
    put(w, n - at - 4, 4);
    w->n = n;
}

static void doubles(mat_writer *w, const char *name, const double *v, int rows, int cols)
{
    size_t at = open_matrix(w, 6, rows, cols, name);
    element(w, 9, v, (uint32_t)(8 * rows * cols), 8);
    close_matrix(w, at);
}

static void chars(mat_writer *w, const char *name, const char *text)
{
    size_t at = open_matrix(w, 4, 1, (int)strlen(text), name);
    uint16_t u[64];
    for (size_t i = 0; i < strlen(text); i++) u[i] = (unsigned char)text[i];
    element(w, 4, u, (uint32_t)(2 * strlen(text)), 2);
    close_matrix(w, at);
}

static void fields(mat_writer *w, const char *const *names, int n)
{
    int32_t len = 16; /* room for 15 characters and the NUL, as MATLAB pads to 32 */
    element(w, 5, &len, 4, 4);
    char buf[128] = {0};
    for (int k = 0; k < n; k++) strncpy(buf + 16 * k, names[k], 15);
    element(w, 1, buf, (uint32_t)(16 * n), 1);
}

static const double DATA[2 * 3] = {10, -20, 30.5, -40, 50, 60.25}; /* 2 channels x 3 samples */

/* EEG = struct(srate 100, nbchan 2, pnts 3, data 2x3, chanlocs(1x2: labels, X, Y, Z),
 * event(1x1: type 'go', latency 2.5)). */
static void write_set(mat_writer *w, int big)
{
    memset(w, 0, sizeof *w);
    w->big = big;
    memset(w->bytes, ' ', 116);
    memcpy(w->bytes, "MATLAB 5.0 MAT-file, written by test_eeglab.c", 45);
    w->n = 124;
    put(w, 0x0100, 2);
    w->bytes[w->n++] = big ? 'M' : 'I';
    w->bytes[w->n++] = big ? 'I' : 'M';
    size_t eeg = open_matrix(w, 2, 1, 1, "EEG");
    const char *top[] = {"srate", "nbchan", "pnts", "data", "chanlocs", "event"};
    fields(w, top, 6);
    doubles(w, "", (double[]){100}, 1, 1);
    doubles(w, "", (double[]){2}, 1, 1);
    doubles(w, "", (double[]){3}, 1, 1);
    doubles(w, "", DATA, 2, 3);
    size_t locs = open_matrix(w, 2, 1, 2, "");
    fields(w, (const char *[]){"labels", "X", "Y", "Z"}, 4);
    chars(w, "", "Cz");
    doubles(w, "", (double[]){1}, 1, 1);
    doubles(w, "", (double[]){2}, 1, 1);
    doubles(w, "", (double[]){85}, 1, 1);
    chars(w, "", "Oz");
    doubles(w, "", NULL, 0, 0); /* no position */
    doubles(w, "", NULL, 0, 0);
    doubles(w, "", NULL, 0, 0);
    close_matrix(w, locs);
    size_t ev = open_matrix(w, 2, 1, 1, "");
    fields(w, (const char *[]){"type", "latency"}, 2);
    chars(w, "", "go");
    doubles(w, "", (double[]){2.5}, 1, 1);
    close_matrix(w, ev);
    close_matrix(w, eeg);
}

static char *save(const mat_writer *w, const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid(), name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(w->bytes, 1, w->n, f), w->n);
    fclose(f);
    return path;
}

static void check_read(const char *path)
{
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_open(&ds, path, BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_format(ds), BTFM_FORMAT_EEGLAB);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 2);
    ck_assert_int_eq(btfm_dataset_n_times(ds), 3);
    ck_assert(btfm_dataset_sfreq(ds) == 100);
    float out[6];
    ck_assert_ok(btfm_dataset_read(ds, 0, 3, NULL, 0, out));
    /* column-major 2 x 3: sample t of channel c is DATA[c + 2 t] */
    ck_assert_all(i, 6, out[i] == (float)(DATA[i] * 1e-6), "sample %lld: %g", (long long)i,
                  out[i]);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "Oz");
    double xyz[3];
    ck_assert_ok(btfm_dataset_channel_position(ds, 0, xyz));
    ck_assert(xyz[0] == -2e-3 && xyz[1] == 1e-3 && xyz[2] == 85e-3);
    ck_assert_status(btfm_dataset_channel_position(ds, 1, xyz), BTFM_E_NOTFOUND);
    ck_assert_int_eq(btfm_dataset_n_events(ds), 1);
    double onset;
    const char *label;
    ck_assert_ok(btfm_dataset_event(ds, 0, &onset, NULL, NULL, &label, NULL));
    ck_assert(onset == 1.5 / 100);
    ck_assert_str_eq(label, "go");
    btfm_dataset_free(ds);
    unlink(path);
}

START_TEST(test_both_byte_orders_read_the_values_written)
{
    mat_writer w;
    write_set(&w, 0);
    check_read(save(&w, "le.set"));
    write_set(&w, 1);
    check_read(save(&w, "be.set"));
}
END_TEST

START_TEST(test_compressed_variable_reads_the_same)
{
    mat_writer w, z;
    write_set(&w, 0);
    memcpy(&z, &w, sizeof z);
    uLongf len = sizeof z.bytes - 136;
    ck_assert_int_eq(compress(z.bytes + 136, &len, w.bytes + 128, (uLong)(w.n - 128)), Z_OK);
    z.n = 128;
    put(&z, 15, 4);
    put(&z, len, 4);
    z.n += len;
    check_read(save(&z, "z.set"));
    /* corrupt zlib data */
    z.bytes[140] ^= 0xff;
    btfm_eeglab e;
    ck_assert_status(btfm_eeglab_parse(&e, z.bytes, z.n, "z.set"), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "byte 128"));
}
END_TEST

START_TEST(test_every_truncation_is_refused_with_an_offset)
{
    mat_writer w;
    write_set(&w, 0);
    btfm_eeglab e;
    int refused = 0;
    for (size_t n = 0; n < w.n; n++) {
        btfm_status st = btfm_eeglab_parse(&e, w.bytes, n, "cut.set");
        if (st == BTFM_OK) {
            btfm_eeglab_clear(&e);
            continue;
        }
        refused++;
        ck_assert_msg(strstr(btfm_last_error(), "cut.set"), "length %zu: %s", n, btfm_last_error());
    }
    /* every cut inside the one variable loses the EEG structure */
    ck_assert_int_eq(refused, (int)w.n);
}
END_TEST

START_TEST(test_malformed_structures_are_refused)
{
    mat_writer w;
    btfm_eeglab e;
    write_set(&w, 0);
    w.bytes[126] = 'X';
    ck_assert_status(btfm_eeglab_parse(&e, w.bytes, w.n, "m.set"), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "byte 126"));
    /* a small element claiming 6 bytes where the array flags are */
    write_set(&w, 0);
    w.bytes[136] = 6; w.bytes[137] = 0; w.bytes[138] = 6; w.bytes[139] = 0;
    ck_assert_status(btfm_eeglab_parse(&e, w.bytes, w.n, "m.set"), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "byte 136"));
    /* cells nested 100 deep */
    memset(&w, 0, sizeof w);
    memcpy(w.bytes + 124, "\x00\x01IM", 4);
    w.n = 128;
    size_t open[100];
    for (int d = 0; d < 100; d++) open[d] = open_matrix(&w, 1, 1, 1, d ? "" : "EEG");
    doubles(&w, "", (double[]){1}, 1, 1);
    for (int d = 99; d >= 0; d--) close_matrix(&w, open[d]);
    ck_assert_status(btfm_eeglab_parse(&e, w.bytes, w.n, "deep.set"), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "64 deep"));
    /* v7.3 */
    ck_assert_status(btfm_eeglab_parse(&e, (const unsigned char *)"MATLAB 7.3 MAT-file, x", 22,
                                       "v73.set"), BTFM_E_UNSUPPORTED);
}
END_TEST

static Suite *eeglab_suite(void)
{
    Suite *s = suite_create("eeglab");
    TCase *tc = tcase_create("eeglab");
    unit_set_timeout(tc, 0.5);
    tcase_add_test(tc, test_both_byte_orders_read_the_values_written);
    tcase_add_test(tc, test_compressed_variable_reads_the_same);
    tcase_add_test(tc, test_every_truncation_is_refused_with_an_offset);
    tcase_add_test(tc, test_malformed_structures_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(eeglab_suite)
