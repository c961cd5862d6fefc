-- Score items with a reward head from Lua: fit a joint head on six annotators' brain
-- features and their few ratings, keep it as a string (a host's checkpoint), load it back
-- and score a new annotator's items. Run: lua5.4 examples/lua/score.lua (LUA_CPATH at
-- btfm.so). The data are simulated here so the example runs anywhere.
local btfm = require "btfm"

local D, ITEMS, ANNOTATORS = 8, 40, 7
local seed = 12345
local function uniform() seed = (1103515245 * seed + 12345) % 2147483648; return seed / 2147483648 end
local function normal() return math.sqrt(-2 * math.log(uniform() + 1e-12)) * math.cos(2 * math.pi * uniform()) end

local latent = {}
for m = 1, ITEMS do latent[m] = normal() end

-- rows of one annotator: features (a reward-related component in the first three) and
-- ratings for a quarter of the items (0/0, NaN, for the rest)
local function annotator(a, x, ratings, who)
  for m = 1, ITEMS do
    local seen = latent[m] + 0.3 * normal()
    for j = 1, D do x[#x + 1] = a + (j <= 3 and 0.8 * seen or 0) + normal() end
    ratings[#ratings + 1] = (m + a) % 4 == 0 and math.floor(4 + 1.5 * seen + 0.5) or 0 / 0
    who[#who + 1] = a
  end
end

local x, ratings, who = {}, {}, {}
for a = 1, ANNOTATORS - 1 do annotator(a, x, ratings, who) end
local head = assert(btfm.reward_head("joint"))
assert(head:fit(x, #who, D, who, {ratings = ratings}))
local saved = head:to_string()
head:close()

local new_x, new_ratings, new_who = {}, {}, {}
annotator(ANNOTATORS, new_x, new_ratings, new_who)
local loaded <close> = assert(btfm.reward_head_from_string(saved))
local out = assert(loaded:predict(new_x, ITEMS, new_who))   -- brain signals alone: no ratings
local m = btfm.reward_metrics(out.reward, latent, out.confidence)
print(string.format("a new annotator's %d items: r = %.3f with the latent reward, pairwise "
                    .. "accuracy %.3f", ITEMS, m.pearson, m.pairwise_accuracy))
print(string.format("item 1: reward %.3f, confidence %.3f, penalty %.3f", out.reward[1],
                    out.confidence[1], out.penalty[1]))
assert(m.pearson > 0.5, "the head should track the latent reward")
