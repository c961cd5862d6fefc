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

/* ---- epochs plans ---- */

static btfm_status epochs_set(void *p, int param, double value)
{
    return btfm_epochs_plan_set_param(p, param, value);
}

static btfm_status epochs_get(const void *p, int param, double *value)
{
    return btfm_epochs_plan_get_param(p, param, value);
}

static void epochs_free(void *p) { btfm_epochs_plan_free(p); }

static void epochs_describe(lua_State *L, void *p)
{
    double tmin = 0, tmax = 0;
    btfm_epochs_plan_get_param(p, BTFM_EPOCHS_PARAM_TMIN, &tmin);
    btfm_epochs_plan_get_param(p, BTFM_EPOCHS_PARAM_TMAX, &tmax);
    lua_pushfstring(L, "%f .. %f s", tmin, tmax);
}

static const btfm_lua_type epochs_plan_type = {
    "btfm.epochs_plan", BTFM_OBJECT_EPOCHS_PLAN, epochs_set, epochs_get, epochs_free,
    epochs_describe,
};

/* btfm.epochs_plan([params]) -> plan; params as btfm.param_info("epochs_plan") names them
 * ({tmin = -0.1, tmax = 0.4, baseline = false, ...}). */
static int l_epochs_plan(lua_State *L)
{
    btfm_lua_box *box = btfm_lua_new_box(L, &epochs_plan_type);
    btfm_epochs_plan *p;
    btfm_status st = btfm_epochs_plan_new(&p);
    if (st) return btfm_lua_fail(L, st);
    box->handle = p;
    int pushed = btfm_lua_set_params(L, 1, &epochs_plan_type, p);
    return pushed ? pushed : 1;
}

/* plan:set_reject(limits) -> true: one peak-to-peak limit per channel (0: none), nil to
 * clear; plan:set_reject_spec("eeg=100e-6") -> true: by channel type, for datasets. */
static int epochs_set_reject(lua_State *L)
{
    btfm_epochs_plan *p = btfm_lua_check_handle(L, 1, &epochs_plan_type);
    lua_Integer n = 0;
    double *limits = lua_isnoneornil(L, 2) ? NULL : btfm_lua_check_numbers(L, 2, -1, 1, &n);
    if (n > INT32_MAX) return luaL_argerror(L, 2, "too many limits");
    btfm_status st = btfm_epochs_plan_set_reject(p, limits, (int)n);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int epochs_set_reject_spec(lua_State *L)
{
    btfm_epochs_plan *p = btfm_lua_check_handle(L, 1, &epochs_plan_type);
    btfm_status st = btfm_epochs_plan_set_reject_spec(p, btfm_lua_opt_cstring(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* plan:n_times(sfreq) -> samples per epoch */
static int epochs_n_times(lua_State *L)
{
    btfm_epochs_plan *p = btfm_lua_check_handle(L, 1, &epochs_plan_type);
    int64_t n = btfm_epochs_plan_n_times(p, luaL_checknumber(L, 2));
    if (n < 0) return btfm_lua_fail(L, (int)n);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* Integers of the table at `arg` (0-based indices), as int64 in a new userdata. */
static int64_t *check_indices(lua_State *L, int arg, lua_Integer *n)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    *n = luaL_len(L, arg);
    int64_t *v = lua_newuserdatauv(L, (size_t)(*n + 1) * sizeof(int64_t), 0);
    for (lua_Integer i = 0; i < *n; i++) {
        lua_geti(L, arg, i + 1);
        v[i] = btfm_lua_check_field_integer(L, arg, "events[i]");
        lua_pop(L, 1);
    }
    return v;
}

/* Push the epochs (flat n_kept x n_times x n_channels), n_kept and the reason of each
 * event (-1 kept, -2 out of bounds, else the 0-based channel over its limit). */
static int push_epochs(lua_State *L, const float *out, int64_t n_kept, int64_t n_times,
                       int n_channels, const int *reason, lua_Integer n_events)
{
    btfm_lua_push_floats(L, out, (size_t)(n_kept * n_times) * (size_t)n_channels);
    lua_pushinteger(L, (lua_Integer)n_kept);
    lua_createtable(L, (int)n_events, 0);
    for (lua_Integer e = 0; e < n_events; e++) {
        lua_pushinteger(L, reason[e]);
        lua_rawseti(L, -2, e + 1);
    }
    return 3;
}

/* plan:run(values, n_times, n_channels, sfreq, event_samples) -> epochs, n_kept, reasons */
static int epochs_run(lua_State *L)
{
    btfm_epochs_plan *p = btfm_lua_check_handle(L, 1, &epochs_plan_type);
    lua_Integer t = luaL_checkinteger(L, 3), c = luaL_checkinteger(L, 4), n_events;
    double sfreq = luaL_checknumber(L, 5);
    if (t < 1 || c < 1 || c > INT32_MAX / t) return luaL_argerror(L, 3, "bad dimensions");
    const float *x = btfm_lua_check_numbers(L, 2, t * c, 0, NULL);
    const int64_t *events = check_indices(L, 6, &n_events);
    int64_t n_times = btfm_epochs_plan_n_times(p, sfreq);
    if (n_times < 0) return btfm_lua_fail(L, (int)n_times);
    float *out = lua_newuserdatauv(L, (size_t)((n_events ? n_events : 1) * n_times * c) *
                                   sizeof(float), 0);
    int *reason = lua_newuserdatauv(L, (size_t)(n_events + 1) * sizeof(int), 0);
    int64_t n_kept;
    btfm_status st = btfm_epochs_plan_run(p, out, &n_kept, NULL, reason, x, t, (int)c, sfreq,
                                          events, n_events);
    if (st) return btfm_lua_fail(L, st);
    return push_epochs(L, out, n_kept, n_times, (int)c, reason, n_events);
}

/* plan:run_dataset(ds [, events]) -> epochs, n_kept, reasons; events are 0-based indices
 * into the dataset's events (nil: all of them). */
static int epochs_run_dataset(lua_State *L)
{
    lua_settop(L, 3);
    btfm_epochs_plan *p = btfm_lua_check_handle(L, 1, &epochs_plan_type);
    btfm_dataset *ds = btfm_lua_check_dataset(L, 2);
    lua_Integer n_events = btfm_dataset_n_events(ds);
    const int64_t *events = lua_isnil(L, 3) ? NULL : check_indices(L, 3, &n_events);
    int n_channels = btfm_dataset_n_channels(ds);
    int64_t n_times = btfm_epochs_plan_n_times(p, btfm_dataset_sfreq(ds));
    if (n_times < 0) return btfm_lua_fail(L, (int)n_times);
    float *out = lua_newuserdatauv(L, (size_t)((n_events ? n_events : 1) * n_times) *
                                   (size_t)n_channels * sizeof(float), 0);
    int *reason = lua_newuserdatauv(L, (size_t)(n_events + 1) * sizeof(int), 0);
    int64_t n_kept;
    btfm_status st = btfm_epochs_plan_run_dataset(p, out, &n_kept, NULL, reason, ds, events,
                                                  n_events);
    if (st) return btfm_lua_fail(L, st);
    return push_epochs(L, out, n_kept, n_times, n_channels, reason, n_events);
}

static const luaL_Reg epochs_plan_methods[] = {
    {"set_reject", epochs_set_reject},
    {"set_reject_spec", epochs_set_reject_spec},
    {"n_times", epochs_n_times},
    {"run", epochs_run},
    {"run_dataset", epochs_run_dataset},
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
    {"epochs_plan", l_epochs_plan},
    {NULL, NULL},
};

void btfm_lua_open_signal(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &iir_type, iir_methods, no_metamethods);
    btfm_lua_register_type(L, &epochs_plan_type, epochs_plan_methods, no_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
