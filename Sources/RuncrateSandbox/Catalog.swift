import Foundation

/// The sandbox's catalogue: instance types (with an internal stock count), regions and templates.
public struct Catalog: Codable, Sendable {
    public struct InstanceType: Codable, Sendable {
        public var id: String
        public var gpu_type: String
        public var gpu_count: Int
        public var cpu_cores: Int
        public var memory_gb: Double
        public var storage_gb: Double
        public var region: String
        public var deployment_type: String?
        public var hourly_rate: Double
        /// Internal: how many more instances of this config can be created. Never on the wire.
        public var stock: Int
    }

    public struct Region: Codable, Sendable {
        public var id: String
        public var name: String
        public var provider: String
    }

    public struct Template: Codable, Sendable {
        public var id: String
        public var name: String
        public var description: String?
        public var category: String?
        public var created_at: String?
    }

    public var initial_credits_usd: Double
    public var os_image: String
    public var storage_usd_per_gb_month: Double?
    public var regions: [Region]
    public var types: [InstanceType]
    public var templates: [Template]

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads a catalogue file, or the bundled one when `path` is nil.
    public static func load(path: String?) throws -> Catalog {
        let data: Data
        if let path {
            guard let d = FileManager.default.contents(atPath: path) else {
                throw LoadError(description: "cannot read catalogue file '\(path)'")
            }
            data = d
        } else {
            guard let url = Bundle.module.url(forResource: "catalog", withExtension: "json", subdirectory: "Resources")
                    ?? Bundle.module.url(forResource: "catalog", withExtension: "json"),
                  let d = try? Data(contentsOf: url) else {
                throw LoadError(description: "the bundled catalogue (Resources/catalog.json) is missing")
            }
            data = d
        }
        let catalog: Catalog
        do {
            catalog = try JSONDecoder().decode(Catalog.self, from: data)
        } catch {
            throw LoadError(description: "invalid catalogue \(path ?? "(bundled)"): \(error)")
        }
        try catalog.check()
        return catalog
    }

    func check() throws {
        var seen = Set<String>()
        for t in types {
            guard seen.insert(t.id).inserted else { throw LoadError(description: "duplicate instance type id '\(t.id)'") }
            guard t.gpu_count >= 1, t.hourly_rate >= 0, t.stock >= 0 else {
                throw LoadError(description: "instance type '\(t.id)': gpu_count must be >= 1, hourly_rate and stock >= 0")
            }
        }
        guard !regions.isEmpty else { throw LoadError(description: "the catalogue has no regions") }
    }
}

extension Catalog.InstanceType {
    /// The wire form: every field but the internal stock count.
    var json: JSON {
        .object([
            ("id", .string(id)),
            ("gpu_type", .string(gpu_type)),
            ("gpu_count", .int(gpu_count)),
            ("cpu_cores", .int(cpu_cores)),
            ("memory_gb", .number(memory_gb)),
            ("storage_gb", .number(storage_gb)),
            ("region", .string(region)),
            ("deployment_type", .opt(deployment_type)),
            ("hourly_rate", .number(hourly_rate)),
        ])
    }
}
