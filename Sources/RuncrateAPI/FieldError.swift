/// One step of a path into a request: a member name or a 0-based array position.
public enum PathComponent: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let key): return key
        case .index(let index): return String(index)
        }
    }
}

/// A problem with one field of a request. `path` is structured so other layers (Lua) can render it in
/// their own naming. `message` does not repeat the path (`must be an integer >= 1 (got 0)`);
/// `description` puts the dotted path in front: `gpu_count must be an integer >= 1 (got 0)`.
public struct FieldError: Sendable, Hashable, CustomStringConvertible {
    public var path: [PathComponent]
    public var message: String
    /// For a rule about the request as a whole (empty `path`): the fields it is about, first the one
    /// to name (`gpu_type`, `instance_type_id` for "exactly one of …").
    public var concerning: [String]

    public init(path: [PathComponent], message: String, concerning: [String] = []) {
        self.path = path
        self.message = message
        self.concerning = concerning
    }

    public init(_ dotted: String, _ message: String) {
        self.path = dotted.split(separator: ".").map { part in
            Int(part).map(PathComponent.index) ?? .key(String(part))
        }
        self.message = message
        self.concerning = []
    }

    /// `env_vars.2.key`; empty for a problem with the request as a whole.
    public var field: String { path.map(\.description).joined(separator: ".") }

    public var description: String { path.isEmpty ? message : "\(field) \(message)" }
}
