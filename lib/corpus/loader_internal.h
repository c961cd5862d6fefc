/* Shared by the corpus reader, the windows and the loader threads. Not installed. */
#ifndef BTFM_CORPUS_LOADER_INTERNAL_H
#define BTFM_CORPUS_LOADER_INTERNAL_H

#include <pthread.h>
#include "corpus_internal.h"

#define LOADER_PARAM_COUNT 22

/* One recording of an opened corpus. */
typedef struct corpus_rec {
    char *id, *group[3];      /* group keys: subject, subject/session, recording */
    int64_t n_times;
    int n_channels;
    double sfreq;
    int dtype;                /* btfm_corpus_dtype */
    float *scale;             /* int16: n_channels */
    const unsigned char *map; /* the memory-mapped binary */
    size_t map_bytes;
    int32_t *channel_ids;     /* into the loader's vocabulary */
    float *positions;         /* n_channels x 3, NaN when unknown */
    int64_t n_events;
    int64_t *event_onsets;    /* samples */
    char **event_labels;
    int64_t n_bad;
    int64_t *bad;             /* n_bad x [first, stop) */
} corpus_rec;

/* Parse `dir`/index.json and map every binary into recs (n_recs); channel names into the
 * sorted vocabulary. */
btfm_status btfm_corpus_open_index(const char *dir, corpus_rec **recs, int64_t *n_recs, char ***names,
                        int *n_names);
void btfm_corpus_close_index(corpus_rec *recs, int64_t n_recs, char **names, int n_names);

/* The windows of one split. */
typedef struct window_list {
    int64_t n, cap, skipped;
    int32_t *rec;
    int64_t *start;
    int32_t *label;
} window_list;

typedef struct window_spec {
    int64_t length, stride, offset; /* samples; offset: event-locked start from the onset */
    int event_locked;
    const char *events;             /* selected labels, NULL for all */
    int split, split_by;
    double val_fraction, test_fraction;
    uint64_t seed;
} window_spec;

/* Windows of spec->split in recording order (NULL `out` counts only); label ids index
 * `labels` (the sorted distinct selected labels of the whole corpus, n_labels). */
btfm_status btfm_corpus_windows(const corpus_rec *recs, int64_t n_recs, const window_spec *spec,
                           char **labels, int n_labels, window_list *out, int64_t *n,
                           int64_t *skipped);
/* The sorted distinct labels of the events `selection` picks (NULL: all), new strings. */
btfm_status btfm_corpus_labels(const corpus_rec *recs, int64_t n_recs, const char *selection,
                          char ***labels, int *n_labels);
void btfm_window_list_free(window_list *w);

/* Batch assembly kernels: scalar, AVX2, AVX2 with streaming stores. */
enum { BTFM_GATHER_SCALAR, BTFM_GATHER_AVX2, BTFM_GATHER_STREAM };
/* The fastest kernel this CPU runs for batches of batch_bytes. */
int btfm_corpus_gather_kernel(size_t batch_bytes);
/* Samples [start, start + T) of r as C rows of T floats into out (rows past r's channels
 * zero); `kernel` one of the above, AVX2 ones only where btfm_corpus_gather_kernel gives
 * them. */
void btfm_corpus_gather(const corpus_rec *r, int64_t start, int64_t T, int64_t C, int kernel,
                        float *out);

/* Band-power tokens of patches of `patch` samples (band_tokens.c): the periodic Hann
 * window, cos and sin of each in-band bin (windowed; n_bins x patch cos, then sin), each
 * bin's band and density scale, and the bins per band. */
typedef struct band_plan {
    int64_t patch;
    double *hann, *dft, *bin_scale, band_bins[BTFM_LOADER_N_BANDS];
    int *bin_band, n_bins;
} band_plan;
/* The tables for patches of `patch` samples at `sfreq`; BTFM_E_RANGE, naming the band,
 * when a band has no frequency bin. */
btfm_status btfm_band_plan_init(band_plan *bp, int64_t patch, double sfreq);
void btfm_band_plan_free(band_plan *bp);
/* Row `raw` (Cr channels x T samples) as tokens into `out` (C x T/patch x N_BANDS; the
 * channels from Cr on zero). */
void btfm_band_tokens(const band_plan *bp, const float *raw, int64_t Cr, int64_t C, int64_t T,
                      float *out);

/* A uniform draw in [0, n) from a splitmix64 stream (Lemire's multiply-shift). */
uint64_t btfm_corpus_draw(uint64_t *state, uint64_t n);
/* A seeded permutation of 0 .. n-1 (Fisher-Yates) into perm. */
void btfm_corpus_permutation(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream);

#endif
