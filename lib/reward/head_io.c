/* Saving and loading a fitted reward head through the model container (kind
 * "reward_head"): parameters, flags, the Gaussian model's scalars, the standardization,
 * the decoders' weights, the feature roles and configuration. Every field is checked on
 * load; a damaged or inconsistent head is refused, never half-loaded. */
#include <math.h>
#include <string.h>
#include <btfm/container.h>
#include "reward_internal.h"
#include "dense/dense.h"
#include "core/persist.h"

#define HEAD_KIND "reward_head"
#define HEAD_LAYOUT 1
#define N_FLAGS 6
#define N_SCALARS 15

static void scalars_of(const reward_fit *f, double *s)
{
    for (int k = 0; k < 4; k++) s[k] = f->intercept[k];
    s[4] = f->reliability, s[5] = f->brain_slope, s[6] = f->brain_noise, s[7] = f->brain_sd;
    s[8] = f->alpha, s[9] = f->confidence_mean, s[10] = f->penalty_threshold;
    s[11] = f->novelty_center, s[12] = f->novelty_scale, s[13] = f->rating_scale;
    s[14] = f->confidence_gain;
}

static void scalars_to(reward_fit *f, const double *s)
{
    for (int k = 0; k < 4; k++) f->intercept[k] = s[k];
    f->reliability = s[4], f->brain_slope = s[5], f->brain_noise = s[6], f->brain_sd = s[7];
    f->alpha = s[8], f->confidence_mean = s[9], f->penalty_threshold = s[10];
    f->novelty_center = s[11], f->novelty_scale = s[12], f->rating_scale = s[13];
    f->confidence_gain = s[14];
}

static btfm_status to_container(const void *obj, btfm_container **out, const char *func)
{
    const btfm_reward_head *h = obj;
    if (!h->fit) return btfm_fail(BTFM_E_STATE, "%s: only a fitted head can be saved", func);
    const reward_fit *f = h->fit;
    btfm_container *c;
    btfm_status st = btfm_container_new(&c, HEAD_KIND);
    if (st) return st;
    const int32_t flags[N_FLAGS] = {HEAD_LAYOUT, f->normalize, f->has_ratings,
                                    f->has_confidence, f->has_penalty, f->has_novelty};
    double scalars[N_SCALARS];
    scalars_of(f, scalars);
    const int64_t nf = N_FLAGS, ns = N_SCALARS, np = REWARD_PARAM_COUNT, d = f->n_features;
    const int64_t wshape[2] = {d, REWARD_N_DECODERS};
    st = btfm_container_put(c, "flags", BTFM_DTYPE_I32, 1, &nf, flags);
    if (!st) st = btfm_container_put(c, "params", BTFM_DTYPE_F64, 1, &np, h->params);
    if (!st) st = btfm_container_put(c, "scalars", BTFM_DTYPE_F64, 1, &ns, scalars);
    if (!st) st = btfm_container_put(c, "roles", BTFM_DTYPE_I32, 1, &d, f->roles);
    if (!st) st = btfm_container_put(c, "center", BTFM_DTYPE_F64, 1, &d, f->center);
    if (!st) st = btfm_container_put(c, "scale", BTFM_DTYPE_F64, 1, &d, f->scale);
    if (!st) st = btfm_container_put(c, "weights", BTFM_DTYPE_F64, 2, wshape, f->weights);
    if (!st) st = btfm_container_put_text(c, "feature_config", f->config);
    if (st) {
        btfm_container_free(c);
        return st;
    }
    *out = c;
    return BTFM_OK;
}

static btfm_status bad(const char *func, const char *what)
{
    return btfm_fail(BTFM_E_FORMAT, "%s: %s", func, what);
}

static btfm_status from_container(const btfm_container *c, void **out, const char *func)
{
    int32_t flags[N_FLAGS];
    double scalars[N_SCALARS], params[REWARD_PARAM_COUNT];
    btfm_status st = btfm_container_get(c, "flags", BTFM_DTYPE_I32, N_FLAGS, flags);
    if (st) return st;
    if (flags[0] != HEAD_LAYOUT)
        return btfm_fail(BTFM_E_VERSION, "%s: reward head layout %d; this library reads "
                         "layout %d", func, (int)flags[0], HEAD_LAYOUT);
    for (int k = 1; k < N_FLAGS; k++)
        if (flags[k] != 0 && flags[k] != 1) return bad(func, "a flag is neither 0 nor 1");
    if (!st) st = btfm_container_get(c, "params", BTFM_DTYPE_F64, REWARD_PARAM_COUNT, params);
    if (!st) st = btfm_container_get(c, "scalars", BTFM_DTYPE_F64, N_SCALARS, scalars);
    int index, dtype, ndim;
    int64_t shape[8];
    if (!st) st = btfm_container_find(c, "roles", &index);
    if (!st) st = btfm_container_array_info(c, index, NULL, &dtype, &ndim, shape);
    if (st) return st;
    if (ndim != 1 || shape[0] < 1 || shape[0] > ((int64_t)1 << 31))
        return bad(func, "roles: expected one dimension of 1 .. 2^31 features");
    const int64_t d = shape[0];
    btfm_reward_head *h = NULL;
    reward_fit *f = btfm_calloc(1, sizeof *f);
    if (!f) return btfm_fail_nomem(func, sizeof *f);
    f->n_features = d;
    f->roles = btfm_malloc((size_t)d * sizeof *f->roles);
    f->center = btfm_dense_zeros(d, 1, func);
    f->scale = btfm_dense_zeros(d, 1, func);
    f->weights = btfm_dense_zeros(d, REWARD_N_DECODERS, func);
    size_t len = 0;
    st = f->roles && f->center && f->scale && f->weights ? BTFM_OK : BTFM_E_NOMEM;
    if (!st) st = btfm_container_get(c, "roles", BTFM_DTYPE_I32, (size_t)d, f->roles);
    if (!st) st = btfm_container_get(c, "center", BTFM_DTYPE_F64, (size_t)d, f->center);
    if (!st) st = btfm_container_get(c, "scale", BTFM_DTYPE_F64, (size_t)d, f->scale);
    if (!st) st = btfm_container_get(c, "weights", BTFM_DTYPE_F64,
                                     (size_t)d * REWARD_N_DECODERS, f->weights);
    if (!st) st = btfm_container_get_text(c, "feature_config", NULL, 0, &len);
    if (st == BTFM_E_RANGE) st = BTFM_OK;
    if (!st && !(f->config = btfm_malloc(len + 1))) st = btfm_fail_nomem(func, len + 1);
    if (!st) st = btfm_container_get_text(c, "feature_config", f->config, len + 1, &len);
    for (int64_t j = 0; !st && j < d; j++)
        if (f->roles[j] < 0 || f->roles[j] > 15 || !isfinite(f->center[j]) ||
            !(f->scale[j] >= 0) || !isfinite(f->scale[j]))
            st = bad(func, "a feature's role or standardization is out of range");
    if (!st && btfm_dense_any_nonfinite_d(f->weights, (size_t)d * REWARD_N_DECODERS))
        st = bad(func, "weights hold NaN or Inf");
    if (!st) {
        scalars_to(f, scalars);
        f->normalize = flags[1], f->has_ratings = flags[2], f->has_confidence = flags[3];
        f->has_penalty = flags[4], f->has_novelty = flags[5];
        for (int k = 0; k < 4 && !st; k++)
            if (!isfinite(f->intercept[k])) st = bad(func, "an intercept is NaN or Inf");
        if (!st && f->has_ratings &&
            (!(f->reliability > 0 && f->reliability < 1) || !(f->brain_noise > 0) ||
             !(f->brain_slope >= 0) || !isfinite(f->brain_slope) || !isfinite(f->penalty_threshold)))
            st = bad(func, "the rating model's reliability, slope or noise is out of range");
        if (!st && f->has_novelty && !(f->novelty_scale > 0))
            st = bad(func, "the novelty scale is not positive");
    }
    if (!st) st = btfm_reward_head_new(&h, BTFM_REWARD_JOINT);
    for (int p = 0; !st && p < REWARD_PARAM_COUNT; p++)
        st = btfm_reward_head_set_param(h, p, params[p]);
    if (st) {
        btfm_reward_fit_free(f);
        btfm_reward_head_free(h);
        return st;
    }
    h->fit = f;
    *out = h;
    return BTFM_OK;
}

static const btfm_persist_ops head_persist = {HEAD_KIND, "head", to_container, from_container};

btfm_status btfm_reward_head_save(const btfm_reward_head *h, const char *path)
{
    return btfm_persist_save(&head_persist, h, path, "btfm_reward_head_save");
}

btfm_status btfm_reward_head_save_buffer(const btfm_reward_head *h, void *buffer, size_t capacity,
                                         size_t *written)
{
    return btfm_persist_save_buffer(&head_persist, h, buffer, capacity, written,
                                    "btfm_reward_head_save_buffer");
}

btfm_status btfm_reward_head_load(btfm_reward_head **out, const char *path)
{
    BTFM_CHECK_ARG(out, "btfm_reward_head_load", "out");
    void *h;
    btfm_status st = btfm_persist_load(&head_persist, &h, path, "btfm_reward_head_load");
    *out = h;
    return st;
}

btfm_status btfm_reward_head_load_buffer(btfm_reward_head **out, const void *buffer, size_t size)
{
    BTFM_CHECK_ARG(out, "btfm_reward_head_load_buffer", "out");
    void *h;
    btfm_status st = btfm_persist_load_buffer(&head_persist, &h, buffer, size,
                                              "btfm_reward_head_load_buffer");
    *out = h;
    return st;
}
