import Foundation

/// One fault rule: `ROUTE[TRIGGER]=ACTION[,PARAM=VALUE…]` (grammar in SANDBOX.md).
public struct FaultRule: Sendable, Equatable, CustomStringConvertible {
    public enum Trigger: Sendable, Equatable {
        case always
        /// 1-based ordinals among the requests to the rule's routes; `upper == nil` means "and every later one".
        case ordinals(lower: Int, upper: Int?)
        case probability(Double)
    }

    public enum Action: Sendable, Equatable {
        /// Answer this status with the §4 body for it; nothing is done.
        case status(Int)
        /// Wait, then go on (other rules and the real handler still apply).
        case latency(seconds: Double)
        /// Do the request for real, then answer this status instead of the real answer.
        case commitThenStatus(Int)
        /// Do the request for real, then close the connection without answering.
        case commitThenDrop
        /// Close the connection without answering; nothing is done.
        case drop
        /// Do the request, then answer this status with a body that is not JSON.
        case garbage(Int)
        /// Do the request, then send half of the real body and close the connection.
        case truncate
    }

    public var route: String
    public var trigger: Trigger
    public var action: Action
    public var retryAfter: String?
    public var code: String?
    public var message: String?
    public var text: String

    public var description: String { text }

    func applies(to routeName: String) -> Bool {
        if route == "*" { return true }
        if route.hasSuffix("*") { return routeName.hasPrefix(String(route.dropLast())) }
        return routeName == route
    }
}

public struct FaultSpecError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public enum FaultSpec {
    /// Parses a spec: rules separated by `;` or newlines. An empty spec means no faults.
    public static func parse(_ spec: String) throws -> [FaultRule] {
        let texts = spec.split(whereSeparator: { $0 == ";" || $0 == "\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        return try texts.map(parseRule)
    }

    static func parseRule(_ text: String) throws -> FaultRule {
        func fail(_ why: String) -> FaultSpecError { FaultSpecError(description: "fault rule '\(text)': \(why)") }
        guard let eq = text.firstIndex(of: "=") else { throw fail("expected ROUTE=ACTION (e.g. create#2=500)") }
        let lhs = text[..<eq].trimmingCharacters(in: .whitespaces)
        let rhs = text[text.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }

        // Route and trigger.
        var routeText = lhs
        var trigger = FaultRule.Trigger.always
        if let mark = lhs.firstIndex(where: { $0 == "#" || $0 == "@" }) {
            routeText = String(lhs[..<mark])
            let arg = String(lhs[lhs.index(after: mark)...])
            if lhs[mark] == "#" {
                if arg.hasSuffix("+"), let n = Int(arg.dropLast()), n >= 1 {
                    trigger = .ordinals(lower: n, upper: nil)
                } else if let dash = arg.firstIndex(of: "-"), let a = Int(arg[..<dash]), let b = Int(arg[arg.index(after: dash)...]), a >= 1, b >= a {
                    trigger = .ordinals(lower: a, upper: b)
                } else if let n = Int(arg), n >= 1 {
                    trigger = .ordinals(lower: n, upper: n)
                } else {
                    throw fail("'#\(arg)': expected #N, #N-M or #N+ with N >= 1")
                }
            } else {
                let p: Double? = arg.hasSuffix("%") ? Double(arg.dropLast()).map { $0 / 100 } : Double(arg)
                guard let p, p >= 0, p <= 1 else { throw fail("'@\(arg)': expected a probability from 0 to 1 (or 0% to 100%)") }
                trigger = .probability(p)
            }
        }
        let route = Route.aliases[routeText] ?? routeText
        let routeNames = Route.all.map(\.name)
        let known = route == "*" || (route.hasSuffix("*") ? routeNames.contains { $0.hasPrefix(route.dropLast()) } : routeNames.contains(route))
        guard known else {
            throw fail("unknown route '\(routeText)'; use one of \(routeNames.joined(separator: ", ")), an alias (\(Route.aliases.keys.sorted().joined(separator: ", "))), a prefix like instances.* or *")
        }

        // Action.
        guard let actionText = rhs.first, !actionText.isEmpty else { throw fail("missing action after '='") }
        func status(_ s: Substring) throws -> Int {
            guard let n = Int(s), (100...599).contains(n) else { throw fail("'\(s)' is not an HTTP status") }
            return n
        }
        let parts = actionText.split(separator: ":", maxSplits: 1)
        let action: FaultRule.Action
        switch parts[0] {
        case "latency", "delay":
            guard parts.count == 2, let s = parseDuration(String(parts[1])) else { throw fail("latency needs a duration: latency:250ms or latency:2s") }
            action = .latency(seconds: s)
        case "commit":
            guard parts.count == 2 else { throw fail("commit needs a status or drop: commit:500, commit:504, commit:drop") }
            action = parts[1] == "drop" ? .commitThenDrop : .commitThenStatus(try status(parts[1]))
        case "drop": action = .drop
        case "garbage": action = .garbage(parts.count == 2 ? try status(parts[1]) : 200)
        case "truncate": action = .truncate
        default:
            guard parts.count == 1 else { throw fail("unknown action '\(actionText)'") }
            action = .status(try status(parts[0]))
        }

        var rule = FaultRule(route: route, trigger: trigger, action: action, text: text)
        for param in rhs.dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else { throw fail("parameter '\(param)' should be name=value") }
            switch kv[0] {
            case "retry-after":
                let isDate = kv[1].hasPrefix("date+") && Double(kv[1].dropFirst(5)) != nil
                guard Double(kv[1]) != nil || isDate else {
                    throw fail("retry-after must be seconds (retry-after=5) or date+SECONDS for an HTTP date that far ahead")
                }
                rule.retryAfter = kv[1]
            case "code": rule.code = kv[1]
            case "message": rule.message = kv[1]
            default: throw fail("unknown parameter '\(kv[0])' (retry-after, code, message)")
            }
        }
        return rule
    }

    static func parseDuration(_ s: String) -> Double? {
        if s.hasSuffix("ms"), let v = Double(s.dropLast(2)), v >= 0 { return v / 1000 }
        if s.hasSuffix("s"), let v = Double(s.dropLast()), v >= 0 { return v }
        if let v = Double(s), v >= 0 { return v / 1000 }
        return nil
    }
}

/// What the fault engine decided for one request.
struct FaultDecision: Sendable {
    var latency: Double = 0
    var rule: FaultRule?
}

/// The rules in force, with one counter and one random stream per rule, so each rule's outcomes
/// depend only on the seed and on the order of the requests to its own routes.
struct FaultEngine: Sendable {
    private(set) var spec: String
    private(set) var rules: [FaultRule]
    private var counters: [Int]
    private var streams: [SplitMix64]

    init(spec: String, seed: UInt64) throws {
        self.spec = spec
        rules = try FaultSpec.parse(spec)
        counters = Array(repeating: 0, count: rules.count)
        streams = rules.indices.map { SplitMix64(seed: seed &+ 0xFA17 &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15) }
    }

    mutating func decide(route: String) -> FaultDecision {
        var decision = FaultDecision()
        for i in rules.indices where rules[i].applies(to: route) {
            counters[i] += 1
            let fires: Bool
            switch rules[i].trigger {
            case .always: fires = true
            case let .ordinals(lower, upper): fires = counters[i] >= lower && counters[i] <= (upper ?? Int.max)
            case .probability(let p): fires = streams[i].nextUnit() < p
            }
            guard fires else { continue }
            if case .latency(let s) = rules[i].action {
                decision.latency += s
            } else if decision.rule == nil {
                decision.rule = rules[i]
            }
        }
        return decision
    }
}
