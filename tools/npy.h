/* A small strict reader and writer of NumPy .npy files holding float32/float64 arrays
 * (C order), for commands that take matrices such as `btfm align`. */
#ifndef BTFM_TOOLS_NPY_H
#define BTFM_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

enum { NPY_MAX_NDIM = 8 };

/* Read `path`, an array of any number of dimensions (up to NPY_MAX_NDIM), into a new
 * float array (*data, free() it) with its *ndim sizes in `shape`. float64 input is
 * converted. On failure returns -1 with a message naming the file in `err`. */
int npy_read_f32_nd(const char *path, float **data, int64_t *shape, int *ndim, char *err,
                    size_t err_size);

/* "(2, 3)", "(5,)" or "()": a shape as NumPy prints it. */
void npy_shape_text(const int64_t *shape, int ndim, char *out, size_t size);

/* Read `path`, which must hold a 2-D array, into a new float array (*data, free() it) of rows x cols. float64 input is
 * converted. On failure returns -1 with a message naming the file in `err`. */
int npy_read_f32(const char *path, float **data, int64_t *rows, int64_t *cols, char *err,
                 size_t err_size);

/* Write rows x cols float32 values as a version 1.0 .npy file; -1 with `err` on failure. */
int npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols, char *err,
                  size_t err_size);

/* The same for an array of `ndim` (1 to 8) dimensions `shape`. */
int npy_write_f32_nd(const char *path, const float *data, const int64_t *shape, int ndim,
                     char *err, size_t err_size);

#endif
