-- btfm.glm from Lua against closed forms: the HRF sums to 1 and peaks near 5 s; the DCT
-- cosines are orthonormal; detrending removes a line; an intercept-only GLM is the
-- one-sample t test; LSS/LSA betas of events with disjoint supports are e'y / e'e.
local btfm = require "btfm"
local glm = btfm.glm

local failures = 0
local function check(cond, what)
  if cond then print("ok      " .. what) else failures = failures + 1; print("FAILED  " .. what) end
end
local function near(a, b, tol) return math.abs(a - b) <= tol end

local h = assert(glm.spm_hrf(1.0, 100))
local sum, peak = 0, 1
for i, v in ipairs(h) do sum = sum + v; if v > h[peak] then peak = i end end
check(#h == 3200 and near(sum, 1, 1e-12), "spm_hrf sums to 1")
check(near((peak - 1) * 32 / 3199, 5.01, 0.011), "spm_hrf peaks at the gamma mode")

local cos, cols = assert(glm.cosine_drift(200, 2.0, 128))
check(cols == math.floor(2 * 200 * 2 / 128) + 1, "cosine drift column count")
local dot11, dot12 = 0, 0
for t = 0, 199 do
  dot11 = dot11 + cos[t * cols + 1] ^ 2
  dot12 = dot12 + cos[t * cols + 1] * cos[t * cols + 2]
end
check(near(dot11, 1, 1e-9) and near(dot12, 0, 1e-9), "cosines orthonormal")

-- a line plus a constant: detrended, nothing is left
local line = {}
for t = 0, 49 do line[#line + 1] = 3 + 0.5 * t end
local cleaned = assert(glm.clean(line, 50, 1, 2.0, {detrend = 1, standardize = "none"}))
local worst = 0
for _, v in ipairs(cleaned) do worst = math.max(worst, math.abs(v)) end
check(worst < 1e-4, "clean removes a linear trend")
local bad, msg, status = glm.clean(line, 50, 1, 0.0)
check(bad == nil and status == "BTFM_E_RANGE" and msg:find("t_r"), "clean refuses t_r = 0")

-- one-sample t test
local y, ones, n, mean = {}, {}, 40, 0
for t = 1, n do y[t] = math.sin(t) + 0.4; ones[t] = 1; mean = mean + y[t] end
mean = mean / n
local ss = 0
for t = 1, n do ss = ss + (y[t] - mean) ^ 2 end
local b, var, ar, tv = assert(glm.fit(y, n, 1, ones, 1, "ols", {1}))
check(near(b[1], mean, 1e-5) and near(var[1], ss / (n - 1), 1e-4), "OLS beta and variance")
check(near(tv[1], mean / math.sqrt(ss / (n - 1) / n), 1e-3) and ar[1] == 0, "one-sample t")

-- disjoint events
local E, N = 3, 30
local ev, data = {}, {}
for t = 0, N - 1 do
  for e = 0, E - 1 do ev[#ev + 1] = (t // 10 == e) and (1 + t % 10) or 0 end
  data[#data + 1] = math.cos(1.7 * t)
end
local lss = assert(glm.lss(data, N, 1, ev, E))
local lsa = assert(glm.lsa(data, N, 1, ev, E))
local ok = true
for e = 0, E - 1 do
  local num, den = 0, 0
  for t = 0, N - 1 do
    local w = ev[t * E + e + 1]
    num = num + w * data[t + 1]
    den = den + w * w
  end
  ok = ok and near(lss[e + 1], num / den, 1e-5) and near(lsa[e + 1], num / den, 1e-5)
end
check(ok, "LSS and LSA of disjoint events")

local regs, ncols = assert(glm.event_regressors({10.01}, {0}, 2.0, 60))
check(ncols == 1 and #regs == 60 and regs[1] == 0, "event regressor shape")


-- Plans: a clean plan removes the line as glm.clean does; it refuses to run before t_r
-- is set. A design plan's first column is the condition's event regressor, its last
-- the constant.
do
  local cp = assert(glm.clean_plan({standardize = 0, filter = 0}))
  local none, msg, status = cp:run(line, 50, 1)
  check(none == nil and status == "BTFM_E_STATE" and msg:find("t_r is not set"), "clean plan needs t_r")
  assert(cp:set_param("t_r", 2.0))
  local a = assert(cp:run(line, 50, 1))
  local b = assert(glm.clean(line, 50, 1, 2.0, {detrend = 1, standardize = "none"}))
  local same = #a == #b
  for i = 1, #a do same = same and a[i] == b[i] end
  check(same, "clean plan equals glm.clean")
  local dp = assert(glm.design_plan({t_r = 2.0, drift_model = 2, drift_order = 1}))
  local x, cols = assert(dp:run({10.01, 40}, {0, 2}, {0, 0}, 1, 60))
  local r = assert(glm.event_regressors({10.01, 40}, {0, 2}, 2.0, 60))
  check(cols == 3 and #x == 180, "design plan: a condition, a linear drift, the constant")
  local ok = true
  for t = 0, 59 do ok = ok and x[3 * t + 1] == r[t + 1] and x[3 * t + 3] == 1 end
  check(ok, "design plan columns")
  none, msg, status = dp:set_param("t_r", 0)
  check(none == nil and status == "BTFM_E_RANGE", "design plan refuses t_r = 0")
end

if failures > 0 then error(failures .. " check(s) failed") end
