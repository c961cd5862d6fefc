/* BrainVision (.vhdr/.vmrk/.eeg) inside the io layer: the parsed header and markers,
 * the text helpers both parsers share, and the driver state the writer reads back.
 * Parsers work from memory so the fuzz target runs without touching the filesystem. */
#ifndef BTFM_IO_BRAINVISION_INTERNAL_H
#define BTFM_IO_BRAINVISION_INTERNAL_H

#include "io/dataset_internal.h"

/* [Binary Infos] BinaryFormat values this library reads and writes. */
enum { BTFM_BV_INT_16 = 0, BTFM_BV_INT_32 = 1, BTFM_BV_IEEE_FLOAT_32 = 2 };

/* "INT_16" ...; and bytes per sample. */
const char *btfm_bv_format_name(int binary_format);
size_t btfm_bv_sample_size(int binary_format);

/* ---- text: a decoded file walked line by line ---- */

typedef struct btfm_bv_text {
    char *text;        /* UTF-8, NUL-terminated, owned; lines are cut in place */
    char *next;        /* where the next line starts */
    const char *file;  /* for messages (not owned) */
    int line;          /* number of the line last returned, 1-based */
} btfm_bv_text;

/* Decode `bytes` into t->text: the file's Codepage (ANSI = Windows-1252; UTF-8 or
 * absent = UTF-8 with a Latin-1 fallback for invalid bytes). Skips a UTF-8 BOM. */
btfm_status btfm_bv_text_init(btfm_bv_text *t, const char *bytes, size_t len, const char *file);
void btfm_bv_text_clear(btfm_bv_text *t);

/* The next line that is neither blank nor a ';' comment, without its end-of-line and
 * surrounding blanks; NULL at the end. */
char *btfm_bv_next_line(btfm_bv_text *t);

/* "[Name]" lines: the section name (cut in place), else NULL. */
char *btfm_bv_section(char *line);

/* Cut "Key=Value" at the first '='; 0 when the line has none. */
int btfm_bv_key_value(char *line, char **key, char **value);

/* Split `s` in place at commas into at most `max` fields, each with "\1" turned back
 * into a comma; returns the number of fields. */
int btfm_bv_split_fields(char *s, char **fields, int max);

/* Room for one more item in a growing array (*items of *cap items of `size` bytes,
 * `n` used); NOMEM with `what` named. */

/* Strict numbers: the whole string (blanks around allowed), finite. 0 on success. */
int btfm_bv_parse_int(const char *s, int64_t *out);
int btfm_bv_parse_double(const char *s, double *out);

/* Warn when the first line is not "Brain[ ]Vision ... <what> File ..." (files without
 * it are still read, as MNE does). */
void btfm_bv_check_banner(const btfm_bv_text *t, const char *what);

/* ---- .vhdr ---- */

typedef struct btfm_bv_channel_info {
    char *name;                    /* these point into the header's text */
    const char *reference, *unit;
    double resolution;             /* value = stored number x resolution, in `unit` */
} btfm_bv_channel_info;

typedef struct btfm_bv_header {
    btfm_bv_text text;
    char *data_file, *marker_file; /* as named; marker_file NULL when not named */
    int vectorized;
    int binary_format;
    int n_channels;
    double interval_us;            /* SamplingInterval */
    int64_t data_points;           /* DataPoints, -1 when absent */
    btfm_bv_channel_info *channels;
} btfm_bv_header;

btfm_status btfm_bv_header_parse(btfm_bv_header *h, const char *bytes, size_t len,
                                 const char *file);
void btfm_bv_header_clear(btfm_bv_header *h);

/* ---- .vmrk ---- */

typedef struct btfm_bv_marker {
    char *type, *description;      /* point into the markers' text */
    int64_t position, size;        /* 1-based sample, and length in samples */
    int64_t channel;               /* 0 = all channels */
    int has_date;
    double date;                   /* POSIX seconds (UTC as stored) */
} btfm_bv_marker;

typedef struct btfm_bv_markers {
    btfm_bv_text text;
    btfm_bv_marker *items;
    int64_t n, cap;
} btfm_bv_markers;

btfm_status btfm_bv_markers_parse(btfm_bv_markers *m, const char *bytes, size_t len,
                                  const char *file);
void btfm_bv_markers_clear(btfm_bv_markers *m);

/* "S  1", "R 12", "S255": the number; else 0. */
int btfm_bv_marker_code(const char *description);

/* ---- the reader's state, for the writer ---- */

typedef struct btfm_bv_state {
    btfm_bv_header header;
    int fd;
    int64_t n_samples;
} btfm_bv_state;

extern const btfm_io_driver btfm_bv_driver;

/* Stored numbers of every channel, samples [first, first + count), time-major into out
 * (count x n_channels doubles, exact for every binary format), reading each byte once. */
btfm_status btfm_bv_read_rows(btfm_dataset *ds, int64_t first, int64_t count, double *out);

#endif
