-- Tests of the Lua module "btfm". Expected values come from the public headers (parsed
-- here), from Lua's own string.pack, or from the bytes on disk, never from the module.
-- Environment: LUA_CPATH finds btfm.so; BTFM_SOURCE_DIR is the source tree (default:
-- derived from this script's path); BTFM_LUA_TEST_TMP is a folder for scratch files.

local btfm = require "btfm"

local source_dir = os.getenv("BTFM_SOURCE_DIR")
    or (arg and arg[0] and arg[0]:match("^(.*)/bindings/lua/tests/[^/]*$"))
    or "."
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP")

---------------------------------------------------------------------------------------
-- A small runner: each test is a function; an error is a failure.

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, show, eq, check, fails, raises = H.test, H.show, H.eq, H.check, H.fails, H.raises

local function has_token(s, token)
  return s:find("%f[%w.]" .. token:gsub("%p", "%%%0") .. "%f[^%w.]") ~= nil
end

local scratch_files = {}
local function scratch(name)
  local path
  if tmp_dir then
    path = tmp_dir .. "/lua-test-" .. name .. ".btfm"
  else
    path = os.tmpname()
  end
  scratch_files[#scratch_files + 1] = path
  return path
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("a")
  f:close()
  return data
end

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

---------------------------------------------------------------------------------------
-- The independent truth: the public headers.

local function header(name)
  return read_file(source_dir .. "/include/btfm/" .. name)
end

local version_h = header("version.h")
local function version_macro(part)
  return math.tointeger(tonumber(version_h:match("#define BTFM_VERSION_" .. part .. " (%d+)")))
end
local MAJOR, MINOR, PATCH = version_macro("MAJOR"), version_macro("MINOR"), version_macro("PATCH")

-- Entries "PREFIX_NAME = number" of the enum `enum_name`, without the size-fixing
-- placeholders (names ending in "_"). Returns name -> number and the count.
local function header_enum(text, enum_name, prefix)
  local body = text:match("typedef enum " .. enum_name .. " {(.-)}")
  assert(body, "enum " .. enum_name .. " not found")
  local entries, count = {}, 0
  for name, value in body:gmatch("(" .. prefix .. "[%w_]*)%s*=%s*(%-?[%dxX%x]+)") do
    if not name:match("_$") then
      entries[name] = math.tointeger(tonumber(value))
      count = count + 1
    end
  end
  return entries, count
end

local container_h = header("container.h")
local header_statuses, n_header_statuses = header_enum(header("status.h"), "btfm_status", "BTFM_")
local header_levels = header_enum(header("log.h"), "btfm_log_level", "BTFM_LOG_")
local header_dtypes = header_enum(container_h, "btfm_dtype", "BTFM_DTYPE_")
local _, n_header_container_params =
  header_enum(container_h, "btfm_container_param", "BTFM_CONTAINER_PARAM_")
-- "BTFM_CONTAINER_PARAM_FSYNC = 0, /* bool, default 1: ..."
local fsync_type, fsync_default =
  container_h:match("BTFM_CONTAINER_PARAM_FSYNC = 0, /%* (%a+), default (%d+)")

local function dtype_name(enum_suffix)
  check(header_dtypes["BTFM_DTYPE_" .. enum_suffix], "dtype " .. enum_suffix .. " in header")
  return enum_suffix:lower()
end

---------------------------------------------------------------------------------------
-- Module-level functions.

test("version string and number match version.h", function()
  check(MAJOR and MINOR and PATCH, "version macros parsed")
  eq(btfm.version(), string.format("%d.%d.%d", MAJOR, MINOR, PATCH), "version()")
  eq(btfm.version_number(), MAJOR * 10000 + MINOR * 100 + PATCH, "version_number()")
end)

test("statuses match the enum in status.h", function()
  check(n_header_statuses >= 15, "status enum parsed")
  local n = 0
  for name, code in pairs(btfm.statuses) do
    eq(code, header_statuses[name], "btfm.statuses." .. name)
    n = n + 1
  end
  eq(n, n_header_statuses, "number of statuses")
  for name, code in pairs(header_statuses) do
    eq(btfm.status_name(code), name, "status_name(" .. code .. ")")
    local str = btfm.status_str(code)
    check(type(str) == "string" and str ~= "", "status_str(" .. code .. ") is text")
  end
  eq(btfm.status_name(1), nil, "status_name(1)")
  eq(btfm.status_name(-n_header_statuses), nil, "status_name past the last code")
  eq(btfm.status_str(-100000), "unknown status", "status_str of an unknown code")
  raises("number has no integer representation", btfm.status_name, 1.5)
end)

test("capabilities", function()
  local words = btfm.capabilities()
  check(#words >= 1, "at least one capability")
  local seen_core = false
  for _, w in ipairs(words) do
    check(w:match("^%S+$"), "capability is one word: " .. show(w))
    eq(btfm.has_capability(w), true, "has_capability(" .. w .. ")")
    if w == "core" then seen_core = true end
  end
  check(seen_core, "the core module is listed")
  eq(btfm.has_capability("cor"), false, "part of a word")
  eq(btfm.has_capability(""), false, "empty name")
  eq(btfm.has_capability("no-such-capability"), false, "unknown capability")
end)

test("every layer of lib/meson.build is a capability", function()
  local f = assert(io.open(source_dir .. "/lib/meson.build"))
  local text = f:read("a")
  f:close()
  local layers = {} -- the first column of the layer table: ['name', [may use], ...
  for line in text:gmatch("[^\n]+") do
    local name = line:match("^%s*%['(%w+)',")
    if name then layers[#layers + 1] = name end
  end
  check(#layers >= 8, "the layer list has core, io, bids, signal, spectrum, fmri, align, cothb")
  for _, layer in ipairs(layers) do
    eq(btfm.has_capability(layer), true, "has_capability(" .. layer .. ")")
  end
end)

test("runtime_info reports the library, the CPU and OpenBLAS's kernels", function()
  local info = btfm.runtime_info()
  eq(info.version, btfm.version(), "version")
  eq(info.capabilities, table.concat(btfm.capabilities(), " "), "capabilities")
  local f = io.open("/proc/cpuinfo")
  if f then
    local model = f:read("a"):match("model name%s*:%s*([^\n]-)%s*\n")
    f:close()
    if model then eq(info.cpu, model, "cpu is /proc/cpuinfo's model name") end
  end
  local wanted = os.getenv("OPENBLAS_CORETYPE")
  if wanted then eq(info.blas_kernels:lower(), wanted:lower(), "the family OPENBLAS_CORETYPE asks") end
  eq(info.OPENBLAS_CORETYPE, wanted or "(unset)", "environment")
  check(info.blas:match("^OpenBLAS %d"), "blas names OpenBLAS: " .. show(info.blas))
  check(tonumber(info.blas_threads) >= 1, "thread count")
end)

test("the library changes OpenBLAS's thread count only once the host allows it", function()
  eq(btfm.get_blas_thread_control(), false, "off by default")
  eq(btfm.runtime_info().blas_thread_control, "off", "reported off")
  eq(btfm.set_blas_thread_control(true), false, "previous setting")
  eq(btfm.runtime_info().blas_thread_control, "on", "reported on")
  eq(btfm.set_blas_thread_control(false), true, "previous setting")
  eq(btfm.get_blas_thread_control(), false, "off again")
end)

test("param_info describes the container parameters of container.h", function()
  local info = btfm.param_info("container")
  eq(#info, n_header_container_params, "number of container parameters")
  local fsync = info[1]
  eq(fsync.name, "fsync", "name")
  eq(fsync.type, fsync_type, "type")
  eq(fsync.default, math.tointeger(tonumber(fsync_default)), "default")
  eq(fsync.min, 0, "min of a bool")
  eq(fsync.max, 1, "max of a bool")
  check(type(fsync.description) == "string" and #fsync.description > 10, "description")
  local kinds = btfm.object_kinds()
  eq(kinds[1], "container", "object kind 1")
  local msg = fails("BTFM_E_NOTFOUND", nil, btfm.param_info("no_such_kind"))
  check(msg:find("no_such_kind", 1, true) and msg:find("container", 1, true),
        "message names the kind and the known kinds: " .. msg)
end)

test("log level by name and number, checked against log.h", function()
  local default_name, default_level = btfm.get_log_level()
  eq(default_level, header_levels.BTFM_LOG_WARNING, "default level")
  eq(default_name, "warning", "default level name")
  for enum_name, level in pairs(header_levels) do
    local name = enum_name:match("BTFM_LOG_(%u+)"):lower()
    eq(btfm.set_log_level(name), true, "set_log_level(" .. name .. ")")
    local got_name, got_level = btfm.get_log_level()
    eq(got_name, name, "name after set")
    eq(got_level, level, "level after set")
    eq(btfm.set_log_level(level), true, "set_log_level(" .. level .. ")")
    eq(select(2, btfm.get_log_level()), level, "level after numeric set")
  end
  eq(btfm.set_log_level(default_level), true, "restore")
  fails("BTFM_E_RANGE", nil, btfm.set_log_level(99))
  fails("BTFM_E_RANGE", nil, btfm.set_log_level(-1))
  local msg = fails("BTFM_E_NOTFOUND", nil, btfm.set_log_level("loud"))
  check(msg:find("loud", 1, true) and msg:find("debug", 1, true), "message: " .. msg)
  eq(select(2, btfm.get_log_level()), default_level, "restored")
end)

---------------------------------------------------------------------------------------
-- Containers.

-- Lua's own rounding of a double to a float32, the truth for f32 arrays.
local function as_f32(x)
  return (string.unpack("<f", string.pack("<f", x)))
end

local cases = {
  {name = "bytes", dtype = dtype_name("U8"), shape = {2, 3}, values = {0, 1, 127, 128, 254, 255}},
  {name = "i32", dtype = dtype_name("I32"), shape = {3},
   values = {-2147483648, 0, 2147483647}},
  {name = "i64", dtype = dtype_name("I64"), shape = {2, 2},
   values = {math.mininteger, -1, 0, math.maxinteger}},
  {name = "f32", dtype = dtype_name("F32"), shape = {5},
   values = {0.5, -1.25, 1 / 3, 3.0e38, 1e-40},
   expected = {0.5, -1.25, as_f32(1 / 3), as_f32(3.0e38), as_f32(1e-40)}},
  {name = "f64", dtype = dtype_name("F64"), shape = {2, 1, 3},
   values = {0.1, -0.0, math.huge, -math.huge, 4.9e-324, math.pi}},
  {name = "scalar", dtype = dtype_name("F64"), shape = {}, values = {42.5}},
  {name = "empty", dtype = dtype_name("I32"), shape = {0}, values = {}},
  {name = "empty_2d", dtype = dtype_name("U8"), shape = {2, 0, 3}, values = {}},
  {name = "ints_as_f64", dtype = dtype_name("F64"), shape = {2}, values = {3, -7},
   expected = {3.0, -7.0}},
}
local texts = {
  {name = "note", text = "h\u{e9}llo w\u{f6}rld \u{2713}"},
  {name = "empty_text", text = ""},
}

local function fill(c)
  for _, case in ipairs(cases) do
    eq(c:put(case.name, case.dtype, case.shape, case.values), true, "put " .. case.name)
  end
  for _, t in ipairs(texts) do
    eq(c:put_text(t.name, t.text), true, "put_text " .. t.name)
  end
end

local function same_float(a, b)
  if a ~= a then return b ~= b end
  return a == b and (a ~= 0 or 1 / a == 1 / b)  -- also the sign of zero
end

local function check_contents(c, where)
  eq(#c, #cases + #texts, where .. ": #c")
  local keys = c:keys()
  for i, case in ipairs(cases) do
    eq(keys[i], case.name, where .. ": key " .. i)
    local values, shape, dtype = c:get(case.name)
    eq(dtype, case.dtype, where .. ": dtype of " .. case.name)
    eq(#shape, #case.shape, where .. ": ndim of " .. case.name)
    for d = 1, #case.shape do
      eq(shape[d], case.shape[d], where .. ": shape of " .. case.name)
    end
    local expected = case.expected or case.values
    eq(#values, #expected, where .. ": count of " .. case.name)
    for i2, v in ipairs(expected) do
      local got = values[i2]
      if case.dtype:match("^f") then
        eq(math.type(got), "float", where .. ": type of " .. case.name)
        check(same_float(got, v), string.format("%s: %s[%d]: expected %s, got %s", where,
                                                case.name, i2, show(v), show(got)))
      else
        eq(got, v, string.format("%s: %s[%d]", where, case.name, i2))
      end
    end
  end
  for i, t in ipairs(texts) do
    eq(keys[#cases + i], t.name, where .. ": text key")
    local text, shape, dtype = c:get(t.name)
    eq(text, t.text, where .. ": text " .. t.name)
    eq(dtype, dtype_name("UTF8"), where .. ": text dtype")
    eq(#shape, 1, where .. ": text ndim")
    eq(shape[1], #t.text, where .. ": text length in bytes")
  end
end

test("round trip of every dtype through save/container_load and to_string/container_from_string", function()
  local c = assert(btfm.container("roundtrip"))
  fill(c)
  check_contents(c, "in memory")
  eq(tostring(c), string.format("btfm.container(roundtrip, %d arrays)", #cases + #texts),
     "tostring")

  local path = scratch("roundtrip")
  eq(c:save(path), true, "save")
  local bytes = c:to_string()
  eq(bytes, read_file(path), "to_string() equals the file save() wrote")

  local from_file = assert(btfm.container_load(path))
  eq(from_file:kind(), "roundtrip", "kind after load")
  check_contents(from_file, "after load")
  local from_string = assert(btfm.container_from_string(bytes, "roundtrip"))
  check_contents(from_string, "after container_from_string")
  eq(from_string:to_string(), bytes, "serialization is stable")
  c:close()
  from_file:close()
  from_string:close()
end)

test("every type loads by <type>_load and <type>_from_string; the former names are aliases", function()
  eq(btfm.load, btfm.container_load, "btfm.load")
  eq(btfm.load_string, btfm.container_from_string, "btfm.load_string")
  eq(btfm.load_aligner, btfm.aligner_load, "btfm.load_aligner")
  eq(btfm.cothb_load_string, btfm.cothb_from_string, "btfm.cothb_load_string")
  for _, t in ipairs({"container", "aligner", "cothb"}) do
    eq(type(btfm[t .. "_load"]), "function", t .. "_load")
    eq(type(btfm[t .. "_from_string"]), "function", t .. "_from_string")
  end
end)

test("NaN survives a round trip", function()
  local c = assert(btfm.container("nan"))
  assert(c:put("nan64", "f64", {1}, {0 / 0}))
  assert(c:put("nan32", "f32", {1}, {0 / 0}))
  local back = assert(btfm.load_string(c:to_string()))
  local v64 = back:get("nan64")
  local v32 = back:get("nan32")
  check(v64[1] ~= v64[1] and v32[1] ~= v32[1], "NaN read back")
end)

test("parameters: fsync round trip, bounds and unknown names", function()
  local c <close> = assert(btfm.container("params"))
  eq(c:get_param("fsync"), math.tointeger(tonumber(fsync_default)), "default fsync")
  eq(c:params().fsync, math.tointeger(tonumber(fsync_default)), "params().fsync")
  eq(c:set_param("fsync", 0), true, "set fsync 0")
  eq(c:get_param("fsync"), 0, "fsync after set")
  local msg = fails("BTFM_E_RANGE", nil, c:set_param("fsync", 2))
  for _, token in ipairs({"fsync", "2", "0", "1"}) do
    check(has_token(msg, token), "message names " .. token .. ": " .. msg)
  end
  eq(c:get_param("fsync"), 0, "a refused value changes nothing")
  fails("BTFM_E_RANGE", nil, c:set_param("fsync", 0.5))
  fails("BTFM_E_RANGE", nil, c:set_param("fsync", 0 / 0))
  eq(c:set_param("fsync", true), true, "set with a boolean")
  eq(c:get_param("fsync"), 1, "fsync after true")
  eq(c:set_param("fsync", false), true, "set with false")
  eq(c:get_param("fsync"), 0, "fsync after false")
  msg = fails("BTFM_E_NOTFOUND", nil, c:set_param("no_such_param", 1))
  check(msg:find("no_such_param", 1, true) and msg:find("fsync", 1, true), "message: " .. msg)
  fails("BTFM_E_NOTFOUND", nil, c:get_param("no_such_param"))
  raises("number or boolean expected", c.set_param, c, "fsync", "1")
  -- With fsync off, save still writes a loadable file.
  assert(c:put("x", "i32", {1}, {7}))
  local path = scratch("nofsync")
  eq(c:save(path), true, "save without fsync")
  eq(assert(btfm.load(path)):get("x")[1], 7, "value after save without fsync")
end)

test("wrong kind is refused with BTFM_E_KIND", function()
  local c <close> = assert(btfm.container("aligner"))
  assert(c:put("w", "f32", {2}, {1, 2}))
  local bytes = c:to_string()
  local msg = fails("BTFM_E_KIND", nil, btfm.load_string(bytes, "reward_head"))
  check(msg:find("aligner", 1, true), "message names the stored kind: " .. msg)
  local path = scratch("kind")
  assert(c:save(path))
  fails("BTFM_E_KIND", nil, btfm.load(path, "reward_head"))
  eq(assert(btfm.load(path, "aligner")):kind(), "aligner", "the right kind loads")
  eq(assert(btfm.load_string(bytes)):kind(), "aligner", "any kind loads")
end)

local function small_container_bytes()
  local c <close> = assert(btfm.container("small"))
  assert(c:put("a", "i32", {2, 2}, {1, -2, 3, -4}))
  assert(c:put("b", "f64", {1}, {0.25}))
  assert(c:put_text("t", "text"))
  return c:to_string()
end

test("every corrupted byte is refused, not loaded or crashed on", function()
  local bytes = small_container_bytes()
  check(#bytes > 0, "serialized")
  local statuses_seen = {}
  for i = 1, #bytes do
    local flipped = bytes:sub(1, i - 1) .. string.char(bytes:byte(i) ~ 0xff) .. bytes:sub(i + 1)
    local r, msg, status = btfm.load_string(flipped)
    fails(nil, "byte " .. (i - 1) .. " flipped", r, msg, status)
    statuses_seen[status] = true
  end
  check(statuses_seen.BTFM_E_CHECKSUM, "payload corruption is reported as a checksum error")
  -- The same through a file.
  local path = scratch("corrupt")
  local middle = #bytes // 2
  write_file(path, bytes:sub(1, middle) .. string.char(bytes:byte(middle + 1) ~ 0x01)
                   .. bytes:sub(middle + 2))
  local msg = fails(nil, nil, btfm.load(path))
  check(msg:find(path, 1, true), "message names the file: " .. msg)
end)

test("every truncation is refused", function()
  local bytes = small_container_bytes()
  for n = 0, #bytes - 1 do
    fails(nil, "first " .. n .. " bytes", btfm.load_string(bytes:sub(1, n)))
  end
  local path = scratch("truncated")
  write_file(path, bytes:sub(1, #bytes - 1))
  fails(nil, nil, btfm.load(path))
end)

test("library-side refusals return nil, message, status", function()
  local c <close> = assert(btfm.container("errors"))
  assert(c:put("a", "u8", {1}, {1}))
  fails("BTFM_E_STATE", "duplicate name", c:put("a", "u8", {1}, {2}))
  fails(nil, "empty name", c:put("", "u8", {1}, {2}))
  fails(nil, "negative extent", c:put("neg", "u8", {-1}, {}))
  fails(nil, "9 dimensions", c:put("deep", "u8", {1, 1, 1, 1, 1, 1, 1, 1, 1}, {5}))
  eq(c:put("deep8", "u8", {1, 1, 1, 1, 1, 1, 1, 1}, {5}), true, "8 dimensions")
  fails("BTFM_E_NOTFOUND", nil, c:get("missing"))
  fails(nil, "empty kind", btfm.container(""))
  fails(nil, "256-byte kind", btfm.container(string.rep("k", 256)))
  eq(btfm.container(string.rep("k", 255)):kind(), string.rep("k", 255), "255-byte kind")
  local missing = (tmp_dir or "/tmp") .. "/no-such-folder-btfm/x.btfm"
  fails(nil, "save into a missing folder", c:save(missing))
  local msg = fails(nil, nil, btfm.load(missing))
  check(msg:find(missing, 1, true), "message names the path: " .. msg)
  eq(#c, 2, "failed puts added nothing")
end)

test("argument errors raise", function()
  local c <close> = assert(btfm.container("args"))
  raises("unknown dtype 'f16'", c.put, c, "a", "f16", {1}, {1})
  raises("put_text", c.put, c, "a", "utf8", {1}, {1})
  raises("values[1] = 256", c.put, c, "a", "u8", {1}, {256})
  raises("values[2] = -1", c.put, c, "a", "u8", {2}, {0, -1})
  raises("values[1] = 2147483648", c.put, c, "a", "i32", {1}, {2147483648})
  raises("values[1] = 1.5", c.put, c, "a", "i64", {1}, {1.5})
  raises("values[1] = 1e+39", c.put, c, "a", "f32", {1}, {1e39})
  raises("values[1] = x", c.put, c, "a", "f64", {1}, {"x"})
  raises("3 values for a shape of 4 elements", c.put, c, "a", "f64", {2, 2}, {1, 2, 3})
  raises("shape[2] is not an integer", c.put, c, "a", "f64", {2, 0.5}, {1})
  raises("table expected", c.put, c, "a", "f64", 2, {1, 2})
  raises("NUL", c.put_text, c, "a", "x\0y")
  raises("NUL", c.put_text, c, "a\0b", "x")
  raises("btfm.container expected", c.put, {}, "a", "u8", {1}, {1})
  raises("string expected", btfm.container, {})
  eq(#c, 0, "nothing was added")
  eq(c:put("a", "i32", {2}, {1.0, 2}), true, "floats with integer values fit integer dtypes")
  eq(c:get("a")[1], 1, "converted value")
end)

test("close twice, use after close, tostring and #", function()
  local c = assert(btfm.container("closing"))
  assert(c:put_text("t", "x"))
  eq(#c, 1, "#c")
  eq(tostring(c), "btfm.container(closing, 1 array)", "tostring open")
  c:close()
  c:close()
  eq(tostring(c), "btfm.container (closed)", "tostring closed")
  for _, method in ipairs({"put", "put_text", "get", "keys", "save", "to_string",
                           "set_param", "get_param", "params", "kind"}) do
    raises("btfm.container: used after close", c[method], c, "t", "u8", {1}, {1})
  end
  raises("btfm.container: used after close", function() return #c end)
end)

test("to-be-closed variables close the container", function()
  local outer
  do
    local c <close> = assert(btfm.container("scoped"))
    outer = c
    eq(tostring(c), "btfm.container(scoped, 0 arrays)", "open inside the block")
  end
  eq(tostring(outer), "btfm.container (closed)", "closed at the end of the block")
  local ok = pcall(function()
    local c <close> = assert(btfm.container("scoped"))
    outer = c
    error("boom")
  end)
  eq(ok, false, "the error propagated")
  eq(tostring(outer), "btfm.container (closed)", "closed when the block raised")
end)

test("garbage collection frees every container", function()
  collectgarbage("collect")
  collectgarbage("collect")
  local baseline = btfm.live_allocations()
  local held = {}
  for i = 1, 10 do
    held[i] = assert(btfm.container("held"))
    assert(held[i]:put("v", "f64", {3}, {1, 2, 3}))
  end
  check(btfm.live_allocations() > baseline, "the allocation counter sees live containers")
  held = nil
  local bytes = small_container_bytes()
  for i = 1, 500 do
    local c = assert(btfm.container("garbage"))
    assert(c:put("v", "i64", {2}, {i, -i}))
    assert(c:put_text("t", "text " .. i))
    local copy = assert(btfm.load_string(c:to_string()))
    eq(copy:get("v")[2], -i, "copy")
    btfm.load_string(bytes:sub(1, #bytes - 3))  -- a refused load allocates nothing lasting
    if i % 2 == 0 then c:close() end
  end
  collectgarbage("collect")
  collectgarbage("collect")
  eq(btfm.live_allocations(), baseline, "live allocations after collection")
end)

test("the module exports only luaopen_btfm", function()
  local module_path = package.searchpath("btfm", package.cpath)
  check(module_path, "module found on package.cpath")
  local nm = io.popen("nm -D --defined-only '" .. module_path .. "' 2>/dev/null")
  local out = nm and nm:read("a") or ""
  if nm then nm:close() end
  if out == "" then
    print("        (nm not available: export check skipped)")
    return
  end
  local exported = {}
  for kind, name in out:gmatch("%x+ (%a) ([%w_]+)") do
    if kind == "T" or kind == "D" or kind == "B" then exported[#exported + 1] = name end
  end
  eq(table.concat(exported, " "), "luaopen_btfm", "exported symbols")
end)

---------------------------------------------------------------------------------------

for _, path in ipairs(scratch_files) do os.remove(path) end
H.finish()
