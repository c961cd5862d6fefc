/* The one JSON reader and writer of libbtfm (RFC 8259, strict) for BIDS sidecars and
 * other metadata: a small document tree with accessors, a shallow merge for BIDS
 * inheritance, builders and a serializer. Internal; not installed. */
#ifndef BTFM_CORE_JSON_H
#define BTFM_CORE_JSON_H

#include <stddef.h>
#include "internal.h"

typedef enum btfm_json_kind {
    BTFM_JSON_NULL,
    BTFM_JSON_FALSE,
    BTFM_JSON_TRUE,
    BTFM_JSON_NUMBER,
    BTFM_JSON_STRING,
    BTFM_JSON_ARRAY,
    BTFM_JSON_OBJECT
} btfm_json_kind;

/* A JSON value; a tree owns its children. Free the root with btfm_json_free. */
typedef struct btfm_json btfm_json;

/* Deepest nesting of arrays and objects the parser accepts. */
#define BTFM_JSON_MAX_DEPTH 256

/* Parse `len` bytes of `text` (one JSON value, surrounded by optional white space; a
 * UTF-8 byte-order mark is refused, as RFC 8259 allows). Strict: no comments, trailing
 * commas, leading zeros, NaN/Infinity, single quotes, control characters in strings,
 * invalid UTF-8, unpaired surrogates or duplicate keys in an object; nesting at most
 * BTFM_JSON_MAX_DEPTH. Failures are BTFM_E_FORMAT with the message
 * "<where>: line L, column C: <what> (expected <what>)"; columns count characters
 * from 1. `where` names the text in messages (NULL gives "json"). Numbers are the
 * correctly rounded doubles of their text (integers beyond 2^53 round); a number that
 * overflows a double is refused. *out is NULL on failure. */
btfm_status btfm_json_parse(btfm_json **out, const char *text, size_t len, const char *where);

/* Read and parse a file. BTFM_E_NOTFOUND when it does not exist, BTFM_E_IO when it
 * cannot be read. */
btfm_status btfm_json_read_file(btfm_json **out, const char *path);

/* Release a value and everything under it. NULL is a no-op. */
void btfm_json_free(btfm_json *v);

/* The kind of a value (a btfm_json_kind); -1 for NULL. */
int btfm_json_kind_of(const btfm_json *v);

/* Member `key` of an object; NULL when absent or when `object` is not an object. */
const btfm_json *btfm_json_get(const btfm_json *object, const char *key);

/* Number of elements of an array or members of an object; 0 for other values. */
size_t btfm_json_length(const btfm_json *v);

/* Element i of an array, or the value of member i of an object (in document order);
 * NULL when out of range. */
const btfm_json *btfm_json_at(const btfm_json *v, size_t i);

/* Key of member i of an object; NULL when out of range or not an object. */
const char *btfm_json_key_at(const btfm_json *object, size_t i);

/* The value of a number; NaN for anything else. */
double btfm_json_number(const btfm_json *v);

/* The text of a string (UTF-8, NUL-terminated); NULL for anything else. A string may
 * hold U+0000 ("\u0000"): btfm_json_string_length gives its full length in bytes. */
const char *btfm_json_string(const btfm_json *v);
size_t btfm_json_string_length(const btfm_json *v);

/* Where a parsed value starts in its text (1-based line and column); 0, 0 for values
 * built in memory. For messages such as "line 4, column 12: RepetitionTime must be a
 * number". */
void btfm_json_position(const btfm_json *v, int *line, int *column);

/* A deep copy. */
btfm_status btfm_json_copy(btfm_json **out, const btfm_json *v);

/* A new object: the members of `base` (in their order) with the value of each key that
 * `over` also has replaced by over's, then over's other members in their order. A
 * shallow merge: BIDS sidecar inheritance (the sidecar nearer the data file is `over`).
 * Both must be objects (BTFM_E_INVALID otherwise); neither is changed. */
btfm_status btfm_json_merge(btfm_json **out, const btfm_json *base, const btfm_json *over);

/* Serialize as UTF-8 text, 2-space indented, members in order, a final newline; numbers
 * in the shortest form that reads back to the same double ("0.1", "1e+300", "-0.0");
 * non-finite numbers as null. Non-ASCII characters are written as they are; control characters,
 * '"' and '\\' escaped. *text is NUL-terminated, *len excludes the NUL (len may be
 * NULL); release *text with btfm_free. */
btfm_status btfm_json_dump(const btfm_json *v, char **text, size_t *len);

/* Builders. New values are owned by the caller until handed to an object or array. */
btfm_status btfm_json_new_object(btfm_json **out);
btfm_status btfm_json_new_array(btfm_json **out);
btfm_status btfm_json_new_number(btfm_json **out, double value);
btfm_status btfm_json_new_string(btfm_json **out, const char *value); /* UTF-8 checked */
btfm_status btfm_json_new_literal(btfm_json **out, int kind); /* NULL, FALSE or TRUE */

/* Set member `key` (UTF-8) of `object`: an existing member keeps its place and gets the
 * new value, a new one goes last. btfm_json_set takes ownership of `value`, also when it
 * fails (the value is freed then). */
btfm_status btfm_json_set(btfm_json *object, const char *key, btfm_json *value);
btfm_status btfm_json_set_number(btfm_json *object, const char *key, double value);
btfm_status btfm_json_set_string(btfm_json *object, const char *key, const char *value);
btfm_status btfm_json_set_bool(btfm_json *object, const char *key, int value);
btfm_status btfm_json_set_numbers(btfm_json *object, const char *key, const double *values,
                                  size_t n);
btfm_status btfm_json_set_strings(btfm_json *object, const char *key,
                                  const char *const *values, size_t n);

/* Append `value` to `array`, taking ownership (freed on failure). */
btfm_status btfm_json_append(btfm_json *array, btfm_json *value);

/* Write `v` to `path` atomically (btfm_json_dump's text). */
btfm_status btfm_json_write_file(const btfm_json *v, const char *path);

#endif
