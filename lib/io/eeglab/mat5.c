/* MAT-file level 5 (MathWorks, "MAT-File Format", chapter 1): a 128-byte header whose
 * last two bytes tell the byte order, then tagged data elements; variables are miMATRIX
 * elements (array flags, dimensions, name, then the class's contents), each possibly
 * wrapped in a zlib-compressed miCOMPRESSED element. Every size is checked against the
 * bytes that remain before it is used. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include "mat5.h"

enum { MI_INT8 = 1, MI_UINT8, MI_INT16, MI_UINT16, MI_INT32, MI_UINT32, MI_SINGLE,
       MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64, MI_MATRIX, MI_COMPRESSED, MI_UTF8, MI_UTF16,
       MI_UTF32 };

#define MAX_DEPTH 64

typedef struct parser {
    btfm_mat_file *file;
    const unsigned char *bytes; /* the file, or a decompressed variable */
    size_t len;
    const char *where;
    int64_t origin;             /* file offset of the compressed element, -1 for the file */
} parser;

static size_t type_size(uint32_t type)
{
    switch (type) {
    case MI_INT8: case MI_UINT8: case MI_UTF8: return 1;
    case MI_INT16: case MI_UINT16: case MI_UTF16: return 2;
    case MI_INT32: case MI_UINT32: case MI_SINGLE: case MI_UTF32: return 4;
    case MI_DOUBLE: case MI_INT64: case MI_UINT64: return 8;
    default: return 0;
    }
}

static uint64_t load(const unsigned char *b, size_t size, int swap)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v |= (uint64_t)b[swap ? size - 1 - i : i] << (8 * i);
    return v;
}

static btfm_status fail_at(const parser *p, size_t pos, btfm_status st, const char *what)
{
    if (p->origin < 0)
        return btfm_fail(st, "mat: %s: byte %zu: %s", p->where, pos, what);
    return btfm_fail(st, "mat: %s: byte %zu of the variable compressed at byte %lld: %s",
                     p->where, pos, (long long)p->origin, what);
}

/* A data element's tag at pos (normal or small format): its type, the data's position
 * and size, and where the next element starts (8-byte aligned). */
static btfm_status read_tag(const parser *p, size_t pos, size_t end, uint32_t *type,
                            size_t *data, size_t *size, size_t *next)
{
    if (end - pos < 8) return fail_at(p, pos, BTFM_E_TRUNCATED, "the file ends inside a data "
                                      "element's 8-byte tag");
    uint32_t w0 = (uint32_t)load(p->bytes + pos, 4, p->file->swap);
    if (w0 >> 16) { /* small element: size and type in one word, data in the next */
        *type = w0 & 0xffff;
        *size = w0 >> 16;
        *data = pos + 4;
        *next = pos + 8;
        if (*size > 4) return fail_at(p, pos, BTFM_E_FORMAT, "a small data element claims more "
                                      "than 4 bytes");
        return BTFM_OK;
    }
    *type = w0;
    *size = (size_t)load(p->bytes + pos + 4, 4, p->file->swap);
    *data = pos + 8;
    if (*size > end - *data) {
        char what[128];
        snprintf(what, sizeof what, "a data element of %zu bytes, but %zu remain", *size,
                 end - *data);
        return fail_at(p, pos, BTFM_E_TRUNCATED, what);
    }
    size_t padded = (*size + 7) & ~(size_t)7;
    *next = padded <= end - *data ? *data + padded : end; /* the last may be unpadded */
    return BTFM_OK;
}

/* A sub-element of an array that must have `want` type (0: any numeric type). */
static btfm_status sub_element(const parser *p, size_t *pos, size_t end, uint32_t want,
                               const char *what, uint32_t *type, size_t *data, size_t *size)
{
    size_t next;
    btfm_status st = read_tag(p, *pos, end, type, data, size, &next);
    if (st) return st;
    if (want ? *type != want && !(want == MI_INT8 && *type == MI_UINT8) : !type_size(*type)) {
        char msg[128];
        snprintf(msg, sizeof msg, "the array's %s has data type %u", what, (unsigned)*type);
        return fail_at(p, *pos, BTFM_E_FORMAT, msg);
    }
    *pos = next;
    return BTFM_OK;
}

static btfm_status copy_name(const parser *p, size_t data, size_t size, char **out)
{
    if (memchr(p->bytes + data, 0, size)) size = strlen((const char *)p->bytes + data);
    if (!(*out = btfm_malloc(size + 1))) return btfm_fail_nomem("mat name", size + 1);
    memcpy(*out, p->bytes + data, size);
    (*out)[size] = 0;
    return BTFM_OK;
}

/* Characters of a char array, stored column by column, as UTF-8 row after row. */
static btfm_status read_chars(const parser *p, btfm_mat *m, size_t pos, size_t end)
{
    uint32_t type;
    size_t data, size;
    btfm_status st = sub_element(p, &pos, end, 0, "characters", &type, &data, &size);
    if (st) return st;
    if (type == MI_UTF8 && (size != (size_t)m->n || m->dims[0] <= 1)) {
        /* one row of UTF-8 bytes (non-ASCII text in several rows cannot be split into
         * its columns; it is kept in the stored order) */
        if (!(m->text = btfm_malloc(size + 1))) return btfm_fail_nomem("mat text", size + 1);
        memcpy(m->text, p->bytes + data, size);
        m->text[size] = 0;
        return BTFM_OK;
    }
    size_t width = type == MI_UTF8 ? 1 : type_size(type); /* several ASCII rows too */
    if ((uint64_t)m->n * width != size)
        return fail_at(p, data - 8, BTFM_E_FORMAT, "a char array's data size disagrees with "
                       "its dimensions");
    int64_t rows = m->dims[0], cols = rows ? m->n / rows : 0;
    if (!(m->text = btfm_malloc((size_t)m->n * 4 + 1))) return btfm_fail_nomem("mat text", (size_t)m->n * 4);
    size_t o = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            size_t at = data + (size_t)(c * rows + r) * width;
            o += btfm_utf8_put(m->text + o, (uint32_t)load(p->bytes + at, width, p->file->swap));
        }
    m->text[o] = 0;
    return BTFM_OK;
}

static btfm_status parse_matrix(const parser *p, size_t pos, size_t end, int depth,
                                btfm_mat **out);

/* `count` miMATRIX elements one after the other (cell contents, struct fields). */
static btfm_status read_items(const parser *p, btfm_mat *m, size_t pos, size_t end,
                              int64_t count, int depth)
{
    if ((uint64_t)count > (end - pos) / 8) /* each needs at least a tag */
        return fail_at(p, pos, BTFM_E_FORMAT, "more cell or struct elements than the array's "
                       "bytes can hold");
    if (count && !(m->items = btfm_calloc((size_t)count, sizeof *m->items)))
        return btfm_fail_nomem("mat items", (size_t)count * sizeof *m->items);
    for (int64_t i = 0; i < count; i++) {
        uint32_t type;
        size_t data, size, next;
        btfm_status st = read_tag(p, pos, end, &type, &data, &size, &next);
        if (!st && type != MI_MATRIX)
            st = fail_at(p, pos, BTFM_E_FORMAT, "a cell or struct element is not an array "
                         "(miMATRIX)");
        if (!st) st = parse_matrix(p, pos, data + size, depth + 1, &m->items[i]);
        if (st) return st;
        pos = next;
    }
    return BTFM_OK;
}

static btfm_status read_struct(const parser *p, btfm_mat *m, size_t pos, size_t end, int depth)
{
    uint32_t type;
    size_t data, size;
    btfm_status st;
    if (m->cls == BTFM_MAT_OBJECT &&
        (st = sub_element(p, &pos, end, MI_INT8, "class name", &type, &data, &size)))
        return st;
    if ((st = sub_element(p, &pos, end, MI_INT32, "field name length", &type, &data, &size)))
        return st;
    if (size != 4) return fail_at(p, data, BTFM_E_FORMAT, "the field name length is not one int32");
    size_t name_len = (size_t)(uint32_t)load(p->bytes + data, 4, p->file->swap);
    size_t names = pos;
    if ((st = sub_element(p, &pos, end, MI_INT8, "field names", &type, &data, &size))) return st;
    if (name_len == 0 || size % name_len || size / name_len > 65535)
        return fail_at(p, names, BTFM_E_FORMAT, "the field names do not divide into at most "
                       "65535 names of the stated length");
    m->n_fields = (int)(size / name_len);
    if (m->n_fields && !(m->fields = btfm_calloc((size_t)m->n_fields, sizeof *m->fields)))
        return btfm_fail_nomem("mat fields", size);
    for (int k = 0; k < m->n_fields; k++)
        if ((st = copy_name(p, data + (size_t)k * name_len, name_len, &m->fields[k])))
            return st;
    if (m->n_fields && (uint64_t)m->n > INT64_MAX / (uint64_t)m->n_fields)
        return fail_at(p, names, BTFM_E_FORMAT, "too many struct elements");
    return read_items(p, m, pos, end, m->n * m->n_fields, depth);
}

static btfm_status read_header(const parser *p, btfm_mat *m, size_t *pos, size_t end)
{
    uint32_t type;
    size_t data, size;
    btfm_status st = sub_element(p, pos, end, MI_UINT32, "flags", &type, &data, &size);
    if (st) return st;
    if (size != 8) return fail_at(p, data, BTFM_E_FORMAT, "array flags are not two uint32");
    m->cls = (int)(load(p->bytes + data, 4, p->file->swap) & 0xff);
    size_t dims_at = *pos;
    if ((st = sub_element(p, pos, end, MI_INT32, "dimensions", &type, &data, &size))) return st;
    m->n_dims = (int)(size / 4);
    if (size % 4 || m->n_dims < 2 || m->n_dims > BTFM_MAT_MAX_DIMS)
        return fail_at(p, dims_at, BTFM_E_FORMAT, "an array has fewer than 2 or more than 8 "
                       "dimensions");
    m->n = 1;
    for (int k = 0; k < m->n_dims; k++) {
        int32_t d = (int32_t)(uint32_t)load(p->bytes + data + 4 * (size_t)k, 4, p->file->swap);
        if (d < 0) return fail_at(p, dims_at, BTFM_E_FORMAT, "a negative dimension");
        m->dims[k] = d;
        if (d && m->n > INT64_MAX / d / 8) return fail_at(p, dims_at, BTFM_E_FORMAT,
                                                          "dimensions too large");
        m->n *= d;
    }
    if ((st = sub_element(p, pos, end, MI_INT8, "name", &type, &data, &size))) return st;
    return copy_name(p, data, size, &m->name);
}

/* The miMATRIX element whose tag is at pos and whose data end at `end`. */
static btfm_status parse_matrix(const parser *p, size_t pos, size_t end, int depth,
                                btfm_mat **out)
{
    if (depth > MAX_DEPTH)
        return fail_at(p, pos, BTFM_E_FORMAT, "cells and structs nested more than 64 deep");
    btfm_mat *m = btfm_calloc(1, sizeof *m);
    if (!(*out = m)) return btfm_fail_nomem("mat array", sizeof *m);
    m->offset = pos;
    size_t at = pos + 8;
    if (at >= end) { /* an empty element: scipy's empty arrays */
        m->cls = BTFM_MAT_DOUBLE;
        m->n_dims = 2;
        return copy_name(p, at, 0, &m->name);
    }
    btfm_status st = read_header(p, m, &at, end);
    if (st) return st;
    switch (m->cls) {
    case BTFM_MAT_CELL: return read_items(p, m, at, end, m->n, depth);
    case BTFM_MAT_STRUCT: case BTFM_MAT_OBJECT: return read_struct(p, m, at, end, depth);
    case BTFM_MAT_CHAR: return read_chars(p, m, at, end);
    default:
        if (m->cls < BTFM_MAT_DOUBLE || m->cls > BTFM_MAT_UINT64) { /* sparse, handles, ... */
            m->n = 0;
            return BTFM_OK;
        }
    }
    uint32_t type;
    size_t data, size;
    if ((st = sub_element(p, &at, end, 0, "real part", &type, &data, &size))) return st;
    if ((uint64_t)m->n * type_size(type) != size)
        return fail_at(p, data - 8, BTFM_E_FORMAT, "a numeric array's data size disagrees with "
                       "its dimensions");
    m->data = p->bytes + data;
    m->type = (int)type;
    return BTFM_OK;
}

static btfm_status add_var(btfm_mat_file *f, btfm_mat *m)
{
    btfm_mat **vars = btfm_realloc(f->vars, ((size_t)f->n_vars + 1) * sizeof *vars);
    if (!vars) return btfm_fail_nomem("mat variables", ((size_t)f->n_vars + 1) * sizeof *vars);
    f->vars = vars;
    f->vars[f->n_vars++] = m;
    return BTFM_OK;
}

/* Inflate a compressed element into a buffer the file owns. */
static btfm_status inflate_var(const parser *p, size_t pos, size_t data, size_t size,
                               unsigned char **out, size_t *out_len)
{
    btfm_mat_file *f = p->file;
    unsigned char **bufs = btfm_realloc(f->buffers, ((size_t)f->n_buffers + 1) * sizeof *bufs);
    if (!bufs) return btfm_fail_nomem("mat buffers", sizeof *bufs);
    f->buffers = bufs;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return btfm_fail_nomem("zlib", sizeof z);
    size_t cap = size * 4 + 1024, got = 0;
    unsigned char *buf = NULL;
    int rc = Z_OK;
    const unsigned char *in = p->bytes + data;
    size_t in_left = size;
    while (rc != Z_STREAM_END) {
        if (got == cap || !buf) {
            cap = buf ? cap * 2 : cap;
            unsigned char *grown = btfm_realloc(buf, cap);
            if (!grown) { rc = Z_MEM_ERROR; break; }
            buf = grown;
        }
        size_t in_step = in_left > (1u << 30) ? 1u << 30 : in_left;
        size_t out_step = cap - got > (1u << 30) ? 1u << 30 : cap - got;
        z.next_in = (unsigned char *)in;
        z.avail_in = (uInt)in_step;
        z.next_out = buf + got;
        z.avail_out = (uInt)out_step;
        rc = inflate(&z, Z_NO_FLUSH);
        in += in_step - z.avail_in;
        in_left -= in_step - z.avail_in;
        got += out_step - z.avail_out;
        if (rc == Z_BUF_ERROR && in_left == 0) break; /* ran out of input */
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        btfm_free(buf);
        if (rc == Z_MEM_ERROR) return btfm_fail_nomem("mat decompression", cap);
        return fail_at(p, pos, BTFM_E_FORMAT, "a compressed variable's zlib data are corrupt "
                       "or end early");
    }
    f->buffers[f->n_buffers++] = buf;
    *out = buf;
    *out_len = got;
    return BTFM_OK;
}

static void free_mat(btfm_mat *m)
{
    if (!m) return;
    btfm_free(m->name);
    btfm_free(m->text);
    for (int k = 0; k < m->n_fields; k++) btfm_free(m->fields[k]);
    btfm_free(m->fields);
    if (m->items) {
        int64_t count = m->cls == BTFM_MAT_CELL ? m->n : m->n * m->n_fields;
        for (int64_t i = 0; i < count; i++) free_mat(m->items[i]);
        btfm_free(m->items);
    }
    btfm_free(m);
}

btfm_status btfm_mat_parse(btfm_mat_file *out, const unsigned char *bytes, size_t len,
                           const char *where)
{
    memset(out, 0, sizeof *out);
    if (len < 128)
        return btfm_fail(BTFM_E_TRUNCATED, "mat: %s: %zu bytes, shorter than the 128-byte "
                         "MAT-file header", where, len);
    if (bytes[126] == 'M' && bytes[127] == 'I') out->swap = 1;
    else if (!(bytes[126] == 'I' && bytes[127] == 'M'))
        return btfm_fail(BTFM_E_FORMAT, "mat: %s: byte 126: no \"IM\" or \"MI\" endian mark: "
                         "not a level-5 MAT-file", where);
    parser p = {out, bytes, len, where, -1};
    btfm_status st = BTFM_OK;
    for (size_t pos = 128; !st && pos < len;) {
        uint32_t type;
        size_t data, size, next;
        if ((st = read_tag(&p, pos, len, &type, &data, &size, &next))) break;
        btfm_mat *m = NULL;
        if (type == MI_MATRIX) {
            st = parse_matrix(&p, pos, data + size, 0, &m);
        } else if (type == MI_COMPRESSED) {
            unsigned char *inner = NULL;
            size_t inner_len = 0;
            parser q = {out, NULL, 0, where, (int64_t)pos};
            if (!(st = inflate_var(&p, pos, data, size, &inner, &inner_len))) {
                q.bytes = inner;
                q.len = inner_len;
                uint32_t t2;
                size_t d2, s2, n2;
                st = read_tag(&q, 0, inner_len, &t2, &d2, &s2, &n2);
                if (!st && t2 == MI_MATRIX) st = parse_matrix(&q, 0, d2 + s2, 0, &m);
            }
            next = data + size; /* compressed elements are not padded */
        }
        if (m && (st || (st = add_var(out, m)))) free_mat(m);
        pos = next;
    }
    if (st) btfm_mat_file_clear(out);
    return st;
}

void btfm_mat_file_clear(btfm_mat_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n_vars; i++) free_mat(f->vars[i]);
    if (f->n_buffers || f->buffers) {
        for (int i = 0; i < f->n_buffers; i++) btfm_free(f->buffers[i]);
        btfm_free(f->buffers);
    }
    if (f->n_vars || f->vars) btfm_free(f->vars);
    memset(f, 0, sizeof *f);
}

const btfm_mat *btfm_mat_var(const btfm_mat_file *f, const char *name)
{
    for (int i = 0; i < f->n_vars; i++)
        if (strcmp(f->vars[i]->name, name) == 0) return f->vars[i];
    return NULL;
}

const btfm_mat *btfm_mat_field(const btfm_mat *s, int64_t i, const char *field)
{
    if (!s || (s->cls != BTFM_MAT_STRUCT && s->cls != BTFM_MAT_OBJECT) || i < 0 || i >= s->n ||
        !s->items)
        return NULL;
    for (int k = 0; k < s->n_fields; k++)
        if (strcmp(s->fields[k], field) == 0) return s->items[i * s->n_fields + k];
    return NULL;
}

int btfm_mat_is_numeric(const btfm_mat *m)
{
    return m && m->cls >= BTFM_MAT_DOUBLE && m->cls <= BTFM_MAT_UINT64;
}

double btfm_mat_number(const btfm_mat_file *f, const btfm_mat *m, int64_t i)
{
    if (!btfm_mat_is_numeric(m) || !m->data || i < 0 || i >= m->n) return NAN;
    size_t size = type_size((uint32_t)m->type);
    uint64_t v = load(m->data + (size_t)i * size, size, f->swap);
    switch (m->type) {
    case MI_INT8: return (int8_t)v;
    case MI_UINT8: return (uint8_t)v;
    case MI_INT16: return (int16_t)v;
    case MI_UINT16: return (uint16_t)v;
    case MI_INT32: return (int32_t)v;
    case MI_UINT32: return (uint32_t)v;
    case MI_INT64: return (double)(int64_t)v;
    case MI_UINT64: return (double)v;
    case MI_SINGLE: { uint32_t u = (uint32_t)v; float x; memcpy(&x, &u, 4); return x; }
    case MI_DOUBLE: { double x; memcpy(&x, &v, 8); return x; }
    default: return NAN;
    }
}
