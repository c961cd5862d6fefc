/* Number tables across the Lua boundary, shared by every binding file: flat Lua tables
 * read into float or double blocks owned by a userdata (so an error never leaks them),
 * and float or double arrays pushed as tables. */
#include <stdint.h>
#include "btfm_lua.h"

/* Raise about the table at stack index `at`: the argument `arg` itself (what NULL) or
 * an option or element of it called `what`. */
static int table_error(lua_State *L, int arg, const char *what, const char *message)
{
    return what ? btfm_lua_field_error(L, arg, what, message) : luaL_argerror(L, arg, message);
}

static void *numbers_at(lua_State *L, int at, int arg, const char *what, lua_Integer count,
                        int as_double, lua_Integer *n_out)
{
    if (lua_type(L, at) != LUA_TTABLE)
        table_error(L, arg, what, lua_pushfstring(L, "table expected, got %s", luaL_typename(L, at)));
    lua_Integer n = luaL_len(L, at);
    if (count >= 0 && n != count)
        table_error(L, arg, what, lua_pushfstring(L, "%I values, expected %I", n, count));
    if (count < 0 && n < 1) table_error(L, arg, what, "expected a non-empty table of numbers");
    if (n > INT32_MAX) table_error(L, arg, what, "too many values");
    size_t size = as_double ? sizeof(double) : sizeof(float);
    void *block = lua_newuserdatauv(L, (size_t)(n ? n : 1) * size, 0);
    int table = at < 0 ? at - 1 : at; /* the userdata now sits above a relative index */
    for (lua_Integer i = 0; i < n; i++) {
        lua_geti(L, table, i + 1);
        int ok;
        lua_Number v = lua_tonumberx(L, -1, &ok);
        if (!ok)
            table_error(L, arg, what, lua_pushfstring(L, "values[%I] is not a number (%s)", i + 1,
                                                      luaL_typename(L, -1)));
        if (as_double) ((double *)block)[i] = v;
        else ((float *)block)[i] = (float)v;
        lua_pop(L, 1);
    }
    if (n_out) *n_out = n;
    return block;
}

static void *matrix_at(lua_State *L, int at, int arg, const char *what, lua_Integer rows,
                       lua_Integer cols, int as_double)
{
    if (lua_type(L, at) != LUA_TTABLE)
        table_error(L, arg, what, lua_pushfstring(L, "table expected, got %s", luaL_typename(L, at)));
    if (rows < 1 || cols < 1 || rows > INT32_MAX / cols)
        table_error(L, arg, what, lua_pushfstring(L, "bad dimensions %I x %I", rows, cols));
    lua_Integer n = luaL_len(L, at);
    if (n != rows * cols)
        table_error(L, arg, what, lua_pushfstring(L, "%I values for %I x %I", n, rows, cols));
    return numbers_at(L, at, arg, what, n, as_double, NULL);
}

void *btfm_lua_check_numbers(lua_State *L, int arg, lua_Integer count, int as_double,
                             lua_Integer *n_out)
{
    return numbers_at(L, arg, arg, NULL, count, as_double, n_out);
}

void *btfm_lua_check_matrix(lua_State *L, int arg, lua_Integer rows, lua_Integer cols,
                            int as_double)
{
    return matrix_at(L, arg, arg, NULL, rows, cols, as_double);
}

void *btfm_lua_check_field_matrix(lua_State *L, int arg, const char *what, lua_Integer rows,
                                  lua_Integer cols, int as_double)
{
    return matrix_at(L, lua_gettop(L), arg, what, rows, cols, as_double);
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
