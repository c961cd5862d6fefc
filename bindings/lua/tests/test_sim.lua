-- Tests of btfm.sim from Lua: a small rating session and a shared-response session
-- written and read back through btfm.bids_open and btfm.read_table (the truth), the
-- parameters' names from the library, refused values, and cancellation that leaves
-- nothing. Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, same, check, fails = H.test, H.eq, H.same, H.check, H.fails

local function fresh(name)
  local path = string.format("%s/lua_sim_%s_%d", tmp_dir, name, os.time())
  os.execute("rm -rf '" .. path .. "'")
  return path
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local SMALL = {n_annotators = 2, n_items = 6, n_channels = 8, sfreq = 100, line_freq = 0,
               n_pairs = 4, n_bad_channels = 0, eog = false}

test("rating session reads back as BIDS with its truth", function()
  local out = fresh("rating")
  eq(assert(btfm.sim.rating_session(out, SMALL)), out, "returns the folder")
  local b = assert(btfm.bids_open(out))
  local eeg = assert(b:query("datatype=eeg"))
  eq(#eeg, 2, "two EEG recordings")
  local ds = assert(b:open(eeg[2].index))
  eq(ds:n_channels(), 8, "channels (eog = false)")
  same(ds:sfreq(), 100, "rate")
  local items = assert(btfm.read_table(out .. "/derivatives/truth/items.tsv"))
  eq(items:n_rows(), 6, "items")
  local columns = items:columns()
  eq(columns[2], "reward", "second column")
  local pairs = assert(btfm.read_table(out .. "/sub-01/beh/sub-01_task-preference_beh.tsv"))
  eq(pairs:n_rows(), 4, "pairs")
  os.execute("rm -rf '" .. out .. "'")
end)

test("shared response", function()
  local out = fresh("shared")
  assert(btfm.sim.shared_response(out, {n_subjects = 2, n_times = 30, n_components = 2,
                                        grid_x = 3, grid_y = 3, grid_z = 2}))
  check(exists(out .. "/sub-02/func/sub-02_task-shared_bold.nii.gz"), "the second subject's run")
  local course = assert(btfm.read_table(out .. "/derivatives/truth/shared_response.tsv"))
  eq(course:n_rows(), 30, "time points")
  os.execute("rm -rf '" .. out .. "'")
end)

test("parameters: names from the library, values checked", function()
  local names = {}
  for _, p in ipairs(assert(btfm.param_info("sim_rating_session"))) do names[p.name] = p end
  check(names.effect_scale and names.effect_scale.max == 20, "effect_scale and its bound")
  local out = fresh("bad")
  local msg = fails("BTFM_E_NOTFOUND", "unknown name", btfm.sim.rating_session(out, {n_itemz = 3}))
  check(msg:find("n_items", 1, true), "the message lists the names: " .. msg)
  fails("BTFM_E_RANGE", "out of bounds", btfm.sim.rating_session(out, {n_channels = 500}))
  fails("BTFM_E_INVALID", "bad combination",
        btfm.sim.rating_session(out, {segments_min = 5, segments_max = 2}))
  H.raises("takes a number", btfm.sim.rating_session, out, {n_items = "six"})
  check(not exists(out .. "/dataset_description.json"), "nothing written")
end)

test("cancelling from the progress function leaves nothing", function()
  local out, calls, last = fresh("cancel"), 0, -1
  local r, msg, status = btfm.sim.rating_session(out, SMALL, function(stage, fraction)
    calls = calls + 1
    check(fraction >= last, "fractions never go back")
    last = fraction
    return fraction > 0.3
  end)
  fails("BTFM_E_CANCELLED", "cancelled", r, msg, status)
  check(calls > 1, "progress was reported")
  check(not exists(out .. "/dataset_description.json"), "no session")
  H.raises("stop here", btfm.sim.rating_session, out, SMALL, function() error("stop here") end)
  check(not exists(out .. "/dataset_description.json"), "no session after an error")
end)

H.finish()
