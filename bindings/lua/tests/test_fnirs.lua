-- Tests of the fNIRS functions on a dataset made here: two source-detector pairs at 760
-- and 850 nm (one of them 8 mm long) plus one EEG channel. Expected values come from the
-- definitions: optical density -ln(x / mean x), the pair distances from the positions
-- given, Prahl's table at a listed wavelength, correlations of +1 for identical signals.

local btfm = require "btfm"
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, close_to = H.test, H.same, H.close_to

local NT, NC = 200, 5
local function intensity(t, c)
  if c == 3 then return 1e-6 * t end -- EEG
  local cardiac = math.sin(2 * math.pi * 1.1 * t / 10)
  return 1.0 + 0.05 * cardiac + 0.01 * math.sin(0.3 * t * c)
end

local function make()
  local values = {}
  for t = 0, NT - 1 do
    for c = 1, NC do values[t * NC + c] = intensity(t, c) end
  end
  local ds = assert(btfm.from_array(values, NT, NC, 10))
  local source, far, near = {0, 0, 0}, {0.03, 0, 0}, {0.0048, 0.0064, 0}
  for _, c in ipairs({1, 2, 4, 5}) do assert(ds:set_channel_type(c, "fnirs_cw_amplitude")) end
  assert(ds:set_channel_type(3, "eeg"))
  assert(ds:set_nirs_channel(1, 1, 1, 760, source, far))
  assert(ds:set_nirs_channel(2, 1, 1, 850, source, far))
  assert(ds:set_nirs_channel(4, 1, 2, 760, source, near))
  assert(ds:set_nirs_channel(5, 1, 2, 850, source, near))
  return ds
end

test("distances and short channels", function()
  local ds <close> = make()
  local d = btfm.source_detector_distances(ds)
  close_to(d[1], 0.03, 1e-15); close_to(d[4], 0.008, 1e-15)
  assert(d[3] ~= d[3], "EEG has no distance (NaN)")
  local short = btfm.short_channels(ds)
  eq(short[1], false); eq(short[3], false); eq(short[4], true); eq(short[5], true)
  local nirs = ds:channels()[4].nirs
  eq(nirs.detector, 2); eq(nirs.wavelength, 760)
end)

test("optical density is -ln(x / mean x)", function()
  local ds <close> = make()
  local od <close> = assert(btfm.optical_density(ds))
  eq(od:channels()[1].type, "fnirs_od"); eq(od:channels()[3].type, "eeg")
  local values = assert(od:read(0, NT, {2}))
  local mean = 0
  for t = 0, NT - 1 do mean = mean + intensity(t, 2) end
  mean = mean / NT
  for t = 0, NT - 1, 17 do
    local want = -math.log(intensity(t, 2) / mean)
    assert(math.abs(values[t + 1] - want) < 1e-6, string.format("%d: %g vs %g", t, values[t + 1], want))
  end
end)

test("beer-lambert, regression and coupling", function()
  local ds <close> = make()
  local od <close> = assert(btfm.optical_density(ds))
  local hb <close> = assert(btfm.beer_lambert(od, 6))
  local chans = hb:channels()
  eq(#chans, 5); eq(chans[1].name, "1 hbo"); eq(chans[2].type, "hbr"); eq(chans[1].unit, "M")
  local clean <close> = assert(btfm.short_channel_regression(hb, 0.01))
  eq(clean:n_channels(), 5)
  local sci = assert(btfm.scalp_coupling_index(od))
  close_to(sci[1], sci[2], 0); assert(sci[1] > 0.9, "a shared cardiac signal couples well")
  assert(sci[3] ~= sci[3], "EEG has no coupling index (NaN)")
  local ok, message, status = btfm.beer_lambert(ds)
  eq(ok, nil); eq(status, "BTFM_E_INVALID")
  assert(message:find("optical%-density"), message)
end)

test("extinction coefficients", function()
  local hbo, hbr = assert(btfm.extinction(760))
  eq(hbo, 586); eq(hbr, 1548.52)
  local ok, _, status = btfm.extinction(2000)
  eq(ok, nil); eq(status, "BTFM_E_RANGE")
end)

H.finish()
