import LuaBridge
import Testing
@testable import RuncrateLua

/// `launch{}` against the sandbox with faults; the attempts list is asserted in full.
@Suite struct LaunchTests {
    /// Runs a launch and returns `code or "ok"`, and the attempts as `candidate outcome code price` lines
    /// (`candidate/type-id` when a GPU type was asked for by config id).
    static let probe = """
        local function show(attempts)
          local lines = {}
          for i, a in ipairs(attempts) do
            local what = a.candidate .. (a.instance_type_id and ("/" .. a.instance_type_id) or "")
            lines[i] = table.concat({ what, a.outcome, tostring(a.code), string.format("%.2f", a.price or -1) }, " ")
          end
          return table.concat(lines, "\\n")
        end
        local ok, inst, attempts = pcall(runcrate.launch, SPEC)
        if ok then return "ok", show(attempts), inst.gpu_type, inst.cost_per_hour, inst.id end
        return inst.code, show(inst.attempts or {}), inst.message
        """

    func launch(_ h: Harness, _ spec: String) async throws -> [LuaValue] {
        try await h.run(Self.probe.replacingOccurrences(of: "SPEC", with: spec))
    }

    @Test func issueExampleRunsAsWritten() async throws {
        let h = try await Harness.make()
        try await h.run("""
            local rc = require "runcrate"
            local sweep = { {lr = "1e-4"}, {lr = "3e-4"}, {lr = "1e-3"} }
            for i, p in ipairs(sweep) do
              local inst, attempts = rc.launch{
                name = rc.template("sweep-{{i}}", {i = i}),
                candidates = {"h100-sxm", "h200", "a100-80gb"},   -- in order of preference
                max_price = 3.50,                                   -- USD/h ceiling per instance
                gpu_count = 1,
                env = { LR = p.lr, RUN = "sweep-" .. i, HF_TOKEN = rc.getenv("HF_TOKEN", {secret = true}) },
                startup_commands = { "nvidia-smi" },
              }
              print(inst.id, inst.gpu_type, inst.cost_per_hour, #attempts)
            end
            """)
        let lines = h.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.hasSuffix("\th100-sxm\t2.59\t1") })
        let creates = h.mutatingRequests().filter { $0.method == "POST" }
        #expect(creates.count == 3)
        #expect(creates[0].body?.contains(#"{"key":"LR","value":"1e-4"}"#) == true)
    }

    @Test func soldOutFailsOverToTheNextCandidate() async throws {
        let h = try await Harness.make()
        h.sandbox.setStock(gpuType: "h100-sxm", count: 0)
        let r = try await launch(h, #"{ name = "f", candidates = {"h100-sxm", "h200"}, gpu_count = 1, max_price = 3.5 }"#)
        #expect(r[0] == .string("ok"))
        // h100 x1 (2.49–2.79) is wholly under 3.5 and asked for by type; h200 x1 has configs over it,
        // so its cheapest config is asked for by id.
        #expect(r[1] == .string("h100-sxm no_capacity no_capacity 2.49\nh200/brave-lovelace-h200x1-1b8c created nil 3.29"))
        #expect(r[2] == .string("h200"))
    }

    @Test func injected503FailsOver() async throws {
        let h = try await Harness.make()
        try h.sandbox.setFaults("create#1-2=503")
        let r = try await launch(h, #"{ name = "f", candidates = {"rtx-4090", "l40s"}, gpu_count = 1 }"#)
        #expect(r[0] == .string("ok"))
        #expect(r[1] == .string("rtx-4090 no_capacity no_capacity 0.41\nl40s created nil 0.89"))
    }

    @Test func noLongerAvailable500FailsOver() async throws {
        let h = try await Harness.make()
        h.sandbox.setSoldOutStatus(500)
        h.sandbox.setStock(gpuType: "rtx-4090", count: 0)
        let r = try await launch(h, #"{ name = "f", candidates = {"rtx-4090", "l40s"}, gpu_count = 1 }"#)
        #expect(r[0] == .string("ok"))
        #expect(r[1] == .string("rtx-4090 sold_out sold_out 0.41\nl40s created nil 0.89"))
    }

    @Test func launchRefusedFailsOver() async throws {
        let h = try await Harness.make()
        try h.sandbox.setFaults("create#1=502,code=launch_refused")
        let r = try await launch(h, #"{ name = "f", candidates = {"rtx-4090", "l40s"}, gpu_count = 1 }"#)
        #expect(r[1] == .string("rtx-4090 launch_refused launch_refused 0.41\nl40s created nil 0.89"))
    }

    /// h100 x1 costs 2.49 (us-east, sold out), 2.59, 2.69, 2.79: asked for by GPU type, the server
    /// would pick 2.59. Under a ceiling of 2.55 only the 2.49 config is asked for, by id: nothing is
    /// created over the ceiling, not even for a moment.
    @Test func aGPUTypeStraddlingTheCeilingIsAskedForByConfigsUnderIt() async throws {
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "c", candidates = {"h100-sxm", "l40s"}, gpu_count = 1, max_price = 2.55 }"#)
        #expect(r[0] == .string("ok"))
        #expect(r[1] == .string("h100-sxm/jolly-knuth-h100x1-75ff no_capacity no_capacity 2.49\nl40s created nil 0.89"))
        let posts = h.mutatingRequests()
        #expect(posts.map(\.status) == [503, 201])
        #expect(posts.first?.body?.contains(#""instance_type_id":"jolly-knuth-h100x1-75ff""#) == true, "\(posts)")
        #expect(posts.first?.body?.contains("gpu_type") == false, "\(posts)")
    }

    @Test func theCheapestConfigInStockUnderTheCeilingIsCreated() async throws {
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "c", candidates = {"h100-sxm"}, gpu_count = 1, max_price = 2.60 }"#)
        #expect(r[0] == .string("ok"))
        #expect(r[1] == .string("h100-sxm/jolly-knuth-h100x1-75ff no_capacity no_capacity 2.49\nh100-sxm/brave-noether-h100x1-b0c2 created nil 2.59"))
        #expect(r[2] == .string("h100-sxm"))
        #expect(h.mutatingRequests().map(\.status) == [503, 201])
    }

    @Test func aGPUTypeWhollyUnderTheCeilingIsAskedForByType() async throws {
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "c", candidates = {"h100-sxm"}, gpu_count = 1, max_price = 2.80 }"#)
        #expect(r[1] == .string("h100-sxm created nil 2.59"))
        #expect(h.mutatingRequests().first?.body?.contains(#""gpu_type":"h100-sxm""#) == true)
    }

    /// cpu_cores/memory/storage narrow the configs as only the server can: such a launch asks by GPU
    /// type, and an instance whose real price is over the ceiling is terminated at once.
    @Test func instanceOverTheCeilingAfterCreateIsTerminated() async throws {
        // The cheapest h100 x1 (us-east, 2.49) is sold out: the server picks us-west at 2.59.
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "c", candidates = {"h100-sxm"}, gpu_count = 1, cpu_cores = 8, max_price = 2.55 }"#)
        #expect(r[0] == .string("no_capacity"))
        #expect(r[1] == .string("h100-sxm price_ceiling price_ceiling 2.59"))
        let requests = h.mutatingRequests().map { "\($0.method) \($0.path.hasPrefix("/api/v1/instances/") ? "/api/v1/instances/ID" : $0.path) \($0.status)" }
        #expect(requests == ["POST /api/v1/instances 201", "DELETE /api/v1/instances/ID 200"]
                || requests == ["POST /api/v1/instances 201", "DELETE /api/v1/instances/ID 204"])
    }

    @Test func candidatesOverTheCeilingAreSkippedWithoutARequest() async throws {
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "s", candidates = {"b200", "h200", "l40s"}, gpu_count = 1, max_price = 1 }"#)
        #expect(r[1] == .string("b200 over_ceiling price_ceiling 5.19\nh200 over_ceiling price_ceiling 3.29\nl40s created nil 0.89"))
        #expect(h.mutatingRequests().count == 1)
    }

    @Test func orderByPriceTriesTheCheapestFirst() async throws {
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "p", candidates = {"h200", "a100-80gb", "rtx-4090"}, order = "price", gpu_count = 1 }"#)
        #expect(r[1] == .string("rtx-4090 created nil 0.41"))
    }

    @Test func instanceTypeIdsAreCandidatesToo() async throws {
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "t", candidates = {"jolly-curie-rtxx1-f0b9"} }"#)
        #expect(r[1] == .string("jolly-curie-rtxx1-f0b9 created nil 0.42"))
        #expect(h.mutatingRequests().first?.body?.contains(#""instance_type_id":"jolly-curie-rtxx1-f0b9""#) == true)
    }

    @Test func creditErrorsAreRaisedAtOnceWithoutFailover() async throws {
        let h = try await Harness.make()
        h.sandbox.setCredits(0)
        let r = try await launch(h, #"{ name = "x", candidates = {"rtx-4090", "l40s"}, gpu_count = 1 }"#)
        #expect(r[0] == .string("insufficient_credits"))
        #expect(r[1] == .string(""))
        #expect(h.mutatingRequests().count == 1)
    }

    @Test func badLaunchSpecsFailBeforeAnyRequest() async throws {
        let h = try await Harness.make()
        let r = try await launch(h, #"{ name = "x", candidates = {}, order = "random", max_price = -1, gpu_cont = 1 }"#)
        #expect(r[0] == .string("validation_error"))
        #expect(r[2] == .string("candidates: a non-empty list of GPU types or instance type ids expected, got an empty table; order: 'listed' or 'price' expected, got random; max_price: a positive number (USD/h) expected, got -1"))
        let r2 = try await launch(h, #"{ name = "x", candidates = {"l40s"}, gpu_cont = 1 }"#)
        #expect(r2[2] == .string("unknown field 'gpu_cont' — did you mean 'gpu_count'?"))
        #expect(h.sandbox.requestLog().isEmpty)
    }

    @Test func everyCandidateFailingRaisesNoCapacityWithAttempts() async throws {
        let h = try await Harness.make()
        try h.sandbox.setFaults("create=503")
        // h200 is a known GPU type with no config in us-west (a GPU type nobody sells is a
        // validation_error instead: FoundInUseTests).
        let r = try await launch(h, #"{ name = "x", candidates = {"rtx-4090", "h200"}, gpu_count = 1, region = "us-west" }"#)
        #expect(r[0] == .string("no_capacity"))
        #expect(r[1] == .string("rtx-4090 no_capacity no_capacity 0.41\nh200 no_match not_found -1.00"))
        #expect(r[2] == .string("no candidate could be launched (rtx-4090 no_capacity, h200 no_match)"))
    }

    @Test func aLaunchReadsTheCatalogueOnceForPlanAndGovernor() async throws {
        let h = try await Harness.make(maxHourlyCost: 10)
        let r = try await launch(h, #"{ name = "once", candidates = {"h100-sxm", "l40s"}, gpu_count = 1, max_price = 2.6 }"#)
        #expect(r[0] == .string("ok"))
        let reads = h.sandbox.requestLog().filter { $0.path == "/api/v1/instances/types" }
        #expect(reads.count == 1)
    }

    @Test func launchsOwnEntryPointsAreNotModuleFunctionsAndCreateTakesNoHiddenFlag() async throws {
        let h = try await Harness.make()
        h.sandbox.setStock(gpuType: "l40s", count: 0)
        let r = try await h.run("""
            local ok, e = pcall(runcrate.create_instance, { name = "x", gpu_type = "l40s", retry = false }, true)
            return runcrate.launch_attempt, runcrate.validate_instance, runcrate.launch_plan, e.code
            """)
        #expect(r == [.nil, .nil, .nil, .string("no_capacity")])
    }
}
