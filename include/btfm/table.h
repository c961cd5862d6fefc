/* Tables of text cells read from and written to BIDS-style TSV files (events.tsv,
 * channels.tsv, participants.tsv, scans.tsv, _beh.tsv), with typed accessors.
 * Rules: doc/tables.md. */
#ifndef BTFM_TABLE_H
#define BTFM_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A table: named columns (unique, non-empty UTF-8) and rows of UTF-8 text cells. The
 * text "n/a" is a missing value. Cells never hold a tab, CR or LF. */
typedef struct btfm_table btfm_table;

/* Read a TSV file: UTF-8 (a leading byte-order mark is skipped), the first line names
 * the columns, cells are separated by tabs, every row has as many cells as the header,
 * lines end in LF or CRLF (the last one's newline is optional), empty lines at the end
 * are ignored. Empty or duplicate column names, a row with another number of cells and
 * invalid UTF-8 are BTFM_E_FORMAT, with the file, line and column in the message. A
 * missing file is BTFM_E_NOTFOUND. Free with btfm_table_free; *out is NULL on failure. */
BTFM_API btfm_status btfm_table_read(btfm_table **out, const char *path);

/* The same from `len` bytes of `text` (need not be NUL-terminated). `name` names the
 * text in messages; NULL gives "table". */
BTFM_API btfm_status btfm_table_parse(btfm_table **out, const char *text, size_t len,
                                      const char *name);

/* A new table with `n_columns` (>= 1) columns named `columns` and no rows. */
BTFM_API btfm_status btfm_table_new(btfm_table **out, const char *const *columns,
                                    int n_columns);

/* Release a table. NULL is a no-op. */
BTFM_API void btfm_table_free(btfm_table *t);

/* Number of rows (the header not counted); 0 for a NULL table. */
BTFM_API int64_t btfm_table_n_rows(const btfm_table *t);

/* Number of columns; 0 for a NULL table. */
BTFM_API int btfm_table_n_columns(const btfm_table *t);

/* Name of column `column` (0-based); NULL when out of range. Valid until the table is
 * freed or a column is added. */
BTFM_API const char *btfm_table_column_name(const btfm_table *t, int column);

/* Index of the column named `name` (exact, case-sensitive match); BTFM_E_NOTFOUND
 * naming the table's columns when there is none. */
BTFM_API btfm_status btfm_table_find_column(const btfm_table *t, const char *name,
                                            int *column);

/* Text of a cell as stored ("n/a" included), NUL-terminated; NULL when `row` or `column`
 * is out of range. Valid until the table is freed or changed. */
BTFM_API const char *btfm_table_cell(const btfm_table *t, int64_t row, int column);

/* 1 when the cell is "n/a", 0 otherwise (also when out of range). */
BTFM_API int btfm_table_is_na(const btfm_table *t, int64_t row, int column);

/* A numeric column into `out` (n_rows doubles): each cell as a decimal number (optional
 * sign, digits with an optional fraction, optional exponent: "3", "-0.5", "1e-3", ".5"),
 * NaN for "n/a". Other text is BTFM_E_FORMAT naming the table, the line and the column;
 * nothing is promised about `out` then. Numbers are converted exactly (correctly
 * rounded), whatever the process locale. */
BTFM_API btfm_status btfm_table_column_numbers(const btfm_table *t, int column,
                                               double *out);

/* One cell as a number, by the rules of btfm_table_column_numbers: NaN for "n/a",
 * BTFM_E_FORMAT naming the table, line and column for other text, BTFM_E_RANGE for a
 * row or column out of range. */
BTFM_API btfm_status btfm_table_cell_number(const btfm_table *t, int64_t row, int column,
                                            double *value);

/* 1 when column `column` is numeric: every cell a decimal number (the rules of
 * btfm_table_column_numbers) or "n/a", so that it reads as numbers with n/a missing (an
 * "age" column of participants.tsv); 0 when a cell holds other text, for a column out
 * of range and for a NULL table. Sets no error text. */
BTFM_API int btfm_table_column_is_numeric(const btfm_table *t, int column);

/* Append a row of n_columns cells. A NULL cell stores "n/a". A cell holding a tab, CR,
 * LF or invalid UTF-8 is refused (BTFM_E_INVALID) and nothing is added. */
BTFM_API btfm_status btfm_table_add_row(btfm_table *t, const char *const *cells);

/* Append a column named `name` (non-empty, unique, no tab/CR/LF) whose cells are all
 * `fill` (NULL stores "n/a"). */
BTFM_API btfm_status btfm_table_add_column(btfm_table *t, const char *name,
                                           const char *fill);

/* Replace one cell's text (NULL stores "n/a"); same rules as btfm_table_add_row.
 * BTFM_E_RANGE when `row` or `column` is out of range. */
BTFM_API btfm_status btfm_table_set_cell(btfm_table *t, int64_t row, int column,
                                         const char *text);

/* Write the table as TSV (header line, one line a row, LF endings; no BOM unless the
 * first column's name starts with U+FEFF, which the BOM then protects) to `path`
 * atomically: `path` holds either its old content or the complete new table. */
BTFM_API btfm_status btfm_table_save(const btfm_table *t, const char *path);

#ifdef __cplusplus
}
#endif

#endif
