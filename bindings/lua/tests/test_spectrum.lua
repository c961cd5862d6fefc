-- The spectral functions from Lua against closed forms: the DFT of a cosine is two
-- spikes of n/2, a sinusoid's Welch spectrum holds its mean square, a flat PSD's band
-- power is its level times the band width, a unit FIR is the identity, the peak of a
-- known waveform sits where it was put; and errors follow the nil, message, status
-- convention.
local btfm = require "btfm"

local failures = 0
local function check(cond, what)
  if cond then print("ok      " .. what) else failures = failures + 1; print("FAILED  " .. what) end
end
local function near(a, b, tol) return math.abs(a - b) <= tol end

-- rfft / irfft
local n, k0 = 30, 4
local x = {}
for t = 0, n - 1 do x[#x + 1] = math.cos(2 * math.pi * k0 * t / n) end
local bins = assert(btfm.rfft(x))
check(#bins == 2 * (n // 2 + 1), "rfft returns n // 2 + 1 interleaved bins")
local spikes = true
for k = 0, n // 2 do
  local expect = (k == k0) and n / 2 or 0
  spikes = spikes and near(bins[2 * k + 1], expect, 1e-9) and near(bins[2 * k + 2], 0, 1e-9)
end
check(spikes, "the DFT of a cosine is a spike of n/2")
local back = assert(btfm.irfft(bins, n))
local same = true
for t = 1, n do same = same and near(back[t], x[t], 1e-12) end
check(same, "irfft inverts rfft")

-- Welch: 2 channels, a 40 Hz cosine of amplitude 2 and its negative plus an offset
local fs, T = 512, 4096
local sig = {}
for t = 0, T - 1 do
  local v = 2 * math.cos(2 * math.pi * 40 * t / fs)
  sig[#sig + 1] = v
  sig[#sig + 1] = 0.5 - v
end
local psd, freqs = assert(btfm.welch(sig, T, 2, fs, {window = "boxcar", nperseg = 512,
  noverlap = 0, detrend = "none", scaling = "spectrum"}))
check(#freqs == 257 and near(freqs[41], 40, 1e-12), "welch frequencies")
check(near(psd[40 * 2 + 1], 2.0, 1e-5) and near(psd[40 * 2 + 2], 2.0, 1e-5),
  "a sinusoid's bin holds its mean square A^2 / 2")
check(near(psd[2], 0.25, 1e-6), "DC holds the squared offset")

-- band power of a flat PSD: level x width
local flat, fr = {}, {}
for f = 0, 100 do fr[#fr + 1] = 0.5 * f; flat[#flat + 1] = 3.0 end
local power = assert(btfm.band_power(flat, fr, 1, {"alpha", {20, 30}}))
check(near(power[1], 15.0, 1e-12) and near(power[2], 30.0, 1e-12), "band power of a flat PSD")
local rel = assert(btfm.band_power(flat, fr, 1, {"alpha", {20, 30}}, true))
check(near(rel[1], 5 / 22, 1e-12), "relative band power")
local none, msg, status = btfm.band_power(flat, fr, 1, {{40, 60}})
check(none == nil and status == "BTFM_E_RANGE" and msg:find("outside"), "a band beyond Nyquist is refused")

-- FIR: the unit filter copies; zero-phase of a constant is the constant times the sum
local y, n_out = assert(btfm.fir_apply(sig, T, 2, {1.0}, "same"))
check(n_out == T and near(y[11], sig[11], 1e-6), "a unit FIR is the identity")
local const = {}
for i = 1, 200 do const[i] = 1.5 end
local z = assert(btfm.fir_apply(const, 100, 2, {0.25, 0.5, 0.25}, "zero-phase"))
check(near(z[1], 1.5, 1e-6) and near(z[200], 1.5, 1e-6), "zero-phase filtering keeps a constant")
local bad, bad_msg = btfm.fir_apply(const, 100, 2, {0.5, 0.5}, "zero-phase")
check(bad == nil and bad_msg:find("odd"), "even taps are refused for zero phase")

-- ERP: one epoch, one channel, a sine period from t = 0 at 100 Hz
local ep = {}
for t = 0, 99 do ep[#ep + 1] = math.sin(2 * math.pi * t / 100) end
local amp, lat = assert(btfm.erp_peak(ep, 1, 100, 1, 100, 0, 0, 0.99, "neg"))
check(near(amp[1], -1, 1e-6) and near(lat[1], 0.75, 1e-12), "negative peak at 0.75 s")
local mean = assert(btfm.erp_mean_amplitude(ep, 1, 100, 1, 100, 0, 0, 0.99))
check(near(mean[1], 0, 1e-6), "mean over a period is 0")

-- multitaper runs and returns n/2 + 1 bins
local mt, mfreqs, tapers = assert(btfm.psd_multitaper(ep, 100, 1, 100))
check(#mt == 51 and #mfreqs == 51 and tapers >= 1, "multitaper shapes")


-- Welch plans: configured once, run on both channels of the cosine signal above; the
-- Kaiser window with beta 0 is the boxcar window (I0(0) / I0(0) = 1 everywhere).
do
  local plan = assert(btfm.welch_plan({window = 4, kaiser_beta = 0, nperseg = 512,
    noverlap = 0, detrend = 0, scaling = 1}))
  check(plan:n_freqs(T) == 257, "welch plan frequencies")
  local kp, kf = assert(plan:run(sig, T, 2, fs))
  local same = #kp == #psd
  for i = 1, #psd do same = same and near(kp[i], psd[i], 1e-12 + 1e-12 * math.abs(psd[i])) end
  check(same and kf[41] == freqs[41], "Kaiser(0) equals boxcar")
  check(plan:params().kaiser_beta == 0.0, "welch plan params")
  assert(plan:set_param("nperseg", 8192))
  local none, msg, status = plan:run(sig, T, 2, fs)
  check(none == nil and status == "BTFM_E_RANGE" and msg:find("nperseg = 8192"), "welch plan: nperseg beyond the data")
  local kw = assert(btfm.welch(sig, T, 2, fs, {window = "kaiser", kaiser_beta = 0, nperseg = 512,
    noverlap = 0, detrend = "none", scaling = "spectrum"}))
  check(kw[81] == kp[81], "btfm.welch takes the Kaiser window too")
end

if failures > 0 then error(failures .. " check(s) failed") end
