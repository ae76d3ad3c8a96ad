-- The runcrate prelude: the pleasant Lua API built on the native primitives.
-- Loaded once per state with the native table (and, optionally, the table to fill) as its arguments;
-- returns the module table.
-- Native contract (see RuncrateModule.swift):
--   native.ops.NAME(...)  -> true, result | false, errinfo       (one per API operation, never raise;
--                                                                 launch_attempt is create_instance for launch)
--   native.json_encode(v, indent) / native.json_decode(text) -> true, result | false, errinfo
--   native.sleep(s)       -> true | false, errinfo               (errinfo.code == "interrupted")
--   native.clock()        -> monotonic seconds
--   native.cleanup(fn)    -> fn run as a cleanup: not stopped by a passed time limit, Ctrl-C or the memory limit
--   native.stderr(text)   -- writes text to stderr, secrets redacted
--   native.stderr_tty, native.mode, native.version
--   native.init{secret_mt=, secret_values=}

local native, M = ...

local type, pairs, ipairs, tostring, tonumber, select, setmetatable, getmetatable, rawequal, rawget, error, pcall =
      type, pairs, ipairs, tostring, tonumber, select, setmetatable, getmetatable, rawequal, rawget, error, pcall
local concat, sort, insert, fmt = table.concat, table.sort, table.insert, string.format
local mtype, floor, huge = math.type, math.floor, math.huge
local getenv = os.getenv
local getinfo = debug and debug.getinfo

if type(M) ~= "table" then M = {} end
M.mode = native.mode
M.version = native.version

---------------------------------------------------------------------------------------------------
-- Error objects

local PRELUDE_SOURCE = "=runcrate"

--- The `file:line:` of the first frame outside the module (the user's call site), or nil.
local function where()
  if not getinfo then return nil end
  for level = 3, 40 do
    local info = getinfo(level, "Sl")
    if not info then return nil end
    if info.what ~= "C" and info.source ~= PRELUDE_SOURCE then
      if info.currentline and info.currentline > 0 then
        return info.short_src .. ":" .. info.currentline .. ":"
      end
      return info.short_src .. ":"
    end
  end
  return nil
end

local Error = { __name = "runcrate.error" }
Error.__index = Error
Error.__tostring = function(e)
  local head = rawget(e, "where")
  local fn = rawget(e, "func")
  local text = tostring(rawget(e, "code") or "error") .. ": " .. tostring(rawget(e, "message") or "")
  if fn then text = fn .. ": " .. text end
  if head then text = head .. " " .. text end
  return text
end
M.Error = Error

--- Makes an error object from an errinfo table (or fields) and raises it.
local function raise(func, info)
  local e = {}
  for k, v in pairs(info) do e[k] = v end
  e.code = e.code or "error"
  e.message = e.message or e.code
  if e.retryable == nil then e.retryable = false end
  e.errors = e.errors or {}
  e.func = e.func or (func and ("runcrate." .. func))
  e.where = e.where or where()
  error(setmetatable(e, Error), 0)
end

local function argerror(func, field, message)
  raise(func, { code = "validation_error", message = message,
                errors = { { field = field, message = message } } })
end

--- " — did you mean 'x'?" for the known name closest to a misspelt one, or "".
local function did_you_mean(word, known)
  local best = native.suggest(tostring(word), known)
  return best and (" — did you mean '" .. best .. "'?") or ""
end

--- Raises validation_error for a key of `opts` that is not in the list `known`.
local function check_options(func, opts, known)
  local set = {}
  for _, k in ipairs(known) do set[k] = true end
  for k in pairs(opts) do
    if not set[k] then
      argerror(func, tostring(k), func .. ": unknown option '" .. tostring(k) .. "'" .. did_you_mean(k, known) ..
        " (expected " .. concat(known, ", ") .. ")")
    end
  end
end

--- True when `v` is an error object made by this module.
function M.is_error(v) return type(v) == "table" and getmetatable(v) == Error end

---------------------------------------------------------------------------------------------------
-- Secrets: opaque values that are sent to the API but always shown as ***

local Secret = { __name = "runcrate.secret", __metatable = "runcrate.secret" }
local secret_values = setmetatable({}, { __mode = "k" })

local function is_secret(v) return type(v) == "table" and rawequal(getmetatable(v), "runcrate.secret") and secret_values[v] ~= nil end

local function make_secret(s)
  local obj = setmetatable({}, Secret)
  secret_values[obj] = s
  return obj
end

Secret.__tostring = function() return "***" end
Secret.__concat = function(a, b)
  local av = is_secret(a) and secret_values[a] or tostring(a)
  local bv = is_secret(b) and secret_values[b] or tostring(b)
  return make_secret(av .. bv)
end
Secret.__len = function() return 3 end
Secret.__index = function() return nil end
Secret.__newindex = function() error("runcrate.secret is read-only", 2) end
Secret.__eq = function(a, b) return secret_values[a] == secret_values[b] end

function M.secret(value)
  if is_secret(value) then return value end
  local t = type(value)
  if t == "number" then value = tostring(value)
  elseif t ~= "string" then
    argerror("secret", "value", "secret: string expected, got " .. t)
  end
  return make_secret(value)
end

function M.is_secret(v) return is_secret(v) end

function M.getenv(name, opts)
  if type(name) ~= "string" then argerror("getenv", "name", "getenv: name must be a string, got " .. type(name)) end
  if opts ~= nil and type(opts) ~= "table" then argerror("getenv", "opts", "getenv: options must be a table, got " .. type(opts)) end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "required" and k ~= "secret" and k ~= "default" then
      argerror("getenv", tostring(k), "getenv: unknown option '" .. tostring(k) .. "' (expected required, secret, default)")
    end
  end
  local value = getenv(name)
  if value == nil or value == "" then
    if opts.default ~= nil then
      value = opts.default
    elseif opts.required then
      raise("getenv", { code = "missing_env", message = "environment variable " .. name .. " is not set",
                        errors = { { field = name, message = "environment variable " .. name .. " is not set" } } })
    else
      return nil
    end
  end
  if opts.secret then return M.secret(value) end
  return value
end

---------------------------------------------------------------------------------------------------
-- JSON (ordered keys, secrets shown as ***, integers kept as integers)

local json = {}
M.json = json
json.null = setmetatable({}, { __name = "runcrate.json.null", __tostring = function() return "null" end })
json.array_mt = { __name = "runcrate.json.array" }
--- Marks a table so that it encodes as an array even when empty.
function json.array(t) return setmetatable(t or {}, json.array_mt) end

native.init { secret_mt = Secret, secret_values = secret_values, json_null = json.null, array_mt = json.array_mt }

--- Encodes `v` as JSON (in Swift); `opts.indent` (a string or true) pretty-prints. Secrets encode as "***".
function json.encode(v, opts)
  local indent = opts and opts.indent
  if indent == true then indent = "  " end
  local ok, text = native.json_encode(v, indent)
  if not ok then raise("json.encode", text) end
  return text
end

--- Decodes JSON text; `null` becomes nil, arrays keep their order, integers stay integers.
function json.decode(s)
  if type(s) ~= "string" then argerror("json.decode", "text", "json.decode: string expected, got " .. type(s)) end
  local ok, v = native.json_decode(s)
  if not ok then raise("json.decode", v) end
  return v
end

---------------------------------------------------------------------------------------------------
-- Instances: plain tables with a metatable for <close>, :keep(), :wait(), :terminate()

local Instance = { __name = "runcrate.instance" }
local methods = {}
Instance.__index = methods
local kept = setmetatable({}, { __mode = "k" })

-- Every instance table handed out, by id (weakly), so that whatever call learns an instance's state
-- (a get, a listing, a status poll, an update, a delete) updates every table the script holds for it.
local WEAK_KEYS = { __mode = "k" }
local tracked = {}

--- Copies `fields` into every table the script holds for instance `id` (except `skip`).
local function learned(id, fields, skip)
  local set = type(id) == "string" and tracked[id]
  if not set then return end
  for t in pairs(set) do
    if t ~= skip then for k, v in pairs(fields) do t[k] = v end end
  end
end

local function as_instance(t)
  if type(t) ~= "table" then return t end
  if getmetatable(t) == nil then setmetatable(t, Instance) end
  local id = rawget(t, "id")
  if type(id) == "string" then
    learned(id, t, t)
    local set = tracked[id]
    if not set then set = setmetatable({}, WEAK_KEYS); tracked[id] = set end
    set[t] = true
  end
  return t
end

--- The id of an instance argument (a string, or a table with `id`).
local function id_of(v)
  if type(v) == "table" and not is_secret(v) then return rawget(v, "id") end
  return v
end

function methods:keep() kept[self] = true; return self end
function methods:terminate() return M.delete_instance(self.id) end
function methods:wait(opts) return M.wait_for(self, opts) end
function methods:refresh()
  local fresh = M.instance(self.id)
  for k, v in pairs(fresh) do self[k] = v end
  return self
end

--- The command line that reaches a running instance over SSH: user, host and port as the API gives
--- them (`ssh_user`, `ssh_host` or `ip`, `ssh_port`; root and 22 otherwise), and which key to use
--- when the instance was created with `ssh_key_id`.
function methods:ssh_command()
  local host = rawget(self, "ssh_host") or rawget(self, "ip")
  if type(host) ~= "string" or host == "" then
    raise("ssh_command", { code = "conflict",
      message = fmt("instance %s (%s) has no IP address yet (status '%s'): wait_for it first",
        tostring(self.id), tostring(self.name), tostring(self.status)) })
  end
  local user = rawget(self, "ssh_user")
  if type(user) ~= "string" or user == "" then user = "root" end
  local port = tonumber(rawget(self, "ssh_port"))
  local parts = { "ssh" }
  if port and port ~= 22 then parts[#parts + 1] = "-p " .. fmt("%d", port) end
  parts[#parts + 1] = user .. "@" .. host
  local key = rawget(self, "ssh_key_id")
  if type(key) == "string" and key ~= "" then
    parts[#parts + 1] = "# with the private key of SSH key " .. key .. " (ssh -i PATH to choose it)"
  end
  return concat(parts, " ")
end

--- What ended the scope, for the termination notice: the first line of the error, without its place.
local function reason(err)
  local text = tostring(err):match("^[^\n]*")
  return (text:gsub("^[^:]*:%d+: ", "", 1))
end

-- Runs as a cleanup (native.cleanup): a timeout, Ctrl-C or the memory limit that ended the scope
-- does not stop the termination itself (bounded, see SCRIPTING.md).
Instance.__close = native.cleanup(function(self, err)
  if err == nil or kept[self] or self.id == nil then return end
  local ok, dok, dinfo = pcall(native.ops.delete_instance, self.id)
  if ok and dok then
    learned(self.id, { status = "terminated" })
    native.stderr(fmt("runcrate: terminated instance %s (%s) because its scope was left by an error (%s)\n",
      tostring(self.id), tostring(self.name), reason(err)))
  else
    local why = ok and type(dinfo) == "table" and dinfo.message or dok
    native.stderr(fmt("runcrate: WARNING: could not terminate instance %s (%s): %s\n",
      tostring(self.id), tostring(self.name), tostring(why)))
  end
end)

---------------------------------------------------------------------------------------------------
-- API bindings: each native operation wrapped to raise error objects

--- The native operation `op` as a module function that raises error objects; `wrap(result, ...)`
--- shapes its result (it sees the call's arguments too).
local function binding(op, wrap)
  local call = native.ops[op]
  return function(...)
    local ok, result = call(...)
    if not ok then raise(op, result) end
    if wrap then return wrap(result, ...) end
    return result
  end
end

-- Results that are instances get the instance metatable; whatever learns an instance's state
-- updates every table the script holds for it.
local WRAP = {
  create_instance = as_instance,
  instance = as_instance,
  update_instance = as_instance,
  instances = function(list)
    for _, t in ipairs(list) do as_instance(t) end
    return list
  end,
  instance_status = function(st)
    if type(st) == "table" then learned(st.id, { status = st.status, ip = st.ip }) end
    return st
  end,
  delete_instance = function(result, target)
    learned(id_of(target), { status = "terminated" })
    return result
  end,
}
-- Used by launch only, not functions of the module.
local INTERNAL = { launch_attempt = true, validate_instance = true, launch_plan = true }
for name in pairs(native.ops) do
  if not INTERNAL[name] then M[name] = binding(name, WRAP[name]) end
end

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
      for k in pairs(retry) do
        local known = false
        for _, name in ipairs(RETRY_OPTIONS) do if k == name then known = true end end
        if not known then
          problem("retry." .. tostring(k), "retry: unknown option '" .. tostring(k) .. "'" ..
            did_you_mean(k, RETRY_OPTIONS) .. " (expected duration, interval)")
        end
      end
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

---------------------------------------------------------------------------------------------------
-- help

local HELP = {
  create_instance = "create_instance(spec) -> instance\n  Validates spec (name, gpu_type | instance_type_id, region, gpu_count, cpu_cores, memory, storage,\n  template, ssh_key_id, env, startup_commands, storage_id, launch_script | launch_script_base64,\n  max_runtime_minutes, idle_shutdown_minutes; retry = false or max_wait = seconds bound the client's\n  waits on sold-out answers, never sent) and creates one instance.\n  Raises validation_error (before any request), spend_cap, unauthorized, insufficient_credits,\n  no_capacity, launch_refused, server_error, timeout, network_error.",
  instances = "instances{search=} -> {instance...}\n  Lists instances, optionally filtered by name.",
  instance = "instance(id) -> instance\n  Gets one instance. Raises not_found.",
  instance_status = "instance_status(id) -> {id=, status=, ip=}\n  Cheap live status. Raises not_found.",
  update_instance = "update_instance(id, {max_runtime_minutes=, idle_shutdown_minutes=}) -> instance\n  Changes the auto-stop limits (5-10080 / 5-1440 minutes, or json.null to clear). Raises conflict if not live.",
  delete_instance = "delete_instance(id) -> true\n  Terminates the instance. Raises not_found.",
  wait_for = "wait_for(id_or_instance, {status=\"running\", timeout=600, interval=1}) -> {id=, status=, ip=}\n  Polls the status with backoff until it is reached. Raises timeout, unexpected_status (terminated/failed),\n  interrupted (Ctrl-C).",
  instance_types = "instance_types{gpu_type=, region=, gpu_count=, max_price=} -> {type...}\n  The catalogue, sorted by hourly_rate ascending.",
  launch = "launch{name=, candidates={...}, order=\"listed\"|\"price\", max_price=, retry={duration=, interval=}, <create fields>} -> instance, attempts\n  Tries candidates (GPU types or instance type ids) in order or cheapest first, skips those over\n  max_price, asks for a GPU type whose configs straddle max_price config by config under it, fails over\n  on no_capacity / sold-out / launch_refused, terminates an instance whose real cost_per_hour is over\n  max_price. attempts = {{candidate=, instance_type_id=, outcome=, code=, price=}...}.\n  With retry, runs the list again in rounds until one is created or duration (seconds) is up.\n  Raises no_capacity (with .attempts) when every candidate fails; validation/auth/credit errors at once.",
  ssh_keys = "ssh_keys() -> {key...}",
  create_ssh_key = "create_ssh_key{name=, public_key=} -> key\n  Raises conflict for a duplicate.",
  delete_ssh_key = "delete_ssh_key(id) -> true",
  volumes = "volumes{search=} -> {volume...}",
  volume = "volume(id) -> volume",
  create_volume = "create_volume{name=, size_gb=, region=} -> volume",
  resize_volume = "resize_volume(id, size_gb) -> volume",
  delete_volume = "delete_volume(id) -> result",
  volume_regions = "volume_regions() -> {{id=, name=, provider=}...}",
  templates = "templates{search=, category=, page=, page_size=} -> {template...}",
  environments = "environments() -> {environment...}",
  create_environment = "create_environment{name=} -> environment",
  balance = "balance() -> {creditsBalance=, activeUsageCost=, ...}",
  template = "template(text, vars) -> string\n  Replaces {{name}} with vars.name; a missing variable raises validation_error naming it.",
  secret = "secret(value) -> secret\n  A value that is sent to the API but shown as *** everywhere.",
  getenv = "getenv(name, {required=, secret=, default=}) -> string | secret | nil\n  Raises missing_env when required and unset.",
  sleep = "sleep(seconds)\n  Raises interrupted on Ctrl-C.",
  log = "log(...)\n  Writes a line to stderr (secrets redacted).",
  is_error = "is_error(v) -> boolean",
  is_secret = "is_secret(v) -> boolean",
  help = "help([function]) -> prints the contract of one function, or the list",
}
local json_help = {
  encode = "json.encode(value, {indent=}) -> string\n  Keys sorted; secrets encode as \"***\"; raises json_error for cycles, NaN, functions.",
  decode = "json.decode(text) -> value\n  Raises json_error with the line and byte of the problem.",
}

function M.help(f)
  if f == nil then
    local names = {}
    for name in pairs(HELP) do names[#names + 1] = name end
    sort(names)
    local lines = { "runcrate " .. M.version .. " (mode: " .. M.mode .. ") - functions:" }
    for _, name in ipairs(names) do lines[#lines + 1] = "  " .. HELP[name]:match("^[^\n]*") end
    lines[#lines + 1] = "  " .. json_help.encode:match("^[^\n]*")
    lines[#lines + 1] = "  " .. json_help.decode:match("^[^\n]*")
    lines[#lines + 1] = "help(runcrate.launch) shows one function's contract; see SCRIPTING.md."
    print(concat(lines, "\n"))
    return
  end
  for name, fn in pairs(M) do
    if rawequal(fn, f) and HELP[name] then print("runcrate." .. HELP[name]); return end
  end
  for name, fn in pairs(json) do
    if rawequal(fn, f) and json_help[name] then print("runcrate." .. json_help[name]); return end
  end
  if type(f) == "string" and HELP[f] then print("runcrate." .. HELP[f]); return end
  print("no help for " .. tostring(f))
end

return M
