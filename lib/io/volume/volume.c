/* Volume datasets: geometry accessors, the channel table of a mask, copies for datasets
 * made like a volume. */
#include <string.h>
#include "volume_internal.h"

static const char *mask_names[] = {"all", "image", "voxels", "threshold", "background", "epi",
                                   "labels"};

const char *btfm_mask_kind_name(int kind)
{
    return kind >= 0 && kind < (int)(sizeof mask_names / sizeof *mask_names) ? mask_names[kind] : NULL;
}

const char *btfm_voxel_order_name(int order)
{
    return order == BTFM_VOXEL_ORDER_F ? "F" : order == BTFM_VOXEL_ORDER_C ? "C" : NULL;
}

btfm_status btfm_volume_order_voxels(const btfm_volume *vol, int64_t *voxel, int64_t n)
{
    /* A pass over the grid in the wanted order picks the mask's voxels: no sort, and
     * the result is the same whatever order they came in. */
    uint8_t *keep = btfm_calloc((size_t)vol->n_voxels, 1);
    if (!keep) return btfm_fail_nomem("voxel order", (size_t)vol->n_voxels);
    for (int64_t i = 0; i < n; i++) keep[voxel[i]] = 1;
    int64_t k = 0;
    if (vol->order == BTFM_VOXEL_ORDER_C) {
        for (int64_t x = 0; x < vol->nx; x++)
            for (int64_t y = 0; y < vol->ny; y++)
                for (int64_t z = 0; z < vol->nz; z++) {
                    int64_t v = x + vol->nx * (y + vol->ny * z);
                    if (keep[v]) voxel[k++] = v;
                }
    } else {
        for (int64_t v = 0; v < vol->n_voxels; v++)
            if (keep[v]) voxel[k++] = v;
    }
    btfm_free(keep);
    return BTFM_OK;
}

void btfm_volume_free(btfm_volume *v)
{
    if (!v) return;
    btfm_free(v->voxel);
    btfm_free(v->label_of);
    btfm_free(v->label_count);
    btfm_free(v);
}

static void *copy_array(const void *src, size_t bytes, int *failed)
{
    if (!src) return NULL;
    void *p = btfm_malloc(bytes ? bytes : 1);
    if (!p) *failed = 1;
    else memcpy(p, src, bytes);
    return p;
}

btfm_status btfm_volume_copy(btfm_volume **out, const btfm_volume *v)
{
    *out = NULL;
    if (!v) return BTFM_OK;
    btfm_volume *c = btfm_malloc(sizeof *c);
    if (!c) return btfm_fail_nomem("volume", sizeof *c);
    *c = *v;
    int failed = 0;
    c->voxel = copy_array(v->voxel, (size_t)v->n_mask * sizeof *v->voxel, &failed);
    c->label_of = copy_array(v->label_of, (size_t)v->n_voxels * sizeof *v->label_of, &failed);
    c->label_count = copy_array(v->label_count, (size_t)v->n_mask * sizeof *v->label_count, &failed);
    if (failed) {
        btfm_volume_free(c);
        return btfm_fail_nomem("volume", (size_t)v->n_voxels * 8);
    }
    *out = c;
    return BTFM_OK;
}

static int digits(int64_t v)
{
    int n = 1;
    while ((v /= 10) > 0) n++;
    return n;
}

/* Decimal digits of v >= 0 at p; returns the end. */
static char *put_int(char *p, int64_t v)
{
    char tmp[24];
    int n = 0;
    do tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n) *p++ = tmp[--n];
    return p;
}

btfm_status btfm_volume_make_channels(btfm_dataset *ds, int n_channels)
{
    const btfm_volume *vol = ds->volume;
    int labels = vol->kind == BTFM_MASK_LABELS;
    /* Names "x,y,z" (voxels) or the label value, in one block with the shared "" for the
     * other strings, sized from the grid's digits: a whole grid's names are megabytes of
     * fresh memory. */
    size_t per = 21 + 2;
    if (!labels) per = (size_t)(digits(vol->nx - 1) + digits(vol->ny - 1) + digits(vol->nz - 1) + 3);
    size_t bytes = 1 + (size_t)n_channels * per;
    /* Tens of megabytes for a whole grid: huge pages make their first touch cheap. */
    char *arena = btfm_malloc_large(bytes);
    btfm_channel *channels = btfm_malloc_large((size_t)(n_channels ? n_channels : 1) * sizeof *channels);
    if (!arena || !channels) {
        btfm_free(arena);
        btfm_free(channels);
        return btfm_fail_nomem("volume channels", bytes + (size_t)n_channels * sizeof *channels);
    }
    char *empty = arena, *p = arena + 1;
    *empty = '\0';
    btfm_channel proto;
    memset(&proto, 0, sizeof proto);
    proto.unit = proto.stored_unit = proto.transducer = proto.prefilter = empty;
    proto.shared_strings = 1;
    proto.type = BTFM_CH_BOLD;
    proto.rate = ds->sfreq;
    proto.n_samples = ds->n_times;
    proto.samples_per_record = (int)(ds->n_times < INT32_MAX ? ds->n_times : INT32_MAX);
    proto.gain = 1.0;
    for (int c = 0; c < n_channels; c++) {
        btfm_channel *ch = &channels[c];
        *ch = proto;
        ch->name = p;
        int64_t v = vol->voxel[c];
        if (labels) {
            if (v < 0) {
                *p++ = '-';
                v = -v;
            }
            p = put_int(p, v);
        } else {
            p = put_int(p, v % vol->nx);
            *p++ = ',';
            p = put_int(p, (v / vol->nx) % vol->ny);
            *p++ = ',';
            p = put_int(p, v / (vol->nx * vol->ny));
        }
        *p++ = '\0';
    }
    btfm_channels_release(ds->channels, ds->n_channels);
    btfm_free(ds->channel_arena);
    ds->channels = channels;
    ds->channel_arena = arena;
    ds->n_channels = n_channels;
    btfm_dataset_drop_geometry(ds);
    return BTFM_OK;
}

btfm_status btfm_volume_attach_grid(btfm_dataset *ds, int64_t nx, int64_t ny, int64_t nz,
                                    double voxel_mm)
{
    if (nx < 1 || ny < 1 || nz < 1 || nx * ny * nz != ds->n_channels || !(voxel_mm > 0))
        return btfm_fail(BTFM_E_INVALID, "volume grid: %lld x %lld x %lld voxels of %g mm for "
                         "%d channels; expected positive sizes whose product is the channel count",
                         (long long)nx, (long long)ny, (long long)nz, voxel_mm, ds->n_channels);
    btfm_volume *v = btfm_calloc(1, sizeof *v);
    int64_t n = nx * ny * nz;
    if (!v || !(v->voxel = btfm_malloc((size_t)n * sizeof *v->voxel))) {
        btfm_volume_free(v);
        return btfm_fail_nomem("volume grid", (size_t)n * sizeof *v->voxel);
    }
    v->nx = nx;
    v->ny = ny;
    v->nz = nz;
    v->nt = ds->n_times;
    v->n_voxels = n;
    const int64_t size[3] = {nx, ny, nz};
    for (int i = 0; i < 3; i++) {
        double origin = -0.5 * (double)(size[i] - 1) * voxel_mm;
        v->affine[4 * i + i] = voxel_mm;
        v->affine[4 * i + 3] = origin;
        v->srow[4 * i + i] = voxel_mm;
        v->srow[4 * i + 3] = origin;
        v->qoffset[i] = origin;
        v->zooms[i] = voxel_mm;
        v->pixdim[i + 1] = voxel_mm;
    }
    v->affine[15] = 1.0;
    v->zooms[3] = v->pixdim[4] = 1.0 / ds->sfreq;
    v->pixdim[0] = v->qfac = 1.0;
    v->qform_code = v->sform_code = 1; /* scanner anatomical */
    v->xyz_units = 2;                  /* mm */
    v->time_units = 8;                 /* s */
    v->kind = BTFM_MASK_ALL;
    v->n_mask = n;
    for (int64_t i = 0; i < n; i++) v->voxel[i] = i;
    btfm_volume_free(ds->volume);
    ds->volume = v;
    return btfm_volume_make_channels(ds, (int)n);
}

static const btfm_volume *volume_of(const btfm_dataset *ds, const char *func, btfm_status *st)
{
    if (!ds) {
        *st = btfm_fail(BTFM_E_INVALID, "%s: dataset is NULL", func);
        return NULL;
    }
    if (!ds->volume) {
        *st = btfm_fail(BTFM_E_UNSUPPORTED, "%s: %s is not a volume (format %s)", func, ds->path,
                        btfm_format_name(ds->format));
        return NULL;
    }
    *st = BTFM_OK;
    return ds->volume;
}

btfm_status btfm_dataset_volume_shape(const btfm_dataset *ds, int64_t *shape)
{
    btfm_status st;
    const btfm_volume *v = volume_of(ds, "btfm_dataset_volume_shape", &st);
    if (!v) return st;
    BTFM_CHECK_ARG(shape, "btfm_dataset_volume_shape", "shape");
    shape[0] = v->nx;
    shape[1] = v->ny;
    shape[2] = v->nz;
    shape[3] = ds->n_times;
    return BTFM_OK;
}

btfm_status btfm_dataset_volume_affine(const btfm_dataset *ds, double *affine)
{
    btfm_status st;
    const btfm_volume *v = volume_of(ds, "btfm_dataset_volume_affine", &st);
    if (!v) return st;
    BTFM_CHECK_ARG(affine, "btfm_dataset_volume_affine", "affine");
    memcpy(affine, v->affine, sizeof v->affine);
    return BTFM_OK;
}

btfm_status btfm_dataset_volume_zooms(const btfm_dataset *ds, double *zooms)
{
    btfm_status st;
    const btfm_volume *v = volume_of(ds, "btfm_dataset_volume_zooms", &st);
    if (!v) return st;
    BTFM_CHECK_ARG(zooms, "btfm_dataset_volume_zooms", "zooms");
    memcpy(zooms, v->zooms, sizeof v->zooms);
    return BTFM_OK;
}

int btfm_dataset_mask_kind(const btfm_dataset *ds)
{
    btfm_status st;
    const btfm_volume *v = volume_of(ds, "btfm_dataset_mask_kind", &st);
    return v ? v->kind : st;
}

int btfm_dataset_voxel_order(const btfm_dataset *ds)
{
    btfm_status st;
    const btfm_volume *v = volume_of(ds, "btfm_dataset_voxel_order", &st);
    return v ? v->order : st;
}

btfm_status btfm_dataset_channel_voxels(const btfm_dataset *ds, int64_t *out)
{
    btfm_status st;
    const btfm_volume *v = volume_of(ds, "btfm_dataset_channel_voxels", &st);
    if (!v) return st;
    BTFM_CHECK_ARG(out, "btfm_dataset_channel_voxels", "out");
    memcpy(out, v->voxel, (size_t)ds->n_channels * sizeof *out);
    return BTFM_OK;
}
