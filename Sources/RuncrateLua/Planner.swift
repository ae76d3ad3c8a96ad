import Foundation
import RuncrateAPI

/// One call a dry run recorded instead of sending.
struct PlanEntry {
    var op: String
    var method: String
    var path: String
    var id: String?
    var name: String?
    /// The body as it would be sent, secrets shown as `***`.
    var body: JSONValue?
    /// Estimated USD/h for creates, from the catalogue.
    var price: PriceRange?
}

/// What a create may cost per hour, from the catalogue. An `instance_type_id` has one price; a
/// `gpu_type` gets the cheapest matching config *in stock*, and the catalogue has no stock field,
/// so it may cost anything from the cheapest (`low`) to the dearest (`high`) matching config.
struct PriceRange: Equatable {
    var low: Double
    var high: Double
    /// An `instance_type_id` create: the price is known.
    var exact: Bool

    var isRange: Bool { high > low + 1e-9 }
    /// `2.49` or `2.49–2.79`.
    var text: String { Self.text(low, high) }

    static func text(_ low: Double, _ high: Double) -> String {
        let a = String(format: "%.2f", low), b = String(format: "%.2f", high)
        return a == b ? a : "\(a)–\(b)"
    }
}

/// The dry-run plan and the spend governor's tally for one run.
final class Planner {
    private(set) var entries: [PlanEntry] = []
    private var counter = 0
    private var otherCounter = 0
    /// Planned instances by id, so reads and deletes of them work in a dry run.
    private(set) var plannedInstances: [String: JSONValue] = [:]
    /// Instances created (or planned) in this run, and their summed USD/h: the real price of each
    /// created one, the worst case of each planned one.
    private(set) var instanceCount = 0
    private(set) var hourlyCost = 0.0

    func record(_ entry: PlanEntry) { entries.append(entry) }

    func nextInstanceID() -> String {
        counter += 1
        return "planned-\(counter)"
    }

    func nextOtherID(_ kind: String) -> String {
        otherCounter += 1
        return "planned-\(kind)-\(otherCounter)"
    }

    func addPlanned(_ instance: JSONValue, id: String) {
        if plannedInstances[id] == nil { plannedOrder.append(id) }
        plannedInstances[id] = instance
    }

    private var plannedOrder: [String] = []
    /// The planned instances in the order they were planned.
    var plannedInOrder: [JSONValue] { plannedOrder.compactMap { plannedInstances[$0] } }

    func markPlanned(_ id: String, status: String) {
        guard case .object(var fields)? = plannedInstances[id] else { return }
        fields["status"] = .string(status)
        plannedInstances[id] = .object(fields)
    }

    func countInstance(costPerHour: Double?) {
        instanceCount += 1
        hourlyCost += costPerHour ?? 0
    }

    var isEmpty: Bool { entries.isEmpty }

    /// The plan as JSON: every call in order, the instances it would create and their total $/h.
    func json(mode: String) -> JSONValue {
        let calls: [JSONValue] = entries.enumerated().map { i, e in
            var o: [String: JSONValue] = [
                "call": .int(i + 1), "op": .string(e.op), "method": .string(e.method), "path": .string(e.path),
            ]
            if let id = e.id { o["id"] = .string(id) }
            if let name = e.name { o["name"] = .string(name) }
            if let body = e.body { o["body"] = body }
            if let price = e.price {
                o["cost_per_hour"] = .double(price.low)
                o["cost_per_hour_min"] = .double(price.low)
                o["cost_per_hour_max"] = .double(price.high)
                o["price_exact"] = .bool(price.exact)
            }
            return .object(o)
        }
        let creates = entries.filter { $0.op == "create_instance" }
        let (low, high) = Self.totals(creates)
        return .object([
            "mode": .string(mode),
            "calls": .array(calls),
            "instances": .int(creates.count),
            "hourly_cost": .double(Self.cents(low)),
            "hourly_cost_min": .double(Self.cents(low)),
            "hourly_cost_max": .double(Self.cents(high)),
        ])
    }

    private static func totals(_ creates: [PlanEntry]) -> (Double, Double) {
        (creates.compactMap { $0.price?.low }.reduce(0, +), creates.compactMap { $0.price?.high }.reduce(0, +))
    }

    private static func cents(_ v: Double) -> Double { (v * 100).rounded() / 100 }

    /// The plan as a table for people.
    func table() -> String {
        if entries.isEmpty { return "dry-run plan: nothing to create, change or delete\n" }
        var rows: [[String]] = [["#", "call", "target", "details", "USD/h"]]
        for (i, e) in entries.enumerated() {
            var details = e.name.map { "'\($0)'" } ?? ""
            if case .object(let body)? = e.body {
                let interesting = ["gpu_type", "instance_type_id", "gpu_count", "region", "size_gb",
                                   "max_runtime_minutes", "idle_shutdown_minutes"]
                let parts = interesting.compactMap { k -> String? in body[k].map { "\(k)=\(Self.plain($0))" } }
                details += (details.isEmpty ? "" : " ") + parts.joined(separator: " ")
                if case .array(let env)? = body["env_vars"], !env.isEmpty {
                    let pairs = env.compactMap { item -> String? in
                        guard case .object(let kv) = item, case .string(let k)? = kv["key"] else { return nil }
                        return "\(k)=\(kv["value"].map(Self.plain) ?? "")"
                    }
                    details += " env{\(pairs.joined(separator: ","))}"
                }
            }
            rows.append([String(i + 1), e.op, e.id ?? "", details,
                         e.price?.text ?? ""])
        }
        let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var lines = ["dry-run plan (nothing was created, changed or deleted):"]
        for row in rows {
            let cells = row.enumerated().map { c, text in
                c == 4 ? String(repeating: " ", count: widths[c] - text.count) + text
                    : text + String(repeating: " ", count: widths[c] - text.count)
            }
            lines.append("  " + cells.joined(separator: "  ").trimmingTrailingSpaces())
        }
        let creates = entries.filter { $0.op == "create_instance" }
        let (low, high) = Self.totals(creates)
        lines.append("total: \(creates.count) instance\(creates.count == 1 ? "" : "s"), \(PriceRange.text(low, high)) USD/h")
        if creates.contains(where: { $0.price?.isRange == true }) {
            lines.append("  (a gpu_type create gets the cheapest matching config in stock: a range runs from the cheapest")
            lines.append("   to the dearest matching config in the catalogue; the upper bound is the worst case)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func plain(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return v.serialized
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
