/* The one way libbtfm calls HDF5 (SNIRF, MATLAB v7.3): every call inside a guard that
 * holds the library-level HDF5 lock and keeps HDF5 from printing its error stack, plus
 * checked readers that name the HDF5 path of whatever is wrong. Built with HDF5 only. */
#ifndef BTFM_IO_H5_INTERNAL_H
#define BTFM_IO_H5_INTERNAL_H

#include <hdf5.h>
#include "io/dataset_internal.h"

/* Held across every HDF5 call (doc/THREADING.md, "HDF5"): the lock, and the calling
 * thread's automatic error printing as it was, restored on leave. */
typedef struct btfm_h5_guard {
    H5E_auto2_t func;
    void *data;
} btfm_h5_guard;

void btfm_h5_enter(btfm_h5_guard *g);
void btfm_h5_leave(btfm_h5_guard *g);

/* Where messages point: the format prefix ("snirf") and the file. */
typedef struct btfm_h5_where {
    const char *format, *file;
} btfm_h5_where;

/* Fail with `status`, naming the file and the HDF5 path `path` (may be NULL), adding
 * the most specific message on HDF5's error stack when there is one. */
btfm_status btfm_h5_fail(const btfm_h5_where *w, btfm_status status, const char *path,
                         const char *fmt, ...) BTFM_PRINTF(4, 5);

/* 1 when `path` (relative to loc, one or more components) names an object. */
int btfm_h5_exists(hid_t loc, const char *path);

/* An object's HDF5 path ("/nirs/data1") into buf (at most size bytes, NUL-terminated). */
void btfm_h5_path(hid_t obj, const char *name, char *buf, size_t size);

/* Shape of the dataset `name` (rank <= 4; dims in HDF5 (C) order) and whether it is
 * numeric (integer or float). */
btfm_status btfm_h5_shape(const btfm_h5_where *w, hid_t loc, const char *name, int *rank,
                          hsize_t dims[4], int *numeric);

/* The whole numeric dataset `name` converted to double (caller frees with btfm_free);
 * *count is the number of values, dims optional (rank <= 4). A non-numeric dataset,
 * a rank above 4 or a size that does not fit in memory is a clear error. */
btfm_status btfm_h5_read_doubles(const btfm_h5_where *w, hid_t loc, const char *name,
                                 double **out, size_t *count, int *rank, hsize_t dims[4]);

/* One number from a scalar or one-element dataset (the first of a longer one is an error). */
btfm_status btfm_h5_read_scalar(const btfm_h5_where *w, hid_t loc, const char *name,
                                double *out);

/* A string dataset (fixed or variable length, scalar or the first element of an
 * array) as a new UTF-8 string (btfm_free). */
btfm_status btfm_h5_read_string(const btfm_h5_where *w, hid_t loc, const char *name,
                                char **out);

/* Rows [first, first + count) of a 2-D numeric dataset of `n_cols` columns (or a 1-D one,
 * n_cols 1), all columns, as doubles into out (count x n_cols, row-major). With
 * `transposed` the dataset is stored n_cols x rows and the same values are returned. */
btfm_status btfm_h5_read_rows(const btfm_h5_where *w, hid_t dset, int rank, int transposed,
                              hsize_t first, hsize_t count, hsize_t n_cols, double *out);

/* Names of the members of group `loc` that are `prefix` followed by a positive decimal
 * number, sorted by that number: numbers[] (caller frees) and their count. */
btfm_status btfm_h5_numbered(const btfm_h5_where *w, hid_t loc, const char *prefix,
                             long **numbers, int *count);

#endif
