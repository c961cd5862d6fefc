/* The SNIRF driver's pieces (HDF5 builds): the open file and its data, the layout read
 * from /nirs (measurement lists, probe, time), and the extras (stims, aux, tags). */
#ifndef BTFM_IO_SNIRF_INTERNAL_H
#define BTFM_IO_SNIRF_INTERNAL_H

#include "io/hdf5/h5_internal.h"

/* One column of dataTimeSeries as its measurementList describes it. */
typedef struct snirf_measurement {
    int source, detector, wavelength_index, data_type;
    char *label; /* dataTypeLabel, "" when absent */
    char *unit;  /* dataUnit, "" when absent */
} snirf_measurement;

/* What the open dataset reads from. Channels 0 .. n_stored-1 are the columns of
 * dataTimeSeries, the aux channels follow. */
typedef struct snirf_state {
    btfm_h5_where where;
    hid_t file, series;   /* the open file and /nirs/data1/dataTimeSeries */
    int rank, transposed; /* series stored as 1-D, or n_stored x n_rows */
    int n_stored, n_aux;
    float *resident;      /* n_times x n_stored when the time vector was resampled, else NULL */
    double *aux;          /* n_aux x n_times on the data's time grid */
} snirf_state;

/* The time base: the first stored time (s), the rate, the rows stored, and whether the
 * stored times are irregular (then `times` holds them, in seconds, for resampling). */
typedef struct snirf_time {
    double t0, sfreq;
    int64_t n_rows, n_times;
    int irregular;
    double *times; /* n_rows seconds, or NULL when regular */
} snirf_time;

/* snirf_layout.c: the measurement lists of `data` (n_columns of them, numbered from 1),
 * and the time vector. */
btfm_status btfm_snirf_measurements(const btfm_h5_where *w, hid_t data, int n_columns,
                                    snirf_measurement **out);
void btfm_snirf_measurements_free(snirf_measurement *m, int n);
btfm_status btfm_snirf_time(const btfm_h5_where *w, hid_t data, int64_t n_rows,
                            double time_scale, snirf_time *out);

/* snirf_channels.c: channel names, types, units and the probe geometry. */
btfm_status btfm_snirf_channels(btfm_dataset *ds, const btfm_h5_where *w, hid_t nirs,
                                const snirf_measurement *m, int n, double length_scale);

/* snirf_extras.c: metaDataTags (subject, start time, units), stim groups as events, aux
 * groups as channels on the data's time grid. */
typedef struct snirf_tags {
    double time_scale;   /* seconds per stored time unit */
    double length_scale; /* metres per stored length unit; 0 when unknown */
} snirf_tags;
btfm_status btfm_snirf_tags(btfm_dataset *ds, const btfm_h5_where *w, hid_t nirs,
                            snirf_tags *tags);
btfm_status btfm_snirf_stims(btfm_dataset *ds, const btfm_h5_where *w, hid_t nirs,
                             const snirf_time *time, double time_scale);
/* Count the aux channels of nirs (before the dataset is made), then fill them. */
btfm_status btfm_snirf_aux_count(const btfm_h5_where *w, hid_t nirs, int *n_aux);
btfm_status btfm_snirf_aux(btfm_dataset *ds, snirf_state *s, hid_t nirs, const snirf_time *time,
                           double time_scale);

/* Open a dataset over an open SNIRF file (ownership of `file` taken, also on failure);
 * `path` names it in messages. Used by btfm_snirf_open and the fuzz target. */
btfm_status btfm_snirf_open_file(btfm_dataset **out, const char *path, hid_t file);

#endif
