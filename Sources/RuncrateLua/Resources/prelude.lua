-- The runcrate prelude: the pleasant Lua API built on the native primitives.
-- Loaded once per state with the native table (and, optionally, the table to fill) as its arguments;
-- returns the module table.
-- Native contract (see RuncrateModule.swift):
--   native.call(op, ...)  -> true, result | false, errinfo       (every API operation, never raises)
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

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return escapes[c] or fmt("\\u%04x", c:byte()) end) .. '"'
end

local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if mtype(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  for i = 1, n do if t[i] == nil then return false end end
  return true, n
end

local function encode_value(v, out, seen, indent, depth)
  local t = type(v)
  if v == nil or v == json.null then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then
    if v ~= v or v == huge or v == -huge then error("json.encode: cannot encode " .. tostring(v), 0) end
    if mtype(v) == "integer" then out[#out + 1] = fmt("%d", v)
    elseif v == floor(v) and v > -2^53 and v < 2^53 then out[#out + 1] = fmt("%.1f", v)
    else
      local short = fmt("%.15g", v)  -- the shortest form that reads back as the same number
      out[#out + 1] = tonumber(short) == v and short or fmt("%.17g", v)
    end
  elseif t == "string" then out[#out + 1] = encode_string(v)
  elseif is_secret(v) then out[#out + 1] = '"***"'
  elseif t == "table" then
    if seen[v] then error("json.encode: cycle in table", 0) end
    seen[v] = true
    local nl, pad, pad1 = "", "", ""
    if indent then nl = "\n"; pad = indent:rep(depth); pad1 = indent:rep(depth + 1) end
    local arr, n = is_array(v)
    if arr and n > 0 then
      out[#out + 1] = "[" .. nl
      for i = 1, n do
        out[#out + 1] = pad1
        encode_value(v[i], out, seen, indent, depth + 1)
        if i < n then out[#out + 1] = "," end
        out[#out + 1] = nl
      end
      out[#out + 1] = pad .. "]"
    elseif arr then
      out[#out + 1] = (getmetatable(v) == json.array_mt) and "[]" or "{}"
    else
      local keys = {}
      for k in pairs(v) do
        local kt = type(k)
        if kt ~= "string" and kt ~= "number" then error("json.encode: cannot encode a " .. kt .. " key", 0) end
        keys[#keys + 1] = k
      end
      sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      out[#out + 1] = "{" .. nl
      for i, k in ipairs(keys) do
        out[#out + 1] = pad1 .. encode_string(tostring(k)) .. (indent and ": " or ":")
        encode_value(v[k], out, seen, indent, depth + 1)
        if i < #keys then out[#out + 1] = "," end
        out[#out + 1] = nl
      end
      out[#out + 1] = pad .. "}"
    end
    seen[v] = nil
  else
    error("json.encode: cannot encode a " .. t, 0)
  end
end

json.array_mt = { __name = "runcrate.json.array" }
--- Marks a table so that it encodes as an array even when empty.
function json.array(t) return setmetatable(t or {}, json.array_mt) end

native.init { secret_mt = Secret, secret_values = secret_values, json_null = json.null, array_mt = json.array_mt }

--- Encodes `v` as JSON; `opts.indent` (a string or true) pretty-prints. Secrets encode as "***".
function json.encode(v, opts)
  local indent = opts and opts.indent
  if indent == true then indent = "  " end
  local out = {}
  local ok, err = pcall(encode_value, v, out, {}, indent, 0)
  if not ok then raise("json.encode", { code = "json_error", message = tostring(err) }) end
  return concat(out)
end

local function decode_error(s, i, what)
  local line = 1
  for _ in s:sub(1, i - 1):gmatch("\n") do line = line + 1 end
  error(fmt("%s at line %d (byte %d)", what, line, i), 0)
end

local decode_value
local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then decode_error(s, j, "unterminated string") end
    if c == '"' then return concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      local map = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
      if map[e] then out[#out + 1] = map[e]; j = j + 2
      elseif e == "u" then
        local hex = s:sub(j + 2, j + 5)
        if not hex:match("^%x%x%x%x$") then decode_error(s, j, "bad \\u escape") end
        local cp = tonumber(hex, 16)
        j = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
          local lo = tonumber(s:sub(j + 2, j + 5), 16)
          if lo and lo >= 0xDC00 and lo <= 0xDFFF then
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
            j = j + 6
          end
        end
        out[#out + 1] = utf8.char(cp)
      else decode_error(s, j, "bad escape") end
    elseif c:byte() < 32 then decode_error(s, j, "control character in string")
    else
      local k = s:find('["\\%c]', j) or #s + 1
      out[#out + 1] = s:sub(j, k - 1)
      j = k
    end
  end
end

function decode_value(s, i, depth)
  if depth > 200 then decode_error(s, i, "nesting too deep") end
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local t = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return t, i + 1 end
    while true do
      if s:sub(i, i) ~= '"' then decode_error(s, i, "expected a string key") end
      local k; k, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then decode_error(s, i, "expected ':'") end
      local v; v, i = decode_value(s, i + 1, depth + 1)
      t[k] = v
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "}" then return t, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or '}'") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local t, n = json.array(), 0
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return t, i + 1 end
    while true do
      local v; v, i = decode_value(s, i, depth + 1)
      n = n + 1; t[n] = v
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "]" then return t, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then return decode_string(s, i)
  elseif s:find("^true", i) then return true, i + 4
  elseif s:find("^false", i) then return false, i + 5
  elseif s:find("^null", i) then return nil, i + 4
  else
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    if not num or num == "" or num == "-" then decode_error(s, i, "unexpected character") end
    local v
    if num:find("[.eE]") then v = tonumber(num) else v = math.tointeger(tonumber(num)) or tonumber(num) end
    if v == nil then decode_error(s, i, "bad number") end
    return v, i + #num
  end
end

--- Decodes JSON text; `null` becomes nil, arrays keep their order, integers stay integers.
function json.decode(s)
  if type(s) ~= "string" then argerror("json.decode", "text", "json.decode: string expected, got " .. type(s)) end
  local ok, v, i = pcall(decode_value, s, 1, 0)
  if ok then
    i = skip(s, i)
    if i <= #s then ok, v = false, fmt("trailing characters at byte %d", i) end
  end
  if not ok then raise("json.decode", { code = "json_error", message = tostring(v) }) end
  return v
end

---------------------------------------------------------------------------------------------------
-- Instances: plain tables with a metatable for <close>, :keep(), :wait(), :terminate()

local Instance = { __name = "runcrate.instance" }
local methods = {}
Instance.__index = methods
local kept = setmetatable({}, { __mode = "k" })

local function as_instance(t)
  if type(t) == "table" and getmetatable(t) == nil then setmetatable(t, Instance) end
  return t
end

function methods:keep() kept[self] = true; return self end
function methods:terminate() return M.delete_instance(self.id) end
function methods:wait(opts) return M.wait_for(self, opts) end
function methods:refresh()
  local fresh = M.instance(self.id)
  for k, v in pairs(fresh) do self[k] = v end
  return self
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
  local ok, dok, dinfo = pcall(native.call, "delete_instance", self.id)
  if ok and dok then
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

local function binding(op, wrap)
  return function(...)
    local ok, result = native.call(op, ...)
    if not ok then raise(op, result) end
    if wrap then return wrap(result) end
    return result
  end
end

local function instance_list(list)
  for _, t in ipairs(list) do as_instance(t) end
  return list
end

M.create_instance = binding("create_instance", as_instance)
M.instances = binding("instances", instance_list)
M.instance = binding("instance", as_instance)
M.instance_status = binding("instance_status")
M.update_instance = binding("update_instance", as_instance)
M.delete_instance = binding("delete_instance")
M.instance_types = binding("instance_types")
M.ssh_keys = binding("ssh_keys")
M.create_ssh_key = binding("create_ssh_key")
M.delete_ssh_key = binding("delete_ssh_key")
M.volumes = binding("volumes")
M.volume = binding("volume")
M.create_volume = binding("create_volume")
M.resize_volume = binding("resize_volume")
M.delete_volume = binding("delete_volume")
M.volume_regions = binding("volume_regions")
M.templates = binding("templates")
M.environments = binding("environments")
M.create_environment = binding("create_environment")
M.balance = binding("balance")

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
  for k in pairs(opts) do
    if k ~= "status" and k ~= "timeout" and k ~= "interval" and k ~= "quiet" then
      argerror("wait_for", tostring(k), "wait_for: unknown option '" .. tostring(k) .. "' (expected status, timeout, interval, quiet)")
    end
  end
  local want = opts.status or "running"
  local timeout = opts.timeout or 600
  local interval = opts.interval or 1
  if type(want) ~= "string" then argerror("wait_for", "status", "wait_for: status must be a string") end
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 then argerror("wait_for", "timeout", "wait_for: timeout must be a number >= 0") end
  if type(interval) ~= "number" or interval ~= interval or interval <= 0 then argerror("wait_for", "interval", "wait_for: interval must be a number > 0") end

  local function reached(s) return s == want or (want == "running" and UP[s]) end

  if M.mode == "dry-run" and id:match("^planned%-%d+$") then
    local st = { id = id, status = "planned" }
    return st
  end

  local show = native.stderr_tty and not opts.quiet
  local label = (inst and inst.name) and (tostring(inst.name) .. " (" .. id .. ")") or id
  local start = native.clock()
  local delay = interval
  local last
  while true do
    local ok, st = native.call("instance_status", id)
    if not ok then
      if show then native.stderr("\r\27[K") end
      raise("wait_for", st)
    end
    last = st.status
    if inst then inst.status = st.status; if st.ip ~= nil then inst.ip = st.ip end end
    local elapsed = native.clock() - start
    if show then
      native.stderr(fmt("\r\27[Kwaiting for %s: %s, %ds", label, tostring(last), floor(elapsed)))
    end
    if reached(last) then
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

local LAUNCH_KEYS = { candidates = true, order = true, max_price = true }
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
  if spec.gpu_type ~= nil or spec.instance_type_id ~= nil then
    problem(spec.gpu_type ~= nil and "gpu_type" or "instance_type_id",
      "launch: give GPU types and instance type ids in candidates, not gpu_type/instance_type_id")
  end
  -- The rest is a create spec: validate it once, before any attempt.
  local base = {}
  for k, v in pairs(spec) do if not LAUNCH_KEYS[k] then base[k] = v end end
  if #problems == 0 then
    base.gpu_type = type(candidates[1]) == "string" and candidates[1] or "x"
    local ok, info = native.call("validate_instance", base)
    base.gpu_type = nil
    if not ok then
      for _, e in ipairs(info.errors or {}) do problems[#problems + 1] = e end
      if #(info.errors or {}) == 0 then problems[#problems + 1] = { field = "spec", message = info.message } end
    end
  end
  if #problems > 0 then
    local msgs = {}
    for i, p in ipairs(problems) do msgs[i] = p.message end
    raise("launch", { code = "validation_error", message = concat(msgs, "; "), errors = problems })
  end

  -- Price every candidate from the catalogue (a read; goes through in every mode).
  local filter = { gpu_count = base.gpu_count }
  if type(base.region) == "string" and base.region ~= "auto" and base.region ~= "" then filter.region = base.region end
  local ok, types = native.call("instance_types", filter)
  if not ok then raise("launch", types) end
  local plan = {}
  for i, c in ipairs(candidates) do
    local entry = { candidate = c, index = i }
    for _, t in ipairs(types) do
      if t.id == c then entry.kind = "instance_type_id"; entry.price = t.hourly_rate; break end
    end
    if not entry.kind then
      -- A GPU type: the server picks its cheapest config in stock. Keep every matching config,
      -- cheapest first (as the server orders them), to price the candidate and to stay under max_price.
      local configs = {}
      for _, t in ipairs(types) do
        if t.gpu_type == c and type(t.hourly_rate) == "number" then configs[#configs + 1] = t end
      end
      if #configs > 0 then
        sort(configs, function(a, b)
          if a.hourly_rate ~= b.hourly_rate then return a.hourly_rate < b.hourly_rate end
          return tostring(a.id) < tostring(b.id)
        end)
        entry.kind, entry.configs = "gpu_type", configs
        entry.price, entry.dearest = configs[1].hourly_rate, configs[#configs].hourly_rate
      end
    end
    plan[i] = entry
  end
  if order == "price" then
    sort(plan, function(a, b)
      local pa, pb = a.price or huge, b.price or huge
      if pa ~= pb then return pa < pb end
      return a.index < b.index
    end)
  end
  -- cpu_cores / memory / storage narrow the configs in ways only the server can match: such a
  -- spec is created by GPU type and its real price checked after the create.
  local sized = base.cpu_cores ~= nil or base.memory ~= nil or base.storage ~= nil

  local attempts = {}
  -- One create; returns the instance when it is kept, nil when the launch should fail over.
  local function attempt(c, field, value, price)
    local req = {}
    for k, v in pairs(base) do req[k] = v end
    req[field] = value
    local by_id = field == "instance_type_id" and value ~= c and value or nil
    local cok, res = native.call("create_instance", req, true)
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
      local dok, dinfo = native.call("delete_instance", inst.id)
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

  for _, entry in ipairs(plan) do
    local c = entry.candidate
    if not entry.kind then
      attempts[#attempts + 1] = { candidate = c, outcome = "no_match", code = "not_found",
        message = "no catalogue config matches " .. c .. (filter.gpu_count and (" x" .. filter.gpu_count) or "") ..
                  (filter.region and (" in " .. filter.region) or "") }
    elseif max_price and entry.price and entry.price > max_price then
      attempts[#attempts + 1] = { candidate = c, outcome = "over_ceiling", code = "price_ceiling", price = entry.price,
        message = fmt("%s costs %.2f USD/h, over the ceiling of %.2f", c, entry.price, max_price) }
    elseif max_price and entry.kind == "gpu_type" and entry.dearest > max_price and not sized then
      -- Some configs of this GPU cost more than max_price, and the server would pick one of them
      -- when the cheaper ones are sold out: ask for the configs under the ceiling by id instead,
      -- cheapest first, so nothing over the ceiling is ever created.
      for _, t in ipairs(entry.configs) do
        if t.hourly_rate > max_price then break end
        local inst = attempt(c, "instance_type_id", t.id, t.hourly_rate)
        if inst then return inst, attempts end
      end
    else
      local inst = attempt(c, entry.kind, c, entry.price)
      if inst then return inst, attempts end
    end
  end
  local parts = {}
  for i, a in ipairs(attempts) do
    parts[i] = a.candidate .. (a.instance_type_id and (" (" .. a.instance_type_id .. ")") or "") .. " " .. a.outcome
  end
  raise("launch", { code = "no_capacity", retryable = true, attempts = attempts,
    message = "no candidate could be launched (" .. concat(parts, ", ") .. ")" })
end

---------------------------------------------------------------------------------------------------
-- help

local HELP = {
  create_instance = "create_instance(spec) -> instance\n  Validates spec (name, gpu_type | instance_type_id, region, gpu_count, cpu_cores, memory, storage,\n  template, ssh_key_id, env, startup_commands, storage_id, launch_script | launch_script_base64,\n  max_runtime_minutes, idle_shutdown_minutes) and creates one instance.\n  Raises validation_error (before any request), spend_cap, unauthorized, insufficient_credits,\n  no_capacity, launch_refused, server_error, timeout, network_error.",
  instances = "instances{search=} -> {instance...}\n  Lists instances, optionally filtered by name.",
  instance = "instance(id) -> instance\n  Gets one instance. Raises not_found.",
  instance_status = "instance_status(id) -> {id=, status=, ip=}\n  Cheap live status. Raises not_found.",
  update_instance = "update_instance(id, {max_runtime_minutes=, idle_shutdown_minutes=}) -> instance\n  Changes the auto-stop limits (5-10080 / 5-1440 minutes, or json.null to clear). Raises conflict if not live.",
  delete_instance = "delete_instance(id) -> true\n  Terminates the instance. Raises not_found.",
  wait_for = "wait_for(id_or_instance, {status=\"running\", timeout=600, interval=1}) -> {id=, status=, ip=}\n  Polls the status with backoff until it is reached. Raises timeout, unexpected_status (terminated/failed),\n  interrupted (Ctrl-C).",
  instance_types = "instance_types{gpu_type=, region=, gpu_count=, max_price=} -> {type...}\n  The catalogue, sorted by hourly_rate ascending.",
  launch = "launch{name=, candidates={...}, order=\"listed\"|\"price\", max_price=, <create fields>} -> instance, attempts\n  Tries candidates (GPU types or instance type ids) in order or cheapest first, skips those over\n  max_price, asks for a GPU type whose configs straddle max_price config by config under it, fails over\n  on no_capacity / sold-out / launch_refused, terminates an instance whose real cost_per_hour is over\n  max_price. attempts = {{candidate=, instance_type_id=, outcome=, code=, price=}...}.\n  Raises no_capacity (with .attempts) when every candidate fails; validation/auth/credit errors at once.",
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
