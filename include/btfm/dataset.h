/* Neural datasets: one recording of one subject/session/run, presented as a time-major
 * n_times x n_channels matrix of floats in SI units, with channel information, events
 * and windowed reads into caller memory. Formats: doc/formats.md. */
#ifndef BTFM_DATASET_H
#define BTFM_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_dataset btfm_dataset;

/* File formats. Numbers are never reused. */
typedef enum btfm_format {
    BTFM_FORMAT_AUTO = 0,        /* detect from content, then extension */
    BTFM_FORMAT_EDF = 1,         /* EDF and EDF+ (C and D) */
    BTFM_FORMAT_BDF = 2,         /* BDF and BDF+ (C and D) */
    BTFM_FORMAT_BRAINVISION = 3, /* .vhdr + .vmrk + binary data */
    BTFM_FORMAT_NIFTI = 4,       /* NIfTI-1/2: .nii, .nii.gz, .hdr/.img (include/btfm/volume.h) */
    BTFM_FORMAT_MEMORY = 5,      /* a dataset over caller data (btfm_dataset_from_array) */
    BTFM_FORMAT_FIF = 6,         /* FIF raw files (MEG/EEG; .fif, .fif.gz, split files), since 1.3 */
    BTFM_FORMAT_SNIRF = 7,       /* fNIRS .snirf (HDF5; include/btfm/fnirs.h) (since 1.3) */
    BTFM_FORMAT_EEGLAB = 8,      /* EEGLAB .set (MAT-file level 5) with .fdt (since 1.3) */
    BTFM_FORMAT_EYELINK = 9,     /* SR Research EyeLink ASCII exports, .asc (since 1.3) */
    BTFM_FORMAT_PHYSIO = 10,     /* BIDS physio *_physio.tsv[.gz] + .json, eye tracking (since 1.3) */
    BTFM_FORMAT_MAX_ = 0x7fffffff
} btfm_format;

/* Channel types (BIDS and MNE names from btfm_channel_type_name). */
typedef enum btfm_channel_type {
    BTFM_CH_EEG = 1, BTFM_CH_EOG = 2, BTFM_CH_ECG = 3, BTFM_CH_EMG = 4, BTFM_CH_MISC = 5,
    BTFM_CH_STIM = 6, BTFM_CH_ECOG = 7, BTFM_CH_SEEG = 8, BTFM_CH_DBS = 9,
    BTFM_CH_MEG_MAG = 10, BTFM_CH_MEG_GRAD = 11, BTFM_CH_HBO = 12, BTFM_CH_HBR = 13,
    BTFM_CH_FNIRS_CW_AMPLITUDE = 14, BTFM_CH_FNIRS_OD = 15, BTFM_CH_BOLD = 16,
    BTFM_CH_GAZE = 17, BTFM_CH_PUPIL = 18, BTFM_CH_GSR = 19, BTFM_CH_RESP = 20,
    BTFM_CH_PPG = 21, BTFM_CH_TEMPERATURE = 22,
    BTFM_CH_TYPE_MAX_ = 0x7fffffff
} btfm_channel_type;

/* Flags of btfm_dataset_open. */
#define BTFM_OPEN_COMPLETE_RECORDS 0x1u /* accept a file whose record count disagrees with
                                           its size: read the complete records, warn */

/* Flags of btfm_dataset_save. */
#define BTFM_SAVE_ANONYMIZE 0x1u /* write with btfm_dataset_anonymize applied */

/* Name of a format ("edf"), channel type ("eeg"); NULL when unknown. */
BTFM_API const char *btfm_format_name(int format);
BTFM_API const char *btfm_channel_type_name(int type);
/* Channel type from its name (case-insensitive, "eeg", "EOG", ...); 0 when unknown. */
BTFM_API int btfm_channel_type_from_name(const char *name);

/* Open a recording. `format` BTFM_FORMAT_AUTO detects it from the content (magic bytes,
 * header shape), then the extension. For BrainVision give the .vhdr. Reads the header
 * and the annotations; samples are read on demand. */
BTFM_API btfm_status btfm_dataset_open(btfm_dataset **out, const char *path, int format,
                                       unsigned flags);

/* A dataset over caller data (since 1.2): `n_times` x `n_channels` floats, time-major, in
 * SI units, sampled at `sfreq` Hz; the data are copied. Channels are named "1".."n", of
 * type misc with unit "", unless `like` (may be NULL) has the same channel count: then
 * channel names, types, units and bad flags, positions and fNIRS geometry (since 1.3),
 * events, start time, identification, metadata and events table (include/btfm/bids.h)
 * are copied from it. Such a dataset is read, edited and saved like any other, so derived and
 * simulated data can be written as EDF, BDF or BrainVision. */
BTFM_API btfm_status btfm_dataset_from_array(btfm_dataset **out, const float *data,
                                             int64_t n_times, int n_channels, double sfreq,
                                             const btfm_dataset *like);

/* Release the dataset. NULL is a no-op. */
BTFM_API void btfm_dataset_free(btfm_dataset *ds);

BTFM_API int btfm_dataset_format(const btfm_dataset *ds);
/* Number of samples at the dataset rate, and of channels; negative status for NULL. */
BTFM_API int64_t btfm_dataset_n_times(const btfm_dataset *ds);
BTFM_API int btfm_dataset_n_channels(const btfm_dataset *ds);
/* Sampling rate in Hz (the highest channel rate); NaN for NULL. */
BTFM_API double btfm_dataset_sfreq(const btfm_dataset *ds);

/* Start of the recording as POSIX seconds (UTC, as stored: formats keep local time
 * without a zone); BTFM_E_NOTFOUND when the file has none. */
BTFM_API btfm_status btfm_dataset_start_time(const btfm_dataset *ds, double *posix_seconds);

/* Subject and recording identification as stored (EDF patient/recording fields);
 * "" when absent. Owned by the dataset. */
BTFM_API const char *btfm_dataset_subject(const btfm_dataset *ds);
BTFM_API const char *btfm_dataset_recording(const btfm_dataset *ds);

/* ---- channels (0 .. n_channels-1) ---- */

/* Name (UTF-8) and unit ("V" for voltages, else as stored); NULL for a bad index.
 * Owned by the dataset. */
BTFM_API const char *btfm_dataset_channel_name(const btfm_dataset *ds, int channel);
BTFM_API const char *btfm_dataset_channel_unit(const btfm_dataset *ds, int channel);
/* Type (btfm_channel_type), or a negative status for a bad index. */
BTFM_API int btfm_dataset_channel_type(const btfm_dataset *ds, int channel);
BTFM_API btfm_status btfm_dataset_set_channel_type(btfm_dataset *ds, int channel, int type);
/* Native sampling rate as stored, and number of native samples. */
BTFM_API double btfm_dataset_channel_rate(const btfm_dataset *ds, int channel);
BTFM_API int64_t btfm_dataset_channel_n_samples(const btfm_dataset *ds, int channel);
/* Rename a channel (UTF-8, not empty) or set its unit (since 1.2). */
BTFM_API btfm_status btfm_dataset_set_channel_name(btfm_dataset *ds, int channel,
                                                   const char *name);
BTFM_API btfm_status btfm_dataset_set_channel_unit(btfm_dataset *ds, int channel,
                                                   const char *unit);
/* 1 if marked bad, 0 if good, negative status for a bad index. */
BTFM_API int btfm_dataset_channel_bad(const btfm_dataset *ds, int channel);
BTFM_API btfm_status btfm_dataset_set_channel_bad(btfm_dataset *ds, int channel, int bad);
/* Index of the channel called `name`; BTFM_E_NOTFOUND if none. */
BTFM_API btfm_status btfm_dataset_find_channel(const btfm_dataset *ds, const char *name,
                                               int *channel);

/* ---- sensor positions (since 1.3) ---- */

/* Position of a channel's sensor (an electrode, the midpoint of an fNIRS source-detector
 * pair, a MEG coil) in metres, in the dataset's coordinate frame, into xyz (3 doubles).
 * BTFM_E_NOTFOUND when the file gives none for that channel. */
BTFM_API btfm_status btfm_dataset_channel_position(const btfm_dataset *ds, int channel,
                                                   double *xyz);
/* Set (xyz: 3 finite doubles, metres) or clear (xyz NULL) a channel's position. */
BTFM_API btfm_status btfm_dataset_set_channel_position(btfm_dataset *ds, int channel,
                                                       const double *xyz);
/* Coordinate frame of the positions: "head" (MNE's head frame: x towards the right
 * preauricular point, y towards the nasion, z up), a BIDS coordinate system name
 * ("ACPC", "MNI152NLin2009cAsym", ...) or "unknown". Owned by the dataset. */
BTFM_API const char *btfm_dataset_coordinate_frame(const btfm_dataset *ds);
BTFM_API btfm_status btfm_dataset_set_coordinate_frame(btfm_dataset *ds, const char *frame);

/* ---- reading ---- */

/* Samples [first, first + count) at the dataset rate of the `n_picks` channels listed in
 * `picks` (all channels in order when picks is NULL), into `out`, time-major: count rows
 * of n_picks (or n_channels) floats, in SI units. Channels stored at a lower rate are
 * resampled by an anti-aliased polyphase filter (doc/formats.md). Reads only the part
 * of the file the window needs. */
BTFM_API btfm_status btfm_dataset_read(btfm_dataset *ds, int64_t first, int64_t count,
                                       const int *picks, int n_picks, float *out);

/* One channel at its native rate: native samples [first, first + count). */
BTFM_API btfm_status btfm_dataset_read_native(btfm_dataset *ds, int channel, int64_t first,
                                              int64_t count, float *out);

/* ---- events (0 .. n_events-1, sorted by onset) ---- */

BTFM_API int64_t btfm_dataset_n_events(const btfm_dataset *ds);
/* Onset and duration in seconds from the start of the recording; `type` is "annotation"
 * (EDF+), "gap" (EDF+D/BDF+D), "trigger" (a stim channel) or the BrainVision marker
 * type ("Stimulus", ...); `label` the text (UTF-8); `code` an integer code (trigger
 * value, the number of a "S  1" marker, else 0). Outputs may be NULL; strings are
 * owned by the dataset. */
BTFM_API btfm_status btfm_dataset_event(const btfm_dataset *ds, int64_t index, double *onset_s,
                                        double *duration_s, const char **type,
                                        const char **label, int *code);

/* Add an event (since 1.2), kept in onset order (after events with the same onset).
 * Onset and duration in seconds, finite, duration >= 0; type and label UTF-8. */
BTFM_API btfm_status btfm_dataset_add_event(btfm_dataset *ds, double onset_s, double duration_s,
                                            const char *type, const char *label, int code);

/* Select events by label (since 1.3), with MNE's hierarchical tags: `label` selects the
 * events whose label equals it or has each of its /-separated tags among its own
 * ("stim" selects "stim/left" and "stim/right"; "left" selects "stim/left" and
 * "resp/left"). NULL selects every event but EDF+D gaps (type "gap"). The indices of the
 * selected events (in onset order) go to `indices` (NULL: count only) and their number to
 * *n_selected. No match is BTFM_E_NOTFOUND, with a message that lists the labels there
 * are; more matches than `capacity` is BTFM_E_RANGE (with the count in *n_selected). */
BTFM_API btfm_status btfm_dataset_select_events(const btfm_dataset *ds, const char *label,
                                                int64_t *indices, int64_t capacity,
                                                int64_t *n_selected);

/* ---- records (EDF/BDF data records; 1 record for formats without them) ---- */

BTFM_API int64_t btfm_dataset_n_records(const btfm_dataset *ds);
/* Onset in seconds of record `index` (EDF+D: as stored; else index x duration) and the
 * dataset sample at which it starts. */
BTFM_API btfm_status btfm_dataset_record(const btfm_dataset *ds, int64_t index, double *onset_s,
                                         int64_t *first_sample);

/* ---- dataset metadata (set from BIDS sidecars, or by the caller) ---- */

/* The dataset's metadata as JSON text ("{}" when it has none); NULL for NULL. Owned by
 * the dataset. */
BTFM_API const char *btfm_dataset_metadata(const btfm_dataset *ds);

/* Replace the metadata with a JSON object given as text (written to sidecars by the
 * BIDS writer). Not an object, or malformed JSON: BTFM_E_FORMAT with line and column. */
BTFM_API btfm_status btfm_dataset_set_metadata(btfm_dataset *ds, const char *json);

/* In the accessors below, `key` is a member name ("SamplingFrequency"), or, when it starts
 * with '/', a JSON pointer (RFC 6901, since 1.3) to a nested value:
 * "/fif/projectors/0/description" (array elements by 0-based index). */

/* Member `key` of the metadata as numbers: a number gives 1 value, an array of numbers
 * its length. Writes min(cap, count) values into `out` (may be NULL when cap is 0) and
 * the count into *n. BTFM_E_NOTFOUND when absent; BTFM_E_FORMAT when not a number or an
 * array of numbers. */
BTFM_API btfm_status btfm_dataset_meta_numbers(const btfm_dataset *ds, const char *key,
                                               double *out, int64_t cap, int64_t *n);

/* Member `key` of the metadata as a string; BTFM_E_NOTFOUND when absent, BTFM_E_FORMAT
 * when not a string. Owned by the dataset. */
BTFM_API btfm_status btfm_dataset_meta_string(const btfm_dataset *ds, const char *key,
                                              const char **out);

/* The number of elements of an array, or of members of an object, at `key` (since 1.3);
 * BTFM_E_NOTFOUND when absent, BTFM_E_FORMAT for other values. */
BTFM_API btfm_status btfm_dataset_meta_length(const btfm_dataset *ds, const char *key,
                                              int64_t *n);

/* The true/false value at `key` as 1/0 (since 1.3); BTFM_E_NOTFOUND when absent,
 * BTFM_E_FORMAT for other values. */
BTFM_API btfm_status btfm_dataset_meta_bool(const btfm_dataset *ds, const char *key,
                                            int *value);

/* The events table the dataset's events came from (BIDS events.tsv: all of its columns,
 * the rows kept as events, in the order of those events: the events of type "bids" the
 * dataset was opened with, not gaps or events added or imported later);
 * BTFM_E_NOTFOUND when none. Owned by the dataset. */
BTFM_API btfm_status btfm_dataset_events_table(const btfm_dataset *ds,
                                               const btfm_table **table);

/* The clock of `ds` mapped onto the clock of `reference` (since 1.3): two recordings of
 * one session (an eye tracker and the EEG) that logged the same triggers: events with the
 * same non-zero code (eye movements, blinks and gaps are no triggers). Triggers are paired
 * by code and time: the offset most same-code pairs agree on within 50 ms, then nearest
 * same-code triggers within a window of the line, one to one, refitted until the pairs
 * settle (the window ends at six robust standard deviations of the residuals, 1-50 ms),
 * so a trigger only one side logged is left out instead of shifting the others. The
 * least-squares line t_reference = offset_s + (1 + drift) t_ds through the pairs is
 * returned; `rms_s` is the root mean square residual (s), `n_pairs` the pairs used; each
 * output may be NULL. BTFM_E_NOTFOUND when fewer than two pairs at distinct times exist. */
BTFM_API btfm_status btfm_dataset_sync(const btfm_dataset *ds, const btfm_dataset *reference,
                                       double *offset_s, double *drift, double *rms_s,
                                       int64_t *n_pairs);

/* Copy the events of `source` that `label` selects (btfm_dataset_select_events's rules;
 * NULL: every event but gaps) into `ds` (since 1.3), their onsets mapped to
 * offset_s + (1 + drift) onset and their durations scaled by (1 + drift): the fixations
 * and messages of an eye tracker, with btfm_dataset_sync's line, become events of the EEG
 * that epochs and reward features are cut at. Types, labels and codes are kept. On
 * failure `ds` is left as it was. `n_imported` (may be NULL) receives the count. */
BTFM_API btfm_status btfm_dataset_import_events(btfm_dataset *ds, const btfm_dataset *source,
                                                const char *label, double offset_s,
                                                double drift, int64_t *n_imported);

/* ---- writing ---- */

/* Write the dataset to `path` in `format` (BTFM_FORMAT_AUTO: from the extension: .edf,
 * .bdf, .vhdr), atomically (every file written goes through a temporary file and a
 * rename). Same-format writes keep the stored digital values exactly. */
BTFM_API btfm_status btfm_dataset_save(btfm_dataset *ds, const char *path, int format,
                                       unsigned flags);

/* De-identify in memory: clear subject and recording identifiers and shift the start
 * date to 1985-01-01 (time of day kept), as BIDS de-identification does. Events keep
 * their onsets relative to the start. */
BTFM_API btfm_status btfm_dataset_anonymize(btfm_dataset *ds);

#ifdef __cplusplus
}
#endif

#endif
