/* btfm.reward_head: RLHB reward heads from Lua. Features cross as flat tables in C order
 * (items x features) with their dimensions; annotators, item ids and pair indices are
 * whole numbers (pairs 0-based rows, as in C); ratings use NaN (0/0) for unrated items. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

static btfm_status set_param_adapter(void *handle, int param, double value)
{
    return btfm_reward_head_set_param((btfm_reward_head *)handle, param, value);
}

static btfm_status get_param_adapter(const void *handle, int param, double *value)
{
    return btfm_reward_head_get_param((const btfm_reward_head *)handle, param, value);
}

static void free_adapter(void *handle) { btfm_reward_head_free((btfm_reward_head *)handle); }

static void describe(lua_State *L, void *handle)
{
    const btfm_reward_head *h = (const btfm_reward_head *)handle;
    double mode = 0;
    btfm_reward_head_get_param(h, BTFM_REWARD_PARAM_MODE, &mode);
    if (btfm_reward_head_is_fitted(h) == 1)
        lua_pushfstring(L, "%s, fitted on %I features", btfm_reward_mode_name((int)mode),
                        (lua_Integer)btfm_reward_head_n_features(h));
    else
        lua_pushfstring(L, "%s, not fitted", btfm_reward_mode_name((int)mode));
}

static const btfm_lua_type head_type = {
    "btfm.reward_head", BTFM_OBJECT_REWARD_HEAD, set_param_adapter, get_param_adapter,
    free_adapter, describe,
};

static btfm_reward_head *check_head(lua_State *L, int arg)
{
    return (btfm_reward_head *)btfm_lua_check_handle(L, arg, &head_type);
}

static int push_ok(lua_State *L, btfm_status st)
{
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* A table of whole numbers (count values, or any length with count < 0) as int64. */
static int64_t *check_int64(lua_State *L, int arg, lua_Integer count, lua_Integer *n)
{
    const double *v = (const double *)btfm_lua_check_numbers(L, arg, count, 1, n);
    const lua_Integer len = count >= 0 ? count : *n;
    int64_t *out = (int64_t *)lua_newuserdatauv(L, (size_t)len * sizeof *out, 0);
    for (lua_Integer i = 0; i < len; i++) {
        if (v[i] != (double)(int64_t)v[i]) luaL_argerror(L, arg, "expected whole numbers");
        out[i] = (int64_t)v[i];
    }
    return out;
}

/* h:fit(features, n_items, n_features, annotators, {ratings=, confidence=, pairs=, items=}) */
static int head_fit(lua_State *L)
{
    const int n_args = lua_gettop(L);
    btfm_reward_head *h = check_head(L, 1);
    lua_Integer n = luaL_checkinteger(L, 3), d = luaL_checkinteger(L, 4);
    float *x = (float *)btfm_lua_check_matrix(L, 2, n, d, 0);
    int64_t *annot = check_int64(L, 5, n, NULL);
    float *ratings = NULL, *conf = NULL;
    int64_t *pairs = NULL, *items = NULL;
    lua_Integer n_pairs = 0;
    if (n_args >= 6 && !lua_isnil(L, 6)) {
        luaL_checktype(L, 6, LUA_TTABLE);
        int opts = 6;
        if (lua_getfield(L, opts, "ratings") != LUA_TNIL)
            ratings = (float *)btfm_lua_check_numbers(L, lua_gettop(L), n, 0, NULL);
        if (lua_getfield(L, opts, "confidence") != LUA_TNIL)
            conf = (float *)btfm_lua_check_numbers(L, lua_gettop(L), n, 0, NULL);
        if (lua_getfield(L, opts, "pairs") != LUA_TNIL) {
            pairs = check_int64(L, lua_gettop(L), -1, &n_pairs);
            if (n_pairs % 2) luaL_argerror(L, 6, "pairs: expected (chosen, rejected) pairs");
            n_pairs /= 2;
        }
        if (lua_getfield(L, opts, "items") != LUA_TNIL) items = check_int64(L, lua_gettop(L), n, NULL);
    }
    btfm_status st = btfm_reward_head_set_ratings(h, ratings, conf, ratings ? n : 0);
    if (!st) st = btfm_reward_head_set_pairs(h, pairs, NULL, n_pairs);
    if (!st) st = btfm_reward_head_set_items(h, items, items ? n : 0);
    if (!st) st = btfm_reward_head_fit(h, x, n, d, annot);
    return push_ok(L, st);
}

/* h:predict(features, n_items, annotators [, ratings]) -> {reward=, sd=, confidence=,
 * penalty=, novelty=} (tables of n_items numbers) */
static int head_predict(lua_State *L)
{
    const int n_args = lua_gettop(L); /* checks below push their blocks above the arguments */
    btfm_reward_head *h = check_head(L, 1);
    lua_Integer n = luaL_checkinteger(L, 3);
    int64_t d = btfm_reward_head_n_features(h);
    if (d < 0) return btfm_lua_fail(L, (int)d);
    float *x = (float *)btfm_lua_check_matrix(L, 2, n, d, 0);
    int64_t *annot = check_int64(L, 4, n, NULL);
    float *ratings = n_args < 5 || lua_isnil(L, 5) ? NULL
                                                   : (float *)btfm_lua_check_numbers(L, 5, n, 0, NULL);
    float *out = (float *)lua_newuserdatauv(L, (size_t)n * BTFM_REWARD_N_OUTPUTS * sizeof(float), 0);
    btfm_status st = btfm_reward_head_predict(h, out, (size_t)n * BTFM_REWARD_N_OUTPUTS, x, n, d,
                                              annot, ratings);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, 0, BTFM_REWARD_N_OUTPUTS);
    for (int k = 0; k < BTFM_REWARD_N_OUTPUTS; k++) {
        lua_createtable(L, (int)n, 0);
        for (lua_Integer i = 0; i < n; i++) {
            lua_pushnumber(L, out[i * BTFM_REWARD_N_OUTPUTS + k]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, btfm_reward_output_name(k));
    }
    return 1;
}

static int head_n_features(lua_State *L)
{
    int64_t d = btfm_reward_head_n_features(check_head(L, 1));
    if (d < 0) return btfm_lua_fail(L, (int)d);
    lua_pushinteger(L, (lua_Integer)d);
    return 1;
}

static int head_save(lua_State *L)
{
    return push_ok(L, btfm_reward_head_save(check_head(L, 1), btfm_lua_check_cstring(L, 2)));
}

static int head_to_string(lua_State *L)
{
    btfm_reward_head *h = check_head(L, 1);
    size_t size = 0, written = 0;
    btfm_status st = btfm_reward_head_save_buffer(h, NULL, 0, &size);
    if (st) return btfm_lua_fail(L, st);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, size);
    if ((st = btfm_reward_head_save_buffer(h, out, size, &written))) return btfm_lua_fail(L, st);
    luaL_pushresultsize(&b, written);
    return 1;
}

/* btfm.reward_head([mode="joint"]) */
static int module_reward_head(lua_State *L)
{
    const char *name = luaL_optstring(L, 1, "joint"), *known;
    int mode = 0;
    for (int m = 1; (known = btfm_reward_mode_name(m)) != NULL; m++)
        if (strcmp(known, name) == 0) mode = m;
    if (!mode) {
        btfm_lua_push_names(L, btfm_reward_mode_name, 1);
        return luaL_argerror(L, 1, lua_pushfstring(L, "unknown mode '%s' (known: %s)", name,
                                                   lua_tostring(L, -1)));
    }
    btfm_lua_box *box = btfm_lua_new_box(L, &head_type);
    btfm_reward_head *h;
    btfm_status st = btfm_reward_head_new(&h, mode);
    if (st) return btfm_lua_fail(L, st);
    box->handle = h;
    return 1;
}

/* btfm.reward_head_load(path) / btfm.reward_head_from_string(bytes) */
static int load_common(lua_State *L, int from_string)
{
    size_t size = 0;
    const char *arg = from_string ? luaL_checklstring(L, 1, &size) : btfm_lua_check_cstring(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &head_type);
    btfm_reward_head *h;
    btfm_status st = from_string ? btfm_reward_head_load_buffer(&h, arg, size)
                                 : btfm_reward_head_load(&h, arg);
    if (st) return btfm_lua_fail(L, st);
    box->handle = h;
    return 1;
}

static int module_load(lua_State *L) { return load_common(L, 0); }
static int module_from_string(lua_State *L) { return load_common(L, 1); }

/* btfm.reward_metrics(reward, truth [, confidence]) -> {pearson=, spearman=,
 * pairwise_accuracy=, ece=, n=} pooled */
static int module_metrics(lua_State *L)
{
    const int n_args = lua_gettop(L);
    lua_Integer n = 0;
    float *r = (float *)btfm_lua_check_numbers(L, 1, -1, 0, &n);
    float *t = (float *)btfm_lua_check_numbers(L, 2, n, 0, NULL);
    float *c = n_args < 3 || lua_isnil(L, 3) ? NULL : (float *)btfm_lua_check_numbers(L, 3, n, 0, NULL);
    double out[BTFM_REWARD_N_METRICS];
    btfm_status st = btfm_reward_metrics(out, BTFM_REWARD_N_METRICS, NULL, r, c, t, NULL, n);
    if (st) return btfm_lua_fail(L, st);
    static const char *const names[] = {"pearson", "spearman", "pairwise_accuracy", "ece", "n"};
    lua_createtable(L, 0, BTFM_REWARD_N_METRICS);
    for (int k = 0; k < BTFM_REWARD_N_METRICS; k++) {
        lua_pushnumber(L, out[k]);
        lua_setfield(L, -2, names[k]);
    }
    return 1;
}

/* btfm.reward_pair_scores(pairs, n_items [, {weight=, alpha=}]) -> n_items numbers (NaN:
 * in no pair): each item's Bradley-Terry strength from preferences alone; pairs flat
 * (chosen, rejected, ...), 0-based item indices as in head:fit */
static int module_pair_scores(lua_State *L)
{
    lua_settop(L, 3); /* the optional table stays below the blocks pushed on the stack */
    lua_Integer n_pairs = 0, n = luaL_checkinteger(L, 2);
    int64_t *pairs = check_int64(L, 1, -1, &n_pairs);
    if (n_pairs % 2) return luaL_argerror(L, 1, "expected (chosen, rejected) pairs");
    n_pairs /= 2;
    float *weight = NULL;
    double alpha = 1;
    if (!lua_isnil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        if (lua_getfield(L, 3, "weight") != LUA_TNIL)
            weight = (float *)btfm_lua_check_numbers(L, lua_gettop(L), n_pairs, 0, NULL);
        if (lua_getfield(L, 3, "alpha") != LUA_TNIL) alpha = luaL_checknumber(L, lua_gettop(L));
    }
    if (n < 0) return luaL_argerror(L, 2, "expected a count of items");
    float *out = (float *)lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *out, 0);
    btfm_status st = btfm_reward_pair_scores(out, (size_t)n, n, pairs, weight, n_pairs, alpha);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)n);
    return 1;
}

static const luaL_Reg head_methods[] = {
    {"fit", head_fit},
    {"predict", head_predict},
    {"n_features", head_n_features},
    {"save", head_save},
    {"to_string", head_to_string},
    {NULL, NULL},
};

static const luaL_Reg no_metamethods[] = {{NULL, NULL}};

static const luaL_Reg module_functions[] = {
    {"reward_head", module_reward_head},
    {"reward_head_load", module_load},
    {"reward_head_from_string", module_from_string},
    {"reward_metrics", module_metrics},
    {"reward_pair_scores", module_pair_scores},
    {NULL, NULL},
};

void btfm_lua_open_reward(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &head_type, head_methods, no_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
    btfm_lua_open_reward_features(L, module_index);
}
