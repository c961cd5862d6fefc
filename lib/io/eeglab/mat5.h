/* MATLAB MAT-files, level 5 (what EEGLAB's pop_saveset writes with -v6/-v7 and
 * scipy.io.savemat writes), parsed from memory into a tree of arrays. Internal to io. */
#ifndef BTFM_IO_EEGLAB_MAT5_H
#define BTFM_IO_EEGLAB_MAT5_H

#include <stddef.h>
#include <stdint.h>
#include "core/internal.h"

/* Array classes (mxCLASS). */
enum {
    BTFM_MAT_CELL = 1, BTFM_MAT_STRUCT = 2, BTFM_MAT_OBJECT = 3, BTFM_MAT_CHAR = 4,
    BTFM_MAT_SPARSE = 5, BTFM_MAT_DOUBLE = 6, BTFM_MAT_UINT64 = 15
};

#define BTFM_MAT_MAX_DIMS 8

typedef struct btfm_mat {
    char *name;                  /* variable or field name; "" inside cells */
    int cls;                     /* BTFM_MAT_*; numeric: DOUBLE..UINT64 */
    int n_dims;
    int64_t dims[BTFM_MAT_MAX_DIMS];
    int64_t n;                   /* elements: the product of dims */
    /* Numeric arrays: n values of MAT data type `type` (miINT8...) at `data`, which
     * points into the parsed bytes (real part; an imaginary part is ignored). */
    const unsigned char *data;
    int type;
    char *text;                  /* char arrays: the characters as UTF-8, rows in order */
    int n_fields;                /* structs: field names, and n x n_fields items */
    char **fields;
    struct btfm_mat **items;     /* cells: n items; structs: element-major */
    int64_t offset;              /* byte offset of the array's tag, for messages */
} btfm_mat;

typedef struct btfm_mat_file {
    int swap;                    /* big-endian file */
    int n_vars;
    btfm_mat **vars;
    int n_buffers;               /* decompressed variables, owned */
    unsigned char **buffers;
} btfm_mat_file;

/* Parse `len` bytes of a level-5 MAT-file (the buffer must outlive `out`). Failures are
 * BTFM_E_FORMAT (BTFM_E_TRUNCATED for a file that ends inside an element) naming
 * `where` and the byte offset; `out` is then empty. Sparse arrays, function handles and
 * opaque objects are kept as empty arrays of their class. */
btfm_status btfm_mat_parse(btfm_mat_file *out, const unsigned char *bytes, size_t len,
                           const char *where);
void btfm_mat_file_clear(btfm_mat_file *f);

/* The variable called `name`, NULL when absent. */
const btfm_mat *btfm_mat_var(const btfm_mat_file *f, const char *name);
/* Field `field` of element `i` of a struct array, NULL when absent or not a struct. */
const btfm_mat *btfm_mat_field(const btfm_mat *s, int64_t i, const char *field);
/* 1 for numeric and logical arrays. */
int btfm_mat_is_numeric(const btfm_mat *m);
/* Element i of a numeric array as a double; NaN when not numeric or out of range. */
double btfm_mat_number(const btfm_mat_file *f, const btfm_mat *m, int64_t i);

#endif
