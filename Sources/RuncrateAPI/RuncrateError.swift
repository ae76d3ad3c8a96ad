import Foundation

/// Every failure this library reports. Branch on `code`; the rest is for people and logs.
public struct RuncrateError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A short, stable identifier (`validation_error`, `rate_limited`, …) that scripts branch on.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// The request failed local validation; see `fieldErrors`. Also HTTP 422.
        public static let validationError: Code = "validation_error"
        /// HTTP 400.
        public static let badRequest: Code = "bad_request"
        /// HTTP 401: missing or invalid key.
        public static let unauthorized: Code = "unauthorized"
        /// HTTP 402: out of credits or the environment's budget is spent.
        public static let insufficientCredits: Code = "insufficient_credits"
        /// HTTP 403.
        public static let forbidden: Code = "forbidden"
        /// HTTP 404.
        public static let notFound: Code = "not_found"
        /// HTTP 409: duplicate, or instance not live.
        public static let conflict: Code = "conflict"
        /// HTTP 429; `retryAfter` holds the wait the server asked for.
        public static let rateLimited: Code = "rate_limited"
        /// HTTP 503: no capacity, nothing was created.
        public static let noCapacity: Code = "no_capacity"
        /// HTTP 500 saying the configuration is no longer available (sold out); nothing was created.
        public static let soldOut: Code = "sold_out"
        /// HTTP 502 `launch_refused`: final, never retried.
        public static let launchRefused: Code = "launch_refused"
        /// Other 5xx.
        public static let serverError: Code = "server_error"
        /// The call took longer than its timeout, or HTTP 504.
        public static let timeout: Code = "timeout"
        /// The server could not be reached or the connection broke.
        public static let networkError: Code = "network_error"
        /// A 2xx whose body is not the JSON expected.
        public static let invalidResponse: Code = "invalid_response"
        /// Key, base URL, environment or config file unusable; raised before any request.
        public static let configurationError: Code = "configuration_error"
        /// The caller cancelled the call.
        public static let cancelled: Code = "cancelled"
        /// A create failed ambiguously and the instance it may have made could not be identified.
        public static let createOutcomeUnknown: Code = "create_outcome_unknown"
    }

    public var code: Code
    public var message: String
    /// HTTP status, when a response arrived.
    public var status: Int?
    /// The `error.code` the server sent (`invalid_api_key`, `BUDGET_REACHED`, …).
    public var serverCode: String?
    /// The server's `error.details`.
    public var details: JSONValue?
    /// For `validation_error`: every offending field.
    public var fieldErrors: [FieldError]
    /// `X-Request-Id` or `meta.requestId`, for support.
    public var requestID: String?
    /// Seconds the server asked to wait (Retry-After / X-RateLimit-Reset).
    public var retryAfter: Double?
    /// Whether the same call may succeed if tried again later.
    public var isRetryable: Bool
    /// How many times the request was sent before this error was final.
    public var attempts: Int

    public init(
        code: Code, message: String, status: Int? = nil, serverCode: String? = nil, details: JSONValue? = nil,
        fieldErrors: [FieldError] = [], requestID: String? = nil, retryAfter: Double? = nil,
        isRetryable: Bool? = nil, attempts: Int = 0
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.serverCode = serverCode
        self.details = details
        self.fieldErrors = fieldErrors
        self.requestID = requestID
        self.retryAfter = retryAfter
        self.isRetryable = isRetryable ?? RuncrateError.retryableCodes.contains(code)
        self.attempts = attempts
    }

    static let retryableCodes: Set<Code> = [.rateLimited, .noCapacity, .serverError, .timeout, .networkError]

    /// `validation_error: name is required; gpu_count must be an integer >= 1 (got 0)`.
    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let status { text += " (HTTP \(status))" }
        return text
    }

    public var debugDescription: String {
        var parts = ["code: \(code.rawValue)", "message: \(message.debugDescription)"]
        if let status { parts.append("status: \(status)") }
        if let serverCode { parts.append("serverCode: \(serverCode)") }
        if let details { parts.append("details: \(details.serialized)") }
        if !fieldErrors.isEmpty { parts.append("fieldErrors: [\(fieldErrors.map(\.description).joined(separator: "; "))]") }
        if let requestID { parts.append("requestID: \(requestID)") }
        if let retryAfter { parts.append("retryAfter: \(retryAfter)") }
        parts.append("retryable: \(isRetryable)")
        parts.append("attempts: \(attempts)")
        return "RuncrateError(\(parts.joined(separator: ", ")))"
    }

    public static func validation(_ errors: [FieldError]) -> RuncrateError {
        RuncrateError(
            code: .validationError, message: errors.map(\.description).joined(separator: "; "), fieldErrors: errors,
            isRetryable: false)
    }

    public static func configuration(_ message: String) -> RuncrateError {
        RuncrateError(code: .configurationError, message: message, isRetryable: false)
    }
}
