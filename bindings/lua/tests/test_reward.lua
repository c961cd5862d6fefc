-- btfm.reward_head from Lua against a closed form: in ratings-only mode with a fixed
-- reliability v the reward of a rated item is v z (z the rating standardized within its
-- annotator), of an unrated item 0; metrics against a case worked by hand; errors.
-- Pair scores against the maximum a posteriori strengths found here by gradient ascent
-- (and a closed form for two items); the embedding-to-brain encoder against features that
-- are exactly linear in the embeddings.
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

-- pair scores: two items, one choice of weight w: s0 = -s1 = s with w sigma(-2 s) = alpha s
local w2, a2 = 3, 0.5
local lo, hi = 0, 10
for _ = 1, 200 do
  local mid = (lo + hi) / 2
  if w2 / (1 + math.exp(2 * mid)) > a2 * mid then lo = mid else hi = mid end
end
local two = assert(btfm.reward_pair_scores({0, 1}, 3, {weight = {w2}, alpha = a2}))
check(math.abs(two[1] - lo) < 1e-5 and math.abs(two[2] + lo) < 1e-5 and two[3] ~= two[3],
      "two items: closed form " .. lo .. ", an item in no pair is NaN")
-- five items, weighted choices with a cycle: gradient ascent on the log posterior
local pairs, wts = {0, 1, 1, 2, 2, 0, 0, 3, 3, 1, 4, 0, 2, 4, 0, 1}, {1, 2, 1, 0.5, 1, 3, 1, 1}
local s = {0, 0, 0, 0, 0}
for _ = 1, 4000 do
  local g = {}
  for i = 1, 5 do g[i] = -s[i] end
  for p = 1, #wts do
    local c, r = pairs[2 * p - 1] + 1, pairs[2 * p] + 1
    local q = wts[p] / (1 + math.exp(s[c] - s[r]))
    g[c], g[r] = g[c] + q, g[r] - q
  end
  for i = 1, 5 do s[i] = s[i] + 0.1 * g[i] end
end
local got = assert(btfm.reward_pair_scores(pairs, 5, {weight = wts}))
local worst_ps = 0
for i = 1, 5 do worst_ps = math.max(worst_ps, math.abs(got[i] - s[i])) end
check(worst_ps < 1e-4, "five items: MAP by gradient ascent (worst " .. worst_ps .. ")")
local okp, errp = pcall(btfm.reward_pair_scores, {0, 7}, 5)
check(okp and errp == nil, "a pair naming an unknown item is refused")

-- the encoder: features exactly linear in 2-d embeddings, each annotator with its own gain
-- and offset; z-scored within annotators they are one line, predicted on new items
local M, A, E = 12, 3, 2
local emb, items, feats, annot = {}, {}, {}, {}
local function lin(e1, e2) return 1.5 * e1 - 0.7 * e2, 0.2 * e1 + e2 end
for m = 1, M do emb[#emb + 1] = math.sin(m * 1.3); emb[#emb + 1] = math.cos(m * 0.7) end
for a = 1, A do
  for m = 1, M do
    local f1, f2 = lin(emb[2 * m - 1], emb[2 * m])
    items[#items + 1] = m - 1
    annot[#annot + 1] = a
    feats[#feats + 1] = (a + 1) * f1 + 10 * a
    feats[#feats + 1] = 0.5 * a * f2 - a
  end
end
local enc <close> = assert(btfm.model("ridge"))
assert(enc:set_alphas({1e-6}))
local r = assert(enc:fit_encoder(emb, M, E, items, feats, M * A, 2, annot, 4))
check(r[1] > 0.9999 and r[2] > 0.9999, "exactly linear features: held-out r " .. r[1] .. ", " .. r[2])
-- expected prediction: the feature z-scored over the items (ddof 1), then over all rows
local function zline(k, e1, e2)
  local vals, sum = {}, 0
  for m = 1, M do
    local f = {lin(emb[2 * m - 1], emb[2 * m])}
    vals[m] = f[k]; sum = sum + f[k]
  end
  local mean, sq = sum / M, 0
  for m = 1, M do sq = sq + (vals[m] - mean) ^ 2 end
  local sd = math.sqrt(sq / (M - 1))
  local overall = math.sqrt(sq / sd ^ 2 * A / (M * A - 1))
  local f = {lin(e1, e2)}
  return (f[k] - mean) / sd / overall
end
local new = {0.3, -0.4, -1.1, 0.9}
local pred = assert(enc:predict(new, 2))
local worst_enc = 0
for i = 1, 2 do
  for k = 1, 2 do
    worst_enc = math.max(worst_enc, math.abs(pred[(i - 1) * 2 + k] - zline(k, new[2 * i - 1], new[2 * i])))
  end
end
check(worst_enc < 1e-3, "encoder predicts new items' standardized features (worst " .. worst_enc .. ")")
if failures > 0 then os.exit(1) end
