#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import CRuncrateModuleABI
import Foundation
import LuaBridge
import RuncrateAPI
import RuncrateLua
import RuncrateSandbox

/// The module library's side of a run of `runcrate-lua`: it picks the mode, installs the module
/// (nothing starts until a call needs the API), and ends the run (the dry-run plan, exit statuses).
/// The executable reaches it through the C functions in `Exports.swift`.
final class ModuleHookup {
    static let sandboxKey = "rc_live_sandbox"

    /// The command-line settings, as the executable passed them.
    struct Options {
        enum Mode { case automatic, sandbox, live }
        var mode: Mode = .automatic
        var dryRun = false
        var json = false
        var verbose = false
        var assumeYes = false
        var globalHelp = false
        var maxInstances: Int?
        var maxHourlyCost: Double?
        var planOut: String?
        var environment: String?
    }

    let options: Options
    let module: RuncrateModule

    /// Live when `--live`, or when no mode flag is given and a key is configured; otherwise the sandbox.
    static func target(for options: Options) -> RuncrateModule.Configuration.Target {
        switch options.mode {
        case .live: return .live
        case .sandbox: return .sandbox
        case .automatic:
            if let key = getenv("RUNCRATE_API_KEY"), key.pointee != 0 { return .live }
            if ConfigurationSources.configFileCertainlyAbsent() { return .sandbox }
            return ConfigurationSources().hasAPIKey ? .live : .sandbox
        }
    }

    /// Installs the module into the table at `table` (the executable's placeholder for `runcrate`).
    /// Cheap: the prelude is loaded, but no client, sandbox or notice exists until the first API call.
    init(options: Options, into L: LuaState, table: Int32) throws(LuaError) {
        self.options = options
        let target = Self.target(for: options)
        let stderrIsTerminal = isatty(2) != 0
        let interrupted = RuncrateModule.interruptProbe(for: L)
        let hooks = Self.clientHooks(verbose: options.verbose)
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
                try ModuleHookup.makeTransport(target: target, environment: environment, hooks: hooks, isCancelled: interrupted)
            })
        module = RuncrateModule(configuration: config)
        try module.install(into: L, globalHelp: options.globalHelp, table: table)
    }

    /// A client wait at least this long is announced on stderr, with or without `--verbose`.
    static let noticeableWait = 3.0

    /// The client's request log goes to stderr with `--verbose`; a long wait before a retry (a
    /// sold-out create's `Retry-After`) is said once, always. Events carry no key.
    static func clientHooks(verbose: Bool) -> ClientHooks {
        var hooks = ClientHooks()
        hooks.onEvent = { @Sendable event in
            if verbose { Self.errorLine("runcrate-lua: \(event)") }
            if let notice = event.waitNotice, let wait = event.wait, wait >= noticeableWait {
                Self.errorLine("runcrate: \(notice)")
            }
        }
        return hooks
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

    /// With `--json`, prints the value at `index` as JSON on stdout; true when it did.
    func printResult(at index: Int32, in L: LuaState) -> Bool {
        guard options.json, L.type(at: index) != .none, let text = module.jsonText(of: index, in: L) else { return false }
        fputs(text + "\n", stdout)
        fflush(stdout)
        return true
    }

    /// Called when the run ends: prints and saves the dry-run plan. May replace the exit status.
    func finish(status: Int32, printedResult: Bool) -> Int32 {
        do {
            try module.finish(printJSON: !printedResult)
        } catch {
            Self.errorLine("runcrate-lua: \(error)")
            return status == 0 ? 1 : status
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

    static func errorLine(_ text: String) {
        fputs(text + "\n", stderr)
        fflush(stderr)
    }
}
