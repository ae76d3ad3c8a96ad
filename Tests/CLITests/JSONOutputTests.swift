import Foundation
import Testing

/// `--json`: stdout is exactly one JSON document, whatever the script prints or returns and however
/// it ends, so `runcrate-lua --json script.lua | jq` always works.
@Suite("--json: one document on stdout")
struct JSONOutputTests {
    /// Runs `code` as a script file (so its results count) with `flags`.
    func runScript(_ code: String, _ flags: [String]) throws -> Completed {
        let dir = Paths.temporaryDirectory()
        let script = dir.appendingPathComponent("script.lua")
        try code.write(to: script, atomically: true, encoding: .utf8)
        return try runcrateLua(["--sandbox"] + flags + [script.path])
    }

    /// stdout as one JSON document (fails the test unless it is exactly one).
    func document(_ run: Completed) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(run.stdout.utf8), options: [.fragmentsAllowed])
    }

    @Test func dryRunWithAReturnedValueHasTheResultAndThePlan() throws {
        let run = try runScript("""
            local inst = runcrate.create_instance{ name = "planned-one", gpu_type = "l40s" }
            return { id = inst.id, n = 1 }
            """, ["--dry-run", "--json"])
        #expect(run.status == 0, "\(run)")
        let doc = try #require(try document(run) as? [String: Any], "\(run)")
        #expect(Set(doc.keys) == ["result", "plan"], "\(run)")
        let result = try #require(doc["result"] as? [String: Any])
        #expect(result["id"] as? String == "planned-1")
        #expect((result["n"] as? NSNumber)?.intValue == 1)
        let plan = try #require(doc["plan"] as? [String: Any])
        let calls = try #require(plan["calls"] as? [[String: Any]], "\(plan)")
        #expect(calls.first?["op"] as? String == "create_instance")
    }

    @Test func dryRunWithoutAResultHasANullResult() throws {
        let run = try runScript("runcrate.create_instance{ name = 'p', gpu_type = 'l40s' }", ["--dry-run", "--json"])
        #expect(run.status == 0, "\(run)")
        let doc = try #require(try document(run) as? [String: Any], "\(run)")
        #expect(doc["result"] is NSNull, "\(run)")
        #expect(doc["plan"] is [String: Any], "\(run)")
    }

    @Test func severalReturnValuesAreAnArray() throws {
        let run = try runScript("return 1, 'two', { three = 3 }", ["--json"])
        #expect(run.status == 0, "\(run)")
        let doc = try #require(try document(run) as? [Any], "\(run)")
        #expect(doc.count == 3)
        #expect((doc[0] as? NSNumber)?.intValue == 1)
        #expect(doc[1] as? String == "two")
        #expect(((doc[2] as? [String: Any])?["three"] as? NSNumber)?.intValue == 3)
    }

    @Test func whatTheScriptPrintsGoesToStderr() throws {
        let run = try runScript("print('hello from print') io.write('and io.write\\n') io.stdout:write('and io.stdout\\n') return 5", ["--json"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "5\n", "\(run)")
        #expect(run.stderr.contains("hello from print\n"), "\(run)")
        #expect(run.stderr.contains("and io.write\n"), "\(run)")
        #expect(run.stderr.contains("and io.stdout\n"), "\(run)")
    }

    @Test func anUncaughtStringErrorIsAnErrorDocument() throws {
        let run = try runScript("print('before')\nerror('boom')", ["--json"])
        #expect(run.status == 1, "\(run)")
        let doc = try #require(try document(run) as? [String: Any], "\(run)")
        let error = try #require(doc["error"] as? [String: Any], "\(run)")
        #expect(error["code"] as? String == "error")
        #expect(error["message"] as? String == "boom")
        #expect((error["where"] as? String)?.hasSuffix("script.lua:2:") == true, "\(error)")
        #expect(run.stderr.contains("script.lua:2: boom"), "the usual report stays on stderr: \(run)")
    }

    @Test func anUncaughtModuleErrorIsAnErrorDocumentWithItsFields() throws {
        let run = try runScript("runcrate.create_instance{ name = 'x', gpu_type = 'l40s', gpu_count = 0 }", ["--dry-run", "--json"])
        #expect(run.status == 1, "\(run)")
        let doc = try #require(try document(run) as? [String: Any], "\(run)")
        let error = try #require(doc["error"] as? [String: Any], "\(run)")
        #expect(error["code"] as? String == "validation_error")
        #expect(error["func"] as? String == "runcrate.create_instance")
        #expect((error["where"] as? String)?.hasSuffix("script.lua:1:") == true, "\(error)")
        #expect((error["message"] as? String)?.contains("gpu_count") == true, "\(error)")
        #expect(doc["plan"] is [String: Any], "a dry run keeps its plan: \(run)")
    }

    @Test func aFunctionResultIsAnErrorNamingTheType() throws {
        let run = try runScript("return print", ["--json"])
        #expect(run.status == 1, "\(run)")
        let doc = try #require(try document(run) as? [String: Any], "\(run)")
        let error = try #require(doc["error"] as? [String: Any], "\(run)")
        #expect(error["code"] as? String == "json_error")
        #expect((error["message"] as? String)?.contains("function") == true, "\(error)")
        #expect(run.stderr.contains("function"), "\(run)")
    }

    @Test func aTimeoutIsAnErrorDocumentWithStatus124() throws {
        let run = try runScript("while true do end", ["--json", "--timeout", "1"])
        #expect(run.status == 124, "\(run)")
        let doc = try #require(try document(run) as? [String: Any], "\(run)")
        let error = try #require(doc["error"] as? [String: Any], "\(run)")
        #expect(error["code"] as? String == "timeout", "\(error)")
    }
}

/// `--plan-out FILE` is checked before the script runs, and a failure is worded as option errors are.
@Suite("--plan-out")
struct PlanOutTests {
    @Test func aDirectoryThatDoesNotExistIsRefusedBeforeTheScriptRuns() throws {
        let run = try runcrateLua(["--sandbox", "--dry-run", "--plan-out", "/nonexistent-dir/plan.json", "-e", "print('the script ran')"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout == "", "\(run)")
        #expect(!run.stderr.contains("the script ran"), "\(run)")
        #expect(run.stderr.hasPrefix("runcrate-lua: --plan-out cannot write '/nonexistent-dir/plan.json': the directory '/nonexistent-dir' does not exist\n"), "\(run)")
        #expect(!run.stderr.contains("NSCocoaErrorDomain"), "\(run)")
    }

    @Test func aDirectoryIsRefused() throws {
        let dir = Paths.temporaryDirectory().path
        let run = try runcrateLua(["--sandbox", "--dry-run", "--plan-out", dir, "-e", "print('the script ran')"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout == "", "\(run)")
        #expect(run.stderr.hasPrefix("runcrate-lua: --plan-out cannot write '\(dir)': it is a directory\n"), "\(run)")
    }

    @Test func aWritablePathGetsThePlanAndNothingElseIsLeft() throws {
        let dir = Paths.temporaryDirectory()
        let plan = dir.appendingPathComponent("plan.json").path
        let run = try runcrateLua(["--sandbox", "--dry-run", "--plan-out", plan, "-e", "runcrate.create_instance{ name = 'p', gpu_type = 'l40s' }"])
        #expect(run.status == 0, "\(run)")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plan))) as? [String: Any]
        #expect(saved?["calls"] is [Any], "\(String(describing: saved))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["plan.json"])
    }
}
