-- Streams from Lua against closed forms: a 10 Hz sinusoid of amplitude A, unfiltered,
-- has power A^2 / 2 in 4-16 Hz (Parseval; the Hann window's main lobe spans +-4 Hz at
-- 0.5 s segments) and none to speak of at 20-30 Hz; rows come one per hop; a marker's
-- epoch of a unit step at the marker has ERP mean 1 - 1/27 after the baseline [-0.1, 0] s
-- (27 samples, the last at the step), whether the marker is given by time or by sample;
-- errors follow the nil, message, status convention
-- and bad arguments raise.
local btfm = require "btfm"

local failures = 0
local function check(cond, what)
  if cond then print("ok      " .. what) else failures = failures + 1; print("FAILED  " .. what) end
end

local fs, C, A = 256, 2, 3.0
local s = assert(btfm.stream(C, fs, {highpass = 0, lowpass = 0, capacity = 64,
                                     bands = {{4, 16}, {20, 30}}, erp_windows = {{0.1, 0.2}},
                                     epoch_tmin = -0.1, epoch_tmax = 0.3}))
local cols = s:columns()
check(cols[1] == "time" and cols[6] == "flags:0", "columns start with time ... flags:0")
assert(s:push_marker(3.0, 5, "step"))
assert(s:push_marker_sample(3 * fs, 6, "step by sample"))
local x = {}
for t = 0, 4 * fs - 1 do
  local v = A * math.sin(2 * math.pi * 10 * t / fs)
  x[#x + 1] = v
  x[#x + 1] = t >= 3 * fs and 1.0 or 0.0 -- a unit step at 3 s on channel 1
end
assert(s:push(x, 4 * fs))
local rows = s:pull()
local windows, epoch, by_sample = 0, nil, nil
for _, row in ipairs(rows) do
  if row.kind == 0 then windows = windows + 1
  elseif row.code == 5 then epoch = row else by_sample = row end
end
check(windows == (4 * fs - fs) // 64 + 1, "one window row per hop")
local w = rows[1]
check(math.abs(w["band0:0"] / (A * A / 2) - 1) < 0.01, "power of a sinusoid is A^2/2")
check(w["band1:0"] < 1e-6 * A * A, "no power far from the sinusoid")
check(epoch and epoch.code == 5 and epoch.sample == 3 * fs, "the marker's epoch at its sample")
check(epoch and math.abs(epoch["erp0:1"] - (1 - 1 / 27)) < 1e-6, "ERP mean of a unit step after its baseline")
check(by_sample and by_sample.code == 6 and by_sample.sample == 3 * fs and by_sample.time == 3.0
      and by_sample["erp0:1"] == epoch["erp0:1"], "a marker by sample: the same epoch as by time")
local ok, msg, status = s:push_marker_sample(-1)
check(ok == nil and status == "BTFM_E_RANGE", "a negative marker sample is refused")
ok, msg, status = s:push_marker_sample(0)
check(ok == nil and status == "BTFM_E_RANGE" and msg:find("oldest sample kept"),
      "a marker sample whose epoch left the history is refused")
check(s:n_samples() == 4 * fs and s:n_dropped() == 0, "counters")
check(not pcall(s.push, s, {1, 2, 3}, 1), "a table of the wrong length raises")
ok, msg, status = s:push_marker(0 / 0)
check(ok == nil and status == "BTFM_E_INVALID", "a NaN marker time is refused")
ok, msg, status = btfm.stream(2, fs, {hop = 0.3})
check(ok == nil and status == "BTFM_E_RANGE" and msg:find("segment_step"), "hop not a step multiple")
s:close()
if failures > 0 then error(failures .. " failures") end
