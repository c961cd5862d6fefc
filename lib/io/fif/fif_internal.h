/* FIF (Neuromag/Elekta/MEGIN, MNE) raw files: the tag and block structure, the measurement
 * info, and the raw data buffers across split files. Constants as in MNE's
 * mne/io/constants.py (the FIFF specification's numbers). */
#ifndef BTFM_IO_FIF_INTERNAL_H
#define BTFM_IO_FIF_INTERNAL_H

#include "io/dataset_internal.h"

/* Block kinds. */
enum {
    FIFFB_MEAS = 100, FIFFB_MEAS_INFO = 101, FIFFB_RAW_DATA = 102, FIFFB_SUBJECT = 106,
    FIFFB_HPI_RESULT = 109, FIFFB_CONTINUOUS_DATA = 112, FIFFB_CH_INFO = 113, FIFFB_REF = 118,
    FIFFB_IAS_RAW_DATA = 119, FIFFB_PROJ = 313, FIFFB_PROJ_ITEM = 314,
    FIFFB_MNE_BAD_CHANNELS = 359, FIFFB_MNE_CTF_COMP = 370, FIFFB_MNE_CTF_COMP_DATA = 371,
    FIFFB_PROCESSING_HISTORY = 900, FIFFB_PROCESSING_RECORD = 901,
    FIFFB_MNE_ANNOTATIONS = 3810
};

/* Tag kinds. */
enum {
    FIFF_FILE_ID = 100, FIFF_DIR_POINTER = 101, FIFF_DIR = 102, FIFF_BLOCK_ID = 103,
    FIFF_BLOCK_START = 104, FIFF_BLOCK_END = 105, FIFF_NOP = 108, FIFF_CREATOR = 113,
    FIFF_REF_ROLE = 115, FIFF_REF_FILE_NUM = 117, FIFF_REF_FILE_NAME = 118,
    FIFF_NCHAN = 200, FIFF_SFREQ = 201, FIFF_CH_INFO = 203, FIFF_MEAS_DATE = 204,
    FIFF_COMMENT = 206, FIFF_FIRST_SAMPLE = 208, FIFF_EXPERIMENTER = 212, FIFF_LOWPASS = 219,
    FIFF_COORD_TRANS = 222, FIFF_HIGHPASS = 223, FIFF_NAME = 233, FIFF_LINE_FREQ = 235,
    FIFF_CH_DACQ_NAME = 258, FIFF_SSS_FRAME = 263, FIFF_SSS_JOB = 264, FIFF_SSS_ORD_IN = 266,
    FIFF_SSS_ORD_OUT = 267, FIFF_SSS_NMAG = 268, FIFF_DATA_BUFFER = 300, FIFF_DATA_SKIP = 301,
    FIFF_SUBJ_HIS_ID = 410, FIFF_PROJ_ITEM_KIND = 3411, FIFF_PROJ_ITEM_NVEC = 3414,
    FIFF_PROJ_ITEM_VECTORS = 3415, FIFF_PROJ_ITEM_CH_NAME_LIST = 3417,
    FIFF_MNE_CH_NAME_LIST = 3507, FIFF_MNE_PROJ_ITEM_ACTIVE = 3560,
    FIFF_MNE_BASELINE_MIN = 3568, FIFF_MNE_BASELINE_MAX = 3569,
    FIFF_MNE_CTF_COMP_KIND = 3580, FIFF_MNE_CUSTOM_REF = 3597
};

/* Tag data types (the low 16 bits; matrices set high bits). */
enum {
    FIFFT_SHORT = 2, FIFFT_INT = 3, FIFFT_FLOAT = 4, FIFFT_DOUBLE = 5, FIFFT_STRING = 10,
    FIFFT_DAU_PACK16 = 16, FIFFT_COMPLEX_FLOAT = 20, FIFFT_COMPLEX_DOUBLE = 21,
    FIFFT_CH_INFO_STRUCT = 30, FIFFT_ID_STRUCT = 31, FIFFT_DIR_ENTRY_STRUCT = 32,
    FIFFT_COORD_TRANS_STRUCT = 35
};

#define FIFF_TAG_HEADER 16 /* kind, type, size, next: big-endian int32 each */
#define FIFF_CH_INFO_SIZE 96

/* One FIF file: a descriptor read with pread, or (gzip files, fuzzing) bytes in memory. */
typedef struct fif_file {
    char *path;
    int fd;                  /* -1 when in memory */
    unsigned char *bytes;    /* the whole file when in memory */
    int owns_bytes;
    int64_t size;
} fif_file;

typedef struct fif_tag {
    int32_t kind;
    uint32_t type;
    int32_t size;            /* data bytes */
    int64_t pos;             /* of the tag header */
    int32_t block;           /* innermost enclosing block, -1 at the top level */
} fif_tag;

typedef struct fif_block {
    int32_t kind;
    int32_t parent;          /* -1 at the top level */
    int64_t pos;             /* of its FIFF_BLOCK_START tag */
} fif_block;

/* The tags of a file (from its directory or a sequential scan) and its blocks. */
typedef struct fif_tree {
    fif_tag *tags;
    int64_t n_tags;
    fif_block *blocks;
    int32_t n_blocks;
} fif_tree;

/* ---- fif_tag.c: files, tags, blocks ---- */

/* Open `path` (.gz: decompressed into memory). */
btfm_status btfm_fif_file_open(fif_file *f, const char *path);
/* A file over `len` bytes owned by the caller (not copied). */
void btfm_fif_file_memory(fif_file *f, const unsigned char *bytes, size_t len, const char *name);
void btfm_fif_file_close(fif_file *f);
/* `n` bytes at `offset`; BTFM_E_TRUNCATED past the end. */
btfm_status btfm_fif_pread(const fif_file *f, void *buf, size_t n, int64_t offset);

/* Read the tag list (the tag directory when the file has a valid one, else a sequential
 * scan that follows `next` pointers forwards only) and nest the blocks. Truncation, sizes
 * past the end, backward pointers and unbalanced blocks are BTFM_E_FORMAT or
 * BTFM_E_TRUNCATED with the byte offset. */
btfm_status btfm_fif_tree_read(fif_tree *t, const fif_file *f);
void btfm_fif_tree_clear(fif_tree *t);

/* 1 when block `b` is `ancestor` or inside it (ancestor -1: the whole file). */
int btfm_fif_block_within(const fif_tree *t, int32_t b, int32_t ancestor);
/* The first block of `kind` within `ancestor` (-1: anywhere) after block index `after`
 * (-1 to start); -1 when none. */
int32_t btfm_fif_find_block(const fif_tree *t, int32_t kind, int32_t ancestor, int32_t after);
/* The distinct block kinds of the file in the order they first appear ("310, 311"),
 * "none" when it has no blocks; cut with "..." to fit `cap` bytes. */
void btfm_fif_block_kinds(const fif_tree *t, char *out, size_t cap);
/* The first tag of `kind` directly in block `b`; NULL when none. */
const fif_tag *btfm_fif_find_tag(const fif_tree *t, int32_t b, int32_t kind);

/* Tag data readers: check type and size, read and convert from big-endian. Strings are
 * NUL-terminated copies (UTF-8 from Latin-1 where needed) the caller frees. */
btfm_status btfm_fif_read_int(const fif_file *f, const fif_tag *tag, int32_t *out);
btfm_status btfm_fif_read_ints(const fif_file *f, const fif_tag *tag, int32_t *out, int n);
btfm_status btfm_fif_read_double(const fif_file *f, const fif_tag *tag, double *out);
btfm_status btfm_fif_read_string(const fif_file *f, const fif_tag *tag, char **out);
/* Float (or double) vector of exactly `n` values. */
btfm_status btfm_fif_read_floats(const fif_file *f, const fif_tag *tag, double *out, int64_t n);
/* Dimensions of a dense matrix tag (rows, columns); BTFM_E_FORMAT for anything else. */
btfm_status btfm_fif_matrix_dims(const fif_file *f, const fif_tag *tag, int32_t *rows,
                                 int32_t *cols);

static inline uint32_t btfm_fif_be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* ---- fif_info.c: measurement info ---- */

typedef struct fif_channel {
    char name[16 * 4 + 1];   /* UTF-8 of the 16-byte name, or the long DACQ name below */
    char *long_name;         /* FIFF_CH_DACQ_NAME (extended channel info), else NULL */
    int32_t kind, coil_type, unit, unit_mul;
    double range, cal;
    double loc[12];
} fif_channel;

typedef struct fif_info {
    int32_t n_channels;
    double sfreq;
    fif_channel *channels;
    int has_meas_date;
    double meas_date;        /* POSIX seconds of sample 0 (not of first_samp) */
    int has_dev_head;
    double dev_head[12];     /* rotation (row-major 3x3) then translation */
    int32_t meas_block, info_block;
} fif_info;

/* The measurement info of the FIFFB_MEAS block: channels, rate, date, transforms. */
btfm_status btfm_fif_info_read(fif_info *info, const fif_file *f, const fif_tree *t);
void btfm_fif_info_clear(fif_info *info);
/* Fill the dataset's channels (names, types, units, gains, bad flags, positions). */
btfm_status btfm_fif_fill_channels(btfm_dataset *ds, const fif_info *info, const fif_file *f,
                                   const fif_tree *t);

/* ---- fif_meta.c: what is reported, never applied ---- */

/* Metadata JSON (projectors, processing history, compensation, filters, first sample)
 * and annotations as events (onsets relative to the first stored sample). */
btfm_status btfm_fif_read_meta(btfm_dataset *ds, const fif_info *info, const fif_file *f,
                               const fif_tree *t, int64_t first_samp, int n_files,
                               const char *data_type);

/* ---- fif_raw.c: buffers and the driver ---- */

/* Open a raw FIF dataset from files already opened (the first one given; split files
 * found from there unless `follow_splits` is 0). Used by btfm_fif_open and the fuzzer. */
btfm_status btfm_fif_open_file(btfm_dataset **out, fif_file *first, unsigned flags,
                               int follow_splits);
btfm_status btfm_fif_open(btfm_dataset **out, const char *path, unsigned flags);

#endif
