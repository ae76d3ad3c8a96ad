#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import Foundation
import LuaBridge
import RuncrateAPI
import RuncrateLua
import RuncrateSandbox

/// The one place where the `runcrate` module joins the interpreter: it picks the mode, installs the
/// module (nothing starts until a call needs the API), and ends the run (the dry-run plan, exit statuses).
final class RuncrateModuleHookup {
    static let sandboxKey = "rc_live_sandbox"

    let configuration: Configuration
    private(set) var module: RuncrateModule?

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Live when `--live`, or when no mode flag is given and a key is configured; otherwise the sandbox.
    static func target(for configuration: Configuration) -> RuncrateModule.Configuration.Target {
        switch configuration.mode {
        case .live: return .live
        case .sandbox: return .sandbox
        case .automatic:
            if let key = getenv("RUNCRATE_API_KEY"), key.pointee != 0 { return .live }
            if ConfigurationSources.configFileCertainlyAbsent() { return .sandbox }
            return ConfigurationSources().hasAPIKey ? .live : .sandbox
        }
    }

    /// Called once the standard libraries are open (and `--safe` applied), before LUA_INIT runs.
    /// Cheap: the prelude is compiled, but no client, sandbox or notice exists until the first API call.
    func install(into L: LuaState, interactive: Bool) throws(LuaError) {
        let options = configuration
        let target = Self.target(for: options)
        let stderrIsTerminal = isatty(2) != 0
        let interrupted = RuncrateModule.interruptProbe(for: L)
        var verboseHooks = ClientHooks()
        if options.verbose {
            verboseHooks.onEvent = { @Sendable event in Interpreter.errorLine("runcrate-lua: \(event)") }
        }
        let hooks = verboseHooks
        let askFirst = target == .live && !options.assumeYes && !options.dryRun && isatty(0) != 0 && stderrIsTerminal
        let confirm: ((String) -> Bool)? = askFirst ? { Self.askOnTerminal($0) } : nil
        let notice: String? = target == .sandbox && options.mode == .automatic
            ? "runcrate-lua: no RUNCRATE_API_KEY set: using the local sandbox (nothing is billed; --live to use the real API)"
            : nil
        let environment = options.environment
        let config = RuncrateModule.Configuration(
            target: target, dryRun: options.dryRun, maxInstances: options.maxInstances,
            maxHourlyCost: options.maxHourlyCost, verbose: options.verbose, json: options.json,
            planOutPath: options.planOut,
            confirm: confirm,
            sandboxNotice: notice,
            stderrIsTerminal: stderrIsTerminal,
            makeTransport: { () throws -> RuncrateTransport in
                try RuncrateModuleHookup.makeTransport(target: target, environment: environment, hooks: hooks, isCancelled: interrupted)
            })
        let module = RuncrateModule(configuration: config)
        try module.install(into: L, globalHelp: interactive)
        self.module = module
    }

    /// Starts the in-process sandbox (or resolves the live key) and makes the client.
    static func makeTransport(
        target: RuncrateModule.Configuration.Target, environment: String?, hooks: ClientHooks,
        isCancelled: @escaping @Sendable () -> Bool
    ) throws -> RuncrateTransport {
        switch target {
        case .sandbox:
            let server = try SandboxServer.startBlocking(SandboxOptions())
            let api = try RuncrateConfiguration(apiKey: APIKey(sandboxKey), baseURL: server.baseURL, environment: environment)
            return BlockingClientTransport(configuration: api, hooks: hooks, isCancelled: isCancelled, keepAlive: server)
        case .live:
            let api = try RuncrateConfiguration.resolve(environment: environment)
            return BlockingClientTransport(configuration: api, hooks: hooks, isCancelled: isCancelled)
        }
    }

    /// With `--json`, prints the script's first result (at `index`) as JSON on stdout; true when it did.
    func printResult(at index: Int32, in L: LuaState) -> Bool {
        guard configuration.json, let module, L.type(at: index) != .none,
              let text = module.jsonText(of: index, in: L) else { return false }
        fputs(text + "\n", stdout)
        fflush(stdout)
        return true
    }

    /// The exit status for an error that ended the run, when the module has its own (spend cap, interrupted).
    static func exitStatus(forMessage message: String) -> ExitStatus? {
        RuncrateExitStatus.forUncaughtError(message: message).flatMap(ExitStatus.init(rawValue:))
    }

    /// Called when the run ends: prints and saves the dry-run plan. May replace the exit status.
    func finish(status: ExitStatus, printedResult: Bool) -> ExitStatus {
        guard let module else { return status }
        do {
            try module.finish(printJSON: !printedResult)
        } catch {
            Interpreter.errorLine("runcrate-lua: \(error)")
            return status == .success ? .failure : status
        }
        return status
    }

    /// Asks on the terminal before the first live create; anything but y/yes declines.
    static func askOnTerminal(_ question: String) -> Bool {
        fputs("\(question) [y/N] ", stderr)
        fflush(stderr)
        guard let line = readLine(strippingNewline: true) else { return false }
        return ["y", "yes"].contains(line.trimmingCharacters(in: .whitespaces).lowercased())
    }
}
