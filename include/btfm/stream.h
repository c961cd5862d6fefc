/* Real-time streams for neurofeedback: samples pushed in chunks as an amplifier delivers
 * them, causal filters with state, sliding windows, band powers, ERP window means around
 * pushed markers, user-state indices, an optional reward head, and rows of results pulled
 * by another thread through a lock-free ring (liblsl's chunk model). doc/streaming.md. */
#ifndef BTFM_STREAM_H
#define BTFM_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "reward.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A stream: configured once (parameters, picks, bands, ERP windows, channel names, a
 * reward head), then fed by btfm_stream_push and read by btfm_stream_pull. */
typedef struct btfm_stream btfm_stream;

/* Parameters (kind BTFM_OBJECT_STREAM; names, defaults, bounds and a sentence each:
 * btfm_param_info). Set before btfm_stream_configure; afterwards only calibration and
 * reset change a stream. */
typedef enum btfm_stream_param {
    BTFM_STREAM_PARAM_N_CHANNELS = 0,      /* int: values in each pushed sample */
    BTFM_STREAM_PARAM_SFREQ = 1,           /* real: sampling rate, Hz */
    BTFM_STREAM_PARAM_WINDOW = 2,          /* real: window length, s (1) */
    BTFM_STREAM_PARAM_HOP = 3,             /* real: between window ends, s (0.25) */
    BTFM_STREAM_PARAM_SEGMENT = 4,         /* real: Welch segment, s (0.5) */
    BTFM_STREAM_PARAM_SEGMENT_STEP = 5,    /* real: between segment starts, s (0.25) */
    BTFM_STREAM_PARAM_HIGHPASS = 6,        /* real: Butterworth low cut, Hz (1; 0 none) */
    BTFM_STREAM_PARAM_LOWPASS = 7,         /* real: Butterworth high cut, Hz (40; 0 none) */
    BTFM_STREAM_PARAM_FILTER_ORDER = 8,    /* int: Butterworth order (4) */
    BTFM_STREAM_PARAM_NOTCH = 9,           /* real: notch frequency, Hz (0 none) */
    BTFM_STREAM_PARAM_NOTCH_Q = 10,        /* real: notch quality factor (30) */
    BTFM_STREAM_PARAM_REFERENCE = 11,      /* int: btfm_stream_reference (none) */
    BTFM_STREAM_PARAM_RELATIVE = 12,       /* bool: band powers relative to their span (0) */
    BTFM_STREAM_PARAM_AMPLITUDE_LIMIT = 13,/* real: |filtered sample| above it flags (0 off) */
    BTFM_STREAM_PARAM_FLAT_LIMIT = 14,     /* real: window peak-to-peak below it flags (0 off) */
    BTFM_STREAM_PARAM_EPOCH_TMIN = 15,     /* real: epoch start from a marker, s (-0.2) */
    BTFM_STREAM_PARAM_EPOCH_TMAX = 16,     /* real: epoch end, s (0.8) */
    BTFM_STREAM_PARAM_BASELINE = 17,       /* bool: subtract the mean over [tmin, 0] (1) */
    BTFM_STREAM_PARAM_HISTORY = 18,        /* real: filtered samples kept, s (4) */
    BTFM_STREAM_PARAM_CAPACITY = 19,       /* int: rows the output ring holds (256) */
    BTFM_STREAM_PARAM_OVERFLOW = 20,       /* int: btfm_stream_overflow (drop oldest) */
    BTFM_STREAM_PARAM_EOG_CHANNEL = 21,    /* int: pushed channel holding vertical EOG (-1) */
    BTFM_STREAM_PARAM_BLINK_THRESHOLD = 22,/* real: blink amplitude, in pushed units (5e-5) */
    BTFM_STREAM_PARAM_BLINK_PERIOD = 23,   /* real: blink rate over the last s (30) */
    BTFM_STREAM_PARAM_DETREND = 24,        /* int: btfm_detrend_type of segments (constant) */
    BTFM_STREAM_PARAM_MAX_ = 0x7fffffff
} btfm_stream_param;

/* Re-referencing of the picked channels. Numbers are never reused. */
typedef enum btfm_stream_reference {
    BTFM_STREAM_REFERENCE_NONE = 0,
    BTFM_STREAM_REFERENCE_AVERAGE = 1, /* common average of the picked channels (CAR) */
    BTFM_STREAM_REFERENCE_MAX_ = 0x7fffffff
} btfm_stream_reference;

/* What a push does when the output ring is full. Numbers are never reused. */
typedef enum btfm_stream_overflow {
    BTFM_STREAM_DROP_OLDEST = 0, /* the oldest unread row goes; btfm_stream_n_dropped counts */
    BTFM_STREAM_REFUSE = 1,      /* the push returns BTFM_E_AGAIN and takes no sample */
    BTFM_STREAM_OVERFLOW_MAX_ = 0x7fffffff
} btfm_stream_overflow;

/* Kinds of output row (column "kind"). */
typedef enum btfm_stream_row_kind {
    BTFM_STREAM_ROW_WINDOW = 0, /* a window ended: band powers, state indices, reward */
    BTFM_STREAM_ROW_EPOCH = 1,  /* a marker's epoch is complete: ERP means, reward */
    BTFM_STREAM_ROW_KIND_MAX_ = 0x7fffffff
} btfm_stream_row_kind;

/* Flags (bits) of a row (column "flags", the or of every channel's) and of each channel
 * (columns "flags:<channel>"). */
typedef enum btfm_stream_flag {
    BTFM_STREAM_FLAG_NONFINITE = 1, /* a NaN/Inf sample in the window or epoch */
    BTFM_STREAM_FLAG_AMPLITUDE = 2, /* a filtered sample beyond the amplitude limit */
    BTFM_STREAM_FLAG_FLAT = 4,      /* peak-to-peak below the flat limit */
    BTFM_STREAM_FLAG_OUTSIDE = 8,   /* epoch: the marker's epoch left the history */
    BTFM_STREAM_FLAG_CALIBRATING = 16, /* window: inside the calibration period */
    BTFM_STREAM_FLAG_MAX_ = 0x7fffffff
} btfm_stream_flag;

/* User-state indices (columns "state:<name>" and z-scored "z:<name>"), heuristic indices
 * from the literature, not validated measures of a mental state (doc/streaming.md). */
typedef enum btfm_stream_index {
    BTFM_STREAM_INDEX_FM_THETA = 0,        /* log10 frontal-midline theta power */
    BTFM_STREAM_INDEX_THETA_ALPHA = 1,     /* frontal theta / posterior alpha */
    BTFM_STREAM_INDEX_ENGAGEMENT = 2,      /* (theta + alpha) / beta over the picks */
    BTFM_STREAM_INDEX_POSTERIOR_ALPHA = 3, /* log10 posterior alpha power */
    BTFM_STREAM_INDEX_BLINK_RATE = 4,      /* blinks a minute on the EOG channel */
    BTFM_STREAM_N_INDICES = 5,
    BTFM_STREAM_INDEX_MAX_ = 0x7fffffff
} btfm_stream_index;

/* Channel roles for the state indices (btfm_stream_set_role). */
typedef enum btfm_stream_role {
    BTFM_STREAM_ROLE_FRONTAL = 0,   /* frontal midline (Fz, FCz); default: every pick */
    BTFM_STREAM_ROLE_POSTERIOR = 1, /* parietal-occipital (Pz, POz, Oz, O1, O2); default: all */
    BTFM_STREAM_ROLE_MAX_ = 0x7fffffff
} btfm_stream_role;

/* Name of an index ("fm_theta", "theta_alpha", "engagement", "posterior_alpha",
 * "blink_rate"), NULL when unknown. Static storage. */
BTFM_API const char *btfm_stream_index_name(int index);

/* A new stream with default parameters, not configured. Free with btfm_stream_free. */
BTFM_API btfm_status btfm_stream_new(btfm_stream **out);
/* Release a stream; NULL is a no-op. No push or pull may be running. */
BTFM_API void btfm_stream_free(btfm_stream *s);
BTFM_API btfm_status btfm_stream_set_param(btfm_stream *s, int param, double value);
BTFM_API btfm_status btfm_stream_get_param(const btfm_stream *s, int param, double *value);

/* Process only these pushed channels (indices in [0, n_channels), copied), in this order;
 * NULL (the default) picks every channel. */
BTFM_API btfm_status btfm_stream_set_picks(btfm_stream *s, const int *channels, int n_picks);
/* Names of the pushed channels (n_channels strings, copied) for the column names; the
 * default names are "0", "1", ... */
BTFM_API btfm_status btfm_stream_set_channel_names(btfm_stream *s, const char *const *names,
                                                   int n_channels);
/* Frequency bands (n_bands pairs of edges in Hz, copied) whose power each window gives
 * per picked channel; the default is delta, theta, alpha and beta (btfm_band_edges). */
BTFM_API btfm_status btfm_stream_set_bands(btfm_stream *s, const double *edges, int n_bands);
/* ERP windows (n_windows pairs of start and stop in s from the marker, copied) whose mean
 * each epoch gives per picked channel; none by default. */
BTFM_API btfm_status btfm_stream_set_erp_windows(btfm_stream *s, const double *windows,
                                                 int n_windows);
/* The pushed channels of a role (copied; each must be picked); NULL restores the default. */
BTFM_API btfm_status btfm_stream_set_role(btfm_stream *s, int role, const int *channels,
                                          int n_channels);
/* A fitted reward head (copied) to score each window's features (its band powers, in
 * column order) and, when ERP windows are set, each epoch's (its ERP means); its feature
 * count must match. The head's brain decoder alone scores (no ratings in real time), on
 * features standardized with the fit's centring. NULL removes it. */
BTFM_API btfm_status btfm_stream_set_reward_head(btfm_stream *s, const btfm_reward_head *head);

/* Check everything and allocate every buffer; from here on push and pull allocate
 * nothing. BTFM_E_RANGE names the setting that does not fit (a hop that is not a
 * multiple of the segment step, a band the filters or the segment cannot resolve...). */
BTFM_API btfm_status btfm_stream_configure(btfm_stream *s);

/* Columns of each output row, their names ("time", "sample", "kind", "code", "flags",
 * "flags:<channel>", "<band>:<channel>" with the band's name or "band<b>",
 * "erp<w>:<channel>", "state:<index>", "z:<index>", and the reward head's output names),
 * and the column of a name (negative BTFM_E_NOTFOUND). Configured streams only. */
BTFM_API int btfm_stream_n_columns(const btfm_stream *s);
BTFM_API const char *btfm_stream_column_name(const btfm_stream *s, int column);
BTFM_API int btfm_stream_find_column(const btfm_stream *s, const char *name);

/* Push n_samples samples (time-major: n_samples x n_channels floats, n_channels as
 * configured or BTFM_E_INVALID) with their times in s (n_samples doubles,
 * non-decreasing and after the previous push's; NULL: sample index / sfreq after the
 * last given time). Filters, windows and epochs advance; every row they finish goes to
 * the output ring. Allocates nothing and takes no lock: one producer thread. A refused
 * push (bad arguments, or BTFM_E_AGAIN when the ring is full under BTFM_STREAM_REFUSE)
 * takes no sample. Non-finite samples are not an error: they are flagged per channel,
 * and the channel's filter restarts after them (with a warning through the log). */
BTFM_API btfm_status btfm_stream_push(btfm_stream *s, const float *chunk, int64_t n_samples,
                                      int n_channels, const double *timestamps);

/* A marker at `time` (s, the pushed samples' clock) with an integer code and a label
 * (copied, cut to 31 bytes; may be NULL). Its epoch is cut around the nearest sample once
 * the epoch's last sample has been pushed. May be called from one thread (the same each
 * time) concurrently with push and pull; BTFM_E_AGAIN when 256 markers wait; a time before
 * the history kept is BTFM_E_RANGE (the epoch could never be cut). */
BTFM_API btfm_status btfm_stream_push_marker(btfm_stream *s, double time, int code,
                                             const char *label);
/* A marker at pushed sample `sample` (the stream's own count from 0, the "sample" column),
 * otherwise as btfm_stream_push_marker: its epoch is cut around that sample, and its row's
 * time is that sample's (the host's timestamp when pushes gave them). The sample may lie
 * ahead of the samples pushed. A negative sample, or one whose epoch begins before the
 * oldest sample kept, is BTFM_E_RANGE. With times t_n, the marker at sample n gives the
 * row btfm_stream_push_marker at t_n gives. */
BTFM_API btfm_status btfm_stream_push_marker_sample(btfm_stream *s, int64_t sample, int code,
                                                    const char *label);

/* Take up to `capacity` rows (capacity x btfm_stream_n_columns doubles, oldest first) into
 * `out`; *n_rows receives how many. Never blocks: no row ready is *n_rows = 0 and
 * BTFM_OK (a timeout of zero, as liblsl's). One consumer thread, concurrently with push;
 * allocates nothing and takes no lock. */
BTFM_API btfm_status btfm_stream_pull(btfm_stream *s, double *out, size_t capacity,
                                      size_t *n_rows);

/* Rows lost to a full ring under BTFM_STREAM_DROP_OLDEST since configuration. */
BTFM_API int64_t btfm_stream_n_dropped(const btfm_stream *s);
/* Samples pushed since configuration (or the last reset). */
BTFM_API int64_t btfm_stream_n_samples(const btfm_stream *s);

/* Calibration of the state indices: while on (1), every window's indices add to the
 * per-user mean and standard deviation; switching it off fixes them, and from then on the
 * "z:" columns hold (index - mean) / sd (NaN before). Switching on again starts a new
 * calibration. Safe from any one thread concurrently with push and pull. */
BTFM_API btfm_status btfm_stream_set_calibration(btfm_stream *s, int on);

/* Back to the state right after configuration (filters at rest, no sample, empty
 * rings, calibration kept). Not concurrently with push or pull. */
BTFM_API btfm_status btfm_stream_reset(btfm_stream *s);

#ifdef __cplusplus
}
#endif

#endif
