/* btfm.bids_open(root [, {lenient = true}]) and btfm.bids_writer(root, name): BIDS folders
 * from Lua. Recordings are numbered from 1; tables (participants, events, beh) come back
 * as lists of rows {column = text} (n/a cells are nil; participants' numeric columns as
 * numbers); JSON as text. */
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

static void free_bids(void *h) { btfm_bids_free((btfm_bids *)h); }
static void free_writer(void *h) { btfm_bids_writer_free((btfm_bids_writer *)h); }

static void describe_bids(lua_State *L, void *h)
{
    const btfm_bids *b = (const btfm_bids *)h;
    lua_pushfstring(L, "%s, %I recordings", btfm_bids_root(b), (lua_Integer)btfm_bids_n_recordings(b));
}

static void describe_writer(lua_State *L, void *h)
{
    (void)h;
    lua_pushstring(L, "BIDS writer");
}

static const btfm_lua_type bids_type = {"btfm.bids", 0, NULL, NULL, free_bids, describe_bids};
static const btfm_lua_type writer_type = {"btfm.bids_writer", 0, NULL, NULL, free_writer,
                                          describe_writer};

static btfm_bids *check_bids(lua_State *L, int arg)
{
    return (btfm_bids *)btfm_lua_check_handle(L, arg, &bids_type);
}

/* A 1-based recording index as 0-based; raises when out of range. */
static int64_t check_recording(lua_State *L, btfm_bids *b, int arg)
{
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 1 || i > btfm_bids_n_recordings(b))
        luaL_argerror(L, arg, lua_pushfstring(L, "recording %I is outside [1, %I]", i,
                                              (lua_Integer)btfm_bids_n_recordings(b)));
    return (int64_t)i - 1;
}

/* A table as a list of rows {column = text}; n/a cells are left out (nil). With `typed`
 * the cells of numeric columns (btfm_table_column_is_numeric) are numbers. */
static void push_rows_typed(lua_State *L, const btfm_table *t, int typed)
{
    int64_t n = btfm_table_n_rows(t);
    int n_cols = btfm_table_n_columns(t);
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (int64_t r = 0; r < n; r++) {
        lua_createtable(L, 0, n_cols);
        for (int c = 0; c < n_cols; c++) {
            if (btfm_table_is_na(t, r, c)) continue;
            double value;
            if (typed && btfm_table_column_is_numeric(t, c) &&
                btfm_table_cell_number(t, r, c, &value) == BTFM_OK)
                lua_pushnumber(L, value);
            else
                lua_pushstring(L, btfm_table_cell(t, r, c));
            lua_setfield(L, -2, btfm_table_column_name(t, c));
        }
        lua_rawseti(L, -2, (lua_Integer)r + 1);
    }
}

static void push_rows(lua_State *L, const btfm_table *t) { push_rows_typed(L, t, 0); }

/* {index=, path=, datatype=, suffix=, extension=, entities = {sub = "01", ...}} */
static void push_recording(lua_State *L, btfm_bids *b, int64_t i)
{
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, (lua_Integer)i + 1);
    lua_setfield(L, -2, "index");
    lua_pushstring(L, btfm_bids_recording_path(b, i));
    lua_setfield(L, -2, "path");
    static const char *const pseudo[] = {"datatype", "suffix", "extension"};
    for (int k = 0; k < 3; k++) {
        lua_pushstring(L, btfm_bids_recording_entity(b, i, pseudo[k]));
        lua_setfield(L, -2, pseudo[k]);
    }
    int n = btfm_bids_recording_n_entities(b, i);
    lua_createtable(L, 0, n);
    for (int k = 0; k < n; k++) {
        const char *key, *value;
        btfm_bids_recording_entity_at(b, i, k, &key, &value);
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
    lua_setfield(L, -2, "entities");
}

/* A query argument: a string, or a table {key = label or {labels}}, as the C syntax. */
static const char *query_text(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg)) return "";
    if (lua_type(L, arg) == LUA_TSTRING) return btfm_lua_check_cstring(L, arg);
    luaL_checktype(L, arg, LUA_TTABLE);
    luaL_Buffer buf;
    luaL_buffinit(L, &buf);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "btfm.bids: query keys must be strings");
        lua_pushfstring(L, " %s=", lua_tostring(L, -2));
        luaL_addvalue(&buf);
        if (lua_istable(L, -1)) {
            lua_Integer n = luaL_len(L, -1);
            for (lua_Integer k = 1; k <= n; k++) {
                lua_geti(L, -1, k);
                if (k > 1) luaL_addchar(&buf, ',');
                luaL_addvalue(&buf);
            }
        } else {
            lua_pushvalue(L, -1);
            luaL_addvalue(&buf);
        }
        lua_pop(L, 1);
    }
    luaL_pushresult(&buf);
    lua_replace(L, arg);
    return lua_tostring(L, arg);
}

/* b:query(q) -> list of recordings */
static int bids_query(lua_State *L)
{
    btfm_bids *b = check_bids(L, 1);
    const char *q = query_text(L, 2);
    int64_t n;
    btfm_status st = btfm_bids_query(b, q, NULL, 0, &n);
    if (st) return btfm_lua_fail(L, st);
    int64_t *idx = (int64_t *)lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *idx, 0);
    if ((st = btfm_bids_query(b, q, idx, n, &n))) return btfm_lua_fail(L, st);
    lua_createtable(L, (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        push_recording(L, b, idx[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

static int bids_recordings(lua_State *L)
{
    lua_settop(L, 1);
    return bids_query(L);
}

/* b:values(key) -> sorted labels */
static int bids_values(lua_State *L)
{
    btfm_bids *b = check_bids(L, 1);
    const char *key = btfm_lua_check_cstring(L, 2);
    int64_t n = btfm_bids_n_values(b, key);
    if (n < 0) return btfm_lua_fail(L, (int)n);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushstring(L, btfm_bids_value(b, key, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* b:open(i) -> btfm.dataset with the sidecars applied */
static int bids_open_recording(lua_State *L)
{
    btfm_bids *b = check_bids(L, 1);
    int64_t i = check_recording(L, b, 2);
    btfm_lua_box *box = btfm_lua_new_dataset_box(L);
    btfm_dataset *ds;
    btfm_status st = btfm_bids_open_recording(b, i, &ds);
    if (st) return btfm_lua_fail(L, st);
    box->handle = ds;
    return 1;
}

/* b:apply_sidecars(i, ds) */
static int bids_apply_sidecars(lua_State *L)
{
    btfm_bids *b = check_bids(L, 1);
    int64_t i = check_recording(L, b, 2);
    btfm_status st = btfm_bids_apply_sidecars(b, i, btfm_lua_check_dataset(L, 3));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* b:metadata(i) -> merged sidecar JSON text */
static int bids_metadata(lua_State *L)
{
    btfm_bids *b = check_bids(L, 1);
    const char *json;
    btfm_status st = btfm_bids_recording_metadata(b, check_recording(L, b, 2), &json);
    if (st) return btfm_lua_fail(L, st);
    lua_pushstring(L, json);
    return 1;
}

/* b:participants() -> rows, or nil when there is no participants.tsv; numeric columns
 * (every cell a number or n/a, like age) as numbers */
static int bids_participants(lua_State *L)
{
    const btfm_table *t;
    if (btfm_bids_participants(check_bids(L, 1), &t) != BTFM_OK) {
        lua_pushnil(L);
        return 1;
    }
    push_rows_typed(L, t, 1);
    return 1;
}

/* b:read_table(i) -> rows of a tabular (beh) recording */
static int bids_read_table(lua_State *L)
{
    btfm_bids *b = check_bids(L, 1);
    btfm_table *t;
    btfm_status st = btfm_bids_read_table(b, check_recording(L, b, 2), &t);
    if (st) return btfm_lua_fail(L, st);
    push_rows(L, t);
    btfm_table_free(t);
    return 1;
}

/* b:skipped() -> {{path=, reason=}, ...} */
static int bids_skipped(lua_State *L)
{
    btfm_bids *b = check_bids(L, 1);
    int64_t n = btfm_bids_n_skipped(b);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        const char *path, *reason;
        btfm_bids_skipped(b, i, &path, &reason);
        lua_createtable(L, 0, 2);
        lua_pushstring(L, path);
        lua_setfield(L, -2, "path");
        lua_pushstring(L, reason);
        lua_setfield(L, -2, "reason");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int bids_description(lua_State *L)
{
    lua_pushstring(L, btfm_bids_description(check_bids(L, 1)));
    return 1;
}

/* btfm.bids_open(root [, {lenient = true}]) */
static int module_bids_open(lua_State *L)
{
    const char *root = btfm_lua_check_cstring(L, 1);
    unsigned flags = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "lenient");
        if (lua_toboolean(L, -1)) flags |= BTFM_BIDS_LENIENT;
        lua_pop(L, 1);
    }
    btfm_lua_box *box = btfm_lua_new_box(L, &bids_type);
    btfm_bids *b;
    btfm_status st = btfm_bids_open(&b, root, flags);
    if (st) return btfm_lua_fail(L, st);
    box->handle = b;
    return 1;
}

/* ---- dataset methods: metadata and the events table ---- */

static int dataset_metadata(lua_State *L)
{
    lua_pushstring(L, btfm_dataset_metadata(btfm_lua_check_dataset(L, 1)));
    return 1;
}

/* ds:meta_numbers(key) -> list of numbers (one for a number) */
static int dataset_meta_numbers(lua_State *L)
{
    btfm_dataset *ds = btfm_lua_check_dataset(L, 1);
    const char *key = btfm_lua_check_cstring(L, 2);
    int64_t n;
    btfm_status st = btfm_dataset_meta_numbers(ds, key, NULL, 0, &n);
    if (st) return btfm_lua_fail(L, st);
    double *v = (double *)lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *v, 0);
    if ((st = btfm_dataset_meta_numbers(ds, key, v, n, &n))) return btfm_lua_fail(L, st);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int dataset_meta_string(lua_State *L)
{
    const char *s;
    btfm_status st = btfm_dataset_meta_string(btfm_lua_check_dataset(L, 1),
                                              btfm_lua_check_cstring(L, 2), &s);
    if (st) return btfm_lua_fail(L, st);
    lua_pushstring(L, s);
    return 1;
}

/* ds:meta_length(key) -> elements of an array or members of an object (key: a member
 * name or a JSON pointer such as "/fif/projectors") */
static int dataset_meta_length(lua_State *L)
{
    int64_t n;
    btfm_status st = btfm_dataset_meta_length(btfm_lua_check_dataset(L, 1),
                                              btfm_lua_check_cstring(L, 2), &n);
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* ds:meta_bool(key) -> true | false */
static int dataset_meta_bool(lua_State *L)
{
    int value;
    btfm_status st = btfm_dataset_meta_bool(btfm_lua_check_dataset(L, 1),
                                            btfm_lua_check_cstring(L, 2), &value);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, value);
    return 1;
}

/* ds:events_table() -> rows, or nil */
static int dataset_events_table(lua_State *L)
{
    const btfm_table *t;
    if (btfm_dataset_events_table(btfm_lua_check_dataset(L, 1), &t) != BTFM_OK) {
        lua_pushnil(L);
        return 1;
    }
    push_rows(L, t);
    return 1;
}

/* ---- writer ---- */

/* btfm.bids_writer(root, name [, {keep_identity = true}]): recordings de-identified unless
 * keep_identity */
static int module_bids_writer(lua_State *L)
{
    const char *root = btfm_lua_check_cstring(L, 1);
    const char *name = btfm_lua_check_cstring(L, 2);
    int keep = 0;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "keep_identity");
        keep = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    btfm_lua_box *box = btfm_lua_new_box(L, &writer_type);
    btfm_bids_writer *w;
    btfm_status st = btfm_bids_writer_new(&w, root, name);
    if (st) return btfm_lua_fail(L, st);
    box->handle = w;
    if ((st = btfm_bids_writer_keep_identity(w, keep))) return btfm_lua_fail(L, st);
    return 1;
}

/* w:add(ds, entities [, {format = "edf"|"bdf"|"brainvision", sidecar = json}]) */
static int writer_add(lua_State *L)
{
    btfm_bids_writer *w = (btfm_bids_writer *)btfm_lua_check_handle(L, 1, &writer_type);
    btfm_dataset *ds = btfm_lua_check_dataset(L, 2);
    const char *entities = query_text(L, 3);
    int format = BTFM_FORMAT_EDF;
    const char *sidecar = NULL;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        if (lua_getfield(L, 4, "format") != LUA_TNIL) {
            const char *name = btfm_lua_check_field_string(L, 4, "option format");
            format = strcmp(name, "bdf") == 0 ? BTFM_FORMAT_BDF
                   : strcmp(name, "brainvision") == 0 ? BTFM_FORMAT_BRAINVISION
                   : strcmp(name, "edf") == 0 ? BTFM_FORMAT_EDF : -1;
            if (format < 0)
                return btfm_lua_field_error(L, 4, "option format", "edf, bdf or brainvision expected");
        }
        if (lua_getfield(L, 4, "sidecar") != LUA_TNIL) sidecar = btfm_lua_check_field_string(L, 4, "option sidecar");
    }
    btfm_status st = btfm_bids_writer_add(w, ds, entities, format, sidecar, NULL);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int writer_finish(lua_State *L)
{
    btfm_status st = btfm_bids_writer_finish(
        (btfm_bids_writer *)btfm_lua_check_handle(L, 1, &writer_type));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg bids_methods[] = {
    {"query", bids_query},         {"recordings", bids_recordings},
    {"values", bids_values},       {"open", bids_open_recording},
    {"apply_sidecars", bids_apply_sidecars}, {"metadata", bids_metadata},
    {"participants", bids_participants}, {"read_table", bids_read_table},
    {"skipped", bids_skipped},     {"description", bids_description},
    {NULL, NULL},
};

static const luaL_Reg writer_methods[] = {
    {"add", writer_add}, {"finish", writer_finish}, {NULL, NULL},
};

static const luaL_Reg dataset_methods[] = {
    {"metadata", dataset_metadata},     {"meta_numbers", dataset_meta_numbers},
    {"meta_string", dataset_meta_string}, {"events_table", dataset_events_table},
    {"meta_length", dataset_meta_length}, {"meta_bool", dataset_meta_bool},
    {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"bids_open", module_bids_open}, {"bids_writer", module_bids_writer}, {NULL, NULL},
};

void btfm_lua_open_bids(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &bids_type, bids_methods, NULL);
    btfm_lua_register_type(L, &writer_type, writer_methods, NULL);
    luaL_getmetatable(L, "btfm.dataset");
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, dataset_methods, 0);
    lua_pop(L, 2);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
