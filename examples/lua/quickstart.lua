-- Quickstart for the Lua module "btfm": version, parameters, and a small container
-- saved to a file and loaded back. Run: lua5.4 examples/lua/quickstart.lua
-- (with LUA_CPATH pointing at the folder that holds btfm.so).

local btfm = require "btfm"

print("libbtfm " .. btfm.version() .. " (" .. table.concat(btfm.capabilities(), " ") .. ")")

-- Every tunable is described at run time: name, type, default, bounds, description.
for _, p in ipairs(btfm.param_info("container")) do
  print(string.format("container parameter %s (%s, default %s, in [%s, %s]): %s",
                      p.name, p.type, p.default, p.min, p.max, p.description))
end

-- A container holds named, typed arrays. `<close>` frees it at the end of the block.
local path = os.tmpname()
do
  local c <close> = assert(btfm.container("quickstart"))
  assert(c:set_param("fsync", 0))            -- scratch file: skip the fsync
  assert(c:put("weights", "f32", {2, 3}, {0.5, -1, 2, 0.25, 0, 4}))
  assert(c:put("labels", "i32", {3}, {7, 8, 9}))
  assert(c:put_text("note", "fitted on subject 01"))
  assert(c:save(path))
  print("saved " .. tostring(c) .. " to " .. path)
end

-- Failures return nil, a message and a status name, so assert() shows the message.
local loaded = assert(btfm.load(path, "quickstart"))
local values, shape, dtype = loaded:get("weights")
print(string.format("weights: %s, shape {%s}, first row %s %s %s", dtype,
                    table.concat(shape, ", "), values[1], values[2], values[3]))
print("note: " .. loaded:get("note"))
assert(values[6] == 4 and shape[1] == 2 and shape[2] == 3)

local ok, message, status = btfm.load(path, "reward_head")
print(string.format("loading it as a reward head: %s, %s (%s)", tostring(ok), status, message))
assert(ok == nil and status == "BTFM_E_KIND")

loaded:close()
os.remove(path)
