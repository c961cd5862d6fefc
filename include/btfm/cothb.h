/* CoTHB (chain of thought from human brain): a branching controller for reasoning
 * search, driven by reliability signals the host observes (a brain-derived predictor, a
 * verifier, the model's own uncertainty) or infers from step outcomes. See doc/cothb.md. */
#ifndef BTFM_COTHB_H
#define BTFM_COTHB_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "progress.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_cothb btfm_cothb;

/* What btfm_cothb_next asks the host to do. Numbers are never reused.
 * EXTEND, BRANCH and DECOMPOSE ask for one new node (btfm_cothb_add_node with the
 * action's node as parent, then btfm_cothb_observe); the others are applied by the
 * controller itself and only tell the host what changed. */
typedef enum btfm_cothb_action {
    BTFM_COTHB_EXTEND = 1,    /* add the next step after `node` on the current path */
    BTFM_COTHB_BRANCH = 2,    /* add an alternative child of `node` (exploration) */
    BTFM_COTHB_DECOMPOSE = 3, /* open a sub-problem under `node`, one level lower */
    BTFM_COTHB_RETURN = 4,    /* sub-problem ending at `node` is done; back at `target` */
    BTFM_COTHB_RETRIEVE = 5,  /* resume the monitored path ending at `node` */
    BTFM_COTHB_CONFIRM = 6,   /* the exploratory path ending at `node` becomes current */
    BTFM_COTHB_ANSWER = 7,    /* `node` answers the problem; the search is over */
    BTFM_COTHB_STOP = 8,      /* a budget is spent (or nothing is left to try) */
    BTFM_COTHB_ACTION_MAX_ = 0x7fffffff
} btfm_cothb_action;

/* Slots of the signal array given to btfm_cothb_observe. Every signal is optional
 * (NaN = not observed) and lies in [0, 1]. New slots are only ever appended. */
typedef enum btfm_cothb_signal {
    BTFM_COTHB_SIGNAL_RELIABILITY = 0,  /* reliability of this step's rule */
    BTFM_COTHB_SIGNAL_ALTERNATIVE = 1,  /* reliability of the best alternative to it */
    BTFM_COTHB_SIGNAL_EXPLORATION = 2,  /* value of exploring a new branch here */
    BTFM_COTHB_SIGNAL_RETRIEVAL = 3,    /* evidence that a monitored path applies again */
    BTFM_COTHB_SIGNAL_CONFIRMATION = 4, /* evidence confirming this exploratory path */
    BTFM_COTHB_SIGNAL_OUTCOME = 5,      /* step outcome: 1 success, 0 failure, or between */
    BTFM_COTHB_SIGNAL_TERMINAL = 6,     /* 1 when the node completes its (sub-)problem */
    BTFM_COTHB_SIGNAL_PATH = 7,         /* reliability of the whole path ending here */
    BTFM_COTHB_SIGNAL_MAX_ = 0x7fffffff
} btfm_cothb_signal;

/* Node status. */
typedef enum btfm_cothb_status {
    BTFM_COTHB_OPEN = 0,      /* added, not (yet) on the current path */
    BTFM_COTHB_CURRENT = 1,   /* the leaf of the path being followed */
    BTFM_COTHB_MONITORED = 2, /* the leaf of an alternative kept for retrieval */
    BTFM_COTHB_CONFIRMED = 3, /* an inner node of a followed path */
    BTFM_COTHB_ABANDONED = 4, /* closed: unreliable, or evicted from the monitored set */
    BTFM_COTHB_ANSWERED = 5,  /* closed: the answer */
    BTFM_COTHB_STATUS_MAX_ = 0x7fffffff
} btfm_cothb_status;

/* Human decisions for btfm_cothb_calibrate. */
typedef enum btfm_cothb_decision {
    BTFM_COTHB_DECISION_CONTINUE = 0, /* stay with the current rule */
    BTFM_COTHB_DECISION_SWITCH = 1,   /* go back to a previously used (monitored) rule */
    BTFM_COTHB_DECISION_EXPLORE = 2,  /* try a new rule */
    BTFM_COTHB_DECISION_MAX_ = 0x7fffffff
} btfm_cothb_decision;

/* Parameters (btfm_cothb_set_param); btfm_param_info(BTFM_OBJECT_COTHB, ...) gives
 * names, defaults, bounds and one-sentence descriptions. */
typedef enum btfm_cothb_param {
    BTFM_COTHB_PARAM_CONTINUE_THRESHOLD = 0,
    BTFM_COTHB_PARAM_BRANCH_THRESHOLD = 1,
    BTFM_COTHB_PARAM_HYSTERESIS = 2,
    BTFM_COTHB_PARAM_ANSWER_THRESHOLD = 3,
    BTFM_COTHB_PARAM_SWITCH_MARGIN = 4,
    BTFM_COTHB_PARAM_MAX_STEPS = 5,
    BTFM_COTHB_PARAM_MAX_NODES = 6,
    BTFM_COTHB_PARAM_MAX_DEPTH = 7,
    BTFM_COTHB_PARAM_MAX_BREADTH = 8,
    BTFM_COTHB_PARAM_MAX_LEVELS = 9,
    BTFM_COTHB_PARAM_MAX_COST = 10,
    BTFM_COTHB_PARAM_COST_EXTEND = 11,
    BTFM_COTHB_PARAM_COST_BRANCH = 12,
    BTFM_COTHB_PARAM_COST_DECOMPOSE = 13,
    BTFM_COTHB_PARAM_COST_OTHER = 14,
    BTFM_COTHB_PARAM_MONITORED = 15,
    BTFM_COTHB_PARAM_PRIOR_SUCCESS = 16,
    BTFM_COTHB_PARAM_PRIOR_FAILURE = 17,
    BTFM_COTHB_PARAM_EXPLORE_EPSILON = 18,
    BTFM_COTHB_PARAM_SEED = 19,
    BTFM_COTHB_PARAM_POLICY = 20, /* 0 thresholds, 1 calibrated logistic, 2 budget */
    BTFM_COTHB_PARAM_TRACE = 21,
    BTFM_COTHB_PARAM_PATH_LENGTH = 22,
    BTFM_COTHB_PARAM_RECHECKS = 23,
    BTFM_COTHB_PARAM_WRONG_ANSWERS = 24,
    BTFM_COTHB_PARAM_STOP_CONFIDENCE = 25,
    BTFM_COTHB_PARAM_BASE_RATE = 26,
    BTFM_COTHB_PARAM_PROBE = 27,
    BTFM_COTHB_PARAM_VOLATILITY = 28,
    BTFM_COTHB_PARAM_SLIP = 29,
    BTFM_COTHB_PARAM_CHANCE = 30,
    BTFM_COTHB_PARAM_PROBE_PRIOR = 31,
    BTFM_COTHB_PARAM_PLANNING = 32,
    BTFM_COTHB_PARAM_MIN_DPRIME = 33,
    BTFM_COTHB_PARAM_MAX_ = 0x7fffffff
} btfm_cothb_param;

/* Names for messages, traces and bindings ("extend", "reliability", "monitored",
 * "switch"); NULL for an unknown number. Static storage. */
BTFM_API const char *btfm_cothb_action_name(int action);
BTFM_API const char *btfm_cothb_signal_name(int signal);
BTFM_API const char *btfm_cothb_status_name(int status);
BTFM_API const char *btfm_cothb_decision_name(int decision);

/* State of a strategy (btfm_cothb_strategy_info). */
typedef enum btfm_cothb_strategy_state {
    BTFM_COTHB_STRATEGY_FORGOTTEN = 0, /* no longer monitored */
    BTFM_COTHB_STRATEGY_MONITORED = 1, /* monitored, not the actor */
    BTFM_COTHB_STRATEGY_ACTOR = 2,     /* new steps are asked with it */
    BTFM_COTHB_STRATEGY_PROBE = 3,     /* the actor, created to explore and not confirmed */
    BTFM_COTHB_STRATEGY_STATE_MAX_ = 0x7fffffff
} btfm_cothb_strategy_state;

/* Number of signal slots this library knows (BTFM_COTHB_SIGNAL_PATH + 1).
 * btfm_cothb_signal_count is its deprecated name. */
BTFM_API int btfm_cothb_n_signals(void);
BTFM_API int btfm_cothb_signal_count(void);

/* Bytes of controller memory per node (the node record; trace records are extra). */
BTFM_API size_t btfm_cothb_node_bytes(void);

/* A new controller holding the root node 0 (the problem), current, level 0. */
BTFM_API btfm_status btfm_cothb_new(btfm_cothb **out);

/* Release a controller. NULL is a no-op. */
BTFM_API void btfm_cothb_free(btfm_cothb *c);

BTFM_API btfm_status btfm_cothb_set_param(btfm_cothb *c, int param, double value);
BTFM_API btfm_status btfm_cothb_get_param(const btfm_cothb *c, int param, double *value);

/* The next action. *action receives a btfm_cothb_action, *node the node it concerns,
 * *target (may be NULL) the second node of RETURN (the parent-level node the search
 * returns to) and RETRIEVE/CONFIRM (the path left), else -1. Every action consumes one
 * step and its cost, so a search always ends with ANSWER or STOP. BTFM_E_STATE when an
 * EXTEND/BRANCH/DECOMPOSE still waits for its node, or after ANSWER/STOP; BTFM_E_RANGE
 * when branch_threshold exceeds continue_threshold. */
BTFM_API btfm_status btfm_cothb_next(btfm_cothb *c, int *action, int64_t *node,
                                     int64_t *target);

/* Add the node the pending EXTEND/BRANCH/DECOMPOSE asked for; `parent` must be the
 * action's node (BTFM_E_STATE otherwise, or when no such action is pending). *id
 * receives the new node's number (nodes are numbered 0, 1, 2... in order of addition). */
BTFM_API btfm_status btfm_cothb_add_node(btfm_cothb *c, int64_t parent, int64_t *id);

/* Report signals for an open node: `signals` has `n_signals` (1 to
 * btfm_cothb_signal_count()) entries indexed by btfm_cothb_signal; NaN means not
 * observed. A value outside [0, 1] or infinite is refused (BTFM_E_RANGE) and nothing is
 * recorded; an unknown node is BTFM_E_NOTFOUND; an abandoned or answered node
 * BTFM_E_STATE. Outcomes accumulate (Beta posterior); other signals keep the latest. */
BTFM_API btfm_status btfm_cothb_observe(btfm_cothb *c, int64_t node, const double *signals,
                                        int n_signals);

/* Callback of btfm_cothb_run, called once for every action, the final ANSWER or STOP
 * included. For EXTEND/BRANCH/DECOMPOSE the controller has already added `new_node`
 * (child of `node`) and the host writes its signals into `signals` (`n_signals` slots,
 * all NaN on entry); for other actions new_node is -1 and `signals` is ignored. The
 * action's second node (btfm_cothb_next's `target`) is btfm_cothb_last_action's. Return
 * BTFM_OK to go on; any other status stops the run and is returned. */
typedef int (*btfm_cothb_step_fn)(int action, int64_t node, int64_t new_node,
                                  double *signals, int n_signals, void *user);

/* Drive the controller to its end with a callback: next, add_node, callback, observe,
 * until ANSWER or STOP. *final_action and *final_node (may be NULL) receive the last
 * action. */
BTFM_API btfm_status btfm_cothb_run(btfm_cothb *c, btfm_cothb_step_fn step, int *final_action,
                                    int64_t *final_node, void *user);

/* Start a new problem: the tree, trace, answers, strategies and budgets spent are
 * cleared and the random state is seeded again; parameters, the reliability calibration,
 * the logistic policy and the statistics of the readings seen so far (the base rate and
 * sensitivity the budget policy estimates from them) are kept. A new controller starts
 * without readings. */
BTFM_API btfm_status btfm_cothb_reset(btfm_cothb *c);

/* Name the answer a level-0 node reaches (any key the host derives from the answer, a
 * hash of its text for example), so paths reaching the same answer vote together. A
 * terminal without a key is an answer of its own. */
BTFM_API btfm_status btfm_cothb_set_answer(btfm_cothb *c, int64_t node, int64_t answer);

/* The best answer so far by the reliability-weighted vote (doc/cothb.md, "Answers"): its
 * most probable terminal node, its key (the node's id when it has none) and the
 * estimated probability that it is right. Output pointers may be NULL. BTFM_E_NOTFOUND
 * before any level-0 path was finished. Every policy registers finished paths. */
BTFM_API btfm_status btfm_cothb_answer(const btfm_cothb *c, int64_t *node, int64_t *answer,
                                       double *probability);

/* Number of distinct answers reached (negative status for a NULL controller), and answer
 * `index`'s key, most probable terminal, probability and number of paths. */
BTFM_API int64_t btfm_cothb_n_answers(const btfm_cothb *c);
BTFM_API btfm_status btfm_cothb_answer_info(const btfm_cothb *c, int64_t index,
                                            int64_t *answer, int64_t *node,
                                            double *probability, int64_t *paths);

/* The strategy a node's step was asked with: the host takes a step the way the
 * controller's strategy number says (doc/cothb.md, "Strategies"); 0 until a first probe. */
BTFM_API btfm_status btfm_cothb_node_strategy(const btfm_cothb *c, int64_t node,
                                             int64_t *strategy);

/* Strategies created so far (numbered 0, 1, ...), and one strategy's reliability (NaN
 * once forgotten) and btfm_cothb_strategy_state. */
BTFM_API int64_t btfm_cothb_n_strategies(const btfm_cothb *c);
BTFM_API btfm_status btfm_cothb_strategy_info(const btfm_cothb *c, int64_t strategy,
                                              double *reliability, int *state);

/* The action btfm_cothb_next returned last (also inside a btfm_cothb_run callback): its
 * btfm_cothb_action, node and second node (-1 if none). Output pointers may be NULL.
 * BTFM_E_STATE before the first action. */
BTFM_API btfm_status btfm_cothb_last_action(const btfm_cothb *c, int *action, int64_t *node,
                                            int64_t *target);

/* Number of nodes (the root included). btfm_cothb_node_count is its deprecated name. */
BTFM_API int64_t btfm_cothb_n_nodes(const btfm_cothb *c);
BTFM_API int64_t btfm_cothb_node_count(const btfm_cothb *c);

/* Describe node `id`. Output pointers may be NULL. parent is -1 for the root; depth is
 * the number of steps from the root; n_children the children added so far. */
BTFM_API btfm_status btfm_cothb_node_info(const btfm_cothb *c, int64_t id, int64_t *parent,
                                          int *level, int *status, int *depth,
                                          int *n_children);

/* Reliability the policy uses for node `id`. Budget policy: the host's latest
 * reliability signal, each returned re-check and each outcome combined in log-odds
 * against the base rate (doc/cothb.md, "Evidence"). Thresholds and logistic policies:
 * the reliability returned by its sub-problem when it was decomposed, else the host's
 * latest reliability signal, else the Beta posterior mean of its outcomes. */
BTFM_API btfm_status btfm_cothb_reliability(const btfm_cothb *c, int64_t id, double *value);

/* The Beta posterior (a, b) of node `id`'s step success: prior_success + sum of
 * outcomes, prior_failure + sum of (1 - outcome). */
BTFM_API btfm_status btfm_cothb_posterior(const btfm_cothb *c, int64_t id, double *a,
                                          double *b);

/* The leaf of the current path, steps taken (every action but the final STOP) and
 * cost spent so far. */
BTFM_API btfm_status btfm_cothb_progress(const btfm_cothb *c, int64_t *current,
                                         int64_t *steps, double *cost);

/* Fit the logistic policy to human decisions: `features` is n_rows x n_features (C
 * order, 1 <= n_features <= signal count, column j = signal slot j, finite values in
 * [0, 1]); decisions[i] a btfm_cothb_decision. Two L2-penalized logistic regressions
 * (intercepts not penalized, penalty l2/2 ||w||^2, as scikit-learn's
 * LogisticRegression(C = 1/l2)): continue vs leave on every row, and switch vs explore
 * on the rows that leave. Sets the policy parameter to 1. Each class needs at least one
 * row (BTFM_E_INVALID otherwise). */
BTFM_API btfm_status btfm_cothb_calibrate(btfm_cothb *c, const double *features, int n_rows,
                                          int n_features, const int *decisions, double l2);

/* The fitted policy: head 0 continue-vs-leave, head 1 switch-vs-explore. `weights`
 * receives btfm_cothb_signal_count() values (0 for slots not fitted), *bias the
 * intercept. P(head) = 1 / (1 + exp(-(w . x + bias))). */
BTFM_API btfm_status btfm_cothb_policy(const btfm_cothb *c, int head, double *weights,
                                       int n_weights, double *bias);

/* Reliability calibration: a map from a host's raw score (an error-related potential's
 * amplitude, a verifier's logit, a decoder's output...) to P(step correct). */
typedef enum btfm_cothb_calibration {
    BTFM_COTHB_CALIBRATION_NONE = 0,     /* scores are probabilities already, used as given */
    BTFM_COTHB_CALIBRATION_PLATT = 1,    /* logistic in the score (Platt 1999) */
    BTFM_COTHB_CALIBRATION_ISOTONIC = 2, /* monotone, by pool adjacent violators */
    BTFM_COTHB_CALIBRATION_MAX_ = 0x7fffffff
} btfm_cothb_calibration;

/* "none", "platt", "isotonic"; NULL for an unknown number. Static storage. */
BTFM_API const char *btfm_cothb_calibration_name(int method);

/* Fit the controller's calibration from n labelled steps: scores[i] a finite raw score,
 * correct[i] 1 if that step was correct, 0 if not (both classes needed). Platt scaling
 * is scikit-learn's sigmoid calibration (Platt's smoothed targets); isotonic regression
 * is increasing or decreasing, whichever the scores' AUC says, interpolates linearly
 * between its points and clips outside them (scikit-learn's IsotonicRegression with
 * out_of_bounds = "clip"). A failed fit leaves the previous calibration in place. */
BTFM_API btfm_status btfm_cothb_calibrate_reliability(btfm_cothb *c, int method,
                                                      const double *scores,
                                                      const int *correct, int64_t n);

/* P(step correct) for a raw score through the fitted calibration (without one, the
 * score itself, which must then lie in [0, 1]). */
BTFM_API btfm_status btfm_cothb_reliability_of_score(const btfm_cothb *c, double score,
                                                     double *probability);

/* Observe a raw score in signal slot `signal` (not terminal) of `node`: its calibrated
 * probability is observed as btfm_cothb_observe would. */
BTFM_API btfm_status btfm_cothb_observe_score(btfm_cothb *c, int64_t node, int signal,
                                              double score);

/* Multichannel reliability: P(step correct | features) from several raw features of each
 * step (ERN amplitude, band powers, pupil size, ... in any units) by the model layer's
 * L2-penalized logistic regression on standardized features: scikit-learn's
 * make_pipeline(StandardScaler(), LogisticRegression(C = 1 / l2)). features is n_steps x
 * n_features (C order, finite), correct[i] 1 or 0 (at least 5 of each, 10 steps). The
 * held-out d' of the fit (5 contiguous folds, sqrt(2) Phi^-1(AUC)) and the base rate
 * then describe the signal to the budget policy, as a score calibration's do. Saved
 * with the controller; a failed fit leaves the previous one in place. */
BTFM_API btfm_status btfm_cothb_calibrate_features(btfm_cothb *c, const float *features,
                                                   int64_t n_steps, int64_t n_features,
                                                   const int32_t *correct, double l2);

/* P(step correct) of one step's features (n_features values) through the calibration
 * (BTFM_E_STATE without one). */
BTFM_API btfm_status btfm_cothb_reliability_of_features(const btfm_cothb *c,
                                                        double *probability,
                                                        const float *features,
                                                        int64_t n_features);

/* Observe one step's features in signal slot `signal` (not terminal) of `node`: their
 * calibrated probability is observed as btfm_cothb_observe would. */
BTFM_API btfm_status btfm_cothb_observe_features(btfm_cothb *c, int64_t node, int signal,
                                                 const float *features, int64_t n_features);

/* The feature calibration's features (0 without one; negative status for NULL), and its
 * weights in the features' units (capacity >= that count; NULL to skip), intercept and
 * held-out d' (each may be NULL): P = 1 / (1 + exp(-(w . x + intercept))). */
BTFM_API int64_t btfm_cothb_n_features(const btfm_cothb *c);
BTFM_API btfm_status btfm_cothb_feature_weights(const btfm_cothb *c, double *weights,
                                                size_t capacity, double *intercept,
                                                double *dprime);

/* Items of a signal-quality report (btfm_cothb_signal_quality). New items are appended. */
typedef enum btfm_cothb_quality {
    BTFM_COTHB_QUALITY_N = 0,               /* labelled steps */
    BTFM_COTHB_QUALITY_BASE_RATE = 1,       /* fraction of correct steps */
    BTFM_COTHB_QUALITY_AUC = 2,             /* P(a correct step scores above a wrong one) */
    BTFM_COTHB_QUALITY_AUC_LOW = 3,         /* 95% interval (DeLong et al. 1988) */
    BTFM_COTHB_QUALITY_AUC_HIGH = 4,
    BTFM_COTHB_QUALITY_DPRIME = 5,          /* sqrt(2) Phi^-1(AUC): equal-variance d' */
    BTFM_COTHB_QUALITY_ECE_RAW = 6,         /* calibration error of the raw scores (NaN
                                             * unless they lie in [0, 1]) */
    BTFM_COTHB_QUALITY_ECE = 7,             /* of the calibrated probabilities, out of fold */
    BTFM_COTHB_QUALITY_BRIER = 8,           /* mean squared error, out of fold */
    BTFM_COTHB_QUALITY_BRIER_BASE_RATE = 9, /* Brier score of always saying the base rate */
    BTFM_COTHB_QUALITY_LOG_LOSS = 10,       /* mean negative log likelihood, out of fold */
    BTFM_COTHB_QUALITY_MAX_ = 0x7fffffff
} btfm_cothb_quality;

/* Names of the report items ("auc", "dprime", "ece"...); NULL for an unknown one. */
BTFM_API const char *btfm_cothb_quality_name(int item);
BTFM_API int btfm_cothb_quality_count(void);

/* Report on a reliability signal from n labelled steps: report[item] for the first
 * n_report items of btfm_cothb_quality. AUC and d' are those of the raw scores (below
 * 0.5 and negative when higher scores mean errors). The calibration items come from
 * `method` fitted on k - 1 folds and applied to the held-out fold (step i is in fold
 * i % folds); folds 0 or 1 fits and evaluates on all steps. Expected calibration error
 * uses 10 equal-width probability bins. Needs no controller. */
BTFM_API btfm_status btfm_cothb_signal_quality(const double *scores, const int *correct,
                                               int64_t n, int method, int folds,
                                               double *report, int n_report);

/* Tuning a controller against task reward (object kind "cothb_tuner"): the host runs
 * episodes, the tuner chooses the knobs that maximize the mean reward on training
 * problems and reports the result on held-out ones (doc/cothb.md, "Tuning"). */
typedef struct btfm_cothb_tuner btfm_cothb_tuner;

/* One episode: run controller `c` (fresh for this problem: the tuner's setting, the base
 * controller's calibration and policy, nothing searched yet) on problem `problem` and
 * write the task's reward (1 for a right answer, 0 for a wrong one, or any finite
 * reward). The host sets what its problems need (budgets, path length) but not the
 * knobs being tuned. Return BTFM_OK, or a negative status to stop the tuning. */
typedef int (*btfm_cothb_episode_fn)(btfm_cothb *c, int64_t problem, double *reward,
                                     void *user);

/* Tuner parameters (btfm_cothb_tuner_set_param; btfm_param_info(BTFM_OBJECT_COTHB_TUNER)). */
typedef enum btfm_cothb_tuner_param {
    BTFM_COTHB_TUNER_PARAM_PROBLEMS = 0,      /* training problems per setting (500) */
    BTFM_COTHB_TUNER_PARAM_HELD_OUT = 1,      /* held-out problems (500) */
    BTFM_COTHB_TUNER_PARAM_ROUNDS = 2,        /* passes of coordinate ascent (2) */
    BTFM_COTHB_TUNER_PARAM_FIRST_PROBLEM = 3, /* id of the first training problem (0) */
    BTFM_COTHB_TUNER_PARAM_MAX_ = 0x7fffffff
} btfm_cothb_tuner_param;

/* Items of the tuning report (btfm_cothb_tuner_result). New items are appended. */
typedef enum btfm_cothb_tuning {
    BTFM_COTHB_TUNING_TRAIN_REWARD = 0,     /* mean reward of the chosen setting, training */
    BTFM_COTHB_TUNING_HELD_OUT_REWARD = 1,  /* ... on the held-out problems */
    BTFM_COTHB_TUNING_HELD_OUT_LOW = 2,     /* its 95% interval */
    BTFM_COTHB_TUNING_HELD_OUT_HIGH = 3,
    BTFM_COTHB_TUNING_BASE_HELD_OUT_REWARD = 4, /* the starting setting, held-out */
    BTFM_COTHB_TUNING_DIFFERENCE = 5,       /* chosen - starting, paired, held-out */
    BTFM_COTHB_TUNING_DIFFERENCE_LOW = 6,   /* its 95% interval */
    BTFM_COTHB_TUNING_DIFFERENCE_HIGH = 7,
    BTFM_COTHB_TUNING_EPISODES = 8,         /* episodes run */
    BTFM_COTHB_TUNING_SETTINGS = 9,         /* settings evaluated on the training problems */
    BTFM_COTHB_TUNING_MAX_ = 0x7fffffff
} btfm_cothb_tuning;

BTFM_API const char *btfm_cothb_tuning_name(int item);
BTFM_API btfm_status btfm_cothb_tuner_new(btfm_cothb_tuner **out);
BTFM_API void btfm_cothb_tuner_free(btfm_cothb_tuner *t);
BTFM_API btfm_status btfm_cothb_tuner_set_param(btfm_cothb_tuner *t, int param, double value);
BTFM_API btfm_status btfm_cothb_tuner_get_param(const btfm_cothb_tuner *t, int param,
                                                double *value);

/* Progress of btfm_cothb_tuner_run (the fraction of episodes run); returning non-zero
 * cancels it (BTFM_E_CANCELLED, the tuner left as it was). */
BTFM_API btfm_status btfm_cothb_tuner_set_progress(btfm_cothb_tuner *t, btfm_progress_fn fn,
                                                   void *user);

/* Tune controller parameter `param` over `n_values` values (1 to 64, each within the
 * parameter's bounds); at most 16 knobs. Without any, btfm_cothb_tuner_run tunes
 * planning, min_dprime, continue_threshold, branch_threshold, rechecks, stop_confidence
 * and wrong_answers. */
BTFM_API btfm_status btfm_cothb_tuner_add_knob(btfm_cothb_tuner *t, int param,
                                               const double *values, int n_values);

/* Tune, starting from `base`'s parameters: coordinate ascent, each knob in turn set to
 * its value with the highest mean reward on the training problems (the others fixed; a
 * setting with branch_threshold above continue_threshold is skipped), for `rounds`
 * passes or until a pass changes nothing; then the chosen setting and `base`'s run the
 * held-out problems. Every evaluation of a setting runs the same problems. */
BTFM_API btfm_status btfm_cothb_tuner_run(btfm_cothb_tuner *t, const btfm_cothb *base,
                                          btfm_cothb_episode_fn episode, void *user);

/* The first n_report items of the tuning report (btfm_cothb_tuning). BTFM_E_STATE before
 * a run. */
BTFM_API btfm_status btfm_cothb_tuner_result(const btfm_cothb_tuner *t, double *report,
                                             int n_report);

/* The knobs (negative status for a NULL tuner) and knob `index`'s parameter and chosen
 * value (NaN before a run). */
BTFM_API int btfm_cothb_tuner_n_knobs(const btfm_cothb_tuner *t);
BTFM_API btfm_status btfm_cothb_tuner_knob(const btfm_cothb_tuner *t, int index, int *param,
                                           double *chosen);

/* Set the chosen values on controller `c` (BTFM_E_STATE before a run). */
BTFM_API btfm_status btfm_cothb_tuner_apply(const btfm_cothb_tuner *t, btfm_cothb *c);

/* The trace as JSON Lines: one object per action, added node and observation, in order.
 * Same buffer convention as btfm_container_save_buffer: NULL `buffer` is a size query;
 * too small a capacity writes nothing, sets *written to the size needed and returns
 * BTFM_E_RANGE. The text is NUL-terminated; *written excludes the NUL, capacity must
 * include it. */
BTFM_API btfm_status btfm_cothb_trace_jsonl(const btfm_cothb *c, char *buffer, size_t capacity,
                                            size_t *written);

/* Save and load the whole state (parameters, nodes, signals, policy, pending action,
 * trace, random state) through the container format (kind "cothb"): a loaded controller
 * continues exactly as the saved one would. */
BTFM_API btfm_status btfm_cothb_save(const btfm_cothb *c, const char *path);
BTFM_API btfm_status btfm_cothb_save_buffer(const btfm_cothb *c, void *buffer,
                                            size_t capacity, size_t *written);
BTFM_API btfm_status btfm_cothb_load(btfm_cothb **out, const char *path);
BTFM_API btfm_status btfm_cothb_load_buffer(btfm_cothb **out, const void *buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif
