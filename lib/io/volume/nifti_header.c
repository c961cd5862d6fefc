/* NIfTI-1/NIfTI-2 header checks made before nifticlib reads a file: nifticlib accepts some
 * headers that would make a reader overflow or read garbage, and says little about why it
 * refuses others. Every error names the file, the field and its byte offset. */
#include <math.h>
#include <string.h>
#include "volume_internal.h"

static uint32_t get32(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static uint64_t get64(const unsigned char *p, int swap)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return swap ? __builtin_bswap64(v) : v;
}

static int16_t get_i16(const unsigned char *p, int swap)
{
    uint16_t v;
    memcpy(&v, p, 2);
    if (swap) v = (uint16_t)(v >> 8 | v << 8);
    return (int16_t)v;
}

static double get_f32(const unsigned char *p, int swap)
{
    uint32_t u = get32(p, swap);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double get_f64(const unsigned char *p, int swap)
{
    uint64_t u = get64(p, swap);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Bytes per voxel of the datatypes read here; 0 for the others. */
int btfm_nifti_datatype_size(int datatype)
{
    switch (datatype) {
    case 2: case 256: return 1;        /* uint8, int8 */
    case 4: case 512: return 2;        /* int16, uint16 */
    case 8: case 768: case 16: return 4; /* int32, uint32, float32 */
    case 64: case 1024: case 1280: return 8; /* float64, int64, uint64 */
    default: return 0;
    }
}

static const char *unsupported_type(int datatype)
{
    switch (datatype) {
    case 32: case 1792: case 2048: return "complex";
    case 128: case 2304: return "RGB";
    case 1536: return "float128";
    default: return NULL;
    }
}

btfm_status btfm_nifti_check_header(const unsigned char *buf, size_t n, int64_t file_size,
                                    const char *path, btfm_nifti_header *h)
{
    memset(h, 0, sizeof *h);
    if (n < 4)
        return btfm_fail(BTFM_E_TRUNCATED, "nifti: %s: %zu bytes, too short for a NIfTI header "
                         "(348 or 540 bytes)", path, n);
    uint32_t size = get32(buf, 0);
    if (size == 348 || size == 540) h->swapped = 0;
    else if (__builtin_bswap32(size) == 348 || __builtin_bswap32(size) == 540) {
        h->swapped = 1;
        size = __builtin_bswap32(size);
    } else
        return btfm_fail(BTFM_E_FORMAT, "nifti: %s: byte 0: sizeof_hdr is %u, expected 348 "
                         "(NIfTI-1) or 540 (NIfTI-2) in either byte order", path, get32(buf, 0));
    int swap = h->swapped;
    if (n < size)
        return btfm_fail(BTFM_E_TRUNCATED, "nifti: %s: the header needs %u bytes, the file has %zu",
                         path, size, n);
    h->version = size == 348 ? 1 : 2;
    const unsigned char *magic = buf + (h->version == 1 ? 344 : 4);
    if (h->version == 1) {
        if (memcmp(magic, "n+1", 4) == 0) h->single_file = 1;
        else if (memcmp(magic, "ni1", 4) == 0) h->single_file = 0;
        else
            return btfm_fail(BTFM_E_FORMAT, "nifti: %s: byte 344: magic is not \"n+1\" or \"ni1\" "
                             "(an ANALYZE 7.5 header is not read)", path);
    } else {
        static const unsigned char tail[5] = {'\r', '\n', 0x1A, '\n'};
        if ((memcmp(magic, "n+2", 4) != 0 && memcmp(magic, "ni2", 4) != 0) ||
            memcmp(magic + 4, tail, 4) != 0)
            return btfm_fail(BTFM_E_FORMAT, "nifti: %s: byte 4: magic is not \"n+2\" or \"ni2\" "
                             "followed by \\r\\n\\032\\n", path);
        h->single_file = magic[1] == '+';
    }
    size_t dim_at = h->version == 1 ? 40 : 16;
    for (int i = 0; i < 8; i++)
        h->dim[i] = h->version == 1 ? get_i16(buf + dim_at + 2 * i, swap)
                                    : (int64_t)get64(buf + dim_at + 8 * i, swap);
    if (h->dim[0] < 1 || h->dim[0] > 7)
        return btfm_fail(BTFM_E_FORMAT, "nifti: %s: byte %zu: dim[0] is %lld, expected 1 to 7",
                         path, dim_at, (long long)h->dim[0]);
    uint64_t nvox = 1;
    for (int i = 1; i <= h->dim[0]; i++) {
        if (h->dim[i] < 1)
            return btfm_fail(BTFM_E_FORMAT, "nifti: %s: byte %zu: dim[%d] is %lld, expected at "
                             "least 1", path, dim_at + (size_t)i * (h->version == 1 ? 2 : 8), i,
                             (long long)h->dim[i]);
        if ((uint64_t)h->dim[i] > (UINT64_C(1) << 62) / nvox)
            return btfm_fail(BTFM_E_FORMAT, "nifti: %s: the dimensions multiply beyond 2^62 voxels",
                             path);
        nvox *= (uint64_t)h->dim[i];
    }
    for (int i = h->dim[0] + 1; i < 8; i++) h->dim[i] = 1;
    size_t type_at = h->version == 1 ? 70 : 12;
    h->datatype = get_i16(buf + type_at, swap);
    h->bitpix = get_i16(buf + type_at + 2, swap);
    int bytes = btfm_nifti_datatype_size(h->datatype);
    if (!bytes) {
        const char *kind = unsupported_type(h->datatype);
        return btfm_fail(kind ? BTFM_E_UNSUPPORTED : BTFM_E_FORMAT,
                         "nifti: %s: byte %zu: datatype %d%s%s%s, expected an integer or real "
                         "type (2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280)", path, type_at,
                         h->datatype, kind ? " (" : "", kind ? kind : "", kind ? ")" : "");
    }
    if (h->bitpix != 8 * bytes)
        btfm_warn("nifti: %s: bitpix is %d but datatype %d has %d bits; using the datatype", path,
                  h->bitpix, h->datatype, 8 * bytes);
    size_t off_at = h->version == 1 ? 108 : 168;
    h->vox_offset = h->version == 1 ? get_f32(buf + off_at, swap) : (double)(int64_t)get64(buf + off_at, swap);
    h->scl_slope = h->version == 1 ? get_f32(buf + 112, swap) : get_f64(buf + 176, swap);
    h->scl_inter = h->version == 1 ? get_f32(buf + 116, swap) : get_f64(buf + 184, swap);
    if (!isfinite(h->vox_offset) || h->vox_offset < 0 || h->vox_offset != floor(h->vox_offset) ||
        h->vox_offset > 9.0e15)
        return btfm_fail(BTFM_E_FORMAT, "nifti: %s: byte %zu: vox_offset is %g, expected a whole "
                         "number of bytes", path, off_at, h->vox_offset);
    if (h->single_file && h->vox_offset < size)
        return btfm_fail(BTFM_E_FORMAT, "nifti: %s: byte %zu: vox_offset is %g, inside the %u-byte "
                         "header", path, off_at, h->vox_offset, size);
    if (nvox > (UINT64_C(1) << 62) / (uint64_t)bytes)
        return btfm_fail(BTFM_E_FORMAT, "nifti: %s: %llu voxels of %d bytes overflow", path,
                         (unsigned long long)nvox, bytes);
    if (h->single_file && file_size >= 0) {
        double need = h->vox_offset + (double)nvox * bytes;
        if (need > (double)file_size)
            return btfm_fail(BTFM_E_TRUNCATED, "nifti: %s: the header describes %llu voxels of %d "
                             "bytes from byte %.0f (%.0f bytes), the file has %lld bytes", path,
                             (unsigned long long)nvox, bytes, h->vox_offset, need,
                             (long long)file_size);
    }
    return BTFM_OK;
}
