/* Strict .npy reading and writing (format versions 1.0-3.0, '<f4' or '<f8', C order):
 * anything else is refused with a message naming the file and what was found. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "npy.h"

#define FAIL(...) do { snprintf(err, err_size, __VA_ARGS__); goto fail; } while (0)

/* The value text after "'key':" in the header dict, or NULL. */
static const char *field(const char *header, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s':", key);
    const char *p = strstr(header, quoted);
    if (!p) return NULL;
    p += strlen(quoted);
    while (*p == ' ') p++;
    return p;
}

/* The shape tuple "(a, b, ...)" at `text`: up to NPY_MAX_NDIM sizes >= 0 (a scalar "()"
 * has none). Returns the number of dimensions, -1 if it is not such a tuple; `shown`
 * receives the tuple as written (for messages), without what follows it. */
static int parse_shape(const char *text, int64_t *shape, char *shown, size_t shown_size)
{
    const char *close = strchr(text, ')');
    size_t len = close ? (size_t)(close - text) + 1 : strcspn(text, "}");
    snprintf(shown, shown_size, "%.*s", (int)(len < 64 ? len : 64), text);
    if (*text != '(' || !close) return -1;
    int ndim = 0;
    const char *p = text + 1;
    while (p < close) {
        while (*p == ' ') p++;
        if (p == close) break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || ndim == NPY_MAX_NDIM) return -1;
        shape[ndim++] = v;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') p++;
        else if (p != close) return -1;
    }
    return ndim;
}

int npy_read_f32_nd(const char *path, float **data, int64_t *shape, int *ndim, char *err,
                    size_t err_size)
{
    FILE *f = fopen(path, "rb");
    char *header = NULL;
    void *raw = NULL;
    *data = NULL;
    if (!f) FAIL("%s: %s", path, strerror(errno));
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        FAIL("%s: not a .npy file (the magic \\x93NUMPY is missing)", path);
    unsigned major = pre[6];
    size_t header_len;
    if (major == 1) {
        header_len = pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) FAIL("%s: truncated .npy header", path);
        header_len = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        FAIL("%s: .npy format version %u.%u; expected 1.0 to 3.0", path, major, pre[7]);
    }
    if (header_len > 1 << 20) FAIL("%s: .npy header of %zu bytes is implausible", path, header_len);
    header = calloc(header_len + 1, 1);
    if (!header || fread(header, 1, header_len, f) != header_len)
        FAIL("%s: truncated .npy header", path);
    const char *descr = field(header, "descr"), *order = field(header, "fortran_order"),
               *shape_text = field(header, "shape");
    if (!descr || !order || !shape_text)
        FAIL("%s: .npy header lacks descr, fortran_order or shape: %.80s", path, header);
    size_t item;
    if (strncmp(descr, "'<f4'", 5) == 0) item = 4;
    else if (strncmp(descr, "'<f8'", 5) == 0) item = 8;
    else FAIL("%s: dtype %.8s; expected little-endian float32 ('<f4') or float64 ('<f8')", path, descr);
    if (strncmp(order, "False", 5) != 0) FAIL("%s: Fortran-ordered array; save it in C order", path);
    char shown[72];
    *ndim = parse_shape(shape_text, shape, shown, sizeof shown);
    if (*ndim < 0) FAIL("%s: shape %s is not a tuple of at most %d sizes", path, shown, NPY_MAX_NDIM);
    size_t count = 1;
    for (int d = 0; d < *ndim; d++) {
        if (shape[d] > 0 && count > ((size_t)1 << 40) / (size_t)shape[d])
            FAIL("%s: shape %s is too large", path, shown);
        count *= (size_t)shape[d];
    }
    raw = malloc(count * item + 1);
    *data = malloc(count * sizeof(float) + 1);
    if (!raw || !*data) FAIL("%s: out of memory for %zu values", path, count);
    if (fread(raw, item, count, f) != count) FAIL("%s: truncated: fewer than %zu values", path, count);
    if (fgetc(f) != EOF) FAIL("%s: data continues after the %zu values the shape declares", path, count);
    for (size_t i = 0; i < count; i++) { /* little-endian hosts only: checked at build */
        if (item == 4) memcpy(&(*data)[i], (char *)raw + 4 * i, 4);
        else {
            double d;
            memcpy(&d, (char *)raw + 8 * i, 8);
            (*data)[i] = (float)d;
        }
    }
    free(raw);
    free(header);
    fclose(f);
    return 0;
fail:
    free(raw);
    free(header);
    free(*data);
    *data = NULL;
    if (f) fclose(f);
    return -1;
}

void npy_shape_text(const int64_t *shape, int ndim, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "(");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(out + used, size - used, "%s%lld", d ? ", " : "",
                                 (long long)shape[d]);
    if (used < size) snprintf(out + used, size - used, ndim == 1 ? ",)" : ")");
}

int npy_read_f32(const char *path, float **data, int64_t *rows, int64_t *cols, char *err,
                 size_t err_size)
{
    int64_t shape[NPY_MAX_NDIM];
    int ndim;
    if (npy_read_f32_nd(path, data, shape, &ndim, err, err_size)) return -1;
    if (ndim != 2 || shape[0] < 1 || shape[1] < 1) {
        char shown[160];
        npy_shape_text(shape, ndim, shown, sizeof shown);
        snprintf(err, err_size, "%s: shape %s; expected a 2-D (time points, features) array "
                 "with at least one of each", path, shown);
        free(*data);
        *data = NULL;
        return -1;
    }
    *rows = shape[0];
    *cols = shape[1];
    return 0;
}

int npy_write_f32_nd(const char *path, const float *data, const int64_t *shape, int ndim,
                     char *err, size_t err_size)
{
    char dims[256];
    size_t count = 1;
    for (int i = 0; i < ndim && i < NPY_MAX_NDIM; i++) count *= (size_t)shape[i];
    npy_shape_text(shape, ndim, dims, sizeof dims);
    char dict[320];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                     dims);
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t header_len = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(header_len & 0xff),
                             (unsigned char)(header_len >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(data, sizeof(float), count, f) == count;
    if (fclose(f) != 0) ok = 0;
    if (!ok) snprintf(err, err_size, "%s: write failed: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

int npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols, char *err,
                  size_t err_size)
{
    int64_t shape[2] = {rows, cols};
    return npy_write_f32_nd(path, data, shape, 2, err, err_size);
}
