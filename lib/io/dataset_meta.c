/* Dataset metadata (a JSON object, e.g. merged BIDS sidecars) and the events table the
 * dataset's events came from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/json.h"
#include "dataset_internal.h"
#include <btfm/table.h>

btfm_status btfm_dataset_take_metadata(btfm_dataset *ds, btfm_json *json)
{
    char *text = NULL;
    if (json) {
        btfm_status st = btfm_json_dump(json, &text, NULL);
        if (st) {
            btfm_json_free(json);
            return st;
        }
    }
    btfm_json_free(ds->metadata);
    btfm_free(ds->metadata_text);
    ds->metadata = json;
    ds->metadata_text = text;
    return BTFM_OK;
}

void btfm_dataset_take_events_table(btfm_dataset *ds, btfm_table *table)
{
    btfm_table_free(ds->events_table);
    ds->events_table = table;
}

btfm_status btfm_dataset_copy_extras(btfm_dataset *dst, const btfm_dataset *src)
{
    btfm_status st = BTFM_OK;
    if (src->metadata) {
        btfm_json *copy;
        if ((st = btfm_json_copy(&copy, src->metadata))) return st;
        if ((st = btfm_dataset_take_metadata(dst, copy))) return st;
    }
    if (!src->events_table) return BTFM_OK;
    btfm_table *copy;
    if ((st = btfm_io_table_copy(&copy, src->events_table))) return st;
    btfm_dataset_take_events_table(dst, copy);
    return BTFM_OK;
}

btfm_status btfm_io_table_copy(btfm_table **out, const btfm_table *t)
{
    int n_cols = btfm_table_n_columns(t);
    const char **cells = btfm_malloc((size_t)n_cols * sizeof *cells);
    if (!cells) return btfm_fail_nomem("table copy", (size_t)n_cols * sizeof *cells);
    for (int c = 0; c < n_cols; c++) cells[c] = btfm_table_column_name(t, c);
    btfm_table *copy = NULL;
    btfm_status st = btfm_table_new(&copy, cells, n_cols);
    for (int64_t r = 0; !st && r < btfm_table_n_rows(t); r++) {
        for (int c = 0; c < n_cols; c++) cells[c] = btfm_table_cell(t, r, c);
        st = btfm_table_add_row(copy, cells);
    }
    btfm_free(cells);
    if (st) {
        btfm_table_free(copy);
        return st;
    }
    *out = copy;
    return BTFM_OK;
}

const char *btfm_dataset_metadata(const btfm_dataset *ds)
{
    if (!ds) return NULL;
    return ds->metadata_text ? ds->metadata_text : "{}";
}

btfm_status btfm_dataset_set_metadata(btfm_dataset *ds, const char *json)
{
    static const char func[] = "btfm_dataset_set_metadata";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(json, func, "json");
    btfm_json *parsed;
    btfm_status st = btfm_json_parse(&parsed, json, strlen(json), "metadata");
    if (st) return st;
    if (btfm_json_kind_of(parsed) != BTFM_JSON_OBJECT) {
        btfm_json_free(parsed);
        return btfm_fail(BTFM_E_FORMAT, "%s: %s: the metadata must be a JSON object", func, ds->path);
    }
    return btfm_dataset_take_metadata(ds, parsed);
}

/* The value a JSON pointer (RFC 6901: "/fif/projectors/0/kind", "~1" for '/', "~0" for
 * '~') refers to; NULL when there is none. */
static const btfm_json *resolve(const btfm_json *v, const char *pointer)
{
    char token[256];
    while (v && *pointer == '/') {
        size_t n = 0;
        for (pointer++; *pointer && *pointer != '/'; pointer++) {
            char c = *pointer;
            if (c == '~') {
                if (pointer[1] != '0' && pointer[1] != '1') return NULL;
                c = *++pointer == '0' ? '~' : '/';
            }
            if (n + 1 == sizeof token) return NULL;
            token[n++] = c;
        }
        token[n] = '\0';
        if (btfm_json_kind_of(v) == BTFM_JSON_ARRAY) {
            if (!n || strspn(token, "0123456789") != n || (n > 1 && token[0] == '0') || n > 9) return NULL;
            v = btfm_json_at(v, (size_t)atol(token));
        } else {
            v = btfm_json_get(v, token);
        }
    }
    return v;
}

/* `key`: a member name, or a JSON pointer when it starts with '/'. */
static btfm_status member(const btfm_dataset *ds, const char *key, const char *func,
                          const btfm_json **out)
{
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(key, func, "key");
    *out = key[0] == '/' ? resolve(ds->metadata, key) : btfm_json_get(ds->metadata, key);
    if (!*out)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: the metadata of %s has no \"%s\"", func, ds->path, key);
    return BTFM_OK;
}

btfm_status btfm_dataset_meta_length(const btfm_dataset *ds, const char *key, int64_t *n)
{
    static const char func[] = "btfm_dataset_meta_length";
    BTFM_CHECK_ARG(n, func, "n");
    const btfm_json *v;
    btfm_status st = member(ds, key, func, &v);
    if (st) return st;
    int kind = btfm_json_kind_of(v);
    if (kind != BTFM_JSON_ARRAY && kind != BTFM_JSON_OBJECT)
        return btfm_fail(BTFM_E_FORMAT, "%s: %s: metadata \"%s\" is not an array or an object",
                         func, ds->path, key);
    *n = (int64_t)btfm_json_length(v);
    return BTFM_OK;
}

btfm_status btfm_dataset_meta_bool(const btfm_dataset *ds, const char *key, int *value)
{
    static const char func[] = "btfm_dataset_meta_bool";
    BTFM_CHECK_ARG(value, func, "value");
    const btfm_json *v;
    btfm_status st = member(ds, key, func, &v);
    if (st) return st;
    int kind = btfm_json_kind_of(v);
    if (kind != BTFM_JSON_TRUE && kind != BTFM_JSON_FALSE)
        return btfm_fail(BTFM_E_FORMAT, "%s: %s: metadata \"%s\" is not true or false", func,
                         ds->path, key);
    *value = kind == BTFM_JSON_TRUE;
    return BTFM_OK;
}

btfm_status btfm_dataset_meta_numbers(const btfm_dataset *ds, const char *key, double *out,
                                      int64_t cap, int64_t *n)
{
    static const char func[] = "btfm_dataset_meta_numbers";
    BTFM_CHECK_ARG(n, func, "n");
    if (cap < 0) return btfm_fail(BTFM_E_RANGE, "%s: cap is %lld, expected >= 0", func, (long long)cap);
    if (cap > 0) BTFM_CHECK_ARG(out, func, "out");
    const btfm_json *v;
    btfm_status st = member(ds, key, func, &v);
    if (st) return st;
    int kind = btfm_json_kind_of(v);
    int64_t count = kind == BTFM_JSON_NUMBER ? 1 : kind == BTFM_JSON_ARRAY ? (int64_t)btfm_json_length(v) : -1;
    for (int64_t i = 0; i < count && kind == BTFM_JSON_ARRAY; i++)
        if (btfm_json_kind_of(btfm_json_at(v, (size_t)i)) != BTFM_JSON_NUMBER) count = -1;
    if (count < 0)
        return btfm_fail(BTFM_E_FORMAT, "%s: %s: metadata \"%s\" is not a number or an array of "
                         "numbers", func, ds->path, key);
    for (int64_t i = 0; i < count && i < cap; i++)
        out[i] = kind == BTFM_JSON_NUMBER ? btfm_json_number(v) : btfm_json_number(btfm_json_at(v, (size_t)i));
    *n = count;
    return BTFM_OK;
}

btfm_status btfm_dataset_meta_string(const btfm_dataset *ds, const char *key, const char **out)
{
    static const char func[] = "btfm_dataset_meta_string";
    BTFM_CHECK_ARG(out, func, "out");
    const btfm_json *v;
    btfm_status st = member(ds, key, func, &v);
    if (st) return st;
    if (!(*out = btfm_json_string(v)))
        return btfm_fail(BTFM_E_FORMAT, "%s: %s: metadata \"%s\" is not a string", func, ds->path, key);
    return BTFM_OK;
}

btfm_status btfm_dataset_events_table(const btfm_dataset *ds, const btfm_table **table)
{
    static const char func[] = "btfm_dataset_events_table";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(table, func, "table");
    *table = ds->events_table;
    if (!ds->events_table)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: %s has no events table (its events do not come "
                         "from a BIDS events.tsv)", func, ds->path);
    return BTFM_OK;
}
