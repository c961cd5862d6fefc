/* btfm demo's parts: a rating session read through BIDS into per-annotator features and
 * labels (demo_session.c), held-out evaluation of reward heads (cmd_demo.c), the figure
 * (demo_plot.c). */
#ifndef BTFM_TOOLS_DEMO_H
#define BTFM_TOOLS_DEMO_H

#include <btfm/btfm.h>

/* One annotator's recording: a row per item (item_end event). */
typedef struct demo_annotator {
    char id[64];
    int64_t n;            /* rows */
    float *x;             /* n x n_features */
    int64_t *item;        /* item id of each row */
    float *rating, *confidence; /* NaN / 1 where unrated */
    int64_t *pairs;       /* (chosen, rejected) rows of this annotator */
    int64_t n_pairs;
    float *epochs;        /* n x n_times x n_channels, channel space */
} demo_annotator;

typedef struct demo_session {
    int n_annotators;
    demo_annotator *a;
    int64_t n_features, n_times;
    int n_channels;
    double sfreq, tmin;
    int plot_channel;     /* Pz, else the first channel */
    char *config;
    int32_t *roles;
    char **names;         /* n_features feature names ("Pz:erp:0.250-0.350") */
    double *truth;        /* latent reward by item id (index = id), NaN when unknown */
    int64_t max_item;
    int aligned;          /* features in an aligner's shared space */
    const char *command;  /* the command reading it ("demo", "reward fit"): its messages' prefix */
} demo_session;

/* Read every EEG recording of the BIDS folder `root`; with `align`, fit SRM over the
 * annotators' item-locked epochs and compute the features in its shared space. */
int demo_session_read(demo_session *s, const char *command, const char *root, int align,
                      btfm_progress_fn fn, void *user);
void demo_session_free(demo_session *s);

/* Held-out predictions, one per mode, of every row in session order. */
typedef struct demo_result {
    int64_t n;
    float *reward[3], *confidence[3];
    float *truth;         /* latent reward of each row's item */
    int64_t *annotator;   /* annotator index of each row */
    unsigned char *rated;
    double metrics[3][BTFM_REWARD_N_METRICS];
    double r_unrated[3];
} demo_result;

int demo_plot(const char *path, const demo_session *s, const demo_result *r);

#endif
