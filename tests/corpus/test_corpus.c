/* corpus: float16 against IEEE 754 closed forms; a corpus built from EDF files whose
 * stored values match the robust z-score computed here by sorting; windows and bad
 * segments counted by their closed forms; the sampler against DistributedSampler's
 * rules; batches against the binaries; resume, allocation-free batches, errors. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include "unit.h"
#include "counting_alloc.h"
#include "corpus/corpus_internal.h"
#include "corpus/loader_internal.h"
#include "core/sha256.h"

#define SF 250.0
#define N_TIMES 2000
#define N_CH 3

static char root[256];

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}

/* Three subjects' EDF+ files: channel c of subject s is a sine plus a ramp, with a
 * "stim" annotation every second and a BAD segment [2 s, 3 s) in subject 1's. */
static void write_sources(void)
{
    snprintf(root, sizeof root, "/tmp/btfm-corpus-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    float *x = malloc(sizeof(float) * N_TIMES * N_CH);
    for (int s = 0; s < 3; s++) {
        for (int t = 0; t < N_TIMES; t++)
            for (int c = 0; c < N_CH; c++)
                x[t * N_CH + c] = (float)(1e-5 * sin(0.05 * (c + 1) * t + s) + 1e-8 * t * (c - 1) +
                                          2e-6 * (s + 1));
        btfm_dataset *ds = NULL;
        ck_assert_ok(btfm_dataset_from_array(&ds, x, N_TIMES, N_CH, SF, NULL));
        for (int c = 0; c < N_CH; c++) {
            char name[8];
            snprintf(name, sizeof name, "C%d", c + 1);
            ck_assert_ok(btfm_dataset_set_channel_name(ds, c, name));
            ck_assert_ok(btfm_dataset_set_channel_type(ds, c, BTFM_CH_EEG));
            ck_assert_ok(btfm_dataset_set_channel_unit(ds, c, "V"));
        }
        for (int e = 1; e < 8; e++)
            ck_assert_ok(btfm_dataset_add_event(ds, e, 0, "annotation", e % 2 ? "stim/odd" : "stim/even", 0));
        ck_assert_ok(btfm_dataset_add_event(ds, 0.5, 0, "annotation", "Patient said hello", 0));
        if (s == 1) ck_assert_ok(btfm_dataset_add_event(ds, 2.0, 1.0, "annotation", "BAD_blink", 0));
        char path[512];
        snprintf(path, sizeof path, "%s/sub-%c_task-rest_eeg.edf", root, 'a' + s);
        ck_assert_ok(btfm_dataset_save(ds, path, BTFM_FORMAT_EDF, 0));
        btfm_dataset_free(ds);
    }
    free(x);
}

static btfm_corpus_builder *builder(int dtype)
{
    btfm_corpus_builder *b = NULL;
    ck_assert_ok(btfm_corpus_builder_new(&b));
    ck_assert_ok(btfm_corpus_builder_set_key(b, "a secret key", 12));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_SFREQ, 0));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_L_FREQ, 0));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_H_FREQ, 0));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_REFERENCE, 0));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_CLIP, 0));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_DTYPE, dtype));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_NUM_THREADS, 2));
    ck_assert_ok(btfm_corpus_builder_set_text(b, "keep_annotations", "stim"));
    for (int s = 0; s < 3; s++) {
        char path[512];
        snprintf(path, sizeof path, "%s/sub-%c_task-rest_eeg.edf", root, 'a' + s);
        ck_assert_ok(btfm_corpus_builder_add_file(b, path));
    }
    return b;
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double percentile_sorted(const float *v, int n, double q)
{
    double pos = q * (n - 1);
    int k = (int)floor(pos);
    return k + 1 < n ? v[k] + (pos - k) * ((double)v[k + 1] - v[k]) : v[k];
}

START_TEST(half_closed_forms)
{
    /* every half round-trips through float (NaNs stay NaN) */
    int64_t bad = -1;
    for (uint32_t h = 0; h < 65536 && bad < 0; h++) {
        float f = btfm_half_to_float((uint16_t)h);
        uint16_t back = btfm_half_from_float(f);
        if (isnan(f) ? !((back & 0x7c00) == 0x7c00 && (back & 0x3ff)) : back != h) bad = h;
    }
    ck_assert_msg(bad < 0, "half 0x%04llx does not round-trip", (long long)bad);
    ck_assert_uint_eq(btfm_half_from_float(1.0f), 0x3c00);
    ck_assert_uint_eq(btfm_half_from_float(-2.0f), 0xc000);
    ck_assert_uint_eq(btfm_half_from_float(65504.0f), 0x7bff);
    ck_assert_uint_eq(btfm_half_from_float(65520.0f), 0x7c00);        /* rounds to infinity */
    ck_assert_uint_eq(btfm_half_from_float(ldexpf(1, -24)), 0x0001);  /* smallest subnormal */
    ck_assert_uint_eq(btfm_half_from_float(ldexpf(1, -25)), 0x0000);  /* tie to even: 0 */
    ck_assert_uint_eq(btfm_half_from_float(ldexpf(3, -26)), 0x0001);  /* above the tie */
    ck_assert_uint_eq(btfm_half_from_float(1.0f + ldexpf(1, -11)), 0x3c00); /* tie to even */
    ck_assert_uint_eq(btfm_half_from_float(1.0f + ldexpf(3, -11)), 0x3c02); /* tie to even, up */
    ck_assert_float_eq(btfm_half_to_float(0x3555), 0.333251953125f);
}
END_TEST

/* Batch assembly: every kernel the CPU runs turns a time x channel int16 window into
 * channel rows of v * scale (float), on channel counts around the 8-channel block and
 * lengths around the 16-sample step, with zero rows past the recording's channels; and
 * float16 windows as their halves. */
START_TEST(gather_kernels_match_closed_form)
{
    enum { MAX_C = 19, MAX_T = 40, START = 3 };
    static const int channels[] = {1, 7, 8, 9, 16, 19};
    static const int lengths[] = {1, 8, 15, 16, 17, 33, 40};
    uint16_t *map = malloc(sizeof(uint16_t) * (MAX_T + START) * MAX_C);
    /* aligned_alloc wants a size that is a multiple of the alignment */
    float scale[MAX_C], *out = aligned_alloc(64, (sizeof(float) * (MAX_C + 2) * MAX_T + 63) / 64 * 64);
    int kernels[3] = {BTFM_GATHER_SCALAR}, n_kernels = 1;
    if (btfm_corpus_gather_kernel((size_t)1 << 30) != BTFM_GATHER_SCALAR) {
        kernels[n_kernels++] = BTFM_GATHER_AVX2;
        kernels[n_kernels++] = BTFM_GATHER_STREAM;
    }
    int wrong = 0;
    for (size_t ci = 0; ci < sizeof channels / sizeof *channels; ci++) {
        int Cr = channels[ci];
        for (int i = 0; i < (MAX_T + START) * Cr; i++)
            map[i] = (uint16_t)(int16_t)((i * 7919) % 65535 - 32767);
        for (int c = 0; c < Cr; c++) scale[c] = 0.001f * (float)(c + 1) + 0.5f;
        for (int dtype = 0; dtype < 2; dtype++) {
            corpus_rec r = {.n_channels = Cr, .dtype = dtype, .scale = scale,
                            .map = (const unsigned char *)map};
            for (size_t ti = 0; ti < sizeof lengths / sizeof *lengths; ti++) {
                int T = lengths[ti];
                for (int k = 0; k < n_kernels; k++) {
                    for (int i = 0; i < (Cr + 2) * T; i++) out[i] = NAN;
                    btfm_corpus_gather(&r, START, T, Cr + 2, kernels[k], out);
                    for (int c = 0; c < Cr + 2; c++)
                        for (int t = 0; t < T; t++) {
                            uint16_t u = map[(START + t) * Cr + c % Cr];
                            float want = c >= Cr ? 0.0f
                                       : dtype ? btfm_half_to_float(u)
                                               : (float)(int16_t)u * scale[c];
                            float got = out[c * T + t];
                            wrong += !(got == want || (isnan(got) && isnan(want)));
                        }
                }
            }
        }
    }
    ck_assert_int_eq(wrong, 0);
    free(map);
    free(out);
}
END_TEST

/* Built once for the other tests, in the parent process. */
static void setup(void)
{
    write_sources();
    char out[300];
    snprintf(out, sizeof out, "%s/corpus", root);
    btfm_corpus_builder *b = builder(BTFM_CORPUS_INT16);
    ck_assert_ok(btfm_corpus_build(b, NULL, out, NULL, NULL));
    btfm_corpus_builder_free(b);
}

static void teardown(void) { if (!getenv("KEEP")) rm_rf(root); else printf("%s\n", root); }

START_TEST(build_matches_robust_z)
{
    char out[300];
    snprintf(out, sizeof out, "%s/corpus-checked", root);
    btfm_corpus_builder *b = builder(BTFM_CORPUS_INT16);
    char junk[300];
    snprintf(junk, sizeof junk, "%s/sub-d_task-rest_eeg.edf", root);
    FILE *f = fopen(junk, "w");
    fputs("not an EDF file at all", f);
    fclose(f);
    ck_assert_ok(btfm_corpus_builder_add_file(b, junk));
    int64_t built = 0, failed = 0;
    ck_assert_ok(btfm_corpus_build(b, NULL, out, &built, &failed));
    ck_assert_int_eq(built, 3);
    ck_assert_int_eq(failed, 1);
    size_t size;
    char path[600];
    snprintf(path, sizeof path, "%s/index.json", out);
    char *index = (char *)unit_read_file(path, &size);
    ck_assert_ptr_nonnull(strstr(index, "\"failed\""));
    ck_assert_ptr_nonnull(strstr(index, "reason"));
    ck_assert_ptr_null(strstr(index, "sub-a_"));           /* pseudonymized */
    ck_assert_ptr_null(strstr(index, "sub-d_"));           /* also in failure reasons */
    ck_assert_ptr_null(strstr(index, "Patient said hello")); /* free text dropped */
    ck_assert_ptr_nonnull(strstr(index, "stim/odd"));       /* kept by name */

    /* subject a's values against the robust z-score of the EDF's own samples */
    btfm_dataset *ds = NULL;
    snprintf(path, sizeof path, "%s/sub-a_task-rest_eeg.edf", root);
    ck_assert_ok(btfm_dataset_open(&ds, path, BTFM_FORMAT_AUTO, 0));
    float *x = malloc(sizeof(float) * N_TIMES * N_CH), *col = malloc(sizeof(float) * N_TIMES);
    ck_assert_ok(btfm_dataset_read(ds, 0, N_TIMES, NULL, 0, x));
    btfm_dataset_free(ds);
    btfm_loader *l = NULL;
    ck_assert_ok(btfm_loader_new(&l, out));
    ck_assert_int_eq(btfm_loader_n_recordings(l), 3);
    ck_assert_int_eq(btfm_loader_n_channels(l), N_CH);
    btfm_loader_free(l);
    double worst = 0;
    int found = 0;
    for (int r = 0; r < 3 && !found; r++) {
        /* the entry whose median matches subject a */
        char *p = strstr(index, "\"id\": \"sub-");
        for (int k = 0; k < r && p; k++) p = strstr(p + 1, "\"id\": \"sub-");
        ck_assert_ptr_nonnull(p);
        char id[200];
        ck_assert_int_eq(sscanf(p, "\"id\": \"%199[^\"]\"", id), 1);
        snprintf(path, sizeof path, "%s/recordings/%s.json", out, id);
        size_t jsize;
        char *entry = (char *)unit_read_file(path, &jsize);
        const char *med = strstr(entry, "\"median\"");
        double m0 = strtod(strchr(med, '[') + 1, NULL);
        for (int t = 0; t < N_TIMES; t++) col[t] = x[t * N_CH];
        qsort(col, N_TIMES, sizeof *col, compare_float);
        if (fabs(m0 - percentile_sorted(col, N_TIMES, 0.5)) > 1e-12) { free(entry); continue; }
        found = 1;
        const char *sc = strchr(strstr(entry, "\"scale\""), '[') + 1;
        double scale[N_CH];
        for (int c = 0; c < N_CH; c++) scale[c] = strtod(sc, (char **)&sc), sc++;
        snprintf(path, sizeof path, "%s/recordings/%s.bin", out, id);
        size_t bsize;
        char *bin = (char *)unit_read_file(path, &bsize);
        ck_assert_uint_eq(bsize, 2u * N_TIMES * N_CH);
        for (int c = 0; c < N_CH; c++) {
            for (int t = 0; t < N_TIMES; t++) col[t] = x[t * N_CH + c];
            qsort(col, N_TIMES, sizeof *col, compare_float);
            double median = percentile_sorted(col, N_TIMES, 0.5);
            double iqr = percentile_sorted(col, N_TIMES, 0.75) - percentile_sorted(col, N_TIMES, 0.25);
            for (int t = 0; t < N_TIMES; t++) {
                const unsigned char *q = (const unsigned char *)bin + 2 * (t * N_CH + c);
                double stored = (int16_t)(q[0] | q[1] << 8) * scale[c];
                double z = (x[t * N_CH + c] - median) / iqr;
                double err = fabs(stored - z) / (scale[c] / 2 + 1e-6 * fabs(z));
                if (err > worst) worst = err;
            }
        }
        free(bin);
        free(entry);
    }
    ck_assert_msg(found, "no recording has subject a's median");
    ck_assert_msg(worst <= 1.0 + 1e-6, "stored z-scores off by %g half-steps", worst);
    free(x), free(col), free(index);

    /* rebuilding changes nothing, byte for byte */
    snprintf(path, sizeof path, "%s/index.json", out);
    char *before = (char *)unit_read_file(path, &size);
    ck_assert_ok(btfm_corpus_build(b, NULL, out, &built, &failed));
    size_t size2;
    char *after = (char *)unit_read_file(path, &size2);
    ck_assert_uint_eq(size, size2);
    ck_assert_int_eq(memcmp(before, after, (size_t)size), 0);
    free(before), free(after);
    btfm_corpus_builder_free(b);
}
END_TEST

static btfm_loader *open_loader(void)
{
    char out[300];
    snprintf(out, sizeof out, "%s/corpus", root);
    btfm_loader *l = NULL;
    ck_assert_ok(btfm_loader_new(&l, out));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_WINDOW_S, 1.0));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_STRIDE_S, 0.5));
    return l;
}

START_TEST(windows_and_sampler)
{
    btfm_loader *l = open_loader();
    /* 15 windows a recording (starts 0, 125, ... 1750); subject b's BAD [500, 750)
     * touches the windows starting at 375, 500, 625: 3 skipped */
    int64_t n = 0, skipped = 0;
    ck_assert_ok(btfm_loader_count(l, 3, &n, &skipped));
    ck_assert_int_eq(n, 42);
    ck_assert_int_eq(skipped, 3);
    int64_t n_train, n_val, n_test;
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_VAL_FRACTION, 0.34));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_TEST_FRACTION, 0.34));
    ck_assert_ok(btfm_loader_count(l, 0, &n_train, NULL));
    ck_assert_ok(btfm_loader_count(l, 1, &n_val, NULL));
    ck_assert_ok(btfm_loader_count(l, 2, &n_test, NULL));
    ck_assert_int_eq(n_train + n_val + n_test, 42); /* one subject each */
    ck_assert(n_train > 0 && n_val > 0 && n_test > 0);

    /* DistributedSampler without shuffle: N = 42, R = 4, num_samples 11, padded with the
     * head: rank 1 gets 1, 5, ..., 41, then index 45 - 42 = 3 */
    btfm_loader_free(l);
    l = open_loader();
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_SHUFFLE, 0));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_WORLD_SIZE, 4));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_RANK, 1));
    int64_t ids[64], samples, batches;
    ck_assert_ok(btfm_loader_n_batches(l, &samples, &batches));
    ck_assert_int_eq(samples, 11);
    ck_assert_ok(btfm_loader_epoch_order(l, 0, ids, 64));
    ck_assert_all(i, 11, ids[i] == 1 + 4 * i, "rank 1 index %lld is %lld", (long long)i, (long long)ids[i]);
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_RANK, 3)); /* 43 - 42: the head again */
    ck_assert_ok(btfm_loader_epoch_order(l, 0, ids, 64));
    ck_assert_int_eq(ids[10], 1);
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_DROP_LAST, 1));
    ck_assert_ok(btfm_loader_n_batches(l, &samples, NULL));
    ck_assert_int_eq(samples, 10); /* ceil((42 - 4) / 4) */

    /* shuffled: the ranks together cover every window once (42 = 2 x 21, no padding) */
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_SHUFFLE, 1));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_DROP_LAST, 0));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_WORLD_SIZE, 2));
    int seen[42] = {0};
    int64_t first_epoch0[21], first_epoch1[21];
    for (int r = 0; r < 2; r++) {
        ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_RANK, r));
        ck_assert_ok(btfm_loader_epoch_order(l, 0, ids, 64));
        for (int i = 0; i < 21; i++) seen[ids[i]]++;
        if (r == 0) memcpy(first_epoch0, ids, sizeof first_epoch0);
    }
    ck_assert_all(i, 42, seen[i] == 1, "window %lld served %d times", (long long)i, seen[i]);
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_RANK, 0));
    ck_assert_ok(btfm_loader_epoch_order(l, 1, first_epoch1, 21));
    ck_assert(memcmp(first_epoch0, first_epoch1, sizeof first_epoch0) != 0);
    btfm_loader_free(l);
}
END_TEST

START_TEST(batches_resume_and_no_allocation)
{
    counter.budget = -1;
    ck_assert_ok(btfm_set_allocator(count_malloc, count_realloc, count_free, NULL));
    btfm_loader *l = open_loader();
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_BATCH_SIZE, 5));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_N_BUFFERS, 3));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_PATCH_LEN, 50));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_MASK_RATIO, 0.4));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_SEED, 7));
    int64_t order[64], samples, batches;
    ck_assert_ok(btfm_loader_n_batches(l, &samples, &batches));
    ck_assert_int_eq(samples, 42);
    ck_assert_int_eq(batches, 9);
    ck_assert_ok(btfm_loader_epoch_order(l, 0, order, 64));
    const btfm_batch *b = NULL;
    ck_assert_ok(btfm_loader_next(l, &b)); /* starts the threads */
    long calls = counter.calls;
    int64_t served = 0, T = 250, P = 5;
    double worst = 0;
    int mask_ok = 1;
    for (;;) {
        int64_t rows = btfm_batch_size(b);
        const int64_t *w = btfm_batch_window_ids(b);
        for (int64_t i = 0; i < rows; i++) {
            ck_assert_int_eq(w[i], order[served + i]);
            int masked = 0;
            for (int64_t k = 0; k < N_CH * P; k++) masked += btfm_batch_mask(b)[i * N_CH * P + k];
            mask_ok &= masked == 6; /* round(0.4 x 15) */
            /* channel-first data stay within the int16 range of a z-score */
            for (int64_t k = 0; k < N_CH * T; k++) {
                double v = fabs(btfm_batch_data(b)[i * N_CH * T + k]);
                if (v > worst) worst = v;
            }
        }
        served += rows;
        ck_assert_ok(btfm_loader_next(l, &b));
        if (!b) break;
    }
    ck_assert_int_eq(counter.calls, calls); /* no allocation while serving */
    ck_assert(mask_ok);
    ck_assert(worst > 0.5 && worst < 50);
    ck_assert_int_eq(served, 42);
    int64_t epoch, position;
    ck_assert_ok(btfm_loader_state(l, &epoch, &position));
    ck_assert_int_eq(epoch, 1);
    ck_assert_int_eq(position, 0);

    /* resume at (1, 3) in a new loader: the same next batch */
    ck_assert_ok(btfm_loader_next(l, &b));
    ck_assert_ok(btfm_loader_next(l, &b));
    ck_assert_ok(btfm_loader_next(l, &b));
    ck_assert_ok(btfm_loader_state(l, &epoch, &position));
    ck_assert_int_eq(position, 3);
    ck_assert_ok(btfm_loader_next(l, &b));
    int64_t want[5];
    float want_data[10];
    uint8_t want_mask[15];
    memcpy(want, btfm_batch_window_ids(b), sizeof want);
    memcpy(want_data, btfm_batch_data(b) + 100, sizeof want_data);
    memcpy(want_mask, btfm_batch_mask(b), sizeof want_mask);
    btfm_loader *again = open_loader();
    ck_assert_ok(btfm_loader_set_param(again, BTFM_LOADER_BATCH_SIZE, 5));
    ck_assert_ok(btfm_loader_set_param(again, BTFM_LOADER_PATCH_LEN, 50));
    ck_assert_ok(btfm_loader_set_param(again, BTFM_LOADER_MASK_RATIO, 0.4));
    ck_assert_ok(btfm_loader_set_param(again, BTFM_LOADER_SEED, 7));
    ck_assert_ok(btfm_loader_set_param(again, BTFM_LOADER_NUM_THREADS, 1));
    ck_assert_ok(btfm_loader_set_state(again, epoch, position));
    const btfm_batch *b2 = NULL;
    ck_assert_ok(btfm_loader_next(again, &b2));
    ck_assert_int_eq(memcmp(want, btfm_batch_window_ids(b2), sizeof want), 0);
    ck_assert_int_eq(memcmp(want_data, btfm_batch_data(b2) + 100, sizeof want_data), 0);
    ck_assert_int_eq(memcmp(want_mask, btfm_batch_mask(b2), sizeof want_mask), 0);
    btfm_loader_free(again);
    btfm_loader_free(l);
    ck_assert_int_eq(btfm_live_allocations(), 0);
    ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
}
END_TEST

START_TEST(event_locked_windows)
{
    btfm_loader *l = open_loader();
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_EVENT_LOCKED, 1));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_TMIN, -0.2));
    ck_assert_ok(btfm_loader_set_param(l, BTFM_LOADER_TMAX, 0.5));
    ck_assert_ok(btfm_loader_set_events(l, "stim/odd"));
    ck_assert_int_eq(btfm_loader_window_len(l), 176); /* 125 + 50 + 1 */
    /* events at 1, 3, 5, 7 s in each file: subject b's at 3 s starts at 2.8 s, inside
     * BAD [2, 3): skipped */
    int64_t n, skipped;
    ck_assert_ok(btfm_loader_count(l, 3, &n, &skipped));
    ck_assert_int_eq(n, 11);
    ck_assert_int_eq(skipped, 1);
    ck_assert_int_eq(btfm_loader_n_labels(l), 1);
    ck_assert_str_eq(btfm_loader_label(l, 0), "stim/odd");
    ck_assert_ok(btfm_loader_set_events(l, "stim"));
    ck_assert_int_eq(btfm_loader_n_labels(l), 2);
    btfm_loader_free(l);
}
END_TEST

START_TEST(damaged_corpora_are_named)
{
    char out[300], path[600], id[256], cmd[1000];
    snprintf(out, sizeof out, "%s/corpus-damaged", root);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s/corpus' '%s'", out, root, out);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/index.json", out);
    size_t size;
    char *index = (char *)unit_read_file(path, &size);
    char *p = strstr(index, "\"file\": \"");
    ck_assert_int_eq(sscanf(p, "\"file\": \"%255[^\"]\"", id), 1);
    /* a truncated binary */
    char bin[900];
    snprintf(bin, sizeof bin, "%s/%s", out, id);
    ck_assert_int_eq(truncate(bin, 100), 0);
    btfm_loader *l = NULL;
    ck_assert_status(btfm_loader_new(&l, out), BTFM_E_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), id));
    /* another format version */
    char *v = strstr(index, "\"format_version\": 1");
    ck_assert_ptr_nonnull(v);
    v[strlen("\"format_version\": ")] = '7';
    FILE *f = fopen(path, "w");
    fputs(index, f);
    fclose(f);
    ck_assert_status(btfm_loader_new(&l, out), BTFM_E_VERSION);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "index.json"));
    free(index);
}
END_TEST

/* A second build into the same folder with fewer sources: the index holds this plan's
 * recordings only. Date-like session labels never reach the corpus, failure reasons
 * included. */
START_TEST(merge_takes_the_plan_and_dates_stay_out)
{
    ck_assert(btfm_corpus_label_is_date("20230115"));
    ck_assert(btfm_corpus_label_is_date("2023-01-15"));
    ck_assert(btfm_corpus_label_is_date("150123"));
    ck_assert(btfm_corpus_label_is_date("15Jan2023"));
    ck_assert(btfm_corpus_label_is_date("march3"));
    ck_assert(!btfm_corpus_label_is_date("01"));
    ck_assert(!btfm_corpus_label_is_date("2023"));
    ck_assert(!btfm_corpus_label_is_date("baseline"));
    ck_assert(!btfm_corpus_label_is_date("novelty"));
    ck_assert(!btfm_corpus_label_is_date(""));

    char out[300], path[700], cmd[1500];
    snprintf(out, sizeof out, "%s/corpus-two-queries", root);
    btfm_corpus_builder *b = builder(BTFM_CORPUS_FLOAT16);
    ck_assert_ok(btfm_corpus_build(b, NULL, out, NULL, NULL));
    btfm_corpus_builder_free(b);
    /* subject a again, with a date as its session label, and a damaged file of one */
    snprintf(cmd, sizeof cmd, "cp '%s/sub-a_task-rest_eeg.edf' '%s/sub-a_ses-20230115_task-"
             "rest_eeg.edf' && printf 'not EDF' > '%s/sub-e_ses-2023-02-01_task-rest_eeg.edf'",
             root, root, root);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_ok(btfm_corpus_builder_new(&b));
    ck_assert_ok(btfm_corpus_builder_set_key(b, "a secret key", 12));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_SFREQ, 0));
    ck_assert_ok(btfm_corpus_builder_set_param(b, BTFM_CORPUS_NUM_THREADS, 1));
    snprintf(path, sizeof path, "%s/sub-a_ses-20230115_task-rest_eeg.edf", root);
    ck_assert_ok(btfm_corpus_builder_add_file(b, path));
    snprintf(path, sizeof path, "%s/sub-e_ses-2023-02-01_task-rest_eeg.edf", root);
    ck_assert_ok(btfm_corpus_builder_add_file(b, path));
    int64_t built = 0, failed = 0;
    ck_assert_ok(btfm_corpus_build(b, NULL, out, &built, &failed));
    ck_assert_int_eq(built, 1);
    ck_assert_int_eq(failed, 1);
    btfm_corpus_builder_free(b);
    btfm_loader *l = NULL;
    ck_assert_ok(btfm_loader_new(&l, out));
    ck_assert_int_eq(btfm_loader_n_recordings(l), 1); /* not the first build's three */
    btfm_loader_free(l);
    size_t size;
    snprintf(path, sizeof path, "%s/index.json", out);
    char *index = (char *)unit_read_file(path, &size);
    ck_assert_ptr_null(strstr(index, "20230115"));
    ck_assert_ptr_null(strstr(index, "2023-02-01"));
    ck_assert_ptr_null(strstr(index, "sub-e"));
    uint8_t mac[32];
    char hex[65], want[96];
    btfm_hmac_sha256("a secret key", 12, "ses-20230115", 12, mac);
    btfm_hex(mac, 8, hex);
    snprintf(want, sizeof want, "\"session\": \"%s\"", hex);
    ck_assert_msg(strstr(index, want), "no %s in %s", want, index);
    btfm_hmac_sha256("a secret key", 12, "ses-2023-02-01", 14, mac);
    btfm_hex(mac, 8, hex);
    snprintf(want, sizeof want, "ses-%s", hex);
    ck_assert_ptr_nonnull(strstr(strstr(index, "\"failed\""), want)); /* the failure's id */
    free(index);
    /* the merge of a folder without a plan names it */
    snprintf(path, sizeof path, "%s/plan.json", out);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_status(btfm_corpus_merge(out), BTFM_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "plan.json"));
}
END_TEST

static Suite *corpus_suite(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("corpus");
    unit_set_timeout(tc, 3);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, half_closed_forms);
    tcase_add_test(tc, gather_kernels_match_closed_form);
    tcase_add_test(tc, build_matches_robust_z);
    tcase_add_test(tc, windows_and_sampler);
    tcase_add_test(tc, batches_resume_and_no_allocation);
    tcase_add_test(tc, event_locked_windows);
    tcase_add_test(tc, damaged_corpora_are_named);
    tcase_add_test(tc, merge_takes_the_plan_and_dates_stay_out);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(corpus_suite)
