/* The reward head's internals shared by its files: the handle, the fitted state, the
 * per-annotator grouping and the normal distribution helpers. */
#ifndef BTFM_REWARD_INTERNAL_H
#define BTFM_REWARD_INTERNAL_H

#include <btfm/model.h>
#include <btfm/reward.h>
#include "core/internal.h"
#include "core/param.h"

#define REWARD_PARAM_COUNT 9
#define REWARD_N_DECODERS 4 /* value, confidence, penalty, novelty: columns of weights */

/* What a fit leaves: the decoders as weights on standardized features, and the Gaussian
 * model that combines a rating with the brain reward (doc/rlhb.md). */
typedef struct reward_fit {
    int64_t n_features;
    int normalize;          /* features z-scored within each annotator */
    int has_ratings;        /* fitted on ratings (else on pairs alone) */
    int has_confidence;     /* a confidence decoder exists */
    int has_penalty;        /* a negative-affect classifier exists */
    int has_novelty;        /* novelty-role features exist */
    int32_t *roles;         /* n_features */
    double *center, *scale; /* n_features: standardization after the per-annotator step */
    double *weights;        /* n_features x REWARD_N_DECODERS (C order) */
    double intercept[REWARD_N_DECODERS];
    double reliability;     /* v: latent reward's variance in a standardized rating */
    double brain_slope;     /* beta: brain reward = beta u + noise */
    double brain_noise;     /* sigma_b^2 */
    double brain_sd;        /* pairs only: the score's spread (its scale) */
    double alpha;           /* the reward decoder's penalty */
    double rating_scale;    /* pooled within-annotator SD of the training ratings */
    double confidence_mean; /* mean rating confidence of the training ratings */
    double confidence_gain; /* the confidence decoder's held-out adjusted R^2 */
    double penalty_threshold; /* in latent units: below it an item is disliked */
    double novelty_center, novelty_scale;
    char *config;           /* feature configuration text ("" when none) */
} reward_fit;

struct btfm_reward_head {
    double params[REWARD_PARAM_COUNT];
    btfm_progress_fn progress;
    void *progress_user;
    float *ratings, *rating_confidence;
    int64_t n_ratings;
    int64_t *pairs;
    float *pair_weight;
    int64_t n_pairs;
    int64_t *item_ids;
    int64_t n_item_ids;
    int32_t *roles;
    int64_t n_roles;
    char *config;
    reward_fit *fit;
};

extern const btfm_param_table btfm_reward_head_param_table;

void btfm_reward_fit_free(reward_fit *f);

/* Group index (0 .. *n_groups - 1, in order of first appearance) of each of n ids. */
btfm_status btfm_reward_group_ids(const int64_t *ids, int64_t n, int32_t *group,
                                  int64_t *n_groups, const char *func);

/* Per group (n_groups x d): the mean and the inverse standard deviation (0 for a
 * constant feature or a group of one row) of each feature. */
btfm_status btfm_reward_group_stats(const float *x, int64_t n, int64_t d, const int32_t *group,
                                   int64_t n_groups, double *mean, double *inv_sd,
                                   const char *func);

/* Standardize features (n x d floats) into out: per group z-score when
 * `normalize`, then (x - center) / scale; constant columns become 0. With center NULL the
 * standardization is computed from these rows and stored in center/scale_out. */
btfm_status btfm_reward_standardize(float *out, const float *x, int64_t n, int64_t d,
                                    const int32_t *group, int64_t n_groups, int normalize,
                                    const double *center, const double *scale,
                                    double *center_out, double *scale_out, const char *func);

/* Ratings (NaN: none) standardized within each group into z: minus the group's mean,
 * over its SD when it has three ratings or more and they vary, else over the pooled
 * within-group SD (fallback_sd when that is 0); *pooled_sd receives the SD used as
 * pooled. */
btfm_status btfm_reward_standardize_ratings(float *z, double *pooled_sd, const float *ratings,
                                            int64_t n, const int32_t *group, int64_t n_groups,
                                            double fallback_sd, const char *func);

/* One item's outputs (BTFM_REWARD_N_OUTPUTS floats into o) from its decoders' values
 * (value, confidence, penalty, novelty, offsets included) and its standardized rating z
 * (NaN: none) in `mode`: the Gaussian combination of btfm_reward_head_predict. */
void btfm_reward_combine(const reward_fit *f, int mode, const double *decoders, double z,
                         float *o);
/* The decoders of a head fitted without per-annotator normalization as one linear map on
 * raw features: decoder k of a row x is x . weights[:, k] + offset[k] (weights n_features x
 * REWARD_N_DECODERS); what scoring one row at a time (a stream) needs. */
btfm_status btfm_reward_fold_single(const btfm_reward_head *h, double *weights, double *offset,
                                    const char *func);

/* Standard normal distribution function and its inverse. */
double btfm_reward_phi(double x);
double btfm_reward_phi_inv(double p);

#endif
