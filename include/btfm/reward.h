/* btfm_reward_head: RLHB reward heads. Annotators' brain features (+ their ratings, rating
 * confidence and pairwise preferences) become a reward, a calibrated confidence, a
 * negative-affect penalty and a novelty score per item; btfm_reward_features builds the
 * features from a recording and its events in one call. Method and equations: doc/rlhb.md. */
#ifndef BTFM_REWARD_H
#define BTFM_REWARD_H

#include <stddef.h>
#include <stdint.h>
#include "aligner.h"
#include "dataset.h"
#include "model.h"
#include "export.h"
#include "progress.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_reward_head btfm_reward_head;
typedef struct btfm_reward_features btfm_reward_features;

/* Where the reward comes from. Numbers are never reused. */
typedef enum btfm_reward_mode {
    BTFM_REWARD_RATINGS_ONLY = 1, /* the RLHF baseline: an item's own rating, nothing else */
    BTFM_REWARD_BRAIN_ONLY = 2,   /* the brain decoder alone (ratings and pairs train it) */
    BTFM_REWARD_JOINT = 3,        /* ratings and the brain decoder combined per item */
    BTFM_REWARD_MODE_MAX_ = 0x7fffffff
} btfm_reward_mode;

/* Roles of a feature (bits; btfm_reward_head_set_roles): which neural readouts use it. */
typedef enum btfm_reward_role {
    BTFM_REWARD_ROLE_VALUE = 1,      /* the reward decoder */
    BTFM_REWARD_ROLE_CONFIDENCE = 2, /* the rating-reliability decoder */
    BTFM_REWARD_ROLE_PENALTY = 4,    /* the negative-affect classifier */
    BTFM_REWARD_ROLE_NOVELTY = 8,    /* the novelty / salience score */
    BTFM_REWARD_ROLE_MAX_ = 0x7fffffff
} btfm_reward_role;

/* Columns of btfm_reward_head_predict's output, in this order. */
typedef enum btfm_reward_output {
    BTFM_REWARD_OUT_REWARD = 0,     /* posterior mean of the latent reward (rating z units) */
    BTFM_REWARD_OUT_SD = 1,         /* its posterior standard deviation */
    BTFM_REWARD_OUT_CONFIDENCE = 2, /* P(reward > 0): the item beats the annotator's average */
    BTFM_REWARD_OUT_PENALTY = 3,    /* P(the item is disliked) from negative-affect markers */
    BTFM_REWARD_OUT_NOVELTY = 4,    /* standardized novelty/salience (0 without such features) */
    BTFM_REWARD_N_OUTPUTS = 5,
    BTFM_REWARD_OUTPUT_MAX_ = 0x7fffffff
} btfm_reward_output;

/* Parameters (kind BTFM_OBJECT_REWARD_HEAD; defaults, bounds and a sentence each:
 * btfm_param_info). Set them before fitting. */
typedef enum btfm_reward_param {
    BTFM_REWARD_PARAM_MODE = 0,          /* int: btfm_reward_mode */
    BTFM_REWARD_PARAM_FOLDS = 1,         /* int: annotator folds of the cross-validation */
    BTFM_REWARD_PARAM_N_ALPHAS = 2,      /* int: ridge penalties tried (log grid) */
    BTFM_REWARD_PARAM_ALPHA_MIN = 3,     /* real */
    BTFM_REWARD_PARAM_ALPHA_MAX = 4,     /* real */
    BTFM_REWARD_PARAM_NORMALIZE = 5,     /* bool: z-score features within each annotator */
    BTFM_REWARD_PARAM_USE_CONFIDENCE = 6,/* bool: weight ratings by their confidence */
    BTFM_REWARD_PARAM_PENALTY_QUANTILE = 7, /* real: ratings below it count as disliked */
    BTFM_REWARD_PARAM_RELIABILITY = 8,   /* real: rating reliability; 0 = estimate it */
    BTFM_REWARD_PARAM_MAX_ = 0x7fffffff
} btfm_reward_param;

/* Name of a mode ("ratings_only", "brain_only", "joint") or an output column ("reward",
 * "sd", "confidence", "penalty", "novelty"); NULL when unknown. */
BTFM_API const char *btfm_reward_mode_name(int mode);
BTFM_API const char *btfm_reward_output_name(int column);

/* A new, unfitted head in `mode` (btfm_reward_mode). Free with btfm_reward_head_free. */
BTFM_API btfm_status btfm_reward_head_new(btfm_reward_head **out, int mode);

/* Release a head. NULL is a no-op. */
BTFM_API void btfm_reward_head_free(btfm_reward_head *h);

BTFM_API btfm_status btfm_reward_head_set_param(btfm_reward_head *h, int param, double value);
BTFM_API btfm_status btfm_reward_head_get_param(const btfm_reward_head *h, int param,
                                                double *value);

/* Progress and cancellation of the fit (NULL: the calling thread's callback). A cancelled
 * fit returns BTFM_E_CANCELLED and leaves the head as it was. */
BTFM_API btfm_status btfm_reward_head_set_progress(btfm_reward_head *h, btfm_progress_fn fn,
                                                   void *user);

/* ---- labels for the next fit (copied; NULL removes them) ------------------------------ */

/* Ratings of the items (n_items floats, NaN where an item has none) and their confidence
 * (n_items finite values > 0, may be NULL: equal). Ratings are standardized within each
 * annotator, so any scale works (Likert points, 0-1 sliders). */
BTFM_API btfm_status btfm_reward_head_set_ratings(btfm_reward_head *h, const float *ratings,
                                                  const float *confidence, int64_t n_items);

/* Pairwise preferences: pairs holds n_pairs (chosen, rejected) item indices (rows of the
 * features given to the fit), weight (n_pairs finite values >= 0, may be NULL) how much
 * each counts (a margin or a confidence). */
BTFM_API btfm_status btfm_reward_head_set_pairs(btfm_reward_head *h, const int64_t *pairs,
                                                const float *weight, int64_t n_pairs);

/* The item each row shows (n_items ids, any integers, may be NULL): rows of different
 * annotators with the same id are the same item, which lets the fit estimate how reliable
 * ratings are from items rated twice. */
BTFM_API btfm_status btfm_reward_head_set_items(btfm_reward_head *h, const int64_t *item_ids,
                                                int64_t n_items);

/* Roles of the features (n_features bit sets of btfm_reward_role; NULL: every feature
 * serves value, confidence and penalty, none novelty). Kept with the fit. */
BTFM_API btfm_status btfm_reward_head_set_roles(btfm_reward_head *h, const int32_t *roles,
                                                int64_t n_features);

/* A text naming how the features were made (btfm_reward_features_config), kept with the
 * fit and saved: predict through btfm_reward_head_check_config refuses other features. */
BTFM_API btfm_status btfm_reward_head_set_feature_config(btfm_reward_head *h,
                                                         const char *config);

/* ---- fitting ---------------------------------------------------------------------------- */

/* Fit on n_items rows of brain features (n_items x n_features floats, C order, finite)
 * seen by annotators[i] (any integers). Needs ratings (set_ratings) or pairs
 * (set_pairs; brain-only and joint modes). Every cross-validation is by annotator:
 * `folds` groups of whole annotators (at least that many annotators). On any failure the
 * head keeps its previous fit. */
BTFM_API btfm_status btfm_reward_head_fit(btfm_reward_head *h, const float *features,
                                          int64_t n_items, int64_t n_features,
                                          const int64_t *annotators);

/* 1 once fitted (or loaded), 0 before, negative status for a NULL head. */
BTFM_API int btfm_reward_head_is_fitted(const btfm_reward_head *h);

/* The fit's feature count, or a negative status. */
BTFM_API int64_t btfm_reward_head_n_features(const btfm_reward_head *h);

/* What the fit estimated (any pointer may be NULL): the reliability of a rating (the
 * latent reward's share of a standardized rating's variance), the brain decoder's
 * slope on the latent reward and its noise variance (out of fold, by annotator), and the
 * decoder's chosen ridge penalty. */
BTFM_API btfm_status btfm_reward_head_summary(const btfm_reward_head *h, double *reliability,
                                              double *brain_slope, double *brain_noise,
                                              double *alpha);

/* The reward decoder's weights on the standardized features (n_features floats) and
 * intercept: brain reward = features . weights + intercept. */
BTFM_API btfm_status btfm_reward_head_weights(const btfm_reward_head *h, float *out,
                                              size_t capacity, double *intercept);

/* Refuse features made otherwise (BTFM_E_INVALID naming both configurations) */
BTFM_API btfm_status btfm_reward_head_check_config(const btfm_reward_head *h,
                                                   const char *config);

/* ---- prediction ------------------------------------------------------------------------- */

/* Score n_items rows (features as at the fit; annotators, which may be new people; ratings
 * NaN where absent, may be NULL) into out (n_items x BTFM_REWARD_N_OUTPUTS floats,
 * btfm_reward_output columns; capacity in floats). With per-annotator normalization each
 * annotator's rows are standardized together, so give an annotator's rows in one batch
 * (at least two). The mode set at predict time may differ from the fit's. */
BTFM_API btfm_status btfm_reward_head_predict(const btfm_reward_head *h, float *out,
                                              size_t capacity, const float *features,
                                              int64_t n_items, int64_t n_features,
                                              const int64_t *annotators, const float *ratings);

/* ---- scores from preferences alone ------------------------------------------------------- */

/* Each of n_items items' Bradley-Terry strength from pairwise preferences alone: the
 * maximum a posteriori scores s under P(chosen preferred) = 1 / (1 + exp(s_rejected -
 * s_chosen)) with the penalty alpha / 2 ||s||^2 (a Gaussian prior of variance 1 / alpha;
 * 1 suits rating z units), pairs (chosen, rejected) item indices weighted by weight
 * (n_pairs values >= 0, may be NULL: 1). Items in no pair get NaN. This is what
 * ratings-only mode takes from pairs: give these scores as the ratings of items labelled
 * by preferences (NaN where none) to btfm_reward_head_predict. */
BTFM_API btfm_status btfm_reward_pair_scores(float *out, size_t capacity, int64_t n_items,
                                             const int64_t *pairs, const float *weight,
                                             int64_t n_pairs, double alpha);

/* ---- the other direction: item embeddings -> brain features ------------------------------- */

/* Fit `model`, a ridge btfm_model (its alphas, alpha per target, noise rank and other
 * settings as the caller set them), as an encoding model: from the host's item embeddings
 * (n_embeddings x dim floats) to annotators' brain features (n_rows x n_features floats,
 * row r an item shown to annotators[r]; items[r] its row of the embeddings). Each feature
 * is z-scored within each annotator (a person's amplitude and noise level do not count),
 * then over all rows: the model predicts that scale, which a host can use as auxiliary
 * targets of its own reward model. Penalties are chosen by cross-validation over `folds`
 * (>= 3) folds of whole items (contiguous in the order items first appear; the model's
 * groups and cv are set to them), so every score is of items the fit never saw.
 * held_out_r (n_features doubles; NULL skips the nested cross-validation) receives each
 * feature's Pearson r between its held-out predictions (each outer fold choosing its own
 * penalties) and the rows. Then btfm_model_predict on embeddings gives an item's expected
 * response, btfm_model_synthesize a synthetic annotator's single-trial response (noise
 * from the rows' residuals; the seed picks the annotator), btfm_model_save keeps it.
 * Ratings are one more target: give the rated rows' ratings as a one-column feature
 * matrix. A feature constant within every annotator is refused. On failure the model
 * keeps its previous fit. */
BTFM_API btfm_status btfm_reward_encoder_fit(btfm_model *model, double *held_out_r,
                                             size_t capacity, const float *embeddings,
                                             int64_t n_embeddings, int64_t dim,
                                             const int64_t *items, const float *features,
                                             int64_t n_rows, int64_t n_features,
                                             const int64_t *annotators, int folds);

/* ---- metrics ---------------------------------------------------------------------------- */

/* Columns of btfm_reward_metrics. */
typedef enum btfm_reward_metric {
    BTFM_REWARD_METRIC_PEARSON = 0,   /* Pearson r of reward and truth */
    BTFM_REWARD_METRIC_SPEARMAN = 1,  /* Spearman rho (average ranks for ties) */
    BTFM_REWARD_METRIC_PAIRWISE = 2,  /* fraction of item pairs with different truth ordered
                                         as the truth (a tie in reward counts half) */
    BTFM_REWARD_METRIC_ECE = 3,       /* expected calibration error of confidence against
                                         truth above its median, 10 equal-width bins */
    BTFM_REWARD_METRIC_N = 4,         /* items compared */
    BTFM_REWARD_N_METRICS = 5,
    BTFM_REWARD_METRIC_MAX_ = 0x7fffffff
} btfm_reward_metric;

/* Metrics of predicted rewards against a truth (held-out ratings or the latent reward),
 * n_items each; confidence may be NULL (ECE NaN). Rows of out (BTFM_REWARD_N_METRICS
 * doubles each): pooled over all items, then one per annotator in order of first
 * appearance when annotators is given (*n_groups receives their count; may be NULL).
 * Items whose truth is NaN are left out. A metric that cannot be computed is NaN. */
BTFM_API btfm_status btfm_reward_metrics(double *out, size_t capacity, int64_t *n_groups,
                                         const float *reward, const float *confidence,
                                         const float *truth, const int64_t *annotators,
                                         int64_t n_items);

/* ---- features from a recording (btfm_reward_features, kind BTFM_OBJECT_REWARD_FEATURES) -- */

/* Parameters of the feature builder (btfm_param_info for defaults and bounds). */
typedef enum btfm_reward_features_param {
    BTFM_REWARD_FEATURES_L_FREQ = 0,       /* real: Hz, band-pass high-pass edge (0: none) */
    BTFM_REWARD_FEATURES_H_FREQ = 1,       /* real: Hz, low-pass edge (0: none) */
    BTFM_REWARD_FEATURES_FILTER_ORDER = 2, /* int: Butterworth order, zero-phase */
    BTFM_REWARD_FEATURES_TMIN = 3,         /* real: s, epoch start (< 0) */
    BTFM_REWARD_FEATURES_TMAX = 4,         /* real: s, epoch end (> 0) */
    BTFM_REWARD_FEATURES_ERP_START = 5,    /* real: s, first ERP window's start */
    BTFM_REWARD_FEATURES_ERP_STOP = 6,     /* real: s, last ERP window's end */
    BTFM_REWARD_FEATURES_ERP_STEP = 7,     /* real: s, ERP window width */
    BTFM_REWARD_FEATURES_BAND_POWER = 8,   /* bool: log10 theta and alpha power after the event */
    BTFM_REWARD_FEATURES_ONSET_WINDOW = 9, /* bool: 0.3-0.4 s after the item's onset (novelty) */
    BTFM_REWARD_FEATURES_BASELINE = 10,    /* bool: subtract the pre-event mean */
    BTFM_REWARD_FEATURES_EEG_ONLY = 11,    /* bool: EEG channels only */
    BTFM_REWARD_FEATURES_PARAM_MAX_ = 0x7fffffff
} btfm_reward_features_param;

/* A feature builder with default parameters: rows at "item_end" events, the novelty
 * window after the last "item_onset" before each (the rating session's labels,
 * doc/simulation.md). Free with btfm_reward_features_free (NULL is a no-op). */
BTFM_API btfm_status btfm_reward_features_new(btfm_reward_features **out);
BTFM_API void btfm_reward_features_free(btfm_reward_features *fb);
BTFM_API btfm_status btfm_reward_features_set_param(btfm_reward_features *fb, int param,
                                                    double value);
BTFM_API btfm_status btfm_reward_features_get_param(const btfm_reward_features *fb, int param,
                                                    double *value);
BTFM_API btfm_status btfm_reward_features_set_progress(btfm_reward_features *fb,
                                                       btfm_progress_fn fn, void *user);

/* The event label of a row ("item_end"; "gaze" gives a row per gaze-marked segment) and
 * of the item's onset (NULL or "": no novelty window). Labels are the events' labels
 * (BIDS trial_type). */
BTFM_API btfm_status btfm_reward_features_set_events(btfm_reward_features *fb,
                                                     const char *event,
                                                     const char *onset_event);

/* Compute features in a fitted aligner's shared space (epochs mapped by
 * btfm_aligner_transform for `subject`, whose features must be the good channels used, in
 * the recording's order: bad channels are left out); the builder keeps its own copy. NULL
 * returns to channels. */
BTFM_API btfm_status btfm_reward_features_set_aligner(btfm_reward_features *fb,
                                                      const btfm_aligner *aligner,
                                                      int subject);

/* Build the features of a recording: zero-phase band-pass of the whole recording, epochs
 * tmin..tmax around every row event (baseline tmin..0), then per source (channel or
 * component): the mean of each ERP window, log10 theta and alpha power over 0..tmax, and
 * the onset window. Bad channels give zeros. Replaces the previous result. An epoch
 * reaching outside the recording is BTFM_E_RANGE naming the event. */
BTFM_API btfm_status btfm_reward_features_compute(btfm_reward_features *fb, btfm_dataset *ds);

/* The result: rows and features (negative status before a computation), the matrix
 * (n_rows x n_features floats), the dataset event index of each row, each feature's
 * btfm_reward_role bits and name ("Pz:erp:0.300-0.400", "Fz:theta", "Cz:onset:..."; owned
 * by the builder), and the configuration text a head keeps (btfm_reward_head_set_feature_config). */
BTFM_API int64_t btfm_reward_features_n_rows(const btfm_reward_features *fb);
BTFM_API int64_t btfm_reward_features_n_features(const btfm_reward_features *fb);
BTFM_API btfm_status btfm_reward_features_matrix(const btfm_reward_features *fb, float *out,
                                                 size_t capacity);
BTFM_API btfm_status btfm_reward_features_events(const btfm_reward_features *fb, int64_t *out,
                                                 size_t capacity);
BTFM_API btfm_status btfm_reward_features_roles(const btfm_reward_features *fb, int32_t *out,
                                                size_t capacity);
BTFM_API const char *btfm_reward_features_name(const btfm_reward_features *fb, int64_t feature);
BTFM_API const char *btfm_reward_features_config(const btfm_reward_features *fb);

/* The filtered, baselined epochs of the rows (n_rows x *n_times x *n_sources floats; out
 * NULL asks only the sizes): what ERP plots and aligners are made from. */
BTFM_API btfm_status btfm_reward_features_epochs(const btfm_reward_features *fb, float *out,
                                                 size_t capacity, int64_t *n_times,
                                                 int *n_sources);

/* A numeric column of the dataset's events table (BIDS events.tsv: "item_id", "segment",
 * "rating", ...) for each row: n_rows doubles, NaN for n/a. Each row reads the line of
 * its event, also when events were added to the dataset since; BTFM_E_STATE when a row's
 * event did not come from the table (one the host added). */
BTFM_API btfm_status btfm_reward_features_column(const btfm_reward_features *fb,
                                                 btfm_dataset *ds, const char *column,
                                                 double *out, size_t capacity);

/* ---- persistence ------------------------------------------------------------------------ */

/* Save / load a fitted head through the model container (kind "reward_head"); buffer
 * variants as btfm_container_save_buffer / _load_buffer. */
BTFM_API btfm_status btfm_reward_head_save(const btfm_reward_head *h, const char *path);
BTFM_API btfm_status btfm_reward_head_save_buffer(const btfm_reward_head *h, void *buffer,
                                                  size_t capacity, size_t *written);
BTFM_API btfm_status btfm_reward_head_load(btfm_reward_head **out, const char *path);
BTFM_API btfm_status btfm_reward_head_load_buffer(btfm_reward_head **out, const void *buffer,
                                                  size_t size);

#ifdef __cplusplus
}
#endif

#endif
