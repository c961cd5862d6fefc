-- Tests of btfm.read_table / parse_table / new_table and the btfm.table methods. The
-- TSV texts are written here, so every expected cell and number comes from them.
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, same, check, fails = H.test, H.eq, H.same, H.check, H.fails

local EVENTS = "onset\tduration\ttrial_type\n0.5\t1\tgo\n2.25\tn/a\tstop\n"

test("read_table gives cells, numbers and strings", function()
  local path = tmp_dir .. "/lua_events.tsv"
  local f = assert(io.open(path, "wb"))
  f:write(EVENTS)
  f:close()
  local t = assert(btfm.read_table(path))
  eq(t:n_rows(), 2, "n_rows")
  eq(#t, 2, "#t")
  local cols = t:columns()
  eq(#cols, 3, "columns")
  eq(cols[3], "trial_type", "column 3")
  local onset = t:numbers("onset")
  eq(onset[1], 0.5, "onset 1")
  eq(onset[2], 2.25, "onset 2")
  local duration = t:column(2)
  eq(duration[1], 1.0, "duration 1")
  check(duration[2] ~= duration[2], "n/a is NaN")
  local labels = t:column("trial_type")
  eq(labels[1], "go", "label 1")
  eq(labels[2], "stop", "label 2")
  eq(t:strings("duration")[2], "n/a", "stored text")
  eq(t:cell(2, "duration"), nil, "n/a cell is nil")
  eq(t:cell(1, 3), "go", "cell")
  check(tostring(t):find("2 rows x 3 columns", 1, true), tostring(t))
  local msg = fails("BTFM_E_FORMAT", "numbers of a text column", t:numbers("trial_type"))
  check(msg:find('line 2, column 3 ("trial_type")', 1, true), msg)
  check(not pcall(t.cell, t, 3, 1), "row out of range raises")
  check(not pcall(t.cell, t, 1, "nope"), "unknown column raises")
  t:close()
  t:close()
  check(not pcall(t.n_rows, t), "use after close raises")
  os.remove(path)
end)

test("malformed text is refused with line and counts", function()
  local msg = fails("BTFM_E_FORMAT", "short row", btfm.parse_table("a\tb\n1\t2\n3\n", "x.tsv"))
  check(msg:find("x.tsv: line 3: 1 cell, but the header has 2 columns", 1, true), msg)
  fails("BTFM_E_NOTFOUND", "missing file", btfm.read_table(tmp_dir .. "/no-such.tsv"))
  fails("BTFM_E_FORMAT", "duplicate column", btfm.new_table({"a", "a"}))
end)

test("new_table, edits and save round trip", function()
  local t = assert(btfm.new_table({"name", "low_cutoff"}))
  assert(t:add_row({"Fz", 0.1}))
  assert(t:add_row({"Cz"}))  -- a missing value is n/a
  assert(t:add_column("status", "good"))
  assert(t:set_cell(2, "status", "bad"))
  fails("BTFM_E_INVALID", "tab in a cell", t:add_row({"a\tb", 1, "good"}))
  local path = tmp_dir .. "/lua_channels.tsv"
  assert(t:save(path))
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  eq(text, "name\tlow_cutoff\tstatus\nFz\t0.1\tgood\nCz\tn/a\tbad\n", "saved text")
  local back = assert(btfm.read_table(path))
  eq(back:numbers("low_cutoff")[1], 0.1, "number read back")
  os.remove(path)
end)

H.finish()
