/* Unit tests of the simulators (include/btfm/sim.h): the generator against Random123's
 * known answers, the elementary functions against libm, the normals against their
 * moments; written sessions read back by the library's BIDS reader and compared with
 * the truth files; byte-identical files for a seed whatever the thread count; every
 * rejected parameter and the clean cancellation. Signal content is checked against MNE
 * and SciPy in test_sim_mne.py. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sim/sim_math.h"
#include "sim/sim_random.h"
#include "unit.h"

static void assert_message(const char *needle)
{
    ck_assert_msg(strstr(btfm_last_error(), needle) != NULL, "message \"%s\" lacks \"%s\"",
                  btfm_last_error(), needle);
}

/* A fresh folder name under the system's temporary folder (not created). */
static void temp_name(char *out, size_t cap, const char *what)
{
    char dir[] = "/tmp/btfm-sim-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(out, cap, "%s/%s", dir, what);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void set(btfm_sim *sim, int kind, const char *name, double value)
{
    int param;
    ck_assert_ok(btfm_param_find(kind, name, &param));
    ck_assert_ok(btfm_sim_set_param(sim, param, value));
}

/* A small rating session: 3 annotators x 8 items, 16 EEG channels at 100 Hz. */
static btfm_sim *small_rating(void)
{
    btfm_sim *sim;
    ck_assert_ok(btfm_sim_new(&sim, BTFM_OBJECT_SIM_RATING_SESSION));
    const int k = BTFM_OBJECT_SIM_RATING_SESSION;
    set(sim, k, "n_annotators", 3);
    set(sim, k, "n_items", 8);
    set(sim, k, "n_channels", 16);
    set(sim, k, "sfreq", 100);
    set(sim, k, "line_freq", 0);
    set(sim, k, "n_pairs", 5);
    set(sim, k, "n_bad_channels", 2);
    set(sim, k, "artifact_rate", 6);
    return sim;
}

START_TEST(philox_known_answers)
{
    /* Random123's kat_vectors for philox4x64-10: counter, key, output. */
    static const uint64_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x16554d9eca36314cULL, 0xdb20fe9d672d0fdcULL, 0xd7e772cee186176bULL,
         0x7e68b68aec7ba23bULL},
        {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, 0x87b092c3013fe90bULL, 0x438c3c67be8d0224ULL,
         0x9cc7d7c69cd777b6ULL, 0xa09caebf594f0ba0ULL},
        {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL,
         0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL, 0xa528f45403e61d95ULL, 0x38c72dbd566e9788ULL,
         0xa5a1610e72fd18b5ULL, 0x57bd43b5e52b7fe6ULL},
    };
    for (int v = 0; v < 3; v++) {
        uint64_t out[4];
        btfm_sim_philox4x64(kat[v], kat[v] + 4, out);
        for (int k = 0; k < 4; k++) ck_assert_msg(out[k] == kat[v][6 + k], "vector %d word %d", v, k);
    }
    /* A stream returns the blocks of counters 0, 1, 2, ... in order. */
    sim_rng r;
    btfm_sim_rng_init(&r, 7, 3, 11);
    uint64_t counter[4] = {1, 11, 0, 0}, key[2] = {7, 3}, block[4];
    btfm_sim_philox4x64(counter, key, block);
    for (int k = 0; k < 4; k++) btfm_sim_rng_u64(&r);
    for (int k = 0; k < 4; k++) ck_assert(btfm_sim_rng_u64(&r) == block[k]);
}
END_TEST

START_TEST(math_matches_libm)
{
    double worst_log = 0, worst_exp = 0, worst_sin = 0, worst_cos = 0;
    for (int i = 0; i < 20000; i++) {
        double x = pow(10.0, -12.0 + 24.0 * i / 20000.0) * (1 + 1e-3 * (i % 7));
        worst_log = fmax(worst_log, fabs(btfm_sim_log(x) - log(x)) / fmax(fabs(log(x)), 1e-300));
        double y = -700.0 + 1400.0 * i / 20000.0 + 0.001 * (i % 13);
        worst_exp = fmax(worst_exp, fabs(btfm_sim_exp(y) - exp(y)) / exp(y));
        double z = -1000.0 + 2000.0 * i / 20000.0 + 0.0137 * (i % 11);
        worst_sin = fmax(worst_sin, fabs(btfm_sim_sin(z) - sin(z)));
        worst_cos = fmax(worst_cos, fabs(btfm_sim_cos(z) - cos(z)));
    }
    ck_assert_msg(worst_log < 4e-16, "log relative error %g", worst_log);
    ck_assert_msg(worst_exp < 1e-15, "exp relative error %g", worst_exp);
    ck_assert_msg(worst_sin < 1e-15 && worst_cos < 1e-15, "sin %g cos %g", worst_sin, worst_cos);
    ck_assert(btfm_sim_log(1.0) == 0.0 && btfm_sim_exp(0.0) == 1.0);
    ck_assert(isinf(btfm_sim_log(0.0)) && isnan(btfm_sim_log(-1.0)) && btfm_sim_exp(-800) == 0.0);
    ck_assert_double_eq_tol(btfm_sim_log(4.9e-324), log(4.9e-324), 1e-12); /* subnormal */
}
END_TEST

START_TEST(normals_have_normal_moments)
{
    sim_rng r;
    btfm_sim_rng_init(&r, 123, 1, 0);
    const int n = 400000;
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, beyond3 = 0;
    for (int i = 0; i < n; i++) {
        double x = btfm_sim_rng_normal(&r);
        m1 += x;
        m2 += x * x;
        m3 += x * x * x;
        m4 += x * x * x * x;
        beyond3 += fabs(x) > 3;
    }
    m1 /= n, m2 /= n, m3 /= n, m4 /= n, beyond3 /= n;
    /* Five standard errors at n = 4e5: mean 1.6e-3, variance 2.2e-3 (sqrt(2/n)), third
     * moment 6.1e-3 (sqrt(15/n)), fourth 1.5e-2 (sqrt(96/n)), tail 8.2e-5. */
    ck_assert_double_eq_tol(m1, 0.0, 0.008);
    ck_assert_double_eq_tol(m2, 1.0, 0.011);
    ck_assert_double_eq_tol(m3, 0.0, 0.03);
    ck_assert_double_eq_tol(m4, 3.0, 0.08);
    ck_assert_double_eq_tol(beyond3, 0.0026998, 0.0004); /* 2 (1 - Phi(3)) */
    int64_t perm[50], seen[50] = {0};
    btfm_sim_rng_permutation(&r, perm, 50);
    for (int i = 0; i < 50; i++) seen[perm[i]]++;
    for (int i = 0; i < 50; i++) ck_assert_int_eq(seen[i], 1);
}
END_TEST

START_TEST(parameter_tables_follow_the_enums)
{
    static const struct { int kind, param; const char *name; } pins[] = {
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_SEED, "seed"},
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_EFFECT_SCALE, "effect_scale"},
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_LINE_FREQ, "line_freq"},
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_N_PAIRS, "n_pairs"},
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_FMRI_MOTION_MM, "fmri_motion_mm"},
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_NUM_THREADS, "num_threads"},
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_THETA_ENGAGEMENT_UV, "theta_engagement_uv"},
        {BTFM_OBJECT_SIM_RATING_SESSION, BTFM_SIM_RATING_BLINK_ENGAGEMENT, "blink_engagement"},
        {BTFM_OBJECT_SIM_SHARED_RESPONSE, BTFM_SIM_SHARED_CORRESPONDENCE, "correspondence"},
        {BTFM_OBJECT_SIM_SHARED_RESPONSE, BTFM_SIM_SHARED_FORMAT, "format"},
        {BTFM_OBJECT_SIM_SHARED_RESPONSE, BTFM_SIM_SHARED_NUM_THREADS, "num_threads"},
    };
    for (size_t i = 0; i < sizeof pins / sizeof *pins; i++) {
        int param;
        ck_assert_ok(btfm_param_find(pins[i].kind, pins[i].name, &param));
        ck_assert_int_eq(param, pins[i].param);
    }
    ck_assert_int_eq(btfm_param_count(BTFM_OBJECT_SIM_RATING_SESSION), BTFM_SIM_RATING_BLINK_ENGAGEMENT + 1);
    ck_assert_int_eq(btfm_param_count(BTFM_OBJECT_SIM_SHARED_RESPONSE), BTFM_SIM_SHARED_NUM_THREADS + 1);
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_SIM_RATING_SESSION), "sim_rating_session");
    for (int kind = BTFM_OBJECT_SIM_RATING_SESSION; kind <= BTFM_OBJECT_SIM_SHARED_RESPONSE; kind++) {
        btfm_sim *sim;
        ck_assert_ok(btfm_sim_new(&sim, kind));
        ck_assert_int_eq(btfm_sim_kind(sim), kind);
        for (int p = 0; p < btfm_param_count(kind); p++) {
            double def, lo, hi, value;
            ck_assert_ok(btfm_param_info(kind, p, NULL, NULL, &def, &lo, &hi));
            ck_assert(def >= lo && def <= hi && btfm_param_description(kind, p));
            ck_assert_ok(btfm_sim_get_param(sim, p, &value));
            ck_assert(value == def);
        }
        btfm_sim_free(sim);
    }
}
END_TEST

START_TEST(bad_parameters_are_refused)
{
    btfm_sim *sim = NULL;
    ck_assert_status(btfm_sim_new(&sim, BTFM_OBJECT_ALIGNER), BTFM_E_INVALID);
    assert_message("not a simulator");
    ck_assert_ptr_null(sim);
    ck_assert_status(btfm_sim_new(NULL, BTFM_OBJECT_SIM_RATING_SESSION), BTFM_E_INVALID);
    ck_assert_int_lt(btfm_sim_kind(NULL), 0);
    btfm_sim_free(NULL);
    ck_assert_ok(btfm_sim_new(&sim, BTFM_OBJECT_SIM_RATING_SESSION));
    ck_assert_status(btfm_sim_set_param(sim, BTFM_SIM_RATING_N_CHANNELS, 7), BTFM_E_RANGE);
    assert_message("n_channels");
    ck_assert_status(btfm_sim_set_param(sim, BTFM_SIM_RATING_N_ITEMS, 10.5), BTFM_E_RANGE);
    ck_assert_status(btfm_sim_set_param(sim, BTFM_SIM_RATING_NOISE_UV, NAN), BTFM_E_RANGE);
    ck_assert_status(btfm_sim_set_param(sim, 999, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_sim_set_param(NULL, 0, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_sim_rating_session(sim, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_sim_shared_response(sim, "/tmp/never"), BTFM_E_INVALID);
    assert_message("BTFM_OBJECT_SIM_SHARED_RESPONSE");

    /* Combinations, checked before anything is written. */
    char out[256];
    temp_name(out, sizeof out, "session");
    static const struct { int param; double value; const char *needle; } cases[] = {
        {BTFM_SIM_RATING_SEGMENTS_MIN, 5, "segments_min"},
        {BTFM_SIM_RATING_LINE_FREQ, 125, "line_freq"},
        {BTFM_SIM_RATING_N_PAIRS, 1771, "n_pairs"},
        {BTFM_SIM_RATING_N_BAD_CHANNELS, 9, "n_bad_channels"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        btfm_sim *s = small_rating();
        set(s, BTFM_OBJECT_SIM_RATING_SESSION, "n_items", 59); /* 59 * 58 / 2 = 1711 pairs */
        ck_assert_ok(btfm_sim_set_param(s, cases[i].param, cases[i].value));
        ck_assert_status(btfm_sim_rating_session(s, out), BTFM_E_INVALID);
        assert_message(cases[i].needle);
        ck_assert_int_ne(access(out, F_OK), 0);
        btfm_sim_free(s);
    }
    btfm_sim_free(sim);
    ck_assert_ok(btfm_sim_new(&sim, BTFM_OBJECT_SIM_SHARED_RESPONSE));
    set(sim, BTFM_OBJECT_SIM_SHARED_RESPONSE, "grid_x", 2);
    set(sim, BTFM_OBJECT_SIM_SHARED_RESPONSE, "grid_y", 2);
    set(sim, BTFM_OBJECT_SIM_SHARED_RESPONSE, "grid_z", 2);
    ck_assert_status(btfm_sim_shared_response(sim, out), BTFM_E_INVALID);
    assert_message("n_components");
    btfm_sim_free(sim);
    *strrchr(out, '/') = '\0';
    remove_tree(out);
}
END_TEST

/* Every regular file under `a` has a byte-identical twin under `b` and vice versa. */
static int files_compared;
static const char *compare_root_a, *compare_root_b;

static int compare_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F) return 0;
    char other[1024];
    snprintf(other, sizeof other, "%s%s", compare_root_b, path + strlen(compare_root_a));
    FILE *fa = fopen(path, "rb"), *fb = fopen(other, "rb");
    ck_assert_msg(fa && fb, "%s has no twin %s", path, other);
    size_t n = (size_t)sb->st_size;
    char *x = malloc(n + 1), *y = malloc(n + 1);
    size_t ra = fread(x, 1, n + 1, fa), rb = fread(y, 1, n + 1, fb);
    ck_assert_msg(ra == n && rb == n && memcmp(x, y, n) == 0, "%s differs from %s", path, other);
    free(x);
    free(y);
    fclose(fa);
    fclose(fb);
    files_compared++;
    return 0;
}

static int count_files(const char *root)
{
    int before = files_compared;
    compare_root_a = compare_root_b = root;
    nftw(root, compare_entry, 16, FTW_PHYS);
    return files_compared - before;
}

static void assert_identical(const char *a, const char *b)
{
    int in_b = count_files(b);
    compare_root_a = a;
    compare_root_b = b;
    int before = files_compared;
    nftw(a, compare_entry, 16, FTW_PHYS);
    ck_assert_int_eq(files_compared - before, in_b);
}

START_TEST(rating_session_reads_back)
{
    char out[256];
    temp_name(out, sizeof out, "session");
    btfm_sim *sim = small_rating();
    set(sim, BTFM_OBJECT_SIM_RATING_SESSION, "fmri", 1);
    set(sim, BTFM_OBJECT_SIM_RATING_SESSION, "fmri_voxel_mm", 8);
    ck_assert_ok(btfm_sim_rating_session(sim, out));
    btfm_bids *b;
    ck_assert_ok(btfm_bids_open(&b, out, 0)); /* strict: every rule holds */
    int64_t n;
    ck_assert_ok(btfm_bids_query(b, "datatype=eeg", NULL, 0, &n));
    ck_assert_int_eq(n, 3);
    ck_assert_ok(btfm_bids_query(b, "datatype=func", NULL, 0, &n));
    ck_assert_int_eq(n, 3);
    ck_assert_ok(btfm_bids_query(b, "datatype=beh", NULL, 0, &n));
    ck_assert_int_eq(n, 6);

    /* Annotator 2's EEG against the truth: channels, bad flags, events per item. */
    int64_t index;
    ck_assert_ok(btfm_bids_query(b, "sub=02 datatype=eeg", &index, 1, &n));
    btfm_dataset *ds;
    ck_assert_ok(btfm_bids_open_recording(b, index, &ds));
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 18);
    ck_assert_double_eq(btfm_dataset_sfreq(ds), 100);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 16), BTFM_CH_EOG);
    char path[512];
    snprintf(path, sizeof path, "%s/derivatives/truth/sub-02/sub-02_topography.tsv", out);
    btfm_table *topo;
    ck_assert_ok(btfm_table_read(&topo, path));
    ck_assert_int_eq(btfm_table_n_rows(topo), 16);
    int bad_seen = 0;
    for (int c = 0; c < 16; c++) {
        ck_assert_str_eq(btfm_table_cell(topo, c, 0), btfm_dataset_channel_name(ds, c));
        int bad = strcmp(btfm_table_cell(topo, c, 4), "good") != 0;
        ck_assert_int_eq(btfm_dataset_channel_bad(ds, c), bad);
        bad_seen += bad;
    }
    ck_assert_int_eq(bad_seen, 2);
    btfm_table_free(topo);
    const btfm_table *events;
    ck_assert_ok(btfm_dataset_events_table(ds, &events));
    int item_col, type_col;
    ck_assert_ok(btfm_table_find_column(events, "item_id", &item_col));
    ck_assert_ok(btfm_table_find_column(events, "trial_type", &type_col));
    int onsets[9] = {0}, ends[9] = {0}, gazes = 0, ratings = 0;
    for (int64_t r = 0; r < btfm_table_n_rows(events); r++) {
        int item = atoi(btfm_table_cell(events, r, item_col));
        ck_assert(item >= 1 && item <= 8);
        const char *type = btfm_table_cell(events, r, type_col);
        onsets[item] += strcmp(type, "item_onset") == 0;
        ends[item] += strcmp(type, "item_end") == 0;
        gazes += strcmp(type, "gaze") == 0;
        ratings += strcmp(type, "rating") == 0;
    }
    for (int m = 1; m <= 8; m++) ck_assert(onsets[m] == 1 && ends[m] == 1);
    ck_assert_int_eq(ratings, 2); /* round(0.3 x 8) */
    snprintf(path, sizeof path, "%s/derivatives/truth/segments.tsv", out);
    btfm_table *segments;
    ck_assert_ok(btfm_table_read(&segments, path));
    ck_assert_int_eq(gazes, btfm_table_n_rows(segments));
    btfm_table_free(segments);
    btfm_dataset_free(ds);

    /* The pairs: five distinct pairs whose choice names one of the two items. */
    ck_assert_ok(btfm_bids_query(b, "sub=01 task=preference", &index, 1, &n));
    btfm_table *pairs;
    ck_assert_ok(btfm_bids_read_table(b, index, &pairs));
    ck_assert_int_eq(btfm_table_n_rows(pairs), 5);
    for (int64_t r = 0; r < 5; r++) {
        const char *a = btfm_table_cell(pairs, r, 1), *bb = btfm_table_cell(pairs, r, 2);
        const char *chosen = btfm_table_cell(pairs, r, 4);
        ck_assert(strcmp(a, bb) != 0 && (strcmp(chosen, a) == 0 || strcmp(chosen, bb) == 0));
    }
    btfm_table_free(pairs);

    /* The BOLD run: a volume covering the session at TR 2 s. */
    ck_assert_ok(btfm_bids_query(b, "sub=03 datatype=func", &index, 1, &n));
    ck_assert_ok(btfm_bids_open_recording(b, index, &ds));
    int64_t shape[4];
    ck_assert_ok(btfm_dataset_volume_shape(ds, shape));
    ck_assert(shape[0] == 8 && shape[1] == 10 && shape[2] == 8);
    ck_assert_double_eq_tol(btfm_dataset_sfreq(ds), 0.5, 1e-12);
    btfm_dataset_free(ds);
    btfm_bids_free(b);
    btfm_sim_free(sim);
    *strrchr(out, '/') = '\0';
    remove_tree(out);
}
END_TEST

START_TEST(same_seed_same_bytes)
{
    char a[256], b[256], c[256];
    temp_name(a, sizeof a, "one");
    temp_name(b, sizeof b, "two");
    temp_name(c, sizeof c, "three");
    btfm_sim *sim = small_rating();
    set(sim, BTFM_OBJECT_SIM_RATING_SESSION, "num_threads", 1);
    ck_assert_ok(btfm_sim_rating_session(sim, a));
    set(sim, BTFM_OBJECT_SIM_RATING_SESSION, "num_threads", 3);
    set(sim, BTFM_OBJECT_SIM_RATING_SESSION, "eeg_format", BTFM_FORMAT_EDF);
    ck_assert_ok(btfm_sim_rating_session(sim, b));
    assert_identical(a, b);
    /* Another seed: other data. */
    set(sim, BTFM_OBJECT_SIM_RATING_SESSION, "seed", 2);
    ck_assert_ok(btfm_sim_rating_session(sim, c));
    char pa[512], pc[512];
    snprintf(pa, sizeof pa, "%s/derivatives/truth/items.tsv", a);
    snprintf(pc, sizeof pc, "%s/derivatives/truth/items.tsv", c);
    btfm_table *ta, *tc;
    ck_assert_ok(btfm_table_read(&ta, pa));
    ck_assert_ok(btfm_table_read(&tc, pc));
    ck_assert_str_ne(btfm_table_cell(ta, 0, 1), btfm_table_cell(tc, 0, 1));
    btfm_table_free(ta);
    btfm_table_free(tc);
    btfm_sim_free(sim);
    for (char *p = a; p; p = p == a ? b : p == b ? c : NULL) {
        *strrchr(p, '/') = '\0';
        remove_tree(p);
    }
}
END_TEST

static int calls_before_cancel;
static int cancel_after(const char *stage, double fraction, void *user)
{
    (void)stage;
    (void)fraction;
    int *calls = user;
    return ++*calls > calls_before_cancel;
}

START_TEST(cancel_and_refusals_leave_nothing)
{
    char out[256];
    temp_name(out, sizeof out, "session");
    char parent[256];
    snprintf(parent, sizeof parent, "%s", out);
    *strrchr(parent, '/') = '\0';
    long live = btfm_live_allocations();
    btfm_sim *sim = small_rating();
    int calls = 0;
    calls_before_cancel = 10;
    ck_assert_ok(btfm_sim_set_progress(sim, cancel_after, &calls));
    ck_assert_status(btfm_sim_rating_session(sim, out), BTFM_E_CANCELLED);
    ck_assert_int_eq(calls, 11);
    DIR *d = opendir(parent);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)) != NULL) entries += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(entries, 0); /* neither the session nor its temporary folder */
    ck_assert_int_eq(btfm_live_allocations(), live + 1); /* the simulator itself */
    btfm_sim_free(sim);
    ck_assert_int_eq(btfm_live_allocations(), live);

    /* A non-empty folder is refused and left as it was; an empty one is filled. */
    ck_assert_int_eq(mkdir(out, 0777), 0);
    char keep[300];
    snprintf(keep, sizeof keep, "%s/keep.txt", out);
    FILE *f = fopen(keep, "w");
    fputs("mine", f);
    fclose(f);
    sim = small_rating();
    set(sim, BTFM_OBJECT_SIM_RATING_SESSION, "n_annotators", 1);
    ck_assert_status(btfm_sim_rating_session(sim, out), BTFM_E_INVALID);
    assert_message("not an empty folder");
    ck_assert_int_eq(access(keep, F_OK), 0);
    remove(keep);
    ck_assert_ok(btfm_sim_rating_session(sim, out));
    snprintf(keep, sizeof keep, "%s/dataset_description.json", out);
    ck_assert_int_eq(access(keep, F_OK), 0);
    btfm_sim_free(sim);
    remove_tree(parent);
}
END_TEST

START_TEST(shared_response_reads_back)
{
    char out[256];
    temp_name(out, sizeof out, "shared");
    btfm_sim *sim;
    const int k = BTFM_OBJECT_SIM_SHARED_RESPONSE;
    ck_assert_ok(btfm_sim_new(&sim, k));
    set(sim, k, "n_subjects", 3);
    set(sim, k, "n_times", 41);
    set(sim, k, "n_components", 3);
    set(sim, k, "grid_x", 5);
    set(sim, k, "grid_y", 3);
    set(sim, k, "grid_z", 2);
    ck_assert_ok(btfm_sim_shared_response(sim, out));
    btfm_bids *b;
    ck_assert_ok(btfm_bids_open(&b, out, 0));
    ck_assert_int_eq(btfm_bids_n_recordings(b), 3);
    btfm_dataset *ds;
    ck_assert_ok(btfm_bids_open_recording(b, 1, &ds));
    ck_assert_int_eq(btfm_dataset_n_times(ds), 41);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 30);
    float *x = malloc(sizeof(float) * 41 * 30);
    ck_assert_ok(btfm_dataset_read(ds, 0, 41, NULL, 0, x));
    btfm_dataset_free(ds);
    btfm_bids_free(b);

    /* The data are W s(t) + noise: the truth's mixing is orthonormal, and projecting the
     * data on it recovers the shared course far better than chance. */
    char path[512];
    snprintf(path, sizeof path, "%s/derivatives/truth/sub-02/sub-02_mixing.tsv", out);
    btfm_table *w, *s;
    ck_assert_ok(btfm_table_read(&w, path));
    snprintf(path, sizeof path, "%s/derivatives/truth/shared_response.tsv", out);
    ck_assert_ok(btfm_table_read(&s, path));
    ck_assert_int_eq(btfm_table_n_rows(w), 30);
    ck_assert_int_eq(btfm_table_n_rows(s), 41);
    double W[30][3], S[41][3];
    for (int v = 0; v < 30; v++)
        for (int j = 0; j < 3; j++) W[v][j] = atof(btfm_table_cell(w, v, j + 1));
    for (int t = 0; t < 41; t++)
        for (int j = 0; j < 3; j++) S[t][j] = atof(btfm_table_cell(s, t, j));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double dot = 0;
            for (int v = 0; v < 30; v++) dot += W[v][i] * W[v][j];
            ck_assert_double_eq_tol(dot, i == j, 1e-5);
        }
    for (int j = 0; j < 3; j++) {
        double sxy = 0, sxx = 0, syy = 0;
        for (int t = 0; t < 41; t++) {
            double proj = 0;
            for (int v = 0; v < 30; v++) proj += W[v][j] * x[t * 30 + v] / 10.0; /* signal_scale */
            sxy += proj * S[t][j];
            sxx += proj * proj;
            syy += S[t][j] * S[t][j];
        }
        ck_assert_double_gt(sxy / sqrt(sxx * syy), 0.8);
    }
    btfm_table_free(w);
    btfm_table_free(s);
    free(x);

    /* The EEG variant: channels named from the montage, EDF read back. */
    char eeg[256];
    temp_name(eeg, sizeof eeg, "shared-eeg");
    set(sim, k, "format", BTFM_FORMAT_EDF);
    set(sim, k, "n_channels", 12);
    set(sim, k, "n_times", 100); /* whole 1 s records at 100 Hz: EDF pads a partial one */
    ck_assert_ok(btfm_sim_shared_response(sim, eeg));
    ck_assert_ok(btfm_bids_open(&b, eeg, 0));
    ck_assert_ok(btfm_bids_open_recording(b, 0, &ds));
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 0), "Fp1");
    ck_assert_int_eq(btfm_dataset_n_times(ds), 100);
    btfm_dataset_free(ds);
    btfm_bids_free(b);
    btfm_sim_free(sim);
    *strrchr(out, '/') = '\0';
    remove_tree(out);
    *strrchr(eeg, '/') = '\0';
    remove_tree(eeg);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("sim");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, philox_known_answers);
    tcase_add_test(tc, math_matches_libm);
    tcase_add_test(tc, normals_have_normal_moments);
    tcase_add_test(tc, parameter_tables_follow_the_enums);
    tcase_add_test(tc, bad_parameters_are_refused);
    tcase_add_test(tc, rating_session_reads_back);
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_test(tc, cancel_and_refusals_leave_nothing);
    tcase_add_test(tc, shared_response_reads_back);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(sim_suite)
