/* Fuzz target: the SNIRF layout checks. HDF5 itself is not fed random bytes (its own
 * parser is not ours to harden); instead the input mutates a valid SNIRF layout built
 * in memory with HDF5's core driver: links deleted, datasets replaced by others of any
 * type, shape and value, groups where datasets belong. Whatever the reader refuses must
 * say why; whatever it accepts must read without fault. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5_mutation.h"
#include "io/snirf/snirf_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Paths of the valid layout the mutations point at (index = byte % count). */
static const char *const paths[] = {
    "/nirs", "/nirs/data1", "/nirs/data1/dataTimeSeries", "/nirs/data1/time",
    "/nirs/data1/measurementList1", "/nirs/data1/measurementList1/sourceIndex",
    "/nirs/data1/measurementList1/detectorIndex", "/nirs/data1/measurementList1/wavelengthIndex",
    "/nirs/data1/measurementList1/dataType", "/nirs/data1/measurementList2",
    "/nirs/data1/measurementList2/dataTypeLabel", "/nirs/data1/measurementList2/dataType",
    "/nirs/data1/measurementList3", "/nirs/probe", "/nirs/probe/wavelengths",
    "/nirs/probe/sourcePos3D", "/nirs/probe/detectorPos3D", "/nirs/metaDataTags",
    "/nirs/metaDataTags/LengthUnit", "/nirs/metaDataTags/TimeUnit",
    "/nirs/metaDataTags/MeasurementDate", "/nirs/metaDataTags/MeasurementTime",
    "/nirs/metaDataTags/MNE_coordFrame", "/nirs/stim1", "/nirs/stim1/name", "/nirs/stim1/data",
    "/nirs/aux1", "/nirs/aux1/dataTimeSeries", "/nirs/aux1/time", "/nirs/aux1/name",
    "/nirs/aux1/timeOffset", "/nirs/data1/measurementList4", "/nirs/data2", "/nirs1",
};
#define N_PATHS ((int)(sizeof paths / sizeof *paths))

static double number(reader *r)
{
    static const double special[] = {0, 1, -1, 2, 3, 760, 850, 99999, 1e300, -1e300, 0.5, 1e-300};
    unsigned b = byte(r);
    if (b < 192) return special[b % 12];
    if (b < 224) return b % 2 ? NAN : INFINITY;
    double v;
    unsigned char raw[8];
    for (int i = 0; i < 8; i++) raw[i] = (unsigned char)byte(r);
    memcpy(&v, raw, 8);
    return v;
}

static void put_doubles(hid_t loc, const char *name, int rank, const hsize_t *dims,
                        const double *v, hid_t file_type)
{
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        H5Dclose(d);
    }
    H5Sclose(space);
}

static void put_string(hid_t loc, const char *name, const char *s, int fixed)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, fixed ? strlen(s) + 1 : H5T_VARIABLE);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed ? (const void *)s : (const void *)&s);
        H5Dclose(d);
    }
    H5Sclose(space);
    H5Tclose(type);
}

static void group(hid_t f, const char *path)
{
    hid_t g = H5Gcreate2(f, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) H5Gclose(g);
}

static void scalar(hid_t f, const char *path, double v)
{
    put_doubles(f, path, 0, NULL, &v, H5T_STD_I32LE);
}

/* A valid two-wavelength file: 5 samples, 3 channels (the last a processed HbO). */
static void valid_layout(hid_t f)
{
    group(f, "/nirs");
    group(f, "/nirs/data1");
    double series[5 * 3], time[5], wl[2] = {760, 850}, pos[2 * 3] = {0, 0, 0, 30, 0, 0};
    for (int i = 0; i < 15; i++) series[i] = 1 + 0.1 * i;
    for (int i = 0; i < 5; i++) time[i] = 0.1 * i;
    hsize_t ds[2] = {5, 3}, dt = 5, dw = 2, dp[2] = {2, 3};
    put_doubles(f, "/nirs/data1/dataTimeSeries", 2, ds, series, H5T_IEEE_F64LE);
    put_doubles(f, "/nirs/data1/time", 1, &dt, time, H5T_IEEE_F64LE);
    for (int k = 1; k <= 3; k++) {
        char p[64];
        snprintf(p, sizeof p, "/nirs/data1/measurementList%d", k);
        group(f, p);
        char q[96];
        snprintf(q, sizeof q, "%s/sourceIndex", p);
        scalar(f, q, 1);
        snprintf(q, sizeof q, "%s/detectorIndex", p);
        scalar(f, q, 2);
        snprintf(q, sizeof q, "%s/wavelengthIndex", p);
        scalar(f, q, k == 2 ? 2 : 1);
        snprintf(q, sizeof q, "%s/dataType", p);
        scalar(f, q, k == 3 ? 99999 : 1);
        if (k >= 2) {
            snprintf(q, sizeof q, "%s/dataTypeLabel", p);
            put_string(f, q, k == 3 ? "HbO" : "raw", 0);
        }
    }
    group(f, "/nirs/probe");
    put_doubles(f, "/nirs/probe/wavelengths", 1, &dw, wl, H5T_IEEE_F64LE);
    put_doubles(f, "/nirs/probe/sourcePos3D", 2, dp, pos, H5T_IEEE_F64LE);
    put_doubles(f, "/nirs/probe/detectorPos3D", 2, dp, pos, H5T_IEEE_F64LE);
    group(f, "/nirs/metaDataTags");
    put_string(f, "/nirs/metaDataTags/LengthUnit", "mm", 0);
    put_string(f, "/nirs/metaDataTags/TimeUnit", "s", 1);
    put_string(f, "/nirs/metaDataTags/MeasurementDate", "2024-01-31", 0);
    put_string(f, "/nirs/metaDataTags/MeasurementTime", "10:00:00Z", 0);
    group(f, "/nirs/stim1");
    put_string(f, "/nirs/stim1/name", "A", 0);
    double rows[3] = {0.1, 0.2, 1};
    hsize_t dr[2] = {1, 3};
    put_doubles(f, "/nirs/stim1/data", 2, dr, rows, H5T_IEEE_F64LE);
    group(f, "/nirs/aux1");
    put_string(f, "/nirs/aux1/name", "acc", 0);
    put_doubles(f, "/nirs/aux1/dataTimeSeries", 1, &dt, time, H5T_IEEE_F64LE);
    put_doubles(f, "/nirs/aux1/time", 1, &dt, time, H5T_IEEE_F64LE);
}

/* Remove whatever is at `path` (its parent must exist for the replacement). */
static int clear(hid_t f, const char *path)
{
    char parent[128];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (H5Lexists(f, parent, H5P_DEFAULT) <= 0) return 0;
    }
    if (H5Lexists(f, path, H5P_DEFAULT) > 0) H5Ldelete(f, path, H5P_DEFAULT);
    return 1;
}

static void mutate(hid_t f, reader *r)
{
    static const char *const strings[] = {"", "mm", "ms", "hours", "HbR", "dOD", "HbT", "xx",
                                          "2024-13-40", "25:61:99+99:99", "\xff\xfe", "m"};
    unsigned op = byte(r) % 5;
    const char *path = paths[byte(r) % N_PATHS];
    if (!clear(f, path)) return;
    switch (op) {
    case 0: break; /* deleted */
    case 1: group(f, path); break;
    case 2: put_string(f, path, strings[byte(r) % 12], (int)(byte(r) & 1)); break;
    case 3: scalar(f, path, number(r)); break;
    default: {
        int rank = (int)(byte(r) % 3);
        hsize_t dims[2] = {byte(r) % 7, byte(r) % 5};
        size_t n = rank == 0 ? 1 : rank == 1 ? dims[0] : dims[0] * dims[1];
        double v[35];
        for (size_t i = 0; i < n; i++) v[i] = number(r);
        static const hid_t *types[] = {&H5T_IEEE_F64LE_g, &H5T_STD_I32LE_g, &H5T_STD_U8LE_g,
                                       &H5T_IEEE_F32BE_g};
        put_doubles(f, path, rank, dims, v, *types[byte(r) % 4]);
    }
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char name[64];
    hid_t f = memory_file(name, "snirf");
    valid_layout(f);
    reader r = {data, size};
    for (int i = 0; i < 64 && r.n; i++) mutate(f, &r);
    btfm_dataset *ds = NULL;
    btfm_clear_error();
    if (btfm_snirf_open_file(&ds, name, f) != BTFM_OK) {
        if (ds || btfm_last_error()[0] == '\0') abort(); /* a refusal must say why */
        return 0;
    }
    int64_t n = btfm_dataset_n_times(ds);
    int nc = btfm_dataset_n_channels(ds);
    if (n < 1 || nc < 1 || !(btfm_dataset_sfreq(ds) > 0)) abort();
    if (n <= 4096) {
        float *x = malloc(sizeof *x * (size_t)n * (size_t)nc);
        if (btfm_dataset_read(ds, 0, n, NULL, 0, x) != BTFM_OK && btfm_last_error()[0] == '\0')
            abort();
        free(x);
    }
    for (int64_t e = 0; e < btfm_dataset_n_events(ds); e++) {
        double onset, duration;
        if (btfm_dataset_event(ds, e, &onset, &duration, NULL, NULL, NULL) || !isfinite(onset) ||
            !(duration >= 0))
            abort();
    }
    btfm_dataset_free(ds);
    return 0;
}
