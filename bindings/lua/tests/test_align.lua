-- btfm.aligner from Lua on a simulated shared response: two components seen through a
-- different, known orthonormal layout per subject (pure rotations of the plane plus a
-- sign flip), so the truth is exact: after alignment the subjects' images agree and
-- segment matching is perfect, while the raw (anatomical) data do not match.
local btfm = require "btfm"

local T, V, N = 60, 2, 3
local function signal(t) return math.sin(0.37 * t) + 0.5 * math.sin(1.3 * t),
                                math.cos(0.21 * t) * math.sin(0.05 * t * t) end
local angles = {0.0, 1.1, 2.5}
local function subject(i, offset)
  local c, s, x = math.cos(angles[i]), math.sin(angles[i]), {}
  for t = 1, T do
    local a, b = signal(t + offset)
    x[#x + 1] = c * a - s * b
    x[#x + 1] = (i == 3 and -1 or 1) * (s * a + c * b)
  end
  return x
end

local failures = 0
local function check(cond, what)
  if cond then print("ok      " .. what) else failures = failures + 1; print("FAILED  " .. what) end
end

-- Without z-scoring the subjects differ by exact rotations, so translation is exact.
local al = assert(btfm.aligner("hyperalignment"))
assert(al:set_param("zscore", 0))
for i = 1, N do assert(al:add_subject(subject(i, 0), T, V)) end
assert(al:fit())
local n, t, k = al:dims()
check(n == 3 and t == T and k == 2, "dims after fit")

local all, raw = {}, {}
for i = 1, N do
  local y = assert(al:transform(i - 1, subject(i, 100), T))
  for _, v in ipairs(y) do all[#all + 1] = v end
  for _, v in ipairs(subject(i, 100)) do raw[#raw + 1] = v end
end
local acc = assert(btfm.segment_matching(all, N, T, 2, 5))
check(acc[1] == 1 and acc[2] == 1 and acc[3] == 1, "segment matching is perfect after alignment")
local raw_acc = assert(btfm.segment_matching(raw, N, T, 2, 5))
check(raw_acc[3] < 0.5, "the reflected subject does not match anatomically")

-- By default each subject's features are z-scored over time first (BrainIAK's
-- procedure): the same as z-scoring them here and matching with zscore = false. The
-- second feature, 1000 times larger and noisy, then weighs as much as the first.
local scaled, z = {}, {}
for j = 1, #all do scaled[j] = (j % 2 == 0) and 1000 * (all[j] + math.sin(j * 7.1)) or all[j] end
for s = 0, N - 1 do
  for f = 1, 2 do
    local sum, sq = 0, 0
    for t = 0, T - 1 do sum = sum + scaled[(s * T + t) * 2 + f] end
    local mean = sum / T
    for t = 0, T - 1 do sq = sq + (scaled[(s * T + t) * 2 + f] - mean) ^ 2 end
    for t = 0, T - 1 do
      local k = (s * T + t) * 2 + f
      z[k] = (scaled[k] - mean) / math.sqrt(sq / T)
    end
  end
end
local z_acc = assert(btfm.segment_matching(scaled, N, T, 2, 5))
local lua_z = assert(btfm.segment_matching(z, N, T, 2, 5, false))
local plain_acc = assert(btfm.segment_matching(scaled, N, T, 2, 5, false))
local same, differs = true, false
for i = 1, N do
  same = same and math.abs(z_acc[i] - lua_z[i]) < 1e-12
  differs = differs or plain_acc[i] ~= z_acc[i]
end
check(same and differs, "segment matching z-scores by default, zscore=false does not")

-- fit_info: hyperalignment runs no iterations and reports no change (NaN).
local iters, objective, change = al:fit_info()
check(iters == 0 and objective >= 0 and change ~= change, "hyperalignment fit_info")
local srm = assert(btfm.aligner("srm"))
assert(srm:set_param("n_features", 2))
for i = 1, N do assert(srm:add_subject(subject(i, 0), T, V)) end
assert(srm:fit())
iters, objective, change = srm:fit_info()
check(iters >= 1 and change <= 1e-6, "SRM stops on its tolerance and reports the change")
-- fit_history: one objective per iteration, the last fit_info's, never rising (SRM's
-- error; by more than single-precision rounding near convergence); hyperalignment does
-- not iterate; the history travels with the saved model.
local history = assert(srm:fit_history())
local falls = true
for i = 2, #history do falls = falls and history[i] <= history[i - 1] + 1e-6 end
check(#history == iters and history[#history] == objective and falls, "SRM fit_history")
check(#assert(al:fit_history()) == 0, "hyperalignment has no fit history")
local reloaded = assert(btfm.aligner_from_string(srm:to_string())):fit_history()
local kept = #reloaded == #history
for i = 1, #history do kept = kept and reloaded[i] == history[i] end
check(kept, "fit_history saved with the model")

-- Round trip through the container; the loaded model maps identically.
local copy = assert(btfm.aligner_from_string(al:to_string()))
local a1 = al:transform(0, subject(1, 100), T)
local a2 = copy:transform(0, subject(1, 100), T)
local same = true
for j = 1, #a1 do same = same and a1[j] == a2[j] end
check(same, "to_string / aligner_from_string round trip")
local back = assert(al:inverse_transform(2, a1, T))
local err = 0
local truth = subject(3, 100)
for j = 1, #back do err = math.max(err, math.abs(back[j] - truth[j])) end
check(err < 1e-3, "subject 1 predicted from subject 0 through the common space")

-- Errors follow the nil, message, status convention.
local r, msg, status = btfm.aligner("srm"):fit()
check(r == nil and status == "BTFM_E_STATE" and msg:find("at least 2"), "fit without subjects")
local bad = subject(1, 0); bad[5] = 0 / 0
r, msg, status = btfm.aligner("srm"):add_subject(bad, T, V)
check(r == nil and status == "BTFM_E_NUMERIC" and msg:find("feature 0, time point 2"), "NaN refused")
check(not pcall(btfm.aligner, "pca"), "unknown method raises")
check(al:get_param("level2_passes") == 1, "parameters through the generic machinery")
al:close()
check(not pcall(al.dims, al), "use after close raises")

if failures > 0 then os.exit(1) end
