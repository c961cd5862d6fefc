/* Fuzz target: the TSV reader. Whatever is refused must say why; whatever is accepted
 * must hold the table's invariants and survive writing and reading back unchanged. */
#include <stdlib.h>
#include <string.h>
#include "core/table_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int same_cells(const btfm_table *a, const btfm_table *b)
{
    if (btfm_table_n_rows(a) != btfm_table_n_rows(b) ||
        btfm_table_n_columns(a) != btfm_table_n_columns(b))
        return 0;
    for (int c = 0; c < btfm_table_n_columns(a); c++)
        if (strcmp(btfm_table_column_name(a, c), btfm_table_column_name(b, c)) != 0) return 0;
    for (int64_t r = 0; r < btfm_table_n_rows(a); r++)
        for (int c = 0; c < btfm_table_n_columns(a); c++)
            if (strcmp(btfm_table_cell(a, r, c), btfm_table_cell(b, r, c)) != 0) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_table *t = NULL, *back = NULL;
    if (btfm_table_parse(&t, (const char *)data, size, "fuzz.tsv") != BTFM_OK) {
        if (t || btfm_last_error()[0] == '\0') abort();
        return 0;
    }
    int n_columns = btfm_table_n_columns(t);
    if (n_columns < 1) abort();
    for (int c = 0; c < n_columns; c++) {
        const char *name = btfm_table_column_name(t, c);
        if (!name || !name[0] || strpbrk(name, "\t\r\n") || !btfm_utf8_valid(name, strlen(name)))
            abort();
    }
    for (int64_t r = 0; r < btfm_table_n_rows(t); r++)
        for (int c = 0; c < n_columns; c++) {
            const char *cell = btfm_table_cell(t, r, c);
            if (!cell || strpbrk(cell, "\t\r\n") || !btfm_utf8_valid(cell, strlen(cell))) abort();
        }
    double *numbers = malloc(((size_t)btfm_table_n_rows(t) + 1) * sizeof *numbers);
    for (int c = 0; c < n_columns && numbers; c++) {
        btfm_status st = btfm_table_column_numbers(t, c, numbers);
        if (st != BTFM_OK && st != BTFM_E_FORMAT) abort();
    }
    free(numbers);
    char *text = NULL;
    size_t len = 0;
    if (btfm_table_format(t, &text, &len) != BTFM_OK) abort();
    if (btfm_table_parse(&back, text, len, "again.tsv") != BTFM_OK || !same_cells(t, back))
        abort();
    btfm_free(text);
    btfm_table_free(back);
    btfm_table_free(t);
    return 0;
}
