/* Shared by the fuzz targets that mutate a valid HDF5 layout instead of feeding HDF5
 * random bytes: the input read a byte at a time, and a new file in memory. */
#ifndef BTFM_TESTS_FUZZ_H5_MUTATION_H
#define BTFM_TESTS_FUZZ_H5_MUTATION_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct reader {
    const unsigned char *p;
    size_t n;
} reader;

/* The next input byte; 0 once the input is used up. */
static unsigned byte(reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

/* An empty HDF5 file held in memory and never written, named into name[64] (a new name
 * each call, `suffix` its extension), with HDF5's error printing off. */
static hid_t memory_file(char *name, const char *suffix)
{
    static unsigned serial;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(name, 64, "fuzz-%u.%s", serial++, suffix);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 16, 0);
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) abort();
    return f;
}

#endif
