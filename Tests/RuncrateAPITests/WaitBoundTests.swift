import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import RuncrateAPI

/// A sold-out create does not wait without bound or in silence: the waits of one call are bounded
/// in total, each long one is announced, and the create spec's `retry` / `max_wait` turn them off
/// or bound them.
@Suite struct WaitBoundTests {
    let spec = CreateInstanceRequest(name: "big", gpuType: "h100-sxm", gpuCount: 1)

    /// Always sold out, asking to wait `retryAfter` seconds; lists are empty.
    func soldOutServer(retryAfter: String = "30") async throws -> ScriptedServer {
        try await ScriptedServer { request in
            request.method == "POST"
                ? .respond(503, headers: [("Retry-After", retryAfter)], body: #"{"error":{"code":"no_capacity","message":"h100-sxm x1 is sold out"}}"#)
                : .respond(200, body: #"{"data":[]}"#)
        }
    }

    func posts(_ server: ScriptedServer) -> Int { server.requests.filter { $0.method == "POST" }.count }

    @Test func soldOutWaitsAreBoundedInTotalByDefault() async throws {
        let server = try await soldOutServer()
        let transcript = Transcript()
        // The shipped policy, with sleeps recorded instead of slept.
        let client = try makeClient(server.baseURL, transcript: transcript, retry: RetryPolicy())
        let error = await expectError(transcript) { _ = try await client.createInstance(spec) }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .noCapacity)
        #expect(transcript.sleeps.reduce(0, +) <= 60, "waited \(transcript.sleeps) in one call")
        #expect(transcript.sleeps == [30, 30])
        #expect(posts(server) == 3)
        #expect(error?.message.contains("would pass the 60 s this call may wait in all") == true, "\(String(describing: error))")
    }

    @Test func eachWaitIsAnnouncedWithWhatIsSoldOutAndTheNextAttempt() async throws {
        let server = try await soldOutServer()
        let events = NIOLockedValueBox<[RequestEvent]>([])
        let configuration = try RuncrateConfiguration(apiKey: try APIKey(testKey), baseURL: server.baseURL)
        let client = RuncrateClient(
            configuration: configuration,
            hooks: ClientHooks(sleep: { _ in }, random: { 0.5 }, onEvent: { event in events.withLockedValue { $0.append(event) } }))
        _ = try? await client.createInstance(spec)
        try await client.shutdown()
        await server.stop()
        let notices = events.withLockedValue { $0 }.compactMap(\.waitNotice)
        #expect(notices == [
            "waiting 30 s: h100-sxm x1 sold out (503, Retry-After), attempt 2 of 4",
            "waiting 30 s: h100-sxm x1 sold out (503, Retry-After), attempt 3 of 4",
        ])
        #expect(events.withLockedValue { $0 }.filter { $0.phase != .retry }.allSatisfy { $0.waitNotice == nil })
        #expect(!notices.joined().contains(testKey))
    }

    @Test func backoffWaitsSayBackoffAndNameTheTypeId() throws {
        let event = RequestEvent(
            phase: .retry, method: "POST", url: "u", attempt: 1, maxAttempts: 4, status: 503, errorCode: "no_capacity",
            failure: .noCapacity, wait: 4.4, subject: try PreparedCreateInstance(CreateInstanceRequest(name: "n", instanceTypeID: "t-1")).request.summary)
        #expect(event.waitNotice == "waiting 4 s: t-1 sold out (503, backoff), attempt 2 of 4")
        let read = RequestEvent(phase: .retry, method: "GET", url: "u", attempt: 2, maxAttempts: 4, status: 429, failure: .rateLimited, wait: 5, waitAskedByServer: true, subject: "GET /instances")
        #expect(read.waitNotice == "waiting 5 s: GET /instances rate limited (429, Retry-After), attempt 3 of 4")
        #expect(CreateInstanceRequest(name: "n", gpuType: "l40s", region: "eu-central", gpuCount: 2).summary == "l40s x2 in eu-central")
    }

    @Test func maxWaitBoundsTheTotalWait() async throws {
        let server = try await soldOutServer()
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript, retry: RetryPolicy())
        var bounded = spec
        bounded.maxWait = 45
        let error = await expectError(transcript) { _ = try await client.createInstance(bounded) }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .noCapacity)
        #expect(transcript.sleeps == [30])
        #expect(posts(server) == 2)
        #expect(error?.message.contains("waiting 30 s more would pass the 45 s this call may wait in all") == true, "\(String(describing: error))")
    }

    @Test func maxWaitCanAlsoAllowMoreThanTheDefault() async throws {
        let server = try await soldOutServer()
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript, retry: RetryPolicy())
        var patient = spec
        patient.maxWait = 600
        _ = await expectError(transcript) { _ = try await client.createInstance(patient) }
        try await client.shutdown()
        await server.stop()
        // Still within the policy's attempts (4): three waits.
        #expect(transcript.sleeps == [30, 30, 30])
        #expect(posts(server) == 4)
    }

    @Test func retryFalseSendsTheCreateOnceAndWaitsForNothing() async throws {
        let server = try await soldOutServer(retryAfter: "1")
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript, retry: RetryPolicy())
        var once = spec
        once.retry = false
        let error = await expectError(transcript) { _ = try await client.createInstance(once) }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .noCapacity)
        #expect(error?.isRetryable == true)
        #expect(error?.retryAfter == 1)
        #expect(transcript.sleeps.isEmpty)
        #expect(posts(server) == 1)
        #expect(error?.message.contains("not sent again: this call waits for no retries") == true)
    }

    @Test func retryFalseStillReconcilesAnAmbiguousCreate() async throws {
        let store = NIOLockedValueBox<[String]>([])
        let server = try await ScriptedServer { request in
            if request.method == "POST" {
                store.withLockedValue { $0.append(instanceJSON(id: "made", name: "big")) }
                return .drop
            }
            return .respond(200, body: #"{"data":[\#(store.withLockedValue { $0.joined(separator: ",") })]}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        var once = spec
        once.retry = false
        let instance = try await client.createInstance(once)
        try await client.shutdown()
        await server.stop()
        #expect(instance.id == "made")
        #expect(posts(server) == 1)
    }

    @Test func clientOptionsAreNeverSent() throws {
        var request = CreateInstanceRequest(name: "n", gpuType: "h100-sxm")
        request.retry = true
        request.maxWait = 12.5
        let prepared = try PreparedCreateInstance(request)
        #expect(prepared.body.serialized == #"{"gpu_type":"h100-sxm","name":"n"}"#)
        #expect(Endpoint.createInstance(prepared).body?.serialized == #"{"gpu_type":"h100-sxm","name":"n"}"#)
        let fromJSON = try PreparedCreateInstance(json: ["name": "n", "gpu_type": "h100-sxm", "retry": false])
        #expect(fromJSON.request.retry == false)
        #expect(fromJSON.body.serialized == #"{"gpu_type":"h100-sxm","name":"n"}"#)
        let waiting = try PreparedCreateInstance(json: ["name": "n", "gpu_type": "h100-sxm", "max_wait": 10])
        #expect(waiting.request.maxWait == 10)
        #expect(waiting.body.serialized == #"{"gpu_type":"h100-sxm","name":"n"}"#)
    }

    @Test func badWaitOptionsAreValidationErrors() {
        func errors(_ json: JSONValue) -> [String] {
            do {
                _ = try PreparedCreateInstance(json: json)
                return []
            } catch {
                return error.fieldErrors.map { "\($0.field): \($0.message)" }
            }
        }
        #expect(errors(["name": "n", "gpu_type": "x", "max_wait": "x"]) == [#"max_wait: must be a number of seconds >= 0 (got "x")"#])
        #expect(errors(["name": "n", "gpu_type": "x", "max_wait": -1]) == ["max_wait: must be a number of seconds >= 0 (got -1)"])
        #expect(errors(["name": "n", "gpu_type": "x", "retry": "no"]) == [#"retry: must be a boolean (got "no")"#])
        #expect(errors(["name": "n", "gpu_type": "x", "retry": false, "max_wait": 5])
            == ["max_wait: must not be given with retry = false, which waits for nothing (got both)"])
        #expect(errors(["name": "n", "gpu_type": "x", "max_wiat": 5]) == ["max_wiat: is not a field of a create request (did you mean 'max_wait'?)"])
        var request = CreateInstanceRequest(name: "n", gpuType: "x")
        request.maxWait = .nan
        #expect(throws: RuncrateError.self) { try PreparedCreateInstance(request) }
    }
}
