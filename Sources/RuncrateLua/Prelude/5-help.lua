-- The runcrate prelude, part 5: help, and the module table returned.

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
