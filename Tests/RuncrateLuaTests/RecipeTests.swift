import Foundation
import LuaBridge
import Testing
@testable import RuncrateLua

/// Every recipe in scripts/recipes runs against the sandbox, with assertions on what it created.
@Suite struct RecipeTests {
    static let recipes = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/recipes").standardized

    func run(_ h: Harness, _ recipe: String, args: [String] = []) async throws -> [LuaValue] {
        let code = try String(contentsOf: Self.recipes.appendingPathComponent(recipe), encoding: .utf8)
        let argTable = "arg = { [0] = '\(recipe)', " + args.map { "'\($0)'" }.joined(separator: ", ") + " }\n"
        try await h.run(argTable)
        return try await h.run(code, name: "@scripts/recipes/\(recipe)")
    }

    func liveInstances(_ h: Harness) async throws -> [LuaValue] {
        let r = try await h.run("""
            local out = {}
            for _, i in ipairs(runcrate.instances()) do
              if i.status ~= "terminated" then out[#out + 1] = i.name .. " " .. i.gpu_type .. " " .. string.format("%.2f", i.cost_per_hour) end
            end
            table.sort(out)
            return table.unpack(out)
            """)
        return r
    }

    @Test func everyRecipeIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.recipes.path).filter { $0.hasSuffix(".lua") }
        #expect(Set(files) == ["cheapest-under-ceiling.lua", "sweep.lua", "failover.lua", "teardown-prefix.lua", "cost-report.lua"])
    }

    @Test func cheapestUnderCeilingSkipsTheSoldOutConfig() async throws {
        let h = try await Harness.make()
        let r = try await run(h, "cheapest-under-ceiling.lua")
        #expect(r[0]["gpu_type"] == .string("a100-80gb"))
        #expect(r[0]["cost_per_hour"] == .number(1.45))
        #expect(h.stdout.contains("after 2 attempt(s)"))
        #expect(try await liveInstances(h).count == 1)
    }

    @Test func sweepLaunchesOneTemplatedInstancePerSetting() async throws {
        let h = try await Harness.make()
        _ = try await run(h, "sweep.lua")
        let names = try await liveInstances(h).compactMap(\.stringValue)
        #expect(names == ["resnet-sweep-1 rtx-4090 0.41", "resnet-sweep-2 rtx-4090 0.41", "resnet-sweep-3 rtx-4090 0.41"])
        let bodies = h.mutatingRequests().compactMap(\.body)
        #expect(bodies.count == 3)
        #expect(bodies[2].contains(#"{"key":"RUN_NAME","value":"resnet-lr1e-3-b64"}"#))
        #expect(bodies[2].contains(#"{"key":"BATCH","value":"64"}"#))
        #expect(bodies[2].contains("wandb-demo-key"))
        #expect(!h.stdout.contains("wandb-demo-key") && !h.stderr.contains("wandb-demo-key"))
    }

    @Test func failoverFallsBackAcrossGPUTypes() async throws {
        let h = try await Harness.make()
        h.sandbox.setStock(gpuType: "h100-sxm", count: 0)
        let r = try await run(h, "failover.lua")
        #expect(r[0]["gpu_type"] == .string("a100-80gb"))
        #expect(r[0]["status"] == .string("running"))
        #expect(h.stdout.contains("attempt\th100-sxm\tno_capacity\t2.49\nattempt\th200\tover_ceiling\t3.29\nattempt\ta100-80gb\tcreated\t1.45\n"))
        #expect(try await liveInstances(h) == [.string("failover-demo a100-80gb 1.45")])
    }

    @Test func teardownDryRunFirstThenForReal() async throws {
        let setup = try await Harness.make()
        try await setup.run("""
            for i = 1, 3 do runcrate.create_instance{ name = "sweep-" .. i, gpu_type = "rtx-4090" } end
            runcrate.create_instance{ name = "keep-me", gpu_type = "l40s" }
            """)
        setup.keepSandbox = true
        let dry = try await Harness.make(dryRun: true, sandbox: setup.sandbox)
        dry.keepSandbox = true
        setup.sandbox.clearRequestLog()
        let planned = try await run(dry, "teardown-prefix.lua", args: ["sweep-"])
        #expect(planned == [.integer(3)])
        #expect(dry.mutatingRequests().isEmpty)
        try dry.module.finish()
        #expect(dry.stderr.components(separatedBy: "delete_instance").count == 4)
        let live = try await Harness.make(sandbox: setup.sandbox)
        let done = try await run(live, "teardown-prefix.lua", args: ["sweep-"])
        #expect(done == [.integer(3)])
        #expect(live.mutatingRequests().filter { $0.method == "DELETE" }.count == 3)
        #expect(try await liveInstances(live) == [.string("keep-me l40s 0.89")])
    }

    @Test func costReportSumsRunningInstances() async throws {
        let h = try await Harness.make()
        try await h.run("""
            runcrate.create_instance{ name = "a", gpu_type = "rtx-4090" }
            runcrate.create_instance{ name = "b", gpu_type = "l40s" }
            local c = runcrate.create_instance{ name = "c", gpu_type = "l40s" }
            runcrate.delete_instance(c)
            """)
        let r = try await run(h, "cost-report.lua")
        #expect(r[0]["instances"] == .integer(2))
        #expect(r[0]["hourly"] == .number(1.3))
        #expect(h.stdout.contains("total: 2 instance(s), 1.30 USD/h, 31.20 USD/day"))
    }
}
