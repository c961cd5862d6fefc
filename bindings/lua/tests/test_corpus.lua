-- btfm.corpus from Lua: a corpus built from two EDF files written here, its batches
-- against the robust z-scores of the written samples (computed here by sorting, NumPy's
-- linear percentiles), windows against their closed-form count, one epoch seeing every
-- window once, resume, masks at their ratio, and the error convention.
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.
local btfm = require "btfm"
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, check, fails = H.test, H.eq, H.check, H.fails

local root = string.format("%s/lua_corpus_%d", tmp_dir, os.time())
os.execute("rm -rf '" .. root .. "' && mkdir -p '" .. root .. "'")
local SF, T, C = 100, 1013, 3 -- a prime number of samples
local L, S = 64, 40           -- window and stride in samples
local signals, files, n_file = {}, {}, nil
for s = 1, 2 do
  local x = {}
  for t = 0, T - 1 do
    for c = 1, C do
      x[#x + 1] = 1e-5 * math.sin(0.03 * c * t + s) + 1e-6 * c * ((t * 7 + s) % 11)
    end
  end
  local ds = assert(btfm.from_array(x, T, C, SF))
  for c = 1, C do assert(ds:set_channel_type(c, "eeg")) end
  files[s] = string.format("%s/sub-%02d_task-rest_eeg.edf", root, s)
  assert(ds:save(files[s]))
  -- what the file holds, as the library reads it back (EDF pads to whole records)
  local values, shape = assert(btfm.open(files[s])):read()
  signals[s], n_file = values, shape[1]
end

local function percentile(sorted, q)
  local pos = q * (#sorted - 1)
  local k = math.floor(pos)
  if k + 1 >= #sorted then return sorted[k + 1] end
  return sorted[k + 1] + (pos - k) * (sorted[k + 2] - sorted[k + 1])
end

-- z[s][c][t] (1-based) of the robust z-score of recording s's channel c
local z = {}
for s = 1, 2 do
  z[s] = {}
  for c = 1, C do
    local col = {}
    for t = 1, n_file do col[t] = signals[s][(t - 1) * C + c] end
    local sorted = {table.unpack(col)}
    table.sort(sorted)
    local med, iqr = percentile(sorted, 0.5), percentile(sorted, 0.75) - percentile(sorted, 0.25)
    z[s][c] = {}
    for t = 1, n_file do z[s][c][t] = (col[t] - med) / iqr end
  end
end

local out = root .. "/corpus"
test("build, then batches equal the robust z-scores of the files", function()
  local built, failed = btfm.corpus.build(nil, out, "lua test key", {
    files = files, sfreq = 0, l_freq = 0, h_freq = 0, reference = 0, clip = 0, dtype = 1})
  eq(built, 2, "built")
  eq(failed, 0, "failed")
  local loader = assert(btfm.corpus.loader(out, {window_s = L / SF, stride_s = S / SF,
                                                 batch_size = 5, split = 3, seed = 7}))
  eq(loader:n_recordings(), 2, "recordings")
  eq(loader:window_len(), L, "window length")
  local per_recording = (n_file - L) // S + 1
  eq((loader:count(3)), 2 * per_recording, "windows: floor((T - L) / S) + 1 per recording")
  -- recordings are in the order of their (pseudonymized) ids: match them by their values
  local seen, worst, rows, dup = {}, 0, 0, 0
  for batch in loader:batches() do
    for r = 1, batch.size do
      rows = rows + 1
      local id = batch.window_ids[r]
      if seen[id] then dup = dup + 1 end
      seen[id] = true
      local start, best = batch.starts[r], math.huge
      for s = 1, 2 do
        local err = 0
        for c = 1, C do
          for t = 1, L do
            local got = batch.data[((r - 1) * C + (c - 1)) * L + t]
            local want = z[s][c][start + t]
            err = math.max(err, math.abs(got - want) / (math.abs(want) + 1))
          end
        end
        best = math.min(best, err)
      end
      worst = math.max(worst, best)
    end
  end
  eq(rows, 2 * per_recording, "one epoch serves every window")
  eq(dup, 0, "no window twice in an epoch")
  check(worst < 2e-3, "batch values within float16 rounding of the z-scores (" .. worst .. ")")
  local epoch, position = loader:state()
  eq(epoch, 1, "the epoch moved on")
  eq(position, 0, "position 0")
end)

test("resume gives the same next batch; masks at their ratio", function()
  local params = {window_s = L / SF, stride_s = S / SF, batch_size = 4, split = 3, seed = 3,
                  patch_len = 16, mask_ratio = 0.5}
  local a = assert(btfm.corpus.loader(out, params))
  assert(a:next())
  local after_one = assert(a:next())
  local b = assert(btfm.corpus.loader(out, params))
  assert(b:set_state(0, 1))
  local resumed = assert(b:next())
  eq(resumed.window_ids[1], after_one.window_ids[1], "same window after resume")
  eq(resumed.data[17], after_one.data[17], "same data after resume")
  eq(after_one.patches, L // 16, "patches a window")
  local masked = 0
  for i = 1, C * after_one.patches do if after_one.mask[i] then masked = masked + 1 end end
  eq(masked, math.floor(0.5 * C * after_one.patches + 0.5), "round(ratio x tokens) masked")
  -- at the end of an epoch next() is false
  local last
  repeat last = a:next() until last == false
  eq(last, false, "false at the end of an epoch")
end)

test("errors follow the nil, message, status convention", function()
  fails("BTFM_E_NOTFOUND", "a missing corpus", btfm.corpus.loader(root .. "/nothing"))
  fails("BTFM_E_RANGE", "a short key", btfm.corpus.build(nil, root .. "/x", "short", {files = files}))
  fails("BTFM_E_NOTFOUND", "an unknown parameter",
        btfm.corpus.build(nil, root .. "/x", "lua test key", {files = files, no_such = 1}))
end)

os.execute("rm -rf '" .. root .. "'")
H.finish()
