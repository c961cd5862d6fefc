/* Shared pieces of the Lua module "btfm": the error convention, checked arguments and
 * the generic handle type (metatable, close, parameters) every handle binding reuses. */
#ifndef BTFM_LUA_H
#define BTFM_LUA_H

#include <lua.h>
#include <lauxlib.h>
#include <btfm/btfm.h>

#if defined(_WIN32)
#  define BTFM_LUA_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#  define BTFM_LUA_EXPORT __attribute__((visibility("default")))
#else
#  define BTFM_LUA_EXPORT
#endif

/* The only symbol the module exports. */
BTFM_LUA_EXPORT LUALIB_API int luaopen_btfm(lua_State *L);

/* A kind of handle as seen from Lua. Adapters take void * so one set of generic
 * methods (close, __gc, __close, __tostring, set_param, get_param, params) serves every
 * handle type; each binding file defines one of these and registers it. */
typedef struct btfm_lua_type {
    const char *name;  /* metatable name and message prefix, e.g. "btfm.container" */
    int object_kind;   /* BTFM_OBJECT_* for the parameter methods; 0 when it has none */
    btfm_status (*set_param)(void *handle, int param, double value);
    btfm_status (*get_param)(const void *handle, int param, double *value);
    void (*free)(void *handle);
    /* Push a short description for __tostring (the text inside the parentheses). */
    void (*describe)(lua_State *L, void *handle);
} btfm_lua_type;

/* The userdata of every handle: NULL once closed, so closing twice is harmless. */
typedef struct btfm_lua_box {
    void *handle;
} btfm_lua_box;

/* Create the metatable of `type`: `methods` plus the generic ones under __index,
 * `metamethods` plus __gc, __close and __tostring. Each function receives `type` as
 * upvalue 1. Leaves the stack unchanged. */
void btfm_lua_register_type(lua_State *L, const btfm_lua_type *type, const luaL_Reg *methods,
                            const luaL_Reg *metamethods);

/* Push a new, empty box of `type` (handle NULL). Create the box before the handle, so
 * a Lua memory error can never leak a handle; then store the handle in it. */
btfm_lua_box *btfm_lua_new_box(lua_State *L, const btfm_lua_type *type);

/* The open handle at `arg`; raises "<type>: used after close" when it was closed. */
void *btfm_lua_check_handle(lua_State *L, int arg, const btfm_lua_type *type);

/* The error convention of every fallible function: push nil, btfm_last_error() and
 * btfm_status_name(status); return 3. Call it right after the failing library call. */
int btfm_lua_fail(lua_State *L, int status);

/* The same convention for failures the module detects itself, with its own message. */
int btfm_lua_fail_message(lua_State *L, int status, const char *fmt, ...);

/* A string argument without NUL bytes (the C API takes NUL-terminated strings, so an
 * embedded NUL would silently cut it). The opt_ variant returns NULL for none/nil. */
const char *btfm_lua_check_cstring(lua_State *L, int arg);
const char *btfm_lua_opt_cstring(lua_State *L, int arg);

/* An integer argument that fits a C int. */
int btfm_lua_check_int(lua_State *L, int arg);

/* Elements and fields of table arguments: the value on top of the stack, taken from the
 * table at argument `arg` and called `what` in messages ("picks[2]", "option nperseg").
 * A wrong value raises "bad argument #arg to 'read' (picks[2]: number expected, got
 * table)", naming the argument the caller wrote, never a stack slot. */
lua_Number btfm_lua_check_field_number(lua_State *L, int arg, const char *what);
lua_Integer btfm_lua_check_field_integer(lua_State *L, int arg, const char *what);
const char *btfm_lua_check_field_string(lua_State *L, int arg, const char *what);
/* Raise "bad argument #arg to 'f' (what: message)". */
int btfm_lua_field_error(lua_State *L, int arg, const char *what, const char *message);

/* Options tables: the field `key` of the table at `arg` (`def` when the argument is none
 * or nil or lacks the field), checked and called "option key" in messages. */
const char *btfm_lua_opt_field_string(lua_State *L, int arg, const char *key, const char *def);
lua_Integer btfm_lua_opt_field_integer(lua_State *L, int arg, const char *key, lua_Integer def);
lua_Number btfm_lua_opt_field_number(lua_State *L, int arg, const char *key, lua_Number def);

/* The position of `name` in the NULL-terminated `names`; otherwise raises at argument
 * `arg`: "unknown <what> 'name' (known: a, b, c)". */
int btfm_lua_check_choice(lua_State *L, int arg, const char *what, const char *name,
                          const char *const *names);

/* Set every entry {name = number or boolean} of the table at `arg` (none or nil: nothing)
 * as a parameter of `handle`. Returns 0, or the number of values pushed by
 * btfm_lua_fail for the first one the library refuses. */
int btfm_lua_set_params(lua_State *L, int arg, const btfm_lua_type *type, void *handle);

/* The BTFM_OBJECT_* number of an object kind name ("container"), 0 if unknown; every
 * number up to BTFM_LUA_MAX_KIND is asked (numbers are reserved per layer, so a build
 * may skip some). */
#define BTFM_LUA_MAX_KIND 255
int btfm_lua_object_kind(const char *name);

/* Push "a, b, c": the names name_of(first), name_of(first + 1), ... until NULL. Used
 * for the "known: ..." part of messages about unknown names. */
void btfm_lua_push_names(lua_State *L, const char *(*name_of)(int), int first);

/* Push a parameter value as Lua sees it: integers for int and bool parameters,
 * floats for real ones. */
void btfm_lua_push_param_value(lua_State *L, int param_type, double value);

/* Register each handle type (one function per binding file). */
void btfm_lua_open_container(lua_State *L, int module_index);
void btfm_lua_open_dataset(lua_State *L, int module_index);
void btfm_lua_open_cothb(lua_State *L, int module_index);
void btfm_lua_open_cothb_tuner(lua_State *L, int module_index); /* after open_cothb */
/* Controllers for other binding files (the tuner's episodes): a new empty box, and the
 * open controller at `arg`. */
btfm_lua_box *btfm_lua_new_cothb_box(lua_State *L);
btfm_cothb *btfm_lua_check_cothb(lua_State *L, int arg);
void btfm_lua_open_align(lua_State *L, int module_index);
void btfm_lua_open_table(lua_State *L, int module_index);
void btfm_lua_open_bids(lua_State *L, int module_index); /* after btfm_lua_open_dataset */

/* Datasets made by other binding files (btfm_lua_bids.c): a new empty box, and the open
 * dataset at `arg`. */
btfm_lua_box *btfm_lua_new_dataset_box(lua_State *L);
btfm_dataset *btfm_lua_check_dataset(lua_State *L, int arg);
void btfm_lua_open_signal(lua_State *L, int module_index);
void btfm_lua_open_glm(lua_State *L, int module_index);
/* Plain functions, no handle type: btfm_lua_spectrum.c. */
void btfm_lua_open_spectrum(lua_State *L, int module_index);
/* btfm.sim: simulated sessions (btfm_lua_sim.c). */
void btfm_lua_open_sim(lua_State *L, int module_index);
/* btfm.model: linear models, noise ceilings, RDMs (btfm_lua_model.c). */
void btfm_lua_open_model(lua_State *L, int module_index);
/* btfm.reward_head: RLHB reward heads (btfm_lua_reward.c), which also opens
 * btfm.reward_features, the feature builder (btfm_lua_reward_features.c). */
void btfm_lua_open_reward(lua_State *L, int module_index);
void btfm_lua_open_reward_features(lua_State *L, int module_index);
/* The open aligner at `arg` (btfm_lua_align.c). */
btfm_aligner *btfm_lua_check_aligner(lua_State *L, int arg);
/* fNIRS functions over datasets: btfm_lua_fnirs.c (after btfm_lua_open_dataset). */
void btfm_lua_open_fnirs(lua_State *L, int module_index);
/* btfm.stream: real-time streams (btfm_lua_stream.c). */
void btfm_lua_open_stream(lua_State *L, int module_index);
/* btfm.corpus: corpus builds and loader iterators (btfm_lua_corpus.c). */
void btfm_lua_open_corpus(lua_State *L, int module_index);

/* A flat table of numbers at `arg` as a float (as_double 0) or double block owned by a
 * userdata pushed on the stack. count >= 0: exactly count values; count < 0: any
 * non-empty table, its length in *n_out (may be NULL). Raises on anything else. */
void *btfm_lua_check_numbers(lua_State *L, int arg, lua_Integer count, int as_double,
                             lua_Integer *n_out);
/* The same for a rows x cols matrix (C order), both at least 1; raises naming both. */
void *btfm_lua_check_matrix(lua_State *L, int arg, lua_Integer rows, lua_Integer cols,
                            int as_double);
/* The same for the value on top of the stack, an option of the table at `arg` that
 * messages call `what` ("option confounds"). */
void *btfm_lua_check_field_matrix(lua_State *L, int arg, const char *what, lua_Integer rows,
                                  lua_Integer cols, int as_double);
/* Push n floats or doubles as a table (1-based). */
void btfm_lua_push_floats(lua_State *L, const float *x, size_t n);
void btfm_lua_push_doubles(lua_State *L, const double *x, size_t n);

#endif
