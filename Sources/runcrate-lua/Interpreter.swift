#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import LuaBridge

/// lua.c in Swift: the steps of a run as small functions, in the order they run. Every chunk goes
/// through `docall` (traceback handler, Ctrl-C hook); every error is printed by `report`.
final class Interpreter {
    static let name = "runcrate-lua"
    /// LUA_MULTRET: keep all results.
    static let allResults: Int32 = -1

    let invocation: Invocation
    let lua: Lua
    var L: LuaState { lua.L }
    /// Prefixes error messages; nil in the REPL, as in lua.c.
    var progname: String? = Interpreter.name
    /// How the run ends, set by the first error reported outside the REPL.
    var status: ExitStatus = .success
    /// The `runcrate` module's side of the run.
    let runcrate: RuncrateModuleHookup

    init(invocation: Invocation, lua: Lua) {
        self.invocation = invocation
        self.lua = lua
        runcrate = RuncrateModuleHookup(configuration: invocation.configuration)
    }

    /// Parses the command line, then runs everything inside one protected call, as lua.c's `main`.
    static func main(_ arguments: [String]) -> Int32 {
        let invocation: Invocation
        do throws(Invocation.Failure) {
            invocation = try Invocation(arguments)
        } catch {
            return printUsageError(error)
        }
        if invocation.help {
            fputs(Usage.help(progname: name), stdout)
            return ExitStatus.success.rawValue
        }
        if invocation.version {
            fputs(Usage.version, stdout)
            return ExitStatus.success.rawValue
        }
        guard let lua = try? Lua(openLibraries: false) else {
            errorLine("\(name): cannot create state: not enough memory")
            return ExitStatus.failure.rawValue
        }
        return Interpreter(invocation: invocation, lua: lua).run().rawValue
    }

    func run() -> ExitStatus {
        L.push(function: { [unowned self] _ in
            self.pmain()
            return 0
        }, name: "pmain")
        // lua.c calls pmain with argc and argv: the same two stack slots under every chunk, so that
        // depth limits ("stack overflow", its "skipping N levels") come out as lua's.
        L.push(Int(invocation.arguments.count))
        L.pushlightuserdata(nil)
        do throws(LuaError) {
            try L.pcall(nargs: 2, nresults: 0, traceback: false)
        } catch {
            // Once the time limit has stopped the script (reported by pmain), the hook raises again
            // as pmain returns: that is the same stop, not a second error to print.
            if !(error.kind == .timeout && status == .timedOut) { report(error) }
        }
        return runcrate.finish(status: status)
    }

    /// No script, `-e` or `-v`: lua.c then reads standard input, as a REPL on a terminal.
    var runsDefaultREPLOrStdin: Bool {
        invocation.scriptIndex == nil && !invocation.hasExecute && !invocation.showVersion
    }

    /// Whether this run reaches the REPL (so the `runcrate` module is wanted at once, for completion).
    var runsREPL: Bool { invocation.interactive || (runsDefaultREPLOrStdin && isatty(0) != 0) }

    /// lua.c's `pmain`: set up the state, then LUA_INIT, `-e`/`-l`/`-W`, the script, the REPL.
    func pmain() {
        let configuration = invocation.configuration
        if invocation.showVersion { printVersion() }
        if invocation.ignoreEnvironment { L.ignoreEnvironmentVariables() }
        L.installStandardWarnings()
        L.openlibs()
        if configuration.safe {
            do throws(LuaError) { try L.applySafeMode() } catch { return report(error) }
        }
        createArgTable()
        useGenerationalGC()
        do throws(LuaError) {
            try runcrate.install(
                into: L, interactive: invocation.interactive || invocation.scriptIndex == nil,
                loadNow: runsREPL, mustLoad: configuration.json || configuration.dryRun || configuration.sandboxURL != nil
                    || configuration.sandboxState != nil)
        } catch {
            return report(error)
        }
        lua.setMemoryLimit(configuration.memoryLimitBytes)
        lua.setTimeout(configuration.timeoutSeconds)
        if !invocation.ignoreEnvironment {
            guard handleLuaInit() else { return }
        }
        guard runArgs() else { return }
        if let scriptIndex = invocation.scriptIndex {
            guard handleScript(scriptIndex) else { return }
        }
        if invocation.interactive {
            doREPL()
        } else if runsDefaultREPLOrStdin {
            if isatty(0) != 0 {
                printVersion()
                doREPL()
            } else {
                runStdinAsScript()
            }
        }
    }

    /// A piped stdin with no script named: lua.c ignores how it ends (exit status 0 even after an
    /// error), so only the time limit and Ctrl-C, which lua lacks, change the status.
    func runStdinAsScript() {
        _ = dofile(nil)
        if status == .failure { status = .success }
    }

    /// `arg`: the script name at 0, its arguments at 1…, the interpreter and its options below 0.
    func createArgTable() {
        let arguments = invocation.arguments
        let script = invocation.scriptIndex ?? 0
        L.newtable(narr: Int32(clamping: arguments.count - script - 1), nrec: Int32(clamping: script + 1))
        for (i, argument) in arguments.enumerated() {
            L.push(argument)
            L.rawseti(-2, Int64(i - script))
        }
        L.setglobal(raw: "arg")
    }

    func useGenerationalGC() {
        guard L.getglobal(raw: "collectgarbage") == .function else { return L.pop() }
        L.push("generational")
        try? L.pcall(nargs: 1, nresults: 0, traceback: false)
    }

    /// LUA_INIT_5_4, else LUA_INIT: code, or `@file`.
    func handleLuaInit() -> Bool {
        var name = "=LUA_INIT_5_4"
        var value = getenv("LUA_INIT_5_4")
        if value == nil {
            name = "=LUA_INIT"
            value = getenv("LUA_INIT")
        }
        guard let value else { return true }
        let code = String(cString: value)
        if code.hasPrefix("@") { return dofile(String(code.dropFirst())) }
        return dostring(code, name: name)
    }

    /// `-e`, `-l` and `-W` in command-line order; stops at the first failure.
    func runArgs() -> Bool {
        for action in invocation.actions {
            switch action {
            case .execute(let code):
                guard dostring(code, name: "=(command line)") else { return false }
            case .require(let global, let module):
                guard dolibrary(global: global, module: module) else { return false }
            case .warningsOn:
                L.warning("@on")
            }
        }
        return true
    }

    /// `global = require(module)`.
    func dolibrary(global: String, module: String) -> Bool {
        L.getglobal(raw: "require")
        L.push(module)
        do throws(LuaError) {
            try docall(nargs: 1, nresults: 1)
        } catch {
            report(error)
            return false
        }
        L.setglobal(raw: global)
        return true
    }

    /// Loads the script (`-` alone is standard input) and calls it with the script arguments.
    func handleScript(_ index: Int) -> Bool {
        let path: String? = invocation.scriptIsStdin ? nil : invocation.arguments[index]
        let top = L.gettop()
        defer { L.settop(top) }
        do throws(LuaError) {
            try L.loadfile(path)
            let n = try pushArgs()
            try docall(nargs: n, nresults: Self.allResults)
        } catch {
            report(error)
            return false
        }
        if !runcrate.keepResults(from: top + 1, count: L.gettop() - top, in: L), status == .success {
            status = .failure
        }
        return true
    }

    /// Pushes `arg[1]`…`arg[#arg]`; returns how many.
    func pushArgs() throws(LuaError) -> Int32 {
        guard L.getglobal(raw: "arg") == .table else {
            L.pop()
            throw LuaError(kind: .runtime, message: "'arg' is not a table")
        }
        let n = Int32(clamping: L.rawlen(-1))
        guard L.checkstack(n + 3) else {
            L.pop()
            throw LuaError(kind: .runtime, message: "stack overflow (too many arguments to script)")
        }
        if n > 0 {
            for i in 1...n { L.rawgeti(-i, Int64(i)) }
        }
        L.remove(-n - 1)
        return n
    }

    func dostring(_ code: String, name: String) -> Bool {
        do throws(LuaError) {
            try L.load(code, name: name)
            try docall(nargs: 0, nresults: 0)
        } catch {
            report(error)
            return false
        }
        return true
    }

    /// Runs a file; nil is standard input.
    func dofile(_ path: String?) -> Bool {
        do throws(LuaError) {
            try L.loadfile(path)
            try docall(nargs: 0, nresults: 0)
        } catch {
            report(error)
            return false
        }
        return true
    }

    /// Calls the function below `nargs` arguments with the traceback handler, Ctrl-C interrupting it.
    func docall(nargs: Int32, nresults: Int32) throws(LuaError) {
        // An optional rather than `Result<Void, LuaError>`: instantiating `Result` checks
        // `LuaError: Error` at run time, and the first conformance check scans every conformance
        // record in the binary, which was a measurable part of the cold start of `-e ''`.
        var failure: LuaError?
        lua.withInterruptibleSIGINT {
            do throws(LuaError) {
                try L.pcall(nargs: nargs, nresults: nresults, traceback: true)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Prints an error as lua.c does and remembers how the run ends.
    func report(_ error: LuaError) {
        if status == .success {
            status = runcrate.exitStatus(ofErrorIn: L) ?? Self.exitStatus(for: error.kind)
            runcrate.keepError(error, in: L)
        }
        message(error.message)
    }

    static func exitStatus(for kind: LuaError.Kind) -> ExitStatus {
        switch kind {
        case .timeout: .timedOut
        case .interrupted: .interrupted
        default: .failure
        }
    }

    /// `progname: text` on stderr (no prefix in the REPL).
    func message(_ text: String) {
        Self.errorLine(progname.map { "\($0): \(text)" } ?? text)
    }

    static func errorLine(_ text: String) {
        fputs(text + "\n", stderr)
        fflush(stderr)
    }

    func printVersion() {
        fputs(Lua.copyright + "\n", stdout)
        fflush(stdout)
    }

    /// lua.c's message for a bad short option, with its usage; a plainer one for long options.
    static func printUsageError(_ failure: Invocation.Failure) -> Int32 {
        switch failure {
        case .badOption(let option):
            let letter = option.dropFirst().first
            let problem = letter == "e" || letter == "l" ? "'\(option)' needs argument" : "unrecognized option '\(option)'"
            fputs("\(name): \(problem)\n" + Usage.lua(progname: name), stderr)
            fflush(stderr)
        case .missingValue(let flag):
            errorLine("\(name): '\(flag)' needs argument\nTry '\(name) --help' for more information.")
        case .invalid(let error):
            errorLine("\(name): \(error.message)\nTry '\(name) --help' for more information.")
        }
        return ExitStatus.failure.rawValue
    }
}
