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
    /// With `--json`: the script's results, or the error that ended the run, as JSON text.
    private var jsonResult: String?
    private var jsonError: String?

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
        var verboseHooks = ClientHooks()
        if options.verbose {
            verboseHooks.onEvent = { @Sendable event in Self.errorLine("runcrate-lua: \(event)") }
        }
        let hooks = verboseHooks
        let askFirst = target == .live && !options.assumeYes && !options.dryRun && isatty(0) != 0 && stderrIsTerminal
        let confirm: ((String) -> Bool)? = askFirst ? { Self.askOnTerminal($0) } : nil
        let notice: String? = target == .sandbox && options.mode == .automatic
            ? "runcrate-lua: no RUNCRATE_API_KEY set: using the local sandbox (nothing is billed; --live to use the real API)"
            : nil
        let environment = options.environment
        // With --json the document goes to the process's stdout; its descriptor now writes to stderr.
        let output = options.json ? Self.takeStdoutForJSON() : nil
        let config = RuncrateModule.Configuration(
            target: target, dryRun: options.dryRun, maxInstances: options.maxInstances,
            maxHourlyCost: options.maxHourlyCost, verbose: options.verbose, json: options.json,
            planOutPath: options.planOut,
            confirm: confirm,
            sandboxNotice: notice,
            stderrIsTerminal: stderrIsTerminal,
            writeStdout: { text in if let output { Self.writeAll(text, to: output) } else { fputs(text, stdout); fflush(stdout) } },
            makeTransport: { () throws -> RuncrateTransport in
                try ModuleHookup.makeTransport(target: target, environment: environment, hooks: hooks, isCancelled: interrupted)
            })
        module = RuncrateModule(configuration: config)
        try module.install(into: L, globalHelp: options.globalHelp, table: table)
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

    /// `--json`: stdout carries one JSON document, so whatever else would be written there (the
    /// script's `print`, `io.write`, programs it runs) goes to stderr: descriptor 1 becomes a copy of
    /// 2, and the document is written to the original stdout, kept here.
    static func takeStdoutForJSON() -> Int32? {
        fflush(stdout)
        let saved = fcntl(1, F_DUPFD_CLOEXEC, 3)
        guard saved >= 0, dup2(2, 1) >= 0 else { return nil }
        return saved
    }

    static func writeAll(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            bytes = bytes.dropFirst(n)
        }
    }

    /// With `--json`, keeps the script's results for the document; false (and the reason on stderr)
    /// when one cannot be JSON.
    func keepResults(from first: Int32, count: Int32, in L: LuaState) -> Bool {
        guard options.json else { return true }
        switch module.jsonResults(from: first, count: count, in: L) {
        case .success(let text):
            jsonResult = text
            return true
        case .failure(let error):
            Self.errorLine("runcrate-lua: --json: \(error)")
            jsonError = JSONValue.object(["code": .string("json_error"), "message": .string(error.description)]).serialized
            return false
        }
    }

    /// With `--json`, keeps the error that ended the run for the document.
    func keepError(kind: String, report: String, in L: LuaState) {
        guard options.json, jsonError == nil else { return }
        jsonError = module.jsonError(kind: kind, report: report, in: L)
    }

    /// Called when the run ends: prints and saves the dry-run plan, and with `--json` prints the
    /// document. May replace the exit status.
    func finish(status: Int32) -> Int32 {
        var status = status
        do {
            try module.finish(printJSON: false)
        } catch {
            Self.errorLine("runcrate-lua: \(error)")
            if status == 0 { status = 1 }
        }
        if options.json {
            module.configuration.writeStdout(module.jsonDocument(result: jsonResult, error: jsonError) + "\n")
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
