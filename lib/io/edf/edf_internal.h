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

static inline int32_t btfm_edf_sample(const unsigned char *p)
{
    return (int16_t)(p[0] | (p[1] << 8));
}

static inline int32_t btfm_bdf_sample(const unsigned char *p)
{
    int32_t v = p[0] | (p[1] << 8) | (p[2] << 16);
    return v >= 0x800000 ? v - 0x1000000 : v; /* sign-extend 24 bits */
}

/* Decoding kernels (edf_decode.c), in increasing order of width. */
typedef enum edf_kernel {
    EDF_KERNEL_SCALAR = 0,
    EDF_KERNEL_SSE2,
    EDF_KERNEL_AVX2,
    EDF_KERNEL_AVX512
} edf_kernel;

/* `count` samples of n_picks channels, channel j's samples contiguous from src[j]
 * (int16, or int24 when bdf), scaled by gain[j] and offset[j] into rows of `stride`
 * floats: out[t stride + j]. streaming: non-temporal stores where aligned. */
typedef struct edf_decode {
    const unsigned char *const *src;
    const double *gain, *offset;
    int n_picks, bdf, streaming;
    int64_t count;
    size_t stride;
    float *out;
} edf_decode;

/* The widest kernel this CPU runs. */
edf_kernel btfm_edf_best_kernel(void);

/* Decode with `kernel` (one the CPU lacks falls back to a narrower one); every kernel
 * gives the same floats. */
void btfm_edf_decode(const edf_decode *d, edf_kernel kernel);

#endif
