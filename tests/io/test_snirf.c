/* The SNIRF driver on files this suite writes with the HDF5 C API from the SNIRF
 * specification: names, types, units, geometry, events, aux channels and values against
 * what was written; time vectors in every form; every layout error named by its HDF5
 * path; and HDF5's own error printing never reaching stderr. */
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include "unit.h"

static char dir[] = "/tmp/btfm_snirf_XXXXXX";

static const char *tmp(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* ---- a small SNIRF writer ---- */

static void put_doubles(hid_t loc, const char *name, int rank, const hsize_t *dims, const double *v)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(d >= 0);
    ck_assert(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(space);
}

static void put_int(hid_t loc, const char *name, int v)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose(d);
    H5Sclose(space);
}

static void put_string(hid_t loc, const char *name, const char *s)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s);
    H5Dclose(d);
    H5Sclose(space);
    H5Tclose(type);
}

/* What a test file holds; the defaults make a valid two-wavelength CW file. */
typedef struct spec {
    int n_times, n_sources, n_detectors, n_wavelengths, data_type;
    const char *label, *unit, *time_unit, *length_unit;
    int time_form;       /* 0 explicit times, 1 [start, interval], 2 jittered, 3 irregular */
    double t0, dt;
    int transposed, with_aux, skip_list, bad_wavelength_index, decreasing_time, string_series;
    int no_probe_positions, no_tags;
} spec;

#define N_PAIRS 3
static const int pair_src[N_PAIRS] = {1, 1, 2}, pair_det[N_PAIRS] = {1, 2, 2};
static const double wavelengths[3] = {760, 850, 690};

static double value(int t, int c) { return 1.0 + 0.01 * c + 0.001 * t + 0.0001 * ((t * 7 + c * 3) % 11); }

static double time_of(const spec *s, int t)
{
    double base = s->t0 + s->dt * t;
    if (s->time_form == 2) base += 0.002 * s->dt * ((t % 3) - 1);       /* 0.2% jitter */
    if (s->time_form == 3) base = s->t0 + s->dt * t + 0.3 * s->dt * (t % 2); /* irregular */
    return s->decreasing_time && t == 4 ? s->t0 : base;
}

static int n_channels_of(const spec *s) { return N_PAIRS * (s->data_type == 1 ? s->n_wavelengths : 2); }

static void write_snirf(const char *path, const spec *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(f >= 0);
    put_string(f, "formatVersion", "1.0");
    hid_t nirs = H5Gcreate2(f, "nirs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (!s->no_tags) {
        hid_t tags = H5Gcreate2(nirs, "metaDataTags", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        put_string(tags, "SubjectID", "sub-07");
        put_string(tags, "MeasurementDate", "2023-11-02");
        put_string(tags, "MeasurementTime", "09:15:30.5+01:00");
        put_string(tags, "LengthUnit", s->length_unit ? s->length_unit : "mm");
        put_string(tags, "TimeUnit", s->time_unit ? s->time_unit : "s");
        put_string(tags, "FrequencyUnit", "Hz");
        H5Gclose(tags);
    }
    hid_t data = H5Gcreate2(nirs, "data1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int nc = n_channels_of(s), nt = s->n_times;
    double *v = malloc(sizeof *v * (size_t)nc * (size_t)nt);
    for (int t = 0; t < nt; t++)
        for (int c = 0; c < nc; c++) {
            if (s->transposed) v[c * nt + t] = value(t, c);
            else v[t * nc + c] = value(t, c);
        }
    hsize_t dims[2] = {(hsize_t)(s->transposed ? nc : nt), (hsize_t)(s->transposed ? nt : nc)};
    if (s->string_series) put_string(data, "dataTimeSeries", "not numbers");
    else put_doubles(data, "dataTimeSeries", 2, dims, v);
    free(v);
    /* Times are in seconds in the spec, written in the file's unit. */
    double scale = s->time_unit && strcmp(s->time_unit, "ms") == 0 ? 1000 : 1;
    double *times = malloc(sizeof *times * (size_t)nt);
    hsize_t n_time = s->time_form == 1 ? 2 : (hsize_t)nt;
    if (s->time_form == 1) {
        times[0] = s->t0 * scale;
        times[1] = s->dt * scale;
    } else {
        for (int t = 0; t < nt; t++) times[t] = time_of(s, t) * scale;
    }
    put_doubles(data, "time", 1, &n_time, times);
    for (int p = 0, c = 0; p < N_PAIRS; p++)
        for (int w = 0; w < (s->data_type == 1 ? s->n_wavelengths : 2); w++, c++) {
            char name[32];
            snprintf(name, sizeof name, "measurementList%d", c + 1);
            if (s->skip_list && c == 2) continue;
            hid_t m = H5Gcreate2(data, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            put_int(m, "sourceIndex", pair_src[p]);
            put_int(m, "detectorIndex", pair_det[p]);
            put_int(m, "wavelengthIndex", s->bad_wavelength_index && c == 1 ? 9 : w + 1);
            put_int(m, "dataType", s->data_type);
            if (s->data_type == 99999) put_string(m, "dataTypeLabel", w ? "HbR" : "HbO");
            if (s->unit) put_string(m, "dataUnit", s->unit);
            H5Gclose(m);
        }
    H5Gclose(data);
    hid_t probe = H5Gcreate2(nirs, "probe", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t nw = (hsize_t)s->n_wavelengths;
    put_doubles(probe, "wavelengths", 1, &nw, wavelengths);
    if (!s->no_probe_positions) {
        double src[2 * 3] = {0, 0, 80, 30, 0, 80}, det[2 * 3] = {15, 20, 80, 45, 20, 80};
        hsize_t pd[2] = {2, 3};
        put_doubles(probe, "sourcePos3D", 2, pd, src);
        put_doubles(probe, "detectorPos3D", 2, pd, det);
    }
    H5Gclose(probe);
    /* Two stim groups (onsets in the file's time unit) and one aux channel. */
    double rows_a[2 * 3] = {(s->t0 + 1.0) * scale, 0.5 * scale, 1, (s->t0 + 3.25) * scale, 0, 2};
    hsize_t sa[2] = {2, 3};
    hid_t stim = H5Gcreate2(nirs, "stim1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    put_string(stim, "name", "tapping");
    put_doubles(stim, "data", 2, sa, rows_a);
    H5Gclose(stim);
    stim = H5Gcreate2(nirs, "stim2", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    put_string(stim, "name", "rest");
    double rows_b[3] = {(s->t0 + 2.0) * scale, 1.0 * scale, 1.5};
    hsize_t sb[2] = {1, 3};
    put_doubles(stim, "data", 2, sb, rows_b);
    H5Gclose(stim);
    if (s->with_aux) {
        /* aux1 on the data's times; aux2 at twice the rate over the same span. */
        hid_t aux = H5Gcreate2(nirs, "aux1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        put_string(aux, "name", "accel");
        put_string(aux, "dataUnit", "mV");
        double *a = malloc(sizeof *a * (size_t)nt);
        for (int t = 0; t < nt; t++) a[t] = 2.0 * t;
        hsize_t na = (hsize_t)nt;
        put_doubles(aux, "dataTimeSeries", 1, &na, a);
        put_doubles(aux, "time", 1, &n_time, times);
        H5Gclose(aux);
        aux = H5Gcreate2(nirs, "aux2", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        put_string(aux, "name", "resp");
        double *b = malloc(sizeof *b * (size_t)(2 * nt)), *bt = malloc(sizeof *bt * (size_t)(2 * nt));
        for (int t = 0; t < 2 * nt; t++) {
            bt[t] = (s->t0 + s->dt * t / 2) * scale;
            b[t] = 3.0 + 0.5 * t; /* linear: interpolation is exact */
        }
        hsize_t nb = (hsize_t)(2 * nt);
        put_doubles(aux, "dataTimeSeries", 1, &nb, b);
        put_doubles(aux, "time", 1, &nb, bt);
        H5Gclose(aux);
        free(a);
        free(b);
        free(bt);
    }
    free(times);
    H5Gclose(nirs);
    H5Fclose(f);
}

static spec base_spec(void)
{
    spec s = {0};
    s.n_times = 37;
    s.n_sources = 2;
    s.n_detectors = 2;
    s.n_wavelengths = 2;
    s.data_type = 1;
    s.dt = 0.128; /* 7.8125 Hz */
    return s;
}

static void setup(void) { ck_assert_ptr_nonnull(mkdtemp(dir)); }

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir, "/tmp/btfm_snirf_XXXXXX");
}

START_TEST(test_cw_file_reads_as_written)
{
    spec s = base_spec();
    s.with_aux = 1;
    write_snirf(tmp("cw.snirf"), &s);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("cw.snirf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_format(ds), BTFM_FORMAT_SNIRF);
    ck_assert_str_eq(btfm_format_name(BTFM_FORMAT_SNIRF), "snirf");
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 6 + 2);
    ck_assert_int_eq(btfm_dataset_n_times(ds), 37);
    ck_assert(fabs(btfm_dataset_sfreq(ds) - 7.8125) < 1e-9);
    static const char *names[] = {"S1_D1 760", "S1_D1 850", "S1_D2 760", "S1_D2 850",
                                  "S2_D2 760", "S2_D2 850", "accel", "resp"};
    for (int c = 0; c < 8; c++) ck_assert_str_eq(btfm_dataset_channel_name(ds, c), names[c]);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 0), BTFM_CH_FNIRS_CW_AMPLITUDE);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 6), BTFM_CH_MISC);
    ck_assert_str_eq(btfm_dataset_channel_unit(ds, 6), "V");
    ck_assert_str_eq(btfm_dataset_subject(ds), "sub-07");
    double start;
    ck_assert_ok(btfm_dataset_start_time(ds, &start));
    /* 2023-11-02 09:15:30.5 at UTC+1 = 08:15:30.5 UTC. */
    ck_assert(fabs(start - (1698883200.0 + 8 * 3600 + 15 * 60 + 30.5)) < 1e-6);

    float x[37 * 8];
    ck_assert_ok(btfm_dataset_read(ds, 0, 37, NULL, 0, x));
    for (int t = 0; t < 37; t++) {
        for (int c = 0; c < 6; c++) ck_assert_float_eq(x[t * 8 + c], (float)value(t, c));
        ck_assert(fabs(x[t * 8 + 6] - 2.0 * t * 1e-3) < 1e-7);   /* mV -> V */
        ck_assert(fabs(x[t * 8 + 7] - (3.0 + 0.5 * 2 * t)) < 1e-5); /* every other sample */
    }
    /* A window with picks reads the same values. */
    int picks[3] = {5, 7, 0};
    float w[4 * 3];
    ck_assert_ok(btfm_dataset_read(ds, 30, 4, picks, 3, w));
    for (int t = 0; t < 4; t++) {
        ck_assert_float_eq(w[t * 3], (float)value(30 + t, 5));
        ck_assert_float_eq(w[t * 3 + 2], (float)value(30 + t, 0));
    }
    float native[5];
    ck_assert_ok(btfm_dataset_read_native(ds, 3, 10, 5, native));
    for (int t = 0; t < 5; t++) ck_assert_float_eq(native[t], (float)value(10 + t, 3));

    /* Geometry in metres; the channel position is the pair's midpoint. */
    int src, det;
    double wl, sp[3], dp[3], mid[3];
    ck_assert_ok(btfm_dataset_nirs_channel(ds, 3, &src, &det, &wl, sp, dp));
    ck_assert(src == 1 && det == 2 && wl == 850);
    ck_assert(fabs(sp[0]) < 1e-12 && fabs(sp[2] - 0.08) < 1e-12 && fabs(dp[0] - 0.045) < 1e-12);
    ck_assert_ok(btfm_dataset_channel_position(ds, 3, mid));
    ck_assert(fabs(mid[0] - 0.0225) < 1e-12 && fabs(mid[1] - 0.01) < 1e-12);
    ck_assert_status(btfm_dataset_nirs_channel(ds, 6, NULL, NULL, NULL, NULL, NULL), BTFM_E_NOTFOUND);
    double dist[8];
    ck_assert_ok(btfm_dataset_nirs_distances(ds, dist));
    ck_assert(fabs(dist[0] - 0.025) < 1e-12 && isnan(dist[6]));

    /* Events sorted by onset, durations and values as written. */
    ck_assert_int_eq(btfm_dataset_n_events(ds), 3);
    double onset, duration;
    const char *type, *label;
    int code;
    ck_assert_ok(btfm_dataset_event(ds, 1, &onset, &duration, &type, &label, &code));
    ck_assert(fabs(onset - 2.0) < 1e-12 && duration == 1.0);
    ck_assert_str_eq(type, "stim");
    ck_assert_str_eq(label, "rest");
    ck_assert_int_eq(code, 0); /* 1.5 is not a whole number */
    ck_assert_ok(btfm_dataset_event(ds, 2, &onset, &duration, NULL, &label, &code));
    ck_assert(fabs(onset - 3.25) < 1e-12 && duration == 0 && code == 2);
    btfm_dataset_free(ds);
}
END_TEST

/* Time vectors: [start, interval], milliseconds, jitter (kept), irregular (resampled),
 * and a start that is not 0 (event onsets become relative to the first sample). */
START_TEST(test_time_vectors)
{
    for (int form = 0; form < 4; form++) {
        spec s = base_spec();
        s.time_form = form;
        s.t0 = 12.5;
        s.dt = 0.1;
        s.time_unit = form == 1 ? "ms" : "s";
        write_snirf(tmp("t.snirf"), &s);
        btfm_dataset *ds = NULL;
        ck_assert_ok(btfm_dataset_open(&ds, tmp("t.snirf"), BTFM_FORMAT_SNIRF, 0));
        double onset;
        ck_assert_ok(btfm_dataset_event(ds, 0, &onset, NULL, NULL, NULL, NULL));
        double first = form == 1 ? s.t0 : time_of(&s, 0);
        ck_assert_msg(fabs(onset - (s.t0 + 1.0 - first)) < 1e-9, "form %d onset %g", form, onset);
        if (form < 3) {
            ck_assert_int_eq(btfm_dataset_n_times(ds), 37);
            ck_assert_msg(fabs(btfm_dataset_sfreq(ds) - 10.0) < 1e-6, "form %d: %g Hz", form,
                          btfm_dataset_sfreq(ds));
        } else {
            /* Intervals alternate 1.3 dt and 0.7 dt: median dt, values interpolated. */
            ck_assert(fabs(btfm_dataset_sfreq(ds) - 10.0) < 1e-9);
            int64_t n = btfm_dataset_n_times(ds);
            ck_assert_int_eq(n, 37);
            float *x = malloc(sizeof *x * (size_t)n * 6);
            ck_assert_ok(btfm_dataset_read(ds, 0, n, NULL, 0, x));
            for (int64_t k = 0; k < n; k++) {
                double tk = k * s.dt; /* relative to t0 */
                int j = 0;
                while (j + 2 < s.n_times && time_of(&s, j + 1) - s.t0 <= tk + 1e-12) j++;
                double a = (tk - (time_of(&s, j) - s.t0)) / (time_of(&s, j + 1) - time_of(&s, j));
                double want = value(j, 4) + a * (value(j + 1, 4) - value(j, 4));
                ck_assert_msg(fabs(x[k * 6 + 4] - want) < 1e-6, "sample %lld", (long long)k);
            }
            free(x);
        }
        btfm_dataset_free(ds);
    }
}
END_TEST

START_TEST(test_transposed_and_processed)
{
    spec s = base_spec();
    s.transposed = 1;
    write_snirf(tmp("tr.snirf"), &s);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("tr.snirf"), BTFM_FORMAT_AUTO, 0));
    float x[37 * 6];
    ck_assert_ok(btfm_dataset_read(ds, 0, 37, NULL, 0, x));
    for (int t = 0; t < 37; t++)
        for (int c = 0; c < 6; c++) ck_assert_float_eq(x[t * 6 + c], (float)value(t, c));
    btfm_dataset_free(ds);

    s = base_spec();
    s.data_type = 99999;
    s.unit = "uM";
    write_snirf(tmp("hb.snirf"), &s);
    ck_assert_ok(btfm_dataset_open(&ds, tmp("hb.snirf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 0), "S1_D1 hbo");
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "S1_D1 hbr");
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 1), BTFM_CH_HBR);
    ck_assert_str_eq(btfm_dataset_channel_unit(ds, 1), "M");
    ck_assert_ok(btfm_dataset_read(ds, 0, 1, NULL, 0, x));
    ck_assert(fabs(x[1] - value(0, 1) * 1e-6) < 1e-12);
    double wl;
    ck_assert_ok(btfm_dataset_nirs_channel(ds, 0, NULL, NULL, &wl, NULL, NULL));
    ck_assert(isnan(wl));
    btfm_dataset_free(ds);

    /* Three wavelengths; no positions and no tags still open (positions unknown). */
    s = base_spec();
    s.n_wavelengths = 3;
    s.no_tags = 1;
    write_snirf(tmp("w3.snirf"), &s);
    ck_assert_ok(btfm_dataset_open(&ds, tmp("w3.snirf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 9);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 2), "S1_D1 690");
    double p[3];
    ck_assert_status(btfm_dataset_channel_position(ds, 0, p), BTFM_E_NOTFOUND);
    ck_assert_status(btfm_dataset_start_time(ds, p), BTFM_E_NOTFOUND);
    btfm_dataset_free(ds);
}
END_TEST

/* Malformed files: each refused with the HDF5 path that is wrong. */
static const struct bad_case {
    const char *what, *expect;
    int status;
} bad_cases[] = {
    {"missing list", "/nirs/data1/measurementList3: missing", BTFM_E_FORMAT},
    {"wavelength index", "/nirs/data1/measurementList2: wavelengthIndex 9", BTFM_E_FORMAT},
    {"decreasing time", "/nirs/data1/time: time 4", BTFM_E_FORMAT},
    {"string series", "/nirs/data1/dataTimeSeries: expected a numeric", BTFM_E_FORMAT},
    {"data type", "dataType 201", BTFM_E_UNSUPPORTED},
    {"time unit", "/nirs/metaDataTags/TimeUnit: \"h\"", BTFM_E_FORMAT},
};

START_TEST(test_bad_layouts_are_named)
{
    const struct bad_case *b = &bad_cases[_i];
    spec s = base_spec();
    switch (_i) {
    case 0: s.skip_list = 1; break;
    case 1: s.bad_wavelength_index = 1; break;
    case 2: s.decreasing_time = 1; break;
    case 3: s.string_series = 1; break;
    case 4: s.data_type = 201; break;
    case 5: s.time_unit = "h"; break;
    }
    write_snirf(tmp("bad.snirf"), &s);
    btfm_dataset *ds = NULL;
    ck_assert_status(btfm_dataset_open(&ds, tmp("bad.snirf"), BTFM_FORMAT_AUTO, 0), b->status);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(btfm_last_error(), b->expect), "%s: %s", b->what, btfm_last_error());
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "bad.snirf"));
}
END_TEST

static herr_t counting_printer(hid_t stack, void *user)
{
    (void)stack;
    ++*(int *)user;
    return 0;
}

/* Not an HDF5 file, a truncated one, a missing group: clear errors, nothing printed on
 * stderr, and the thread's HDF5 error printer left as it was. */
START_TEST(test_broken_files_print_nothing)
{
    spec s = base_spec();
    write_snirf(tmp("good.snirf"), &s);
    FILE *in = fopen(tmp("good.snirf"), "rb"), *out = fopen(tmp("cut.snirf"), "wb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n / 2, out);
    fclose(in);
    fclose(out);
    out = fopen(tmp("text.snirf"), "wb");
    fputs("not hdf5\n", out);
    fclose(out);
    hid_t f = H5Fcreate(tmp("empty.snirf"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);

    int printed = 0;
    H5Eset_auto2(H5E_DEFAULT, counting_printer, &printed);
    fflush(stderr);
    int saved = dup(2);
    int sink = open(tmp("stderr.txt"), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    dup2(sink, 2);
    btfm_dataset *ds = NULL;
    int st_cut = btfm_dataset_open(&ds, tmp("cut.snirf"), BTFM_FORMAT_SNIRF, 0);
    char cut_msg[1024];
    snprintf(cut_msg, sizeof cut_msg, "%s", btfm_last_error());
    int st_text = btfm_dataset_open(&ds, tmp("text.snirf"), BTFM_FORMAT_SNIRF, 0);
    int st_empty = btfm_dataset_open(&ds, tmp("empty.snirf"), BTFM_FORMAT_AUTO, 0);
    char empty_msg[1024];
    snprintf(empty_msg, sizeof empty_msg, "%s", btfm_last_error());
    int st_missing = btfm_dataset_open(&ds, tmp("none.snirf"), BTFM_FORMAT_SNIRF, 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(sink);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    ck_assert_msg(func == counting_printer && data == &printed, "the HDF5 printer was not restored");
    ck_assert_int_eq(printed, 0);
    H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, stderr);
    FILE *e = fopen(tmp("stderr.txt"), "rb");
    ck_assert_int_eq(fread(buf, 1, sizeof buf, e), 0);
    fclose(e);
    ck_assert_int_eq(st_cut, BTFM_E_FORMAT);
    ck_assert_msg(strstr(cut_msg, "cut.snirf"), "%s", cut_msg);
    ck_assert_int_eq(st_text, BTFM_E_FORMAT);
    ck_assert_int_eq(st_empty, BTFM_E_FORMAT);
    ck_assert_msg(strstr(empty_msg, "/nirs: missing"), "%s", empty_msg);
    ck_assert_int_eq(st_missing, BTFM_E_NOTFOUND);
}
END_TEST

static Suite *snirf_suite(void)
{
    Suite *s = suite_create("snirf");
    TCase *tc = tcase_create("snirf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cw_file_reads_as_written);
    tcase_add_test(tc, test_time_vectors);
    tcase_add_test(tc, test_transposed_and_processed);
    tcase_add_loop_test(tc, test_bad_layouts_are_named, 0, (int)(sizeof bad_cases / sizeof *bad_cases));
    tcase_add_test(tc, test_broken_files_print_nothing);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(snirf_suite)
