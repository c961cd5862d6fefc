/* btfm_table: creation, accessors, numeric columns and edits. Reading and writing TSV
 * text is in tsv.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "number.h"
#include "table_impl.h"

static const char na_text[] = "n/a";

/* 0 when `text` may be a cell or column name; otherwise what is wrong with it. */
static const char *text_problem(const char *text)
{
    size_t len = strlen(text);
    if (strpbrk(text, "\t\r\n")) return "holds a tab, carriage return or line feed";
    if (!btfm_utf8_valid(text, len)) return "is not valid UTF-8";
    return NULL;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* Empty, malformed or repeated column names; `func` starts the message. */
static btfm_status check_names(const char *const *columns, int n, const char *func)
{
    for (int c = 0; c < n; c++) {
        if (!columns[c]) return btfm_fail(BTFM_E_INVALID, "%s: column %d's name is NULL", func, c + 1);
        if (!columns[c][0])
            return btfm_fail(BTFM_E_FORMAT, "%s: column %d has an empty name; expected a "
                             "non-empty column name", func, c + 1);
        const char *problem = text_problem(columns[c]);
        if (problem)
            return btfm_fail(BTFM_E_FORMAT, "%s: column %d's name %s", func, c + 1, problem);
    }
    /* Sorting pointers to the names finds repeats in n log n, so a header of many
     * thousand columns is no quadratic trap. */
    const char *const **order = btfm_malloc((size_t)n * sizeof *order);
    if (!order) return btfm_fail_nomem(func, (size_t)n * sizeof *order);
    for (int c = 0; c < n; c++) order[c] = &columns[c];
    qsort(order, (size_t)n, sizeof *order, compare_names);
    btfm_status st = BTFM_OK;
    for (int i = 1; i < n; i++)
        if (strcmp(*order[i - 1], *order[i]) == 0) {
            int a = (int)(order[i - 1] - columns), b = (int)(order[i] - columns);
            if (a > b) { int swap = a; a = b; b = swap; }
            st = btfm_fail(BTFM_E_FORMAT, "%s: column %d repeats the name \"%s\" of column %d; "
                           "expected unique column names", func, b + 1, columns[b], a + 1);
            break;
        }
    btfm_free(order);
    return st;
}

btfm_status btfm_table_create(btfm_table **out, const char *const *columns, int n_columns,
                              const char *source, const char *func)
{
    *out = NULL;
    btfm_status st = check_names(columns, n_columns, func);
    if (st) return st;
    btfm_table *t = btfm_calloc(1, sizeof *t);
    if (!t) return btfm_fail_nomem(func, sizeof *t);
    t->source = btfm_strdup(source ? source : "table");
    t->columns = btfm_calloc((size_t)n_columns, sizeof *t->columns);
    if (!t->source || !t->columns) goto nomem;
    t->n_columns = n_columns;
    for (int c = 0; c < n_columns; c++)
        if (!(t->columns[c] = btfm_strdup(columns[c]))) goto nomem;
    *out = t;
    return BTFM_OK;
nomem:
    btfm_table_free(t);
    return btfm_fail_nomem(func, sizeof *t);
}

btfm_status btfm_table_new(btfm_table **out, const char *const *columns, int n_columns)
{
    BTFM_CHECK_ARG(out, "btfm_table_new", "out");
    *out = NULL;
    BTFM_CHECK_ARG(columns, "btfm_table_new", "columns");
    if (n_columns < 1)
        return btfm_fail(BTFM_E_RANGE, "btfm_table_new: %d columns; expected at least 1",
                         n_columns);
    return btfm_table_create(out, columns, n_columns, NULL, "btfm_table_new");
}

void btfm_table_free(btfm_table *t)
{
    if (!t) return;
    if (t->columns)
        for (int c = 0; c < t->n_columns; c++) btfm_free(t->columns[c]);
    btfm_free(t->columns);
    btfm_free(t->cells);
    btfm_free(t->text);
    btfm_free(t->source);
    btfm_free(t);
}

int64_t btfm_table_n_rows(const btfm_table *t) { return t ? t->n_rows : 0; }

int btfm_table_n_columns(const btfm_table *t) { return t ? t->n_columns : 0; }

const char *btfm_table_column_name(const btfm_table *t, int column)
{
    if (!t || column < 0 || column >= t->n_columns) return NULL;
    return t->columns[column];
}

const char *btfm_table_source(const btfm_table *t) { return t ? t->source : "table"; }

int64_t btfm_table_row_line(const btfm_table *t, int64_t row)
{
    (void)t; /* blank lines are allowed only at the end, so row r is always line r + 2 */
    return row + 2;
}

btfm_status btfm_table_find_column(const btfm_table *t, const char *name, int *column)
{
    BTFM_CHECK_ARG(t, "btfm_table_find_column", "table");
    BTFM_CHECK_ARG(name, "btfm_table_find_column", "name");
    BTFM_CHECK_ARG(column, "btfm_table_find_column", "column");
    for (int c = 0; c < t->n_columns; c++)
        if (strcmp(t->columns[c], name) == 0) {
            *column = c;
            return BTFM_OK;
        }
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (int c = 0; c < t->n_columns && used < sizeof list; c++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", c ? ", " : "",
                                 t->columns[c]);
    return btfm_fail(BTFM_E_NOTFOUND, "btfm_table_find_column: %s has no column \"%s\"; its "
                     "columns are: %s", t->source, name, list);
}

static const char *cell_text(const btfm_table *t, int64_t row, int column)
{
    return t->text + t->cells[row * t->n_columns + column];
}

const char *btfm_table_cell(const btfm_table *t, int64_t row, int column)
{
    if (!t || row < 0 || row >= t->n_rows || column < 0 || column >= t->n_columns) return NULL;
    return cell_text(t, row, column);
}

int btfm_table_is_na(const btfm_table *t, int64_t row, int column)
{
    const char *text = btfm_table_cell(t, row, column);
    return text && strcmp(text, na_text) == 0;
}

static btfm_status check_cell_range(const btfm_table *t, int64_t row, int column,
                                    const char *func)
{
    if (column < 0 || column >= t->n_columns)
        return btfm_fail(BTFM_E_RANGE, "%s: %s: column %d is out of range [0, %d)", func,
                         t->source, column, t->n_columns);
    if (row < 0 || row >= t->n_rows)
        return btfm_fail(BTFM_E_RANGE, "%s: %s: row %lld is out of range [0, %lld)", func,
                         t->source, (long long)row, (long long)t->n_rows);
    return BTFM_OK;
}

/* The number in a cell; `func` starts the message of a cell that is not one. */
static btfm_status cell_number(const btfm_table *t, int64_t row, int column, double *value)
{
    const char *text = cell_text(t, row, column);
    if (strcmp(text, na_text) == 0) {
        *value = NAN;
        return BTFM_OK;
    }
    size_t len = strlen(text);
    if (!btfm_decimal_valid(text, len))
        return btfm_fail(BTFM_E_FORMAT, "%s: line %lld, column %d (\"%s\"): \"%.40s%s\" is not "
                         "a number; expected a decimal number such as 1.5 or -2e-3, or n/a",
                         t->source, (long long)btfm_table_row_line(t, row), column + 1,
                         t->columns[column], text, len > 40 ? "..." : "");
    if (!btfm_decimal_fast(text, len, value)) *value = btfm_strtod_c(text);
    return BTFM_OK;
}

btfm_status btfm_table_cell_number(const btfm_table *t, int64_t row, int column, double *value)
{
    BTFM_CHECK_ARG(t, "btfm_table_cell_number", "table");
    BTFM_CHECK_ARG(value, "btfm_table_cell_number", "value");
    btfm_status st = check_cell_range(t, row, column, "btfm_table_cell_number");
    return st ? st : cell_number(t, row, column, value);
}

btfm_status btfm_table_column_numbers(const btfm_table *t, int column, double *out)
{
    BTFM_CHECK_ARG(t, "btfm_table_column_numbers", "table");
    if (column < 0 || column >= t->n_columns)
        return btfm_fail(BTFM_E_RANGE, "btfm_table_column_numbers: %s: column %d is out of "
                         "range [0, %d)", t->source, column, t->n_columns);
    if (t->n_rows > 0) BTFM_CHECK_ARG(out, "btfm_table_column_numbers", "out");
    for (int64_t r = 0; r < t->n_rows; r++) {
        btfm_status st = cell_number(t, r, column, &out[r]);
        if (st) return st;
    }
    return BTFM_OK;
}

int btfm_table_column_is_numeric(const btfm_table *t, int column)
{
    if (!t || column < 0 || column >= t->n_columns) return 0;
    for (int64_t r = 0; r < t->n_rows; r++) {
        const char *text = cell_text(t, r, column);
        if (strcmp(text, na_text) != 0 && !btfm_decimal_valid(text, strlen(text))) return 0;
    }
    return 1;
}

/* ---- edits ---- */

/* Check a cell's text before any change; NULL is "n/a". */
static btfm_status check_cell(const btfm_table *t, const char *text, int column,
                              const char *func)
{
    if (!text) return BTFM_OK;
    const char *problem = text_problem(text);
    if (problem)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: the cell of column %d (\"%s\") %s; cells "
                         "cannot hold tabs or line breaks and must be UTF-8", func, t->source,
                         column + 1, t->columns[column], problem);
    if (!text[0] && t->n_columns == 1)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: an empty cell in a one-column table would be "
                         "written as a blank line; store \"n/a\" instead", func, t->source);
    return BTFM_OK;
}

static size_t stored_length(const char *text) { return (text ? strlen(text) : 3) + 1; }

/* Append `text` (NULL: "n/a") to the block, which has room; returns its offset. */
static size_t append_text(btfm_table *t, const char *text)
{
    if (!text) text = na_text;
    size_t n = strlen(text) + 1, at = (size_t)t->text_length;
    memcpy(t->text + at, text, n);
    t->text_length += (int64_t)n;
    return at;
}

static btfm_status reserve_text(btfm_table *t, size_t more, const char *func)
{
    if (more > (size_t)INT64_MAX - (size_t)t->text_length) return btfm_fail_nomem(func, more);
    return btfm_reserve((void **)&t->text, &t->text_capacity, t->text_length + (int64_t)more, 1,
                        func);
}

btfm_status btfm_table_add_row(btfm_table *t, const char *const *cells)
{
    BTFM_CHECK_ARG(t, "btfm_table_add_row", "table");
    BTFM_CHECK_ARG(cells, "btfm_table_add_row", "cells");
    size_t more = 0;
    for (int c = 0; c < t->n_columns; c++) {
        btfm_status st = check_cell(t, cells[c], c, "btfm_table_add_row");
        if (st) return st;
        more += stored_length(cells[c]);
    }
    btfm_status st = reserve_text(t, more, "btfm_table_add_row");
    if (!st)
        st = btfm_reserve((void **)&t->cells, &t->cells_capacity,
                          (t->n_rows + 1) * t->n_columns, sizeof *t->cells, "btfm_table_add_row");
    if (st) return st;
    size_t *row = t->cells + t->n_rows * t->n_columns;
    for (int c = 0; c < t->n_columns; c++) row[c] = append_text(t, cells[c]);
    t->n_rows++;
    return BTFM_OK;
}

btfm_status btfm_table_set_cell(btfm_table *t, int64_t row, int column, const char *text)
{
    BTFM_CHECK_ARG(t, "btfm_table_set_cell", "table");
    btfm_status st = check_cell_range(t, row, column, "btfm_table_set_cell");
    if (!st) st = check_cell(t, text, column, "btfm_table_set_cell");
    if (!st) st = reserve_text(t, stored_length(text), "btfm_table_set_cell");
    if (st) return st;
    t->cells[row * t->n_columns + column] = append_text(t, text);
    return BTFM_OK;
}

btfm_status btfm_table_add_column(btfm_table *t, const char *name, const char *fill)
{
    static const char func[] = "btfm_table_add_column";
    BTFM_CHECK_ARG(t, func, "table");
    BTFM_CHECK_ARG(name, func, "name");
    if (t->n_columns == INT32_MAX) return btfm_fail(BTFM_E_RANGE, "%s: too many columns", func);
    int n = t->n_columns + 1;
    const char **names = btfm_malloc((size_t)n * sizeof *names);
    if (!names) return btfm_fail_nomem(func, (size_t)n * sizeof *names);
    for (int c = 0; c < t->n_columns; c++) names[c] = t->columns[c];
    names[n - 1] = name;
    btfm_status st = check_names(names, n, func);
    btfm_free(names);
    if (st) return st;
    if (fill) {
        const char *problem = text_problem(fill);
        if (problem)
            return btfm_fail(BTFM_E_INVALID, "%s: %s: the fill text %s; cells cannot hold "
                             "tabs or line breaks and must be UTF-8", func, t->source, problem);
    }
    size_t count, bytes;
    if (btfm_mul_size((size_t)t->n_rows, (size_t)n, &count) ||
        btfm_mul_size(count, sizeof *t->cells, &bytes))
        return btfm_fail_nomem(func, SIZE_MAX);
    char *copy = btfm_strdup(name);
    size_t *cells = copy ? btfm_malloc(bytes) : NULL;
    char **columns = cells ? btfm_realloc(t->columns, (size_t)n * sizeof *columns) : NULL;
    if (columns) t->columns = columns; /* a grown array serves the old columns as well */
    if (!columns || (st = reserve_text(t, stored_length(fill), func))) {
        btfm_free(copy);
        btfm_free(cells);
        return st ? st : btfm_fail_nomem(func, bytes);
    }
    size_t fill_at = append_text(t, fill);
    for (int64_t r = 0; r < t->n_rows; r++) {
        memcpy(cells + r * n, t->cells + r * t->n_columns, (size_t)t->n_columns * sizeof *cells);
        cells[r * n + n - 1] = fill_at;
    }
    btfm_free(t->cells);
    t->cells = cells;
    t->cells_capacity = (int64_t)count;
    t->columns[n - 1] = copy;
    t->n_columns = n;
    return BTFM_OK;
}
