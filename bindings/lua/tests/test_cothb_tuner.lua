-- Tests of btfm.cothb_tuner. The tuner's choice and report are recomputed here from their
-- documented closed form (coordinate ascent from the base setting, strict improvements
-- only; held-out means with normal 95% intervals, paired differences), running the same
-- deterministic episodes on fresh controllers.
local btfm = require "btfm"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq = H.test, H.same

local function near(actual, expected, tol, what)
  if not (math.abs(actual - expected) <= tol) then
    error(string.format("%s: expected %.17g, got %.17g", what, expected, actual), 2)
  end
end

-- A deterministic world: node `id` of problem `problem` is right with probability 0.7,
-- and its reading overlaps between right (0.35 to 1) and wrong (0 to 0.65) steps.
local function unit(problem, id, salt)
  local h = (problem * 1000003 + id * 7919 + salt * 104729) % 2147483647
  for _ = 1, 3 do h = (h * 48271) % 2147483647 end
  return h / 2147483647
end

local DEPTH = 3

-- One episode on controller c: 1 when it answers with a path of right steps, else 0.
local function episode(c, problem)
  local depth, right = {[0] = 0}, {[0] = true}
  while true do
    local action, node = assert(c:next())
    if action == "answer" then return right[node] and 1 or 0 end
    if action == "stop" then return 0 end
    if action == "extend" or action == "branch" or action == "decompose" then
      local id = assert(c:add_node(node))
      depth[id] = depth[node] + 1
      local ok = unit(problem, id, 1) < 0.7
      right[id] = right[node] and ok
      local reading = ok and 0.35 + 0.65 * unit(problem, id, 2) or 0.65 * unit(problem, id, 2)
      assert(c:observe(id, {reliability = reading, terminal = depth[id] >= DEPTH and 1 or nil}))
    end
  end
end

local BASE = {policy = 0, max_steps = 40}
local VALUES = {0.5, 0.6, 0.8, 0.9}

local function setting(extra)
  local p = {}
  for k, v in pairs(BASE) do p[k] = v end
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function rewards(params, first, n)
  local out = {}
  for i = 0, n - 1 do out[#out + 1] = episode(btfm.cothb(setting(params)), first + i) end
  return out
end

local function mean(x)
  local s = 0
  for _, v in ipairs(x) do s = s + v end
  return s / #x
end

local function half_width(x)
  local m, sq = mean(x), 0
  for _, v in ipairs(x) do sq = sq + (v - m) ^ 2 end
  return 1.959963984540054 * math.sqrt(sq / (#x - 1) / #x)
end

test("the tuner chooses and reports what its closed form gives", function()
  local P, HELD = 40, 30
  local t = btfm.cothb_tuner{problems = P, held_out = HELD, rounds = 1}
  assert(t:add_knob("continue_threshold", VALUES))
  local report = assert(t:run(btfm.cothb(setting()), episode))
  -- Coordinate ascent by hand: the base (0.7) first, then each value in order.
  local best, chosen = mean(rewards({}, 0, P)), 0.7
  local means = {}
  for _, v in ipairs(VALUES) do
    means[v] = mean(rewards({continue_threshold = v}, 0, P))
    if means[v] > best then best, chosen = means[v], v end
  end
  -- The world must make the choice matter, else the test could not fail.
  assert(means[0.5] ~= means[0.9], "every value scores the same")
  near(t:knobs().continue_threshold, chosen, 1e-12, "chosen continue_threshold")
  near(report.train_reward, best, 1e-12, "train_reward")
  eq(report.settings, 1 + #VALUES, "settings evaluated")
  eq(report.episodes, P * (1 + #VALUES) + 2 * HELD, "episodes")
  local tuned = rewards({continue_threshold = chosen}, P, HELD)
  local base = rewards({}, P, HELD)
  local diff = {}
  for i = 1, HELD do diff[i] = tuned[i] - base[i] end
  near(report.held_out_reward, mean(tuned), 1e-12, "held_out_reward")
  near(report.base_held_out_reward, mean(base), 1e-12, "base_held_out_reward")
  near(report.held_out_high - report.held_out_low, 2 * half_width(tuned), 1e-9, "interval")
  near(report.difference, mean(diff), 1e-12, "difference")
  if mean(diff) ~= 0 or half_width(diff) ~= 0 then
    near(report.difference_high, mean(diff) + half_width(diff), 1e-9, "difference_high")
  end
  -- apply sets the chosen value; result repeats the report.
  local c = btfm.cothb(setting())
  assert(t:apply(c))
  near(c:get_param("continue_threshold"), chosen, 1e-12, "applied")
  eq(t:result().train_reward, report.train_reward, "result()")
end)

test("errors: before a run, in an episode, a controller kept after its episode", function()
  local t = btfm.cothb_tuner{problems = 3, held_out = 0, rounds = 1}
  local v, msg, status = t:result()
  eq(v, nil, "result before a run")
  eq(status, "BTFM_E_STATE", "status")
  assert(msg:find("btfm_cothb_tuner_result", 1, true), msg)
  v, msg, status = t:add_knob("no_such_knob", {1})
  eq(v, nil, "unknown knob")
  assert(msg:find("no_such_knob", 1, true), msg)
  v, msg, status = t:add_knob("continue_threshold", {1.5})
  eq(status, "BTFM_E_RANGE", "value outside the bounds")
  assert(t:add_knob("continue_threshold", {0.8}))
  local ok, err = pcall(t.run, t, btfm.cothb(setting()), function() error("episode broke") end)
  assert(not ok and tostring(err):find("episode broke", 1, true), tostring(err))
  ok, err = pcall(t.run, t, btfm.cothb(setting()), function() return "right" end)
  assert(not ok and tostring(err):find("returned string", 1, true), tostring(err))
  eq(select(3, t:result()), "BTFM_E_STATE", "a failed run leaves nothing tuned")
  local kept
  assert(t:run(btfm.cothb(setting()), function(c, problem)
    kept = c
    return episode(c, problem)
  end))
  ok, err = pcall(kept.next, kept)
  assert(not ok and tostring(err):find("used after close", 1, true), tostring(err))
end)

H.finish()
