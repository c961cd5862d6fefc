-- btfm.open on a FIF raw file written here tag by tag with string.pack (big-endian kind,
-- type, size, next; blocks; channel records; an SSP projector; int32 buffers), so every
-- expected value comes from what this script wrote: names, types, units, stored number x
-- range x cal, the trigger, the first sample and the projector, reported not applied.
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"

local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, same = H.test, H.eq, H.same

local function tag(kind, typ, data)
  return string.pack(">i4I4i4i4", kind, typ, #data, 0) .. data
end
local function int(kind, v) return tag(kind, 3, string.pack(">i4", v)) end
local function float(kind, v) return tag(kind, 4, string.pack(">f", v)) end
local function str(kind, s) return tag(kind, 10, s) end
local function block(kind, body) return int(104, kind) .. body .. int(105, kind) end

-- kind, range, cal, coil, unit, name
local CHANNELS = {{1, 1.0, 0.25, 3012, 201, "MEG 0112"}, {3, 1.0, 1.0, 0, 107, "STI 014"}}
local CAL = {0.25, 1.0}
local FIRST_SAMP, N_PER_BUFFER = 42, 5

local function ch_info(i, c)
  local name = c[6] .. string.rep("\0", 16 - #c[6])
  return tag(203, 30, string.pack(">i4i4i4ffi4", i, i, c[1], c[2], c[3], c[4])
    .. string.rep("\0", 48) .. string.pack(">i4i4", c[5], 0) .. name)
end

local function stored(c, t) -- the stored int32 of channel c at sample t (0-based)
  if c == 2 then return (t >= 3 and t < 6) and 7 or 0 end
  return (t * 7919) % 2001 - 1000
end

local function buffer(first)
  local parts = {}
  for t = first, first + N_PER_BUFFER - 1 do
    for c = 1, 2 do parts[#parts + 1] = string.pack(">i4", stored(c, t)) end
  end
  return tag(300, 3, table.concat(parts))
end

local function write_fif(path)
  local vectors = string.pack(">ff", 0.6, 0.8) .. string.pack(">i4i4i4", 2, 1, 2)
  local projector = block(313, block(314, str(206, "test projector") .. int(3411, 1)
    .. int(3414, 1) .. str(3417, "MEG 0112:STI 014") .. tag(3415, 0x40000004, vectors)))
  local info = block(101, int(200, 2) .. float(201, 100.0) .. ch_info(1, CHANNELS[1])
    .. ch_info(2, CHANNELS[2]) .. projector)
  local raw = block(102, int(208, FIRST_SAMP) .. buffer(0) .. buffer(N_PER_BUFFER))
  local file = tag(100, 31, string.rep("\0", 20)) .. int(101, -1) .. block(100, info .. raw)
  local f = assert(io.open(path, "wb"))
  f:write(file)
  f:close()
end

local path = tmp_dir .. "/lua_fif_raw.fif"
write_fif(path)

test("open, channels, values", function()
  local ds <close> = assert(btfm.open(path))
  eq(ds:format(), "fif"); same(ds:sfreq(), 100); eq(ds:n_times(), 2 * N_PER_BUFFER)
  local ch = ds:channels()
  eq(ch[1].name, "MEG 0112"); eq(ch[1].type, "meg_grad"); eq(ch[1].unit, "T/m")
  eq(ch[2].type, "stim")
  local values, shape = assert(ds:data())
  eq(shape[1], 2 * N_PER_BUFFER); eq(shape[2], 2)
  for t = 0, 2 * N_PER_BUFFER - 1 do
    for c = 1, 2 do
      same(values[2 * t + c], stored(c, t) * CAL[c], "sample " .. t .. ", channel " .. c)
    end
  end
end)

test("trigger, first sample, projector reported", function()
  local ds <close> = assert(btfm.open(path))
  local events = ds:events()
  eq(#events, 1); eq(events[1].type, "trigger"); eq(events[1].code, 7)
  same(events[1].onset, 0.03); H.close_to(events[1].duration, 0.03, 1e-12)
  same(ds:meta_numbers("/fif/first_sample")[1], FIRST_SAMP)
  eq(ds:meta_length("/fif/projectors"), 1)
  eq(ds:meta_string("/fif/projectors/0/description"), "test projector")
  eq(ds:meta_bool("/fif/projectors/0/active"), false)
  eq(ds:meta_length("/fif/projectors/0/channels"), 2)
  local v = ds:meta_numbers("/fif/projectors/0/vectors/0")
  H.close_to(v[1], 0.6, 1e-7); H.close_to(v[2], 0.8, 1e-7)
end)

test("damage is named", function()
  local f = assert(io.open(path, "rb"))
  local bytes = f:read("a")
  f:close()
  local cut = tmp_dir .. "/lua_fif_cut_raw.fif"
  f = assert(io.open(cut, "wb"))
  f:write(bytes:sub(1, #bytes - 30))
  f:close()
  local msg = H.fails("BTFM_E_TRUNCATED", "open", btfm.open(cut))
  assert(msg:find("byte"), msg)
  os.remove(cut)
end)

os.remove(path)
H.finish()
