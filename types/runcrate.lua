---@meta runcrate
-- LuaCATS annotations for the `runcrate` module of runcrate-lua (see SCRIPTING.md).
-- Add this folder to `workspace.library` in .luarc.json for completion and checks.

---@alias runcrate.Mode "live"|"sandbox"|"dry-run"
---@alias runcrate.ErrorCode
---| "validation_error" | "bad_request" | "unauthorized" | "forbidden" | "insufficient_credits"
---| "not_found" | "conflict" | "rate_limited" | "no_capacity" | "sold_out" | "launch_refused"
---| "server_error" | "timeout" | "network_error" | "invalid_response" | "configuration_error"
---| "create_outcome_unknown" | "cancelled" | "price_ceiling" | "spend_cap" | "unexpected_status"
---| "interrupted" | "missing_env" | "json_error"

---An opaque value sent to the API as is, shown as `***` everywhere.
---@class runcrate.Secret

---@class runcrate.FieldError
---@field field string   e.g. "gpu_count", "env.HF_TOKEN", "startup_commands.2"
---@field message string the whole sentence, naming the field

---Every failure the module raises. `tostring(err)` gives `script.lua:12: runcrate.fn: code: message`.
---@class runcrate.Error
---@field code runcrate.ErrorCode|string
---@field message string
---@field status integer? HTTP status
---@field retryable boolean
---@field errors runcrate.FieldError[]
---@field request_id string?
---@field server_code string?
---@field retry_after number?
---@field attempts runcrate.Attempt[]? for launch errors
---@field rounds integer? for launch's no_capacity: how many rounds were tried

---@class runcrate.EnvVar
---@field key string
---@field value string|number|runcrate.Secret
---@field secret boolean?

---@class runcrate.CreateSpec
---@field name string required, 1-64 characters
---@field gpu_type string? exactly one of gpu_type / instance_type_id
---@field instance_type_id string?
---@field region string?
---@field gpu_count integer?
---@field cpu_cores integer?
---@field memory integer? GB
---@field storage integer? GB
---@field template string?
---@field ssh_key_id string?
---@field env table<string, string|number|runcrate.Secret>|runcrate.EnvVar[]?
---@field env_vars runcrate.EnvVar[]?
---@field startup_commands string[]?
---@field storage_id string?
---@field launch_script string|runcrate.Secret?
---@field launch_script_base64 string?
---@field max_runtime_minutes integer? 5-10080
---@field idle_shutdown_minutes integer? 5-1440
---@field retry boolean? client-side, never sent: false = no waiting retries (the create is sent at most once)
---@field max_wait number? client-side, never sent: seconds >= 0 this call may wait in all between attempts (default 60)

---@class runcrate.LaunchSpec: runcrate.CreateSpec
---@field candidates string[] GPU types or instance type ids, in order of preference
---@field order "listed"|"price"?
---@field max_price number? USD/h ceiling per instance
---@field retry runcrate.LaunchRetry? run the candidate list again until one is created or duration is up

---@class runcrate.LaunchRetry
---@field duration number seconds to keep trying
---@field interval number? first wait between rounds, seconds (default 30; grows by half each round up to 5 minutes)

---@class runcrate.Attempt
---@field candidate string
---@field instance_type_id string? the config asked for, when a GPU type was tried config by config under max_price
---@field outcome "created"|"no_capacity"|"sold_out"|"launch_refused"|"over_ceiling"|"price_ceiling"|"no_match"
---@field code string?
---@field price number?
---@field message string?
---@field id string?
---@field round integer? which retry round made this attempt (1 without retry)

---@class runcrate.Instance
---@field id string
---@field name string?
---@field status string? kept current by every call that learns it (a delete sets "terminated")
---@field gpu_type string?
---@field gpu_count integer?
---@field cpu_cores integer?
---@field memory integer?
---@field storage integer?
---@field region string?
---@field ip string?
---@field os_image string?
---@field cost_per_hour number?
---@field cost_per_hour_max number? dry run only: the dearest catalogue config a `gpu_type` create could get
---@field created_at string?
---@field deployed_at string?
---@field max_runtime_minutes integer?
---@field idle_shutdown_minutes integer?
---@field stop_reason string?
---@field [string] any every other field the server sent
local Instance = {}
---Keeps the instance when a `<close>` scope is left by an error (a `--timeout`, the memory limit and Ctrl-C count as errors: unkept instances are terminated).
---@return runcrate.Instance
function Instance:keep() end
---@param opts runcrate.WaitOptions?
---@return runcrate.Status
function Instance:wait(opts) end
---@return true
function Instance:terminate() end
---@return runcrate.Instance
function Instance:refresh() end
---The ssh command line for a running instance (raises conflict while it has no IP).
---@return string
function Instance:ssh_command() end

---@class runcrate.Status
---@field id string
---@field status string
---@field ip string?

---@class runcrate.WaitOptions
---@field status "running"|"deployed"|"creating"|"pending"|"deploying"|"awaiting_provider"|"starting"|"terminated"|"failed"|"planned"? default "running"
---@field timeout number? seconds, default 600
---@field interval number? first poll interval, default 1
---@field quiet boolean?

---@class runcrate.InstanceType
---@field id string
---@field gpu_type string
---@field gpu_count integer
---@field cpu_cores integer?
---@field memory_gb number?
---@field storage_gb number?
---@field region string
---@field deployment_type string?
---@field hourly_rate number

---@class runcrate
---@field mode runcrate.Mode
---@field version string
local runcrate = {}

---Validates `spec` and creates one instance. A sold-out answer (503 with `Retry-After`) is waited
---out and sent again within `max_wait` seconds in all (default 60; `retry = false`: not at all);
---each wait of 3 s or more is announced on stderr; `--timeout` and Ctrl-C end the wait.
---@param spec runcrate.CreateSpec
---@return runcrate.Instance
function runcrate.create_instance(spec) end

---@param opts {search: string?}?
---@return runcrate.Instance[]
function runcrate.instances(opts) end

---@param id string|runcrate.Instance
---@return runcrate.Instance
function runcrate.instance(id) end

---@param id string|runcrate.Instance
---@return runcrate.Status
function runcrate.instance_status(id) end

---@param id string|runcrate.Instance
---@param changes {max_runtime_minutes: integer|table?, idle_shutdown_minutes: integer|table?}
---@return runcrate.Instance
function runcrate.update_instance(id, changes) end

---@param id string|runcrate.Instance
---@return true
function runcrate.delete_instance(id) end

---Polls the status until it is reached; raises timeout, unexpected_status or interrupted.
---@param target string|runcrate.Instance
---@param opts runcrate.WaitOptions?
---@return runcrate.Status
function runcrate.wait_for(target, opts) end

---The catalogue, cheapest first.
---@param filter {gpu_type: string?, region: string?, gpu_count: integer?, max_price: number?}?
---@return runcrate.InstanceType[]
function runcrate.instance_types(filter) end

---Tries candidates in order (or cheapest first), with a price ceiling and failover.
---@param spec runcrate.LaunchSpec
---@return runcrate.Instance instance
---@return runcrate.Attempt[] attempts
function runcrate.launch(spec) end

---@return table[]
function runcrate.ssh_keys() end
---@param spec {name: string, public_key: string, type: string?}
---@return table
function runcrate.create_ssh_key(spec) end
---@param id string
---@return true
function runcrate.delete_ssh_key(id) end

---@param opts {search: string?}?
---@return table[]
function runcrate.volumes(opts) end
---@param id string
---@return table
function runcrate.volume(id) end
---@param spec {name: string, size_gb: integer, region: string}
---@return table
function runcrate.create_volume(spec) end
---@param id string
---@param size_gb integer
---@return table
function runcrate.resize_volume(id, size_gb) end
---@param id string
---@return true|table
function runcrate.delete_volume(id) end
---@return {id: string, name: string, provider: string}[]
function runcrate.volume_regions() end

---@param opts {search: string?, category: string?, page: integer?, page_size: integer?}?
---@return table[]
function runcrate.templates(opts) end
---@return table[]
function runcrate.environments() end
---@param spec {name: string}|string
---@return table
function runcrate.create_environment(spec) end
---@return {creditsBalance: number, activeUsageCost: number}
function runcrate.balance() end

---`{{name}}` substitution; a missing variable raises validation_error.
---@param text string|runcrate.Secret
---@param vars table?
---@return string|runcrate.Secret
function runcrate.template(text, vars) end

---@param value string|number
---@return runcrate.Secret
function runcrate.secret(value) end

---@param name string
---@param opts {required: boolean?, secret: boolean?, default: string?}?
---@return string|runcrate.Secret|nil
function runcrate.getenv(name, opts) end

---@param seconds number
function runcrate.sleep(seconds) end

---Writes a `[runcrate]` line on stderr, secrets redacted.
---@param ... any
function runcrate.log(...) end

---Prints the contract of one function, or the list.
---@param f function|string?
function runcrate.help(f) end

---@param v any
---@return boolean
function runcrate.is_error(v) end

---@param v any
---@return boolean
function runcrate.is_secret(v) end

runcrate.json = {}
runcrate.json.null = {}
---@param v any
---@param opts {indent: string|boolean?}?
---@return string
function runcrate.json.encode(v, opts) end
---@param s string
---@return any
function runcrate.json.decode(s) end
---@param t table?
---@return table
function runcrate.json.array(t) end

return runcrate
