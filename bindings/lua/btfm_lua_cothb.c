/* btfm.cothb: the CoTHB branching controller as a Lua userdata. Signals cross the
 * boundary as a table keyed by signal name ({reliability = 0.9, terminal = 1}). */
#include <math.h>
#include <string.h>
#include "btfm_lua.h"

static btfm_status set_param_adapter(void *handle, int param, double value)
{
    return btfm_cothb_set_param((btfm_cothb *)handle, param, value);
}

static btfm_status get_param_adapter(const void *handle, int param, double *value)
{
    return btfm_cothb_get_param((const btfm_cothb *)handle, param, value);
}

static void free_adapter(void *handle) { btfm_cothb_free((btfm_cothb *)handle); }

static void describe(lua_State *L, void *handle)
{
    int64_t current = 0, steps = 0;
    btfm_cothb_progress((const btfm_cothb *)handle, &current, &steps, NULL);
    lua_pushfstring(L, "%I nodes, current %I, %I steps",
                    (lua_Integer)btfm_cothb_n_nodes((const btfm_cothb *)handle),
                    (lua_Integer)current, (lua_Integer)steps);
}

static const btfm_lua_type cothb_type = {
    "btfm.cothb", BTFM_OBJECT_COTHB, set_param_adapter, get_param_adapter, free_adapter,
    describe,
};

static btfm_cothb *check_cothb(lua_State *L, int arg)
{
    return (btfm_cothb *)btfm_lua_check_handle(L, arg, &cothb_type);
}

btfm_cothb *btfm_lua_check_cothb(lua_State *L, int arg) { return check_cothb(L, arg); }

btfm_lua_box *btfm_lua_new_cothb_box(lua_State *L) { return btfm_lua_new_box(L, &cothb_type); }

static int push_action(lua_State *L, int action, int64_t node, int64_t target)
{
    lua_pushstring(L, btfm_cothb_action_name(action));
    lua_pushinteger(L, (lua_Integer)node);
    lua_pushinteger(L, (lua_Integer)target);
    return 3;
}

/* c:next() -> action name, node, target */
static int cothb_next(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    int action;
    int64_t node, target;
    btfm_status st = btfm_cothb_next(c, &action, &node, &target);
    if (st) return btfm_lua_fail(L, st);
    return push_action(L, action, node, target);
}

/* c:last_action() -> the action next() returned last: name, node, target */
static int cothb_last_action(lua_State *L)
{
    int action;
    int64_t node, target;
    btfm_status st = btfm_cothb_last_action(check_cothb(L, 1), &action, &node, &target);
    if (st) return btfm_lua_fail(L, st);
    return push_action(L, action, node, target);
}

static int cothb_add_node(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    int64_t id;
    btfm_status st = btfm_cothb_add_node(c, (int64_t)luaL_checkinteger(L, 2), &id);
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

/* c:observe(node, {reliability = 0.9, outcome = 1, terminal = 1}) */
static int cothb_observe(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    lua_Integer node = luaL_checkinteger(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    int n = btfm_cothb_n_signals();
    double signals[16];
    for (int i = 0; i < n && i < 16; i++) signals[i] = NAN;
    lua_pushnil(L);
    while (lua_next(L, 3)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        int slot = -1;
        for (int i = 0; i < n; i++)
            if (strcmp(btfm_cothb_signal_name(i), name) == 0) slot = i;
        if (slot < 0) {
            btfm_lua_push_names(L, btfm_cothb_signal_name, 0);
            return luaL_argerror(L, 3, lua_pushfstring(L, "unknown signal '%s' (known: %s)",
                                                       name, lua_tostring(L, -1)));
        }
        signals[slot] = lua_isboolean(L, -1) ? lua_toboolean(L, -1)
                                              : btfm_lua_check_field_number(L, 3, name);
        lua_pop(L, 1);
    }
    btfm_status st = btfm_cothb_observe(c, (int64_t)node, signals, n);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int cothb_reliability(lua_State *L)
{
    double r;
    btfm_status st = btfm_cothb_reliability(check_cothb(L, 1), (int64_t)luaL_checkinteger(L, 2), &r);
    if (st) return btfm_lua_fail(L, st);
    lua_pushnumber(L, r);
    return 1;
}

/* c:reset(): a new problem, the configuration kept */
static int cothb_reset(lua_State *L)
{
    btfm_status st = btfm_cothb_reset(check_cothb(L, 1));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:set_answer(node, key): name the answer a level-0 terminal reached */
static int cothb_set_answer(lua_State *L)
{
    btfm_status st = btfm_cothb_set_answer(check_cothb(L, 1), (int64_t)luaL_checkinteger(L, 2),
                                           (int64_t)luaL_checkinteger(L, 3));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:answer() -> key, node, probability of the voted best answer; nil before any */
static int cothb_answer(lua_State *L)
{
    int64_t node, key;
    double p;
    btfm_status st = btfm_cothb_answer(check_cothb(L, 1), &node, &key, &p);
    if (st == BTFM_E_NOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, (lua_Integer)key);
    lua_pushinteger(L, (lua_Integer)node);
    lua_pushnumber(L, p);
    return 3;
}

/* c:answers() -> {{answer =, node =, probability =, paths =}, ...}, the whole vote */
static int cothb_answers(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    int64_t n = btfm_cothb_n_answers(c);
    if (n < 0) return btfm_lua_fail(L, (btfm_status)n);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        int64_t key, node, paths;
        double p;
        btfm_status st = btfm_cothb_answer_info(c, i, &key, &node, &p, &paths);
        if (st) return btfm_lua_fail(L, st);
        lua_createtable(L, 0, 4);
        lua_pushinteger(L, (lua_Integer)key);
        lua_setfield(L, -2, "answer");
        lua_pushinteger(L, (lua_Integer)node);
        lua_setfield(L, -2, "node");
        lua_pushnumber(L, p);
        lua_setfield(L, -2, "probability");
        lua_pushinteger(L, (lua_Integer)paths);
        lua_setfield(L, -2, "paths");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* c:node_strategy(node) -> the strategy number its step was asked with */
static int cothb_node_strategy(lua_State *L)
{
    int64_t s;
    btfm_status st = btfm_cothb_node_strategy(check_cothb(L, 1), (int64_t)luaL_checkinteger(L, 2), &s);
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, (lua_Integer)s);
    return 1;
}

/* c:strategies() -> {{reliability =, state = "actor" | "probe" | "monitored" |
 * "forgotten"}, ...}, strategy i at index i + 1 */
static int cothb_strategies(lua_State *L)
{
    static const char *const states[] = {"forgotten", "monitored", "actor", "probe"};
    btfm_cothb *c = check_cothb(L, 1);
    int64_t n = btfm_cothb_n_strategies(c);
    if (n < 0) return btfm_lua_fail(L, (btfm_status)n);
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        double r;
        int state;
        btfm_status st = btfm_cothb_strategy_info(c, i, &r, &state);
        if (st) return btfm_lua_fail(L, st);
        lua_createtable(L, 0, 2);
        lua_pushnumber(L, r);
        lua_setfield(L, -2, "reliability");
        lua_pushstring(L, state >= 0 && state < 4 ? states[state] : "unknown");
        lua_setfield(L, -2, "state");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* A calibration method by name ("none", "platt", "isotonic") at `arg`, default `def`. */
static int check_calibration(lua_State *L, int arg, const char *def)
{
    const char *name = luaL_optstring(L, arg, def);
    for (int m = 0; btfm_cothb_calibration_name(m); m++)
        if (strcmp(btfm_cothb_calibration_name(m), name) == 0) return m;
    return luaL_argerror(L, arg, lua_pushfstring(L, "unknown calibration '%s' (known: none, "
                                                 "platt, isotonic)", name));
}

/* Scores at `arg` and labels (1/0 or true/false) at arg + 1, of equal length: the labels
 * as an int block on the stack. */
static int *check_labelled(lua_State *L, int arg, double **scores, lua_Integer *n)
{
    *scores = btfm_lua_check_numbers(L, arg, -1, 1, n);
    luaL_checktype(L, arg + 1, LUA_TTABLE);
    if (luaL_len(L, arg + 1) != *n)
        luaL_argerror(L, arg + 1, lua_pushfstring(L, "%I labels for %I scores",
                                                  luaL_len(L, arg + 1), *n));
    int *labels = lua_newuserdatauv(L, (size_t)*n * sizeof(int), 0);
    for (lua_Integer i = 0; i < *n; i++) {
        lua_geti(L, arg + 1, i + 1);
        labels[i] = lua_isboolean(L, -1) ? lua_toboolean(L, -1) : (int)luaL_checkinteger(L, -1);
        lua_pop(L, 1);
    }
    return labels;
}

/* c:calibrate_reliability(scores, correct [, method = "platt"]) */
static int cothb_calibrate_reliability(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    lua_settop(L, 4); /* the blocks below are pushed after the optional arguments */
    int method = check_calibration(L, 4, "platt");
    double *scores;
    lua_Integer n;
    int *labels = check_labelled(L, 2, &scores, &n);
    btfm_status st = btfm_cothb_calibrate_reliability(c, method, scores, labels, (int64_t)n);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:reliability_of_score(score) -> P(step correct) */
static int cothb_reliability_of_score(lua_State *L)
{
    double p;
    btfm_status st = btfm_cothb_reliability_of_score(check_cothb(L, 1), luaL_checknumber(L, 2), &p);
    if (st) return btfm_lua_fail(L, st);
    lua_pushnumber(L, p);
    return 1;
}

/* c:observe_score(node, score [, signal = "reliability"]) */
static int cothb_observe_score(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    const char *name = luaL_optstring(L, 4, "reliability");
    int slot = -1;
    for (int i = 0; i < btfm_cothb_signal_count(); i++)
        if (strcmp(btfm_cothb_signal_name(i), name) == 0) slot = i;
    if (slot < 0) return luaL_argerror(L, 4, lua_pushfstring(L, "unknown signal '%s'", name));
    btfm_status st = btfm_cothb_observe_score(c, (int64_t)luaL_checkinteger(L, 2),
                                              slot, luaL_checknumber(L, 3));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* The numbers of the table at `arg` (a sequence of n numbers) into out; `what` names it. */
static void check_row(lua_State *L, int arg, float *out, lua_Integer n, const char *what)
{
    for (lua_Integer j = 1; j <= n; j++) {
        lua_geti(L, arg, j);
        out[j - 1] = (float)btfm_lua_check_field_number(L, arg, what);
        lua_pop(L, 1);
    }
}

/* A Lua-owned block of n floats (freed by the collector, so an error never leaks it). */
static float *float_block(lua_State *L, lua_Integer n)
{
    return lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof(float), 0);
}

/* c:calibrate_features({{f1, f2, ...}, ...}, {correct, ...} [, l2 = 1]) */
static int cothb_calibrate_features(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    double l2 = luaL_optnumber(L, 4, 1.0);
    lua_settop(L, 4);
    lua_Integer n = luaL_len(L, 2), p = 0;
    if (luaL_len(L, 3) != n) return luaL_argerror(L, 3, "one label per row of features");
    if (n > 0) {
        lua_geti(L, 2, 1);
        if (!lua_istable(L, -1)) return btfm_lua_field_error(L, 2, "rows[1]", "table expected");
        p = luaL_len(L, -1);
        lua_pop(L, 1);
    }
    float *x = float_block(L, n * p);
    int32_t *y = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *y, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 2, i);
        if (!lua_istable(L, -1) || luaL_len(L, -1) != p)
            return btfm_lua_field_error(L, 2, "rows", "every row a table of the same length");
        check_row(L, lua_gettop(L), x + (i - 1) * p, p, "features");
        lua_pop(L, 1);
        lua_geti(L, 3, i);
        y[i - 1] = (int32_t)(lua_isboolean(L, -1) ? lua_toboolean(L, -1)
                                                    : btfm_lua_check_field_integer(L, 3, "correct"));
        lua_pop(L, 1);
    }
    btfm_status st = btfm_cothb_calibrate_features(c, x, (int64_t)n, (int64_t)p, y, l2);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:reliability_of_features({f1, f2, ...}) -> P(step correct) */
static int cothb_reliability_of_features(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer p = luaL_len(L, 2);
    float *x = float_block(L, p);
    check_row(L, 2, x, p, "features");
    double prob;
    btfm_status st = btfm_cothb_reliability_of_features(c, &prob, x, (int64_t)p);
    if (st) return btfm_lua_fail(L, st);
    lua_pushnumber(L, prob);
    return 1;
}

/* c:observe_features(node, {f1, f2, ...}) observes them as the reliability */
static int cothb_observe_features(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    int64_t node = (int64_t)luaL_checkinteger(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer p = luaL_len(L, 3);
    float *x = float_block(L, p);
    check_row(L, 3, x, p, "features");
    btfm_status st = btfm_cothb_observe_features(c, node, BTFM_COTHB_SIGNAL_RELIABILITY, x,
                                                 (int64_t)p);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:feature_calibration() -> {weights = {...}, intercept =, dprime =}, or nil without one */
static int cothb_feature_calibration(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    int64_t n = btfm_cothb_n_features(c);
    if (n <= 0) {
        lua_pushnil(L);
        return 1;
    }
    double *w = lua_newuserdatauv(L, (size_t)n * sizeof *w, 0), b, d;
    btfm_status st = btfm_cothb_feature_weights(c, w, (size_t)n, &b, &d);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, 0, 3);
    lua_createtable(L, (int)n, 0);
    for (int64_t j = 0; j < n; j++) {
        lua_pushnumber(L, w[j]);
        lua_seti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "weights");
    lua_pushnumber(L, b);
    lua_setfield(L, -2, "intercept");
    lua_pushnumber(L, d);
    lua_setfield(L, -2, "dprime");
    return 1;
}

/* btfm.cothb_signal_quality(scores, correct [, method = "isotonic" [, folds = 5]]) ->
 * {n =, base_rate =, auc =, ...} */
static int module_signal_quality(lua_State *L)
{
    lua_settop(L, 4); /* the blocks below are pushed after the optional arguments */
    int method = check_calibration(L, 3, "isotonic");
    int folds = (int)luaL_optinteger(L, 4, 5);
    double *scores;
    lua_Integer n;
    int *labels = check_labelled(L, 1, &scores, &n);
    int count = btfm_cothb_quality_count();
    double report[32];
    if (count > 32) count = 32;
    btfm_status st = btfm_cothb_signal_quality(scores, labels, (int64_t)n, method, folds, report,
                                               count);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, 0, count);
    for (int i = 0; i < count; i++) {
        lua_pushnumber(L, report[i]);
        lua_setfield(L, -2, btfm_cothb_quality_name(i));
    }
    return 1;
}

/* c:trace() -> the JSON Lines text */
static int cothb_trace(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    size_t size = 0, written = 0;
    btfm_status st = btfm_cothb_trace_jsonl(c, NULL, 0, &size);
    if (st) return btfm_lua_fail(L, st);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, size + 1);
    st = btfm_cothb_trace_jsonl(c, out, size + 1, &written);
    if (st) return btfm_lua_fail(L, st);
    luaL_pushresultsize(&b, written);
    return 1;
}

static int cothb_to_string(lua_State *L)
{
    btfm_cothb *c = check_cothb(L, 1);
    size_t size = 0;
    btfm_status st = btfm_cothb_save_buffer(c, NULL, 0, &size);
    if (st) return btfm_lua_fail(L, st);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, size);
    st = btfm_cothb_save_buffer(c, out, size, &size);
    if (st) return btfm_lua_fail(L, st);
    luaL_pushresultsize(&b, size);
    return 1;
}

static int cothb_save(lua_State *L)
{
    btfm_status st = btfm_cothb_save(check_cothb(L, 1), btfm_lua_check_cstring(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int cothb_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)btfm_cothb_n_nodes(check_cothb(L, 1)));
    return 1;
}

/* btfm.cothb([params]) -> a new controller; params is a table name -> value. */
static int module_cothb(lua_State *L)
{
    int has_params = !lua_isnoneornil(L, 1);
    if (has_params) luaL_checktype(L, 1, LUA_TTABLE);
    btfm_lua_box *box = btfm_lua_new_box(L, &cothb_type);
    btfm_cothb *c;
    btfm_status st = btfm_cothb_new(&c);
    if (st) return btfm_lua_fail(L, st);
    box->handle = c;
    int index = lua_gettop(L);
    if (has_params) {
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            int param;
            if (lua_type(L, -2) != LUA_TSTRING)
                return luaL_argerror(L, 1, "parameter names must be strings");
            const char *name = lua_tostring(L, -2);
            st = btfm_param_find(BTFM_OBJECT_COTHB, name, &param);
            double value = lua_isboolean(L, -1) ? lua_toboolean(L, -1)
                                                : btfm_lua_check_field_number(L, 1, name);
            if (!st) st = btfm_cothb_set_param(c, param, value);
            if (st) return btfm_lua_fail(L, st);
            lua_pop(L, 1);
        }
    }
    lua_settop(L, index);
    return 1;
}

/* btfm.cothb_load(path) / btfm.cothb_load_string(bytes) */
static int module_cothb_load(lua_State *L)
{
    const char *path = btfm_lua_check_cstring(L, 1);
    btfm_lua_box *box = btfm_lua_new_box(L, &cothb_type);
    btfm_cothb *c;
    btfm_status st = btfm_cothb_load(&c, path);
    if (st) return btfm_lua_fail(L, st);
    box->handle = c;
    return 1;
}

static int module_cothb_load_string(lua_State *L)
{
    size_t size;
    const char *bytes = luaL_checklstring(L, 1, &size);
    btfm_lua_box *box = btfm_lua_new_box(L, &cothb_type);
    btfm_cothb *c;
    btfm_status st = btfm_cothb_load_buffer(&c, bytes, size);
    if (st) return btfm_lua_fail(L, st);
    box->handle = c;
    return 1;
}

static const luaL_Reg cothb_methods[] = {
    {"next", cothb_next},         {"last_action", cothb_last_action},
    {"add_node", cothb_add_node},
    {"observe", cothb_observe},   {"reliability", cothb_reliability},
    {"trace", cothb_trace},       {"to_string", cothb_to_string},
    {"calibrate_reliability", cothb_calibrate_reliability},
    {"reliability_of_score", cothb_reliability_of_score},
    {"observe_score", cothb_observe_score},
    {"calibrate_features", cothb_calibrate_features},
    {"reliability_of_features", cothb_reliability_of_features},
    {"observe_features", cothb_observe_features},
    {"feature_calibration", cothb_feature_calibration},
    {"reset", cothb_reset},       {"set_answer", cothb_set_answer},
    {"answer", cothb_answer},     {"answers", cothb_answers},
    {"node_strategy", cothb_node_strategy}, {"strategies", cothb_strategies},
    {"save", cothb_save},         {NULL, NULL},
};

static const luaL_Reg cothb_metamethods[] = {
    {"__len", cothb_len},
    {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"cothb", module_cothb},
    {"cothb_load", module_cothb_load},
    {"cothb_from_string", module_cothb_load_string},
    {"cothb_load_string", module_cothb_load_string}, /* former name of cothb_from_string */
    {"cothb_signal_quality", module_signal_quality},
    {NULL, NULL},
};

void btfm_lua_open_cothb(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &cothb_type, cothb_methods, cothb_metamethods);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
