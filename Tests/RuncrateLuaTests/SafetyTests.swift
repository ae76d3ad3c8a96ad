import Foundation
import LuaBridge
import RuncrateAPI
import Testing
@testable import RuncrateLua

@Suite struct DryRunTests {
    static let script = """
        local a = runcrate.create_instance{ name = "dr-a", gpu_type = "rtx-4090", gpu_count = 1, env = { K = "v" } }
        local b = runcrate.create_instance{ name = "dr-b", instance_type_id = "vivid-curie-l40sx1-6f35" }
        local c = runcrate.create_instance{ name = "dr-c", gpu_type = "rtx-4090", gpu_count = 1 }
        runcrate.delete_instance(c)
        local summary = {}
        for _, i in ipairs({ a, b }) do summary[#summary + 1] = i.name .. " " .. i.gpu_type .. " " .. string.format("%.2f", i.cost_per_hour) end
        return table.concat(summary, ";"), a.id, a.status, runcrate.mode
        """

    @Test func dryRunSendsNoMutatingRequestAndPrintsThePlan() async throws {
        let planOut = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID()).json").path
        let h = try await Harness.make(dryRun: true, planOut: planOut)
        let r = try await h.run(Self.script)
        #expect(r[1] == .string("planned-1"))
        #expect(r[2] == .string("planned"))
        #expect(r[3] == .string("dry-run"))
        #expect(h.mutatingRequests().isEmpty)
        #expect(!h.sandbox.requestLog().isEmpty)  // the catalogue was read
        try h.module.finish()
        #expect(h.stderr.contains("dry-run plan (nothing was created, changed or deleted):"))
        // rtx-4090 x1 configs cost 0.41–0.44 and l40s 'vivid-curie-l40sx1-6f35' exactly 0.89.
        #expect(h.stderr.contains("total: 3 instances, 1.71–1.77 USD/h"))
        let saved = try String(contentsOfFile: planOut, encoding: .utf8)
        let plan = try #require(JSONValue.parse(saved))
        guard case .object(let o) = plan, case .array(let calls)? = o["calls"] else { Issue.record("bad plan"); return }
        #expect(calls.count == 4)
        #expect(o["instances"] == .int(3))
        if case .object(let first) = calls[0] {
            #expect(first["op"] == .string("create_instance"))
            #expect(first["id"] == .string("planned-1"))
            #expect(first["body"] == JSONValue.parse(#"{"env_vars":[{"key":"K","value":"v"}],"gpu_count":1,"gpu_type":"rtx-4090","name":"dr-a"}"#))
        }
        if case .object(let last) = calls[3] {
            #expect(last["op"] == .string("delete_instance"))
            #expect(last["id"] == .string("planned-3"))
        }
    }

    @Test func dryRunPlanMatchesWhatALiveRunCreates() async throws {
        let dry = try await Harness.make(dryRun: true)
        let planned = try await dry.run(Self.script)
        let live = try await Harness.make(sandbox: dry.sandbox)
        dry.keepSandbox = true
        let created = try await live.run(Self.script)
        #expect(planned[0] == created[0])
        #expect(created[2] != .string("planned"))
        let live2 = live.mutatingRequests().filter { $0.method == "POST" }
        #expect(live2.count == 3)
    }

    @Test func jsonModePrintsThePlanOnStdout() async throws {
        let h = try await Harness.make(dryRun: true, json: true)
        try await h.run(#"runcrate.create_instance{ name = "j", gpu_type = "l40s", gpu_count = 1 }"#)
        try h.module.finish()
        let plan = try #require(JSONValue.parse(h.stdout))
        if case .object(let o) = plan {
            #expect(o["hourly_cost"] == .double(0.89))
            #expect(o["hourly_cost_min"] == .double(0.89))
            #expect(o["hourly_cost_max"] == .int(1))  // 1.00 is written as 1
        }
        #expect(h.module.planJSON != nil)
    }

    /// A gpu_type create is planned as a range (the server picks the cheapest config *in stock*);
    /// an instance_type_id create keeps one price. The range follows the spec's filters.
    @Test func gpuTypeCreatesArePlannedAsAPriceRange() async throws {
        let h = try await Harness.make(dryRun: true, json: true)
        let r = try await h.run("""
            local a = runcrate.create_instance{ name = "r-h100", gpu_type = "h100-sxm", gpu_count = 1 }
            runcrate.create_instance{ name = "r-exact", instance_type_id = "brave-noether-h100x1-b0c2" }
            runcrate.create_instance{ name = "r-region", gpu_type = "h100-sxm", gpu_count = 1, region = "eu-central" }
            runcrate.create_instance{ name = "r-mem", gpu_type = "rtx-4090", memory = 100 }
            runcrate.create_instance{ name = "r-any", gpu_type = "rtx-4090" }
            return a.cost_per_hour, a.cost_per_hour_max
            """)
        #expect(r == [.number(2.49), .number(2.79)])
        try h.module.finish()
        let plan = try #require(JSONValue.parse(h.stdout))
        guard case .object(let o) = plan, case .array(let calls) = o["calls"] else { Issue.record("bad plan"); return }
        func prices(_ i: Int) -> [JSONValue?] {
            guard case .object(let c) = calls[i] else { return [] }
            return [c["cost_per_hour"], c["cost_per_hour_min"], c["cost_per_hour_max"], c["price_exact"]]
        }
        #expect(prices(0) == [.double(2.49), .double(2.49), .double(2.79), .bool(false)])
        #expect(prices(1) == [.double(2.59), .double(2.59), .double(2.59), .bool(true)])
        #expect(prices(2) == [.double(2.69), .double(2.69), .double(2.69), .bool(false)])
        // memory >= 100 GB leaves the x4 (128 GB) and x8 (256 GB) configs; no gpu_count, any count.
        #expect(prices(3) == [.double(1.62), .double(1.62), .double(3.49), .bool(false)])
        #expect(prices(4) == [.double(0.41), .double(0.41), .double(3.49), .bool(false)])
        #expect(o["hourly_cost"] == .double(9.80))
        #expect(o["hourly_cost_min"] == .double(9.80))
        #expect(o["hourly_cost_max"] == .double(15.05))
    }

    @Test func plannedInstancesAreListedAfterTheServers() async throws {
        let h = try await Harness.make(dryRun: true)
        let r = try await h.run("""
            local a = runcrate.create_instance{ name = "lst-a", gpu_type = "l40s" }
            runcrate.create_instance{ name = "other", gpu_type = "l40s" }
            runcrate.delete_instance(a)
            local names = {}
            for _, i in ipairs(runcrate.instances{ search = "LST" }) do names[#names + 1] = i.name .. " " .. i.status end
            return #runcrate.instances(), table.concat(names, ",")
            """)
        #expect(r == [.integer(2), .string("lst-a terminated")])
        #expect(h.mutatingRequests().isEmpty)
    }

    @Test func thePlanTableShowsRangesAndSaysTheTopIsTheWorstCase() async throws {
        let h = try await Harness.make(dryRun: true)
        try await h.run("""
            runcrate.create_instance{ name = "t-h100", gpu_type = "h100-sxm", gpu_count = 1 }
            runcrate.create_instance{ name = "t-exact", instance_type_id = "vivid-curie-l40sx1-6f35" }
            """)
        try h.module.finish()
        let lines = h.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("create_instance  planned-1") && $0.hasSuffix("2.49–2.79") })
        #expect(lines.contains { $0.contains("create_instance  planned-2") && $0.hasSuffix(" 0.89") })
        #expect(lines.contains("total: 2 instances, 3.38–3.68 USD/h"))
        #expect(h.stderr.contains("the upper bound is the worst case"))
    }
}

@Suite struct SpendCapTests {
    @Test func maxInstancesStopsTheThirdCreateBeforeAnyRequest() async throws {
        let h = try await Harness.make(maxInstances: 2)
        let r = try await h.run("""
            for i = 1, 2 do runcrate.create_instance{ name = "cap-" .. i, gpu_type = "rtx-4090" } end
            local ok, e = pcall(runcrate.create_instance, { name = "cap-3", gpu_type = "rtx-4090" })
            return e.code, e.message
            """)
        #expect(r == [.string("spend_cap"), .string("creating 'cap-3' would make 3 instances in this run, over --max-instances 2")])
        #expect(h.mutatingRequests().count == 2)
    }

    @Test func maxHourlyCostCountsPlannedInstancesToo() async throws {
        let h = try await Harness.make(dryRun: true, maxHourlyCost: 1.0)
        let r = try await h.run("""
            for i = 1, 2 do runcrate.create_instance{ name = "h-" .. i, gpu_type = "rtx-4090", gpu_count = 1 } end
            local ok, e = pcall(runcrate.create_instance, { name = "h-3", gpu_type = "rtx-4090", gpu_count = 1 })
            return e.code, e.message
            """)
        // Planned instances count at their worst case (0.44): 0.88 + 0.44 crosses 1.00.
        #expect(r == [.string("spend_cap"), .string(
            "creating 'h-3' could bring this run to 1.32 USD/h, over --max-hourly-cost 1.00: it is priced at its worst case, 0.44 USD/h (matching rtx-4090 configs cost 0.41–0.44; the server picks the cheapest in stock)")])
    }

    /// h100-sxm x1 costs 2.49 (us-east, sold out in the sandbox) to 2.79: a cap between the two
    /// must refuse the create before any request, because the server may pick any of them.
    @Test func maxHourlyCostUsesTheWorstCaseForGPUTypeCreates() async throws {
        let h = try await Harness.make(maxHourlyCost: 2.6)
        let r = try await h.run("""
            local ok, e = pcall(runcrate.create_instance, { name = "wc", gpu_type = "h100-sxm", gpu_count = 1 })
            local ok2, inst = pcall(runcrate.create_instance, { name = "wc-exact", instance_type_id = "brave-noether-h100x1-b0c2" })
            return e.code, e.message, ok2 and inst.cost_per_hour
            """)
        #expect(r[0] == .string("spend_cap"))
        #expect(r[1] == .string("creating 'wc' could bring this run to 2.79 USD/h, over --max-hourly-cost 2.60: it is priced at its worst case, 2.79 USD/h (matching h100-sxm configs cost 2.49–2.79; the server picks the cheapest in stock)"))
        #expect(r[2] == .number(2.59))  // the exact type has one price, under the cap
        #expect(h.mutatingRequests().count == 1)
        // A region narrows the configs the server may pick: eu-central has one, at 2.69.
        let regional = try await Harness.make(maxHourlyCost: 2.7)
        let rr = try await regional.run("""
            return runcrate.create_instance{ name = "wc-eu", gpu_type = "h100-sxm", gpu_count = 1, region = "eu-central" }.cost_per_hour
            """)
        #expect(rr == [.number(2.69)])
    }

    /// After a create the governor counts the real cost_per_hour, not the worst case.
    @Test func maxHourlyCostCountsTheRealPriceAfterACreate() async throws {
        let h = try await Harness.make(maxHourlyCost: 3.1)
        let r = try await h.run("""
            local a = runcrate.create_instance{ name = "rp-1", gpu_type = "h100-sxm", gpu_count = 1 }  -- worst 2.79
            local b = runcrate.create_instance{ name = "rp-2", instance_type_id = "nimble-tharp-rtxx1-e526" }
            local ok, e = pcall(runcrate.create_instance, { name = "rp-3", instance_type_id = "nimble-tharp-rtxx1-e526" })
            return a.cost_per_hour, b.cost_per_hour, e.code, e.message
            """)
        // 2.59 (us-east's 2.49 is sold out) + 0.41 = 3.00 fits; counted at 2.79 it would not have.
        #expect(r == [.number(2.59), .number(0.41), .string("spend_cap"),
                      .string("creating 'rp-3' (0.41 USD/h) would bring this run to 3.41 USD/h, over --max-hourly-cost 3.10")])
        #expect(h.mutatingRequests().count == 2)
    }

    @Test func uncaughtSpendCapHasItsOwnExitStatus() async throws {
        let h = try await Harness.make(maxInstances: 0)
        let message = await h.failure(#"runcrate.create_instance{ name = "z", gpu_type = "rtx-4090" }"#)
        #expect(message == "script.lua:1: runcrate.create_instance: spend_cap: creating 'z' would make 1 instances in this run, over --max-instances 0")
        // The status comes from the error object's code, kept by the message handler, not its text.
        #expect(h.module.exitStatusOfLastError(in: h.lua.L) == RuncrateExitStatus.spendCap)
        _ = await h.failure(#"error("x.lua:1: runcrate.create_instance: spend_cap: a string that only looks like one")"#)
        #expect(h.module.exitStatusOfLastError(in: h.lua.L) == nil)
        _ = await h.failure(#"error(setmetatable({ code = "spend_cap" }, { __tostring = function() return "mine" end }))"#)
        #expect(h.module.exitStatusOfLastError(in: h.lua.L) == nil)
        #expect(h.sandbox.requestLog().isEmpty)
    }

    @Test func liveModeAsksOnceBeforeTheFirstCreate() async throws {
        let asked = QuestionLog()
        let h = try await Harness.make(target: .live, confirm: { q in asked.add(q); return true })
        try await h.run("for i = 1, 2 do runcrate.create_instance{ name = 'lv-' .. i, gpu_type = 'rtx-4090', gpu_count = 1 } end")
        #expect(asked.all == ["runcrate: create instance 'lv-1' (rtx-4090 x1, about 0.41–0.44 USD/h) on the LIVE API? [y/N] "])
        let no = try await Harness.make(target: .live, confirm: { _ in false })
        let r = try await no.run("local ok, e = pcall(runcrate.create_instance, { name = 'n', gpu_type = 'l40s' }) return e.code")
        #expect(r == [.string("cancelled")])
        #expect(no.mutatingRequests().isEmpty)
    }
}

final class QuestionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite struct CloseTests {
    @Test func closedInstanceIsTerminatedWhenItsScopeFails() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local id, kept_id, ok_id
            local ok, e = pcall(function()
              local inst <close> = runcrate.create_instance{ name = "tbc", gpu_type = "rtx-4090" }
              id = inst.id
              error("boom")
            end)
            pcall(function()
              local inst <close> = runcrate.create_instance{ name = "kept", gpu_type = "rtx-4090" }
              inst:keep()
              kept_id = inst.id
              error("boom")
            end)
            do
              local inst <close> = runcrate.create_instance{ name = "fine", gpu_type = "rtx-4090" }
              ok_id = inst.id
            end
            return ok, runcrate.instance_status(id).status, runcrate.instance_status(kept_id).status ~= "terminated",
                   runcrate.instance_status(ok_id).status ~= "terminated"
            """)
        #expect(r == [.boolean(false), .string("terminated"), .boolean(true), .boolean(true)])
        #expect(h.stderr.contains("because its scope was left by an error"))
    }
}

@Suite struct SecretTests {
    @Test func secretsNeverAppearInAnyOutput() async throws {
        setenv("RUNCRATE_TEST_TOKEN", "hf_SuperSecretToken123", 1)
        let planOut = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID()).json").path
        let secret = "hf_SuperSecretToken123"
        let other = "pa55word-xyz"
        for dry in [false, true] {
            let h = try await Harness.make(dryRun: dry, verbose: true, planOut: planOut)
            let r = try await h.run("""
                local tok = runcrate.getenv("RUNCRATE_TEST_TOKEN", { secret = true, required = true })
                local pw = runcrate.secret("\(other)")
                print(tok, pw, "x" .. pw, runcrate.json.encode({ tok = tok }))
                runcrate.log("token is", tok)
                local url = runcrate.template("https://u:{{pw}}@host", { pw = pw })
                print(url)
                local inst = runcrate.create_instance{ name = "sec", gpu_type = "rtx-4090",
                  env = { HF_TOKEN = tok, URL = url }, launch_script = "echo " .. tostring(pw) }
                print(runcrate.json.encode(inst))
                for k, v in pairs(inst) do print(k, v) end
                local ok, e = pcall(runcrate.create_instance, { name = "bad", gpu_type = "x",
                  launch_script_base64 = runcrate.secret("\(other)!") })
                print(tostring(e), e.message)
                local ok2, e2 = pcall(runcrate.template, pw, {})
                error(runcrate.secret("\(other)") .. " in an error")
                """.replacingOccurrences(of: "error(runcrate.secret", with: "print(runcrate.secret"))
            _ = r
            try h.module.finish()
            let plan = (try? String(contentsOfFile: planOut, encoding: .utf8)) ?? ""
            for text in [h.stdout, h.stderr, plan, h.module.planJSON ?? ""] {
                #expect(!text.contains(secret))
                #expect(!text.contains(other))
            }
            #expect(h.stdout.contains("***\t***\t***"))
            if !dry {
                // Sent for real: the sandbox received the values.
                let body = h.mutatingRequests().first?.body ?? ""
                #expect(body.contains(secret))
                #expect(h.stderr.contains("\"value\":\"***\""))
            } else {
                #expect(plan.contains(#""HF_TOKEN","value":"***""#) || plan.contains(#""value":"***""#))
            }
        }
    }
}

@Suite struct PropertyTests {
    /// Thousands of random Lua values: each gives a created instance or a validation error, and the
    /// host survives. Valid-looking specs are common enough that many creates really happen.
    @Test func randomValuesGiveAnInstanceOrAValidationError() async throws {
        let h = try await Harness.make()
        for gpu in ["rtx-4090", "l40s", "a100-80gb"] { h.sandbox.setStock(gpuType: gpu, count: 100_000) }
        h.sandbox.setCredits(1e12)
        let r = try await h.run("""
            math.randomseed(20261129)
            local R = math.random
            local fields = { "name", "gpu_type", "instance_type_id", "region", "gpu_count", "cpu_cores", "memory",
              "storage", "template", "ssh_key_id", "env", "env_vars", "startup_commands", "storage_id", "launch_script",
              "launch_script_base64", "max_runtime_minutes", "idle_shutdown_minutes", "gpu", "nme", 1, 2.5, true }
            local value
            local function scalar()
              local k = R(16)
              if k == 1 then return nil elseif k == 2 then return R(2) == 1
              elseif k == 3 then return R(-5, 100) elseif k == 4 then return R() * 100
              elseif k == 5 then return 0/0 elseif k == 6 then return math.huge * (R(2) == 1 and 1 or -1)
              elseif k == 7 then return math.maxinteger elseif k == 8 then return math.mininteger
              elseif k == 9 then return "" elseif k == 10 then return string.rep("n", R(0, 80))
              elseif k == 11 then return "rtx-4090" elseif k == 12 then return print
              elseif k == 13 then return runcrate.secret("s" .. R(9)) elseif k == 14 then return coroutine.create(print)
              elseif k == 15 then return io.stdout else return 2.0 end
            end
            function value(depth)
              if depth > 3 or R(3) > 1 then return scalar() end
              local t = {}
              for _ = 1, R(0, 4) do
                local key = R(2) == 1 and fields[R(#fields)] or scalar()
                if key ~= nil and key == key then t[key] = value(depth + 1) end
              end
              if R(10) == 1 then setmetatable(t, {}) end
              if R(12) == 1 then t.self = t end
              return t
            end
            local function plausible()
              local s = { name = "p" .. R(1000), gpu_type = ({ "rtx-4090", "l40s", "a100-80gb" })[R(3)] }
              for _ = 1, R(0, 3) do
                local f = fields[R(#fields)]
                local options = { 1, 2, 2.0, 0, "8", 4, { "echo" }, { A = "1" }, { A = 1.5 }, "x", value(2) }
                if type(f) == "string" and f ~= "gpu_type" and f ~= "instance_type_id" then s[f] = options[R(#options)] end
              end
              return s
            end
            local created, invalid, other = 0, 0, {}
            for i = 1, 3000 do
              local v = (i % 3 == 0) and plausible() or value(0)
              local ok, res = pcall(runcrate.create_instance, v)
              if ok and type(res) == "table" and type(res.id) == "string" then created = created + 1
              elseif not ok and runcrate.is_error(res) and res.code == "validation_error" and #res.errors > 0 then invalid = invalid + 1
              else other[#other + 1] = tostring(res) end
            end
            return created, invalid, #other, table.concat(other, " | ")
            """)
        let created = r[0].integerValue ?? 0, invalid = r[1].integerValue ?? 0
        #expect(created + invalid == 3000, "unexpected: \(r.count > 3 ? r[3].description : "")")
        #expect(created > 100)
        #expect(invalid > 1000)
        #expect(r[2] == .integer(0))
        #expect(h.lua.L.gettop() == 0)
    }
}
