-- The runcrate prelude, part 4: launch — the attempt loop and failover over LaunchPlan's steps.

---------------------------------------------------------------------------------------------------
-- launch: candidates, price ceiling, failover

local LAUNCH_KEY_NAMES = { "candidates", "max_price", "order", "retry" }
local LAUNCH_KEYS = {}
for _, k in ipairs(LAUNCH_KEY_NAMES) do LAUNCH_KEYS[k] = true end
local RETRY_OPTIONS = { "duration", "interval" }
local FAILOVER = { no_capacity = true, launch_refused = true, sold_out = true }

local function sold_out(err)
  if FAILOVER[err.code] then return true end
  local msg = type(err.message) == "string" and err.message:lower() or ""
  return (err.status == 500 or err.code == "server_error") and
         (msg:find("no longer available", 1, true) ~= nil or msg:find("sold out", 1, true) ~= nil)
end

local function outcome_of(err)
  if FAILOVER[err.code] then return err.code end
  return "sold_out"
end

function M.launch(spec)
  if type(spec) ~= "table" or getmetatable(spec) ~= nil then
    argerror("launch", "spec", "launch: a plain table expected, got " .. type(spec))
  end
  local candidates, order, max_price = spec.candidates, spec.order or "listed", spec.max_price
  local problems = {}
  local function problem(field, msg) problems[#problems + 1] = { field = field, message = msg } end
  if type(candidates) ~= "table" or #candidates == 0 then
    problem("candidates", "candidates: a non-empty list of GPU types or instance type ids expected, got " ..
      (type(candidates) == "table" and "an empty table" or type(candidates)))
    candidates = {}
  else
    for k, v in pairs(candidates) do
      if mtype(k) ~= "integer" or k < 1 or k > #candidates then
        problem("candidates." .. tostring(k), "candidates: a list expected, found key '" .. tostring(k) .. "'")
      elseif type(v) ~= "string" or v == "" then
        problem("candidates." .. k, "candidates." .. k .. ": non-empty string expected, got " .. type(v))
      end
    end
  end
  if order ~= "listed" and order ~= "price" then
    problem("order", "order: 'listed' or 'price' expected, got " .. tostring(order))
  end
  if max_price ~= nil and (type(max_price) ~= "number" or max_price ~= max_price or max_price <= 0 or max_price == huge) then
    problem("max_price", "max_price: a positive number (USD/h) expected, got " .. tostring(max_price))
  end
  local retry = spec.retry
  if retry ~= nil then
    if type(retry) ~= "table" or getmetatable(retry) ~= nil then
      problem("retry", "retry: a table {duration = seconds, interval = seconds} expected, got " .. type(retry))
      retry = nil
    else
      for _, p in ipairs(unknown_options("retry", retry, RETRY_OPTIONS, "retry")) do problem(p.field, p.message) end
      local d, iv = retry.duration, retry.interval
      if type(d) ~= "number" or d ~= d or d <= 0 or d == huge then
        problem("retry.duration", "retry.duration: a positive number of seconds expected, got " .. tostring(d))
      end
      if iv ~= nil and (type(iv) ~= "number" or iv ~= iv or iv <= 0 or iv == huge) then
        problem("retry.interval", "retry.interval: a positive number of seconds expected, got " .. tostring(iv))
      end
    end
  end
  if spec.gpu_type ~= nil or spec.instance_type_id ~= nil then
    problem(spec.gpu_type ~= nil and "gpu_type" or "instance_type_id",
      "launch: give GPU types and instance type ids in candidates, not gpu_type/instance_type_id")
  end
  -- The rest is a create spec: validate it once, before any attempt.
  local base = {}
  for k, v in pairs(spec) do if not LAUNCH_KEYS[k] then base[k] = v end end
  if #problems == 0 then
    base.gpu_type = type(candidates[1]) == "string" and candidates[1] or "x"
    local ok, info = native.ops.validate_instance(base, LAUNCH_KEY_NAMES)
    base.gpu_type = nil
    if not ok then
      for _, e in ipairs(info.errors or {}) do problems[#problems + 1] = e end
      if #(info.errors or {}) == 0 then problems[#problems + 1] = { field = "spec", message = info.message } end
    end
  end
  local steps
  if #problems == 0 then
    -- The steps, priced from the run's catalogue (LaunchPlan in Swift: the one config-matching and
    -- pricing rule). A candidate that names no GPU type and no type id is a validation error, so a
    -- misspelt one never fails over silently to the next. Asked once the spec is otherwise valid,
    -- so a bad spec fails without any request.
    local sizing = { gpu_count = base.gpu_count, region = base.region, cpu_cores = base.cpu_cores,
                     memory = base.memory, storage = base.storage }
    local pok, plan = native.ops.launch_plan(candidates, order, max_price, sizing)
    if not pok then
      if plan.code ~= "validation_error" then raise("launch", plan) end
      for _, e in ipairs(plan.errors or {}) do problems[#problems + 1] = e end
    else
      steps = plan
    end
  end
  if #problems > 0 then
    local msgs = {}
    for i, p in ipairs(problems) do msgs[i] = p.message end
    raise("launch", { code = "validation_error", message = concat(msgs, "; "), errors = problems })
  end

  local attempts = {}
  -- One create; returns the instance when it is kept, nil when the launch should fail over.
  local function attempt(c, field, value, price)
    local req = {}
    for k, v in pairs(base) do req[k] = v end
    req[field] = value
    local by_id = field == "instance_type_id" and value ~= c and value or nil
    local cok, res = native.ops.launch_attempt(req)
    if not cok then
      if not sold_out(res) then
        res.attempts = attempts
        raise("launch", res)
      end
      attempts[#attempts + 1] = { candidate = c, instance_type_id = by_id, outcome = outcome_of(res), code = res.code,
        price = price, message = res.message }
      return nil
    end
    local inst = as_instance(res)
    local real = tonumber(inst.cost_per_hour)
    if max_price and real and real > max_price then
      local dok, dinfo = native.ops.delete_instance(inst.id)
      attempts[#attempts + 1] = { candidate = c, instance_type_id = by_id, outcome = "price_ceiling",
        code = "price_ceiling", price = real, id = inst.id, terminated = dok,
        message = fmt("%s was created at %.2f USD/h, over the ceiling of %.2f; %s", value, real, max_price,
          dok and "terminated at once" or ("COULD NOT TERMINATE: " .. tostring(dinfo and dinfo.message))) }
      if not dok then
        raise("launch", { code = "price_ceiling", message = attempts[#attempts].message, attempts = attempts,
                          instance = inst })
      end
      return nil
    end
    attempts[#attempts + 1] = { candidate = c, instance_type_id = by_id, outcome = "created", price = real or price,
      id = inst.id }
    return inst
  end

  -- One pass over the candidates: the instance when one is kept, and whether any create was sent.
  local bought_over = {}  -- step index -> price, for a step created over the ceiling in an earlier round
  local function pass()
    local sent = false
    for i, step in ipairs(steps) do
      local c = step.candidate
      if step.action == "no_match" then
        attempts[#attempts + 1] = { candidate = c, outcome = "no_match", code = "not_found", message = step.message }
      elseif step.action == "over_ceiling" then
        attempts[#attempts + 1] = { candidate = c, outcome = "over_ceiling", code = "price_ceiling", price = step.price,
          message = step.message }
      elseif bought_over[i] then
        -- Created over the ceiling in an earlier round (a sized spec): not bought again.
        attempts[#attempts + 1] = { candidate = c, outcome = "over_ceiling", code = "price_ceiling", price = bought_over[i],
          message = fmt("%s was created at %.2f USD/h in an earlier round, over the ceiling of %.2f", c, bought_over[i], max_price) }
      else
        sent = true
        local inst = attempt(c, step.field, step.value, step.price)
        if inst then return inst, true end
        if attempts[#attempts].outcome == "price_ceiling" then bought_over[i] = attempts[#attempts].price end
      end
    end
    return nil, sent
  end

  local function summary(from)
    local parts = {}
    for i = from, #attempts do
      local a = attempts[i]
      parts[#parts + 1] = a.candidate .. (a.instance_type_id and (" (" .. a.instance_type_id .. ")") or "") .. " " .. a.outcome
    end
    return concat(parts, ", ")
  end

  local started = native.clock()
  local wait = retry and (retry.interval or 30)
  local round = 1
  while true do
    local first = #attempts + 1
    local inst, sent = pass()
    for i = first, #attempts do attempts[i].round = round end
    if inst then return inst, attempts end
    local elapsed = native.clock() - started
    -- Retry rounds only help when a create was sent and refused for capacity: a list with nothing
    -- to ask for (no match, all over the ceiling) gives the same answer every round.
    if not retry or not sent or elapsed >= retry.duration then break end
    -- Waits grow by half each round up to 5 minutes (or the interval, if longer), spread by ±20 %,
    -- and never run past the duration.
    local jitter = 0.8 + 0.4 * ((native.clock() * 7919) % 1)
    local pause = wait * jitter
    if pause > retry.duration - elapsed then pause = retry.duration - elapsed end
    if native.stderr_tty then
      native.stderr(fmt("runcrate: launch %s: round %d found no capacity (%s); trying again in %ds (%ds of %ds left)\n",
        tostring(spec.name), round, summary(first), floor(pause + 0.5), floor(retry.duration - elapsed + 0.5),
        floor(retry.duration + 0.5)))
    end
    local sok, sinfo = native.sleep(pause)
    if not sok then sinfo.attempts = attempts; raise("launch", sinfo) end
    round = round + 1
    wait = wait * 1.5
    local cap = (retry.interval or 30) > 300 and retry.interval or 300
    if wait > cap then wait = cap end
  end
  local last = 1
  for i = #attempts, 1, -1 do if attempts[i].round ~= round then break end; last = i end
  local rounds = round > 1 and fmt(" in %d rounds over %ds; the last: ", round, floor(native.clock() - started + 0.5)) or " ("
  raise("launch", { code = "no_capacity", retryable = true, attempts = attempts, rounds = round,
    message = "no candidate could be launched" .. rounds .. summary(last) .. (round > 1 and "" or ")") })
end
