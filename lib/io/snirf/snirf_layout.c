/* SNIRF layout checks: the measurement list of every dataTimeSeries column and the time
 * vector, with the rule for irregular times (doc/formats.md, "SNIRF"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "snirf_internal.h"

void btfm_snirf_measurements_free(snirf_measurement *m, int n)
{
    for (int i = 0; m && i < n; i++) {
        btfm_free(m[i].label);
        btfm_free(m[i].unit);
    }
    btfm_free(m);
}

/* A whole number in [lo, INT32_MAX]; `path` names it. */
static btfm_status whole(const btfm_h5_where *w, const char *path, double v, int lo, int *out)
{
    if (!(v == floor(v)) || v < lo || v > 2147483647.0)
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "is %g, expected a whole number >= %d", v, lo);
    *out = (int)v;
    return BTFM_OK;
}

static btfm_status int_field(const btfm_h5_where *w, hid_t g, const char *name, int lo,
                             int *out)
{
    char path[512];
    double v;
    btfm_status st = btfm_h5_read_scalar(w, g, name, &v);
    if (st) return st;
    btfm_h5_path(g, name, path, sizeof path);
    return whole(w, path, v, lo, out);
}

static btfm_status optional_string(const btfm_h5_where *w, hid_t g, const char *name, char **out)
{
    if (btfm_h5_exists(g, name)) return btfm_h5_read_string(w, g, name, out);
    return btfm_io_strdup(out, "", 0);
}

/* One measurementList{k} group. */
static btfm_status one_list(const btfm_h5_where *w, hid_t g, snirf_measurement *m)
{
    btfm_status st;
    if ((st = int_field(w, g, "sourceIndex", 1, &m->source)) ||
        (st = int_field(w, g, "detectorIndex", 1, &m->detector)) ||
        (st = int_field(w, g, "dataType", -2147483647, &m->data_type)))
        return st;
    m->wavelength_index = 0;
    if (btfm_h5_exists(g, "wavelengthIndex") &&
        (st = int_field(w, g, "wavelengthIndex", 0, &m->wavelength_index)))
        return st;
    if ((st = optional_string(w, g, "dataTypeLabel", &m->label))) return st;
    return optional_string(w, g, "dataUnit", &m->unit);
}

/* SNIRF 1.1's measurementLists: one array per field, one element per column. */
static btfm_status lists_as_arrays(const btfm_h5_where *w, hid_t data, int n, snirf_measurement *m)
{
    static const char *const fields[] = {"sourceIndex", "detectorIndex", "dataType",
                                         "wavelengthIndex"};
    char path[512];
    hid_t g = H5Gopen2(data, "measurementLists", H5P_DEFAULT);
    if (g < 0) {
        btfm_h5_path(data, "measurementLists", path, sizeof path);
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "is not a group");
    }
    btfm_status st = BTFM_OK;
    for (int f = 0; f < 4 && !st; f++) {
        if (f == 3 && !btfm_h5_exists(g, fields[f])) break;
        double *v = NULL;
        size_t count;
        if ((st = btfm_h5_read_doubles(w, g, fields[f], &v, &count, NULL, NULL))) break;
        btfm_h5_path(g, fields[f], path, sizeof path);
        if (count != (size_t)n)
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %zu values, dataTimeSeries %d "
                              "columns", count, n);
        for (int i = 0; i < n && !st; i++) {
            int *dst = f == 0 ? &m[i].source : f == 1 ? &m[i].detector
                     : f == 2 ? &m[i].data_type : &m[i].wavelength_index;
            st = whole(w, path, v[i], f == 2 ? -2147483647 : f == 3 ? 0 : 1, dst);
        }
        btfm_free(v);
    }
    for (int i = 0; i < n && !st; i++)
        if ((st = btfm_io_strdup(&m[i].label, "", 0)) || (st = btfm_io_strdup(&m[i].unit, "", 0)))
            break;
    /* dataTypeLabel as an array of strings is left to a later release: labels are only
     * needed for processed data, which is written with measurementList groups. */
    H5Gclose(g);
    return st;
}

btfm_status btfm_snirf_measurements(const btfm_h5_where *w, hid_t data, int n_columns,
                                    snirf_measurement **out)
{
    char path[512];
    *out = NULL;
    snirf_measurement *m = btfm_calloc((size_t)(n_columns ? n_columns : 1), sizeof *m);
    if (!m) return btfm_fail_nomem(w->format, (size_t)n_columns * sizeof *m);
    long *numbers = NULL;
    int count = 0;
    btfm_status st = btfm_h5_numbered(w, data, "measurementList", &numbers, &count);
    if (!st && count == 0 && btfm_h5_exists(data, "measurementLists")) {
        btfm_free(numbers);
        if ((st = lists_as_arrays(w, data, n_columns, m))) goto fail;
        *out = m;
        return BTFM_OK;
    }
    if (st) goto fail;
    /* measurementList{k} describes column k: exactly 1 .. n_columns, each once. */
    for (int k = 0; k < count && k < n_columns; k++)
        if (numbers[k] != k + 1) {
            snprintf(path, sizeof path, "measurementList%d", k + 1);
            char full[512];
            btfm_h5_path(data, path, full, sizeof full);
            st = btfm_h5_fail(w, BTFM_E_FORMAT, full, "missing (dataTimeSeries has %d columns, "
                              "each needs its measurement list)", n_columns);
            goto fail;
        }
    if (count != n_columns) {
        btfm_h5_path(data, NULL, path, sizeof path);
        st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %d measurement lists for %d "
                          "dataTimeSeries columns", count, n_columns);
        goto fail;
    }
    for (int k = 0; k < n_columns && !st; k++) {
        char name[32];
        snprintf(name, sizeof name, "measurementList%d", k + 1);
        hid_t g = H5Gopen2(data, name, H5P_DEFAULT);
        if (g < 0) {
            btfm_h5_path(data, name, path, sizeof path);
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "is not a group");
            break;
        }
        st = one_list(w, g, &m[k]);
        H5Gclose(g);
    }
    if (st) goto fail;
    btfm_free(numbers);
    *out = m;
    return BTFM_OK;
fail:
    btfm_free(numbers);
    btfm_snirf_measurements_free(m, n_columns);
    return st;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Explicit time points: strictly increasing; regular when every point lies within 1% of
 * a sample interval of the straight line from the first to the last, else resampled at
 * the median interval. */
static btfm_status time_points(const btfm_h5_where *w, const char *path, double *t, int64_t n,
                               snirf_time *out)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(t[i]) || (i && !(t[i] > t[i - 1])))
            return btfm_h5_fail(w, BTFM_E_FORMAT, path, "time %lld (%g) %s", (long long)i, t[i],
                                isfinite(t[i]) ? "is not after the previous one (times must "
                                "increase)" : "is not finite");
    if (n < 2)
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %lld time point, too few to know the "
                            "sampling rate", (long long)n);
    double step = (t[n - 1] - t[0]) / (double)(n - 1), worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double off = fabs(t[i] - (t[0] + (double)i * step));
        if (off > worst) worst = off;
    }
    out->t0 = t[0];
    if (worst <= 0.01 * step) {
        out->sfreq = 1.0 / step;
        out->n_times = n;
        return BTFM_OK;
    }
    double *d = btfm_malloc((size_t)(n - 1) * sizeof *d);
    if (!d) return btfm_fail_nomem(w->format, (size_t)(n - 1) * sizeof *d);
    for (int64_t i = 1; i < n; i++) d[i - 1] = t[i] - t[i - 1];
    qsort(d, (size_t)(n - 1), sizeof *d, by_value);
    double median = (n - 1) % 2 ? d[(n - 1) / 2] : (d[(n - 1) / 2 - 1] + d[(n - 1) / 2]) / 2;
    btfm_free(d);
    double span = (t[n - 1] - t[0]) / median;
    if (span > 1e9)
        return btfm_h5_fail(w, BTFM_E_RANGE, path, "spans %g median intervals, too many samples "
                            "to resample", span);
    out->sfreq = 1.0 / median;
    out->n_times = (int64_t)floor(span * (1 + 1e-12)) + 1;
    out->irregular = 1;
    out->times = t;
    btfm_warn("snirf: %s: %s: irregular time points (up to %.3g intervals off a uniform grid); "
              "the data are resampled by linear interpolation at the median interval, %g Hz",
              w->file, path, worst / step, out->sfreq);
    return BTFM_OK;
}

btfm_status btfm_snirf_time(const btfm_h5_where *w, hid_t data, int64_t n_rows,
                            double time_scale, snirf_time *out)
{
    char path[512];
    memset(out, 0, sizeof *out);
    out->n_rows = n_rows;
    btfm_h5_path(data, "time", path, sizeof path);
    double *t = NULL;
    size_t n;
    int rank;
    hsize_t dims[4];
    btfm_status st = btfm_h5_read_doubles(w, data, "time", &t, &n, &rank, dims);
    if (st) return st;
    if (rank > 2 || (rank == 2 && dims[0] != 1 && dims[1] != 1)) {
        btfm_free(t);
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "has shape %llu x %llu, expected a vector",
                            (unsigned long long)dims[0], (unsigned long long)dims[1]);
    }
    for (size_t i = 0; i < n; i++) t[i] *= time_scale;
    if (n == 2 && n_rows != 2) {
        /* [start, interval]: the specification's form for uniformly sampled data. */
        if (!isfinite(t[0]) || !(t[1] > 0) || !isfinite(t[1])) {
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "is [%g, %g]: as [start, interval] the "
                              "interval must be positive", t[0], t[1]);
        } else {
            out->t0 = t[0];
            out->sfreq = 1.0 / t[1];
            out->n_times = n_rows;
        }
        btfm_free(t);
        return st;
    }
    if ((int64_t)n != n_rows) {
        btfm_free(t);
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %zu values for %lld rows of "
                            "dataTimeSeries (expected one time a row, or [start, interval])",
                            n, (long long)n_rows);
    }
    st = time_points(w, path, t, n_rows, out);
    if (st || !out->irregular) btfm_free(t);
    if (st) out->times = NULL;
    return st;
}
