/* What the rest of libbtfm needs from a btfm_table besides the public API (BIDS uses it
 * to name lines in messages and to write tables). Internal; not installed. */
#ifndef BTFM_CORE_TABLE_INTERNAL_H
#define BTFM_CORE_TABLE_INTERNAL_H

#include <btfm/table.h>
#include "internal.h"

/* Name of the table in messages: the path it was read from, the name given to
 * btfm_table_parse, or "table". Never NULL. */
const char *btfm_table_source(const btfm_table *t);

/* Line of the source text that holds `row` (the header is line 1, so row 0 is line 2
 * for a file without blank lines); row + 2 for rows added in memory. */
int64_t btfm_table_row_line(const btfm_table *t, int64_t row);

/* The table as TSV text (what btfm_table_save writes), NUL-terminated; release *text
 * with btfm_free. `len` may be NULL. */
btfm_status btfm_table_format(const btfm_table *t, char **text, size_t *len);

#endif
