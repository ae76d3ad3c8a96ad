import Foundation

/// What went wrong with one attempt, as far as retrying is concerned.
public enum FailureClass: String, Sendable, Hashable, CaseIterable {
    /// Connection refused or connect timeout: the request provably never reached the server.
    case notSent = "not_sent"
    /// Read timeout, deadline, dropped or reset connection: it may have arrived and been acted on.
    case lostInFlight = "lost_in_flight"
    /// 429.
    case rateLimited = "429"
    /// 503: no capacity, nothing was created.
    case noCapacity = "503"
    /// 500 whose message says the configuration is "no longer available": nothing was created.
    case soldOut = "500_sold_out"
    /// Any other 500.
    case serverError = "500"
    /// 502 with `launch_refused`.
    case launchRefused = "502_launch_refused"
    /// Any other 502.
    case badGateway = "502"
    /// 504: the create may or may not have happened.
    case gatewayTimeout = "504"
    /// Any other status >= 400 (400, 401, 402, 403, 404, 409, 422, …).
    case clientError = "4xx"
    /// A 2xx whose body could not be decoded.
    case invalidResponse = "invalid_response"
}

/// What to do after a failed attempt.
public enum RetryAction: String, Sendable, Hashable {
    /// Send the same request again after a wait.
    case retry
    /// List instances by name; adopt the one this call created; only if there is none, retry.
    case reconcile
    /// Give up with the error.
    case fail
}

/// The retry rules of runcrate-api.md §5 as one table, plus bounded waits.
public struct RetryPolicy: Sendable, Hashable {
    /// Total sends of one request, the first included.
    public var maxAttempts: Int
    /// First backoff wait, seconds; doubles each attempt.
    public var baseDelay: Double
    /// Cap on one backoff wait.
    public var maxDelay: Double
    /// The longest server-requested wait (Retry-After, X-RateLimit-Reset) honoured; a longer one fails
    /// at once with `rate_limited` and `retryAfter` set, instead of sleeping for it.
    public var maxServerWait: Double
    /// Backoff waits are spread by ± this fraction.
    public var jitter: Double
    /// The most one call waits in total between its attempts, seconds (a create's own
    /// `max_wait` / `retry = false` replaces it). A wait that would pass it ends the call at once
    /// with the last error, instead of sleeping first: with the defaults a sold-out create
    /// answering `Retry-After: 30` is sent three times over about a minute, not four over 90 s.
    public var maxTotalWait: Double
    /// After an ambiguous create, an instance that was not in the listing taken before the send
    /// counts as new only if its `created_at` is no more than this many seconds before that
    /// listing's `Date` (the server's clock, never this machine's): `Date` has whole seconds, and
    /// some deployments stamp `created_at` on another host.
    public var createClockSkew: Double

    public init(
        maxAttempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 8, maxServerWait: Double = 60,
        jitter: Double = 0.2, maxTotalWait: Double = 60, createClockSkew: Double = 5
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxServerWait = maxServerWait
        self.jitter = min(max(jitter, 0), 1)
        self.maxTotalWait = max(0, maxTotalWait)
        self.createClockSkew = max(0, createClockSkew)
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The matrix. Rows: what happened; columns: the kind of call.
    public static let matrix: [FailureClass: [CallKind: RetryAction]] = [
        .notSent:         [.idempotent: .retry, .createInstance: .retry,     .otherCreate: .retry],
        .lostInFlight:    [.idempotent: .retry, .createInstance: .reconcile, .otherCreate: .fail],
        .rateLimited:     [.idempotent: .retry, .createInstance: .retry,     .otherCreate: .retry],
        .noCapacity:      [.idempotent: .retry, .createInstance: .retry,     .otherCreate: .retry],
        .soldOut:         [.idempotent: .retry, .createInstance: .fail,      .otherCreate: .fail],
        .serverError:     [.idempotent: .retry, .createInstance: .reconcile, .otherCreate: .fail],
        .launchRefused:   [.idempotent: .fail,  .createInstance: .fail,      .otherCreate: .fail],
        .badGateway:      [.idempotent: .retry, .createInstance: .reconcile, .otherCreate: .fail],
        .gatewayTimeout:  [.idempotent: .retry, .createInstance: .reconcile, .otherCreate: .fail],
        .clientError:     [.idempotent: .fail,  .createInstance: .fail,      .otherCreate: .fail],
        .invalidResponse: [.idempotent: .fail,  .createInstance: .fail,      .otherCreate: .fail],
    ]

    public static func action(for failure: FailureClass, kind: CallKind) -> RetryAction {
        matrix[failure]?[kind] ?? .fail
    }

    /// Backoff before attempt `failedAttempts + 1`: `baseDelay · 2^(failedAttempts-1)`, capped, with
    /// jitter; `random` is in [0, 1).
    public func backoff(afterAttempt failedAttempts: Int, random: Double) -> Double {
        let exponential = baseDelay * pow(2, Double(max(0, failedAttempts - 1)))
        let capped = min(maxDelay, exponential)
        let spread = capped * (1 - jitter + 2 * jitter * random)
        return max(0, min(maxDelay, spread))
    }

    /// The wait the server asked for: `Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset`
    /// (Unix time; small values are taken as seconds from now).
    public static func serverWait(retryAfter: String?, rateLimitReset: String?, now: Date) -> Double? {
        if let text = retryAfter?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let seconds = Double(text) { return max(0, seconds) }
            if let date = HTTPDate.parse(text) { return max(0, date.timeIntervalSince(now)) }
        }
        if let text = rateLimitReset?.trimmingCharacters(in: .whitespaces), let value = Double(text) {
            if value < 1_000_000_000 { return max(0, value) }
            let seconds = value > 1e11 ? value / 1000 : value
            return max(0, seconds - now.timeIntervalSince1970)
        }
        return nil
    }
}

/// Seconds as people write them: `30`, `2.5`.
enum Seconds {
    static func text(_ seconds: Double) -> String {
        seconds.isFinite && seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}

/// What one call may still wait between its attempts, shared by every request it makes (a create's
/// listings and its sends).
final class WaitAllowance: @unchecked Sendable {
    let seconds: Double
    private var spent = 0.0
    private let lock = NSLock()

    init(seconds: Double) { self.seconds = max(0, seconds) }

    /// Takes `wait` from what is left; false, taking nothing, when it would pass the bound.
    func take(_ wait: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard spent + wait <= seconds + 1e-9 else { return false }
        spent += wait
        return true
    }
}

enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
