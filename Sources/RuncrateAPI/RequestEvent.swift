import Foundation
import Logging

/// One line of the request log: an attempt and what the client decided after it. Carries no key.
public struct RequestEvent: Sendable, CustomStringConvertible {
    public enum Phase: String, Sendable {
        /// An attempt finished with an HTTP answer or a transport failure.
        case attempt
        /// The client will wait `wait` seconds and send again.
        case retry
        /// An ambiguous create failure: listing instances by name to find what it made.
        case reconcile
        /// Reconciliation found the instance this call created and returns it.
        case adopted
        /// The call ends with `errorCode`.
        case failed
    }

    public var phase: Phase
    public var method: String
    /// Full URL with query; never contains the key.
    public var url: String
    public var attempt: Int
    public var maxAttempts: Int
    public var status: Int?
    /// Seconds the attempt took.
    public var duration: Double?
    public var errorCode: String?
    public var failure: FailureClass?
    public var wait: Double?
    /// For `.retry`: the wait is the one the server asked for (`Retry-After`, `X-RateLimit-Reset`),
    /// not the client's own backoff.
    public var waitAskedByServer: Bool = false
    /// What the request is about (`h100-sxm x1` for a create; else method and path).
    public var subject: String?
    public var note: String?

    /// For a `.retry` event, one line for a person: what is waited for, how long, and why —
    /// `waiting 30 s: h100-sxm x1 sold out (503, Retry-After), attempt 2 of 4`. Nil for other phases.
    public var waitNotice: String? {
        guard phase == .retry, let wait else { return nil }
        let what = subject ?? method
        let why: String
        switch failure {
        case .noCapacity?: why = "\(what) \(method == "POST" ? "sold out" : "unavailable")"
        case .rateLimited?: why = "\(what) rate limited"
        case .notSent?: why = "\(what) could not be sent"
        case .lostInFlight?: why = "\(what) got no answer"
        default: why = "\(what) failed"
        }
        let cause = status.map(String.init) ?? errorCode ?? failure?.rawValue ?? "error"
        let shown = wait >= 1 ? Seconds.text(wait.rounded()) : String(format: "%.1f", wait)
        return "waiting \(shown) s: \(why) "
            + "(\(cause), \(waitAskedByServer ? "Retry-After" : "backoff")), attempt \(attempt + 1) of \(maxAttempts)"
    }

    public var description: String {
        var text = "\(method) \(url)"
        switch phase {
        case .attempt:
            text += " -> " + (status.map(String.init) ?? (errorCode ?? "error"))
            if let duration { text += String(format: " in %.3fs", duration) }
            text += " (attempt \(attempt)/\(maxAttempts))"
        case .retry:
            text += String(format: " retrying in %.2fs", wait ?? 0) + " after \(failure?.rawValue ?? "failure") (next attempt \(attempt + 1)/\(maxAttempts))"
        case .reconcile:
            text += " outcome unknown after \(failure?.rawValue ?? "failure"): listing instances by name"
        case .adopted, .failed:
            text += " \(phase.rawValue)"
        }
        if let note { text += ": \(note)" }
        return text
    }
}

/// Injectable effects: sleeping, the clock, randomness, and where the request log goes.
public struct ClientHooks: Sendable {
    public var sleep: @Sendable (Double) async throws -> Void
    public var now: @Sendable () -> Date
    public var random: @Sendable () -> Double
    /// Called for every attempt and decision (the `--verbose` log), already redacted.
    public var onEvent: (@Sendable (RequestEvent) -> Void)?
    /// Gets one `info` line per event when set.
    public var logger: Logger?

    public init(
        sleep: @escaping @Sendable (Double) async throws -> Void = { seconds in
            try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
        },
        now: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        onEvent: (@Sendable (RequestEvent) -> Void)? = nil,
        logger: Logger? = nil
    ) {
        self.sleep = sleep
        self.now = now
        self.random = random
        self.onEvent = onEvent
        self.logger = logger
    }
}

/// Removes the key from any text that might be shown: the exact secrets, and anything that looks like
/// a Runcrate key (`rc_live_…`), so a truncated echo cannot leak part of one.
struct Redactor: Sendable, CustomReflectable {
    var customMirror: Mirror { Mirror(self, children: ["secrets": "***"]) }
    let secrets: [String]

    func callAsFunction(_ text: String) -> String {
        var out = text
        for secret in secrets where !secret.isEmpty {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return Redactor.maskKeys(out)
    }

    func callAsFunction(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): return .string(self(text))
        case .array(let items): return .array(items.map { self($0) })
        case .object(let members): return .object(Dictionary(uniqueKeysWithValues: members.map { (self($0.key), self($0.value)) }))
        default: return value
        }
    }

    static func maskKeys(_ text: String) -> String {
        guard text.contains("rc_live_") else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: "rc_live_") {
            out += rest[..<range.lowerBound]
            out += "rc_live_***"
            rest = rest[range.upperBound...].drop { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        }
        return out + rest
    }
}
