import Foundation

/// How a call may be retried (see `RetryPolicy`).
public enum CallKind: String, Sendable, Hashable, CaseIterable {
    /// GET, PATCH, DELETE: safe to send again.
    case idempotent
    /// `POST /instances`: bills on every arrival; reconciled by name after an ambiguous failure.
    case createInstance
    /// Other POSTs (ssh key, volume, environment): resent only when they provably did not arrive.
    case otherCreate
}

public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The status, headers and body of one HTTP answer.
public struct RawResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data

    public init(status: Int, headers: [(String, String)] = [], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// A request that passed validation. Only the library makes these; the transport accepts nothing else.
public struct PreparedRequest<Response: Sendable>: Sendable {
    public let method: String
    /// Path under `/api/v1`, already percent-encoded (`/instances/abc`).
    public let path: String
    public let query: [QueryItem]
    /// The exact body that is sent.
    public let body: JSONValue?
    /// The body with secret values shown as `***`, for logs and plans.
    public let redactedBody: JSONValue?
    public let kind: CallKind
    /// Things worth telling the caller that are not errors (no SSH key given, …).
    public let warnings: [String]
    /// What the request is about in a few words, for notices (`h100-sxm x1`); else method and path.
    public let subject: String
    let decode: @Sendable (RawResponse) throws(RuncrateError) -> Response

    init(
        method: String, path: String, query: [QueryItem] = [], body: JSONValue? = nil, redactedBody: JSONValue? = nil,
        kind: CallKind? = nil, warnings: [String] = [], subject: String? = nil,
        decode: @escaping @Sendable (RawResponse) throws(RuncrateError) -> Response
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.redactedBody = redactedBody ?? body
        self.kind = kind ?? (method == "POST" ? .otherCreate : .idempotent)
        self.warnings = warnings
        self.subject = subject ?? "\(method) \(path)"
        self.decode = decode
    }
}

/// Turns `{"data": …}` answers into models; anything unexpected is `invalid_response`.
enum ResponseDecoding {
    static func json(_ response: RawResponse) throws(RuncrateError) -> JSONValue {
        guard let value = JSONValue.parse(response.body) else {
            let snippet = String(decoding: response.body.prefix(80), as: UTF8.self)
            throw RuncrateError(
                code: .invalidResponse,
                message: response.body.isEmpty
                    ? "expected a JSON body in the HTTP \(response.status) answer (got an empty body)"
                    : "expected a JSON body in the HTTP \(response.status) answer (got \(snippet.debugDescription))",
                status: response.status, isRetryable: false)
        }
        return value
    }

    /// The `data` member, or the whole body when the server left the envelope out.
    static func payload(_ response: RawResponse) throws(RuncrateError) -> JSONValue {
        let top = try json(response)
        if let data = top["data"] { return data }
        if case .array = top { return top }
        if top["id"] != nil { return top }
        throw RuncrateError(
            code: .invalidResponse, message: "expected {\"data\": …} in the answer (got \(top.shortDescription))",
            status: response.status, isRetryable: false)
    }

    static func one<M: RuncrateModel>(_ type: M.Type) -> @Sendable (RawResponse) throws(RuncrateError) -> M {
        { response throws(RuncrateError) in
            do throws(RuncrateError) {
                return try M(raw: try payload(response))
            } catch {
                var error = error
                error.status = response.status
                throw error
            }
        }
    }

    static func list<M: RuncrateModel>(_ type: M.Type) -> @Sendable (RawResponse) throws(RuncrateError) -> [M] {
        { response throws(RuncrateError) in try page(M.self)(response).items }
    }

    static func page<M: RuncrateModel>(_ type: M.Type) -> @Sendable (RawResponse) throws(RuncrateError) -> Page<M> {
        { response throws(RuncrateError) in
            let top = try json(response)
            let payload = top["data"] ?? top
            guard case .array(let elements) = payload else {
                throw RuncrateError(
                    code: .invalidResponse,
                    message: "expected a list of \(M.kind)s in the answer (got \(payload.shortDescription))",
                    status: response.status, isRetryable: false)
            }
            var items: [M] = []
            for (index, element) in elements.enumerated() {
                do throws(RuncrateError) {
                    items.append(try M(raw: element))
                } catch {
                    var error = error
                    error.message = "item \(index): \(error.message)"
                    error.status = response.status
                    throw error
                }
            }
            return Page(items: items, meta: top["meta"].map(ListMeta.init(raw:)))
        }
    }

    static func delete(_ response: RawResponse) throws(RuncrateError) -> DeleteResult {
        if response.status == 204 || response.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }) {
            return DeleteResult(status: response.status, raw: .null)
        }
        let top = try json(response)
        return DeleteResult(status: response.status, raw: top["data"] ?? top)
    }

    static func balance(_ response: RawResponse) throws(RuncrateError) -> Balance {
        let top = try json(response)
        return try Balance(raw: top["data"] ?? top)
    }
}

enum PathEncoding {
    static let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func segment(_ raw: String) -> String {
        raw.addingPercentEncoding(withAllowedCharacters: allowed) ?? raw
    }
}
