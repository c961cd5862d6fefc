/* EEGLAB .set files inside the io layer: the EEG structure read from a parsed MAT-file
 * (eeglab_struct.c, from memory so the fuzz target runs without files) and the driver
 * (eeglab.c). */
#ifndef BTFM_IO_EEGLAB_INTERNAL_H
#define BTFM_IO_EEGLAB_INTERNAL_H

#include "io/dataset_internal.h"
#include "mat5.h"

typedef struct btfm_eeglab {
    btfm_mat_file mat;
    const btfm_mat *root;         /* the EEG struct; NULL when its fields are variables */
    double srate, xmin;
    int nbchan;
    int64_t pnts, trials;
    const btfm_mat *data;         /* numeric samples, the .fdt name, or NULL */
    const btfm_mat *chanlocs;     /* struct array of nbchan elements, or NULL */
    const btfm_mat *event;        /* struct array, or NULL */
} btfm_eeglab;

typedef struct btfm_eeglab_channel {
    const char *label;            /* chanlocs.labels, else "EEG 000"... as MNE names them */
    char fallback[24];
    int type;                     /* chanlocs.type (eeg when absent or unknown) */
    int has_position;
    double xyz[3];                /* chanlocs X, Y, Z as stored (EEGLAB frame, mm) */
} btfm_eeglab_channel;

typedef struct btfm_eeglab_event {
    double latency;               /* 1-based samples; NaN when absent */
    double duration;              /* samples; 0 when absent */
    const char *label;            /* event.type as text */
    char number[32];
    int code;                     /* a numeric integral type, else 0 */
} btfm_eeglab_event;

/* The EEG structure of a .set file's bytes (level 5; v7.3 files, HDF5, are read from
 * their file by the driver). Missing or invalid srate, nbchan, pnts, trials, chanlocs of
 * the wrong length: BTFM_E_FORMAT naming `where` and the field. `e` is empty on failure. */
btfm_status btfm_eeglab_parse(btfm_eeglab *e, const unsigned char *bytes, size_t len,
                              const char *where);
/* The EEG structure of e->mat, a parsed MAT-file of any version (e is cleared on failure). */
btfm_status btfm_eeglab_from_mat(btfm_eeglab *e, const char *where);
/* 1 when the bytes start with the header text of a MATLAB v7.3 (HDF5) MAT-file. */
int btfm_eeglab_is_v73(const unsigned char *bytes, size_t len);
void btfm_eeglab_clear(btfm_eeglab *e);

/* Channel i (0 <= i < nbchan); failures name the channel. */
btfm_status btfm_eeglab_channel_info(const btfm_eeglab *e, int i, btfm_eeglab_channel *out);

int64_t btfm_eeglab_n_events(const btfm_eeglab *e);
void btfm_eeglab_event_info(const btfm_eeglab *e, int64_t i, btfm_eeglab_event *out);

btfm_status btfm_eeglab_open(btfm_dataset **out, const char *path, unsigned flags);

#endif
