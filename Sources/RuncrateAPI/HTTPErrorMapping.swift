import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// Turns HTTP answers and transport failures into `RuncrateError` plus the retry class.
enum HTTPErrorMapping {
    static func error(for response: RawResponse, now: Date) -> (RuncrateError, FailureClass) {
        let json = JSONValue.parse(response.body)
        var serverCode: String?
        var message: String?
        var details: JSONValue?
        switch json?["error"] {
        case .object?:
            let error = json!["error"]!
            serverCode = error["code"]?.stringValue
            message = error["message"]?.stringValue
            details = error["details"].flatMap { $0.isNull ? nil : $0 }
        case .string(let text)?:
            message = text
        default:
            break
        }
        message = message ?? json?["message"]?.stringValue
        serverCode = serverCode ?? json?["code"]?.stringValue
        if message == nil, json == nil, !response.body.isEmpty {
            let snippet = String(decoding: response.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !snippet.isEmpty { message = snippet }
        }
        let requestID = response.header("x-request-id") ?? json?["meta"]?["requestId"]?.stringValue
            ?? json?["error"]?["request_id"]?.stringValue ?? json?["error"]?["requestId"]?.stringValue
        let status = response.status
        let text = message ?? "HTTP \(status)"
        let lower = (text + " " + (serverCode ?? "")).lowercased()

        let code: RuncrateError.Code
        let failure: FailureClass
        var fieldErrors: [FieldError] = []
        var retryAfter: Double?
        switch status {
        case 400: (code, failure) = (.badRequest, .clientError)
        case 401: (code, failure) = (.unauthorized, .clientError)
        case 402: (code, failure) = (.insufficientCredits, .clientError)
        case 403: (code, failure) = (.forbidden, .clientError)
        case 404: (code, failure) = (.notFound, .clientError)
        case 409: (code, failure) = (.conflict, .clientError)
        case 422:
            (code, failure) = (.validationError, .clientError)
            fieldErrors = serverFieldErrors(details)
        case 429:
            (code, failure) = (.rateLimited, .rateLimited)
        case 500 where lower.contains("no longer available"):
            (code, failure) = (.soldOut, .soldOut)
        case 502 where serverCode?.lowercased() == "launch_refused":
            (code, failure) = (.launchRefused, .launchRefused)
        case 502: (code, failure) = (.serverError, .badGateway)
        case 503: (code, failure) = (.noCapacity, .noCapacity)
        case 504: (code, failure) = (.timeout, .gatewayTimeout)
        case 500...599: (code, failure) = (.serverError, .serverError)
        default: (code, failure) = (status >= 500 ? .serverError : .badRequest, .clientError)
        }
        if status == 429 || status == 503 {
            retryAfter = RetryPolicy.serverWait(
                retryAfter: response.header("retry-after"), rateLimitReset: response.header("x-ratelimit-reset"), now: now)
        }
        let retryable: Bool
        switch failure {
        case .clientError, .launchRefused, .soldOut, .invalidResponse: retryable = false
        default: retryable = true
        }
        let error = RuncrateError(
            code: code, message: text, status: status, serverCode: serverCode, details: details,
            fieldErrors: fieldErrors, requestID: requestID, retryAfter: retryAfter, isRetryable: retryable)
        return (error, failure)
    }

    /// Reads `details` of a 422 as field errors: `{"errors": [{field|path, message}]}`,
    /// `{"fields": {name: message}}` or `{name: message | [message]}`.
    static func serverFieldErrors(_ details: JSONValue?) -> [FieldError] {
        guard let details else { return [] }
        if let list = (details["errors"] ?? details["fields"])?.arrayValue ?? details.arrayValue {
            return list.compactMap { item in
                guard let message = item["message"]?.stringValue else { return nil }
                return FieldError(item["field"]?.stringValue ?? item["path"]?.stringValue ?? "", message)
            }
        }
        let map = details["fields"]?.objectValue ?? details.objectValue ?? [:]
        return map.keys.sorted().compactMap { key in
            switch map[key]! {
            case .string(let message): return FieldError(key, message)
            case .array(let messages): return FieldError(key, messages.compactMap(\.stringValue).joined(separator: "; "))
            default: return nil
            }
        }
    }

    /// A thrown transport error: did the request provably not leave, or may it have arrived?
    static func error(forTransport error: Error) -> (RuncrateError, FailureClass) {
        if error is CancellationError {
            return (RuncrateError(code: .cancelled, message: "the call was cancelled", isRetryable: false), .clientError)
        }
        if let http = error as? HTTPClientError {
            switch http {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return (RuncrateError(code: .timeout, message: "could not connect in time (\(http))"), .notSent)
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return (RuncrateError(code: .timeout, message: "no answer within the timeout"), .lostInFlight)
            case .remoteConnectionClosed:
                return (RuncrateError(code: .networkError, message: "the server closed the connection before answering"), .lostInFlight)
            case .cancelled:
                return (RuncrateError(code: .cancelled, message: "the call was cancelled", isRetryable: false), .clientError)
            default:
                return (RuncrateError(code: .networkError, message: "HTTP failure: \(http)"), .lostInFlight)
            }
        }
        if let connection = error as? NIOConnectionError {
            let detail = connection.connectionErrors.first.map { "\($0.error)" } ?? "\(connection)"
            return (RuncrateError(code: .networkError, message: "could not connect to \(connection.host):\(connection.port) (\(detail))"), .notSent)
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return (RuncrateError(code: .timeout, message: "could not connect in time"), .notSent)
        }
        if let io = error as? IOError {
            if io.errnoCode == ECONNREFUSED || io.errnoCode == ENETUNREACH || io.errnoCode == EHOSTUNREACH {
                return (RuncrateError(code: .networkError, message: "could not connect (\(io))"), .notSent)
            }
            return (RuncrateError(code: .networkError, message: "connection failed (\(io))"), .lostInFlight)
        }
        return (RuncrateError(code: .networkError, message: "request failed: \(error)"), .lostInFlight)
    }
}
