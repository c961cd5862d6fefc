/* BIDS physiological recordings (*_physio.tsv.gz with the JSON sidecar that names their
 * columns; eye tracking by BEP020) inside the io layer: the parse from memory (so the
 * fuzz target runs without files) and the driver (physio.c). */
#ifndef BTFM_IO_PHYSIO_INTERNAL_H
#define BTFM_IO_PHYSIO_INTERNAL_H

#include "io/dataset_internal.h"
#include "core/json.h"

typedef struct btfm_physio {
    btfm_json *sidecar;      /* the JSON sidecar, owned */
    btfm_table *table;       /* the rows under the sidecar's Columns, owned */
    double sfreq;            /* SamplingFrequency, Hz */
    double start_time;       /* StartTime, s (0 when absent) */
    int timestamp_column;    /* the "timestamp" column, -1 when none */
    double timestamp_scale;  /* seconds per unit of the timestamp column */
} btfm_physio;

/* Parse a sidecar (`json`) and the headerless rows (`rows`) of a physio file; `where`
 * names the file in messages. BTFM_E_FORMAT for a sidecar without a positive
 * SamplingFrequency or without Columns of distinct non-empty names, rows whose cell count
 * differs from the Columns, cells that are neither numbers nor n/a; `p` is then empty. */
btfm_status btfm_physio_parse(btfm_physio *p, const char *json, size_t json_len,
                              const char *rows, size_t rows_len, const char *where);
void btfm_physio_clear(btfm_physio *p);

/* Events of a *_physioevents file (its sidecar and rows) onto `ds`, whose physio file
 * `p` describes: onsets on the timestamp column's clock when there is one, else on the
 * clock of StartTime. */
btfm_status btfm_physio_add_events(btfm_dataset *ds, const btfm_physio *p, const char *json,
                                   size_t json_len, const char *rows, size_t rows_len,
                                   const char *where);

btfm_status btfm_physio_open(btfm_dataset **out, const char *path, unsigned flags);

#endif
