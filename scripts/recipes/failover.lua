-- Failover across GPU types: prefer H100, then H200, then A100; never pay more than the ceiling.
-- Prints every attempt so you can see what was sold out or too expensive.
--   runcrate-lua scripts/recipes/failover.lua
local rc = require "runcrate"

local ok, inst, attempts = pcall(rc.launch, {
  name = "failover-demo",
  candidates = { "h100-sxm", "h200", "a100-80gb" },
  max_price = 3.00,
  gpu_count = 1,
  idle_shutdown_minutes = 30,
})
if not ok then
  local err = inst
  if err.code ~= "no_capacity" then error(err) end   -- validation, auth, credits: not a capacity problem
  for _, a in ipairs(err.attempts) do print("attempt", a.candidate, a.outcome, a.price) end
  error(err)
end
for _, a in ipairs(attempts) do
  print("attempt", a.candidate, a.outcome, a.price and string.format("%.2f", a.price) or "-")
end
print("got", inst.id, inst.gpu_type, inst.cost_per_hour)
rc.wait_for(inst, { timeout = 300 })
print("running at", inst.ip)
return inst
