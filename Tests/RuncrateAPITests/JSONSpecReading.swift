import Foundation
@testable import RuncrateAPI

// Create specs and instance updates read from loosely typed JSON, recording every type error with
// the rules: how the validation tests state their cases. Scripts' specs are read by the Lua module.

extension PreparedCreateInstance {
    /// Validates a loosely typed spec (from a script): wrong types, non-integers and unknown fields
    /// are reported together with the §3 rules. `env_vars` may be the wire array (items may carry
    /// `"secret": true`) or an object (sent sorted by key).
    init(json: JSONValue) throws(RuncrateError) {
        var v = Validator()
        let request = CreateSpecReader.read(json, into: &v)
        if let request { CreateRules.validate(request, into: &v) }
        try v.finish()
        guard let request else { throw RuncrateError.validation(v.errors) }
        try self.init(request)
    }
}

extension UpdateInstanceRequest {
    /// Reads `{max_runtime_minutes=, idle_shutdown_minutes=}`; JSON `null` clears a limit.
    init(json: JSONValue) throws(RuncrateError) {
        var v = Validator()
        var request = UpdateInstanceRequest()
        guard case .object(let members) = json else {
            throw RuncrateError.validation([FieldError(path: [], message: "expected an object (got \(json.shortDescription))")])
        }
        let known = ["max_runtime_minutes", "idle_shutdown_minutes"]
        for key in members.keys.sorted() where !known.contains(key) {
            let hint = Suggestion.closest(to: key, in: known).map { " (did you mean '\($0)'?)" } ?? ""
            v.add(key, "is not a field of an instance update\(hint)")
        }
        func patch(_ key: String) -> Patch<Int>? {
            switch members[key] {
            case nil: return nil
            case .null?: return .clear
            case let value?: return CreateSpecReader.readInteger(value, [.key(key)], into: &v).map(Patch.set)
            }
        }
        request.maxRuntimeMinutes = patch("max_runtime_minutes")
        request.idleShutdownMinutes = patch("idle_shutdown_minutes")
        if v.errors.isEmpty { request.validate(into: &v) }
        try v.finish()
        self = request
    }
}

/// Reads a create spec out of JSON, recording type errors instead of stopping at the first.
enum CreateSpecReader {
    static let stringFields = [
        "name", "gpu_type", "instance_type_id", "region", "template", "ssh_key_id", "storage_id", "launch_script",
        "launch_script_base64",
    ]
    static let integerFields = [
        "gpu_count", "cpu_cores", "memory", "storage", "max_runtime_minutes", "idle_shutdown_minutes",
    ]
    static let knownFields = stringFields + integerFields + ["env_vars", "startup_commands", "retry", "max_wait"]

    static func read(_ json: JSONValue, into v: inout Validator) -> CreateInstanceRequest? {
        guard case .object(let members) = json else {
            v.add([], "expected the create spec to be an object (got \(json.shortDescription))")
            return nil
        }
        var request = CreateInstanceRequest()
        for key in members.keys.sorted() where !knownFields.contains(key) {
            let hint = Suggestion.closest(to: key, in: knownFields).map { " (did you mean '\($0)'?)" } ?? ""
            v.add(key, "is not a field of a create request\(hint)")
        }
        func string(_ key: String) -> String? {
            guard let value = members[key], value != .null else { return nil }
            guard case .string(let text) = value else {
                v.add(key, "must be a string (got \(value.shortDescription))")
                return nil
            }
            return text
        }
        func integer(_ key: String) -> Int? {
            guard let value = members[key], value != .null else { return nil }
            return readInteger(value, [.key(key)], into: &v)
        }
        request.name = string("name")
        request.gpuType = string("gpu_type")
        request.instanceTypeID = string("instance_type_id")
        request.region = string("region")
        request.template = string("template")
        request.sshKeyID = string("ssh_key_id")
        request.storageID = string("storage_id")
        request.launchScript = string("launch_script")
        request.launchScriptBase64 = string("launch_script_base64")
        request.gpuCount = integer("gpu_count")
        request.cpuCores = integer("cpu_cores")
        request.memory = integer("memory")
        request.storage = integer("storage")
        request.maxRuntimeMinutes = integer("max_runtime_minutes")
        request.idleShutdownMinutes = integer("idle_shutdown_minutes")
        switch members["retry"] {
        case nil, .null?: break
        case .bool(let flag)?: request.retry = flag
        case let other?: v.add("retry", "must be a boolean (got \(other.shortDescription))")
        }
        switch members["max_wait"] {
        case nil, .null?: break
        case .int(let seconds)?: request.maxWait = Double(seconds)
        case .double(let seconds)?: request.maxWait = seconds
        case let other?: v.add("max_wait", "must be a number of seconds >= 0 (got \(other.shortDescription))")
        }
        if let env = members["env_vars"], env != .null { request.envVars = readEnv(env, into: &v) }
        if let commands = members["startup_commands"], commands != .null {
            if case .array(let items) = commands {
                var list: [String] = []
                for (index, item) in items.enumerated() {
                    if case .string(let text) = item {
                        list.append(text)
                    } else {
                        v.add([.key("startup_commands"), .index(index)], "must be a string (got \(item.shortDescription))")
                    }
                }
                request.startupCommands = list
            } else {
                v.add("startup_commands", "must be an array of strings (got \(commands.shortDescription))")
            }
        }
        return request
    }

    /// An integer: `2` and `2.0` are accepted, `2.5` and `"2"` are not.
    static func readInteger(_ value: JSONValue, _ path: [PathComponent], into v: inout Validator) -> Int? {
        switch value {
        case .int(let number): return number
        case .double(let number) where number.rounded() == number && abs(number) < 9e15: return Int(number)
        default:
            v.add(path, "must be an integer (got \(value.shortDescription))")
            return nil
        }
    }

    static func readEnv(_ env: JSONValue, into v: inout Validator) -> [EnvVar]? {
        switch env {
        case .object(let map):
            var vars: [EnvVar] = []
            for key in map.keys.sorted() {
                if case .string(let value) = map[key]! {
                    vars.append(EnvVar(key: key, value: value))
                } else {
                    v.add([.key("env_vars"), .key(key)], "must be a string (got \(map[key]!.shortDescription))")
                }
            }
            return vars
        case .array(let items):
            var vars: [EnvVar] = []
            for (index, item) in items.enumerated() {
                let base: [PathComponent] = [.key("env_vars"), .index(index)]
                guard case .object(let fields) = item else {
                    v.add(base, "must be an object {key, value} (got \(item.shortDescription))")
                    continue
                }
                for name in fields.keys.sorted() where !["key", "value", "secret"].contains(name) {
                    v.add(base + [.key(name)], "is not a field of an env var (expected key, value, secret)")
                }
                var key: String?
                var value: String?
                switch fields["key"] {
                case .string(let text)?: key = text
                case nil, .null?: v.add(base + [.key("key")], "is required")
                case let other?: v.add(base + [.key("key")], "must be a string (got \(other.shortDescription))")
                }
                switch fields["value"] {
                case .string(let text)?: value = text
                case nil, .null?: v.add(base + [.key("value")], "is required")
                case let other?: v.add(base + [.key("value")], "must be a string (got \(other.shortDescription))")
                }
                var secret = false
                switch fields["secret"] {
                case .bool(let flag)?: secret = flag
                case nil, .null?: break
                case let other?: v.add(base + [.key("secret")], "must be a boolean (got \(other.shortDescription))")
                }
                // Keep positions stable so later paths still match the caller's indices.
                vars.append(EnvVar(key: key ?? "__missing_\(index)", value: value ?? "", secret: secret))
            }
            return vars
        default:
            v.add("env_vars", "must be an array of {key, value} objects or an object (got \(env.shortDescription))")
            return nil
        }
    }
}
