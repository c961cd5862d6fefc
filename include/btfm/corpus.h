/* Training corpora (since 1.3): recordings preprocessed once into a folder of compact
 * per-recording binaries plus a JSON index that NumPy opens without libbtfm, then served
 * as shuffled, sharded batches of windows (or patch tokens with a mask) by background
 * threads. Formats, preprocessing equations, sharding and privacy rules: doc/corpus.md. */
#ifndef BTFM_CORPUS_H
#define BTFM_CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== building ==== */

typedef struct btfm_corpus_builder btfm_corpus_builder;

/* Parameters of a builder (kind BTFM_OBJECT_CORPUS); defaults, bounds and a sentence each
 * through btfm_param_info. */
typedef enum btfm_corpus_param {
    BTFM_CORPUS_SFREQ = 0,          /* real: common rate in Hz (0 keeps each recording's) */
    BTFM_CORPUS_L_FREQ = 1,         /* real: band-pass high-pass edge, Hz (0: none) */
    BTFM_CORPUS_H_FREQ = 2,         /* real: band-pass low-pass edge, Hz (0: none) */
    BTFM_CORPUS_FILTER_ORDER = 3,   /* int: Butterworth order, applied forward and backward */
    BTFM_CORPUS_REFERENCE = 4,      /* int: 0 none, 1 average of the good picked channels */
    BTFM_CORPUS_BADS = 5,           /* int: 0 keep, 1 drop, 2 interpolate (drop without positions) */
    BTFM_CORPUS_CLIP = 6,           /* real: clip robust z-scores to [-clip, clip] (0: none) */
    BTFM_CORPUS_DTYPE = 7,          /* int: 0 int16 with per-channel scale, 1 float16 */
    BTFM_CORPUS_NUM_THREADS = 8,    /* int: recordings built at once (0: the processors online) */
    BTFM_CORPUS_FMRI_L_FREQ = 9,    /* real: fMRI high-pass, Hz (0: none) */
    BTFM_CORPUS_FMRI_H_FREQ = 10,   /* real: fMRI low-pass, Hz (0: none) */
    BTFM_CORPUS_NIRS_SFREQ = 11,    /* real: common rate of fNIRS recordings, Hz (0 keeps each) */
    BTFM_CORPUS_NIRS_L_FREQ = 12,   /* real: fNIRS high-pass, Hz (0: none) */
    BTFM_CORPUS_NIRS_H_FREQ = 13,   /* real: fNIRS low-pass, Hz (0: none) */
    BTFM_CORPUS_PARAM_MAX_ = 0x7fffffff
} btfm_corpus_param;

/* Storage types of the recording binaries (BTFM_CORPUS_DTYPE). */
typedef enum btfm_corpus_dtype {
    BTFM_CORPUS_INT16 = 0,   /* little-endian int16; value = stored x scale[channel] */
    BTFM_CORPUS_FLOAT16 = 1, /* little-endian IEEE 754 binary16 */
    BTFM_CORPUS_DTYPE_MAX_ = 0x7fffffff
} btfm_corpus_dtype;

/* A builder with default parameters, no key and no sources. */
BTFM_API btfm_status btfm_corpus_builder_new(btfm_corpus_builder **out);
/* Release a builder. NULL is a no-op. */
BTFM_API void btfm_corpus_builder_free(btfm_corpus_builder *b);
BTFM_API btfm_status btfm_corpus_builder_set_param(btfm_corpus_builder *b, int param,
                                                   double value);
BTFM_API btfm_status btfm_corpus_builder_get_param(const btfm_corpus_builder *b, int param,
                                                   double *value);

/* The pseudonymization key (`len` >= 8 bytes, copied; never written anywhere): a subject
 * label L becomes the first 16 hex digits of HMAC-SHA-256(key, L), and a session, task or
 * run label L that could be a date those of HMAC-SHA-256(key, "ses-L") ("task-L", "run-L").
 * Required before a build: the same key gives the same pseudonyms across corpora. */
BTFM_API btfm_status btfm_corpus_builder_set_key(btfm_corpus_builder *b, const void *key,
                                                 size_t len);

/* Text settings (copied; NULL or "" restores the default):
 * - "query": recordings of a BIDS source, btfm_bids_query syntax ("sub=01,02 task=rest
 *   datatype=eeg"); default every recording of datatype eeg, ieeg or func;
 * - "channel_types": comma-separated btfm_channel_type_name names kept from EEG-like
 *   recordings; default "eeg";
 * - "keep_annotations": comma-separated labels of free-text annotations (EDF+, FIF) kept as
 *   events (hierarchical tags as btfm_dataset_select_events); default none. Events from
 *   events.tsv, stim channels and markers keep their labels; annotations starting with
 *   "BAD" become bad segments whatever this says;
 * - "label_column": the events.tsv column whose value labels each event (default the
 *   trial_type/value rule of BIDS);
 * - "mask": a NIfTI mask image for fMRI (voxel time series); "atlas": a label image
 *   (parcel time series); neither: nilearn's "epi" mask computed per run. */
BTFM_API btfm_status btfm_corpus_builder_set_text(btfm_corpus_builder *b, const char *name,
                                                  const char *value);

/* Progress of btfm_corpus_build (stage "recording i of n"); NULL falls back to the
 * calling thread's callback. */
BTFM_API btfm_status btfm_corpus_builder_set_progress(btfm_corpus_builder *b,
                                                      btfm_progress_fn fn, void *user);

/* Step 1: the sources. `source` is a BIDS folder (queried with "query") or NULL with the
 * files added by btfm_corpus_builder_add_file (EDF, BDF, BrainVision, NIfTI, FIF, ... any
 * btfm_dataset_open format; their subject is the file name's sub- entity, else the
 * file name). Creates `out_dir` (and out_dir/recordings) when missing, removes stale
 * temporaries of an interrupted build and writes out_dir/plan.json (the plan's ids), nothing
 * else. Returns the number of recordings to build in *n_recordings (may be NULL). */
BTFM_API btfm_status btfm_corpus_builder_add_file(btfm_corpus_builder *b, const char *path);
BTFM_API btfm_status btfm_corpus_builder_plan(btfm_corpus_builder *b, const char *source,
                                              const char *out_dir, int64_t *n_recordings);

/* Step 2: build recording `index` (0 .. n_recordings - 1) of the plan into
 * out_dir/recordings/<id>.bin and <id>.json, each written atomically, the .json last; a
 * recording already built with the same parameters and sources is kept as it is. A
 * recording that cannot be read or preprocessed is not an error of this call: its reason
 * goes to out_dir/recordings/<id>.failed.json and *built (may be NULL) is 0. Safe to call
 * for different indices from different threads or processes. */
BTFM_API btfm_status btfm_corpus_builder_build_one(btfm_corpus_builder *b, int64_t index,
                                                   int *built);

/* Step 3: merge the recordings of out_dir/plan.json into out_dir/index.json (atomically),
 * in the order of their ids, failures listed with their reasons under "failed"; entries
 * of earlier plans left in recordings/ stay out. A planned recording neither built nor
 * failed is BTFM_E_STATE. Needs no builder: a process that built nothing can merge. */
BTFM_API btfm_status btfm_corpus_merge(const char *out_dir);

/* Steps 1-3 with the recordings built in parallel (num_threads). A rerun after an
 * interruption builds only what is missing and gives the same bytes. *n_built and
 * *n_failed (may be NULL) count this corpus's recordings. */
BTFM_API btfm_status btfm_corpus_build(btfm_corpus_builder *b, const char *source,
                                       const char *out_dir, int64_t *n_built,
                                       int64_t *n_failed);

/* ==== serving ==== */

typedef struct btfm_loader btfm_loader;
typedef struct btfm_batch btfm_batch;

/* Parameters of a loader (kind BTFM_OBJECT_LOADER). Changing one resets the state to
 * epoch 0, position 0. */
typedef enum btfm_loader_param {
    BTFM_LOADER_WINDOW_S = 0,     /* real: window length in s (fixed-length windows) */
    BTFM_LOADER_STRIDE_S = 1,     /* real: stride in s (0: the window length) */
    BTFM_LOADER_EVENT_LOCKED = 2, /* bool: one window per selected event, tmin..tmax */
    BTFM_LOADER_TMIN = 3,         /* real: s from the event */
    BTFM_LOADER_TMAX = 4,         /* real: s from the event */
    BTFM_LOADER_SPLIT = 5,        /* int: 0 train, 1 validation, 2 test, 3 all */
    BTFM_LOADER_SPLIT_BY = 6,     /* int: 0 subject, 1 session, 2 run (recording), 3 window */
    BTFM_LOADER_VAL_FRACTION = 7, /* real: share of groups in the validation split */
    BTFM_LOADER_TEST_FRACTION = 8,/* real: share of groups in the test split */
    BTFM_LOADER_SEED = 9,         /* int: splits, shuffles and masks */
    BTFM_LOADER_SHUFFLE = 10,     /* bool: reshuffle every epoch */
    BTFM_LOADER_RANK = 11,        /* int */
    BTFM_LOADER_WORLD_SIZE = 12,  /* int */
    BTFM_LOADER_DROP_LAST = 13,   /* bool: DistributedSampler's drop_last (else pad) */
    BTFM_LOADER_BATCH_SIZE = 14,  /* int */
    BTFM_LOADER_DROP_LAST_BATCH = 15, /* bool: DataLoader's drop_last */
    BTFM_LOADER_NUM_THREADS = 16, /* int: background threads assembling batches */
    BTFM_LOADER_N_BUFFERS = 17,   /* int: batches in the ring */
    BTFM_LOADER_PATCH_LEN = 18,   /* int: samples per token (0: one token a channel) */
    BTFM_LOADER_MASK_RATIO = 19,  /* real: share of tokens masked per window */
    BTFM_LOADER_TIME_MAJOR = 20,  /* bool: data as batch x time x channel (tokens per TR) */
    BTFM_LOADER_TOKENS = 21,      /* int: 0 samples, 1 band powers of each patch (below) */
    BTFM_LOADER_PARAM_MAX_ = 0x7fffffff
} btfm_loader_param;

/* Band-power tokens (tokens = 1): each patch of patch_len samples becomes
 * BTFM_LOADER_N_BANDS values, log10 of the mean one-sided power density (units^2/Hz, as
 * scipy.signal.periodogram with a periodic Hann window and the mean removed) over the
 * frequency bins f with lo <= f < hi of delta 1-4, theta 4-8, alpha 8-13, beta 13-30 and
 * gamma 30-45 Hz; a density under 1e-12 counts as 1e-12. Every band must hold a bin
 * (a patch of at least sfreq/3 samples covers delta) and lie below Nyquist. */
#define BTFM_LOADER_N_BANDS 5

/* Open the corpus at `dir` (index.json and every recording binary, memory-mapped). A
 * corpus of another format version, a binary whose size disagrees with its index entry
 * or a malformed index fail naming the file. */
BTFM_API btfm_status btfm_loader_new(btfm_loader **out, const char *dir);
/* Stop the threads and release everything. NULL is a no-op. */
BTFM_API void btfm_loader_free(btfm_loader *l);
BTFM_API btfm_status btfm_loader_set_param(btfm_loader *l, int param, double value);
BTFM_API btfm_status btfm_loader_get_param(const btfm_loader *l, int param, double *value);
/* Labels of the events that make windows in event-locked mode (comma-separated,
 * hierarchical tags; NULL or "": every event). Label ids number the distinct selected
 * labels in sorted order. */
BTFM_API btfm_status btfm_loader_set_events(btfm_loader *l, const char *labels);

/* The corpus's common sampling rate in Hz, and recording i's id, samples and channels
 * (any output may be NULL; the id is owned by the loader). */
BTFM_API double btfm_loader_sfreq(const btfm_loader *l);
BTFM_API btfm_status btfm_loader_recording(const btfm_loader *l, int64_t i, const char **id,
                                           int64_t *n_times, int *n_channels);
/* Recordings, channels (the largest count of a recording: batches pad with zeros and
 * channel id -1), samples per window, and the corpus channel vocabulary (sorted names;
 * channel ids index it). Owned by the loader. */
BTFM_API int64_t btfm_loader_n_recordings(const btfm_loader *l);
BTFM_API int btfm_loader_n_channels(const btfm_loader *l);
BTFM_API int64_t btfm_loader_window_len(btfm_loader *l);
BTFM_API int btfm_loader_n_channel_names(const btfm_loader *l);
BTFM_API const char *btfm_loader_channel_name(const btfm_loader *l, int id);
/* Number of distinct labels and label `id`'s text (event-locked mode). */
BTFM_API int btfm_loader_n_labels(btfm_loader *l);
BTFM_API const char *btfm_loader_label(btfm_loader *l, int id);

/* Windows of `split` (0 train, 1 validation, 2 test, 3 all) under the current parameters,
 * and those skipped because they cross a gap or bad segment (or, event-locked, the
 * recording's ends). Any output may be NULL. */
BTFM_API btfm_status btfm_loader_count(btfm_loader *l, int split, int64_t *n_windows,
                                       int64_t *n_skipped);
/* Windows this rank serves per epoch (DistributedSampler's num_samples) and batches. */
BTFM_API btfm_status btfm_loader_n_batches(btfm_loader *l, int64_t *n_samples,
                                           int64_t *n_batches);
/* The epoch's window order for this rank (n_samples window ids of the split's window
 * list) into `ids` (capacity entries): the sampler alone, for checks. */
BTFM_API btfm_status btfm_loader_epoch_order(btfm_loader *l, int64_t epoch, int64_t *ids,
                                             int64_t capacity);

/* The next batch (starting the threads on first use). At the end of an epoch *out is NULL
 * and the state moves to (epoch + 1, 0). The batch and its arrays stay valid until the
 * next call of btfm_loader_next, btfm_loader_set_state, a parameter change or
 * btfm_loader_free: copy what must live longer. Allocates nothing once running. */
BTFM_API btfm_status btfm_loader_next(btfm_loader *l, const btfm_batch **out);
/* Where the loader is: the epoch and the number of batches of it already handed out. */
BTFM_API btfm_status btfm_loader_state(const btfm_loader *l, int64_t *epoch,
                                       int64_t *position);
/* Resume: the next batch is batch `position` of epoch `epoch`. */
BTFM_API btfm_status btfm_loader_set_state(btfm_loader *l, int64_t epoch, int64_t position);

/* A batch. Shapes: rows = btfm_batch_size (the last batch of an epoch may be short),
 * C = btfm_loader_n_channels, T = btfm_loader_window_len, P = T / patch_len tokens a
 * channel (1 without patches). */
BTFM_API int64_t btfm_batch_size(const btfm_batch *b);
/* rows x C x T floats (rows x T x C when time_major); with patches, C x P x patch_len;
 * band-power tokens: rows x C x P x BTFM_LOADER_N_BANDS. */
BTFM_API const float *btfm_batch_data(const btfm_batch *b);
/* rows label ids (-1 for fixed-length windows). */
BTFM_API const int32_t *btfm_batch_labels(const btfm_batch *b);
/* rows x C x P bytes, 1 where a token is masked (all 0 when mask_ratio is 0). */
BTFM_API const uint8_t *btfm_batch_mask(const btfm_batch *b);
/* rows window ids (index in the split's window list), recording indices, first samples. */
BTFM_API const int64_t *btfm_batch_window_ids(const btfm_batch *b);
BTFM_API const int32_t *btfm_batch_recordings(const btfm_batch *b);
BTFM_API const int64_t *btfm_batch_starts(const btfm_batch *b);
/* rows x C channel ids (-1 for padding) and rows x C x 3 positions in metres (NaN when
 * unknown). */
BTFM_API const int32_t *btfm_batch_channel_ids(const btfm_batch *b);
BTFM_API const float *btfm_batch_positions(const btfm_batch *b);

#ifdef __cplusplus
}
#endif

#endif
