/* btfm_corpus_builder: parameters and the three steps of a build (plan the sources, build
 * each recording, merge the index), kept apart so that several processes can share one
 * build; btfm_corpus_build runs them in one process over the cores. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "corpus_internal.h"
#include "core/json.h"
#include "core/number.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "core/sha256.h"

static const btfm_param_def corpus_params[CORPUS_PARAM_COUNT] = {
    {"sfreq", BTFM_PARAM_REAL, 250, 0, 1e6, "Common sampling rate in Hz after resampling (0 keeps each recording's rate)."},
    {"l_freq", BTFM_PARAM_REAL, 0.5, 0, 1e5, "High-pass edge of the zero-phase Butterworth band-pass in Hz (0: none)."},
    {"h_freq", BTFM_PARAM_REAL, 75, 0, 1e5, "Low-pass edge in Hz (0: none; dropped when at or above the Nyquist frequency)."},
    {"filter_order", BTFM_PARAM_INT, 4, 1, 10, "Butterworth order, applied forward and backward."},
    {"reference", BTFM_PARAM_INT, 1, 0, 1, "0 keeps the reference, 1 re-references EEG and iEEG to the average of the good picked channels (MEG and fNIRS keep theirs)."},
    {"bads", BTFM_PARAM_INT, 2, 0, 2, "Bad channels: 0 keep, 1 drop, 2 interpolate from the nearest good ones (drop when positions are missing)."},
    {"clip", BTFM_PARAM_REAL, 20, 0, 1e4, "Clip robust z-scores to [-clip, clip] (0: no clipping)."},
    {"dtype", BTFM_PARAM_INT, 0, 0, 1, "Storage: 0 int16 with a per-channel scale, 1 float16."},
    {"num_threads", BTFM_PARAM_INT, 0, 0, 256, "Recordings built at once (0: the processors online)."},
    {"fmri_l_freq", BTFM_PARAM_REAL, 0.01, 0, 1e3, "High-pass edge for fMRI runs in Hz (0: none)."},
    {"fmri_h_freq", BTFM_PARAM_REAL, 0, 0, 1e3, "Low-pass edge for fMRI runs in Hz (0: none)."},
    {"nirs_sfreq", BTFM_PARAM_REAL, 5, 0, 1e6, "Common rate of fNIRS recordings in Hz (0 keeps each recording's)."},
    {"nirs_l_freq", BTFM_PARAM_REAL, 0.05, 0, 1e5, "High-pass edge for fNIRS recordings in Hz (0: none)."},
    {"nirs_h_freq", BTFM_PARAM_REAL, 0.7, 0, 1e5, "Low-pass edge for fNIRS recordings in Hz (0: none)."},
};

const btfm_param_table btfm_corpus_param_table = {
    BTFM_OBJECT_CORPUS, "corpus", CORPUS_PARAM_COUNT, corpus_params,
};

btfm_status btfm_corpus_builder_new(btfm_corpus_builder **out)
{
    BTFM_CHECK_ARG(out, "btfm_corpus_builder_new", "out");
    *out = NULL;
    btfm_corpus_builder *b = btfm_calloc(1, sizeof *b);
    if (!b) return btfm_fail_nomem("btfm_corpus_builder_new", sizeof *b);
    btfm_params_defaults(&btfm_corpus_param_table, b->params);
    *out = b;
    return BTFM_OK;
}

static void clear_plan(btfm_corpus_builder *b)
{
    for (int64_t i = 0; i < b->n_sources; i++) {
        corpus_source *s = &b->sources[i];
        btfm_free(s->path), btfm_free(s->id), btfm_free(s->subject), btfm_free(s->label);
        btfm_free(s->session), btfm_free(s->task), btfm_free(s->run), btfm_free(s->datatype);
        for (int k = 0; k < 3; k++) btfm_free(s->source_entity[k]);
    }
    btfm_free(b->sources);
    b->sources = NULL;
    b->n_sources = 0;
    btfm_bids_free(b->bids);
    b->bids = NULL;
    btfm_free(b->out_dir);
    b->out_dir = NULL;
}

void btfm_corpus_builder_free(btfm_corpus_builder *b)
{
    if (!b) return;
    clear_plan(b);
    for (int64_t i = 0; i < b->n_files; i++) btfm_free(b->files[i]);
    btfm_free(b->files);
    btfm_free(b->query), btfm_free(b->channel_types), btfm_free(b->keep_annotations);
    btfm_free(b->label_column), btfm_free(b->mask), btfm_free(b->atlas);
    memset(b->key, 0, sizeof b->key);
    btfm_free(b);
}

btfm_status btfm_corpus_builder_set_param(btfm_corpus_builder *b, int param, double value)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_set_param", "builder");
    return btfm_params_set(&btfm_corpus_param_table, b->params, param, value,
                           "btfm_corpus_builder_set_param");
}

btfm_status btfm_corpus_builder_get_param(const btfm_corpus_builder *b, int param,
                                          double *value)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_get_param", "builder");
    BTFM_CHECK_ARG(value, "btfm_corpus_builder_get_param", "value");
    return btfm_params_get(&btfm_corpus_param_table, b->params, param, value,
                           "btfm_corpus_builder_get_param");
}

btfm_status btfm_corpus_builder_set_key(btfm_corpus_builder *b, const void *key, size_t len)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_set_key", "builder");
    BTFM_CHECK_ARG(key, "btfm_corpus_builder_set_key", "key");
    if (len < 8 || len > CORPUS_KEY_MAX)
        return btfm_fail(BTFM_E_RANGE, "btfm_corpus_builder_set_key: the key has %zu bytes; "
                         "expected 8 to %d (a secret only the data holder knows)", len,
                         CORPUS_KEY_MAX);
    memcpy(b->key, key, len);
    b->key_len = len;
    return BTFM_OK;
}

btfm_status btfm_corpus_builder_set_text(btfm_corpus_builder *b, const char *name,
                                         const char *value)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_set_text", "builder");
    BTFM_CHECK_ARG(name, "btfm_corpus_builder_set_text", "name");
    static const char *const names[] = {"query", "channel_types", "keep_annotations",
                                        "label_column", "mask", "atlas"};
    char **slots[] = {&b->query, &b->channel_types, &b->keep_annotations, &b->label_column,
                      &b->mask, &b->atlas};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) != 0) continue;
        if (value && !btfm_utf8_valid(value, strlen(value)))
            return btfm_fail(BTFM_E_INVALID, "btfm_corpus_builder_set_text: %s is not valid "
                             "UTF-8", name);
        char *copy = NULL;
        if (value && *value && !(copy = btfm_strdup(value)))
            return btfm_fail_nomem("btfm_corpus_builder_set_text", strlen(value) + 1);
        btfm_free(*slots[i]);
        *slots[i] = copy;
        return BTFM_OK;
    }
    return btfm_fail(BTFM_E_NOTFOUND, "btfm_corpus_builder_set_text: no setting \"%s\"; the "
                     "settings are query, channel_types, keep_annotations, label_column, mask, "
                     "atlas", name);
}

btfm_status btfm_corpus_builder_set_progress(btfm_corpus_builder *b, btfm_progress_fn fn,
                                             void *user)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_set_progress", "builder");
    b->progress = fn;
    b->progress_user = user;
    return BTFM_OK;
}

btfm_status btfm_corpus_builder_add_file(btfm_corpus_builder *b, const char *path)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_add_file", "builder");
    BTFM_CHECK_ARG(path, "btfm_corpus_builder_add_file", "path");
    char **files = btfm_realloc(b->files, (size_t)(b->n_files + 1) * sizeof *files);
    if (!files) return btfm_fail_nomem("btfm_corpus_builder_add_file", 0);
    b->files = files;
    if (!(files[b->n_files] = btfm_strdup(path)))
        return btfm_fail_nomem("btfm_corpus_builder_add_file", strlen(path) + 1);
    b->n_files++;
    return BTFM_OK;
}

char *btfm_corpus_path(const char *out_dir, const char *id, const char *suffix)
{
    size_t n = strlen(out_dir) + strlen(CORPUS_RECORDINGS) + strlen(id) + strlen(suffix) + 3;
    char *p = btfm_malloc(n);
    if (p) snprintf(p, n, "%s/%s/%s%s", out_dir, CORPUS_RECORDINGS, id, suffix);
    return p;
}

static btfm_status make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return BTFM_OK;
        return btfm_fail(BTFM_E_IO, "corpus: %s exists and is not a folder", path);
    }
    return btfm_fail(BTFM_E_IO, "corpus: cannot create the folder %s (%s)", path,
                     strerror(errno));
}

/* Temporaries of writers killed mid-write ("<name>.tmp-XXXXXX"): never part of a corpus. */
static void remove_stale_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".tmp-")) continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = btfm_malloc(n);
        if (!p) break;
        snprintf(p, n, "%s/%s", dir, e->d_name);
        unlink(p);
        btfm_free(p);
    }
    closedir(d);
}

static char *dup_or_empty(const char *s) { return btfm_strdup(s ? s : ""); }

/* The value of entity `key` in a BIDS-like file name ("sub-01_task-rest_eeg.edf"). */
static char *name_entity(const char *path, const char *key)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t k = strlen(key);
    for (const char *p = base; *p;) {
        if (strncmp(p, key, k) == 0 && p[k] == '-') {
            const char *v = p + k + 1, *end = v;
            while (*end && *end != '_' && *end != '.') end++;
            char *out = btfm_malloc((size_t)(end - v) + 1);
            if (out) memcpy(out, v, (size_t)(end - v)), out[end - v] = '\0';
            return out;
        }
        const char *next = strchr(p, '_');
        if (!next) break;
        p = next + 1;
    }
    return NULL;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* A file's datatype: its BIDS suffix (sub-01_task-rest_meg.fif: meg) when it names one,
 * else what its extension holds. */
static const char *file_datatype(const char *path)
{
    if (ends_with(path, ".nii") || ends_with(path, ".nii.gz") || ends_with(path, ".hdr"))
        return "func";
    static const char *const suffixes[] = {"eeg", "ieeg", "meg", "nirs"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *cut = strrchr(base, '_');
    if (cut) {
        size_t n = strcspn(cut + 1, ".");
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
            if (strlen(suffixes[i]) == n && strncmp(cut + 1, suffixes[i], n) == 0) return suffixes[i];
    }
    if (ends_with(path, ".snirf")) return "nirs";
    if (ends_with(path, ".fif") || ends_with(path, ".fif.gz")) return "meg";
    return "eeg";
}

int btfm_corpus_label_is_date(const char *label)
{
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                         "aug", "sep", "oct", "nov", "dec"};
    int digits = 0;
    for (const char *p = label; *p; p++) {
        digits += isdigit((unsigned char)*p) != 0;
        for (size_t m = 0; m < sizeof months / sizeof months[0]; m++) {
            int at = 1;
            for (int k = 0; k < 3 && at; k++)
                at = p[k] && tolower((unsigned char)p[k]) == months[m][k];
            if (!at) continue;
            const char *after = p + 3;
            while (isalpha((unsigned char)*after)) after++;
            if ((p > label && isdigit((unsigned char)p[-1])) || isdigit((unsigned char)*after))
                return 1;
        }
    }
    return digits >= 6;
}

/* Session, task and run labels that could be dates become the first 16 hex digits of
 * HMAC-SHA-256(key, "<entity>-<label>"), as subjects do; the source's labels are kept in
 * memory for redacting messages. */
static btfm_status pseudonymize_dates(const btfm_corpus_builder *b, corpus_source *s)
{
    static const char *const entity[3] = {"ses", "task", "run"};
    char **value[3] = {&s->session, &s->task, &s->run};
    for (int k = 0; k < 3; k++) {
        if (!(s->source_entity[k] = btfm_strdup(*value[k])))
            return btfm_fail_nomem("corpus plan", 0);
        if (!btfm_corpus_label_is_date(*value[k])) continue;
        char text[600], hex[17];
        int n = snprintf(text, sizeof text, "%s-%s", entity[k], *value[k]);
        if (n < 0 || (size_t)n >= sizeof text)
            return btfm_fail(BTFM_E_RANGE, "corpus plan: %s: a %s label of %zu bytes", s->path,
                             entity[k], strlen(*value[k]));
        uint8_t mac[32];
        btfm_hmac_sha256(b->key, b->key_len, text, (size_t)n, mac);
        btfm_hex(mac, 8, hex);
        char *pseudonym = btfm_strdup(hex);
        if (!pseudonym) return btfm_fail_nomem("corpus plan", 17);
        btfm_free(*value[k]);
        *value[k] = pseudonym;
    }
    return BTFM_OK;
}

static btfm_status fill_source(btfm_corpus_builder *b, corpus_source *s, const char *path,
                               int64_t bids_index)
{
    s->bids_index = bids_index;
    if (!(s->path = btfm_strdup(path))) return btfm_fail_nomem("corpus plan", strlen(path));
    const char *label;
    char *own = NULL;
    if (bids_index >= 0) {
        label = btfm_bids_recording_entity(b->bids, bids_index, "sub");
        s->session = dup_or_empty(btfm_bids_recording_entity(b->bids, bids_index, "ses"));
        s->task = dup_or_empty(btfm_bids_recording_entity(b->bids, bids_index, "task"));
        s->run = dup_or_empty(btfm_bids_recording_entity(b->bids, bids_index, "run"));
        s->datatype = dup_or_empty(btfm_bids_recording_entity(b->bids, bids_index, "datatype"));
    } else {
        own = name_entity(path, "sub");
        if (!own) { /* the file name without folder and extension */
            const char *base = strrchr(path, '/');
            base = base ? base + 1 : path;
            own = btfm_strdup(base);
            if (own && strchr(own, '.')) *strchr(own, '.') = '\0';
        }
        label = own;
        char *v;
        s->session = (v = name_entity(path, "ses")) ? v : dup_or_empty(NULL);
        s->task = (v = name_entity(path, "task")) ? v : dup_or_empty(NULL);
        s->run = (v = name_entity(path, "run")) ? v : dup_or_empty(NULL);
        s->datatype = dup_or_empty(file_datatype(path));
    }
    if (!label || !s->session || !s->task || !s->run || !s->datatype) {
        btfm_free(own);
        return btfm_fail_nomem("corpus plan", 0);
    }
    uint8_t mac[32];
    btfm_hmac_sha256(b->key, b->key_len, label, strlen(label), mac);
    s->label = btfm_strdup(label);
    btfm_free(own);
    if (!s->label) return btfm_fail_nomem("corpus plan", 0);
    char hex[65];
    btfm_status st = pseudonymize_dates(b, s);
    if (st) return st;
    btfm_hex(mac, 8, hex);
    if (!(s->subject = btfm_strdup(hex))) return btfm_fail_nomem("corpus plan", 17);
    char id[1024];
    int n = snprintf(id, sizeof id, "sub-%s%s%s%s%s%s%s_%s", hex, *s->session ? "_ses-" : "",
                     s->session, *s->task ? "_task-" : "", s->task, *s->run ? "_run-" : "",
                     s->run, s->datatype);
    if (n < 0 || (size_t)n >= sizeof id)
        return btfm_fail(BTFM_E_RANGE, "corpus plan: %s: entity labels too long", path);
    if (!(s->id = btfm_strdup(id))) return btfm_fail_nomem("corpus plan", sizeof id);
    return BTFM_OK;
}

/* Two sources with one id (files without entities of one subject) get _split-<k>. */
static btfm_status disambiguate(btfm_corpus_builder *b)
{
    for (int64_t i = 0; i < b->n_sources; i++) {
        int k = 1;
        for (int64_t j = i + 1; j < b->n_sources; j++) {
            if (strcmp(b->sources[i].id, b->sources[j].id) != 0) continue;
            size_t n = strlen(b->sources[j].id) + 24;
            char *id = btfm_malloc(n);
            if (!id) return btfm_fail_nomem("corpus plan", n);
            snprintf(id, n, "%s_file-%d", b->sources[j].id, ++k);
            btfm_free(b->sources[j].id);
            b->sources[j].id = id;
        }
    }
    return BTFM_OK;
}

/* out_dir/plan.json: the ids of this plan, sorted, so that the merge takes these
 * recordings and not what an earlier build with other sources left in recordings/. */
static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static btfm_status write_plan(const btfm_corpus_builder *b)
{
    const char **ids = btfm_malloc((size_t)(b->n_sources ? b->n_sources : 1) * sizeof *ids);
    if (!ids) return btfm_fail_nomem("corpus plan", 0);
    for (int64_t i = 0; i < b->n_sources; i++) ids[i] = b->sources[i].id;
    qsort(ids, (size_t)b->n_sources, sizeof *ids, compare_ids);
    btfm_json *plan = NULL;
    btfm_status st = btfm_json_new_object(&plan);
    if (st == BTFM_OK) st = btfm_json_set_string(plan, "format", CORPUS_FORMAT "-plan");
    if (st == BTFM_OK) st = btfm_json_set_number(plan, "format_version", CORPUS_FORMAT_VERSION);
    if (st == BTFM_OK) st = btfm_json_set_strings(plan, "ids", ids, (size_t)b->n_sources);
    size_t n = strlen(b->out_dir) + sizeof CORPUS_PLAN + 2;
    char *path = btfm_malloc(n);
    if (st == BTFM_OK && !path) st = btfm_fail_nomem("corpus plan", n);
    if (st == BTFM_OK) {
        snprintf(path, n, "%s/%s", b->out_dir, CORPUS_PLAN);
        st = btfm_json_write_file(plan, path);
    }
    btfm_free(path);
    btfm_json_free(plan);
    btfm_free(ids);
    return st;
}

btfm_status btfm_corpus_builder_plan(btfm_corpus_builder *b, const char *source,
                                     const char *out_dir, int64_t *n_recordings)
{
    return btfm_corpus_plan_with(b, source, out_dir, n_recordings, 1);
}

btfm_status btfm_corpus_plan_with(btfm_corpus_builder *b, const char *source,
                                  const char *out_dir, int64_t *n_recordings, int write)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_plan", "builder");
    BTFM_CHECK_ARG(out_dir, "btfm_corpus_builder_plan", "out_dir");
    if (n_recordings) *n_recordings = 0;
    if (b->key_len == 0)
        return btfm_fail(BTFM_E_STATE, "btfm_corpus_builder_plan: no pseudonymization key; "
                         "set one with btfm_corpus_builder_set_key (btfm corpus build --key-file)");
    if (!source && b->n_files == 0)
        return btfm_fail(BTFM_E_INVALID, "btfm_corpus_builder_plan: no source: give a BIDS "
                         "folder or add files with btfm_corpus_builder_add_file");
    clear_plan(b);
    btfm_status st;
    int64_t n = 0, *picks = NULL;
    if (source) {
        if ((st = btfm_bids_open(&b->bids, source, BTFM_BIDS_LENIENT))) return st;
        const char *query = b->query ? b->query : "datatype=eeg,ieeg,meg,nirs,func";
        if ((st = btfm_bids_query(b->bids, query, NULL, 0, &n))) goto fail;
        if (n == 0) {
            st = btfm_fail(BTFM_E_NOTFOUND, "btfm_corpus_builder_plan: %s: no recording "
                           "matches \"%s\"", source, query);
            goto fail;
        }
        picks = btfm_malloc((size_t)n * sizeof *picks);
        if (!picks) { st = btfm_fail_nomem("btfm_corpus_builder_plan", 0); goto fail; }
        if ((st = btfm_bids_query(b->bids, query, picks, n, &n))) goto fail;
    } else {
        n = b->n_files;
    }
    b->sources = btfm_calloc((size_t)n, sizeof *b->sources);
    if (!b->sources) { st = btfm_fail_nomem("btfm_corpus_builder_plan", 0); goto fail; }
    b->n_sources = n;
    for (int64_t i = 0; i < n; i++) {
        const char *path = source ? btfm_bids_recording_path(b->bids, picks[i]) : b->files[i];
        if ((st = fill_source(b, &b->sources[i], path, source ? picks[i] : -1))) goto fail;
    }
    if ((st = disambiguate(b))) goto fail;
    if (!(b->out_dir = btfm_strdup(out_dir))) { st = btfm_fail_nomem("plan", 0); goto fail; }
    char *rec = btfm_corpus_path(out_dir, "", "");
    if (!rec) { st = btfm_fail_nomem("btfm_corpus_builder_plan", 0); goto fail; }
    if (write && (st = make_dir(out_dir)) == BTFM_OK && (st = make_dir(rec)) == BTFM_OK) {
        remove_stale_temporaries(rec);
        remove_stale_temporaries(out_dir);
        st = write_plan(b);
    }
    btfm_free(rec);
    if (st) goto fail;
    btfm_free(picks);
    if (n_recordings) *n_recordings = n;
    return BTFM_OK;
fail:
    btfm_free(picks);
    clear_plan(b);
    return st;
}

/* ---- one recording ---- */

/* The recording's files: the data file and its siblings that share its name up to the
 * last '_' (sidecars, BrainVision marker and data files), sorted by name. Each becomes
 * {"role": <name after the shared stem>, "bytes": n, "sha256": hex}: the stem holds the
 * real subject label and stays out of the corpus. */
static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static btfm_status hash_sources(const corpus_source *s, btfm_json **out, char *combined_hex)
{
    const char *slash = strrchr(s->path, '/');
    size_t dir_len = slash ? (size_t)(slash - s->path) : 0;
    const char *base = slash ? slash + 1 : s->path;
    const char *cut = strrchr(base, '_');
    size_t stem = cut ? (size_t)(cut - base) + 1 : strcspn(base, ".");
    char dir[4096];
    if (dir_len >= sizeof dir) return btfm_fail(BTFM_E_RANGE, "corpus: %s: path too long", s->path);
    memcpy(dir, s->path, dir_len);
    dir[dir_len] = '\0';
    if (!dir_len) strcpy(dir, ".");
    char **names = NULL;
    int64_t n = 0, cap = 0;
    btfm_status st = BTFM_OK;
    DIR *d = opendir(dir);
    if (!d) return btfm_fail(BTFM_E_IO, "corpus: cannot list %s (%s)", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, stem) != 0 || e->d_name[0] == '.') continue;
        if ((st = btfm_reserve((void **)&names, &cap, n + 1, sizeof *names, "corpus"))) break;
        if (!(names[n] = btfm_strdup(e->d_name))) { st = btfm_fail_nomem("corpus", 0); break; }
        n++;
    }
    closedir(d);
    if (st == BTFM_OK) qsort(names, (size_t)n, sizeof *names, compare_names);
    btfm_json *list = NULL;
    btfm_sha256_ctx all;
    btfm_sha256_init(&all);
    if (st == BTFM_OK) st = btfm_json_new_array(&list);
    for (int64_t i = 0; st == BTFM_OK && i < n; i++) {
        char path[8192], hex[65];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat info;
        if (stat(path, &info) != 0 || !S_ISREG(info.st_mode)) continue; /* .ds folders */
        uint8_t digest[32];
        uint64_t n_bytes = 0;
        if ((st = btfm_sha256_file(path, "corpus", digest, &n_bytes))) break;
        btfm_hex(digest, 32, hex);
        btfm_sha256_update(&all, names[i] + stem, strlen(names[i] + stem) + 1);
        btfm_sha256_update(&all, digest, 32);
        btfm_json *item = NULL;
        if ((st = btfm_json_new_object(&item))) break;
        if ((st = btfm_json_set_string(item, "role", names[i] + stem)) ||
            (st = btfm_json_set_number(item, "bytes", (double)n_bytes)) ||
            (st = btfm_json_set_string(item, "sha256", hex))) {
            btfm_json_free(item);
            break;
        }
        if ((st = btfm_json_append(list, item))) break; /* item freed */
    }
    for (int64_t i = 0; i < n; i++) btfm_free(names[i]);
    btfm_free(names);
    if (st) {
        btfm_json_free(list);
        return st;
    }
    uint8_t digest[32];
    btfm_sha256_final(&all, digest);
    btfm_hex(digest, 32, combined_hex);
    *out = list;
    return BTFM_OK;
}

/* What decides the bytes of a built recording: every parameter and text setting (not the
 * key: the id already depends on it), the format version and the sources' digests. */
static void build_fingerprint(const btfm_corpus_builder *b, const corpus_source *s,
                              const char *sources_hex, char *hex)
{
    btfm_sha256_ctx c;
    btfm_sha256_init(&c);
    char line[64];
    for (int i = 0; i < CORPUS_PARAM_COUNT; i++) {
        if (i == BTFM_CORPUS_NUM_THREADS) continue;
        int n = btfm_format_double(b->params[i], line);
        btfm_sha256_update(&c, line, (size_t)n + 1);
    }
    const char *texts[] = {b->channel_types, b->keep_annotations, b->label_column, b->mask,
                           b->atlas, s->id};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        btfm_sha256_update(&c, texts[i] ? texts[i] : "", strlen(texts[i] ? texts[i] : "") + 1);
    snprintf(line, sizeof line, "%s %d", CORPUS_FORMAT, CORPUS_FORMAT_VERSION);
    btfm_sha256_update(&c, line, strlen(line) + 1);
    btfm_sha256_update(&c, sources_hex, 64);
    uint8_t digest[32];
    btfm_sha256_final(&c, digest);
    btfm_hex(digest, 32, hex);
}

/* Already built with the same fingerprint (its entry exists, names it, and the binary
 * has the size the entry gives). */
static int already_built(const char *out_dir, const char *id, const char *fingerprint)
{
    char *json_path = btfm_corpus_path(out_dir, id, ".json");
    char *bin_path = btfm_corpus_path(out_dir, id, ".bin");
    btfm_json *entry = NULL;
    int done = 0;
    if (json_path && bin_path && btfm_json_read_file(&entry, json_path) == BTFM_OK) {
        const char *stored = btfm_json_string(btfm_json_get(entry, "build_sha256"));
        const btfm_json *shape = btfm_json_get(entry, "shape");
        double bytes = btfm_json_number(btfm_json_at(shape, 0)) *
                       btfm_json_number(btfm_json_at(shape, 1)) * 2.0;
        struct stat st;
        done = stored && strcmp(stored, fingerprint) == 0 && stat(bin_path, &st) == 0 &&
               (double)st.st_size == bytes;
    }
    btfm_json_free(entry);
    btfm_free(json_path);
    btfm_free(bin_path);
    return done;
}

/* `text` with the source's labels replaced by what the corpus stores: the subject's as
 * "sub-<label>" or as a path component's start (a file without entities), and the
 * session, task and run labels that were pseudonymized as "<entity>-<label>". */
static int label_at(const char *text, const char *label, size_t n)
{
    return strncmp(text, label, n) == 0 && !isalnum((unsigned char)text[n]);
}

static void redact(char *out, size_t cap, const char *text, const corpus_source *s)
{
    static const char *const prefix[4] = {"sub-", "ses-", "task-", "run-"};
    const char *from[4] = {s->label, s->source_entity[0], s->source_entity[1],
                           s->source_entity[2]};
    const char *to[4] = {s->subject, s->session, s->task, s->run};
    size_t used = 0;
    for (const char *p = text; *p && used + 1 < cap;) {
        int k = 0;
        size_t skip = 0, n = 0;
        for (; k < 4 && !skip; k++) {
            if (!from[k] || !*from[k] || strcmp(from[k], to[k]) == 0) continue;
            n = strlen(from[k]);
            size_t pl = strlen(prefix[k]);
            if (strncmp(p, prefix[k], pl) == 0 && label_at(p + pl, from[k], n)) skip = pl + n;
            else if (k == 0 && p > text && p[-1] == '/' && label_at(p, from[k], n)) skip = n;
        }
        if (skip) {
            k--;
            int written = snprintf(out + used, cap - used, "%s%s", skip > n ? prefix[k] : "",
                                   to[k]);
            used += written > 0 ? (size_t)written : 0;
            if (used >= cap) used = cap - 1;
            p += skip;
            continue;
        }
        out[used++] = *p++;
    }
    out[used] = '\0';
}

static btfm_status write_failure(const char *out_dir, const corpus_source *s, btfm_status why,
                                 const char *message)
{
    btfm_json *o = NULL;
    btfm_status st = btfm_json_new_object(&o);
    char *path = btfm_corpus_path(out_dir, s->id, ".failed.json");
    if (st == BTFM_OK && !path) st = btfm_fail_nomem("corpus", 0);
    if (st == BTFM_OK && !(st = btfm_json_set_string(o, "id", s->id)) &&
        !(st = btfm_json_set_string(o, "status", btfm_status_name(why))) &&
        !(st = btfm_json_set_string(o, "reason", message)))
        st = btfm_json_write_file(o, path);
    btfm_json_free(o);
    btfm_free(path);
    return st;
}

static void remove_entry(const char *out_dir, const char *id, const char *suffix)
{
    char *p = btfm_corpus_path(out_dir, id, suffix);
    if (p) unlink(p);
    btfm_free(p);
}

/* Recording `index` of the plan, in a worker's buffers (NULL: buffers of its own). */
btfm_status btfm_corpus_build_one_in(btfm_corpus_builder *b, int64_t index, int *built,
                                     corpus_scratch *scratch)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_builder_build_one", "builder");
    if (built) *built = 0;
    if (!b->out_dir)
        return btfm_fail(BTFM_E_STATE, "btfm_corpus_builder_build_one: no plan; call "
                         "btfm_corpus_builder_plan first");
    if (index < 0 || index >= b->n_sources)
        return btfm_fail(BTFM_E_RANGE, "btfm_corpus_builder_build_one: recording %lld of a "
                         "plan of %lld", (long long)index, (long long)b->n_sources);
    const corpus_source *s = &b->sources[index];
    btfm_json *sources = NULL;
    char sources_hex[65], fingerprint[65];
    btfm_status st = hash_sources(s, &sources, sources_hex);
    if (st == BTFM_OK) {
        build_fingerprint(b, s, sources_hex, fingerprint);
        if (already_built(b->out_dir, s->id, fingerprint)) {
            btfm_json_free(sources);
            if (built) *built = 1;
            return BTFM_OK;
        }
    }
    btfm_dataset *ds = NULL;
    if (st == BTFM_OK)
        st = s->bids_index >= 0 ? btfm_bids_open_recording(b->bids, s->bids_index, &ds)
                                : btfm_dataset_open(&ds, s->path, BTFM_FORMAT_AUTO, 0);
    char *sources_text = NULL;
    if (st == BTFM_OK) st = btfm_json_dump(sources, &sources_text, NULL);
    if (st == BTFM_OK) st = btfm_corpus_build_recording(b, s, ds, fingerprint, sources_text, scratch);
    btfm_free(sources_text);
    btfm_json_free(sources);
    btfm_dataset_free(ds);
    if (st == BTFM_OK) {
        remove_entry(b->out_dir, s->id, ".failed.json");
        if (built) *built = 1;
        return BTFM_OK;
    }
    if (st == BTFM_E_NOMEM || st == BTFM_E_CANCELLED) return st;
    /* The recording's own failure: recorded, not fatal to the build, with the subject's
     * label (in the file's path) replaced by its pseudonym. */
    char reason[1024];
    redact(reason, sizeof reason, btfm_last_error(), s);
    remove_entry(b->out_dir, s->id, ".json");
    remove_entry(b->out_dir, s->id, ".bin");
    return write_failure(b->out_dir, s, st, reason);
}

btfm_status btfm_corpus_builder_build_one(btfm_corpus_builder *b, int64_t index, int *built)
{
    return btfm_corpus_build_one_in(b, index, built, NULL);
}

/* ---- the whole build ---- */

typedef struct build_ctx {
    btfm_corpus_builder *b;
    btfm_progress *progress;
    corpus_scratch *scratch; /* one a worker */
    atomic_llong done, built, failed;
} build_ctx;

static btfm_status build_task(void *ctx_, int64_t index, int worker)
{
    build_ctx *ctx = ctx_;
    int built = 0;
    btfm_status st = btfm_corpus_build_one_in(ctx->b, index, &built, &ctx->scratch[worker]);
    if (st) return st;
    atomic_fetch_add(built ? &ctx->built : &ctx->failed, 1);
    long long done = atomic_fetch_add(&ctx->done, 1) + 1;
    if (worker != 0) return BTFM_OK; /* progress only on the caller's thread */
    char stage[64];
    snprintf(stage, sizeof stage, "recording %lld of %lld", done, (long long)ctx->b->n_sources);
    return btfm_progress_update(ctx->progress, stage, (double)done / (double)ctx->b->n_sources);
}

btfm_status btfm_corpus_build(btfm_corpus_builder *b, const char *source, const char *out_dir,
                              int64_t *n_built, int64_t *n_failed)
{
    BTFM_CHECK_ARG(b, "btfm_corpus_build", "builder");
    if (n_built) *n_built = 0;
    if (n_failed) *n_failed = 0;
    btfm_progress progress;
    btfm_status st = btfm_progress_start(&progress, b->progress, b->progress_user, "corpus");
    if (st) return st;
    int64_t n = 0;
    if ((st = btfm_corpus_builder_plan(b, source, out_dir, &n))) return st;
    btfm_progress part = btfm_progress_part(&progress, 0.0, 0.98);
    int threads = (int)b->params[BTFM_CORPUS_NUM_THREADS];
    if (threads == 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        threads = online > 0 ? (int)online : 1;
    }
    if (threads > n) threads = (int)n;
    build_ctx ctx = {.b = b, .progress = &part,
                     .scratch = btfm_calloc(threads > 0 ? (size_t)threads : 1, sizeof(corpus_scratch))};
    if (!ctx.scratch) return btfm_fail_nomem("btfm_corpus_build", 0);
    st = btfm_parallel_for(threads, n, build_task, &ctx);
    for (int w = 0; w < threads; w++) btfm_corpus_scratch_free(&ctx.scratch[w]);
    btfm_free(ctx.scratch);
    if (st) return st;
    if ((st = btfm_corpus_merge(out_dir))) return st;
    if (n_built) *n_built = atomic_load(&ctx.built);
    if (n_failed) *n_failed = atomic_load(&ctx.failed);
    return btfm_progress_done(&progress, "corpus");
}
