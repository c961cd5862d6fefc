/* btfm.dataset: a recording opened with btfm.open(path [, opts]), as a Lua userdata.
 * Channels are numbered from 1 as in the channels() table (or named); sample offsets
 * are 0-based and windows half-open, [start, stop), as in the C API and Python.
 * Samples cross the boundary as flat time-major tables plus a shape {rows, columns}. */
#include <stdint.h>
#include <string.h>
#include "btfm_lua.h"

static void free_adapter(void *handle)
{
    btfm_dataset_free((btfm_dataset *)handle);
}

static void describe(lua_State *L, void *handle)
{
    const btfm_dataset *ds = (const btfm_dataset *)handle;
    lua_pushfstring(L, "%s, %d channels x %I samples at %f Hz",
                    btfm_format_name(btfm_dataset_format(ds)), btfm_dataset_n_channels(ds),
                    (lua_Integer)btfm_dataset_n_times(ds), btfm_dataset_sfreq(ds));
}

static const btfm_lua_type dataset_type = {"btfm.dataset", 0, NULL, NULL, free_adapter, describe};

static btfm_dataset *check_dataset(lua_State *L, int arg)
{
    return (btfm_dataset *)btfm_lua_check_handle(L, arg, &dataset_type);
}

btfm_lua_box *btfm_lua_new_dataset_box(lua_State *L) { return btfm_lua_new_box(L, &dataset_type); }

btfm_dataset *btfm_lua_check_dataset(lua_State *L, int arg) { return check_dataset(L, arg); }

/* A format name ("edf") as its number; raises listing the known names. */
static int check_format(lua_State *L, int arg, const char *name)
{
    const char *known;
    for (int format = 0; (known = btfm_format_name(format)) != NULL; format++)
        if (strcmp(known, name) == 0) return format;
    btfm_lua_push_names(L, btfm_format_name, 0);
    return luaL_argerror(L, arg, lua_pushfstring(L, "unknown format '%s' (known: %s)", name,
                                                 lua_tostring(L, -1)));
}

/* Options table at `arg` (or none): format = "edf" ..., and one boolean flag. */
static int opt_format(lua_State *L, int arg, const char *flag_name, unsigned flag,
                      unsigned *flags)
{
    int format = BTFM_FORMAT_AUTO;
    *flags = 0;
    if (lua_isnoneornil(L, arg)) return format;
    luaL_checktype(L, arg, LUA_TTABLE);
    if (lua_getfield(L, arg, "format") != LUA_TNIL)
        format = check_format(L, arg, btfm_lua_check_field_string(L, arg, "option format"));
    lua_pop(L, 1);
    lua_getfield(L, arg, flag_name);
    if (lua_toboolean(L, -1)) *flags |= flag;
    lua_pop(L, 1);
    return format;
}

/* A channel given as a 1-based index or a name, as a 0-based index; raises when unknown.
 * The argument `arg` itself when `what` is NULL, else the value on top of the stack, an
 * element of the table at `arg` that messages call `what` ("picks[2]"). */
static int check_channel(lua_State *L, btfm_dataset *ds, int arg, const char *what)
{
    int at = what ? lua_gettop(L) : arg;
    const char *problem;
    if (lua_type(L, at) == LUA_TSTRING) {
        int channel;
        const char *name = what ? btfm_lua_check_field_string(L, arg, what)
                                : btfm_lua_check_cstring(L, arg);
        if (btfm_dataset_find_channel(ds, name, &channel) == BTFM_OK) return channel;
        problem = btfm_last_error();
    } else {
        lua_Integer index = what ? btfm_lua_check_field_integer(L, arg, what)
                                 : luaL_checkinteger(L, arg);
        if (index >= 1 && index <= btfm_dataset_n_channels(ds)) return (int)index - 1;
        problem = lua_pushfstring(L, "channel %I is outside [1, %d]", index,
                                  btfm_dataset_n_channels(ds));
    }
    return what ? btfm_lua_field_error(L, arg, what, problem) : luaL_argerror(L, arg, problem);
}

/* Window [start, stop) within [0, limit]: start defaults to 0, stop to limit. */
static void check_window(lua_State *L, int arg, int64_t limit, int64_t *first, int64_t *count)
{
    lua_Integer start = luaL_optinteger(L, arg, 0);
    lua_Integer stop = lua_isnoneornil(L, arg + 1) ? (lua_Integer)limit
                                                   : luaL_checkinteger(L, arg + 1);
    if (stop < start)
        luaL_argerror(L, arg + 1, lua_pushfstring(L, "stop (%I) is before start (%I)", stop,
                                                  start));
    *first = (int64_t)start;
    *count = (int64_t)(stop - start);
}

/* Scratch memory owned by a Lua userdata, so an error can never leak it. */
static void *scratch(lua_State *L, int64_t n, size_t size)
{
    if (n < 0 || (uint64_t)n > SIZE_MAX / size / 2) luaL_error(L, "btfm.dataset: window too large");
    return lua_newuserdatauv(L, n ? (size_t)n * size : 1, 0);
}

/* ds:read([start [, stop [, picks [, out]]]]) -> values (flat, time-major), {rows, columns}.
 * The values go into `out` when given (a table reused across reads: its first rows x
 * columns entries are overwritten, the rest left as they are), else into a new table.
 * The library reads a block of rows at a time into one small buffer, so a large read
 * touches no fresh memory beyond the table itself. */
enum { READ_BLOCK_FLOATS = 1 << 16 };

static int dataset_read(lua_State *L)
{
    lua_settop(L, 5); /* the arguments keep their places below the scratch values */
    btfm_dataset *ds = check_dataset(L, 1);
    int n_picks = btfm_dataset_n_channels(ds);
    int *picks = NULL;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_Integer n = luaL_len(L, 4);
        if (n > INT32_MAX) luaL_argerror(L, 4, "too many picks");
        n_picks = (int)n;
        picks = (int *)scratch(L, n_picks, sizeof *picks);
        for (int j = 0; j < n_picks; j++) {
            lua_geti(L, 4, j + 1);
            char what[32];
            snprintf(what, sizeof what, "picks[%d]", j + 1);
            picks[j] = check_channel(L, ds, 4, what);
            lua_pop(L, 1);
        }
    }
    if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
    int64_t first, count;
    check_window(L, 2, btfm_dataset_n_times(ds), &first, &count);
    if (count > 0 && n_picks > 0 && count > INT64_MAX / n_picks)
        return luaL_error(L, "btfm.dataset: window too large");
    int width = n_picks > 0 ? n_picks : 1;
    int64_t block = READ_BLOCK_FLOATS / width > 0 ? READ_BLOCK_FLOATS / width : 1;
    if (block > count) block = count;
    float *buf = (float *)scratch(L, block * width, sizeof *buf);
    if (lua_isnoneornil(L, 5)) {
        int64_t total = count * n_picks;
        lua_createtable(L, total > INT32_MAX ? 0 : (int)total, 0);
    } else {
        lua_pushvalue(L, 5);
    }
    int table = lua_gettop(L);
    for (int64_t done = 0; done < count;) {
        int64_t n = count - done < block ? count - done : block;
        btfm_status st = btfm_dataset_read(ds, first + done, n, picks, n_picks, buf);
        if (st) return btfm_lua_fail(L, st);
        lua_Integer at = (lua_Integer)(done * n_picks);
        for (int64_t i = 0; i < n * n_picks; i++) {
            lua_pushnumber(L, (lua_Number)buf[i]);
            lua_rawseti(L, table, at + i + 1);
        }
        done += n;
    }
    lua_createtable(L, 2, 0);
    lua_pushinteger(L, (lua_Integer)count);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, n_picks);
    lua_rawseti(L, -2, 2);
    return 2;
}

/* ds:data() -> ds:read(0, n_times) */
static int dataset_data(lua_State *L)
{
    lua_settop(L, 1);
    return dataset_read(L);
}

/* ds:read_native(channel [, start [, stop]]) -> values at the channel's own rate */
static int dataset_read_native(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int channel = check_channel(L, ds, 2, NULL);
    int64_t first, count;
    check_window(L, 3, btfm_dataset_channel_n_samples(ds, channel), &first, &count);
    float *out = (float *)scratch(L, count, sizeof *out);
    btfm_status st = btfm_dataset_read_native(ds, channel, first, count, out);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_floats(L, out, count);
    return 1;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value ? value : "");
    lua_setfield(L, -2, key);
}

static void set_number(lua_State *L, const char *key, double value)
{
    lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, const char *key, lua_Integer value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}

static void set_xyz(lua_State *L, const char *key, const double *xyz)
{
    btfm_lua_push_doubles(L, xyz, 3);
    lua_setfield(L, -2, key);
}

/* position = {x, y, z} (metres) when known; nirs = {source=, detector=, wavelength=,
 * source_pos=, detector_pos=} for fNIRS channels. */
static void set_geometry(lua_State *L, const btfm_dataset *ds, int ch)
{
    double xyz[3], src[3], det[3], wavelength;
    int source, detector;
    if (btfm_dataset_channel_position(ds, ch, xyz) == BTFM_OK) set_xyz(L, "position", xyz);
    if (btfm_dataset_nirs_channel(ds, ch, &source, &detector, &wavelength, src, det)) return;
    lua_createtable(L, 0, 5);
    set_integer(L, "source", source);
    set_integer(L, "detector", detector);
    set_number(L, "wavelength", wavelength);
    set_xyz(L, "source_pos", src);
    set_xyz(L, "detector_pos", det);
    lua_setfield(L, -2, "nirs");
}

/* ds:channels() -> {{index=, name=, type=, unit=, rate=, n_samples=, bad=[, position=]
 * [, nirs=]}, ...} */
static int dataset_channels(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int n = btfm_dataset_n_channels(ds);
    lua_createtable(L, n, 0);
    for (int ch = 0; ch < n; ch++) {
        lua_createtable(L, 0, 7);
        set_integer(L, "index", ch + 1);
        set_string(L, "name", btfm_dataset_channel_name(ds, ch));
        set_string(L, "type", btfm_channel_type_name(btfm_dataset_channel_type(ds, ch)));
        set_string(L, "unit", btfm_dataset_channel_unit(ds, ch));
        set_number(L, "rate", btfm_dataset_channel_rate(ds, ch));
        set_integer(L, "n_samples", (lua_Integer)btfm_dataset_channel_n_samples(ds, ch));
        lua_pushboolean(L, btfm_dataset_channel_bad(ds, ch) == 1);
        lua_setfield(L, -2, "bad");
        set_geometry(L, ds, ch);
        lua_rawseti(L, -2, ch + 1);
    }
    return 1;
}

/* ds:set_channel_type(channel, "eog") */
static int dataset_set_channel_type(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int channel = check_channel(L, ds, 2, NULL);
    const char *name = btfm_lua_check_cstring(L, 3);
    int type = btfm_channel_type_from_name(name);
    if (!type) {
        btfm_lua_push_names(L, btfm_channel_type_name, 1);
        return btfm_lua_fail_message(L, BTFM_E_INVALID, "btfm.dataset: unknown channel type "
                                     "'%s' (known: %s)", name, lua_tostring(L, -1));
    }
    btfm_status st = btfm_dataset_set_channel_type(ds, channel, type);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ds:set_channel_bad(channel, true|false) */
static int dataset_set_channel_bad(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int channel = check_channel(L, ds, 2, NULL);
    luaL_checktype(L, 3, LUA_TBOOLEAN);
    btfm_status st = btfm_dataset_set_channel_bad(ds, channel, lua_toboolean(L, 3));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ds:set_channel_position(channel, {x, y, z} | nil) -> true (metres; nil clears) */
static int dataset_set_channel_position(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int channel = check_channel(L, ds, 2, NULL);
    const double *xyz = lua_isnoneornil(L, 3) ? NULL
                                              : (const double *)btfm_lua_check_numbers(L, 3, 3, 1, NULL);
    btfm_status st = btfm_dataset_set_channel_position(ds, channel, xyz);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ds:set_nirs_channel(channel, source, detector, wavelength_nm [, source_pos, detector_pos])
 * -> true (wavelength 0/0 for haemoglobin channels; positions {x, y, z} in metres) */
static int dataset_set_nirs_channel(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int channel = check_channel(L, ds, 2, NULL);
    int source = btfm_lua_check_int(L, 3), detector = btfm_lua_check_int(L, 4);
    double wavelength = luaL_checknumber(L, 5);
    const double *src = lua_isnoneornil(L, 6) ? NULL : (const double *)btfm_lua_check_numbers(L, 6, 3, 1, NULL);
    const double *det = lua_isnoneornil(L, 7) ? NULL : (const double *)btfm_lua_check_numbers(L, 7, 3, 1, NULL);
    btfm_status st = btfm_dataset_set_nirs_channel(ds, channel, source, detector, wavelength, src, det);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ds:coordinate_frame() -> "head", a BIDS coordinate system, or "unknown" */
static int dataset_coordinate_frame(lua_State *L)
{
    lua_pushstring(L, btfm_dataset_coordinate_frame(check_dataset(L, 1)));
    return 1;
}

/* ds:set_coordinate_frame(name) -> true */
static int dataset_set_coordinate_frame(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    btfm_status st = btfm_dataset_set_coordinate_frame(ds, btfm_lua_check_cstring(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ds:events() -> {{onset=, duration=, type=, label=, code=}, ...} sorted by onset */
static int dataset_events(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int64_t n = btfm_dataset_n_events(ds);
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        double onset, duration;
        const char *type, *label;
        int code;
        btfm_status st = btfm_dataset_event(ds, i, &onset, &duration, &type, &label, &code);
        if (st) return btfm_lua_fail(L, st);
        lua_createtable(L, 0, 5);
        set_number(L, "onset", onset);
        set_number(L, "duration", duration);
        set_string(L, "type", type);
        set_string(L, "label", label);
        set_integer(L, "code", code);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ds:select_events([label]) -> {i, ...}: 1-based indices into ds:events() of the events
 * `label` selects (MNE's /-separated tags: "stim" selects "stim/left"); no label: every
 * event but gaps. No match fails with a message listing the labels there are. */
static int dataset_select_events(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    const char *label = btfm_lua_opt_cstring(L, 2);
    int64_t n = 0;
    btfm_status st = btfm_dataset_select_events(ds, label, NULL, 0, &n);
    if (st) return btfm_lua_fail(L, st);
    int64_t *index = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)n, 0);
    if ((st = btfm_dataset_select_events(ds, label, index, n, &n))) return btfm_lua_fail(L, st);
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushinteger(L, (lua_Integer)index[i] + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ds:sync(reference) -> {offset=, drift=, rms=, n_pairs=}: this recording's clock mapped
 * onto reference's by the triggers both logged (t_ref = offset + (1 + drift) t). */
static int dataset_sync(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    btfm_dataset *reference = check_dataset(L, 2);
    double offset, drift, rms;
    int64_t n_pairs;
    btfm_status st = btfm_dataset_sync(ds, reference, &offset, &drift, &rms, &n_pairs);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, 0, 4);
    set_number(L, "offset", offset);
    set_number(L, "drift", drift);
    set_number(L, "rms", rms);
    set_integer(L, "n_pairs", (lua_Integer)n_pairs);
    return 1;
}

/* ds:import_events(source, label, offset, drift) -> count: the events of source that
 * label selects (nil: all but gaps), onsets mapped to offset + (1 + drift) t (the line
 * source:sync(ds) gives). */
static int dataset_import_events(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    btfm_dataset *source = check_dataset(L, 2);
    const char *label = btfm_lua_opt_cstring(L, 3);
    double offset = luaL_checknumber(L, 4), drift = luaL_checknumber(L, 5);
    int64_t n = 0;
    btfm_status st = btfm_dataset_import_events(ds, source, label, offset, drift, &n);
    if (st) return btfm_lua_fail(L, st);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* ds:records() -> {{onset=, first_sample=}, ...} */
static int dataset_records(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int64_t n = btfm_dataset_n_records(ds);
    lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        double onset;
        int64_t first;
        btfm_status st = btfm_dataset_record(ds, i, &onset, &first);
        if (st) return btfm_lua_fail(L, st);
        lua_createtable(L, 0, 2);
        set_number(L, "onset", onset);
        set_integer(L, "first_sample", (lua_Integer)first);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int dataset_sfreq(lua_State *L)
{
    lua_pushnumber(L, btfm_dataset_sfreq(check_dataset(L, 1)));
    return 1;
}

static int dataset_n_times(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)btfm_dataset_n_times(check_dataset(L, 1)));
    return 1;
}

static int dataset_n_channels(lua_State *L)
{
    lua_pushinteger(L, btfm_dataset_n_channels(check_dataset(L, 1)));
    return 1;
}

static int dataset_format(lua_State *L)
{
    lua_pushstring(L, btfm_format_name(btfm_dataset_format(check_dataset(L, 1))));
    return 1;
}

static int dataset_subject(lua_State *L)
{
    lua_pushstring(L, btfm_dataset_subject(check_dataset(L, 1)));
    return 1;
}

static int dataset_recording(lua_State *L)
{
    lua_pushstring(L, btfm_dataset_recording(check_dataset(L, 1)));
    return 1;
}

/* ds:start_time() -> POSIX seconds, or nil when the file stores none */
static int dataset_start_time(lua_State *L)
{
    double seconds;
    if (btfm_dataset_start_time(check_dataset(L, 1), &seconds) == BTFM_OK)
        lua_pushnumber(L, seconds);
    else
        lua_pushnil(L);
    return 1;
}

/* ds:save(path [, {format = "edf", anonymize = true}]) */
static int dataset_save(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    const char *path = btfm_lua_check_cstring(L, 2);
    unsigned flags;
    int format = opt_format(L, 3, "anonymize", BTFM_SAVE_ANONYMIZE, &flags);
    btfm_status st = btfm_dataset_save(ds, path, format, flags);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int dataset_anonymize(lua_State *L)
{
    btfm_status st = btfm_dataset_anonymize(check_dataset(L, 1));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- volumes (NIfTI) ---- */

/* ds:volume_shape() -> {nx, ny, nz, n_volumes} */
static int dataset_volume_shape(lua_State *L)
{
    int64_t shape[4];
    btfm_status st = btfm_dataset_volume_shape(check_dataset(L, 1), shape);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, 4, 0);
    for (int i = 0; i < 4; i++) {
        lua_pushinteger(L, (lua_Integer)shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* ds:affine() -> 16 numbers, row-major */
static int dataset_affine(lua_State *L)
{
    double a[16];
    btfm_status st = btfm_dataset_volume_affine(check_dataset(L, 1), a);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, a, 16);
    return 1;
}

/* ds:zooms() -> {dx, dy, dz, tr} */
static int dataset_zooms(lua_State *L)
{
    double z[4];
    btfm_status st = btfm_dataset_volume_zooms(check_dataset(L, 1), z);
    if (st) return btfm_lua_fail(L, st);
    btfm_lua_push_doubles(L, z, 4);
    return 1;
}

/* ds:mask_kind() -> "all", "image", "voxels", "threshold", "background", "epi", "labels" */
static int dataset_mask_kind(lua_State *L)
{
    int kind = btfm_dataset_mask_kind(check_dataset(L, 1));
    if (kind < 0) return btfm_lua_fail(L, kind);
    lua_pushstring(L, btfm_mask_kind_name(kind));
    return 1;
}

/* ds:voxel_order() -> "F" (x fastest, the file's) or "C" (z fastest, nibabel's
 * get_fdata()[mask]) */
static int dataset_voxel_order(lua_State *L)
{
    int order = btfm_dataset_voxel_order(check_dataset(L, 1));
    if (order < 0) return btfm_lua_fail(L, order);
    lua_pushstring(L, btfm_voxel_order_name(order));
    return 1;
}

/* Voxel order "F" or "C" from the argument `arg`. */
static int check_voxel_order(lua_State *L, int arg)
{
    static const char *const names[] = {"F", "C", NULL};
    return luaL_checkoption(L, arg, NULL, names);
}

/* ds:set_voxel_order("F" | "C") -> true: reorders the voxel channels */
static int dataset_set_voxel_order(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    btfm_status st = btfm_dataset_set_voxel_order(ds, check_voxel_order(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ds:channel_voxels() -> flat voxel index (0-based, x fastest) or label of each channel */
static int dataset_channel_voxels(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    int n = btfm_dataset_n_channels(ds);
    int64_t *v = (int64_t *)scratch(L, n > 0 ? n : 1, sizeof *v);
    btfm_status st = btfm_dataset_channel_voxels(ds, v);
    if (st) return btfm_lua_fail(L, st);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, (lua_Integer)v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* Apply a mask given as "all" | "epi" | "background" | {"threshold", value} | a path:
 * the argument `arg`, or (option true) the value on top of the stack, the option "mask"
 * of the table at `arg`. */
static btfm_status apply_mask(lua_State *L, btfm_dataset *ds, int arg, int option)
{
    int at = option ? lua_gettop(L) : arg;
    const char *what = option ? "option mask" : "mask";
    if (lua_type(L, at) == LUA_TTABLE) {
        lua_geti(L, at, 1);
        const char *kind = lua_tostring(L, -1);
        lua_geti(L, at, 2);
        double threshold = btfm_lua_check_field_number(L, arg, option ? "option mask[2]" : "mask[2]");
        if (!kind || strcmp(kind, "threshold") != 0)
            btfm_lua_field_error(L, arg, what, "a table mask is {\"threshold\", value}");
        lua_pop(L, 2);
        return btfm_dataset_mask_compute(ds, BTFM_MASK_THRESHOLD, threshold);
    }
    const char *mask = option ? btfm_lua_check_field_string(L, arg, what)
                              : btfm_lua_check_cstring(L, arg);
    static const int kinds[] = {BTFM_MASK_ALL, BTFM_MASK_BACKGROUND, BTFM_MASK_EPI};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(mask, btfm_mask_kind_name(kinds[i])) == 0)
            return btfm_dataset_mask_compute(ds, kinds[i], 0.0);
    return btfm_dataset_mask_image(ds, mask);
}

/* ds:set_mask(mask) (see apply_mask) -> true */
static int dataset_set_mask(lua_State *L)
{
    btfm_status st = apply_mask(L, check_dataset(L, 1), 2, 0);
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* ds:set_labels(atlas_path) -> true */
static int dataset_set_labels(lua_State *L)
{
    btfm_dataset *ds = check_dataset(L, 1);
    btfm_status st = btfm_dataset_mask_labels(ds, btfm_lua_check_cstring(L, 2));
    if (st) return btfm_lua_fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

/* btfm.open(path [, {format = "edf", complete_records = true, voxel_order = "C",
 *                    mask = ..., labels = path}]) */
static int module_open(lua_State *L)
{
    const char *path = btfm_lua_check_cstring(L, 1);
    unsigned flags;
    int format = opt_format(L, 2, "complete_records", BTFM_OPEN_COMPLETE_RECORDS, &flags);
    btfm_lua_box *box = btfm_lua_new_box(L, &dataset_type);
    btfm_dataset *ds;
    btfm_status st = btfm_dataset_open(&ds, path, format, flags);
    if (st) return btfm_lua_fail(L, st);
    box->handle = ds;
    if (lua_istable(L, 2)) {
        int box_index = lua_gettop(L);
        if (lua_getfield(L, 2, "voxel_order") != LUA_TNIL &&
            (st = btfm_dataset_set_voxel_order(ds, check_voxel_order(L, lua_gettop(L)))))
            return btfm_lua_fail(L, st);
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "mask") != LUA_TNIL && (st = apply_mask(L, ds, 2, 1)))
            return btfm_lua_fail(L, st); /* the box closes the dataset when collected */
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "labels") != LUA_TNIL &&
            (st = btfm_dataset_mask_labels(ds, btfm_lua_check_field_string(L, 2, "option labels"))))
            return btfm_lua_fail(L, st);
        lua_settop(L, box_index);
    }
    return 1;
}

/* btfm.from_array(values, n_times, n_channels, sfreq [, like]): a dataset over a flat
 * time-major table of numbers (copied). */
static int module_from_array(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n_times = luaL_checkinteger(L, 2), n_channels = luaL_checkinteger(L, 3);
    double sfreq = luaL_checknumber(L, 4);
    btfm_dataset *like = lua_isnoneornil(L, 5) ? NULL : check_dataset(L, 5);
    if (n_times < 1 || n_channels < 1 || n_channels > INT32_MAX || n_times > INT64_MAX / n_channels)
        return luaL_argerror(L, 2, "expected n_times >= 1 and n_channels >= 1");
    if (luaL_len(L, 1) != n_times * n_channels)
        return luaL_argerror(L, 1, lua_pushfstring(L, "has %I values, expected %I x %I",
                                                   (lua_Integer)luaL_len(L, 1), n_times, n_channels));
    const float *data = btfm_lua_check_numbers(L, 1, n_times * n_channels, 0, NULL);
    btfm_lua_box *box = btfm_lua_new_box(L, &dataset_type);
    btfm_dataset *ds;
    btfm_status st = btfm_dataset_from_array(&ds, data, n_times, (int)n_channels, sfreq, like);
    if (st) return btfm_lua_fail(L, st);
    box->handle = ds;
    return 1;
}

/* btfm.channel_types() -> {"eeg", "eog", ...} in number order */
static int module_channel_types(lua_State *L)
{
    const char *name;
    lua_newtable(L);
    for (int type = 1; (name = btfm_channel_type_name(type)) != NULL; type++) {
        lua_pushstring(L, name);
        lua_rawseti(L, -2, type);
    }
    return 1;
}

static const luaL_Reg dataset_methods[] = {
    {"read", dataset_read},
    {"data", dataset_data},
    {"read_native", dataset_read_native},
    {"channels", dataset_channels},
    {"set_channel_type", dataset_set_channel_type},
    {"set_channel_bad", dataset_set_channel_bad},
    {"set_channel_position", dataset_set_channel_position},
    {"coordinate_frame", dataset_coordinate_frame},
    {"set_nirs_channel", dataset_set_nirs_channel},
    {"set_coordinate_frame", dataset_set_coordinate_frame},
    {"events", dataset_events},
    {"select_events", dataset_select_events},
    {"sync", dataset_sync},
    {"import_events", dataset_import_events},
    {"records", dataset_records},
    {"sfreq", dataset_sfreq},
    {"n_times", dataset_n_times},
    {"n_channels", dataset_n_channels},
    {"format", dataset_format},
    {"subject", dataset_subject},
    {"recording", dataset_recording},
    {"start_time", dataset_start_time},
    {"save", dataset_save},
    {"anonymize", dataset_anonymize},
    {"volume_shape", dataset_volume_shape},
    {"affine", dataset_affine},
    {"zooms", dataset_zooms},
    {"mask_kind", dataset_mask_kind},
    {"channel_voxels", dataset_channel_voxels},
    {"voxel_order", dataset_voxel_order},
    {"set_voxel_order", dataset_set_voxel_order},
    {"set_mask", dataset_set_mask},
    {"set_labels", dataset_set_labels},
    {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"open", module_open},
    {"from_array", module_from_array},
    {"channel_types", module_channel_types},
    {NULL, NULL},
};

void btfm_lua_open_dataset(lua_State *L, int module_index)
{
    btfm_lua_register_type(L, &dataset_type, dataset_methods, NULL);
    lua_pushvalue(L, module_index);
    luaL_setfuncs(L, module_functions, 0);
    lua_pop(L, 1);
}
