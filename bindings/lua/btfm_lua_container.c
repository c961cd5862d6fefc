/* btfm.container: named, typed arrays saved to files or strings, as a Lua userdata.
 * Arrays cross the boundary as flat Lua tables in C order plus a shape table. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

static btfm_status set_param_adapter(void *handle, int param, double value)
{
    return btfm_container_set_param((btfm_container *)handle, param, value);
}

static btfm_status get_param_adapter(const void *handle, int param, double *value)
{
    return btfm_container_get_param((const btfm_container *)handle, param, value);
}

static void free_adapter(void *handle)
{
    btfm_container_free((btfm_container *)handle);
}

static void describe(lua_State *L, void *handle)
{
    const btfm_container *c = (const btfm_container *)handle;
    int n = btfm_container_n_arrays(c);
    lua_pushfstring(L, "%s, %d array%s", btfm_container_kind(c), n, n == 1 ? "" : "s");
}

static const btfm_lua_type container_type = {
    "btfm.container",  BTFM_OBJECT_CONTAINER, set_param_adapter, get_param_adapter,
    free_adapter,      describe,
};

static btfm_container *check_container(lua_State *L, int arg)
{
    return (btfm_container *)btfm_lua_check_handle(L, arg, &container_type);
}

/* A dtype name ("f32") as its number, enumerated from btfm_dtype_name(1, 2, ...). */
static int check_dtype(lua_State *L, int arg)
{
    const char *name = luaL_checkstring(L, arg);
    const char *known;
    int dtype;
    for (dtype = 1; (known = btfm_dtype_name(dtype)) != NULL; dtype++)
        if (strcmp(known, name) == 0) return dtype;
    btfm_lua_push_names(L, btfm_dtype_name, 1);
    return luaL_argerror(L, arg, lua_pushfstring(L, "unknown dtype '%s' (known: %s)", name,
                                                 lua_tostring(L, -1)));
}

static int bad_value(lua_State *L, lua_Integer index, const char *expected)
{
    const char *shown = luaL_tolstring(L, -1, NULL);
    return luaL_argerror(L, 5, lua_pushfstring(L, "values[%I] = %s: expected %s", index, shown,
                                               expected));
}

/* An integer element within [lo, hi]; raises naming the element otherwise. */
static lua_Integer check_element_integer(lua_State *L, lua_Integer index, lua_Integer lo,
                                         lua_Integer hi, const char *expected)
{
    int is_integer = 0;
    lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &is_integer) : 0;
    if (!is_integer || v < lo || v > hi) bad_value(L, index, expected);
    return v;
}

/* Convert the Lua value on top of the stack to element `i` of `buffer`. */
static void store_element(lua_State *L, int dtype, void *buffer, lua_Integer i)
{
    lua_Integer index = i + 1;
    switch (dtype) {
    case BTFM_DTYPE_U8:
        ((uint8_t *)buffer)[i] =
            (uint8_t)check_element_integer(L, index, 0, UINT8_MAX, "an integer in [0, 255] (u8)");
        return;
    case BTFM_DTYPE_I32:
        ((int32_t *)buffer)[i] = (int32_t)check_element_integer(
            L, index, INT32_MIN, INT32_MAX, "an integer in [-2147483648, 2147483647] (i32)");
        return;
    case BTFM_DTYPE_I64:
        ((int64_t *)buffer)[i] = (int64_t)check_element_integer(
            L, index, LUA_MININTEGER, LUA_MAXINTEGER, "an integer (i64)");
        return;
    case BTFM_DTYPE_F32:
    case BTFM_DTYPE_F64: {
        if (lua_type(L, -1) != LUA_TNUMBER) bad_value(L, index, "a number");
        double x = (double)lua_tonumber(L, -1);
        if (dtype == BTFM_DTYPE_F64) {
            ((double *)buffer)[i] = x;
        } else {
            if (isfinite(x) && fabs(x) > FLT_MAX)
                bad_value(L, index, "a number within the range of f32");
            ((float *)buffer)[i] = (float)x;
        }
        return;
    }
    default: /* container_put accepts only the dtypes above */
        luaL_argerror(L, 3, "this dtype cannot be written from a table of numbers");
    }
}

/* c:put(name, dtype, shape, values): values is flat, C order, product(shape) long. */
static int container_put(lua_State *L)
{
    btfm_container *c = check_container(L, 1);
    const char *name = btfm_lua_check_cstring(L, 2);
    int dtype = check_dtype(L, 3);
    if (dtype == BTFM_DTYPE_UTF8) luaL_argerror(L, 3, "use put_text for texts");
    size_t element_size = btfm_dtype_size(dtype);
    if (element_size == 0 || dtype > BTFM_DTYPE_F64)
        luaL_argerror(L, 3, "this dtype cannot be written from a table of numbers");
    luaL_checktype(L, 4, LUA_TTABLE);
    luaL_checktype(L, 5, LUA_TTABLE);

    lua_Integer ndim = luaL_len(L, 4);
    if (ndim > INT32_MAX) luaL_argerror(L, 4, "too many dimensions");
    size_t shape_bytes = (size_t)(ndim > 0 ? ndim : 1) * sizeof(int64_t);
    int64_t *shape = (int64_t *)lua_newuserdatauv(L, shape_bytes, 0);
    /* The library judges the shape itself (negative extents, too many dimensions); here
     * only the element count of a valid shape is compared with the table. */
    lua_Integer count = 1;
    int countable = 1;
    for (lua_Integer d = 0; d < ndim; d++) {
        lua_geti(L, 4, d + 1);
        int is_integer = 0;
        lua_Integer extent = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &is_integer)
                                                            : 0;
        if (!is_integer)
            luaL_argerror(L, 4, lua_pushfstring(L, "shape[%I] is not an integer", d + 1));
        lua_pop(L, 1);
        shape[d] = (int64_t)extent;
        if (extent < 0)
            countable = 0;
        else if (extent != 0 && count > LUA_MAXINTEGER / extent)
            count = LUA_MAXINTEGER; /* no table is that long: reported as a mismatch */
        else
            count *= extent;
    }

    lua_Integer n_values = luaL_len(L, 5);
    if (countable && n_values != count)
        luaL_argerror(L, 5, lua_pushfstring(L, "%I values for a shape of %I elements", n_values,
                                            count));
    if (n_values < 0 || (lua_Unsigned)n_values > SIZE_MAX / element_size)
        luaL_argerror(L, 5, "too many values");
    size_t nbytes = (size_t)n_values * element_size;
    void *buffer = lua_newuserdatauv(L, nbytes > 0 ? nbytes : 1, 0);
    for (lua_Integer i = 0; i < n_values; i++) {
        lua_geti(L, 5, i + 1);
        store_element(L, dtype, buffer, i);
        lua_pop(L, 1);
    }
    btfm_status st = btfm_container_put(c, name, dtype, (int)ndim, shape, buffer);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int container_put_text(lua_State *L)
{
    btfm_container *c = check_container(L, 1);
    const char *name = btfm_lua_check_cstring(L, 2);
    const char *text = btfm_lua_check_cstring(L, 3);
    btfm_status st = btfm_container_put_text(c, name, text);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* Push `count` elements of `dtype` as a flat table; 0 for a dtype this module lacks. */
static int push_elements(lua_State *L, int dtype, const void *data, size_t count)
{
    lua_createtable(L, count > INT32_MAX ? 0 : (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        switch (dtype) {
        case BTFM_DTYPE_U8: lua_pushinteger(L, ((const uint8_t *)data)[i]); break;
        case BTFM_DTYPE_I32: lua_pushinteger(L, ((const int32_t *)data)[i]); break;
        case BTFM_DTYPE_I64: lua_pushinteger(L, (lua_Integer)((const int64_t *)data)[i]); break;
        case BTFM_DTYPE_F32: lua_pushnumber(L, ((const float *)data)[i]); break;
        case BTFM_DTYPE_F64: lua_pushnumber(L, ((const double *)data)[i]); break;
        default: lua_pop(L, 1); return 0;
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* c:get(name) -> values (flat table, or a string for a text), shape, dtype name. */
static int container_get(lua_State *L)
{
    btfm_container *c = check_container(L, 1);
    const char *name = btfm_lua_check_cstring(L, 2);
    int index = 0, dtype = 0, ndim = 0;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    const void *data = NULL;
    size_t nbytes = 0;
    btfm_status st = btfm_container_find(c, name, &index);
    if (!st) st = btfm_container_array_info(c, index, NULL, &dtype, &ndim, shape);
    if (!st) st = btfm_container_array_data(c, index, &data, &nbytes);
    if (st) return btfm_lua_fail(L, st);

    size_t element_size = btfm_dtype_size(dtype);
    if (dtype == BTFM_DTYPE_UTF8)
        lua_pushlstring(L, (const char *)data, nbytes);
    else if (element_size == 0 || !push_elements(L, dtype, data, nbytes / element_size))
        return btfm_lua_fail_message(L, BTFM_E_UNSUPPORTED,
                                     "btfm.container: array '%s' has dtype %d, which this "
                                     "module cannot convert", name, dtype);
    lua_createtable(L, ndim, 0);
    for (int d = 0; d < ndim; d++) {
        lua_pushinteger(L, (lua_Integer)shape[d]);
        lua_rawseti(L, -2, d + 1);
    }
    lua_pushstring(L, btfm_dtype_name(dtype));
    return 3;
}

static int container_keys(lua_State *L)
{
    btfm_container *c = check_container(L, 1);
    int count = btfm_container_n_arrays(c);
    if (count < 0) return btfm_lua_fail(L, count);
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        const char *name;
        btfm_status st = btfm_container_array_info(c, i, &name, NULL, NULL, NULL);
        if (st) return btfm_lua_fail(L, st);
        lua_pushstring(L, name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int container_save(lua_State *L)
{
    btfm_container *c = check_container(L, 1);
    const char *path = btfm_lua_check_cstring(L, 2);
    btfm_status st = btfm_container_save(c, path);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:to_string() -> the serialized container, the same bytes save() writes. */
static int container_to_string(lua_State *L)
{
    btfm_container *c = check_container(L, 1);
    size_t size = 0;
    btfm_status st = btfm_container_serialized_size(c, &size);
    if (st != BTFM_OK) return btfm_lua_fail(L, st);
    luaL_Buffer bytes;
    char *out = luaL_buffinitsize(L, &bytes, size);
    size_t written = 0;
    st = btfm_container_save_buffer(c, out, size, &written);
    if (st) return btfm_lua_fail(L, st);
    luaL_pushresultsize(&bytes, written);
    return 1;
}

static int container_kind(lua_State *L)
{
    lua_pushstring(L, btfm_container_kind(check_container(L, 1)));
    return 1;
}

static int container_len(lua_State *L)
{
    int count = btfm_container_n_arrays(check_container(L, 1));
    if (count < 0) return luaL_error(L, "btfm.container: %s", btfm_last_error());
    lua_pushinteger(L, count);
    return 1;
}

/* btfm.container(kind) -> a new, empty container. */
static int module_container(lua_State *L)
{
    const char *kind = btfm_lua_check_cstring(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &container_type);
    btfm_container *c;
    btfm_status st = btfm_container_new(&c, kind);
    if (st) return btfm_lua_fail(L, st);
    box->handle = c;
    return 1;
}

/* btfm.load(path [, kind]) */
static int module_load(lua_State *L)
{
    const char *path = btfm_lua_check_cstring(L, 1);
    const char *kind = btfm_lua_opt_cstring(L, 2);
    btfm_lua_box *box = btfm_lua_new_box(L, &container_type);
    btfm_container *c;
    btfm_status st = btfm_container_load(&c, path, kind);
    if (st) return btfm_lua_fail(L, st);
    box->handle = c;
    return 1;
}

/* btfm.load_string(bytes [, kind]) */
static int module_load_string(lua_State *L)
{
    size_t size;
    const char *bytes = luaL_checklstring(L, 1, &size);
    const char *kind = btfm_lua_opt_cstring(L, 2);
    btfm_lua_box *box = btfm_lua_new_box(L, &container_type);
    btfm_container *c;
    btfm_status st = btfm_container_load_buffer(&c, bytes, size, kind);
    if (st) return btfm_lua_fail(L, st);
    box->handle = c;
    return 1;
}

static const luaL_Reg container_methods[] = {
    {"put", container_put},
    {"put_text", container_put_text},
    {"get", container_get},
    {"keys", container_keys},
    {"save", container_save},
    {"to_string", container_to_string},
    {"kind", container_kind},
    {NULL, NULL},
};

static const luaL_Reg container_metamethods[] = {
    {"__len", container_len},
    {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"container", module_container},
    /* <type>_load(path) and <type>_from_string(bytes) for every type that persists */
    {"container_load", module_load},
    {"container_from_string", module_load_string},
    {"load", module_load},               /* former name of container_load */
    {"load_string", module_load_string}, /* former name of container_from_string */
    {NULL, NULL},
};

void btfm_lua_open_container(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &container_type, container_methods, container_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
