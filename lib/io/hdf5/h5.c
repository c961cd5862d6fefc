/* HDF5 calls for the SNIRF and MATLAB v7.3 readers: the lock and the silenced error
 * stack (doc/THREADING.md, "HDF5"), and readers that check shapes and types before
 * trusting them and name the HDF5 path of whatever is wrong. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5_internal.h"

/* Debian's serial HDF5 is built thread-safe, other builds are not; one lock around every
 * call of ours is correct for both and costs nothing where HDF5 serializes anyway. */
static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

void btfm_h5_enter(btfm_h5_guard *g)
{
    pthread_mutex_lock(&h5_lock);
    /* The automatic printing of the default stack is per thread in thread-safe builds:
     * turned off for this thread only while we call, then put back as it was. */
    if (H5Eget_auto2(H5E_DEFAULT, &g->func, &g->data) < 0) {
        g->func = NULL;
        g->data = NULL;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void btfm_h5_leave(btfm_h5_guard *g)
{
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, g->func, g->data);
    pthread_mutex_unlock(&h5_lock);
}

static herr_t first_message(unsigned n, const H5E_error2_t *e, void *user)
{
    char *buf = user;
    if (n == 0 && e->desc && *e->desc) snprintf(buf, 160, "%s", e->desc);
    return 0;
}

btfm_status btfm_h5_fail(const btfm_h5_where *w, btfm_status status, const char *path,
                         const char *fmt, ...)
{
    char what[640], hdf5[160] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* The most specific entry of HDF5's stack says what HDF5 found ("file signature
     * not found"); the caller's text says what we expected. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_message, hdf5);
    H5Eclear2(H5E_DEFAULT);
    return btfm_fail(status, "%s: %s: %s%s%s%s%s", w->format, w->file, path ? path : "",
                     path ? ": " : "", what, *hdf5 ? " (HDF5: " : "", *hdf5 ? hdf5 : "");
}

void btfm_h5_path(hid_t obj, const char *name, char *buf, size_t size)
{
    char base[384] = "";
    if (H5Iget_name(obj, base, sizeof base) < 0) base[0] = '\0';
    int root = strcmp(base, "/") == 0;
    snprintf(buf, size, "%s%s%s", root ? "" : base, name ? "/" : "", name ? name : "");
    if (!*buf) snprintf(buf, size, "/");
}

int btfm_h5_exists(hid_t loc, const char *path)
{
    char part[512];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof part) return 0;
    /* H5Lexists needs every component before the last to exist: check them in turn. */
    for (size_t i = 0; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        if (i == 0) continue;
        memcpy(part, path, i);
        part[i] = '\0';
        if (H5Lexists(loc, part, H5P_DEFAULT) <= 0) return 0;
        if (H5Oexists_by_name(loc, part, H5P_DEFAULT) <= 0) return 0;
    }
    return 1;
}

/* Open dataset `name` of loc with its path for messages; -1 after failing. */
static hid_t open_dataset(const btfm_h5_where *w, hid_t loc, const char *name, char *path,
                          size_t path_size, btfm_status *st)
{
    btfm_h5_path(loc, name, path, path_size);
    if (!btfm_h5_exists(loc, name)) {
        *st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "missing (expected a dataset)");
        return -1;
    }
    H5O_info_t info;
    if (H5Oget_info_by_name(loc, name, &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET) {
        *st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "is a group, expected a dataset");
        return -1;
    }
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) *st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "cannot be opened");
    return d;
}

static btfm_status extent(const btfm_h5_where *w, hid_t d, const char *path, int *rank,
                          hsize_t dims[4], size_t *count)
{
    hid_t space = H5Dget_space(d);
    int r = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (r < 0 || r > 4) {
        if (space >= 0) H5Sclose(space);
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %d dimensions, expected at most 4", r);
    }
    hsize_t d4[4] = {1, 1, 1, 1};
    H5Sget_simple_extent_dims(space, d4, NULL);
    H5Sclose(space);
    size_t n = 1;
    for (int i = 0; i < r; i++)
        if (d4[i] > (hsize_t)SIZE_MAX || btfm_mul_size(n, (size_t)d4[i], &n) ||
            n > SIZE_MAX / sizeof(double))
            return btfm_h5_fail(w, BTFM_E_RANGE, path, "claims %llu x ... values, more than "
                                "fit in memory", (unsigned long long)d4[0]);
    *rank = r;
    memcpy(dims, d4, sizeof d4);
    *count = n;
    return BTFM_OK;
}

/* open_dataset, then its extent; -1 after failing. */
static hid_t open_sized(const btfm_h5_where *w, hid_t loc, const char *name, char *path,
                        size_t path_size, int *rank, hsize_t dims[4], size_t *count,
                        btfm_status *st)
{
    hid_t d = open_dataset(w, loc, name, path, path_size, st);
    if (d >= 0 && (*st = extent(w, d, path, rank, dims, count))) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

static int is_numeric(hid_t d)
{
    hid_t t = H5Dget_type(d);
    H5T_class_t c = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    if (t >= 0) H5Tclose(t);
    return c == H5T_INTEGER || c == H5T_FLOAT;
}

btfm_status btfm_h5_shape(const btfm_h5_where *w, hid_t loc, const char *name, int *rank,
                          hsize_t dims[4], int *numeric)
{
    char path[512];
    btfm_status st = BTFM_OK;
    size_t n;
    hid_t d = open_sized(w, loc, name, path, sizeof path, rank, dims, &n, &st);
    if (d < 0) return st;
    if (numeric) *numeric = is_numeric(d);
    H5Dclose(d);
    return BTFM_OK;
}

btfm_status btfm_h5_read_doubles(const btfm_h5_where *w, hid_t loc, const char *name,
                                 double **out, size_t *count, int *rank, hsize_t dims[4])
{
    char path[512];
    btfm_status st = BTFM_OK;
    int r;
    hsize_t d4[4];
    size_t n = 0;
    *out = NULL;
    hid_t d = open_sized(w, loc, name, path, sizeof path, &r, d4, &n, &st);
    if (d < 0) return st;
    if (!is_numeric(d)) {
        st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "holds no numbers (expected an integer or "
                          "floating-point dataset)");
        goto done;
    }
    double *v = btfm_malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        st = btfm_fail_nomem(w->format, n * sizeof *v);
        goto done;
    }
    if (n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        btfm_free(v);
        st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "cannot be read as numbers");
        goto done;
    }
    *out = v;
    if (count) *count = n;
    if (rank) *rank = r;
    if (dims) memcpy(dims, d4, sizeof d4);
done:
    H5Dclose(d);
    return st;
}

btfm_status btfm_h5_read_scalar(const btfm_h5_where *w, hid_t loc, const char *name, double *out)
{
    double *v;
    size_t n;
    btfm_status st = btfm_h5_read_doubles(w, loc, name, &v, &n, NULL, NULL);
    if (st) return st;
    if (n != 1) {
        char path[512];
        btfm_h5_path(loc, name, path, sizeof path);
        btfm_free(v);
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "has %zu values, expected one", n);
    }
    *out = v[0];
    btfm_free(v);
    return BTFM_OK;
}

/* Trailing NULs and (space-padded strings) spaces removed; Latin-1 made UTF-8. */
static btfm_status keep_string(const char *s, size_t len, char **out)
{
    while (len && (s[len - 1] == '\0' || s[len - 1] == ' ')) len--;
    size_t k = 0;
    while (k < len && s[k]) k++;
    len = k;
    if (btfm_utf8_valid(s, len)) return btfm_io_strdup(out, s, len);
    *out = btfm_text_to_utf8(s, len);
    return *out ? BTFM_OK : btfm_fail_nomem("string", len * 2 + 1);
}

btfm_status btfm_h5_read_string(const btfm_h5_where *w, hid_t loc, const char *name, char **out)
{
    char path[512];
    btfm_status st = BTFM_OK;
    int r;
    hsize_t d4[4];
    size_t n = 0;
    *out = NULL;
    hid_t d = open_sized(w, loc, name, path, sizeof path, &r, d4, &n, &st);
    if (d < 0) return st;
    hid_t mtype = -1, ftype = H5Dget_type(d);
    if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING) {
        st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "is not a string");
        goto done;
    }
    if (n == 0) {
        st = btfm_io_strdup(out, "", 0);
        goto done;
    }
    mtype = H5Tcopy(H5T_C_S1);
    if (H5Tis_variable_str(ftype) > 0) {
        char **v = btfm_calloc(n, sizeof *v);
        if (!v) {
            st = btfm_fail_nomem(w->format, n * sizeof *v);
            goto done;
        }
        H5Tset_size(mtype, H5T_VARIABLE);
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "cannot be read as a string");
        } else {
            st = v[0] ? keep_string(v[0], strlen(v[0]), out) : btfm_io_strdup(out, "", 0);
            hid_t space = H5Dget_space(d);
            H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, v);
            H5Sclose(space);
        }
        btfm_free(v);
    } else {
        size_t size = H5Tget_size(ftype), bytes;
        if (size == 0 || btfm_mul_size(size, n, &bytes) || bytes > ((size_t)1 << 30)) {
            st = btfm_h5_fail(w, BTFM_E_RANGE, path, "string of %zu x %zu bytes is too large",
                              n, size);
            goto done;
        }
        char *v = btfm_malloc(bytes + 1);
        if (!v) {
            st = btfm_fail_nomem(w->format, bytes + 1);
            goto done;
        }
        H5Tset_size(mtype, size);
        H5Tset_strpad(mtype, H5T_STR_NULLPAD);
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
            st = btfm_h5_fail(w, BTFM_E_FORMAT, path, "cannot be read as a string");
        else
            st = keep_string(v, size, out);
        btfm_free(v);
    }
done:
    if (mtype >= 0) H5Tclose(mtype);
    if (ftype >= 0) H5Tclose(ftype);
    H5Dclose(d);
    return st;
}

btfm_status btfm_h5_read_rows(const btfm_h5_where *w, hid_t dset, int rank, int transposed,
                              hsize_t first, hsize_t count, hsize_t n_cols, double *out)
{
    char path[512];
    hsize_t start[2], size[2];
    int r = rank == 1 ? 1 : 2;
    if (r == 1) {
        start[0] = first;
        size[0] = count;
    } else if (!transposed) {
        start[0] = first;
        start[1] = 0;
        size[0] = count;
        size[1] = n_cols;
    } else {
        start[0] = 0;
        start[1] = first;
        size[0] = n_cols;
        size[1] = count;
    }
    hid_t file_space = H5Dget_space(dset);
    hid_t mem_space = H5Screate_simple(r, size, NULL);
    herr_t ok = file_space < 0 || mem_space < 0 ? -1
                : H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, size, NULL);
    double *tmp = NULL;
    if (ok >= 0 && transposed && r == 2) {
        size_t n = (size_t)count * (size_t)n_cols;
        if (!(tmp = btfm_malloc(n * sizeof *tmp))) ok = -2;
    }
    if (ok >= 0)
        ok = H5Dread(dset, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, tmp ? tmp : out);
    if (ok >= 0 && tmp)
        for (hsize_t c = 0; c < n_cols; c++)
            for (hsize_t t = 0; t < count; t++) out[t * n_cols + c] = tmp[c * count + t];
    btfm_free(tmp);
    if (mem_space >= 0) H5Sclose(mem_space);
    if (file_space >= 0) H5Sclose(file_space);
    if (ok == -2) return btfm_fail_nomem(w->format, (size_t)count * (size_t)n_cols * sizeof *tmp);
    if (ok < 0) {
        btfm_h5_path(dset, NULL, path, sizeof path);
        return btfm_h5_fail(w, BTFM_E_IO, path, "rows [%llu, %llu) cannot be read",
                            (unsigned long long)first, (unsigned long long)(first + count));
    }
    return BTFM_OK;
}

static int by_number(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

btfm_status btfm_h5_numbered(const btfm_h5_where *w, hid_t loc, const char *prefix,
                             long **numbers, int *count)
{
    char path[512];
    *numbers = NULL;
    *count = 0;
    H5G_info_t info;
    if (H5Gget_info(loc, &info) < 0) {
        btfm_h5_path(loc, NULL, path, sizeof path);
        return btfm_h5_fail(w, BTFM_E_FORMAT, path, "is not a readable group");
    }
    if (info.nlinks > 1000000) {
        btfm_h5_path(loc, NULL, path, sizeof path);
        return btfm_h5_fail(w, BTFM_E_RANGE, path, "has %llu members, more than 1000000",
                            (unsigned long long)info.nlinks);
    }
    long *found = btfm_malloc((size_t)(info.nlinks ? info.nlinks : 1) * sizeof *found);
    if (!found) return btfm_fail_nomem(w->format, (size_t)info.nlinks * sizeof *found);
    size_t plen = strlen(prefix);
    int n = 0;
    for (hsize_t i = 0; i < info.nlinks; i++) {
        char name[256];
        ssize_t len = H5Lget_name_by_idx(loc, ".", H5_INDEX_NAME, H5_ITER_INC, i, name,
                                         sizeof name, H5P_DEFAULT);
        if (len <= 0 || (size_t)len >= sizeof name || strncmp(name, prefix, plen) != 0) continue;
        const char *digits = name + plen;
        size_t nd = strspn(digits, "0123456789");
        if (nd == 0 || nd > 9 || digits[nd] != '\0' || digits[0] == '0') continue;
        found[n++] = strtol(digits, NULL, 10);
    }
    qsort(found, (size_t)n, sizeof *found, by_number);
    *numbers = found;
    *count = n;
    return BTFM_OK;
}
