/* What a format driver fills in and implements; the dataset handle (dataset.c) owns the
 * channel, event and record tables and does the generic parts (accessors, picks,
 * resampling to the dataset rate). */
#ifndef BTFM_IO_DATASET_INTERNAL_H
#define BTFM_IO_DATASET_INTERNAL_H

#include <btfm/dataset.h>
#include "core/internal.h"
#include "core/polyphase.h"

typedef struct btfm_channel {
    char *name;              /* UTF-8 */
    char *unit;              /* SI unit for voltages ("V"), else as stored */
    char *stored_unit;       /* as in the file ("uV") */
    char *transducer;        /* as in the file, may be "" */
    char *prefilter;         /* as in the file, may be "" */
    int type;                /* btfm_channel_type */
    int bad;
    int64_t n_samples;       /* native samples */
    double rate;             /* native rate, Hz */
    /* physical (SI) = digital * gain + offset; stored range for writers */
    double gain, offset;
    double phys_min, phys_max, dig_min, dig_max; /* in stored units, as in the file */
    int samples_per_record;  /* EDF/BDF; n_samples for formats without records */
    btfm_polyphase *resampler; /* native rate -> dataset rate, NULL when equal */
    int shared_strings;      /* the five strings live in ds->channel_arena (volumes) */
    /* A physical range (SI) the data stay within, declared by a producer that knows it
     * (generated datasets): EDF/BDF writers scale to it instead of scanning the data. */
    int has_range;
    double range_min, range_max;
} btfm_channel;

typedef struct btfm_event_rec {
    double onset, duration;
    char *type, *label;
    int code;
    int64_t row; /* its row of the events table (events_table), or -1 */
} btfm_event_rec;

/* The measurement behind an fNIRS channel (source 0: not an fNIRS channel). */
typedef struct btfm_nirs_geometry {
    int source, detector;    /* 1-based, as in the file */
    double wavelength;       /* nm; NaN for haemoglobin channels */
    double source_pos[3], detector_pos[3]; /* metres; NaN when unknown */
} btfm_nirs_geometry;

typedef struct btfm_io_driver {
    const char *name;
    /* Digital values of channel `ch`, native samples [first, first + count), as doubles
     * (exact for every stored type). Range already checked. */
    btfm_status (*read_digital)(btfm_dataset *ds, int ch, int64_t first, int64_t count,
                                double *out);
    /* Physical values of channels `picks` (all at the dataset rate), samples
     * [first, first + count), time-major with row stride `stride` floats, into out
     * (column j of a row is picks[j]). Range already checked. */
    btfm_status (*read_block)(btfm_dataset *ds, int64_t first, int64_t count,
                              const int *picks, int n_picks, size_t stride, float *out);
    void (*close)(btfm_dataset *ds);
} btfm_io_driver;

struct btfm_dataset {
    const btfm_io_driver *driver;
    void *state;             /* the driver's */
    char *path;
    int format;
    double sfreq;
    int64_t n_times;
    int n_channels;
    btfm_channel *channels;
    int64_t n_events, events_cap;
    btfm_event_rec *events;
    int64_t n_records;
    double record_duration;  /* seconds; 0 when the format has no records */
    double *record_onsets;   /* n_records, or NULL: onset = index x duration */
    char *subject, *recording;
    int has_start_time;
    double start_time;       /* POSIX seconds */
    char *channel_arena;     /* strings of channels with shared_strings set */
    struct btfm_volume *volume; /* geometry and mask of volume datasets, else NULL */
    struct btfm_json *metadata;   /* a JSON object (BIDS sidecars), NULL when none */
    char *metadata_text;          /* its text, NULL when none */
    struct btfm_table *events_table; /* the table events came from (BIDS events.tsv) */
    double *positions;       /* n_channels x 3 metres, NaN rows when unknown; NULL when none */
    char *coord_frame;       /* frame of the positions; NULL means "unknown" */
    btfm_nirs_geometry *nirs; /* n_channels, NULL for datasets without fNIRS channels */
};

/* Give a channel whose strings live in the arena its own copies, before changing one. */
btfm_status btfm_channel_own_strings(btfm_channel *c);
/* Fill a zeroed channel with src's name, unit, type and bad flag, or without src the
 * defaults: named index + 1, type misc, unit "" (dataset_memory.c); gain 1, offset 0. */
btfm_status btfm_channel_copy(btfm_channel *c, const btfm_channel *src, int index);
/* Free a channel's strings and resampler (not the channel itself). */
void btfm_channel_clear(btfm_channel *c);
/* Free a table of n channels (NULL is fine) with what each owns. */
void btfm_channels_release(btfm_channel *channels, int n);

/* "a, b, c": the distinct event labels of `ds` for messages (io/event_select.c). */
btfm_status btfm_dataset_event_labels_text(const btfm_dataset *ds, char *out, size_t cap);

/* A new dataset with `n_channels` zeroed channels (driver and fields to be filled). */
btfm_status btfm_dataset_alloc(btfm_dataset **out, const char *path, int format,
                               int n_channels);

/* Duplicate a string into a channel/dataset field, reporting NOMEM. */
btfm_status btfm_io_strdup(char **dst, const char *src, size_t len);

/* Replace a string field with a copy of `value` (old value freed), reporting NOMEM. */
btfm_status btfm_set_string(char **field, const char *value);

/* Append an event (strings copied; no row of the events table); btfm_dataset_finish sorts. */
btfm_status btfm_dataset_append_event(btfm_dataset *ds, double onset, double duration,
                                   const char *type, const char *label, int code);
/* btfm_dataset_add_event for an event from row `row` of the events table (-1: none). */
btfm_status btfm_dataset_insert_event(btfm_dataset *ds, double onset, double duration,
                                      const char *type, const char *label, int code, int64_t row);

/* After the driver filled the channels: sort events, set up resamplers for channels below
 * the dataset rate, and check consistency. */
btfm_status btfm_dataset_finish(btfm_dataset *ds);

/* Convert a stored unit to SI: sets *factor and *si ("V" for nV/uV/µV/mV/V). Returns 0
 * for units it does not know (factor 1, unit kept). */
int btfm_unit_to_si(const char *stored, double *factor, const char **si);

/* Guess a channel type from an EDF-style label ("EEG Fpz-Cz", "EOG left", "Status"). */
int btfm_channel_type_from_label(const char *label);

/* Replace the metadata with `json` (an object; ownership taken, also on failure) or the
 * events table with `table` (ownership taken) (dataset_meta.c). */
btfm_status btfm_dataset_take_metadata(btfm_dataset *ds, struct btfm_json *json);
void btfm_dataset_take_events_table(btfm_dataset *ds, struct btfm_table *table);
/* Copy src's metadata and events table into dst. */
btfm_status btfm_dataset_copy_extras(btfm_dataset *dst, const btfm_dataset *src);
/* Copy what describes the recording rather than its channels: events, start time,
 * subject and recording identification, metadata and events table
 * (dataset_memory.c; datasets derived with other channels use it too). */
btfm_status btfm_dataset_copy_recording(btfm_dataset *dst, const btfm_dataset *src);

/* Positions, coordinate frame and fNIRS geometry (dataset_position.c): copy src's into dst
 * (same channel count), or drop them when the channels change. */
btfm_status btfm_dataset_copy_geometry(btfm_dataset *dst, const btfm_dataset *src);
void btfm_dataset_drop_geometry(btfm_dataset *ds);

/* A new table with the columns and cells of `t` (dataset_meta.c). */
btfm_status btfm_io_table_copy(struct btfm_table **out, const struct btfm_table *t);

/* Days from 1970-01-01 to a proleptic Gregorian date (edf_header.c). */
int64_t btfm_days_from_civil(int64_t y, int m, int d);

/* Produce samples [first, first + count) of every channel, time-major (count rows of
 * n_channels floats, SI units), into `out`. Called with consecutive windows from 0. */
typedef btfm_status (*btfm_generate_fn)(void *ctx, int64_t first, int64_t count, float *out);

/* A dataset whose samples `fn` computes on demand, `block` rows at a time, held one block
 * at a time (dataset_generated.c). Channels are named "1".."n", type misc, unit "" until
 * the caller sets them. Read forward only: the newest two blocks are held, and a window
 * starting before them is BTFM_E_UNSUPPORTED; after a failure of `fn` every later read
 * fails with its status. The writers (btfm_dataset_save) read that way when `block` is at
 * least one EDF record (BrainVision and NIfTI read rows in order), so a recording of any
 * length streams to disk through two blocks. */
btfm_status btfm_dataset_generated(btfm_dataset **out, int64_t n_times, int n_channels,
                                   double sfreq, int64_t block, btfm_generate_fn fn, void *ctx);

/* Trigger events of stim channel `ch` (stim_events.c): each change of its value (physical
 * when `physical`, else digital, rounded, then `& mask`) to a non-zero value is an event of
 * type "trigger" (code and label the value) lasting until the next change. */
btfm_status btfm_io_stim_events(btfm_dataset *ds, int ch, int physical, unsigned mask);

/* Drivers. */
btfm_status btfm_edf_open(btfm_dataset **out, const char *path, int format, unsigned flags);
btfm_status btfm_brainvision_open(btfm_dataset **out, const char *path, unsigned flags);
btfm_status btfm_fif_open(btfm_dataset **out, const char *path, unsigned flags);
btfm_status btfm_snirf_open(btfm_dataset **out, const char *path, unsigned flags);
btfm_status btfm_eeglab_open(btfm_dataset **out, const char *path, unsigned flags);
btfm_status btfm_eyelink_open(btfm_dataset **out, const char *path, unsigned flags);
btfm_status btfm_physio_open(btfm_dataset **out, const char *path, unsigned flags);
btfm_status btfm_edf_save(btfm_dataset *ds, const char *path, int format, unsigned flags);
btfm_status btfm_brainvision_save(btfm_dataset *ds, const char *path, unsigned flags);

/* Latin-1 to UTF-8 for bytes that are not valid UTF-8 (never fails on content): returns
 * a new string owned by the caller (btfm_free), NULL when out of memory. */
char *btfm_text_to_utf8(const char *bytes, size_t len);

/* The last word of a message when it is a whole number of up to 9 digits ("TRIGGER 17"
 * gives 17): the code that pairs it with the same trigger in another recording; 0
 * otherwise (text.c). */
int btfm_io_message_code(const char *text);

/* btfm_dataset_from_array without the copy: the new memory dataset owns `data` (from
 * btfm_malloc, n_times x n_channels floats, shape already checked), which is freed on
 * failure too. */
btfm_status btfm_dataset_adopt_array(btfm_dataset **out, float *data, int64_t n_times,
                                     int n_channels, double sfreq, const btfm_dataset *like);

/* The start time de-identification (btfm_dataset_anonymize) gives a recording that
 * started at `posix_seconds`: 1985-01-01 with the time of day kept. */
double btfm_deidentified_start(double posix_seconds);

#endif
