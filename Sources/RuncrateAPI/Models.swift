import Foundation

/// A response object decoded leniently: only `id` is required, every other field is optional, both
/// `snake_case` and `camelCase` are read, and `raw` keeps the object exactly as sent.
public protocol RuncrateModel: Sendable, Equatable {
    /// What the object is called in error messages (`instance`, `volume`).
    static var kind: String { get }
    init(raw: JSONValue) throws(RuncrateError)
    var raw: JSONValue { get }
}

/// Reads members leniently out of one response object.
struct Fields {
    let raw: JSONValue

    func value(_ snake: String) -> JSONValue? { raw.member(snake, Fields.camel(snake)) }
    func string(_ snake: String) -> String? { value(snake)?.stringValue }
    func int(_ snake: String) -> Int? { value(snake)?.intValue }
    func double(_ snake: String) -> Double? { value(snake)?.doubleValue }
    func bool(_ snake: String) -> Bool? { value(snake)?.boolValue }
    func date(_ snake: String) -> Date? { value(snake).flatMap(Timestamp.parse) }

    func id(_ kind: String) throws(RuncrateError) -> String {
        guard case .object = raw else {
            throw RuncrateError(code: .invalidResponse, message: "expected \(kind) to be a JSON object (got \(raw.shortDescription))")
        }
        guard let id = string("id"), !id.isEmpty else {
            throw RuncrateError(code: .invalidResponse, message: "\(kind) in the response has no id")
        }
        return id
    }

    static func camel(_ snake: String) -> String {
        let parts = snake.split(separator: "_")
        guard let first = parts.first else { return snake }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// Timestamps arrive as ISO 8601 (with or without fractional seconds) or as Unix seconds/milliseconds.
public enum Timestamp {
    public static func parse(_ value: JSONValue) -> Date? {
        switch value {
        case .string(let text):
            if let number = Double(text) { return fromNumber(number) }
            return parseISO(text)
        case .int, .double:
            return value.doubleValue.map(fromNumber)
        default:
            return nil
        }
    }

    static func fromNumber(_ number: Double) -> Date {
        Date(timeIntervalSince1970: number > 1e11 ? number / 1000 : number)
    }

    static func parseISO(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

public struct Instance: RuncrateModel {
    public static let kind = "instance"
    public let id: String
    public let name: String?
    /// Provisioning: creating, pending, deploying, awaiting_provider, starting (and anything unknown);
    /// up: running, deployed; final: terminated, failed. Absent in some responses.
    public let status: String?
    public let gpuType: String?
    public let gpuCount: Int?
    public let cpuCores: Int?
    public let memory: Int?
    public let storage: Int?
    public let region: String?
    public let ip: String?
    public let osImage: String?
    /// USD per hour.
    public let costPerHour: Double?
    public let createdAt: Date?
    public let deployedAt: Date?
    public let maxRuntimeMinutes: Int?
    public let idleShutdownMinutes: Int?
    public let stopReason: String?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        name = f.string("name")
        status = f.string("status")
        gpuType = f.string("gpu_type")
        gpuCount = f.int("gpu_count")
        cpuCores = f.int("cpu_cores")
        memory = f.int("memory")
        storage = f.int("storage")
        region = f.string("region")
        ip = f.string("ip")
        osImage = f.string("os_image")
        costPerHour = f.double("cost_per_hour")
        createdAt = f.date("created_at")
        deployedAt = f.date("deployed_at")
        maxRuntimeMinutes = f.int("max_runtime_minutes")
        idleShutdownMinutes = f.int("idle_shutdown_minutes")
        stopReason = f.string("stop_reason")
        self.raw = raw
    }

    public static let provisioningStatuses: Set<String> = ["creating", "pending", "deploying", "awaiting_provider", "starting"]
    public static let upStatuses: Set<String> = ["running", "deployed"]
    public static let finalStatuses: Set<String> = ["terminated", "failed"]
}

/// `GET /instances/{id}/status`.
public struct InstanceStatus: RuncrateModel {
    public static let kind = "instance status"
    public let id: String
    public let status: String?
    public let ip: String?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        status = f.string("status")
        ip = f.string("ip")
        self.raw = raw
    }
}

/// One concrete GPU × count × region configuration. There is no stock field.
public struct InstanceType: RuncrateModel {
    public static let kind = "instance type"
    public let id: String
    public let gpuType: String?
    public let gpuCount: Int?
    public let cpuCores: Int?
    public let memoryGB: Double?
    public let storageGB: Double?
    public let region: String?
    public let deploymentType: String?
    /// USD per hour.
    public let hourlyRate: Double?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        gpuType = f.string("gpu_type")
        gpuCount = f.int("gpu_count")
        cpuCores = f.int("cpu_cores")
        memoryGB = f.double("memory_gb")
        storageGB = f.double("storage_gb")
        region = f.string("region")
        deploymentType = f.string("deployment_type")
        hourlyRate = f.double("hourly_rate")
        self.raw = raw
    }
}

public struct SSHKey: RuncrateModel {
    public static let kind = "ssh key"
    public let id: String
    public let name: String?
    public let publicKey: String?
    public let type: String?
    public let fingerprint: String?
    public let createdAt: Date?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        name = f.string("name")
        publicKey = f.string("public_key")
        type = f.string("type")
        fingerprint = f.string("fingerprint")
        createdAt = f.date("created_at")
        self.raw = raw
    }
}

public struct Volume: RuncrateModel {
    public static let kind = "volume"
    public let id: String
    public let name: String?
    public let sizeGB: Int?
    public let region: String?
    public let status: String?
    public let createdAt: Date?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        name = f.string("name")
        sizeGB = f.int("size_gb")
        region = f.string("region")
        status = f.string("status")
        createdAt = f.date("created_at")
        self.raw = raw
    }
}

/// `GET /storage/regions`.
public struct StorageRegion: RuncrateModel {
    public static let kind = "storage region"
    public let id: String
    public let name: String?
    public let provider: String?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        name = f.string("name")
        provider = f.string("provider")
        self.raw = raw
    }
}

public struct Template: RuncrateModel {
    public static let kind = "template"
    public let id: String
    public let name: String?
    public let category: String?
    public let description: String?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        name = f.string("name")
        category = f.string("category")
        description = f.string("description")
        self.raw = raw
    }
}

public struct Environment: RuncrateModel {
    public static let kind = "environment"
    public let id: String
    public let name: String?
    public let isDefault: Bool?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        let f = Fields(raw: raw)
        id = try f.id(Self.kind)
        name = f.string("name")
        isDefault = f.bool("is_default")
        self.raw = raw
    }
}

/// `GET /billing/balance`: no id.
public struct Balance: Sendable, Equatable {
    /// USD of prepaid credits.
    public let creditsBalance: Double?
    /// USD per hour currently being spent.
    public let activeUsageCost: Double?
    public let raw: JSONValue

    public init(raw: JSONValue) throws(RuncrateError) {
        guard case .object = raw else {
            throw RuncrateError(code: .invalidResponse, message: "expected the balance to be a JSON object (got \(raw.shortDescription))")
        }
        let f = Fields(raw: raw)
        creditsBalance = f.double("credits_balance")
        activeUsageCost = f.double("active_usage_cost")
        self.raw = raw
    }
}

/// The answer to a DELETE: 204 (no body), or a body such as `{message, refund_amount}`.
public struct DeleteResult: Sendable, Equatable {
    public let status: Int
    public let message: String?
    public let refundAmount: Double?
    /// The `data` (or whole body) when there was one; `.null` for 204.
    public let raw: JSONValue

    public init(status: Int, raw: JSONValue) {
        self.status = status
        self.raw = raw
        let f = Fields(raw: raw)
        message = f.string("message")
        refundAmount = f.double("refund_amount")
    }
}

/// `meta` of a list response (camelCase on the wire).
public struct ListMeta: Sendable, Equatable {
    public let cursor: String?
    public let hasMore: Bool?
    public let total: Int?
    public let requestID: String?
    public let raw: JSONValue

    public init(raw: JSONValue) {
        self.raw = raw
        let f = Fields(raw: raw)
        cursor = f.string("cursor")
        hasMore = f.bool("has_more")
        total = f.int("total")
        requestID = f.string("request_id")
    }
}

/// A list plus its `meta`, for endpoints that page.
public struct Page<Item: Sendable & Equatable>: Sendable, Equatable {
    public let items: [Item]
    public let meta: ListMeta?
}
