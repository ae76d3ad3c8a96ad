import Foundation

/// Collects every problem with a request before anything is sent. Messages state what was expected
/// and what was got; paths are structured (see `FieldError`).
struct Validator {
    private(set) var errors: [FieldError] = []

    /// Records a problem; a later one for a path that already has one (a type error, then "is
    /// required") is dropped so each field is reported once.
    mutating func add(_ path: [PathComponent], _ message: String) {
        if !path.isEmpty, errors.contains(where: { $0.path == path }) { return }
        errors.append(FieldError(path: path, message: message))
    }

    mutating func add(_ key: String, _ message: String) { add([.key(key)], message) }

    /// Records a rule about the request as a whole that concerns `fields`.
    mutating func add(concerning fields: [String], _ message: String) {
        errors.append(FieldError(path: [], message: message, concerning: fields))
    }

    mutating func requiredString(_ value: String?, _ key: String, maxLength: Int? = nil) {
        guard let value else { return add(key, "is required") }
        nonEmpty(value, [.key(key)], maxLength: maxLength)
    }

    mutating func optionalString(_ value: String?, _ key: String, maxLength: Int? = nil) {
        if let value { nonEmpty(value, [.key(key)], maxLength: maxLength) }
    }

    mutating func nonEmpty(_ value: String, _ path: [PathComponent], maxLength: Int? = nil) {
        if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            add(path, "must be a non-empty string (got \(JSONValue.string(value).shortDescription))")
        } else if let maxLength, value.count > maxLength {
            add(path, "must be at most \(maxLength) characters (got \(value.count))")
        }
    }

    mutating func atLeastOne(_ value: Int?, _ key: String) {
        if let value, value < 1 { add(key, "must be an integer >= 1 (got \(value))") }
    }

    mutating func inRange(_ value: Int?, _ key: String, _ range: ClosedRange<Int>) {
        if let value, !range.contains(value) {
            add(key, "must be an integer from \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
    }

    mutating func id(_ value: String) { nonEmpty(value, [.key("id")]) }

    func finish() throws(RuncrateError) {
        if !errors.isEmpty { throw RuncrateError.validation(errors) }
    }
}

enum CreateRules {
    static let nameMaxLength = 64
    static let maxRuntimeMinutes = 5...10080
    static let idleShutdownMinutes = 5...1440
    static let envKeyPattern = "^[A-Za-z_][A-Za-z0-9_]*$"

    static func isValidEnvKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return key.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// Strict base64 (padding required); line breaks and spaces are tolerated.
    static func decodeBase64(_ text: String) -> Data? {
        let compact = text.filter { !$0.isWhitespace }
        guard !compact.isEmpty, compact.count % 4 == 0 else { return nil }
        return Data(base64Encoded: compact)
    }

    static func validate(_ request: CreateInstanceRequest, into v: inout Validator) {
        v.requiredString(request.name, "name", maxLength: nameMaxLength)
        switch (request.gpuType, request.instanceTypeID) {
        case (nil, nil): v.add(concerning: ["gpu_type", "instance_type_id"], "exactly one of gpu_type or instance_type_id is required (got neither)")
        case (.some, .some): v.add(concerning: ["gpu_type", "instance_type_id"], "exactly one of gpu_type or instance_type_id is required (got both)")
        default: break
        }
        v.optionalString(request.gpuType, "gpu_type")
        v.optionalString(request.instanceTypeID, "instance_type_id")
        v.optionalString(request.region, "region")
        v.atLeastOne(request.gpuCount, "gpu_count")
        v.atLeastOne(request.cpuCores, "cpu_cores")
        v.atLeastOne(request.memory, "memory")
        v.atLeastOne(request.storage, "storage")
        v.optionalString(request.template, "template")
        v.optionalString(request.sshKeyID, "ssh_key_id")
        v.optionalString(request.storageID, "storage_id")
        if let envVars = request.envVars {
            var firstIndex: [String: Int] = [:]
            for (index, envVar) in envVars.enumerated() {
                let path: [PathComponent] = [.key("env_vars"), .index(index), .key("key")]
                if !isValidEnvKey(envVar.key) {
                    v.add(path, "must match \(envKeyPattern) (got \(JSONValue.string(envVar.key).shortDescription))")
                } else if let first = firstIndex[envVar.key] {
                    v.add(path, "must be unique (got \"\(envVar.key)\" again; first at env_vars.\(first).key)")
                } else {
                    firstIndex[envVar.key] = index
                }
            }
        }
        if let commands = request.startupCommands {
            for (index, command) in commands.enumerated() {
                v.nonEmpty(command, [.key("startup_commands"), .index(index)])
            }
        }
        if request.launchScript != nil, request.launchScriptBase64 != nil {
            v.add(concerning: ["launch_script", "launch_script_base64"], "at most one of launch_script or launch_script_base64 may be given (got both)")
        }
        v.optionalString(request.launchScript, "launch_script")
        if let encoded = request.launchScriptBase64, decodeBase64(encoded) == nil {
            v.add("launch_script_base64", "must be valid base64 (got \(JSONValue.string(encoded).shortDescription))")
        }
        v.inRange(request.maxRuntimeMinutes, "max_runtime_minutes", maxRuntimeMinutes)
        v.inRange(request.idleShutdownMinutes, "idle_shutdown_minutes", idleShutdownMinutes)
        if let maxWait = request.maxWait {
            if !maxWait.isFinite || maxWait < 0 {
                v.add("max_wait", "must be a number of seconds >= 0 (got \(Seconds.text(maxWait)))")
            } else if request.retry == false {
                v.add("max_wait", "must not be given with retry = false, which waits for nothing (got both)")
            }
        }
    }

    static func warnings(_ request: CreateInstanceRequest) -> [String] {
        request.sshKeyID == nil ? ["no ssh_key_id given: the instance will have no SSH access"] : []
    }
}

/// A create request that passed every rule of §3. The only form `createInstance` accepts.
public struct PreparedCreateInstance: Sendable, Hashable, CustomStringConvertible {
    public let request: CreateInstanceRequest
    public var name: String { request.name ?? "" }
    /// Not errors, but worth showing (no SSH key).
    public let warnings: [String]

    public init(_ request: CreateInstanceRequest) throws(RuncrateError) {
        var v = Validator()
        CreateRules.validate(request, into: &v)
        try v.finish()
        self.request = request
        self.warnings = CreateRules.warnings(request)
    }

    /// Validates a loosely typed spec (from a script): wrong types, non-integers and unknown fields
    /// are reported together with the §3 rules. `env_vars` may be the wire array (items may carry
    /// `"secret": true`) or an object (sent sorted by key).
    public init(json: JSONValue) throws(RuncrateError) {
        var v = Validator()
        let request = CreateSpecReader.read(json, into: &v)
        if let request { CreateRules.validate(request, into: &v) }
        try v.finish()
        guard let request else { throw RuncrateError.validation(v.errors) }
        self.request = request
        self.warnings = CreateRules.warnings(request)
    }

    /// The bytes of §3 that are sent.
    public var body: JSONValue { request.wireBody() }
    /// The same with secret env values as `***`.
    public var redactedBody: JSONValue { request.wireBody(redacted: true) }

    public var description: String { "PreparedCreateInstance(\(redactedBody.serialized))" }
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

extension UpdateInstanceRequest {
    func validate(into v: inout Validator) {
        if maxRuntimeMinutes == nil, idleShutdownMinutes == nil {
            v.add([], "nothing to update: give max_runtime_minutes and/or idle_shutdown_minutes")
        }
        if case .set(let value) = maxRuntimeMinutes { v.inRange(value, "max_runtime_minutes", CreateRules.maxRuntimeMinutes) }
        if case .set(let value) = idleShutdownMinutes { v.inRange(value, "idle_shutdown_minutes", CreateRules.idleShutdownMinutes) }
    }

    /// Reads `{max_runtime_minutes=, idle_shutdown_minutes=}`; JSON `null` clears a limit.
    public init(json: JSONValue) throws(RuncrateError) {
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

enum SSHKeyRules {
    static let keyTypes = ["ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-"]

    static func validate(_ request: CreateSSHKeyRequest, into v: inout Validator) {
        v.requiredString(request.name, "name")
        v.optionalString(request.type, "type")
        guard let key = request.publicKey else { return v.add("public_key", "is required") }
        let line = key.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        let expected = "must be one OpenSSH public key line such as \"ssh-ed25519 AAAA… comment\""
        if line.contains("\n") || line.contains("\r") {
            v.add("public_key", "\(expected) (got \(line.split(whereSeparator: \.isNewline).count) lines)")
        } else if parts.count < 2 || !keyTypes.contains(where: { parts[0].hasPrefix($0) })
            || CreateRules.decodeBase64(String(parts[1])) == nil
        {
            v.add("public_key", "\(expected) (got \(JSONValue.string(line).shortDescription))")
        }
    }
}

/// Every endpoint of §2 as a prepared request. Validation happens here; the client sends the result.
public enum Endpoint {
    public static func listInstances(search: String? = nil) throws(RuncrateError) -> PreparedRequest<[Instance]> {
        var v = Validator()
        v.optionalString(search, "search")
        try v.finish()
        return PreparedRequest(
            method: "GET", path: "/instances", query: search.map { [QueryItem("search", $0)] } ?? [],
            decode: ResponseDecoding.list(Instance.self))
    }

    public static func createInstance(_ prepared: PreparedCreateInstance) -> PreparedRequest<Instance> {
        PreparedRequest(
            method: "POST", path: "/instances", body: prepared.body, redactedBody: prepared.redactedBody,
            kind: .createInstance, warnings: prepared.warnings, subject: prepared.request.summary,
            decode: ResponseDecoding.one(Instance.self))
    }

    public static func getInstance(id: String) throws(RuncrateError) -> PreparedRequest<Instance> {
        try byID("GET", "/instances", id, decode: ResponseDecoding.one(Instance.self))
    }

    /// `id` may also be the instance's unique name.
    public static func updateInstance(id: String, _ update: UpdateInstanceRequest) throws(RuncrateError) -> PreparedRequest<Instance> {
        var v = Validator()
        v.id(id)
        update.validate(into: &v)
        try v.finish()
        return PreparedRequest(
            method: "PATCH", path: "/instances/\(PathEncoding.segment(id))", body: update.wireBody(),
            decode: ResponseDecoding.one(Instance.self))
    }

    public static func deleteInstance(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/instances", id, decode: ResponseDecoding.delete)
    }

    public static func instanceStatus(id: String) throws(RuncrateError) -> PreparedRequest<InstanceStatus> {
        try byID("GET", "/instances", id, suffix: "/status", decode: ResponseDecoding.one(InstanceStatus.self))
    }

    public static func instanceTypes(_ filter: ListInstanceTypesRequest = .init()) throws(RuncrateError) -> PreparedRequest<[InstanceType]> {
        var v = Validator()
        v.optionalString(filter.gpuType, "gpu_type")
        v.optionalString(filter.region, "region")
        v.atLeastOne(filter.gpuCount, "gpu_count")
        try v.finish()
        var query: [QueryItem] = []
        if let gpuType = filter.gpuType { query.append(QueryItem("gpu_type", gpuType)) }
        if let region = filter.region { query.append(QueryItem("region", region)) }
        if let gpuCount = filter.gpuCount { query.append(QueryItem("gpu_count", String(gpuCount))) }
        return PreparedRequest(method: "GET", path: "/instances/types", query: query, decode: ResponseDecoding.list(InstanceType.self))
    }

    public static func sshKeys() -> PreparedRequest<[SSHKey]> {
        PreparedRequest(method: "GET", path: "/ssh-keys", decode: ResponseDecoding.list(SSHKey.self))
    }

    public static func createSSHKey(_ request: CreateSSHKeyRequest) throws(RuncrateError) -> PreparedRequest<SSHKey> {
        var v = Validator()
        SSHKeyRules.validate(request, into: &v)
        try v.finish()
        var normalized = request
        normalized.publicKey = request.publicKey?.trimmingCharacters(in: .whitespacesAndNewlines)
        return PreparedRequest(method: "POST", path: "/ssh-keys", body: normalized.wireBody(), decode: ResponseDecoding.one(SSHKey.self))
    }

    public static func deleteSSHKey(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/ssh-keys", id, decode: ResponseDecoding.delete)
    }

    public static func volumes(search: String? = nil) throws(RuncrateError) -> PreparedRequest<[Volume]> {
        var v = Validator()
        v.optionalString(search, "search")
        try v.finish()
        return PreparedRequest(
            method: "GET", path: "/storage", query: search.map { [QueryItem("search", $0)] } ?? [],
            decode: ResponseDecoding.list(Volume.self))
    }

    public static func createVolume(_ request: CreateVolumeRequest) throws(RuncrateError) -> PreparedRequest<Volume> {
        var v = Validator()
        v.requiredString(request.name, "name")
        if request.sizeGB == nil { v.add("size_gb", "is required") }
        v.atLeastOne(request.sizeGB, "size_gb")
        v.requiredString(request.region, "region")
        try v.finish()
        return PreparedRequest(method: "POST", path: "/storage", body: request.wireBody(), decode: ResponseDecoding.one(Volume.self))
    }

    public static func volume(id: String) throws(RuncrateError) -> PreparedRequest<Volume> {
        try byID("GET", "/storage", id, decode: ResponseDecoding.one(Volume.self))
    }

    public static func resizeVolume(id: String, sizeGB: Int) throws(RuncrateError) -> PreparedRequest<Volume> {
        var v = Validator()
        v.id(id)
        v.atLeastOne(sizeGB, "size_gb")
        try v.finish()
        return PreparedRequest(
            method: "PATCH", path: "/storage/\(PathEncoding.segment(id))", body: ["size_gb": .int(sizeGB)],
            decode: ResponseDecoding.one(Volume.self))
    }

    public static func deleteVolume(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/storage", id, decode: ResponseDecoding.delete)
    }

    public static func volumeRegions() -> PreparedRequest<[StorageRegion]> {
        PreparedRequest(method: "GET", path: "/storage/regions", decode: ResponseDecoding.list(StorageRegion.self))
    }

    public static func templates(_ request: ListTemplatesRequest = .init()) throws(RuncrateError) -> PreparedRequest<Page<Template>> {
        var v = Validator()
        v.atLeastOne(request.page, "page")
        v.atLeastOne(request.pageSize, "page_size")
        v.optionalString(request.search, "search")
        v.optionalString(request.category, "category")
        try v.finish()
        var query: [QueryItem] = []
        if let page = request.page { query.append(QueryItem("page", String(page))) }
        if let pageSize = request.pageSize { query.append(QueryItem("page_size", String(pageSize))) }
        if let search = request.search { query.append(QueryItem("search", search)) }
        if let category = request.category { query.append(QueryItem("category", category)) }
        return PreparedRequest(method: "GET", path: "/templates", query: query, decode: ResponseDecoding.page(Template.self))
    }

    public static func environments() -> PreparedRequest<[Environment]> {
        PreparedRequest(method: "GET", path: "/environments", decode: ResponseDecoding.list(Environment.self))
    }

    public static func createEnvironment(name: String) throws(RuncrateError) -> PreparedRequest<Environment> {
        var v = Validator()
        v.requiredString(name, "name")
        try v.finish()
        return PreparedRequest(method: "POST", path: "/environments", body: ["name": .string(name)], decode: ResponseDecoding.one(Environment.self))
    }

    public static func environment(id: String) throws(RuncrateError) -> PreparedRequest<Environment> {
        try byID("GET", "/environments", id, decode: ResponseDecoding.one(Environment.self))
    }

    public static func updateEnvironment(id: String, _ update: UpdateEnvironmentRequest) throws(RuncrateError) -> PreparedRequest<Environment> {
        var v = Validator()
        v.id(id)
        v.optionalString(update.name, "name")
        if update.name == nil, update.isDefault == nil { v.add([], "nothing to update: give name and/or is_default") }
        try v.finish()
        return PreparedRequest(
            method: "PATCH", path: "/environments/\(PathEncoding.segment(id))", body: update.wireBody(),
            decode: ResponseDecoding.one(Environment.self))
    }

    public static func deleteEnvironment(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/environments", id, decode: ResponseDecoding.delete)
    }

    public static func balance() -> PreparedRequest<Balance> {
        PreparedRequest(method: "GET", path: "/billing/balance", decode: ResponseDecoding.balance)
    }

    private static func byID<R>(
        _ method: String, _ collection: String, _ id: String, suffix: String = "",
        decode: @escaping @Sendable (RawResponse) throws(RuncrateError) -> R
    ) throws(RuncrateError) -> PreparedRequest<R> {
        var v = Validator()
        v.id(id)
        try v.finish()
        return PreparedRequest(method: method, path: "\(collection)/\(PathEncoding.segment(id))\(suffix)", decode: decode)
    }
}
