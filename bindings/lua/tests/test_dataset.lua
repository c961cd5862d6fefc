-- Tests of btfm.open and the btfm.dataset methods. The EDF+ file is written here byte by
-- byte from the EDF+ specification (string.pack), so every expected value (names, the
-- scaling formula's physical values, annotations) comes from what this script wrote.
-- Also runs examples/lua/read_edf.lua on that file.
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"

local source_dir = os.getenv("BTFM_SOURCE_DIR")
    or (arg and arg[0] and arg[0]:match("^(.*)/bindings/lua/tests/[^/]*$"))
    or "."
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, close_to = H.test, H.same, H.close_to
local fails = H.fails

---------------------------------------------------------------------------------------
-- An EDF+C file: 2 records of 1 s; "EEG Fz" 8 Hz in uV, "EOG left" 4 Hz in mV, and
-- the annotation signal. Digital values are chosen here.

local SPR = {8, 4}
local LABELS = {"EEG Fz", "EOG left"}
local DIMS = {"uV", "mV"}
local PMIN, PMAX, DMIN, DMAX = {-100, -2}, {100, 2}, {-1000, -500}, {1000, 500}
local UNIT = {1e-6, 1e-3}
local N_RECORDS = 2
local ANN_SPR = 30 -- samples (2 bytes each) of the annotation signal per record

local function digital(sig, k) -- k: 0-based native sample index
  if sig == 1 then return (k * 37) % 2001 - 1000 end
  return 500 - (k * 91) % 1001
end

local function physical(sig, k)
  return ((digital(sig, k) - DMIN[sig]) * (PMAX[sig] - PMIN[sig]) / (DMAX[sig] - DMIN[sig])
          + PMIN[sig]) * UNIT[sig]
end

local function pad(s, n) return s .. string.rep(" ", n - #s) end

local ANNOTATIONS = {{0.25, "go"}, {1.5, "caf\u{e9} \u{263a}"}}

local function write_edf(path)
  local ns = 3
  local labels = {LABELS[1], LABELS[2], "EDF Annotations"}
  local dims = {DIMS[1], DIMS[2], ""}
  local pmin = {PMIN[1], PMIN[2], -1}
  local pmax = {PMAX[1], PMAX[2], 1}
  local dmin = {DMIN[1], DMIN[2], -32768}
  local dmax = {DMAX[1], DMAX[2], 32767}
  local spr = {SPR[1], SPR[2], ANN_SPR}
  local h = {pad("0", 8), pad("S-1 F X Lua_Tester", 80), pad("Startdate 02-MAR-2021 X X X", 80),
             "02.03.21", "10.20.30", pad(tostring(256 * (ns + 1)), 8), pad("EDF+C", 44),
             pad(tostring(N_RECORDS), 8), pad("1", 8), pad(tostring(ns), 4)}
  local function each(width, values)
    for i = 1, ns do h[#h + 1] = pad(tostring(values[i]), width) end
  end
  each(16, labels); each(80, {"", "", ""}); each(8, dims); each(8, pmin); each(8, pmax)
  each(8, dmin); each(8, dmax); each(80, {"", "", ""}); each(8, spr); each(32, {"", "", ""})
  local body = {}
  for r = 0, N_RECORDS - 1 do
    for sig = 1, 2 do
      for k = r * SPR[sig], (r + 1) * SPR[sig] - 1 do
        body[#body + 1] = string.pack("<i2", digital(sig, k))
      end
    end
    local tal = "+" .. r .. "\20\20\0"
    for _, a in ipairs(ANNOTATIONS) do
      if math.floor(a[1]) == r then tal = tal .. "+" .. a[1] .. "\20" .. a[2] .. "\20\0" end
    end
    body[#body + 1] = tal .. string.rep("\0", ANN_SPR * 2 - #tal)
  end
  local f = assert(io.open(path, "wb"))
  f:write(table.concat(h), table.concat(body))
  f:close()
end

local path = tmp_dir .. "/lua_dataset.edf"
write_edf(path)

test("open and header", function()
  local ds <close> = assert(btfm.open(path))
  eq(ds:format(), "edf", "format")
  eq(ds:sfreq(), 8.0, "sfreq")
  eq(ds:n_times(), 16, "n_times")
  eq(ds:n_channels(), 2, "n_channels")
  eq(ds:subject(), "S-1 F X Lua_Tester", "subject")
  -- 2021-03-02 10:20:30 as POSIX seconds
  eq(ds:start_time(), 1614680430.0, "start_time")
  local ch = ds:channels()
  eq(#ch, 2, "#channels")
  eq(ch[1].name, "EEG Fz"); eq(ch[1].type, "eeg"); eq(ch[1].unit, "V"); eq(ch[1].rate, 8.0)
  eq(ch[2].name, "EOG left"); eq(ch[2].type, "eog"); eq(ch[2].rate, 4.0)
  eq(ch[2].n_samples, 8, "native samples"); eq(ch[2].bad, false)
  local ev = {}
  for _, e in ipairs(ds:events()) do
    if e.type == "annotation" then ev[#ev + 1] = e end
  end
  eq(#ev, 2, "#annotations")
  eq(ev[1].onset, 0.25); eq(ev[1].label, "go")
  eq(ev[2].onset, 1.5); eq(ev[2].label, "caf\u{e9} \u{263a}")
  local all = ds:events()
  local go = ds:select_events("go")
  eq(#go, 1, "#go"); eq(all[go[1]].label, "go"); eq(all[go[1]].onset, 0.25)
  local none = fails("BTFM_E_NOTFOUND", "no such label", ds:select_events("nope"))
  assert(none:find("its event labels are: go, caf", 1, true), none)
  local not_gaps = {}
  for i, e in ipairs(all) do if e.type ~= "gap" then not_gaps[#not_gaps + 1] = i end end
  eq(table.concat(ds:select_events(), " "), table.concat(not_gaps, " "), "all but gaps")
  local rec = ds:records()
  eq(#rec, 2); eq(rec[2].onset, 1.0); eq(rec[2].first_sample, 8)
  assert(tostring(ds):find("edf, 2 channels x 16 samples at 8", 1, true), tostring(ds))
end)

test("read, picks and native reads", function()
  local ds <close> = assert(btfm.open(path, {format = "edf"}))
  local values, shape = assert(ds:read(3, 7, {"EEG Fz"}))
  eq(shape[1], 4); eq(shape[2], 1); eq(#values, 4)
  for t = 0, 3 do close_to(values[t + 1], physical(1, 3 + t), 1e-6, "Fz sample " .. t) end
  local all, s2 = assert(ds:data())
  eq(s2[1], 16); eq(s2[2], 2); eq(#all, 32)
  close_to(all[5 * 2 + 1], physical(1, 5), 1e-6, "data[5][1]")
  local native = assert(ds:read_native(2, 2, 6))
  eq(#native, 4)
  for k = 0, 3 do close_to(native[k + 1], physical(2, 2 + k), 1e-6, "EOG native " .. k) end
  local same = assert(ds:read_native("EOG left"))
  eq(#same, 8)
  local picked = assert(ds:read(0, 2, {2, 1}))
  eq(picked[2], all[1], "picks order")
  -- a caller's table reused: filled in place, returned, entries past the window kept
  local buf = {}
  for i = 1, 40 do buf[i] = -1 end
  local filled, s3 = assert(ds:read(0, 16, nil, buf))
  assert(rawequal(filled, buf), "read returns the table it was given")
  eq(s3[1], 16); eq(s3[2], 2)
  for i = 1, 32 do eq(buf[i], all[i], "out[" .. i .. "]") end
  eq(buf[33], -1, "entries past the window untouched")
  assert(ds:read(3, 7, {"EEG Fz"}, buf))
  for t = 0, 3 do close_to(buf[t + 1], physical(1, 3 + t), 1e-6, "reused Fz sample " .. t) end
  eq(buf[5], all[5], "only the window's entries rewritten")
end)

test("errors", function()
  fails("BTFM_E_NOTFOUND", "missing file", btfm.open(tmp_dir .. "/missing.edf"))
  local ds <close> = assert(btfm.open(path))
  local msg = fails("BTFM_E_RANGE", "window", ds:read(10, 17))
  assert(msg:find(path, 1, true), msg)
  local ok, err = pcall(ds.read, ds, 0, 1, {3})
  assert(not ok and err:find("outside %[1, 2%]"), err)
  ok, err = pcall(ds.read, ds, 0, 1, {"Oz"})
  assert(not ok and err:find('"Oz"'), err)
  -- table elements and options are named by the argument the caller wrote
  local function raises(expected, f)
    local good, message = pcall(f)
    assert(not good and message:find(expected, 1, true), message)
  end
  raises([[bad argument #3 to 'read' (picks[2]: btfm_dataset_find_channel: ]] .. path ..
         [[ has no channel "Nope" (its channels: EEG Fz, EOG left))]],
         function() return ds:read(0, 1, {1, "Nope"}) end)
  raises("bad argument #3 to 'read' (picks[1]: channel 3 is outside [1, 2])",
         function() return ds:read(0, 1, {3}) end)
  raises("bad argument #3 to 'read' (picks[1]: integer expected, got table)",
         function() return ds:read(0, 1, {{}}) end)
  raises("bad argument #2 to 'open' (option format: string expected, got number)",
         function() return btfm.open(path, {format = 3}) end)
  raises("bad argument #1 to 'from_array' (values[2] is not a number (string))",
         function() return btfm.from_array({1, "x"}, 2, 1, 100) end)
  raises("bad argument #5 to 'welch' (option nperseg: integer expected, got string)",
         function() return btfm.welch({1, 2, 3, 4}, 4, 1, 100, {nperseg = "x"}) end)
  raises("bad argument #5 to 'welch' (unknown option window 'hanning' (known: hann, " ..
         "hamming, blackman, boxcar, kaiser))",
         function() return btfm.welch({1, 2, 3, 4}, 4, 1, 100, {window = "hanning"}) end)
  raises("bad argument #5 to 'clean' (option confounds: 1 values for 2 x 1)",
         function() return btfm.glm.clean({1, 2, 3, 4}, 2, 2, 2.0,
                                          {n_confounds = 1, confounds = {1}}) end)
  raises("bad argument #1 to 'new_table' (columns[2]: string expected, got number)",
         function() return btfm.new_table({"onset", 3}) end)
  ok, err = pcall(ds.read, ds, 5, 4)
  assert(not ok and err:find("before start"), err)
  ok, err = pcall(btfm.open, path, {format = "gdf"})
  assert(not ok and err:find("unknown format 'gdf'"), err)
  fails("BTFM_E_INVALID", "unknown type", ds:set_channel_type(1, "nonsense"))
  ds:close()
  ds:close()
  ok, err = pcall(ds.n_times, ds)
  assert(not ok and err:find("used after close"), err)
end)

test("channel type, bad flag, save, anonymize", function()
  local ds <close> = assert(btfm.open(path))
  assert(ds:set_channel_type("EOG left", "misc"))
  assert(ds:set_channel_bad(1, true))
  local ch = ds:channels()
  eq(ch[2].type, "misc"); eq(ch[1].bad, true)
  local copy = tmp_dir .. "/lua_dataset_anon.edf"
  assert(ds:save(copy, {anonymize = true}))
  eq(ds:subject(), "S-1 F X Lua_Tester", "source untouched")
  local back <close> = assert(btfm.open(copy))
  assert(not back:subject():find("Lua_Tester"), back:subject())
  -- 1985-01-01 10:20:30
  eq(back:start_time(), 473385600.0 + 10 * 3600 + 20 * 60 + 30, "shifted date")
  local a = ds:data()
  local b = back:data()
  for i = 1, #a do eq(b[i], a[i], "sample " .. i) end
  assert(ds:anonymize())
  eq(ds:subject(), "")
  os.remove(copy)
end)

test("channel_types names", function()
  local names = btfm.channel_types()
  eq(names[1], "eeg"); eq(names[6], "stim")
end)

test("examples/lua/read_edf.lua", function()
  local lines = {}
  local saved_print, saved_arg = print, arg
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring(select(i, ...)) end
    lines[#lines + 1] = table.concat(parts, "\t")
  end
  arg = {[0] = "read_edf.lua", path}
  local ok, err = pcall(dofile, source_dir .. "/examples/lua/read_edf.lua")
  print, arg = saved_print, saved_arg
  assert(ok, err)
  local out = table.concat(lines, "\n")
  assert(out:find("2 channels x 16 samples at 8 Hz", 1, true), out)
  assert(out:find("EOG left: eog, V, 4 Hz", 1, true), out)
  assert(out:find(string.format("first sample of EEG Fz: %.3f uV", physical(1, 0) * 1e6),
                  1, true), out)
  assert(out:find("annotation at 1.500 s: caf\u{e9} \u{263a}", 1, true), out)
end)

test("positions and coordinate frame", function()
  local ds = assert(btfm.from_array({1, 2, 3, 4, 5, 6}, 2, 3, 10))
  eq(ds:coordinate_frame(), "unknown")
  eq(ds:channels()[1].position, nil)
  assert(ds:set_channel_position(2, {0.01, -0.02, 0.03}))
  local p = ds:channels()[2].position
  eq(p[1], 0.01); eq(p[2], -0.02); eq(p[3], 0.03)
  assert(ds:set_coordinate_frame("ACPC"))
  eq(ds:coordinate_frame(), "ACPC")
  local ok, message, status = ds:set_channel_position(1, {0, 0 / 0, 0})
  eq(ok, nil); eq(status, "BTFM_E_INVALID")
  assert(message:find("not finite", 1, true), message)
  assert(ds:set_channel_position(2, nil))
  eq(ds:channels()[2].position, nil)
  eq(ds:channels()[1].nirs, nil)
end)

os.remove(path)
H.finish()
