/* MATLAB v7.3 MAT-files (HDF5) read into the tree of mat5.h. Built with HDF5 only;
 * internal to io. */
#ifndef BTFM_IO_EEGLAB_MAT73_H
#define BTFM_IO_EEGLAB_MAT73_H

#include <hdf5.h>
#include "mat5.h"

/* The variables of an open v7.3 file (the caller holds the HDF5 guard, io/hdf5). Numeric
 * arrays are copied out (single as float32, the rest as float64), so `out` outlives the
 * file. Failures are BTFM_E_FORMAT naming `where` and the HDF5 path; `out` is then empty. */
btfm_status btfm_mat73_read(btfm_mat_file *out, hid_t file, const char *where);

#endif
