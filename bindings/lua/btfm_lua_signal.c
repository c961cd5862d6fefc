/* btfm signal functions from Lua: Butterworth/notch/FIR design, causal (btfm.iir) and
 * zero-phase filtering, resampling and detrending. Signals cross the boundary as flat
 * tables in time-major order with n_times and n_channels given alongside; filters as
 * flat tables of n_sections x 6 coefficients. */
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

static void free_adapter(void *handle) { btfm_iir_free((btfm_iir *)handle); }

static void describe(lua_State *L, void *handle)
{
    const btfm_iir *f = (const btfm_iir *)handle;
    lua_pushfstring(L, "%d sections, %d channels", btfm_iir_n_sections(f), btfm_iir_n_channels(f));
}

static const btfm_lua_type iir_type = {"btfm.iir", 0, NULL, NULL, free_adapter, describe};

static double *check_sos(lua_State *L, int arg, int *n_sections)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_Integer n = luaL_len(L, arg);
    if (n < 6 || n % 6) luaL_argerror(L, arg, "sos must hold n_sections x 6 numbers");
    *n_sections = (int)(n / 6);
    return (double *)btfm_lua_check_numbers(L, arg, n, 1, NULL);
}

static int kind_of(lua_State *L, int arg)
{
    const char *name = luaL_checkstring(L, arg);
    for (int k = 1; btfm_filter_kind_name(k); k++)
        if (strcmp(name, btfm_filter_kind_name(k)) == 0) return k;
    return luaL_argerror(L, arg, lua_pushfstring(L, "unknown filter kind '%s' (lowpass, "
                                                 "highpass, bandpass, bandstop)", name));
}

/* btfm.butter(order, kind, f1, f2, sfreq) -> sos table (n_sections x 6), n_sections */
static int l_butter(lua_State *L)
{
    int order = btfm_lua_check_int(L, 1), kind = kind_of(L, 2);
    double f1 = luaL_checknumber(L, 3), f2 = luaL_optnumber(L, 4, 0), sfreq = luaL_checknumber(L, 5);
    int n = btfm_butter_n_sections(order, kind);
    if (n < 0) return btfm_lua_fail(L, n);
    double sos[6 * 10];
    btfm_status st = btfm_butter(order, kind, f1, f2, sfreq, sos, 60);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, sos, (size_t)n * 6);
    lua_pushinteger(L, n);
    return 2;
}

/* btfm.iirnotch(freq, quality, sfreq) -> sos table (6 numbers) */
static int l_iirnotch(lua_State *L)
{
    double sos[6];
    btfm_status st = btfm_iirnotch(luaL_checknumber(L, 1), luaL_checknumber(L, 2),
                                   luaL_checknumber(L, 3), sos);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, sos, 6);
    return 1;
}

/* btfm.firwin(numtaps, kind, f1, f2, sfreq [, window [, beta]]) -> taps */
static int l_firwin(lua_State *L)
{
    int numtaps = btfm_lua_check_int(L, 1), kind = kind_of(L, 2), window = -1;
    const char *wname = luaL_optstring(L, 6, "hamming");
    for (int w = 0; btfm_window_name(w); w++)
        if (strcmp(wname, btfm_window_name(w)) == 0) window = w;
    if (window < 0) return luaL_argerror(L, 6, "unknown window (hann, hamming, blackman, boxcar, kaiser)");
    if (numtaps < 1 || numtaps > 1 << 20) return luaL_argerror(L, 1, "numtaps out of range");
    double *taps = (double *)lua_newuserdatauv(L, (size_t)numtaps * sizeof(double), 0);
    btfm_status st = btfm_fir_design(taps, numtaps, kind, luaL_checknumber(L, 3),
                                     luaL_optnumber(L, 4, 0), window, luaL_optnumber(L, 7, 0),
                                     luaL_checknumber(L, 5));
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, taps, (size_t)numtaps);
    return 1;
}

/* Signal argument at `arg` with dimensions at arg + 1, arg + 2. */
static float *check_signal(lua_State *L, int arg, int64_t *n_times, int *n_channels)
{
    lua_Integer t = luaL_checkinteger(L, arg + 1), c = luaL_checkinteger(L, arg + 2);
    if (t < 0 || c < 1 || c > INT32_MAX || t > INT32_MAX / c)
        luaL_argerror(L, arg + 1, "bad dimensions");
    *n_times = t;
    *n_channels = (int)c;
    return (float *)btfm_lua_check_numbers(L, arg, t * c, 0, NULL);
}

/* btfm.sosfilt(sos, x, n_times, n_channels) -> y (zero initial state) */
static int l_sosfilt(lua_State *L)
{
    int n_sections, n_channels;
    int64_t n_times;
    double *sos = check_sos(L, 1, &n_sections);
    float *x = check_signal(L, 2, &n_times, &n_channels);
    btfm_status st = btfm_sosfilt(sos, n_sections, x, n_times, n_channels, NULL, 0, x);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, x, (size_t)n_times * (size_t)n_channels);
    return 1;
}

/* btfm.sosfiltfilt(sos, x, n_times, n_channels) -> y (odd padding, default length) */
static int l_sosfiltfilt(lua_State *L)
{
    int n_sections, n_channels;
    int64_t n_times;
    double *sos = check_sos(L, 1, &n_sections);
    float *x = check_signal(L, 2, &n_times, &n_channels);
    btfm_status st = btfm_sosfiltfilt(sos, n_sections, x, n_times, n_channels, BTFM_PAD_ODD, -1,
                                      0, x);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, x, (size_t)n_times * (size_t)n_channels);
    return 1;
}

/* btfm.resample_poly(x, n_times, n_channels, up, down) -> y, n_times_out */
static int l_resample_poly(lua_State *L)
{
    int n_channels;
    int64_t n_times;
    float *x = check_signal(L, 1, &n_times, &n_channels);
    int up = btfm_lua_check_int(L, 4), down = btfm_lua_check_int(L, 5);
    int64_t n_out = btfm_resample_poly_len(n_times, up, down);
    if (n_out < 0) return btfm_lua_fail(L, (int)n_out);
    if (n_out > INT32_MAX / n_channels) return luaL_error(L, "btfm.resample_poly: output too large");
    float *y = (float *)lua_newuserdatauv(L, (size_t)(n_out ? n_out : 1) * (size_t)n_channels * sizeof(float), 0);
    btfm_status st = btfm_resample_poly(x, n_times, n_channels, up, down, 0, y);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, y, (size_t)n_out * (size_t)n_channels);
    lua_pushinteger(L, n_out);
    return 2;
}

/* btfm.detrend(x, n_times, n_channels [, "linear" | "constant"]) -> y */
static int l_detrend(lua_State *L)
{
    int n_channels;
    int64_t n_times;
    float *x = check_signal(L, 1, &n_times, &n_channels);
    static const char *const types[] = {"constant", "linear", NULL};
    int type = luaL_checkoption(L, 4, "linear", types) == 0 ? BTFM_DETREND_CONSTANT : BTFM_DETREND_LINEAR;
    btfm_status st = btfm_detrend(x, n_times, n_channels, type, 0, x);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, x, (size_t)n_times * (size_t)n_channels);
    return 1;
}

/* btfm.iir(sos, n_channels) -> a causal filter whose state carries across process calls */
static int l_iir(lua_State *L)
{
    int n_sections;
    double *sos = check_sos(L, 1, &n_sections);
    int n_channels = btfm_lua_check_int(L, 2);
    btfm_lua_box *box = btfm_lua_new_box(L, &iir_type);
    btfm_iir *f;
    btfm_status st = btfm_iir_new(&f, sos, n_sections, n_channels);
    if (st) return btfm_lua_fail(L, st);
    box->handle = f;
    return 1;
}

/* f:process(x, n_times) -> y */
static int iir_process(lua_State *L)
{
    btfm_iir *f = (btfm_iir *)btfm_lua_check_handle(L, 1, &iir_type);
    lua_Integer n_times = luaL_checkinteger(L, 3);
    int n_channels = btfm_iir_n_channels(f);
    if (n_times < 0 || n_times > INT32_MAX / n_channels) return luaL_argerror(L, 3, "bad n_times");
    float *x = (float *)btfm_lua_check_numbers(L, 2, n_times * n_channels, 0, NULL);
    btfm_status st = btfm_iir_process(f, x, n_times, 0, x);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, x, (size_t)n_times * (size_t)n_channels);
    return 1;
}

/* f:reset([initial]) -> true: at rest, or steady state for initial[c] per channel */
static int iir_reset(lua_State *L)
{
    btfm_iir *f = (btfm_iir *)btfm_lua_check_handle(L, 1, &iir_type);
    float *initial = lua_isnoneornil(L, 2) ? NULL
                   : (float *)btfm_lua_check_numbers(L, 2, btfm_iir_n_channels(f), 0, NULL);
    btfm_status st = btfm_iir_reset(f, initial);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg iir_methods[] = {
    {"process", iir_process},
    {"reset", iir_reset},
    {NULL, NULL},
};

static const luaL_Reg no_metamethods[] = {{NULL, NULL}};

static const luaL_Reg module_functions[] = {
    {"butter", l_butter},
    {"iirnotch", l_iirnotch},
    {"firwin", l_firwin},
    {"sosfilt", l_sosfilt},
    {"sosfiltfilt", l_sosfiltfilt},
    {"resample_poly", l_resample_poly},
    {"detrend", l_detrend},
    {"iir", l_iir},
    {NULL, NULL},
};

void btfm_lua_open_signal(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &iir_type, iir_methods, no_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
