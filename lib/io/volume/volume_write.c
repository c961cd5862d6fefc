/* Writing a volume dataset as NIfTI-1: the n_times x n_channels data put back into the
 * grid (0 outside the mask; every voxel of a label gets its channel), float32, with the
 * source's geometry; .nii or gzip-compressed .nii.gz, atomically. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>
#include "core/atomic_file.h"
#include "volume_internal.h"

#define ROWS 16 /* dataset rows read at a time */

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(unsigned char *p, int v)
{
    int16_t x = (int16_t)v;
    memcpy(p, &x, 2);
}
static void putf(unsigned char *p, double v)
{
    float f = (float)v;
    memcpy(p, &f, 4);
}

static void build_header(const btfm_dataset *ds, unsigned char h[352])
{
    const btfm_volume *vol = ds->volume;
    memset(h, 0, 352);
    put32(h, 348);
    h[38] = 'r'; /* regular */
    int64_t dims[5] = {ds->n_times > 1 ? 4 : 3, vol->nx, vol->ny, vol->nz, ds->n_times};
    for (int i = 0; i < 5; i++) put16(h + 40 + 2 * i, (int)dims[i]);
    for (int i = 5; i < 8; i++) put16(h + 40 + 2 * i, 1);
    put16(h + 70, 16); /* float32 */
    put16(h + 72, 32);
    putf(h + 76, vol->qfac < 0 ? -1.0 : 1.0);
    for (int i = 1; i < 4; i++) putf(h + 76 + 4 * i, vol->pixdim[i]);
    /* TR in the file's time unit (seconds when it had none). */
    int time_units = vol->time_units ? vol->time_units : 8;
    double unit = time_units == 16 ? 1e-3 : time_units == 24 ? 1e-6 : 1.0;
    putf(h + 76 + 16, ds->n_times > 1 ? 1.0 / ds->sfreq / unit : vol->pixdim[4]);
    for (int i = 5; i < 8; i++) putf(h + 76 + 4 * i, 1.0);
    putf(h + 108, 352.0); /* vox_offset */
    putf(h + 112, 1.0);   /* scl_slope */
    putf(h + 116, 0.0);   /* scl_inter */
    h[123] = (unsigned char)((vol->xyz_units & 7) | (time_units & 0x38));
    put16(h + 252, vol->qform_code);
    put16(h + 254, vol->sform_code);
    for (int i = 0; i < 3; i++) {
        putf(h + 256 + 4 * i, vol->quatern[i]);
        putf(h + 268 + 4 * i, vol->qoffset[i]);
    }
    for (int i = 0; i < 12; i++) putf(h + 280 + 4 * i, vol->srow[i]);
    memcpy(h + 344, "n+1", 4);
}

btfm_status btfm_nifti_save(btfm_dataset *ds, const char *path)
{
    static const char func[] = "btfm_dataset_save";
    const btfm_volume *vol = ds->volume;
    if (!vol)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: %s: %s is not a volume (format %s); only volume "
                         "datasets are written as NIfTI", func, path, ds->path,
                         btfm_format_name(ds->format));
    if (ds->n_channels != vol->n_mask)
        return btfm_fail(BTFM_E_INTERNAL, "%s: %s: %d channels for a mask of %lld", func, path,
                         ds->n_channels, (long long)vol->n_mask);
    if (vol->nx > 32767 || vol->ny > 32767 || vol->nz > 32767 || ds->n_times > 32767)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: %s: dimensions beyond 32767 need NIfTI-2, which "
                         "is not written", func, path);
    size_t n = strlen(path);
    int gz = n >= 3 && strcasecmp(path + n - 3, ".gz") == 0;
    size_t vbytes = (size_t)vol->n_voxels * sizeof(float);
    float *volume = btfm_calloc((size_t)vol->n_voxels, sizeof(float));
    float *rows = btfm_malloc((size_t)ROWS * (size_t)ds->n_channels * sizeof(float));
    if (!volume || !rows) {
        btfm_free(volume);
        btfm_free(rows);
        return btfm_fail_nomem(func, vbytes);
    }
    btfm_atomic_file af;
    btfm_status st = btfm_atomic_open(&af, path, 1);
    gzFile z = NULL;
    if (!st && gz) {
        int fd = dup(fileno(af.fp));
        z = fd >= 0 ? gzdopen(fd, "wb1") : NULL;
        if (!z) {
            if (fd >= 0) close(fd);
            st = btfm_fail(BTFM_E_IO, "%s: %s: cannot start gzip output", func, path);
        }
    }
    unsigned char header[352];
    build_header(ds, header);
#define EMIT(buf, len)                                                                   \
    (gz ? (gzwrite(z, (buf), (unsigned)(len)) == (int)(len))                             \
        : (fwrite((buf), 1, (len), af.fp) == (len)))
    if (!st && !EMIT(header, sizeof header))
        st = btfm_fail(BTFM_E_IO, "%s: %s: writing the header: %s", func, path, strerror(errno));
    int labels = vol->kind == BTFM_MASK_LABELS;
    for (int64_t t0 = 0; !st && t0 < ds->n_times; t0 += ROWS) {
        int64_t k = ds->n_times - t0 < ROWS ? ds->n_times - t0 : ROWS;
        if ((st = btfm_dataset_read(ds, t0, k, NULL, 0, rows))) break;
        for (int64_t r = 0; r < k && !st; r++) {
            const float *row = rows + (size_t)r * (size_t)ds->n_channels;
            if (labels) {
                for (int64_t v = 0; v < vol->n_voxels; v++)
                    volume[v] = vol->label_of[v] >= 0 ? row[vol->label_of[v]] : 0.0f;
            } else
                for (int c = 0; c < ds->n_channels; c++) volume[vol->voxel[c]] = row[c];
            for (size_t off = 0; off < vbytes && !st; off += 1u << 30) {
                size_t len = vbytes - off < (1u << 30) ? vbytes - off : 1u << 30;
                if (!EMIT((const unsigned char *)volume + off, len))
                    st = btfm_fail(BTFM_E_IO, "%s: %s: writing volume %lld: %s", func, path,
                                   (long long)(t0 + r), strerror(errno));
            }
        }
    }
#undef EMIT
    if (z && gzclose(z) != Z_OK && !st)
        st = btfm_fail(BTFM_E_IO, "%s: %s: finishing the gzip stream failed", func, path);
    btfm_free(volume);
    btfm_free(rows);
    if (st) {
        btfm_atomic_abort(&af);
        return st;
    }
    return btfm_atomic_commit(&af);
}
