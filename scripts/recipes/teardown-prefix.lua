-- Terminate every live instance whose name starts with a prefix.
-- Run it with --dry-run first: the plan lists each delete, and nothing is touched.
--   runcrate-lua --dry-run scripts/recipes/teardown-prefix.lua sweep-
--   runcrate-lua scripts/recipes/teardown-prefix.lua sweep-
local rc = require "runcrate"

local prefix = (arg and arg[1]) or rc.getenv("PREFIX", { required = true })
assert(#prefix >= 3, "refusing a prefix shorter than 3 characters: '" .. prefix .. "'")

local doomed = {}
for _, inst in ipairs(rc.instances{ search = prefix }) do
  local final = inst.status == "terminated" or inst.status == "failed"
  if inst.name and inst.name:sub(1, #prefix) == prefix and not final then
    doomed[#doomed + 1] = inst
  end
end
print(string.format("%d instance(s) named %s* (%s)", #doomed, prefix, rc.mode))
for _, inst in ipairs(doomed) do
  rc.delete_instance(inst.id)
  print((rc.mode == "dry-run" and "would terminate " or "terminated ") .. inst.id, inst.name, inst.cost_per_hour)
end
return #doomed
