/* btfm.glm: fMRI cleaning, the SPM HRF, event regressors and drifts, the GLM (OLS or
 * AR(1)) and per-event betas (LSA, LSS) from Lua. Matrices cross the boundary as flat
 * tables in C order (time-major) with their dimensions given alongside. */
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

/* The index of `name` in `names` (NULL-terminated) plus `first`, or an argument error. */
/* A choice argument (`def` when none or nil), as its position in `names` plus `first`. */
static int option(lua_State *L, int arg, const char *def, const char *const names[], int first)
{
    return first + btfm_lua_check_choice(L, arg, "option", luaL_optstring(L, arg, def), names);
}

static const char *const hrf_kinds[] = {"hrf", "derivative", "dispersion", NULL};
static const char *const hrf_models[] = {"spm", "spm + derivative",
                                         "spm + derivative + dispersion", NULL};
static const char *const filters[] = {"none", "butterworth", "cosine", NULL};
static const char *const standardizations[] = {"none", "zscore_sample", "zscore", "psc", NULL};
static const char *const noise_models[] = {"ols", "ar1", NULL};

/* btfm.glm.spm_hrf(t_r [, oversampling=50, time_length=32, onset=0, kind="hrf"]) -> table */
static int glm_spm_hrf(lua_State *L)
{
    double t_r = luaL_checknumber(L, 1);
    int over = (int)luaL_optinteger(L, 2, 50);
    double length = luaL_optnumber(L, 3, 32.0), onset = luaL_optnumber(L, 4, 0.0);
    int kind = option(L, 5, "hrf", hrf_kinds, 0);
    int64_t n;
    btfm_status st = btfm_glm_hrf(kind, t_r, over, length, onset, NULL, 0, &n);
    if (st) return btfm_lua_fail(L, st);
    double *h = lua_newuserdatauv(L, (size_t)n * sizeof(double), 0);
    if ((st = btfm_glm_hrf(kind, t_r, over, length, onset, h, (size_t)n, &n)))
        return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, h, n);
    return 1;
}

/* btfm.glm.cosine_drift(n_times, t_r [, cutoff=128]) -> flat table, n_columns */
static int glm_cosine_drift(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    double t_r = luaL_checknumber(L, 2), cutoff = luaL_optnumber(L, 3, 128.0);
    int64_t cols;
    btfm_status st = btfm_glm_cosine_drift(n, t_r, cutoff, NULL, 0, &cols);
    if (st) return btfm_lua_fail(L, st);
    double *x = lua_newuserdatauv(L, (size_t)(n * cols) * sizeof(double), 0);
    if ((st = btfm_glm_cosine_drift(n, t_r, cutoff, x, (size_t)(n * cols), &cols)))
        return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, x, n * cols);
    lua_pushinteger(L, (lua_Integer)cols);
    return 2;
}

/* ---- plans: cleaning and designs ---- */

static btfm_status clean_set(void *p, int param, double value)
{
    return btfm_glm_clean_plan_set_param(p, param, value);
}

static btfm_status clean_get(const void *p, int param, double *value)
{
    return btfm_glm_clean_plan_get_param(p, param, value);
}

static void clean_free(void *p) { btfm_glm_clean_plan_free(p); }

static void describe_t_r(lua_State *L, double t_r) { lua_pushfstring(L, "t_r %f s", t_r); }

static void clean_describe(lua_State *L, void *p)
{
    double t_r = 0;
    btfm_glm_clean_plan_get_param(p, BTFM_CLEAN_PARAM_T_R, &t_r);
    describe_t_r(L, t_r);
}

static const btfm_lua_type clean_plan_type = {
    "btfm.glm.clean_plan", BTFM_OBJECT_CLEAN_PLAN, clean_set, clean_get, clean_free,
    clean_describe,
};

static btfm_status design_set(void *p, int param, double value)
{
    return btfm_glm_design_plan_set_param(p, param, value);
}

static btfm_status design_get(const void *p, int param, double *value)
{
    return btfm_glm_design_plan_get_param(p, param, value);
}

static void design_free(void *p) { btfm_glm_design_plan_free(p); }

static void design_describe(lua_State *L, void *p)
{
    double t_r = 0;
    btfm_glm_design_plan_get_param(p, BTFM_DESIGN_PARAM_T_R, &t_r);
    describe_t_r(L, t_r);
}

static const btfm_lua_type design_plan_type = {
    "btfm.glm.design_plan", BTFM_OBJECT_DESIGN_PLAN, design_set, design_get, design_free,
    design_describe,
};

/* A new clean plan in a box on the stack, or the error values pushed (their count). */
static int new_clean_plan(lua_State *L, btfm_glm_clean_plan **out)
{
    btfm_lua_box *box = btfm_lua_new_box(L, &clean_plan_type);
    btfm_status st = btfm_glm_clean_plan_new(out);
    if (st) return btfm_lua_fail(L, st);
    box->handle = *out;
    return 0;
}

/* btfm.glm.clean_plan([params]) -> plan; params as btfm.param_info("clean_plan") names
 * them ({t_r = 2, filter = 2, high_pass_hz = 0.01, ...}). */
static int glm_clean_plan(lua_State *L)
{
    btfm_glm_clean_plan *p;
    int pushed = new_clean_plan(L, &p);
    if (!pushed) pushed = btfm_lua_set_params(L, 1, &clean_plan_type, p);
    return pushed ? pushed : 1;
}

/* Clean values (argument `values`), n_times, n_voxels (the next two) with the plan;
 * confounds (a flat n_times x n_confounds table) may be given. Pushes the flat result. */
static int run_clean(lua_State *L, btfm_glm_clean_plan *p, int values, const float *conf,
                     lua_Integer n_conf)
{
    lua_Integer t = luaL_checkinteger(L, values + 1), v = luaL_checkinteger(L, values + 2);
    const float *x = btfm_lua_check_matrix(L, values, t, v, 0);
    float *out = lua_newuserdatauv(L, (size_t)(t * v) * sizeof(float), 0);
    btfm_status st = btfm_glm_clean_plan_run(p, out, x, t, v, conf, n_conf);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, t * v);
    return 1;
}

/* plan:run(values, n_times, n_voxels [, confounds, n_confounds]) -> flat table */
static int clean_plan_run(lua_State *L)
{
    lua_settop(L, 6);
    btfm_glm_clean_plan *p = btfm_lua_check_handle(L, 1, &clean_plan_type);
    lua_Integer t = luaL_checkinteger(L, 3), n_conf = luaL_optinteger(L, 6, 0);
    const float *conf = n_conf > 0 ? btfm_lua_check_matrix(L, 5, t, n_conf, 0) : NULL;
    return run_clean(L, p, 2, conf, n_conf);
}

/* btfm.glm.clean(values, n_times, n_voxels, t_r [, options]) -> flat table; options:
 * detrend (1; -1 for none), filter ("none", "butterworth", "cosine"), high_pass and
 * low_pass (Hz), standardize ("zscore_sample", "zscore", "psc", "none"), confounds (a
 * flat n_times x n_confounds table) with n_confounds. One run of a clean plan. */
static int glm_clean(lua_State *L)
{
    lua_settop(L, 5); /* optional arguments as nil, below the blocks pushed later */
    lua_Integer t = luaL_checkinteger(L, 2);
    double values[6] = {luaL_checknumber(L, 4), 1, 0, 0, 0, 1}; /* in btfm_clean_param order */
    const float *conf = NULL;
    lua_Integer n_conf = 0;
    if (!lua_isnil(L, 5)) {
        luaL_checktype(L, 5, LUA_TTABLE);
        values[BTFM_CLEAN_PARAM_DETREND_ORDER] = (double)btfm_lua_opt_field_integer(L, 5, "detrend", 1);
        values[BTFM_CLEAN_PARAM_FILTER] = btfm_lua_check_choice(
            L, 5, "option filter", btfm_lua_opt_field_string(L, 5, "filter", "none"), filters);
        values[BTFM_CLEAN_PARAM_HIGH_PASS_HZ] = btfm_lua_opt_field_number(L, 5, "high_pass", 0.0);
        values[BTFM_CLEAN_PARAM_LOW_PASS_HZ] = btfm_lua_opt_field_number(L, 5, "low_pass", 0.0);
        values[BTFM_CLEAN_PARAM_STANDARDIZE] = btfm_lua_check_choice(
            L, 5, "option standardize",
            btfm_lua_opt_field_string(L, 5, "standardize", "zscore_sample"), standardizations);
        n_conf = btfm_lua_opt_field_integer(L, 5, "n_confounds", 0);
        lua_getfield(L, 5, "confounds");
        if (n_conf > 0) conf = btfm_lua_check_field_matrix(L, 5, "option confounds", t, n_conf, 0);
    }
    btfm_glm_clean_plan *p;
    int pushed = new_clean_plan(L, &p);
    if (pushed) return pushed;
    for (int i = 0; i < 6; i++) {
        btfm_status st = btfm_glm_clean_plan_set_param(p, i, values[i]);
        if (st) return btfm_lua_fail(L, st);
    }
    return run_clean(L, p, 1, conf, n_conf);
}

/* btfm.glm.design_plan([params]) -> plan; params as btfm.param_info("design_plan") names
 * them ({t_r = 2, hrf_model = 2, drift_model = 1, drift_cutoff = 128, ...}). */
static int glm_design_plan(lua_State *L)
{
    btfm_lua_box *box = btfm_lua_new_box(L, &design_plan_type);
    btfm_glm_design_plan *p;
    btfm_status st = btfm_glm_design_plan_new(&p);
    if (st) return btfm_lua_fail(L, st);
    box->handle = p;
    int pushed = btfm_lua_set_params(L, 1, &design_plan_type, p);
    return pushed ? pushed : 1;
}

/* plan:run(onsets, durations, conditions, n_conditions, n_scans [, amplitudes]) -> flat
 * n_scans x n_columns table, n_columns; conditions are 0-based condition numbers. */
static int design_plan_run(lua_State *L)
{
    lua_settop(L, 7);
    btfm_glm_design_plan *p = btfm_lua_check_handle(L, 1, &design_plan_type);
    lua_Integer n_events = luaL_len(L, 2);
    if (luaL_len(L, 3) != n_events) luaL_argerror(L, 3, "one duration per onset expected");
    if (luaL_len(L, 4) != n_events) luaL_argerror(L, 4, "one condition per onset expected");
    int n_conditions = btfm_lua_check_int(L, 5);
    lua_Integer n = luaL_checkinteger(L, 6);
    const double *on = n_events ? btfm_lua_check_matrix(L, 2, n_events, 1, 1) : NULL;
    const double *du = n_events ? btfm_lua_check_matrix(L, 3, n_events, 1, 1) : NULL;
    const double *amp = lua_isnil(L, 7) ? NULL : btfm_lua_check_matrix(L, 7, n_events, 1, 1);
    int *cond = lua_newuserdatauv(L, (size_t)(n_events + 1) * sizeof(int), 0);
    for (lua_Integer e = 0; e < n_events; e++) {
        lua_geti(L, 4, e + 1);
        cond[e] = (int)btfm_lua_check_field_integer(L, 4, "conditions[i]");
        lua_pop(L, 1);
    }
    int64_t cols;
    btfm_status st = btfm_glm_design_plan_run(p, NULL, 0, &cols, on, du, amp, cond, n_events,
                                              n_conditions, n);
    if (st) return btfm_lua_fail(L, st);
    double *out = lua_newuserdatauv(L, (size_t)(n * cols) * sizeof(double), 0);
    st = btfm_glm_design_plan_run(p, out, (size_t)(n * cols), &cols, on, du, amp, cond,
                                  n_events, n_conditions, n);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, (size_t)(n * cols));
    lua_pushinteger(L, (lua_Integer)cols);
    return 2;
}

/* btfm.glm.event_regressors(onsets, durations, t_r, n_scans [, hrf_model="spm",
 * amplitudes, slice_time_ref=0]) -> flat table, n_columns */
static int glm_event_regressors(lua_State *L)
{
    lua_settop(L, 7);
    lua_Integer n_events = luaL_len(L, 1);
    if (luaL_len(L, 2) != n_events) luaL_argerror(L, 2, "one duration per onset expected");
    double t_r = luaL_checknumber(L, 3);
    lua_Integer n = luaL_checkinteger(L, 4);
    int model = option(L, 5, "spm", hrf_models, 1);
    double ref = luaL_optnumber(L, 7, 0.0);
    const double *on = n_events ? btfm_lua_check_matrix(L, 1, n_events, 1, 1) : NULL;
    const double *du = n_events ? btfm_lua_check_matrix(L, 2, n_events, 1, 1) : NULL;
    const double *amp = lua_isnoneornil(L, 6) ? NULL : btfm_lua_check_matrix(L, 6, n_events, 1, 1);
    int cols = btfm_glm_hrf_columns(model);
    if (n < 1) return luaL_argerror(L, 4, "expected at least one scan");
    double *out = lua_newuserdatauv(L, (size_t)(n * cols) * sizeof(double), 0);
    btfm_status st = btfm_glm_event_regressors(on, du, amp, n_events, t_r, n, ref, model, out);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, out, n * cols);
    lua_pushinteger(L, cols);
    return 2;
}

/* btfm.glm.fit(values, n_times, n_voxels, design, n_regressors [, noise="ar1",
 * contrast]) -> betas (n_regressors x n_voxels), residual variance, ar1 [, t] */
static int glm_fit(lua_State *L)
{
    lua_settop(L, 7);
    lua_Integer t = luaL_checkinteger(L, 2), v = luaL_checkinteger(L, 3);
    lua_Integer p = luaL_checkinteger(L, 5);
    int noise = option(L, 6, "ar1", noise_models, 1);
    const float *y = btfm_lua_check_matrix(L, 1, t, v, 0);
    const double *x = btfm_lua_check_matrix(L, 4, t, p, 1);
    const double *c = lua_isnoneornil(L, 7) ? NULL : btfm_lua_check_matrix(L, 7, p, 1, 1);
    float *b = lua_newuserdatauv(L, (size_t)(p * v + 3 * v) * sizeof(float), 0);
    float *var = b + p * v, *ar = var + v, *tv = ar + v;
    btfm_glm *g;
    btfm_status st = btfm_glm_new(&g, x, t, p, noise);
    if (st) return btfm_lua_fail(L, st);
    if (!(st = btfm_glm_fit(g, y, t, v)) && !(st = btfm_glm_betas(g, b, (size_t)(p * v))) &&
        !(st = btfm_glm_residual_variance(g, var, (size_t)v)) &&
        !(st = btfm_glm_ar1(g, ar, (size_t)v)) && c)
        st = btfm_glm_contrast(g, c, p, NULL, NULL, tv);
    btfm_glm_free(g);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, b, p * v);
    btfm_lua_push_floats(L, var, v);
    btfm_lua_push_floats(L, ar, v);
    if (!c) return 3;
    btfm_lua_push_floats(L, tv, v);
    return 4;
}

/* btfm.glm.lss / btfm.glm.lsa(values, n_times, n_voxels, events, n_events [, nuisance,
 * n_nuisance [, conditions (lss only, 0-based)]]) -> flat n_events x n_voxels table */
static int per_event(lua_State *L, int separate)
{
    lua_settop(L, 8);
    lua_Integer t = luaL_checkinteger(L, 2), v = luaL_checkinteger(L, 3);
    lua_Integer e = luaL_checkinteger(L, 5), q = luaL_optinteger(L, 7, 0);
    const float *y = btfm_lua_check_matrix(L, 1, t, v, 0);
    const double *ev = btfm_lua_check_matrix(L, 4, t, e, 1);
    const double *nuis = q > 0 ? btfm_lua_check_matrix(L, 6, t, q, 1) : NULL;
    int *cond = NULL;
    if (separate && !lua_isnoneornil(L, 8)) {
        if (luaL_len(L, 8) != e) luaL_argerror(L, 8, "one condition per event expected");
        cond = lua_newuserdatauv(L, (size_t)e * sizeof(int), 0);
        for (lua_Integer i = 0; i < e; i++) {
            lua_geti(L, 8, i + 1);
            char what[40];
            snprintf(what, sizeof what, "conditions[%lld]", (long long)i + 1);
            cond[i] = (int)btfm_lua_check_field_integer(L, 8, what);
            lua_pop(L, 1);
        }
    }
    float *out = lua_newuserdatauv(L, (size_t)(e * v) * sizeof(float), 0);
    btfm_status st = separate ? btfm_glm_lss(y, t, v, ev, cond, e, nuis, q, out)
                              : btfm_glm_lsa(y, t, v, ev, e, nuis, q, out);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, e * v);
    return 1;
}

static int glm_lss(lua_State *L) { return per_event(L, 1); }
static int glm_lsa(lua_State *L) { return per_event(L, 0); }

static const luaL_Reg glm_functions[] = {
    {"spm_hrf", glm_spm_hrf},
    {"cosine_drift", glm_cosine_drift},
    {"clean", glm_clean},
    {"clean_plan", glm_clean_plan},
    {"design_plan", glm_design_plan},
    {"event_regressors", glm_event_regressors},
    {"fit", glm_fit},
    {"lss", glm_lss},
    {"lsa", glm_lsa},
    {NULL, NULL},
};

void btfm_lua_open_glm(lua_State *L, int module_index)
{
    static const luaL_Reg clean_plan_methods[] = {{"run", clean_plan_run}, {NULL, NULL}};
    static const luaL_Reg design_plan_methods[] = {{"run", design_plan_run}, {NULL, NULL}};
    static const luaL_Reg no_metamethods[] = {{NULL, NULL}};
    btfm_lua_register_type(L, &clean_plan_type, clean_plan_methods, no_metamethods);
    btfm_lua_register_type(L, &design_plan_type, design_plan_methods, no_metamethods);
    luaL_newlib(L, glm_functions);
    lua_setfield(L, module_index, "glm");
}
