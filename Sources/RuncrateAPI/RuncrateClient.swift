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
    /// arrive or the server said nothing was created; after an ambiguous failure it adopts only the
    /// instance this call made (see `RetryPolicy.matrix`, `findCreated`). Its waits between attempts
    /// are bounded in total by the request's `retry` / `maxWait`, else `RetryPolicy.maxTotalWait`.
    public func createInstance(_ prepared: PreparedCreateInstance) async throws -> Instance {
        let waits = WaitAllowance(seconds: prepared.request.waitBound(default: configuration.retry.maxTotalWait))
        // The instances named like the request before it is first sent, listed on every create and
        // not only after an ambiguous failure: by then it is too late to tell an instance this call
        // made from one made before it. The only other evidence, `created_at` against a time window,
        // cannot separate a same-name instance made in the same second or minute (a loop, a retry
        // after no_capacity, a rerun), and needs a reading of the server's clock that the first call
        // of a run does not have. One GET by name is cheap next to a create (up to a minute
        // server-side, and billed), and it sends nothing that could cost money.
        let before: NamedInstances
        do {
            before = try await listNamed(prepared.name, waits: waits)
        } catch var error as RuncrateError {
            error.message = "could not list the instances named \"\(prepared.name)\" before creating (\(error.message)); nothing was created"
            throw error
        }
        return try await send(
            Endpoint.createInstance(prepared), waits: waits,
            reconcile: { [self] in try await self.findCreated(prepared, before: before, waits: waits) })
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
        try await send(request, waits: nil, reconcile: nil)
    }

    /// The URL a prepared request goes to, with `?environment=` when configured.
    public func url<Response>(for request: PreparedRequest<Response>) -> String {
        var items = request.query
        if let environment = configuration.environment { items.append(QueryItem("environment", environment)) }
        let query = items.map { "\(PathEncoding.segment($0.name))=\(PathEncoding.segment($0.value))" }.joined(separator: "&")
        return configuration.baseURL + "/api/v1" + request.path + (query.isEmpty ? "" : "?" + query)
    }

    /// `waits` bounds the total wait between attempts (shared by the requests of one call); without
    /// it, `RetryPolicy.maxTotalWait` bounds this request's.
    func send<Response>(
        _ request: PreparedRequest<Response>, waits: WaitAllowance?, reconcile: (@Sendable () async throws -> Response?)?
    ) async throws -> Response {
        let policy = configuration.retry
        let waits = waits ?? WaitAllowance(seconds: policy.maxTotalWait)
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
            guard waits.take(wait) else {
                error.message += waits.seconds == 0
                    ? " (not sent again: this call waits for no retries)"
                    : " (not sent again: waiting \(Seconds.text(wait.rounded(.up))) s more would pass the \(Seconds.text(waits.seconds)) s this call may wait in all)"
                emit(RequestEvent(phase: .failed, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, status: error.status, errorCode: error.code.rawValue, failure: failure, note: error.message))
                throw error
            }
            emit(RequestEvent(
                phase: .retry, method: request.method, url: url, attempt: attempt, maxAttempts: policy.maxAttempts, status: error.status,
                errorCode: error.code.rawValue, failure: failure, wait: wait, waitAskedByServer: error.retryAfter != nil,
                subject: request.subject))
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
        event.subject = event.subject.map { redact($0) }
        hooks.onEvent?(event)
        hooks.logger?.info("\(redact(event.description))")
    }

    // MARK: Reconciliation

    /// The instances exactly named `name`, with the server's clock when the list was answered.
    struct NamedInstances: Sendable {
        var instances: [Instance]
        /// The answer's `Date` header.
        var serverDate: Date?
        /// False when the server said there are more pages than the one read.
        var complete: Bool
        var ids: Set<String> { Set(instances.map(\.id)) }
    }

    func listNamed(_ name: String, waits: WaitAllowance) async throws -> NamedInstances {
        let list = try Endpoint.listInstances(search: name)
        let request = PreparedRequest<NamedInstances>(
            method: list.method, path: list.path, query: list.query,
            decode: { response throws(RuncrateError) in
                let page = try ResponseDecoding.page(Instance.self)(response)
                return NamedInstances(
                    instances: page.items.filter { $0.name == name },
                    serverDate: response.header("date").flatMap(HTTPDate.parse), complete: page.meta?.hasMore != true)
            })
        return try await send(request, waits: waits, reconcile: nil)
    }

    /// After an ambiguous create failure: the one instance named like the request that was not in
    /// the listing taken before the first send, matches its spec, and was made (by the server's
    /// clock: that listing's `Date`) no earlier than that listing. Never one that existed before —
    /// running, terminated or failed. `nil` when there is none, so the create may be sent again;
    /// `create_outcome_unknown` listing the ids when several are new, when a new one has no
    /// `created_at`, or when the listing is incomplete.
    func findCreated(_ prepared: PreparedCreateInstance, before: NamedInstances, waits: WaitAllowance) async throws -> Instance? {
        let name = prepared.name
        let now = try await listNamed(name, waits: waits)
        let known = before.ids
        let floor = before.serverDate.map { $0.addingTimeInterval(-configuration.retry.createClockSkew) }
        var dated: [Instance] = []
        var undated: [Instance] = []
        for instance in now.instances where !known.contains(instance.id) && CreateMatch.matches(instance, prepared.request) {
            guard let created = instance.createdAt else {
                undated.append(instance)
                continue
            }
            // Missing from the listing before the send but made before it: not this call's.
            if let floor, created < floor { continue }
            dated.append(instance)
        }
        if dated.count == 1, undated.isEmpty { return dated[0] }
        func unknown(_ why: String) -> RuncrateError {
            RuncrateError(
                code: .createOutcomeUnknown,
                message: "the create failed ambiguously and \(why); not resent, to avoid a duplicate: check the instances named \"\(name)\"",
                isRetryable: false)
        }
        let candidates = dated + undated
        if candidates.count > 1 {
            let ids = candidates.map(\.id).joined(separator: ", ")
            throw unknown("\(candidates.count) new instances named \"\(name)\" match it (\(ids)), so which one this call made cannot be told")
        }
        if let only = undated.first {
            throw unknown("a new instance named \"\(name)\" (\(only.id)) has no creation time, so whether it is this call's cannot be told")
        }
        guard now.complete else {
            throw unknown("the list of instances named \"\(name)\" has more pages than were read, so it cannot be shown that none is this call's")
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
