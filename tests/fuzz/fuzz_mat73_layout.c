/* Fuzz target: MATLAB v7.3 .set files, the layout checks of mat73.c and the EEG structure
 * read from them. As for SNIRF, HDF5 itself is not fed random bytes; the input mutates a
 * valid EEGLAB layout built in memory with HDF5's core driver: objects deleted, replaced
 * by datasets of any class, type, shape and value, by groups, by references to any object
 * (their own ancestors included), marked empty. Whatever is refused must say why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5_mutation.h"
#include "eeglab_check.h"
#include "io/eeglab/mat73.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const paths[] = {
    "/EEG", "/EEG/srate", "/EEG/nbchan", "/EEG/pnts", "/EEG/trials", "/EEG/xmin", "/EEG/data",
    "/EEG/chanlocs", "/EEG/chanlocs/labels", "/EEG/chanlocs/type", "/EEG/event",
    "/EEG/event/type", "/EEG/event/latency", "/EEG/setname", "/#refs#/a", "/#refs#/b",
    "/#refs#/c", "/#refs#/d", "/#refs#/e", "/#refs#/f", "/#refs#/g", "/#refs#/h", "/srate",
    "/ALLEEG",
};
#define N_PATHS ((int)(sizeof paths / sizeof *paths))
static const char *const classes[] = {"double", "single", "char", "cell", "struct", "logical",
                                      "int8", "uint64", "sparse", "function_handle", "", "x"};

static void set_class(hid_t obj, const char *cls)
{
    if (!*cls) return;
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(cls));
    hid_t a = H5Acreate2(obj, "MATLAB_class", t, s, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, t, cls);
        H5Aclose(a);
    }
    H5Sclose(s);
    H5Tclose(t);
}

static void set_empty(hid_t obj)
{
    unsigned char one = 1;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, "MATLAB_empty", H5T_STD_U8LE, s, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, H5T_NATIVE_UCHAR, &one);
        H5Aclose(a);
    }
    H5Sclose(s);
}

/* A dataset of rows x cols (HDF5 order) doubles written as `type`, with a class. */
static void numbers(hid_t f, const char *path, hsize_t rows, hsize_t cols, const double *v,
                    hid_t type, const char *cls)
{
    hsize_t dims[2] = {rows, cols};
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, path, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        if (rows > 0 && cols > 0) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        set_class(d, cls);
        H5Dclose(d);
    }
    H5Sclose(s);
}

static void text(hid_t f, const char *path, const char *s)
{
    double v[16];
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) v[i] = (unsigned char)s[i];
    numbers(f, path, n, 1, v, H5T_STD_U16LE, "char");
}

static void group(hid_t f, const char *path, const char *cls)
{
    hid_t g = H5Gcreate2(f, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
        set_class(g, cls);
        H5Gclose(g);
    }
}

/* A dataset of `n` references (HDF5 shape n x 1, MATLAB 1 x n) to `targets`. */
static void refs(hid_t f, const char *path, const char *const *targets, int n, const char *cls)
{
    hobj_ref_t r[4];
    for (int i = 0; i < n; i++)
        if (H5Rcreate(&r[i], f, targets[i], H5R_OBJECT, -1) < 0) return;
    hsize_t dims[2] = {(hsize_t)n, 1};
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, path, H5T_STD_REF_OBJ, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        H5Dwrite(d, H5T_STD_REF_OBJ, H5S_ALL, H5S_ALL, H5P_DEFAULT, r);
        set_class(d, cls);
        H5Dclose(d);
    }
    H5Sclose(s);
}

/* Two channels, five samples, two events, a one-element cell. */
static void valid_layout(hid_t f)
{
    double one = 1, two = 2, five = 5, rate = 100, lat[2] = {1, 3.5}, x[10];
    for (int i = 0; i < 10; i++) x[i] = i - 4.5;
    group(f, "/#refs#", "");
    text(f, "/#refs#/a", "Cz");
    text(f, "/#refs#/b", "Pz");
    text(f, "/#refs#/c", "EEG");
    text(f, "/#refs#/d", "EOG");
    text(f, "/#refs#/e", "stim");
    numbers(f, "/#refs#/f", 1, 1, &lat[0], H5T_IEEE_F64LE, "double");
    numbers(f, "/#refs#/g", 1, 1, &lat[1], H5T_IEEE_F64LE, "double");
    text(f, "/#refs#/h", "rec");
    group(f, "/EEG", "struct");
    numbers(f, "/EEG/srate", 1, 1, &rate, H5T_IEEE_F64LE, "double");
    numbers(f, "/EEG/nbchan", 1, 1, &two, H5T_IEEE_F64LE, "double");
    numbers(f, "/EEG/pnts", 1, 1, &five, H5T_IEEE_F64LE, "double");
    numbers(f, "/EEG/trials", 1, 1, &one, H5T_STD_I32LE, "int32");
    numbers(f, "/EEG/xmin", 1, 1, x, H5T_IEEE_F64LE, "double");
    numbers(f, "/EEG/data", 5, 2, x, H5T_IEEE_F32LE, "single");
    group(f, "/EEG/chanlocs", "struct");
    refs(f, "/EEG/chanlocs/labels", (const char *const[]){"/#refs#/a", "/#refs#/b"}, 2, "");
    refs(f, "/EEG/chanlocs/type", (const char *const[]){"/#refs#/c", "/#refs#/d"}, 2, "");
    group(f, "/EEG/event", "struct");
    refs(f, "/EEG/event/type", (const char *const[]){"/#refs#/e", "/#refs#/f"}, 2, "");
    refs(f, "/EEG/event/latency", (const char *const[]){"/#refs#/f", "/#refs#/g"}, 2, "");
    refs(f, "/EEG/setname", (const char *const[]){"/#refs#/h"}, 1, "cell");
}

static void mutate(hid_t f, reader *r)
{
    const char *path = paths[byte(r) % N_PATHS];
    unsigned op = byte(r) % 6;
    const char *cls = classes[byte(r) % (sizeof classes / sizeof *classes)];
    if (op == 5) { /* keep the object, mark it empty */
        hid_t o = H5Oopen(f, path, H5P_DEFAULT);
        if (o >= 0) {
            if (H5Aexists(o, "MATLAB_empty") == 0) set_empty(o);
            H5Oclose(o);
        }
        return;
    }
    if (H5Lexists(f, path, H5P_DEFAULT) > 0) H5Ldelete(f, path, H5P_DEFAULT);
    switch (op) {
    case 0: break; /* deleted */
    case 1: group(f, path, cls); break;
    case 2: {
        hsize_t rows = byte(r) % 6, cols = byte(r) % 4;
        double v[24];
        for (hsize_t i = 0; i < rows * cols; i++) v[i] = (double)byte(r) - 100.0;
        static const hid_t *types[] = {&H5T_IEEE_F64LE_g, &H5T_STD_U16LE_g, &H5T_STD_I8LE_g,
                                       &H5T_IEEE_F32BE_g};
        numbers(f, path, rows, cols, v, *types[byte(r) % 4], cls);
        break;
    }
    case 3: text(f, path, (const char *const[]){"", "x", "\xe9t\xe9", "boundary"}[byte(r) % 4]);
        break;
    default: {
        const char *targets[3];
        int n = 1 + (int)(byte(r) % 3);
        for (int i = 0; i < n; i++) targets[i] = paths[byte(r) % N_PATHS];
        refs(f, path, targets, n, cls);
    }
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char name[64];
    hid_t f = memory_file(name, "set");
    valid_layout(f);
    reader r = {data, size};
    for (int i = 0; i < 32 && r.n; i++) mutate(f, &r);
    btfm_eeglab e;
    memset(&e, 0, sizeof e);
    btfm_clear_error();
    btfm_status st = btfm_mat73_read(&e.mat, f, name);
    if (!st) st = btfm_eeglab_from_mat(&e, name);
    H5Fclose(f);
    if (st) {
        if (btfm_last_error()[0] == '\0') abort(); /* a refusal must say why */
        return 0;
    }
    check_accepted_eeglab(&e);
    return 0;
}
