/* Writing BIDS datasets: data files through btfm_dataset_save, with the modality sidecar,
 * channels.tsv and events.tsv beside each, then participants.tsv, scans.tsv and
 * dataset_description.json. Every file goes through an atomic write. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "core/number.h"
#include "bids_internal.h"
#include <btfm/version.h>

typedef struct scan_entry {
    char *dir;       /* "sub-01" or "sub-01/ses-a" */
    char *prefix;    /* "sub-01" or "sub-01_ses-a" */
    char *filename;  /* "eeg/sub-01_task-rest_eeg.edf" */
    char *acq_time;  /* ISO 8601 or "n/a" */
} scan_entry;

struct btfm_bids_writer {
    char *root, *name;
    btfm_table *participants; /* the caller's, copied; NULL for participant_id only */
    int64_t n_scans, scans_cap;
    scan_entry *scans;
    int keep_identity; /* btfm_bids_writer_keep_identity; 0: de-identify */
};

static btfm_status make_dirs(const char *path)
{
    char *copy = btfm_strdup(path);
    if (!copy) return btfm_fail_nomem("bids writer", strlen(path));
    btfm_status st = BTFM_OK;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p) continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            st = btfm_fail(BTFM_E_IO, "bids writer: cannot create the folder %s: %s", copy,
                           strerror(errno));
            break;
        }
        *p = saved;
        if (!saved) break;
    }
    btfm_free(copy);
    return st;
}

btfm_status btfm_bids_writer_new(btfm_bids_writer **out, const char *root, const char *name)
{
    static const char func[] = "btfm_bids_writer_new";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(root, func, "root");
    BTFM_CHECK_ARG(name, func, "name");
    if (!*root || !*name || !btfm_utf8_valid(name, strlen(name)))
        return btfm_fail(BTFM_E_INVALID, "%s: root and name must be non-empty (name UTF-8)", func);
    btfm_status st = make_dirs(root);
    if (st) return st;
    btfm_bids_writer *w = btfm_calloc(1, sizeof *w);
    if (!w || !(w->root = btfm_strdup(root)) || !(w->name = btfm_strdup(name))) {
        btfm_bids_writer_free(w);
        return btfm_fail_nomem(func, sizeof *w);
    }
    *out = w;
    return BTFM_OK;
}

btfm_status btfm_bids_writer_keep_identity(btfm_bids_writer *w, int keep)
{
    BTFM_CHECK_ARG(w, "btfm_bids_writer_keep_identity", "writer");
    w->keep_identity = keep != 0;
    return BTFM_OK;
}

void btfm_bids_writer_free(btfm_bids_writer *w)
{
    if (!w) return;
    for (int64_t i = 0; i < w->n_scans; i++) {
        btfm_free(w->scans[i].dir);
        btfm_free(w->scans[i].prefix);
        btfm_free(w->scans[i].filename);
        btfm_free(w->scans[i].acq_time);
    }
    btfm_free(w->scans);
    btfm_table_free(w->participants);
    btfm_free(w->root);
    btfm_free(w->name);
    btfm_free(w);
}

btfm_status btfm_bids_writer_set_participants(btfm_bids_writer *w, const btfm_table *participants)
{
    static const char func[] = "btfm_bids_writer_set_participants";
    BTFM_CHECK_ARG(w, func, "writer");
    BTFM_CHECK_ARG(participants, func, "participants");
    const char *first = btfm_table_column_name(participants, 0);
    if (!first || strcmp(first, "participant_id") != 0)
        return btfm_fail(BTFM_E_INVALID, "%s: the first column is \"%s\", expected participant_id",
                         func, first ? first : "");
    btfm_table *copy;
    btfm_status st = btfm_io_table_copy(&copy, participants);
    if (st) return st;
    btfm_table_free(w->participants);
    w->participants = copy;
    return BTFM_OK;
}

/* A number for a TSV cell: the shortest text that reads back exactly, whole numbers
 * without an exponent ("250" rather than "2.5e+02"). */
static void format_cell_number(double value, char *out)
{
    btfm_format_double(value, out);
    if (strchr(out, 'e') && value == nearbyint(value) && fabs(value) < 1e15)
        snprintf(out, 32, "%.0f", value); /* no decimal point: locale-independent */
}

/* ---- one recording ---- */

typedef struct name_parts {
    char datatype[16];
    char base[1024];     /* sub-01_ses-a_task-rest_run-1 */
    char dir[512];       /* sub-01/ses-a */
    char prefix[256];    /* sub-01_ses-a */
} name_parts;

/* The file-name suffix of a recording: the datatype for eeg and ieeg, bold for func. */
static const char *suffix_of(const name_parts *p)
{
    return strcmp(p->datatype, "func") == 0 ? "bold" : p->datatype;
}

/* The query-syntax entities as a file-name stem, ordered as the specification says. */
static btfm_status parse_entities(const char *entities, name_parts *p)
{
    static const char func[] = "btfm_bids_writer_add";
    char *text = btfm_strdup(entities);
    if (!text) return btfm_fail_nomem(func, strlen(entities));
    btfm_bids_name n = {0};
    btfm_status st = BTFM_OK;
    memset(p, 0, sizeof *p);
    for (char *save = NULL, *tok = strtok_r(text, " \t\n", &save); tok && !st;
         tok = strtok_r(NULL, " \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            st = btfm_fail(BTFM_E_INVALID, "%s: term \"%s\" of \"%s\" is not key=label", func, tok, entities);
            break;
        }
        *eq = '\0';
        const char *key = btfm_bids_canonical_key(tok);
        if (strcmp(key, "datatype") == 0) {
            snprintf(p->datatype, sizeof p->datatype, "%s", eq + 1);
            continue;
        }
        btfm_bids_entity *grown = btfm_realloc(n.entities, (size_t)(n.n_entities + 1) * sizeof *grown);
        if (!grown) {
            st = btfm_fail_nomem(func, sizeof *grown);
            break;
        }
        n.entities = grown;
        n.entities[n.n_entities].key = btfm_strdup(key);
        n.entities[n.n_entities].value = btfm_strdup(eq + 1);
        n.n_entities++;
        if (!n.entities[n.n_entities - 1].key || !n.entities[n.n_entities - 1].value)
            st = btfm_fail_nomem(func, strlen(tok));
    }
    btfm_free(text);
    if (!st && strcmp(p->datatype, "eeg") != 0 && strcmp(p->datatype, "ieeg") != 0 &&
        strcmp(p->datatype, "func") != 0)
        st = btfm_fail(BTFM_E_INVALID, "%s: datatype is \"%s\" in \"%s\", expected datatype=eeg, "
                       "datatype=ieeg or datatype=func", func, p->datatype, entities);
    for (int k = 0; !st && k < 2; k++)
        if (!btfm_bids_name_get(&n, k ? "task" : "sub"))
            st = btfm_fail(BTFM_E_INVALID, "%s: \"%s\" has no %s=<label> (sub and task are "
                           "required)", func, entities, k ? "task" : "sub");
    /* Known entities in the specification's order, then the others. */
    size_t used = 0;
    for (int pass = 0; !st && pass < 2; pass++) {
        const char *key;
        for (int rank = 0; pass == 0 && (key = btfm_bids_entity_key(rank)) != NULL; rank++) {
            const char *label = btfm_bids_name_get(&n, key);
            if (label)
                used += (size_t)snprintf(p->base + used, sizeof p->base - used, "%s%s-%s",
                                         used ? "_" : "", key, label);
        }
        for (int k = 0; pass == 1 && k < n.n_entities; k++)
            if (!btfm_bids_is_known_entity(n.entities[k].key))
                used += (size_t)snprintf(p->base + used, sizeof p->base - used, "_%s-%s",
                                         n.entities[k].key, n.entities[k].value);
        if (used >= sizeof p->base) st = btfm_fail(BTFM_E_RANGE, "%s: \"%s\" makes too long a name", func, entities);
    }
    if (!st) {
        const char *ses = btfm_bids_name_get(&n, "ses");
        const char *sub = btfm_bids_name_get(&n, "sub");
        snprintf(p->dir, sizeof p->dir, "sub-%s%s%s", sub, ses ? "/ses-" : "", ses ? ses : "");
        snprintf(p->prefix, sizeof p->prefix, "sub-%s%s%s", sub, ses ? "_ses-" : "", ses ? ses : "");
    }
    btfm_bids_name_clear(&n);
    if (st) return st;
    /* The name must read back: the parser holds every label rule. */
    char probe[1100];
    snprintf(probe, sizeof probe, "%s_%s.json", p->base, suffix_of(p));
    btfm_bids_name check;
    if ((st = btfm_bids_name_parse(&check, probe, entities))) return st;
    btfm_bids_name_clear(&check);
    return BTFM_OK;
}

static const char *data_extension(int format)
{
    return format == BTFM_FORMAT_EDF ? ".edf" : format == BTFM_FORMAT_BDF ? ".bdf"
         : format == BTFM_FORMAT_BRAINVISION ? ".vhdr" : format == BTFM_FORMAT_NIFTI ? ".nii.gz"
         : NULL;
}

static btfm_status write_sidecar(const btfm_dataset *ds, const name_parts *p, const char *task,
                                 const char *sidecar_json, const char *path)
{
    btfm_json *j = NULL, *extra = NULL, *merged = NULL;
    btfm_status st = ds->metadata ? btfm_json_copy(&j, ds->metadata) : btfm_json_new_object(&j);
    if (!st && sidecar_json) {
        st = btfm_json_parse(&extra, sidecar_json, strlen(sidecar_json), "sidecar_json");
        if (!st && btfm_json_kind_of(extra) != BTFM_JSON_OBJECT)
            st = btfm_fail(BTFM_E_INVALID, "btfm_bids_writer_add: sidecar_json must be a JSON object");
        if (!st) st = btfm_json_merge(&merged, j, extra);
        if (!st) {
            btfm_json_free(j);
            j = merged;
        }
    }
    btfm_json_free(extra);
    if (!st && strcmp(p->datatype, "func") == 0) {
        /* fMRI: the repetition time is the image's (VolumeTiming is never written). */
        st = btfm_json_set_string(j, "TaskName", task);
        if (!st) st = btfm_json_set_number(j, "RepetitionTime", 1.0 / ds->sfreq);
        if (!st) st = btfm_json_write_file(j, path);
        btfm_json_free(j);
        return st;
    }
    int eeg = strcmp(p->datatype, "eeg") == 0;
    if (!st) st = btfm_json_set_string(j, "TaskName", task);
    if (!st) st = btfm_json_set_number(j, "SamplingFrequency", ds->sfreq);
    const char *defaults[] = {"PowerLineFrequency", "SoftwareFilters", eeg ? "EEGReference" : "iEEGReference"};
    for (int k = 0; !st && k < 3; k++)
        if (!btfm_json_get(j, defaults[k])) st = btfm_json_set_string(j, defaults[k], "n/a");
    /* Channel counts by type, as the modality table names them. */
    static const struct { int type; const char *eeg_key, *ieeg_key; } counts[] = {
        {BTFM_CH_EEG, "EEGChannelCount", "EEGChannelCount"}, {BTFM_CH_EOG, "EOGChannelCount", "EOGChannelCount"},
        {BTFM_CH_ECG, "ECGChannelCount", "ECGChannelCount"}, {BTFM_CH_EMG, "EMGChannelCount", "EMGChannelCount"},
        {BTFM_CH_MISC, "MiscChannelCount", "MiscChannelCount"}, {BTFM_CH_STIM, "TriggerChannelCount", "TriggerChannelCount"},
        {BTFM_CH_ECOG, NULL, "ECOGChannelCount"}, {BTFM_CH_SEEG, NULL, "SEEGChannelCount"},
        {BTFM_CH_DBS, NULL, "DBSChannelCount"},
    };
    for (size_t k = 0; !st && k < sizeof counts / sizeof *counts; k++) {
        const char *key = eeg ? counts[k].eeg_key : counts[k].ieeg_key;
        if (!key) continue;
        int n = 0;
        for (int c = 0; c < ds->n_channels; c++) n += ds->channels[c].type == counts[k].type;
        if (n || strcmp(key, "EEGChannelCount") == 0) st = btfm_json_set_number(j, key, n);
    }
    if (!st) st = btfm_json_set_number(j, "RecordingDuration", (double)ds->n_times / ds->sfreq);
    if (!st) st = btfm_json_set_string(j, "RecordingType", "continuous");
    if (!st) st = btfm_json_write_file(j, path);
    btfm_json_free(j);
    return st;
}

static btfm_status write_channels(const btfm_dataset *written, const btfm_dataset *ds,
                                  const char *path)
{
    static const char *const columns[] = {"name", "type", "units", "sampling_frequency", "status"};
    btfm_table *t;
    btfm_status st = btfm_table_new(&t, columns, 5);
    for (int c = 0; !st && c < ds->n_channels; c++) {
        char rate[32];
        format_cell_number(written->channels[c].rate, rate);
        const char *unit = written->channels[c].stored_unit;
        const char *cells[5] = {written->channels[c].name,
                                btfm_bids_channel_type_name(ds->channels[c].type),
                                *unit ? unit : "n/a", rate, ds->channels[c].bad ? "bad" : "good"};
        st = btfm_table_add_row(t, cells);
    }
    if (!st) st = btfm_table_save(t, path);
    btfm_table_free(t);
    return st;
}

static btfm_status write_events(const btfm_dataset *ds, const btfm_table *events, const char *path)
{
    if (events) {
        btfm_status st = btfm_bids_check_events_columns(events, "btfm_bids_writer_add: events");
        return st ? st : btfm_table_save(events, path);
    }
    if (ds->events_table) return btfm_table_save(ds->events_table, path);
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n_events; i++) n += strcmp(ds->events[i].type, "gap") != 0;
    if (n == 0) return BTFM_OK;
    static const char *const columns[] = {"onset", "duration", "trial_type", "value", "sample"};
    btfm_table *t;
    btfm_status st = btfm_table_new(&t, columns, 5);
    for (int64_t i = 0; !st && i < ds->n_events; i++) {
        const btfm_event_rec *e = &ds->events[i];
        if (strcmp(e->type, "gap") == 0) continue;
        char onset[32], duration[32], value[16], sample[24];
        format_cell_number(e->onset, onset);
        format_cell_number(e->duration, duration);
        snprintf(value, sizeof value, "%d", e->code);
        snprintf(sample, sizeof sample, "%lld", (long long)llround(e->onset * ds->sfreq));
        const char *cells[5] = {onset, duration, *e->label ? e->label : NULL, value, sample};
        st = btfm_table_add_row(t, cells);
    }
    if (!st) st = btfm_table_save(t, path);
    btfm_table_free(t);
    return st;
}

static btfm_status add_scan(btfm_bids_writer *w, const name_parts *p, const char *file,
                            const btfm_dataset *ds)
{
    double start = ds->start_time;
    if (!w->keep_identity) start = btfm_deidentified_start(start);
    void *grown = w->scans;
    btfm_status st = btfm_reserve(&grown, &w->scans_cap, w->n_scans + 1, sizeof *w->scans, "bids scans");
    w->scans = grown;
    if (st) return st;
    char acq[64] = "n/a";
    if (ds->has_start_time) btfm_bids_format_time(start, acq, sizeof acq);
    scan_entry *s = &w->scans[w->n_scans];
    s->dir = btfm_strdup(p->dir);
    s->prefix = btfm_strdup(p->prefix);
    s->filename = btfm_bids_join(p->datatype, file);
    s->acq_time = btfm_strdup(acq);
    w->n_scans++;
    if (!s->dir || !s->prefix || !s->filename || !s->acq_time)
        return btfm_fail_nomem("bids scans", 64);
    return BTFM_OK;
}

btfm_status btfm_bids_writer_add(btfm_bids_writer *w, btfm_dataset *ds, const char *entities,
                                 int format, const char *sidecar_json, const btfm_table *events)
{
    static const char func[] = "btfm_bids_writer_add";
    BTFM_CHECK_ARG(w, func, "writer");
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(entities, func, "entities");
    const char *ext = data_extension(format);
    if (!ext)
        return btfm_fail(BTFM_E_INVALID, "%s: format %d is not EDF (%d), BDF (%d), BrainVision "
                         "(%d) or NIfTI (%d)", func, format, BTFM_FORMAT_EDF, BTFM_FORMAT_BDF,
                         BTFM_FORMAT_BRAINVISION, BTFM_FORMAT_NIFTI);
    name_parts p;
    btfm_status st = parse_entities(entities, &p);
    if (st) return st;
    int fmri = strcmp(p.datatype, "func") == 0;
    if (fmri != (format == BTFM_FORMAT_NIFTI))
        return btfm_fail(BTFM_E_INVALID, "%s: \"%s\": datatype=%s is written as %s, not format "
                         "%d", func, entities, p.datatype, fmri ? "NIfTI" : "EDF, BDF or BrainVision",
                         format);
    char folder[1100], file[1100];
    snprintf(folder, sizeof folder, "%s/%s/%s", w->root, p.dir, p.datatype);
    if ((st = make_dirs(folder))) return st;
    char *path = btfm_malloc(strlen(folder) + sizeof file + 8);
    if (!path) return btfm_fail_nomem(func, sizeof file);
    btfm_dataset *written = NULL;
    const char *task = strstr(p.base, "task-") + 5;
    char task_label[256];
    snprintf(task_label, sizeof task_label, "%.*s", (int)strcspn(task, "_"), task);
    snprintf(file, sizeof file, "%s_%s%s", p.base, suffix_of(&p), ext);
    sprintf(path, "%s/%s", folder, file);
    st = btfm_dataset_save(ds, path, format, w->keep_identity ? 0 : BTFM_SAVE_ANONYMIZE);
    /* The stored units and rates are what the file says: read them back. */
    if (!st) st = btfm_dataset_open(&written, path, format, 0);
    if (!st) st = add_scan(w, &p, file, ds);
    if (!st) {
        sprintf(path, "%s/%s_%s.json", folder, p.base, suffix_of(&p));
        st = write_sidecar(ds, &p, task_label, sidecar_json, path);
    }
    if (!st && !fmri) { /* voxels have no channels.tsv */
        sprintf(path, "%s/%s_channels.tsv", folder, p.base);
        st = write_channels(written, ds, path);
    }
    if (!st) {
        sprintf(path, "%s/%s_events.tsv", folder, p.base);
        st = write_events(ds, events, path);
    }
    btfm_dataset_free(written);
    btfm_free(path);
    return st;
}

/* ---- finishing ---- */

static btfm_status write_participants(btfm_bids_writer *w)
{
    static const char *const id_only[] = {"participant_id"};
    btfm_table *t = NULL;
    btfm_status st = w->participants ? btfm_io_table_copy(&t, w->participants) : btfm_table_new(&t, id_only, 1);
    int n_cols = btfm_table_n_columns(t);
    for (int64_t i = 0; !st && i < w->n_scans; i++) {
        char id[256];
        snprintf(id, sizeof id, "%.*s", (int)strcspn(w->scans[i].dir, "/"), w->scans[i].dir);
        int present = 0;
        for (int64_t r = 0; r < btfm_table_n_rows(t) && !present; r++)
            present = strcmp(btfm_table_cell(t, r, 0), id) == 0;
        if (present) continue;
        const char *cells[64] = {id};
        if (n_cols > 64) {
            st = btfm_fail(BTFM_E_RANGE, "btfm_bids_writer_finish: participants table has more "
                           "than 64 columns");
            break;
        }
        st = btfm_table_add_row(t, cells); /* NULL cells are n/a */
    }
    char *path = st ? NULL : btfm_bids_join(w->root, "participants.tsv");
    if (!st && !path) st = btfm_fail_nomem("bids writer", 64);
    if (!st) st = btfm_table_save(t, path);
    btfm_free(path);
    btfm_table_free(t);
    return st;
}

static btfm_status write_scans(btfm_bids_writer *w)
{
    static const char *const columns[] = {"filename", "acq_time"};
    btfm_status st = BTFM_OK;
    for (int64_t i = 0; !st && i < w->n_scans; i++) {
        int first = 1;
        for (int64_t k = 0; k < i && first; k++) first = strcmp(w->scans[k].dir, w->scans[i].dir) != 0;
        if (!first) continue;
        btfm_table *t;
        if ((st = btfm_table_new(&t, columns, 2))) break;
        for (int64_t k = i; !st && k < w->n_scans; k++) {
            if (strcmp(w->scans[k].dir, w->scans[i].dir) != 0) continue;
            const char *cells[2] = {w->scans[k].filename, w->scans[k].acq_time};
            st = btfm_table_add_row(t, cells);
        }
        char path[2048];
        snprintf(path, sizeof path, "%s/%s/%s_scans.tsv", w->root, w->scans[i].dir, w->scans[i].prefix);
        if (!st) st = btfm_table_save(t, path);
        btfm_table_free(t);
    }
    return st;
}

btfm_status btfm_bids_write_description(const char *root, const char *name, const char *type)
{
    btfm_json *d = NULL, *by = NULL, *tool = NULL;
    btfm_status st = btfm_json_new_object(&d);
    if (!st) st = btfm_json_set_string(d, "Name", name);
    if (!st) st = btfm_json_set_string(d, "BIDSVersion", "1.9.0");
    if (!st) st = btfm_json_set_string(d, "DatasetType", type);
    if (!st) st = btfm_json_new_array(&by);
    if (!st) st = btfm_json_new_object(&tool);
    if (!st) st = btfm_json_set_string(tool, "Name", "libbtfm");
    if (!st) st = btfm_json_set_string(tool, "Version", btfm_version_string());
    if (!st) {
        st = btfm_json_append(by, tool);
        tool = NULL;
    }
    if (!st) {
        st = btfm_json_set(d, "GeneratedBy", by);
        by = NULL;
    }
    char *path = st ? NULL : btfm_bids_join(root, "dataset_description.json");
    if (!st && !path) st = btfm_fail_nomem("bids writer", 64);
    if (!st) st = btfm_json_write_file(d, path);
    btfm_free(path);
    btfm_json_free(tool);
    btfm_json_free(by);
    btfm_json_free(d);
    return st;
}

btfm_status btfm_bids_writer_finish(btfm_bids_writer *w)
{
    BTFM_CHECK_ARG(w, "btfm_bids_writer_finish", "writer");
    btfm_status st = write_participants(w);
    if (!st) st = write_scans(w);
    if (!st) st = btfm_bids_write_description(w->root, w->name, "raw");
    return st;
}
