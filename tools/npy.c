/* Strict .npy reading and writing (format versions 1.0-3.0, 2-D, '<f4' or '<f8', C order):
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

int npy_read_f32(const char *path, float **data, int64_t *rows, int64_t *cols, char *err,
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
               *shape = field(header, "shape");
    if (!descr || !order || !shape) FAIL("%s: .npy header lacks descr, fortran_order or shape: %s", path, header);
    size_t item;
    if (strncmp(descr, "'<f4'", 5) == 0) item = 4;
    else if (strncmp(descr, "'<f8'", 5) == 0) item = 8;
    else FAIL("%s: dtype %.8s; expected little-endian float32 ('<f4') or float64 ('<f8')", path, descr);
    if (strncmp(order, "False", 5) != 0) FAIL("%s: Fortran-ordered array; save it in C order", path);
    long long r, c;
    char close;
    if (sscanf(shape, "(%lld, %lld%c", &r, &c, &close) != 3 || close != ')' || r < 1 || c < 1)
        FAIL("%s: shape %.40s; expected a 2-D (time points, features) array", path, shape);
    if ((unsigned long long)r > (1ULL << 40) / (unsigned long long)c)
        FAIL("%s: shape (%lld, %lld) is too large", path, r, c);
    size_t count = (size_t)r * (size_t)c;
    raw = malloc(count * item);
    *data = malloc(count * sizeof(float));
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
    *rows = r;
    *cols = c;
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

int npy_write_f32_nd(const char *path, const float *data, const int64_t *shape, int ndim,
                     char *err, size_t err_size)
{
    char dims[256] = "";
    size_t count = 1, used = 0;
    for (int i = 0; i < ndim && i < 8; i++) {
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%lld,%s", (long long)shape[i],
                                 i + 1 < ndim ? " " : "");
        count *= (size_t)shape[i];
    }
    if (ndim > 1) dims[used - 1] = 0; /* (a, b) but (a,) */
    char dict[320];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }",
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
