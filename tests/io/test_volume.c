/* NIfTI volumes: files written here byte by byte from the NIfTI-1 specification, so every
 * expected value (shape, affine, scaled values, masks, label means) follows from what the
 * test wrote. Also the errors of the volume API and writing through btfm_dataset_save. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>
#include "unit.h"

enum { NX = 4, NY = 3, NZ = 2, NT = 6, NV = NX * NY * NZ };
static const double SLOPE = 0.5, INTER = -2.0;
static char dir[] = "/tmp/btfm-volume-XXXXXX";
static char path[256];

static int stored(int v, int t) { return (v * 7 + 3) * (t + 1) - 40; }
static double value(int v, int t) { return SLOPE * stored(v, t) + INTER; }

static void put16(unsigned char *h, int at, int v)
{
    int16_t x = (int16_t)v;
    memcpy(h + at, &x, 2);
}

static void putf(unsigned char *h, int at, double v)
{
    float x = (float)v;
    memcpy(h + at, &x, 4);
}

/* The grid write_nifti writes (NX x NY x NZ unless a test sets another). */
static int grid[3] = {NX, NY, NZ};

/* A NIfTI-1 single file: int16 (datatype 4) or float32 (16) values; `nt` volumes. */
static void write_nifti(const char *file, int datatype, int nt, const float *values,
                        double slope, double inter, int gz)
{
    unsigned char h[352] = {0};
    int32_t size = 348;
    memcpy(h, &size, 4);
    int dims[8] = {nt > 1 ? 4 : 3, grid[0], grid[1], grid[2], nt, 1, 1, 1};
    for (int i = 0; i < 8; i++) put16(h, 40 + 2 * i, dims[i]);
    put16(h, 70, datatype);
    put16(h, 72, datatype == 4 ? 16 : 32);
    double pixdim[8] = {1, 2, 2, 3, 2.5, 1, 1, 1};
    for (int i = 0; i < 8; i++) putf(h, 76 + 4 * i, pixdim[i]);
    putf(h, 108, 352);
    putf(h, 112, slope);
    putf(h, 116, inter);
    h[123] = 2 | 8; /* mm, s */
    put16(h, 254, 1); /* sform_code */
    double srow[12] = {2, 0, 0, -10, 0, 2, 0, 20, 0, 0, 3, -5};
    for (int i = 0; i < 12; i++) putf(h, 280 + 4 * i, srow[i]);
    memcpy(h + 344, "n+1", 4);
    size_t n = (size_t)grid[0] * (size_t)grid[1] * (size_t)grid[2] * (size_t)nt;
    size_t bytes = datatype == 4 ? 2 : 4;
    unsigned char *data = malloc(n * bytes);
    for (size_t i = 0; i < n; i++) {
        if (datatype == 4) {
            int16_t x = (int16_t)values[i];
            memcpy(data + 2 * i, &x, 2);
        } else
            memcpy(data + 4 * i, &values[i], 4);
    }
    if (gz) {
        gzFile f = gzopen(file, "wb");
        ck_assert_ptr_nonnull(f);
        gzwrite(f, h, sizeof h);
        gzwrite(f, data, (unsigned)(n * bytes));
        gzclose(f);
    } else {
        FILE *f = fopen(file, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(h, 1, sizeof h, f);
        fwrite(data, 1, n * bytes, f);
        fclose(f);
    }
    free(data);
}

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/run.nii", dir);
    float values[NV * NT];
    for (int t = 0; t < NT; t++)
        for (int v = 0; v < NV; v++) values[t * NV + v] = (float)stored(v, t);
    write_nifti(path, 4, NT, values, SLOPE, INTER, 0);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

START_TEST(values_affine_and_zooms)
{
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_open(&ds, path, BTFM_FORMAT_AUTO, 0));
    ck_assert_int_eq(btfm_dataset_format(ds), BTFM_FORMAT_NIFTI);
    int64_t shape[4];
    ck_assert_ok(btfm_dataset_volume_shape(ds, shape));
    ck_assert(shape[0] == NX && shape[1] == NY && shape[2] == NZ && shape[3] == NT);
    double a[16], z[4];
    ck_assert_ok(btfm_dataset_volume_affine(ds, a));
    const double want[16] = {2, 0, 0, -10, 0, 2, 0, 20, 0, 0, 3, -5, 0, 0, 0, 1};
    for (int i = 0; i < 16; i++) ck_assert_double_eq_tol(a[i], want[i], 1e-6);
    ck_assert_ok(btfm_dataset_volume_zooms(ds, z));
    ck_assert_double_eq_tol(z[3], 2.5, 1e-6);
    ck_assert_double_eq_tol(btfm_dataset_sfreq(ds), 0.4, 1e-6);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), NV);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1 + NX), "1,1,0");
    ck_assert_int_eq(btfm_dataset_channel_type(ds, 0), BTFM_CH_BOLD);
    float out[NT * NV];
    ck_assert_ok(btfm_dataset_read(ds, 0, NT, NULL, 0, out));
    for (int t = 0; t < NT; t++)
        for (int v = 0; v < NV; v++) ck_assert_float_eq(out[t * NV + v], (float)value(v, t));
    int picks[2] = {NV - 1, 3};
    ck_assert_ok(btfm_dataset_read(ds, 2, 3, picks, 2, out));
    for (int t = 0; t < 3; t++) {
        ck_assert_float_eq(out[2 * t], (float)value(NV - 1, t + 2));
        ck_assert_float_eq(out[2 * t + 1], (float)value(3, t + 2));
    }
    ck_assert_ok(btfm_dataset_read_native(ds, 5, 1, 4, out));
    for (int t = 0; t < 4; t++) ck_assert_float_eq(out[t], (float)value(5, t + 1));
    int ch;
    ck_assert_ok(btfm_dataset_find_channel(ds, "3,2,1", &ch));
    ck_assert_int_eq(ch, 3 + NX * (2 + NY * 1));
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(masks_from_data_memory_images_and_labels)
{
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_open(&ds, path, BTFM_FORMAT_NIFTI, 0));
    /* threshold on the mean over time */
    double threshold = 20.0;
    int64_t expect[NV], n = 0;
    for (int v = 0; v < NV; v++) {
        double mean = 0;
        for (int t = 0; t < NT; t++) mean += value(v, t) / NT;
        if (mean > threshold) expect[n++] = v;
    }
    ck_assert(n > 0 && n < NV);
    ck_assert_ok(btfm_dataset_mask_compute(ds, BTFM_MASK_THRESHOLD, threshold));
    ck_assert_int_eq(btfm_dataset_mask_kind(ds), BTFM_MASK_THRESHOLD);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), n);
    int64_t got[NV];
    ck_assert_ok(btfm_dataset_channel_voxels(ds, got));
    for (int64_t i = 0; i < n; i++) ck_assert_int_eq(got[i], expect[i]);
    float out[NT * NV];
    ck_assert_ok(btfm_dataset_read(ds, 0, NT, NULL, 0, out));
    for (int t = 0; t < NT; t++)
        for (int64_t i = 0; i < n; i++) ck_assert_float_eq(out[t * n + i], (float)value((int)expect[i], t));
    /* a mask in memory: every third voxel */
    uint8_t keep[NV];
    for (int v = 0; v < NV; v++) keep[v] = v % 3 == 0;
    ck_assert_ok(btfm_dataset_mask_voxels(ds, keep, NV));
    ck_assert_int_eq(btfm_dataset_n_channels(ds), NV / 3);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "3,0,0");
    ck_assert_status(btfm_dataset_mask_voxels(ds, keep, NV - 1), BTFM_E_INVALID);
    /* a mask image with the same geometry */
    char mask_path[300];
    snprintf(mask_path, sizeof mask_path, "%s/mask.nii.gz", dir);
    float m[NV];
    for (int v = 0; v < NV; v++) m[v] = v >= NV / 2 ? 1.0f : 0.0f;
    write_nifti(mask_path, 16, 1, m, 0, 0, 1);
    ck_assert_ok(btfm_dataset_mask_image(ds, mask_path));
    ck_assert_int_eq(btfm_dataset_mask_kind(ds), BTFM_MASK_IMAGE);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), NV - NV / 2);
    /* labels: 5 on the first 8 voxels, 2 on the next 4, 0 elsewhere */
    char atlas_path[300];
    snprintf(atlas_path, sizeof atlas_path, "%s/atlas.nii", dir);
    for (int v = 0; v < NV; v++) m[v] = v < 8 ? 5.0f : v < 12 ? 2.0f : 0.0f;
    write_nifti(atlas_path, 16, 1, m, 0, 0, 0);
    ck_assert_ok(btfm_dataset_mask_labels(ds, atlas_path));
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 2);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 0), "2");
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "5");
    ck_assert_ok(btfm_dataset_read(ds, 0, NT, NULL, 0, out));
    for (int t = 0; t < NT; t++) {
        double two = 0, five = 0;
        for (int v = 8; v < 12; v++) two += value(v, t) / 4;
        for (int v = 0; v < 8; v++) five += value(v, t) / 8;
        ck_assert_double_eq_tol(out[2 * t], two, 1e-4);
        ck_assert_double_eq_tol(out[2 * t + 1], five, 1e-4);
    }
    /* a non-integer label is refused; the labels stay */
    m[3] = 1.5f;
    write_nifti(atlas_path, 16, 1, m, 0, 0, 0);
    ck_assert_status(btfm_dataset_mask_labels(ds, atlas_path), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "value 1.5 at voxel (3, 0, 0)"));
    ck_assert_int_eq(btfm_dataset_n_channels(ds), 2);
    ck_assert_ok(btfm_dataset_mask_compute(ds, BTFM_MASK_ALL, 0));
    ck_assert_int_eq(btfm_dataset_n_channels(ds), NV);
    btfm_dataset_free(ds);
}
END_TEST

/* The C order (z fastest) visits (x, y, z) as nibabel's get_fdata()[mask] does: the test
 * walks the grid in that order itself; the F order is the file's. */
START_TEST(voxel_order_c_and_f)
{
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_open(&ds, path, BTFM_FORMAT_NIFTI, 0));
    ck_assert_int_eq(btfm_dataset_voxel_order(ds), BTFM_VOXEL_ORDER_F);
    ck_assert_str_eq(btfm_voxel_order_name(BTFM_VOXEL_ORDER_C), "C");
    ck_assert_ptr_null(btfm_voxel_order_name(2));
    uint8_t keep[NV];
    for (int v = 0; v < NV; v++) keep[v] = v % 3 != 1;
    ck_assert_ok(btfm_dataset_mask_voxels(ds, keep, NV));
    ck_assert_ok(btfm_dataset_set_voxel_order(ds, BTFM_VOXEL_ORDER_C));
    ck_assert_int_eq(btfm_dataset_voxel_order(ds), BTFM_VOXEL_ORDER_C);
    int64_t want[NV], got[NV], n = 0;
    for (int x = 0; x < NX; x++)
        for (int y = 0; y < NY; y++)
            for (int z = 0; z < NZ; z++)
                if (keep[x + NX * (y + NY * z)]) want[n++] = x + NX * (y + NY * z);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), n);
    ck_assert_ok(btfm_dataset_channel_voxels(ds, got));
    for (int64_t i = 0; i < n; i++) ck_assert_int_eq(got[i], want[i]);
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "0,0,1"); /* z moves first */
    float out[NT * NV];
    ck_assert_ok(btfm_dataset_read(ds, 0, NT, NULL, 0, out));
    for (int t = 0; t < NT; t++)
        for (int64_t i = 0; i < n; i++) ck_assert_float_eq(out[t * n + i], (float)value((int)want[i], t));
    /* a later mask follows the order; an unknown order changes nothing */
    ck_assert_ok(btfm_dataset_mask_compute(ds, BTFM_MASK_ALL, 0));
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "0,0,1");
    ck_assert_status(btfm_dataset_set_voxel_order(ds, 7), BTFM_E_INVALID);
    ck_assert_int_eq(btfm_dataset_voxel_order(ds), BTFM_VOXEL_ORDER_C);
    ck_assert_ok(btfm_dataset_set_voxel_order(ds, BTFM_VOXEL_ORDER_F));
    ck_assert_str_eq(btfm_dataset_channel_name(ds, 1), "1,0,0");
    btfm_dataset_free(ds);
    btfm_dataset *mem;
    float two[2] = {1, 2};
    ck_assert_ok(btfm_dataset_from_array(&mem, two, 1, 2, 1.0, NULL));
    ck_assert_status(btfm_dataset_set_voxel_order(mem, BTFM_VOXEL_ORDER_C), BTFM_E_UNSUPPORTED);
    ck_assert_int_eq(btfm_dataset_voxel_order(mem), BTFM_E_UNSUPPORTED);
    btfm_dataset_free(mem);
}
END_TEST

START_TEST(writes_unmask_into_the_grid)
{
    btfm_dataset *ds, *result, *back;
    ck_assert_ok(btfm_dataset_open(&ds, path, BTFM_FORMAT_NIFTI, 0));
    uint8_t keep[NV];
    for (int v = 0; v < NV; v++) keep[v] = v % 2;
    ck_assert_ok(btfm_dataset_mask_voxels(ds, keep, NV));
    int n = btfm_dataset_n_channels(ds);
    float data[NT * NV];
    for (int i = 0; i < NT * n; i++) data[i] = (float)i * 0.25f;
    ck_assert_ok(btfm_dataset_from_array(&result, data, NT, n, btfm_dataset_sfreq(ds), ds));
    const char *names[] = {"out.nii", "out.nii.gz"};
    for (int k = 0; k < 2; k++) {
        char out_path[300];
        snprintf(out_path, sizeof out_path, "%s/%s", dir, names[k]);
        ck_assert_ok(btfm_dataset_save(result, out_path, BTFM_FORMAT_AUTO, 0));
        ck_assert_ok(btfm_dataset_open(&back, out_path, BTFM_FORMAT_AUTO, 0));
        int64_t shape[4];
        double a[16];
        ck_assert_ok(btfm_dataset_volume_shape(back, shape));
        ck_assert(shape[0] == NX && shape[3] == NT);
        ck_assert_ok(btfm_dataset_volume_affine(back, a));
        ck_assert_double_eq_tol(a[3], -10, 1e-6);
        ck_assert_double_eq_tol(btfm_dataset_sfreq(back), 0.4, 1e-6);
        float all[NT * NV];
        ck_assert_ok(btfm_dataset_read(back, 0, NT, NULL, 0, all));
        for (int t = 0; t < NT; t++)
            for (int v = 0, c = 0; v < NV; v++)
                ck_assert_float_eq(all[t * NV + v], keep[v] ? data[t * n + c++] : 0.0f);
        btfm_dataset_free(back);
    }
    btfm_dataset_free(result);
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(errors_are_clear)
{
    btfm_dataset *ds, *mem;
    int64_t shape[4];
    ck_assert_status(btfm_dataset_volume_shape(NULL, shape), BTFM_E_INVALID);
    float x[4] = {1, 2, 3, 4};
    ck_assert_ok(btfm_dataset_from_array(&mem, x, 2, 2, 10.0, NULL));
    ck_assert_status(btfm_dataset_volume_shape(mem, shape), BTFM_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "is not a volume"));
    ck_assert_status(btfm_dataset_mask_compute(mem, BTFM_MASK_EPI, 0), BTFM_E_UNSUPPORTED);
    char out_path[300];
    snprintf(out_path, sizeof out_path, "%s/x.nii", dir);
    ck_assert_status(btfm_dataset_save(mem, out_path, BTFM_FORMAT_AUTO, 0), BTFM_E_UNSUPPORTED);
    ck_assert_int_eq(access(out_path, F_OK), -1); /* nothing left behind */
    btfm_dataset_free(mem);
    ck_assert_ok(btfm_dataset_open(&ds, path, BTFM_FORMAT_NIFTI, 0));
    ck_assert_status(btfm_dataset_volume_affine(ds, NULL), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_mask_compute(ds, BTFM_MASK_LABELS, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_mask_compute(ds, BTFM_MASK_THRESHOLD, NAN), BTFM_E_INVALID);
    ck_assert_status(btfm_dataset_mask_compute(ds, BTFM_MASK_THRESHOLD, 1e9), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "selects no voxel"));
    ck_assert_status(btfm_dataset_mask_image(ds, NULL), BTFM_E_INVALID);
    ck_assert_int_eq(btfm_dataset_n_channels(ds), NV);
    ck_assert_str_eq(btfm_mask_kind_name(BTFM_MASK_EPI), "epi");
    ck_assert_ptr_null(btfm_mask_kind_name(99));
    btfm_dataset_free(ds);
    /* a truncated file */
    FILE *f = fopen(path, "r+b");
    ck_assert_int_eq(ftruncate(fileno(f), 352 + 10), 0);
    fclose(f);
    ck_assert_status(btfm_dataset_open(&ds, path, BTFM_FORMAT_AUTO, 0), BTFM_E_TRUNCATED);
    ck_assert_ptr_null(ds);
}
END_TEST

/* A 64 x 64 x 32 int16 run of nt volumes (.nii.gz when gz) read whole: every value follows
 * from what was written. */
static void check_large_read(const char *name, int nt, int gz)
{
    enum { GV = 64 * 64 * 32 };
    float *values = malloc(sizeof(float) * GV * (size_t)nt);
    for (int t = 0; t < nt; t++)
        for (int v = 0; v < GV; v++) values[(size_t)t * GV + v] = (float)((v * 7 + t) % 2000 - 1000);
    char big[300];
    snprintf(big, sizeof big, "%s/%s", dir, name);
    grid[0] = grid[1] = 64;
    grid[2] = 32;
    write_nifti(big, 4, nt, values, SLOPE, INTER, gz);
    grid[0] = NX;
    grid[1] = NY;
    grid[2] = NZ;
    btfm_dataset *ds;
    ck_assert_ok(btfm_dataset_open(&ds, big, BTFM_FORMAT_AUTO, 0));
    float *out = malloc(sizeof(float) * GV * (size_t)nt);
    ck_assert_ok(btfm_dataset_read(ds, 0, nt, NULL, 0, out));
    ck_assert_all(i, (int64_t)GV * nt, out[i] == (float)(SLOPE * values[i] + INTER),
                  "sample %lld", (long long)i);
    btfm_dataset_free(ds);
    free(out);
    free(values);
}

/* A read of more than 4 million samples is split over the processors (volumes in tasks,
 * a buffer a worker). */
START_TEST(large_reads_split_over_threads)
{
    check_large_read("big.nii", 40, 0); /* 5.2 million samples */
}
END_TEST

/* One gzip member of `n` bytes (zlib's deflate; with FEXTRA, FNAME, FCOMMENT and a header
 * CRC when `named`) appended to f. */
static void put_member(FILE *f, const unsigned char *data, size_t n, int level, int named)
{
    z_stream z = {0};
    ck_assert_int_eq(deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char extra[] = {'B', 'C', 2, 0, 0x34, 0x12};
    gz_header h = {.extra = extra, .extra_len = sizeof extra, .name = (Bytef *)"run.nii",
                   .comment = (Bytef *)"member", .hcrc = 1, .os = 3};
    if (named) ck_assert_int_eq(deflateSetHeader(&z, &h), Z_OK);
    uLong cap = deflateBound(&z, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    fwrite(out, 1, z.total_out, f);
    deflateEnd(&z);
    free(out);
}

/* A .nii.gz made from the bytes of `src`: members split at `cuts` (the last with a
 * FEXTRA/FNAME/FCOMMENT/FHCRC header), `tail` bytes appended; then byte `flip` of the
 * compressed file (counted from its end when negative) inverted and the file cut to
 * `keep` bytes (0: whole). */
static void write_gz(const char *out, const char *src, const size_t *cuts, int n_cuts,
                     const char *tail, long flip, long keep)
{
    size_t n;
    unsigned char *raw = unit_read_file(src, &n);
    FILE *f = fopen(out, "wb");
    size_t at = 0;
    for (int i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : n;
        put_member(f, raw + at, end - at, i % 2 ? 9 : 1, i == n_cuts && n_cuts > 0);
        at = end;
    }
    if (tail) fputs(tail, f);
    fclose(f);
    free(raw);
    if (!flip && !keep) return;
    unsigned char *gz = unit_read_file(out, &n);
    if (flip) gz[flip > 0 ? (size_t)flip : n - (size_t)-flip] ^= 0xff;
    f = fopen(out, "wb");
    fwrite(gz, 1, keep ? (size_t)keep : n, f);
    fclose(f);
    free(gz);
}

/* Reads all nt volumes of `file` (volumes 3 .. nt - 1, then all: a backward jump): the
 * status, and the values checked against `expected` (nt x nv) when it is OK. */
static btfm_status read_all(const char *file, int nt, int nv, const float *expected)
{
    btfm_dataset *ds;
    btfm_status st = btfm_dataset_open(&ds, file, BTFM_FORMAT_AUTO, 0);
    if (st) return st;
    float *out = malloc(sizeof(float) * (size_t)(nt * nv));
    st = btfm_dataset_read(ds, 3, nt - 3, NULL, 0, out);
    if (!st) st = btfm_dataset_read(ds, 0, nt, NULL, 0, out);
    if (!st)
        ck_assert_all(i, (int64_t)nt * nv, out[i] == expected[i], "%s: sample %lld", file,
                      (long long)i);
    free(out);
    btfm_dataset_free(ds);
    return st;
}

/* .nii.gz data through the gzip reader (ISA-L's inflate or zlib's, as built): several
 * members with every optional header field, bytes after the last member, and damaged
 * files, each refused saying what and where. */
START_TEST(gzip_members_and_damage)
{
    char gz[300], mid[300];
    snprintf(gz, sizeof gz, "%s/run.nii.gz", dir);
    float small[NT * NV];
    for (int i = 0; i < NT * NV; i++) small[i] = (float)value(i % NV, i / NV);
    const size_t cuts[] = {101, 352 + 7, 352 + 3 * NV * 2 + 1}; /* inside the header and volumes */
    write_gz(gz, path, cuts, 3, "trailing bytes that start no member\n", 0, 0);
    ck_assert_ok(read_all(gz, NT, NV, small));
    write_gz(gz, path, cuts, 3, NULL, 0, 0);
    ck_assert_ok(read_all(gz, NT, NV, small));
    /* bytes between two members end the data, as in gzread: volume 3 is missing */
    const size_t first[] = {352 + 3 * NV * 2};
    size_t n;
    write_gz(gz, path, first, 1, NULL, 0, 0);
    unsigned char *two = unit_read_file(gz, &n);
    FILE *f = fopen(gz, "wb");
    z_stream z = {0}; /* the first member alone: its compressed size from inflate */
    unsigned char sink[4096];
    ck_assert_int_eq(inflateInit2(&z, 31), Z_OK);
    z.next_in = two;
    z.avail_in = (uInt)n;
    do {
        z.next_out = sink;
        z.avail_out = sizeof sink;
    } while (inflate(&z, Z_NO_FLUSH) == Z_OK);
    fwrite(two, 1, z.total_in, f);
    fputs("junk", f);
    fwrite(two + z.total_in, 1, n - z.total_in, f);
    fclose(f);
    inflateEnd(&z);
    free(two);
    ck_assert_status(read_all(gz, NT, NV, small), BTFM_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "volume 3 ends after 0 of 48 bytes, at byte 496"));
    /* Damage near the end of a file longer than a header read inflates: 6 volumes of
     * 37 x 29 x 11 int16 voxels (primes). */
    enum { MV = 37 * 29 * 11 };
    float *stored_mid = malloc(sizeof(float) * NT * MV), *mid_values = malloc(sizeof(float) * NT * MV);
    for (int i = 0; i < NT * MV; i++) {
        stored_mid[i] = (float)((i * 7) % 2001 - 1000);
        mid_values[i] = (float)(SLOPE * stored_mid[i] + INTER);
    }
    snprintf(mid, sizeof mid, "%s/mid.nii", dir);
    grid[0] = 37, grid[1] = 29, grid[2] = 11;
    write_nifti(mid, 4, NT, stored_mid, SLOPE, INTER, 0);
    grid[0] = NX, grid[1] = NY, grid[2] = NZ;
    write_gz(gz, mid, NULL, 0, NULL, 0, 0);
    ck_assert_ok(read_all(gz, NT, MV, mid_values));
    size_t n_one;
    free(unit_read_file(gz, &n_one));
    /* the CRC-32 and the length in the trailer */
    write_gz(gz, mid, NULL, 0, NULL, -8, 0);
    ck_assert_status(read_all(gz, NT, MV, mid_values), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), ": corrupted gzip data at byte"));
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "the CRC-32 check failed"));
    write_gz(gz, mid, NULL, 0, NULL, -2, 0);
    ck_assert_status(read_all(gz, NT, MV, mid_values), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "the length check failed"));
    /* cut inside the compressed data: the header still reads, the volumes do not */
    write_gz(gz, mid, NULL, 0, NULL, 0, (long)n_one - 200);
    ck_assert_status(read_all(gz, NT, MV, mid_values), BTFM_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), ": the gzip data ends inside a compressed member"));
    /* a damaged deflate block */
    write_gz(gz, mid, NULL, 0, NULL, (long)n_one / 2, 0);
    ck_assert_status(read_all(gz, NT, MV, mid_values), BTFM_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), ": corrupted gzip data at byte"));
    free(stored_mid);
    free(mid_values);
}
END_TEST

/* A .nii.gz read of more than 4 MB inflates on one thread while another gathers. */
START_TEST(large_gzip_reads_overlap_inflate_and_gather)
{
    check_large_read("big.nii.gz", 17, 1); /* 4.5 MB of int16 */
}
END_TEST

static Suite *volume_suite(void)
{
    Suite *s = suite_create("volume");
    TCase *tc = tcase_create("volume");
    unit_set_timeout(tc, 0.1); /* seconds of work on an idle machine */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, values_affine_and_zooms);
    tcase_add_test(tc, masks_from_data_memory_images_and_labels);
    tcase_add_test(tc, voxel_order_c_and_f);
    tcase_add_test(tc, writes_unmask_into_the_grid);
    tcase_add_test(tc, errors_are_clear);
    tcase_add_test(tc, large_reads_split_over_threads);
    tcase_add_test(tc, gzip_members_and_damage);
    tcase_add_test(tc, large_gzip_reads_overlap_inflate_and_gather);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(volume_suite)
