/* SNIRF (fNIRS, HDF5): open /nirs/data1, check its layout, and read windows of
 * dataTimeSeries on demand. Specification: fNIRS/snirf, snirf_specification.md (v1.0). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "core/read_file.h"
#include "snirf_internal.h"

#define CHUNK_VALUES 262144 /* doubles read from the file at a time */

/* Release a state whose HDF5 objects are closed under the lock the caller holds. */
static void free_state_locked(snirf_state *s)
{
    if (s->series >= 0) H5Dclose(s->series);
    if (s->file >= 0) H5Fclose(s->file);
    btfm_free(s->resident);
    btfm_free(s->aux);
    btfm_free((char *)s->where.file);
    btfm_free(s);
}

static void snirf_close(btfm_dataset *ds)
{
    snirf_state *s = ds->state;
    if (!s) return;
    btfm_h5_guard g;
    btfm_h5_enter(&g);
    free_state_locked(s);
    btfm_h5_leave(&g);
    ds->state = NULL;
}

/* Stored rows [first, first + count) of every column, as doubles, chunk by chunk into
 * `rows` (room for chunk x n_stored); calls put(rows, first_row, n_rows) for each. */
typedef void (*rows_fn)(const double *rows, int64_t first, int64_t n, void *user);

static btfm_status each_chunk(snirf_state *s, int64_t first, int64_t count, double *rows,
                              int64_t chunk, rows_fn put, void *user)
{
    btfm_status st = BTFM_OK;
    for (int64_t done = 0; done < count && !st; done += chunk) {
        int64_t n = count - done < chunk ? count - done : chunk;
        if (s->resident) {
            const float *src = s->resident + (size_t)(first + done) * (size_t)s->n_stored;
            for (size_t i = 0; i < (size_t)n * (size_t)s->n_stored; i++) rows[i] = src[i];
        } else {
            btfm_h5_guard g;
            btfm_h5_enter(&g);
            st = btfm_h5_read_rows(&s->where, s->series, s->rank, s->transposed,
                                   (hsize_t)(first + done), (hsize_t)n, (hsize_t)s->n_stored, rows);
            btfm_h5_leave(&g);
        }
        if (!st) put(rows, first + done, n, user);
    }
    return st;
}

static int64_t chunk_rows(const snirf_state *s)
{
    int64_t rows = CHUNK_VALUES / (s->n_stored > 0 ? s->n_stored : 1);
    return rows > 0 ? rows : 1;
}

typedef struct block_job {
    btfm_dataset *ds;
    int64_t first;
    const int *picks;
    int n_picks;
    size_t stride;
    float *out;
} block_job;

static void put_block(const double *rows, int64_t first, int64_t n, void *user)
{
    block_job *j = user;
    const snirf_state *s = j->ds->state;
    for (int64_t t = 0; t < n; t++) {
        const double *row = rows + (size_t)t * (size_t)s->n_stored;
        float *o = j->out + (size_t)(first - j->first + t) * j->stride;
        for (int k = 0; k < j->n_picks; k++) {
            int ch = j->picks[k];
            if (ch < s->n_stored) o[k] = (float)(row[ch] * j->ds->channels[ch].gain);
        }
    }
}

static btfm_status snirf_read_block(btfm_dataset *ds, int64_t first, int64_t count,
                                    const int *picks, int n_picks, size_t stride, float *out)
{
    snirf_state *s = ds->state;
    int any_stored = 0;
    for (int k = 0; k < n_picks; k++) {
        int ch = picks[k];
        if (ch < s->n_stored) {
            any_stored = 1;
            continue;
        }
        const double *a = s->aux + (size_t)(ch - s->n_stored) * (size_t)ds->n_times + first;
        double gain = ds->channels[ch].gain;
        for (int64_t t = 0; t < count; t++) out[(size_t)t * stride + (size_t)k] = (float)(a[t] * gain);
    }
    if (!any_stored) return BTFM_OK;
    int64_t chunk = chunk_rows(s);
    if (chunk > count) chunk = count;
    double *rows = btfm_malloc((size_t)chunk * (size_t)s->n_stored * sizeof *rows);
    if (!rows) return btfm_fail_nomem("snirf", (size_t)chunk * (size_t)s->n_stored * sizeof *rows);
    block_job job = {ds, first, picks, n_picks, stride, out};
    btfm_status st = each_chunk(s, first, count, rows, chunk, put_block, &job);
    btfm_free(rows);
    return st;
}

typedef struct column_job {
    int column, n_stored;
    int64_t first;
    double *out;
} column_job;

static void put_column(const double *rows, int64_t first, int64_t n, void *user)
{
    column_job *j = user;
    for (int64_t t = 0; t < n; t++)
        j->out[first - j->first + t] = rows[(size_t)t * (size_t)j->n_stored + (size_t)j->column];
}

static btfm_status snirf_read_digital(btfm_dataset *ds, int ch, int64_t first, int64_t count,
                                      double *out)
{
    snirf_state *s = ds->state;
    if (ch >= s->n_stored) {
        memcpy(out, s->aux + (size_t)(ch - s->n_stored) * (size_t)ds->n_times + first,
               (size_t)count * sizeof *out);
        return BTFM_OK;
    }
    int64_t chunk = chunk_rows(s);
    if (chunk > count) chunk = count;
    double *rows = btfm_malloc((size_t)chunk * (size_t)s->n_stored * sizeof *rows);
    if (!rows) return btfm_fail_nomem("snirf", (size_t)chunk * (size_t)s->n_stored * sizeof *rows);
    column_job job = {ch, s->n_stored, first, out};
    btfm_status st = each_chunk(s, first, count, rows, chunk, put_column, &job);
    btfm_free(rows);
    return st;
}

static const btfm_io_driver snirf_driver = {"snirf", snirf_read_digital, snirf_read_block,
                                            snirf_close};

/* Irregular times: every stored row read once and each column interpolated linearly at
 * t0 + k / sfreq into the resident matrix. */
static btfm_status resample_rows(snirf_state *s, const snirf_time *time)
{
    size_t n_rows = (size_t)time->n_rows, width = (size_t)s->n_stored, n_values;
    if (btfm_mul_size(n_rows, width, &n_values) || n_values > SIZE_MAX / sizeof(double))
        return btfm_fail(BTFM_E_RANGE, "snirf: %s: %zu x %zu values do not fit in memory",
                         s->where.file, n_rows, width);
    double *all = btfm_malloc((n_values ? n_values : 1) * sizeof *all);
    size_t out_values = (size_t)time->n_times * width;
    s->resident = btfm_malloc((out_values ? out_values : 1) * sizeof *s->resident);
    if (!all || !s->resident) {
        btfm_free(all);
        return btfm_fail_nomem("snirf", n_values * sizeof *all);
    }
    btfm_status st = btfm_h5_read_rows(&s->where, s->series, s->rank, s->transposed, 0,
                                       (hsize_t)n_rows, (hsize_t)width, all);
    const double *t = time->times;
    size_t j = 0;
    for (int64_t k = 0; !st && k < time->n_times; k++) {
        double tk = time->t0 + (double)k / time->sfreq;
        while (j + 2 < n_rows && t[j + 1] <= tk) j++;
        double a = (tk - t[j]) / (t[j + 1] - t[j]);
        if (a > 1) a = 1;
        const double *r0 = all + j * width, *r1 = r0 + width;
        float *o = s->resident + (size_t)k * width;
        for (size_t c = 0; c < width; c++) o[c] = (float)(r0[c] + a * (r1[c] - r0[c]));
    }
    btfm_free(all);
    return st;
}

/* The first of nirs, nirs1 (or data1, data); more than one is read as MNE does: the
 * first only, with a warning. */
static hid_t open_first(const btfm_h5_where *w, hid_t loc, const char *prefix, btfm_status *st)
{
    char path[512];
    long *numbers = NULL;
    int count = 0;
    *st = btfm_h5_numbered(w, loc, prefix, &numbers, &count);
    if (*st) return -1;
    char name[32];
    if (btfm_h5_exists(loc, prefix)) snprintf(name, sizeof name, "%s", prefix);
    else if (count) snprintf(name, sizeof name, "%s%ld", prefix, numbers[0]);
    else name[0] = '\0';
    if (count > 1 || (count && strcmp(name, prefix) == 0))
        btfm_warn("%s: %s: %d %s groups; only %s is read", w->format, w->file,
                  count + (strcmp(name, prefix) == 0), prefix, name);
    btfm_free(numbers);
    btfm_h5_path(loc, *name ? name : prefix, path, sizeof path);
    if (!*name) {
        *st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "missing (expected a group: is this a SNIRF "
                           "file?)");
        return -1;
    }
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0) *st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "is not a group");
    return g;
}

/* How many measurement lists `data` has (numbered groups or the array form). */
static btfm_status count_lists(const btfm_h5_where *w, hid_t data, int *n)
{
    long *numbers;
    int count;
    btfm_status st = btfm_h5_numbered(w, data, "measurementList", &numbers, &count);
    btfm_free(numbers);
    if (st) return st;
    *n = count;
    if (count == 0 && btfm_h5_exists(data, "measurementLists")) {
        int rank, numeric;
        hsize_t dims[4];
        hid_t g = H5Gopen2(data, "measurementLists", H5P_DEFAULT);
        if (g < 0) return btfm_h5_fail(w, BTFM_E_FORMAT, "measurementLists", "is not a group");
        st = btfm_h5_shape(w, g, "sourceIndex", &rank, dims, &numeric);
        H5Gclose(g);
        if (!st) *n = (int)(dims[0] > 1000000 ? 1000000 : dims[0]);
    }
    return st;
}

typedef struct opened {
    hid_t nirs, data;
    snirf_measurement *m;
    snirf_time time;
} opened;

/* The layout of /nirs/data1 before any dataset exists: the series, its measurement lists,
 * the time base. */
static btfm_status read_layout(snirf_state *s, opened *o, int *n_aux, snirf_tags *tags,
                               btfm_dataset *probe_tags)
{
    const btfm_h5_where *w = &s->where;
    char path[512];
    btfm_status st;
    if ((o->nirs = open_first(w, s->file, "nirs", &st)) < 0) return st;
    if ((o->data = open_first(w, o->nirs, "data", &st)) < 0) return st;
    if ((st = btfm_snirf_tags(probe_tags, w, o->nirs, tags))) return st;
    int rank, numeric, n_lists;
    hsize_t dims[4];
    if ((st = btfm_h5_shape(w, o->data, "dataTimeSeries", &rank, dims, &numeric))) return st;
    btfm_h5_path(o->data, "dataTimeSeries", path, sizeof path);
    if (!numeric || rank < 1 || rank > 2)
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "expected a numeric time x channels "
                            "matrix, found %s of %d dimensions", numeric ? "numbers" : "no numbers",
                            rank);
    if ((st = count_lists(w, o->data, &n_lists))) return st;
    hsize_t rows = dims[0], cols = rank == 2 ? dims[1] : 1;
    s->rank = rank;
    if (rank == 2 && (hsize_t)n_lists == rows && (hsize_t)n_lists != cols) {
        s->transposed = 1;
        rows = dims[1];
        cols = dims[0];
        btfm_warn("snirf: %s: %s is stored channels x time; read transposed", w->file, path);
    }
    if (rows == 0 || cols == 0 || cols > 100000 || rows > ((hsize_t)1 << 40))
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %llu rows and %llu columns, expected "
                            "at least one of each (and at most 100000 channels)",
                            (unsigned long long)rows, (unsigned long long)cols);
    s->n_stored = (int)cols;
    if ((st = btfm_snirf_measurements(w, o->data, s->n_stored, &o->m))) return st;
    if ((st = btfm_snirf_time(w, o->data, (int64_t)rows, tags->time_scale, &o->time))) return st;
    if ((s->series = H5Dopen2(o->data, "dataTimeSeries", H5P_DEFAULT)) < 0)
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "cannot be opened");
    return btfm_snirf_aux_count(w, o->nirs, n_aux);
}

/* Fill a new dataset from the layout; on failure the dataset is freed without touching
 * HDF5 (the state stays the caller's). */
static btfm_status make_dataset(btfm_dataset **out, snirf_state *s, const opened *o,
                                const snirf_tags *tags, const btfm_dataset *probe)
{
    btfm_dataset *ds;
    btfm_status st = btfm_dataset_alloc(&ds, s->where.file, BTFM_FORMAT_SNIRF,
                                        s->n_stored + s->n_aux);
    if (st) return st;
    ds->has_start_time = probe->has_start_time;
    ds->start_time = probe->start_time;
    ds->n_times = o->time.n_times;
    size_t aux_values = (size_t)s->n_aux * (size_t)o->time.n_times;
    if ((st = btfm_set_string(&ds->subject, probe->subject)) ||
        (probe->coord_frame && (st = btfm_set_string(&ds->coord_frame, probe->coord_frame))) ||
        (st = btfm_snirf_channels(ds, &s->where, o->nirs, o->m, s->n_stored, tags->length_scale)) ||
        (o->time.irregular && (st = resample_rows(s, &o->time))))
        goto fail;
    if (s->n_aux && !(s->aux = btfm_malloc(aux_values * sizeof *s->aux))) {
        st = btfm_fail_nomem("snirf", aux_values * sizeof *s->aux);
        goto fail;
    }
    if ((st = btfm_snirf_aux(ds, s, o->nirs, &o->time, tags->time_scale)) ||
        (st = btfm_snirf_stims(ds, &s->where, o->nirs, &o->time, tags->time_scale)))
        goto fail;
    for (int c = 0; c < ds->n_channels; c++) {
        ds->channels[c].rate = o->time.sfreq;
        ds->channels[c].n_samples = o->time.n_times;
        ds->channels[c].samples_per_record =
            (int)(o->time.n_times < INT32_MAX ? o->time.n_times : INT32_MAX);
    }
    if ((st = btfm_dataset_finish(ds))) goto fail;
    ds->driver = &snirf_driver;
    ds->state = s;
    *out = ds;
    return BTFM_OK;
fail:
    btfm_dataset_free(ds);
    return st;
}

static btfm_status open_locked(btfm_dataset **out, const char *path, hid_t file)
{
    btfm_dataset *probe = NULL;
    opened o = {.nirs = -1, .data = -1};
    snirf_state *s = btfm_calloc(1, sizeof *s);
    if (!s) {
        H5Fclose(file);
        return btfm_fail_nomem("snirf", sizeof *s);
    }
    s->file = file;
    s->series = -1;
    s->where.format = "snirf";
    /* The tags go to a scratch dataset first: the real one needs the channel count. */
    int n_aux = 0;
    snirf_tags tags;
    btfm_status st = btfm_io_strdup((char **)&s->where.file, path, strlen(path));
    if (!st && !(st = btfm_dataset_alloc(&probe, path, BTFM_FORMAT_SNIRF, 0)) &&
        !(st = read_layout(s, &o, &n_aux, &tags, probe))) {
        s->n_aux = n_aux;
        st = make_dataset(out, s, &o, &tags, probe);
    }
    if (o.data >= 0) H5Gclose(o.data);
    if (o.nirs >= 0) H5Gclose(o.nirs);
    btfm_snirf_measurements_free(o.m, s->n_stored);
    btfm_free(o.time.times);
    btfm_dataset_free(probe);
    if (st) free_state_locked(s);
    return st;
}

btfm_status btfm_snirf_open_file(btfm_dataset **out, const char *path, hid_t file)
{
    btfm_h5_guard g;
    btfm_h5_enter(&g);
    btfm_status st = open_locked(out, path, file);
    btfm_h5_leave(&g);
    return st;
}

btfm_status btfm_snirf_open(btfm_dataset **out, const char *path, unsigned flags)
{
    (void)flags;
    *out = NULL;
    int fd; /* refuses a FIFO or a device without blocking, as HDF5's open would not */
    btfm_status st = btfm_open_regular(path, "snirf", &fd);
    if (st) return st;
    close(fd);
    btfm_h5_guard g;
    btfm_h5_enter(&g);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        btfm_h5_where w = {"snirf", path};
        st = btfm_h5_fail(&w, BTFM_E_FORMAT, NULL, "not an HDF5 file, or a damaged one");
    } else {
        st = open_locked(out, path, file);
    }
    btfm_h5_leave(&g);
    return st;
}
