-- btfm.reward_features from Lua on a simulated rating session read through BIDS. The
-- truth is the definition computed here from the raw samples (ds:read) and the events
-- (ds:events): with the band-pass off, each ERP feature is the mean over its window of
-- the epoch minus the epoch's mean up to the event, windows and epochs inclusive of
-- their ends, the event at the nearest sample. Also the names, roles, rows, a numeric
-- events.tsv column, the epochs, a head fitted on the result, and refused input.
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.
local btfm = require "btfm"
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, same, check, fails = H.test, H.eq, H.same, H.check, H.fails

local root = string.format("%s/lua_reward_features_%d", tmp_dir, os.time())
os.execute("rm -rf '" .. root .. "'")
assert(btfm.sim.rating_session(root, {n_annotators = 2, n_items = 9, n_channels = 8,
                                      sfreq = 125, line_freq = 0, n_pairs = 4, seed = 3,
                                      n_bad_channels = 1, eog = true}))
local bids = assert(btfm.bids_open(root))
local rec = assert(bids:query("datatype=eeg"))[1]
local ds = assert(bids:open(rec.index))

local PARAMS = {l_freq = 0, h_freq = 0, band_power = false, onset_window = false,
                tmin = -0.2, tmax = 0.6, erp_start = 0.05, erp_stop = 0.45, erp_step = 0.1}

test("ERP window means equal the definition on the raw samples", function()
  local fb <close> = assert(btfm.reward_features(PARAMS))
  check(tostring(fb):find("not computed", 1, true), "tostring before: " .. tostring(fb))
  assert(fb:compute(ds))
  local x, rows, cols = assert(fb:matrix())
  local names, roles, evs = fb:names(), fb:roles(), fb:events()
  eq(#names, cols, "one name per feature")
  eq(#roles, cols, "one role set per feature")
  eq(#evs, rows, "one event per row")
  local sf = ds:sfreq()
  local values, dims = ds:data()
  local nch = dims[2]
  local channels, by_name, eeg = ds:channels(), {}, 0
  for k, c in ipairs(channels) do
    by_name[c.name] = c
    if c.type == "eeg" then eeg = eeg + 1 end
  end
  local events = ds:events()
  local item_end = 0
  for _, e in ipairs(events) do if e.label == "item_end" then item_end = item_end + 1 end end
  eq(rows, item_end, "a row per item_end event")
  eq(cols, 4 * eeg, "four windows of every EEG channel")
  local lo, hi = math.floor(-0.2 * sf + 0.5), math.floor(0.6 * sf + 0.5)
  local worst, scale, zeros = 0, 0, 0
  for r = 1, rows do
    local e = events[evs[r]]
    eq(e.label, "item_end", "row " .. r .. "'s event")
    local s = math.floor(e.onset * sf + 0.5)
    for j = 1, cols do
      local name = names[j]
      local label, a, b = name:match("^(.-):erp:([%d.]+)%-([%d.]+)$")
      check(label and by_name[label], "feature name " .. name)
      eq(roles[j], 7, name .. " serves value, confidence and penalty")
      local c = by_name[label]
      local got = x[(r - 1) * cols + j]
      if c.bad then
        same(got, 0.0, name .. " of a bad channel")
        zeros = zeros + 1
      else
        a, b = tonumber(a), tonumber(b)
        local base, nb, win, nw = 0, 0, 0, 0
        for k = lo, hi do
          local v = values[(s + k) * nch + c.index]
          local t = k / sf
          if t <= 1e-9 then base, nb = base + v, nb + 1 end
          if t >= a - 1e-9 and t <= b + 1e-9 then win, nw = win + v, nw + 1 end
        end
        local want = win / nw - base / nb
        worst = math.max(worst, math.abs(got - want))
        scale = math.max(scale, math.abs(want))
      end
    end
  end
  check(zeros == 4 * rows, "the bad channel's features are zero (" .. zeros .. ")")
  check(scale > 0 and worst <= 1e-5 * scale, string.format("worst %.3g of %.3g", worst, scale))
  local config = fb:config()
  check(config:find("erp", 1, true) ~= nil, "config names the ERP windows: " .. config)
end)

test("epochs, a numeric events column and the defaults' feature kinds", function()
  local fb <close> = assert(btfm.reward_features())
  same(fb:get_param("h_freq"), 30.0, "default low-pass edge")
  assert(fb:set_param("onset_window", true))
  assert(fb:compute(ds))
  local rows, cols = fb:shape()
  local names = fb:names()
  local kinds = {}
  for _, n in ipairs(names) do kinds[n:match("^[^:]*:(%a+)")] = true end
  check(kinds.erp and kinds.theta and kinds.alpha and kinds.onset, "erp, theta, alpha, onset")
  local roles = fb:roles()
  for j, n in ipairs(names) do
    if n:find(":onset", 1, true) then eq(roles[j], 8, n .. " is a novelty feature") end
  end
  local ep, n_rows, n_times, n_sources = fb:epochs()
  eq(n_rows, rows, "epoch rows")
  eq(#ep, n_rows * n_times * n_sources, "epoch values")
  local items = fb:column(ds, "item_id")
  eq(#items, rows, "item ids per row")
  for r = 1, rows do check(items[r] == math.floor(items[r]), "item id " .. items[r]) end
  local x = fb:matrix()
  local who = {}
  for r = 1, rows do who[r] = 1 end
  local head <close> = assert(btfm.reward_head("brain_only"))
  assert(head:set_param("folds", 2))
  local pairs = {0, 1, 2, 3}
  local ok, msg = head:fit(x, rows, cols, who, {pairs = pairs})
  check(ok == nil and msg:find("fewer than the 2 folds", 1, true), tostring(msg))
end)

test("refused input", function()
  local fb <close> = assert(btfm.reward_features())
  fails("BTFM_E_STATE", "matrix before compute", fb:matrix())
  fails("BTFM_E_INVALID", "a window after the epoch", (function()
    local bad <close> = assert(btfm.reward_features({tmax = 0.3, erp_stop = 0.65}))
    return bad:compute(ds)
  end)())
  local msg = fails(nil, "an unknown parameter", btfm.reward_features({no_such = 1}))
  check(msg:find("no_such", 1, true), "the message names it: " .. msg)
end)

os.execute("rm -rf '" .. root .. "'")
H.finish()
