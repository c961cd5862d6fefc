/* btfm.cothb_tuner: tuning a controller's knobs against task reward from Lua. Episodes
 * are a Lua function(controller, problem) -> reward; the controller it receives is the
 * tuner's own, closed again when the function returns. */
#include <math.h>
#include "btfm_lua.h"

static btfm_status set_param_adapter(void *handle, int param, double value)
{
    return btfm_cothb_tuner_set_param((btfm_cothb_tuner *)handle, param, value);
}

static btfm_status get_param_adapter(const void *handle, int param, double *value)
{
    return btfm_cothb_tuner_get_param((const btfm_cothb_tuner *)handle, param, value);
}

static void free_adapter(void *handle) { btfm_cothb_tuner_free((btfm_cothb_tuner *)handle); }

static void describe(lua_State *L, void *handle)
{
    lua_pushfstring(L, "%d knobs", btfm_cothb_tuner_n_knobs((const btfm_cothb_tuner *)handle));
}

static const btfm_lua_type tuner_type = {
    "btfm.cothb_tuner", BTFM_OBJECT_COTHB_TUNER, set_param_adapter, get_param_adapter,
    free_adapter, describe,
};

static btfm_cothb_tuner *check_tuner(lua_State *L, int arg)
{
    return (btfm_cothb_tuner *)btfm_lua_check_handle(L, arg, &tuner_type);
}

/* t:add_knob(name, {values}) */
static int tuner_add_knob(lua_State *L)
{
    btfm_cothb_tuner *t = check_tuner(L, 1);
    const char *name = btfm_lua_check_cstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    int param;
    btfm_status st = btfm_param_find(BTFM_OBJECT_COTHB, name, &param);
    if (st) return btfm_lua_fail(L, st);
    lua_Integer n = luaL_len(L, 3);
    double values[64];
    if (n < 1 || n > 64) return luaL_argerror(L, 3, "expected 1 to 64 values");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 3, i);
        values[i - 1] = btfm_lua_check_field_number(L, 3, "values");
        lua_pop(L, 1);
    }
    st = btfm_cothb_tuner_add_knob(t, param, values, (int)n);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* The episode callback's view of the Lua function at stack index `fn`. */
typedef struct lua_episode {
    lua_State *L;
    int fn;
    int failed;        /* the function raised or returned no number: its error is on the stack */
    btfm_lua_box *box; /* the controller lent to the running episode */
} lua_episode;

/* Inside lua_pcall (nothing may raise through the library's frames): episode function,
 * the lua_episode, the controller and the problem in; the reward out. */
static int protected_episode(lua_State *L)
{
    lua_episode *e = lua_touserdata(L, 2);
    lua_Integer problem = lua_tointeger(L, 4);
    e->box = btfm_lua_new_cothb_box(L);
    e->box->handle = lua_touserdata(L, 3);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_pushinteger(L, problem);
    lua_call(L, 2, 1);
    int isnum;
    lua_Number reward = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
        return luaL_error(L, "btfm.cothb_tuner: the episode for problem %I returned %s; "
                          "expected the reward (a number)", problem, luaL_typename(L, -1));
    lua_pushnumber(L, reward);
    return 1;
}

static int call_episode(btfm_cothb *c, int64_t problem, double *reward, void *user)
{
    lua_episode *e = user;
    lua_State *L = e->L;
    lua_pushcfunction(L, protected_episode);
    lua_pushvalue(L, e->fn);
    lua_pushlightuserdata(L, e);
    lua_pushlightuserdata(L, c);
    lua_pushinteger(L, (lua_Integer)problem);
    e->box = NULL;
    int rc = lua_pcall(L, 4, 1, 0);
    /* The controller belongs to the tuner: closed for Lua once the episode is over. */
    if (e->box) e->box->handle = NULL;
    if (rc != LUA_OK) {
        e->failed = 1; /* the error stays on the stack */
        return BTFM_E_CANCELLED;
    }
    *reward = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return BTFM_OK;
}

static void push_report(lua_State *L, const double *report)
{
    lua_createtable(L, 0, BTFM_COTHB_TUNING_SETTINGS + 1);
    for (int i = 0; i <= BTFM_COTHB_TUNING_SETTINGS; i++) {
        lua_pushnumber(L, report[i]);
        lua_setfield(L, -2, btfm_cothb_tuning_name(i));
    }
}

/* t:result() -> report table, or nil, message, status before a run */
static int tuner_result(lua_State *L)
{
    double report[BTFM_COTHB_TUNING_SETTINGS + 1];
    btfm_status st = btfm_cothb_tuner_result(check_tuner(L, 1), report,
                                             BTFM_COTHB_TUNING_SETTINGS + 1);
    if (st) return btfm_lua_fail(L, st);
    push_report(L, report);
    return 1;
}

/* t:run(base, episode) -> report table; an error raised by episode is raised again */
static int tuner_run(lua_State *L)
{
    btfm_cothb_tuner *t = check_tuner(L, 1);
    btfm_cothb *base = btfm_lua_check_cothb(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_settop(L, 3);
    lua_episode e = {L, 3, 0, NULL};
    btfm_status st = btfm_cothb_tuner_run(t, base, call_episode, &e);
    if (e.failed) return lua_error(L); /* the episode's own error, on top of the stack */
    if (st) return btfm_lua_fail(L, st);
    return tuner_result(L);
}

/* t:knobs() -> {parameter name = chosen value (NaN before a run)} */
static int tuner_knobs(lua_State *L)
{
    btfm_cothb_tuner *t = check_tuner(L, 1);
    int n = btfm_cothb_tuner_n_knobs(t);
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        int param;
        double chosen;
        const char *name;
        btfm_status st = btfm_cothb_tuner_knob(t, i, &param, &chosen);
        if (!st) st = btfm_param_info(BTFM_OBJECT_COTHB, param, &name, NULL, NULL, NULL, NULL);
        if (st) return btfm_lua_fail(L, st);
        lua_pushnumber(L, chosen);
        lua_setfield(L, -2, name);
    }
    return 1;
}

/* t:apply(controller) sets the chosen values on it */
static int tuner_apply(lua_State *L)
{
    btfm_status st = btfm_cothb_tuner_apply(check_tuner(L, 1), btfm_lua_check_cothb(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* btfm.cothb_tuner([params]) -> a new tuner; params {problems = 500, held_out = 500, ...} */
static int module_cothb_tuner(lua_State *L)
{
    btfm_lua_box *box = btfm_lua_new_box(L, &tuner_type);
    btfm_cothb_tuner *t;
    btfm_status st = btfm_cothb_tuner_new(&t);
    if (st) return btfm_lua_fail(L, st);
    box->handle = t;
    int index = lua_gettop(L);
    int pushed = btfm_lua_set_params(L, 1, &tuner_type, t);
    if (pushed) return pushed;
    lua_settop(L, index);
    return 1;
}

static const luaL_Reg tuner_methods[] = {
    {"add_knob", tuner_add_knob}, {"run", tuner_run},     {"result", tuner_result},
    {"knobs", tuner_knobs},       {"apply", tuner_apply}, {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"cothb_tuner", module_cothb_tuner},
    {NULL, NULL},
};

void btfm_lua_open_cothb_tuner(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &tuner_type, tuner_methods, NULL);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
