/* The strict JSON parser (RFC 8259): recursive descent over the text with the line and
 * character column of every value kept for messages. */
#include <stdio.h>
#include <string.h>
#include "json_impl.h"
#include "number.h"
#include "read_file.h"

#define MAX_JSON_BYTES ((size_t)1 << 30) /* sidecars are kilobytes; refuse absurd files */

typedef struct parser {
    const char *text, *end, *p;
    const char *where;
    int line;              /* line of p */
    const char *line_start;
    const char *col_at;    /* character column cache: col_chars characters before col_at */
    long long col_chars;
    btfm_status status;
} parser;

/* 1-based character column of `at` on the current line; amortized O(1) as the parser
 * only moves forward. */
static int column_of(parser *ps, const char *at)
{
    if (ps->col_at < ps->line_start || ps->col_at > at) {
        ps->col_at = ps->line_start;
        ps->col_chars = 0;
    }
    for (const char *q = ps->col_at; q < at; q++) ps->col_chars += ((unsigned char)*q & 0xC0) != 0x80;
    ps->col_at = at;
    long long c = ps->col_chars + 1;
    return c > 0x7fffffff ? 0x7fffffff : (int)c;
}

/* A description of the byte at `at` for messages. */
static const char *describe(const parser *ps, const char *at, char buf[32])
{
    if (at >= ps->end) return "the end of the text";
    unsigned char c = (unsigned char)*at;
    if (c > 0x20 && c < 0x7F) snprintf(buf, 32, "'%c'", c);
    else if (c == '\n') return "a line feed";
    else if (c == '\t') return "a tab";
    else if (c == ' ') return "a space";
    else snprintf(buf, 32, "byte 0x%02X", c);
    return buf;
}

/* Fail at `at`: "<where>: line L, column C: <what> (expected <expected>)". */
static btfm_status fail_at(parser *ps, const char *at, const char *what, const char *expected)
{
    if (ps->status) return ps->status;
    ps->status = btfm_fail(BTFM_E_FORMAT, "%s: line %d, column %d: %s (expected %s)", ps->where,
                           ps->line, column_of(ps, at), what, expected);
    return ps->status;
}

static btfm_status fail_unexpected(parser *ps, const char *expected)
{
    char buf[32], what[64];
    snprintf(what, sizeof what, "unexpected %s", describe(ps, ps->p, buf));
    return fail_at(ps, ps->p, what, expected);
}

static void skip_space(parser *ps)
{
    for (; ps->p < ps->end; ps->p++) {
        char c = *ps->p;
        if (c == '\n') {
            ps->line++;
            ps->line_start = ps->p + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            break;
        }
    }
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at ps->p (on its '"'), decoded into a new buffer. */
static btfm_status parse_string(parser *ps, char **out, size_t *out_len)
{
    const char *open = ps->p, *s = ps->p + 1;
    /* The decoded text is never longer than the quoted one, so find the closing quote
     * first and allocate once. */
    const char *close = s;
    while (close < ps->end && *close != '"') close += *close == '\\' ? 2 : 1;
    if (close >= ps->end) {
        ps->p = open;
        return fail_at(ps, open, "a string is not closed", "a '\"' before the end of the text");
    }
    char *buf = btfm_malloc((size_t)(close - s) + 1), *w = buf;
    if (!buf) return ps->status = btfm_fail_nomem(ps->where, (size_t)(close - s) + 1);
    while (s < close) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\') {
            const char *esc = s;
            char e = s[1];
            s += 2;
            switch (e) {
            case '"': *w++ = '"'; continue;
            case '\\': *w++ = '\\'; continue;
            case '/': *w++ = '/'; continue;
            case 'b': *w++ = '\b'; continue;
            case 'f': *w++ = '\f'; continue;
            case 'n': *w++ = '\n'; continue;
            case 'r': *w++ = '\r'; continue;
            case 't': *w++ = '\t'; continue;
            case 'u': break;
            default:
                btfm_free(buf);
                return fail_at(ps, esc, "invalid escape in a string",
                               "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
            }
            unsigned cp, low;
            if (close - s < 4 || !hex4(s, &cp)) {
                btfm_free(buf);
                return fail_at(ps, esc, "invalid \\u escape", "four hexadecimal digits after \\u");
            }
            s += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                btfm_free(buf);
                return fail_at(ps, esc, "a low surrogate \\u escape without a high one before it",
                               "a high surrogate \\uD800-\\uDBFF first");
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (close - s < 6 || s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &low) ||
                    low < 0xDC00 || low > 0xDFFF) {
                    btfm_free(buf);
                    return fail_at(ps, esc, "an unpaired high surrogate \\u escape",
                                   "a low surrogate \\uDC00-\\uDFFF right after it");
                }
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            w += put_utf8(w, cp);
        } else if (c < 0x20) {
            btfm_free(buf);
            return fail_at(ps, s, "a control character inside a string",
                           "it escaped, e.g. \\n, \\t or \\u0001");
        } else if (c < 0x80) {
            *w++ = (char)c;
            s++;
        } else {
            int n = btfm_utf8_char(s, (size_t)(close - s));
            if (n == 0) {
                btfm_free(buf);
                return fail_at(ps, s, "invalid UTF-8 in a string", "UTF-8 text");
            }
            memcpy(w, s, (size_t)n);
            w += n;
            s += n;
        }
    }
    *w = '\0';
    *out = buf;
    *out_len = (size_t)(w - buf);
    ps->p = close + 1;
    return BTFM_OK;
}

static const char *digits_end(const char *s, const char *end)
{
    while (s < end && *s >= '0' && *s <= '9') s++;
    return s;
}

static btfm_status parse_number(parser *ps, double *value)
{
    const char *start = ps->p, *s = start, *end = ps->end;
    if (s < end && *s == '-') s++;
    if (s >= end || *s < '0' || *s > '9') {
        ps->p = s;
        return fail_unexpected(ps, "a digit");
    }
    if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
        return fail_at(ps, s, "a number with a leading zero", "no leading zeros, e.g. 7 or 0.7");
    s = digits_end(s, end);
    if (s < end && *s == '.') {
        const char *frac = digits_end(s + 1, end);
        if (frac == s + 1) {
            ps->p = frac;
            return fail_unexpected(ps, "a digit after the decimal point");
        }
        s = frac;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        const char *e = s + 1;
        if (e < end && (*e == '+' || *e == '-')) e++;
        const char *exp = digits_end(e, end);
        if (exp == e) {
            ps->p = e;
            return fail_unexpected(ps, "a digit in the exponent");
        }
        s = exp;
    }
    size_t len = (size_t)(s - start);
    if (btfm_decimal_fast(start, len, value)) {
        ps->p = s;
        return BTFM_OK;
    }
    char small[64], *copy = len < sizeof small ? small : btfm_malloc(len + 1);
    if (!copy) return ps->status = btfm_fail_nomem(ps->where, len + 1);
    memcpy(copy, start, len);
    copy[len] = '\0';
    *value = btfm_strtod_c(copy);
    if (copy != small) btfm_free(copy);
    if (*value > 1.7976931348623157e308 || *value < -1.7976931348623157e308)
        return fail_at(ps, start, "a number too large for a double",
                       "a magnitude below 1.8e308");
    ps->p = s;
    return BTFM_OK;
}

static btfm_status parse_value(parser *ps, btfm_json **out, int depth);

static btfm_status parse_container(parser *ps, btfm_json *v, int depth)
{
    int object = v->kind == BTFM_JSON_OBJECT;
    char close = object ? '}' : ']';
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return BTFM_OK;
    }
    for (;;) {
        btfm_json_key key = {0};
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail_unexpected(ps, v->length ? "a member name in double quotes (no "
                                       "trailing comma)" : "a member name in double quotes or '}'");
            key.line = ps->line;
            key.column = column_of(ps, ps->p);
            const char *key_at = ps->p;
            if (parse_string(ps, &key.text, &key.length)) return ps->status;
            if (v->length < BTFM_JSON_INDEX_MIN)
                for (size_t i = 0; i < v->length; i++)
                    if (v->keys[i].length == key.length &&
                        memcmp(v->keys[i].text, key.text, key.length) == 0) {
                        char what[160];
                        snprintf(what, sizeof what, "duplicate key \"%.80s\" (first at line %d, "
                                 "column %d)", key.text, v->keys[i].line, v->keys[i].column);
                        btfm_free(key.text);
                        return fail_at(ps, key_at, what, "unique keys in an object");
                    }
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                btfm_free(key.text);
                return fail_unexpected(ps, "':' after the member name");
            }
            ps->p++;
            skip_space(ps);
        }
        btfm_json *item;
        if (parse_value(ps, &item, depth + 1)) {
            btfm_free(key.text);
            return ps->status;
        }
        if (btfm_json_push(v, &key, item, ps->where)) {
            btfm_free(key.text);
            btfm_json_free(item);
            return ps->status = BTFM_E_NOMEM;
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_space(ps);
            if (!object && ps->p < ps->end && *ps->p == ']')
                return fail_unexpected(ps, "a value after ',' (no trailing comma)");
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        return fail_unexpected(ps, object ? "',' or '}'" : "',' or ']'");
    }
    if (object && v->length > BTFM_JSON_INDEX_MIN) {
        size_t dup = 0;
        int found = btfm_json_build_index(v, &dup);
        if (found < 0) return ps->status = btfm_fail_nomem(ps->where, v->length * sizeof(size_t));
        if (found) {
            if (ps->status) return ps->status;
            /* the line is known from the key; report it like the small-object case */
            size_t first = 0;
            for (size_t i = 0; i < dup; i++)
                if (v->keys[i].length == v->keys[dup].length &&
                    memcmp(v->keys[i].text, v->keys[dup].text, v->keys[dup].length) == 0) {
                    first = i;
                    break;
                }
            return ps->status = btfm_fail(
                       BTFM_E_FORMAT, "%s: line %d, column %d: duplicate key \"%.80s\" (first "
                       "at line %d, column %d) (expected unique keys in an object)", ps->where,
                       v->keys[dup].line, v->keys[dup].column, v->keys[dup].text,
                       v->keys[first].line, v->keys[first].column);
        }
    }
    return BTFM_OK;
}

static int match_literal(const parser *ps, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0;
}

static btfm_status parse_value(parser *ps, btfm_json **out, int depth)
{
    *out = NULL;
    static const char value_expected[] =
        "a value: object, array, string, number, true, false or null";
    if (ps->p >= ps->end) return fail_unexpected(ps, value_expected);
    int line = ps->line, column = column_of(ps, ps->p);
    char c = *ps->p;
    btfm_json *v = NULL;
    if (c == '{' || c == '[') {
        if (depth >= BTFM_JSON_MAX_DEPTH) {
            char what[96];
            snprintf(what, sizeof what, "arrays and objects nested deeper than %d",
                     BTFM_JSON_MAX_DEPTH);
            return fail_at(ps, ps->p, what, "shallower nesting");
        }
        v = btfm_json_alloc(c == '{' ? BTFM_JSON_OBJECT : BTFM_JSON_ARRAY);
        if (!v) return ps->status = btfm_fail_nomem(ps->where, sizeof *v);
        v->line = line;
        v->column = column;
        if (parse_container(ps, v, depth)) {
            btfm_json_free(v);
            return ps->status;
        }
        *out = v;
        return BTFM_OK;
    }
    int kind = -1;
    size_t skip = 0;
    if (c == '"') kind = BTFM_JSON_STRING;
    else if (c == '-' || (c >= '0' && c <= '9')) kind = BTFM_JSON_NUMBER;
    else if (match_literal(ps, "true")) kind = BTFM_JSON_TRUE, skip = 4;
    else if (match_literal(ps, "false")) kind = BTFM_JSON_FALSE, skip = 5;
    else if (match_literal(ps, "null")) kind = BTFM_JSON_NULL, skip = 4;
    if (kind < 0) {
        if (match_literal(ps, "NaN") || match_literal(ps, "Infinity"))
            return fail_at(ps, ps->p, "NaN and Infinity are not JSON", value_expected);
        return fail_unexpected(ps, value_expected);
    }
    if (!(v = btfm_json_alloc(kind))) return ps->status = btfm_fail_nomem(ps->where, sizeof *v);
    v->line = line;
    v->column = column;
    btfm_status st = BTFM_OK;
    if (kind == BTFM_JSON_STRING) st = parse_string(ps, &v->string, &v->length);
    else if (kind == BTFM_JSON_NUMBER) st = parse_number(ps, &v->number);
    else ps->p += skip;
    if (st) {
        btfm_json_free(v);
        return ps->status ? ps->status : st;
    }
    *out = v;
    return BTFM_OK;
}

btfm_status btfm_json_parse(btfm_json **out, const char *text, size_t len, const char *where)
{
    BTFM_CHECK_ARG(out, "btfm_json_parse", "out");
    *out = NULL;
    if (len) BTFM_CHECK_ARG(text, "btfm_json_parse", "text");
    if (!text) text = "";
    parser ps = {text, text + len, text, where ? where : "json", 1, text, text, 0, BTFM_OK};
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        return fail_at(&ps, text, "a UTF-8 byte-order mark",
                       "JSON text without a byte-order mark (RFC 8259, section 8.1)");
    btfm_json *v;
    skip_space(&ps);
    if (parse_value(&ps, &v, 0)) return ps.status;
    skip_space(&ps);
    if (ps.p < ps.end) {
        btfm_json_free(v);
        return fail_unexpected(&ps, "the end of the text after the JSON value");
    }
    *out = v;
    return BTFM_OK;
}

btfm_status btfm_json_read_file(btfm_json **out, const char *path)
{
    BTFM_CHECK_ARG(out, "btfm_json_read_file", "out");
    *out = NULL;
    BTFM_CHECK_ARG(path, "btfm_json_read_file", "path");
    char *text;
    size_t len;
    btfm_status st = btfm_read_file(path, "json", MAX_JSON_BYTES, &text, &len);
    if (st) return st;
    st = btfm_json_parse(out, text, len, path);
    btfm_free(text);
    return st;
}
