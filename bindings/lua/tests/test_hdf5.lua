-- btfm.open on HDF5 recordings from Lua: a SNIRF file and an EEGLAB .set saved as MATLAB
-- v7.3, written by hdf5_files.py with the interop tests' writers (from the SNIRF
-- specification and MATLAB's v7.3 layout), which also writes the values it put in
-- (expected.lua). Environment as test_btfm.lua, plus BTFM_PYTHON (an interpreter with
-- numpy and h5py).

local btfm = require "btfm"

local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, close_to = H.test, H.eq, H.close_to

local dir = tmp_dir .. "/lua-hdf5"
os.execute("mkdir -p '" .. dir .. "'")
assert(os.execute(string.format("'%s' '%s/hdf5_files.py' '%s'", os.getenv("BTFM_PYTHON"),
                                here, dir)), "hdf5_files.py failed")
local want = dofile(dir .. "/expected.lua")

test("a SNIRF file opens with its amplitudes", function()
  local ds = assert(btfm.open(dir .. "/lua.snirf"))
  eq(ds:format(), "snirf")
  eq(ds:n_times(), want.snirf_n)
  eq(ds:sfreq(), want.snirf_sfreq)
  local first, last = ds:read(0, 1), ds:read(want.snirf_n - 1, want.snirf_n)
  for k = 1, #want.snirf_first_row do
    close_to(first[k], want.snirf_first_row[k], 1e-6, "first row " .. k)
    close_to(last[k], want.snirf_last_row[k], 1e-6, "last row " .. k)
  end
  eq(ds:events()[1].label, "tap")
  ds:close()
end)

test("an EEGLAB v7.3 .set opens with its channels, samples and events", function()
  local ds = assert(btfm.open(dir .. "/lua_v73.set"))
  eq(ds:format(), "eeglab")
  eq(ds:n_times(), want.set_n)
  eq(ds:sfreq(), want.set_sfreq)
  local ch = ds:channels()
  for k = 1, 3 do
    eq(ch[k].name, want.set_names[k])
    eq(ch[k].type, want.set_types[k])
  end
  local row = ds:read(3, 4)
  for k = 1, 3 do close_to(row[k], want.set_row_3[k], 1e-6, "sample 3 of channel " .. k) end
  local ev = ds:events()
  for i, e in ipairs(want.set_events) do
    eq(ev[i].label, e.label)
    eq(ev[i].code, e.code)
    close_to(ev[i].onset, e.onset, 1e-12, "onset " .. i)
    if e.duration then close_to(ev[i].duration, e.duration, 1e-12, "duration " .. i) end
  end
  ds:close()
end)
os.execute("rm -r '" .. dir .. "'")
H.finish()
