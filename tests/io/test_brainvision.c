/* BrainVision reader and writer, against files written here from the specification by a
 * writer independent of the library (explicit little-endian bytes, hand-written INI):
 * every binary format and orientation, scaling, markers, codepages, escapes, stale file
 * names, exact digital round trips, anonymized saves, and a named error for each kind of
 * bad input. */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"

/* ---- an independent writer ---- */

enum { F_INT16, F_INT32, F_FLOAT32 };
static const char *format_names[] = {"INT_16", "INT_32", "IEEE_FLOAT_32"};
static const size_t format_sizes[] = {2, 4, 4};

#define N_CH 3
#define N_T 50

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/btfm-bv-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static const char *in_dir(const char *name)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *name, const void *bytes, size_t n)
{
    FILE *f = fopen(in_dir(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *name, const char *fmt, ...)
{
    char text[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ck_assert_int_lt(n, (int)sizeof text);
    write_bytes(name, text, (size_t)n);
}

static size_t file_size(const char *name)
{
    struct stat sb;
    ck_assert_int_eq(stat(in_dir(name), &sb), 0);
    return (size_t)sb.st_size;
}

/* The stored number of channel c at sample t: spans each format's range, extremes included. */
static double digital(int format, int t, int c)
{
    if (format == F_INT16) return t == 0 ? (c ? 32767 : -32768) : ((t * 7919 + c * 104729) % 65536) - 32768;
    if (format == F_INT32) return t == 0 ? (c ? 2147483647.0 : -2147483648.0)
                                         : (double)((t * 7919LL + c * 1046527LL) * 1013 % 4294967296LL) - 2147483648.0;
    return (float)((t - 25) * 0.37 + c * 1000.125);
}

static void put_le(unsigned char *p, uint64_t v, size_t width)
{
    for (size_t k = 0; k < width; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static void encode(unsigned char *p, int format, double v)
{
    if (format == F_FLOAT32) {
        float x = (float)v;
        uint32_t u;
        memcpy(&u, &x, 4);
        put_le(p, u, 4);
    } else {
        put_le(p, (uint64_t)(int64_t)v, format_sizes[format]);
    }
}

/* The data file of N_CH x n_t samples in either orientation. */
static void write_eeg(const char *name, int format, int vectorized, int n_t)
{
    size_t size = format_sizes[format];
    unsigned char *b = calloc((size_t)n_t * N_CH, size);
    for (int t = 0; t < n_t; t++)
        for (int c = 0; c < N_CH; c++) {
            size_t at = vectorized ? (size_t)c * n_t + t : (size_t)t * N_CH + c;
            encode(b + at * size, format, digital(format, t, c));
        }
    write_bytes(name, b, (size_t)n_t * N_CH * size);
    free(b);
}

/* Resolutions and units of the three channels, and their factor to SI. */
static const double resolutions[N_CH] = {0.1, 0.048828125, 2.5};
static const double unit_factor[N_CH] = {1e-6, 1e-3, 1e-6};

static void write_vhdr(const char *name, const char *data_file, const char *marker_file, int format,
                       int vectorized)
{
    write_text(name,
               "Brain Vision Data Exchange Header File Version 1.0\r\n"
               "; written by the test\r\n\r\n"
               "[Common Infos]\r\nCodepage=UTF-8\r\nDataFile=%s\r\nMarkerFile=%s\r\n"
               "DataFormat=BINARY\r\nDataOrientation=%s\r\nNumberOfChannels=3\r\n"
               "SamplingInterval=2000\r\n\r\n[Binary Infos]\r\nBinaryFormat=%s\r\n\r\n"
               "[Channel Infos]\r\nCh1=Fp1,,0.1,\xC2\xB5V\r\nCh2=EOG\\1left,Fp1,0.048828125,mV\r\n"
               "Ch3=Cz,,2.5\r\n\r\n[Comment]\r\nA\r\nfree text = without sections\r\n",
               data_file, marker_file, vectorized ? "VECTORIZED" : "MULTIPLEXED",
               format_names[format]);
}

static void write_vmrk(const char *name)
{
    write_text(name,
               "Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\n"
               "Codepage=UTF-8\nDataFile=x.eeg\n\n[Marker Infos]\n"
               "Mk1=New Segment,,1,1,0,20210304050607123456\n"
               "Mk2=Stimulus,S  1,11,1,0\n"
               "Mk3=Response,R 12,5,3,0\n"
               "Mk4=Comment,a\\1b,21,0,2\n");
}

static void write_recording(const char *stem, int format, int vectorized)
{
    char v[64], e[64], m[64];
    snprintf(v, sizeof v, "%s.vhdr", stem);
    snprintf(e, sizeof e, "%s.eeg", stem);
    snprintf(m, sizeof m, "%s.vmrk", stem);
    write_vhdr(v, e, m, format, vectorized);
    write_eeg(e, format, vectorized, N_T);
    write_vmrk(m);
}

static btfm_dataset *open_ok(const char *name)
{
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, in_dir(name), BTFM_FORMAT_AUTO, 0));
    return ds;
}

/* The physical value the specification gives: stored number x resolution, in SI. */
static float expected(int format, int t, int c)
{
    return (float)(digital(format, t, c) * resolutions[c] * unit_factor[c]);
}

static void assert_close(float got, float want)
{
    ck_assert_msg(fabsf(got - want) <= 2 * FLT_EPSILON * fabsf(want) + FLT_MIN, "got %.9g, want %.9g",
                  (double)got, (double)want);
}

/* ---- warnings ---- */

static char last_warning[1024];

static void keep_warning(int level, const char *message, void *user)
{
    (void)user;
    if (level == BTFM_LOG_WARNING) snprintf(last_warning, sizeof last_warning, "%s", message);
}

/* ---- reading ---- */

START_TEST(test_formats_and_orientations)
{
    make_dir();
    int format = _i / 2, vectorized = _i % 2;
    write_recording("x", format, vectorized);
    btfm_dataset *ds = open_ok("x.vhdr");
    ck_assert_int_eq(btfm_dataset_format(ds), BTFM_FORMAT_BRAINVISION);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), N_CH);
    ck_assert_int_eq(btfm_dataset_n_times(ds), N_T);
    ck_assert_double_eq(btfm_dataset_sfreq(ds), 500.0);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "EOG,left");
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 1), BTFM_CH_EOG);
    for (int c = 0; c < N_CH; c++) ck_assert_str_eq(btfm_dataset_channel_unit(ds, c), "V");

    float all[N_T * N_CH];
    ck_assert_ok(btfm_dataset_read(ds, 0, N_T, NULL, 0, all));
    for (int t = 0; t < N_T; t++)
        for (int c = 0; c < N_CH; c++) assert_close(all[t * N_CH + c], expected(format, t, c));

    /* A window with picks out of order, and one channel at its native rate. */
    int picks[2] = {2, 0};
    float win[20 * 2], native[13];
    ck_assert_ok(btfm_dataset_read(ds, 17, 20, picks, 2, win));
    for (int t = 0; t < 20; t++)
        for (int j = 0; j < 2; j++) assert_close(win[t * 2 + j], expected(format, 17 + t, picks[j]));
    ck_assert_ok(btfm_dataset_read_native(ds, 1, 37, 13, native));
    for (int t = 0; t < 13; t++) assert_close(native[t], expected(format, 37 + t, 1));
    btfm_dataset_free(ds);
    remove_dir();
}
END_TEST

START_TEST(test_markers_to_events)
{
    make_dir();
    write_recording("x", F_INT16, 0);
    btfm_dataset *ds = open_ok("x.vhdr");
    double start;
    ck_assert_ok(btfm_dataset_start_time(ds, &start));
    ck_assert_double_eq_tol(start, 1614834367.123456, 1e-6); /* 2021-03-04 05:06:07.123456 */
    ck_assert_int_eq(btfm_dataset_n_events(ds), 4);
    /* Sorted by onset = (position - 1) / 500 Hz; duration = size / 500 Hz. */
    static const struct { double onset, duration; const char *type, *label; int code; } want[] = {
        {0.0, 0.002, "New Segment", "", 0}, {0.008, 0.006, "Response", "R 12", 12},
        {0.020, 0.002, "Stimulus", "S  1", 1}, {0.040, 0.0, "Comment", "a,b", 0},
    };
    for (int i = 0; i < 4; i++) {
        double onset, duration;
        const char *type, *label;
        int code;
        ck_assert_ok(btfm_dataset_event(ds, i, &onset, &duration, &type, &label, &code));
        ck_assert_double_eq_tol(onset, want[i].onset, 1e-12);
        ck_assert_double_eq_tol(duration, want[i].duration, 1e-12);
        ck_assert_str_eq(type, want[i].type);
        ck_assert_str_eq(label, want[i].label);
        ck_assert_int_eq(code, want[i].code);
    }
    btfm_dataset_free(ds);
    remove_dir();
}
END_TEST

START_TEST(test_codepages)
{
    make_dir();
    /* ANSI is Windows-1252: 0xB5 micro sign, 0xE9 e-acute, 0x80 euro sign. A UTF-8 (or
     * undeclared) file with invalid bytes falls back to Latin-1. */
    static const char *headers[2] = {"Codepage=ANSI\n", ""};
    static const char *names[2] = {"T\xC3\xA9st\xE2\x82\xAC", "T\xC3\xA9st\xC2\x80"};
    for (int i = 0; i < 2; i++) {
        write_text("a.vhdr",
                   "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\n%s"
                   "DataFile=a.eeg\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
                   "NumberOfChannels=3\nSamplingInterval=1000\n[Binary Infos]\nBinaryFormat=INT_16\n"
                   "[Channel Infos]\nCh1=T\xE9st\x80,,1,\xB5V\nCh2=B,,1,\xB5V\nCh3=C,,1,\xB5V\n",
                   headers[i]);
        write_eeg("a.eeg", F_INT16, 0, 4);
        btfm_dataset *ds = open_ok("a.vhdr");
        ck_assert_str_eq(btfm_dataset_channel_name(ds, 0), names[i]);
        ck_assert_str_eq(btfm_dataset_channel_unit(ds, 0), "V"); /* µV decoded, then SI */
        float x[4 * N_CH];
        ck_assert_ok(btfm_dataset_read(ds, 0, 4, NULL, 0, x));
        assert_close(x[3], (float)(digital(F_INT16, 1, 0) * 1e-6));
        btfm_dataset_free(ds);
    }
    remove_dir();
}
END_TEST

START_TEST(test_stale_names_fall_back)
{
    make_dir();
    /* The recording was renamed from old.* to new.*; the header still names old.*. */
    write_vhdr("new.vhdr", "old.eeg", "old.vmrk", F_INT32, 1);
    write_eeg("new.eeg", F_INT32, 1, N_T);
    write_vmrk("new.vmrk");
    btfm_set_log_callback(keep_warning, NULL);
    last_warning[0] = '\0';
    btfm_dataset *ds = open_ok("new.vhdr");
    btfm_set_log_callback(NULL, NULL);
    ck_assert_ptr_nonnull(strstr(last_warning, "old.vmrk"));
    ck_assert_ptr_nonnull(strstr(last_warning, "new.vmrk"));
    ck_assert_int_eq(btfm_dataset_n_events(ds), 4);
    float x[N_T * N_CH];
    ck_assert_ok(btfm_dataset_read(ds, 0, N_T, NULL, 0, x));
    assert_close(x[(N_T - 1) * N_CH + 2], expected(F_INT32, N_T - 1, 2));
    btfm_dataset_free(ds);

    /* Neither the named nor the same-stem data file: a named NOTFOUND. */
    unlink(in_dir("new.eeg"));
    btfm_dataset *none = NULL;
    ck_assert_status(btfm_dataset_open(&none, in_dir("new.vhdr"), BTFM_FORMAT_AUTO, 0), BTFM_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "old.eeg"));
    ck_assert_ptr_null(none);
    remove_dir();
}
END_TEST

/* Windows read only their own bytes: after the data file loses its second half, the
 * first half still reads and the second is a named truncation, never garbage. */
START_TEST(test_windows_read_only_their_bytes)
{
    make_dir();
    write_recording("x", F_FLOAT32, 0);
    btfm_dataset *ds = open_ok("x.vhdr");
    ck_assert_int_eq(truncate(in_dir("x.eeg"), (off_t)(N_T / 2 * N_CH * 4)), 0);
    float x[10 * N_CH];
    ck_assert_ok(btfm_dataset_read(ds, 5, 10, NULL, 0, x));
    assert_close(x[N_CH + 1], expected(F_FLOAT32, 6, 1));
    ck_assert_status(btfm_dataset_read(ds, 30, 10, NULL, 0, x), BTFM_E_TRUNCATED);
    btfm_dataset_free(ds);
    remove_dir();
}
END_TEST

/* ---- writing ---- */

static unsigned char *slurp(const char *name, size_t *n)
{
    return unit_read_file(in_dir(name), n);
}

START_TEST(test_round_trip_is_exact)
{
    make_dir();
    int format = _i / 2, vectorized = _i % 2;
    write_recording("x", format, vectorized);
    btfm_dataset *ds = open_ok("x.vhdr");
    ck_assert_ok(btfm_dataset_save(ds, in_dir("y.vhdr"), BTFM_FORMAT_AUTO, 0));

    /* The data file holds the very same stored numbers, multiplexed. */
    write_eeg("want.eeg", format, 0, N_T);
    size_t n_got, n_want;
    unsigned char *got = slurp("y.eeg", &n_got), *want = slurp("want.eeg", &n_want);
    ck_assert_uint_eq(n_got, n_want);
    ck_assert_int_eq(memcmp(got, want, n_want), 0);
    free(got);
    free(want);
    char *vhdr = (char *)slurp("y.vhdr", &n_got);
    char line[64];
    snprintf(line, sizeof line, "BinaryFormat=%s\n", format_names[format]);
    ck_assert_ptr_nonnull(strstr(vhdr, line));
    ck_assert_ptr_nonnull(strstr(vhdr, "Ch2=EOG\\1left,Fp1,0.048828125,mV\n"));
    free(vhdr);

    btfm_dataset *back = open_ok("y.vhdr");
    float a[N_T * N_CH], b[N_T * N_CH];
    ck_assert_ok(btfm_dataset_read(ds, 0, N_T, NULL, 0, a));
    ck_assert_ok(btfm_dataset_read(back, 0, N_T, NULL, 0, b));
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    ck_assert_str_eq(btfm_dataset_channel_name(back, 1), "EOG,left");
    ck_assert_int_eq(btfm_dataset_n_events(back), btfm_dataset_n_events(ds));
    for (int64_t i = 0; i < btfm_dataset_n_events(ds); i++) {
        double o1, o2, d1, d2, s1, s2;
        const char *t1, *t2, *l1, *l2;
        int c1, c2;
        ck_assert_ok(btfm_dataset_event(ds, i, &o1, &d1, &t1, &l1, &c1));
        ck_assert_ok(btfm_dataset_event(back, i, &o2, &d2, &t2, &l2, &c2));
        ck_assert_double_eq(o1, o2);
        ck_assert_double_eq(d1, d2);
        ck_assert_str_eq(t1, t2);
        ck_assert_str_eq(l1, l2);
        ck_assert_int_eq(c1, c2);
        ck_assert_ok(btfm_dataset_start_time(ds, &s1));
        ck_assert_ok(btfm_dataset_start_time(back, &s2));
        ck_assert_double_eq_tol(s1, s2, 1e-6);
    }
    btfm_dataset_free(back);
    btfm_dataset_free(ds);
    remove_dir();
}
END_TEST

START_TEST(test_anonymized_save)
{
    make_dir();
    write_recording("x", F_INT16, 0);
    btfm_dataset *ds = open_ok("x.vhdr");
    ck_assert_ok(btfm_dataset_save(ds, in_dir("y.vhdr"), BTFM_FORMAT_BRAINVISION, BTFM_SAVE_ANONYMIZE));
    double start;
    ck_assert_ok(btfm_dataset_start_time(ds, &start)); /* the caller's dataset is untouched */
    ck_assert_double_eq_tol(start, 1614834367.123456, 1e-6);
    size_t n;
    char *vmrk = (char *)slurp("y.vmrk", &n);
    ck_assert_ptr_nonnull(strstr(vmrk, "Mk1=New Segment,,1,1,0,19850101050607123456\n"));
    ck_assert_ptr_null(strstr(vmrk, "2021"));
    free(vmrk);
    btfm_dataset *back = open_ok("y.vhdr");
    ck_assert_ok(btfm_dataset_start_time(back, &start));
    ck_assert_double_eq_tol(start, 473403967.123456, 1e-6); /* 1985-01-01 05:06:07.123456 */
    btfm_dataset_free(back);
    btfm_dataset_free(ds);
    /* Nothing else is left beside the three files. */
    int files = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d)) != NULL;) files += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(files, 6);
    remove_dir();
}
END_TEST

/* A non-BrainVision source (a two-signal EDF written here byte by byte) is written as
 * IEEE_FLOAT_32 in µV; values come back within float precision. */
static void write_edf(const char *name)
{
    char h[256 * 3 + 1];
    char *p = h;
    p += sprintf(p, "%-8s%-80s%-80s%-8s%-8s%-8d%-44s%-8d%-8s%-4d", "0", "X", "Y", "01.02.03",
                 "04.05.06", 256 * 3, "", 2, "1", 2);
    const char *labels[2] = {"Fz", "Resp"}, *dims[2] = {"uV", "au"};
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-16s", labels[s]);
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-80s", "");
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-8s", dims[s]);
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-8s", "-3276.8");
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-8s", "3276.7");
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-8s", "-32768");
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-8s", "32767");
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-80s", "");
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-8d", 10);
    for (int s = 0; s < 2; s++) p += sprintf(p, "%-32s", "");
    unsigned char rec[2][2 * 10 * 2];
    for (int r = 0; r < 2; r++)
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < 10; i++) put_le(&rec[r][(s * 10 + i) * 2], (uint64_t)(int64_t)(r * 100 + s * 1000 + i * 7 - 50), 2);
    FILE *f = fopen(in_dir(name), "wb");
    fwrite(h, 1, 256 * 3, f);
    fwrite(rec, 1, sizeof rec, f);
    fclose(f);
}

START_TEST(test_other_formats_become_float32)
{
    make_dir();
    write_edf("e.edf");
    btfm_dataset *ds = open_ok("e.edf");
    ck_assert_ok(btfm_dataset_save(ds, in_dir("f.vhdr"), BTFM_FORMAT_AUTO, 0));
    size_t n;
    char *vhdr = (char *)slurp("f.vhdr", &n);
    ck_assert_ptr_nonnull(strstr(vhdr, "BinaryFormat=IEEE_FLOAT_32\n"));
    ck_assert_ptr_nonnull(strstr(vhdr, "SamplingInterval=100000\n"));
    ck_assert_ptr_nonnull(strstr(vhdr, "Ch1=Fz,,1,\xC2\xB5V\n"));
    ck_assert_ptr_nonnull(strstr(vhdr, "Ch2=Resp,,1,au\n"));
    free(vhdr);
    ck_assert_uint_eq(file_size("f.eeg"), 20 * 2 * 4);
    btfm_dataset *back = open_ok("f.vhdr");
    ck_assert_int_eq(btfm_dataset_n_times(back), 20);
    ck_assert_str_eq(btfm_dataset_channel_unit(back, 1), "au");
    float x[40];
    ck_assert_ok(btfm_dataset_read(back, 0, 20, NULL, 0, x));
    for (int t = 0; t < 20; t++)
        for (int s = 0; s < 2; s++) {
            /* EDF scaling: (d + 32768) * 6553.5 / 65535 - 3276.8 = d / 10 (µV or au) */
            double d = (t / 10) * 100 + s * 1000 + (t % 10) * 7 - 50;
            double want = d / 10.0 * (s == 0 ? 1e-6 : 1.0);
            ck_assert_msg(fabs(x[t * 2 + s] - want) <= 1e-6 * fabs(want) + 1e-12, "t=%d s=%d: %g vs %g",
                          t, s, (double)x[t * 2 + s], want);
        }
    btfm_dataset_free(back);
    btfm_dataset_free(ds);
    remove_dir();
}
END_TEST

START_TEST(test_save_refuses_bad_paths)
{
    make_dir();
    write_recording("x", F_INT16, 0);
    btfm_dataset *ds = open_ok("x.vhdr");
    ck_assert_status(btfm_dataset_save(ds, in_dir("y.eeg"), BTFM_FORMAT_BRAINVISION, 0), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), ".vhdr"));
    ck_assert_status(btfm_dataset_save(ds, "/nonexistent-dir/y.vhdr", BTFM_FORMAT_AUTO, 0), BTFM_E_IO);
    btfm_dataset_free(ds);
    remove_dir();
}
END_TEST

/* ---- bad input: each a named error with the file, the line and what was expected ---- */

typedef struct bad_case {
    const char *what, *common, *binary, *channels, *markers;
    int status;
    const char *file, *message; /* the file named, and a phrase of the message */
} bad_case;

#define GOOD_COMMON "DataFile=b.eeg\nMarkerFile=b.vmrk\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\n" \
                    "NumberOfChannels=3\nSamplingInterval=1000\n"
#define GOOD_CHANNELS "Ch1=A,,1,uV\nCh2=B,,1,uV\nCh3=C,,1,uV\n"
#define GOOD_MARKERS "Mk1=Stimulus,S  1,1,1,0\n"

/* Header lines: 1 banner, 2 [Common Infos], 3.. keys; see write_bad. */
static const bad_case bad_cases[] = {
    {"no binary section", GOOD_COMMON, NULL, GOOD_CHANNELS, GOOD_MARKERS, BTFM_E_FORMAT, "b.vhdr",
     "no [Binary Infos] section"},
    {"no sampling interval", "DataFile=b.eeg\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\nNumberOfChannels=3\n",
     "BinaryFormat=INT_16\n", GOOD_CHANNELS, GOOD_MARKERS, BTFM_E_FORMAT, "b.vhdr", "line 2: section [Common Infos] has no SamplingInterval"},
    {"no data file", "DataFormat=BINARY\nDataOrientation=MULTIPLEXED\nNumberOfChannels=3\nSamplingInterval=1\n",
     "BinaryFormat=INT_16\n", GOOD_CHANNELS, GOOD_MARKERS, BTFM_E_FORMAT, "b.vhdr", "has no DataFile"},
    {"bad channel count", "DataFile=b.eeg\nNumberOfChannels=three\n", "", "", "", BTFM_E_FORMAT, "b.vhdr",
     "line 4: NumberOfChannels=three: expected a whole number"},
    {"zero channels", "DataFile=b.eeg\nNumberOfChannels=0\n", "", "", "", BTFM_E_FORMAT, "b.vhdr",
     "line 4: NumberOfChannels=0: expected at least one channel"},
    {"negative interval", "SamplingInterval=-2\n", "", "", "", BTFM_E_FORMAT, "b.vhdr",
     "line 3: SamplingInterval=-2: expected a positive number"},
    {"NaN interval", "SamplingInterval=nan\n", "", "", "", BTFM_E_FORMAT, "b.vhdr", "line 3: SamplingInterval=nan"},
    {"infinite rate", "SamplingInterval=1e-320\n", "", "", "", BTFM_E_FORMAT, "b.vhdr",
     "line 3: SamplingInterval=1e-320: expected a positive number of microseconds (a finite sampling rate)"},
    {"control characters quoted", "SamplingInterval=1\x07\x1b[2J\n", "", "", "", BTFM_E_FORMAT, "b.vhdr",
     "line 3: SamplingInterval=1\\x07\\x1B[2J: expected"},
    {"overflowing resolution", GOOD_COMMON, "BinaryFormat=IEEE_FLOAT_32\n",
     "Ch1=A,,1,uV\nCh2=B,,1e308,uV\nCh3=C,,1,uV\n", GOOD_MARKERS, BTFM_E_FORMAT, "b.vhdr",
     "Ch2 resolution 1e+308 uV scales stored values (up to 3.40282e+38 in IEEE_FLOAT_32) beyond"},
    {"unknown binary format", GOOD_COMMON, "BinaryFormat=UINT_16\n", GOOD_CHANNELS, GOOD_MARKERS,
     BTFM_E_UNSUPPORTED, "b.vhdr", "line 10: BinaryFormat=UINT_16: expected INT_16, INT_32 or IEEE_FLOAT_32"},
    {"big endian", GOOD_COMMON, "BinaryFormat=INT_16\nUseBigEndianOrder=YES\n", GOOD_CHANNELS, GOOD_MARKERS,
     BTFM_E_UNSUPPORTED, "b.vhdr", "line 11: UseBigEndianOrder=YES"},
    {"ascii data", "DataFormat=ASCII\n", "", "", "", BTFM_E_UNSUPPORTED, "b.vhdr", "line 3: DataFormat=ASCII"},
    {"bad orientation", "DataOrientation=DIAGONAL\n", "", "", "", BTFM_E_FORMAT, "b.vhdr",
     "line 3: DataOrientation=DIAGONAL: expected MULTIPLEXED or VECTORIZED"},
    {"not key=value", "DataFile=b.eeg\njunk here\n", "", "", "", BTFM_E_FORMAT, "b.vhdr",
     "line 4: \"junk here\" in [Common Infos]: expected Key=Value"},
    {"bad resolution", GOOD_COMMON, "BinaryFormat=INT_16\n", "Ch1=A,,1,uV\nCh2=B,,x1,uV\nCh3=C,,1,uV\n",
     GOOD_MARKERS, BTFM_E_FORMAT, "b.vhdr", "line 13: Ch2 resolution \"x1\": expected a finite non-zero number"},
    {"zero resolution", GOOD_COMMON, "BinaryFormat=INT_16\n", "Ch1=A,,0,uV\nCh2=B,,1,uV\nCh3=C,,1,uV\n",
     GOOD_MARKERS, BTFM_E_FORMAT, "b.vhdr", "line 12: Ch1 resolution \"0\""},
    {"channel out of range", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS "Ch4=D,,1,uV\n",
     GOOD_MARKERS, BTFM_E_FORMAT, "b.vhdr", "line 15: Ch4: expected a channel number in [1, 3]"},
    {"missing channel", GOOD_COMMON, "BinaryFormat=INT_16\n", "Ch1=A,,1,uV\nCh3=C,,1,uV\n", GOOD_MARKERS,
     BTFM_E_FORMAT, "b.vhdr", "line 11: [Channel Infos] has no Ch2"},
    {"duplicate channel", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS "Ch1=A,,1,uV\n", GOOD_MARKERS,
     BTFM_E_FORMAT, "b.vhdr", "line 15: Ch1 is given a second time"},
    {"bad channel key", GOOD_COMMON, "BinaryFormat=INT_16\n", "Channel1=A\n", GOOD_MARKERS, BTFM_E_FORMAT,
     "b.vhdr", "line 12: \"Channel1\" in [Channel Infos]"},
    {"bad marker position", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS, "Mk1=Stimulus,S  1,one,1,0\n",
     BTFM_E_FORMAT, "b.vmrk", "line 3: Mk1 position \"one\": expected a whole sample number"},
    {"marker before the first sample", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS,
     "Mk1=Stimulus,S  1,-5,1,0\n", BTFM_E_FORMAT, "b.vmrk",
     "line 3: Mk1 position \"-5\": expected a whole sample number (1 = first sample)"},
    {"bad marker size", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS, GOOD_MARKERS "Mk2=Stimulus,S  2,5,-1,0\n",
     BTFM_E_FORMAT, "b.vmrk", "line 4: Mk2 size \"-1\""},
    {"bad marker date", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS, "Mk1=New Segment,,1,1,0,2021\n",
     BTFM_E_FORMAT, "b.vmrk", "line 3: Mk1 date \"2021\": expected YYYYMMDDhhmmss"},
    {"short marker", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS, "Mk1=Stimulus,S  1\n",
     BTFM_E_FORMAT, "b.vmrk", "line 3: Mk1 has 2 fields"},
    {"bad marker key", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS, "Marker1=Stimulus,S  1,1,1,0\n",
     BTFM_E_FORMAT, "b.vmrk", "line 3: \"Marker1\" in [Marker Infos]"},
};

/* b.vhdr: banner, [Common Infos], the case's keys, [Binary Infos] (when given), its keys,
 * [Channel Infos], its lines; b.vmrk: banner, [Marker Infos], its lines. */
static void write_bad(const bad_case *c)
{
    write_text("b.vhdr", "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\n%s%s%s"
               "[Channel Infos]\n%s", c->common, c->binary ? "[Binary Infos]\n" : "",
               c->binary ? c->binary : "", c->channels);
    write_text("b.vmrk", "Brain Vision Data Exchange Marker File, Version 1.0\n[Marker Infos]\n%s", c->markers);
    write_eeg("b.eeg", F_INT16, 0, 4);
}

START_TEST(test_bad_input_is_named)
{
    make_dir();
    const bad_case *c = &bad_cases[_i];
    write_bad(c);
    btfm_dataset *ds = NULL;
    int st = btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0);
    ck_assert_msg(st == c->status, "%s: got %s (%s)", c->what, btfm_status_name(st), btfm_last_error());
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(btfm_last_error(), c->file) && strstr(btfm_last_error(), c->message),
                  "%s: message \"%s\" lacks \"%s\" or \"%s\"", c->what, btfm_last_error(), c->file,
                  c->message);
    remove_dir();
}
END_TEST

START_TEST(test_truncated_data_file)
{
    make_dir();
    bad_case ok = {"", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS, GOOD_MARKERS, 0, "", ""};
    write_bad(&ok);
    unsigned char bytes[4 * N_CH * 2 + 5] = {0};
    write_bytes("b.eeg", bytes, sizeof bytes); /* 4 rows of 6 bytes and 5 stray bytes */
    btfm_dataset *ds = NULL;
    ck_assert_status(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0), BTFM_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "b.eeg: 29 bytes is not a whole number of samples of "
                                                    "3 channels x 2 bytes (INT_16)"));
    /* Asked for, the complete rows are read, with a warning. */
    btfm_set_log_callback(keep_warning, NULL);
    last_warning[0] = '\0';
    ck_assert_ok(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, BTFM_OPEN_COMPLETE_RECORDS));
    btfm_set_log_callback(NULL, NULL);
    ck_assert_int_eq(btfm_dataset_n_times(ds), 4);
    ck_assert_ptr_nonnull(strstr(last_warning, "last 5 bytes"));
    btfm_dataset_free(ds);

    /* Vectorized with DataPoints beyond the file. */
    bad_case vec = {"", "DataFile=b.eeg\nDataFormat=BINARY\nDataOrientation=VECTORIZED\nNumberOfChannels=3\n"
                    "SamplingInterval=1000\nDataPoints=5\n", "BinaryFormat=INT_16\n", GOOD_CHANNELS, "", 0, "", ""};
    write_bad(&vec);
    ck_assert_status(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0), BTFM_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "DataPoints=5"));
    write_eeg("b.eeg", F_INT16, 1, 6); /* larger: where channel 2 starts is unknown */
    ck_assert_status(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0), BTFM_E_FORMAT);
    /* An empty data file is refused, as EDF refuses 0 records. */
    write_bad(&ok);
    write_bytes("b.eeg", bytes, 0);
    ck_assert_status(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0), BTFM_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "b.eeg: 0 bytes: the data file holds no "
                                                    "complete sample of 3 channels x 2 bytes"));
    /* A marker after the end is kept, with one warning (as for EDF annotations). */
    bad_case late = {"", GOOD_COMMON, "BinaryFormat=INT_16\n", GOOD_CHANNELS,
                     "Mk1=Stimulus,S  1,2,1,0\nMk2=Stimulus,S  2,999999999,1,0\n", 0, "", ""};
    write_bad(&late);
    btfm_set_log_callback(keep_warning, NULL);
    last_warning[0] = '\0';
    ck_assert_ok(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0));
    btfm_set_log_callback(NULL, NULL);
    ck_assert_int_eq(btfm_dataset_n_events(ds), 2);
    ck_assert_msg(strstr(last_warning, "1 of 2 events lie outside the recording (0 to 0.004 s), "
                         "the first at 999999.998 s"), "%s", last_warning);
    btfm_dataset_free(ds);
    vec.markers = "";
    write_bad(&vec);
    write_eeg("b.eeg", F_INT16, 1, 6);
    ck_assert_status(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0), BTFM_E_FORMAT);
    write_eeg("b.eeg", F_INT16, 1, 5);
    ck_assert_ok(btfm_dataset_open(&ds, in_dir("b.vhdr"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_n_times(ds), 5);
    float x[5 * N_CH];
    ck_assert_ok(btfm_dataset_read(ds, 0, 5, NULL, 0, x));
    ck_assert_float_eq(x[4 * N_CH + 2], (float)(digital(F_INT16, 4, 2) * 1e-6));
    btfm_dataset_free(ds);
    remove_dir();
}
END_TEST

static Suite *brainvision_suite(void)
{
    Suite *s = suite_create("brainvision");
    TCase *tc = tcase_create("brainvision");
    unit_set_timeout(tc, 1.0); /* seconds of work on an idle machine */
    tcase_add_loop_test(tc, test_formats_and_orientations, 0, 6);
    tcase_add_test(tc, test_markers_to_events);
    tcase_add_test(tc, test_codepages);
    tcase_add_test(tc, test_stale_names_fall_back);
    tcase_add_test(tc, test_windows_read_only_their_bytes);
    tcase_add_loop_test(tc, test_round_trip_is_exact, 0, 6);
    tcase_add_test(tc, test_anonymized_save);
    tcase_add_test(tc, test_other_formats_become_float32);
    tcase_add_test(tc, test_save_refuses_bad_paths);
    tcase_add_loop_test(tc, test_bad_input_is_named, 0, (int)(sizeof bad_cases / sizeof *bad_cases));
    tcase_add_test(tc, test_truncated_data_file);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(brainvision_suite)
