/* The btfm_sim handle: a simulator kind with its parameter table and progress callback;
 * the tables say what every knob does (doc/simulation.md has the equations). */
#include <string.h>
#include "sim_internal.h"

#define MAX_SEED 4294967295.0

static const btfm_param_def rating_params[] = {
    {"seed", BTFM_PARAM_INT, 1, 0, MAX_SEED,
     "Seed of every random stream: the same seed gives byte-identical files."},
    {"n_annotators", BTFM_PARAM_INT, 8, 1, 999, "Annotators (participants sub-01, sub-02, ...)."},
    {"n_items", BTFM_PARAM_INT, 60, 2, 100000,
     "Items (model outputs) every annotator reads, in an order of their own; about 8 s each."},
    {"n_channels", BTFM_PARAM_INT, 32, 8, 128,
     "EEG channels: the 32-channel 10-20 cap, then the 64-channel 10-10 cap, then 10-5 sites."},
    {"sfreq", BTFM_PARAM_INT, 250, 100, 2000, "EEG sampling rate in Hz."},
    {"eeg_format", BTFM_PARAM_INT, 1, 1, 3, "EEG file format: 1 EDF+, 2 BDF+, 3 BrainVision."},
    {"eog", BTFM_PARAM_BOOL, 1, 0, 1, "Add VEOG and HEOG channels."},
    {"segments_min", BTFM_PARAM_INT, 2, 1, 50, "Fewest segments (sentences) of an item."},
    {"segments_max", BTFM_PARAM_INT, 4, 1, 50, "Most segments of an item."},
    {"segment_dwell_s", BTFM_PARAM_REAL, 1.2, 0.3, 20,
     "Mean gaze dwell on a segment of average length, in seconds."},
    {"item_gap_s", BTFM_PARAM_REAL, 1.5, 0.5, 60, "Mean pause between items, in seconds."},
    {"perception_noise", BTFM_PARAM_REAL, 0.3, 0, 5,
     "SD of the noise added to each latent draw as an annotator perceives it."},
    {"segment_reward_sd", BTFM_PARAM_REAL, 0.5, 0, 5,
     "SD of a segment's reward around its item's reward."},
    {"effect_scale", BTFM_PARAM_REAL, 1, 0, 20,
     "Multiplies every latent-dependent amplitude (EEG and fMRI); 0 leaves no latent value in "
     "the signals (a null dataset)."},
    {"rewp_base_uv", BTFM_PARAM_REAL, 2, 0, 50,
     "Reward positivity / P300 at item end: amplitude at reward 0, in microvolts."},
    {"rewp_effect_uv", BTFM_PARAM_REAL, 4, -50, 50,
     "Reward positivity: microvolts per unit of perceived reward."},
    {"segment_effect_uv", BTFM_PARAM_REAL, 1.5, -50, 50,
     "Reward positivity at each gaze onset: microvolts per unit of segment reward."},
    {"frn_base_uv", BTFM_PARAM_REAL, 1.5, 0, 50, "FRN-like negativity at item end, at no negative affect."},
    {"frn_effect_uv", BTFM_PARAM_REAL, 3, -50, 50, "FRN: microvolts per unit of negative affect."},
    {"p3a_base_uv", BTFM_PARAM_REAL, 2, 0, 50, "Novelty P3a at item onset, at novelty 0."},
    {"p3a_effect_uv", BTFM_PARAM_REAL, 8, -50, 50, "P3a: microvolts per unit of novelty (0 to 1)."},
    {"theta_base_uv", BTFM_PARAM_REAL, 1, 0, 50,
     "Frontal-midline theta burst after item end, at full confidence."},
    {"theta_effect_uv", BTFM_PARAM_REAL, 5, -50, 50,
     "Theta burst: microvolts per unit of effort (1 - confidence)."},
    {"latency_jitter_ms", BTFM_PARAM_REAL, 20, 0, 200, "SD of each component's latency jitter per event."},
    {"noise_uv", BTFM_PARAM_REAL, 8, 0, 500,
     "RMS of the 1/f background in microvolts (an annotator's level varies around it)."},
    {"noise_spread", BTFM_PARAM_REAL, 0.3, 0, 2, "SD of the log background level across annotators."},
    {"aperiodic_exponent", BTFM_PARAM_REAL, 1.5, 0.2, 1.9,
     "Exponent beta of the background's 1/f^beta power spectrum above 0.5 Hz."},
    {"spatial_noise", BTFM_PARAM_REAL, 0.5, 0, 1,
     "Share of the background variance from spatially smooth sources (the rest is per channel)."},
    {"alpha_uv", BTFM_PARAM_REAL, 6, 0, 200, "RMS of posterior alpha at zero engagement, microvolts."},
    {"alpha_freq", BTFM_PARAM_REAL, 10, 5, 15, "Mean alpha peak frequency in Hz."},
    {"alpha_freq_sd", BTFM_PARAM_REAL, 0.7, 0, 3, "SD of the alpha peak frequency across annotators."},
    {"alpha_engagement", BTFM_PARAM_REAL, 0.6, 0, 1,
     "Alpha amplitude falls by this fraction at full engagement."},
    {"line_freq", BTFM_PARAM_REAL, 50, 0, 1000, "Power-line frequency in Hz (0: none)."},
    {"line_uv", BTFM_PARAM_REAL, 2, 0, 500, "Line-noise amplitude in microvolts (per-channel weights around it)."},
    {"blink_rate", BTFM_PARAM_REAL, 12, 0, 120, "Blinks per minute outside reading (30% of it while reading)."},
    {"blink_uv", BTFM_PARAM_REAL, 150, 0, 1000, "Blink peak at VEOG in microvolts."},
    {"artifact_rate", BTFM_PARAM_REAL, 0.5, 0, 60,
     "High-amplitude artifacts (muscle bursts, electrode pops, movements) per minute."},
    {"artifact_uv", BTFM_PARAM_REAL, 150, 0, 2000, "Typical artifact peak in microvolts."},
    {"n_bad_channels", BTFM_PARAM_INT, 2, 0, 32,
     "Bad EEG channels per annotator, alternately noisy and flat (at most a quarter)."},
    {"mark_bad", BTFM_PARAM_BOOL, 1, 0, 1, "Mark the bad channels status=bad in channels.tsv."},
    {"topography_rotation_deg", BTFM_PARAM_REAL, 12, 0, 90,
     "SD of the rotation of each annotator's source layout on the scalp, in degrees."},
    {"topography_mixing", BTFM_PARAM_REAL, 0.2, 0, 1,
     "SD of the off-identity mixing among the task sources per annotator."},
    {"rating_fraction", BTFM_PARAM_REAL, 0.3, 0, 1, "Fraction of items each annotator rates."},
    {"likert_points", BTFM_PARAM_INT, 7, 2, 11, "Points of the Likert scale."},
    {"rating_bias_sd", BTFM_PARAM_REAL, 0.5, 0, 5, "SD of the annotators' rating bias (in reward units)."},
    {"rating_noise", BTFM_PARAM_REAL, 0.5, 0, 5, "Typical SD of an annotator's rating noise (reward units)."},
    {"n_pairs", BTFM_PARAM_INT, 30, 0, 1000000, "Pairwise preferences per annotator (distinct pairs)."},
    {"bt_scale", BTFM_PARAM_REAL, 1.5, 0, 50,
     "Bradley-Terry scale: P(a over b) = logistic(bt_scale x (reward a - reward b))."},
    {"fmri", BTFM_PARAM_BOOL, 0, 0, 1, "Also write an fMRI run per annotator."},
    {"fmri_tr", BTFM_PARAM_REAL, 2, 0.5, 5, "fMRI repetition time in seconds."},
    {"fmri_voxel_mm", BTFM_PARAM_REAL, 4, 2, 8, "fMRI voxel size in mm (the grid covers 64 x 76 x 60 mm)."},
    {"fmri_effect_pct", BTFM_PARAM_REAL, 1, 0, 20,
     "Peak BOLD response per unit latent value, percent of the baseline."},
    {"fmri_noise_pct", BTFM_PARAM_REAL, 1, 0, 20, "SD of the AR(1) BOLD noise, percent of the baseline."},
    {"fmri_ar", BTFM_PARAM_REAL, 0.3, 0, 0.95, "AR(1) coefficient of the BOLD noise."},
    {"fmri_motion_mm", BTFM_PARAM_REAL, 0.3, 0, 5,
     "SD of the motion translations in mm (rotations: this / 50 mm, in radians)."},
    {"num_threads", BTFM_PARAM_INT, 0, 0, 64,
     "Threads generating the signals (0: BTFM_NUM_THREADS, else the processors online); the "
     "files do not depend on it."},
    {"theta_engagement_uv", BTFM_PARAM_REAL, 0, 0, 200,
     "RMS of ongoing frontal-midline theta at full engagement, microvolts (0: none)."},
    {"blink_engagement", BTFM_PARAM_REAL, 0, 0, 1,
     "Blink rate falls by this fraction at full engagement (0: blinks ignore engagement)."},
};

static const btfm_param_def shared_params[] = {
    {"seed", BTFM_PARAM_INT, 1, 0, MAX_SEED,
     "Seed of every random stream: the same seed gives byte-identical files."},
    {"n_subjects", BTFM_PARAM_INT, 6, 2, 1000, "Subjects (sub-01, sub-02, ...)."},
    {"n_times", BTFM_PARAM_INT, 300, 10, 10000000, "Time points of the shared stimulus."},
    {"n_components", BTFM_PARAM_INT, 10, 1, 500, "Dimension K of the shared response."},
    {"correspondence", BTFM_PARAM_REAL, 0.5, 0, 1,
     "Anatomical correspondence of the subjects' mixings: 0 unrelated layouts, 1 identical."},
    {"snr", BTFM_PARAM_REAL, 1, 0.001, 1000,
     "Shared-signal variance over noise variance, per feature (a subject's varies around it)."},
    {"snr_spread", BTFM_PARAM_REAL, 0.3, 0, 2, "SD of the log SNR across subjects."},
    {"smoothness", BTFM_PARAM_REAL, 0.8, 0, 0.99, "AR(1) coefficient of the shared components."},
    {"format", BTFM_PARAM_INT, 4, 1, 4, "Recording format: 1 EDF+, 2 BDF+, 3 BrainVision, 4 NIfTI."},
    {"grid_x", BTFM_PARAM_INT, 10, 1, 256, "NIfTI grid size along x (3 mm voxels)."},
    {"grid_y", BTFM_PARAM_INT, 10, 1, 256, "NIfTI grid size along y."},
    {"grid_z", BTFM_PARAM_INT, 5, 1, 256, "NIfTI grid size along z."},
    {"n_channels", BTFM_PARAM_INT, 64, 8, 128, "EEG formats: channels (10-20, 10-10, 10-5 sites)."},
    {"sample_rate", BTFM_PARAM_REAL, 0, 0, 5000,
     "Samples per second; 0: 0.5 (TR 2 s) for NIfTI, 100 for EEG."},
    {"spatial_smoothness", BTFM_PARAM_REAL, 1, 0, 10,
     "Smoothness of the mixing maps: Gaussian sd in voxels (NIfTI) or 0.3 x this in radians "
     "on the scalp (EEG); 0: none."},
    {"signal_scale", BTFM_PARAM_REAL, 10, 1e-6, 1e6,
     "Multiplies signal and noise: data units (microvolts for EEG)."},
    {"baseline", BTFM_PARAM_REAL, 0, -1e6, 1e6, "Constant added to every feature (e.g. 100 for BOLD-like values)."},
    {"num_threads", BTFM_PARAM_INT, 0, 0, 64,
     "Threads generating the recordings (0: BTFM_NUM_THREADS, else the processors online); "
     "the files do not depend on it."},
};

const btfm_param_table btfm_sim_rating_param_table = {
    BTFM_OBJECT_SIM_RATING_SESSION, "sim_rating_session",
    (int)(sizeof rating_params / sizeof *rating_params), rating_params,
};

const btfm_param_table btfm_sim_shared_param_table = {
    BTFM_OBJECT_SIM_SHARED_RESPONSE, "sim_shared_response",
    (int)(sizeof shared_params / sizeof *shared_params), shared_params,
};

btfm_status btfm_sim_new(btfm_sim **out, int kind)
{
    static const char func[] = "btfm_sim_new";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    const btfm_param_table *table = kind == BTFM_OBJECT_SIM_RATING_SESSION ? &btfm_sim_rating_param_table
                                  : kind == BTFM_OBJECT_SIM_SHARED_RESPONSE ? &btfm_sim_shared_param_table
                                  : NULL;
    if (!table)
        return btfm_fail(BTFM_E_INVALID, "%s: kind %d is not a simulator; expected %d "
                         "(BTFM_OBJECT_SIM_RATING_SESSION) or %d (BTFM_OBJECT_SIM_SHARED_RESPONSE)",
                         func, kind, BTFM_OBJECT_SIM_RATING_SESSION, BTFM_OBJECT_SIM_SHARED_RESPONSE);
    btfm_sim *sim = btfm_calloc(1, sizeof *sim);
    if (!sim) return btfm_fail_nomem(func, sizeof *sim);
    sim->kind = kind;
    sim->table = table;
    btfm_params_defaults(table, sim->params);
    *out = sim;
    return BTFM_OK;
}

void btfm_sim_free(btfm_sim *sim)
{
    btfm_free(sim);
}

int btfm_sim_kind(const btfm_sim *sim)
{
    if (!sim) return btfm_fail(BTFM_E_INVALID, "btfm_sim_kind: simulator is NULL");
    return sim->kind;
}

btfm_status btfm_sim_set_param(btfm_sim *sim, int param, double value)
{
    BTFM_CHECK_ARG(sim, "btfm_sim_set_param", "simulator");
    return btfm_params_set(sim->table, sim->params, param, value, "btfm_sim_set_param");
}

btfm_status btfm_sim_get_param(const btfm_sim *sim, int param, double *value)
{
    BTFM_CHECK_ARG(sim, "btfm_sim_get_param", "simulator");
    return btfm_params_get(sim->table, sim->params, param, value, "btfm_sim_get_param");
}

btfm_status btfm_sim_set_progress(btfm_sim *sim, btfm_progress_fn fn, void *user)
{
    BTFM_CHECK_ARG(sim, "btfm_sim_set_progress", "simulator");
    sim->progress = fn;
    sim->progress_user = fn ? user : NULL;
    return BTFM_OK;
}

_Static_assert(sizeof rating_params / sizeof *rating_params == BTFM_SIM_RATING_BLINK_ENGAGEMENT + 1,
               "the rating table follows btfm_sim_rating_param");
_Static_assert(sizeof shared_params / sizeof *shared_params == BTFM_SIM_SHARED_NUM_THREADS + 1,
               "the shared-response table follows btfm_sim_shared_param");
_Static_assert(sizeof rating_params / sizeof *rating_params <= SIM_MAX_PARAMS, "params fit");
