import Foundation

/// An environment variable for a new instance. `secret` values are sent as they are but always shown
/// as `***` in descriptions, logs and plans.
public struct EnvVar: Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var secret: Bool

    public init(key: String, value: String, secret: Bool = false) {
        self.key = key
        self.value = value
        self.secret = secret
    }

    public var displayValue: String { secret ? "***" : value }
    public var description: String { "\(key)=\(displayValue)" }
}

/// A change to a nullable server field: set a value, or clear it (send JSON `null`).
/// An absent change is `nil` where this type is used as an optional.
public enum Patch<Value: Sendable & Hashable>: Sendable, Hashable {
    case set(Value)
    case clear
}

/// `POST /instances`, as the caller fills it in. Nothing is checked until it becomes a
/// `PreparedCreateInstance`.
public struct CreateInstanceRequest: Sendable, Hashable, CustomStringConvertible {
    public var name: String?
    public var gpuType: String?
    public var instanceTypeID: String?
    public var region: String?
    public var gpuCount: Int?
    public var cpuCores: Int?
    /// GB.
    public var memory: Int?
    /// GB of ephemeral storage.
    public var storage: Int?
    public var template: String?
    public var sshKeyID: String?
    public var envVars: [EnvVar]?
    public var startupCommands: [String]?
    public var storageID: String?
    public var launchScript: String?
    public var launchScriptBase64: String?
    public var maxRuntimeMinutes: Int?
    public var idleShutdownMinutes: Int?

    // Client-side options: how this call retries. Never sent (not in `wireBody`).

    /// `false`: no waiting retries — the create is sent at most once (an ambiguous failure is still
    /// reconciled). Same as `maxWait: 0`.
    public var retry: Bool?
    /// The most this call waits in total between its attempts, seconds (instead of
    /// `RetryPolicy.maxTotalWait`; the policy's attempt count and longest single wait still apply).
    public var maxWait: Double?

    public init(
        name: String? = nil, gpuType: String? = nil, instanceTypeID: String? = nil, region: String? = nil,
        gpuCount: Int? = nil, cpuCores: Int? = nil, memory: Int? = nil, storage: Int? = nil,
        template: String? = nil, sshKeyID: String? = nil, envVars: [EnvVar]? = nil,
        startupCommands: [String]? = nil, storageID: String? = nil, launchScript: String? = nil,
        launchScriptBase64: String? = nil, maxRuntimeMinutes: Int? = nil, idleShutdownMinutes: Int? = nil,
        retry: Bool? = nil, maxWait: Double? = nil
    ) {
        self.name = name
        self.gpuType = gpuType
        self.instanceTypeID = instanceTypeID
        self.region = region
        self.gpuCount = gpuCount
        self.cpuCores = cpuCores
        self.memory = memory
        self.storage = storage
        self.template = template
        self.sshKeyID = sshKeyID
        self.envVars = envVars
        self.startupCommands = startupCommands
        self.storageID = storageID
        self.launchScript = launchScript
        self.launchScriptBase64 = launchScriptBase64
        self.maxRuntimeMinutes = maxRuntimeMinutes
        self.idleShutdownMinutes = idleShutdownMinutes
        self.retry = retry
        self.maxWait = maxWait
    }

    /// The most this create may wait between attempts: 0 with `retry = false`, else `maxWait`, else
    /// the policy's bound.
    func waitBound(default bound: Double) -> Double { retry == false ? 0 : (maxWait ?? bound) }

    /// What the create asks for, in a few words (`h100-sxm x1 in us-east`, or the type id), for notices.
    public var summary: String {
        if let instanceTypeID { return instanceTypeID }
        var text = gpuType ?? "instance"
        if let gpuCount { text += " x\(gpuCount)" }
        if let region, region.lowercased() != "auto" { text += " in \(region)" }
        return text
    }

    /// The wire body of §3 (field names snake_case, `env_vars` as the array form), with secret env
    /// values replaced by `***` when `redacted`.
    public func wireBody(redacted: Bool = false) -> JSONValue {
        var body: [String: JSONValue] = [:]
        func put(_ key: String, _ value: String?) { if let value { body[key] = .string(value) } }
        func put(_ key: String, _ value: Int?) { if let value { body[key] = .int(value) } }
        put("name", name)
        put("gpu_type", gpuType)
        put("instance_type_id", instanceTypeID)
        put("region", region)
        put("gpu_count", gpuCount)
        put("cpu_cores", cpuCores)
        put("memory", memory)
        put("storage", storage)
        put("template", template)
        put("ssh_key_id", sshKeyID)
        if let envVars {
            body["env_vars"] = .array(
                envVars.map { .object(["key": .string($0.key), "value": .string(redacted ? $0.displayValue : $0.value)]) })
        }
        if let startupCommands { body["startup_commands"] = .array(startupCommands.map(JSONValue.string)) }
        put("storage_id", storageID)
        put("launch_script", launchScript)
        put("launch_script_base64", launchScriptBase64)
        put("max_runtime_minutes", maxRuntimeMinutes)
        put("idle_shutdown_minutes", idleShutdownMinutes)
        return .object(body)
    }

    public var description: String { "CreateInstanceRequest(\(wireBody(redacted: true).serialized))" }
}

/// `PATCH /instances/{id}`: only what changes is sent.
public struct UpdateInstanceRequest: Sendable, Hashable {
    /// 5–10080, or `.clear`.
    public var maxRuntimeMinutes: Patch<Int>?
    /// 5–1440, or `.clear`.
    public var idleShutdownMinutes: Patch<Int>?

    public init(maxRuntimeMinutes: Patch<Int>? = nil, idleShutdownMinutes: Patch<Int>? = nil) {
        self.maxRuntimeMinutes = maxRuntimeMinutes
        self.idleShutdownMinutes = idleShutdownMinutes
    }

    public func wireBody() -> JSONValue {
        var body: [String: JSONValue] = [:]
        func put(_ key: String, _ patch: Patch<Int>?) {
            switch patch {
            case .set(let value): body[key] = .int(value)
            case .clear: body[key] = .null
            case nil: break
            }
        }
        put("max_runtime_minutes", maxRuntimeMinutes)
        put("idle_shutdown_minutes", idleShutdownMinutes)
        return .object(body)
    }
}

/// `GET /instances/types` filters.
public struct ListInstanceTypesRequest: Sendable, Hashable {
    public var gpuType: String?
    public var region: String?
    public var gpuCount: Int?

    public init(gpuType: String? = nil, region: String? = nil, gpuCount: Int? = nil) {
        self.gpuType = gpuType
        self.region = region
        self.gpuCount = gpuCount
    }
}

/// `POST /ssh-keys`.
public struct CreateSSHKeyRequest: Sendable, Hashable {
    public var name: String?
    /// One OpenSSH public-key line, e.g. `ssh-ed25519 AAAA… me@host`.
    public var publicKey: String?
    public var type: String?

    public init(name: String? = nil, publicKey: String? = nil, type: String? = nil) {
        self.name = name
        self.publicKey = publicKey
        self.type = type
    }

    public func wireBody() -> JSONValue {
        var body: [String: JSONValue] = [:]
        if let name { body["name"] = .string(name) }
        if let publicKey { body["public_key"] = .string(publicKey) }
        if let type { body["type"] = .string(type) }
        return .object(body)
    }
}

/// `POST /storage`.
public struct CreateVolumeRequest: Sendable, Hashable {
    public var name: String?
    public var sizeGB: Int?
    public var region: String?

    public init(name: String? = nil, sizeGB: Int? = nil, region: String? = nil) {
        self.name = name
        self.sizeGB = sizeGB
        self.region = region
    }

    public func wireBody() -> JSONValue {
        var body: [String: JSONValue] = [:]
        if let name { body["name"] = .string(name) }
        if let sizeGB { body["size_gb"] = .int(sizeGB) }
        if let region { body["region"] = .string(region) }
        return .object(body)
    }
}

/// `GET /templates` query.
public struct ListTemplatesRequest: Sendable, Hashable {
    public var page: Int?
    public var pageSize: Int?
    public var search: String?
    public var category: String?

    public init(page: Int? = nil, pageSize: Int? = nil, search: String? = nil, category: String? = nil) {
        self.page = page
        self.pageSize = pageSize
        self.search = search
        self.category = category
    }
}

/// `PATCH /environments/{id}`.
public struct UpdateEnvironmentRequest: Sendable, Hashable {
    public var name: String?
    public var isDefault: Bool?

    public init(name: String? = nil, isDefault: Bool? = nil) {
        self.name = name
        self.isDefault = isDefault
    }

    public func wireBody() -> JSONValue {
        var body: [String: JSONValue] = [:]
        if let name { body["name"] = .string(name) }
        if let isDefault { body["is_default"] = .bool(isDefault) }
        return .object(body)
    }
}
