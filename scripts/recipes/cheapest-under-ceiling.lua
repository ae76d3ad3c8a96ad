-- The cheapest GPU under a price ceiling, across every region.
-- Lists the catalogue configs of the wanted GPU types under the ceiling, then launches the cheapest
-- one that is really available (sold-out configs are only discovered by trying).
--   runcrate-lua scripts/recipes/cheapest-under-ceiling.lua [max_price] [gpu_type...]
local rc = require "runcrate"

local args = arg or {}
local ceiling = tonumber(args[1] or rc.getenv("MAX_PRICE", { default = "3.00" }))
local wanted = {}
for i = 2, #args do wanted[args[i]] = true end
if next(wanted) == nil then wanted = { ["h100-sxm"] = true, ["a100-80gb"] = true } end

local candidates = {}
for _, t in ipairs(rc.instance_types{ gpu_count = 1, max_price = ceiling }) do
  if wanted[t.gpu_type] then
    candidates[#candidates + 1] = t.id
    print(string.format("  %-34s %-10s %-13s %5.2f USD/h", t.id, t.gpu_type, t.region, t.hourly_rate))
  end
end
assert(#candidates > 0, "no config of the wanted GPUs is under " .. ceiling .. " USD/h")

local inst, attempts = rc.launch{
  name = "cheapest-" .. os.time(), candidates = candidates, order = "price", max_price = ceiling,
  max_runtime_minutes = 120,
}
print(string.format("launched %s: %s in %s at %.2f USD/h after %d attempt(s)",
  inst.name, inst.gpu_type, tostring(inst.region), inst.cost_per_hour, #attempts))
return inst
