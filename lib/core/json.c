/* JSON values: the tree, accessors, builders and the shallow merge used for BIDS sidecar
 * inheritance. Parsing is in json_parse.c, serializing in json_dump.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json_impl.h"

btfm_json *btfm_json_alloc(int kind)
{
    btfm_json *v = btfm_calloc(1, sizeof *v);
    if (v) v->kind = kind;
    return v;
}

void btfm_json_free(btfm_json *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->length && v->items; i++) btfm_json_free(v->items[i]);
    if (v->keys)
        for (size_t i = 0; i < v->length; i++) btfm_free(v->keys[i].text);
    btfm_free(v->items);
    btfm_free(v->keys);
    btfm_free(v->index);
    btfm_free(v->string);
    btfm_free(v);
}

btfm_status btfm_json_push(btfm_json *container, btfm_json_key *key, btfm_json *value,
                           const char *func)
{
    if (container->length == container->capacity) {
        size_t cap = container->capacity ? container->capacity * 2 : 4, bytes;
        if (btfm_mul_size(cap, sizeof(btfm_json *), &bytes)) return btfm_fail_nomem(func, SIZE_MAX);
        btfm_json **items = btfm_realloc(container->items, bytes);
        if (!items) return btfm_fail_nomem(func, bytes);
        container->items = items;
        if (container->kind == BTFM_JSON_OBJECT) {
            btfm_json_key *keys = btfm_realloc(container->keys, cap * sizeof *keys);
            if (!keys) return btfm_fail_nomem(func, cap * sizeof *keys);
            container->keys = keys;
        }
        container->capacity = cap;
    }
    if (container->kind == BTFM_JSON_OBJECT) container->keys[container->length] = *key;
    container->items[container->length++] = value;
    btfm_free(container->index);
    container->index = NULL;
    return BTFM_OK;
}

static int key_cmp(const btfm_json_key *a, const btfm_json_key *b)
{
    size_t n = a->length < b->length ? a->length : b->length;
    int c = memcmp(a->text, b->text, n);
    return c ? c : (a->length > b->length) - (a->length < b->length);
}

/* Merge sort of member numbers by key (stable, no global state, n log n). */
static void sort_members(size_t *idx, size_t *tmp, size_t n, const btfm_json_key *keys)
{
    if (n < 2) return;
    size_t half = n / 2;
    sort_members(idx, tmp, half, keys);
    sort_members(idx + half, tmp, n - half, keys);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n)
        tmp[k++] = key_cmp(&keys[idx[j]], &keys[idx[i]]) < 0 ? idx[j++] : idx[i++];
    while (i < half) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

int btfm_json_build_index(btfm_json *object, size_t *duplicate)
{
    size_t n = object->length;
    size_t *idx = btfm_malloc(n * sizeof *idx), *tmp = btfm_malloc(n * sizeof *tmp);
    if (!idx || !tmp) {
        btfm_free(idx);
        btfm_free(tmp);
        return -1;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_members(idx, tmp, n, object->keys);
    btfm_free(tmp);
    int found = 0;
    for (size_t i = 1; i < n; i++)
        if (key_cmp(&object->keys[idx[i - 1]], &object->keys[idx[i]]) == 0) {
            /* stable sort: equal keys stay in document order, so idx[i] is the later */
            size_t later = idx[i];
            if (!found || later < *duplicate) *duplicate = later;
            found = 1;
        }
    btfm_free(object->index);
    object->index = idx;
    return found;
}

int btfm_json_kind_of(const btfm_json *v) { return v ? v->kind : -1; }

/* Member number of `key` (length `len`) in `object`, or -1. */
static long long find_member(const btfm_json *object, const char *key, size_t len)
{
    btfm_json_key probe = {(char *)key, len, 0, 0};
    if (object->index) {
        size_t lo = 0, hi = object->length;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = key_cmp(&object->keys[object->index[mid]], &probe);
            if (c == 0) return (long long)object->index[mid];
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        return -1;
    }
    for (size_t i = 0; i < object->length; i++)
        if (key_cmp(&object->keys[i], &probe) == 0) return (long long)i;
    return -1;
}

const btfm_json *btfm_json_get(const btfm_json *object, const char *key)
{
    if (!object || !key || object->kind != BTFM_JSON_OBJECT) return NULL;
    long long i = find_member(object, key, strlen(key));
    return i < 0 ? NULL : object->items[i];
}

size_t btfm_json_length(const btfm_json *v)
{
    return v && (v->kind == BTFM_JSON_ARRAY || v->kind == BTFM_JSON_OBJECT) ? v->length : 0;
}

const btfm_json *btfm_json_at(const btfm_json *v, size_t i)
{
    return i < btfm_json_length(v) ? v->items[i] : NULL;
}

const char *btfm_json_key_at(const btfm_json *object, size_t i)
{
    if (!object || object->kind != BTFM_JSON_OBJECT || i >= object->length) return NULL;
    return object->keys[i].text;
}

double btfm_json_number(const btfm_json *v)
{
    return v && v->kind == BTFM_JSON_NUMBER ? v->number : NAN;
}

const char *btfm_json_string(const btfm_json *v)
{
    return v && v->kind == BTFM_JSON_STRING ? v->string : NULL;
}

size_t btfm_json_string_length(const btfm_json *v)
{
    return v && v->kind == BTFM_JSON_STRING ? v->length : 0;
}

void btfm_json_position(const btfm_json *v, int *line, int *column)
{
    if (line) *line = v ? v->line : 0;
    if (column) *column = v ? v->column : 0;
}

/* ---- copies and merging ---- */

static char *copy_bytes(const char *text, size_t len)
{
    char *copy = btfm_malloc(len + 1);
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
}

static btfm_status copy_value(btfm_json **out, const btfm_json *v, int depth)
{
    *out = NULL;
    if (depth > BTFM_JSON_MAX_DEPTH) /* only reachable for trees built deeper in memory */
        return btfm_fail(BTFM_E_RANGE, "btfm_json_copy: nesting deeper than %d",
                         BTFM_JSON_MAX_DEPTH);
    btfm_json *c = btfm_json_alloc(v->kind);
    if (!c) return btfm_fail_nomem("btfm_json_copy", sizeof *c);
    c->line = v->line;
    c->column = v->column;
    c->number = v->number;
    if (v->kind == BTFM_JSON_STRING) {
        if (!(c->string = copy_bytes(v->string, v->length))) goto nomem;
        c->length = v->length;
    }
    for (size_t i = 0; i < btfm_json_length(v); i++) {
        btfm_json *item;
        btfm_status st = copy_value(&item, v->items[i], depth + 1);
        if (st) {
            btfm_json_free(c);
            return st;
        }
        btfm_json_key key = {0};
        if (v->kind == BTFM_JSON_OBJECT) {
            key = v->keys[i];
            if (!(key.text = copy_bytes(key.text, key.length))) {
                btfm_json_free(item);
                goto nomem;
            }
        }
        if ((st = btfm_json_push(c, &key, item, "btfm_json_copy"))) {
            btfm_free(key.text);
            btfm_json_free(item);
            btfm_json_free(c);
            return st;
        }
    }
    if (v->index && btfm_json_build_index(c, &(size_t){0}) < 0) goto nomem;
    *out = c;
    return BTFM_OK;
nomem:
    btfm_json_free(c);
    return btfm_fail_nomem("btfm_json_copy", sizeof *c);
}

btfm_status btfm_json_copy(btfm_json **out, const btfm_json *v)
{
    BTFM_CHECK_ARG(out, "btfm_json_copy", "out");
    *out = NULL;
    BTFM_CHECK_ARG(v, "btfm_json_copy", "value");
    return copy_value(out, v, 0);
}

/* Append a copy of member `i` of `from` to `object`. */
static btfm_status push_copy(btfm_json *object, const btfm_json *from, size_t i)
{
    btfm_json *item;
    btfm_status st = copy_value(&item, from->items[i], 0);
    if (st) return st;
    btfm_json_key key = from->keys[i];
    if (!(key.text = copy_bytes(key.text, key.length))) {
        btfm_json_free(item);
        return btfm_fail_nomem("btfm_json_merge", key.length + 1);
    }
    if ((st = btfm_json_push(object, &key, item, "btfm_json_merge"))) {
        btfm_free(key.text);
        btfm_json_free(item);
    }
    return st;
}

btfm_status btfm_json_merge(btfm_json **out, const btfm_json *base, const btfm_json *over)
{
    BTFM_CHECK_ARG(out, "btfm_json_merge", "out");
    *out = NULL;
    BTFM_CHECK_ARG(base, "btfm_json_merge", "base");
    BTFM_CHECK_ARG(over, "btfm_json_merge", "over");
    if (base->kind != BTFM_JSON_OBJECT || over->kind != BTFM_JSON_OBJECT)
        return btfm_fail(BTFM_E_INVALID, "btfm_json_merge: the %s is not an object; sidecars "
                         "merge only as objects", base->kind != BTFM_JSON_OBJECT ? "base" : "override");
    btfm_json *m = btfm_json_alloc(BTFM_JSON_OBJECT);
    if (!m) return btfm_fail_nomem("btfm_json_merge", sizeof *m);
    btfm_status st = BTFM_OK;
    for (size_t i = 0; i < base->length && !st; i++) {
        long long j = find_member(over, base->keys[i].text, base->keys[i].length);
        st = j < 0 ? push_copy(m, base, i) : push_copy(m, over, (size_t)j);
    }
    for (size_t j = 0; j < over->length && !st; j++)
        if (find_member(base, over->keys[j].text, over->keys[j].length) < 0)
            st = push_copy(m, over, j);
    if (!st && m->length > BTFM_JSON_INDEX_MIN && btfm_json_build_index(m, &(size_t){0}) < 0)
        st = btfm_fail_nomem("btfm_json_merge", m->length * sizeof(size_t));
    if (st) {
        btfm_json_free(m);
        return st;
    }
    *out = m;
    return BTFM_OK;
}

/* ---- builders ---- */

btfm_status btfm_json_new_object(btfm_json **out)
{
    BTFM_CHECK_ARG(out, "btfm_json_new_object", "out");
    *out = btfm_json_alloc(BTFM_JSON_OBJECT);
    return *out ? BTFM_OK : btfm_fail_nomem("btfm_json_new_object", sizeof **out);
}

btfm_status btfm_json_new_array(btfm_json **out)
{
    BTFM_CHECK_ARG(out, "btfm_json_new_array", "out");
    *out = btfm_json_alloc(BTFM_JSON_ARRAY);
    return *out ? BTFM_OK : btfm_fail_nomem("btfm_json_new_array", sizeof **out);
}

btfm_status btfm_json_new_number(btfm_json **out, double value)
{
    BTFM_CHECK_ARG(out, "btfm_json_new_number", "out");
    *out = btfm_json_alloc(BTFM_JSON_NUMBER);
    if (!*out) return btfm_fail_nomem("btfm_json_new_number", sizeof **out);
    (*out)->number = value;
    return BTFM_OK;
}

btfm_status btfm_json_new_string(btfm_json **out, const char *value)
{
    BTFM_CHECK_ARG(out, "btfm_json_new_string", "out");
    *out = NULL;
    BTFM_CHECK_ARG(value, "btfm_json_new_string", "value");
    size_t len = strlen(value);
    if (!btfm_utf8_valid(value, len))
        return btfm_fail(BTFM_E_INVALID, "btfm_json_new_string: the text is not valid UTF-8");
    btfm_json *v = btfm_json_alloc(BTFM_JSON_STRING);
    if (v && !(v->string = copy_bytes(value, len))) {
        btfm_free(v);
        v = NULL;
    }
    if (!v) return btfm_fail_nomem("btfm_json_new_string", len + 1);
    v->length = len;
    *out = v;
    return BTFM_OK;
}

btfm_status btfm_json_new_literal(btfm_json **out, int kind)
{
    BTFM_CHECK_ARG(out, "btfm_json_new_literal", "out");
    *out = NULL;
    if (kind != BTFM_JSON_NULL && kind != BTFM_JSON_FALSE && kind != BTFM_JSON_TRUE)
        return btfm_fail(BTFM_E_INVALID, "btfm_json_new_literal: kind %d is not null, false "
                         "or true", kind);
    *out = btfm_json_alloc(kind);
    return *out ? BTFM_OK : btfm_fail_nomem("btfm_json_new_literal", sizeof **out);
}

btfm_status btfm_json_set(btfm_json *object, const char *key, btfm_json *value)
{
    btfm_status st = BTFM_OK;
    if (!object || !key || !value)
        st = btfm_fail(BTFM_E_INVALID, "btfm_json_set: %s is NULL",
                       !object ? "object" : !key ? "key" : "value");
    else if (object->kind != BTFM_JSON_OBJECT)
        st = btfm_fail(BTFM_E_INVALID, "btfm_json_set: \"%s\" cannot be set on a value that "
                       "is not an object", key);
    else if (!btfm_utf8_valid(key, strlen(key)))
        st = btfm_fail(BTFM_E_INVALID, "btfm_json_set: the key is not valid UTF-8");
    if (st) {
        btfm_json_free(value);
        return st;
    }
    long long i = find_member(object, key, strlen(key));
    if (i >= 0) {
        btfm_json_free(object->items[i]);
        object->items[i] = value;
        return BTFM_OK;
    }
    btfm_json_key k = {btfm_strdup(key), strlen(key), 0, 0};
    if (!k.text) st = btfm_fail_nomem("btfm_json_set", k.length + 1);
    else st = btfm_json_push(object, &k, value, "btfm_json_set");
    if (st) {
        btfm_free(k.text);
        btfm_json_free(value);
    }
    return st;
}

btfm_status btfm_json_append(btfm_json *array, btfm_json *value)
{
    btfm_status st = BTFM_OK;
    if (!array || !value)
        st = btfm_fail(BTFM_E_INVALID, "btfm_json_append: %s is NULL", !array ? "array" : "value");
    else if (array->kind != BTFM_JSON_ARRAY)
        st = btfm_fail(BTFM_E_INVALID, "btfm_json_append: the target is not an array");
    else
        st = btfm_json_push(array, NULL, value, "btfm_json_append");
    if (st) btfm_json_free(value);
    return st;
}

btfm_status btfm_json_set_number(btfm_json *object, const char *key, double value)
{
    btfm_json *v;
    btfm_status st = btfm_json_new_number(&v, value);
    return st ? st : btfm_json_set(object, key, v);
}

btfm_status btfm_json_set_string(btfm_json *object, const char *key, const char *value)
{
    btfm_json *v;
    btfm_status st = btfm_json_new_string(&v, value);
    return st ? st : btfm_json_set(object, key, v);
}

btfm_status btfm_json_set_bool(btfm_json *object, const char *key, int value)
{
    btfm_json *v;
    btfm_status st = btfm_json_new_literal(&v, value ? BTFM_JSON_TRUE : BTFM_JSON_FALSE);
    return st ? st : btfm_json_set(object, key, v);
}

/* An array of `n` values made by `make(&item, i, values)`, set as member `key`. */
static btfm_status set_array(btfm_json *object, const char *key, size_t n, const void *values,
                             btfm_status (*make)(btfm_json **, size_t, const void *))
{
    btfm_json *array, *item;
    btfm_status st = btfm_json_new_array(&array);
    for (size_t i = 0; i < n && !st; i++)
        if (!(st = make(&item, i, values))) st = btfm_json_append(array, item);
    if (st) {
        btfm_json_free(array);
        return st;
    }
    return btfm_json_set(object, key, array);
}

static btfm_status make_number(btfm_json **out, size_t i, const void *values)
{
    return btfm_json_new_number(out, ((const double *)values)[i]);
}

static btfm_status make_string(btfm_json **out, size_t i, const void *values)
{
    return btfm_json_new_string(out, ((const char *const *)values)[i]);
}

btfm_status btfm_json_set_numbers(btfm_json *object, const char *key, const double *values,
                                  size_t n)
{
    if (n) BTFM_CHECK_ARG(values, "btfm_json_set_numbers", "values");
    return set_array(object, key, n, values, make_number);
}

btfm_status btfm_json_set_strings(btfm_json *object, const char *key,
                                  const char *const *values, size_t n)
{
    if (n) BTFM_CHECK_ARG(values, "btfm_json_set_strings", "values");
    return set_array(object, key, n, values, make_string);
}
