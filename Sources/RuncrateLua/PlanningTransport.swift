import Foundation
import RuncrateAPI

/// The dry run as a transport: reads pass through to the real one; every other prepared request
/// is recorded in the planner and answered with a synthesised result that the request's own decoder
/// reads, so operations never know which mode they run in. The instances a run plans are served
/// back: a get or a status of `planned-N`, and listings (after the server's, in plan order).
final class PlanningTransport: RuncrateTransport {
    private let reads: () throws(RuncrateError) -> RuncrateTransport
    private let planner: Planner
    /// The run's catalogue, which prices a planned create (`ConfigMatch`, as the governor does).
    private let catalogue: () throws(RuncrateError) -> [InstanceType]

    init(reads: @escaping () throws(RuncrateError) -> RuncrateTransport, planner: Planner,
         catalogue: @escaping () throws(RuncrateError) -> [InstanceType]) {
        self.reads = reads
        self.planner = planner
        self.catalogue = catalogue
    }

    /// The operation a mutating request stands for in the plan (`op` of its entry).
    static let operations: [String: String] = [
        "POST /instances": "create_instance", "PATCH /instances/:id": "update_instance",
        "DELETE /instances/:id": "delete_instance", "POST /ssh-keys": "create_ssh_key",
        "DELETE /ssh-keys/:id": "delete_ssh_key", "POST /storage": "create_volume",
        "PATCH /storage/:id": "resize_volume", "DELETE /storage/:id": "delete_volume",
        "POST /environments": "create_environment", "PATCH /environments/:id": "update_environment",
        "DELETE /environments/:id": "delete_environment",
    ]

    /// `"/instances"` and nil, or `"/instances/:id"` and the id, for a path under `/api/v1`.
    static func route(_ path: String) -> (pattern: String, id: String?, rest: String?) {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return ("/" + parts.joined(separator: "/"), nil, nil) }
        let id = parts[1].removingPercentEncoding ?? parts[1]
        return ("/\(parts[0])/:id", id, parts.count > 2 ? parts[2...].joined(separator: "/") : nil)
    }

    func send<Response: Sendable>(_ request: PreparedRequest<Response>) throws(RuncrateError) -> Response {
        let (pattern, id, rest) = Self.route(request.path)
        if request.method == "GET" {
            return try read(request, pattern: pattern, id: id, rest: rest)
        }
        let op = Self.operations["\(request.method) \(pattern)"] ?? "\(request.method.lowercased()) \(request.path)"
        switch request.method {
        case "DELETE":
            planner.record(PlanEntry(op: op, method: request.method, path: request.path, id: id,
                                     name: id.flatMap(plannedName), body: request.redactedBody))
            if let id, pattern == "/instances/:id" { planner.markPlanned(id, status: "terminated") }
            return try request.answer(status: 204, body: nil)
        case "PATCH":
            planner.record(PlanEntry(op: op, method: request.method, path: request.path, id: id,
                                     name: id.flatMap(plannedName), body: request.redactedBody))
            var base: [String: JSONValue] = ["id": .string(id ?? "")]
            if pattern == "/instances/:id", let id {
                if case .object(let planned)? = planner.plannedInstances[id] { base = planned }
                else if case .object(let fetched) = try reads().send(try Endpoint.getInstance(id: id)).raw { base = fetched }
            }
            if case .object(let changes)? = request.body { for (k, v) in changes { base[k] = v } }
            if let id, planner.plannedInstances[id] != nil { planner.addPlanned(.object(base), id: id) }
            return try request.answer(status: 200, body: .object(base))
        default:
            let kind = ["create_ssh_key": "key", "create_volume": "volume", "create_environment": "environment"][op] ?? "object"
            let newID = planner.nextOtherID(kind)
            var name: String?
            if case .object(let body)? = request.redactedBody, case .string(let n)? = body["name"] { name = n }
            planner.record(PlanEntry(op: op, method: request.method, path: request.path, id: newID, name: name,
                                     body: request.redactedBody))
            var object: [String: JSONValue] = ["id": .string(newID), "status": .string("planned")]
            if case .object(let body)? = request.redactedBody { for (k, v) in body where object[k] == nil { object[k] = v } }
            return try request.answer(status: 201, body: .object(object))
        }
    }

    /// Reads go to the server, except those of instances this run planned.
    private func read<Response: Sendable>(_ request: PreparedRequest<Response>, pattern: String, id: String?, rest: String?)
        throws(RuncrateError) -> Response
    {
        if pattern == "/instances/:id", let id, case .object(let planned)? = planner.plannedInstances[id] {
            if rest == "status" {
                return try request.answer(status: 200, body: .object(["id": .string(id), "status": planned["status"] ?? .string("planned")]))
            }
            if rest == nil { return try request.answer(status: 200, body: .object(planned)) }
        }
        if request.path == "/instances" {
            // The run's planned instances are listed too (in plan order, with their planned status),
            // as a live run would list the instances it created.
            let search = request.query.first { $0.name == "search" }?.value
            let listed = try reads().send(try Endpoint.listInstances(search: search)).map(\.raw)
            let planned = planner.plannedInOrder.filter { inst in
                guard let search, !search.isEmpty else { return true }
                if case .string(let n)? = inst["name"] { return n.localizedCaseInsensitiveContains(search) }
                return false
            }
            return try request.answer(status: 200, body: .array(listed + planned))
        }
        return try reads().send(request)
    }

    /// A create is planned: a `planned-N` instance with the catalogue's price (the cheapest matching
    /// config, and `cost_per_hour_max`, the dearest: what the governor counts).
    func createInstance(_ prepared: PreparedCreateInstance, failover: Bool) throws(RuncrateError) -> Instance {
        let req = prepared.request
        let request = Endpoint.createInstance(prepared)
        let id = planner.nextInstanceID()
        let configs = ConfigMatch.configs(for: req, in: try catalogue())
        let type = configs.first { $0.hourlyRate != nil }
        let price = ConfigMatch.price(of: configs, exact: req.instanceTypeID != nil)
        var inst: [String: JSONValue] = ["id": .string(id), "status": .string("planned")]
        if let name = req.name { inst["name"] = .string(name) }
        inst["gpu_type"] = (req.gpuType ?? type?.gpuType).map(JSONValue.string)
        inst["gpu_count"] = (req.gpuCount ?? type?.gpuCount).map(JSONValue.int)
        inst["region"] = (req.region ?? type?.region).map(JSONValue.string)
        if let t = req.instanceTypeID { inst["instance_type_id"] = .string(t) }
        if let price {
            inst["cost_per_hour"] = .double(price.low)
            inst["cost_per_hour_max"] = .double(price.high)
        }
        if let m = req.maxRuntimeMinutes { inst["max_runtime_minutes"] = .int(m) }
        if let m = req.idleShutdownMinutes { inst["idle_shutdown_minutes"] = .int(m) }
        planner.addPlanned(.object(inst), id: id)
        planner.record(PlanEntry(op: "create_instance", method: request.method, path: request.path, id: id,
                                 name: req.name, body: request.redactedBody, price: price))
        return try request.answer(status: 201, body: .object(inst))
    }

    private func plannedName(_ id: String) -> String? {
        if case .object(let p)? = planner.plannedInstances[id], case .string(let n)? = p["name"] { return n }
        return nil
    }
}
