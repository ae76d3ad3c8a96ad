import Foundation
import Testing
@testable import RuncrateSandbox

@Suite("instances, types and billing")
struct InstanceContractTests {
    @Test func requestsWithoutAnRcLiveKeyAre401() async throws {
        try await withSandbox { s in
            let none = await http(s, "GET", "/api/v1/instances", key: nil)
            #expect(none.status == 401)
            #expect(none.errorCode == "unauthorized")
            let wrong = await http(s, "GET", "/api/v1/instances", key: "sk_live_abc")
            #expect(wrong.status == 401)
            let ok = await http(s, "GET", "/api/v1/instances")
            #expect(ok.status == 200)
        }
    }

    @Test func typesListHasCamelCaseMetaAndNoStock() async throws {
        try await withSandbox { s in
            let r = await http(s, "GET", "/api/v1/instances/types")
            #expect(r.status == 200)
            let types = try #require(r.data)
            #expect(types.count >= 5 * 4)
            #expect(r.json?["meta"]?["hasMore"] == .bool(false))
            #expect(r.json?["meta"]?["total"]?.intValue == types.count)
            #expect(r.json?["meta"]?["requestId"]?.stringValue != nil)
            #expect(!r.body.contains("stock"))
            let gpus = Set((types.arrayValue ?? []).compactMap { $0["gpu_type"]?.stringValue })
            #expect(gpus.isSuperset(of: ["h100-sxm", "h200", "a100-80gb", "l40s", "rtx-4090"]))
            let regions = Set((types.arrayValue ?? []).compactMap { $0["region"]?.stringValue })
            #expect(regions.count >= 3)
        }
    }

    @Test func typesFilterByGpuRegionAndCount() async throws {
        try await withSandbox { s in
            let r = await http(s, "GET", "/api/v1/instances/types?gpu_type=h100-sxm&region=us-east&gpu_count=2")
            let types = try #require(r.data?.arrayValue)
            #expect(types.count == 1)
            #expect(types[0]["gpu_count"]?.intValue == 2)
            #expect(types[0]["region"]?.stringValue == "us-east")
            let again = await http(s, "GET", "/api/v1/instances/types?gpu_type=h100-sxm&region=us-east&gpu_count=2")
            #expect(again.data == r.data)
            #expect(again.json?["meta"]?["total"]?.intValue == 1)
            #expect(again.json?["meta"]?["requestId"] != r.json?["meta"]?["requestId"])
            let bad = await http(s, "GET", "/api/v1/instances/types?gpu_count=two")
            #expect(bad.status == 400)
            #expect(bad.errorCode == "bad_request")
        }
    }

    @Test func gpuTypeCreatePicksTheCheapestInStockConfig() async throws {
        try await withSandbox { s in
            let types = try #require(await http(s, "GET", "/api/v1/instances/types?gpu_type=l40s&gpu_count=1").data?.arrayValue)
            let sorted = types.sorted { $0["hourly_rate"]!.doubleValue! < $1["hourly_rate"]!.doubleValue! }
            let cheapest = sorted[0]["id"]!.stringValue!
            let second = sorted[1]["id"]!.stringValue!
            try s.setStock(typeID: cheapest, count: 0)
            let before = try #require(s.stock(typeID: second))
            let r = await http(s, "POST", "/api/v1/instances", body: #"{"name":"w1","gpu_type":"l40s"}"#)
            #expect(r.status == 201)
            #expect(r.data?["instance_type_id"]?.stringValue == second)
            #expect(r.data?["cost_per_hour"] == sorted[1]["hourly_rate"])
            #expect(r.data?["status"]?.stringValue == "starting")
            #expect(r.data?["ip"] == .null)
            #expect(s.stock(typeID: second) == before - 1)
        }
    }

    @Test func createHonoursRegionAndGpuCount() async throws {
        try await withSandbox { s in
            let r = await http(s, "POST", "/api/v1/instances", body: #"{"name":"r","gpu_type":"h100-sxm","gpu_count":4,"region":"eu-central"}"#)
            #expect(r.status == 201)
            #expect(r.data?["region"]?.stringValue == "eu-central")
            #expect(r.data?["gpu_count"]?.intValue == 4)
        }
    }

    @Test func soldOutAnswers503NoCapacityOrConfigurable500() async throws {
        try await withSandbox { s in
            s.setStock(gpuType: "h200", count: 0)
            let r = await http(s, "POST", "/api/v1/instances", body: #"{"name":"x","gpu_type":"h200"}"#)
            #expect(r.status == 503)
            #expect(r.errorCode == "no_capacity")
            s.setSoldOutStatus(500)
            let r2 = await http(s, "POST", "/api/v1/instances", body: #"{"name":"x","gpu_type":"h200"}"#)
            #expect(r2.status == 500)
            #expect(r2.errorMessage?.contains("no longer available") == true)
            let list = await http(s, "GET", "/api/v1/instances")
            #expect(list.data?.count == 0)
        }
    }

    @Test(arguments: [
        (#"{"gpu_type":"h100-sxm"}"#, "name"),
        (#"{"name":"","gpu_type":"h100-sxm"}"#, "name"),
        (#"{"name":"n"}"#, "gpu_type"),
        (#"{"name":"n","gpu_type":"h100-sxm","instance_type_id":"x"}"#, "instance_type_id"),
        (#"{"name":"n","gpu_type":"h100-sxm","gpu_count":0}"#, "gpu_count"),
        (#"{"name":"n","gpu_type":"h100-sxm","gpu_count":2.5}"#, "gpu_count"),
        (#"{"name":"n","gpu_type":"h100-sxm","memory":"lots"}"#, "memory"),
        (#"{"name":"n","gpu_type":"h100-sxm","max_runtime_minutes":4}"#, "max_runtime_minutes"),
        (#"{"name":"n","gpu_type":"h100-sxm","idle_shutdown_minutes":1441}"#, "idle_shutdown_minutes"),
        (#"{"name":"n","gpu_type":"h100-sxm","env_vars":[{"key":"1BAD","value":"v"}]}"#, "env_vars.0.key"),
        (#"{"name":"n","gpu_type":"h100-sxm","env_vars":[{"key":"A","value":"v"},{"key":"A","value":"w"}]}"#, "env_vars.1.key"),
        (#"{"name":"n","gpu_type":"h100-sxm","env_vars":"A=1"}"#, "env_vars"),
        (#"{"name":"n","gpu_type":"h100-sxm","launch_script":"x","launch_script_base64":"eA=="}"#, "launch_script_base64"),
        (#"{"name":"n","gpu_type":"h100-sxm","launch_script_base64":"%%%"}"#, "launch_script_base64"),
        (#"{"name":"n","gpu_type":"h100-sxm","ssh_key_id":"key_nope"}"#, "ssh_key_id"),
        (#"{"name":"n","gpu_type":"h100-sxm","template":"tpl_nope"}"#, "template"),
        (#"{"name":"n","gpu_type":"h100-sxm","storage_id":"vol_nope"}"#, "storage_id"),
        (#"{"name":"n","gpu_type":"h100-sxm","startup_commands":[1]}"#, "startup_commands"),
        (#"{"name":"n","gpu_type":"tpu-v9"}"#, "gpu_type"),
        (#"{"name":"n","instance_type_id":"no-such-type"}"#, "instance_type_id"),
        (#"{"name":"n","gpu_type":"h100-sxm","region":"mars-1"}"#, "region"),
        (#"{"name":"n","gpu_type":"l40s","cpu_cores":100000}"#, "cpu_cores"),
        (#"{"name":"n","gpu_type":"h200","gpu_count":3}"#, "gpu_count"),
        (#"{"name":"n","gpu_type":"h200","region":"ap-southeast"}"#, "region"),
    ])
    func invalidCreatesAre422NamingTheField(body: String, field: String) async throws {
        try await withSandbox { s in
            let r = await http(s, "POST", "/api/v1/instances", body: body)
            #expect(r.status == 422, "\(body) → \(r.body)")
            #expect(r.errorCode == "validation_error")
            #expect(r.errorField == field, "\(body) → \(r.body)")
            #expect(r.errorMessage?.hasPrefix(field) == true)
            #expect(await http(s, "GET", "/api/v1/instances").data?.count == 0)
        }
    }

    @Test func envVarsAreAcceptedAsArrayAndAsMap() async throws {
        try await withSandbox { s in
            let a = await http(s, "POST", "/api/v1/instances", body: #"{"name":"a","gpu_type":"l40s","env_vars":[{"key":"HF_HOME","value":"/w"}]}"#)
            #expect(a.status == 201)
            let m = await http(s, "POST", "/api/v1/instances", body: #"{"name":"m","gpu_type":"l40s","env_vars":{"HF_HOME":"/w","TOKEN":"x"}}"#)
            #expect(m.status == 201)
            let stored = s.core.locked { $0.state.instances.map(\.envVars) }
            #expect(stored == [[.init(key: "HF_HOME", value: "/w")], [.init(key: "HF_HOME", value: "/w"), .init(key: "TOKEN", value: "x")]])
        }
    }

    @Test func instanceBecomesRunningWithIpAfterReadyAfterThenTerminates() async throws {
        try await withSandbox { s in
            let c = await http(s, "POST", "/api/v1/instances", body: #"{"name":"life","gpu_type":"rtx-4090"}"#)
            let id = try #require(c.data?["id"]?.stringValue)
            let st = await http(s, "GET", "/api/v1/instances/\(id)/status")
            #expect(st.data == .object([("id", .string(id)), ("status", .string("starting")), ("ip", .null)]))
            s.advanceClock(seconds: 50)  // the sandbox clock also moves with real time: keep a margin for a loaded machine
            #expect(await http(s, "GET", "/api/v1/instances/\(id)").data?["status"]?.stringValue == "starting")
            s.advanceClock(seconds: 10)
            let got = await http(s, "GET", "/api/v1/instances/\(id)")
            #expect(got.data?["status"]?.stringValue == "running")
            #expect(got.data?["ip"]?.stringValue?.isEmpty == false)
            #expect(got.data?["deployed_at"]?.stringValue != nil)
            let del = await http(s, "DELETE", "/api/v1/instances/\(id)")
            #expect(del.status == 204)
            #expect(del.body.isEmpty)
            let after = await http(s, "GET", "/api/v1/instances/\(id)")
            #expect(after.data?["status"]?.stringValue == "terminated")
            #expect(after.data?["stop_reason"]?.stringValue == "user")
            #expect(after.data?["ip"] == .null)
            #expect(await http(s, "DELETE", "/api/v1/instances/\(id)").status == 204)
            #expect(await http(s, "GET", "/api/v1/instances/inst_nope").status == 404)
            #expect(await http(s, "GET", "/api/v1/instances/inst_nope/status").errorCode == "not_found")
            #expect(await http(s, "DELETE", "/api/v1/instances/inst_nope").status == 404)
        }
    }

    @Test func createAnswersStartingEvenWhenReadyAtOnce() async throws {
        try await withSandbox(SandboxOptions(readyAfter: 0)) { s in
            let c = await http(s, "POST", "/api/v1/instances", body: #"{"name":"now","gpu_type":"l40s"}"#)
            #expect(c.data?["status"]?.stringValue == "starting")
            let id = try #require(c.data?["id"]?.stringValue)
            #expect(await http(s, "GET", "/api/v1/instances/\(id)/status").data?["status"]?.stringValue == "running")
        }
    }

    @Test func maxRuntimeStopsTheInstanceAndTheBalanceFalls() async throws {
        try await withSandbox { s in
            let start = await http(s, "GET", "/api/v1/billing/balance")
            #expect(start.data?["creditsBalance"]?.doubleValue == 100)
            let typeID = try await firstInStock(s, gpu: "h100-sxm")
            let c = await http(s, "POST", "/api/v1/instances", body: #"{"name":"short","instance_type_id":"\#(typeID)","max_runtime_minutes":5}"#)
            #expect(c.status == 201)
            let id = try #require(c.data?["id"]?.stringValue)
            let rate = try #require(c.data?["cost_per_hour"]?.doubleValue)
            s.advanceClock(seconds: 60 + 120)
            let mid = await http(s, "GET", "/api/v1/billing/balance")
            #expect(mid.data?["burn_usd_per_hour"]?.doubleValue == rate)
            #expect(try #require(mid.data?["floating_balance_usd"]?.doubleValue) < 100)
            s.advanceClock(seconds: 300)
            let got = await http(s, "GET", "/api/v1/instances/\(id)")
            #expect(got.data?["status"]?.stringValue == "terminated")
            #expect(got.data?["stop_reason"]?.stringValue == "max_runtime")
            let end = await http(s, "GET", "/api/v1/billing/balance")
            let credits = try #require(end.data?["creditsBalance"]?.doubleValue)
            #expect(abs(credits - (100 - rate * 5 / 60)) < 0.001)
            #expect(end.data?["burn_usd_per_hour"]?.doubleValue == 0)
        }
    }

    @Test func patchChangesLimitsByIdOrUniqueName() async throws {
        try await withSandbox { s in
            let c = await http(s, "POST", "/api/v1/instances", body: #"{"name":"my box","gpu_type":"l40s"}"#)
            let id = try #require(c.data?["id"]?.stringValue)
            s.advanceClock(seconds: 60)
            let p = await http(s, "PATCH", "/api/v1/instances/my%20box", body: #"{"max_runtime_minutes":60}"#)
            #expect(p.status == 200)
            #expect(p.data?["id"]?.stringValue == id)
            #expect(p.data?["max_runtime_minutes"]?.intValue == 60)
            #expect(p.data?["auto_stop_at"]?.stringValue != nil)
            let off = await http(s, "PATCH", "/api/v1/instances/\(id)", body: #"{"max_runtime_minutes":null,"idle_shutdown_minutes":30}"#)
            #expect(off.data?["max_runtime_minutes"] == .null)
            #expect(off.data?["auto_stop_at"] == .null)
            #expect(off.data?["idle_shutdown_minutes"]?.intValue == 30)
            let bad = await http(s, "PATCH", "/api/v1/instances/\(id)", body: #"{"max_runtime_minutes":20000}"#)
            #expect(bad.status == 422)
            #expect(bad.errorField == "max_runtime_minutes")
            let empty = await http(s, "PATCH", "/api/v1/instances/\(id)", body: "{}")
            #expect(empty.status == 422)
            #expect(await http(s, "PATCH", "/api/v1/instances/nobody", body: #"{"max_runtime_minutes":60}"#).status == 404)
            _ = await http(s, "DELETE", "/api/v1/instances/\(id)")
            let dead = await http(s, "PATCH", "/api/v1/instances/\(id)", body: #"{"max_runtime_minutes":60}"#)
            #expect(dead.status == 409)
            #expect(dead.errorCode == "conflict")
        }
    }

    @Test func createIsRefused402WithoutCreditsOrPastTheBudget() async throws {
        try await withSandbox { s in
            s.setCredits(0.5)
            let r = await http(s, "POST", "/api/v1/instances", body: #"{"name":"poor","gpu_type":"h100-sxm","gpu_count":8}"#)
            #expect(r.status == 402)
            #expect(r.errorCode == "insufficient_credits")
            s.setCredits(100)
            try s.setBudget(environment: "default", usd: 0)
            let b = await http(s, "POST", "/api/v1/instances", body: #"{"name":"b","gpu_type":"l40s"}"#)
            #expect(b.status == 402)
            #expect(b.errorCode == "BUDGET_REACHED")
        }
    }

    @Test func listSearchFiltersByName() async throws {
        try await withSandbox { s in
            _ = await http(s, "POST", "/api/v1/instances", body: #"{"name":"train-1","gpu_type":"l40s"}"#)
            _ = await http(s, "POST", "/api/v1/instances", body: #"{"name":"serve-1","gpu_type":"l40s"}"#)
            let r = await http(s, "GET", "/api/v1/instances?search=train")
            #expect(r.data?.count == 1)
            #expect(r.data?[0]?["name"]?.stringValue == "train-1")
        }
    }
}

func firstInStock(_ s: SandboxServer, gpu: String) async throws -> String {
    let types = try #require(await http(s, "GET", "/api/v1/instances/types?gpu_type=\(gpu)").data?.arrayValue)
    return try #require(types.map { $0["id"]!.stringValue! }.first { (s.stock(typeID: $0) ?? 0) > 0 })
}
