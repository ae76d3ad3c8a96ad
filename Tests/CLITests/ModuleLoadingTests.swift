import Foundation
import Testing

/// `runcrate-lua` is a small interpreter; the `runcrate` module lives in libRuncrateLuaModule beside
/// it and is loaded the first time a script touches `runcrate` (see RuncrateModuleHookup.swift).
@Suite("the runcrate module library")
struct ModuleLoadingTests {
    /// Lua that prints whether the module library is mapped into the process.
    static let isLoaded = """
        local function loaded()
          for line in io.lines("/proc/self/maps") do
            if line:find("libRuncrateLuaModule", 1, true) then return true end
          end
          return false
        end
        """

    #if os(Linux)
    @Test func aScriptThatDoesNotUseTheModuleNeverLoadsIt() throws {
        let run = try runcrateLua(["--sandbox", "-e", Self.isLoaded + "\nprint(loaded()); local m = runcrate.mode; print(loaded(), m)"])
        #expect(run == Completed(stdout: "false\ntrue\tsandbox\n", stderr: "", status: 0))
    }

    @Test func dryRunAndJSONLoadItAtStart() throws {
        for flag in ["--dry-run", "--json"] {
            let run = try runcrateLua(["--sandbox", flag, "-e", Self.isLoaded + "\nprint(loaded())"])
            // With --json the script's output goes to stderr (stdout is the JSON document).
            #expect((flag == "--json" ? run.stderr : run.stdout).hasPrefix("true\n"), "\(flag): \(run)")
            #expect(run.status == 0, "\(flag): \(run)")
        }
    }
    #endif

    @Test func thePlaceholderBecomesTheModuleOnFirstUse() throws {
        let code = """
            local rc = require "runcrate"
            assert(rawequal(rc, runcrate) and rawequal(package.loaded.runcrate, rc))
            local n = 0
            for _, v in pairs(rc) do n = n + 1 end
            print(n > 30, type(rc.launch), getmetatable(rc), rawequal(require "runcrate", rc), rc.mode)
            """
        let run = try runcrateLua(["--sandbox", "-e", code])
        #expect(run == Completed(stdout: "true\tfunction\tnil\ttrue\tsandbox\n", stderr: "", status: 0))
    }

    @Test func requireFindsThePlaceholderThroughPreloadToo() throws {
        let code = """
            package.loaded.runcrate = nil
            local rc = require "runcrate"
            print(rawequal(rc, runcrate), rc.mode, rawequal(package.loaded.runcrate, rc))
            """
        let run = try runcrateLua(["--sandbox", "-e", code])
        #expect(run == Completed(stdout: "true\tsandbox\ttrue\n", stderr: "", status: 0))
    }

    @Test func aFieldSetBeforeFirstUseIsKept() throws {
        let code = """
            runcrate.create_instance = function() return "mocked" end
            print(runcrate.create_instance(), type(runcrate.delete_instance))
            """
        let run = try runcrateLua(["--sandbox", "-e", code])
        #expect(run == Completed(stdout: "mocked\tfunction\n", stderr: "", status: 0))
    }

    @Test func helpLoadsTheModuleToo() throws {
        let run = try runcrateLua(["--sandbox", "-e", "help(); print(type(help), rawequal(help, runcrate.help))"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("launch"), "\(run)")
        #expect(run.stdout.hasSuffix("function\ttrue\n"), "\(run)")
    }

    #if os(Linux)
    /// An installed layout: `bin/runcrate-lua` and `lib/runcrate-lua/libRuncrateLuaModule.so`.
    @Test func theLibraryIsFoundInLibRuncrateLuaBesideBin() throws {
        let root = Paths.temporaryDirectory()
        let bin = root.appendingPathComponent("bin"), lib = root.appendingPathComponent("lib/runcrate-lua")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        try copyExecutable(Paths.runcrateLua, to: bin.appendingPathComponent("runcrate-lua").path)
        let built = URL(fileURLWithPath: Paths.runcrateLua).deletingLastPathComponent().appendingPathComponent("libRuncrateLuaModule.so")
        try FileManager.default.createSymbolicLink(atPath: lib.appendingPathComponent("libRuncrateLuaModule.so").path,
                                                   withDestinationPath: built.path)
        let run = try Subprocess.run(bin.appendingPathComponent("runcrate-lua").path, argv0: "runcrate-lua",
                                     ["--sandbox", "-e", "print(runcrate.mode)"], timeout: 60)
        #expect(run == Completed(stdout: "sandbox\n", stderr: "", status: 0))
    }
    #endif

    #if os(Linux)
    @Test func theLibraryMissingIsAnErrorAtTheScriptsLineAndPlainLuaStillRuns() throws {
        let dir = Paths.temporaryDirectory()
        let lonely = dir.appendingPathComponent("runcrate-lua").path
        try copyExecutable(Paths.runcrateLua, to: lonely)
        let code = """
            print("plain lua", 6 * 7)
            print(pcall(function() return runcrate.mode end))
            local mode = runcrate.mode
            """
        let run = try Subprocess.run(lonely, argv0: "runcrate-lua", ["--sandbox", "-e", code], stdin: [], environment: [:], timeout: 60)
        #expect(run.status == 1, "\(run)")
        let reason = "runcrate: the module could not be loaded: \(dir.path)/libRuncrateLuaModule.so: cannot open shared object file"
        #expect(run.stdout.hasPrefix("plain lua\t42\nfalse\t(command line):2: \(reason)"), "\(run)")
        #expect(run.stderr.hasPrefix("runcrate-lua: (command line):3: \(reason)"), "\(run)")
        #expect(run.stderr.contains("beside the executable"), "\(run)")

        // --dry-run and --json cannot do without the module: they stop before the script runs.
        for flag in ["--dry-run", "--json"] {
            let stopped = try Subprocess.run(lonely, argv0: "runcrate-lua", [flag, "-e", "print('ran')"], timeout: 60)
            #expect(stopped.status == 1, "\(flag): \(stopped)")
            #expect(stopped.stdout == "", "\(flag): \(stopped)")
            #expect(stopped.stderr.hasPrefix("runcrate-lua: \(reason)"), "\(flag): \(stopped)")
        }
    }
    #endif
}
