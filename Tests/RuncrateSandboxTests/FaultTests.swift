import Foundation
import Testing
@testable import RuncrateSandbox

@Suite("fault injection")
struct FaultTests {
    @Test func specGrammarParsesEveryForm() throws {
        let rules = try FaultSpec.parse("create#2=500; types@0.25=503,retry-after=4 ;instances.*#3+=latency:150ms\nstatus#2-4=commit:504;get=garbage:502;delete@50%=drop;list=truncate;create=commit:drop;*=429,code=slow_down,message=easy")
        #expect(rules.count == 9)
        #expect(rules[0].route == "instances.create")
        #expect(rules[0].trigger == .ordinals(lower: 2, upper: 2))
        #expect(rules[0].action == .status(500))
        #expect(rules[1].trigger == .probability(0.25))
        #expect(rules[1].retryAfter == "4")
        #expect(rules[2].trigger == .ordinals(lower: 3, upper: nil))
        #expect(rules[2].action == .latency(seconds: 0.15))
        #expect(rules[3].trigger == .ordinals(lower: 2, upper: 4))
        #expect(rules[3].action == .commitThenStatus(504))
        #expect(rules[4].action == .garbage(502))
        #expect(rules[5].trigger == .probability(0.5))
        #expect(rules[5].action == .drop)
        #expect(rules[6].action == .truncate)
        #expect(rules[7].action == .commitThenDrop)
        #expect(rules[8].code == "slow_down")
    }

    @Test(arguments: ["create", "create#0=500", "nowhere=500", "create=600", "create@1.5=500", "create=latency:x", "create=500,colour=red", "create=commit"])
    func badSpecsAreRejectedWithAReason(spec: String) {
        #expect(throws: FaultSpecError.self) { try FaultSpec.parse(spec) }
    }

    @Test func theSecondCreateFailsAndNothingIsCreated() async throws {
        try await withSandbox(SandboxOptions(faults: "create#2=503,retry-after=7", readyAfter: 60)) { s in
            #expect(await http(s, "POST", "/api/v1/instances", body: #"{"name":"a","gpu_type":"l40s"}"#).status == 201)
            let second = await http(s, "POST", "/api/v1/instances", body: #"{"name":"b","gpu_type":"l40s"}"#)
            #expect(second.status == 503)
            #expect(second.errorCode == "no_capacity")
            #expect(second.headers["retry-after"] == "7")
            #expect(await http(s, "POST", "/api/v1/instances", body: #"{"name":"c","gpu_type":"l40s"}"#).status == 201)
            let names = await http(s, "GET", "/api/v1/instances").data?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["a", "c"])
            #expect(s.requestLog().filter { $0.fault != nil }.map(\.status) == [503])
        }
    }

    @Test func commitThenFailCreatesTheInstanceAnyway() async throws {
        try await withSandbox(SandboxOptions(faults: "create#1=commit:504;create#2=commit:drop", readyAfter: 60)) { s in
            let timeout = await http(s, "POST", "/api/v1/instances", body: #"{"name":"ghost","gpu_type":"l40s"}"#)
            #expect(timeout.status == 504)
            let dropped = await http(s, "POST", "/api/v1/instances", body: #"{"name":"ghost2","gpu_type":"l40s"}"#)
            #expect(dropped.status == 0)
            #expect(dropped.body.isEmpty)
            let names = await http(s, "GET", "/api/v1/instances").data?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["ghost", "ghost2"])
        }
    }

    @Test func dropClosesWithoutAnswerAndDoesNothing() async throws {
        try await withSandbox(SandboxOptions(faults: "create#1=drop", readyAfter: 60)) { s in
            let r = await http(s, "POST", "/api/v1/instances", body: #"{"name":"never","gpu_type":"l40s"}"#)
            #expect(r.status == 0)
            #expect(await http(s, "GET", "/api/v1/instances").data?.count == 0)
        }
    }

    @Test func garbageAndTruncatedBodies() async throws {
        try await withSandbox(SandboxOptions(faults: "types#1=garbage;types#2=truncate;types#3=garbage:502", readyAfter: 60)) { s in
            let g = await http(s, "GET", "/api/v1/instances/types")
            #expect(g.status == 200)
            #expect(g.headers["content-type"]?.contains("json") == true)
            #expect(g.json == nil)
            let t = await http(s, "GET", "/api/v1/instances/types")
            #expect(t.status == 200)
            let declared = try #require(t.headers["content-length"].flatMap(Int.init))
            #expect(t.rawBodyBytes < declared)
            #expect(t.json == nil)
            #expect(await http(s, "GET", "/api/v1/instances/types").status == 502)
            #expect(await http(s, "GET", "/api/v1/instances/types").json != nil)
        }
    }

    @Test func latencyDelaysTheAnswer() async throws {
        try await withSandbox(SandboxOptions(faults: "balance=latency:300ms", readyAfter: 60)) { s in
            let start = Date()
            #expect(await http(s, "GET", "/api/v1/billing/balance").status == 200)
            #expect(Date().timeIntervalSince(start) >= 0.3)
        }
    }

    @Test func rateLimitCarriesRetryAfterAndRateLimitHeaders() async throws {
        try await withSandbox(SandboxOptions(faults: "list=429,retry-after=2", readyAfter: 60)) { s in
            let r = await http(s, "GET", "/api/v1/instances")
            #expect(r.status == 429)
            #expect(r.errorCode == "rate_limited")
            #expect(r.headers["retry-after"] == "2")
            #expect(r.headers["x-ratelimit-remaining"] == "0")
            #expect(r.headers["x-ratelimit-reset"].flatMap(Int.init) != nil)
        }
    }

    @Test func retryAfterCanBeAnHttpDate() async throws {
        try await withSandbox(SandboxOptions(faults: "types=503,retry-after=date+30", readyAfter: 60)) { s in
            let r = await http(s, "GET", "/api/v1/instances/types")
            #expect(r.status == 503)
            let header = try #require(r.headers["retry-after"])
            #expect(header.hasSuffix(" GMT"))
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            let date = try #require(formatter.date(from: header))
            #expect(abs(date.timeIntervalSinceNow - 30) < 5)
        }
    }

    /// The statuses a run of 40 `GET /instances` sees under a probabilistic spec.
    private func outcomes(seed: UInt64) async throws -> [Int] {
        try await withSandbox(SandboxOptions(faults: "list@0.3=503;list@0.2=500", seed: seed, readyAfter: 60)) { s in
            var statuses: [Int] = []
            for _ in 0..<40 { statuses.append(await http(s, "GET", "/api/v1/instances").status) }
            return statuses
        }
    }

    @Test func sameSeedSameOutcomes() async throws {
        let a = try await outcomes(seed: 42)
        let b = try await outcomes(seed: 42)
        #expect(a == b)
        #expect(a.contains(503) && a.contains(500) && a.contains(200))
        let c = try await outcomes(seed: 7)
        #expect(a != c)
    }

    @Test func faultsCanBeReplacedAtRuntime() async throws {
        try await withSandbox { s in
            #expect(await http(s, "GET", "/api/v1/instances").status == 200)
            try s.setFaults("list=403")
            #expect(await http(s, "GET", "/api/v1/instances").errorCode == "forbidden")
            #expect(throws: FaultSpecError.self) { try s.setFaults("list=bogus") }
            #expect(s.faults == "list=403")
            let bad = await http(s, "PUT", "/_sandbox/faults", body: "list=bogus", key: nil)
            #expect(bad.status == 400)
            let put = await http(s, "PUT", "/_sandbox/faults", body: #"{"spec":"list#1=502"}"#, key: nil)
            #expect(put.status == 200)
            #expect(await http(s, "GET", "/api/v1/instances").errorCode == "launch_refused")
            #expect(await http(s, "GET", "/api/v1/instances").status == 200)
            #expect(await http(s, "DELETE", "/_sandbox/faults", key: nil).status == 200)
            #expect(s.faults == "")
        }
    }
}
