/* BIDS physio recordings as datasets: every column a channel at SamplingFrequency, named
 * by the sidecar's Columns, typed by the BIDS names (x_coordinate and y_coordinate gaze,
 * pupil_size pupil, cardiac, respiratory, trigger), units from each column's "Units";
 * the sidecar as the dataset's metadata; events from the *_physioevents files beside. */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "core/read_file.h"
#include "physio_internal.h"

#define MAX_PHYSIO_BYTES ((size_t)1 << 34)

/* path with its "_physio.tsv[.gz]" ending replaced by `ending`. */
static btfm_status sibling(const char *path, const char *ending, char **out)
{
    const char *cut = strstr(path, "_physio.tsv");
    while (cut && strstr(cut + 1, "_physio.tsv")) cut = strstr(cut + 1, "_physio.tsv");
    size_t stem = cut ? (size_t)(cut - path) : strlen(path);
    if (!(*out = btfm_malloc(stem + strlen(ending) + 1)))
        return btfm_fail_nomem("physio path", stem + strlen(ending) + 1);
    memcpy(*out, path, stem);
    strcpy(*out + stem, ending);
    return BTFM_OK;
}

/* A .tsv.gz decompressed or a .tsv as it is. */
static btfm_status read_rows(const char *path, char **text, size_t *len)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        return btfm_read_gzip_file(path, "physio", MAX_PHYSIO_BYTES, text, len);
    return btfm_read_file(path, "physio", MAX_PHYSIO_BYTES, text, len);
}

static int column_type(const char *name)
{
    static const struct { const char *name; int type; } types[] = {
        {"x_coordinate", BTFM_CH_GAZE}, {"y_coordinate", BTFM_CH_GAZE},
        {"pupil_size", BTFM_CH_PUPIL}, {"cardiac", BTFM_CH_PPG},
        {"respiratory", BTFM_CH_RESP}, {"trigger", BTFM_CH_STIM}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(name, types[i].name) == 0) return types[i].type;
    return BTFM_CH_MISC;
}

static btfm_status samples(const btfm_physio *p, float **out, int64_t *n_rows, int *n_columns)
{
    *n_rows = btfm_table_n_rows(p->table);
    *n_columns = btfm_table_n_columns(p->table);
    size_t n = (size_t)*n_rows * (size_t)*n_columns;
    double *column = btfm_malloc((size_t)*n_rows * sizeof *column);
    *out = btfm_malloc_large(n * sizeof **out);
    btfm_status st = column && *out ? BTFM_OK : btfm_fail_nomem("physio samples", n * sizeof **out);
    for (int c = 0; !st && c < *n_columns; c++) {
        if ((st = btfm_table_column_numbers(p->table, c, column))) break;
        for (int64_t r = 0; r < *n_rows; r++)
            (*out)[(size_t)r * (size_t)*n_columns + (size_t)c] = (float)column[r];
    }
    btfm_free(column);
    if (st) {
        btfm_free(*out);
        *out = NULL;
    }
    return st;
}

static btfm_status describe(btfm_dataset *ds, const btfm_physio *p)
{
    btfm_status st = BTFM_OK;
    for (int c = 0; !st && c < ds->n_channels; c++) {
        btfm_channel *ch = &ds->channels[c];
        const char *name = btfm_table_column_name(p->table, c);
        const char *unit = btfm_json_string(btfm_json_get(btfm_json_get(p->sidecar, name), "Units"));
        if ((st = btfm_channel_own_strings(ch)) || (st = btfm_set_string(&ch->name, name)) ||
            (st = btfm_set_string(&ch->unit, unit ? unit : "")) ||
            (st = btfm_set_string(&ch->stored_unit, unit ? unit : "")))
            break;
        ch->type = column_type(name);
    }
    btfm_json *copy = NULL;
    if (!st && !(st = btfm_json_copy(&copy, p->sidecar))) st = btfm_dataset_take_metadata(ds, copy);
    return st;
}

/* The *_physioevents.tsv[.gz] and .json beside the file, when there are any. */
static btfm_status events(btfm_dataset *ds, const btfm_physio *p, const char *path)
{
    char *rows_path = NULL, *json_path = NULL, *rows = NULL, *json = NULL;
    size_t rows_len = 0, json_len = 0;
    btfm_status st = sibling(path, "_physioevents.tsv.gz", &rows_path);
    if (!st && access(rows_path, F_OK) != 0) {
        btfm_free(rows_path);
        rows_path = NULL;
        st = sibling(path, "_physioevents.tsv", &rows_path);
    }
    if (!st && access(rows_path, F_OK) == 0) {
        if (!(st = sibling(path, "_physioevents.json", &json_path)) &&
            !(st = btfm_read_file(json_path, "physio", 1 << 24, &json, &json_len)) &&
            !(st = read_rows(rows_path, &rows, &rows_len)))
            st = btfm_physio_add_events(ds, p, json, json_len, rows, rows_len, rows_path);
    }
    btfm_free(rows_path);
    btfm_free(json_path);
    btfm_free(rows);
    btfm_free(json);
    return st;
}

btfm_status btfm_physio_open(btfm_dataset **out, const char *path, unsigned flags)
{
    (void)flags;
    *out = NULL;
    char *json_path = NULL, *json = NULL, *rows = NULL;
    size_t json_len = 0, rows_len = 0;
    btfm_physio p;
    memset(&p, 0, sizeof p);
    btfm_status st = sibling(path, "_physio.json", &json_path);
    if (!st) st = btfm_read_file(json_path, "physio", 1 << 24, &json, &json_len);
    if (!st) st = read_rows(path, &rows, &rows_len);
    if (!st) st = btfm_physio_parse(&p, json, json_len, rows, rows_len, path);
    btfm_free(json);
    btfm_free(rows);
    btfm_dataset *ds = NULL;
    float *values = NULL;
    int64_t n_rows = 0;
    int n_columns = 0;
    if (!st) st = samples(&p, &values, &n_rows, &n_columns);
    if (!st) st = btfm_dataset_adopt_array(&ds, values, n_rows, n_columns, p.sfreq, NULL);
    if (!st) {
        ds->format = BTFM_FORMAT_PHYSIO;
        st = btfm_set_string(&ds->path, path);
    }
    if (!st) st = describe(ds, &p);
    if (!st) st = events(ds, &p, path);
    if (!st) st = btfm_dataset_finish(ds);
    btfm_physio_clear(&p);
    btfm_free(json_path);
    if (st) {
        btfm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return BTFM_OK;
}
