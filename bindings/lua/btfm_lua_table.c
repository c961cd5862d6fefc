/* btfm.table: TSV tables (btfm.read_table, btfm.parse_table, btfm.new_table) as a Lua
 * userdata. Rows and columns are numbered from 1, columns may also be named. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btfm_lua.h"

static void free_adapter(void *handle) { btfm_table_free((btfm_table *)handle); }

static void describe(lua_State *L, void *handle)
{
    const btfm_table *t = (const btfm_table *)handle;
    lua_pushfstring(L, "%I rows x %d columns", (lua_Integer)btfm_table_n_rows(t),
                    btfm_table_n_columns(t));
}

static const btfm_lua_type table_type = {"btfm.table", 0, NULL, NULL, free_adapter, describe};

static btfm_table *check_table(lua_State *L, int arg)
{
    return (btfm_table *)btfm_lua_check_handle(L, arg, &table_type);
}

/* A column argument: 1-based index or name, as a 0-based index. Raises when unknown. */
static int check_column(lua_State *L, btfm_table *t, int arg)
{
    if (lua_type(L, arg) == LUA_TSTRING) {
        int column;
        if (btfm_table_find_column(t, btfm_lua_check_cstring(L, arg), &column))
            luaL_argerror(L, arg, btfm_last_error());
        return column;
    }
    lua_Integer index = luaL_checkinteger(L, arg);
    if (index < 1 || index > btfm_table_n_columns(t))
        luaL_argerror(L, arg, lua_pushfstring(L, "column %I is outside [1, %d]", index,
                                              btfm_table_n_columns(t)));
    return (int)index - 1;
}

static int64_t check_row(lua_State *L, btfm_table *t, int arg)
{
    lua_Integer row = luaL_checkinteger(L, arg);
    if (row < 1 || row > btfm_table_n_rows(t))
        luaL_argerror(L, arg, lua_pushfstring(L, "row %I is outside [1, %I]", row,
                                              (lua_Integer)btfm_table_n_rows(t)));
    return (int64_t)row - 1;
}

/* Store a new handle in its box (created first, so a Lua memory error cannot leak it). */
static int push_new(lua_State *L, btfm_lua_box *box, btfm_status st, btfm_table **t)
{
    if (st) return btfm_lua_fail(L, st);
    box->handle = *t;
    return 1;
}

/* btfm.read_table(path) -> table | nil, message, status */
static int module_read_table(lua_State *L)
{
    const char *path = btfm_lua_check_cstring(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &table_type);
    btfm_table *t = NULL;
    btfm_status st = btfm_table_read(&t, path);
    return push_new(L, box, st, &t);
}

/* btfm.parse_table(text [, name]) -> table | nil, message, status */
static int module_parse_table(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *name = btfm_lua_opt_cstring(L, 2);
    btfm_lua_box *box = btfm_lua_new_box(L, &table_type);
    btfm_table *t = NULL;
    btfm_status st = btfm_table_parse(&t, text, len, name);
    return push_new(L, box, st, &t);
}

/* btfm.new_table({"onset", "duration", ...}) -> table | nil, message, status */
static int module_new_table(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 0 || n > INT32_MAX / 2) luaL_argerror(L, 1, "too many columns");
    const char **names = (const char **)lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        char what[40];
        snprintf(what, sizeof what, "columns[%lld]", (long long)i + 1);
        names[i] = btfm_lua_check_field_string(L, 1, what); /* kept alive by table 1 */
        lua_pop(L, 1);
    }
    btfm_lua_box *box = btfm_lua_new_box(L, &table_type);
    btfm_table *t = NULL;
    btfm_status st = btfm_table_new(&t, names, (int)n);
    return push_new(L, box, st, &t);
}

static int table_n_rows(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)btfm_table_n_rows(check_table(L, 1)));
    return 1;
}

/* t:columns() -> {"onset", "duration", ...} */
static int table_columns(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    int n = btfm_table_n_columns(t);
    lua_createtable(L, n, 0);
    for (int c = 0; c < n; c++) {
        lua_pushstring(L, btfm_table_column_name(t, c));
        lua_rawseti(L, -2, c + 1);
    }
    return 1;
}

/* t:cell(row, column) -> text, or nil for n/a */
static int table_cell(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    int64_t row = check_row(L, t, 2);
    int column = check_column(L, t, 3);
    if (btfm_table_is_na(t, row, column)) lua_pushnil(L);
    else lua_pushstring(L, btfm_table_cell(t, row, column));
    return 1;
}

/* t:numbers(column) -> {numbers} with NaN for n/a | nil, message, status */
static int table_numbers(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    int column = check_column(L, t, 2);
    int64_t n = btfm_table_n_rows(t);
    if ((uint64_t)n > SIZE_MAX / sizeof(double) / 2) return luaL_error(L, "btfm.table: too many rows");
    double *values = (double *)lua_newuserdatauv(L, n ? (size_t)n * sizeof *values : 1, 0);
    btfm_status st = btfm_table_column_numbers(t, column, values);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (int64_t r = 0; r < n; r++) {
        lua_pushnumber(L, values[r]);
        lua_rawseti(L, -2, (lua_Integer)r + 1);
    }
    return 1;
}

/* t:strings(column) -> {texts as stored, "n/a" included} */
static int table_strings(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    int column = check_column(L, t, 2);
    int64_t n = btfm_table_n_rows(t);
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (int64_t r = 0; r < n; r++) {
        lua_pushstring(L, btfm_table_cell(t, r, column));
        lua_rawseti(L, -2, (lua_Integer)r + 1);
    }
    return 1;
}

/* t:column(column) -> t:numbers(column) when every cell is a number or n/a, else
 * t:strings(column) */
static int table_column(lua_State *L)
{
    lua_settop(L, 2);
    if (table_numbers(L) == 1) return 1;
    lua_settop(L, 2);
    return table_strings(L);
}

/* A cell value from Lua: nil is n/a, numbers in their shortest round-trip form. */
static const char *cell_text(lua_State *L, int index)
{
    int type = lua_type(L, index);
    if (type == LUA_TNIL) return NULL;
    if (type == LUA_TNUMBER) {
        if (lua_isinteger(L, index))
            return lua_pushfstring(L, "%I", lua_tointeger(L, index));
        double v = lua_tonumber(L, index);
        if (isnan(v)) return NULL;
        if (isinf(v)) luaL_error(L, "btfm.table: a cell is %f; TSV numbers must be finite (use nil for n/a)", v);
        char buf[32];
        for (int precision = 1; precision <= 17; precision++) {
            snprintf(buf, sizeof buf, "%.*g", precision, v);
            if (strtod(buf, NULL) == v) break;
        }
        return lua_pushstring(L, buf);
    }
    if (type == LUA_TSTRING) return btfm_lua_check_cstring(L, index);
    luaL_error(L, "btfm.table: a cell must be a string, a number or nil, not %s",
               luaL_typename(L, index));
    return NULL;
}

/* t:add_row({v1, v2, ...}) (nil entries are n/a) -> true | nil, message, status */
static int table_add_row(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int n = btfm_table_n_columns(t);
    const char **cells = (const char **)lua_newuserdatauv(L, (size_t)n * sizeof *cells, 0);
    int base = lua_gettop(L);
    luaL_checkstack(L, 2 * n + 4, "btfm.table: too many columns");
    for (int c = 0; c < n; c++) {
        lua_geti(L, 2, c + 1);
        cells[c] = cell_text(L, lua_gettop(L)); /* the value or its text stays on the stack */
    }
    btfm_status st = btfm_table_add_row(t, cells);
    lua_settop(L, base);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* t:set_cell(row, column, value) -> true | nil, message, status */
static int table_set_cell(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    int64_t row = check_row(L, t, 2);
    int column = check_column(L, t, 3);
    btfm_status st = btfm_table_set_cell(t, row, column, cell_text(L, 4));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* t:add_column(name [, fill]) -> true | nil, message, status */
static int table_add_column(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    const char *name = btfm_lua_check_cstring(L, 2);
    btfm_status st = btfm_table_add_column(t, name, cell_text(L, 3));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* t:save(path) -> true | nil, message, status */
static int table_save(lua_State *L)
{
    btfm_table *t = check_table(L, 1);
    btfm_status st = btfm_table_save(t, btfm_lua_check_cstring(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int table_len(lua_State *L) { return table_n_rows(L); }

static const luaL_Reg table_methods[] = {
    {"n_rows", table_n_rows},
    {"columns", table_columns},
    {"cell", table_cell},
    {"numbers", table_numbers},
    {"strings", table_strings},
    {"column", table_column},
    {"add_row", table_add_row},
    {"set_cell", table_set_cell},
    {"add_column", table_add_column},
    {"save", table_save},
    {NULL, NULL},
};

static const luaL_Reg table_metamethods[] = {
    {"__len", table_len},
    {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"read_table", module_read_table},
    {"parse_table", module_parse_table},
    {"new_table", module_new_table},
    {NULL, NULL},
};

void btfm_lua_open_table(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &table_type, table_methods, table_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
