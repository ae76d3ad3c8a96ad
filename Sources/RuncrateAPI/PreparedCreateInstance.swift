import Foundation

/// A create request that passed every rule of §3. The only form `createInstance` accepts.
public struct PreparedCreateInstance: Sendable, Hashable, CustomStringConvertible {
    public let request: CreateInstanceRequest
    public var name: String { request.name ?? "" }
    /// Not errors, but worth showing (no SSH key).
    public let warnings: [String]

    public init(_ request: CreateInstanceRequest) throws(RuncrateError) {
        var v = Validator()
        CreateRules.validate(request, into: &v)
        try v.finish()
        self.request = request
        self.warnings = CreateRules.warnings(request)
    }

    /// The bytes of §3 that are sent.
    public var body: JSONValue { request.wireBody() }
    /// The same with secret env values as `***`.
    public var redactedBody: JSONValue { request.wireBody(redacted: true) }

    public var description: String { "PreparedCreateInstance(\(redactedBody.serialized))" }
}
