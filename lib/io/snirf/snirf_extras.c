/* SNIRF metaDataTags (subject, start time, time and length units), stim groups as
 * events and aux groups as channels on the data's time grid. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/number.h"
#include "snirf_internal.h"

/* "2024-03-05" and "14:33:22.25", "14:33:22Z", "14:33:22+01:00" as POSIX seconds (UTC). */
static int parse_start(const char *date, const char *time, double *out)
{
    int y, mo, d, h, mi, s, n = 0;
    if (sscanf(date, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || date[n] != '\0') return 0;
    if (sscanf(time, "%2d:%2d:%2d%n", &h, &mi, &s, &n) != 3) return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 ||
        s < 0)
        return 0;
    const char *p = time + n;
    double fraction = 0;
    if (*p == '.') {
        size_t k = 1;
        while (p[k] >= '0' && p[k] <= '9') k++;
        char buf[40];
        if (k < 2 || k > 30) return 0;
        snprintf(buf, sizeof buf, "0%.*s", (int)k, p);
        fraction = btfm_strtod_c(buf);
        p += k;
    }
    double offset = 0;
    if (*p == 'Z') p++;
    else if (*p == '+' || *p == '-') {
        int oh = 0, om = 0, m = 0;
        if (sscanf(p + 1, "%2d%n", &oh, &m) != 1) return 0;
        const char *q = p + 1 + m;
        if (*q == ':') q++;
        if (*q && sscanf(q, "%2d%n", &om, &m) == 1) q += m;
        offset = (p[0] == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0);
        p = q;
    }
    if (*p) return 0;
    *out = (double)btfm_days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + s +
           fraction - offset;
    return 1;
}

/* A tag's text, or NULL (not an error) when absent. */
static btfm_status tag(const btfm_h5_where *w, hid_t tags, const char *name, char **out)
{
    *out = NULL;
    if (tags < 0 || !btfm_h5_exists(tags, name)) return BTFM_OK;
    return btfm_h5_read_string(w, tags, name, out);
}

btfm_status btfm_snirf_tags(btfm_dataset *ds, const btfm_h5_where *w, hid_t nirs,
                            snirf_tags *tags)
{
    char path[512];
    tags->time_scale = 1.0;
    tags->length_scale = 0.0;
    hid_t g = btfm_h5_exists(nirs, "metaDataTags") ? H5Gopen2(nirs, "metaDataTags", H5P_DEFAULT) : -1;
    if (g < 0)
        btfm_warn("snirf: %s: no /nirs/metaDataTags; times taken as seconds, optode positions "
                  "left out (their length unit is unknown)", w->file);
    char *length = NULL, *time = NULL, *subject = NULL, *date = NULL, *clock = NULL;
    btfm_status st;
    if ((st = tag(w, g, "LengthUnit", &length)) || (st = tag(w, g, "TimeUnit", &time)) ||
        (st = tag(w, g, "SubjectID", &subject)) || (st = tag(w, g, "MeasurementDate", &date)) ||
        (st = tag(w, g, "MeasurementTime", &clock)))
        goto done;
    static const struct { const char *name; double scale; } lengths[] = {
        {"m", 1}, {"cm", 1e-2}, {"mm", 1e-3}, {"um", 1e-6}};
    static const struct { const char *name; double scale; } times[] = {
        {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}};
    if (length) {
        for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++)
            if (strcmp(length, lengths[i].name) == 0) tags->length_scale = lengths[i].scale;
        if (tags->length_scale == 0)
            btfm_warn("snirf: %s: LengthUnit \"%s\" is not m, cm, mm or um; optode positions "
                      "left out", w->file, length);
    } else if (g >= 0) {
        btfm_warn("snirf: %s: no LengthUnit tag; optode positions left out", w->file);
    }
    if (time) {
        tags->time_scale = 0;
        for (size_t i = 0; i < sizeof times / sizeof *times; i++)
            if (strcmp(time, times[i].name) == 0) tags->time_scale = times[i].scale;
        if (tags->time_scale == 0) {
            btfm_h5_path(g, "TimeUnit", path, sizeof path);
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "\"%s\", expected s, ms or us", time);
            goto done;
        }
    }
    if (subject && (st = btfm_set_string(&ds->subject, subject))) goto done;
    if (date && clock) ds->has_start_time = parse_start(date, clock, &ds->start_time);
    if (date && clock && !ds->has_start_time)
        btfm_warn("snirf: %s: MeasurementDate \"%s\" and MeasurementTime \"%s\" are not an "
                  "ISO 8601 date and time; no start time", w->file, date, clock);
    /* MNE writes its coordinate frame as a custom tag; 4 is its head frame. */
    double frame;
    if (g >= 0 && btfm_h5_exists(g, "MNE_coordFrame") &&
        btfm_h5_read_scalar(w, g, "MNE_coordFrame", &frame) == BTFM_OK && frame == 4)
        st = btfm_set_string(&ds->coord_frame, "head");
done:
    btfm_free(length);
    btfm_free(time);
    btfm_free(subject);
    btfm_free(date);
    btfm_free(clock);
    if (g >= 0) H5Gclose(g);
    return st;
}

/* One stim group: rows of [onset, duration, value, ...] in the file's time unit. */
static btfm_status one_stim(btfm_dataset *ds, const btfm_h5_where *w, hid_t g,
                            const snirf_time *time, double time_scale)
{
    char path[512], *name = NULL;
    btfm_status st = btfm_h5_read_string(w, g, "name", &name);
    if (st) return st;
    double *v = NULL;
    size_t n = 0;
    int rank = 0;
    hsize_t dims[4] = {0};
    if (btfm_h5_exists(g, "data")) st = btfm_h5_read_doubles(w, g, "data", &v, &n, &rank, dims);
    btfm_h5_path(g, "data", path, sizeof path);
    hsize_t rows = rank == 1 ? (n ? 1 : 0) : dims[0], cols = rank == 1 ? dims[0] : dims[1];
    if (!st && n && (rank > 2 || rank == 0))
        st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %d dimensions, expected rows of "
                          "[onset, duration, value]", rank);
    for (hsize_t r = 0; !st && n && r < rows; r++) {
        const double *row = v + r * cols;
        double onset = row[0] * time_scale - time->t0;
        double duration = cols > 1 ? row[1] * time_scale : 0.0;
        double value = cols > 2 ? row[2] : 0.0;
        if (!isfinite(onset) || !isfinite(duration) || duration < 0) {
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "row %llu: onset %g, duration %g; expected "
                              "finite values and a duration of at least 0",
                              (unsigned long long)r + 1, row[0], duration);
            break;
        }
        int code = value == floor(value) && fabs(value) <= 2147483647.0 ? (int)value : 0;
        st = btfm_dataset_append_event(ds, onset, duration, "stim", name, code);
    }
    btfm_free(v);
    btfm_free(name);
    return st;
}

btfm_status btfm_snirf_stims(btfm_dataset *ds, const btfm_h5_where *w, hid_t nirs,
                             const snirf_time *time, double time_scale)
{
    long *numbers;
    int count;
    btfm_status st = btfm_h5_numbered(w, nirs, "stim", &numbers, &count);
    for (int i = 0; i < count && !st; i++) {
        char name[32], path[512];
        snprintf(name, sizeof name, "stim%ld", numbers[i]);
        hid_t g = H5Gopen2(nirs, name, H5P_DEFAULT);
        if (g < 0) {
            btfm_h5_path(nirs, name, path, sizeof path);
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "is not a group");
            break;
        }
        st = one_stim(ds, w, g, time, time_scale);
        H5Gclose(g);
    }
    btfm_free(numbers);
    return st;
}

/* Columns of aux{k}/dataTimeSeries: 1-D is one channel, n x c is c channels. */
static btfm_status aux_columns(const btfm_h5_where *w, hid_t g, int *cols)
{
    int rank, numeric;
    hsize_t dims[4];
    btfm_status st = btfm_h5_shape(w, g, "dataTimeSeries", &rank, dims, &numeric);
    if (st) return st;
    char path[512];
    btfm_h5_path(g, "dataTimeSeries", path, sizeof path);
    if (!numeric || rank < 1 || rank > 2 || (rank == 2 && dims[1] > 4096))
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "expected a numeric vector or a few "
                            "columns");
    *cols = rank == 1 ? 1 : (int)dims[1];
    return BTFM_OK;
}

btfm_status btfm_snirf_aux_count(const btfm_h5_where *w, hid_t nirs, int *n_aux)
{
    long *numbers;
    int count;
    *n_aux = 0;
    btfm_status st = btfm_h5_numbered(w, nirs, "aux", &numbers, &count);
    for (int i = 0; i < count && !st; i++) {
        char name[32];
        snprintf(name, sizeof name, "aux%ld", numbers[i]);
        hid_t g = H5Gopen2(nirs, name, H5P_DEFAULT);
        int cols = 0;
        if (g < 0) {
            char path[512];
            btfm_h5_path(nirs, name, path, sizeof path);
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "is not a group");
            break;
        }
        st = aux_columns(w, g, &cols);
        H5Gclose(g);
        if (!st && *n_aux > 100000 - cols) st = btfm_fail(BTFM_E_RANGE, "snirf: %s: more than "
                                                          "100000 aux channels", w->file);
        *n_aux += cols;
    }
    btfm_free(numbers);
    return st;
}

/* Values of one aux column at the data's sample times t0 + k / sfreq, by linear
 * interpolation in the aux's own times (as stored when they are the same); NaN outside
 * the aux's time span. */
static void on_grid(const double *t, const double *v, size_t n, size_t stride,
                    const snirf_time *time, double *out)
{
    size_t j = 0;
    for (int64_t k = 0; k < time->n_times; k++) {
        double tk = time->t0 + (double)k / time->sfreq;
        while (j + 1 < n && t[j + 1] <= tk) j++;
        if (n == 0 || tk < t[0] - 1e-9 * fabs(t[0]) || tk > t[n - 1] + 1e-9 * fabs(t[n - 1])) {
            out[k] = NAN;
        } else if (j + 1 >= n || fabs(tk - t[j]) <= 1e-9 * (fabs(tk) + 1e-300)) {
            out[k] = v[j * stride];
        } else {
            double a = (tk - t[j]) / (t[j + 1] - t[j]);
            out[k] = v[j * stride] + a * (v[(j + 1) * stride] - v[j * stride]);
        }
    }
}

static btfm_status one_aux(btfm_dataset *ds, snirf_state *s, hid_t g, const snirf_time *time,
                           double time_scale, int *next)
{
    const btfm_h5_where *w = &s->where;
    char path[512], *name = NULL, *unit = NULL;
    double *v = NULL, *t = NULL, offset = 0;
    size_t n, nt;
    int rank, cols;
    hsize_t dims[4];
    btfm_status st;
    if ((st = btfm_h5_read_string(w, g, "name", &name)) || (st = aux_columns(w, g, &cols)) ||
        (st = btfm_h5_read_doubles(w, g, "dataTimeSeries", &v, &n, &rank, dims)) ||
        (st = btfm_h5_read_doubles(w, g, "time", &t, &nt, NULL, NULL)))
        goto done;
    if (btfm_h5_exists(g, "timeOffset") && (st = btfm_h5_read_scalar(w, g, "timeOffset", &offset)))
        goto done;
    if (btfm_h5_exists(g, "dataUnit") && (st = btfm_h5_read_string(w, g, "dataUnit", &unit)))
        goto done;
    size_t rows = n / (size_t)cols;
    btfm_h5_path(g, "time", path, sizeof path);
    if (nt == 2 && rows != 2) {
        /* [start, interval] as for the data. */
        double start = t[0], step = t[1];
        double *full = btfm_realloc(t, (rows ? rows : 1) * sizeof *full);
        if (!full) {
            st = btfm_fail_nomem(w->format, rows * sizeof *full);
            goto done;
        }
        t = full;
        for (size_t i = 0; i < rows; i++) t[i] = start + (double)i * step;
        nt = rows;
    }
    if (nt != rows) {
        st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %zu values for %zu samples", nt, rows);
        goto done;
    }
    for (size_t i = 0; i < nt; i++) {
        t[i] = (t[i] + offset) * time_scale;
        if (!isfinite(t[i]) || (i && !(t[i] > t[i - 1]))) {
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "time %zu is not finite or not after the "
                              "previous one", i);
            goto done;
        }
    }
    for (int c = 0; c < cols && !st; c++) {
        int ch = s->n_stored + *next;
        char label[300];
        if (cols == 1) snprintf(label, sizeof label, "%s", name);
        else snprintf(label, sizeof label, "%s %d", name, c + 1);
        btfm_channel *chan = &ds->channels[ch];
        const char *stored = unit ? unit : "";
        double factor = 1.0;
        const char *si = stored;
        if (*stored && !btfm_unit_to_si(stored, &factor, &si)) si = stored;
        chan->type = BTFM_CH_MISC;
        chan->gain = factor;
        if (btfm_io_strdup(&chan->name, label, strlen(label)) ||
            btfm_io_strdup(&chan->unit, si, strlen(si)) ||
            btfm_io_strdup(&chan->stored_unit, stored, strlen(stored)) ||
            btfm_io_strdup(&chan->transducer, "", 0) || btfm_io_strdup(&chan->prefilter, "", 0)) {
            st = btfm_fail_nomem(w->format, 64);
            break;
        }
        on_grid(t, v + c, rows, (size_t)cols, time, s->aux + (size_t)(*next) * (size_t)time->n_times);
        (*next)++;
    }
done:
    btfm_free(name);
    btfm_free(unit);
    btfm_free(v);
    btfm_free(t);
    return st;
}

btfm_status btfm_snirf_aux(btfm_dataset *ds, snirf_state *s, hid_t nirs, const snirf_time *time,
                           double time_scale)
{
    long *numbers;
    int count, next = 0;
    btfm_status st = btfm_h5_numbered(&s->where, nirs, "aux", &numbers, &count);
    for (int i = 0; i < count && !st; i++) {
        char name[32];
        snprintf(name, sizeof name, "aux%ld", numbers[i]);
        hid_t g = H5Gopen2(nirs, name, H5P_DEFAULT);
        st = g < 0 ? btfm_fail(BTFM_E_FORMAT, "snirf: %s: /nirs/%s is not a group", s->where.file, name)
                   : one_aux(ds, s, g, time, time_scale, &next);
        if (g >= 0) H5Gclose(g);
    }
    btfm_free(numbers);
    return st;
}
