/* The stream handle shared by its files: settings (stream.c), the configured pipeline
 * and its buffers (stream_config.c), the producer (stream_push.c), the rings and the
 * consumer (stream_ring.c). Not installed. */
#ifndef BTFM_STREAM_INTERNAL_H
#define BTFM_STREAM_INTERNAL_H

#include <stdatomic.h>
#include <btfm/stream.h>
#include "core/internal.h"
#include "core/param.h"
#include "signal/signal_internal.h"
#include "spectrum/spectrum_internal.h"

enum {
    STREAM_PARAM_COUNT = 25,
    STREAM_MARKER_SLOTS = 256,  /* markers waiting in the marker ring */
    STREAM_PENDING = 64,        /* markers whose epochs are not complete yet */
    STREAM_LABEL_BYTES = 32,
    STREAM_BLINK_SLOTS = 512,   /* blink onsets remembered for the rate */
    STREAM_FIXED_COLUMNS = 5,   /* time, sample, kind, code, flags */
    STREAM_INDEX_BANDS = 3,     /* theta, alpha, beta for the state indices */
};

typedef struct stream_marker {
    double time;                /* NaN for a marker given by sample */
    int64_t sample;             /* -1 for a marker given by time */
    int code;
    char label[STREAM_LABEL_BYTES];
} stream_marker;

typedef struct stream_pending {
    double time;    /* NaN while a marker given by sample waits for its sample */
    int code;
    int64_t sample; /* -1 until the stream has passed its time */
} stream_pending;

/* What configuration builds; everything push and pull touch. */
typedef struct stream_rt {
    int n_channels, n_picks;
    double sfreq;
    int64_t window, hop, block; /* samples */
    int *pick;                  /* n_picks pushed-channel indices */
    int all_picked;             /* the picks are every channel in order */
    btfm_iir *iir;              /* picked channels, or NULL without filters */
    int reference;
    int *refs;                  /* every pick's position */
    unsigned char *is_target;
    btfm_welch_sliding *welch;
    int n_bins;
    double *bands;              /* n_bands x 2, resolved */
    int n_bands, relative;
    double index_bands[2 * STREAM_INDEX_BANDS];
    int indices_ok;             /* the spectrum resolves theta, alpha and beta */
    float *scratch;             /* block x n_picks */
    unsigned char *bad;         /* block x n_picks: the sample was not finite */
    double *psd;                /* n_bins x n_picks, for configuration's checks */
    double *power;              /* per band kept by the sliding estimate, x n_picks */
    int band_span;              /* the span of the bands' place in power, or -1 */
    int index_band[STREAM_INDEX_BANDS]; /* theta's, alpha's and beta's places in power */
    float *held;                /* last finite value per pick */
    unsigned char *in_gap;      /* inside a run of non-finite samples */
    int n_gap;                  /* picks inside such a run */
    int64_t *last_nonfinite, *last_over;
    double amplitude_limit, flat_limit;
    int64_t flat_block;         /* samples per min/max block (gcd of window and hop) */
    float *blk_min, *blk_max;   /* (window / flat_block) x n_picks */
    /* history of filtered samples for epochs */
    int64_t n_history;
    float *history;             /* n_history x n_picks */
    double *history_time;       /* n_history */
    /* epochs */
    int n_erp;
    double *erp;                /* n_erp x 2 */
    btfm_epoch_geometry geo;
    double tmin;
    float *epoch;               /* geo.n_times x n_picks */
    double *epoch_work, *erp_out;
    stream_pending pending[STREAM_PENDING];
    int n_pending;
    /* state indices */
    int *role[2];
    int n_role[2];
    int eog;                    /* pushed channel, or -1 */
    btfm_iir *eog_iir;
    float *eog_scratch;         /* block */
    double blink_threshold;
    int64_t blink_period, refractory, last_blink;
    int blink_above;
    int64_t blinks[STREAM_BLINK_SLOTS];
    int64_t n_blinks;
    atomic_int calibration_request;
    int calibration_state;      /* 0 none, 1 running, 2 done */
    double cal_n[BTFM_STREAM_N_INDICES], cal_mean[BTFM_STREAM_N_INDICES],
        cal_m2[BTFM_STREAM_N_INDICES], z_sd[BTFM_STREAM_N_INDICES];
    /* reward head */
    const btfm_reward_head *reward; /* the stream's copy, or NULL */
    int reward_columns;         /* BTFM_REWARD_N_OUTPUTS with a head, else 0 */
    int reward_mode, reward_windows, reward_epochs; /* which rows the head scores */
    double *reward_w;           /* n_features x 4: the decoders folded with the standardization */
    double reward_offset[4];
    /* columns */
    int n_columns, col_flags, col_bands, col_erp, col_state, col_z, col_reward;
    char **column_names;
    double *row;                /* n_columns */
    /* output ring (words written and read atomically: a lapped row is detected, never torn) */
    uint64_t *ring;
    uint64_t capacity;
    _Atomic uint64_t head, tail;
    _Atomic int64_t dropped;
    int overflow;
    /* marker ring: the marker thread produces, push consumes */
    stream_marker markers[STREAM_MARKER_SLOTS];
    _Atomic uint64_t marker_head, marker_tail;
    _Atomic uint64_t oldest_time_bits; /* time of the oldest sample kept, for push_marker */
    _Atomic int64_t oldest_sample;     /* and its index (INT64_MIN before the first push) */
    /* the clock */
    int64_t n_samples;
    double last_time;
    int have_time;              /* a sample was pushed */
    int given_time;             /* a push gave timestamps */
} stream_rt;

struct btfm_stream {
    double values[STREAM_PARAM_COUNT];
    int *picks;
    int n_picks;
    char **names;
    int n_names;
    double *bands;
    int n_bands;
    double *erp;
    int n_erp;
    int *role[2];
    int n_role[2];
    btfm_reward_head *head;     /* a copy, or NULL */
    stream_rt *rt;              /* NULL until configured */
};

btfm_status btfm_stream_build(btfm_stream *s, stream_rt **out);
void btfm_stream_rt_free(stream_rt *rt);
/* Back to the state right after configuration. */
void btfm_stream_rt_reset(stream_rt *rt);
/* One window of zeros (`zeros`: block x n_channels) through every step a push takes, up
 * to a row in the ring (stream_push.c), for configuration to run and then reset: the code,
 * tables and buffers of a push are warm (pages touched, symbols bound, caches filled)
 * before the first real push, so the first row costs what later ones do. */
void btfm_stream_rt_warm(stream_rt *rt, const float *zeros);

/* The reward head's decoders prepared for one row at a time (stream_reward.c), and the
 * scores of the n_features values at `features` into BTFM_REWARD_N_OUTPUTS doubles. */
btfm_status btfm_stream_reward_build(const btfm_reward_head *head, stream_rt *rt,
                                     const char *func);
void btfm_stream_reward_score(const stream_rt *rt, const double *features, double *out);

/* The output ring: the producer's row into it (dropping the oldest when full), free
 * rows for a refusing push. */
void btfm_stream_ring_put(stream_rt *rt, const double *row);
uint64_t btfm_stream_ring_free(stream_rt *rt);
/* The marker ring's next marker for the producer; 0 when empty. */
int btfm_stream_marker_take(stream_rt *rt, stream_marker *m);

#endif
