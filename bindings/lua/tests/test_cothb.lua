-- Tests of btfm.cothb. Expected actions follow from the documented thresholds policy
-- (doc/cothb.md, policy = 0) applied by hand; the Beta posterior is checked against its closed form.
local btfm = require "btfm"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq = H.test, H.same

-- Drive a controller: reliabilities for successive new nodes; the last one is terminal.
local function drive(c, rel)
  local seen, k = {}, 0
  while true do
    local action, node, target = assert(c:next())
    seen[#seen + 1] = action .. ":" .. node
    if action == "answer" or action == "stop" then return seen end
    if action == "extend" or action == "branch" or action == "decompose" then
      k = k + 1
      local id = assert(c:add_node(node))
      assert(c:observe(id, {reliability = rel[k], terminal = (k == #rel) and 1 or nil}))
    end
  end
end

test("a reliable chain is followed and answered", function()
  local c = btfm.cothb{max_steps = 20, seed = 2, policy = 0}
  eq(c:get_param("max_steps"), 20, "max_steps")
  local seen = drive(c, {0.9, 0.95, 0.9})
  eq(table.concat(seen, " "), "extend:0 extend:1 extend:2 answer:3", "actions")
  eq(#c, 4, "node count")
  local _, lines = c:trace():gsub("\n", "")
  eq(lines, 3 + 3 + 4, "trace lines (3 adds, 3 observations, 4 actions)")
  assert(c:trace():find('"action":"answer","node":3', 1, true))
end)

test("an unreliable step branches, a reliable alternative is confirmed", function()
  local c = btfm.cothb{policy = 0}
  local seen = drive(c, {0.9, 0.1, 0.95, 0.9})
  eq(table.concat(seen, " "), "extend:0 extend:1 branch:1 confirm:3 extend:3 answer:4", "actions")
end)

test("last_action repeats what next returned, target included", function()
  local c = btfm.cothb()
  local ok, _, status = c:last_action()
  eq(status, "BTFM_E_STATE", "before the first action")
  drive(c, {0.9, 0.1})
  -- extend 0, extend 1, branch 1 leaving 2 ...: replay and compare at a branch
  local d = btfm.cothb{policy = 0}
  d:next(); d:observe(d:add_node(0), {reliability = 0.9})
  d:next(); d:observe(d:add_node(1), {reliability = 0.1})
  local a, n, t = d:next()
  eq(a .. n .. t, "branch12", "branch")
  local la, ln, lt = d:last_action()
  eq(la .. ln .. lt, "branch12", "last_action")
end)

test("outcomes give the Beta posterior mean", function()
  local c = btfm.cothb{prior_success = 2, prior_failure = 1, policy = 0}
  c:next()
  local id = c:add_node(0)
  for _, o in ipairs({1, 0, 1, 0.5}) do assert(c:observe(id, {outcome = o})) end
  local want = (2 + 2.5) / (2 + 1 + 4)
  assert(math.abs(c:reliability(id) - want) < 1e-15, c:reliability(id))
end)

test("bad input returns nil, message, status name", function()
  local c = btfm.cothb()
  local ok, msg, status = c:observe(0, {reliability = 1.5})
  eq(ok, nil, "ok"); eq(status, "BTFM_E_RANGE", "status"); assert(msg:find("reliability = 1.5"))
  ok, msg, status = c:observe(9, {reliability = 0.5})
  eq(status, "BTFM_E_NOTFOUND", "unknown node")
  assert(not pcall(c.observe, c, 0, {confidence = 0.5}))
  ok, msg, status = btfm.cothb{max_steps = 0}
  eq(status, "BTFM_E_RANGE", "zero budget")
  c:next()
  ok, msg, status = c:next()
  eq(status, "BTFM_E_STATE", "next while a node is owed")
  c:close()
  assert(not pcall(c.next, c))
end)

test("a saved controller continues identically", function()
  local c = btfm.cothb{explore_epsilon = 0.3, seed = 5}
  drive(btfm.cothb(), {0.9})
  c:next(); local id = c:add_node(0); c:observe(id, {reliability = 0.5})
  local d = assert(btfm.cothb_from_string(c:to_string()))
  local a = table.concat(drive(c, {0.9, 0.4, 0.2, 0.8, 0.9}), " ")
  local b = table.concat(drive(d, {0.9, 0.4, 0.2, 0.8, 0.9}), " ")
  eq(a, b, "continuation")
  eq(c:trace(), d:trace(), "trace")
end)

test("isotonic calibration by hand, and a signal-quality report", function()
  -- scores 1..4 with labels 0 1 0 1: points (1, 0), (2, .5), (3, .5), (4, 1)
  local c = btfm.cothb()
  assert(c:calibrate_reliability({3, 1, 4, 2}, {0, 0, 1, 1}, "isotonic"))
  eq(c:reliability_of_score(1.5), 0.25, "between 1 and 2")
  eq(c:reliability_of_score(3.5), 0.75, "between 3 and 4")
  eq(c:reliability_of_score(9), 1, "clipped")
  c:next()
  local id = c:add_node(0)
  assert(c:observe_score(id, 3.5))
  eq(c:reliability(id), 0.75, "observed through the map")
  local ok, _, status = c:calibrate_reliability({1, 2}, {1, 1})
  eq(status, "BTFM_E_INVALID", "one class")
  assert(not pcall(c.calibrate_reliability, c, {1, 2}, {1, 0}, "beta"))
  -- AUC by hand: positives 2, 4 against negatives 1, 3: 3 of 4 pairs
  local q = assert(btfm.cothb_signal_quality({3, 1, 4, 2}, {0, 0, 1, 1}, "platt", 0))
  eq(q.auc, 0.75, "auc"); eq(q.n, 4, "n"); eq(q.base_rate, 0.5, "base rate")
end)

test("the vote follows its closed form, and reset keeps the configuration", function()
  -- Three one-step paths: answers 100 (0.5), 100 (0.5), 200 (0.9); with W = 4 wrong
  -- answers w_100 = 5 * 5 - 1 = 24, w_200 = 1 + 4 * 9 - 1 = 36, P(200) = 36 / 61.
  local c = btfm.cothb{path_length = 1, max_cost = 3, stop_confidence = 1, probe = 0,
                       planning = 0, continue_threshold = 0, branch_threshold = 0,
                       wrong_answers = 4}
  eq(c:answer(), nil, "no answer yet")
  local given, k = {{0.5, 100}, {0.5, 100}, {0.9, 200}}, 0
  while true do
    local action, node = assert(c:next())
    if action == "answer" or action == "stop" then eq(action, "answer", "answered"); break end
    k = k + 1
    local id = assert(c:add_node(node))
    assert(c:observe(id, {reliability = given[k][1], terminal = 1}))
    assert(c:set_answer(id, given[k][2]))
  end
  local key, _, p = c:answer()
  eq(key, 200, "voted answer")
  assert(math.abs(p - 36 / 61) < 1e-12, p)
  local votes = c:answers()
  eq(#votes, 2, "two answers")
  for _, v in ipairs(votes) do
    eq(v.paths, v.answer == 100 and 2 or 1, "paths")
    assert(math.abs(v.probability - (v.answer == 100 and 24 or 36) / 61) < 1e-12)
  end
  eq(c:node_strategy(1), 0, "no probe yet")
  eq(c:strategies()[1].state, "actor", "strategy 0 acts")
  assert(c:reset())
  eq(#c, 1, "a new search"); eq(c:answer(), nil, "no answer after reset")
  eq(c:get_param("wrong_answers"), 4, "configuration kept")
end)

-- Multichannel features: the fit must satisfy the optimality conditions of its objective
-- (scikit-learn's StandardScaler + LogisticRegression(C = 1 / l2)): on features
-- standardized with their population sd, sum (p - y) z_j + l2 w_j sd_j = 0 and
-- sum (p - y) = 0, with p from the reported weights.
test("feature calibration meets its optimality conditions", function()
  local rows, correct, seed = {}, {}, 7
  local function uniform() seed = (seed * 48271) % 2147483647; return seed / 2147483647 end
  for i = 1, 61 do
    local right = uniform() < 0.7
    local ern = 6 + 8 * (uniform() - 0.5) + (right and -2 or 2)
    local pupil = 4 + 0.6 * (uniform() - 0.5) + (right and -0.1 or 0.1)
    rows[i], correct[i] = {ern, pupil}, right and 1 or 0
  end
  local c = btfm.cothb()
  eq(c:feature_calibration(), nil, "no calibration yet")
  local l2 = 0.5
  assert(c:calibrate_features(rows, correct, l2))
  local cal = c:feature_calibration()
  local n, mean, sd = #rows, {0, 0}, {0, 0}
  for _, r in ipairs(rows) do for j = 1, 2 do mean[j] = mean[j] + r[j] / n end end
  for _, r in ipairs(rows) do for j = 1, 2 do sd[j] = sd[j] + (r[j] - mean[j]) ^ 2 / n end end
  local grad = {0, 0, 0}
  for i, r in ipairs(rows) do
    local p = c:reliability_of_features(r)
    local z = cal.intercept + cal.weights[1] * r[1] + cal.weights[2] * r[2]
    -- (features reach the library as floats)
    assert(math.abs(p - 1 / (1 + math.exp(-z))) < 1e-6, "probability of the weights")
    for j = 1, 2 do grad[j] = grad[j] + (p - correct[i]) * (r[j] - mean[j]) / math.sqrt(sd[j]) end
    grad[3] = grad[3] + (p - correct[i])
  end
  for j = 1, 2 do grad[j] = grad[j] + l2 * cal.weights[j] * math.sqrt(sd[j]) end
  for j = 1, 3 do assert(math.abs(grad[j]) < 1e-4, "gradient " .. j .. " = " .. grad[j]) end
  assert(cal.weights[1] < 0, "a larger ERN means a wrong step")
  local id
  while true do
    local action, node = assert(c:next())
    if action == "extend" then id = assert(c:add_node(node)); break end
  end
  assert(c:observe_features(id, rows[1]))
  assert(math.abs(c:reliability(id) - c:reliability_of_features(rows[1])) < 1e-12)
  local v, msg, status = c:reliability_of_features({1, 2, 3})
  eq(v, nil, "wrong width"); eq(status, "BTFM_E_INVALID", "status")
  assert(msg:find("n_features = 3", 1, true), msg)
  local ok, err = pcall(c.calibrate_features, c, {{1, 2}, {3}}, {1, 0})
  assert(not ok and tostring(err):find("same length", 1, true), tostring(err))
end)

H.finish()
