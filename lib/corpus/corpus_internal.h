/* Shared inside lib/corpus: the builder's plan, the per-recording build, the corpus
 * format's names, float16 conversion. Not installed. */
#ifndef BTFM_CORPUS_INTERNAL_H
#define BTFM_CORPUS_INTERNAL_H

#include <btfm/corpus.h>
#include <btfm/dataset.h>
#include <btfm/bids.h>
#include "core/internal.h"
#include "core/param.h"

#define CORPUS_FORMAT "btfm-corpus"
#define CORPUS_FORMAT_VERSION 1
#define CORPUS_INDEX "index.json"
#define CORPUS_PLAN "plan.json"
#define CORPUS_RECORDINGS "recordings"
#define CORPUS_PARAM_COUNT 14
#define CORPUS_KEY_MAX 1024

/* One recording to build: where it comes from and what it will be called. */
typedef struct corpus_source {
    char *path;        /* the data file */
    int64_t bids_index; /* its index in the BIDS handle, -1 for a file */
    char *id;          /* sub-<pseudonym>[_ses-..][_task-..][_acq-..][_run-..]_<datatype> */
    char *subject;     /* the pseudonym */
    char *label;       /* the subject's label in the source (kept in memory only) */
    char *session, *task, *run, *datatype; /* as stored: "" when absent, pseudonyms for dates */
    char *source_entity[3]; /* session, task, run labels in the source (memory only) */
} corpus_source;

struct btfm_corpus_builder {
    double params[CORPUS_PARAM_COUNT];
    unsigned char key[CORPUS_KEY_MAX];
    size_t key_len;
    char *query, *channel_types, *keep_annotations, *label_column, *mask, *atlas;
    char **files;
    int64_t n_files;
    btfm_progress_fn progress;
    void *progress_user;
    /* the plan */
    btfm_bids *bids;
    char *out_dir;
    corpus_source *sources;
    int64_t n_sources;
};

/* The two large buffers of a recording's preprocessing (before and after resampling),
 * kept by a build's worker from one recording to the next. Zero-initialized when empty. */
typedef struct corpus_scratch {
    float *buf[2];
    size_t cap[2];
} corpus_scratch;

void btfm_corpus_scratch_free(corpus_scratch *s);

/* btfm_corpus_builder_build_one in a worker's buffers (NULL: buffers of its own). */
btfm_status btfm_corpus_build_one_in(btfm_corpus_builder *b, int64_t index, int *built,
                                     corpus_scratch *scratch);

/* Preprocess recording `src` (opened as `ds`) and write its binary and entry, in the
 * buffers of `scratch` (NULL: buffers of its own). The recording's own failures return
 * their status with the message set; the caller turns them into a .failed.json. */
btfm_status btfm_corpus_build_recording(const btfm_corpus_builder *b, const corpus_source *src,
                                   btfm_dataset *ds, const char *build_sha256,
                                   const char *sources_json, corpus_scratch *scratch);

/* 1 when an entity label could hold a date: six or more digits in it (20230115,
 * 2023-01-15, 150123) or a month's name next to a number (15jan2023, march3). Such
 * labels are pseudonymized. */
int btfm_corpus_label_is_date(const char *label);

/* "<out_dir>/recordings/<id><suffix>", NULL after NOMEM. */
char *btfm_corpus_path(const char *out_dir, const char *id, const char *suffix);

/* btfm_corpus_builder_plan; with write 0 the plan is made in memory only: out_dir is not
 * created, cleaned nor written (the ranks of a distributed build other than the first). */
btfm_status btfm_corpus_plan_with(btfm_corpus_builder *b, const char *source,
                                  const char *out_dir, int64_t *n_recordings, int write);

/* IEEE 754 binary16 from float, rounding to nearest even (overflow to infinity), and back. */
uint16_t btfm_half_from_float(float f);
float btfm_half_to_float(uint16_t h);

#endif
