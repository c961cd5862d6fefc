-- Tests of btfm.bids_open and btfm.bids_writer. The tree is written here (BrainVision
-- header and markers as text, INT_16 samples with string.pack, TSV and JSON by hand), so
-- every expected value comes from what this script wrote.
-- Environment as test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, same, close_to, raises = H.test, H.same, H.close_to, H.raises

local root = tmp_dir .. "/lua-bids-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))

local function put(rel, text)
  local path = root .. "/" .. rel
  os.execute("mkdir -p '" .. path:match("^(.*)/[^/]*$") .. "'")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local SAMPLES = {{100, -200}, {300, -400}, {500, -600}, {700, -800}} -- raw, 0.5 uV each

local function put_recording(sub)
  local base = "sub-" .. sub .. "_task-rest_eeg"
  local dir = "sub-" .. sub .. "/eeg/"
  put(dir .. base .. ".vhdr", table.concat({
    "Brain Vision Data Exchange Header File Version 1.0", "", "[Common Infos]",
    "Codepage=UTF-8", "DataFile=" .. base .. ".eeg", "MarkerFile=" .. base .. ".vmrk",
    "DataFormat=BINARY", "DataOrientation=MULTIPLEXED", "NumberOfChannels=2",
    "SamplingInterval=10000", "", "[Binary Infos]", "BinaryFormat=INT_16", "",
    "[Channel Infos]", "Ch1=Fz,,0.5,µV", "Ch2=EOG,,0.5,µV", ""}, "\n"))
  put(dir .. base .. ".vmrk", "Brain Vision Data Exchange Marker File Version 1.0\n\n" ..
      "[Common Infos]\nCodepage=UTF-8\nDataFile=" .. base .. ".eeg\n\n[Marker Infos]\n")
  local bytes = {}
  for _, row in ipairs(SAMPLES) do bytes[#bytes + 1] = string.pack("<i2<i2", row[1], row[2]) end
  put(dir .. base .. ".eeg", table.concat(bytes))
  put(dir .. "sub-" .. sub .. "_task-rest_events.tsv",
      "onset\tduration\ttrial_type\tvalue\n0.02\t0\tgo\t5\nn/a\t0\tgo\t5\n0.01\t0.01\tn/a\t6\n")
  put(dir .. "sub-" .. sub .. "_task-rest_channels.tsv",
      "name\ttype\tunits\tstatus\nFz\tEEG\tµV\tgood\nEOG\tEOG\tµV\tbad\n")
end

put("dataset_description.json", '{"Name": "lua", "BIDSVersion": "1.9.0"}')
-- written by hand: numeric columns with n/a, a text column, a column of numbers and text
put("participants.tsv", "participant_id\tage\tsex\theight\tgroup\n" ..
    "sub-01\t40\tF\t1.72\t1\nsub-02\tn/a\tn/a\t-1.5e-1\tctl\n")
put("task-rest_eeg.json", '{"TaskName": "rest", "SamplingFrequency": 100, ' ..
    '"PowerLineFrequency": 50, "SoftwareFilters": "n/a", "EEGReference": "Cz", ' ..
    '"SliceLike": [1, 2.5]}')
put_recording("01")
put_recording("02")

test("index and queries", function()
  local b = assert(btfm.bids_open(root))
  same(#b:recordings(), 2, "recordings")
  same(table.concat(b:values("sub"), ","), "01,02", "subjects")
  local found = assert(b:query({sub = "02"}))
  same(#found, 1, "matches")
  same(found[1].index, 2, "index")
  same(found[1].entities.task, "rest", "task")
  same(found[1].datatype, "eeg", "datatype")
  same(found[1].extension, ".vhdr", "extension")
  same(#assert(b:query("sub=01,02 task=rest")), 2, "text query")
  same(#assert(b:query({sub = {"01", "02"}})), 2, "alternatives")
  local ok, msg, status = b:query("nokey=1")
  same(ok, nil, "bad key")
  same(status, "BTFM_E_INVALID", "status")
  assert(msg:find("nokey", 1, true), msg)
  local p = b:participants()
  same(p[1].age, 40, "numeric column as a number")
  same(math.type(p[1].age), "float", "a float, as in Python")
  same(p[2].age, nil, "n/a is nil")
  same(p[1].height, 1.72, "decimal")
  same(p[2].height, -0.15, "exponent")
  same(p[1].sex, "F", "text column as text")
  same(p[2].sex, nil, "n/a text is nil")
  same(p[1].group, "1", "a column with text stays text")
  same(p[2].group, "ctl", "text")
  same(p[1].participant_id, "sub-01", "id")
  assert(b:metadata(1):find('"TaskName": "rest"', 1, true))
  b:close()
end)

test("recordings open with their sidecars", function()
  local b = assert(btfm.bids_open(root))
  local ds = assert(b:open(1))
  local data = ds:data()
  close_to(data[1], 100 * 0.5e-6, 1e-7, "first sample")
  close_to(data[8], -800 * 0.5e-6, 1e-7, "last sample")
  local events = ds:events()
  same(#events, 1, "n/a onset and n/a trial_type rows dropped")
  same(events[1].label, "go", "label")
  same(events[1].code, 5, "code")
  close_to(events[1].onset, 0.02, 1e-12, "onset")
  same(ds:events_table()[1].value, "5", "events table")
  same(ds:channels()[2].bad, true, "status bad")
  same(ds:channels()[2].type, "eog", "type")
  same(ds:meta_numbers("PowerLineFrequency")[1], 50, "number")
  same(ds:meta_numbers("SliceLike")[2], 2.5, "array")
  same(ds:meta_string("EEGReference"), "Cz", "string")
  local ok, _, status = ds:meta_string("PowerLineFrequency")
  same(ok, nil, "not a string")
  same(status, "BTFM_E_FORMAT", "status")
  raises("outside", function() b:open(3) end)
  ds:close()
  b:close()
  raises("used after close", function() b:recordings() end)
end)

test("writer round trip", function()
  local b = assert(btfm.bids_open(root))
  local ds = assert(b:open(1))
  local out = root .. "/derivatives/copy"
  local w = assert(btfm.bids_writer(out, "copy"))
  assert(w:add(ds, {sub = "01", task = "rest", datatype = "eeg"},
               {format = "edf", sidecar = '{"EEGReference": "FCz"}'}))
  local ok, msg = w:add(ds, "sub=01 datatype=eeg")
  same(ok, nil, "no task")
  assert(msg:find("task", 1, true), msg)
  assert(w:finish())
  local c = assert(btfm.bids_open(out))
  local back = assert(c:open(1))
  same(#back:events(), 1, "events")
  same(back:meta_string("EEGReference"), "FCz", "sidecar")
  same(back:channels()[2].bad, true, "bad channel")
  back:close()
  c:close()
  ds:close()
  b:close()
end)

-- An EDF header by hand (the EDF specification's fields): the patient and the start date
-- identify the subject, and a writer clears them unless told to keep them.
local function edf_bytes()
  local function field(text, width) return text .. string.rep(" ", width - #text) end
  local head = field("0", 8) .. field("MCH-0234567 F 02-MAY-1951 Jane_Doe", 80) ..
      field("Startdate 02-MAR-2021 X X X", 80) .. "02.03.21" .. "10.20.30" ..
      field("512", 8) .. field("", 44) .. field("2", 8) .. field("1", 8) .. field("1", 4) ..
      field("Fz", 16) .. field("", 80) .. field("uV", 8) .. field("-100", 8) ..
      field("100", 8) .. field("-32768", 8) .. field("32767", 8) .. field("", 80) ..
      field("4", 8) .. field("", 32)
  local data = {}
  for i = 1, 8 do data[i] = string.pack("<i2", 1000 * i) end
  return head .. table.concat(data)
end

test("writer de-identifies unless keep_identity", function()
  local src = root .. "/named.edf"
  local f = assert(io.open(src, "wb"))
  f:write(edf_bytes())
  f:close()
  local ds = assert(btfm.open(src))
  for _, keep in ipairs({false, true}) do
    local out = root .. "/derivatives/" .. (keep and "private" or "shared")
    local w = assert(btfm.bids_writer(out, "copy", keep and {keep_identity = true} or nil))
    assert(w:add(ds, {sub = "01", task = "rest", datatype = "eeg"}, {format = "edf"}))
    assert(w:finish())
    local back = assert(btfm.open(out .. "/sub-01/eeg/sub-01_task-rest_eeg.edf"))
    local day = os.date("!%Y-%m-%d %H:%M:%S", math.floor(back:start_time()))
    if keep then
      assert(back:subject():find("Jane_Doe", 1, true), back:subject())
      same(day, "2021-03-02 10:20:30", "date kept")
    else
      same(back:subject():find("Jane_Doe", 1, true), nil, "name cleared")
      same(day, "1985-01-01 10:20:30", "date moved, time of day kept")
    end
    back:close()
  end
  assert(ds:subject():find("Jane_Doe", 1, true), "the caller's dataset unchanged")
  ds:close()
end)

test("errors", function()
  local ok, msg, status = btfm.bids_open(root .. "/sub-01")
  same(ok, nil, "not a dataset")
  same(status, "BTFM_E_FORMAT", "status")
  assert(msg:find("rule dataset-description", 1, true), msg)
end)

os.execute("rm -rf '" .. root .. "'")
H.finish()
