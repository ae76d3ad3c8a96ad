-- A hyper-parameter sweep: one instance per setting, names and env templated per run.
--   runcrate-lua scripts/recipes/sweep.lua
local rc = require "runcrate"

local sweep = {
  { lr = "1e-4", batch = 32 },
  { lr = "3e-4", batch = 32 },
  { lr = "1e-3", batch = 64 },
}
local launched = {}
for i, p in ipairs(sweep) do
  local vars = { i = i, lr = p.lr, batch = p.batch, project = "resnet" }
  local inst = rc.launch{
    name = rc.template("{{project}}-sweep-{{i}}", vars),
    candidates = { "rtx-4090", "l40s" },
    max_price = 1.50,
    gpu_count = 1,
    env = {
      LR = p.lr,
      BATCH = p.batch,                                      -- numbers are sent as strings
      RUN_NAME = rc.template("{{project}}-lr{{lr}}-b{{batch}}", vars),
      WANDB_API_KEY = rc.getenv("WANDB_API_KEY", { secret = true, default = "wandb-demo-key" }),
    },
    startup_commands = { "nvidia-smi", rc.template("python train.py --lr {{lr}} --batch {{batch}}", vars) },
    max_runtime_minutes = 240,
  }
  launched[#launched + 1] = inst
  print(i, inst.name, inst.gpu_type, inst.cost_per_hour)
end
return launched
