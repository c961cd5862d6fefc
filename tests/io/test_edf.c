/* EDF/EDF+/BDF/BDF+ reading and writing, against files built here byte by byte from the
 * specification (edfplus.info, BioSemi BDF+): values from the scaling formula, TAL
 * annotations, EDF+D gaps, mixed rates, Status triggers, and a named error for every kind
 * of broken header. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "io/edf/edf_internal.h"

/* ---- a spec-driven writer for fixtures ---- */

typedef struct sig {
    const char *label, *unit;
    double pmin, pmax;
    int dmin, dmax, spr;
} sig;

typedef struct fixture {
    int bdf, plus, discontinuous;
    const char *reserved_override;  /* NULL: from bdf/plus/discontinuous */
    const char *n_records_text;     /* NULL: the true count */
    const char *duration_text;      /* NULL: "1" */
    int n_sig;
    sig s[6];
    int n_records;
    int ann_spr;                    /* samples per record of "EDF Annotations" (plus only) */
    const char *tals[8];            /* per record, after the time-keeping TAL */
    double record_onsets[8];        /* plus only */
    int truncate_bytes;             /* cut this many bytes off the end */
} fixture;

static void field(FILE *f, int width, const char *text)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%-*s", width, text);
    fwrite(buf, 1, (size_t)width, f);
}

static void fieldf(FILE *f, int width, double v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.8g", v);
    field(f, width, buf);
}

/* The digital value of signal k, sample i of record r (a known pattern). */
static int digital(const fixture *x, int k, int r, int i)
{
    int span = x->s[k].dmax - x->s[k].dmin;
    if (span <= 0) return x->s[k].dmin;
    return x->s[k].dmin + (int)(((long long)(r * 977 + i * 131 + k * 17)) % span);
}

static void write_fixture(const char *path, const fixture *x)
{
    FILE *f = fopen(path, "wb");
    int ns = x->n_sig + (x->plus ? 1 : 0);
    int bps = x->bdf ? 3 : 2;
    if (x->bdf) fwrite("\xff" "BIOSEMI", 1, 8, f);
    else field(f, 8, "0");
    field(f, 80, "MCH-0234567 F 02-MAY-1951 Haagse_Harry");
    field(f, 80, "Startdate 02-MAR-2002 EMG561 BK/JOP Sony. MNC R Sony");
    field(f, 8, "02.03.02");
    field(f, 8, "14.27.00");
    char buf[64];
    snprintf(buf, sizeof buf, "%d", 256 * (ns + 1));
    field(f, 8, buf);
    const char *reserved = x->reserved_override ? x->reserved_override
                           : !x->plus ? (x->bdf ? "24BIT" : "")
                           : x->bdf ? (x->discontinuous ? "BDF+D" : "BDF+C")
                                    : (x->discontinuous ? "EDF+D" : "EDF+C");
    field(f, 44, reserved);
    snprintf(buf, sizeof buf, "%d", x->n_records);
    field(f, 8, x->n_records_text ? x->n_records_text : buf);
    field(f, 8, x->duration_text ? x->duration_text : "1");
    snprintf(buf, sizeof buf, "%d", ns);
    field(f, 4, buf);
    const char *ann = x->bdf ? "BDF Annotations" : "EDF Annotations";
    for (int k = 0; k < ns; k++) field(f, 16, k < x->n_sig ? x->s[k].label : ann);
    for (int k = 0; k < ns; k++) field(f, 80, "AgAgCl electrode");
    for (int k = 0; k < ns; k++) field(f, 8, k < x->n_sig ? x->s[k].unit : "");
    for (int k = 0; k < ns; k++) fieldf(f, 8, k < x->n_sig ? x->s[k].pmin : -1);
    for (int k = 0; k < ns; k++) fieldf(f, 8, k < x->n_sig ? x->s[k].pmax : 1);
    for (int k = 0; k < ns; k++) fieldf(f, 8, k < x->n_sig ? x->s[k].dmin : (x->bdf ? -8388608 : -32768));
    for (int k = 0; k < ns; k++) fieldf(f, 8, k < x->n_sig ? x->s[k].dmax : (x->bdf ? 8388607 : 32767));
    for (int k = 0; k < ns; k++) field(f, 80, "HP:0.1Hz LP:75Hz");
    for (int k = 0; k < ns; k++) fieldf(f, 8, k < x->n_sig ? x->s[k].spr : x->ann_spr);
    for (int k = 0; k < ns; k++) field(f, 32, "");
    for (int r = 0; r < x->n_records; r++) {
        for (int k = 0; k < x->n_sig; k++)
            for (int i = 0; i < x->s[k].spr; i++) {
                int v = digital(x, k, r, i);
                unsigned char b[3] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16)};
                fwrite(b, 1, (size_t)bps, f);
            }
        if (x->plus) {
            size_t cap = (size_t)x->ann_spr * (size_t)bps;
            char *a = calloc(1, cap);
            double onset = x->discontinuous ? x->record_onsets[r] : r;
            int n = snprintf(a, cap, "+%g\x14\x14", onset) + 1;
            if (x->tals[r]) memcpy(a + n, x->tals[r], strlen(x->tals[r]));
            fwrite(a, 1, cap, f);
            free(a);
        }
    }
    fclose(f);
    if (x->truncate_bytes) {
        FILE *g = fopen(path, "rb+");
        fseek(g, 0, SEEK_END);
        long size = ftell(g);
        fclose(g);
        ck_assert_int_eq(truncate(path, size - x->truncate_bytes), 0);
    }
}

static char tmpdir[64];

static const char *tmp(const char *name)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/btfm-edf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static fixture basic_edf_plus(void)
{
    fixture x = {0};
    x.plus = 1;
    x.n_sig = 3;
    x.s[0] = (sig){"EEG Fpz-Cz", "uV", -3276.8, 3276.7, -32768, 32767, 100};
    x.s[1] = (sig){"EOG horizontal", "mV", -1, 1, -2048, 2047, 100};
    x.s[2] = (sig){"Resp oro-nasal", "", -5, 5, -100, 100, 100};
    x.n_records = 4;
    x.ann_spr = 60;
    x.tals[0] = "+0.5\x15" "1.25\x14Lights off\x14\x00";
    x.tals[2] = "+2.75\x14R\xc3\xa9veil\x14Second text\x14\x00"; /* UTF-8, two texts */
    return x;
}

/* ---- reading ---- */

START_TEST(edf_plus_values_channels_and_annotations)
{
    fixture x = basic_edf_plus();
    write_fixture(tmp("a.edf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("a.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_format(ds), BTFM_FORMAT_EDF);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 3);
    ck_assert_int_eq(btfm_dataset_n_times(ds), 400);
    ck_assert_double_eq(btfm_dataset_sfreq(ds), 100);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 0), "EEG Fpz-Cz");
    ck_assert_str_eq(btfm_dataset_channel_unit(ds, 0), "V");
    ck_assert_str_eq(btfm_dataset_channel_unit(ds, 2), "");
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 0), BTFM_CH_EEG);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 1), BTFM_CH_EOG);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 2), BTFM_CH_RESP);
    ck_assert_str_eq(btfm_dataset_subject(ds), "MCH-0234567 F 02-MAY-1951 Haagse_Harry");
    double start;
    ck_assert_ok(btfm_dataset_start_time(ds, &start));
    ck_assert_double_eq(start, 1015079220.0); /* 2002-03-02 14:27:00 UTC */
    float *all = malloc(400 * 3 * sizeof *all);
    ck_assert_ok(btfm_dataset_read(ds, 0, 400, NULL, 0, all));
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 100; i++)
            for (int k = 0; k < 3; k++) {
                const sig *s = &x.s[k];
                double factor = k == 0 ? 1e-6 : k == 1 ? 1e-3 : 1;
                double expect = ((digital(&x, k, r, i) - s->dmin) * (s->pmax - s->pmin) /
                                 (s->dmax - s->dmin) + s->pmin) * factor;
                double got = all[(r * 100 + i) * 3 + k];
                ck_assert_msg(fabs(got - expect) <= 1e-6 * fabs(expect) + 1e-12,
                              "record %d sample %d channel %d: %g, expected %g", r, i, k, got, expect);
            }
    /* A window with picks equals the same columns of the full read. */
    int picks[2] = {2, 0};
    float win[50 * 2];
    ck_assert_ok(btfm_dataset_read(ds, 175, 50, picks, 2, win));
    for (int t = 0; t < 50; t++) {
        ck_assert_float_eq(win[t * 2], all[(175 + t) * 3 + 2]);
        ck_assert_float_eq(win[t * 2 + 1], all[(175 + t) * 3]);
    }
    ck_assert_int_eq(btfm_dataset_n_events(ds), 3);
    double onset, duration;
    const char *type, *label;
    int code;
    ck_assert_ok(btfm_dataset_event(ds, 0, &onset, &duration, &type, &label, &code));
    ck_assert_double_eq(onset, 0.5);
    ck_assert_double_eq(duration, 1.25);
    ck_assert_str_eq(type, "annotation");
    ck_assert_str_eq(label, "Lights off");
    ck_assert_ok(btfm_dataset_event(ds, 1, &onset, NULL, NULL, &label, NULL));
    ck_assert_double_eq(onset, 2.75);
    ck_assert_str_eq(label, "R\xc3\xa9veil");
    ck_assert_ok(btfm_dataset_event(ds, 2, NULL, NULL, NULL, &label, NULL));
    ck_assert_str_eq(label, "Second text");
    ck_assert_status(btfm_dataset_event(ds, 3, NULL, NULL, NULL, NULL, NULL), BTFM_E_RANGE);
    ck_assert_int_eq(btfm_dataset_n_records(ds), 4);
    free(all);
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(bdf_plus_24bit_and_status_triggers)
{
    fixture x = {0};
    x.bdf = 1;
    x.plus = 1;
    x.n_sig = 2;
    x.s[0] = (sig){"A1", "uV", -262144, 262143, -8388608, 8388607, 64};
    x.s[1] = (sig){"Status", "Boolean", -8388608, 8388607, -8388608, 8388607, 64};
    x.n_records = 2;
    x.ann_spr = 20;
    write_fixture(tmp("b.bdf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("b.bdf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_format(ds), BTFM_FORMAT_BDF);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 1), BTFM_CH_STIM);
    float v[128];
    ck_assert_ok(btfm_dataset_read_native(ds, 0, 0, 128, v));
    double g = (262143.0 + 262144.0) / (8388607.0 + 8388608.0);
    for (int i = 0; i < 128; i++) {
        double expect = ((digital(&x, 0, i / 64, i % 64) + 8388608.0) * g - 262144.0) * 1e-6;
        ck_assert_msg(fabs(v[i] - expect) < 1e-6 * fabs(expect) + 1e-12, "%d: %g vs %g", i, v[i], expect);
    }
    /* Triggers: every change of the low 16 bits to a non-zero value is an event. */
    int64_t expected = 0;
    unsigned prev = 0;
    for (int i = 0; i < 128; i++) {
        unsigned t = (unsigned)(digital(&x, 1, i / 64, i % 64) & 0xFFFF);
        if (t != prev && t != 0) expected++;
        prev = t;
    }
    int64_t triggers = 0;
    for (int64_t e = 0; e < btfm_dataset_n_events(ds); e++) {
        const char *type;
        int code;
        double onset;
        ck_assert_ok(btfm_dataset_event(ds, e, &onset, NULL, &type, NULL, &code));
        if (strcmp(type, "trigger") != 0) continue;
        int sample = (int)lround(onset * 64);
        ck_assert_int_eq(code, digital(&x, 1, sample / 64, sample % 64) & 0xFFFF);
        triggers++;
    }
    ck_assert_int_eq(triggers, expected);
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(edf_plus_d_gaps_are_events_not_concatenation)
{
    fixture x = basic_edf_plus();
    x.discontinuous = 1;
    x.record_onsets[0] = 0.25; /* sub-second start */
    x.record_onsets[1] = 1.25;
    x.record_onsets[2] = 5.25; /* 3 s gap */
    x.record_onsets[3] = 6.25;
    x.tals[0] = "+0.75\x14" "first\x14\x00";
    x.tals[2] = "+5.5\x14" "after gap\x14\x00";
    write_fixture(tmp("d.edf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("d.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_n_times(ds), 400); /* stored samples, gaps not filled */
    double start, onset, duration;
    ck_assert_ok(btfm_dataset_start_time(ds, &start));
    ck_assert_double_eq(start, 1015079220.25);
    int64_t first;
    ck_assert_ok(btfm_dataset_record(ds, 2, &onset, &first));
    ck_assert_double_eq(onset, 5.0);
    ck_assert_int_eq(first, 200);
    const char *type, *label;
    int gaps = 0;
    for (int64_t e = 0; e < btfm_dataset_n_events(ds); e++) {
        ck_assert_ok(btfm_dataset_event(ds, e, &onset, &duration, &type, &label, NULL));
        if (strcmp(type, "gap") == 0) {
            ck_assert_double_eq_tol(onset, 2.0, 1e-12);
            ck_assert_double_eq_tol(duration, 3.0, 1e-12);
            gaps++;
        } else if (strcmp(label, "after gap") == 0) {
            ck_assert_double_eq_tol(onset, 5.25, 1e-12);
        } else {
            ck_assert_str_eq(label, "first");
            ck_assert_double_eq_tol(onset, 0.5, 1e-12);
        }
    }
    ck_assert_int_eq(gaps, 1);
    btfm_dataset_free(ds);
    /* The same gap in a file that claims to be continuous is refused. */
    x.reserved_override = "EDF+C";
    write_fixture(tmp("c.edf"), &x);
    ck_assert_status(btfm_dataset_open(&ds, tmp("c.edf"), BTFM_FORMAT_AUTO, 0), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "continuous (EDF+C)"));
}
END_TEST

START_TEST(mixed_rates_resampled_to_the_highest)
{
    fixture x = {0};
    x.n_sig = 2;
    x.s[0] = (sig){"Fast", "uV", -100, 100, -1000, 1000, 8};
    x.s[1] = (sig){"Slow", "uV", 50, 50.002, 0, 2, 2};
    x.n_records = 40;
    write_fixture(tmp("m.edf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("m.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_double_eq(btfm_dataset_sfreq(ds), 8);
    ck_assert_double_eq(btfm_dataset_channel_rate(ds, 1), 2);
    ck_assert_int_eq(btfm_dataset_channel_n_samples(ds, 1), 80);
    ck_assert_int_eq(btfm_dataset_n_times(ds), 320);
    /* Windowed reads of the resampled channel equal the whole-signal read. */
    float *whole = malloc(320 * 2 * sizeof *whole), win[37 * 2];
    ck_assert_ok(btfm_dataset_read(ds, 0, 320, NULL, 0, whole));
    for (int64_t first = 0; first + 37 <= 320; first += 23) {
        ck_assert_ok(btfm_dataset_read(ds, first, 37, NULL, 0, win));
        for (int t = 0; t < 37; t++)
            for (int k = 0; k < 2; k++)
                ck_assert_float_eq_tol(win[t * 2 + k], whole[(first + t) * 2 + k], 1e-12);
    }
    free(whole);
    btfm_dataset_free(ds);
}
END_TEST

/* A constant signal keeps its level through the resampler away from the edges: the
 * filter has unit DC gain, and each polyphase branch deviates from it only by the
 * stopband ripple of the Kaiser (beta 5) window, under 1e-3 (scipy.signal.resample_poly
 * gives the same values; tests/io compares the two sample by sample). */
START_TEST(resampler_has_unit_dc_gain)
{
    fixture x = {0};
    x.n_sig = 2;
    x.s[0] = (sig){"Fast", "uV", -100, 100, -1000, 1000, 10};
    x.s[1] = (sig){"Slow", "uV", -100, 100, 7, 8, 4}; /* digital() yields 7 always (span 1) */
    x.n_records = 60;
    write_fixture(tmp("dc.edf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("dc.edf"), BTFM_FORMAT_AUTO, 0));
    float v[600];
    int pick = 1;
    ck_assert_ok(btfm_dataset_read(ds, 0, 600, &pick, 1, v));
    double level = -100e-6; /* digital 7 = digital minimum -> physical minimum */
    for (int t = 100; t < 500; t++) ck_assert_double_eq_tol(v[t], level, 1e-3 * fabs(level));
    btfm_dataset_free(ds);
}
END_TEST

/* Every decoding path (whole records with 4-channel blocks, remainders, single-signal
 * spans, picks) gives bit-identical floats to the per-channel native read, which scales
 * each stored value in double: one formula, whatever the route. */
START_TEST(all_read_paths_agree_with_native_reads)
{
    fixture x = {0};
    x.n_sig = 6;
    for (int k = 0; k < 6; k++) x.s[k] = (sig){"EEG", "uV", -3276.8 + k, 3276.7 + 2 * k, -32768, 32767, 37};
    x.n_records = 9;
    write_fixture(tmp("p.edf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("p.edf"), BTFM_FORMAT_AUTO, 0));
    int64_t n = btfm_dataset_n_times(ds);
    float native[6][333];
    for (int c = 0; c < 6; c++) ck_assert_ok(btfm_dataset_read_native(ds, c, 0, n, native[c]));
    static const int pick_sets[][8] = {{4, 0, 1, 2, 3}, {5, 5, 4, 3, 2, 1}, {6, 0, 1, 2, 3, 4, 5}, {1, 3}};
    float *out = malloc((size_t)n * 6 * sizeof *out);
    for (size_t s = 0; s < sizeof pick_sets / sizeof *pick_sets; s++) {
        int np = pick_sets[s][0];
        const int *picks = pick_sets[s] + 1;
        for (int64_t first = 0; first < n; first += 29)
            for (int64_t count = 1; first + count <= n; count += 41) {
                ck_assert_ok(btfm_dataset_read(ds, first, count, picks, np, out));
                ck_assert_all(k, count * np, out[k] == native[picks[k % np]][first + k / np],
                              "picks %zu, window %lld+%lld, row %lld, column %d", s,
                              (long long)first, (long long)count, (long long)(k / np),
                              (int)(k % np));
            }
    }
    free(out);
    btfm_dataset_free(ds);
}
END_TEST

/* Reads past the caches take the streaming-store route; same floats again. */
START_TEST(large_reads_agree_with_native_reads)
{
    fixture x = {0};
    x.n_sig = 6;
    for (int k = 0; k < 6; k++) x.s[k] = (sig){"EEG", "uV", -3276.8, 3276.7, -32768, 32767, 512};
    x.n_records = 1400; /* 6 x 716800 floats = 17 MB of output: decoded on every core */
    write_fixture(tmp("big.edf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_open(&ds, tmp("big.edf"), BTFM_FORMAT_AUTO, 0));
    int64_t n = btfm_dataset_n_times(ds);
    float *out = malloc((size_t)n * 6 * sizeof *out), *native = malloc((size_t)n * sizeof *native);
    ck_assert_ok(btfm_dataset_read(ds, 0, n, NULL, 0, out));
    for (int c = 0; c < 6; c++) {
        ck_assert_ok(btfm_dataset_read_native(ds, c, 0, n, native));
        ck_assert_all(t, n, out[t * 6 + c] == native[t], "channel %d sample %lld", c, (long long)t);
    }
    free(out);
    free(native);
    btfm_dataset_free(ds);
}
END_TEST

/* Every decoding kernel (scalar, SSE2, AVX2, AVX-512; the CPU's own fallback for those it
 * lacks) gives exactly the floats of the scaling formula computed here, for channel
 * counts and sample counts around the kernels' block sizes, wider rows than channels,
 * odd gains and offsets, streaming stores on and off; int24 (BDF) too. */
START_TEST(decode_kernels_bit_identical)
{
    enum { MAX_C = 67, MAX_T = 515 };
    const int picks[] = {1, 3, 4, 7, 8, 9, 16, 17, 64, 67};
    const int64_t counts[] = {1, 3, 8, 9, 33, 512, 515};
    unsigned char *data = malloc((size_t)MAX_C * MAX_T * 3);
    float *out = malloc((size_t)MAX_T * (MAX_C + 5) * sizeof *out);
    double gain[MAX_C], offset[MAX_C];
    const unsigned char *src[MAX_C];
    uint32_t seed = 12345;
    for (size_t i = 0; i < (size_t)MAX_C * MAX_T * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        data[i] = (unsigned char)(seed >> 24);
    }
    for (int j = 0; j < MAX_C; j++) {
        gain[j] = (0.1 + j) * 1.0000001e-7 / 3.0; /* values with rounding in every step */
        offset[j] = (j - 30) * 7.3e-6;
    }
    long mismatches = 0, checked = 0;
    for (int bdf = 0; bdf <= 1; bdf++)
        for (size_t a = 0; a < sizeof picks / sizeof picks[0]; a++)
            for (size_t b = 0; b < sizeof counts / sizeof counts[0]; b++)
                for (int wide = 0; wide <= 1; wide++)
                    for (int kernel = EDF_KERNEL_SCALAR; kernel <= EDF_KERNEL_AVX512; kernel++) {
                        const int n = picks[a], bps = bdf ? 3 : 2;
                        const int64_t count = counts[b];
                        const size_t stride = (size_t)n + (wide ? 5 : 0);
                        for (int j = 0; j < n; j++) src[j] = data + (size_t)j * MAX_T * bps;
                        edf_decode d = {src, gain, offset, n, bdf, !wide, count, stride, out};
                        btfm_edf_decode(&d, (edf_kernel)kernel);
                        for (int64_t t = 0; t < count; t++)
                            for (int j = 0; j < n; j++) {
                                const unsigned char *p = src[j] + bps * t;
                                int32_t v = bdf ? (p[0] | (p[1] << 8) | (p[2] << 16)) : (int16_t)(p[0] | (p[1] << 8));
                                if (bdf && v >= 0x800000) v -= 0x1000000;
                                float want = (float)((double)v * gain[j] + offset[j]);
                                mismatches += memcmp(&want, &out[t * (int64_t)stride + j], sizeof want) != 0;
                                checked++;
                            }
                    }
    ck_assert_msg(mismatches == 0, "%ld of %ld decoded samples differ from the formula",
                  mismatches, checked);
    free(data);
    free(out);
}
END_TEST

/* Writing rescaled data (a memory dataset to EDF and BDF, a block of rows at a time with
 * the vectorized quantizer): every stored digital value is the specification's linear
 * map of the physical value, (x - pmin) (dmax - dmin) / (pmax - pmin) + dmin rounded to
 * the nearest integer, with the ranges read back from the written header; channel
 * counts around the vector widths, a partial last record. */
static double header_number(const unsigned char *h, long at)
{
    char text[9];
    memcpy(text, h + at, 8);
    text[8] = 0;
    return strtod(text, NULL);
}

START_TEST(written_digital_values_follow_the_scaling)
{
    const int widths[] = {1, 7, 17};
    for (int bdf = 0; bdf <= 1; bdf++)
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            const int nc = widths[w], nt = 1000 + 37;
            float *x = malloc(sizeof(float) * (size_t)nt * (size_t)nc);
            uint32_t seed = (uint32_t)(nc * 7 + bdf);
            for (int i = 0; i < nt * nc; i++) {
                seed = seed * 1664525u + 1013904223u;
                x[i] = (float)(((double)(seed >> 8) / 16777216.0 - 0.5) * 2e-4 * (1 + i % nc));
            }
            btfm_dataset *ds = NULL;
            ck_assert_ok(btfm_dataset_from_array(&ds, x, nt, nc, 100.0, NULL));
            for (int c = 0; c < nc; c++) ck_assert_ok(btfm_dataset_set_channel_unit(ds, c, "V"));
            const char *file = tmp(bdf ? "q.bdf" : "q.edf");
            ck_assert_ok(btfm_dataset_save(ds, file, BTFM_FORMAT_AUTO, 0));
            size_t size;
            unsigned char *file_bytes = unit_read_file(file, &size);
            const int ns = nc + 1, bps = bdf ? 3 : 2; /* + the annotation signal */
            long spr_at = 256 + (long)ns * (16 + 80 + 8 + 8 * 4 + 80);
            long record_bytes = 0;
            for (int k = 0; k < ns; k++) record_bytes += bps * (long)header_number(file_bytes, spr_at + 8 * k);
            const int spr = (int)header_number(file_bytes, spr_at);
            long mismatches = 0;
            for (int c = 0; c < nc; c++) {
                double pmin = header_number(file_bytes, 256 + ns * 104L + 8 * c);
                double pmax = header_number(file_bytes, 256 + ns * 112L + 8 * c);
                double dmin = header_number(file_bytes, 256 + ns * 120L + 8 * c);
                double dmax = header_number(file_bytes, 256 + ns * 128L + 8 * c);
                for (int t = 0; t < nt; t++) {
                    const unsigned char *p = file_bytes + 256 * (ns + 1) + (t / spr) * record_bytes +
                                             (long)bps * ((long)c * spr + t % spr);
                    int32_t d = bdf ? (p[0] | (p[1] << 8) | (p[2] << 16)) : (int16_t)(p[0] | (p[1] << 8));
                    if (bdf && d >= 0x800000) d -= 0x1000000;
                    double scale = (dmax - dmin) / (pmax - pmin); /* per uV */
                    double want = nearbyint((double)x[t * nc + c] * (scale * 1e6) + (dmin - pmin * scale));
                    mismatches += (double)d != want;
                }
            }
            ck_assert_msg(mismatches == 0, "%s, %d channels: %ld digital values off the scaling",
                          bdf ? "BDF" : "EDF", nc, mismatches);
            free(file_bytes);
            free(x);
            btfm_dataset_free(ds);
        }
}
END_TEST

/* ---- broken files: each a named error with file, field and byte offset ---- */

/* Files that are not EDF at all, whatever their name says, and folders. */
START_TEST(not_edf_files_and_folders_are_named)
{
    static const struct { const char *bytes; size_t n; int status; const char *needle; } cases[] = {
        {"hello world, a text file\n", 25, BTFM_E_FORMAT,
         "not an EDF or BDF file: it starts with \"hello wo\""},
        {"x", 1, BTFM_E_FORMAT, "it starts with \"x\""},
        {"\x89PNG\r\n\x1a\n", 8, BTFM_E_FORMAT, "it starts with \"\\x89PNG\\x0D\\x0A\\x1A\\x0A\""},
        {"0  ", 3, BTFM_E_TRUNCATED, "byte 3: the file ends inside the 256-byte header"},
        {"\xff" "BIO", 4, BTFM_E_TRUNCATED, "byte 4: the file ends inside the 256-byte header"},
        {"", 0, BTFM_E_TRUNCATED, "byte 0: the file ends inside the 256-byte header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *names[] = {"text.edf", "text.bdf"};
        for (int k = 0; k < 2; k++) {
            FILE *f = fopen(tmp(names[k]), "wb");
            fwrite(cases[i].bytes, 1, cases[i].n, f);
            fclose(f);
            btfm_dataset *ds = (btfm_dataset *)1;
            ck_assert_status(btfm_dataset_open(&ds, tmp(names[k]), BTFM_FORMAT_AUTO, 0),
                             cases[i].status);
            ck_assert_ptr_null(ds);
            ck_assert_msg(strstr(btfm_last_error(), cases[i].needle) &&
                          strstr(btfm_last_error(), names[k]),
                          "case %zu (%s): \"%s\" lacks \"%s\"", i, names[k], btfm_last_error(),
                          cases[i].needle);
        }
    }
    const char *folders[] = {"folder", "folder.edf", "folder.vhdr", "folder.nii"};
    for (size_t i = 0; i < sizeof folders / sizeof *folders; i++) {
        mkdir(tmp(folders[i]), 0700);
        for (int format = BTFM_FORMAT_AUTO; format <= BTFM_FORMAT_NIFTI; format++) {
            btfm_dataset *ds = (btfm_dataset *)1;
            ck_assert_status(btfm_dataset_open(&ds, tmp(folders[i]), format, 0), BTFM_E_IO);
            ck_assert_ptr_null(ds);
            ck_assert_msg(strstr(btfm_last_error(), "is a folder, not a recording file"),
                          "%s as format %d: %s", folders[i], format, btfm_last_error());
        }
        rmdir(tmp(folders[i]));
    }
}
END_TEST

static void expect_open_error(const fixture *x, int status, const char *needle)
{
    write_fixture(tmp("bad.edf"), x);
    btfm_dataset *ds = (btfm_dataset *)1;
    ck_assert_status(btfm_dataset_open(&ds, tmp("bad.edf"), BTFM_FORMAT_AUTO, 0), status);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(btfm_last_error(), needle) != NULL, "message \"%s\" lacks \"%s\"",
                  btfm_last_error(), needle);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "bad.edf"));
}

START_TEST(broken_headers_get_named_errors)
{
    fixture x = basic_edf_plus();
    x.truncate_bytes = 10;
    expect_open_error(&x, BTFM_E_TRUNCATED, "byte 236: the header declares 4 data records");
    x = basic_edf_plus();
    x.n_records_text = "999";
    expect_open_error(&x, BTFM_E_TRUNCATED, "declares 999 data records");
    x.n_records_text = "-7";
    expect_open_error(&x, BTFM_E_FORMAT, "byte 236: number of data records is -7");
    x.n_records_text = "0";
    expect_open_error(&x, BTFM_E_FORMAT, "number of data records is 0");
    x.n_records_text = "abc";
    expect_open_error(&x, BTFM_E_FORMAT, "byte 236: field \"number of data records\" is \"abc\"");
    x = basic_edf_plus();
    x.s[0].pmin = NAN;
    expect_open_error(&x, BTFM_E_FORMAT, "field \"physical minimum\" of signal 1 is \"nan\"");
    x = basic_edf_plus();
    x.s[0].pmin = -1e308;
    x.s[0].pmax = 1e308;
    expect_open_error(&x, BTFM_E_FORMAT, "physical minimum -1e+308 and maximum 1e+308 of signal 1 "
                      "scale digital values beyond the largest finite number");
    x = basic_edf_plus();
    x.duration_text = "3e-308"; /* a normal number: 1e-320 is refused as a field */
    expect_open_error(&x, BTFM_E_FORMAT, "make an infinite sampling rate");
    x = basic_edf_plus();
    x.s[1].pmax = x.s[1].pmin;
    expect_open_error(&x, BTFM_E_FORMAT, "physical minimum and maximum of signal 2 are both");
    x = basic_edf_plus();
    x.s[0].dmin = 5;
    x.s[0].dmax = 5;
    expect_open_error(&x, BTFM_E_FORMAT, "digital minimum 5 and maximum 5 of signal 1");
    x = basic_edf_plus();
    x.n_sig = 0;
    expect_open_error(&x, BTFM_E_FORMAT, "all 1 signals are annotations");
    x = basic_edf_plus();
    x.duration_text = "0";
    expect_open_error(&x, BTFM_E_FORMAT, "byte 244: duration of a data record is 0");
    x = basic_edf_plus();
    x.tals[1] = "12\x14no sign\x14\x00";
    expect_open_error(&x, BTFM_E_FORMAT, "annotation in data record 1: expected an onset");
    /* A plain (non-EDF) file. */
    FILE *f = fopen(tmp("bad.edf"), "wb");
    fputs("hello world, this is not a recording at all............", f);
    fclose(f);
    btfm_dataset *ds = NULL;
    ck_assert_status(btfm_dataset_open(&ds, tmp("bad.edf"), BTFM_FORMAT_EDF, 0), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "not an EDF or BDF file"));
    ck_assert_status(btfm_dataset_open(&ds, tmp("nothing.edf"), BTFM_FORMAT_AUTO, 0), BTFM_E_NOTFOUND);
}
END_TEST

/* A header whose records x record bytes wraps past 2^64 to the data's size: 923 signals
 * of up to 99,999,999 samples (a 237 KB header) and 99,993,984 records make 2^64 + 28,928
 * bytes, so 28,928 bytes of data "match" an unchecked product. */
START_TEST(record_sizes_that_overflow_are_truncated_files)
{
    const long long n_records = 99993984, total = 92239269483LL; /* samples per record */
    const int ns = 923;
    FILE *f = fopen(tmp("wrap.edf"), "wb");
    char buf[64];
    field(f, 8, "0");
    field(f, 80, "X X X X");
    field(f, 80, "Startdate X X X X");
    field(f, 8, "01.01.01");
    field(f, 8, "00.00.00");
    snprintf(buf, sizeof buf, "%d", 256 * (ns + 1));
    field(f, 8, buf);
    field(f, 44, "");
    snprintf(buf, sizeof buf, "%lld", n_records);
    field(f, 8, buf);
    field(f, 8, "1");
    snprintf(buf, sizeof buf, "%d", ns);
    field(f, 4, buf);
    const int widths[] = {16, 80, 8, 8, 8, 8, 8, 80};
    const char *values[] = {"C", "", "uV", "-100", "100", "-32768", "32767", ""};
    for (int k = 0; k < 8; k++)
        for (int i = 0; i < ns; i++) field(f, widths[k], values[k]);
    for (int i = 0; i < ns; i++) {
        snprintf(buf, sizeof buf, "%lld", i < ns - 1 ? 99999999LL : total - 99999999LL * (ns - 1));
        field(f, 8, buf);
    }
    for (int i = 0; i < ns; i++) field(f, 32, "");
    for (int i = 0; i < 28928; i++) fputc(0, f);
    fclose(f);
    /* (2 total) * n_records = 2^64 + 28,928 */
    ck_assert_uint_eq((unsigned long long)(2 * total) * (unsigned long long)n_records, 28928u);
    btfm_dataset *ds = (btfm_dataset *)1;
    ck_assert_status(btfm_dataset_open(&ds, tmp("wrap.edf"), BTFM_FORMAT_AUTO, 0),
                     BTFM_E_TRUNCATED);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(btfm_last_error(), "declares 99993984 data records of 184478538966 "
                         "bytes (more than 2^63 bytes after the header)"), "%s",
                  btfm_last_error());
}
END_TEST

START_TEST(complete_records_only_on_request)
{
    fixture x = basic_edf_plus();
    x.truncate_bytes = 10;
    write_fixture(tmp("t.edf"), &x);
    btfm_dataset *ds = NULL;
    ck_assert_status(btfm_dataset_open(&ds, tmp("t.edf"), BTFM_FORMAT_AUTO, 0), BTFM_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "BTFM_OPEN_COMPLETE_RECORDS"));
    ck_assert_ok(btfm_dataset_open(&ds, tmp("t.edf"), BTFM_FORMAT_AUTO, BTFM_OPEN_COMPLETE_RECORDS));
    ck_assert_int_eq(btfm_dataset_n_times(ds), 300);
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(bad_arguments)
{
    fixture x = basic_edf_plus();
    write_fixture(tmp("a.edf"), &x);
    btfm_dataset *ds = NULL;
    float out[8];
    ck_assert_ok(btfm_dataset_open(&ds, tmp("a.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_status(btfm_dataset_read(ds, 399, 2, NULL, 0, out), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "samples [399, 401) are outside [0, 400)"));
    /* first + count would overflow: the message states the request as given */
    ck_assert_status(btfm_dataset_read(ds, INT64_MAX, 1, NULL, 0, out), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(),
                                 "samples [9223372036854775807, 9223372036854775807 + 1) are "
                                 "outside [0, 400)"));
    ck_assert_status(btfm_dataset_read(ds, -1, 1, NULL, 0, out), BTFM_E_RANGE);
    int bad_pick = 3;
    ck_assert_status(btfm_dataset_read(ds, 0, 1, &bad_pick, 1, out), BTFM_E_RANGE);
    ck_assert_status(btfm_dataset_read(ds, 0, 1, &bad_pick, 0, out), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_read(ds, 0, 1, NULL, 0, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_read(NULL, 0, 1, NULL, 0, out), BTFM_E_INVALID);
    ck_assert_ok(btfm_dataset_read(ds, 400, 0, NULL, 0, NULL)); /* an empty window */
    ck_assert_status(btfm_dataset_read_native(ds, 5, 0, 1, out), BTFM_E_RANGE);
    ck_assert_ptr_null(btfm_dataset_channel_name(ds, 3));
    ck_assert_int_eq(btfm_dataset_channel_type(ds, -1), BTFM_E_RANGE);
    ck_assert_status(btfm_dataset_set_channel_type(ds, 0, 999), BTFM_E_INVALID);
    ck_assert_ok(btfm_dataset_set_channel_type(ds, 0, BTFM_CH_ECOG));
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 0), BTFM_CH_ECOG);
    ck_assert_ok(btfm_dataset_set_channel_bad(ds, 1, 1));
    ck_assert_int_eq(btfm_dataset_channel_bad(ds, 1), 1);
    int ch;
    ck_assert_status(btfm_dataset_find_channel(ds, "Cz", &ch), BTFM_E_NOTFOUND);
    ck_assert_ok(btfm_dataset_find_channel(ds, "EOG horizontal", &ch));
    ck_assert_int_eq(ch, 1);
    btfm_dataset *other = NULL;
    ck_assert_status(btfm_dataset_open(&other, tmp("a.edf"), 77, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_open(&other, tmp("a.edf"), 0, 0x80), BTFM_E_INVALID);
    ck_assert_ptr_null(other);
    ck_assert_str_eq(btfm_channel_type_name(BTFM_CH_SEEG), "seeg");
    ck_assert_int_eq(btfm_channel_type_from_name("EOG"), BTFM_CH_EOG);
    ck_assert_int_eq(btfm_channel_type_from_name("nope"), 0);
    ck_assert_str_eq(btfm_format_name(BTFM_FORMAT_BDF), "bdf");
    btfm_dataset_free(ds);
    btfm_dataset_free(NULL);
}
END_TEST

/* ---- writing ---- */

static void assert_same_recording(btfm_dataset *a, btfm_dataset *b)
{
    ck_assert_int_eq(btfm_dataset_n_channels(a), btfm_dataset_n_channels(b));
    ck_assert_int_eq(btfm_dataset_n_times(a), btfm_dataset_n_times(b));
    for (int c = 0; c < btfm_dataset_n_channels(a); c++) {
        ck_assert_str_eq(btfm_dataset_channel_name(a, c), btfm_dataset_channel_name(b, c));
        int64_t n = btfm_dataset_channel_n_samples(a, c);
        float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
        ck_assert_ok(btfm_dataset_read_native(a, c, 0, n, x));
        ck_assert_ok(btfm_dataset_read_native(b, c, 0, n, y));
        ck_assert_mem_eq(x, y, (size_t)n * sizeof *x); /* same digital values, same scaling */
        free(x);
        free(y);
    }
}

START_TEST(round_trip_edf_and_bdf_exact)
{
    fixture x = basic_edf_plus();
    x.discontinuous = 1;
    double onsets[4] = {0, 1, 3.5, 4.5};
    memcpy(x.record_onsets, onsets, sizeof onsets);
    write_fixture(tmp("src.edf"), &x);
    btfm_dataset *a = NULL, *b = NULL;
    ck_assert_ok(btfm_dataset_open(&a, tmp("src.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_save(a, tmp("copy.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_open(&b, tmp("copy.edf"), BTFM_FORMAT_AUTO, 0));
    assert_same_recording(a, b);
    ck_assert_int_eq(btfm_dataset_n_events(a), btfm_dataset_n_events(b));
    for (int64_t e = 0; e < btfm_dataset_n_events(a); e++) {
        double o1, o2, d1, d2;
        const char *l1, *l2, *t1, *t2;
        ck_assert_ok(btfm_dataset_event(a, e, &o1, &d1, &t1, &l1, NULL));
        ck_assert_ok(btfm_dataset_event(b, e, &o2, &d2, &t2, &l2, NULL));
        ck_assert_double_eq_tol(o1, o2, 1e-7);
        ck_assert_double_eq_tol(d1, d2, 1e-7);
        ck_assert_str_eq(t1, t2);
        ck_assert_str_eq(l1, l2);
    }
    double s1, s2;
    ck_assert_ok(btfm_dataset_start_time(a, &s1));
    ck_assert_ok(btfm_dataset_start_time(b, &s2));
    ck_assert_double_eq(s1, s2);
    ck_assert_str_eq(btfm_dataset_subject(a), btfm_dataset_subject(b));
    btfm_dataset_free(b);
    /* Anonymized: identifiers cleared, date moved to 1985-01-01, time of day kept. */
    ck_assert_ok(btfm_dataset_save(a, tmp("anon.edf"), BTFM_FORMAT_AUTO, BTFM_SAVE_ANONYMIZE));
    ck_assert_ok(btfm_dataset_open(&b, tmp("anon.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_str_eq(btfm_dataset_subject(b), "X X X X");
    ck_assert_ptr_null(strstr(btfm_dataset_recording(b), "EMG561"));
    ck_assert_ok(btfm_dataset_start_time(b, &s2));
    ck_assert_double_eq(s2, 473385600.0 + 14 * 3600 + 27 * 60);
    ck_assert_str_eq(btfm_dataset_subject(a), "MCH-0234567 F 02-MAY-1951 Haagse_Harry"); /* untouched */
    assert_same_recording(a, b);
    btfm_dataset_free(b);
    btfm_dataset_free(a);
    /* BDF with Status: exact too. */
    fixture y = {0};
    y.bdf = 1;
    y.n_sig = 2;
    y.s[0] = (sig){"A1", "uV", -262144, 262143, -8388608, 8388607, 32};
    y.s[1] = (sig){"Status", "Boolean", -8388608, 8388607, -8388608, 8388607, 32};
    y.n_records = 3;
    write_fixture(tmp("src.bdf"), &y);
    ck_assert_ok(btfm_dataset_open(&a, tmp("src.bdf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_save(a, tmp("copy.bdf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_open(&b, tmp("copy.bdf"), BTFM_FORMAT_AUTO, 0));
    assert_same_recording(a, b);
    ck_assert_int_eq(btfm_dataset_n_events(a), btfm_dataset_n_events(b));
    btfm_dataset_free(a);
    btfm_dataset_free(b);
}
END_TEST

START_TEST(cross_format_write_within_one_step)
{
    /* EDF -> BDF: the data are requantized to 24 bits within the new step. */
    fixture x = basic_edf_plus();
    write_fixture(tmp("src.edf"), &x);
    btfm_dataset *a = NULL, *b = NULL;
    ck_assert_ok(btfm_dataset_open(&a, tmp("src.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_save(a, tmp("conv.bdf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_open(&b, tmp("conv.bdf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_format(b), BTFM_FORMAT_BDF);
    float *va = malloc(400 * 3 * sizeof *va), *vb = malloc(400 * 3 * sizeof *vb);
    ck_assert_ok(btfm_dataset_read(a, 0, 400, NULL, 0, va));
    ck_assert_ok(btfm_dataset_read(b, 0, 400, NULL, 0, vb));
    for (int c = 0; c < 3; c++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int t = 0; t < 400; t++) {
            lo = fminf(lo, va[t * 3 + c]);
            hi = fmaxf(hi, va[t * 3 + c]);
        }
        /* 24-bit step over the written range (the range is rounded outward a little). */
        double step = 1.01 * (hi - lo) / 16777215.0 + 1e-12 + 1e-6 * fabs(hi);
        for (int t = 0; t < 400; t++)
            ck_assert_msg(fabs(va[t * 3 + c] - vb[t * 3 + c]) <= step, "channel %d sample %d", c, t);
    }
    ck_assert_int_eq(btfm_dataset_n_events(a), btfm_dataset_n_events(b));
    free(va);
    free(vb);
    btfm_dataset_free(a);
    btfm_dataset_free(b);
}
END_TEST

static Suite *edf_suite(void)
{
    Suite *s = suite_create("edf");
    TCase *tc = tcase_create("edf");
    unit_set_timeout(tc, 1.0); /* seconds of work on an idle machine */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, edf_plus_values_channels_and_annotations);
    tcase_add_test(tc, bdf_plus_24bit_and_status_triggers);
    tcase_add_test(tc, edf_plus_d_gaps_are_events_not_concatenation);
    tcase_add_test(tc, mixed_rates_resampled_to_the_highest);
    tcase_add_test(tc, resampler_has_unit_dc_gain);
    tcase_add_test(tc, all_read_paths_agree_with_native_reads);
    tcase_add_test(tc, large_reads_agree_with_native_reads);
    tcase_add_test(tc, decode_kernels_bit_identical);
    tcase_add_test(tc, written_digital_values_follow_the_scaling);
    tcase_add_test(tc, broken_headers_get_named_errors);
    tcase_add_test(tc, not_edf_files_and_folders_are_named);
    tcase_add_test(tc, complete_records_only_on_request);
    tcase_add_test(tc, record_sizes_that_overflow_are_truncated_files);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, round_trip_edf_and_bdf_exact);
    tcase_add_test(tc, cross_format_write_within_one_step);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(edf_suite)
