/* SR Research EyeLink ASCII exports (.asc) inside the io layer: the parse from memory
 * (eyelink_asc.c, so the fuzz target runs without files) and the driver that turns it
 * into a dataset (eyelink.c). */
#ifndef BTFM_IO_EYELINK_INTERNAL_H
#define BTFM_IO_EYELINK_INTERNAL_H

#include "io/dataset_internal.h"

enum { BTFM_ASC_MAX_COLUMNS = 16 }; /* two eyes x, y, pupil, velocities, res, input: 13 */

typedef struct btfm_asc_event {
    int kind;            /* BTFM_ASC_FIXATION ... */
    int eye;             /* 1 left, 2 right, 0 for messages */
    double start_ms, end_ms;
    char *text;          /* messages: the text after the time */
    int64_t first_row, n_rows; /* gaps: the grid rows no sample line reached */
} btfm_asc_event;

enum { BTFM_ASC_FIXATION = 1, BTFM_ASC_SACCADE, BTFM_ASC_BLINK, BTFM_ASC_MESSAGE, BTFM_ASC_GAP };

typedef struct btfm_asc {
    double rate;                 /* RATE of the SAMPLES lines, Hz */
    double first_ms;             /* time of the first START (else the first sample) */
    int n_columns;               /* sample values a row: per eye x, y, pupil, then vel, res */
    const char *names[BTFM_ASC_MAX_COLUMNS];
    int types[BTFM_ASC_MAX_COLUMNS];
    const char *units[BTFM_ASC_MAX_COLUMNS];
    int64_t n_rows;              /* rows on the regular grid from first_ms */
    float *values;               /* n_rows x n_columns, NaN where missing or between blocks */
    int64_t n_events, events_cap;
    btfm_asc_event *events;
    int pupil_diameter;          /* PUPIL DIAMETER, else area */
} btfm_asc;

/* Parse an .asc text of `len` bytes. Failures are BTFM_E_FORMAT naming `where` and the
 * line; `a` is then empty. */
btfm_status btfm_asc_parse(btfm_asc *a, const char *text, size_t len, const char *where);
/* The same with at most `max_rows` grid rows (BTFM_E_RANGE beyond; the fuzz target's
 * memory bound; btfm_asc_parse allows 2^31). */
btfm_status btfm_asc_parse_limited(btfm_asc *a, const char *text, size_t len,
                                   const char *where, int64_t max_rows);
void btfm_asc_clear(btfm_asc *a);

btfm_status btfm_eyelink_open(btfm_dataset **out, const char *path, unsigned flags);

#endif
