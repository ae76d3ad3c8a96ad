-- N create_instance calls (the whole process is timed by scripts/bench).
--   runcrate-lua --dry-run scripts/bench-lua/creates.lua N          validation + planning, no mutating request
--   runcrate-lua --sandbox scripts/bench-lua/creates.lua N delete   create then delete, against the in-process sandbox
local rc = require "runcrate"
local n, delete = tonumber(arg[1]), arg[2] == "delete"
rc.instance_types{ gpu_type = "l40s" }          -- start the sandbox and warm the catalogue in every run
for i = 1, n do
  local inst = rc.create_instance{
    name = "bench-" .. i, gpu_type = "l40s", gpu_count = 1,
    env = { RUN = "bench-" .. i, LR = "3e-4" }, startup_commands = { "nvidia-smi" },
  }
  if delete then rc.delete_instance(inst.id) end
end
