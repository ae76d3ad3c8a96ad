import Foundation

/// What a route handler answers before faults and framing: a status, a JSON body (nil = empty), headers.
struct APIResult: Sendable {
    var status: Int
    var body: JSON?
    var headers: [(String, String)] = []
    /// Pre-serialised body, used instead of `body` when set (the cached catalogue).
    var rawBody: String? = nil

    static func data(_ value: JSON, status: Int = 200) -> APIResult {
        APIResult(status: status, body: .object([("data", value)]))
    }

    static func list(_ items: [JSON], requestID: String, total: Int? = nil, hasMore: Bool = false) -> APIResult {
        APIResult(status: 200, body: .object([
            ("data", .array(items)),
            ("meta", .object([
                ("cursor", .null),
                ("hasMore", .bool(hasMore)),
                ("total", .int(total ?? items.count)),
                ("requestId", .string(requestID)),
            ])),
        ]))
    }

    static let noContent = APIResult(status: 204, body: nil)
}

/// An error answered with the §4 body: `{"error": {"code", "message", "details"?}}`.
struct APIError: Error, Sendable {
    var status: Int
    var code: String
    var message: String
    var details: JSON? = nil
    var headers: [(String, String)] = []

    var result: APIResult {
        var error: [(String, JSON)] = [("code", .string(code)), ("message", .string(message))]
        if let details { error.append(("details", details)) }
        return APIResult(status: status, body: .object([("error", .object(error))]), headers: headers)
    }

    static func badRequest(_ message: String) -> APIError { APIError(status: 400, code: "bad_request", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: 404, code: "not_found", message: message) }
    static func conflict(_ message: String) -> APIError { APIError(status: 409, code: "conflict", message: message) }
    static let unauthorized = APIError(status: 401, code: "unauthorized",
                                       message: "Missing or invalid API key. Send Authorization: Bearer rc_live_…")

    /// A 422 naming every offending field; the message names the first.
    static func validation(_ problems: [FieldProblem]) -> APIError {
        let first = problems[0]
        return APIError(
            status: 422, code: "validation_error",
            message: problems.count == 1 ? "\(first.field): \(first.message)"
                : "\(first.field): \(first.message) (and \(problems.count - 1) more)",
            details: .object([
                ("field", .string(first.field)),
                ("errors", .array(problems.map { .object([("field", .string($0.field)), ("message", .string($0.message))]) })),
            ]))
    }

    /// The body a fault answers with for a bare status: the §4 code for it, when there is one.
    static func forStatus(_ status: Int, code: String? = nil, message: String? = nil) -> APIError {
        let (defaultCode, defaultMessage): (String, String) = switch status {
        case 400: ("bad_request", "Bad request")
        case 401: ("unauthorized", "Missing or invalid API key")
        case 402: ("insufficient_credits", "Insufficient credits")
        case 403: ("forbidden", "This API key lacks permission for this action")
        case 404: ("not_found", "Not found")
        case 409: ("conflict", "Conflict")
        case 422: ("validation_error", "Validation failed")
        case 429: ("rate_limited", "Too many requests")
        case 502: ("launch_refused", "The launch was refused by the provider")
        case 503: ("no_capacity", "No capacity available for this configuration")
        case 504: ("gateway_timeout", "Gateway timeout")
        default: ("internal_error", "Internal server error")
        }
        return APIError(status: status, code: code ?? defaultCode, message: message ?? defaultMessage)
    }
}

struct FieldProblem: Sendable, Equatable {
    var field: String
    var message: String
}
