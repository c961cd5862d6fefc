/* EDF/EDF+/BDF/BDF+ driver state shared by its header parser, annotation parser,
 * sample decoder and writer. */
#ifndef BTFM_IO_EDF_INTERNAL_H
#define BTFM_IO_EDF_INTERNAL_H

#include "io/dataset_internal.h"

typedef struct edf_signal {
    int samples_per_record;
    int64_t byte_offset;     /* of this signal within a record */
    int annotation;          /* an "EDF Annotations"/"BDF Annotations" signal */
    int channel;             /* dataset channel index, -1 for annotation signals */
    int dig_min, dig_max;
} edf_signal;

typedef struct edf_state {
    int fd;
    int bdf;                 /* 3 bytes per sample instead of 2 */
    int plus;                /* EDF+/BDF+ */
    int discontinuous;       /* EDF+D/BDF+D */
    int bytes_per_sample;
    int n_signals;
    edf_signal *signals;
    int *signal_of_channel;  /* dataset channel -> signal */
    int64_t header_bytes;
    int64_t record_bytes;
    int64_t n_records;
    double record_duration;
    unsigned char *record;   /* one record, for reads */
} edf_state;

/* Parse and validate the header of an open file into a new dataset (channels, record
 * layout, identifiers, start time). */
btfm_status btfm_edf_parse_header(btfm_dataset **out, const char *path, int fd, int format,
                                  unsigned flags, edf_state **state);

/* Read the annotation signals of every record: record onsets (EDF+D), gap events and
 * annotation events; then BioSemi Status triggers. */
btfm_status btfm_edf_read_annotations(btfm_dataset *ds, edf_state *st);
btfm_status btfm_edf_read_triggers(btfm_dataset *ds, edf_state *st);

/* Read whole records [first, first + count) into buf (count x record_bytes). */
btfm_status btfm_edf_pread(btfm_dataset *ds, const edf_state *st, int64_t offset, size_t n,
                           void *buf);

extern const btfm_io_driver btfm_edf_driver;

#endif
