-- Tests of btfm.model from Lua against closed forms: an exact linear fit, the K-fold
-- scores of a one-feature ridge written out here, a banded ridge whose signal lives in one
-- band, both band searches against an exhaustive grid's minimum and Newton's method
-- against scikit-learn (values computed offline and written here), Bradley-Terry on two items (score difference log(wins / losses)), noise ceilings
-- of noise-free repeats, RDMs of collinear patterns, a steering direction along the class
-- means; persistence, and errors as nil, message, status name. Environment as
-- test_btfm.lua: LUA_CPATH, BTFM_SOURCE_DIR, BTFM_LUA_TEST_TMP.

local btfm = require "btfm"
local tmp_dir = os.getenv("BTFM_LUA_TEST_TMP") or "/tmp"

package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local H = require "harness"
local test, eq, check, fails, close_to = H.test, H.eq, H.check, H.fails, H.close_to

-- 40 samples of two features, y = 2 x1 - x2 + 3 exactly.
local n, x, y = 40, {}, {}
for i = 1, n do
  local a, b = math.sin(i), math.cos(1.7 * i)
  x[2 * i - 1], x[2 * i] = a, b
  y[i] = 2 * a - b + 3
end

local function near(a, b, tol, what)
  if math.abs(a - b) > tol then error(string.format("%s: %.9g, expected %.9g", what, a, b), 2) end
end

test("ridge recovers exact weights and round-trips", function()
  local m = assert(btfm.model("ridge"))
  assert(m:set_alphas({1e-6}))
  assert(m:fit(x, n, 2, y, 1))
  local coef, rows, cols = m:coef()
  eq(rows, 2, "rows")
  eq(cols, 1, "columns")
  near(coef[1], 2, 1e-3, "first weight")
  near(coef[2], -1, 1e-3, "second weight")
  near(m:intercept()[1], 3, 1e-3, "intercept")
  near(m:predict({0, 0}, 1)[1], 3, 1e-3, "prediction at the origin")
  check(m:score(x, y, n, "r2")[1] > 0.999999, "R^2 of an exact fit")
  local synth = m:synthesize({0.5, -0.5}, 1, "none")
  near(synth[1], 2 * 0.5 + 0.5 + 3, 1e-3, "synthesis without noise is the prediction")
  local back = assert(btfm.model_from_string(m:to_string()))
  near(back:predict({1, 1}, 1)[1], m:predict({1, 1}, 1)[1], 1e-6, "loaded from a string")
  local path = tmp_dir .. "/lua_model.btfm"
  assert(m:save(path))
  local loaded = assert(btfm.model_load(path))
  near(loaded:predict({1, 1}, 1)[1], m:predict({1, 1}, 1)[1], 1e-6, "loaded from a file")
  os.remove(path)
  local held = m:cross_predict(x, n, 2, y, 1, 4)
  local worst = 0
  for i = 1, n do worst = math.max(worst, math.abs(held[i] - y[i])) end
  check(worst < 1e-3, "held-out predictions of exact data are exact: " .. worst)
end)

test("K-fold scores equal the closed form of a one-feature ridge", function()
  -- No intercept, one feature: b = sum x y / (sum x^2 + alpha) on the training folds.
  local xs, ys, folds, alphas = {}, {}, {}, {0.5, 5, 50}
  for i = 1, 30 do
    xs[i] = math.sin(0.7 * i)
    ys[i] = 0.8 * xs[i] + 0.3 * math.cos(2.3 * i)
    folds[i] = (i - 1) // 10
  end
  local m = assert(btfm.model("ridge"))
  assert(m:set_param("fit_intercept", false))
  assert(m:set_param("scoring", 2)) -- minus the mean squared error
  assert(m:set_alphas(alphas))
  assert(m:set_folds(folds))
  assert(m:fit(xs, 30, 1, ys, 1))
  local scores, cols = m:cv_scores()
  eq(cols, 1, "one target")
  local best, best_alpha = -math.huge, nil
  for k, alpha in ipairs(alphas) do
    local total = 0
    for f = 0, 2 do
      local sxy, sxx, sse, count = 0, 0, 0, 0
      for i = 1, 30 do
        if folds[i] ~= f then sxy, sxx = sxy + xs[i] * ys[i], sxx + xs[i] ^ 2 end
      end
      local b = sxy / (sxx + alpha)
      for i = 1, 30 do
        if folds[i] == f then sse, count = sse + (ys[i] - b * xs[i]) ^ 2, count + 1 end
      end
      total = total - sse / count
    end
    close_to(scores[k], total / 3, 1e-5, "fold-mean score of alpha " .. alpha)
    if total / 3 > best then best, best_alpha = total / 3, alpha end
  end
  close_to(m:alpha()[1], best_alpha, 1e-12, "chosen alpha")
  assert(m:set_folds(nil))
end)

test("banded ridge picks the band that carries the signal", function()
  -- y follows the first feature only; the second is unrelated.
  local xb, yb = {}, {}
  for i = 1, 60 do
    xb[2 * i - 1], xb[2 * i] = math.sin(0.9 * i), math.cos(2.9 * i + 1)
    yb[i] = xb[2 * i - 1] + 0.05 * math.sin(7.1 * i)
  end
  local m = assert(btfm.model("banded_ridge"))
  assert(m:set_bands({0, 1}))
  assert(m:set_band_weights({0.9, 0.1, 0.1, 0.9}, 2))
  assert(m:set_alphas({3, 10})) -- penalties that matter at 60 samples
  assert(m:set_param("cv", 5))
  assert(m:fit(xb, 60, 2, yb, 1))
  local w = m:band_weights(2)
  near(w[1], 0.9, 1e-12, "signal band's weight")
  near(w[2], 0.1, 1e-12, "noise band's weight")
  local split = m:score_split(xb, yb, 60, 2)
  check(split[1] > 0.95 and math.abs(split[2]) < 0.02,
        string.format("R^2 shares %.4f, %.4f", split[1], split[2]))
end)

test("logistic regression and Bradley-Terry", function()
  local labels = {}
  for i = 1, n do labels[i] = x[2 * i - 1] > 0 and 1 or 0 end
  local clf = assert(btfm.model("logistic"))
  assert(clf:set_param("cv", 4))
  assert(clf:fit_classes(x, n, 2, labels))
  local proba, classes = clf:predict_proba({0.9, 0, -0.9, 0}, 2)
  eq(classes, 2, "classes")
  close_to(proba[1] + proba[2], 1, 1e-6, "probabilities sum to 1")
  check(proba[2] > 0.5 and proba[4] < 0.5, "separates the classes")
  -- Two free item scores, item 0 preferred 3 times out of 4: with a negligible penalty
  -- the maximum-likelihood difference is log(3 / 1).
  local bt = assert(btfm.model("bradley_terry"))
  assert(bt:set_alphas({1e-9}))
  assert(bt:fit_pairs(nil, 2, 2, {0, 1, 0, 1, 0, 1, 0, 1}, {1, 1, 1, 0}))
  local s = bt:coef()
  close_to(s[1] - s[2], math.log(3), 1e-4, "score difference")
end)

test("Newton's method (solver 3) equals scikit-learn's newton-cholesky", function()
  -- Labels from a noisy rule (not separable), one penalty alpha = 0.5 (C = 2). The values
  -- are scikit-learn's LogisticRegression(C=2, solver="newton-cholesky", tol=1e-12) on
  -- the same float32 features.
  local labels = {}
  for i = 1, n do
    labels[i] = math.sin(2.3 * i) + 0.8 * x[2 * i - 1] - 0.5 * x[2 * i] > 0 and 1 or 0
  end
  for _, solver in ipairs({3, 0}) do -- Newton alone, then the quasi-Newton default
    local clf = assert(btfm.model("logistic"))
    assert(clf:set_alphas({0.5}))
    assert(clf:set_param("solver", solver))
    assert(clf:set_param("tol", 1e-10))
    assert(clf:fit_classes(x, n, 2, labels))
    local coef = clf:coef()
    near(coef[1], 1.1787800070, 1e-6, "solver " .. solver .. " coef 1")
    near(coef[2], -0.5231707454, 1e-6, "solver " .. solver .. " coef 2")
    near(clf:intercept()[1], -0.0730119927, 1e-6, "solver " .. solver .. " intercept")
  end
  local bad = assert(btfm.model("logistic"))
  fails("BTFM_E_RANGE", "solver 4", bad:set_param("solver", 4))
end)

test("band searches reach the held-out error's minimum", function()
  -- Two bands of two features, 5 contiguous folds. The reference: the minimum of the
  -- held-out squared error over an exhaustive grid of the two log penalties (steps of 0.2
  -- over [-8, 10], then 0.002 around the best), computed with NumPy on the same float32
  -- data: log lambda = (-0.652, 3.182), error 15.22018.
  local nb, xb, yb = 60, {}, {}
  for i = 1, nb do
    for j = 0, 3 do xb[4 * (i - 1) + j + 1] = math.sin(0.37 * i * (j + 1) + j) end
    local r = 4 * (i - 1)
    yb[i] = xb[r + 1] + 0.5 * xb[r + 2] + 0.2 * xb[r + 3] - 0.1 * xb[r + 4] + 0.6 * math.sin(5.3 * i)
  end
  for search = 1, 2 do -- 1 gradient (BFGS), 2 exact coordinate updates
    local m = assert(btfm.model("banded_ridge"))
    assert(m:set_bands({0, 0, 1, 1}))
    assert(m:set_alphas({0.01, 0.1, 1, 10, 100}))
    assert(m:set_param("cv", 5))
    assert(m:set_param("n_iter", 5))
    assert(m:set_param("band_search", search))
    assert(m:fit(xb, nb, 4, yb, 1))
    local w, alpha = m:band_weights(2), m:alpha()[1]
    near(math.log(alpha / w[1]), -0.652, 0.01, "search " .. search .. " log penalty of band 0")
    near(math.log(alpha / w[2]), 3.182, 0.01, "search " .. search .. " log penalty of band 1")
  end
  local bad = assert(btfm.model("banded_ridge"))
  assert(bad:set_bands({0, 0, 1, 1}))
  assert(bad:set_param("band_search", 2))
  local msg = fails("BTFM_E_INVALID", "band search without K folds", bad:fit(xb, nb, 4, yb, 1))
  check(msg:find("K folds", 1, true), msg)
end)

test("noise ceilings, RDMs and steering directions", function()
  local repeats = {}
  for _ = 1, 3 do for i = 1, 10 do repeats[#repeats + 1] = math.sin(i) end end
  close_to(btfm.noise_ceiling(repeats, 3, 10, 1)[1], 1, 1e-6, "split-half of noise-free repeats")
  -- Schoppe's reference code: signal power with 1/(T - 1), the mean's variance with 1/T.
  close_to(btfm.noise_ceiling(repeats, 3, 10, 1, "schoppe")[1], math.sqrt(10 / 9), 1e-6,
           "Schoppe cc_max of noise-free repeats")
  H.raises("unknown noise ceiling 'other'", btfm.noise_ceiling, repeats, 3, 10, 1, "other")
  local rdm = btfm.rdm({1, 2, 3, 2, 4, 6, 3, 1, 2}, 3, 3, "correlation")
  eq(#rdm, 3, "entries")
  near(rdm[1], 0, 1e-9, "collinear patterns have correlation distance 0")
  near(rdm[2], 1 - (-0.5), 1e-6, "1 - r of (1,2,3) and (3,1,2)")
  close_to(btfm.rdm_compare({1, 2, 3, 4}, {2, 4, 6, 9}), 1, 1e-12, "spearman")
  local lower, upper = btfm.rdm_noise_ceiling({1, 2, 3, 1, 2, 3}, 2, "spearman")
  close_to(lower, 1, 1e-12, "lower ceiling of identical RDMs")
  close_to(upper, 1, 1e-12, "upper ceiling of identical RDMs")
  -- Class 1 sits 2 units further along the first axis: the direction is (1, 0).
  local acts, labs = {}, {}
  for i = 1, 20 do
    local c = i % 2
    acts[2 * i - 1], acts[2 * i] = 2 * c + 0.1 * math.sin(i), 0.1 * math.cos(3 * i)
    labs[i] = c
  end
  local d, acc = btfm.steering_direction(acts, 20, 2, labs)
  check(d[1] > 0.99 and math.abs(d[2]) < 0.05, "direction along the means")
  close_to(acc, 1, 1e-12, "held-out accuracy")
  H.raises("unknown steering method", btfm.steering_direction, acts, 20, 2, labs, "pca")
end)

test("errors name the argument and keep the fit", function()
  local m = assert(btfm.model("ridge"))
  assert(m:set_alphas({1e-6}))
  fails("BTFM_E_STATE", "predict before fit", m:predict({1, 2}, 1))
  assert(m:fit(x, n, 2, y, 1))
  local before = m:predict({1, 1}, 1)[1]
  H.raises("1 x 2", m.predict, m, {1, 2, 3}, 1)
  m:set_param("cv", 50)
  assert(m:set_alphas({1, 10}))
  local msg = fails("BTFM_E_INVALID", "too many folds", m:fit(x, n, 2, y, 1))
  check(msg:find("cv is 50 folds", 1, true), msg)
  near(m:predict({1, 1}, 1)[1], before, 0, "the earlier fit is kept")
  H.raises("unknown model type 'lasso'", btfm.model, "lasso")
  fails("BTFM_E_FORMAT", "damaged string", btfm.model_from_string("not a model"))
  check(tostring(m):find("btfm.model", 1, true), "tostring")
end)

H.finish()
