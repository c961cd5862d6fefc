/* BIDS folders: an index of the recordings of a Brain Imaging Data Structure dataset
 * (EEG, iEEG, MEG, fNIRS, fMRI, behaviour) with their entities, queries, recordings
 * opened as datasets with their sidecars applied (events, channels, metadata), and a
 * writer of valid BIDS datasets. Guide: doc/bids.md. */
#ifndef BTFM_BIDS_H
#define BTFM_BIDS_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "dataset.h"
#include "table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_bids btfm_bids;
typedef struct btfm_bids_writer btfm_bids_writer;

/* Flags of btfm_bids_open. */
#define BTFM_BIDS_LENIENT 0x1u /* skip broken recordings (logged as warnings, listed by
                                  btfm_bids_skipped) instead of refusing the dataset */

/* ---- reading ---- */

/* Index the dataset at `root`: dataset_description.json (with Name and BIDSVersion) is
 * required; participants.tsv is read when present. Every recording is indexed: a data
 * file of a known datatype (eeg, ieeg: .edf .bdf .vhdr .set; meg: .fif and .ds folders;
 * nirs: .snirf; func: _bold/_cbv .nii .nii.gz; beh: _beh.tsv) under sub-<label>/
 * [ses-<label>/]<datatype>/, sorted by relative path. derivatives/, sourcedata/, code/,
 * stimuli/ and dot files are not indexed.
 *
 * Validation is strict: a file name that breaks the entity rules, a sidecar missing a
 * required field, an events.tsv whose first columns are not onset and duration, ...
 * fail with BTFM_E_FORMAT and a message naming the file and the rule ("rule
 * entity-order: ..."). With BTFM_BIDS_LENIENT, a broken recording is skipped with a
 * warning through the log callback and listed by btfm_bids_skipped. */
BTFM_API btfm_status btfm_bids_open(btfm_bids **out, const char *root, unsigned flags);

/* Release the index. NULL is a no-op. */
BTFM_API void btfm_bids_free(btfm_bids *b);

/* The root as given, and dataset_description.json as text. Owned by the handle. */
BTFM_API const char *btfm_bids_root(const btfm_bids *b);
BTFM_API const char *btfm_bids_description(const btfm_bids *b);

/* Number of recordings indexed; negative status for NULL. */
BTFM_API int64_t btfm_bids_n_recordings(const btfm_bids *b);

/* Full path of recording `index` (root/sub-01/eeg/sub-01_task-x_eeg.edf); NULL for a
 * bad index. Owned by the handle. */
BTFM_API const char *btfm_bids_recording_path(const btfm_bids *b, int64_t index);

/* Entities of a recording in file-name order: `key` ("sub", "task", "run", ... and any
 * other key-label pair of the name) and its label ("01"). Owned by the handle. */
BTFM_API int btfm_bids_recording_n_entities(const btfm_bids *b, int64_t index);
BTFM_API btfm_status btfm_bids_recording_entity_at(const btfm_bids *b, int64_t index,
                                                   int k, const char **key,
                                                   const char **value);

/* The label of entity `key` of a recording, or of the pseudo-entities "datatype"
 * ("eeg"), "suffix" ("eeg", "bold") and "extension" (".edf", ".nii.gz"); NULL when the
 * recording has none (not an error) or for a bad index (an error is set). */
BTFM_API const char *btfm_bids_recording_entity(const btfm_bids *b, int64_t index,
                                                const char *key);

/* The recordings matching `query`, a space-separated list of `key=label` terms, each
 * `key=a,b` allowing several labels: "sub=01 task=rest datatype=func". Keys are entity
 * keys, "datatype", "suffix", "extension" and the long names subject, session and
 * acquisition; index entities (run, echo, ...) compare as numbers (run=1 matches run-01).
 * An empty query matches everything. Writes the first min(cap, n) indices (ascending)
 * into `indices` (may be NULL when cap is 0) and the number of matches into *n. A key
 * that no recording has and that is not a BIDS entity is BTFM_E_INVALID, listing the
 * keys the dataset uses. */
BTFM_API btfm_status btfm_bids_query(const btfm_bids *b, const char *query, int64_t *indices,
                                     int64_t cap, int64_t *n);

/* The distinct labels of `key` over all recordings, sorted (numerically for index
 * entities): "sub" gives the subjects, "ses" the sessions, "task", "datatype", ... .
 * btfm_bids_n_values returns the count (0 for a key no recording has) or a negative
 * status; btfm_bids_value the label at `i`, NULL when out of range. Owned by the handle. */
BTFM_API int64_t btfm_bids_n_values(btfm_bids *b, const char *key);
BTFM_API const char *btfm_bids_value(btfm_bids *b, const char *key, int64_t i);

/* Recordings skipped in lenient mode: the path relative to the root and the reason (the
 * message strict mode would have failed with). Owned by the handle. */
BTFM_API int64_t btfm_bids_n_skipped(const btfm_bids *b);
BTFM_API btfm_status btfm_bids_skipped(const btfm_bids *b, int64_t i, const char **path,
                                       const char **reason);

/* The merged JSON sidecar of a recording (the inheritance principle: every applicable
 * <suffix>.json from the root down to the recording's folder, closer files overriding
 * members of farther ones) as JSON text, "{}" when there is none. Read without opening
 * the data. Owned by the handle. */
BTFM_API btfm_status btfm_bids_recording_metadata(btfm_bids *b, int64_t index,
                                                  const char **json);

/* Open recording `index` as a dataset and apply its sidecars (btfm_bids_apply_sidecars).
 * *out is NULL on failure. */
BTFM_API btfm_status btfm_bids_open_recording(const btfm_bids *b, int64_t index,
                                              btfm_dataset **out);

/* Apply the sidecars of recording `index` to `ds` (a dataset opened from the recording's
 * data file, or made by the caller from it, e.g. with btfm_dataset_from_array):
 * - the merged JSON becomes the dataset's metadata (btfm_dataset_metadata); its
 *   SamplingFrequency must equal the dataset's rate (func: RepetitionTime its 1/rate);
 * - the closest *_events.tsv replaces the dataset's events (EDF+D gaps are kept): rows
 *   with an n/a onset are dropped; events get the type "bids"; labels come from
 *   trial_type, else from value, rows whose label is n/a being dropped (the MNE-BIDS
 *   rules); codes from an integer value column; durations n/a are 0; every column
 *   stays available through btfm_dataset_events_table;
 * - the closest *_channels.tsv sets channel types, bad flags (status bad) and units of
 *   unit-less channels, matched by name; a channel missing on either side is BTFM_E_FORMAT
 *   (a warning in lenient mode);
 * - the closest *_electrodes.tsv (EEG, iEEG: ECoG, sEEG; any space- entity) gives the
 *   positions of the channels named in it (btfm_dataset_channel_position), in metres by
 *   the units of the coordsystem.json of the same space, whose (i)EEGCoordinateSystem
 *   becomes the coordinate frame ("ACPC", "MNI152NLin2009bSym", "CapTrak", "Other"...);
 *   contacts the recording lacks or with n/a coordinates are skipped, positions the data
 *   file gave are replaced; no coordsystem.json is BTFM_E_FORMAT (lenient mode: a warning
 *   and no positions), units other than m, cm or mm a warning and no positions;
 * - the scans.tsv row's acq_time, when present, becomes the start time.
 * On failure the dataset may be partly updated. */
BTFM_API btfm_status btfm_bids_apply_sidecars(const btfm_bids *b, int64_t index,
                                              btfm_dataset *ds);

/* participants.tsv (first column participant_id); BTFM_E_NOTFOUND when the dataset has
 * none. Owned by the handle. */
BTFM_API btfm_status btfm_bids_participants(const btfm_bids *b, const btfm_table **table);

/* The participants.tsv row of the recording's subject; BTFM_E_NOTFOUND when there is no
 * participants.tsv or no row for "sub-<label>". */
BTFM_API btfm_status btfm_bids_participant_row(const btfm_bids *b, int64_t index,
                                               int64_t *row);

/* The scans.tsv of the recording's subject (and session) and the row naming the
 * recording (filename column, "<datatype>/<file name>"). *table is NULL when there is no
 * scans.tsv, *row -1 when it has no row for the recording; both are BTFM_E_NOTFOUND.
 * The table is owned by the handle. */
BTFM_API btfm_status btfm_bids_scans(btfm_bids *b, int64_t index, const btfm_table **table,
                                     int64_t *row);

/* A tabular recording (beh: *_beh.tsv) as a new table the caller frees with
 * btfm_table_free; BTFM_E_INVALID for a recording that is not a .tsv file. */
BTFM_API btfm_status btfm_bids_read_table(const btfm_bids *b, int64_t index,
                                          btfm_table **out);

/* ---- writing ---- */

/* Start writing a BIDS dataset at `root` (created if needed; an existing
 * dataset_description.json is replaced). `name` is the dataset's Name. Files are written
 * atomically as recordings are added; participants.tsv, the scans.tsv files and
 * dataset_description.json by btfm_bids_writer_finish. */
BTFM_API btfm_status btfm_bids_writer_new(btfm_bids_writer **out, const char *root,
                                          const char *name);

/* Release the writer (without finishing). NULL is a no-op. */
BTFM_API void btfm_bids_writer_free(btfm_bids_writer *w);

/* Add a recording. `entities` uses the query syntax and needs sub, task and datatype
 * (eeg, ieeg or func): "sub=01 ses=a task=rest run=1 datatype=eeg". `format` is
 * BTFM_FORMAT_EDF, _BDF or _BRAINVISION for eeg and ieeg, BTFM_FORMAT_NIFTI for func (a
 * volume dataset, written as _bold.nii.gz with a _bold.json holding TaskName and
 * RepetitionTime = 1/sfreq, no channels.tsv). Writes the data file (btfm_dataset_save), the
 * <datatype>.json sidecar (the dataset's metadata, then `sidecar_json` members (may be
 * NULL) over it, then TaskName, SamplingFrequency and channel counts; required fields
 * the caller leaves out get "n/a"), channels.tsv (name, type, units, sampling_frequency,
 * status) and events.tsv: `events` (may be NULL; onset and duration first) or else the
 * dataset's events table, or else its events (onset, duration, trial_type = label,
 * value = code, sample). */
BTFM_API btfm_status btfm_bids_writer_add(btfm_bids_writer *w, btfm_dataset *ds,
                                          const char *entities, int format,
                                          const char *sidecar_json, const btfm_table *events);

/* Whether btfm_bids_writer_add keeps what identifies a subject. By default (keep 0) a
 * writer shares de-identified data: every recording is written as btfm_dataset_anonymize
 * leaves it (subject and recording fields cleared, the start date moved to 1985-01-01
 * with the time of day kept) and scans.tsv's acq_time holds that moved date; the caller's
 * dataset is not changed. keep = 1 writes the identification and dates as they are, for
 * data that stays private. Since 1.3. */
BTFM_API btfm_status btfm_bids_writer_keep_identity(btfm_bids_writer *w, int keep);

/* participants.tsv columns beyond participant_id (first column participant_id,
 * "sub-<label>"); subjects added without a row get a row of n/a. Copied. */
BTFM_API btfm_status btfm_bids_writer_set_participants(btfm_bids_writer *w,
                                                       const btfm_table *participants);

/* Write participants.tsv, each subject's (and session's) scans.tsv (filename, acq_time
 * from the dataset's start time) and dataset_description.json. */
BTFM_API btfm_status btfm_bids_writer_finish(btfm_bids_writer *w);

#ifdef __cplusplus
}
#endif

#endif
