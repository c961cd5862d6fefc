/* btfm.stream: real-time streams from Lua (doc/streaming.md): configure from a table,
 * push flat tables of samples, pull rows as tables keyed by column name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "btfm_lua.h"

static btfm_status stream_set(void *s, int param, double value)
{
    return btfm_stream_set_param(s, param, value);
}

static btfm_status stream_get(const void *s, int param, double *value)
{
    return btfm_stream_get_param(s, param, value);
}

static void stream_free(void *s) { btfm_stream_free(s); }

static void stream_describe(lua_State *L, void *s)
{
    double channels = 0, sfreq = 0;
    btfm_stream_get_param(s, BTFM_STREAM_PARAM_N_CHANNELS, &channels);
    btfm_stream_get_param(s, BTFM_STREAM_PARAM_SFREQ, &sfreq);
    lua_pushfstring(L, "%d channels at %f Hz, %d samples pushed", (int)channels, sfreq,
                    (int)btfm_stream_n_samples(s));
}

static const btfm_lua_type stream_type = {
    "btfm.stream", BTFM_OBJECT_STREAM, stream_set, stream_get, stream_free, stream_describe,
};

/* Option `key` of the table at `arg`: a list of integers (channel indices, 0-based) into
 * a userdata block; its length in *n, NULL when absent. */
static int *opt_ints(lua_State *L, int arg, const char *key, int *n)
{
    lua_getfield(L, arg, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    lua_Integer count;
    double *v = btfm_lua_check_numbers(L, lua_gettop(L), -1, 1, &count);
    int *out = lua_newuserdatauv(L, sizeof(int) * (size_t)count, 0);
    for (lua_Integer i = 0; i < count; i++) out[i] = (int)v[i];
    *n = (int)count;
    return out;
}

/* Option `key`: a list of {a, b} pairs flattened; *n pairs. */
static double *opt_pairs(lua_State *L, int arg, const char *key, int *n)
{
    lua_getfield(L, arg, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    int t = lua_gettop(L);
    luaL_checktype(L, t, LUA_TTABLE);
    lua_Integer count = (lua_Integer)lua_rawlen(L, t);
    double *out = lua_newuserdatauv(L, sizeof(double) * 2 * (size_t)(count ? count : 1), 0);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, t, i);
        double *pair = btfm_lua_check_numbers(L, lua_gettop(L), 2, 1, NULL);
        out[2 * (i - 1)] = pair[0];
        out[2 * (i - 1) + 1] = pair[1];
        lua_pop(L, 2);
    }
    *n = (int)count;
    return out;
}

/* btfm.stream(n_channels, sfreq [, {picks=, bands=, erp_windows=, frontal=, posterior=,
 * <parameter> = value, ...}]) -> stream, configured; channel indices are 0-based as in C. */
static int module_stream(lua_State *L)
{
    lua_Integer channels = luaL_checkinteger(L, 1);
    double sfreq = luaL_checknumber(L, 2);
    lua_settop(L, 3);
    btfm_lua_box *box = btfm_lua_new_box(L, &stream_type); /* index 4 */
    btfm_stream *s;
    btfm_status st = btfm_stream_new(&s);
    if (st) return btfm_lua_fail(L, st);
    box->handle = s;
    if ((st = btfm_stream_set_param(s, BTFM_STREAM_PARAM_N_CHANNELS, (double)channels)) ||
        (st = btfm_stream_set_param(s, BTFM_STREAM_PARAM_SFREQ, sfreq)))
        return btfm_lua_fail(L, st);
    if (!lua_isnil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        /* the list options first, then the parameters (every other string key) */
        int n = 0;
        int *picks = opt_ints(L, 3, "picks", &n);
        if (picks && (st = btfm_stream_set_picks(s, picks, n))) return btfm_lua_fail(L, st);
        static const char *const roles[] = {"frontal", "posterior"};
        for (int r = 0; r < 2; r++) {
            int *role = opt_ints(L, 3, roles[r], &n);
            if (role && (st = btfm_stream_set_role(s, r, role, n))) return btfm_lua_fail(L, st);
        }
        double *bands = opt_pairs(L, 3, "bands", &n);
        if (bands && (st = btfm_stream_set_bands(s, bands, n))) return btfm_lua_fail(L, st);
        double *erp = opt_pairs(L, 3, "erp_windows", &n);
        if (erp && (st = btfm_stream_set_erp_windows(s, erp, n))) return btfm_lua_fail(L, st);
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (key && strcmp(key, "picks") && strcmp(key, "frontal") && strcmp(key, "posterior") &&
                strcmp(key, "bands") && strcmp(key, "erp_windows")) {
                int param;
                if ((st = btfm_param_find(BTFM_OBJECT_STREAM, key, &param))) return btfm_lua_fail(L, st);
                double value = lua_isboolean(L, -1) ? lua_toboolean(L, -1)
                                                    : btfm_lua_check_field_number(L, 3, key);
                if ((st = btfm_stream_set_param(s, param, value))) return btfm_lua_fail(L, st);
            }
            lua_pop(L, 1);
        }
    }
    if ((st = btfm_stream_configure(s))) return btfm_lua_fail(L, st);
    lua_pushvalue(L, 4);
    return 1;
}

/* s:push(values, n_samples [, timestamps]) -> true: values is a flat table of n_samples x
 * n_channels numbers (time-major), NaN allowed. */
static int stream_push(lua_State *L)
{
    lua_settop(L, 4);
    btfm_stream *s = btfm_lua_check_handle(L, 1, &stream_type);
    lua_Integer n = luaL_checkinteger(L, 3);
    double channels;
    btfm_stream_get_param(s, BTFM_STREAM_PARAM_N_CHANNELS, &channels);
    if (n < 1 || n > INT32_MAX / (lua_Integer)channels) luaL_argerror(L, 3, "bad sample count");
    float *x = btfm_lua_check_numbers(L, 2, n * (lua_Integer)channels, 0, NULL);
    double *ts = lua_isnoneornil(L, 4) ? NULL : btfm_lua_check_numbers(L, 4, n, 1, NULL);
    btfm_status st = btfm_stream_push(s, x, n, (int)channels, ts);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* s:push_marker(time [, code [, label]]) -> true */
static int stream_push_marker(lua_State *L)
{
    btfm_stream *s = btfm_lua_check_handle(L, 1, &stream_type);
    btfm_status st = btfm_stream_push_marker(s, luaL_checknumber(L, 2),
                                             (int)luaL_optinteger(L, 3, 0),
                                             btfm_lua_opt_cstring(L, 4));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* s:push_marker_sample(sample [, code [, label]]) -> true: a marker at pushed sample
 * `sample` (the stream's count from 0). */
static int stream_push_marker_sample(lua_State *L)
{
    btfm_stream *s = btfm_lua_check_handle(L, 1, &stream_type);
    btfm_status st = btfm_stream_push_marker_sample(s, (int64_t)luaL_checkinteger(L, 2),
                                                    (int)luaL_optinteger(L, 3, 0),
                                                    btfm_lua_opt_cstring(L, 4));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* s:pull([max_rows]) -> list of rows, each a table of the row's columns that hold a value
 * ({time=, sample=, kind=, flags=, ["alpha:Pz"]=, ...}); {} when none is ready. */
static int stream_pull(lua_State *L)
{
    btfm_stream *s = btfm_lua_check_handle(L, 1, &stream_type);
    lua_Integer max = luaL_optinteger(L, 2, 256);
    if (max < 1 || max > (1 << 20)) luaL_argerror(L, 2, "expected 1 to 2^20 rows");
    const int ncol = btfm_stream_n_columns(s);
    double *rows = lua_newuserdatauv(L, sizeof(double) * (size_t)max * (size_t)ncol, 0);
    size_t n;
    btfm_status st = btfm_stream_pull(s, rows, (size_t)max, &n);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, (int)n, 0);
    for (size_t r = 0; r < n; r++) {
        lua_createtable(L, 0, 8);
        for (int c = 0; c < ncol; c++) {
            double v = rows[r * (size_t)ncol + c];
            if (isnan(v)) continue;
            if (c <= 4) lua_pushinteger(L, (lua_Integer)v);
            else lua_pushnumber(L, v);
            if (c == 0) lua_pop(L, 1), lua_pushnumber(L, v); /* time stays a float */
            lua_setfield(L, -2, btfm_stream_column_name(s, c));
        }
        lua_rawseti(L, -2, (lua_Integer)r + 1);
    }
    return 1;
}

/* s:columns() -> the column names in row order */
static int stream_columns(lua_State *L)
{
    btfm_stream *s = btfm_lua_check_handle(L, 1, &stream_type);
    const int ncol = btfm_stream_n_columns(s);
    lua_createtable(L, ncol, 0);
    for (int c = 0; c < ncol; c++) {
        lua_pushstring(L, btfm_stream_column_name(s, c));
        lua_rawseti(L, -2, c + 1);
    }
    return 1;
}

/* s:calibrate(on) -> true */
static int stream_calibrate(lua_State *L)
{
    btfm_stream *s = btfm_lua_check_handle(L, 1, &stream_type);
    btfm_status st = btfm_stream_set_calibration(s, lua_toboolean(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* s:n_dropped(), s:n_samples() */
static int stream_n_dropped(lua_State *L)
{
    lua_pushinteger(L, btfm_stream_n_dropped(btfm_lua_check_handle(L, 1, &stream_type)));
    return 1;
}

static int stream_n_samples(lua_State *L)
{
    lua_pushinteger(L, btfm_stream_n_samples(btfm_lua_check_handle(L, 1, &stream_type)));
    return 1;
}

void btfm_lua_open_stream(lua_State *L, int module_index)
{
    static const luaL_Reg methods[] = {
        {"push", stream_push},           {"push_marker", stream_push_marker},
        {"push_marker_sample", stream_push_marker_sample},
        {"pull", stream_pull},           {"columns", stream_columns},
        {"calibrate", stream_calibrate}, {"n_dropped", stream_n_dropped},
        {"n_samples", stream_n_samples}, {NULL, NULL},
    };
    static const luaL_Reg no_metamethods[] = {{NULL, NULL}};
    btfm_lua_register_type(L, &stream_type, methods, no_metamethods);
    lua_pushcfunction(L, module_stream);
    lua_setfield(L, module_index, "stream");
}
