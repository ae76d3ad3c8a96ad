import Foundation
import NIOConcurrencyHelpers
import RuncrateSandbox
import Testing

@testable import RuncrateAPI

/// After an ambiguous create, only an instance that this very call created may be adopted: never
/// one that existed before it was sent (running or terminated), and nothing is resent when the
/// new ones cannot be told apart.
@Suite struct ReconciliationTests {
    let spec = CreateInstanceRequest(name: "job", gpuType: "h100-sxm", gpuCount: 1)

    func creates(_ sandbox: SandboxServer) -> Int { sandbox.requestLog().filter { $0.route == "instances.create" }.count }

    @Test func olderRunningSameNameInstanceIsNotAdoptedAfterCommitDrop() async throws {
        try await withSandbox { sandbox, client, transcript in
            let older = try await client.createInstance(spec)
            // The older one is up and plainly older, well inside any clock-skew window.
            sandbox.advanceClock(seconds: 10)
            try sandbox.setFaults("create#1=commit:drop")
            let made = try await client.createInstance(spec)
            let named = try await client.listInstances(search: "job")
            #expect(made.id != older.id, "adopted the instance made before this call")
            #expect(Set(named.map(\.id)) == [older.id, made.id])
            #expect(creates(sandbox) == 2, "the committed create was sent again")
            #expect(transcript.lines.contains { $0.contains("adopted") })
        }
    }

    @Test func olderTerminatedSameNameInstanceIsNotAdoptedWhenTheCreateNeverHappened() async throws {
        try await withSandbox { sandbox, client, _ in
            let older = try await client.createInstance(spec)
            _ = try await client.deleteInstance(id: older.id)
            try sandbox.setFaults("create#1=drop")
            let made = try await client.createInstance(spec)
            #expect(made.id != older.id, "returned the terminated instance as new")
            #expect(made.status != "terminated")
            let named = try await client.listInstances(search: "job")
            #expect(named.count == 2)
            #expect(named.first { $0.id == made.id }?.status != "terminated")
            // The older one's, the dropped one (which made nothing), and the one sent again.
            #expect(creates(sandbox) == 3)
        }
    }

    @Test func twoNewCandidatesAreReportedNotAdoptedNorResent() async throws {
        // This call's create is committed, then its connection dropped; while the client lists to
        // find it (the list is slowed), another create of the same name and spec lands. Two new
        // instances: which is this call's cannot be told.
        try await withSandbox(faults: "create#1=commit:drop; list#2=latency:4s") { sandbox, client, transcript in
            let outcome = NIOLockedValueBox<Result<Instance, RuncrateError>?>(nil)
            let call = Task { [spec] in
                do {
                    let made = try await client.createInstance(spec)
                    outcome.withLockedValue { $0 = .success(made) }
                } catch let error as RuncrateError {
                    outcome.withLockedValue { $0 = .failure(error) }
                }
            }
            let started = Date()
            while !sandbox.requestLog().contains(where: { $0.route == "instances.create" && $0.status == 0 }),
                  Date().timeIntervalSince(started) < 30 {
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            // Sent as a plain POST (no reconciliation), as another program would.
            let other = try await client.send(Endpoint.createInstance(try PreparedCreateInstance(spec)))
            _ = await call.result
            let result = try #require(outcome.withLockedValue { $0 })
            guard case .failure(let error) = result else {
                Issue.record("adopted \(try result.get().id) although two new instances were named 'job'")
                return
            }
            transcript.error(error)
            #expect(error.code == .createOutcomeUnknown)
            let named = try await client.listInstances(search: "job")
            #expect(named.count == 2)
            for instance in named { #expect(error.message.contains(instance.id), "\(error.message)") }
            #expect(error.message.contains(other.id))
            #expect(creates(sandbox) == 2, "this call's create was resent")
        }
    }

    /// A fake API holding instances; `onPost` says what a create does to them and how it answers.
    final class FakeAPI: Sendable {
        let store = NIOLockedValueBox<[String]>([])
        let server: ScriptedServer
        var posts: Int { server.requests.filter { $0.method == "POST" }.count }

        init(date: @escaping @Sendable () -> String? = { nil },
             onPost: @escaping @Sendable (Int, NIOLockedValueBox<[String]>) -> ScriptedServer.Reply) async throws {
            let store = self.store
            let count = NIOLockedValueBox(0)
            server = try await ScriptedServer { request in
                let headers = date().map { [("Date", $0)] } ?? []
                if request.method == "POST" { return onPost(count.withLockedValue { $0 += 1; return $0 }, store) }
                return .respond(200, headers: headers, body: #"{"data":[\#(store.withLockedValue { $0.joined(separator: ",") })]}"#)
            }
        }
    }

    @Test func twoNewInstancesFromOneDroppedCreateAreReportedWithTheirIds() async throws {
        let api = try await FakeAPI { _, store in
            store.withLockedValue { $0 += [instanceJSON(id: "new-a", name: "job"), instanceJSON(id: "new-b", name: "job")] }
            return .drop
        }
        let transcript = Transcript()
        let client = try makeClient(api.server.baseURL, transcript: transcript)
        let error = await expectError(transcript) { _ = try await client.createInstance(spec) }
        try await client.shutdown()
        await api.server.stop()
        #expect(error?.code == .createOutcomeUnknown)
        #expect(error?.message.contains("new-a") == true && error?.message.contains("new-b") == true, "\(String(describing: error))")
        #expect(api.posts == 1)
    }

    @Test func newUndatedInstanceIsReportedNotAdopted() async throws {
        let api = try await FakeAPI(date: { HTTPDate.format(Date()) }) { _, store in
            store.withLockedValue { $0.append(#"{"id":"undated","name":"job","gpu_type":"h100-sxm"}"#) }
            return .drop
        }
        let transcript = Transcript()
        let client = try makeClient(api.server.baseURL, transcript: transcript)
        let error = await expectError(transcript) { _ = try await client.createInstance(spec) }
        try await client.shutdown()
        await api.server.stop()
        #expect(error?.code == .createOutcomeUnknown)
        #expect(error?.message.contains("undated") == true)
        #expect(api.posts == 1)
    }

    @Test func theServersClockDecidesNotTheLocalOne() async throws {
        // The server's clock is ten minutes behind this machine's: the instance the dropped create
        // made is stamped ten minutes "ago" by the local clock, yet it is this call's.
        let skew = -600.0
        let api = try await FakeAPI(date: { HTTPDate.format(Date().addingTimeInterval(skew)) }) { number, store in
            let made = instanceJSON(id: "i\(number)", name: "job", created: isoNow(skew))
            store.withLockedValue { $0.append(made) }
            return number == 1 ? .drop : .respond(201, body: #"{"data":\#(made)}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(api.server.baseURL, transcript: transcript)
        let instance = try await client.createInstance(spec)
        try await client.shutdown()
        await api.server.stop()
        #expect(instance.id == "i1")
        #expect(api.posts == 1, "resent, making a duplicate")
    }

    @Test func anInstanceOlderThanTheListingBeforeTheSendIsNotThisCalls() async throws {
        // A same-name instance missing from the listing taken before the send (as from a listing
        // that was cut short) but stamped before it by the server's clock is not adopted.
        let api = try await FakeAPI(date: { HTTPDate.format(Date()) }) { number, store in
            if number == 1 {
                store.withLockedValue { $0.append(instanceJSON(id: "stale", name: "job", created: isoNow(-3600))) }
                return .drop
            }
            let made = instanceJSON(id: "i\(number)", name: "job")
            store.withLockedValue { $0.append(made) }
            return .respond(201, body: #"{"data":\#(made)}"#)
        }
        let transcript = Transcript()
        let client = try makeClient(api.server.baseURL, transcript: transcript)
        let instance = try await client.createInstance(spec)
        try await client.shutdown()
        await api.server.stop()
        #expect(instance.id == "i2")
        #expect(api.posts == 2)
    }
}
