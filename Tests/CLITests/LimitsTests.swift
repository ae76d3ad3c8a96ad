import Foundation
import Testing

@Suite("Limits: --memory-limit, --timeout, --safe")
struct LimitsTests {
    @Test func memoryBombGetsNotEnoughMemoryAndTheHostSurvives() throws {
        let result = try runcrateLua(["--memory-limit", "16", "-e", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end"])
        #expect(result.stderr.hasPrefix("runcrate-lua: not enough memory"), "\(result)")
        #expect(result.status == 1, "\(result)")
    }

    @Test func memoryBombCaughtByTheScriptLetsItGoOn() throws {
        let code = """
        local ok, err = pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end end)
        collectgarbage()
        print(ok, err)
        """
        let result = try runcrateLua(["--memory-limit", "16", "-e", code])
        #expect(result.stdout == "false\tnot enough memory\n", "\(result)")
        #expect(result.status == 0, "\(result)")
    }

    @Test func endlessLoopIsStoppedWithStatus124() throws {
        let result = try runcrateLua(["--timeout", "1", "-e", "while true do end"])
        #expect(result.stderr.hasPrefix("runcrate-lua: (command line):1: timeout: the script ran longer than its time limit\nstack traceback:"), "\(result)")
        #expect(result.stderr.components(separatedBy: "ran longer").count == 2, "reported once:\n\(result)")
        #expect(result.status == 124, "\(result)")
    }

    @Test func endlessLoopThatCatchesErrorsIsStoppedToo() throws {
        let code = """
        local caught = 0
        while true do
          local ok = pcall(function() while true do end end)
          if not ok then caught = caught + 1 end
        end
        """
        let result = try runcrateLua(["--timeout", "1", "-e", code])
        #expect(result.stderr.contains("timeout: the script ran longer than its time limit"), "\(result)")
        #expect(result.stderr.components(separatedBy: "ran longer").count == 2, "reported once:\n\(result)")
        #expect(result.status == 124, "\(result)")
    }

    @Test func scriptWithinItsTimeLimitRunsNormally() throws {
        let result = try runcrateLua(["--timeout", "30", "-e", "local n = 0 for i = 1, 1e5 do n = n + i end print(n)"])
        #expect(result.stdout == "5000050000\n")
        #expect(result.status == 0)
    }

    static let blockedInSafeMode: [(String, String)] = [
        ("os.execute", "os.execute('true')"),
        ("io.popen", "io.popen('true')"),
        ("package.loadlib", "package.loadlib('libc.so.6', 'puts')"),
        ("os.remove", "os.remove('args.lua')"),
        ("os.rename", "os.rename('args.lua', 'moved.lua')"),
        ("os.exit", "os.exit(0)"),
        ("io.open", "io.open('written-by-safe-mode.txt', 'w')"),
    ]

    @Test(arguments: blockedInSafeMode)
    func safeModeBlocks(_ name: String, _ call: String) throws {
        let result = try runcrateLua(["--safe", "-e", call])
        #expect(result.stderr.contains(name), "\(result)")
        #expect(result.stderr.contains("--safe"), "\(result)")
        #expect(result.status == 1, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: Paths.fixtures.appendingPathComponent("written-by-safe-mode.txt").path))
        #expect(FileManager.default.fileExists(atPath: Paths.fixtures.appendingPathComponent("args.lua").path))
    }

    @Test func safeModeAllowsReadingFiles() throws {
        let result = try runcrateLua(["--safe", "-e", "local f = assert(io.open('greet.lua')) print(f:read('l')) f:close() print(#io.lines('greet.lua')())"])
        #expect(result.stdout == "local M = {}\n12\n", "\(result)")
        #expect(result.status == 0, "\(result)")
    }
}

/// A time limit, the memory limit or Ctrl-C unwinds the script like an error: every `<close>`
/// instance not kept is terminated. Checked on a `runcrate-sandbox` the run talks to (live mode),
/// which is asked afterwards: the run that made the instances has ended by then.
@Suite("Limits unwind like errors: <close> instances are terminated")
struct LimitsCleanupTests {
    /// Runs `body` (Lua, after `local rc = require "runcrate"` and a `<close>` instance `inst` named
    /// `name`) against a fresh sandbox; returns the run and the statuses of the instances so named.
    func runWithInstance(_ name: String, _ body: String, flags: [String], sandbox: [String] = ["--ready-after", "0"])
        throws -> (run: Completed, statuses: [String], elapsed: Double) {
        let server = try RunningSandbox(sandbox)
        let code = """
            local rc = require "runcrate"
            local inst <close> = rc.create_instance{ name = "\(name)", gpu_type = "h100-sxm" }
            \(body)
            """
        let start = Date()
        let run = try runcrateLua(flags + ["-e", code], environment: server.environment, timeout: 120)
        let elapsed = Date().timeIntervalSince(start)
        let statuses = try server.instances().filter { $0.name == name }.map(\.status)
        return (run, statuses, elapsed)
    }

    static let timeoutText = "timeout: the script ran longer than its time limit"

    func expectTerminated(_ name: String, _ r: (run: Completed, statuses: [String], elapsed: Double), reason: String) {
        #expect(r.statuses == ["terminated"], "\(r.statuses)\n\(r.run)")
        let line = "runcrate: terminated instance [^ ]+ \\(\(name)\\) because its scope was left by an error \\("
        #expect(r.run.stderr.range(of: line, options: .regularExpression) != nil, "\(r.run)")
        #expect(r.run.stderr.contains("(\(reason))\n"), "\(r.run)")
        #expect(!r.run.stderr.contains("could not terminate"), "\(r.run)")
    }

    @Test func timeoutInABusyLoopTerminatesTheInstance() throws {
        let r = try runWithInstance("t-loop", "while true do end", flags: ["--timeout", "2"])
        #expect(r.run.status == 124, "\(r.run)")
        #expect(r.run.stderr.contains("runcrate-lua: (command line):3: \(Self.timeoutText)"), "\(r.run)")
        expectTerminated("t-loop", r, reason: Self.timeoutText)
    }

    @Test func timeoutInALoopThatCatchesErrorsTerminatesTheInstance() throws {
        let r = try runWithInstance("t-catch", "while true do pcall(function() while true do end end) end", flags: ["--timeout", "2"])
        #expect(r.run.status == 124, "\(r.run)")
        expectTerminated("t-catch", r, reason: Self.timeoutText)
    }

    @Test func timeoutDuringSleepTerminatesTheInstance() throws {
        let r = try runWithInstance("t-sleep", "rc.sleep(60)", flags: ["--timeout", "2"])
        #expect(r.run.status == 124, "\(r.run)")
        #expect(r.elapsed < 30, "the sleep was cut short: \(r.elapsed) s")
        expectTerminated("t-sleep", r, reason: Self.timeoutText)
    }

    @Test func timeoutDuringWaitForTerminatesTheInstance() throws {
        let r = try runWithInstance("t-wait", "rc.wait_for(inst, { timeout = 300 })", flags: ["--timeout", "2"],
                                    sandbox: ["--ready-after", "600"])
        #expect(r.run.status == 124, "\(r.run)")
        #expect(r.elapsed < 30, "the wait was cut short: \(r.elapsed) s")
        expectTerminated("t-wait", r, reason: Self.timeoutText)
    }

    @Test func timeoutDuringAnHTTPCallTerminatesTheInstance() throws {
        // The GET answers after 4 s, when the 2 s limit has passed.
        let r = try runWithInstance("t-http", "rc.instance(inst.id) print('after the call')", flags: ["--timeout", "2"],
                                    sandbox: ["--ready-after", "0", "--faults", "get=latency:4s"])
        #expect(r.run.status == 124, "\(r.run)")
        #expect(!r.run.stdout.contains("after the call"), "\(r.run)")
        expectTerminated("t-http", r, reason: Self.timeoutText)
    }

    @Test func memoryLimitTerminatesTheInstance() throws {
        let r = try runWithInstance("t-memory", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end",
                                    flags: ["--memory-limit", "16"])
        #expect(r.run.status == 1, "\(r.run)")
        #expect(r.run.stderr.hasPrefix("runcrate-lua: not enough memory") || r.run.stderr.contains("\nruncrate-lua: not enough memory"), "\(r.run)")
        expectTerminated("t-memory", r, reason: "not enough memory")
    }

    @Test func aCleanupThatHangsIsBoundedAndReported() throws {
        // The delete answers after 200 s: the cleanup window (30 s after the timeout) cancels it.
        let r = try runWithInstance("t-hang", "while true do end", flags: ["--timeout", "1"],
                                    sandbox: ["--ready-after", "0", "--faults", "delete=latency:200s"])
        #expect(r.run.status == 124, "\(r.run)")
        #expect(r.elapsed < 90, "the process was kept alive \(r.elapsed) s")
        #expect(r.run.stderr.contains("runcrate: WARNING: could not terminate instance"), "\(r.run)")
        #expect(r.run.stderr.contains("(t-hang)"), "\(r.run)")
    }

    @Test func keptInstanceSurvivesTheTimeout() throws {
        let r = try runWithInstance("t-kept", "inst:keep() while true do end", flags: ["--timeout", "2"])
        #expect(r.run.status == 124, "\(r.run)")
        #expect(r.statuses == ["running"], "\(r.statuses)\n\(r.run)")
        #expect(!r.run.stderr.contains("terminated instance"), "\(r.run)")
    }

    @Test func timeoutInACoroutineStopsTheScript() throws {
        let code = "local co = coroutine.create(function() while true do end end); print(coroutine.resume(co)); print(\"after\")"
        let run = try runcrateLua(["--timeout", "1", "-e", code])
        #expect(!run.stdout.contains("after"), "\(run)")
        #expect(run.stderr.contains(Self.timeoutText), "\(run)")
        #expect(run.status == 124, "\(run)")
    }

    @Test func timeoutInACoroutineResumedInAProtectedCallStopsTheScript() throws {
        let code = """
            local co = coroutine.wrap(function() while true do end end)
            print(pcall(co))
            print("after")
            """
        let run = try runcrateLua(["--timeout", "1", "-e", code])
        #expect(!run.stdout.contains("after"), "\(run)")
        #expect(run.status == 124, "\(run)")
    }
}
