import Foundation

/// One request as the sandbox saw it. The API key never appears: it is shown as `rc_live_***`.
public struct SandboxRequestRecord: Sendable, Codable, Equatable {
    public var time: String
    public var requestID: String
    public var method: String
    public var path: String
    public var query: String?
    /// The §2 route name (`instances.create`, …), `_sandbox` for control calls, nil when no route matched.
    public var route: String?
    public var status: Int
    /// The Authorization header, redacted.
    public var authorization: String?
    /// The request body as text, redacted; nil when empty.
    public var body: String?
    /// The fault rule that shaped the answer, if any.
    public var fault: String?
    public var latencyMs: Int?
}

enum Redact {
    /// Replaces every `rc_live_…` key in `text` with `rc_live_***`.
    static func keys(_ text: String) -> String {
        text.replacingOccurrences(of: "rc_live_[A-Za-z0-9_\\-\\.]+", with: "rc_live_***", options: .regularExpression)
    }

    static func authorization(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "***" }
        return "Bearer " + (parts[1].hasPrefix("rc_live_") ? "rc_live_***" : "***")
    }
}
