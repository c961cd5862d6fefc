/* The Lua 5.4 module "btfm": version, status codes, parameter introspection and log
 * level, plus one handle type per binding file (btfm_lua_container.c, ...). */
#include <string.h>
#include "btfm_lua.h"

static int module_version(lua_State *L)
{
    lua_pushstring(L, btfm_version_string());
    return 1;
}

static int module_version_number(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)btfm_version_number());
    return 1;
}

/* btfm.capabilities() -> {"core", "container", ...}: the words of btfm_capabilities(). */
static int module_capabilities(lua_State *L)
{
    const char *p = btfm_capabilities();
    lua_newtable(L);
    lua_Integer n = 0;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (len > 0) {
            lua_pushlstring(L, p, len);
            lua_rawseti(L, -2, ++n);
        }
        p += len;
        if (*p == ' ') p++;
    }
    return 1;
}

/* btfm.runtime_info() -> {version = "1.3.0", blas_kernels = "Haswell", ...}: the
 * "key: value" lines of btfm_runtime_info() as a table of strings. */
static int module_runtime_info(lua_State *L)
{
    size_t size;
    int st = btfm_runtime_info(NULL, 0, &size);
    if (st) return btfm_lua_fail(L, st);
    char *text = lua_newuserdatauv(L, size, 0); /* collected with the stack */
    if ((st = btfm_runtime_info(text, size, &size))) return btfm_lua_fail(L, st);
    lua_newtable(L);
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        const char *sep = memchr(p, ':', len);
        if (sep && sep + 1 < p + len) {
            lua_pushlstring(L, p, (size_t)(sep - p));
            lua_pushlstring(L, sep + 2, len - (size_t)(sep + 2 - p));
            lua_rawset(L, -3);
        }
        p += len;
        if (*p == '\n') p++;
    }
    return 1;
}

/* btfm.set_blas_thread_control(enabled) -> previous: see btfm_set_blas_thread_control. */
static int module_set_blas_thread_control(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushboolean(L, btfm_set_blas_thread_control(lua_toboolean(L, 1)));
    return 1;
}

static int module_get_blas_thread_control(lua_State *L)
{
    lua_pushboolean(L, btfm_get_blas_thread_control());
    return 1;
}

static int module_has_capability(lua_State *L)
{
    lua_pushboolean(L, btfm_has_capability(btfm_lua_check_cstring(L, 1)));
    return 1;
}

static int module_status_name(lua_State *L)
{
    const char *name = btfm_status_name(btfm_lua_check_int(L, 1));
    if (name)
        lua_pushstring(L, name);
    else
        lua_pushnil(L);
    return 1;
}

static int module_status_str(lua_State *L)
{
    lua_pushstring(L, btfm_status_str(btfm_lua_check_int(L, 1)));
    return 1;
}

static int module_live_allocations(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)btfm_live_allocations());
    return 1;
}

static int module_container_format_version(lua_State *L)
{
    lua_pushinteger(L, btfm_container_format_version());
    return 1;
}

/* btfm.object_kinds() -> {"container", ...}: the names btfm.param_info accepts, in kind
 * order (numbers are reserved per layer, so a build may skip some). */
static int module_object_kinds(lua_State *L)
{
    const char *name;
    lua_Integer n = 0;
    lua_newtable(L);
    for (int kind = 1; kind <= BTFM_LUA_MAX_KIND; kind++) {
        if ((name = btfm_object_kind_name(kind)) == NULL) continue;
        lua_pushstring(L, name);
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

static const char *param_type_name(int type)
{
    switch (type) {
    case BTFM_PARAM_REAL: return "real";
    case BTFM_PARAM_INT: return "int";
    case BTFM_PARAM_BOOL: return "bool";
    default: return "unknown";
    }
}

/* btfm.param_info(kind_name) -> {{name=, type=, default=, min=, max=, description=}, ...}
 * in parameter order, read from the library's tables at run time. */
static int module_param_info(lua_State *L)
{
    const char *kind_name = btfm_lua_check_cstring(L, 1);
    int kind = btfm_lua_object_kind(kind_name);
    if (!kind) {
        luaL_Buffer known;
        luaL_buffinit(L, &known);
        const char *name;
        for (int k = 1, first = 1; k <= BTFM_LUA_MAX_KIND; k++) {
            if ((name = btfm_object_kind_name(k)) == NULL) continue;
            if (!first) luaL_addstring(&known, ", ");
            luaL_addstring(&known, name);
            first = 0;
        }
        luaL_pushresult(&known);
        return btfm_lua_fail_message(L, BTFM_E_NOTFOUND,
                                     "btfm.param_info: unknown object kind '%s' (known: %s)",
                                     kind_name, lua_tostring(L, -1));
    }
    int count = btfm_object_n_params(kind);
    if (count < 0) return btfm_lua_fail(L, count);
    lua_createtable(L, count, 0);
    for (int param = 0; param < count; param++) {
        const char *name;
        int type;
        double default_value, min_value, max_value;
        btfm_status st = btfm_param_info(kind, param, &name, &type, &default_value, &min_value,
                                         &max_value);
        if (st) return btfm_lua_fail(L, st);
        const char *description = btfm_param_description(kind, param);
        lua_createtable(L, 0, 6);
        lua_pushstring(L, name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, param_type_name(type));
        lua_setfield(L, -2, "type");
        btfm_lua_push_param_value(L, type, default_value);
        lua_setfield(L, -2, "default");
        btfm_lua_push_param_value(L, type, min_value);
        lua_setfield(L, -2, "min");
        btfm_lua_push_param_value(L, type, max_value);
        lua_setfield(L, -2, "max");
        lua_pushstring(L, description ? description : "");
        lua_setfield(L, -2, "description");
        lua_rawseti(L, -2, param + 1);
    }
    return 1;
}

/* btfm.set_log_level("info" or 2) -> true, or nil, message, status name. */
static int module_set_log_level(lua_State *L)
{
    int level;
    if (lua_type(L, 1) == LUA_TSTRING) {
        const char *wanted = lua_tostring(L, 1);
        const char *name = NULL;
        for (level = 0; (name = btfm_log_level_name(level)) != NULL; level++)
            if (strcmp(name, wanted) == 0) break;
        if (!name) {
            btfm_lua_push_names(L, btfm_log_level_name, 0);
            return btfm_lua_fail_message(L, BTFM_E_NOTFOUND,
                                         "btfm.set_log_level: unknown level '%s' (known: %s, "
                                         "or their numbers from 0)",
                                         wanted, lua_tostring(L, -1));
        }
    } else {
        level = btfm_lua_check_int(L, 1);
    }
    btfm_status st = btfm_set_log_level(level);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* btfm.get_log_level() -> name, number */
static int module_get_log_level(lua_State *L)
{
    int level = btfm_get_log_level();
    const char *name = btfm_log_level_name(level);
    if (name)
        lua_pushstring(L, name);
    else
        lua_pushnil(L);
    lua_pushinteger(L, level);
    return 2;
}

/* btfm.statuses: {BTFM_OK = 0, BTFM_E_INVALID = -1, ...} from btfm_status_name. */
static void push_statuses(lua_State *L)
{
    const char *name;
    lua_newtable(L);
    for (int code = 0; (name = btfm_status_name(code)) != NULL; code--) {
        lua_pushinteger(L, code);
        lua_setfield(L, -2, name);
    }
}

static const luaL_Reg module_functions[] = {
    {"version", module_version},
    {"version_number", module_version_number},
    {"capabilities", module_capabilities},
    {"has_capability", module_has_capability},
    {"runtime_info", module_runtime_info},
    {"set_blas_thread_control", module_set_blas_thread_control},
    {"get_blas_thread_control", module_get_blas_thread_control},
    {"status_name", module_status_name},
    {"status_str", module_status_str},
    {"live_allocations", module_live_allocations},
    {"container_format_version", module_container_format_version},
    {"object_kinds", module_object_kinds},
    {"param_info", module_param_info},
    {"set_log_level", module_set_log_level},
    {"get_log_level", module_get_log_level},
    {NULL, NULL},
};

LUALIB_API int luaopen_btfm(lua_State *L)
{
    /* The library loaded at run time must be at least the one this module was built for. */
    if (btfm_version_number() < BTFM_VERSION_NUMBER)
        return luaL_error(L, "btfm: the loaded libbtfm is %s but this module needs "
                             BTFM_VERSION_STRING " or newer", btfm_version_string());
    luaL_newlib(L, module_functions);
    push_statuses(L);
    lua_setfield(L, -2, "statuses");
    btfm_lua_open_container(L, lua_gettop(L));
    btfm_lua_open_dataset(L, lua_gettop(L));
    btfm_lua_open_cothb(L, lua_gettop(L));
    btfm_lua_open_cothb_tuner(L, lua_gettop(L));
    btfm_lua_open_align(L, lua_gettop(L));
    btfm_lua_open_table(L, lua_gettop(L));
    btfm_lua_open_bids(L, lua_gettop(L));
    btfm_lua_open_signal(L, lua_gettop(L));
    btfm_lua_open_glm(L, lua_gettop(L));
    btfm_lua_open_spectrum(L, lua_gettop(L));
    btfm_lua_open_sim(L, lua_gettop(L));
    btfm_lua_open_model(L, lua_gettop(L));
    btfm_lua_open_reward(L, lua_gettop(L));
    btfm_lua_open_fnirs(L, lua_gettop(L));
    btfm_lua_open_stream(L, lua_gettop(L));
    btfm_lua_open_corpus(L, lua_gettop(L));
    return 1;
}
