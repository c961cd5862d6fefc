/* btfm.reward_features: the reward feature builder from Lua. A recording and its events
 * become one row of features per item (flat tables in C order with their dimensions),
 * with each feature's name and role bits and the configuration text a head keeps. */
#include <stdint.h>
#include "btfm_lua.h"

static btfm_status set_param_adapter(void *handle, int param, double value)
{
    return btfm_reward_features_set_param((btfm_reward_features *)handle, param, value);
}

static btfm_status get_param_adapter(const void *handle, int param, double *value)
{
    return btfm_reward_features_get_param((const btfm_reward_features *)handle, param, value);
}

static void free_adapter(void *handle) { btfm_reward_features_free((btfm_reward_features *)handle); }

static void describe(lua_State *L, void *handle)
{
    const btfm_reward_features *fb = (const btfm_reward_features *)handle;
    int64_t rows = btfm_reward_features_n_rows(fb);
    if (rows < 0)
        lua_pushstring(L, "not computed");
    else
        lua_pushfstring(L, "%I rows x %I features", (lua_Integer)rows,
                        (lua_Integer)btfm_reward_features_n_features(fb));
}

static const btfm_lua_type features_type = {
    "btfm.reward_features", BTFM_OBJECT_REWARD_FEATURES, set_param_adapter, get_param_adapter,
    free_adapter, describe,
};

static btfm_reward_features *check_features(lua_State *L, int arg)
{
    return (btfm_reward_features *)btfm_lua_check_handle(L, arg, &features_type);
}

static int push_ok(lua_State *L, btfm_status st)
{
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* The result's rows and features, or a failure pushed (returns 0 then). */
static int shape(lua_State *L, const btfm_reward_features *fb, int64_t *rows, int64_t *cols)
{
    *rows = btfm_reward_features_n_rows(fb);
    *cols = *rows < 0 ? *rows : btfm_reward_features_n_features(fb);
    return *rows >= 0 && *cols >= 0;
}

/* fb:set_events(event [, onset_event]) */
static int features_set_events(lua_State *L)
{
    btfm_reward_features *fb = check_features(L, 1);
    return push_ok(L, btfm_reward_features_set_events(fb, btfm_lua_check_cstring(L, 2),
                                                      btfm_lua_opt_cstring(L, 3)));
}

/* fb:set_aligner(aligner, subject) or fb:set_aligner(nil) to return to channels */
static int features_set_aligner(lua_State *L)
{
    btfm_reward_features *fb = check_features(L, 1);
    if (lua_isnoneornil(L, 2)) return push_ok(L, btfm_reward_features_set_aligner(fb, NULL, 0));
    btfm_aligner *a = btfm_lua_check_aligner(L, 2);
    return push_ok(L, btfm_reward_features_set_aligner(fb, a, btfm_lua_check_int(L, 3)));
}

/* fb:compute(dataset) -> fb */
static int features_compute(lua_State *L)
{
    btfm_reward_features *fb = check_features(L, 1);
    btfm_status st = btfm_reward_features_compute(fb, btfm_lua_check_dataset(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_settop(L, 1);
    return 1;
}

/* fb:shape() -> rows, features */
static int features_shape(lua_State *L)
{
    int64_t rows, cols;
    if (!shape(L, check_features(L, 1), &rows, &cols)) return btfm_lua_fail(L, (int)(rows < 0 ? rows : cols));
    lua_pushinteger(L, (lua_Integer)rows);
    lua_pushinteger(L, (lua_Integer)cols);
    return 2;
}

/* fb:matrix() -> flat table (rows x features, C order), rows, features */
static int features_matrix(lua_State *L)
{
    btfm_reward_features *fb = check_features(L, 1);
    int64_t rows, cols;
    if (!shape(L, fb, &rows, &cols)) return btfm_lua_fail(L, (int)(rows < 0 ? rows : cols));
    size_t n = (size_t)rows * (size_t)cols;
    float *out = (float *)lua_newuserdatauv(L, (n ? n : 1) * sizeof *out, 0);
    btfm_status st = btfm_reward_features_matrix(fb, out, n);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, n);
    lua_pushinteger(L, (lua_Integer)rows);
    lua_pushinteger(L, (lua_Integer)cols);
    return 3;
}

/* fb:roles() -> {bits per feature}; fb:events() -> {dataset event index per row (1-based,
 * as ds:events() numbers them)} */
static int features_ints(lua_State *L, int roles)
{
    btfm_reward_features *fb = check_features(L, 1);
    int64_t rows, cols;
    if (!shape(L, fb, &rows, &cols)) return btfm_lua_fail(L, (int)(rows < 0 ? rows : cols));
    const int64_t n = roles ? cols : rows;
    void *buf = lua_newuserdatauv(L, (size_t)(n ? n : 1) * 8, 0);
    btfm_status st = roles ? btfm_reward_features_roles(fb, (int32_t *)buf, (size_t)n)
                           : btfm_reward_features_events(fb, (int64_t *)buf, (size_t)n);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushinteger(L, roles ? (lua_Integer)((int32_t *)buf)[i]
                                 : (lua_Integer)((int64_t *)buf)[i] + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int features_roles(lua_State *L) { return features_ints(L, 1); }
static int features_events(lua_State *L) { return features_ints(L, 0); }

/* fb:names() -> {"Pz:erp:0.300-0.400", ...} */
static int features_names(lua_State *L)
{
    btfm_reward_features *fb = check_features(L, 1);
    int64_t rows, cols;
    if (!shape(L, fb, &rows, &cols)) return btfm_lua_fail(L, (int)(rows < 0 ? rows : cols));
    lua_createtable(L, (int)cols, 0);
    for (int64_t j = 0; j < cols; j++) {
        lua_pushstring(L, btfm_reward_features_name(fb, j));
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    return 1;
}

/* fb:config() -> the configuration text a head keeps */
static int features_config(lua_State *L)
{
    const char *text = btfm_reward_features_config(check_features(L, 1));
    if (!text) return btfm_lua_fail(L, BTFM_E_STATE);
    lua_pushstring(L, text);
    return 1;
}

/* fb:epochs() -> flat table (rows x times x sources), rows, times, sources */
static int features_epochs(lua_State *L)
{
    btfm_reward_features *fb = check_features(L, 1);
    int64_t rows = btfm_reward_features_n_rows(fb), times = 0;
    int sources = 0;
    if (rows < 0) return btfm_lua_fail(L, (int)rows);
    btfm_status st = btfm_reward_features_epochs(fb, NULL, 0, &times, &sources);
    if (st) return btfm_lua_fail(L, st);
    size_t n = (size_t)rows * (size_t)times * (size_t)sources;
    float *out = (float *)lua_newuserdatauv(L, (n ? n : 1) * sizeof *out, 0);
    if ((st = btfm_reward_features_epochs(fb, out, n, &times, &sources))) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, n);
    lua_pushinteger(L, (lua_Integer)rows);
    lua_pushinteger(L, (lua_Integer)times);
    lua_pushinteger(L, sources);
    return 4;
}

/* fb:column(dataset, name) -> {number per row} (NaN for n/a) */
static int features_column(lua_State *L)
{
    btfm_reward_features *fb = check_features(L, 1);
    btfm_dataset *ds = btfm_lua_check_dataset(L, 2);
    const char *name = btfm_lua_check_cstring(L, 3);
    int64_t rows = btfm_reward_features_n_rows(fb);
    if (rows < 0) return btfm_lua_fail(L, (int)rows);
    double *out = (double *)lua_newuserdatauv(L, (size_t)(rows ? rows : 1) * sizeof *out, 0);
    btfm_status st = btfm_reward_features_column(fb, ds, name, out, (size_t)rows);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)rows);
    return 1;
}

/* btfm.reward_features([params [, event [, onset_event]]]): params a table {name = value}
 * (btfm.param_info("reward_features")); rows at `event` ("item_end"), the novelty window
 * after `onset_event` ("item_onset"; false for none). */
static int module_reward_features(lua_State *L)
{
    lua_settop(L, 3); /* the box goes above the arguments, even when they are absent */
    if (!lua_isnil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
    const char *event = luaL_optstring(L, 2, "item_end");
    const char *onset = lua_isboolean(L, 3) && !lua_toboolean(L, 3) ? NULL
                                                                    : luaL_optstring(L, 3, "item_onset");
    btfm_lua_box *box = btfm_lua_new_box(L, &features_type);
    btfm_reward_features *fb;
    btfm_status st = btfm_reward_features_new(&fb);
    if (st) return btfm_lua_fail(L, st);
    box->handle = fb;
    if ((st = btfm_reward_features_set_events(fb, event, onset))) return btfm_lua_fail(L, st);
    int pushed = btfm_lua_set_params(L, 1, &features_type, fb);
    return pushed ? pushed : 1; /* the box is on top */
}

static const luaL_Reg features_methods[] = {
    {"set_events", features_set_events},
    {"set_aligner", features_set_aligner},
    {"compute", features_compute},
    {"shape", features_shape},
    {"matrix", features_matrix},
    {"roles", features_roles},
    {"events", features_events},
    {"names", features_names},
    {"config", features_config},
    {"epochs", features_epochs},
    {"column", features_column},
    {NULL, NULL},
};

static const luaL_Reg no_metamethods[] = {{NULL, NULL}};

static const luaL_Reg module_functions[] = {
    {"reward_features", module_reward_features},
    {NULL, NULL},
};

void btfm_lua_open_reward_features(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &features_type, features_methods, no_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
