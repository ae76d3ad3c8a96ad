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
--   native.did_you_mean(word, names) -> " — did you mean 'x'?" or ""
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
local function did_you_mean(word, known) return native.did_you_mean(tostring(word), known) end

--- Raises validation_error for a key of `opts` that is not in the list `known`.
--- The keys of `opts` not in the list `known`, as {field=, message=} problems of `what` (the field
--- is `k`, or `prefix.k`).
local function unknown_options(what, opts, known, prefix)
  local set, problems = {}, {}
  for _, k in ipairs(known) do set[k] = true end
  for k in pairs(opts) do
    if not set[k] then
      problems[#problems + 1] = { field = (prefix and (prefix .. ".") or "") .. tostring(k),
        message = what .. ": unknown option '" .. tostring(k) .. "'" .. did_you_mean(k, known) ..
          " (expected " .. concat(known, ", ") .. ")" }
    end
  end
  return problems
end

local function check_options(func, opts, known)
  local p = unknown_options(func, opts, known)[1]
  if p then argerror(func, p.field, p.message) end
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
