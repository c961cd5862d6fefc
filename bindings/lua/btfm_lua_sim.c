/* btfm.sim: simulated sessions with known ground truth written as BIDS folders, from Lua:
 * btfm.sim.rating_session(out_dir [, params [, progress]]) and shared_response(...), params
 * a table of parameter names and values (btfm.param_info("sim_rating_session") lists
 * them), progress a function(stage, fraction) returning true to cancel. */
#include <string.h>
#include "btfm_lua.h"

/* The progress callback's view of the Lua function at stack index `fn`. */
typedef struct lua_progress {
    lua_State *L;
    int fn;
    int failed;   /* the function raised: cancel, and raise its error afterwards */
} lua_progress;

static int call_progress(const char *stage, double fraction, void *user)
{
    lua_progress *p = user;
    lua_State *L = p->L;
    lua_pushvalue(L, p->fn);
    lua_pushstring(L, stage);
    lua_pushnumber(L, fraction);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        p->failed = 1; /* the error message stays on the stack */
        return 1;
    }
    int stop = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

/* Set every entry of the params table at `arg` on `sim` (of object kind `kind`). Returns
 * 0, or the number of values pushed by btfm_lua_fail. */
static int set_params(lua_State *L, int arg, btfm_sim *sim, int kind)
{
    if (lua_isnoneornil(L, arg)) return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            btfm_sim_free(sim);
            return luaL_argerror(L, arg, "parameter names must be strings");
        }
        const char *name = lua_tostring(L, -2);
        double value;
        if (lua_isboolean(L, -1)) {
            value = lua_toboolean(L, -1);
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            value = lua_tonumber(L, -1);
        } else {
            btfm_sim_free(sim);
            return luaL_argerror(L, arg, lua_pushfstring(L, "parameter '%s' takes a number, not %s",
                                                          name, luaL_typename(L, -1)));
        }
        int param;
        btfm_status st = btfm_param_find(kind, name, &param);
        if (!st) st = btfm_sim_set_param(sim, param, value);
        if (st) {
            int n = btfm_lua_fail(L, st);
            btfm_sim_free(sim);
            return n;
        }
        lua_pop(L, 1);
    }
    return 0;
}

static int run(lua_State *L, int kind)
{
    const char *out = btfm_lua_check_cstring(L, 1);
    lua_settop(L, 3);
    if (!lua_isnil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
    btfm_sim *sim;
    btfm_status st = btfm_sim_new(&sim, kind);
    if (st) return btfm_lua_fail(L, st);
    int pushed = set_params(L, 2, sim, kind);
    if (pushed) return pushed;
    lua_progress p = {L, 3, 0};
    if (!lua_isnil(L, 3)) btfm_sim_set_progress(sim, call_progress, &p);
    st = kind == BTFM_OBJECT_SIM_RATING_SESSION ? btfm_sim_rating_session(sim, out)
                                                : btfm_sim_shared_response(sim, out);
    btfm_sim_free(sim);
    if (p.failed) return lua_error(L); /* the progress function's own error */
    if (st) return btfm_lua_fail(L, st);
    lua_pushstring(L, out);
    return 1;
}

/* btfm.sim.rating_session(out_dir [, params [, progress]]) -> out_dir | nil, msg, status */
static int sim_rating_session(lua_State *L)
{
    return run(L, BTFM_OBJECT_SIM_RATING_SESSION);
}

/* btfm.sim.shared_response(out_dir [, params [, progress]]) -> out_dir | nil, msg, status */
static int sim_shared_response(lua_State *L)
{
    return run(L, BTFM_OBJECT_SIM_SHARED_RESPONSE);
}

void btfm_lua_open_sim(lua_State *L, int module_index)
{
    static const luaL_Reg functions[] = {
        {"rating_session", sim_rating_session},
        {"shared_response", sim_shared_response},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    lua_setfield(L, module_index, "sim");
}
