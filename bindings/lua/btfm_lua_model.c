/* btfm.model: ridge, banded ridge, logistic regression and Bradley-Terry fits from Lua,
 * with held-out predictions, permutation tests, noise ceilings, RDMs and steering
 * directions. Matrices cross as flat tables in C order with their shapes alongside;
 * indices (labels, pairs, groups, delays) are 0-based as in C. */
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

static btfm_status set_param_adapter(void *handle, int param, double value)
{
    return btfm_model_set_param((btfm_model *)handle, param, value);
}

static btfm_status get_param_adapter(const void *handle, int param, double *value)
{
    return btfm_model_get_param((const btfm_model *)handle, param, value);
}

static void free_adapter(void *handle) { btfm_model_free((btfm_model *)handle); }

static void describe(lua_State *L, void *handle)
{
    const btfm_model *m = (const btfm_model *)handle;
    int64_t p = 0, c = 0, t = 0;
    if (btfm_model_is_fitted(m) == 1) btfm_model_dims(m, &p, &c, &t);
    lua_pushfstring(L, "%s, %s", btfm_model_type_name(btfm_model_get_type(m)),
                    t ? "fitted" : "not fitted");
}

static const btfm_lua_type model_type = {
    "btfm.model", BTFM_OBJECT_MODEL, set_param_adapter, get_param_adapter, free_adapter,
    describe,
};

static btfm_model *check_model(lua_State *L, int arg)
{
    return (btfm_model *)btfm_lua_check_handle(L, arg, &model_type);
}

static int push_ok(lua_State *L, btfm_status st)
{
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* The number whose name_of(number) is the string at `arg` (numbers from `first`). */
static int name_choice(lua_State *L, int arg, const char *what, const char *(*name_of)(int),
                       int first)
{
    const char *name = btfm_lua_check_cstring(L, arg), *known;
    for (int k = first; (known = name_of(k)) != NULL; k++)
        if (strcmp(known, name) == 0) return k;
    btfm_lua_push_names(L, name_of, first);
    return luaL_argerror(L, arg, lua_pushfstring(L, "unknown %s '%s' (known: %s)", what, name,
                                                 lua_tostring(L, -1)));
}

/* A table of whole numbers as int32 or int64 values in a userdata on the stack. */
static void *check_integers(lua_State *L, int arg, lua_Integer count, int wide, lua_Integer *n)
{
    const double *v = (const double *)btfm_lua_check_numbers(L, arg, count, 1, n);
    const lua_Integer len = count >= 0 ? count : *n;
    void *out = lua_newuserdatauv(L, (size_t)len * (wide ? 8 : 4), 0);
    for (lua_Integer i = 0; i < len; i++) {
        if (v[i] != (double)(int64_t)v[i]) luaL_argerror(L, arg, "expected whole numbers");
        if (wide) ((int64_t *)out)[i] = (int64_t)v[i];
        else ((int32_t *)out)[i] = (int32_t)v[i];
    }
    return out;
}

/* m:set_alphas({...}), m:set_sample_weight({...} | nil), m:set_groups({...} | nil),
 * m:set_delays({...} | nil), m:set_bands({...}) (0-based band of each feature) */
static int model_set_alphas(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    lua_Integer n = 0;
    const double *a = (const double *)btfm_lua_check_numbers(L, 2, -1, 1, &n);
    return push_ok(L, btfm_model_set_alphas(m, a, (int)n));
}

static int model_set_sample_weight(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    if (lua_isnoneornil(L, 2)) return push_ok(L, btfm_model_set_sample_weight(m, NULL, 0));
    lua_Integer n = 0;
    const double *w = (const double *)btfm_lua_check_numbers(L, 2, -1, 1, &n);
    return push_ok(L, btfm_model_set_sample_weight(m, w, n));
}

static int model_set_groups(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    if (lua_isnoneornil(L, 2)) return push_ok(L, btfm_model_set_groups(m, NULL, 0));
    lua_Integer n = 0;
    const int64_t *g = (const int64_t *)check_integers(L, 2, -1, 1, &n);
    return push_ok(L, btfm_model_set_groups(m, g, n));
}

static int model_set_delays(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    if (lua_isnoneornil(L, 2)) return push_ok(L, btfm_model_set_delays(m, NULL, 0));
    lua_Integer n = 0;
    const int32_t *d = (const int32_t *)check_integers(L, 2, -1, 0, &n);
    return push_ok(L, btfm_model_set_delays(m, d, (int)n));
}

static int model_set_bands(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    lua_Integer n = 0;
    const int32_t *b = (const int32_t *)check_integers(L, 2, -1, 0, &n);
    return push_ok(L, btfm_model_set_bands(m, b, n));
}

/* m:set_band_weights({...} (n_draws x n_bands) | nil, n_bands): the candidates of a
 * banded ridge instead of its random search; m:set_folds({...} | nil): explicit folds */
static int model_set_band_weights(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    if (lua_isnoneornil(L, 2)) return push_ok(L, btfm_model_set_band_weights(m, NULL, 0, 0));
    const int bands = btfm_lua_check_int(L, 3);
    luaL_argcheck(L, bands >= 1, 3, "expected the number of bands");
    lua_Integer n = 0;
    const double *w = (const double *)btfm_lua_check_numbers(L, 2, -1, 1, &n);
    if (n % bands) return luaL_argerror(L, 2, "expected rows of n_bands weights");
    return push_ok(L, btfm_model_set_band_weights(m, w, (int)(n / bands), bands));
}

static int model_set_folds(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    if (lua_isnoneornil(L, 2)) return push_ok(L, btfm_model_set_folds(m, NULL, 0));
    lua_Integer n = 0;
    const int32_t *f = (const int32_t *)check_integers(L, 2, -1, 0, &n);
    return push_ok(L, btfm_model_set_folds(m, f, n));
}

/* m:fit(x, n_samples, n_features, y, n_targets) */
static int model_fit(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    lua_Integer n = luaL_checkinteger(L, 3), p = luaL_checkinteger(L, 4);
    lua_Integer t = luaL_checkinteger(L, 6);
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    const float *y = (const float *)btfm_lua_check_matrix(L, 5, n, t, 0);
    return push_ok(L, btfm_model_fit(m, x, n, p, y, t));
}

/* m:fit_classes(x, n_samples, n_features, labels) */
static int model_fit_classes(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    lua_Integer n = luaL_checkinteger(L, 3), p = luaL_checkinteger(L, 4);
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    const int32_t *labels = (const int32_t *)check_integers(L, 5, n, 0, NULL);
    return push_ok(L, btfm_model_fit_classes(m, x, n, p, labels));
}

/* m:fit_pairs(x | nil, n_items, n_features, pairs (flat: first, second, ...), outcomes | nil) */
static int model_fit_pairs(lua_State *L)
{
    lua_settop(L, 6); /* optional arguments stay below the blocks pushed on the stack */
    btfm_model *m = check_model(L, 1);
    lua_Integer items = luaL_checkinteger(L, 3), p = luaL_optinteger(L, 4, 0), n2 = 0;
    const float *x = lua_isnil(L, 2) ? NULL : (const float *)btfm_lua_check_matrix(L, 2, items, p, 0);
    const int64_t *pairs = (const int64_t *)check_integers(L, 5, -1, 1, &n2);
    if (n2 % 2) return luaL_argerror(L, 5, "expected first, second item pairs");
    const float *o = lua_isnoneornil(L, 6) ? NULL
                                           : (const float *)btfm_lua_check_numbers(L, 6, n2 / 2, 0, NULL);
    return push_ok(L, btfm_model_fit_pairs(m, x, items, x ? p : 0, pairs, o, n2 / 2));
}

/* m:fit_encoder(embeddings, n_embeddings, dim, items, features, n_rows, n_features,
 * annotators [, folds]) -> held-out r of each feature (table): the model (ridge) becomes an
 * encoder from item embeddings to annotators' brain features (btfm_reward_encoder_fit;
 * items are 0-based rows of the embeddings) */
static int model_fit_encoder(lua_State *L)
{
    lua_settop(L, 10); /* optional arguments stay below the blocks pushed on the stack */
    btfm_model *m = check_model(L, 1);
    lua_Integer ne = luaL_checkinteger(L, 3), dim = luaL_checkinteger(L, 4);
    lua_Integer n = luaL_checkinteger(L, 7), d = luaL_checkinteger(L, 8);
    int folds = (int)luaL_optinteger(L, 10, 5);
    const float *emb = (const float *)btfm_lua_check_matrix(L, 2, ne, dim, 0);
    const int64_t *items = (const int64_t *)check_integers(L, 5, n, 1, NULL);
    const float *x = (const float *)btfm_lua_check_matrix(L, 6, n, d, 0);
    const int64_t *annot = (const int64_t *)check_integers(L, 9, n, 1, NULL);
    double *r = (double *)lua_newuserdatauv(L, (size_t)d * sizeof *r, 0);
    btfm_status st = btfm_reward_encoder_fit(m, r, (size_t)d, emb, ne, dim, items, x, n, d,
                                             annot, folds);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, r, (size_t)d);
    return 1;
}

static int64_t outputs(lua_State *L, btfm_model *m, int64_t *features)
{
    int64_t coef = 0, t = 0;
    btfm_status st = btfm_model_dims(m, features, &coef, &t);
    if (st) {
        btfm_lua_fail(L, st);
        return -1;
    }
    return t;
}

/* m:predict(x, n_samples) / m:predict_std / m:predict_proba -> flat table, columns */
static int predict_call(lua_State *L, int which)
{
    btfm_model *m = check_model(L, 1);
    int64_t p = 0, t = outputs(L, m, &p);
    if (t < 0) return 3;
    if (which == 2) t = btfm_model_n_classes(m);
    lua_Integer n = luaL_checkinteger(L, 3);
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    float *out = (float *)lua_newuserdatauv(L, (size_t)(n * t) * sizeof(float), 0);
    btfm_status st = which == 0 ? btfm_model_predict(m, out, x, n, p)
                   : which == 1 ? btfm_model_predict_std(m, out, x, n, p)
                                : btfm_model_predict_proba(m, out, x, n, p);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)(n * t));
    lua_pushinteger(L, (lua_Integer)t);
    return 2;
}

static int model_predict(lua_State *L) { return predict_call(L, 0); }
static int model_predict_std(lua_State *L) { return predict_call(L, 1); }
static int model_predict_proba(lua_State *L) { return predict_call(L, 2); }

/* m:coef() -> flat table (n_coef x n_outputs), rows, columns; m:intercept(), m:alpha() */
static int model_coef(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    int64_t p, c = 0, t = 0;
    btfm_status st = btfm_model_dims(m, &p, &c, &t);
    if (st) return btfm_lua_fail(L, st);
    float *out = (float *)lua_newuserdatauv(L, (size_t)(c * t) * sizeof(float), 0);
    if ((st = btfm_model_coef(m, out, (size_t)(c * t)))) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)(c * t));
    lua_pushinteger(L, (lua_Integer)c);
    lua_pushinteger(L, (lua_Integer)t);
    return 3;
}

static int per_output(lua_State *L, btfm_status (*get)(const btfm_model *, double *, size_t))
{
    btfm_model *m = check_model(L, 1);
    int64_t p, t = outputs(L, m, &p);
    if (t < 0) return 3;
    double *out = (double *)lua_newuserdatauv(L, (size_t)t * sizeof(double), 0);
    btfm_status st = get(m, out, (size_t)t);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)t);
    return 1;
}

static int model_intercept(lua_State *L) { return per_output(L, btfm_model_intercept); }
static int model_alpha(lua_State *L) { return per_output(L, btfm_model_alpha); }

/* m:score(x, y, n_samples [, kind = "r2"]) -> table of per-target scores */
static int model_score(lua_State *L)
{
    lua_settop(L, 5);
    btfm_model *m = check_model(L, 1);
    int64_t p, t = outputs(L, m, &p);
    if (t < 0) return 3;
    lua_Integer n = luaL_checkinteger(L, 4);
    int kind = lua_isnoneornil(L, 5) ? BTFM_SCORE_R2
                                     : name_choice(L, 5, "score", btfm_model_score_name, 0);
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    const float *y = (const float *)btfm_lua_check_matrix(L, 3, n, t, 0);
    double *out = (double *)lua_newuserdatauv(L, (size_t)t * sizeof(double), 0);
    btfm_status st = btfm_model_score(m, out, kind, x, y, n, p, t);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)t);
    return 1;
}

/* m:cross_predict(x, n_samples, n_features, y, n_targets [, n_outer = 5]) -> table, cols */
static int model_cross_predict(lua_State *L)
{
    lua_settop(L, 7);
    btfm_model *m = check_model(L, 1);
    lua_Integer n = luaL_checkinteger(L, 3), p = luaL_checkinteger(L, 4);
    lua_Integer t = luaL_checkinteger(L, 6), outer = luaL_optinteger(L, 7, 5);
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    const float *y = (const float *)btfm_lua_check_matrix(L, 5, n, t, 0);
    int64_t width = t;
    if (btfm_model_get_type(m) == BTFM_MODEL_LOGISTIC) {
        width = 0;
        for (lua_Integer i = 0; i < n; i++) width = y[i] + 1 > width ? (int64_t)y[i] + 1 : width;
    }
    float *out = (float *)lua_newuserdatauv(L, (size_t)(n * width) * sizeof(float), 0);
    btfm_status st = btfm_model_cross_predict(m, out, x, n, p, y, t, (int)outer);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)(n * width));
    lua_pushinteger(L, (lua_Integer)width);
    return 2;
}

/* m:permutation_test(x, n_samples, n_features, y [, n_permutations = 100, n_outer = 5])
 * -> score, p_value */
static int model_permutation_test(lua_State *L)
{
    lua_settop(L, 7);
    btfm_model *m = check_model(L, 1);
    lua_Integer n = luaL_checkinteger(L, 3), p = luaL_checkinteger(L, 4);
    lua_Integer perms = luaL_optinteger(L, 6, 100), outer = luaL_optinteger(L, 7, 5);
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    const float *y = (const float *)btfm_lua_check_numbers(L, 5, n, 0, NULL);
    double score, pv;
    btfm_status st = btfm_model_permutation_test(m, &score, &pv, NULL, x, n, p, y, (int)outer,
                                                 (int)perms);
    if (st) return btfm_lua_fail(L, st);
    lua_pushnumber(L, score);
    lua_pushnumber(L, pv);
    return 2;
}

/* m:cv_scores() -> flat table (n_alphas x columns), columns (not for banded ridge);
 * m:band_weights(n_bands) -> flat table (n_bands x n_targets) */
static int model_cv_scores(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    int64_t p, t = outputs(L, m, &p);
    if (t < 0) return 3;
    if (btfm_model_get_type(m) == BTFM_MODEL_BANDED_RIDGE)
        return btfm_lua_fail_message(L, BTFM_E_STATE, "cv_scores: a banded ridge's scores are "
                                     "per band weighting; use band_weights");
    const int a = btfm_model_n_alphas(m);
    if (a < 0) return btfm_lua_fail(L, a);
    const int64_t cols = btfm_model_get_type(m) <= BTFM_MODEL_BANDED_RIDGE ? t : 1;
    double *out = (double *)lua_newuserdatauv(L, (size_t)(a * cols) * sizeof(double), 0);
    btfm_status st = btfm_model_cv_scores(m, out, (size_t)(a * cols));
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)(a * cols));
    lua_pushinteger(L, (lua_Integer)cols);
    return 2;
}

static int model_band_weights(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    int64_t p, t = outputs(L, m, &p);
    if (t < 0) return 3;
    const int64_t bands = (int64_t)luaL_checkinteger(L, 2);
    luaL_argcheck(L, bands >= 1, 2, "expected the number of bands");
    double *out = (double *)lua_newuserdatauv(L, (size_t)(bands * t) * sizeof(double), 0);
    btfm_status st = btfm_model_band_weights(m, out, (size_t)(bands * t));
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)(bands * t));
    return 1;
}

/* m:score_split(x, y, n_samples, n_bands) -> flat table (n_bands x n_targets) */
static int model_score_split(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    int64_t p, t = outputs(L, m, &p);
    if (t < 0) return 3;
    lua_Integer n = luaL_checkinteger(L, 4), bands = luaL_checkinteger(L, 5);
    luaL_argcheck(L, bands >= 1, 5, "expected the number of bands");
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    const float *y = (const float *)btfm_lua_check_matrix(L, 3, n, t, 0);
    double *out = (double *)lua_newuserdatauv(L, (size_t)(bands * t) * sizeof(double), 0);
    btfm_status st = btfm_model_score_split(m, out, x, y, n, p, t);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)(bands * t));
    return 1;
}

/* m:synthesize(x, n_samples [, noise = "independent", seed = 0]) -> flat table, columns */
static int model_synthesize(lua_State *L)
{
    lua_settop(L, 5);
    static const char *const noises[] = {"none", "independent", "low_rank", NULL};
    btfm_model *m = check_model(L, 1);
    int64_t p, t = outputs(L, m, &p);
    if (t < 0) return 3;
    lua_Integer n = luaL_checkinteger(L, 3);
    const int noise = lua_isnoneornil(L, 4) ? BTFM_NOISE_INDEPENDENT
                      : btfm_lua_check_choice(L, 4, "noise", btfm_lua_check_cstring(L, 4), noises);
    const lua_Integer seed = luaL_optinteger(L, 5, 0);
    const float *x = (const float *)btfm_lua_check_matrix(L, 2, n, p, 0);
    float *out = (float *)lua_newuserdatauv(L, (size_t)(n * t) * sizeof(float), 0);
    btfm_status st = btfm_model_synthesize(m, out, x, n, p, noise, (uint64_t)seed);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)(n * t));
    lua_pushinteger(L, (lua_Integer)t);
    return 2;
}

static int model_save(lua_State *L)
{
    return push_ok(L, btfm_model_save(check_model(L, 1), btfm_lua_check_cstring(L, 2)));
}

static int model_to_string(lua_State *L)
{
    btfm_model *m = check_model(L, 1);
    size_t size = 0, written = 0;
    btfm_status st = btfm_model_save_buffer(m, NULL, 0, &size);
    if (st) return btfm_lua_fail(L, st);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, size);
    if ((st = btfm_model_save_buffer(m, out, size, &written))) return btfm_lua_fail(L, st);
    luaL_pushresultsize(&b, written);
    return 1;
}

/* btfm.model([type = "ridge"]) */
static int module_model(lua_State *L)
{
    lua_settop(L, 1);
    int type = lua_isnoneornil(L, 1)
                   ? BTFM_MODEL_RIDGE
                   : name_choice(L, 1, "model type", btfm_model_type_name, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &model_type);
    btfm_model *m;
    btfm_status st = btfm_model_new(&m, type);
    if (st) return btfm_lua_fail(L, st);
    box->handle = m;
    return 1;
}

static int load_common(lua_State *L, int from_string)
{
    size_t size = 0;
    const char *arg = from_string ? luaL_checklstring(L, 1, &size) : btfm_lua_check_cstring(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &model_type);
    btfm_model *m;
    btfm_status st = from_string ? btfm_model_load_buffer(&m, arg, size) : btfm_model_load(&m, arg);
    if (st) return btfm_lua_fail(L, st);
    box->handle = m;
    return 1;
}

static int module_model_load(lua_State *L) { return load_common(L, 0); }
static int module_model_from_string(lua_State *L) { return load_common(L, 1); }

/* btfm.noise_ceiling(data, n_repeats, n_samples, n_targets [, method = "split_half"]) */
static int module_noise_ceiling(lua_State *L)
{
    lua_settop(L, 5);
    int r = btfm_lua_check_int(L, 2);
    lua_Integer n = luaL_checkinteger(L, 3), t = luaL_checkinteger(L, 4);
    static const char *const methods[] = {"split_half", "schoppe", NULL};
    const int method = lua_isnoneornil(L, 5) ? 0
                       : btfm_lua_check_choice(L, 5, "noise ceiling", btfm_lua_check_cstring(L, 5), methods);
    const float *data = (const float *)btfm_lua_check_matrix(L, 1, (lua_Integer)r * n, t, 0);
    double *out = (double *)lua_newuserdatauv(L, (size_t)t * sizeof(double), 0);
    btfm_status st = method == 0 ? btfm_noise_ceiling_split_half(out, data, r, n, t, 0, 0)
                                 : btfm_noise_ceiling_ccnorm(out, NULL, data, r, n, t, NULL);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)t);
    return 1;
}

/* btfm.rdm(patterns, n_conditions, n_channels [, kind = "correlation", n_folds = 1]) */
static int module_rdm(lua_State *L)
{
    lua_settop(L, 5);
    lua_Integer n = luaL_checkinteger(L, 2), c = luaL_checkinteger(L, 3);
    int kind = lua_isnoneornil(L, 4) ? BTFM_RDM_CORRELATION
                                     : name_choice(L, 4, "RDM kind", btfm_rdm_name, 1);
    int folds = (int)luaL_optinteger(L, 5, 1);
    const float *x = (const float *)btfm_lua_check_matrix(L, 1, (lua_Integer)folds * n, c, 0);
    const int64_t m = btfm_rdm_size(n);
    double *out = (double *)lua_newuserdatauv(L, (size_t)(m ? m : 1) * sizeof(double), 0);
    btfm_status st = btfm_rdm(out, kind, x, folds, n, c, NULL);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)m);
    return 1;
}

/* btfm.rdm_compare(a, b [, method = "spearman"]) */
static int module_rdm_compare(lua_State *L)
{
    lua_settop(L, 3);
    lua_Integer n = 0;
    const double *a = (const double *)btfm_lua_check_numbers(L, 1, -1, 1, &n);
    const double *b = (const double *)btfm_lua_check_numbers(L, 2, n, 1, NULL);
    int method = lua_isnoneornil(L, 3)
                     ? BTFM_RDM_SPEARMAN
                     : name_choice(L, 3, "comparison", btfm_rdm_comparison_name, 1);
    double v;
    btfm_status st = btfm_rdm_compare(&v, method, a, b, n);
    if (st) return btfm_lua_fail(L, st);
    lua_pushnumber(L, v);
    return 1;
}

/* btfm.rdm_noise_ceiling(rdms (n_subjects x n_entries), n_subjects [, method = "spearman"])
 * -> lower, upper */
static int module_rdm_noise_ceiling(lua_State *L)
{
    lua_settop(L, 3);
    int subjects = btfm_lua_check_int(L, 2);
    luaL_argcheck(L, subjects >= 1, 2, "expected the number of subjects");
    lua_Integer total = 0;
    const double *rdms = (const double *)btfm_lua_check_numbers(L, 1, -1, 1, &total);
    if (total % subjects) return luaL_argerror(L, 1, "expected n_subjects RDMs of equal length");
    int method = lua_isnoneornil(L, 3)
                     ? BTFM_RDM_SPEARMAN
                     : name_choice(L, 3, "comparison", btfm_rdm_comparison_name, 1);
    double lower, upper;
    btfm_status st = btfm_rdm_noise_ceiling(&lower, &upper, method, rdms, subjects,
                                            total / subjects);
    if (st) return btfm_lua_fail(L, st);
    lua_pushnumber(L, lower);
    lua_pushnumber(L, upper);
    return 2;
}

/* btfm.steering_direction(x, n_samples, n_features, labels [, method, n_folds = 5])
 * -> direction table, held-out accuracy */
static int module_steering_direction(lua_State *L)
{
    lua_settop(L, 6);
    lua_Integer n = luaL_checkinteger(L, 2), p = luaL_checkinteger(L, 3);
    const float *x = (const float *)btfm_lua_check_matrix(L, 1, n, p, 0);
    const int32_t *labels = (const int32_t *)check_integers(L, 4, n, 0, NULL);
    static const char *const methods[] = {"mean_difference", "logistic", NULL};
    int code = lua_isnoneornil(L, 5) ? BTFM_STEERING_MEAN_DIFFERENCE
                                     : 1 + btfm_lua_check_choice(L, 5, "steering method",
                                                                 btfm_lua_check_cstring(L, 5), methods);
    int folds = (int)luaL_optinteger(L, 6, 5);
    float *out = (float *)lua_newuserdatauv(L, (size_t)p * sizeof(float), 0);
    double acc;
    btfm_status st = btfm_steering_direction(out, &acc, code, x, n, p, labels, folds);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)p);
    lua_pushnumber(L, acc);
    return 2;
}

static const luaL_Reg model_methods[] = {
    {"set_alphas", model_set_alphas},
    {"set_sample_weight", model_set_sample_weight},
    {"set_groups", model_set_groups},
    {"set_delays", model_set_delays},
    {"set_bands", model_set_bands},
    {"set_band_weights", model_set_band_weights},
    {"set_folds", model_set_folds},
    {"fit", model_fit},
    {"fit_classes", model_fit_classes},
    {"fit_pairs", model_fit_pairs},
    {"fit_encoder", model_fit_encoder},
    {"predict", model_predict},
    {"predict_std", model_predict_std},
    {"predict_proba", model_predict_proba},
    {"coef", model_coef},
    {"intercept", model_intercept},
    {"alpha", model_alpha},
    {"score", model_score},
    {"cross_predict", model_cross_predict},
    {"permutation_test", model_permutation_test},
    {"cv_scores", model_cv_scores},
    {"band_weights", model_band_weights},
    {"score_split", model_score_split},
    {"synthesize", model_synthesize},
    {"save", model_save},
    {"to_string", model_to_string},
    {NULL, NULL},
};

static const luaL_Reg no_metamethods[] = {{NULL, NULL}};

static const luaL_Reg module_functions[] = {
    {"model", module_model},
    {"model_load", module_model_load},
    {"model_from_string", module_model_from_string},
    {"noise_ceiling", module_noise_ceiling},
    {"rdm", module_rdm},
    {"rdm_compare", module_rdm_compare},
    {"rdm_noise_ceiling", module_rdm_noise_ceiling},
    {"steering_direction", module_steering_direction},
    {NULL, NULL},
};

void btfm_lua_open_model(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &model_type, model_methods, no_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
