/* The layout of a btfm_json value, shared by json.c (tree, accessors, builders),
 * json_parse.c and json_dump.c. Internal. */
#ifndef BTFM_CORE_JSON_IMPL_H
#define BTFM_CORE_JSON_IMPL_H

#include "json.h"

/* Objects with more members than this keep a sorted index for lookups and for finding
 * duplicate keys in n log n; smaller ones are searched in order. */
#define BTFM_JSON_INDEX_MIN 8

typedef struct btfm_json_key {
    char *text;
    size_t length; /* a key may hold U+0000 */
    int line, column;
} btfm_json_key;

struct btfm_json {
    int kind;
    int line, column; /* where a parsed value starts; 0 when built */
    double number;
    char *string;     /* strings */
    size_t length;    /* bytes of a string; elements or members of an array or object */
    size_t capacity;
    btfm_json **items;      /* elements, or member values */
    btfm_json_key *keys;    /* member keys (objects) */
    size_t *index;          /* members sorted by key, or NULL (objects) */
};

/* A new value of `kind` with nothing in it. */
btfm_json *btfm_json_alloc(int kind);

/* Append an element (key NULL) or member; takes `key->text` and `value` only on success.
 * Invalidates the sorted index. */
btfm_status btfm_json_push(btfm_json *container, btfm_json_key *key, btfm_json *value,
                           const char *func);

/* Build the sorted index of an object; on a duplicate key set *duplicate to the member
 * that comes later in the object and return 1; 0 when the keys are unique; -1 when out
 * of memory. */
int btfm_json_build_index(btfm_json *object, size_t *duplicate);

#endif
