-- btfm.open on EyeLink .asc exports written here line by line after SR Research's
-- documented layout: the samples, channel names and events come back as written, and
-- ds:sync maps one tracker's clock onto another's with the line the triggers were drawn
-- from (t_b = 250 ms + 1.002 t_a, exact in whole milliseconds).
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"

local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, same = H.test, H.eq, H.same

-- An .asc of 1000 Hz monocular samples from `start` ms, with TRIGGER messages at
-- `triggers` ({ms after start, code}) and one fixation.
local function write_asc(path, start, n, triggers)
  local lines = {"** CONVERTED FROM lua.edf using edfapi 4.2", "**",
                 "START\t" .. start .. " \tLEFT\tSAMPLES\tEVENTS",
                 "SAMPLES\tGAZE\tLEFT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2"}
  for k = 0, n - 1 do
    local t = start + k
    lines[#lines + 1] = string.format("%d\t%.1f\t%.1f\t%d\t...", t, 100 + k % 7, 200 + k % 5,
                                      900 + k % 3)
    if k == 10 then lines[#lines + 1] = string.format("EFIX L %d\t%d\t6\t100.0\t200.0\t900",
                                                      t - 5, t) end
    for _, tr in ipairs(triggers) do
      if tr[1] == k then lines[#lines + 1] = string.format("MSG\t%d TRIGGER %d", t, tr[2]) end
    end
  end
  lines[#lines + 1] = "END\t" .. (start + n) .. " \tSAMPLES\tEVENTS\tRES\t38.5\t31.1"
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end

local A = tmp_dir .. "/lua-eye-a.asc"
local B = tmp_dir .. "/lua-eye-b.asc"
local trig_a = {{500, 1}, {1000, 2}, {1500, 1}, {2000, 3}}
local trig_b = {}
for i, tr in ipairs(trig_a) do trig_b[i] = {250 + tr[1] * 1002 // 1000, tr[2]} end
write_asc(A, 5000, 2100, trig_a)
write_asc(B, 90000, 2300, trig_b)

test("eyelink samples, channels and events as written", function()
  local ds = assert(btfm.open(A))
  eq(ds:format(), "eyelink")
  eq(ds:sfreq(), 1000.0)
  eq(ds:n_times(), 2100)
  local ch = ds:channels()
  eq(#ch, 3)
  eq(ch[1].name, "xpos_left"); eq(ch[2].name, "ypos_left"); eq(ch[3].name, "pupil_left")
  eq(ch[1].type, "gaze"); eq(ch[3].type, "pupil")
  local x = ds:read(0, 12)
  for k = 0, 11 do
    same(x[k * 3 + 1], 100 + k % 7, "x " .. k)
    same(x[k * 3 + 3], 900 + k % 3, "pupil " .. k)
  end
  local ev = ds:events()
  eq(ev[1].type, "fixation"); same(ev[1].onset, 0.005); same(ev[1].duration, 0.005)
  eq(ev[2].type, "message"); eq(ev[2].label, "TRIGGER 1"); eq(ev[2].code, 1)
  same(ev[2].onset, 0.5)
  ds:close()
end)

test("sync maps one clock onto the other", function()
  local a, b = assert(btfm.open(A)), assert(btfm.open(B))
  local s = assert(a:sync(b))
  eq(s.n_pairs, 4)
  -- onsets: a = ms/1000, b = (250 + 1.002 ms)/1000
  H.close_to(s.offset, 0.25, 1e-9, "offset")
  H.close_to(s.drift, 0.002, 1e-9, "drift")
  H.check(s.rms < 1e-9, "rms " .. s.rms)
  local one = assert(btfm.from_array({0, 0}, 2, 1, 10))
  local msg = H.fails("BTFM_E_NOTFOUND", "sync", a:sync(one))
  H.check(msg:find("two or more", 1, true), msg)
  a:close(); b:close(); one:close()
end)

os.remove(A)
os.remove(B)
H.finish()
