/* Parameter introspection: every handle's tunables, with names, types, defaults and
 * bounds available at run time, so bindings generate wrappers instead of hard-coding. */
#ifndef BTFM_PARAM_H
#define BTFM_PARAM_H

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of handle that have parameters. Numbers are never reused. */
typedef enum btfm_object_kind {
    BTFM_OBJECT_CONTAINER = 1,
    BTFM_OBJECT_DATASET = 2,
    BTFM_OBJECT_ALIGNER = 3,
    BTFM_OBJECT_COTHB = 4,
    BTFM_OBJECT_MODEL = 5,
    BTFM_OBJECT_REWARD_HEAD = 6,         /* btfm_reward_head (include/btfm/reward.h) */
    BTFM_OBJECT_STREAM = 7,              /* btfm_stream (include/btfm/stream.h) */
    BTFM_OBJECT_SIM_RATING_SESSION = 8,  /* btfm_sim (include/btfm/sim.h) */
    BTFM_OBJECT_SIM_SHARED_RESPONSE = 9, /* btfm_sim */
    BTFM_OBJECT_CORPUS = 10,             /* btfm_corpus_builder (include/btfm/corpus.h) */
    BTFM_OBJECT_LOADER = 11,             /* btfm_loader (include/btfm/corpus.h) */
    BTFM_OBJECT_EPOCHS_PLAN = 12,        /* btfm_epochs_plan (include/btfm/signal.h) */
    BTFM_OBJECT_WELCH_PLAN = 13,         /* btfm_welch_plan (include/btfm/spectrum.h) */
    BTFM_OBJECT_DESIGN_PLAN = 14,        /* btfm_glm_design_plan (include/btfm/glm.h) */
    BTFM_OBJECT_CLEAN_PLAN = 15,         /* btfm_glm_clean_plan (include/btfm/glm.h) */
    BTFM_OBJECT_COTHB_TUNER = 17,        /* btfm_cothb_tuner (include/btfm/cothb.h) */
    BTFM_OBJECT_REWARD_FEATURES = 18,    /* btfm_reward_features (include/btfm/reward.h) */
    BTFM_OBJECT_KIND_MAX_ = 0x7fffffff /* keeps the enum's size fixed; not a kind */
} btfm_object_kind;

typedef enum btfm_param_type {
    BTFM_PARAM_REAL = 0, /* any finite double within the bounds */
    BTFM_PARAM_INT = 1,  /* a whole number within the bounds */
    BTFM_PARAM_BOOL = 2, /* 0 or 1 */
    BTFM_PARAM_TYPE_MAX_ = 0x7fffffff
} btfm_param_type;

/* Name of a parameter type: "real", "int" or "bool"; NULL for an unknown type. */
BTFM_API const char *btfm_param_type_name(int type);

/* Name of an object kind ("container"); NULL for an unknown kind. */
BTFM_API const char *btfm_object_kind_name(int kind);

/* Number of parameters of an object kind; parameters are numbered 0 .. count-1.
 * A negative status (BTFM_E_INVALID) for an unknown kind. btfm_param_count is its
 * deprecated name. */
BTFM_API int btfm_object_n_params(int kind);
BTFM_API int btfm_param_count(int kind);

/* Describe parameter `param` of `kind`. Any output pointer may be NULL. `name` is
 * static storage, lower_snake_case (e.g. "fsync"). */
BTFM_API btfm_status btfm_param_info(int kind, int param, const char **name, int *type,
                                     double *default_value, double *min_value,
                                     double *max_value);

/* One-sentence description of a parameter for help texts and docstrings; NULL for an
 * unknown kind or parameter. Static storage. */
BTFM_API const char *btfm_param_description(int kind, int param);

/* Find a parameter by name. BTFM_E_NOTFOUND (with the known names in the message)
 * when the kind has no such parameter. */
BTFM_API btfm_status btfm_param_find(int kind, const char *name, int *param);

#ifdef __cplusplus
}
#endif

#endif
