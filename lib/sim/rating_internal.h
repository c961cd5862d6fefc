/* The rating session's model: the items' latent values, each annotator's traits,
 * timeline, event-locked components, transients (blinks, saccades, artifacts),
 * topography and behaviour; then the generators that turn them into EEG and BOLD and the
 * writers of events, behaviour and truth. doc/simulation.md has the equations. */
#ifndef BTFM_SIM_RATING_INTERNAL_H
#define BTFM_SIM_RATING_INTERNAL_H

#include "sim_internal.h"

/* Shorthand for the rating session's parameters. */
#define RP(sim, name) sim_param(sim, BTFM_SIM_RATING_##name)

/* Events of the timeline (events.tsv trial_type). */
enum rating_event_kind { EV_ITEM_ONSET = 0, EV_GAZE = 1, EV_ITEM_END = 2, EV_RATING = 3 };
extern const char *const btfm_rating_event_names[4];

typedef struct rating_event {
    double onset, duration;   /* s */
    int kind, item, segment;  /* item id from 1; segment from 1 (gaze), else 0 */
    double rating, confidence, response_time; /* rating rows; NaN elsewhere */
} rating_event;

/* Sources of the shared source space, in this order. */
enum rating_source {
    SRC_REWARD = 0,   /* reward positivity / P300, centro-parietal */
    SRC_FRN = 1,      /* feedback-related negativity, fronto-central */
    SRC_THETA = 2,    /* frontal-midline theta */
    SRC_P3A = 3,      /* novelty P3a, central */
    SRC_ALPHA_L = 4,  /* posterior alpha, left */
    SRC_ALPHA_R = 5,  /* posterior alpha, right */
    SRC_BACKGROUND = 6, /* first of the background sources */
    N_BACKGROUND = 8,
    N_SOURCES = SRC_BACKGROUND + N_BACKGROUND,
    N_TASK_SOURCES = 4
};
extern const char *const btfm_rating_source_names[N_SOURCES];

/* Event-locked components, in the truth files' column order. */
enum rating_component_kind { COMP_P3A = 0, COMP_SEGMENT = 1, COMP_REWP = 2, COMP_FRN = 3,
                             COMP_THETA = 4, N_COMPONENT_KINDS = 5 };
extern const char *const btfm_rating_component_names[N_COMPONENT_KINDS];

typedef struct rating_component {
    double onset;             /* s: the event it is locked to */
    double latency, width;    /* s: peak after the event (jitter included), Gaussian sd */
    double amplitude_uv;      /* at a source gain of 1; signed */
    double freq, phase;       /* theta bursts (Hz, rad); freq 0: a Gaussian bump */
    int source, kind, item, segment;
} rating_component;

/* Transients that add a waveform through a gain vector over channels. */
enum rating_transient_kind { TR_BLINK = 0, TR_SACCADE = 1, TR_MUSCLE = 2, TR_POP = 3,
                             TR_MOVEMENT = 4 };
extern const char *const btfm_rating_transient_names[5];

typedef struct rating_transient {
    double onset, duration;   /* s */
    double amplitude_uv;      /* blink peak, muscle RMS, pop/movement peak */
    double value;             /* saccade: the gaze position after it, in [-1, 1] */
    int kind;
    int channel;              /* pop: the channel; muscle: 0 left, 1 right; else -1 */
    int64_t index;            /* its own noise stream (muscle) */
    double direction[3];      /* movement: the centre of its field */
} rating_transient;

/* Latent values per item; perceived values per annotator have the same layout. */
enum { LAT_REWARD = 0, LAT_CONFIDENCE = 1, LAT_NEGATIVE_AFFECT = 2, LAT_NOVELTY = 3, N_LATENT = 4 };

typedef struct rating_design {
    int n_items;
    int64_t n_segments;
    double *latent;           /* n_items x N_LATENT */
    double *z;                /* n_items x N_LATENT: the normal draws the latents come from */
    int *n_item_segments;     /* per item */
    int64_t *first_segment;   /* per item: index into the segment arrays */
    double *segment_reward;   /* per segment */
    double *segment_length;   /* per segment: relative reading time */
} rating_design;

typedef struct rating_annotator {
    int index;                /* 0-based; participant sub-<index + 1, 2 digits> */
    char label[16];           /* "01" */
    /* traits */
    double noise_uv, alpha_freq, alpha_uv, theta_freq, line_uv, engagement_mean;
    double rating_bias, rating_noise, rotation_deg, rotation_axis[3];
    /* perception */
    double *perceived;        /* n_items x N_LATENT */
    double *segment_perceived;/* per segment */
    int64_t *order;           /* order[k]: item (0-based) shown k-th */
    /* timeline */
    rating_event *events;
    int64_t n_events;
    double duration_s;
    int64_t n_samples;        /* EEG samples */
    rating_component *components; /* sorted by start of support */
    int64_t n_components;
    rating_transient *transients;  /* sorted by onset */
    int64_t n_transients;
    /* EEG channels: n_eeg montage sites, then VEOG and HEOG when eog is set */
    int n_eeg, n_channels;
    const char *names[SIM_MONTAGE_MAX + 2];
    double positions[SIM_MONTAGE_MAX][3];
    double *topography;       /* n_eeg x N_SOURCES, uV per unit source */
    double mixing[N_TASK_SOURCES][N_TASK_SOURCES];
    double *line_weight, *line_phase; /* per channel */
    int *bad;                 /* per channel: 0 good, 1 noisy, 2 flat */
    double sensor_sd_uv, background_sd_uv; /* the two parts of the background */
    /* behaviour, per item (NaN when not rated) */
    double *rating, *rating_confidence, *response_time;
    int64_t n_pairs;
    int64_t *pairs;           /* n_pairs x 2 items (0-based) */
    int *chosen_first;        /* per pair */
    double *p_first, *pair_time;
    /* engagement and alpha as generated, every 0.25 s (filled by the EEG generator) */
    double *engagement_trace, *alpha_trace;
    int64_t n_trace;
} rating_annotator;

#define TRACE_STEP_S 0.25

/* rating_engagement.c: the latent engagement, stepped one sample at a time (n = 0, 1, 2,
 * ... in order), and whether time t is inside a gaze event (t grows between calls; the
 * events sorted by onset). */
typedef struct rating_engagement {
    sim_rng ou_rng;
    double ou_now, ou_next, reading_smooth, smooth_rate, base, rho, drive;
    int64_t ou_step, sfreq, cursor;
} rating_engagement;
void btfm_rating_engagement_init(rating_engagement *e, const btfm_sim *sim,
                                 const rating_annotator *a);
double btfm_rating_engagement_next(rating_engagement *e, const rating_annotator *a, int64_t n);
int btfm_rating_reading_at(const rating_annotator *a, double t, int64_t *cursor);

/* rating_design.c: the items, then one annotator (traits, perception, timeline,
 * components, transients, topography, behaviour). */
btfm_status btfm_rating_design_new(rating_design *d, const btfm_sim *sim);
void btfm_rating_design_free(rating_design *d);
btfm_status btfm_rating_annotator_new(rating_annotator *a, const btfm_sim *sim,
                                 const rating_design *d, int index);
void btfm_rating_annotator_free(rating_annotator *a);

/* rating_eeg.c: write annotator a's EEG (and its sidecars and events) through the BIDS
 * writer, generated block by block; `progress` covers this recording. */
btfm_status btfm_rating_write_eeg(const btfm_sim *sim, const rating_design *d, rating_annotator *a,
                             btfm_bids_writer *w, btfm_progress *progress);

/* rating_bold.c: the same for the fMRI run, and the session's cluster map. */
btfm_status btfm_rating_write_bold(const btfm_sim *sim, const rating_design *d,
                              const rating_annotator *a, btfm_bids_writer *w,
                              const sim_output *o, btfm_progress *progress);
btfm_status btfm_rating_write_bold_truth(const btfm_sim *sim, const sim_output *o);

/* rating_files.c: events.tsv as a table; beh files; truth files. */
btfm_status btfm_rating_events_table(const rating_annotator *a, double sfreq, btfm_table **out);
btfm_status btfm_rating_write_beh(const rating_annotator *a, const sim_output *o);
btfm_status btfm_rating_write_item_truth(const rating_design *d, const sim_output *o);
btfm_status btfm_rating_write_annotator_truth(const btfm_sim *sim, const rating_design *d,
                                         const rating_annotator *a, const sim_output *o);
/* derivatives/truth/annotators.tsv, a row per annotator as each is generated. */
btfm_status btfm_rating_annotators_table_new(sim_table *t);
btfm_status btfm_rating_annotators_table_add(sim_table *t, const rating_annotator *a);

#endif
