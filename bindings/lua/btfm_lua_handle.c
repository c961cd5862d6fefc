/* The module's one error path and the generic handle machinery: boxes, close, __gc,
 * __close, __tostring and the parameter methods, written once for every handle type. */
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "btfm_lua.h"

/* Push the status name, the last of the three error values; returns 3. */
static int push_status_name(lua_State *L, int status)
{
    const char *name = btfm_status_name(status);
    if (name)
        lua_pushstring(L, name);
    else
        lua_pushfstring(L, "%d", status);
    return 3;
}

int btfm_lua_fail(lua_State *L, int status)
{
    lua_pushnil(L);
    /* Copy the message before any other library call: it is valid only until then. */
    lua_pushstring(L, btfm_last_error());
    return push_status_name(L, status);
}

int btfm_lua_fail_message(lua_State *L, int status, const char *fmt, ...)
{
    lua_pushnil(L);
    va_list args;
    va_start(args, fmt);
    lua_pushvfstring(L, fmt, args);
    va_end(args);
    return push_status_name(L, status);
}

const char *btfm_lua_check_cstring(lua_State *L, int arg)
{
    size_t len;
    const char *s = luaL_checklstring(L, arg, &len);
    if (strlen(s) != len) luaL_argerror(L, arg, "string contains a NUL byte");
    return s;
}

const char *btfm_lua_opt_cstring(lua_State *L, int arg)
{
    return lua_isnoneornil(L, arg) ? NULL : btfm_lua_check_cstring(L, arg);
}

int btfm_lua_check_int(lua_State *L, int arg)
{
    lua_Integer v = luaL_checkinteger(L, arg);
    if (v < INT_MIN || v > INT_MAX) luaL_argerror(L, arg, "integer out of range");
    return (int)v;
}

int btfm_lua_field_error(lua_State *L, int arg, const char *what, const char *message)
{
    return luaL_argerror(L, arg, lua_pushfstring(L, "%s: %s", what, message));
}

/* "number expected, got string", as Lua says it of arguments. */
static int field_type_error(lua_State *L, int arg, const char *what, const char *expected)
{
    const char *got = luaL_typename(L, -1);
    return btfm_lua_field_error(L, arg, what, lua_pushfstring(L, "%s expected, got %s", expected, got));
}

lua_Number btfm_lua_check_field_number(lua_State *L, int arg, const char *what)
{
    int ok;
    lua_Number v = lua_tonumberx(L, -1, &ok);
    if (!ok) field_type_error(L, arg, what, "number");
    return v;
}

lua_Integer btfm_lua_check_field_integer(lua_State *L, int arg, const char *what)
{
    int ok;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    if (!ok) {
        if (lua_isnumber(L, -1))
            btfm_lua_field_error(L, arg, what, "number has no integer representation");
        field_type_error(L, arg, what, "integer");
    }
    return v;
}

const char *btfm_lua_check_field_string(lua_State *L, int arg, const char *what)
{
    size_t len;
    if (lua_type(L, -1) != LUA_TSTRING) field_type_error(L, arg, what, "string");
    const char *s = lua_tolstring(L, -1, &len);
    if (strlen(s) != len) btfm_lua_field_error(L, arg, what, "string contains a NUL byte");
    return s;
}

/* Push the field `key` of the options table at `arg` and the name messages give it. */
static int push_option(lua_State *L, int arg, const char *key, char *what, size_t size)
{
    if (lua_isnoneornil(L, arg)) return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    snprintf(what, size, "option %s", key);
    if (lua_getfield(L, arg, key) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    return 0;
}

const char *btfm_lua_opt_field_string(lua_State *L, int arg, const char *key, const char *def)
{
    char what[80];
    if (!push_option(L, arg, key, what, sizeof what)) return def;
    const char *s = btfm_lua_check_field_string(L, arg, what);
    lua_pop(L, 1); /* the string stays alive in the options table */
    return s;
}

lua_Integer btfm_lua_opt_field_integer(lua_State *L, int arg, const char *key, lua_Integer def)
{
    char what[80];
    if (!push_option(L, arg, key, what, sizeof what)) return def;
    lua_Integer v = btfm_lua_check_field_integer(L, arg, what);
    lua_pop(L, 1);
    return v;
}

lua_Number btfm_lua_opt_field_number(lua_State *L, int arg, const char *key, lua_Number def)
{
    char what[80];
    if (!push_option(L, arg, key, what, sizeof what)) return def;
    lua_Number v = btfm_lua_check_field_number(L, arg, what);
    lua_pop(L, 1);
    return v;
}

int btfm_lua_check_choice(lua_State *L, int arg, const char *what, const char *name,
                          const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0) return i;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; names[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, names[i]);
    }
    luaL_pushresult(&b);
    return luaL_argerror(L, arg, lua_pushfstring(L, "unknown %s '%s' (known: %s)", what, name,
                                                 lua_tostring(L, -1)));
}

int btfm_lua_object_kind(const char *name)
{
    const char *known;
    for (int kind = 1; kind <= BTFM_LUA_MAX_KIND; kind++)
        if ((known = btfm_object_kind_name(kind)) != NULL && strcmp(known, name) == 0) return kind;
    return 0;
}

void btfm_lua_push_names(lua_State *L, const char *(*name_of)(int), int first)
{
    luaL_Buffer list;
    luaL_buffinit(L, &list);
    const char *name;
    for (int i = first; (name = name_of(i)) != NULL; i++) {
        if (i > first) luaL_addstring(&list, ", ");
        luaL_addstring(&list, name);
    }
    luaL_pushresult(&list);
}

void btfm_lua_push_param_value(lua_State *L, int param_type, double value)
{
    if (param_type != BTFM_PARAM_REAL && value == floor(value) && value >= -0x1p63 &&
        value < 0x1p63)
        lua_pushinteger(L, (lua_Integer)value);
    else
        lua_pushnumber(L, (lua_Number)value);
}

static const btfm_lua_type *upvalue_type(lua_State *L)
{
    return (const btfm_lua_type *)lua_touserdata(L, lua_upvalueindex(1));
}

btfm_lua_box *btfm_lua_new_box(lua_State *L, const btfm_lua_type *type)
{
    btfm_lua_box *box = (btfm_lua_box *)lua_newuserdatauv(L, sizeof *box, 0);
    box->handle = NULL;
    luaL_setmetatable(L, type->name);
    return box;
}

void *btfm_lua_check_handle(lua_State *L, int arg, const btfm_lua_type *type)
{
    btfm_lua_box *box = (btfm_lua_box *)luaL_checkudata(L, arg, type->name);
    if (!box->handle) luaL_error(L, "%s: used after close", type->name);
    return box->handle;
}

/* close(), __gc and __close: release the handle once; later calls do nothing. */
static int handle_close(lua_State *L)
{
    const btfm_lua_type *type = upvalue_type(L);
    btfm_lua_box *box = (btfm_lua_box *)luaL_checkudata(L, 1, type->name);
    if (box->handle) {
        void *handle = box->handle;
        box->handle = NULL;
        type->free(handle);
    }
    return 0;
}

static int handle_tostring(lua_State *L)
{
    const btfm_lua_type *type = upvalue_type(L);
    btfm_lua_box *box = (btfm_lua_box *)luaL_checkudata(L, 1, type->name);
    if (!box->handle) {
        lua_pushfstring(L, "%s (closed)", type->name);
        return 1;
    }
    if (!type->describe) {
        lua_pushfstring(L, "%s (%p)", type->name, box->handle);
        return 1;
    }
    lua_pushstring(L, type->name);
    lua_pushliteral(L, "(");
    type->describe(L, box->handle);
    lua_pushliteral(L, ")");
    lua_concat(L, 4);
    return 1;
}

/* The parameter named by argument `arg`, resolved with btfm_param_find; on failure the
 * three error values are pushed and -1 returned. */
static int find_param(lua_State *L, const btfm_lua_type *type, int arg)
{
    const char *name = btfm_lua_check_cstring(L, arg);
    int param;
    btfm_status st = btfm_param_find(type->object_kind, name, &param);
    if (st) {
        btfm_lua_fail(L, st);
        return -1;
    }
    return param;
}

/* h:set_param(name, value): a number, or a boolean for true/false (1/0). */
static int handle_set_param(lua_State *L)
{
    const btfm_lua_type *type = upvalue_type(L);
    void *handle = btfm_lua_check_handle(L, 1, type);
    double value;
    if (lua_type(L, 3) == LUA_TBOOLEAN)
        value = lua_toboolean(L, 3) ? 1.0 : 0.0;
    else if (lua_type(L, 3) == LUA_TNUMBER)
        value = (double)lua_tonumber(L, 3);
    else
        return luaL_typeerror(L, 3, "number or boolean");
    int param = find_param(L, type, 2);
    if (param < 0) return 3;
    btfm_status st = type->set_param(handle, param, value);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int push_param(lua_State *L, const btfm_lua_type *type, void *handle, int param)
{
    int param_type = BTFM_PARAM_REAL;
    btfm_status st = btfm_param_info(type->object_kind, param, NULL, &param_type, NULL, NULL,
                                     NULL);
    if (st) return btfm_lua_fail(L, st);
    double value;
    st = type->get_param(handle, param, &value);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_param_value(L, param_type, value);
    return 1;
}

static int handle_get_param(lua_State *L)
{
    const btfm_lua_type *type = upvalue_type(L);
    void *handle = btfm_lua_check_handle(L, 1, type);
    int param = find_param(L, type, 2);
    if (param < 0) return 3;
    return push_param(L, type, handle, param);
}

int btfm_lua_set_params(lua_State *L, int arg, const btfm_lua_type *type, void *handle)
{
    if (lua_isnoneornil(L, arg)) return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_argerror(L, arg, "parameter names must be strings");
        const char *name = lua_tostring(L, -2);
        double value;
        if (lua_type(L, -1) == LUA_TBOOLEAN)
            value = lua_toboolean(L, -1) ? 1.0 : 0.0;
        else if (lua_type(L, -1) == LUA_TNUMBER)
            value = (double)lua_tonumber(L, -1);
        else
            return btfm_lua_field_error(L, arg, name, lua_pushfstring(
                L, "number or boolean expected, got %s", luaL_typename(L, -1)));
        int param;
        btfm_status st = btfm_param_find(type->object_kind, name, &param);
        if (!st) st = type->set_param(handle, param, value);
        if (st) {
            lua_pop(L, 2);
            return btfm_lua_fail(L, st);
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* h:params() -> {name = value, ...} for every parameter of the handle's kind. */
static int handle_params(lua_State *L)
{
    const btfm_lua_type *type = upvalue_type(L);
    void *handle = btfm_lua_check_handle(L, 1, type);
    int count = btfm_object_n_params(type->object_kind);
    if (count < 0) return btfm_lua_fail(L, count);
    lua_createtable(L, 0, count);
    for (int param = 0; param < count; param++) {
        const char *name;
        btfm_status st = btfm_param_info(type->object_kind, param, &name, NULL, NULL, NULL,
                                         NULL);
        if (st) return btfm_lua_fail(L, st);
        lua_pushstring(L, name);
        if (push_param(L, type, handle, param) != 1) return 3;
        lua_rawset(L, -3);
    }
    return 1;
}

static const luaL_Reg generic_methods[] = {
    {"close", handle_close},
    {NULL, NULL},
};

static const luaL_Reg param_methods[] = {
    {"set_param", handle_set_param},
    {"get_param", handle_get_param},
    {"params", handle_params},
    {NULL, NULL},
};

static const luaL_Reg generic_metamethods[] = {
    {"__gc", handle_close},
    {"__close", handle_close},
    {"__tostring", handle_tostring},
    {NULL, NULL},
};

static void set_functions(lua_State *L, const btfm_lua_type *type, const luaL_Reg *functions)
{
    lua_pushlightuserdata(L, (void *)type);
    luaL_setfuncs(L, functions, 1);
}

void btfm_lua_register_type(lua_State *L, const btfm_lua_type *type, const luaL_Reg *methods,
                            const luaL_Reg *metamethods)
{
    luaL_newmetatable(L, type->name);
    set_functions(L, type, generic_metamethods);
    if (metamethods) set_functions(L, type, metamethods);
    lua_newtable(L);
    set_functions(L, type, generic_methods);
    if (type->object_kind) set_functions(L, type, param_methods);
    if (methods) set_functions(L, type, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
