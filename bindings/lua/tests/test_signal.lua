-- btfm signal functions from Lua against closed forms: the DC gain of a designed low-pass
-- (a constant passes unchanged through zero-phase filtering), chunked causal filtering
-- equal to one call, exact detrending of a line, identity resampling, and the error
-- convention for bad arguments.
local btfm = require "btfm"

local failures = 0
local function check(cond, what)
  if cond then print("ok      " .. what) else failures = failures + 1; print("FAILED  " .. what) end
end

local sos, n = btfm.butter(4, "lowpass", 10, nil, 100)
check(n == 2 and #sos == 12, "butter gives 2 sections of 6 coefficients")
local dc = 1
for s = 0, n - 1 do
  local b = sos[6 * s + 1] + sos[6 * s + 2] + sos[6 * s + 3]
  local a = sos[6 * s + 4] + sos[6 * s + 5] + sos[6 * s + 6]
  dc = dc * b / a
end
check(math.abs(dc - 1) < 1e-12, "low-pass DC gain is 1")

local T, C, x = 200, 2, {}
for t = 1, T do x[#x + 1] = 3.0; x[#x + 1] = -1.5 end
local y = btfm.sosfiltfilt(sos, x, T, C)
local worst = 0
for i = 1, #y do worst = math.max(worst, math.abs(y[i] - x[i])) end
check(worst < 1e-5, "a constant passes zero-phase filtering unchanged")

for i = 1, #x do x[i] = math.sin(0.3 * i) end
local one = btfm.sosfilt(sos, x, T, C)
local f = assert(btfm.iir(sos, C))
local part1, part2 = {}, {}
for i = 1, 2 * 37 do part1[i] = x[i] end
for i = 2 * 37 + 1, #x do part2[#part2 + 1] = x[i] end
local y1, y2 = f:process(part1, 37), f:process(part2, T - 37)
local same = true
for i = 1, #y1 do same = same and y1[i] == one[i] end
for i = 1, #y2 do same = same and y2[i] == one[2 * 37 + i] end
check(same, "btfm.iir in two chunks equals one sosfilt call exactly")
f:close()

local line = {}
for t = 0, 99 do line[#line + 1] = 2 + 0.5 * t end
local d = btfm.detrend(line, 100, 1, "linear")
worst = 0
for i = 1, #d do worst = math.max(worst, math.abs(d[i])) end
check(worst < 1e-4, "linear detrend of a line is zero")

local r, n_out = btfm.resample_poly(line, 100, 1, 2, 2)
check(n_out == 100 and r[50] == line[50], "resampling by 2/2 is a copy")
local taps = btfm.firwin(31, "lowpass", 10, nil, 100)
local sum = 0
for i = 1, #taps do sum = sum + taps[i] end
check(#taps == 31 and math.abs(sum - 1) < 1e-12, "firwin low-pass has unit DC gain")

local bad, msg, status = btfm.butter(11, "lowpass", 10, nil, 100)
check(bad == nil and status == "BTFM_E_RANGE" and msg:find("order 11"), "order 11 is refused")
bad, msg, status = btfm.butter(4, "lowpass", 60, nil, 100)
check(bad == nil and msg:find("60 Hz is outside"), "a cutoff above Nyquist is refused")
x[5] = 0 / 0
bad, msg, status = btfm.sosfilt(sos, x, T, C)
check(bad == nil and status == "BTFM_E_NUMERIC" and msg:find("channel 0, sample 2"), "NaN is refused")


-- Epochs plans: a ramp x[t][c] = t + 100 c at 100 Hz, epochs -0.1 .. 0.2 s with the
-- baseline (None, 0): the mean over -0.1 .. 0 s is event - 5, so sample i of an epoch
-- holds i - 10 + 5 on every channel; events too close to an edge are out of bounds.
do
  local N, C = 1000, 3
  local ramp = {}
  for t = 0, N - 1 do for c = 0, C - 1 do ramp[#ramp + 1] = t + 100 * c end end
  local plan = assert(btfm.epochs_plan({tmin = -0.1, tmax = 0.2}))
  check(plan:n_times(100) == 31, "epochs plan: 31 samples an epoch")
  local p = plan:params()
  check(p.tmin == -0.1 and p.baseline == 1 and p.baseline_from_start == 1, "epochs plan params")
  local ep, kept, reasons = assert(plan:run(ramp, N, C, 100, {5, 100, 500, 990}))
  check(kept == 2 and #ep == 2 * 31 * C, "epochs plan keeps the events inside the data")
  check(reasons[1] == -2 and reasons[2] == -1 and reasons[4] == -2, "epochs plan reasons")
  local ok = true
  for e = 0, 1 do for i = 0, 30 do for c = 0, C - 1 do
    ok = ok and math.abs(ep[(e * 31 + i) * C + c + 1] - (i - 5)) < 1e-4
  end end end
  check(ok, "epochs plan subtracts the baseline mean")
  assert(plan:set_reject({0, 29.5, 0}))
  ep, kept, reasons = assert(plan:run(ramp, N, C, 100, {100, 500}))
  check(kept == 0 and reasons[1] == 1, "a 30 rise over the epoch exceeds channel 1's limit")
  local none, msg, status = plan:run(ramp, 1500, 2, 100, {100})
  check(none == nil and status == "BTFM_E_INVALID" and msg:find("3 channels"), "limits for 3 channels")
  none, msg, status = plan:set_param("baseline", 2)
  check(none == nil and status == "BTFM_E_RANGE", "a bool parameter refuses 2")
  local raised, err = pcall(btfm.epochs_plan, {tmin = "x"})
  check(not raised and tostring(err):find("tmin: number or boolean expected, got string", 1, true),
        "a parameter takes a number")
end

if failures > 0 then error(failures .. " check(s) failed") end
