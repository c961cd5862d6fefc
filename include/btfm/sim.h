/* Ground-truth simulators that write real BIDS datasets through the library's own
 * writers: an RLHB rating session (annotators reading model outputs, with EEG, optional
 * fMRI, ratings and pairwise preferences) and a shared-response session (subjects driven
 * by one shared time course). Same seed, same bytes. Generative models, file names and
 * columns: doc/simulation.md. */
#ifndef BTFM_SIM_H
#define BTFM_SIM_H

#include "export.h"
#include "status.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_sim btfm_sim;

/* Parameters of a rating session (kind BTFM_OBJECT_SIM_RATING_SESSION). Defaults, bounds
 * and a sentence each: btfm_param_info; the model they enter: doc/simulation.md. */
typedef enum btfm_sim_rating_param {
    BTFM_SIM_RATING_SEED = 0,               /* int */
    BTFM_SIM_RATING_N_ANNOTATORS = 1,       /* int */
    BTFM_SIM_RATING_N_ITEMS = 2,            /* int */
    BTFM_SIM_RATING_N_CHANNELS = 3,         /* int: EEG channels (10-10/10-5 names) */
    BTFM_SIM_RATING_SFREQ = 4,              /* int: Hz */
    BTFM_SIM_RATING_EEG_FORMAT = 5,         /* int: BTFM_FORMAT_EDF, _BDF or _BRAINVISION */
    BTFM_SIM_RATING_EOG = 6,                /* bool: VEOG and HEOG channels */
    BTFM_SIM_RATING_SEGMENTS_MIN = 7,       /* int */
    BTFM_SIM_RATING_SEGMENTS_MAX = 8,       /* int */
    BTFM_SIM_RATING_SEGMENT_DWELL_S = 9,    /* real */
    BTFM_SIM_RATING_ITEM_GAP_S = 10,        /* real */
    BTFM_SIM_RATING_PERCEPTION_NOISE = 11,  /* real */
    BTFM_SIM_RATING_SEGMENT_REWARD_SD = 12, /* real */
    BTFM_SIM_RATING_EFFECT_SCALE = 13,      /* real: 0 = no latent value in the signals */
    BTFM_SIM_RATING_REWP_BASE_UV = 14,      /* real */
    BTFM_SIM_RATING_REWP_EFFECT_UV = 15,    /* real */
    BTFM_SIM_RATING_SEGMENT_EFFECT_UV = 16, /* real */
    BTFM_SIM_RATING_FRN_BASE_UV = 17,       /* real */
    BTFM_SIM_RATING_FRN_EFFECT_UV = 18,     /* real */
    BTFM_SIM_RATING_P3A_BASE_UV = 19,       /* real */
    BTFM_SIM_RATING_P3A_EFFECT_UV = 20,     /* real */
    BTFM_SIM_RATING_THETA_BASE_UV = 21,     /* real */
    BTFM_SIM_RATING_THETA_EFFECT_UV = 22,   /* real */
    BTFM_SIM_RATING_LATENCY_JITTER_MS = 23, /* real */
    BTFM_SIM_RATING_NOISE_UV = 24,          /* real */
    BTFM_SIM_RATING_NOISE_SPREAD = 25,      /* real */
    BTFM_SIM_RATING_APERIODIC_EXPONENT = 26,/* real */
    BTFM_SIM_RATING_SPATIAL_NOISE = 27,     /* real */
    BTFM_SIM_RATING_ALPHA_UV = 28,          /* real */
    BTFM_SIM_RATING_ALPHA_FREQ = 29,        /* real */
    BTFM_SIM_RATING_ALPHA_FREQ_SD = 30,     /* real */
    BTFM_SIM_RATING_ALPHA_ENGAGEMENT = 31,  /* real */
    BTFM_SIM_RATING_LINE_FREQ = 32,         /* real: Hz, 0 = none */
    BTFM_SIM_RATING_LINE_UV = 33,           /* real */
    BTFM_SIM_RATING_BLINK_RATE = 34,        /* real: per minute */
    BTFM_SIM_RATING_BLINK_UV = 35,          /* real */
    BTFM_SIM_RATING_ARTIFACT_RATE = 36,     /* real: per minute */
    BTFM_SIM_RATING_ARTIFACT_UV = 37,       /* real */
    BTFM_SIM_RATING_N_BAD_CHANNELS = 38,    /* int */
    BTFM_SIM_RATING_MARK_BAD = 39,          /* bool */
    BTFM_SIM_RATING_TOPOGRAPHY_ROTATION_DEG = 40, /* real */
    BTFM_SIM_RATING_TOPOGRAPHY_MIXING = 41, /* real */
    BTFM_SIM_RATING_RATING_FRACTION = 42,   /* real */
    BTFM_SIM_RATING_LIKERT_POINTS = 43,     /* int */
    BTFM_SIM_RATING_RATING_BIAS_SD = 44,    /* real */
    BTFM_SIM_RATING_RATING_NOISE = 45,      /* real */
    BTFM_SIM_RATING_N_PAIRS = 46,           /* int: per annotator */
    BTFM_SIM_RATING_BT_SCALE = 47,          /* real */
    BTFM_SIM_RATING_FMRI = 48,              /* bool */
    BTFM_SIM_RATING_FMRI_TR = 49,           /* real: s */
    BTFM_SIM_RATING_FMRI_VOXEL_MM = 50,     /* real */
    BTFM_SIM_RATING_FMRI_EFFECT_PCT = 51,   /* real */
    BTFM_SIM_RATING_FMRI_NOISE_PCT = 52,    /* real */
    BTFM_SIM_RATING_FMRI_AR = 53,           /* real */
    BTFM_SIM_RATING_FMRI_MOTION_MM = 54,    /* real */
    BTFM_SIM_RATING_NUM_THREADS = 55,       /* int: 0 = the processors online */
    BTFM_SIM_RATING_THETA_ENGAGEMENT_UV = 56, /* real: 0 = no ongoing theta (1.3) */
    BTFM_SIM_RATING_BLINK_ENGAGEMENT = 57,  /* real: 0 = blinks do not follow engagement (1.3) */
    BTFM_SIM_RATING_PARAM_MAX_ = 0x7fffffff
} btfm_sim_rating_param;

/* Parameters of a shared-response session (kind BTFM_OBJECT_SIM_SHARED_RESPONSE). */
typedef enum btfm_sim_shared_param {
    BTFM_SIM_SHARED_SEED = 0,               /* int */
    BTFM_SIM_SHARED_N_SUBJECTS = 1,         /* int */
    BTFM_SIM_SHARED_N_TIMES = 2,            /* int */
    BTFM_SIM_SHARED_N_COMPONENTS = 3,       /* int: K */
    BTFM_SIM_SHARED_CORRESPONDENCE = 4,     /* real: 0 unrelated layouts .. 1 identical */
    BTFM_SIM_SHARED_SNR = 5,                /* real: shared / noise variance */
    BTFM_SIM_SHARED_SNR_SPREAD = 6,         /* real */
    BTFM_SIM_SHARED_SMOOTHNESS = 7,         /* real: AR(1) coefficient of the shared course */
    BTFM_SIM_SHARED_FORMAT = 8,             /* int: BTFM_FORMAT_EDF, _BDF, _BRAINVISION, _NIFTI */
    BTFM_SIM_SHARED_GRID_X = 9,             /* int: NIfTI grid */
    BTFM_SIM_SHARED_GRID_Y = 10,            /* int */
    BTFM_SIM_SHARED_GRID_Z = 11,            /* int */
    BTFM_SIM_SHARED_N_CHANNELS = 12,        /* int: EEG formats */
    BTFM_SIM_SHARED_SAMPLE_RATE = 13,       /* real: Hz, 0 = 0.5 (NIfTI) or 100 (EEG) */
    BTFM_SIM_SHARED_SPATIAL_SMOOTHNESS = 14,/* real */
    BTFM_SIM_SHARED_SIGNAL_SCALE = 15,      /* real */
    BTFM_SIM_SHARED_BASELINE = 16,          /* real */
    BTFM_SIM_SHARED_NUM_THREADS = 17,       /* int */
    BTFM_SIM_SHARED_PARAM_MAX_ = 0x7fffffff
} btfm_sim_shared_param;

/* A new simulator of `kind`: BTFM_OBJECT_SIM_RATING_SESSION or
 * BTFM_OBJECT_SIM_SHARED_RESPONSE (include/btfm/param.h), with default parameters.
 * Free with btfm_sim_free. */
BTFM_API btfm_status btfm_sim_new(btfm_sim **out, int kind);

/* Release a simulator. NULL is a no-op. */
BTFM_API void btfm_sim_free(btfm_sim *sim);

/* The kind given to btfm_sim_new, or a negative status for NULL. */
BTFM_API int btfm_sim_kind(const btfm_sim *sim);

/* Parameters of the simulator's kind (btfm_sim_rating_param or btfm_sim_shared_param),
 * checked against their bounds; combinations (segments_min <= segments_max, a line
 * frequency below Nyquist, ...) are checked when the session is written. */
BTFM_API btfm_status btfm_sim_set_param(btfm_sim *sim, int param, double value);
BTFM_API btfm_status btfm_sim_get_param(const btfm_sim *sim, int param, double *value);

/* Progress of the session calls (include/btfm/progress.h); NULL falls back to the
 * calling thread's callback. A cancelled call returns BTFM_E_CANCELLED and leaves no
 * output folder behind. */
BTFM_API btfm_status btfm_sim_set_progress(btfm_sim *sim, btfm_progress_fn fn, void *user);

/* Write a rating session as a BIDS dataset at `out_dir` (a simulator of kind
 * BTFM_OBJECT_SIM_RATING_SESSION): per annotator sub-XX/eeg (EDF+, BDF+ or BrainVision,
 * channels.tsv, events.tsv with item ids, gaze segments and ratings), sub-XX/beh (ratings,
 * pairwise preferences), sub-XX/func when fmri is set, and the ground truth under
 * derivatives/truth/. `out_dir` must not exist or be an empty folder: everything is
 * written into a temporary folder beside it and renamed into place when complete, so a
 * failed or cancelled call leaves nothing. Recordings are generated block by block and
 * streamed to disk: memory does not grow with the session's length. Uses num_threads
 * threads; the files do not depend on it. */
BTFM_API btfm_status btfm_sim_rating_session(btfm_sim *sim, const char *out_dir);

/* Write a shared-response session (kind BTFM_OBJECT_SIM_SHARED_RESPONSE) at `out_dir`:
 * per subject one recording (NIfTI sub-XX/func/..._bold.nii.gz, or EEG), and the shared
 * time course, every subject's mixing and noise level under derivatives/truth/. Same
 * folder rules as btfm_sim_rating_session. */
BTFM_API btfm_status btfm_sim_shared_response(btfm_sim *sim, const char *out_dir);

#ifdef __cplusplus
}
#endif

#endif
