-- What is running and what it costs: per instance, per GPU type, and the total per hour and day.
--   runcrate-lua scripts/recipes/cost-report.lua          (add --json for machine output)
local rc = require "runcrate"

local rows, by_gpu, total = {}, {}, 0
for _, inst in ipairs(rc.instances()) do
  if inst.status ~= "terminated" and inst.status ~= "failed" then
    local cost = tonumber(inst.cost_per_hour) or 0
    rows[#rows + 1] = inst
    local g = inst.gpu_type or "?"
    by_gpu[g] = (by_gpu[g] or 0) + cost
    total = total + cost
  end
end
table.sort(rows, function(a, b) return (a.cost_per_hour or 0) > (b.cost_per_hour or 0) end)

print(string.format("%-28s %-12s %-10s %3s %8s", "name", "status", "gpu", "n", "USD/h"))
for _, i in ipairs(rows) do
  print(string.format("%-28s %-12s %-10s %3d %8.2f", i.name or i.id, i.status or "?", i.gpu_type or "?",
    i.gpu_count or 0, i.cost_per_hour or 0))
end
local gpus = {}
for g in pairs(by_gpu) do gpus[#gpus + 1] = g end
table.sort(gpus)
for _, g in ipairs(gpus) do print(string.format("  %-12s %8.2f USD/h", g, by_gpu[g])) end
local balance = rc.balance()
print(string.format("total: %d instance(s), %.2f USD/h, %.2f USD/day; credits %.2f USD",
  #rows, total, total * 24, tonumber(balance.creditsBalance) or 0))
return { instances = #rows, hourly = math.floor(total * 100 + 0.5) / 100, by_gpu = by_gpu }
