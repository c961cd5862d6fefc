-- The small test runner shared by the Lua tests: named tests, assertions with useful
-- messages, the nil/message/status-name error convention, and the closing totals.
local btfm = require "btfm"

local H = {passed = 0, failed = 0}

function H.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    H.passed = H.passed + 1
    print("ok      " .. name)
  else
    H.failed = H.failed + 1
    print("FAILED  " .. name .. "\n" .. tostring(err))
  end
end

function H.show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if math.type(v) == "float" then return string.format("%.17g (float)", v) end
  return tostring(v)
end

-- Equal values of the same Lua number subtype (an integer is not a float here).
function H.eq(actual, expected, what)
  if actual ~= expected or math.type(actual) ~= math.type(expected) then
    error(string.format("%s: expected %s, got %s", what or "value", H.show(expected),
                        H.show(actual)), 2)
  end
end

-- Equal values (1 == 1.0).
function H.same(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what or "value", H.show(expected),
                        H.show(actual)), 2)
  end
end

function H.close_to(actual, expected, rel, what)
  if math.abs(actual - expected) > rel * math.abs(expected) + 1e-30 then
    error(string.format("%s: expected %.9g, got %.9g", what or "value", expected, actual), 2)
  end
end

function H.check(cond, what)
  if not cond then error(what or "check failed", 2) end
end

-- Check an error triple (nil, message, status name): the given status, or any error
-- status when `status` is nil. `what` names the call in failures. Returns the message.
function H.fails(status, what, r, msg, name)
  what = what or "call"
  if r ~= nil then error(what .. ": expected a failure, got " .. H.show(r), 2) end
  if type(msg) ~= "string" or msg == "" then
    error(what .. ": failure without a message", 2)
  end
  if status then
    if name ~= status then
      error(string.format("%s: expected %s, got %s (%s)", what, status, H.show(name), msg), 2)
    end
  elseif type(name) ~= "string" or not btfm.statuses[name] or btfm.statuses[name] >= 0 then
    error(string.format("%s: expected an error status, got %s (%s)", what, H.show(name), msg), 2)
  end
  return msg
end

-- Call fn, expecting an error whose message contains `pattern` (plain text).
function H.raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error containing '" .. pattern .. "'", 2) end
  if not tostring(err):find(pattern, 1, true) then
    error(string.format("error %q does not contain %q", tostring(err), pattern), 2)
  end
end

-- Print the totals and exit with the verdict.
function H.finish()
  print(string.format("%d passed, %d failed", H.passed, H.failed))
  os.exit(H.failed == 0, true)
end

return H
