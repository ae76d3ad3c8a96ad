import Foundation
import Testing
@testable import RuncrateSandbox

@Suite("server: persistence, logs, robustness, control")
struct ServerTests {
    private func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString)-\(name)").path
    }

    @Test func stateSurvivesARestart() async throws {
        let path = tempPath("state.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let options = SandboxOptions(statePath: path, readyAfter: 60)
        let (id, keyID) = try await withSandbox(options) { s in
            let i = await http(s, "POST", "/api/v1/instances", body: #"{"name":"keep","gpu_type":"a100-80gb"}"#)
            let k = await http(s, "POST", "/api/v1/ssh-keys", body: #"{"name":"k","public_key":"\#(edKey)"}"#)
            s.advanceClock(seconds: 3600)
            return (i.data?["id"]?.stringValue ?? "", k.data?["id"]?.stringValue ?? "")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            .filter { $0.hasPrefix((path as NSString).lastPathComponent + ".tmp") }
        #expect(leftovers.isEmpty)
        #expect((try? JSON.parse(Array(FileManager.default.contents(atPath: path)!))) != nil)
        try await withSandbox(options) { s in
            let got = await http(s, "GET", "/api/v1/instances/\(id)")
            #expect(got.status == 200)
            #expect(got.data?["status"]?.stringValue == "running")
            #expect(await http(s, "GET", "/api/v1/ssh-keys").data?[0]?["id"]?.stringValue == keyID)
            let balance = try #require(await http(s, "GET", "/api/v1/billing/balance").data?["floating_balance_usd"]?.doubleValue)
            #expect(balance < 100)
        }
    }

    @Test func corruptStateFileIsAClearStartError() async throws {
        let path = tempPath("bad.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("{torn".utf8))
        await #expect(throws: SandboxServer.StartError.self) { try await SandboxServer.start(SandboxOptions(statePath: path)) }
    }

    @Test func requestLogRedactsTheKeyInMemoryAndInTheNdjsonFile() async throws {
        let logPath = tempPath("log.ndjson")
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        try await withSandbox(SandboxOptions(readyAfter: 60, logPath: logPath)) { s in
            _ = await http(s, "POST", "/api/v1/instances", body: #"{"name":"n","gpu_type":"l40s","env_vars":{"K":"rc_live_leaked_in_body"}}"#)
            _ = await http(s, "GET", "/api/v1/instances?search=x")
            let log = s.requestLog()
            #expect(log.count == 2)
            #expect(log[0].method == "POST")
            #expect(log[0].route == "instances.create")
            #expect(log[0].status == 201)
            #expect(log[0].authorization == "Bearer rc_live_***")
            #expect(log[1].query == "search=x")
            let memory = String(decoding: try JSONEncoder().encode(log), as: UTF8.self)
            #expect(!memory.contains(testKey))
            #expect(!memory.contains("rc_live_leaked"))
        }
        let file = try String(contentsOfFile: logPath, encoding: .utf8)
        let lines = file.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { (try? JSON.parse(String($0))) != nil })
        #expect(!file.contains(testKey) && !file.contains("rc_live_leaked"))
    }

    @Test func malformedRequestsGet4xxAndTheServerSurvives() async throws {
        try await withSandbox(SandboxOptions(readyAfter: 60, maxBodyBytes: 64 * 1024)) { s in
            let badJSON = await http(s, "POST", "/api/v1/instances", body: "{not json")
            #expect(badJSON.status == 400)
            #expect(badJSON.errorCode == "bad_request")
            #expect(await http(s, "POST", "/api/v1/instances", body: "[1,2]").status == 400)
            #expect(await http(s, "POST", "/api/v1/instances", body: "").status == 400)
            let huge = await http(s, "POST", "/api/v1/instances", body: #"{"name":""# + String(repeating: "x", count: 200_000) + #""}"#)
            #expect(huge.status == 413)
            #expect(await http(s, "PUT", "/api/v1/instances").status == 405)
            #expect(await http(s, "DELETE", "/api/v1/instances/types").headers["allow"] == "GET")
            #expect(await http(s, "GET", "/api/v1/nothing").status == 404)
            #expect(await http(s, "GET", "/").errorCode == "not_found")
            let garbage = await http(s, "", "", rawRequest: "HELLO THERE\r\n\r\n")
            #expect((400..<500).contains(garbage.status) || garbage.status == 0)
            let deep = String(repeating: "[", count: 10_000)
            #expect(await http(s, "POST", "/api/v1/instances", body: deep).status == 400)
            #expect(await http(s, "GET", "/api/v1/instances").status == 200)
        }
    }

    @Test func trailingApiPrefixAndTrailingSlashAreTolerated() async throws {
        try await withSandbox { s in
            #expect(await http(s, "GET", "/api/v1/instances/").status == 200)
        }
    }

    @Test func controlEndpointsDriveClockStockAndReset() async throws {
        try await withSandbox { s in
            let c = await http(s, "POST", "/api/v1/instances", body: #"{"name":"c","gpu_type":"l40s"}"#)
            let id = try #require(c.data?["id"]?.stringValue)
            #expect(await http(s, "POST", "/_sandbox/clock/advance", body: #"{"seconds":61}"#, key: nil).status == 200)
            #expect(await http(s, "GET", "/api/v1/instances/\(id)/status").data?["status"]?.stringValue == "running")
            #expect(await http(s, "POST", "/_sandbox/stock", body: #"{"gpu_type":"l40s","count":0}"#, key: nil).status == 200)
            #expect(await http(s, "POST", "/api/v1/instances", body: #"{"name":"d","gpu_type":"l40s"}"#).status == 503)
            #expect(await http(s, "POST", "/_sandbox/sold-out", body: #"{"status":500}"#, key: nil).status == 200)
            #expect(await http(s, "POST", "/api/v1/instances", body: #"{"name":"d","gpu_type":"l40s"}"#).status == 500)
            let requests = await http(s, "GET", "/_sandbox/requests", key: nil)
            #expect((requests.data?.count ?? 0) >= 5)
            #expect(await http(s, "POST", "/_sandbox/reset", key: nil).status == 200)
            #expect(await http(s, "GET", "/api/v1/instances").data?.count == 0)
            #expect(await http(s, "POST", "/api/v1/instances", body: #"{"name":"d","gpu_type":"l40s"}"#).status == 201)
            #expect(await http(s, "GET", "/_sandbox/nothing", key: nil).status == 404)
        }
    }

    @Test func startBlockingWorksFromAPlainThread() async throws {
        let result: (Int, Int) = await withCheckedContinuation { continuation in
            Thread {
                do {
                    let s = try SandboxServer.startBlocking()
                    let port = s.port
                    s.stopBlocking()
                    continuation.resume(returning: (port, 0))
                } catch {
                    continuation.resume(returning: (0, 1))
                }
            }.start()
        }
        #expect(result.0 > 0)
        #expect(result.1 == 0)
    }

    @Test func stopReleasesThePort() async throws {
        let s = try await SandboxServer.start()
        let port = s.port
        #expect(s.baseURL == "http://127.0.0.1:\(port)")
        await s.stop()
        let again = try await SandboxServer.start(SandboxOptions(port: port))
        #expect(again.port == port)
        await again.stop()
    }

    @Test func bundledCatalogueIsValidAndHasEveryCount() throws {
        let catalog = try Catalog.load(path: nil)
        #expect(Set(catalog.types.map(\.gpu_count)) == [1, 2, 4, 8])
        #expect(catalog.types.contains { $0.stock == 0 })
        #expect(catalog.regions.count >= 3)
    }
}
