/* The layout of a btfm_table, shared by table.c (accessors, edits) and tsv.c (reading
 * and writing TSV text). Internal. */
#ifndef BTFM_CORE_TABLE_IMPL_H
#define BTFM_CORE_TABLE_IMPL_H

#include "table_internal.h"

/* One text block and one offset a cell: loading a file is one read, one pass that turns
 * tabs and line ends into NULs in place, and one offsets array. An edited cell appends
 * its new text to the block (the old bytes stay unused until the table is freed). */
struct btfm_table {
    char *source;          /* name in messages */
    int n_columns;
    char **columns;        /* n_columns names, each its own allocation */
    int64_t n_rows;
    size_t *cells;         /* n_rows * n_columns offsets into text, row-major */
    int64_t cells_capacity;
    char *text;            /* NUL-terminated cell texts */
    int64_t text_length, text_capacity;
};

/* A table with no rows over `columns` (copied) named `source` (copied, NULL for
 * "table"); column names are checked (non-empty, unique, no tab/CR/LF, valid UTF-8),
 * `func` starting the messages ("btfm_table_new", "events.tsv: line 1"). */
btfm_status btfm_table_create(btfm_table **out, const char *const *columns, int n_columns,
                              const char *source, const char *func);

#endif
