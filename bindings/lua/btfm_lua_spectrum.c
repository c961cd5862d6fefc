/* btfm spectral functions from Lua: FFT, FIR filtering, Welch and multitaper PSDs, band
 * power, ERP features. Signals cross the boundary as flat Lua tables in C order
 * (time-major: sample 1 of every channel, then sample 2 ...) with their dimensions
 * given alongside; results come back the same way. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

static double *new_doubles(lua_State *L, size_t n)
{
    return (double *)lua_newuserdatauv(L, (n ? n : 1) * sizeof(double), 0);
}

/* Run a plan of length n forward (rfft) or backward (irfft) from `in` into `out`. */
static btfm_status transform(lua_Integer n, int inverse, const double *in, double *out)
{
    btfm_fft *plan;
    btfm_status st = btfm_fft_new(&plan, n);
    if (st) return st;
    st = inverse ? btfm_fft_irfft(plan, in, out) : btfm_fft_rfft(plan, in, out);
    btfm_fft_free(plan);
    return st;
}

/* btfm.rfft(values) -> interleaved (re, im) table of n // 2 + 1 bins */
static int module_rfft(lua_State *L)
{
    lua_Integer n;
    double *x = btfm_lua_check_numbers(L, 1, -1, 1, &n);
    double *out = new_doubles(L, 2 * (size_t)(n / 2 + 1));
    btfm_status st = transform(n, 0, x, out);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, 2 * (size_t)(n / 2 + 1));
    return 1;
}

/* btfm.irfft(bins, n) -> n samples; bins interleaved (re, im), n // 2 + 1 of them */
static int module_irfft(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 2);
    if (n < 1 || n > (1 << 30)) luaL_argerror(L, 2, "expected a length of 1 to 2^30");
    double *bins = btfm_lua_check_numbers(L, 1, 2 * (n / 2 + 1), 1, NULL);
    double *out = new_doubles(L, (size_t)n);
    btfm_status st = transform(n, 1, bins, out);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)n);
    return 1;
}

/* ---- Welch plans ---- */

static btfm_status welch_set(void *p, int param, double value)
{
    return btfm_welch_plan_set_param(p, param, value);
}

static btfm_status welch_get(const void *p, int param, double *value)
{
    return btfm_welch_plan_get_param(p, param, value);
}

static void welch_free(void *p) { btfm_welch_plan_free(p); }

static void welch_describe(lua_State *L, void *p)
{
    double window = 0, nperseg = 0;
    btfm_welch_plan_get_param(p, BTFM_WELCH_PARAM_WINDOW, &window);
    btfm_welch_plan_get_param(p, BTFM_WELCH_PARAM_NPERSEG, &nperseg);
    lua_pushfstring(L, "%s, nperseg %d", btfm_window_name((int)window), (int)nperseg);
}

static const btfm_lua_type welch_plan_type = {
    "btfm.welch_plan", BTFM_OBJECT_WELCH_PLAN, welch_set, welch_get, welch_free, welch_describe,
};

/* A new plan in a box on the stack, or the error values pushed (returns their count). */
static int new_welch_plan(lua_State *L, btfm_welch_plan **out)
{
    btfm_lua_box *box = btfm_lua_new_box(L, &welch_plan_type);
    btfm_status st = btfm_welch_plan_new(out);
    if (st) return btfm_lua_fail(L, st);
    box->handle = *out;
    return 0;
}

/* btfm.welch_plan([params]) -> plan; params as btfm.param_info("welch_plan") names them
 * ({window = 4, kaiser_beta = 5, nperseg = 512, ...}). */
static int module_welch_plan(lua_State *L)
{
    btfm_welch_plan *p;
    int pushed = new_welch_plan(L, &p);
    if (!pushed) pushed = btfm_lua_set_params(L, 1, &welch_plan_type, p);
    return pushed ? pushed : 1;
}

/* Run the plan at the top of the stack's box on values (argument 1), n_times, n_channels
 * and sfreq (arguments `first` .. first + 2): pushes psd (n_freqs x n_channels, flat) and
 * freqs. */
static int run_welch(lua_State *L, btfm_welch_plan *p, int values, int first)
{
    lua_Integer t = luaL_checkinteger(L, first), c = luaL_checkinteger(L, first + 1);
    double sfreq = luaL_checknumber(L, first + 2);
    if (t < 1 || c < 1 || c > INT32_MAX / t) luaL_argerror(L, first, "bad dimensions");
    float *x = btfm_lua_check_numbers(L, values, t * c, 0, NULL);
    int64_t n_freqs = btfm_welch_plan_n_freqs(p, t);
    if (n_freqs < 0) return btfm_lua_fail(L, (int)n_freqs);
    double *psd = new_doubles(L, (size_t)n_freqs * (size_t)c), *freqs = new_doubles(L, (size_t)n_freqs);
    btfm_status st = btfm_welch_plan_run(p, psd, freqs, x, t, (int)c, sfreq);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, psd, (size_t)n_freqs * (size_t)c);
    btfm_lua_push_doubles(L, freqs, (size_t)n_freqs);
    return 2;
}

/* plan:run(values, n_times, n_channels, sfreq) -> psd, freqs */
static int welch_plan_run(lua_State *L)
{
    btfm_welch_plan *p = btfm_lua_check_handle(L, 1, &welch_plan_type);
    return run_welch(L, p, 2, 3);
}

/* plan:n_freqs(n_times) -> frequencies of a signal of n_times samples */
static int welch_plan_n_freqs(lua_State *L)
{
    btfm_welch_plan *p = btfm_lua_check_handle(L, 1, &welch_plan_type);
    int64_t n = btfm_welch_plan_n_freqs(p, luaL_checkinteger(L, 2));
    if (n < 0) return btfm_lua_fail(L, (int)n);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* btfm.welch(values, n_times, n_channels, sfreq [, {window=, kaiser_beta=, nperseg=,
 * noverlap=, nfft=, detrend=, scaling=, average=}]) -> psd (n_freqs x n_channels, flat),
 * freqs: one run of a Welch plan of those options. */
static int module_welch(lua_State *L)
{
    static const char *const windows[] = {"hann", "hamming", "blackman", "boxcar", "kaiser", NULL};
    static const char *const detrends[] = {"none", "constant", "linear", NULL};
    static const char *const scalings[] = {"density", "spectrum", NULL};
    static const char *const averages[] = {"mean", "median", NULL};
    lua_settop(L, 5);
    if (!lua_isnil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
    const double values[][2] = {
        {BTFM_WELCH_PARAM_WINDOW, btfm_lua_check_choice(L, 5, "option window",
            btfm_lua_opt_field_string(L, 5, "window", "hann"), windows)},
        {BTFM_WELCH_PARAM_KAISER_BETA, btfm_lua_opt_field_number(L, 5, "kaiser_beta", 8.6)},
        {BTFM_WELCH_PARAM_DETREND, btfm_lua_check_choice(L, 5, "option detrend",
            btfm_lua_opt_field_string(L, 5, "detrend", "constant"), detrends)},
        {BTFM_WELCH_PARAM_SCALING, btfm_lua_check_choice(L, 5, "option scaling",
            btfm_lua_opt_field_string(L, 5, "scaling", "density"), scalings)},
        {BTFM_WELCH_PARAM_AVERAGE, btfm_lua_check_choice(L, 5, "option average",
            btfm_lua_opt_field_string(L, 5, "average", "mean"), averages)},
        {BTFM_WELCH_PARAM_NPERSEG, (double)btfm_lua_opt_field_integer(L, 5, "nperseg", 0)},
        {BTFM_WELCH_PARAM_NOVERLAP, (double)btfm_lua_opt_field_integer(L, 5, "noverlap", -1)},
        {BTFM_WELCH_PARAM_NFFT, (double)btfm_lua_opt_field_integer(L, 5, "nfft", 0)},
    };
    btfm_welch_plan *p;
    int pushed = new_welch_plan(L, &p);
    if (pushed) return pushed;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        btfm_status st = btfm_welch_plan_set_param(p, (int)values[i][0], values[i][1]);
        if (st) return btfm_lua_fail(L, st);
    }
    return run_welch(L, p, 1, 2);
}

/* btfm.psd_multitaper(values, n_times, n_channels, sfreq [, bandwidth]) -> psd, freqs,
 * n_tapers */
static int module_psd_multitaper(lua_State *L)
{
    lua_Integer t = luaL_checkinteger(L, 2), c = luaL_checkinteger(L, 3);
    double sfreq = luaL_checknumber(L, 4), bandwidth = luaL_optnumber(L, 5, 0.0);
    if (t < 1 || c < 1 || c > INT32_MAX / t) luaL_argerror(L, 2, "bad dimensions");
    float *x = btfm_lua_check_numbers(L, 1, t * c, 0, NULL);
    size_t n_freqs = (size_t)t / 2 + 1;
    double *psd = new_doubles(L, n_freqs * (size_t)c), *freqs = new_doubles(L, n_freqs);
    int k = 0;
    btfm_status st = btfm_psd_multitaper(x, t, (int)c, sfreq, bandwidth, 1, 0, &k, psd, freqs);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, psd, n_freqs * (size_t)c);
    btfm_lua_push_doubles(L, freqs, n_freqs);
    lua_pushinteger(L, k);
    return 3;
}

/* btfm.band_power(psd, freqs, n_channels, bands [, relative]) -> flat n_bands x
 * n_channels; bands is a list of names ("alpha") and/or {fmin, fmax} pairs */
static int module_band_power(lua_State *L)
{
    lua_Integer n_freqs, c = luaL_checkinteger(L, 3);
    unsigned flags = lua_toboolean(L, 5) ? BTFM_SPECTRUM_RELATIVE : 0; /* before any push */
    double *freqs = btfm_lua_check_numbers(L, 2, -1, 1, &n_freqs);
    if (c < 1 || c > INT32_MAX / n_freqs) luaL_argerror(L, 3, "bad channel count");
    double *psd = btfm_lua_check_numbers(L, 1, n_freqs * c, 1, NULL);
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_Integer n_bands = luaL_len(L, 4);
    if (n_bands < 1 || n_bands > 4096) luaL_argerror(L, 4, "expected 1 to 4096 bands");
    double *edges = new_doubles(L, 2 * (size_t)n_bands);
    for (lua_Integer b = 0; b < n_bands; b++) {
        lua_geti(L, 4, b + 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *name = lua_tostring(L, -1), *known;
            int found = -1;
            for (int k = 0; (known = btfm_band_name(k)) != NULL; k++)
                if (strcmp(known, name) == 0) found = k;
            if (found < 0) {
                btfm_lua_push_names(L, btfm_band_name, 0);
                return luaL_argerror(L, 4, lua_pushfstring(L, "unknown band '%s' (known: %s)",
                                                           name, lua_tostring(L, -1)));
            }
            btfm_band_edges(found, &edges[2 * b], &edges[2 * b + 1]);
        } else if (lua_type(L, -1) == LUA_TTABLE) {
            char what[40];
            lua_geti(L, -1, 1);
            snprintf(what, sizeof what, "bands[%lld][1]", (long long)b + 1);
            edges[2 * b] = btfm_lua_check_field_number(L, 4, what);
            lua_geti(L, -2, 2);
            snprintf(what, sizeof what, "bands[%lld][2]", (long long)b + 1);
            edges[2 * b + 1] = btfm_lua_check_field_number(L, 4, what);
            lua_pop(L, 2);
        } else {
            return luaL_argerror(L, 4, "each band is a name or a {fmin, fmax} pair");
        }
        lua_pop(L, 1);
    }
    double *power = new_doubles(L, (size_t)(n_bands * c));
    btfm_status st = btfm_band_power(psd, freqs, n_freqs, (int)c, edges, (int)n_bands, flags,
                                     power);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, power, (size_t)(n_bands * c));
    return 1;
}

/* btfm.fir_apply(values, n_times, n_channels, taps [, mode="full"|"same"|"valid"|
 * "zero-phase"]) -> flat output, its n_times */
static int module_fir_apply(lua_State *L)
{
    static const char *const modes[] = {"full", "same", "valid", "zero-phase", NULL};
    lua_Integer t = luaL_checkinteger(L, 2), c = luaL_checkinteger(L, 3), n_taps;
    if (t < 1 || c < 1 || c > INT32_MAX / t) luaL_argerror(L, 2, "bad dimensions");
    int mode = btfm_lua_check_choice(L, 5, "mode", luaL_optstring(L, 5, "full"), modes);
    float *x = btfm_lua_check_numbers(L, 1, t * c, 0, NULL);
    double *taps = btfm_lua_check_numbers(L, 4, -1, 1, &n_taps);
    int64_t n_out = mode == 3 ? t : btfm_fir_output_length(t, n_taps, mode);
    if (n_out < 0) return btfm_lua_fail(L, (int)n_out);
    float *out = (float *)lua_newuserdatauv(L, (size_t)(n_out * c) * sizeof(float), 0);
    btfm_status st = mode == 3 ? btfm_fir_zero_phase(x, t, (int)c, taps, n_taps, 0, out)
                               : btfm_fir_apply(x, t, (int)c, taps, n_taps, mode, 0, out);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, (size_t)(n_out * c));
    lua_pushinteger(L, (lua_Integer)n_out);
    return 2;
}

/* btfm.erp_mean_amplitude(values, n_epochs, n_times, n_channels, sfreq, tmin, t_start,
 * t_stop) -> flat n_epochs x n_channels; btfm.erp_peak(..., t_stop [, mode]) ->
 * amplitudes, latencies */
static int erp_common(lua_State *L, int peak)
{
    static const char *const modes[] = {"abs", "pos", "neg", NULL};
    lua_Integer e = luaL_checkinteger(L, 2), t = luaL_checkinteger(L, 3);
    lua_Integer c = luaL_checkinteger(L, 4);
    double sfreq = luaL_checknumber(L, 5), tmin = luaL_checknumber(L, 6);
    double t_start = luaL_checknumber(L, 7), t_stop = luaL_checknumber(L, 8);
    int mode = peak ? btfm_lua_check_choice(L, 9, "mode", luaL_optstring(L, 9, "abs"), modes) : 0;
    if (e < 1 || t < 1 || c < 1 || t > INT32_MAX / c || e > INT32_MAX / (t * c))
        luaL_argerror(L, 2, "bad dimensions");
    float *x = btfm_lua_check_numbers(L, 1, e * t * c, 0, NULL);
    double *amplitude = new_doubles(L, (size_t)(e * c)), *latency = new_doubles(L, (size_t)(e * c));
    btfm_status st = peak ? btfm_erp_peak(x, e, t, (int)c, sfreq, tmin, t_start, t_stop, mode, 0,
                                          amplitude, latency)
                          : btfm_erp_mean_amplitude(x, e, t, (int)c, sfreq, tmin, t_start,
                                                    t_stop, 0, amplitude);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, amplitude, (size_t)(e * c));
    if (!peak) return 1;
    btfm_lua_push_doubles(L, latency, (size_t)(e * c));
    return 2;
}

static int module_erp_mean_amplitude(lua_State *L) { return erp_common(L, 0); }
static int module_erp_peak(lua_State *L) { return erp_common(L, 1); }

void btfm_lua_open_spectrum(lua_State *L, int module_index)
{
    static const luaL_Reg welch_plan_methods[] = {
        {"run", welch_plan_run},
        {"n_freqs", welch_plan_n_freqs},
        {NULL, NULL},
    };
    static const luaL_Reg no_metamethods[] = {{NULL, NULL}};
    btfm_lua_register_type(L, &welch_plan_type, welch_plan_methods, no_metamethods);
    static const luaL_Reg functions[] = {
        {"rfft", module_rfft},
        {"irfft", module_irfft},
        {"welch", module_welch},
        {"welch_plan", module_welch_plan},
        {"psd_multitaper", module_psd_multitaper},
        {"band_power", module_band_power},
        {"fir_apply", module_fir_apply},
        {"erp_mean_amplitude", module_erp_mean_amplitude},
        {"erp_peak", module_erp_peak},
        {NULL, NULL},
    };
    for (const luaL_Reg *f = functions; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, module_index, f->name);
    }
}
