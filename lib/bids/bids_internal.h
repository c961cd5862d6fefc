/* BIDS inside the io layer: file-name parsing (bids_name.c), the folder walk and index
 * (bids_index.c), sidecar resolution by the inheritance principle (bids_sidecar.c),
 * validation rules (bids_rules.c), applying sidecars to a dataset (bids_apply.c), the
 * writer (bids_write.c). */
#ifndef BTFM_IO_BIDS_INTERNAL_H
#define BTFM_IO_BIDS_INTERNAL_H

#include <pthread.h>
#include <btfm/bids.h>
#include "core/json.h"
#include "core/progress.h"
#include "io/dataset_internal.h"

typedef struct btfm_bids_entity {
    char *key, *value;
} btfm_bids_entity;

/* A parsed file name: key-label pairs, suffix and extension. */
typedef struct btfm_bids_name {
    int n_entities;
    btfm_bids_entity *entities; /* in file order */
    char *suffix;               /* "eeg", "bold", "events" */
    char *extension;            /* ".edf", ".nii.gz", "" for none */
} btfm_bids_name;

/* Parse a file name (no folder part): `key-label` pairs joined by '_', then the suffix
 * and the extension (from the first '.' of the last part). Keys and labels are
 * alphanumeric, index entities (run, echo, ...) decimal digits; no key twice; the
 * entities the specification orders appear in its order. Failures are BTFM_E_FORMAT
 * naming `where` and the rule; `out` is then empty. */
btfm_status btfm_bids_name_parse(btfm_bids_name *out, const char *name, const char *where);
void btfm_bids_name_clear(btfm_bids_name *n);

/* The label of `key`, NULL when absent. */
const char *btfm_bids_name_get(const btfm_bids_name *n, const char *key);

/* 1 for an entity whose label is an index (run, echo, flip, inv, split, chunk). */
int btfm_bids_is_index_entity(const char *key);

/* 1 for an entity the specification defines; the key of the entity at `rank` in the
 * specification's order (0 = sub), NULL past the last. */
int btfm_bids_is_known_entity(const char *key);
const char *btfm_bids_entity_key(int rank);

/* Labels equal as the entity compares them: index entities as numbers ("01" == "1"). */
int btfm_bids_label_equal(const char *key, const char *a, const char *b);

/* The canonical key of a query key: "subject" -> "sub", ... (else the key itself). */
const char *btfm_bids_canonical_key(const char *key);

/* A metadata file found by the walk (a .json or .tsv with a parseable name). */
typedef struct btfm_bids_file {
    char *name;          /* file name */
    char *path;          /* full path */
    btfm_bids_name parsed;
    btfm_json *json;     /* parsed .json sidecars, NULL otherwise */
    char *problem;       /* why the file is unusable (message), NULL when fine */
} btfm_bids_file;

typedef struct btfm_bids_dir {
    char *rel;           /* "" for the root, "sub-01", "sub-01/ses-a", "sub-01/eeg" */
    int parent;          /* index of the parent folder, -1 for the root */
    int n_files;
    int64_t files_cap;
    btfm_bids_file *files;
    btfm_table *scans;   /* this folder's scans.tsv (sub/ses folders), lazily loaded */
    int scans_loaded;
} btfm_bids_dir;

typedef struct btfm_bids_recording {
    char *rel;           /* relative path */
    char *path;          /* full path */
    char *datatype;
    btfm_bids_name name;
    int dir;             /* folder holding the file */
    int scans_dir;       /* the sub/ses folder whose scans.tsv lists it */
    char *metadata;      /* merged sidecar JSON text, lazily computed */
} btfm_bids_recording;

typedef struct btfm_bids_values {
    char *key;
    int64_t n;
    const char **values; /* point into the recordings' entities */
} btfm_bids_values;

typedef struct btfm_bids_skip {
    char *rel, *reason;
} btfm_bids_skip;

struct btfm_bids {
    char *root;
    unsigned flags;
    char *description;   /* dataset_description.json text */
    btfm_table *participants;
    int n_dirs;
    int64_t dirs_cap;
    btfm_bids_dir *dirs;
    int64_t n_recordings, recordings_cap;
    btfm_bids_recording *recordings;
    int64_t n_skipped, skipped_cap;
    btfm_bids_skip *skipped;
    /* Value lists made on first request for a key: each allocated on its own, so a list
     * handed out stays put when more are added; the lock makes the getters safe to call
     * concurrently, as read-only accessors are (doc/THREADING.md). */
    pthread_mutex_t values_lock;
    int n_value_lists;
    int64_t value_lists_cap;
    btfm_bids_values **value_lists;
};

/* Walk the tree under b->root into b->dirs and b->recordings (bids_index.c). */
btfm_status btfm_bids_walk(btfm_bids *b);

/* Read and parse a JSON file (a UTF-8 byte-order mark skipped); the text too when
 * `text` is not NULL (release with btfm_free). */
btfm_status btfm_bids_read_json(const char *path, btfm_json **out, char **text);

/* Release what a recording owns. */
void btfm_bids_recording_clear(btfm_bids_recording *r);

/* The sidecar files applying to recording `r` with `suffix` and `extension`, from the
 * root down (inheritance principle): up to `cap` pointers in `out`, their count in *n.
 * Two candidates in one folder are BTFM_E_FORMAT (rule inheritance-ambiguous). */
btfm_status btfm_bids_sidecars(const btfm_bids *b, const btfm_bids_recording *r,
                               const char *suffix, const char *extension,
                               const btfm_bids_file **out, int cap, int *n);

/* The closest file with `suffix` and `extension` whose entities other than space are
 * the recording's (electrodes.tsv, coordsystem.json: they name the space of their
 * coordinates, which the recording's name does not carry). With `space`, only files of
 * that space. Several in the closest folder (one per space): the first by name, their
 * count in *n_candidates. NULL when none. */
const btfm_bids_file *btfm_bids_spatial_file(const btfm_bids *b, const btfm_bids_recording *r,
                                            const char *suffix, const char *extension,
                                            const char *space, int *n_candidates);

/* Electrode positions of recording `r` from its electrodes.tsv, in metres by the units of
 * its coordsystem.json, with the coordinate system as the dataset's frame
 * (bids_electrodes.c). No electrodes.tsv: nothing changes. */
btfm_status btfm_bids_apply_electrodes(const btfm_bids *b, const btfm_bids_recording *r,
                                       btfm_dataset *ds);

/* The merged JSON sidecar of recording `r` (a new object the caller frees). */
btfm_status btfm_bids_merged_json(const btfm_bids *b, const btfm_bids_recording *r,
                                  btfm_json **out);

/* Strict checks of one recording that need no data: sidecar fields, the sidecar files
 * it uses (bids_rules.c). Caches the merged sidecar text in r->metadata. */
btfm_status btfm_bids_check_recording(const btfm_bids *b, btfm_bids_recording *r);

/* Check a merged sidecar against the datatype's required fields. */
btfm_status btfm_bids_check_sidecar(const btfm_json *sidecar, const char *datatype,
                                    const char *suffix, const char *where);

/* Check the first columns of an events table (onset, duration) and of a channels
 * table (name, type, units). */
btfm_status btfm_bids_check_events_columns(const btfm_table *t, const char *where);
btfm_status btfm_bids_check_channels_columns(const btfm_table *t, const char *where);

/* Apply an events table to a dataset (MNE-BIDS rules, see btfm_bids_apply_sidecars). */
btfm_status btfm_bids_apply_events(btfm_dataset *ds, const btfm_table *events,
                                   const char *where);

/* Apply a channels table to a dataset. */
btfm_status btfm_bids_apply_channels(btfm_dataset *ds, const btfm_table *channels,
                                     const char *where, int lenient);

/* BIDS channel type ("EEG", "MEGMAG", "TRIG") to btfm_channel_type, 0 when unknown; and
 * back. */
int btfm_bids_channel_type(const char *bids_type);
const char *btfm_bids_channel_type_name(int type);

/* Parse an ISO 8601 acq_time ("2021-03-02T10:20:30[.ffffff][Z]") to POSIX seconds;
 * 0 on success. Format one (microseconds when fractional). */
int btfm_bids_parse_time(const char *text, double *seconds);
void btfm_bids_format_time(double seconds, char *out, size_t cap);

/* Join folder and name with '/' into a new string; NULL when out of memory. */
char *btfm_bids_join(const char *dir, const char *name);

/* Write root/dataset_description.json: Name, BIDSVersion, DatasetType ("raw" or
 * "derivative") and GeneratedBy libbtfm (bids_write.c). */
btfm_status btfm_bids_write_description(const char *root, const char *name, const char *type);

#endif
