/* A reward head inside a stream: its decoders folded once into a linear map on the raw
 * features of a row, then the head's own combination (reward/predict.c) per row, without
 * allocation. */
#include <math.h>
#include "stream_internal.h"
#include "reward/reward_internal.h"

btfm_status btfm_stream_reward_build(const btfm_reward_head *head, stream_rt *rt,
                                     const char *func)
{
    const int64_t d = btfm_reward_head_n_features(head);
    const int64_t window_features = (int64_t)rt->n_bands * rt->n_picks;
    const int64_t epoch_features = (int64_t)rt->n_erp * rt->n_picks;
    rt->reward_windows = d == window_features;
    rt->reward_epochs = rt->n_erp > 0 && d == epoch_features;
    if (!rt->reward_windows && !rt->reward_epochs)
        return btfm_fail(BTFM_E_INVALID, "%s: the reward head takes %lld features; a window "
                         "row has %lld (bands x picks) and an epoch row %lld (ERP windows x "
                         "picks)", func, (long long)d, (long long)window_features,
                         (long long)epoch_features);
    rt->reward_w = btfm_malloc(sizeof(double) * (size_t)d * REWARD_N_DECODERS);
    if (!rt->reward_w) return btfm_fail_nomem(func, sizeof(double) * (size_t)d * 4);
    btfm_status st = btfm_reward_fold_single(head, rt->reward_w, rt->reward_offset, func);
    if (st) return st;
    double mode;
    btfm_reward_head_get_param(head, BTFM_REWARD_PARAM_MODE, &mode);
    /* no rating arrives with a window: the brain decoder alone, whatever the head's mode */
    rt->reward_mode = (int)mode == BTFM_REWARD_RATINGS_ONLY ? BTFM_REWARD_BRAIN_ONLY : (int)mode;
    rt->reward = head;
    rt->reward_columns = BTFM_REWARD_N_OUTPUTS;
    return BTFM_OK;
}

void btfm_stream_reward_score(const stream_rt *rt, const double *features, double *out)
{
    /* four running sums per decoder over features j, j + 1, j + 2, j + 3: independent
     * additions the CPU overlaps, added in a fixed order */
    enum { LANES = 4 };
    const int64_t d = rt->reward->fit->n_features;
    const double *restrict w = rt->reward_w;
    double lane[LANES][REWARD_N_DECODERS] = {{0}};
    int64_t j = 0;
    for (; j + LANES <= d; j += LANES)
        for (int l = 0; l < LANES; l++)
            for (int k = 0; k < REWARD_N_DECODERS; k++)
                lane[l][k] += features[j + l] * w[(j + l) * REWARD_N_DECODERS + k];
    for (int l = 0; j < d; j++, l++)
        for (int k = 0; k < REWARD_N_DECODERS; k++)
            lane[l][k] += features[j] * w[j * REWARD_N_DECODERS + k];
    double decoders[REWARD_N_DECODERS];
    for (int k = 0; k < REWARD_N_DECODERS; k++)
        decoders[k] = rt->reward_offset[k] + ((lane[0][k] + lane[1][k]) + (lane[2][k] + lane[3][k]));
    float o[BTFM_REWARD_N_OUTPUTS];
    btfm_reward_combine(rt->reward->fit, rt->reward_mode, decoders, NAN, o);
    for (int k = 0; k < BTFM_REWARD_N_OUTPUTS; k++) out[k] = o[k];
}
