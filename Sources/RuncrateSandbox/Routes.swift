/// The API routes of §2, by name. Fault rules and the request log refer to routes by these names.
struct Route: Sendable {
    let method: String
    let pattern: [String]   // ":x" segments are parameters
    let name: String

    static let all: [Route] = [
        Route(method: "GET", pattern: ["instances"], name: "instances.list"),
        Route(method: "POST", pattern: ["instances"], name: "instances.create"),
        Route(method: "GET", pattern: ["instances", "types"], name: "instances.types"),
        Route(method: "GET", pattern: ["instances", ":id"], name: "instances.get"),
        Route(method: "PATCH", pattern: ["instances", ":id"], name: "instances.update"),
        Route(method: "DELETE", pattern: ["instances", ":id"], name: "instances.delete"),
        Route(method: "GET", pattern: ["instances", ":id", "status"], name: "instances.status"),
        Route(method: "GET", pattern: ["ssh-keys"], name: "ssh-keys.list"),
        Route(method: "POST", pattern: ["ssh-keys"], name: "ssh-keys.create"),
        Route(method: "DELETE", pattern: ["ssh-keys", ":id"], name: "ssh-keys.delete"),
        Route(method: "GET", pattern: ["storage"], name: "storage.list"),
        Route(method: "POST", pattern: ["storage"], name: "storage.create"),
        Route(method: "GET", pattern: ["storage", "regions"], name: "storage.regions"),
        Route(method: "GET", pattern: ["storage", ":id"], name: "storage.get"),
        Route(method: "PATCH", pattern: ["storage", ":id"], name: "storage.update"),
        Route(method: "DELETE", pattern: ["storage", ":id"], name: "storage.delete"),
        Route(method: "GET", pattern: ["templates"], name: "templates.list"),
        Route(method: "GET", pattern: ["environments"], name: "environments.list"),
        Route(method: "POST", pattern: ["environments"], name: "environments.create"),
        Route(method: "GET", pattern: ["environments", ":id"], name: "environments.get"),
        Route(method: "PATCH", pattern: ["environments", ":id"], name: "environments.update"),
        Route(method: "DELETE", pattern: ["environments", ":id"], name: "environments.delete"),
        Route(method: "GET", pattern: ["billing", "balance"], name: "billing.balance"),
    ]

    /// Short names accepted in fault specs.
    static let aliases: [String: String] = [
        "create": "instances.create", "list": "instances.list", "get": "instances.get",
        "update": "instances.update", "delete": "instances.delete", "terminate": "instances.delete",
        "status": "instances.status", "types": "instances.types", "balance": "billing.balance",
    ]

    enum Match {
        case found(Route, params: [String])
        case wrongMethod(allowed: [String])
        case notFound
    }

    /// Matches segments after `/api/v1`. Literal segments win over parameters (`types` before `:id`).
    static func match(method: String, segments: [String]) -> Match {
        func literals(_ r: Route) -> Int? {
            guard r.pattern.count == segments.count else { return nil }
            var n = 0
            for (p, s) in zip(r.pattern, segments) {
                if p == s { n += 1 } else if !p.hasPrefix(":") || s.isEmpty { return nil }
            }
            return n
        }
        let candidates = all.compactMap { r in literals(r).map { (r, $0) } }
        guard let most = candidates.map(\.1).max() else { return .notFound }
        let specific = candidates.filter { $0.1 == most }.map(\.0)
        guard let route = specific.first(where: { $0.method == method }) else {
            return .wrongMethod(allowed: specific.map(\.method))
        }
        let params = zip(route.pattern, segments).filter { $0.0.hasPrefix(":") }.map(\.1)
        return .found(route, params: params)
    }
}
