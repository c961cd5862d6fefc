/* MATLAB v7.3 MAT-files: HDF5 files behind a 512-byte user block that holds the MAT
 * header. Read into the tree of mat5.h, so the EEG structure is read one way for every
 * version. MATLAB's layout: each variable a root member with a MATLAB_class attribute;
 * arrays stored with their dimensions reversed (column-major); char as UTF-16 code units;
 * empty arrays as a dataset of their dimensions with MATLAB_empty set; a scalar struct a
 * group of its fields; a struct array a group whose fields are datasets of object
 * references into /#refs#, one per element; a cell a dataset of such references. */
#include <string.h>
#include "io/hdf5/h5_internal.h"
#include "mat73.h"

#define MAX_DEPTH 64
#define MAX_ARRAYS 1000000 /* references may share objects: the tree is bounded */

enum { MI_SINGLE = 7, MI_DOUBLE = 9 };

typedef struct walker {
    btfm_mat_file *file;
    const btfm_h5_where *w;
    int64_t arrays;
} walker;

static btfm_status node(walker *k, hid_t obj, const char *name, int depth, btfm_mat **out);

/* A fixed-length text attribute (MATLAB_class), into buf; "" when absent or not text. */
static void attr_text(hid_t obj, const char *attr, char *buf, size_t size)
{
    buf[0] = 0;
    if (H5Aexists(obj, attr) <= 0) return;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    if (t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t)) {
        /* read as NUL-terminated text one byte longer: MATLAB pads with NULs or spaces */
        size_t n = H5Tget_size(t);
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (n > 0 && n + 1 < size && H5Tset_size(mt, n + 1) >= 0 && H5Aread(a, mt, buf) >= 0)
            buf[n] = 0;
        else buf[0] = 0;
        H5Tclose(mt);
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
}

/* A nonzero integer attribute (MATLAB_empty). */
static int attr_set(hid_t obj, const char *attr)
{
    if (H5Aexists(obj, attr) <= 0) return 0;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    hid_t s = a < 0 ? -1 : H5Aget_space(a);
    long long v = 0;
    if (s >= 0 && H5Sget_simple_extent_npoints(s) == 1 && H5Aread(a, H5T_NATIVE_LLONG, &v) < 0)
        v = 0;
    if (s >= 0) H5Sclose(s);
    if (a >= 0) H5Aclose(a);
    return v != 0;
}

static int class_of(const char *name)
{
    static const struct { const char *name; int cls; } classes[] = {
        {"double", 6}, {"single", 7}, {"int8", 8}, {"uint8", 9}, {"int16", 10},
        {"uint16", 11}, {"int32", 12}, {"uint32", 13}, {"int64", 14}, {"uint64", 15},
        {"logical", 9}, {"char", BTFM_MAT_CHAR}, {"cell", BTFM_MAT_CELL},
        {"struct", BTFM_MAT_STRUCT}};
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        if (strcmp(name, classes[i].name) == 0) return classes[i].cls;
    return 0; /* sparse, function_handle, objects: kept as empty arrays */
}

static btfm_status keep_buffer(btfm_mat_file *f, unsigned char *buf)
{
    unsigned char **bufs = btfm_realloc(f->buffers, ((size_t)f->n_buffers + 1) * sizeof *bufs);
    if (!bufs) {
        btfm_free(buf);
        return btfm_fail_nomem("mat buffers", sizeof *bufs);
    }
    f->buffers = bufs;
    f->buffers[f->n_buffers++] = buf;
    return BTFM_OK;
}

/* The dataset's MATLAB dimensions (its HDF5 ones reversed; scalars 1 x 1). */
static btfm_status dims_of(walker *k, hid_t d, const char *path, btfm_mat *m)
{
    hid_t s = H5Dget_space(d);
    int rank = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    hsize_t dims[BTFM_MAT_MAX_DIMS];
    if (rank > BTFM_MAT_MAX_DIMS || rank < 0 ||
        (rank > 0 && H5Sget_simple_extent_dims(s, dims, NULL) < 0)) {
        if (s >= 0) H5Sclose(s);
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a dataset of %d dimensions; expected "
                            "0 to %d", rank, BTFM_MAT_MAX_DIMS);
    }
    H5Sclose(s);
    m->n_dims = rank < 2 ? 2 : rank;
    m->dims[0] = m->dims[1] = 1;
    m->n = 1;
    for (int i = 0; i < rank; i++) {
        m->dims[i] = (int64_t)dims[rank - 1 - i];
        if (dims[rank - 1 - i] > (hsize_t)INT64_MAX / 16 ||
            (m->dims[i] && m->n > INT64_MAX / 16 / m->dims[i]))
            return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "dimensions too large");
        m->n *= m->dims[i];
    }
    return BTFM_OK;
}

/* Numbers: single as float32, every other class as float64, little-endian (what
 * btfm_mat_number reads); complex arrays by their real part. */
static btfm_status read_numbers(walker *k, hid_t d, const char *path, btfm_mat *m, int single)
{
    hid_t t = H5Dget_type(d);
    H5T_class_t tc = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    hid_t mt = single ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    size_t width = single ? 4 : 8;
    btfm_status st = BTFM_OK;
    if (tc == H5T_COMPOUND) {
        if (H5Tget_member_index(t, "real") < 0)
            st = btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a compound dataset without the "
                              "member \"real\" of MATLAB's complex numbers");
        mt = H5Tcreate(H5T_COMPOUND, width);
        hid_t part = single ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
        if (!st && (mt < 0 || H5Tinsert(mt, "real", 0, part) < 0))
            st = btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "its real part cannot be read");
    } else if (tc != H5T_INTEGER && tc != H5T_FLOAT) {
        st = btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a numeric MATLAB_class on a dataset of "
                          "HDF5 type class %d; expected integers or floats", (int)tc);
    }
    unsigned char *buf = NULL;
    size_t bytes = (size_t)(m->n > 0 ? m->n : 1) * width;
    if (!st && (uint64_t)m->n > SIZE_MAX / 16)
        st = btfm_h5_fail(k->w, BTFM_E_NOMEM, path, "%lld values do not fit in memory",
                          (long long)m->n);
    if (!st && !(buf = btfm_malloc_large(bytes))) st = btfm_fail_nomem("mat v7.3 values", bytes);
    if (!st && m->n > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        st = btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "its values cannot be read");
    if (tc == H5T_COMPOUND && mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (st) {
        btfm_free(buf);
        return st;
    }
    if ((st = keep_buffer(k->file, buf))) return st;
    m->data = buf;
    m->type = single ? MI_SINGLE : MI_DOUBLE;
    return BTFM_OK;
}

/* char arrays: UTF-16 code units, column by column, as UTF-8 row after row. */
static btfm_status read_chars(walker *k, hid_t d, const char *path, btfm_mat *m)
{
    hid_t t = H5Dget_type(d);
    int ok = t >= 0 && H5Tget_class(t) == H5T_INTEGER;
    if (t >= 0) H5Tclose(t);
    if (!ok)
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a char array that is not stored as "
                            "integers (MATLAB writes UTF-16 code units as uint16)");
    if ((uint64_t)m->n > SIZE_MAX / 8)
        return btfm_h5_fail(k->w, BTFM_E_NOMEM, path, "too many characters");
    size_t n = (size_t)m->n;
    uint16_t *units = btfm_malloc((n ? n : 1) * sizeof *units);
    if (!units) return btfm_fail_nomem("mat v7.3 text", n * 2);
    if (n && H5Dread(d, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, units) < 0) {
        btfm_free(units);
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "its characters cannot be read");
    }
    if (!(m->text = btfm_malloc(n * 4 + 1))) {
        btfm_free(units);
        return btfm_fail_nomem("mat v7.3 text", n * 4 + 1);
    }
    int64_t rows = m->dims[0], cols = rows ? m->n / rows : 0;
    size_t o = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            uint32_t u = units[c * rows + r];
            if (u >= 0xD800 && u < 0xDC00 && c + 1 < cols) { /* a surrogate pair */
                uint32_t lo = units[(c + 1) * rows + r];
                if (lo >= 0xDC00 && lo < 0xE000) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    c++;
                }
            }
            o += btfm_utf8_put(m->text + o, u);
        }
    m->text[o] = 0;
    btfm_free(units);
    return BTFM_OK;
}

/* Cells, and one field of a struct array: `count` object references, each converted. */
static btfm_status read_refs(walker *k, hid_t d, const char *path, int64_t count,
                             btfm_mat **items, size_t stride, int depth)
{
    hid_t t = H5Dget_type(d);
    int ok = t >= 0 && H5Tequal(t, H5T_STD_REF_OBJ) > 0;
    if (t >= 0) H5Tclose(t);
    if (!ok)
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a cell or struct-array field that "
                            "does not hold object references");
    hobj_ref_t *refs = btfm_malloc((size_t)(count ? count : 1) * sizeof *refs);
    if (!refs) return btfm_fail_nomem("mat v7.3 references", (size_t)count * sizeof *refs);
    btfm_status st = BTFM_OK;
    if (count && H5Dread(d, H5T_STD_REF_OBJ, H5S_ALL, H5S_ALL, H5P_DEFAULT, refs) < 0)
        st = btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "its references cannot be read");
    for (int64_t i = 0; !st && i < count; i++) {
        hid_t obj = H5Rdereference2(d, H5P_DEFAULT, H5R_OBJECT, &refs[i]);
        if (obj < 0) {
            st = btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "element %lld refers to no object",
                              (long long)(i + 1));
            break;
        }
        st = node(k, obj, "", depth + 1, &items[(size_t)i * stride]);
        H5Oclose(obj);
    }
    btfm_free(refs);
    return st;
}

typedef struct member_list { char **names; int n; } member_list;

static herr_t add_member(hid_t g, const char *name, const H5L_info_t *info, void *user)
{
    (void)g;
    (void)info;
    member_list *l = user;
    if (name[0] == '#') return 0; /* #refs#, #subsystem#: MATLAB's own */
    if (l->n >= 65535) return -1;
    char **grown = btfm_realloc(l->names, ((size_t)l->n + 1) * sizeof *grown);
    if (!grown) return -1;
    l->names = grown;
    size_t len = strlen(name);
    if (!(l->names[l->n] = btfm_malloc(len + 1))) return -1;
    memcpy(l->names[l->n++], name, len + 1);
    return 0;
}

/* Whether member `name` of g is a dataset of references without a MATLAB_class (the
 * field of a struct array), and that dataset's element count. */
static int reference_field(hid_t g, const char *name, btfm_mat *shape)
{
    hid_t d = H5Oopen(g, name, H5P_DEFAULT);
    if (d < 0) return 0;
    int yes = 0;
    if (H5Iget_type(d) == H5I_DATASET && H5Aexists(d, "MATLAB_class") == 0) {
        hid_t t = H5Dget_type(d);
        yes = t >= 0 && H5Tequal(t, H5T_STD_REF_OBJ) > 0;
        if (t >= 0) H5Tclose(t);
        btfm_h5_where quiet = {"", ""};
        walker k = {NULL, &quiet, 0};
        if (yes && dims_of(&k, d, "", shape)) yes = 0;
    }
    H5Oclose(d);
    return yes;
}

/* A struct group: its fields, one element (fields as members) or an array (fields as
 * reference datasets of one shape). */
static btfm_status read_struct(walker *k, hid_t g, const char *path, btfm_mat *m, int depth)
{
    member_list l = {NULL, 0};
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, add_member, &l) < 0) {
        for (int i = 0; i < l.n; i++) btfm_free(l.names[i]);
        btfm_free(l.names);
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "its members cannot be listed");
    }
    m->fields = l.names;
    m->n_fields = l.n;
    btfm_mat shape = {0}, first = {0};
    int array = l.n > 0;
    for (int i = 0; array && i < l.n; i++) {
        if (!reference_field(g, l.names[i], i ? &shape : &first)) array = 0;
        else if (i && (shape.n_dims != first.n_dims ||
                       memcmp(shape.dims, first.dims, sizeof shape.dims)))
            return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "the fields %s and %s of a struct "
                                "array have different shapes", l.names[0], l.names[i]);
    }
    if (array) {
        m->n_dims = first.n_dims;
        memcpy(m->dims, first.dims, sizeof m->dims);
        m->n = first.n;
    }
    if ((uint64_t)m->n * (uint64_t)(l.n ? l.n : 1) > MAX_ARRAYS)
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a struct of more than %d values",
                            MAX_ARRAYS);
    size_t count = (size_t)m->n * (size_t)l.n;
    if (count && !(m->items = btfm_calloc(count, sizeof *m->items)))
        return btfm_fail_nomem("mat v7.3 struct", count * sizeof *m->items);
    btfm_status st = BTFM_OK;
    for (int f = 0; !st && f < l.n; f++) {
        hid_t member = H5Oopen(g, l.names[f], H5P_DEFAULT);
        char sub[512];
        snprintf(sub, sizeof sub, "%.300s/%.200s", strcmp(path, "/") ? path : "", l.names[f]);
        if (member < 0)
            return btfm_h5_fail(k->w, BTFM_E_FORMAT, sub, "the field cannot be opened");
        if (array) st = read_refs(k, member, sub, m->n, m->items + f, (size_t)l.n, depth);
        else st = node(k, member, l.names[f], depth + 1, &m->items[f]);
        H5Oclose(member);
    }
    return st;
}

/* The array stored at obj (a dataset or a group); `name` is its field or variable name
 * ("" for cell elements and struct-array values). */
static btfm_status node(walker *k, hid_t obj, const char *name, int depth, btfm_mat **out)
{
    char path[512], cls_name[32];
    btfm_h5_path(obj, NULL, path, sizeof path);
    if (depth > MAX_DEPTH)
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "cells and structs nested more than "
                            "%d deep (or references that loop)", MAX_DEPTH);
    if (++k->arrays > MAX_ARRAYS)
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "more than %d arrays", MAX_ARRAYS);
    btfm_mat *m = btfm_calloc(1, sizeof *m);
    if (!(*out = m)) return btfm_fail_nomem("mat array", sizeof *m);
    size_t len = strlen(name);
    if (!(m->name = btfm_malloc(len + 1))) return btfm_fail_nomem("mat name", len + 1);
    memcpy(m->name, name, len + 1);
    m->n_dims = 2;
    m->dims[0] = m->dims[1] = 1;
    m->n = 1;
    attr_text(obj, "MATLAB_class", cls_name, sizeof cls_name);
    H5I_type_t kind = H5Iget_type(obj);
    if (kind == H5I_GROUP) {
        if (*cls_name && strcmp(cls_name, "struct")) { /* sparse, objects */
            m->cls = class_of(cls_name) ? class_of(cls_name) : BTFM_MAT_OBJECT;
            m->n = 0;
            return BTFM_OK;
        }
        m->cls = BTFM_MAT_STRUCT;
        return read_struct(k, obj, path, m, depth);
    }
    if (kind != H5I_DATASET)
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "neither a dataset nor a group");
    m->cls = class_of(cls_name);
    if (!m->cls && *cls_name) m->cls = BTFM_MAT_OBJECT;
    btfm_status st = dims_of(k, obj, path, m);
    if (st) return st;
    if (attr_set(obj, "MATLAB_empty") || !m->cls || m->cls == BTFM_MAT_OBJECT) {
        /* an empty array of its class (its data are its dimensions), or no class at all */
        if (!m->cls)
            return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a dataset without the "
                                "MATLAB_class attribute of MATLAB's v7.3 layout");
        m->n = 0;
        m->dims[0] = 0;
        return BTFM_OK;
    }
    switch (m->cls) {
    case BTFM_MAT_CHAR: return read_chars(k, obj, path, m);
    case BTFM_MAT_CELL:
        if (m->n > MAX_ARRAYS)
            return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a cell of more than %d elements",
                                MAX_ARRAYS);
        if (m->n && !(m->items = btfm_calloc((size_t)m->n, sizeof *m->items)))
            return btfm_fail_nomem("mat v7.3 cell", (size_t)m->n * sizeof *m->items);
        return read_refs(k, obj, path, m->n, m->items, 1, depth);
    case BTFM_MAT_STRUCT:
        return btfm_h5_fail(k->w, BTFM_E_FORMAT, path, "a struct stored as a dataset without "
                            "MATLAB_empty; MATLAB stores structs as groups");
    default: return read_numbers(k, obj, path, m, m->cls == 7);
    }
}

typedef struct var_walk { walker *k; btfm_status st; } var_walk;

static herr_t add_var(hid_t root, const char *name, const H5L_info_t *info, void *user)
{
    (void)info;
    var_walk *v = user;
    if (name[0] == '#') return 0;
    btfm_mat_file *f = v->k->file;
    btfm_mat **vars = btfm_realloc(f->vars, ((size_t)f->n_vars + 1) * sizeof *vars);
    if (!vars) {
        v->st = btfm_fail_nomem("mat variables", ((size_t)f->n_vars + 1) * sizeof *vars);
        return -1;
    }
    f->vars = vars;
    f->vars[f->n_vars] = NULL;
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj < 0) {
        char path[512];
        snprintf(path, sizeof path, "/%s", name);
        v->st = btfm_h5_fail(v->k->w, BTFM_E_FORMAT, path, "the variable cannot be opened");
        return -1;
    }
    v->st = node(v->k, obj, name, 0, &f->vars[f->n_vars]);
    f->n_vars++; /* kept, whole or partial, so that clearing the file frees it */
    H5Oclose(obj);
    return v->st ? -1 : 0;
}

btfm_status btfm_mat73_read(btfm_mat_file *out, hid_t file, const char *where)
{
    memset(out, 0, sizeof *out);
    btfm_h5_where w = {"eeglab", where};
    walker k = {out, &w, 0};
    var_walk v = {&k, BTFM_OK};
    hsize_t idx = 0;
    if (H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, &idx, add_var, &v) < 0 && !v.st)
        v.st = btfm_h5_fail(&w, BTFM_E_FORMAT, "/", "the variables cannot be listed");
    if (v.st) btfm_mat_file_clear(out);
    return v.st;
}
