/* btfm.corpus from Lua (doc/corpus.md): build(source, out_dir, key [, options]) and
 * loader(dir [, params]), whose batches() is a generic-for iterator over one epoch of
 * batch tables (data, mask, labels, ids as flat 1-based tables, in the C layout). */
#include <string.h>
#include "btfm_lua.h"

static btfm_status loader_set(void *l, int param, double value)
{
    return btfm_loader_set_param(l, param, value);
}

static btfm_status loader_get(const void *l, int param, double *value)
{
    return btfm_loader_get_param(l, param, value);
}

static void loader_free(void *l) { btfm_loader_free(l); }

static void loader_describe(lua_State *L, void *l)
{
    lua_pushfstring(L, "%d recordings, %d channels", (int)btfm_loader_n_recordings(l),
                    btfm_loader_n_channels(l));
}

static const btfm_lua_type loader_type = {
    "btfm.corpus.loader", BTFM_OBJECT_LOADER, loader_set, loader_get, loader_free,
    loader_describe,
};

static btfm_status builder_set(void *b, int param, double value)
{
    return btfm_corpus_builder_set_param(b, param, value);
}

static btfm_status builder_get(const void *b, int param, double *value)
{
    return btfm_corpus_builder_get_param(b, param, value);
}

static void builder_free(void *b) { btfm_corpus_builder_free(b); }

static void builder_describe(lua_State *L, void *b)
{
    (void)b;
    lua_pushliteral(L, "building");
}

static const btfm_lua_type builder_type = {
    "btfm.corpus.builder", BTFM_OBJECT_CORPUS, builder_set, builder_get, builder_free,
    builder_describe,
};

static const char *const text_settings[] = {"query", "channel_types", "keep_annotations",
                                            "label_column", "mask", "atlas", NULL};

static int is_text_setting(const char *name)
{
    for (int i = 0; text_settings[i]; i++)
        if (strcmp(name, text_settings[i]) == 0) return 1;
    return 0;
}

/* The options table at `arg` on builder `b`: text settings, files = {...} and parameters
 * by name. Returns 0 or the values pushed by btfm_lua_fail (the builder still open). */
static int apply_options(lua_State *L, int arg, btfm_corpus_builder *b)
{
    if (lua_isnoneornil(L, arg)) return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        if (lua_type(L, -2) != LUA_TSTRING) return luaL_argerror(L, arg, "option names must be strings");
        const char *name = lua_tostring(L, -2);
        btfm_status st = BTFM_OK;
        if (strcmp(name, "files") == 0) {
            luaL_checktype(L, -1, LUA_TTABLE);
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            for (lua_Integer i = 1; i <= n && st == BTFM_OK; i++) {
                lua_rawgeti(L, -1, i);
                const char *path = btfm_lua_check_field_string(L, arg, "option files");
                st = btfm_corpus_builder_add_file(b, path);
                lua_pop(L, 1);
            }
        } else if (is_text_setting(name)) {
            st = btfm_corpus_builder_set_text(b, name, btfm_lua_check_field_string(L, arg, name));
        } else {
            double value = lua_isboolean(L, -1) ? lua_toboolean(L, -1)
                                                : btfm_lua_check_field_number(L, arg, name);
            int param;
            st = btfm_param_find(BTFM_OBJECT_CORPUS, name, &param);
            if (!st) st = btfm_corpus_builder_set_param(b, param, value);
        }
        if (st) return btfm_lua_fail(L, st);
        lua_pop(L, 1);
    }
    return 0;
}

/* btfm.corpus.build(source or nil, out_dir, key [, options]) -> built, failed */
static int corpus_build(lua_State *L)
{
    lua_settop(L, 4);
    const char *source = btfm_lua_opt_cstring(L, 1);
    const char *out_dir = btfm_lua_check_cstring(L, 2);
    size_t key_len;
    const char *key = luaL_checklstring(L, 3, &key_len);
    /* the box owns the builder, so an option that raises cannot leak it */
    btfm_lua_box *box = btfm_lua_new_box(L, &builder_type);
    btfm_corpus_builder *b = NULL;
    btfm_status st = btfm_corpus_builder_new(&b);
    if (st) return btfm_lua_fail(L, st);
    box->handle = b;
    int64_t built = 0, failed = 0;
    int pushed = 0;
    if ((st = btfm_corpus_builder_set_key(b, key, key_len))) pushed = btfm_lua_fail(L, st);
    if (!pushed) pushed = apply_options(L, 4, b);
    if (!pushed && (st = btfm_corpus_build(b, source, out_dir, &built, &failed)))
        pushed = btfm_lua_fail(L, st);
    box->handle = NULL;
    btfm_corpus_builder_free(b);
    if (pushed) return pushed;
    lua_pushinteger(L, (lua_Integer)built);
    lua_pushinteger(L, (lua_Integer)failed);
    return 2;
}

/* btfm.corpus.loader(dir [, params]) -> loader */
static int corpus_loader(lua_State *L)
{
    lua_settop(L, 2);
    const char *dir = btfm_lua_check_cstring(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &loader_type);
    btfm_loader *l = NULL;
    btfm_status st = btfm_loader_new(&l, dir);
    if (st) return btfm_lua_fail(L, st);
    box->handle = l;
    int pushed = btfm_lua_set_params(L, 2, &loader_type, l);
    if (pushed) return pushed;
    lua_settop(L, 3); /* the box */
    return 1;
}

static void push_ints32(lua_State *L, const int32_t *v, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static void push_ints64(lua_State *L, const int64_t *v, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, (lua_Integer)v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* A batch as a table: size, channels, times, patches; data (size x channels x times,
 * size x times x channels when time_major, size x channels x patches x 5 band powers with
 * tokens = 1), mask (size x channels x patches, booleans),
 * labels, window_ids, recordings, starts, channel_ids (size x channels). */
static void push_batch(lua_State *L, btfm_loader *l, const btfm_batch *b)
{
    int64_t rows = btfm_batch_size(b), T = btfm_loader_window_len(l);
    int C = btfm_loader_n_channels(l);
    double patch = 0, tokens = 0;
    btfm_loader_get_param(l, BTFM_LOADER_PATCH_LEN, &patch);
    btfm_loader_get_param(l, BTFM_LOADER_TOKENS, &tokens);
    int64_t P = patch > 0 ? T / (int64_t)patch : 1;
    int64_t per_row = tokens == 1 ? (int64_t)C * P * BTFM_LOADER_N_BANDS : (int64_t)C * T;
    lua_createtable(L, 0, 11);
    lua_pushinteger(L, rows), lua_setfield(L, -2, "size");
    lua_pushinteger(L, C), lua_setfield(L, -2, "channels");
    lua_pushinteger(L, T), lua_setfield(L, -2, "times");
    lua_pushinteger(L, P), lua_setfield(L, -2, "patches");
    btfm_lua_push_floats(L, btfm_batch_data(b), (size_t)(rows * per_row));
    lua_setfield(L, -2, "data");
    const uint8_t *mask = btfm_batch_mask(b);
    lua_createtable(L, (int)(rows * C * P), 0);
    for (int64_t i = 0; i < rows * C * P; i++) {
        lua_pushboolean(L, mask[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "mask");
    push_ints32(L, btfm_batch_labels(b), (size_t)rows), lua_setfield(L, -2, "labels");
    push_ints64(L, btfm_batch_window_ids(b), (size_t)rows), lua_setfield(L, -2, "window_ids");
    push_ints32(L, btfm_batch_recordings(b), (size_t)rows), lua_setfield(L, -2, "recordings");
    push_ints64(L, btfm_batch_starts(b), (size_t)rows), lua_setfield(L, -2, "starts");
    push_ints32(L, btfm_batch_channel_ids(b), (size_t)(rows * C));
    lua_setfield(L, -2, "channel_ids");
}

/* l:next() -> batch table, or false at the end of an epoch (the loader then moves to the
 * next epoch); nil, message, status on failure. */
static int loader_next(lua_State *L)
{
    btfm_loader *l = btfm_lua_check_handle(L, 1, &loader_type);
    const btfm_batch *b = NULL;
    btfm_status st = btfm_loader_next(l, &b);
    if (st) return btfm_lua_fail(L, st);
    if (!b) lua_pushboolean(L, 0);
    else push_batch(L, l, b);
    return 1;
}

/* The generic-for step of l:batches(): the next batch, nil at the end; raises on failure
 * (a for loop cannot return an error). */
static int batches_step(lua_State *L)
{
    btfm_loader *l = btfm_lua_check_handle(L, 1, &loader_type);
    const btfm_batch *b = NULL;
    btfm_status st = btfm_loader_next(l, &b);
    if (st) return luaL_error(L, "btfm.corpus.loader: %s", btfm_last_error());
    if (!b) lua_pushnil(L);
    else push_batch(L, l, b);
    return 1;
}

/* for batch in l:batches() do ... end: one epoch */
static int loader_batches(lua_State *L)
{
    btfm_lua_check_handle(L, 1, &loader_type);
    lua_pushcfunction(L, batches_step);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* l:count([split]) -> windows, skipped (split 0 train, 1 val, 2 test, 3 all; default 3) */
static int loader_count(lua_State *L)
{
    btfm_loader *l = btfm_lua_check_handle(L, 1, &loader_type);
    int64_t n = 0, skipped = 0;
    btfm_status st = btfm_loader_count(l, (int)luaL_optinteger(L, 2, 3), &n, &skipped);
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, (lua_Integer)n);
    lua_pushinteger(L, (lua_Integer)skipped);
    return 2;
}

/* l:state() -> epoch, position; l:set_state(epoch, position) -> true */
static int loader_state(lua_State *L)
{
    int64_t epoch = 0, position = 0;
    btfm_status st = btfm_loader_state(btfm_lua_check_handle(L, 1, &loader_type), &epoch, &position);
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, (lua_Integer)epoch);
    lua_pushinteger(L, (lua_Integer)position);
    return 2;
}

static int loader_set_state(lua_State *L)
{
    btfm_loader *l = btfm_lua_check_handle(L, 1, &loader_type);
    btfm_status st = btfm_loader_set_state(l, luaL_checkinteger(L, 2), luaL_optinteger(L, 3, 0));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* l:channel_names() -> the corpus's channel vocabulary (channel id i is entry i + 1) */
static int loader_channel_names(lua_State *L)
{
    btfm_loader *l = btfm_lua_check_handle(L, 1, &loader_type);
    int n = btfm_loader_n_channel_names(l);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, btfm_loader_channel_name(l, i));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* l:window_len(), l:n_channels(), l:n_recordings(), l:sfreq() */
static int loader_window_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)btfm_loader_window_len(btfm_lua_check_handle(L, 1, &loader_type)));
    return 1;
}

static int loader_n_channels(lua_State *L)
{
    lua_pushinteger(L, btfm_loader_n_channels(btfm_lua_check_handle(L, 1, &loader_type)));
    return 1;
}

static int loader_n_recordings(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)btfm_loader_n_recordings(btfm_lua_check_handle(L, 1, &loader_type)));
    return 1;
}

static int loader_sfreq(lua_State *L)
{
    lua_pushnumber(L, btfm_loader_sfreq(btfm_lua_check_handle(L, 1, &loader_type)));
    return 1;
}

void btfm_lua_open_corpus(lua_State *L, int module_index)
{
    static const luaL_Reg methods[] = {
        {"next", loader_next},           {"batches", loader_batches},
        {"count", loader_count},         {"state", loader_state},
        {"set_state", loader_set_state}, {"channel_names", loader_channel_names},
        {"window_len", loader_window_len}, {"n_channels", loader_n_channels},
        {"n_recordings", loader_n_recordings}, {"sfreq", loader_sfreq},
        {NULL, NULL},
    };
    static const luaL_Reg no_metamethods[] = {{NULL, NULL}};
    static const luaL_Reg no_methods[] = {{NULL, NULL}};
    btfm_lua_register_type(L, &loader_type, methods, no_metamethods);
    btfm_lua_register_type(L, &builder_type, no_methods, no_metamethods);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, corpus_build);
    lua_setfield(L, -2, "build");
    lua_pushcfunction(L, corpus_loader);
    lua_setfield(L, -2, "loader");
    lua_setfield(L, module_index, "corpus");
}
