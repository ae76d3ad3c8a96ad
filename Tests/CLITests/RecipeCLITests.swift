import Foundation
import Testing

/// Every recipe in scripts/recipes run through the built `runcrate-lua` with `--sandbox` (a fresh
/// in-process simulator per run), with assertions on what it printed and, with `--json`, returned.
/// Setup a recipe needs (instances to tear down or report on) is made with `-e` before the script,
/// in the same process and so against the same sandbox.
@Suite("recipes through runcrate-lua")
struct RecipeCLITests {
    static let recipes = Paths.package.appendingPathComponent("scripts/recipes")
    static let covered: Set<String> = [
        "cheapest-under-ceiling.lua", "sweep.lua", "failover.lua", "teardown-prefix.lua", "cost-report.lua",
    ]

    static func recipe(_ name: String) -> String { recipes.appendingPathComponent(name).path }

    /// The `--json` result: stdout, which is exactly one JSON document.
    static func result(_ run: Completed) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(run.stdout.utf8), options: [.fragmentsAllowed])
    }

    static func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }

    /// What the script printed: with `--json` it goes to stderr, beside the module's own lines
    /// (`runcrate: …`, `runcrate-lua: …`), which are left out.
    static func printed(_ run: Completed) -> [String] {
        run.stderr.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("runcrate") }
    }

    /// `-e` code creating three `sweep-N` instances and one `keep-me`, printing `created ID NAME`.
    static let setup = """
        for i = 1, 3 do
          local x = runcrate.create_instance{ name = "sweep-" .. i, gpu_type = "rtx-4090", gpu_count = 1 }
          print("created", x.id, x.name)
        end
        print("created", runcrate.create_instance{ name = "keep-me", gpu_type = "l40s", gpu_count = 1 }.id, "keep-me")
        """

    @Test func everyRecipeIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.recipes.path).filter { $0.hasSuffix(".lua") }
        #expect(Set(files) == Self.covered)
    }

    @Test func cheapestUnderCeilingTakesTheCeilingFromTheEnvironment() throws {
        // Under 1.45 only the A100 x1 configs fit: us-east (1.39) is sold out, us-west (1.45) is not.
        let run = try runcrateLua(["--sandbox", "--json", Self.recipe("cheapest-under-ceiling.lua")],
                                  environment: ["MAX_PRICE": "1.45"])
        #expect(run.status == 0, "\(run)")
        let inst = try #require(try Self.result(run) as? [String: Any], "\(run)")
        #expect(inst["gpu_type"] as? String == "a100-80gb")
        #expect(inst["region"] as? String == "us-west")
        #expect(Self.number(inst["cost_per_hour"]) == 1.45)
        #expect(Self.number(inst["max_runtime_minutes"]) == 120)
        #expect((inst["name"] as? String)?.hasPrefix("cheapest-") == true)
        #expect(run.stderr.contains("  lucid-turing-a100x1-98b3           a100-80gb  us-east        1.39 USD/h\n"))
        #expect(!run.stderr.contains("h100") && !run.stdout.contains("h100"), "\(run)")
        #expect(run.stderr.contains("launched \(inst["name"] as? String ?? "?"): a100-80gb in us-west at 1.45 USD/h after 2 attempt(s)\n"))
    }

    @Test func cheapestUnderCeilingTakesTheCeilingAndGPUsFromArguments() throws {
        let run = try runcrateLua(["--sandbox", "--json", Self.recipe("cheapest-under-ceiling.lua"), "2.60", "h100-sxm"])
        #expect(run.status == 0, "\(run)")
        let inst = try #require(try Self.result(run) as? [String: Any], "\(run)")
        #expect(inst["gpu_type"] as? String == "h100-sxm")
        #expect(Self.number(inst["cost_per_hour"]) == 2.59)  // us-east's 2.49 is sold out
        #expect(run.stderr.contains("at 2.59 USD/h after 2 attempt(s)\n"), "\(run)")
    }

    @Test func sweepLaunchesThreeTemplatedInstancesUnderTheCeiling() throws {
        let key = "wandb-from-the-environment-4242"
        let run = try runcrateLua(["--sandbox", "--json", "--verbose", Self.recipe("sweep.lua")],
                                  environment: ["WANDB_API_KEY": key])
        #expect(run.status == 0, "\(run)")
        let list = try #require(try Self.result(run) as? [[String: Any]], "\(run)")
        #expect(list.map { $0["name"] as? String } == ["resnet-sweep-1", "resnet-sweep-2", "resnet-sweep-3"])
        for inst in list {
            let price = try #require(Self.number(inst["cost_per_hour"]))
            #expect(price <= 1.50)
            #expect(inst["gpu_type"] as? String == "rtx-4090")
            #expect(Self.number(inst["max_runtime_minutes"]) == 240)
        }
        #expect(Self.printed(run) == ["1\tresnet-sweep-1\trtx-4090\t0.41", "2\tresnet-sweep-2\trtx-4090\t0.41",
                                      "3\tresnet-sweep-3\trtx-4090\t0.41"], "\(run)")
        // The templated env went out (the verbose log shows each body, the secret as ***).
        #expect(run.stderr.contains(#"{"key":"RUN_NAME","value":"resnet-lr1e-3-b64"}"#), "\(run)")
        #expect(run.stderr.contains(#"{"key":"BATCH","value":"64"}"#))
        #expect(run.stderr.contains(#"{"key":"WANDB_API_KEY","value":"***"}"#))
        #expect(run.stderr.contains(#""python train.py --lr 1e-3 --batch 64""#))
        #expect(!run.stdout.contains(key) && !run.stderr.contains(key))
    }

    @Test func failoverLaunchesTheFirstCandidateThatIsAvailable() throws {
        let run = try runcrateLua(["--sandbox", "--json", Self.recipe("failover.lua")])
        #expect(run.status == 0, "\(run)")
        let inst = try #require(try Self.result(run) as? [String: Any], "\(run)")
        #expect(inst["name"] as? String == "failover-demo")
        #expect(inst["gpu_type"] as? String == "h100-sxm")
        #expect(Self.number(inst["cost_per_hour"]) == 2.59)  // the 2.49 config is sold out: the server picked the next
        #expect(Self.number(inst["cost_per_hour"]).map { $0 <= 3.00 } == true)
        #expect(inst["status"] as? String == "running")
        #expect(Self.number(inst["idle_shutdown_minutes"]) == 30)
        let lines = Self.printed(run)
        #expect(lines.first == "attempt\th100-sxm\tcreated\t2.59", "\(run)")
        #expect(lines.contains("got\t\(inst["id"] as? String ?? "?")\th100-sxm\t2.59"))
        #expect(lines.last == "running at\t\(inst["ip"] as? String ?? "?")")
    }

    @Test func teardownDryRunPlansTheDeletesAndDeletesNothing() throws {
        let plan = Paths.temporaryDirectory().appendingPathComponent("plan.json")
        let run = try runcrateLua(["--sandbox", "--dry-run", "--verbose", "--plan-out", plan.path, "-e", Self.setup,
                                   Self.recipe("teardown-prefix.lua")], environment: ["PREFIX": "sweep-"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == """
            created\tplanned-1\tsweep-1
            created\tplanned-2\tsweep-2
            created\tplanned-3\tsweep-3
            created\tplanned-4\tkeep-me
            3 instance(s) named sweep-* (dry-run)
            would terminate planned-1\tsweep-1\t0.41
            would terminate planned-2\tsweep-2\t0.41
            would terminate planned-3\tsweep-3\t0.41

            """, "\(run)")
        for i in 1...3 {
            #expect(run.stderr.contains("  \(4 + i)  delete_instance  planned-\(i)  'sweep-\(i)'\n"), "\(run)")
        }
        #expect(!run.stderr.contains("delete_instance  planned-4"))
        // Nothing was sent but reads: the verbose log has no POST or DELETE.
        #expect(!run.stderr.contains("runcrate: POST") && !run.stderr.contains("runcrate: DELETE"), "\(run)")
        #expect(run.stderr.contains("runcrate: GET /api/v1/instances?search=sweep-\n"))
        let saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: plan)) as? [String: Any])
        let calls = try #require(saved["calls"] as? [[String: Any]])
        #expect(calls.map { "\($0["op"] ?? "") \($0["id"] ?? "")" } == [
            "create_instance planned-1", "create_instance planned-2", "create_instance planned-3",
            "create_instance planned-4", "delete_instance planned-1", "delete_instance planned-2",
            "delete_instance planned-3",
        ])
        // rtx-4090 x1 is 0.41–0.44 and l40s x1 0.89–1.00: the JSON plan carries the range.
        #expect(Self.number(calls[0]["cost_per_hour_min"]) == 0.41 && Self.number(calls[0]["cost_per_hour_max"]) == 0.44)
        #expect(Self.number(saved["hourly_cost"]) == 2.12 && Self.number(saved["hourly_cost_max"]) == 2.32)
    }

    @Test func teardownForRealDeletesOnlyThePrefixedInstances() throws {
        let run = try runcrateLua(["--sandbox", "--json", "--verbose", "-e", Self.setup,
                                   Self.recipe("teardown-prefix.lua"), "sweep-"])
        #expect(run.status == 0, "\(run)")
        #expect(try Self.result(run) as? Int == 3, "\(run)")
        let created = run.stderr.split(separator: "\n").filter { $0.hasPrefix("created\t") }
            .map { $0.split(separator: "\t").map(String.init) }
        #expect(created.map { $0[2] } == ["sweep-1", "sweep-2", "sweep-3", "keep-me"])
        let printed = Self.printed(run)
        #expect(printed.contains("3 instance(s) named sweep-* (sandbox)"))
        for c in created.prefix(3) { #expect(printed.contains { $0.hasPrefix("terminated \(c[1])\t\(c[2])\t") }) }
        let deletes = run.stderr.split(separator: "\n").filter { $0.hasPrefix("runcrate: DELETE ") }
        #expect(deletes == created.prefix(3).map { "runcrate: DELETE /api/v1/instances/\($0[1])"[...] }, "\(run)")
    }

    @Test func teardownWithoutAPrefixFailsNamingTheVariable() throws {
        let run = try runcrateLua(["--sandbox", Self.recipe("teardown-prefix.lua")])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.contains("PREFIX"), "\(run)")
        #expect(!run.stdout.contains("instance(s) named"))
    }

    @Test func costReportSumsTheLiveInstances() throws {
        let setup = """
            runcrate.create_instance{ name = "a", gpu_type = "rtx-4090", gpu_count = 1 }
            runcrate.create_instance{ name = "b", gpu_type = "l40s", gpu_count = 1 }
            runcrate.delete_instance(runcrate.create_instance{ name = "c", gpu_type = "l40s", gpu_count = 1 })
            """
        let run = try runcrateLua(["--sandbox", "--json", "-e", setup, Self.recipe("cost-report.lua")])
        #expect(run.status == 0, "\(run)")
        let report = try #require(try Self.result(run) as? [String: Any], "\(run)")
        #expect(Self.number(report["instances"]) == 2)
        #expect(Self.number(report["hourly"]) == 1.3)
        let byGPU = try #require(report["by_gpu"] as? [String: Any])
        #expect(Self.number(byGPU["rtx-4090"]).map { abs($0 - 0.41) < 1e-9 } == true)
        #expect(Self.number(byGPU["l40s"]).map { abs($0 - 0.89) < 1e-9 } == true)
        #expect(run.stderr.contains("total: 2 instance(s), 1.30 USD/h, 31.20 USD/day; credits "), "\(run)")
        #expect(!run.stderr.contains("\nc "))
    }
}
