/* The rows of a BIDS physio file under the Columns of its sidecar, and the events of its
 * physioevents file (BIDS "Physiological recordings"; eye tracking: BEP020). The rows
 * have no header: the sidecar's Columns become the header line of one TSV text, so the
 * table reader (and its checks) is the one every BIDS table goes through. */
#include <math.h>
#include <string.h>
#include "core/number.h"
#include "physio_internal.h"

#define MAX_COLUMNS 4096

/* A table of `rows` under the header `columns` (a JSON array of distinct names). */
static btfm_status headed_table(btfm_table **out, const btfm_json *columns, const char *rows,
                                size_t rows_len, const char *where, const char *what)
{
    size_t n = btfm_json_length(columns), header = 0;
    if (btfm_json_kind_of(columns) != BTFM_JSON_ARRAY || n == 0 || n > MAX_COLUMNS)
        return btfm_fail(BTFM_E_FORMAT, "physio: %s: the %s sidecar's \"Columns\" is %s; "
                         "expected an array of 1 to %d column names", where, what,
                         columns ? "not such an array" : "missing", MAX_COLUMNS);
    for (size_t i = 0; i < n; i++) {
        const char *name = btfm_json_string(btfm_json_at(columns, i));
        if (!name || !*name || strpbrk(name, "\t\r\n"))
            return btfm_fail(BTFM_E_FORMAT, "physio: %s: the %s sidecar's Columns[%zu] is not "
                             "a column name (a non-empty string without tabs or newlines)",
                             where, what, i);
        header += strlen(name) + 1;
    }
    char *text = btfm_malloc(header + rows_len + 1);
    if (!text) return btfm_fail_nomem("physio rows", header + rows_len + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = btfm_json_string(btfm_json_at(columns, i));
        memcpy(text + k, name, strlen(name));
        k += strlen(name);
        text[k++] = i + 1 < n ? '\t' : '\n';
    }
    memcpy(text + k, rows, rows_len);
    char name[512];
    btfm_snprintf_c(name, sizeof name, "%s (headerless: line 1 is the sidecar's Columns)",
                    where);
    btfm_status st = btfm_table_parse(out, text, k + rows_len, name);
    btfm_free(text);
    return st;
}

/* Seconds per unit of a column from its sidecar description's "Units" ("s" when none). */
static btfm_status time_unit(const btfm_json *sidecar, const char *column, const char *where,
                             double *scale)
{
    const char *unit = btfm_json_string(btfm_json_get(btfm_json_get(sidecar, column), "Units"));
    static const struct { const char *name; double scale; } units[] = {
        {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"\xC2\xB5s", 1e-6}, {"ns", 1e-9}};
    *scale = 1;
    if (!unit) return BTFM_OK;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(unit, units[i].name) == 0) {
            *scale = units[i].scale;
            return BTFM_OK;
        }
    return btfm_fail(BTFM_E_FORMAT, "physio: %s: the %s column's Units is \"%s\"; expected "
                     "a time unit (s, ms, us, ns)", where, column, unit);
}

btfm_status btfm_physio_parse(btfm_physio *p, const char *json, size_t json_len,
                              const char *rows, size_t rows_len, const char *where)
{
    memset(p, 0, sizeof *p);
    p->timestamp_column = -1;
    btfm_status st = btfm_json_parse(&p->sidecar, json, json_len, where);
    if (st) return st;
    const btfm_json *rate = btfm_json_get(p->sidecar, "SamplingFrequency");
    const btfm_json *start = btfm_json_get(p->sidecar, "StartTime");
    p->sfreq = btfm_json_number(rate);
    p->start_time = start ? btfm_json_number(start) : 0;
    if (btfm_json_kind_of(p->sidecar) != BTFM_JSON_OBJECT || !(p->sfreq > 0) ||
        !isfinite(p->sfreq))
        st = btfm_fail(BTFM_E_FORMAT, "physio: %s: the sidecar's SamplingFrequency is %s; "
                       "expected a positive number (Hz)", where, rate ? "not one" : "missing");
    else if (!isfinite(p->start_time))
        st = btfm_fail(BTFM_E_FORMAT, "physio: %s: the sidecar's StartTime is not a number "
                       "(s)", where);
    if (!st) st = headed_table(&p->table, btfm_json_get(p->sidecar, "Columns"), rows, rows_len,
                               where, "physio");
    if (!st && btfm_table_n_rows(p->table) == 0)
        st = btfm_fail(BTFM_E_FORMAT, "physio: %s: no rows of samples", where);
    int column;
    if (!st && btfm_table_find_column(p->table, "timestamp", &column) == BTFM_OK) {
        p->timestamp_column = column;
        st = time_unit(p->sidecar, "timestamp", where, &p->timestamp_scale);
    }
    if (st) btfm_physio_clear(p);
    return st;
}

void btfm_physio_clear(btfm_physio *p)
{
    btfm_json_free(p->sidecar);
    btfm_table_free(p->table);
    memset(p, 0, sizeof *p);
    p->timestamp_column = -1;
}

/* The text of a cell, NULL for n/a. */
static const char *text_at(const btfm_table *t, int64_t row, int column)
{
    return column < 0 || btfm_table_is_na(t, row, column) ? NULL : btfm_table_cell(t, row, column);
}

btfm_status btfm_physio_add_events(btfm_dataset *ds, const btfm_physio *p, const char *json,
                                   size_t json_len, const char *rows, size_t rows_len,
                                   const char *where)
{
    btfm_json *sidecar = NULL;
    btfm_table *t = NULL;
    btfm_status st = btfm_json_parse(&sidecar, json, json_len, where);
    if (!st) st = headed_table(&t, btfm_json_get(sidecar, "Columns"), rows, rows_len, where,
                               "physioevents");
    int onset_col = -1, duration_col = -1, type_col = -1, message_col = -1;
    if (!st && btfm_table_find_column(t, "onset", &onset_col) != BTFM_OK)
        st = btfm_fail(BTFM_E_FORMAT, "physio: %s: no \"onset\" among the sidecar's Columns",
                       where);
    btfm_table_find_column(t, "duration", &duration_col);
    btfm_table_find_column(t, "trial_type", &type_col);
    btfm_table_find_column(t, "message", &message_col);
    /* Onsets on the timestamp column's clock, or on StartTime's (s). */
    double t0 = p->start_time, scale = 1; /* StartTime: the first sample on that clock */
    if (!st && p->timestamp_column >= 0) {
        st = btfm_table_cell_number(p->table, 0, p->timestamp_column, &t0);
        scale = p->timestamp_scale;
        if (!st && !isfinite(t0))
            st = btfm_fail(BTFM_E_FORMAT, "physio: %s: the first timestamp is n/a; the "
                           "events' onsets cannot be placed", where);
    }
    double unit = scale; /* durations in the onsets' unit unless their Units say */
    if (!st && btfm_json_get(btfm_json_get(sidecar, "duration"), "Units"))
        st = time_unit(sidecar, "duration", where, &unit);
    for (int64_t r = 0; !st && r < btfm_table_n_rows(t); r++) {
        double onset, duration = 0;
        if ((st = btfm_table_cell_number(t, r, onset_col, &onset))) break;
        if (duration_col >= 0 && (st = btfm_table_cell_number(t, r, duration_col, &duration)))
            break;
        if (!isfinite(onset)) continue; /* an event without an onset cannot be placed */
        if (!isfinite(duration) || duration < 0) duration = 0;
        const char *kind = text_at(t, r, type_col), *message = text_at(t, r, message_col);
        static const char *const movements[] = {"fixation", "saccade", "blink"};
        const char *type = message && !kind ? "message" : "event";
        for (size_t i = 0; kind && i < sizeof movements / sizeof *movements; i++)
            if (strcmp(kind, movements[i]) == 0) type = movements[i];
        const char *label = kind ? kind : message ? message : "n/a";
        int code = message && !kind ? btfm_io_message_code(message) : 0;
        st = btfm_dataset_append_event(ds, (onset - t0) * scale, duration * unit, type, label,
                                       code);
    }
    btfm_table_free(t);
    btfm_json_free(sidecar);
    return st;
}
