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
