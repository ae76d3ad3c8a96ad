import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The Runcrate API client. One instance holds one connection pool: create it once, call
/// `shutdown()` when done. All methods throw `RuncrateError` only.
public final class RuncrateClient: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let configuration: RuncrateConfiguration
    let hooks: ClientHooks
    let http: HTTPClient
    let redact: Redactor
    private let shutDown = OnceFlag()

    public init(configuration: RuncrateConfiguration, hooks: ClientHooks = ClientHooks()) {
        self.configuration = configuration
        self.hooks = hooks
        self.redact = Redactor(secrets: [configuration.apiKey.reveal()])
        var httpConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(configuration.timeouts.connect * 1000))))
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.httpVersion = .http1Only
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    }

    /// Closes pooled connections. Call it when done; a client released without it shuts its pool down
    /// in the background.
    public func shutdown() async throws {
        guard shutDown.set() else { return }
        do { try await http.shutdown() } catch { throw HTTPErrorMapping.error(forTransport: error).0 }
    }

    /// `shutdown()` for plain threads (never call it from inside a Swift task or on an event loop).
    public func shutdownBlocking() throws {
        guard shutDown.set() else { return }
        do { try http.syncShutdown() } catch { throw HTTPErrorMapping.error(forTransport: error).0 }
    }

    deinit {
        if shutDown.set() { _ = http.shutdown() }
    }

    public var description: String { "RuncrateClient(\(configuration.description))" }
    public var debugDescription: String { description }
}

extension RuncrateClient: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: ["configuration": configuration]) }
}

extension RuncrateClient {
    // MARK: Endpoints

    public func listInstances(search: String? = nil) async throws -> [Instance] {
        try await send(try Endpoint.listInstances(search: search))
    }

    /// Creates (launches) one instance. Never sends the create twice unless the first provably did not
    /// arrive or the server said nothing was created; after an ambiguous failure it adopts the
    /// instance this call made (see `RetryPolicy.matrix`).
    public func createInstance(_ prepared: PreparedCreateInstance) async throws -> Instance {
        let started = hooks.now()
        return try await send(
            Endpoint.createInstance(prepared),
            reconcile: { [self] in try await self.findCreated(prepared, startedAt: started) })
    }

    /// Validates, then creates. Throws `validation_error` with every problem before any request.
    public func createInstance(_ request: CreateInstanceRequest) async throws -> Instance {
        try await createInstance(try PreparedCreateInstance(request))
    }

    public func getInstance(id: String) async throws -> Instance { try await send(try Endpoint.getInstance(id: id)) }

    public func updateInstance(id: String, _ update: UpdateInstanceRequest) async throws -> Instance {
        try await send(try Endpoint.updateInstance(id: id, update))
    }

    public func deleteInstance(id: String) async throws -> DeleteResult { try await send(try Endpoint.deleteInstance(id: id)) }

    public func instanceStatus(id: String) async throws -> InstanceStatus {
        try await send(try Endpoint.instanceStatus(id: id))
    }

    public func instanceTypes(_ filter: ListInstanceTypesRequest = .init()) async throws -> [InstanceType] {
        try await send(try Endpoint.instanceTypes(filter))
    }

    public func sshKeys() async throws -> [SSHKey] { try await send(Endpoint.sshKeys()) }

    public func createSSHKey(_ request: CreateSSHKeyRequest) async throws -> SSHKey {
        try await send(try Endpoint.createSSHKey(request))
    }

    public func deleteSSHKey(id: String) async throws -> DeleteResult { try await send(try Endpoint.deleteSSHKey(id: id)) }

    public func volumes(search: String? = nil) async throws -> [Volume] { try await send(try Endpoint.volumes(search: search)) }

    public func createVolume(_ request: CreateVolumeRequest) async throws -> Volume {
        try await send(try Endpoint.createVolume(request))
    }

    public func volume(id: String) async throws -> Volume { try await send(try Endpoint.volume(id: id)) }

    public func resizeVolume(id: String, sizeGB: Int) async throws -> Volume {
        try await send(try Endpoint.resizeVolume(id: id, sizeGB: sizeGB))
    }

    public func deleteVolume(id: String) async throws -> DeleteResult { try await send(try Endpoint.deleteVolume(id: id)) }

    public func volumeRegions() async throws -> [StorageRegion] { try await send(Endpoint.volumeRegions()) }

    public func templates(_ request: ListTemplatesRequest = .init()) async throws -> Page<Template> {
        try await send(try Endpoint.templates(request))
    }

    public func environments() async throws -> [Environment] { try await send(Endpoint.environments()) }

    public func createEnvironment(name: String) async throws -> Environment {
        try await send(try Endpoint.createEnvironment(name: name))
    }

    public func environment(id: String) async throws -> Environment { try await send(try Endpoint.environment(id: id)) }

    public func updateEnvironment(id: String, _ update: UpdateEnvironmentRequest) async throws -> Environment {
        try await send(try Endpoint.updateEnvironment(id: id, update))
    }

    public func deleteEnvironment(id: String) async throws -> DeleteResult {
        try await send(try Endpoint.deleteEnvironment(id: id))
    }

    public func balance() async throws -> Balance { try await send(Endpoint.balance()) }

    // MARK: Sending

    /// Sends a prepared request under the retry policy and decodes the answer.
    public func send<Response>(_ request: PreparedRequest<Response>) async throws -> Response {
        try await send(request, reconcile: nil)
    }

    /// The URL a prepared request goes to, with `?environment=` when configured.
    public func url<Response>(for request: PreparedRequest<Response>) -> String {
        var items = request.query
        if let environment = configuration.environment { items.append(QueryItem("environment", environment)) }
        let query = items.map { "\(PathEncoding.segment($0.name))=\(PathEncoding.segment($0.value))" }.joined(separator: "&")
        return configuration.baseURL + "/api/v1" + request.path + (query.isEmpty ? "" : "?" + query)
    }

    func send<Response>(
        _ request: PreparedRequest<Response>, reconcile: (@Sendable () async throws -> Response?)?
    ) async throws -> Response {
        let policy = configuration.retry
        let url = self.url(for: request)
        let timeout = request.kind == .createInstance ? configuration.timeouts.create : configuration.timeouts.other
        var attempt = 0
        while true {
            attempt += 1
            if Task.isCancelled { throw RuncrateError(code: .cancelled, message: "the call was cancelled", isRetryable: false, attempts: attempt - 1) }
            let began = hooks.now()
            var error: RuncrateError
            var failure: FailureClass
            do {
                let response = try await perform(request, url: url, timeout: timeout)
                let duration = hooks.now().timeIntervalSince(began)
                emit(RequestEvent(phase: .attempt, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, status: response.status, duration: duration))
                if (200..<300).contains(response.status) {
                    do {
                        return try request.decode(response)
                    } catch {
                        var decodeError = error
                        decodeError.attempts = attempt
                        decodeError.message = redact(decodeError.message)
                        emit(RequestEvent(phase: .failed, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, status: response.status, errorCode: decodeError.code.rawValue, note: decodeError.message))
                        throw decodeError
                    }
                }
                (error, failure) = HTTPErrorMapping.error(for: response, now: hooks.now())
            } catch let transport as TransportFailure {
                (error, failure) = HTTPErrorMapping.error(forTransport: transport.underlying)
                emit(RequestEvent(phase: .attempt, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, duration: hooks.now().timeIntervalSince(began), errorCode: error.code.rawValue, failure: failure, note: redact(error.message)))
            }
            error.attempts = attempt
            error.message = redact(error.message)
            error.details = error.details.map { redact($0) }
            error.serverCode = error.serverCode.map { redact($0) }
            error.requestID = error.requestID.map { redact($0) }
            error.fieldErrors = error.fieldErrors.map { FieldError(path: $0.path, message: redact($0.message)) }
            if error.code == .cancelled { throw error }

            var action = RetryPolicy.action(for: failure, kind: request.kind)
            if action == .reconcile {
                guard let reconcile else { throw error }
                emit(RequestEvent(phase: .reconcile, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, failure: failure))
                let found: Response?
                do {
                    found = try await reconcile()
                } catch let unknown as RuncrateError {
                    var final = unknown
                    if final.code != .createOutcomeUnknown {
                        final = RuncrateError(
                            code: .createOutcomeUnknown,
                            message: "the create failed ambiguously (\(error.message)) and checking for the instance failed too (\(unknown.code): \(unknown.message)); not resent, to avoid a duplicate",
                            status: error.status, isRetryable: false)
                    }
                    final.attempts = attempt
                    emit(RequestEvent(phase: .failed, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, errorCode: final.code.rawValue, note: final.message))
                    throw final
                }
                if let found {
                    emit(RequestEvent(phase: .adopted, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, note: "the create had succeeded; returning the instance it made"))
                    return found
                }
                action = .retry
                error.message += " (no instance from this call exists)"
            }
            guard action == .retry, attempt < policy.maxAttempts else {
                emit(RequestEvent(phase: .failed, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, status: error.status, errorCode: error.code.rawValue, failure: failure, note: error.message))
                throw error
            }
            var wait = policy.backoff(afterAttempt: attempt, random: hooks.random())
            if let asked = error.retryAfter {
                guard asked <= policy.maxServerWait else {
                    error.message += String(format: " (the server asked to wait %.0fs, more than the %.0fs this client waits)", asked, policy.maxServerWait)
                    emit(RequestEvent(phase: .failed, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, status: error.status, errorCode: error.code.rawValue, failure: failure, note: error.message))
                    throw error
                }
                wait = asked
            }
            emit(RequestEvent(phase: .retry, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, status: error.status, errorCode: error.code.rawValue, failure: failure, wait: wait))
            do {
                try await hooks.sleep(wait)
            } catch {
                throw RuncrateError(code: .cancelled, message: "the call was cancelled while waiting to retry", isRetryable: false, attempts: attempt)
            }
        }
    }

    struct TransportFailure: Error { let underlying: Error }

    private func perform<Response>(_ request: PreparedRequest<Response>, url: String, timeout: Double) async throws -> RawResponse {
        var http = HTTPClientRequest(url: url)
        http.method = HTTPMethod(rawValue: request.method)
        http.headers.add(name: "Authorization", value: "Bearer \(configuration.apiKey.reveal())")
        http.headers.add(name: "User-Agent", value: configuration.userAgent)
        http.headers.add(name: "Accept", value: "application/json")
        if let body = request.body {
            http.headers.add(name: "Content-Type", value: "application/json")
            http.body = .bytes(ByteBuffer(string: body.serialized))
        }
        do {
            let response = try await self.http.execute(http, timeout: .milliseconds(Int64(timeout * 1000)))
            let body = try await response.body.collect(upTo: 16 << 20)
            return RawResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Data(buffer: body))
        } catch {
            throw TransportFailure(underlying: error)
        }
    }

    private func emit(_ event: RequestEvent) {
        var event = event
        event.note = event.note.map { redact($0) }
        event.url = redact(event.url)
        hooks.onEvent?(event)
        hooks.logger?.info("\(redact(event.description))")
    }

    // MARK: Reconciliation

    /// After an ambiguous create failure: the instance named like the request, created no earlier
    /// than the call started (less clock skew) and matching its spec. `nil` when there is none;
    /// `create_outcome_unknown` when a same-named instance exists that cannot be told apart.
    func findCreated(_ prepared: PreparedCreateInstance, startedAt: Date) async throws -> Instance? {
        let candidates = try await listInstances(search: prepared.name).filter { $0.name == prepared.name }
        let earliest = startedAt.addingTimeInterval(-configuration.retry.createClockSkew)
        var undated: [Instance] = []
        var ours: [Instance] = []
        for instance in candidates {
            guard let created = instance.createdAt else {
                undated.append(instance)
                continue
            }
            if created >= earliest, CreateMatch.matches(instance, prepared.request) { ours.append(instance) }
        }
        if let adopted = ours.min(by: { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }) { return adopted }
        if !undated.isEmpty {
            throw RuncrateError(
                code: .createOutcomeUnknown,
                message: "the create failed ambiguously and \(undated.count) instance(s) named \"\(prepared.name)\" have no creation time, so it is not known whether one is this call's (\(undated.map(\.id).joined(separator: ", "))); not resent, to avoid a duplicate",
                isRetryable: false)
        }
        return nil
    }
}

/// True from the first `set()` on; `set()` reports whether this call was the first.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func set() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}

/// Whether an instance in a list looks like the one a create request asked for.
enum CreateMatch {
    static func normalize(_ text: String) -> String { text.lowercased().filter { $0.isLetter || $0.isNumber } }

    static func matches(_ instance: Instance, _ request: CreateInstanceRequest) -> Bool {
        if let wanted = request.gpuType, let got = instance.gpuType, normalize(wanted) != normalize(got) { return false }
        if let wanted = request.instanceTypeID, let got = instance.raw.member("instance_type_id", "instanceTypeId")?.stringValue,
            wanted != got
        {
            return false
        }
        if let wanted = request.gpuCount, let got = instance.gpuCount, wanted != got { return false }
        if let wanted = request.region, normalize(wanted) != "auto", let got = instance.region, normalize(wanted) != normalize(got) {
            return false
        }
        return true
    }
}
