-- The runcrate prelude, part 2 (after 1-core.lua, in one chunk): instance tables and the bindings.

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
