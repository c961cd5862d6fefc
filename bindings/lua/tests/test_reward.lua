-- btfm.reward_head from Lua against a closed form: in ratings-only mode with a fixed
-- reliability v the reward of a rated item is v z (z the rating standardized within its
-- annotator), of an unrated item 0; metrics against a case worked by hand; errors.
local btfm = require "btfm"

local failures = 0
local function check(cond, what)
  if cond then print("ok      " .. what) else failures = failures + 1; print("FAILED  " .. what) end
end

local D, ITEMS, ANNOT = 3, 12, 5
local x, ratings, who = {}, {}, {}
for a = 1, ANNOT do
  for m = 1, ITEMS do
    for j = 1, D do x[#x + 1] = math.sin(a * 7 + m * 3 + j) + (j == 1 and m * 0.1 or 0) end
    ratings[#ratings + 1] = m % 3 == 0 and ((m * a) % 5 + 1) or 0 / 0
    who[#who + 1] = a
  end
end
local v = 0.6
local h <close> = assert(btfm.reward_head("ratings_only"))
assert(h:set_param("reliability", v))
check(h:fit(x, #who, D, who, {ratings = ratings}), "fit")
local out = assert(h:predict(x, #who, who, ratings))
local worst = 0
for a = 1, ANNOT do
  local sum, sq, n = 0, 0, 0
  for m = 1, ITEMS do
    local r = ratings[(a - 1) * ITEMS + m]
    if r == r then sum, n = sum + r, n + 1 end
  end
  local mean = sum / n
  for m = 1, ITEMS do
    local r = ratings[(a - 1) * ITEMS + m]
    if r == r then sq = sq + (r - mean) ^ 2 end
  end
  local sd = math.sqrt(sq / (n - 1))
  for m = 1, ITEMS do
    local i = (a - 1) * ITEMS + m
    local r = ratings[i]
    local want = r == r and v * (r - mean) / sd or 0
    worst = math.max(worst, math.abs(out.reward[i] - want))
  end
end
check(worst < 1e-5, "ratings-only reward = v z (worst " .. worst .. ")")
check(h:n_features() == D, "n_features")

local back <close> = assert(btfm.reward_head_from_string(h:to_string()))
local again = assert(back:predict(x, #who, who, ratings))
check(again.reward[3] == out.reward[3] and again.sd[7] == out.sd[7], "to_string round trip")

local m = btfm.reward_metrics({1, 2, 3, 5, 4}, {1, 2, 3, 4, 5})
check(math.abs(m.pearson - 0.9) < 1e-9 and math.abs(m.pairwise_accuracy - 0.9) < 1e-9,
      "metrics worked by hand")

local ok, err = pcall(function() return h:predict({1, 2}, 1, {1}) end)
check(not ok, "a short feature table is refused")
local bad, msg = h:fit(x, #who, D, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2,
                                    2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4,
                                    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
                       {ratings = ratings})
check(bad == nil and tostring(msg):find("fewer than the 5 folds") ~= nil,
      "fewer annotators than folds: " .. tostring(msg))
if failures > 0 then os.exit(1) end
