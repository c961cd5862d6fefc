-- Read an EDF/BDF/BrainVision recording with the Lua module "btfm": header, channels,
-- a window of samples and the annotations. Run:
--   lua5.4 examples/lua/read_edf.lua recording.edf
-- (with LUA_CPATH pointing at the folder that holds btfm.so).

local btfm = require "btfm"

local path = arg and arg[1]
if not path then
  io.stderr:write("usage: lua5.4 read_edf.lua FILE\n")
  os.exit(2)
end

-- Failures return nil, a message and a status name; assert() shows the message.
-- `<close>` frees the dataset at the end of the block.
local ds <close> = assert(btfm.open(path))
print(string.format("%s: %d channels x %d samples at %g Hz", ds:format(), ds:n_channels(),
                    ds:n_times(), ds:sfreq()))

for _, ch in ipairs(ds:channels()) do
  print(string.format("%s: %s, %s, %g Hz", ch.name, ch.type, ch.unit, ch.rate))
end

-- Samples are 0-based and windows half-open: [0, 1) is the first sample. Values are
-- in SI units (volts), time-major: row t, column j is values[t * columns + j].
local first = ds:channels()[1].name
local values = assert(ds:read(0, 1, {first}))
print(string.format("first sample of %s: %.3f uV", first, values[1] * 1e6))

for _, e in ipairs(ds:events()) do
  if e.type == "annotation" then
    print(string.format("annotation at %.3f s: %s", e.onset, e.label))
  end
end
