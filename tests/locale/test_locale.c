/* Numbers in files do not follow the host's locale: a process that called
 * setlocale(LC_ALL, "de_DE.UTF-8") (decimal comma) writes EDF, BDF, BrainVision, BIDS and
 * TSV files byte-identical to those written in the "C" locale, and reads files written
 * in the C locale to the same values. LOCPATH points at a de_DE.UTF-8 built for the
 * tests (tests/locale/meson.build); without it the test is skipped (77). */
#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <btfm/reward.h>
#include "unit.h"

enum { C = 3, N = 256 * 3 + 77 };
static const double sfreq = 256.0; /* a 3906.25 us sampling interval */
static char root[64];

static char *path_in(const char *dir, const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s/%s", root, dir, name);
    return p;
}

/* A recording with fractional values everywhere: microvolt-scale EEG, an event at
 * 0.123456 s, metadata with fractions. */
static btfm_dataset *make_recording(void)
{
    float *x = malloc(sizeof(float) * N * C);
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++)
            x[t * C + c] = (float)(3.25e-5 * sin(0.05 * (t + 1) * (c + 1)) - 1.5e-6 * c);
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_from_array(&ds, x, N, C, sfreq, NULL));
    free(x);
    for (int c = 0; c < C; c++) {
        ck_assert_ok(btfm_dataset_set_channel_type(ds, c, btfm_channel_type_from_name("eeg")));
        ck_assert_ok(btfm_dataset_set_channel_unit(ds, c, "V"));
    }
    ck_assert_ok(btfm_dataset_add_event(ds, 0.123456, 0.5, "stimulus", "stim 1.5", 1));
    ck_assert_ok(btfm_dataset_add_event(ds, 2.0625, 0.0, "response", "resp", 2));
    ck_assert_ok(btfm_dataset_set_metadata(ds, "{\"PowerLineFrequency\": 50.5, "
                                               "\"EEGReference\": \"Cz\", \"Fraction\": 0.125}"));
    return ds;
}

/* Every writer into root/<dir>. */
static void write_all(const char *dir)
{
    char d[128];
    snprintf(d, sizeof d, "%s/%s", root, dir);
    ck_assert_int_eq(mkdir(d, 0700), 0);
    btfm_dataset *ds = make_recording();
    ck_assert_ok(btfm_dataset_save(ds, path_in(dir, "rec.edf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_save(ds, path_in(dir, "rec.bdf"), BTFM_FORMAT_AUTO, 0));
    ck_assert_ok(btfm_dataset_save(ds, path_in(dir, "rec.vhdr"), BTFM_FORMAT_AUTO, 0));
    btfm_bids_writer *w;
    ck_assert_ok(btfm_bids_writer_new(&w, path_in(dir, "bids"), "locale"));
    ck_assert_ok(btfm_bids_writer_add(w, ds, "sub=01 task=rest datatype=eeg", BTFM_FORMAT_EDF,
                                      "{\"SoftwareFilters\": {\"lowpass\": 40.25}}", NULL));
    ck_assert_ok(btfm_bids_writer_finish(w));
    btfm_bids_writer_free(w);
    btfm_dataset_free(ds);
}

/* Every file under root/a/rel equals the one under root/b/rel; returns the count. */
static int compare_trees(const char *rel)
{
    char da[1024], db[1024];
    snprintf(da, sizeof da, "%s/c/%s", root, rel);
    DIR *dir = opendir(da);
    ck_assert_msg(dir != NULL, "%s", da);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(da, sizeof da, "%s/c/%s", root, sub);
        snprintf(db, sizeof db, "%s/de/%s", root, sub);
        struct stat st;
        ck_assert_int_eq(stat(da, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            files += compare_trees(sub);
            continue;
        }
        size_t na, nb;
        unsigned char *a = unit_read_file(da, &na), *b = unit_read_file(db, &nb);
        size_t at = 0;
        while (at < na && at < nb && a[at] == b[at]) at++;
        ck_assert_msg(na == nb && at == na, "%s differs from the C locale's at byte %zu", sub, at);
        free(a);
        free(b);
        files++;
    }
    closedir(dir);
    return files;
}

/* What a reader sees: sampling rate, data, events, and the BIDS sidecar's numbers. */
typedef struct seen {
    double sfreq[3], onset[3], duration[3], power_line, fraction;
    float data[3][N * C];
} seen;

static void read_all(const char *dir, seen *s)
{
    static const char *names[3] = {"rec.edf", "rec.bdf", "rec.vhdr"};
    for (int k = 0; k < 3; k++) {
        btfm_dataset *ds;
        ck_assert_ok(btfm_dataset_open(&ds, path_in(dir, names[k]), BTFM_FORMAT_AUTO, 0));
        s->sfreq[k] = btfm_dataset_sfreq(ds);
        ck_assert_int_ge(btfm_dataset_n_times(ds), N);
        ck_assert_ok(btfm_dataset_read(ds, 0, N, NULL, 0, s->data[k]));
        s->onset[k] = NAN;
        for (int64_t e = 0; e < btfm_dataset_n_events(ds); e++) { /* BrainVision adds a segment */
            const char *label;
            double onset, duration;
            ck_assert_ok(btfm_dataset_event(ds, e, &onset, &duration, NULL, &label, NULL));
            if (strcmp(label, "stim 1.5") == 0) {
                s->onset[k] = onset;
                s->duration[k] = duration;
            }
        }
        double limit[C];
        ck_assert_ok(btfm_dataset_reject_limits(ds, "eeg=1.5e-4", limit));
        ck_assert_double_eq(limit[0], 1.5e-4);
        btfm_dataset_free(ds);
    }
    btfm_bids *b;
    ck_assert_ok(btfm_bids_open(&b, path_in(dir, "bids"), 0));
    ck_assert_int_eq(btfm_bids_n_recordings(b), 1);
    btfm_dataset *ds;
    ck_assert_ok(btfm_bids_open_recording(b, 0, &ds));
    int64_t n;
    ck_assert_ok(btfm_dataset_meta_numbers(ds, "PowerLineFrequency", &s->power_line, 1, &n));
    ck_assert_ok(btfm_dataset_meta_numbers(ds, "Fraction", &s->fraction, 1, &n));
    btfm_dataset_free(ds);
    btfm_bids_free(b);
}

START_TEST(files_do_not_follow_the_locale)
{
    snprintf(root, sizeof root, "/tmp/btfm-locale-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
    write_all("c");
    seen *in_c = calloc(1, sizeof *in_c), *in_de = calloc(1, sizeof *in_de);
    read_all("c", in_c);

    ck_assert_ptr_nonnull(setlocale(LC_ALL, "de_DE.UTF-8"));
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    ck_assert_str_eq(probe, "0,5"); /* the locale really has a decimal comma */
    write_all("de");
    read_all("c", in_de);
    setlocale(LC_ALL, "C");

    ck_assert_int_ge(compare_trees(""), 10);
    /* the files written in the C locale read the same under the comma locale */
    for (int k = 0; k < 3; k++) {
        ck_assert_double_eq(in_de->sfreq[k], sfreq);
        ck_assert_double_eq(in_de->sfreq[k], in_c->sfreq[k]);
        /* EDF keeps the onset, BrainVision rounds it to a sample */
        ck_assert_double_eq_tol(in_de->onset[k], k < 2 ? 0.123456 : 0.125, 1e-7);
        ck_assert_double_eq(in_de->onset[k], in_c->onset[k]);
        ck_assert_double_eq(in_de->duration[k], in_c->duration[k]);
        ck_assert_int_eq(memcmp(in_de->data[k], in_c->data[k], sizeof in_c->data[k]), 0);
    }
    ck_assert_double_eq(in_de->power_line, 50.5);
    ck_assert_double_eq(in_de->fraction, 0.125);
    free(in_c);
    free(in_de);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Reward features name their ERP windows and describe their configuration in a text a saved
 * head compares: both must read the same whatever the locale ("0.300", never "0,300"). */
static void reward_texts(char *names, size_t names_size, char *config, size_t config_size)
{
    const int n = 2560, c = 3;
    float *x = malloc(sizeof(float) * n * c);
    for (int t = 0; t < n; t++)
        for (int k = 0; k < c; k++) x[t * c + k] = (float)(1e-5 * sin(0.01 * t * (k + 1)));
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_from_array(&ds, x, n, c, sfreq, NULL));
    free(x);
    for (int k = 0; k < c; k++)
        ck_assert_ok(btfm_dataset_set_channel_type(ds, k, btfm_channel_type_from_name("eeg")));
    for (int k = 0; k < 4; k++) ck_assert_ok(btfm_dataset_add_event(ds, 2.0 + 2.0 * k, 0.0, "item_end", "item_end", 1));
    btfm_reward_features *fb;
    ck_assert_ok(btfm_reward_features_new(&fb));
    ck_assert_ok(btfm_reward_features_set_events(fb, "item_end", NULL));
    ck_assert_ok(btfm_reward_features_compute(fb, ds));
    names[0] = '\0';
    for (int64_t f = 0; f < btfm_reward_features_n_features(fb); f++) {
        strncat(names, btfm_reward_features_name(fb, f), names_size - strlen(names) - 2);
        strcat(names, ";");
    }
    snprintf(config, config_size, "%s", btfm_reward_features_config(fb));
    btfm_reward_features_free(fb);
    btfm_dataset_free(ds);
}

START_TEST(reward_feature_texts_do_not_follow_the_locale)
{
    static char names_c[8192], names_de[8192], config_c[2048], config_de[2048];
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
    reward_texts(names_c, sizeof names_c, config_c, sizeof config_c);
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "de_DE.UTF-8"));
    reward_texts(names_de, sizeof names_de, config_de, sizeof config_de);
    setlocale(LC_ALL, "C");
    ck_assert_ptr_nonnull(strstr(names_c, ":erp:0."));
    ck_assert_str_eq(names_de, names_c);
    ck_assert_str_eq(config_de, config_c);
    /* numbers in the configuration keep their points: "filter=0.5-..." style, no comma
     * before the channel list */
    const char *channels = strstr(config_c, "channels=");
    ck_assert_ptr_nonnull(channels);
    ck_assert_ptr_null(memchr(config_c, ',', (size_t)(channels - config_c)));
}
END_TEST

static Suite *locale_suite(void)
{
    Suite *s = suite_create("locale");
    TCase *tc = tcase_create("locale");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, files_do_not_follow_the_locale);
    tcase_add_test(tc, reward_feature_texts_do_not_follow_the_locale);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!setlocale(LC_ALL, "de_DE.UTF-8")) {
        printf("no de_DE.UTF-8 locale (LOCPATH=%s): skipped\n",
               getenv("LOCPATH") ? getenv("LOCPATH") : "unset");
        return 77;
    }
    setlocale(LC_ALL, "C");
    SRunner *sr = srunner_create(locale_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
