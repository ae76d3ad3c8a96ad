-- The runcrate prelude, part 3: sleep, log, templates, wait_for.

---------------------------------------------------------------------------------------------------
-- Utilities

function M.sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds or seconds < 0 then
    argerror("sleep", "seconds", "sleep: seconds must be a number >= 0, got " .. tostring(seconds))
  end
  local ok, info = native.sleep(seconds)
  if not ok then raise("sleep", info) end
end

function M.log(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  native.stderr("[runcrate] " .. concat(parts, " ") .. "\n")
end

function M.template(text, vars)
  if type(text) ~= "string" and not is_secret(text) then
    argerror("template", "text", "template: text must be a string, got " .. type(text))
  end
  if vars ~= nil and type(vars) ~= "table" then
    argerror("template", "vars", "template: vars must be a table, got " .. type(vars))
  end
  vars = vars or {}
  local secret = is_secret(text)
  local source = secret and secret_values[text] or text
  local missing = {}
  local result = source:gsub("{{%s*([%w_%.]+)%s*}}", function(name)
    local v = vars
    for part in name:gmatch("[^%.]+") do
      if type(v) ~= "table" or is_secret(v) then v = nil; break end
      v = v[part]
      if v == nil then v = vars[tonumber(part) or part] end
    end
    if v == nil then missing[#missing + 1] = name; return "" end
    if is_secret(v) then secret = true; return secret_values[v] end
    if mtype(v) == "float" and v == floor(v) and v > -2^53 and v < 2^53 then return fmt("%d", v) end
    local tv = type(v)
    if tv ~= "string" and tv ~= "number" and tv ~= "boolean" then
      missing[#missing + 1] = name .. " (a " .. tv .. ", not a string or number)"
      return ""
    end
    return tostring(v)
  end)
  if #missing > 0 then
    local errors = {}
    for i, name in ipairs(missing) do
      errors[i] = { field = name:match("^[^ ]+"), message = "template: missing variable '" .. name .. "'" }
      if name:find(" ") then errors[i].message = "template: variable '" .. name:gsub(" %(", "' is ", 1):gsub("%)$", "") end
    end
    local msgs = {}
    for i, e in ipairs(errors) do msgs[i] = e.message end
    raise("template", { code = "validation_error", message = concat(msgs, "; "), errors = errors })
  end
  if secret then return make_secret(result) end
  return result
end

---------------------------------------------------------------------------------------------------
-- wait_for: poll /status with backoff until a status, a final status, or the timeout

local UP = { running = true, deployed = true }
local FINAL = { terminated = true, failed = true }
-- The statuses runcrate-api.md lists (provisioning, up, final), and a dry run's planned.
local STATUS_NAMES = { "awaiting_provider", "creating", "deployed", "deploying", "failed", "pending", "planned",
                       "running", "starting", "terminated" }
local STATUSES = {}
for _, s in ipairs(STATUS_NAMES) do STATUSES[s] = true end
local WAIT_OPTIONS = { "interval", "quiet", "status", "timeout" }

function M.wait_for(target, opts)
  local id, inst
  if type(target) == "table" and not is_secret(target) then inst = target; id = target.id
  else id = target end
  if type(id) ~= "string" or id == "" then
    argerror("wait_for", "id", "wait_for: an instance or an instance id (string) expected, got " .. type(id))
  end
  if opts ~= nil and type(opts) ~= "table" then
    argerror("wait_for", "opts", "wait_for: options must be a table, got " .. type(opts))
  end
  opts = opts or {}
  check_options("wait_for", opts, WAIT_OPTIONS)
  local want = opts.status or "running"
  local timeout = opts.timeout or 600
  local interval = opts.interval or 1
  if type(want) ~= "string" then argerror("wait_for", "status", "wait_for: status must be a string") end
  if not STATUSES[want] then
    argerror("wait_for", "status", "wait_for: unknown status '" .. want .. "'" .. did_you_mean(want, STATUS_NAMES) ..
      " (expected one of " .. concat(STATUS_NAMES, ", ") .. ")")
  end
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 then argerror("wait_for", "timeout", "wait_for: timeout must be a number >= 0") end
  if type(interval) ~= "number" or interval ~= interval or interval <= 0 then argerror("wait_for", "interval", "wait_for: interval must be a number > 0") end

  local function reached(s) return s == want or (want == "running" and UP[s]) end

  local show = native.stderr_tty and not opts.quiet
  local label = (inst and inst.name) and (tostring(inst.name) .. " (" .. id .. ")") or id
  local start = native.clock()
  local delay = interval
  local last
  while true do
    local ok, st = native.ops.instance_status(id)
    if not ok then
      if show then native.stderr("\r\27[K") end
      raise("wait_for", st)
    end
    last = st.status
    if inst then inst.status = st.status; if st.ip ~= nil then inst.ip = st.ip end end
    learned(id, { status = st.status, ip = st.ip }, inst)
    local elapsed = native.clock() - start
    if show then
      native.stderr(fmt("\r\27[Kwaiting for %s: %s, %ds", label, tostring(last), floor(elapsed)))
    end
    -- A planned instance (a dry run's) stays planned: there is nothing to wait for.
    if reached(last) or last == "planned" then
      if show then native.stderr("\r\27[K") end
      return st
    end
    if FINAL[last] and not reached(last) then
      if show then native.stderr("\r\27[K") end
      raise("wait_for", { code = "unexpected_status", status = nil,
        message = fmt("instance %s reached final status '%s' while waiting for '%s'", label, last, want) })
    end
    if elapsed >= timeout then
      if show then native.stderr("\r\27[K") end
      raise("wait_for", { code = "timeout", retryable = true,
        message = fmt("gave up waiting for %s to be '%s' after %gs (last status '%s')", label, want, timeout, tostring(last)) })
    end
    local pause = delay
    if elapsed + pause > timeout then pause = timeout - elapsed end
    local sok, sinfo = native.sleep(pause)
    if not sok then
      if show then native.stderr("\r\27[K") end
      raise("wait_for", sinfo)
    end
    delay = delay * 1.5
    if delay > 10 then delay = 10 end
  end
end
