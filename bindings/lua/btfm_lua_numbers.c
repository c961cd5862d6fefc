/* Number tables across the Lua boundary, shared by every binding file: flat Lua tables
 * read into float or double blocks owned by a userdata (so an error never leaks them),
 * and float or double arrays pushed as tables. */
#include <stdint.h>
#include "btfm_lua.h"

void *btfm_lua_check_numbers(lua_State *L, int arg, lua_Integer count, int as_double,
                             lua_Integer *n_out)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_Integer n = luaL_len(L, arg);
    if (count >= 0 && n != count)
        luaL_argerror(L, arg, lua_pushfstring(L, "%I values, expected %I", n, count));
    if (count < 0 && n < 1) luaL_argerror(L, arg, "expected a non-empty table of numbers");
    if (n > INT32_MAX) luaL_argerror(L, arg, "too many values");
    size_t size = as_double ? sizeof(double) : sizeof(float);
    void *block = lua_newuserdatauv(L, (size_t)(n ? n : 1) * size, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_geti(L, arg, i + 1);
        int ok;
        lua_Number v = lua_tonumberx(L, -1, &ok);
        if (!ok) luaL_argerror(L, arg, lua_pushfstring(L, "values[%I] is not a number", i + 1));
        if (as_double) ((double *)block)[i] = v;
        else ((float *)block)[i] = (float)v;
        lua_pop(L, 1);
    }
    if (n_out) *n_out = n;
    return block;
}

void *btfm_lua_check_matrix(lua_State *L, int arg, lua_Integer rows, lua_Integer cols,
                             int as_double)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    if (rows < 1 || cols < 1 || rows > INT32_MAX / cols)
        luaL_argerror(L, arg, lua_pushfstring(L, "bad dimensions %I x %I", rows, cols));
    lua_Integer n = luaL_len(L, arg);
    if (n != rows * cols)
        luaL_argerror(L, arg, lua_pushfstring(L, "%I values for %I x %I", n, rows, cols));
    return btfm_lua_check_numbers(L, arg, n, as_double, NULL);
}

void btfm_lua_push_floats(lua_State *L, const float *x, size_t n)
{
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, x[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

void btfm_lua_push_doubles(lua_State *L, const double *x, size_t n)
{
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, x[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}
