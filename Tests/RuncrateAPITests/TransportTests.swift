import Foundation
import Glibc
import NIOConcurrencyHelpers
import Testing

@testable import RuncrateAPI

/// HTTP behaviour against a scripted loopback server: headers, retries, reconciliation, timeouts.
@Suite struct TransportTests {
    let spec = CreateInstanceRequest(name: "job-a", gpuType: "h100-sxm", gpuCount: 1, sshKeyID: "k")

    @Test func sendsKeyUserAgentEnvironmentAndJSONBody() async throws {
        let server = try await ScriptedServer { request in
            request.method == "POST"
                ? .respond(201, body: #"{"data":\#(instanceJSON(id: "i1", name: "job-a"))}"#)
                : .respond(200, body: #"{"data":[]}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL + "/api/v1/", transcript: transcript, environment: "staging team")
        let created = try await client.createInstance(spec)
        _ = try await client.listInstances(search: "job a")
        try await client.shutdown()
        await server.stop()

        #expect(created.id == "i1")
        let requests = server.requests
        // The create lists the instances of its name before it is sent (see `createInstance`).
        #expect(requests.map(\.uri) == [
            "/api/v1/instances?search=job-a&environment=staging%20team", "/api/v1/instances?environment=staging%20team",
            "/api/v1/instances?search=job%20a&environment=staging%20team",
        ])
        for request in requests {
            #expect(request.header("Authorization") == "Bearer \(testKey)")
            #expect(request.header("User-Agent") == "runcrate-lua/\(RuncrateAPIVersion.current)")
        }
        #expect(requests.map(\.method) == ["GET", "POST", "GET"])
        #expect(requests[1].header("Content-Type") == "application/json")
        #expect(requests[1].body == #"{"gpu_count":1,"gpu_type":"h100-sxm","name":"job-a","ssh_key_id":"k"}"#)
        #expect(requests[0].header("Content-Type") == nil)
        #expect(requests[2].header("Content-Type") == nil)
    }

    @Test func rateLimitHonoursRetryAfterThenSucceeds() async throws {
        let calls = NIOLockedValueBox(0)
        let server = try await ScriptedServer { _ in
            calls.withLockedValue { $0 += 1; return $0 } == 1
                ? .respond(429, headers: [("Retry-After", "1")], body: #"{"error":{"code":"rate_limited","message":"slow down"}}"#)
                : .respond(200, body: #"{"data":{"id":"i1","status":"running"}}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let status = try await client.instanceStatus(id: "i1")
        try await client.shutdown()
        await server.stop()
        #expect(status.status == "running")
        #expect(transcript.sleeps == [1])
        #expect(server.requests.count == 2)
        #expect(transcript.lines.contains { $0.contains("retrying in 1.00s after 429") })
    }

    @Test func serverWaitLongerThanTheCapFailsAtOnce() async throws {
        let server = try await ScriptedServer { _ in .respond(429, headers: [("Retry-After", "3600")], body: "{}") }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let error = await expectError(transcript) { _ = try await client.balance() }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .rateLimited)
        #expect(error?.retryAfter == 3600)
        #expect(error?.isRetryable == true)
        #expect(server.requests.count == 1)
        #expect(transcript.sleeps.isEmpty)
    }

    @Test func idempotentRetriesAreBounded() async throws {
        let server = try await ScriptedServer { _ in .respond(500, body: #"{"error":{"message":"boom"}}"#) }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01))
        let error = await expectError(transcript) { _ = try await client.getInstance(id: "i1") }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .serverError)
        #expect(error?.attempts == 3)
        #expect(server.requests.count == 3)
        #expect(transcript.sleeps.count == 2)
        #expect(transcript.lines.filter { $0.contains("(attempt ") }.count >= 3)
    }

    @Test func launchRefusedIsNeverRetried() async throws {
        let server = try await ScriptedServer { request in
            request.method == "GET"
                ? .respond(200, body: #"{"data":[]}"#)
                : .respond(502, body: #"{"error":{"code":"launch_refused","message":"provider said no"}}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let error = await expectError(transcript) { _ = try await client.createInstance(spec) }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .launchRefused)
        #expect(error?.isRetryable == false)
        #expect(server.requests.map(\.method) == ["GET", "POST"])
    }

    @Test func soldOutCreateIsFinal() async throws {
        let server = try await ScriptedServer { request in
            request.method == "GET"
                ? .respond(200, body: #"{"data":[]}"#)
                : .respond(500, body: #"{"error":{"message":"h100x8 is no longer available"}}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let error = await expectError(transcript) { _ = try await client.createInstance(spec) }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .soldOut)
        #expect(server.requests.map(\.method) == ["GET", "POST"])
    }

    @Test func createIsResentAfterNoCapacity() async throws {
        let posts = NIOLockedValueBox(0)
        let server = try await ScriptedServer { request in
            if request.method == "GET" { return .respond(200, body: #"{"data":[]}"#) }
            return posts.withLockedValue { $0 += 1; return $0 } == 1
                ? .respond(503, body: #"{"error":{"code":"no_capacity","message":"none"}}"#)
                : .respond(201, body: #"{"data":\#(instanceJSON(id: "i2", name: "job-a"))}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let instance = try await client.createInstance(spec)
        try await client.shutdown()
        await server.stop()
        #expect(instance.id == "i2")
        #expect(server.requests.map(\.method) == ["GET", "POST", "POST"])
    }

    /// A fake API that commits a create, then fails the answer in the given way.
    func committingServer(_ failure: @escaping @Sendable () -> ScriptedServer.Reply) async throws -> (ScriptedServer, NIOLockedValueBox<[String]>) {
        let store = NIOLockedValueBox<[String]>([])
        let server = try await ScriptedServer { request in
            if request.method == "POST" {
                let number = store.withLockedValue { $0.append(instanceJSON(id: "i\($0.count + 1)", name: "job-a")); return $0.count }
                return number == 1 ? failure() : .respond(201, body: #"{"data":\#(store.withLockedValue { $0.last! })}"#)
            }
            let list = store.withLockedValue { $0.joined(separator: ",") }
            return .respond(200, body: #"{"data":[\#(list)]}"#)
        }
        return (server, store)
    }

    @Test(arguments: ["drop", "504", "500", "502"])
    func ambiguousCreateAdoptsTheCommittedInstance(failure: String) async throws {
        let (server, store) = try await committingServer {
            switch failure {
            case "drop": return .drop
            case "504": return .respond(504, body: "gateway timeout")
            case "500": return .respond(500, body: #"{"error":{"message":"internal"}}"#)
            default: return .respond(502, body: "bad gateway")
            }
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let instance = try await client.createInstance(spec)
        try await client.shutdown()
        await server.stop()
        #expect(instance.id == "i1")
        #expect(store.withLockedValue { $0.count } == 1)
        #expect(server.requests.map(\.method) == ["GET", "POST", "GET"])
        #expect(server.requests[0].uri == "/api/v1/instances?search=job-a")
        #expect(server.requests[2].uri == "/api/v1/instances?search=job-a")
        #expect(transcript.lines.contains { $0.contains("adopted") })
    }

    @Test func ambiguousCreateWithNothingCreatedIsResentOnce() async throws {
        let posts = NIOLockedValueBox(0)
        let server = try await ScriptedServer { request in
            if request.method == "GET" {
                // An older instance of the same name, and one of another GPU: both there before the
                // send, so neither is ours.
                return .respond(200, body: #"{"data":[\#(instanceJSON(id: "old", name: "job-a", created: isoNow(-86400))),\#(instanceJSON(id: "other", name: "job-a", gpuType: "a100"))]}"#)
            }
            return posts.withLockedValue { $0 += 1; return $0 } == 1
                ? .respond(504, body: "")
                : .respond(201, body: #"{"data":\#(instanceJSON(id: "new", name: "job-a"))}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let instance = try await client.createInstance(spec)
        try await client.shutdown()
        await server.stop()
        #expect(instance.id == "new")
        #expect(server.requests.map(\.method) == ["GET", "POST", "GET", "POST"])
    }

    @Test func ambiguousCreateStaysWithinTheBound() async throws {
        let server = try await ScriptedServer { request in
            request.method == "GET" ? .respond(200, body: #"{"data":[]}"#) : .respond(504, body: "")
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01))
        let error = await expectError(transcript) { _ = try await client.createInstance(spec) }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .timeout)
        #expect(error?.attempts == 3)
        #expect(server.requests.filter { $0.method == "POST" }.count == 3)
        // One listing before the first send, one after each ambiguous answer.
        #expect(server.requests.filter { $0.method == "GET" }.count == 4)
    }

    @Test func undatedSameNameInstanceFromBeforeTheSendIsNotAdopted() async throws {
        let posts = NIOLockedValueBox(0)
        let server = try await ScriptedServer { request in
            if request.method == "GET" { return .respond(200, body: #"{"data":[{"id":"x","name":"job-a"}]}"#) }
            return posts.withLockedValue { $0 += 1; return $0 } == 1
                ? .drop
                : .respond(201, body: #"{"data":\#(instanceJSON(id: "new", name: "job-a"))}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let instance = try await client.createInstance(spec)
        try await client.shutdown()
        await server.stop()
        #expect(instance.id == "new")
        #expect(server.requests.filter { $0.method == "POST" }.count == 2)
    }

    @Test func otherPostsAreNotResentAfterAmbiguousFailure() async throws {
        let server = try await ScriptedServer { _ in .respond(500, body: "{}") }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let error = await expectError(transcript) { _ = try await client.createVolume(CreateVolumeRequest(name: "v", sizeGB: 10, region: "eu")) }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .serverError)
        #expect(server.requests.count == 1)
    }

    @Test func invalidSuccessBodyIsNotRetried() async throws {
        let server = try await ScriptedServer { _ in .respond(200, headers: [("Content-Type", "text/html")], body: "<html>hi</html>") }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let error = await expectError(transcript) { _ = try await client.sshKeys() }
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .invalidResponse)
        #expect(server.requests.count == 1)
    }

    @Test func refusedConnectionIsRetriedForReadsAndCreates() async throws {
        // A port that is bound but not listening refuses connections, and stays ours for the whole
        // test (a stopped server's port could be taken by a test running in parallel).
        let refusing = try RefusingPort()
        defer { refusing.close() }
        let url = "http://127.0.0.1:\(refusing.port)"
        let transcript = Transcript()
        let client = try makeClient(url, transcript: transcript, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01))
        let read = await expectError(transcript) { _ = try await client.environments() }
        let create = await expectError(transcript) { _ = try await client.createInstance(spec) }
        try await client.shutdown()
        #expect(read?.code == .networkError)
        #expect(read?.attempts == 2)
        #expect(create?.code == .networkError)
        #expect(create?.attempts == 2)
        #expect(!transcript.lines.contains { $0.contains("listing instances") })
    }

    @Test func slowAnswerTimesOut() async throws {
        // The answer would take a minute: `.timeout` says the client gave up, and the elapsed bound
        // that it gave up long before the answer, with room for a test pool busy with other tests
        // (4.4 s was seen on 2 cores for this 0.3 s timeout).
        let server = try await ScriptedServer { _ in .delayed(60, 200, body: "{}") }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript, retry: .none, timeouts: Timeouts(create: 0.3, other: 0.3))
        let started = Date()
        let error = await expectError(transcript) { _ = try await client.volumeRegions() }
        let elapsed = Date().timeIntervalSince(started)
        try await client.shutdown()
        await server.stop()
        #expect(error?.code == .timeout)
        #expect(elapsed < 30, "gave up after \(elapsed) s, not at the 0.3 s timeout")
    }

    @Test func blockingEntryWorksFromAPlainThread() async throws {
        let server = try await ScriptedServer { _ in .respond(200, body: #"{"data":{"creditsBalance":5}}"#) }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let result = NIOLockedValueBox<Result<Double?, RuncrateError>?>(nil)
        let fromTask = NIOLockedValueBox<RuncrateError.Code?>(nil)
        let thread = Thread {
            let outcome: Result<Double?, RuncrateError>
            do { outcome = .success(try client.runBlocking { try await $0.balance() }.creditsBalance) } catch let error as RuncrateError { outcome = .failure(error) } catch { outcome = .failure(RuncrateError(code: "other", message: "\(error)")) }
            result.withLockedValue { $0 = outcome }
        }
        thread.start()
        while result.withLockedValue({ $0 }) == nil { try await Task.sleep(nanoseconds: 10_000_000) }
        do { _ = try client.runBlocking { try await $0.balance() } } catch let error as RuncrateError { fromTask.withLockedValue { $0 = error.code } }
        try await client.shutdown()
        await server.stop()
        #expect(try result.withLockedValue { $0 }?.get() == 5)
        #expect(fromTask.withLockedValue { $0 } == .configurationError)
    }

    @Test func blockingCallCanBeCancelledFromTheWaitingThread() async throws {
        let server = try await ScriptedServer { _ in .delayed(60, 200, body: "{}") }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript)
        let outcome = NIOLockedValueBox<RuncrateError.Code?>(nil)
        let returnedAfter = NIOLockedValueBox<Double?>(nil)
        let started = Date()
        let thread = Thread {
            do {
                _ = try client.runBlocking(isCancelled: { Date().timeIntervalSince(started) > 0.3 }) { try await $0.balance() }
                outcome.withLockedValue { $0 = "succeeded" }
            } catch let error as RuncrateError {
                outcome.withLockedValue { $0 = error.code }
            } catch {
                outcome.withLockedValue { $0 = "other" }
            }
            returnedAfter.withLockedValue { $0 = Date().timeIntervalSince(started) }
        }
        thread.start()
        while returnedAfter.withLockedValue({ $0 }) == nil, Date().timeIntervalSince(started) < 60 { try await Task.sleep(nanoseconds: 10_000_000) }
        try await client.shutdown()
        await server.stop()
        #expect(outcome.withLockedValue { $0 } == .cancelled)
        // The call returned long before the server's answer (a minute) could have ended it. Shutting
        // the client and server down is not part of it.
        let elapsed = try #require(returnedAfter.withLockedValue { $0 })
        #expect(elapsed < 30, "returned after \(elapsed) s")
    }

    @Test func clientReleasedWithoutShutdownDoesNotCrash() async throws {
        let transcript = Transcript()
        var client: RuncrateClient? = try makeClient("http://127.0.0.1:9", transcript: transcript)
        #expect(client != nil)
        client = nil
        try await client?.shutdown()
        try await Task.sleep(nanoseconds: 50_000_000)
    }
}

/// A loopback TCP port bound without listening: connecting to it is refused.
final class RefusingPort: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw RuncrateError(code: "test", message: "cannot bind a loopback port") }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
