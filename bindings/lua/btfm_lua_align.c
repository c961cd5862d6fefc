/* btfm.aligner: hyperalignment and shared response models from Lua, plus the alignment
 * metrics. Matrices cross the boundary as flat Lua tables in C order (time-major) with
 * their dimensions given alongside. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "btfm_lua.h"

static btfm_status set_param_adapter(void *handle, int param, double value)
{
    return btfm_aligner_set_param((btfm_aligner *)handle, param, value);
}

static btfm_status get_param_adapter(const void *handle, int param, double *value)
{
    return btfm_aligner_get_param((const btfm_aligner *)handle, param, value);
}

static void free_adapter(void *handle) { btfm_aligner_free((btfm_aligner *)handle); }

static void describe(lua_State *L, void *handle)
{
    const btfm_aligner *a = (const btfm_aligner *)handle;
    int n = 0;
    btfm_aligner_n_subjects(a, &n);
    lua_pushfstring(L, "%s, %d subject%s%s", btfm_align_method_name(btfm_aligner_method(a)), n,
                    n == 1 ? "" : "s", btfm_aligner_is_fitted(a) == 1 ? ", fitted" : "");
}

static const btfm_lua_type aligner_type = {
    "btfm.aligner", BTFM_OBJECT_ALIGNER, set_param_adapter, get_param_adapter, free_adapter,
    describe,
};

static btfm_aligner *check_aligner(lua_State *L, int arg)
{
    return (btfm_aligner *)btfm_lua_check_handle(L, arg, &aligner_type);
}

btfm_aligner *btfm_lua_check_aligner(lua_State *L, int arg) { return check_aligner(L, arg); }

static int push_ok(lua_State *L, btfm_status st)
{
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* a:add_subject(values, n_times, n_features) -> subject index (0-based) */
static int aligner_add_subject(lua_State *L)
{
    btfm_aligner *a = check_aligner(L, 1);
    lua_Integer t = luaL_checkinteger(L, 3), v = luaL_checkinteger(L, 4);
    float *x = (float *)btfm_lua_check_matrix(L, 2, t, v, 0);
    btfm_status st = btfm_aligner_add_subject(a, x, t, v);
    if (st) return btfm_lua_fail(L, st);
    int n;
    btfm_aligner_n_subjects(a, &n);
    lua_pushinteger(L, n - 1);
    return 1;
}

static int aligner_fit(lua_State *L) { return push_ok(L, btfm_aligner_fit(check_aligner(L, 1))); }

/* a:transform(subject, values, n_times) / a:inverse_transform(subject, values, n_times)
 * -> flat table, its column count */
static int map_call(lua_State *L, int inverse)
{
    btfm_aligner *a = check_aligner(L, 1);
    int subject = btfm_lua_check_int(L, 2);
    lua_Integer t = luaL_checkinteger(L, 4);
    int64_t in_cols = 0, out_cols = 0, k = 0, v = 0;
    btfm_status st = btfm_aligner_n_components(a, &k);
    if (!st) st = btfm_aligner_subject_features(a, subject, &v);
    if (st) return btfm_lua_fail(L, st);
    in_cols = inverse ? k : v;
    out_cols = inverse ? v : k;
    float *x = (float *)btfm_lua_check_matrix(L, 3, t, in_cols, 0);
    float *out = (float *)lua_newuserdatauv(L, (size_t)(t * out_cols) * sizeof(float), 0);
    st = inverse ? btfm_aligner_inverse_transform(a, subject, x, t, in_cols, out)
                 : btfm_aligner_transform(a, subject, x, t, in_cols, out);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)(t * out_cols));
    lua_pushinteger(L, (lua_Integer)out_cols);
    return 2;
}

static int aligner_transform(lua_State *L) { return map_call(L, 0); }
static int aligner_inverse_transform(lua_State *L) { return map_call(L, 1); }

/* a:dims() -> n_subjects, n_times, n_components (0 before the fit) */
static int aligner_dims(lua_State *L)
{
    btfm_aligner *a = check_aligner(L, 1);
    int n;
    int64_t t, k = 0;
    btfm_aligner_n_subjects(a, &n);
    btfm_aligner_n_times(a, &t);
    if (btfm_aligner_is_fitted(a) == 1) btfm_aligner_n_components(a, &k);
    lua_pushinteger(L, n);
    lua_pushinteger(L, (lua_Integer)t);
    lua_pushinteger(L, (lua_Integer)k);
    return 3;
}

/* a:fit_info() -> iterations, objective, change (the last iteration's relative
 * objective change; NaN for hyperalignment), or nil, message before the fit */
static int aligner_fit_info(lua_State *L)
{
    btfm_aligner *a = check_aligner(L, 1);
    int iterations;
    double objective, change;
    btfm_status st = btfm_aligner_fit_info(a, &iterations, &objective);
    if (!st) st = btfm_aligner_fit_change(a, &change);
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, iterations);
    lua_pushnumber(L, objective);
    lua_pushnumber(L, change);
    return 3;
}

/* a:fit_history() -> {objective after iteration 1, 2, ...} (empty for hyperalignment), or
 * nil, message before the fit */
static int aligner_fit_history(lua_State *L)
{
    btfm_aligner *a = check_aligner(L, 1);
    int n = 0;
    btfm_status st = btfm_aligner_fit_history(a, NULL, 0, &n);
    if (st) return btfm_lua_fail(L, st);
    double *values = lua_newuserdatauv(L, sizeof(double) * (size_t)(n > 0 ? n : 1), 0);
    if ((st = btfm_aligner_fit_history(a, values, (size_t)n, &n))) return btfm_lua_fail(L, st);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, values[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int aligner_save(lua_State *L)
{
    return push_ok(L, btfm_aligner_save(check_aligner(L, 1), btfm_lua_check_cstring(L, 2)));
}

static int aligner_to_string(lua_State *L)
{
    btfm_aligner *a = check_aligner(L, 1);
    size_t size = 0, written = 0;
    btfm_status st = btfm_aligner_save_buffer(a, NULL, 0, &size);
    if (st) return btfm_lua_fail(L, st);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, size);
    if ((st = btfm_aligner_save_buffer(a, out, size, &written))) return btfm_lua_fail(L, st);
    luaL_pushresultsize(&b, written);
    return 1;
}

static int method_of(lua_State *L, int arg)
{
    const char *name = btfm_lua_check_cstring(L, arg), *known;
    for (int m = 1; (known = btfm_align_method_name(m)) != NULL; m++)
        if (strcmp(known, name) == 0) return m;
    btfm_lua_push_names(L, btfm_align_method_name, 1);
    return luaL_argerror(L, arg, lua_pushfstring(L, "unknown method '%s' (known: %s)", name,
                                                 lua_tostring(L, -1)));
}

/* btfm.aligner(method) */
static int module_aligner(lua_State *L)
{
    int method = method_of(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &aligner_type);
    btfm_aligner *a;
    btfm_status st = btfm_aligner_new(&a, method);
    if (st) return btfm_lua_fail(L, st);
    box->handle = a;
    return 1;
}

/* btfm.load_aligner(path) / btfm.aligner_from_string(bytes) */
static int load_common(lua_State *L, int from_string)
{
    size_t size = 0;
    const char *arg = from_string ? luaL_checklstring(L, 1, &size) : btfm_lua_check_cstring(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &aligner_type);
    btfm_aligner *a;
    btfm_status st = from_string ? btfm_aligner_load_buffer(&a, arg, size)
                                 : btfm_aligner_load(&a, arg);
    if (st) return btfm_lua_fail(L, st);
    box->handle = a;
    return 1;
}

static int module_load_aligner(lua_State *L) { return load_common(L, 0); }
static int module_aligner_from_string(lua_State *L) { return load_common(L, 1); }

/* btfm.segment_matching(values, n_subjects, n_times, n_features [, window=10
 * [, zscore=true]]) (zscore: each subject's features z-scored over time first, as
 * BrainIAK's procedure does) and
 * btfm.isc(values, n_subjects, n_times, n_features [, pairwise=false]): values is the
 * flat subject x time x feature block. */
static int module_segment_matching(lua_State *L)
{
    int n = btfm_lua_check_int(L, 2);
    lua_Integer t = luaL_checkinteger(L, 3), v = luaL_checkinteger(L, 4);
    lua_Integer window = luaL_optinteger(L, 5, 10);
    int zscore = lua_isnoneornil(L, 6) ? 1 : lua_toboolean(L, 6);
    if (n < 1) luaL_argerror(L, 2, "expected at least one subject");
    float *x = (float *)btfm_lua_check_matrix(L, 1, (lua_Integer)n * t, v, 0);
    double *acc = (double *)lua_newuserdatauv(L, (size_t)n * sizeof(double), 0);
    btfm_status st = btfm_align_segment_matching_z(x, n, t, v, window, zscore, acc);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, acc[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int module_isc(lua_State *L)
{
    int n = btfm_lua_check_int(L, 2);
    lua_Integer t = luaL_checkinteger(L, 3), v = luaL_checkinteger(L, 4);
    int pairwise = lua_toboolean(L, 5);
    if (n < 1) luaL_argerror(L, 2, "expected at least one subject");
    float *x = (float *)btfm_lua_check_matrix(L, 1, (lua_Integer)n * t, v, 0);
    double *out = (double *)lua_newuserdatauv(L, (size_t)v * sizeof(double), 0);
    btfm_status st = btfm_align_isc(x, n, t, v, pairwise, out);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, (int)v, 0);
    for (lua_Integer i = 0; i < v; i++) {
        lua_pushnumber(L, out[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg aligner_methods[] = {
    {"add_subject", aligner_add_subject},
    {"fit", aligner_fit},
    {"transform", aligner_transform},
    {"inverse_transform", aligner_inverse_transform},
    {"dims", aligner_dims},
    {"fit_info", aligner_fit_info},
    {"fit_history", aligner_fit_history},
    {"save", aligner_save},
    {"to_string", aligner_to_string},
    {NULL, NULL},
};

static const luaL_Reg no_metamethods[] = {{NULL, NULL}};

static const luaL_Reg module_functions[] = {
    {"aligner", module_aligner},
    {"aligner_load", module_load_aligner},
    {"aligner_from_string", module_aligner_from_string},
    {"load_aligner", module_load_aligner}, /* former name of aligner_load */
    {"segment_matching", module_segment_matching},
    {"isc", module_isc},
    {NULL, NULL},
};

void btfm_lua_open_align(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &aligner_type, aligner_methods, no_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
