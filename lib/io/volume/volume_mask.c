/* Masks of volume datasets: from an image, from memory, computed from the data (threshold,
 * nilearn's background and EPI strategies), and atlas labels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "volume_internal.h"


static btfm_status need_nifti(btfm_dataset *ds, const char *func)
{
    BTFM_CHECK_ARG(ds, func, "dataset");
    if (ds->format != BTFM_FORMAT_NIFTI || !ds->volume)
        return btfm_fail(BTFM_E_UNSUPPORTED, "%s: %s is not a NIfTI dataset (format %s); masks are "
                         "chosen on the dataset read from the file", func, ds->path,
                         btfm_format_name(ds->format));
    return BTFM_OK;
}

/* Make the voxels with keep[v] != 0 the channels. */
static btfm_status use_voxels(btfm_dataset *ds, const uint8_t *keep, int kind, const char *func)
{
    btfm_volume *vol = ds->volume;
    int64_t n = 0;
    for (int64_t v = 0; v < vol->n_voxels; v++) n += keep[v] != 0;
    if (n == 0)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: the mask selects no voxel", func, ds->path);
    int64_t *voxel = btfm_malloc((size_t)n * sizeof *voxel);
    if (!voxel) return btfm_fail_nomem(func, (size_t)n * sizeof *voxel);
    for (int64_t v = 0, k = 0; v < vol->n_voxels; v++)
        if (keep[v]) voxel[k++] = v;
    btfm_status ost = vol->order == BTFM_VOXEL_ORDER_F ? BTFM_OK
                                                       : btfm_volume_order_voxels(vol, voxel, n);
    if (ost) {
        btfm_free(voxel);
        return ost;
    }
    int64_t *old_voxel = vol->voxel;
    int old_kind = vol->kind;
    int64_t old_n = vol->n_mask;
    vol->voxel = voxel;
    vol->kind = kind;
    vol->n_mask = n;
    btfm_status st = btfm_volume_make_channels(ds, (int)n);
    if (st) {
        vol->voxel = old_voxel;
        vol->kind = old_kind;
        vol->n_mask = old_n;
        btfm_free(voxel);
        return st;
    }
    btfm_free(old_voxel);
    btfm_free(vol->label_of);
    btfm_free(vol->label_count);
    vol->label_of = NULL;
    vol->label_count = NULL;
    return BTFM_OK;
}

btfm_status btfm_dataset_set_voxel_order(btfm_dataset *ds, int order)
{
    static const char func[] = "btfm_dataset_set_voxel_order";
    btfm_status st = need_nifti(ds, func);
    if (st) return st;
    if (order != BTFM_VOXEL_ORDER_F && order != BTFM_VOXEL_ORDER_C)
        return btfm_fail(BTFM_E_INVALID, "%s: order %d is unknown; expected BTFM_VOXEL_ORDER_F "
                         "(0, x fastest) or BTFM_VOXEL_ORDER_C (1, z fastest, nibabel's "
                         "get_fdata()[mask])", func, order);
    btfm_volume *vol = ds->volume;
    int old_order = vol->order;
    vol->order = order;
    if (order == old_order || vol->kind == BTFM_MASK_LABELS) return BTFM_OK;
    /* Reorder a copy, so that a failure leaves the channels as they were. */
    int64_t n = vol->n_mask, *voxel = btfm_malloc((size_t)n * sizeof *voxel);
    if (!voxel) st = btfm_fail_nomem(func, (size_t)n * sizeof *voxel);
    if (!st) {
        memcpy(voxel, vol->voxel, (size_t)n * sizeof *voxel);
        st = btfm_volume_order_voxels(vol, voxel, n);
    }
    int64_t *old_voxel = vol->voxel;
    if (!st) {
        vol->voxel = voxel;
        st = btfm_volume_make_channels(ds, (int)n);
        if (st) vol->voxel = old_voxel;
    }
    if (st) {
        btfm_free(voxel);
        vol->order = old_order;
        return st;
    }
    btfm_free(old_voxel);
    return BTFM_OK;
}

/* Open the image at `path` and check that its grid and affine are the dataset's; its first
 * volume into *values (n_voxels doubles, caller frees). */
static btfm_status read_companion(btfm_dataset *ds, const char *path, const char *what,
                                  const char *func, double **values)
{
    *values = NULL;
    btfm_dataset *img;
    btfm_status st = btfm_nifti_open(&img, path, BTFM_NIFTI_VALUES_ONLY);
    if (st) return st;
    const btfm_volume *a = ds->volume, *b = img->volume;
    if (a->nx != b->nx || a->ny != b->ny || a->nz != b->nz || img->n_times != 1) {
        st = btfm_fail(BTFM_E_INVALID, "%s: the %s %s has shape %lld x %lld x %lld x %lld, expected "
                       "%lld x %lld x %lld (x 1) like %s", func, what, path, (long long)b->nx,
                       (long long)b->ny, (long long)b->nz, (long long)img->n_times,
                       (long long)a->nx, (long long)a->ny, (long long)a->nz, ds->path);
        btfm_dataset_free(img);
        return st;
    }
    double worst = 0;
    for (int i = 0; i < 16; i++) worst = fmax(worst, fabs(a->affine[i] - b->affine[i]));
    if (!(worst <= 1e-4)) {
        char am[400], bm[400];
        int p = 0, q = 0;
        for (int r = 0; r < 3; r++) {
            p += snprintf(am + p, sizeof am - (size_t)p, "[%g %g %g %g]", a->affine[4 * r],
                          a->affine[4 * r + 1], a->affine[4 * r + 2], a->affine[4 * r + 3]);
            q += snprintf(bm + q, sizeof bm - (size_t)q, "[%g %g %g %g]", b->affine[4 * r],
                          b->affine[4 * r + 1], b->affine[4 * r + 2], b->affine[4 * r + 3]);
        }
        st = btfm_fail(BTFM_E_INVALID, "%s: the %s %s has affine %s, %s has %s (they differ by "
                       "%g mm; expected equal within 1e-4)", func, what, path, bm, ds->path, am, worst);
        btfm_dataset_free(img);
        return st;
    }
    double *v = btfm_malloc((size_t)b->n_voxels * sizeof *v);
    if (!v) st = btfm_fail_nomem(func, (size_t)b->n_voxels * sizeof *v);
    else st = btfm_nifti_read_volume(img, 0, v);
    btfm_dataset_free(img);
    if (st) btfm_free(v);
    else *values = v;
    return st;
}

btfm_status btfm_dataset_mask_image(btfm_dataset *ds, const char *path)
{
    static const char func[] = "btfm_dataset_mask_image";
    btfm_status st = need_nifti(ds, func);
    if (st) return st;
    BTFM_CHECK_ARG(path, func, "path");
    double *values;
    if ((st = read_companion(ds, path, "mask", func, &values))) return st;
    int64_t n = ds->volume->n_voxels;
    uint8_t *keep = btfm_malloc((size_t)n);
    if (!keep) st = btfm_fail_nomem(func, (size_t)n);
    for (int64_t v = 0; keep && v < n; v++) keep[v] = values[v] != 0 && !isnan(values[v]);
    if (keep) st = use_voxels(ds, keep, BTFM_MASK_IMAGE, func);
    btfm_free(keep);
    btfm_free(values);
    return st;
}

btfm_status btfm_dataset_mask_voxels(btfm_dataset *ds, const uint8_t *mask, int64_t n_voxels)
{
    static const char func[] = "btfm_dataset_mask_voxels";
    btfm_status st = need_nifti(ds, func);
    if (st) return st;
    BTFM_CHECK_ARG(mask, func, "mask");
    if (n_voxels != ds->volume->n_voxels)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: the mask has %lld values, the grid %lld x %lld x "
                         "%lld = %lld voxels", func, ds->path, (long long)n_voxels,
                         (long long)ds->volume->nx, (long long)ds->volume->ny,
                         (long long)ds->volume->nz, (long long)ds->volume->n_voxels);
    return use_voxels(ds, mask, BTFM_MASK_VOXELS, func);
}

/* ---- masks computed from the data ---- */

static btfm_status mean_image(btfm_dataset *ds, double *mean, const char *func)
{
    int64_t n = ds->volume->n_voxels;
    double *buf = btfm_malloc((size_t)n * sizeof *buf);
    if (!buf) return btfm_fail_nomem(func, (size_t)n * sizeof *buf);
    memset(mean, 0, (size_t)n * sizeof *mean);
    btfm_status st = BTFM_OK;
    for (int64_t t = 0; t < ds->n_times && !st; t++) {
        st = btfm_nifti_read_volume(ds, t, buf);
        for (int64_t v = 0; !st && v < n; v++) mean[v] += buf[v];
    }
    for (int64_t v = 0; v < n; v++) mean[v] /= (double)ds->n_times;
    btfm_free(buf);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* scipy.ndimage's 'reflect' boundary: (d c b a | a b c d | d c b a). */
static int64_t reflect(int64_t i, int64_t n)
{
    int64_t period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

/* Gaussian smoothing along each axis (scipy.ndimage.gaussian_filter1d: truncate 4,
 * reflect), as nilearn smooths the mean image before the EPI threshold. */
static btfm_status smooth(const btfm_volume *vol, double *x, double sigma, const char *func)
{
    int radius = (int)(4.0 * sigma + 0.5);
    double w[64], sum = 0;
    if (radius > 31) radius = 31;
    for (int k = -radius; k <= radius; k++) sum += w[k + radius] = exp(-0.5 * k * k / (sigma * sigma));
    for (int k = 0; k <= 2 * radius; k++) w[k] /= sum;
    int64_t dims[3] = {vol->nx, vol->ny, vol->nz}, strides[3] = {1, vol->nx, vol->nx * vol->ny};
    int64_t longest = dims[0] > dims[1] ? dims[0] : dims[1];
    if (dims[2] > longest) longest = dims[2];
    double *line = btfm_malloc((size_t)longest * 2 * sizeof *line);
    if (!line) return btfm_fail_nomem(func, (size_t)longest * 16);
    double *outl = line + longest;
    for (int axis = 0; axis < 3; axis++) {
        int64_t n = dims[axis], s = strides[axis];
        for (int64_t v = 0; v < vol->n_voxels; v++) {
            if ((v / s) % n != 0) continue; /* start of a line along `axis` */
            for (int64_t i = 0; i < n; i++) line[i] = x[v + i * s];
            for (int64_t i = 0; i < n; i++) {
                double acc = 0;
                for (int k = -radius; k <= radius; k++) acc += w[k + radius] * line[reflect(i + k, n)];
                outl[i] = acc;
            }
            for (int64_t i = 0; i < n; i++) x[v + i * s] = outl[i];
        }
    }
    btfm_free(line);
    return BTFM_OK;
}

/* Binary erosion or dilation with the 6-neighbour cross, outside the grid counted as 0
 * (scipy.ndimage defaults), `iterations` times. */
static void morphology(const btfm_volume *vol, uint8_t *m, uint8_t *tmp, int iterations, int dilate)
{
    int64_t nx = vol->nx, ny = vol->ny, nz = vol->nz;
    for (int it = 0; it < iterations; it++) {
        for (int64_t z = 0; z < nz; z++)
            for (int64_t y = 0; y < ny; y++)
                for (int64_t x = 0; x < nx; x++) {
                    int64_t v = x + nx * (y + ny * z);
                    uint8_t n[6] = {x > 0 ? m[v - 1] : 0, x < nx - 1 ? m[v + 1] : 0,
                                    y > 0 ? m[v - nx] : 0, y < ny - 1 ? m[v + nx] : 0,
                                    z > 0 ? m[v - nx * ny] : 0, z < nz - 1 ? m[v + nx * ny] : 0};
                    uint8_t r = m[v];
                    for (int k = 0; k < 6; k++) r = dilate ? (r | n[k]) : (r & n[k]);
                    tmp[v] = r;
                }
        memcpy(m, tmp, (size_t)vol->n_voxels);
    }
}

/* Keep the largest 6-connected component; ties go to the component met first in the
 * C-order scan of an (x, y, z) array (x slowest), as scipy.ndimage.label numbers them. */
static btfm_status largest_component(const btfm_volume *vol, uint8_t *m, const char *func)
{
    int64_t n = vol->n_voxels, nx = vol->nx, ny = vol->ny, nz = vol->nz;
    int32_t *comp = btfm_malloc((size_t)n * sizeof *comp);
    int64_t *stack = btfm_malloc((size_t)n * sizeof *stack);
    if (!comp || !stack) {
        btfm_free(comp);
        btfm_free(stack);
        return btfm_fail_nomem(func, (size_t)n * 12);
    }
    for (int64_t v = 0; v < n; v++) comp[v] = -1;
    int32_t best = -1, id = 0;
    int64_t best_size = 0;
    for (int64_t x = 0; x < nx; x++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t z = 0; z < nz; z++) {
                int64_t seed = x + nx * (y + ny * z);
                if (!m[seed] || comp[seed] >= 0) continue;
                int64_t size = 0, top = 0;
                stack[top++] = seed;
                comp[seed] = id;
                while (top) {
                    int64_t v = stack[--top];
                    size++;
                    int64_t vx = v % nx, vy = (v / nx) % ny, vz = v / (nx * ny);
                    int64_t nb[6] = {vx > 0 ? v - 1 : -1, vx < nx - 1 ? v + 1 : -1,
                                     vy > 0 ? v - nx : -1, vy < ny - 1 ? v + nx : -1,
                                     vz > 0 ? v - nx * ny : -1, vz < nz - 1 ? v + nx * ny : -1};
                    for (int k = 0; k < 6; k++)
                        if (nb[k] >= 0 && m[nb[k]] && comp[nb[k]] < 0) {
                            comp[nb[k]] = id;
                            stack[top++] = nb[k];
                        }
                }
                if (size > best_size) {
                    best_size = size;
                    best = id;
                }
                id++;
            }
    for (int64_t v = 0; v < n; v++) m[v] = m[v] && comp[v] == best;
    btfm_free(comp);
    btfm_free(stack);
    return BTFM_OK;
}

static btfm_status epi_mask(btfm_dataset *ds, double *mean, uint8_t *keep, const char *func)
{
    const btfm_volume *vol = ds->volume;
    int64_t n = vol->n_voxels;
    const int opening = 2;
    /* nilearn: smooth the mean (FWHM 1 voxel) keeping NaNs, then non-finite -> 0. */
    uint8_t *nan_mask = btfm_malloc((size_t)n * 2);
    double *sorted = btfm_malloc((size_t)n * sizeof *sorted);
    if (!nan_mask || !sorted) {
        btfm_free(nan_mask);
        btfm_free(sorted);
        return btfm_fail_nomem(func, (size_t)n * 10);
    }
    for (int64_t v = 0; v < n; v++) {
        nan_mask[v] = isnan(mean[v]);
        if (!isfinite(mean[v])) mean[v] = 0;
    }
    btfm_status st = smooth(vol, mean, 1.0 / sqrt(8.0 * log(2.0)), func);
    for (int64_t v = 0; v < n; v++) {
        if (nan_mask[v] || !isfinite(mean[v])) mean[v] = 0;
        sorted[v] = mean[v];
    }
    if (!st) {
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
        int64_t lower = (int64_t)floor(0.2 * (double)n);
        int64_t upper = (int64_t)floor(0.85 * (double)n);
        if (upper > n - 1) upper = n - 1;
        int64_t ia = 0;
        double best = -INFINITY;
        for (int64_t i = lower; i < upper; i++)
            if (sorted[i + 1] - sorted[i] > best) {
                best = sorted[i + 1] - sorted[i];
                ia = i - lower;
            }
        if (upper <= lower) {
            st = btfm_fail(BTFM_E_INVALID, "%s: %s: %lld voxels are too few for the EPI mask rule",
                           func, ds->path, (long long)n);
        } else {
            double threshold = 0.5 * (sorted[ia + lower] + sorted[ia + lower + 1]);
            for (int64_t v = 0; v < n; v++) keep[v] = mean[v] >= threshold;
            uint8_t *tmp = nan_mask; /* reused as scratch */
            morphology(vol, keep, tmp, opening, 0);
            int any = 0;
            for (int64_t v = 0; v < n && !any; v++) any = keep[v];
            if (any) st = largest_component(vol, keep, func);
            if (!st) {
                morphology(vol, keep, tmp, 2 * opening, 1);
                morphology(vol, keep, tmp, opening, 0);
            }
        }
    }
    btfm_free(nan_mask);
    btfm_free(sorted);
    return st;
}

static btfm_status background_mask(btfm_dataset *ds, const double *mean, uint8_t *keep,
                                   const char *func)
{
    const btfm_volume *vol = ds->volume;
    int64_t dims[3] = {vol->nx, vol->ny, vol->nz};
    const int border = 2;
    /* nilearn's get_border_data: the first and last `border` slabs along each axis,
     * concatenated (voxels in several slabs count several times). */
    size_t cap = 0;
    for (int a = 0; a < 3; a++) {
        int64_t slab = vol->n_voxels / dims[a];
        cap += (size_t)(2 * (border < dims[a] ? border : dims[a]) * slab);
    }
    double *b = btfm_malloc((cap ? cap : 1) * sizeof *b);
    if (!b) return btfm_fail_nomem(func, cap * sizeof *b);
    size_t k = 0;
    int has_nan = 0;
    for (int a = 0; a < 3; a++) {
        int64_t lo = border < dims[a] ? border : dims[a];
        for (int side = 0; side < 2; side++)
            for (int64_t v = 0; v < vol->n_voxels; v++) {
                int64_t c[3] = {v % vol->nx, (v / vol->nx) % vol->ny, v / (vol->nx * vol->ny)};
                int64_t i = side == 0 ? c[a] : dims[a] - 1 - c[a];
                /* numpy data[-border:] with border > n is the whole axis, like data[:border] */
                if (i < lo) {
                    b[k++] = mean[v];
                    has_nan |= isnan(mean[v]);
                }
            }
    }
    if (has_nan) {
        for (int64_t v = 0; v < vol->n_voxels; v++) keep[v] = !isnan(mean[v]);
    } else {
        qsort(b, k, sizeof *b, cmp_double);
        double median = k % 2 ? b[k / 2] : 0.5 * (b[k / 2 - 1] + b[k / 2]);
        for (int64_t v = 0; v < vol->n_voxels; v++) keep[v] = mean[v] != median;
    }
    btfm_free(b);
    return BTFM_OK;
}

btfm_status btfm_dataset_mask_compute(btfm_dataset *ds, int kind, double threshold)
{
    static const char func[] = "btfm_dataset_mask_compute";
    btfm_status st = need_nifti(ds, func);
    if (st) return st;
    if (kind != BTFM_MASK_ALL && kind != BTFM_MASK_THRESHOLD && kind != BTFM_MASK_BACKGROUND &&
        kind != BTFM_MASK_EPI)
        return btfm_fail(BTFM_E_INVALID, "%s: mask kind %d (%s) is not computed from the data; "
                         "expected all, threshold, background or epi", func, kind,
                         btfm_mask_kind_name(kind) ? btfm_mask_kind_name(kind) : "unknown");
    if (kind == BTFM_MASK_THRESHOLD && isnan(threshold))
        return btfm_fail(BTFM_E_INVALID, "%s: %s: the threshold is NaN", func, ds->path);
    int64_t n = ds->volume->n_voxels;
    uint8_t *keep = btfm_malloc((size_t)n);
    double *mean = kind == BTFM_MASK_ALL ? NULL : btfm_malloc((size_t)n * sizeof *mean);
    if (!keep || (kind != BTFM_MASK_ALL && !mean)) {
        btfm_free(keep);
        btfm_free(mean);
        return btfm_fail_nomem(func, (size_t)n * 9);
    }
    if (kind == BTFM_MASK_ALL) memset(keep, 1, (size_t)n);
    else st = mean_image(ds, mean, func);
    if (!st && kind == BTFM_MASK_THRESHOLD)
        for (int64_t v = 0; v < n; v++) keep[v] = mean[v] > threshold;
    if (!st && kind == BTFM_MASK_BACKGROUND) st = background_mask(ds, mean, keep, func);
    if (!st && kind == BTFM_MASK_EPI) st = epi_mask(ds, mean, keep, func);
    if (!st) st = use_voxels(ds, keep, kind, func);
    btfm_free(keep);
    btfm_free(mean);
    return st;
}

/* ---- atlas labels ---- */

btfm_status btfm_dataset_mask_labels(btfm_dataset *ds, const char *path)
{
    static const char func[] = "btfm_dataset_mask_labels";
    btfm_status st = need_nifti(ds, func);
    if (st) return st;
    BTFM_CHECK_ARG(path, func, "path");
    double *values;
    if ((st = read_companion(ds, path, "atlas", func, &values))) return st;
    btfm_volume *vol = ds->volume;
    int64_t n = vol->n_voxels;
    double *sorted = btfm_malloc((size_t)n * sizeof *sorted);
    int32_t *label_of = btfm_malloc((size_t)n * sizeof *label_of);
    int64_t *labels = NULL, *count = NULL, n_labels = 0, k = 0;
    if (!sorted || !label_of) {
        st = btfm_fail_nomem(func, (size_t)n * 12);
        goto done;
    }
    for (int64_t v = 0; v < n; v++) {
        double x = values[v];
        if (isnan(x) || x == 0) continue;
        if (x != floor(x) || fabs(x) > 2147483647.0) {
            st = btfm_fail(BTFM_E_INVALID, "%s: the atlas %s has value %g at voxel (%lld, %lld, %lld); "
                           "expected whole-number labels", func, path, x, (long long)(v % vol->nx),
                           (long long)((v / vol->nx) % vol->ny), (long long)(v / (vol->nx * vol->ny)));
            goto done;
        }
        sorted[k++] = x;
    }
    if (k == 0) {
        st = btfm_fail(BTFM_E_INVALID, "%s: the atlas %s has no non-zero label", func, path);
        goto done;
    }
    qsort(sorted, (size_t)k, sizeof *sorted, cmp_double);
    for (int64_t i = 0; i < k; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) sorted[n_labels++] = sorted[i];
    labels = btfm_malloc((size_t)n_labels * sizeof *labels);
    count = btfm_calloc((size_t)n_labels, sizeof *count);
    if (!labels || !count) {
        st = btfm_fail_nomem(func, (size_t)n_labels * 16);
        goto done;
    }
    for (int64_t i = 0; i < n_labels; i++) labels[i] = (int64_t)sorted[i];
    for (int64_t v = 0; v < n; v++) {
        double x = values[v];
        label_of[v] = -1;
        if (isnan(x) || x == 0) continue;
        int64_t lo = 0, hi = n_labels - 1; /* binary search of the label */
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (labels[mid] < (int64_t)x) lo = mid + 1;
            else hi = mid;
        }
        label_of[v] = (int32_t)lo;
        count[lo]++;
    }
    int64_t *old_voxel = vol->voxel, old_n = vol->n_mask;
    int old_kind = vol->kind;
    vol->voxel = labels;
    vol->n_mask = n_labels;
    vol->kind = BTFM_MASK_LABELS;
    if ((st = btfm_volume_make_channels(ds, (int)n_labels))) {
        vol->voxel = old_voxel;
        vol->n_mask = old_n;
        vol->kind = old_kind;
        goto done;
    }
    btfm_free(old_voxel);
    btfm_free(vol->label_of);
    btfm_free(vol->label_count);
    vol->label_of = label_of;
    vol->label_count = count;
    labels = count = NULL;
    label_of = NULL;
    st = btfm_nifti_label_scratch(ds);
done:
    btfm_free(values);
    btfm_free(sorted);
    btfm_free(label_of);
    btfm_free(labels);
    btfm_free(count);
    return st;
}
