/* btfm fNIRS functions from Lua: optical density, the modified Beer-Lambert law, short
 * channels and their regression, and the scalp coupling index of datasets (the channels'
 * source-detector geometry gives pairs, wavelengths and distances), plus Prahl's
 * extinction coefficients. Derived datasets are new btfm.dataset handles. */
#include <math.h>
#include "btfm_lua.h"

typedef btfm_status (*derive_fn)(btfm_dataset **out, btfm_dataset *ds, double value);

static btfm_status od_adapter(btfm_dataset **out, btfm_dataset *ds, double value)
{
    (void)value;
    return btfm_dataset_optical_density(out, ds);
}

/* A new dataset box holding derive(ds, value); nil, message, status on failure. */
static int derive(lua_State *L, derive_fn fn, double value)
{
    btfm_dataset *ds = btfm_lua_check_dataset(L, 1);
    btfm_lua_box *box = btfm_lua_new_dataset_box(L);
    btfm_dataset *out;
    btfm_status st = fn(&out, ds, value);
    if (st) return btfm_lua_fail(L, st);
    box->handle = out;
    return 1;
}

/* btfm.optical_density(ds) -> dataset (continuous-wave amplitudes as optical densities) */
static int l_optical_density(lua_State *L) { return derive(L, od_adapter, 0); }

/* btfm.beer_lambert(ds [, ppf = 6]) -> dataset with "S1_D1 hbo", "S1_D1 hbr" in M */
static int l_beer_lambert(lua_State *L)
{
    return derive(L, btfm_dataset_beer_lambert, luaL_optnumber(L, 2, 6.0));
}

/* btfm.short_channel_regression(ds [, max_distance = 0.01]) -> dataset */
static int l_short_channel_regression(lua_State *L)
{
    return derive(L, btfm_dataset_short_channel_regression, luaL_optnumber(L, 2, 0.01));
}

static void push_per_channel(lua_State *L, const double *v, int n, int as_boolean)
{
    lua_createtable(L, n, 0);
    for (int c = 0; c < n; c++) {
        if (as_boolean) lua_pushboolean(L, v[c] != 0);
        else lua_pushnumber(L, v[c]);
        lua_rawseti(L, -2, c + 1);
    }
}

/* btfm.scalp_coupling_index(ds [, {l_freq, h_freq, l_trans, h_trans}]) -> one number a
 * channel (NaN for channels that are not optical densities) */
static int l_scalp_coupling_index(lua_State *L)
{
    btfm_dataset *ds = btfm_lua_check_dataset(L, 1);
    const double *band = lua_isnoneornil(L, 2) ? NULL : (const double *)btfm_lua_check_numbers(L, 2, 4, 1, NULL);
    int n = btfm_dataset_n_channels(ds);
    double *sci = (double *)lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *sci, 0);
    btfm_status st = btfm_dataset_scalp_coupling_index(ds, band, sci);
    if (st) return btfm_lua_fail(L, st);
    push_per_channel(L, sci, n, 0);
    return 1;
}

/* btfm.source_detector_distances(ds) -> metres a channel (NaN for other channels) */
static int l_source_detector_distances(lua_State *L)
{
    btfm_dataset *ds = btfm_lua_check_dataset(L, 1);
    int n = btfm_dataset_n_channels(ds);
    double *d = (double *)lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *d, 0);
    btfm_status st = btfm_dataset_nirs_distances(ds, d);
    if (st) return btfm_lua_fail(L, st);
    push_per_channel(L, d, n, 0);
    return 1;
}

/* btfm.short_channels(ds [, max_distance = 0.01]) -> a boolean a channel */
static int l_short_channels(lua_State *L)
{
    btfm_dataset *ds = btfm_lua_check_dataset(L, 1);
    double max_distance = luaL_optnumber(L, 2, 0.01);
    int n = btfm_dataset_n_channels(ds);
    unsigned char *flags = (unsigned char *)lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1), 0);
    double *v = (double *)lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *v, 0);
    btfm_status st = btfm_dataset_short_channels(ds, max_distance, flags);
    if (st) return btfm_lua_fail(L, st);
    for (int c = 0; c < n; c++) v[c] = flags[c];
    push_per_channel(L, v, n, 1);
    return 1;
}

/* btfm.extinction(wavelength_nm) -> HbO, HbR molar extinction (cm^-1/M, Prahl) */
static int l_extinction(lua_State *L)
{
    double hbo, hbr;
    btfm_status st = btfm_fnirs_extinction(luaL_checknumber(L, 1), &hbo, &hbr);
    if (st) return btfm_lua_fail(L, st);
    lua_pushnumber(L, hbo);
    lua_pushnumber(L, hbr);
    return 2;
}

static const luaL_Reg module_functions[] = {
    {"optical_density", l_optical_density},
    {"beer_lambert", l_beer_lambert},
    {"short_channel_regression", l_short_channel_regression},
    {"scalp_coupling_index", l_scalp_coupling_index},
    {"source_detector_distances", l_source_detector_distances},
    {"short_channels", l_short_channels},
    {"extinction", l_extinction},
    {NULL, NULL},
};

void btfm_lua_open_fnirs(lua_State *L, int module_index)
{
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
