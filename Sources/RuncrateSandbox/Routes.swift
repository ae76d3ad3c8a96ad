/// The API routes of §2, each with its name (fault rules and the request log refer to routes by
/// name) and its handler, as Hummingbird's routers pair a path with its closure.
struct Route: Sendable {
    let method: String
    let pattern: [String]   // ":x" segments are parameters
    let name: String
    /// Answers the request against the state; reports whether the state changed (to save it).
    let handler: @Sendable (inout SandboxState, RequestInput) throws -> (APIResult, changed: Bool)

    init(_ method: String, _ pattern: [String], _ name: String,
         _ handler: @escaping @Sendable (inout SandboxState, RequestInput) throws -> (APIResult, changed: Bool)) {
        self.method = method
        self.pattern = pattern
        self.name = name
        self.handler = handler
    }

    static let all: [Route] = [
        Route("GET", ["instances"], "instances.list") { s, input in
            let env = try s.environment(of: input)
            let items = s.instances.filter { $0.environmentID == env.id && s.matches($0.name, input.query["search"]) }
            return (.list(items.map(\.json), requestID: input.requestID), false)
        },
        Route("POST", ["instances"], "instances.create") { s, input in
            (try s.createInstance(try input.object(), env: try s.environment(of: input), input: input), true)
        },
        Route("GET", ["instances", "types"], "instances.types") { s, input in (try s.listTypes(input), false) },
        Route("GET", ["instances", ":id"], "instances.get") { s, input in
            (.data(s.instances[try s.instanceIndex(input.id, in: try s.environment(of: input), byName: false)].json), false)
        },
        Route("PATCH", ["instances", ":id"], "instances.update") { s, input in
            (try s.updateInstance(input.id, body: try input.object(), env: try s.environment(of: input), now: input.now), true)
        },
        Route("DELETE", ["instances", ":id"], "instances.delete") { s, input in
            let i = try s.instanceIndex(input.id, in: try s.environment(of: input), byName: false)
            if s.instances[i].isLive { s.terminate(at: i, when: input.now, reason: "user") }
            return (.noContent, true)
        },
        Route("GET", ["instances", ":id", "status"], "instances.status") { s, input in
            let inst = s.instances[try s.instanceIndex(input.id, in: try s.environment(of: input), byName: false)]
            return (.data(.object([("id", .string(inst.id)), ("status", .string(inst.status)), ("ip", .opt(inst.ip))])), false)
        },
        Route("GET", ["ssh-keys"], "ssh-keys.list") { s, input in (.list(s.sshKeys.map(\.json), requestID: input.requestID), false) },
        Route("POST", ["ssh-keys"], "ssh-keys.create") { s, input in (try s.createSSHKey(try input.object(), now: input.now), true) },
        Route("DELETE", ["ssh-keys", ":id"], "ssh-keys.delete") { s, input in
            guard let i = s.sshKeys.firstIndex(where: { $0.id == input.id }) else { throw APIError.notFound("SSH key '\(input.id)' not found") }
            s.sshKeys.remove(at: i)
            return (.noContent, true)
        },
        Route("GET", ["storage"], "storage.list") { s, input in
            let env = try s.environment(of: input)
            let items = s.volumes.filter { $0.environmentID == env.id && s.matches($0.name, input.query["search"]) }
            return (.list(items.map { $0.json(attachedTo: s.attachedInstance(of: $0.id)) }, requestID: input.requestID), false)
        },
        Route("POST", ["storage"], "storage.create") { s, input in
            (try s.createVolume(try input.object(), env: try s.environment(of: input), now: input.now), true)
        },
        Route("GET", ["storage", "regions"], "storage.regions") { s, input in
            let items = s.catalog.regions.map { JSON.object([("id", .string($0.id)), ("name", .string($0.name)), ("provider", .string($0.provider))]) }
            return (.list(items, requestID: input.requestID), false)
        },
        Route("GET", ["storage", ":id"], "storage.get") { s, input in
            let v = s.volumes[try s.volumeIndex(input.id, in: try s.environment(of: input))]
            return (.data(v.json(attachedTo: s.attachedInstance(of: v.id))), false)
        },
        Route("PATCH", ["storage", ":id"], "storage.update") { s, input in
            (try s.resizeVolume(input.id, body: try input.object(), env: try s.environment(of: input), now: input.now), true)
        },
        Route("DELETE", ["storage", ":id"], "storage.delete") { s, input in
            let i = try s.volumeIndex(input.id, in: try s.environment(of: input))
            if let inst = s.attachedInstance(of: input.id) {
                throw APIError.conflict("Volume '\(input.id)' is attached to live instance '\(inst)'")
            }
            s.volumes.remove(at: i)
            return (.data(.object([("message", .string("Volume deleted")), ("refund_amount", .number(0))])), true)
        },
        Route("GET", ["templates"], "templates.list") { s, input in (try s.listTemplates(input), false) },
        Route("GET", ["environments"], "environments.list") { s, input in
            (.list(s.environments.map { s.environmentJSON($0, now: input.now) }, requestID: input.requestID), false)
        },
        Route("POST", ["environments"], "environments.create") { s, input in (try s.createEnvironment(try input.object(), now: input.now), true) },
        Route("GET", ["environments", ":id"], "environments.get") { s, input in
            (.data(s.environmentJSON(try s.environmentByID(input.id), now: input.now)), false)
        },
        Route("PATCH", ["environments", ":id"], "environments.update") { s, input in
            (try s.updateEnvironment(input.id, body: try input.object(), now: input.now), true)
        },
        Route("DELETE", ["environments", ":id"], "environments.delete") { s, input in (try s.deleteEnvironment(input.id, now: input.now), true) },
        Route("GET", ["billing", "balance"], "billing.balance") { s, input in (.data(s.balanceJSON(at: input.now)), false) },
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
