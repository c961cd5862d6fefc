/* BIDS folders on trees written here: file-name entity rules, sidecar inheritance at the
 * root, subject, session and file levels, queries and value lists, events.tsv by the
 * MNE-BIDS rules, channels.tsv, scans.tsv, fMRI timing metadata without opening the
 * image, every validation rule's message, lenient mode, and the writer read back. Data
 * files are EDF written by btfm_dataset_save from arrays the test chooses. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "progress_watch.h"
#include "bids/bids_internal.h"

static char root[64];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static void make_root(void)
{
    strcpy(root, "/tmp/btfm-bids-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void remove_root(void) { nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static const char *at(const char *rel)
{
    static char paths[4][1024];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, 1024, "%s/%s", root, rel);
    return p;
}

/* Create the parent folders of `rel` and write the text. */
static void put(const char *rel, const char *fmt, ...)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", at(rel));
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0777);
            *p = '/';
        }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

/* An EDF file of `n_channels` channels named C1.. at `sfreq` Hz, 2 s long. */
static void put_edf(const char *rel, int n_channels, double sfreq)
{
    put(rel, "x"); /* creates the folders */
    int64_t n = (int64_t)(2 * sfreq);
    float *data = malloc(sizeof(float) * (size_t)(n * n_channels));
    for (int64_t i = 0; i < n * n_channels; i++) data[i] = (float)(1e-6 * (double)(i % 50));
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_from_array(&ds, data, n, n_channels, sfreq, NULL));
    for (int c = 0; c < n_channels; c++) {
        char name[16];
        snprintf(name, sizeof name, "C%d", c + 1);
        ck_assert_ok(btfm_dataset_set_channel_name(ds, c, name));
        ck_assert_ok(btfm_dataset_set_channel_unit(ds, c, "V"));
    }
    ck_assert_ok(btfm_dataset_save(ds, at(rel), BTFM_FORMAT_EDF, 0));
    btfm_dataset_free(ds);
    free(data);
}

static const char eeg_json[] =
    "{\"TaskName\": \"rest\", \"SamplingFrequency\": 100, \"PowerLineFrequency\": 50,\n"
    " \"SoftwareFilters\": \"n/a\", \"EEGReference\": \"Cz\", \"Manufacturer\": \"root\"}\n";

/* A valid dataset: two subjects, sub-01 with sessions a and b, sub-02 without. */
static void put_dataset(void)
{
    make_root();
    put("dataset_description.json", "{\"Name\": \"test\", \"BIDSVersion\": \"1.9.0\"}");
    put("participants.tsv", "participant_id\tage\nsub-01\t31\nsub-02\tn/a\n");
    put("README", "not a BIDS name");
    put("task-rest_eeg.json", "%s", eeg_json);
    put("sub-01/sub-01_task-rest_eeg.json", "{\"Manufacturer\": \"sub\", \"PowerLineFrequency\": 60}");
    put("sub-01/ses-a/sub-01_ses-a_task-rest_eeg.json", "{\"Manufacturer\": \"ses\"}");
    put("sub-01/ses-a/eeg/sub-01_ses-a_task-rest_run-1_eeg.json", "{\"InstitutionName\": \"file\"}");
    put_edf("sub-01/ses-a/eeg/sub-01_ses-a_task-rest_run-1_eeg.edf", 3, 100);
    put_edf("sub-01/ses-a/eeg/sub-01_ses-a_task-rest_run-02_eeg.edf", 3, 100);
    put_edf("sub-01/ses-b/eeg/sub-01_ses-b_task-rest_run-10_eeg.edf", 3, 100);
    put_edf("sub-02/eeg/sub-02_task-rest_eeg.edf", 3, 100);
    put("sub-02/eeg/sub-02_task-rest_acq-x_eeg.json", "{}"); /* does not apply: acq */
    put("sub-01/ses-a/sub-01_ses-a_scans.tsv",
        "filename\tacq_time\neeg/sub-01_ses-a_task-rest_run-1_eeg.edf\t2021-03-02T10:20:30.5\n");
    put("derivatives/sub-01/eeg/sub-01_task-bad-name_eeg.edf", "ignored");
}

static btfm_bids *open_ok(unsigned flags)
{
    btfm_bids *b;
    ck_assert_ok(btfm_bids_open(&b, root, flags));
    return b;
}

/* The rule a failure names, and the status. */
static void expect_rule(unsigned flags, int status, const char *rule)
{
    btfm_bids *b = (btfm_bids *)1;
    ck_assert_status(btfm_bids_open(&b, root, flags), status);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(btfm_last_error(), rule) != NULL, "message \"%s\" lacks \"%s\"",
                  btfm_last_error(), rule);
}

static int64_t find(btfm_bids *b, const char *query)
{
    int64_t idx[4], n;
    ck_assert_ok(btfm_bids_query(b, query, idx, 4, &n));
    ck_assert_int_eq(n, 1);
    return idx[0];
}

/* ---- file names ---- */

static void name_ok(const char *name, int n_entities, const char *suffix, const char *ext)
{
    btfm_bids_name n;
    ck_assert_ok(btfm_bids_name_parse(&n, name, name));
    ck_assert_int_eq(n.n_entities, n_entities);
    ck_assert_str_eq(n.suffix, suffix);
    ck_assert_str_eq(n.extension, ext);
    btfm_bids_name_clear(&n);
}

static void name_bad(const char *name, const char *rule)
{
    btfm_bids_name n;
    ck_assert_status(btfm_bids_name_parse(&n, name, name), BTFM_E_FORMAT);
    ck_assert_msg(strstr(btfm_last_error(), rule) != NULL, "%s: \"%s\" lacks %s", name,
                  btfm_last_error(), rule);
    ck_assert_int_eq(n.n_entities, 0);
    ck_assert_ptr_null(n.entities);
}

START_TEST(test_names)
{
    name_ok("sub-01_ses-a_task-rest_acq-hi_run-01_eeg.edf", 5, "eeg", ".edf");
    name_ok("sub-01_task-rest_bold.nii.gz", 2, "bold", ".nii.gz");
    name_ok("task-rest_bold.json", 1, "bold", ".json");
    name_ok("events.json", 0, "events", ".json");
    name_ok("sub-01_task-x_foo-bar_eeg.vhdr", 3, "eeg", ".vhdr");   /* unknown key kept */
    name_ok("sub-01_foo-bar_task-x_eeg.vhdr", 3, "eeg", ".vhdr");   /* anywhere */
    name_ok("sub-01_task-x_meg.ds", 2, "meg", ".ds");
    btfm_bids_name n;
    ck_assert_ok(btfm_bids_name_parse(&n, "sub-A1_run-007_desc-x_eeg.edf", "w"));
    ck_assert_str_eq(btfm_bids_name_get(&n, "sub"), "A1");
    ck_assert_str_eq(btfm_bids_name_get(&n, "run"), "007");
    ck_assert_ptr_null(btfm_bids_name_get(&n, "ses"));
    btfm_bids_name_clear(&n);
    name_bad("sub-01_run-1_task-rest_eeg.edf", "rule entity-order");
    name_bad("ses-a_sub-01_eeg.edf", "rule entity-order");
    name_bad("sub-01_task-re+st_eeg.edf", "rule entity-label");
    name_bad("sub-01_task-_eeg.edf", "rule entity-label");
    name_bad("sub-01_task-a-b_eeg.edf", "rule entity-label");
    name_bad("sub-01_run-a_eeg.edf", "rule entity-index");
    name_bad("sub-01_task-a_task-b_eeg.edf", "rule entity-duplicate");
    name_bad("sub-01__eeg.edf", "rule entity-format");
    name_bad("sub01_eeg.edf", "rule entity-format");
    name_bad("sub-01_-x_eeg.edf", "rule entity-key");
    name_bad("sub-01_task-x_.edf", "rule suffix");
    name_bad("sub-01_task-x_eeg.e-df", "rule extension");
    name_bad("sub-01_task-x_eeg..edf", "rule extension");
    name_bad("sub-\xff_eeg.edf", "rule file-name");
    ck_assert(btfm_bids_label_equal("run", "01", "1"));
    ck_assert(!btfm_bids_label_equal("task", "01", "1"));
    ck_assert(btfm_bids_label_equal("run", "0", "000"));
}
END_TEST

/* ---- index, queries, values ---- */

START_TEST(test_index_and_queries)
{
    put_dataset();
    btfm_bids *b = open_ok(0);
    ck_assert_int_eq(btfm_bids_n_recordings(b), 4);
    ck_assert_int_eq(btfm_bids_n_skipped(b), 0);
    ck_assert_ptr_nonnull(strstr(btfm_bids_description(b), "\"test\""));
    /* sorted by relative path */
    ck_assert_str_eq(btfm_bids_recording_path(b, 0), at("sub-01/ses-a/eeg/sub-01_ses-a_task-rest_run-02_eeg.edf"));
    ck_assert_str_eq(btfm_bids_recording_path(b, 3), at("sub-02/eeg/sub-02_task-rest_eeg.edf"));
    ck_assert_int_eq(btfm_bids_recording_n_entities(b, 0), 4);
    const char *key, *value;
    ck_assert_ok(btfm_bids_recording_entity_at(b, 0, 3, &key, &value));
    ck_assert_str_eq(key, "run");
    ck_assert_str_eq(value, "02");
    ck_assert_str_eq(btfm_bids_recording_entity(b, 0, "datatype"), "eeg");
    ck_assert_str_eq(btfm_bids_recording_entity(b, 0, "suffix"), "eeg");
    ck_assert_str_eq(btfm_bids_recording_entity(b, 0, "extension"), ".edf");
    ck_assert_str_eq(btfm_bids_recording_entity(b, 0, "session"), "a");
    ck_assert_ptr_null(btfm_bids_recording_entity(b, 3, "ses"));

    int64_t idx[8], n;
    ck_assert_ok(btfm_bids_query(b, "", idx, 8, &n));
    ck_assert_int_eq(n, 4);
    ck_assert_ok(btfm_bids_query(b, "sub=01", idx, 8, &n));
    ck_assert_int_eq(n, 3);
    ck_assert_ok(btfm_bids_query(b, "sub=01 ses=a", idx, 8, &n));
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(find(b, "run=2"), 0);           /* run-02 */
    ck_assert_int_eq(find(b, "subject=01 run=001"), 1); /* run-1 */
    ck_assert_int_eq(find(b, "run=10"), 2);
    ck_assert_ok(btfm_bids_query(b, "sub=02,01  datatype=eeg task=rest", idx, 2, &n));
    ck_assert_int_eq(n, 4); /* count beyond cap */
    ck_assert_int_eq(idx[0], 0);
    ck_assert_int_eq(idx[1], 1);
    ck_assert_ok(btfm_bids_query(b, "datatype=func", NULL, 0, &n));
    ck_assert_int_eq(n, 0);
    ck_assert_ok(btfm_bids_query(b, "echo=1", NULL, 0, &n)); /* a BIDS entity nobody uses */
    ck_assert_int_eq(n, 0);
    ck_assert_status(btfm_bids_query(b, "subj=01", NULL, 0, &n), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "keys in this dataset: datatype, suffix, extension, sub, ses, task, run"));
    ck_assert_status(btfm_bids_query(b, "sub", NULL, 0, &n), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_query(b, "sub=", NULL, 0, &n), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_query(b, "sub=01", NULL, 1, &n), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_query(b, "sub=01", idx, -1, &n), BTFM_E_RANGE);

    ck_assert_int_eq(btfm_bids_n_values(b, "sub"), 2);
    ck_assert_str_eq(btfm_bids_value(b, "sub", 0), "01");
    ck_assert_str_eq(btfm_bids_value(b, "subject", 1), "02");
    ck_assert_int_eq(btfm_bids_n_values(b, "run"), 3);
    ck_assert_str_eq(btfm_bids_value(b, "run", 0), "1");  /* numerically: 1, 02, 10 */
    ck_assert_str_eq(btfm_bids_value(b, "run", 1), "02");
    ck_assert_str_eq(btfm_bids_value(b, "run", 2), "10");
    ck_assert_int_eq(btfm_bids_n_values(b, "ses"), 2);
    ck_assert_int_eq(btfm_bids_n_values(b, "datatype"), 1);
    ck_assert_int_eq(btfm_bids_n_values(b, "acq"), 0);
    ck_assert_ptr_null(btfm_bids_value(b, "sub", 2));
    ck_assert_int_eq(btfm_last_error_status(), BTFM_E_RANGE);

    /* participants and scans */
    const btfm_table *t;
    int64_t row;
    ck_assert_ok(btfm_bids_participants(b, &t));
    ck_assert_int_eq(btfm_table_n_rows(t), 2);
    ck_assert_ok(btfm_bids_participant_row(b, 3, &row));
    ck_assert_int_eq(row, 1);
    ck_assert_str_eq(btfm_table_cell(t, row, 0), "sub-02");
    ck_assert_ok(btfm_bids_scans(b, 1, &t, &row));
    ck_assert_int_eq(row, 0);
    ck_assert_status(btfm_bids_scans(b, 0, &t, &row), BTFM_E_NOTFOUND); /* no row */
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(row, -1);
    ck_assert_status(btfm_bids_scans(b, 3, &t, &row), BTFM_E_NOTFOUND); /* no file */
    ck_assert_ptr_null(t);
    btfm_table *beh;
    ck_assert_status(btfm_bids_read_table(b, 0, &beh), BTFM_E_INVALID);

    /* bad arguments */
    ck_assert_ptr_null(btfm_bids_recording_path(b, 4));
    ck_assert_int_eq(btfm_last_error_status(), BTFM_E_RANGE);
    ck_assert_int_eq(btfm_bids_n_recordings(NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_query(NULL, "", NULL, 0, &n), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_query(b, NULL, NULL, 0, &n), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_open(NULL, root, 0), BTFM_E_INVALID);
    btfm_bids *none;
    ck_assert_status(btfm_bids_open(&none, NULL, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_open(&none, root, 0x80), BTFM_E_INVALID);
    btfm_bids_free(NULL);
    btfm_bids_free(b);
    remove_root();
}
END_TEST

/* ---- inheritance ---- */

static double meta_number(const btfm_dataset *ds, const char *key)
{
    double v[4];
    int64_t n;
    ck_assert_ok(btfm_dataset_meta_numbers(ds, key, v, 4, &n));
    ck_assert_int_eq(n, 1);
    return v[0];
}

/* The value getters are read-only accessors, callable from several threads at once on one
 * handle, though they make each key's list on first request: threads asking for many keys
 * (most absent, so the lists keep growing) all get the labels one thread gets. */
static void *ask_values(void *arg)
{
    btfm_bids *b = arg;
    static const char *const first_run[3] = {"1", "02", "10"};
    for (int k = 0; k < 60; k++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", (k * 7) % 60);
        if (btfm_bids_n_values(b, key) != 0) return "an absent key has values";
        if (btfm_bids_n_values(b, "sub") != 2 || strcmp(btfm_bids_value(b, "sub", 1), "02"))
            return "sub";
        for (int i = 0; i < 3; i++)
            if (strcmp(btfm_bids_value(b, "run", i), first_run[i])) return "run";
    }
    return NULL;
}

START_TEST(test_values_from_several_threads)
{
    put_dataset();
    btfm_bids *b = open_ok(0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, ask_values, b), 0);
    for (int i = 0; i < 4; i++) {
        void *wrong;
        pthread_join(t[i], &wrong);
        ck_assert_msg(wrong == NULL, "thread %d: %s", i, (const char *)wrong);
    }
    btfm_bids_free(b);
}
END_TEST

START_TEST(test_inheritance)
{
    put_dataset();
    btfm_bids *b = open_ok(0);
    btfm_dataset *ds;
    const char *s;
    /* run-1: root < subject < session < file */
    ck_assert_ok(btfm_bids_open_recording(b, find(b, "run=1"), &ds));
    ck_assert_ok(btfm_dataset_meta_string(ds, "Manufacturer", &s));
    ck_assert_str_eq(s, "ses");
    ck_assert_ok(btfm_dataset_meta_string(ds, "InstitutionName", &s));
    ck_assert_str_eq(s, "file");
    ck_assert_ok(btfm_dataset_meta_string(ds, "EEGReference", &s));
    ck_assert_str_eq(s, "Cz");
    ck_assert(meta_number(ds, "PowerLineFrequency") == 60);
    ck_assert(meta_number(ds, "SamplingFrequency") == 100);
    /* scans.tsv acq_time: 2021-03-02T10:20:30.5 UTC = 1614680430.5 */
    double t;
    ck_assert_ok(btfm_dataset_start_time(ds, &t));
    ck_assert(fabs(t - 1614680430.5) < 1e-6);
    ck_assert_status(btfm_dataset_meta_string(ds, "PowerLineFrequency", &s), BTFM_E_FORMAT);
    ck_assert_status(btfm_dataset_meta_string(ds, "Nope", &s), BTFM_E_NOTFOUND);
    double v;
    int64_t n;
    ck_assert_status(btfm_dataset_meta_numbers(ds, "Manufacturer", &v, 1, &n), BTFM_E_FORMAT);
    ck_assert_status(btfm_dataset_meta_numbers(ds, "SamplingFrequency", NULL, 1, &n), BTFM_E_INVALID);
    btfm_dataset_free(ds);
    /* run-02: no file-level sidecar */
    ck_assert_ok(btfm_bids_open_recording(b, find(b, "run=2"), &ds));
    ck_assert_status(btfm_dataset_meta_string(ds, "InstitutionName", &s), BTFM_E_NOTFOUND);
    ck_assert_ok(btfm_dataset_meta_string(ds, "Manufacturer", &s));
    ck_assert_str_eq(s, "ses");
    ck_assert_ok(btfm_dataset_start_time(ds, &t)); /* the EDF header's, no scans row */
    ck_assert(fabs(t - 1614680430.5) > 1);
    btfm_dataset_free(ds);
    /* ses-b: subject level; sub-02: root only (the acq-x sidecar does not apply) */
    const char *json;
    ck_assert_ok(btfm_bids_recording_metadata(b, find(b, "ses=b"), &json));
    ck_assert_ptr_nonnull(strstr(json, "\"Manufacturer\": \"sub\""));
    ck_assert_ok(btfm_bids_recording_metadata(b, find(b, "sub=02"), &json));
    ck_assert_ptr_nonnull(strstr(json, "\"Manufacturer\": \"root\""));
    ck_assert_ok(btfm_bids_open_recording(b, find(b, "sub=02"), &ds));
    ck_assert(meta_number(ds, "PowerLineFrequency") == 50);
    btfm_dataset_free(ds);
    btfm_bids_free(b);

    /* two sidecars applying from one folder */
    put("sub-02/eeg/sub-02_eeg.json", "{}");
    put("sub-02/eeg/sub-02_task-rest_eeg.json", "{}");
    expect_rule(0, BTFM_E_FORMAT, "rule inheritance-ambiguous");
    remove_root();
}
END_TEST

/* ---- events and channels ---- */

START_TEST(test_events_and_channels)
{
    put_dataset();
    const char *dir = "sub-02/eeg/sub-02_task-rest_";
    char rel[256];
    snprintf(rel, sizeof rel, "%sevents.tsv", dir);
    put(rel, "onset\tduration\ttrial_type\tvalue\tresponse_time\n"
             "1.5\t0.5\tgo\t3\t0.41\n"
             "n/a\t0\tgo\t3\t0.2\n"             /* no onset: dropped */
             "0.25\tn/a\tstop\t7\tn/a\n"        /* duration n/a: 0 */
             "0.75\t0\tn/a\t9\t0.3\n"           /* no trial type: dropped */
             "0.25\t1\tgo\tx\t0.5\n");          /* same onset: file order; value not an integer */
    snprintf(rel, sizeof rel, "%schannels.tsv", dir);
    put(rel, "name\ttype\tunits\tstatus\nC1\tEEG\tuV\tgood\nC2\tEOG\tuV\tbad\nC3\tTRIG\tn/a\tn/a\n");
    btfm_bids *b = open_ok(0);
    btfm_dataset *ds;
    ck_assert_ok(btfm_bids_open_recording(b, find(b, "sub=02"), &ds));
    ck_assert_int_eq(btfm_dataset_n_events(ds), 3);
    static const double onsets[] = {0.25, 0.25, 1.5}, durations[] = {0, 1, 0.5};
    static const char *const labels[] = {"stop", "go", "go"};
    static const int codes[] = {7, 0, 3};
    static const char *const rts[] = {"n/a", "0.5", "0.41"};
    const btfm_table *t;
    ck_assert_ok(btfm_dataset_events_table(ds, &t));
    ck_assert_int_eq(btfm_table_n_rows(t), 3);
    ck_assert_int_eq(btfm_table_n_columns(t), 5);
    int rt;
    ck_assert_ok(btfm_table_find_column(t, "response_time", &rt));
    for (int i = 0; i < 3; i++) {
        double onset, duration;
        const char *type, *label;
        int code;
        ck_assert_ok(btfm_dataset_event(ds, i, &onset, &duration, &type, &label, &code));
        ck_assert(onset == onsets[i] && duration == durations[i]);
        ck_assert_str_eq(label, labels[i]);
        ck_assert_str_eq(type, "bids");
        ck_assert_int_eq(code, codes[i]);
        ck_assert_str_eq(btfm_table_cell(t, i, rt), rts[i]);
    }
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 0), BTFM_CH_EEG);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 1), BTFM_CH_EOG);
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 2), BTFM_CH_STIM);
    ck_assert_int_eq(btfm_dataset_channel_bad(ds, 0), 0);
    ck_assert_int_eq(btfm_dataset_channel_bad(ds, 1), 1);
    ck_assert_int_eq(btfm_dataset_channel_bad(ds, 2), 0);
    btfm_dataset_free(ds);
    btfm_bids_free(b);

    /* labels from value when there is no trial_type; rows with value n/a dropped */
    snprintf(rel, sizeof rel, "%sevents.tsv", dir);
    put(rel, "onset\tduration\tvalue\n2\t0\t5\n1\t0\tn/a\n");
    b = open_ok(0);
    ck_assert_ok(btfm_bids_open_recording(b, find(b, "sub=02"), &ds));
    ck_assert_int_eq(btfm_dataset_n_events(ds), 1);
    const char *label;
    int code;
    ck_assert_ok(btfm_dataset_event(ds, 0, NULL, NULL, NULL, &label, &code));
    ck_assert_str_eq(label, "5");
    ck_assert_int_eq(code, 5);
    btfm_dataset_free(ds);
    btfm_bids_free(b);

    /* a channel the data lacks: refused in strict mode, a warning in lenient mode */
    snprintf(rel, sizeof rel, "%schannels.tsv", dir);
    put(rel, "name\ttype\tunits\nC1\tEEG\tuV\nC2\tEEG\tuV\nC9\tEEG\tuV\n");
    b = open_ok(0);
    ck_assert_status(btfm_bids_open_recording(b, find(b, "sub=02"), &ds), BTFM_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "rule channels-match"));
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "\"C9\""));
    btfm_bids_free(b);
    b = open_ok(BTFM_BIDS_LENIENT);
    ck_assert_ok(btfm_bids_open_recording(b, find(b, "sub=02"), &ds));
    btfm_dataset_free(ds);
    btfm_bids_free(b);

    /* events.tsv text that is not a number */
    snprintf(rel, sizeof rel, "%schannels.tsv", dir);
    put(rel, "name\ttype\tunits\nC1\tEEG\tuV\nC2\tEEG\tuV\nC3\tEEG\tuV\n");
    snprintf(rel, sizeof rel, "%sevents.tsv", dir);
    put(rel, "onset\tduration\n1\t0\nsoon\t0\n");
    b = open_ok(0);
    ck_assert_status(btfm_bids_open_recording(b, find(b, "sub=02"), &ds), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "line 3"));
    btfm_bids_free(b);
    remove_root();
}
END_TEST

/* ---- fMRI timing without the image ---- */

START_TEST(test_func_sidecars)
{
    put_dataset();
    put("sub-02/func/sub-02_task-rest_bold.nii.gz", "not opened");
    put("task-rest_bold.json", "{\"TaskName\": \"rest\", \"RepetitionTime\": 2.0,"
        " \"SliceTiming\": [0, 0.5, 1.0, 1.5]}");
    put("sub-02/func/sub-02_task-rest_events.tsv", "onset\tduration\ttrial_type\n4\t2\tface\n");
    btfm_bids *b = open_ok(0);
    int64_t index = find(b, "datatype=func");
    ck_assert_str_eq(btfm_bids_recording_entity(b, index, "suffix"), "bold");
    ck_assert_str_eq(btfm_bids_recording_entity(b, index, "extension"), ".nii.gz");
    float zeros[4 * 2] = {0};
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_from_array(&ds, zeros, 4, 2, 0.5, NULL)); /* TR 2 s */
    ck_assert_ok(btfm_bids_apply_sidecars(b, index, ds));
    double st[8];
    int64_t n;
    ck_assert_ok(btfm_dataset_meta_numbers(ds, "SliceTiming", st, 8, &n));
    ck_assert_int_eq(n, 4);
    ck_assert(st[0] == 0 && st[1] == 0.5 && st[2] == 1.0 && st[3] == 1.5);
    ck_assert_ok(btfm_dataset_meta_numbers(ds, "SliceTiming", st, 2, &n)); /* cap */
    ck_assert_int_eq(n, 4);
    ck_assert(meta_number(ds, "RepetitionTime") == 2.0);
    ck_assert_int_eq(btfm_dataset_n_events(ds), 1);
    btfm_dataset_free(ds);
    /* an image whose TR is not the sidecar's */
    ck_assert_ok(btfm_dataset_from_array(&ds, zeros, 4, 2, 1.0, NULL));
    ck_assert_status(btfm_bids_apply_sidecars(b, index, ds), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "rule repetition-time"));
    btfm_dataset_free(ds);
    btfm_bids_free(b);

    put("task-rest_bold.json", "{\"TaskName\": \"rest\", \"RepetitionTime\": 2.0, \"VolumeTiming\": [0, 2]}");
    expect_rule(0, BTFM_E_FORMAT, "rule repetition-time-exclusive");
    put("task-rest_bold.json", "{\"TaskName\": \"rest\"}");
    expect_rule(0, BTFM_E_FORMAT, "rule sidecar-required: the bold sidecar has neither RepetitionTime nor VolumeTiming");
    put("task-rest_bold.json", "{\"TaskName\": \"rest\", \"VolumeTiming\": [0, 2, 1]}");
    expect_rule(0, BTFM_E_FORMAT, "VolumeTiming[2]");
    put("task-rest_bold.json", "{\"TaskName\": \"rest\", \"RepetitionTime\": 2, \"SliceTiming\": [0, 2]}");
    expect_rule(0, BTFM_E_FORMAT, "rule slice-timing");
    put("task-rest_bold.json", "{\"TaskName\": \"rest\", \"VolumeTiming\": [0, 2.5, 5]}");
    b = open_ok(0);
    const char *json;
    ck_assert_ok(btfm_bids_recording_metadata(b, find(b, "datatype=func"), &json));
    ck_assert_ptr_nonnull(strstr(json, "\"VolumeTiming\""));
    btfm_bids_free(b);
    remove_root();
}
END_TEST

/* ---- rules ---- */

static const char *log_seen;
static char log_text[2048];

static void keep_warning(int level, const char *message, void *user)
{
    (void)user;
    if (level == BTFM_LOG_WARNING) snprintf(log_text, sizeof log_text, "%s", message);
    log_seen = log_text;
}

START_TEST(test_rules)
{
    put_dataset();
    put("dataset_description.json", "{\"Name\": \"x\"}");
    expect_rule(0, BTFM_E_FORMAT, "rule dataset-description: BIDSVersion must be a string");
    expect_rule(BTFM_BIDS_LENIENT, BTFM_E_FORMAT, "rule dataset-description");
    put("dataset_description.json", "{\"Name\": \"x\", \"BIDSVersion\": \"1.9.0\",}");
    expect_rule(0, BTFM_E_FORMAT, "line 1, column");
    remove(at("dataset_description.json"));
    expect_rule(0, BTFM_E_FORMAT, "rule dataset-description: the dataset has no dataset_description.json");
    put("dataset_description.json", "{\"Name\": \"x\", \"BIDSVersion\": \"1.9.0\"}");

    put("participants.tsv", "id\tage\nsub-01\t3\n");
    expect_rule(0, BTFM_E_FORMAT, "rule participants-columns");
    put("participants.tsv", "participant_id\tage\nsub-01\t3\n");

    put("task-rest_eeg.json", "{\"TaskName\": \"rest\", \"SamplingFrequency\": 100, "
        "\"SoftwareFilters\": \"n/a\", \"EEGReference\": \"Cz\"}");
    remove(at("sub-01/sub-01_task-rest_eeg.json"));
    expect_rule(0, BTFM_E_FORMAT, "rule sidecar-required: the eeg sidecar (eeg.json, merged from the root down) lacks PowerLineFrequency");
    put("task-rest_eeg.json", "%s", eeg_json);
    put("sub-01/sub-01_task-rest_eeg.json", "{\"SamplingFrequency\": \"fast\"}");
    expect_rule(0, BTFM_E_FORMAT, "rule sidecar-type: SamplingFrequency");
    put("sub-01/sub-01_task-rest_eeg.json", "[1, 2]");
    expect_rule(0, BTFM_E_FORMAT, "rule sidecar-object");
    put("sub-01/sub-01_task-rest_eeg.json", "{}");

    put("sub-02/eeg/sub-02_task-rest_events.tsv", "duration\tonset\n0\t1\n");
    expect_rule(0, BTFM_E_FORMAT, "rule events-columns: column 1 is \"duration\", expected onset");
    put("sub-02/eeg/sub-02_task-rest_events.tsv", "onset\tduration\n1\t0\t3\n");
    expect_rule(0, BTFM_E_FORMAT, "line 2");
    put("sub-02/eeg/sub-02_task-rest_events.tsv", "onset\tduration\n1\t0\n");
    put("sub-02/eeg/sub-02_task-rest_channels.tsv", "name\tunits\ttype\nC1\tuV\tEEG\n");
    expect_rule(0, BTFM_E_FORMAT, "rule channels-columns");
    remove(at("sub-02/eeg/sub-02_task-rest_channels.tsv"));

    put_edf("sub-02/eeg/sub-02_run-1_task-rest_eeg.edf", 1, 100);
    expect_rule(0, BTFM_E_FORMAT, "rule entity-order: entity task must come before run");
    remove(at("sub-02/eeg/sub-02_run-1_task-rest_eeg.edf"));
    put_edf("sub-02/eeg/sub-03_task-rest_eeg.edf", 1, 100);
    expect_rule(0, BTFM_E_FORMAT, "rule directory-entity: the name says sub-03 but the folder is sub-02/");
    remove(at("sub-02/eeg/sub-03_task-rest_eeg.edf"));
    put_edf("sub-02/eeg/sub-02_ses-x_task-rest_eeg.edf", 1, 100);
    expect_rule(0, BTFM_E_FORMAT, "rule directory-entity: the name has ses-x");
    remove(at("sub-02/eeg/sub-02_ses-x_task-rest_eeg.edf"));
    put_edf("sub-02/eeg/sub-02_task-re.st_eeg.edf", 1, 100);
    expect_rule(0, BTFM_E_FORMAT, "rule entity-label");

    /* lenient: the broken file is skipped, logged and listed */
    log_seen = NULL;
    btfm_set_log_callback(keep_warning, NULL);
    btfm_bids *b = open_ok(BTFM_BIDS_LENIENT);
    btfm_set_log_callback(NULL, NULL);
    ck_assert_int_eq(btfm_bids_n_recordings(b), 4);
    ck_assert_int_eq(btfm_bids_n_skipped(b), 1);
    const char *path, *reason;
    ck_assert_ok(btfm_bids_skipped(b, 0, &path, &reason));
    ck_assert_str_eq(path, "sub-02/eeg/sub-02_task-re.st_eeg.edf");
    ck_assert_ptr_nonnull(strstr(reason, "rule entity-label"));
    ck_assert_ptr_nonnull(log_seen);
    ck_assert_ptr_nonnull(strstr(log_text, "skipping sub-02/eeg/sub-02_task-re.st_eeg.edf"));
    ck_assert_status(btfm_bids_skipped(b, 1, &path, &reason), BTFM_E_RANGE);
    btfm_bids_free(b);
    remove(at("sub-02/eeg/sub-02_task-re.st_eeg.edf"));

    /* lenient: a recording whose sidecar lacks a field is skipped, the others stay */
    put("sub-02/eeg/sub-02_task-rest_eeg.json", "{\"PowerLineFrequency\": \"none\"}");
    btfm_set_log_callback(keep_warning, NULL);
    b = open_ok(BTFM_BIDS_LENIENT);
    btfm_set_log_callback(NULL, NULL);
    ck_assert_int_eq(btfm_bids_n_recordings(b), 3);
    ck_assert_ok(btfm_bids_skipped(b, 0, &path, &reason));
    ck_assert_str_eq(path, "sub-02/eeg/sub-02_task-rest_eeg.edf");
    ck_assert_ptr_nonnull(strstr(reason, "rule sidecar-type: PowerLineFrequency"));
    btfm_bids_free(b);
    remove(at("sub-02/eeg/sub-02_task-rest_eeg.json"));

    /* SamplingFrequency against the file's rate */
    put("sub-01/sub-01_task-rest_eeg.json", "{\"SamplingFrequency\": 250}");
    b = open_ok(0);
    btfm_dataset *ds;
    ck_assert_status(btfm_bids_open_recording(b, find(b, "run=1"), &ds), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "rule sampling-frequency: the sidecar says "
                                 "SamplingFrequency 250 Hz but the data file is sampled at 100 Hz"));
    btfm_bids_free(b);
    put("sub-01/sub-01_task-rest_eeg.json", "{}");

    /* scans.tsv acq_time that is not a date */
    put("sub-01/ses-a/sub-01_ses-a_scans.tsv",
        "filename\tacq_time\neeg/sub-01_ses-a_task-rest_run-1_eeg.edf\tyesterday\n");
    b = open_ok(0);
    ck_assert_status(btfm_bids_open_recording(b, find(b, "run=1"), &ds), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "rule scans-acq-time"));
    btfm_bids_free(b);
    remove_root();

    btfm_bids *none;
    ck_assert_status(btfm_bids_open(&none, "/nonexistent/bids", 0), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "rule dataset-description"));
}
END_TEST

/* ---- beh tables ---- */

START_TEST(test_beh_table)
{
    put_dataset();
    put("sub-02/beh/sub-02_task-rest_beh.tsv", "trial\tresponse\n1\tleft\n2\tn/a\n");
    put("sub-02/beh/sub-02_task-rest_events.tsv", "onset\tduration\n0\t1\n");
    btfm_bids *b = open_ok(0);
    int64_t index = find(b, "datatype=beh");
    btfm_table *t;
    ck_assert_ok(btfm_bids_read_table(b, index, &t));
    ck_assert_int_eq(btfm_table_n_rows(t), 2);
    ck_assert_str_eq(btfm_table_cell(t, 0, 1), "left");
    ck_assert(btfm_table_is_na(t, 1, 1));
    btfm_table_free(t);
    btfm_bids_free(b);
    remove_root();
}
END_TEST

/* ---- writing ---- */

START_TEST(test_writer_round_trip)
{
    make_root();
    enum { N = 300, C = 2 };
    float data[N * C];
    for (int i = 0; i < N; i++) {
        data[i * C] = (float)(20e-6 * sin(0.1 * i));
        data[i * C + 1] = (float)(5e-6 * cos(0.05 * i));
    }
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_from_array(&ds, data, N, C, 150, NULL));
    ck_assert_ok(btfm_dataset_set_channel_name(ds, 0, "Fz"));
    ck_assert_ok(btfm_dataset_set_channel_name(ds, 1, "EOG1"));
    for (int c = 0; c < C; c++) ck_assert_ok(btfm_dataset_set_channel_unit(ds, c, "V"));
    ck_assert_ok(btfm_dataset_set_channel_type(ds, 0, BTFM_CH_EEG));
    ck_assert_ok(btfm_dataset_set_channel_type(ds, 1, BTFM_CH_EOG));
    ck_assert_ok(btfm_dataset_set_channel_bad(ds, 1, 1));
    ck_assert_ok(btfm_dataset_add_event(ds, 0.5, 0.25, "annotation", "go", 2));
    ck_assert_ok(btfm_dataset_add_event(ds, 1.0, 0, "annotation", "stop", 4));
    ck_assert_ok(btfm_dataset_set_metadata(ds, "{\"Manufacturer\": \"sim\", \"PowerLineFrequency\": 50}"));
    btfm_bids_writer *w;
    char out[128];
    snprintf(out, sizeof out, "%s/out", root);
    ck_assert_ok(btfm_bids_writer_new(&w, out, "simulated"));
    ck_assert_status(btfm_bids_writer_add(w, ds, "sub=01 datatype=eeg", BTFM_FORMAT_EDF, NULL, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_writer_add(w, ds, "sub=01 task=a datatype=func", BTFM_FORMAT_EDF, NULL, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_writer_add(w, ds, "sub=0_1 task=a datatype=eeg", BTFM_FORMAT_EDF, NULL, NULL), BTFM_E_FORMAT);
    ck_assert_status(btfm_bids_writer_add(w, ds, "sub=01 task=a datatype=eeg", BTFM_FORMAT_NIFTI, NULL, NULL), BTFM_E_INVALID);
    ck_assert_ok(btfm_bids_writer_add(w, ds, "run=1 task=rest sub=01 datatype=eeg", BTFM_FORMAT_EDF,
                                      "{\"EEGReference\": \"Cz\"}", NULL));
    ck_assert_ok(btfm_bids_writer_add(w, ds, "sub=02 ses=x task=rest datatype=ieeg", BTFM_FORMAT_BRAINVISION,
                                      NULL, NULL));
    ck_assert_ok(btfm_bids_writer_finish(w));
    btfm_bids_writer_free(w);

    btfm_bids *b;
    ck_assert_ok(btfm_bids_open(&b, out, 0));
    ck_assert_int_eq(btfm_bids_n_recordings(b), 2);
    ck_assert_str_eq(btfm_bids_recording_entity(b, 0, "run"), "1");
    ck_assert_str_eq(btfm_bids_recording_entity(b, 1, "datatype"), "ieeg");
    const btfm_table *participants;
    ck_assert_ok(btfm_bids_participants(b, &participants));
    ck_assert_int_eq(btfm_table_n_rows(participants), 2);
    for (int64_t r = 0; r < 2; r++) {
        btfm_dataset *back;
        ck_assert_ok(btfm_bids_open_recording(b, r, &back));
        ck_assert_int_eq(btfm_dataset_n_times(back), N);
        ck_assert(btfm_dataset_sfreq(back) == 150);
        float read[N * C];
        ck_assert_ok(btfm_dataset_read(back, 0, N, NULL, 0, read));
        for (int i = 0; i < N * C; i++) ck_assert(fabs(read[i] - data[i]) < 1e-8);
        ck_assert_str_eq(btfm_dataset_channel_name(back, 1), "EOG1");
        ck_assert_int_eq(btfm_dataset_channel_type(back, 1), BTFM_CH_EOG);
        ck_assert_int_eq(btfm_dataset_channel_bad(back, 1), 1);
        ck_assert_int_eq(btfm_dataset_channel_bad(back, 0), 0);
        ck_assert_int_eq(btfm_dataset_n_events(back), 2);
        const char *label, *s;
        double onset, duration;
        int code;
        ck_assert_ok(btfm_dataset_event(back, 0, &onset, &duration, NULL, &label, &code));
        ck_assert(onset == 0.5 && duration == 0.25 && code == 2);
        ck_assert_str_eq(label, "go");
        ck_assert_ok(btfm_dataset_meta_string(back, "Manufacturer", &s));
        ck_assert_str_eq(s, "sim");
        ck_assert_ok(btfm_dataset_meta_string(back, "TaskName", &s));
        ck_assert_str_eq(s, "rest");
        ck_assert_ok(btfm_dataset_meta_string(back, r ? "iEEGReference" : "EEGReference", &s));
        ck_assert_str_eq(s, r ? "n/a" : "Cz");
        ck_assert(meta_number(back, "EEGChannelCount") == 1);
        ck_assert(meta_number(back, "EOGChannelCount") == 1);
        btfm_dataset_free(back);
    }
    btfm_bids_free(b);
    btfm_dataset_free(ds);
    ck_assert_status(btfm_bids_writer_new(&w, out, ""), BTFM_E_INVALID);
    ck_assert_status(btfm_bids_writer_finish(NULL), BTFM_E_INVALID);
    btfm_bids_writer_free(NULL);
    remove_root();
}
END_TEST

/* Indexing reports to the thread's callback; a cancel, in the folder walk or in the
 * checks of the recordings, gives no handle (and is never skipped as lenient). */
START_TEST(test_index_progress_and_cancel)
{
    put_dataset();
    watched w = {0, 0, 0, 0};
    btfm_set_thread_progress(watch, &w);
    btfm_bids *b = open_ok(0);
    btfm_bids_free(b);
    const int total = w.calls;
    ck_assert(w.last == 1.0 && w.backwards == 0 && total >= 4);
    const int stops[] = {2, total - 1};
    for (int k = 0; k < 2; k++)
        for (unsigned flags = 0; flags <= BTFM_BIDS_LENIENT; flags += BTFM_BIDS_LENIENT) {
            w = (watched){0, stops[k], 0, 0};
            expect_rule(flags, BTFM_E_CANCELLED, "cancelled by the progress callback");
            ck_assert_int_eq(w.calls, stops[k]);
        }
    btfm_set_thread_progress(NULL, NULL);
    b = open_ok(0);
    ck_assert_int_eq(btfm_bids_n_recordings(b), 4);
    btfm_bids_free(b);
    remove_root();
}
END_TEST

static Suite *bids_suite(void)
{
    Suite *s = suite_create("bids");
    TCase *tc = tcase_create("bids");
    unit_set_timeout(tc, 1.5); /* seconds of work on an idle machine */
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_index_and_queries);
    tcase_add_test(tc, test_values_from_several_threads);
    tcase_add_test(tc, test_inheritance);
    tcase_add_test(tc, test_events_and_channels);
    tcase_add_test(tc, test_func_sidecars);
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_beh_table);
    tcase_add_test(tc, test_writer_round_trip);
    tcase_add_test(tc, test_index_progress_and_cancel);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(bids_suite)
