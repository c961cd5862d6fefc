/* Serializing JSON values: 2-space indentation, members in order, shortest round-trip
 * numbers. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "json_impl.h"
#include "number.h"
#include "read_file.h"

typedef struct writer {
    char *buf;
    int64_t len, capacity;
    btfm_status status;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    if (w->status) return;
    if ((w->status = btfm_reserve((void **)&w->buf, &w->capacity, w->len + (int64_t)n + 1, 1,
                                  "btfm_json_dump")))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += (int64_t)n;
}

static void put_str(writer *w, const char *s) { put(w, s, strlen(s)); }

static void put_indent(writer *w, int depth)
{
    static const char spaces[] = "                                ";
    put(w, "\n", 1);
    for (int n = 2 * depth; n > 0; n -= 32) put(w, spaces, n < 32 ? (size_t)n : 32);
}

static void put_quoted(writer *w, const char *s, size_t len)
{
    put(w, "\"", 1);
    size_t run = 0; /* bytes copied as they are, flushed before each escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[8];
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\t') esc = "\\t";
        else if (c == '\r') esc = "\\r";
        else if (c == '\b') esc = "\\b";
        else if (c == '\f') esc = "\\f";
        else if (c < 0x20) {
            snprintf(hex, sizeof hex, "\\u%04x", c);
            esc = hex;
        }
        if (!esc) {
            run++;
            continue;
        }
        put(w, s + i - run, run);
        run = 0;
        put_str(w, esc);
    }
    put(w, s + len - run, run);
    put(w, "\"", 1);
}

static void put_value(writer *w, const btfm_json *v, int depth)
{
    char num[32];
    switch (v->kind) {
    case BTFM_JSON_NULL: put_str(w, "null"); return;
    case BTFM_JSON_FALSE: put_str(w, "false"); return;
    case BTFM_JSON_TRUE: put_str(w, "true"); return;
    case BTFM_JSON_NUMBER:
        if (!isfinite(v->number)) put_str(w, "null");
        else if (v->number == 0 && signbit(v->number)) put_str(w, "-0.0"); /* "-0" reads
                                                  * back as the integer 0 in many parsers */
        else put(w, num, (size_t)btfm_format_double(v->number, num));
        return;
    case BTFM_JSON_STRING: put_quoted(w, v->string, v->length); return;
    default: break;
    }
    int object = v->kind == BTFM_JSON_OBJECT;
    if (v->length == 0) {
        put_str(w, object ? "{}" : "[]");
        return;
    }
    put(w, object ? "{" : "[", 1);
    for (size_t i = 0; i < v->length; i++) {
        if (i) put(w, ",", 1);
        put_indent(w, depth + 1);
        if (object) {
            put_quoted(w, v->keys[i].text, v->keys[i].length);
            put(w, ": ", 2);
        }
        put_value(w, v->items[i], depth + 1);
    }
    put_indent(w, depth);
    put(w, object ? "}" : "]", 1);
}

btfm_status btfm_json_dump(const btfm_json *v, char **text, size_t *len)
{
    BTFM_CHECK_ARG(text, "btfm_json_dump", "text");
    *text = NULL;
    BTFM_CHECK_ARG(v, "btfm_json_dump", "value");
    writer w = {0};
    put_value(&w, v, 0);
    put(&w, "\n", 1);
    if (w.status) {
        btfm_free(w.buf);
        return w.status;
    }
    w.buf[w.len] = '\0';
    *text = w.buf;
    if (len) *len = (size_t)w.len;
    return BTFM_OK;
}

btfm_status btfm_json_write_file(const btfm_json *v, const char *path)
{
    BTFM_CHECK_ARG(path, "btfm_json_write_file", "path");
    char *text;
    size_t len;
    btfm_status st = btfm_json_dump(v, &text, &len);
    if (st) return st;
    st = btfm_write_file(path, "btfm_json_write_file", text, len);
    btfm_free(text);
    return st;
}
