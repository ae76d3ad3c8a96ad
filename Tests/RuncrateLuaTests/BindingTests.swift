import Foundation
import CLua
import LuaBridge
import Testing
@testable import RuncrateLua

@Suite struct BindingTests {
    @Test func installingStartsNothingAndPlainLuaRuns() async throws {
        let h = try await Harness.make()
        let r = try await h.run("return 1 + 1, runcrate.mode, require('runcrate') == runcrate, type(runcrate.version)")
        #expect(r == [.integer(2), .string("sandbox"), .boolean(true), .string("string")])
        #expect(!h.module.transportStarted)
        #expect(h.stderr == "")
        #expect(h.sandbox.requestLog().isEmpty)
    }

    @Test func firstAPICallPrintsTheSandboxNoticeOnce() async throws {
        let h = try await Harness.make()
        try await h.run("runcrate.balance(); runcrate.instances()")
        #expect(h.module.transportStarted)
        #expect(h.stderr == "runcrate: sandbox mode: an in-process simulator, nothing is billed\n")
    }

    @Test func createInstanceReturnsEveryFieldTheServerSent() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local i = runcrate.create_instance{ name = "b-1", gpu_type = "rtx-4090", gpu_count = 1,
              env = { B = "2", A = 1 }, startup_commands = { "nvidia-smi" }, ssh_key_id = nil }
            return i
            """)
        let inst = r[0]
        #expect(inst["name"] == .string("b-1"))
        #expect(inst["gpu_type"] == .string("rtx-4090"))
        #expect(inst["cost_per_hour"] == .number(0.41))
        #expect(inst["id"].stringValue?.isEmpty == false)
        #expect(inst["status"] != .nil)
        let body = h.mutatingRequests().first?.body ?? ""
        #expect(body.contains(#""env_vars":[{"key":"A","value":"1"},{"key":"B","value":"2"}]"#))
    }

    @Test func listGetStatusUpdateDelete() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local a = runcrate.create_instance{ name = "lg-a", gpu_type = "rtx-4090" }
            local b = runcrate.create_instance{ name = "lg-b", instance_type_id = "jolly-curie-rtxx1-f0b9" }
            local all = runcrate.instances()
            local some = runcrate.instances{ search = "lg-b" }
            local got = runcrate.instance(a.id)
            local st = runcrate.wait_for(a, { timeout = 10, interval = 0.1 })
            local up = runcrate.update_instance(a.id, { max_runtime_minutes = 60 })
            local del = runcrate.delete_instance(b)
            local after = runcrate.instance_status(b.id)
            return #all, #some, some[1].name, got.id == a.id, st.status, up.max_runtime_minutes, del, after.status, a.status
            """)
        #expect(r == [.integer(2), .integer(1), .string("lg-b"), .boolean(true), .string("running"),
                      .integer(60), .boolean(true), .string("terminated"), .string("running")])
    }

    @Test func instanceTypesAreSortedAndFilteredByMaxPrice() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local t = runcrate.instance_types{ gpu_count = 1, max_price = 1.0 }
            local sorted = true
            for i = 2, #t do if t[i].hourly_rate < t[i-1].hourly_rate then sorted = false end end
            local over = false
            for _, x in ipairs(t) do if x.hourly_rate > 1.0 or x.gpu_count ~= 1 then over = true end end
            return #t > 0, sorted, over, t[1].id
            """)
        #expect(r == [.boolean(true), .boolean(true), .boolean(false), .string("nimble-tharp-rtxx1-e526")])
    }

    @Test func sshKeysVolumesTemplatesEnvironmentsBalance() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local k = runcrate.create_ssh_key{ name = "me", public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host" }
            local keys = runcrate.ssh_keys()
            local dk = runcrate.delete_ssh_key(k.id)
            local regions = runcrate.volume_regions()
            local v = runcrate.create_volume{ name = "data", size_gb = 10, region = regions[1].id }
            local rv = runcrate.resize_volume(v.id, 20)
            local vols = runcrate.volumes()
            local one = runcrate.volume(v.id)
            runcrate.delete_volume(v.id)
            local tpl = runcrate.templates{ page_size = 5 }
            local env = runcrate.create_environment{ name = "staging" }
            local envs = runcrate.environments()
            local bal = runcrate.balance()
            return #keys, dk, #vols, one.id == v.id, #tpl > 0, env.name, #envs, type(bal.creditsBalance)
            """)
        #expect(r == [.integer(1), .boolean(true), .integer(1), .boolean(true), .boolean(true), .string("staging"),
                      .integer(2), .string("number")])
    }

    @Test func apiErrorsAreErrorObjectsWithCodeStatusAndPosition() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local ok, e = pcall(runcrate.instance, "nope")
            return ok, e.code, e.status, e.retryable, tostring(e), runcrate.is_error(e)
            """, name: "@probe.lua")
        #expect(r[0] == .boolean(false))
        #expect(r[1] == .string("not_found"))
        #expect(r[2] == .integer(404))
        #expect(r[3] == .boolean(false))
        #expect(r[4].stringValue?.hasPrefix("probe.lua:1: runcrate.instance: not_found: ") == true)
        #expect(r[5] == .boolean(true))
    }

    @Test func uncaughtErrorObjectReportsScriptLine() async throws {
        let h = try await Harness.make()
        let message = await h.failure("local x = 1\nruncrate.create_instance{ name = 'x', gpu_type = 'h100-sxm', gpu_count = 0 }\n",
                                name: "@script.lua")
        #expect(message == "script.lua:2: runcrate.create_instance: validation_error: gpu_count must be an integer >= 1 (got 0)")
        #expect(h.sandbox.requestLog().isEmpty)
    }

    @Test func waitForTimesOutAndReportsFinalStatuses() async throws {
        let h = try await Harness.make(readyAfter: 30)
        let r = try await h.run("""
            local i = runcrate.create_instance{ name = "slow", gpu_type = "rtx-4090" }
            local ok, e = pcall(runcrate.wait_for, i.id, { timeout = 0.3, interval = 0.1 })
            runcrate.delete_instance(i)
            local ok2, e2 = pcall(runcrate.wait_for, i, { timeout = 5, interval = 0.1 })
            return e.code, e2.code, e2.message
            """)
        #expect(r[0] == .string("timeout"))
        #expect(r[1] == .string("unexpected_status"))
        #expect(r[2].stringValue?.contains("reached final status 'terminated' while waiting for 'running'") == true)
    }

    @Test func sleepIsInterruptedByCtrlC() async throws {
        let h = try await Harness.make()
        let L = UnsafeSendable(h.lua.L)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { rcshimInterrupt(L.value) }
        let start = Date()
        let r = try await h.run("local ok, e = pcall(runcrate.sleep, 60) return ok, e.code")
        #expect(r == [.boolean(false), .string("interrupted")])
        // Not the whole minute; the room is for a test pool busy with other tests (seconds on 2 cores).
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(try await h.run("local n = 0 for i = 1, 100000 do n = n + i end return n") == [.integer(5_000_050_000)])
    }

    @Test func preludeIsThisLuasBytecodeWithDebugInfo() throws {
        let bytecode = try #require(Prelude.bytecode)
        // LUA_SIGNATURE, then LUAC_VERSION (major * 16 + minor) of the Lua the package links.
        let release = Int(CLUA_VERSION_RELEASE_NUM)
        #expect(Array(bytecode.prefix(5)) == [0x1B, 0x4C, 0x75, 0x61, UInt8(release / 10000 * 16 + release / 100 % 100)])
        let lua = try Lua()
        try Prelude.load(into: lua.L)
        lua.L.setglobal(raw: "PRELUDE")
        // Debug info is kept: the chunk is named as the module recognises its own frames.
        #expect(try lua.L.run("return debug.getinfo(PRELUDE, 'S').source", name: "=test") == [.string("=runcrate")])
        #expect(Prelude.decodeBase64("aGVsbG8=") == Array("hello".utf8))
        #expect(Prelude.decodeBase64("aGk*") == nil)
    }

    @Test func helpPrintsTheContract() async throws {
        let h = try await Harness.make()
        try await h.run("help(runcrate.launch); runcrate.help()")
        #expect(h.stdout.hasPrefix("runcrate.launch{name=, candidates={...}"))
        #expect(h.stdout.contains("create_instance(spec) -> instance"))
    }

    @Test func jsonRoundTripsAndEncodesSecretsAsStars() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local s = runcrate.json.encode({ b = {1, 2.5, "x"}, a = true, t = runcrate.secret("hunter22") })
            local d = runcrate.json.decode('{"n": 3, "f": 1.5, "l": [], "z": null}')
            return s, math.type(d.n), d.f, #d.l, d.z, runcrate.json.encode(d.l)
            """)
        #expect(r == [.string(#"{"a":true,"b":[1,2.5,"x"],"t":"***"}"#), .string("integer"), .number(1.5),
                      .integer(0), .nil, .string("[]")])
    }

    @Test func jsonWritesTheShortestNumberThatReadsBack() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local values = { 0.41, 1 / 3, 0.1 + 0.2, 1e300, 2.5 }
            for _, v in ipairs(values) do assert(runcrate.json.decode(runcrate.json.encode(v)) == v, v) end
            return runcrate.json.encode(values)
            """)
        #expect(r == [.string("[0.41,0.33333333333333331,0.30000000000000004,1e+300,2.5]")])
    }

    @Test func templateSubstitutesAndNamesMissingVariables() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local a = runcrate.template("run-{{i}}-{{ cfg.lr }}", { i = 3, cfg = { lr = "1e-4" } })
            local ok, e = pcall(runcrate.template, "x-{{missing}}", {})
            return a, e.code, e.errors[1].field, e.message
            """)
        #expect(r == [.string("run-3-1e-4"), .string("validation_error"), .string("missing"),
                      .string("template: missing variable 'missing'")])
    }
}

import CLuaShim
func rcshimInterrupt(_ L: LuaState) { rcshim_interrupt(L) }
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

@Suite struct ContractCoverageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    @Test func everyFunctionHasTypesHelpAndDocs() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local names = {}
            for k, v in pairs(runcrate) do if type(v) == "function" then names[#names + 1] = k end end
            table.sort(names)
            return table.concat(names, " ")
            """)
        let names = (r[0].stringValue ?? "").split(separator: " ").map(String.init)
        #expect(names.count >= 30)
        let types = try String(contentsOf: Self.root.appendingPathComponent("types/runcrate.lua"), encoding: .utf8)
        let docs = try String(contentsOf: Self.root.appendingPathComponent("SCRIPTING.md"), encoding: .utf8)
        for name in names {
            #expect(types.contains("function runcrate.\(name)("), "types/runcrate.lua lacks \(name)")
            #expect(docs.contains(name), "SCRIPTING.md lacks \(name)")
            let help = try await h.run("return (function() local out = {} local p = print print = function(s) out[#out+1] = s end runcrate.help(runcrate.\(name)) print = p return out[1] end)()")
            #expect(help.first?.stringValue?.hasPrefix("runcrate.\(name)") == true, "help lacks \(name)")
        }
    }
}

@Suite struct WaitAndLimitTests {
    @Test func waitForShowsOneProgressLineOnATerminalOnly() async throws {
        let tty = try await Harness.make(readyAfter: 0.4, stderrIsTerminal: true)
        try await tty.run("local i = runcrate.create_instance{ name = 'pg', gpu_type = 'rtx-4090' } runcrate.wait_for(i, { interval = 0.1 })")
        #expect(tty.stderr.contains("\r\u{1B}[Kwaiting for pg ("))
        #expect(tty.stderr.hasSuffix("\r\u{1B}[K"))
        let pipe = try await Harness.make(readyAfter: 0.4)
        try await pipe.run("local i = runcrate.create_instance{ name = 'pg', gpu_type = 'rtx-4090' } runcrate.wait_for(i, { interval = 0.1 })")
        #expect(!pipe.stderr.contains("waiting for"))
    }

    @Test func timeLimitStopsASleepPromptly() async throws {
        let h = try await Harness.make()
        h.lua.setTimeout(0.3)
        let start = Date()
        let message = await h.failure("runcrate.sleep(60)")
        #expect(message.contains("timeout: the script ran longer than its time limit"))
        #expect(Date().timeIntervalSince(start) < 30)  // not the whole minute
    }

    @Test func dryRunInterceptsEveryMutation() async throws {
        let h = try await Harness.make(dryRun: true)
        let r = try await h.run("""
            local k = runcrate.create_ssh_key{ name = "me", public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host" }
            local v = runcrate.create_volume{ name = "d", size_gb = 10, region = "us-east" }
            runcrate.resize_volume(v.id, 20)
            runcrate.delete_volume(v.id)
            runcrate.delete_ssh_key(k.id)
            local e = runcrate.create_environment{ name = "x" }
            local i = runcrate.create_instance{ name = "u", gpu_type = "l40s" }
            local u = runcrate.update_instance(i, { max_runtime_minutes = 30, idle_shutdown_minutes = runcrate.json.null })
            local st = runcrate.wait_for(i)
            return k.id, v.id, e.status, u.max_runtime_minutes, st.status, runcrate.instance(i.id).status
            """)
        #expect(r == [.string("planned-key-1"), .string("planned-volume-2"), .string("planned"), .integer(30),
                      .string("planned"), .string("planned")])
        #expect(h.mutatingRequests().isEmpty)
        try h.module.finish()
        for op in ["create_ssh_key", "create_volume", "resize_volume", "delete_volume", "delete_ssh_key",
                   "create_environment", "create_instance", "update_instance"] {
            #expect(h.stderr.contains(op), "plan lacks \(op)")
        }
    }
}

@Suite struct InterruptTests {
    @Test func ctrlCCancelsACallInFlight() async throws {
        let h = try await Harness.make()
        try h.sandbox.setFaults("balance=latency:60s")
        let L = UnsafeSendable(h.lua.L)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { rcshimInterrupt(L.value) }
        let start = Date()
        let message = await h.failure("runcrate.balance()")
        #expect(Date().timeIntervalSince(start) < 30)  // not the whole minute
        #expect(message.contains("interrupted"))
    }
}
