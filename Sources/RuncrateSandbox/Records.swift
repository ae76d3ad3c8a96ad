import Foundation

/// An instance as the sandbox keeps it. Status moves on the sandbox clock (see `SandboxState.advance`).
struct InstanceRecord: Codable, Sendable {
    var id: String
    var name: String
    var environmentID: String
    var typeID: String
    var gpuType: String
    var gpuCount: Int
    var cpuCores: Int
    var memory: Int
    var storage: Int
    var region: String
    var status: String
    var ip: String?
    var osImage: String
    var costPerHour: Double
    var createdAt: Date
    var updatedAt: Date
    var readyAt: Date
    var deployedAt: Date?
    var terminatedAt: Date?
    var autoStopAt: Date?
    var maxRuntimeMinutes: Int?
    var idleShutdownMinutes: Int?
    var stopReason: String?
    var template: String?
    var sshKeyID: String?
    var storageID: String?
    var envVars: [EnvVar]
    var startupCommands: [String]
    var hasLaunchScript: Bool
    /// Whether its usage has been taken from the credits balance (done once, at termination).
    var settled: Bool

    struct EnvVar: Codable, Sendable, Equatable {
        var key: String
        var value: String
    }

    var isLive: Bool { status == "starting" || status == "running" }

    /// USD used so far: billed from the moment it is running until it ends.
    func usage(at now: Date) -> Double {
        guard let deployedAt else { return 0 }
        let end = terminatedAt ?? now
        return max(0, end.timeIntervalSince(deployedAt)) / 3600 * costPerHour
    }

    var json: JSON {
        .object([
            ("id", .string(id)),
            ("name", .string(name)),
            ("status", .string(status)),
            ("gpu_type", .string(gpuType)),
            ("gpu_count", .int(gpuCount)),
            ("cpu_cores", .int(cpuCores)),
            ("memory", .int(memory)),
            ("storage", .int(storage)),
            ("region", .string(region)),
            ("ip", .opt(ip)),
            ("os_image", .string(osImage)),
            ("cost_per_hour", .number(costPerHour)),
            ("deployed_at", .opt(deployedAt.map(iso8601))),
            ("created_at", .string(iso8601(createdAt))),
            ("updated_at", .string(iso8601(updatedAt))),
            ("auto_stop_at", .opt(autoStopAt.map(iso8601))),
            ("max_runtime_minutes", .opt(maxRuntimeMinutes)),
            ("idle_shutdown_minutes", .opt(idleShutdownMinutes)),
            ("stop_reason", .opt(stopReason)),
            ("instance_type_id", .string(typeID)),
            ("template", .opt(template)),
            ("ssh_key_id", .opt(sshKeyID)),
            ("storage_id", .opt(storageID)),
        ])
    }
}

struct SSHKeyRecord: Codable, Sendable {
    var id: String
    var name: String
    var publicKey: String
    var type: String
    var fingerprint: String
    var createdAt: Date

    /// camelCase timestamps, as the live API sends them for keys (the official SDK reads `createdAt`).
    var json: JSON {
        .object([
            ("id", .string(id)),
            ("name", .string(name)),
            ("fingerprint", .string(fingerprint)),
            ("type", .string(type)),
            ("public_key", .string(publicKey)),
            ("createdAt", .string(iso8601(createdAt))),
            ("lastUsed", .null),
        ])
    }
}

struct VolumeRecord: Codable, Sendable {
    var id: String
    var name: String
    var environmentID: String
    var sizeGB: Int
    var region: String
    var provider: String
    var createdAt: Date
    var updatedAt: Date

    /// camelCase, as the live API sends volumes (the official SDK reads `sizeGb`, `createdAt`, …).
    func json(attachedTo instanceID: String?) -> JSON {
        .object([
            ("id", .string(id)),
            ("name", .string(name)),
            ("sizeGb", .int(sizeGB)),
            ("status", .string(instanceID == nil ? "available" : "attached")),
            ("region", .string(region)),
            ("providerType", .string(provider)),
            ("deploymentId", .opt(instanceID)),
            ("projectId", .string(environmentID)),
            ("createdAt", .string(iso8601(createdAt))),
            ("updatedAt", .string(iso8601(updatedAt))),
        ])
    }
}

struct EnvironmentRecord: Codable, Sendable {
    var id: String
    var name: String
    var isDefault: Bool
    var createdAt: Date
    var updatedAt: Date
    var monthlyBudgetUSD: Double?
}

func iso8601(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
}

/// SplitMix64: small, seedable, and the same on every platform.
struct SplitMix64: Codable, Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func hex(_ digits: Int) -> String {
        var s = ""
        while s.count < digits { s += String(format: "%016llx", next()) }
        return String(s.prefix(digits))
    }
}
