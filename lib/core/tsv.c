/* The one TSV reader and writer of libbtfm (BIDS tabular files): the text is read once,
 * split in place (tabs and line ends become NULs) and indexed by one offsets array. */
#include <stdio.h>
#include <string.h>
#include "read_file.h"
#include "table_impl.h"

#define MAX_TSV_BYTES ((size_t)1 << 34) /* 16 GiB: far beyond any BIDS table */

/* 1-based character column of byte `at` of a line starting at `line`. */
static long long char_column(const char *line, const char *at)
{
    long long n = 1;
    for (const char *p = line; p < at; p++) n += ((unsigned char)*p & 0xC0) != 0x80;
    return n;
}

/* The first malformed UTF-8 byte (or NUL) at or after `from`, for the message. */
static btfm_status utf8_error(const char *name, const char *text, size_t len, const char *from)
{
    const char *end = text + len, *p = from, *line = from;
    long long line_no = 1;
    for (const char *q = text; q < from; q++)
        if (*q == '\n') line_no++, line = q + 1;
    for (;;) {
        int n = btfm_utf8_char(p, (size_t)(end - p));
        if (n == 0 || *p == '\0') break;
        if (*p == '\n') line_no++, line = p + 1;
        p += n;
    }
    const char *cell = line;
    long long column = 1;
    for (const char *q = line; q < p; q++)
        if (*q == '\t') column++, cell = q + 1;
    return btfm_fail(BTFM_E_FORMAT, "%s: line %lld, column %lld: %s at byte offset %lld "
                     "(character %lld of the cell); expected UTF-8 text", name, line_no, column,
                     *p ? "invalid UTF-8" : "a NUL byte", (long long)(p - text),
                     char_column(cell, p));
}

/* End of the line starting at `line` (its LF, or `end`) and of its content (before
 * a CR that precedes the LF). */
static char *line_end(char *line, char *end, char **content_end)
{
    char *eol = memchr(line, '\n', (size_t)(end - line));
    if (!eol) eol = end;
    *content_end = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
    return eol;
}

/* Split [line, content_end) at tabs in place; the offsets of at most `max` cells go to
 * `offsets` (relative to `base`); returns the number of cells. */
static int split_cells(char *line, char *content_end, const char *base, size_t *offsets,
                       int max)
{
    int c = 0;
    char *cell = line;
    for (char *p = line;; p++) {
        if (p != content_end && *p != '\t') continue;
        if (c < max) offsets[c] = (size_t)(cell - base);
        c++;
        if (p == content_end) break;
        *p = '\0';
        cell = p + 1;
    }
    *content_end = '\0';
    return c;
}

/* Parse `len` bytes of `buf` (followed by a NUL), taking ownership of `buf`. */
static btfm_status parse_owned(btfm_table **out, char *buf, size_t len, const char *name)
{
    *out = NULL;
    btfm_status st = BTFM_OK;
    btfm_table *t = NULL;
    size_t *cells = NULL;
    const char **header = NULL;
    size_t start = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    char *end = buf + len, *line = buf + start, *content_end;
    if (!btfm_utf8_valid(line, len - start)) {
        st = utf8_error(name, buf, len, line);
        goto done;
    }
    char *eol = line_end(line, end, &content_end);
    if (content_end == line) {
        st = btfm_fail(BTFM_E_FORMAT, "%s: line 1: %s; expected a header line of column names "
                       "separated by tabs", name,
                       line == end ? "the text is empty" : "the header line is empty");
        goto done;
    }
    /* Size everything from the line count, so the offsets are one allocation. */
    size_t n_lines = 1;
    for (char *p = line; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) n_lines++;
    int n_columns = 1;
    for (char *p = line; p < content_end; p++) n_columns += *p == '\t';
    size_t n_offsets = n_lines * (size_t)n_columns;
    header = btfm_malloc((size_t)n_columns * sizeof *header);
    cells = btfm_malloc(n_offsets * sizeof *cells);
    if (!header || !cells) {
        st = btfm_fail_nomem(name, n_offsets * sizeof *cells);
        goto done;
    }
    long long line_no = 1, blank_no = 0;
    int64_t n_rows = 0;
    for (;;) {
        char *cr = memchr(line, '\r', (size_t)(content_end - line));
        if (cr) {
            st = btfm_fail(BTFM_E_FORMAT, "%s: line %lld, character %lld: a carriage return "
                           "inside a line; expected lines ending in LF or CRLF", name, line_no,
                           char_column(line, cr));
            goto done;
        }
        if (line_no == 1) {
            split_cells(line, content_end, buf, cells, n_columns);
            for (int c = 0; c < n_columns; c++) header[c] = buf + cells[c];
        } else if (content_end == line) {
            if (!blank_no) blank_no = line_no;
        } else if (blank_no) {
            st = btfm_fail(BTFM_E_FORMAT, "%s: line %lld: a blank line inside the table; "
                           "expected a row of %d cell%s (blank lines are allowed only at the "
                           "end)", name, blank_no, n_columns, n_columns == 1 ? "" : "s");
            goto done;
        } else {
            int c = split_cells(line, content_end, buf, cells + n_rows * n_columns, n_columns);
            if (c != n_columns) {
                st = btfm_fail(BTFM_E_FORMAT, "%s: line %lld: %d cell%s, but the header has "
                               "%d column%s; expected one cell a column, separated by tabs",
                               name, line_no, c, c == 1 ? "" : "s", n_columns,
                               n_columns == 1 ? "" : "s");
                goto done;
            }
            n_rows++;
        }
        if (eol == end || eol + 1 == end) break;
        *eol = '\0';
        line = eol + 1;
        line_no++;
        eol = line_end(line, end, &content_end);
    }
    if (eol < end) *eol = '\0';
    char where[300];
    snprintf(where, sizeof where, "%s: line 1", name);
    if ((st = btfm_table_create(&t, header, n_columns, name, where))) goto done;
    t->cells = cells;
    t->cells_capacity = (int64_t)n_offsets;
    t->n_rows = n_rows;
    t->text = buf;
    t->text_length = t->text_capacity = (int64_t)len + 1;
    *out = t;
    cells = NULL;
    buf = NULL;
done:
    btfm_free(cells);
    btfm_free(header);
    btfm_free(buf);
    return st;
}

btfm_status btfm_table_parse(btfm_table **out, const char *text, size_t len, const char *name)
{
    BTFM_CHECK_ARG(out, "btfm_table_parse", "out");
    *out = NULL;
    if (len) BTFM_CHECK_ARG(text, "btfm_table_parse", "text");
    if (len == SIZE_MAX) return btfm_fail_nomem("btfm_table_parse", len);
    char *buf = btfm_malloc(len + 1);
    if (!buf) return btfm_fail_nomem("btfm_table_parse", len + 1);
    if (len) memcpy(buf, text, len);
    buf[len] = '\0';
    return parse_owned(out, buf, len, name ? name : "table");
}

btfm_status btfm_table_read(btfm_table **out, const char *path)
{
    BTFM_CHECK_ARG(out, "btfm_table_read", "out");
    *out = NULL;
    BTFM_CHECK_ARG(path, "btfm_table_read", "path");
    char *buf;
    size_t len;
    btfm_status st = btfm_read_file(path, "btfm_table_read", MAX_TSV_BYTES, &buf, &len);
    return st ? st : parse_owned(out, buf, len, path);
}

/* ---- writing ---- */

btfm_status btfm_table_format(const btfm_table *t, char **text, size_t *len)
{
    BTFM_CHECK_ARG(t, "btfm_table_format", "table");
    BTFM_CHECK_ARG(text, "btfm_table_format", "text");
    *text = NULL;
    /* A first column name that starts with U+FEFF would lose it to the reader's BOM
     * skipping; a BOM in front keeps it. */
    int bom = strncmp(t->columns[0], "\xEF\xBB\xBF", 3) == 0;
    size_t size = 1 + (bom ? 3 : 0); /* the NUL */
    for (int c = 0; c < t->n_columns; c++) size += strlen(t->columns[c]) + 1;
    size_t n_cells = (size_t)t->n_rows * (size_t)t->n_columns;
    for (size_t i = 0; i < n_cells; i++) size += strlen(t->text + t->cells[i]) + 1;
    char *out = btfm_malloc(size), *p = out;
    if (!out) return btfm_fail_nomem("btfm_table_format", size);
    if (bom) {
        memcpy(p, "\xEF\xBB\xBF", 3);
        p += 3;
    }
    for (int c = 0; c < t->n_columns; c++) {
        size_t n = strlen(t->columns[c]);
        memcpy(p, t->columns[c], n);
        p += n;
        *p++ = c + 1 == t->n_columns ? '\n' : '\t';
    }
    for (size_t i = 0; i < n_cells; i++) {
        const char *cell = t->text + t->cells[i];
        size_t n = strlen(cell);
        memcpy(p, cell, n);
        p += n;
        *p++ = (i + 1) % (size_t)t->n_columns == 0 ? '\n' : '\t';
    }
    *p = '\0';
    *text = out;
    if (len) *len = (size_t)(p - out);
    return BTFM_OK;
}

btfm_status btfm_table_save(const btfm_table *t, const char *path)
{
    BTFM_CHECK_ARG(t, "btfm_table_save", "table");
    BTFM_CHECK_ARG(path, "btfm_table_save", "path");
    char *text;
    size_t len;
    btfm_status st = btfm_table_format(t, &text, &len);
    if (st) return st;
    st = btfm_write_file(path, "btfm_table_save", text, len);
    btfm_free(text);
    return st;
}
