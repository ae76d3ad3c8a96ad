import CLua
import LuaBridge
import RuncrateAPI

/// A create spec read from Lua and prepared by the client, with what the planner and logs need.
struct CreateSpec {
    var prepared: PreparedCreateInstance
    var request: CreateInstanceRequest { prepared.request }
}

extension SpecReader {
    static let createFields = [
        "name", "gpu_type", "instance_type_id", "region", "gpu_count", "cpu_cores", "memory", "storage",
        "template", "ssh_key_id", "env", "env_vars", "startup_commands", "storage_id", "launch_script",
        "launch_script_base64", "max_runtime_minutes", "idle_shutdown_minutes", "retry", "max_wait",
    ]

    /// Reads the create spec at `index` strictly, then runs the client's §3 rules on what was read.
    /// Throws one `validation_error` listing every problem.
    mutating func createSpec(at index: Int32, argument: String = "spec") throws(ErrorInfo) -> CreateSpec {
        guard L.type(at: index) == .table, !isSecret(index) else {
            throw .validation(field: argument, "\(argument): table expected, got \(L.shown(index))")
        }
        guard !L.hasMetatable(index) else {
            throw .validation(field: argument, "\(argument): plain table expected, got a table with a metatable")
        }
        var request = CreateInstanceRequest()
        var envLabels: [String] = []
        var envIsMap = false
        var sawEnv = false
        fields(of: index, prefix: "", known: Self.createFields) { r, key in
            switch key {
            case "name": request.name = r.string(key)
            case "gpu_type": request.gpuType = r.string(key)
            case "instance_type_id": request.instanceTypeID = r.string(key)
            case "region": request.region = r.string(key)
            case "gpu_count": request.gpuCount = r.integer(key)
            case "cpu_cores": request.cpuCores = r.integer(key)
            case "memory": request.memory = r.integer(key)
            case "storage": request.storage = r.integer(key)
            case "template": request.template = r.string(key)
            case "ssh_key_id": request.sshKeyID = r.string(key)
            case "startup_commands": request.startupCommands = r.stringList(key)
            case "storage_id": request.storageID = r.string(key)
            case "launch_script": request.launchScript = r.string(key)
            case "launch_script_base64": request.launchScriptBase64 = r.string(key)
            case "max_runtime_minutes": request.maxRuntimeMinutes = r.integer(key)
            case "idle_shutdown_minutes": request.idleShutdownMinutes = r.integer(key)
            case "retry": request.retry = r.boolean(key)
            case "max_wait": request.maxWait = r.seconds(key)
            case "env", "env_vars":
                if sawEnv {
                    r.fail(key, "\(key): give env or env_vars, not both")
                    return
                }
                sawEnv = true
                if let (vars, labels, isMap) = r.env(key) {
                    request.envVars = vars
                    envLabels = labels
                    envIsMap = isMap
                }
            default: break
            }
        }
        let strictErrors = errors
        // env and startup_commands come back with every item that could be read even when some
        // could not (bad items are left out or stand in as valid placeholders), so the client's
        // rules still check the rest: only fields that could not be read at all silence them.
        var partlyRead: Set<String> = []
        if request.envVars != nil { partlyRead.formUnion(["env", "env_vars"]) }
        if request.startupCommands != nil { partlyRead.insert("startup_commands") }
        let failedFields = failed.subtracting(partlyRead)
        let prepared: PreparedCreateInstance
        do {
            prepared = try PreparedCreateInstance(request)
        } catch {
            let clientErrors = error.fieldErrors.compactMap { fe -> LuaFieldError? in
                let name = Self.luaField(fe, envLabels: envLabels, envIsMap: envIsMap)
                let root = name.split(separator: ".").first.map(String.init) ?? name
                if failedFields.contains(root) { return nil }
                // A rule about several fields is moot when one of them could not be read.
                if !Set(fe.concerning).isDisjoint(with: failedFields) { return nil }
                return LuaFieldError(field: name, message: fe.path.isEmpty ? fe.message : "\(name) \(fe.message)")
            }
            let all = strictErrors + clientErrors
            if all.isEmpty { throw ErrorInfo(error) }
            throw ErrorInfo.validation(all)
        }
        if !strictErrors.isEmpty { throw ErrorInfo.validation(strictErrors) }
        return CreateSpec(prepared: prepared)
    }

    /// The Lua name of a client field path: `env_vars.0.key` becomes `env.HF_HOME` or `env.1.key`.
    static func luaField(_ fe: FieldError, envLabels: [String], envIsMap: Bool) -> String {
        if fe.path.isEmpty {
            // A rule about the spec as a whole is named by the first field it concerns.
            return fe.concerning.first ?? "spec"
        }
        if case .key("startup_commands") = fe.path[0], fe.path.count >= 2, case .index(let i) = fe.path[1] {
            return "startup_commands.\(i + 1)"
        }
        guard case .key("env_vars")? = fe.path.first else { return fe.field }
        guard fe.path.count >= 2, case .index(let i) = fe.path[1], i < envLabels.count else {
            return (["env"] + fe.path.dropFirst().map(\.description)).joined(separator: ".")
        }
        if envIsMap { return envLabels[i] }
        return ([envLabels[i]] + fe.path.dropFirst(2).map(\.description)).joined(separator: ".")
    }

    /// `env` as a map (`{NAME=value}`, sent sorted by key) or the wire list (`{{key=, value=}}`).
    /// Returns the variables and, for each, how the script named it; nil only when the table as a
    /// whole cannot be read. A variable whose value is bad is still returned (with an empty value,
    /// its error already recorded) so its name gets the client's checks too; one without a
    /// readable name is left out.
    mutating func env(_ field: String) -> ([EnvVar], [String], Bool)? {
        guard checkPlainTable(-1, field: field, what: "table of NAME=value pairs or {key=, value=} list") else { return nil }
        let t = L.absindex(-1)
        let n = L.rawlen(t)
        var stringKeys: [String] = []
        var otherKeys: [String] = []
        L.forEachRaw(t) {
            if L.type(at: -2) == .string { stringKeys.append(L.tostring(-2) ?? "") }
            else if let i = L.tointeger(-2), L.isinteger(-2), i >= 1, i <= n {}
            else { otherKeys.append(L.shown(-2)) }
        }
        if !otherKeys.isEmpty {
            fail(field, "\(field): keys must be variable names or list positions, got \(otherKeys.sorted()[0])")
            return nil
        }
        if n > 0 && !stringKeys.isEmpty {
            fail(field, "\(field): either a map {NAME=value} or a list {{key=, value=}}, not both")
            return nil
        }
        var vars: [EnvVar] = []
        var labels: [String] = []
        if n == 0 {
            for key in stringKeys.sorted() {
                let label = "\(field).\(key)"
                L.rawget(t, field: key)
                let (value, secret) = stringish(label) ?? ("", false)
                vars.append(EnvVar(key: key, value: value, secret: secret))
                labels.append(label)
                L.pop()
            }
            return (vars, labels, true)
        }
        for i in 1...n {
            let label = "\(field).\(i)"
            L.rawgeti(t, lua_Integer(i))
            defer { L.pop() }
            guard checkPlainTable(-1, field: label, what: "{key=, value=} table") else { continue }
            var key: String?
            var value: (String, Bool)?
            var secretFlag = false
            var readable = true
            let before = errors.count
            fields(of: -1, prefix: label, known: ["key", "value", "secret"]) { r, k in
                switch k {
                case "key":
                    key = r.string("\(label).key")
                    if key == nil { readable = false }
                case "value": value = r.stringish("\(label).value")
                case "secret": secretFlag = r.boolean("\(label).secret") ?? false
                default: break
                }
            }
            let itemHadErrors = errors.count > before
            guard let key else {
                if readable && !itemHadErrors { fail("\(label).key", "\(label).key is required") }
                continue
            }
            if value == nil && !itemHadErrors { fail("\(label).value", "\(label).value is required") }
            let (v, s) = value ?? ("", false)
            if s || secretFlag { secrets.add(v) }
            vars.append(EnvVar(key: key, value: v, secret: s || secretFlag))
            labels.append(label)
        }
        return (vars, labels, false)
    }
}

extension SpecReader {
    /// A duration (`max_wait`): a finite number >= 0 (the value is on top of the stack).
    mutating func seconds(_ field: String) -> Double? {
        guard L.type(at: -1) == .number, let d = L.tonumber(-1), d.isFinite, d >= 0 else {
            fail(field, "\(field): a number of seconds >= 0 expected, got \(L.shown(-1))")
            return nil
        }
        return d
    }
}
