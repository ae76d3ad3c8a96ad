import Foundation

/// A validated `POST /instances` body (§3). `validate` reports every offending field at once.
struct CreateSpec {
    var name = ""
    var gpuType: String?
    var instanceTypeID: String?
    var region: String?
    var gpuCount: Int?
    var cpuCores: Int?
    var memory: Int?
    var storage: Int?
    var template: String?
    var sshKeyID: String?
    var envVars: [InstanceRecord.EnvVar] = []
    var startupCommands: [String] = []
    var storageID: String?
    var hasLaunchScript = false
    var maxRuntimeMinutes: Int?
    var idleShutdownMinutes: Int?

    static func validate(_ body: [(String, JSON)], state: SandboxState, env: EnvironmentRecord) throws -> CreateSpec {
        var spec = CreateSpec()
        var problems: [FieldProblem] = []
        func value(_ key: String) -> JSON? {
            guard let v = body.first(where: { $0.0 == key })?.1, !v.isNull else { return nil }
            return v
        }
        func string(_ key: String) -> String? {
            guard let v = value(key) else { return nil }
            guard let s = v.stringValue else { problems.append(FieldProblem(field: key, message: "must be a string")); return nil }
            return s
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) -> Int? {
            guard let v = value(key) else { return nil }
            guard let n = v.intValue, range.contains(n) else {
                let bound = range.upperBound == Int.max ? ">= \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
                problems.append(FieldProblem(field: key, message: "must be an integer \(bound) (got \(v.serialized()))"))
                return nil
            }
            return n
        }

        if let name = string("name") {
            if name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append(FieldProblem(field: "name", message: "must not be empty")) }
            else if name.count > 64 { problems.append(FieldProblem(field: "name", message: "must be at most 64 characters")) }
            spec.name = name
        } else if value("name") == nil {
            problems.append(FieldProblem(field: "name", message: "is required"))
        }
        spec.gpuType = string("gpu_type")
        spec.instanceTypeID = string("instance_type_id")
        switch (value("gpu_type"), value("instance_type_id")) {
        case (nil, nil): problems.append(FieldProblem(field: "gpu_type", message: "provide gpu_type or instance_type_id"))
        case (.some, .some): problems.append(FieldProblem(field: "instance_type_id", message: "provide only one of gpu_type and instance_type_id"))
        default: break
        }
        if spec.gpuType?.isEmpty == true { problems.append(FieldProblem(field: "gpu_type", message: "must not be empty")) }
        if spec.instanceTypeID?.isEmpty == true { problems.append(FieldProblem(field: "instance_type_id", message: "must not be empty")) }
        spec.region = string("region")
        spec.gpuCount = integer("gpu_count", 1...Int.max)
        spec.cpuCores = integer("cpu_cores", 1...Int.max)
        spec.memory = integer("memory", 1...Int.max)
        spec.storage = integer("storage", 1...Int.max)
        spec.maxRuntimeMinutes = integer("max_runtime_minutes", 5...10080)
        spec.idleShutdownMinutes = integer("idle_shutdown_minutes", 5...1440)

        if let t = string("template"), !state.catalog.templates.contains(where: { $0.id == t }) {
            problems.append(FieldProblem(field: "template", message: "unknown template '\(t)'"))
        } else { spec.template = value("template")?.stringValue }
        if let k = string("ssh_key_id") {
            if state.sshKeys.contains(where: { $0.id == k }) { spec.sshKeyID = k }
            else { problems.append(FieldProblem(field: "ssh_key_id", message: "unknown SSH key '\(k)'")) }
        }
        if let s = string("storage_id") {
            if !state.volumes.contains(where: { $0.id == s && $0.environmentID == env.id }) {
                problems.append(FieldProblem(field: "storage_id", message: "unknown volume '\(s)'"))
            } else if let other = state.attachedInstance(of: s) {
                problems.append(FieldProblem(field: "storage_id", message: "volume '\(s)' is attached to instance '\(other)'"))
            } else { spec.storageID = s }
        }

        spec.envVars = envVars(value("env_vars"), &problems)
        if let v = value("startup_commands") {
            if let items = v.arrayValue, items.allSatisfy({ $0.stringValue != nil }) {
                spec.startupCommands = items.compactMap(\.stringValue)
            } else {
                problems.append(FieldProblem(field: "startup_commands", message: "must be an array of strings"))
            }
        }
        let script = string("launch_script")
        let script64 = string("launch_script_base64")
        if script != nil, script64 != nil {
            problems.append(FieldProblem(field: "launch_script_base64", message: "send at most one of launch_script and launch_script_base64"))
        } else if let script64, Data(base64Encoded: script64, options: .ignoreUnknownCharacters) == nil || script64.isEmpty {
            problems.append(FieldProblem(field: "launch_script_base64", message: "is not valid base64"))
        }
        spec.hasLaunchScript = script != nil || script64 != nil
        if !problems.isEmpty { throw APIError.validation(problems) }
        return spec
    }

    /// `env_vars` as the spec's array of `{key, value}` or, as the official Python SDK sends it, a map.
    private static func envVars(_ v: JSON?, _ problems: inout [FieldProblem]) -> [InstanceRecord.EnvVar] {
        guard let v else { return [] }
        var vars: [InstanceRecord.EnvVar] = []
        if let items = v.arrayValue {
            for (i, item) in items.enumerated() {
                guard let key = item["key"]?.stringValue, let value = item["value"]?.stringValue else {
                    problems.append(FieldProblem(field: "env_vars.\(i)", message: "must be {\"key\": string, \"value\": string}"))
                    continue
                }
                vars.append(.init(key: key, value: value))
            }
        } else if let pairs = v.objectPairs {
            for (key, value) in pairs {
                guard let s = value.stringValue else {
                    problems.append(FieldProblem(field: "env_vars.\(key)", message: "must be a string"))
                    continue
                }
                vars.append(.init(key: key, value: s))
            }
        } else {
            problems.append(FieldProblem(field: "env_vars", message: "must be an array of {key, value} objects"))
            return []
        }
        var seen = Set<String>()
        for (i, e) in vars.enumerated() {
            if e.key.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) == nil {
                problems.append(FieldProblem(field: "env_vars.\(i).key", message: "'\(e.key)' is not a valid variable name"))
            } else if !seen.insert(e.key).inserted {
                problems.append(FieldProblem(field: "env_vars.\(i).key", message: "duplicate key '\(e.key)'"))
            }
        }
        return vars
    }

    /// Problems when the requested cpu/memory/storage exceed what an instance type has.
    func sizeProblems(against t: Catalog.InstanceType) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if let c = cpuCores, c > t.cpu_cores { problems.append(FieldProblem(field: "cpu_cores", message: "at most \(t.cpu_cores) for \(t.id)")) }
        if let m = memory, Double(m) > t.memory_gb { problems.append(FieldProblem(field: "memory", message: "at most \(Int(t.memory_gb)) GB for \(t.id)")) }
        if let s = storage, Double(s) > t.storage_gb { problems.append(FieldProblem(field: "storage", message: "at most \(Int(t.storage_gb)) GB for \(t.id)")) }
        return problems
    }
}
