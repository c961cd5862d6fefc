/* Applying a recording's sidecars to its dataset: merged JSON as metadata (checked
 * against the data), events.tsv by the MNE-BIDS reading rules, channels.tsv, and the
 * scans.tsv acquisition time; electrode positions come from bids_electrodes.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/table_internal.h"
#include "bids_internal.h"

/* ---- events.tsv ---- */

typedef struct kept_row {
    double onset;
    int64_t row;
} kept_row;

static int by_onset_then_row(const void *x, const void *y)
{
    const kept_row *a = x, *b = y;
    if (a->onset != b->onset) return a->onset < b->onset ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* An integer code from a value cell ("3", "-1"); 0 for anything else. */
static int cell_code(const char *text)
{
    char *end;
    long v = strtol(text, &end, 10);
    return *text && !*end && v >= -2147483647L && v <= 2147483647L ? (int)v : 0;
}

btfm_status btfm_bids_apply_events(btfm_dataset *ds, const btfm_table *events, const char *where)
{
    btfm_status st = btfm_bids_check_events_columns(events, where);
    if (st) return st;
    int64_t n_rows = btfm_table_n_rows(events);
    int n_cols = btfm_table_n_columns(events);
    int label_col = -1, value_col = -1;
    if (btfm_table_find_column(events, "trial_type", &label_col) &&
        btfm_table_find_column(events, "value", &label_col))
        label_col = -1;
    if (btfm_table_find_column(events, "value", &value_col)) value_col = -1;
    double *onsets = btfm_malloc((size_t)(2 * n_rows + 1) * sizeof *onsets);
    kept_row *kept = btfm_malloc((size_t)(n_rows + 1) * sizeof *kept);
    const char **cells = btfm_malloc((size_t)n_cols * sizeof *cells);
    btfm_table *table = NULL;
    if (!onsets || !kept || !cells) {
        st = btfm_fail_nomem("bids events", (size_t)n_rows * 32);
        goto done;
    }
    double *durations = onsets + n_rows;
    if ((st = btfm_table_column_numbers(events, 0, onsets)) ||
        (st = btfm_table_column_numbers(events, 1, durations)))
        goto done;
    int64_t n_kept = 0;
    for (int64_t r = 0; r < n_rows; r++) {
        if (isnan(durations[r])) durations[r] = 0;
        if (!isfinite(onsets[r]) && !isnan(onsets[r])) {
            st = btfm_fail(BTFM_E_FORMAT, "bids: %s: line %lld: rule events-onset: onset must be "
                           "a finite number of seconds or n/a", where,
                           (long long)btfm_table_row_line(events, r));
            goto done;
        }
        if (!(durations[r] >= 0) || !isfinite(durations[r])) {
            st = btfm_fail(BTFM_E_FORMAT, "bids: %s: line %lld: rule events-duration: duration "
                           "%g must be a finite number of seconds >= 0 or n/a", where,
                           (long long)btfm_table_row_line(events, r), durations[r]);
            goto done;
        }
        /* MNE-BIDS: rows without an onset, or whose label column says n/a, are dropped. */
        if (isnan(onsets[r]) || (label_col >= 0 && btfm_table_is_na(events, r, label_col))) continue;
        kept[n_kept].onset = onsets[r];
        kept[n_kept].row = r;
        n_kept++;
    }
    qsort(kept, (size_t)n_kept, sizeof *kept, by_onset_then_row);
    for (int c = 0; c < n_cols; c++) cells[c] = btfm_table_column_name(events, c);
    if ((st = btfm_table_new(&table, cells, n_cols))) goto done;
    /* Events from the file itself give way to events.tsv; EDF+D gaps describe the
     * recording's structure and stay. */
    int64_t gaps = 0;
    for (int64_t i = 0; i < ds->n_events; i++) {
        btfm_event_rec *e = &ds->events[i];
        if (strcmp(e->type, "gap") == 0) {
            ds->events[gaps++] = *e;
        } else {
            btfm_free(e->type);
            btfm_free(e->label);
        }
    }
    ds->n_events = gaps;
    for (int64_t k = 0; k < n_kept; k++) {
        int64_t r = kept[k].row;
        for (int c = 0; c < n_cols; c++) cells[c] = btfm_table_cell(events, r, c);
        const char *label = label_col >= 0 ? btfm_table_cell(events, r, label_col) : "n/a";
        int code = value_col >= 0 ? cell_code(btfm_table_cell(events, r, value_col)) : 0;
        if ((st = btfm_table_add_row(table, cells)) ||
            (st = btfm_dataset_insert_event(ds, onsets[r], durations[r], "bids", label, code, k)))
            goto done;
    }
    btfm_dataset_take_events_table(ds, table);
    table = NULL;
done:
    btfm_table_free(table);
    btfm_free(cells);
    btfm_free(kept);
    btfm_free(onsets);
    return st;
}

/* ---- channels.tsv ---- */

static btfm_status mismatch(const char *where, int lenient, const char *what, const char *name)
{
    if (lenient) {
        btfm_warn("bids: %s: rule channels-match: %s \"%s\"", where, what, name);
        return BTFM_OK;
    }
    return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule channels-match: %s \"%s\" (channels.tsv "
                     "must list the data file's channels by name)", where, what, name);
}

btfm_status btfm_bids_apply_channels(btfm_dataset *ds, const btfm_table *channels,
                                     const char *where, int lenient)
{
    btfm_status st = btfm_bids_check_channels_columns(channels, where);
    if (st) return st;
    int status_col;
    if (btfm_table_find_column(channels, "status", &status_col)) status_col = -1;
    int64_t n_rows = btfm_table_n_rows(channels);
    char *listed = btfm_calloc((size_t)ds->n_channels + 1, 1);
    if (!listed) return btfm_fail_nomem("bids channels", (size_t)ds->n_channels);
    for (int64_t r = 0; !st && r < n_rows; r++) {
        const char *name = btfm_table_cell(channels, r, 0);
        int ch = -1;
        for (int i = 0; i < ds->n_channels && ch < 0; i++)
            if (strcmp(ds->channels[i].name, name) == 0) ch = i;
        if (ch < 0) {
            st = mismatch(where, lenient, "channels.tsv lists a channel the data file lacks:", name);
            continue;
        }
        listed[ch] = 1;
        btfm_channel *c = &ds->channels[ch];
        const char *type = btfm_table_cell(channels, r, 1);
        if (!btfm_table_is_na(channels, r, 1)) {
            int t = btfm_bids_channel_type(type);
            c->type = t ? t : BTFM_CH_MISC;
        }
        const char *units = btfm_table_cell(channels, r, 2);
        if (!btfm_table_is_na(channels, r, 2) && !*c->unit) {
            if ((st = btfm_channel_own_strings(c)) || (st = btfm_set_string(&c->unit, units)) || (st = btfm_set_string(&c->stored_unit, units)))
                break;
        }
        if (status_col >= 0 && !btfm_table_is_na(channels, r, status_col)) {
            const char *status = btfm_table_cell(channels, r, status_col);
            if (strcasecmp(status, "bad") == 0) c->bad = 1;
            else if (strcasecmp(status, "good") == 0) c->bad = 0;
            else if (!lenient)
                st = btfm_fail(BTFM_E_FORMAT, "bids: %s: line %lld: rule channels-status: status "
                               "\"%s\" of channel %s must be good, bad or n/a", where,
                               (long long)btfm_table_row_line(channels, r), status, name);
        }
    }
    for (int i = 0; !st && i < ds->n_channels; i++)
        if (!listed[i]) st = mismatch(where, lenient, "channels.tsv does not list the channel",
                                      ds->channels[i].name);
    btfm_free(listed);
    return st;
}

/* ---- the whole recording ---- */

/* The rate the sidecar states must be the data's: SamplingFrequency, or for fMRI
 * RepetitionTime = 1 / rate. */
static btfm_status check_rate(const btfm_json *meta, const btfm_dataset *ds,
                              const btfm_bids_recording *r)
{
    if (!(ds->sfreq > 0)) return BTFM_OK;
    const btfm_json *sf = btfm_json_get(meta, "SamplingFrequency");
    const btfm_json *tr = btfm_json_get(meta, "RepetitionTime");
    if (strcmp(r->datatype, "func") != 0 && btfm_json_kind_of(sf) == BTFM_JSON_NUMBER) {
        double want = btfm_json_number(sf);
        if (fabs(want - ds->sfreq) > 1e-6 * ds->sfreq)
            return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule sampling-frequency: the sidecar says "
                             "SamplingFrequency %.10g Hz but the data file is sampled at %.10g Hz",
                             r->rel, want, ds->sfreq);
    }
    if (strcmp(r->datatype, "func") == 0 && btfm_json_kind_of(tr) == BTFM_JSON_NUMBER) {
        double want = btfm_json_number(tr), have = 1.0 / ds->sfreq;
        if (fabs(want - have) > 1e-6 * want)
            return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule repetition-time: the sidecar says "
                             "RepetitionTime %.10g s but the image's is %.10g s", r->rel, want, have);
    }
    return BTFM_OK;
}

static btfm_status apply_scans(const btfm_bids *b, int64_t index, btfm_dataset *ds)
{
    const btfm_table *scans;
    int64_t row;
    btfm_status st = btfm_bids_scans((btfm_bids *)b, index, &scans, &row);
    if (st == BTFM_E_NOTFOUND) return BTFM_OK;
    if (st) return st;
    int col;
    if (btfm_table_find_column(scans, "acq_time", &col) || btfm_table_is_na(scans, row, col))
        return BTFM_OK;
    const char *text = btfm_table_cell(scans, row, col);
    double t;
    if (btfm_bids_parse_time(text, &t)) {
        const char *rel = b->recordings[index].rel;
        if (b->flags & BTFM_BIDS_LENIENT) {
            btfm_warn("bids: %s: scans.tsv acq_time \"%s\" is not a date-time; start time kept",
                      rel, text);
            return BTFM_OK;
        }
        return btfm_fail(BTFM_E_FORMAT, "bids: %s: line %lld: rule scans-acq-time: acq_time \"%s\" "
                         "of %s is not YYYY-MM-DDThh:mm:ss[.ffffff][Z]", btfm_table_source(scans),
                         (long long)btfm_table_row_line(scans, row), text, rel);
    }
    ds->start_time = t;
    ds->has_start_time = 1;
    return BTFM_OK;
}

/* The closest TSV sidecar with `suffix`, read; *table NULL when there is none. */
static btfm_status closest_table(const btfm_bids *b, const btfm_bids_recording *r,
                                 const char *suffix, btfm_table **table, const char **where)
{
    const btfm_bids_file *files[8];
    int n;
    *table = NULL;
    btfm_status st = btfm_bids_sidecars(b, r, suffix, ".tsv", files, 8, &n);
    if (st || n == 0) return st;
    *where = files[n < 8 ? n - 1 : 7]->path;
    return btfm_table_read(table, *where);
}

btfm_status btfm_bids_apply_sidecars(const btfm_bids *b, int64_t index, btfm_dataset *ds)
{
    static const char func[] = "btfm_bids_apply_sidecars";
    BTFM_CHECK_ARG(b, func, "bids");
    BTFM_CHECK_ARG(ds, func, "dataset");
    if (index < 0 || index >= b->n_recordings)
        return btfm_fail(BTFM_E_RANGE, "%s: recording %lld is outside [0, %lld) of %s", func,
                         (long long)index, (long long)b->n_recordings, b->root);
    const btfm_bids_recording *r = &b->recordings[index];
    btfm_json *meta;
    btfm_status st = btfm_bids_merged_json(b, r, &meta);
    if (st) return st;
    if ((st = check_rate(meta, ds, r))) {
        btfm_json_free(meta);
        return st;
    }
    if ((st = btfm_dataset_take_metadata(ds, meta))) return st;
    btfm_table *t;
    const char *where = NULL;
    if ((st = closest_table(b, r, "events", &t, &where))) return st;
    if (t) {
        st = btfm_bids_apply_events(ds, t, where);
        btfm_table_free(t);
        if (st) return st;
    }
    if ((st = closest_table(b, r, "channels", &t, &where))) return st;
    if (t) {
        st = btfm_bids_apply_channels(ds, t, where, (b->flags & BTFM_BIDS_LENIENT) != 0);
        btfm_table_free(t);
        if (st) return st;
    }
    if ((st = btfm_bids_apply_electrodes(b, r, ds))) return st;
    return apply_scans(b, index, ds);
}

btfm_status btfm_bids_open_recording(const btfm_bids *b, int64_t index, btfm_dataset **out)
{
    static const char func[] = "btfm_bids_open_recording";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(b, func, "bids");
    if (index < 0 || index >= b->n_recordings)
        return btfm_fail(BTFM_E_RANGE, "%s: recording %lld is outside [0, %lld) of %s", func,
                         (long long)index, (long long)b->n_recordings, b->root);
    btfm_dataset *ds;
    btfm_status st = btfm_dataset_open(&ds, b->recordings[index].path, BTFM_FORMAT_AUTO, 0);
    if (st) return st;
    if ((st = btfm_bids_apply_sidecars(b, index, ds))) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}
