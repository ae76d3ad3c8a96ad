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
        /// `--sandbox-state FILE` (else `RUNCRATE_SANDBOX_STATE`): the in-process sandbox's state file.
        var sandboxState: String?
        /// `--sandbox-url URL` (else a loopback `RUNCRATE_BASE_URL` in sandbox mode): a running sandbox.
        var sandboxURL: String?

        /// The C struct's fields, one to one (its strings copied: they live for the call only).
        init(_ c: runcrate_module_options) {
            switch c.mode {
            case Int32(RUNCRATE_MODULE_MODE_SANDBOX): mode = .sandbox
            case Int32(RUNCRATE_MODULE_MODE_LIVE): mode = .live
            default: mode = .automatic
            }
            func text(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
            dryRun = c.dry_run != 0
            json = c.json != 0
            verbose = c.verbose != 0
            assumeYes = c.assume_yes != 0
            globalHelp = c.global_help != 0
            maxInstances = c.has_max_instances != 0 ? Int(c.max_instances) : nil
            maxHourlyCost = c.has_max_hourly_cost != 0 ? c.max_hourly_cost : nil
            planOut = text(c.plan_out)
            environment = text(c.environment)
            sandboxState = text(c.sandbox_state)
            sandboxURL = text(c.sandbox_url)
        }
    }

    /// Where sandbox calls go: an in-process simulator (its state kept in a file, or not), or a
    /// running `runcrate-sandbox`.
    enum SandboxPlace: Equatable {
        case inProcess(statePath: String?)
        case running(url: String)
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
            if options.sandboxState != nil || options.sandboxURL != nil { return .sandbox }
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
        let place: SandboxPlace
        do { place = try Self.sandboxPlace(for: options) } catch { throw LuaError(kind: .runtime, message: "runcrate: \(error.message)") }
        let stderrIsTerminal = isatty(2) != 0
        let interrupted = RuncrateModule.interruptProbe(for: L)
        let hooks = Self.clientHooks(verbose: options.verbose)
        let askFirst = target == .live && !options.assumeYes && !options.dryRun && isatty(0) != 0 && stderrIsTerminal
        let confirm: ((String) -> Bool)? = askFirst ? { Self.askOnTerminal($0) } : nil
        var notice: String? = target == .sandbox && options.mode == .automatic
            && options.sandboxState == nil && options.sandboxURL == nil
            ? "runcrate-lua: no RUNCRATE_API_KEY set: using the local sandbox (nothing is billed; --live to use the real API)"
            : nil
        if target == .sandbox {
            switch place {
            case .running(let url): notice = (notice.map { $0 + "\n" } ?? "") + "runcrate-lua: using the runcrate-sandbox at \(url)"
            case .inProcess(let path?): notice = (notice.map { $0 + "\n" } ?? "") + "runcrate-lua: sandbox state kept in \(path)"
            case .inProcess(nil): break
            }
        }
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
                try ModuleHookup.makeTransport(target: target, place: place, environment: environment, hooks: hooks,
                                               isCancelled: interrupted)
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
            // The module logs each call once (request line, then its outcome); the client adds only
            // what happens inside a call — retries and reconciliation — under it, in the same voice.
            if verbose {
                switch event.phase {
                case .retry, .reconcile, .adopted: Self.errorLine("runcrate:   \(event)")
                case .attempt, .failed: break
                }
            }
            if let notice = event.waitNotice, let wait = event.wait, wait >= noticeableWait {
                Self.errorLine("runcrate: \(notice)")
            }
        }
        return hooks
    }

    /// Starts the in-process sandbox (or resolves the live key) and makes the client.
    static func makeTransport(
        target: RuncrateModule.Configuration.Target, place: SandboxPlace, environment: String?, hooks: ClientHooks,
        isCancelled: @escaping @Sendable () -> Bool
    ) throws -> RuncrateTransport {
        switch target {
        case .sandbox:
            if case .running(let url) = place {
                let api = try RuncrateConfiguration(apiKey: APIKey(sandboxKey), baseURL: url, environment: environment)
                return BlockingClientTransport(configuration: api, hooks: hooks, isCancelled: isCancelled)
            }
            let statePath: String? = if case .inProcess(let path) = place { path } else { nil }
            let server: SandboxServer
            do {
                server = try SandboxServer.startBlocking(SandboxOptions(statePath: statePath))
            } catch {
                guard let statePath else { throw error }
                throw RuncrateError.configuration("the sandbox state file \(statePath) cannot be used: \(error)")
            }
            let api = try RuncrateConfiguration(apiKey: APIKey(sandboxKey), baseURL: server.baseURL, environment: environment)
            return BlockingClientTransport(configuration: api, hooks: hooks, isCancelled: isCancelled, keepAlive: server)
        case .live:
            let api = try RuncrateConfiguration.resolve(environment: environment)
            return BlockingClientTransport(configuration: api, hooks: hooks, isCancelled: isCancelled)
        }
    }

    /// The sandbox a run uses: `--sandbox-url`, else `--sandbox-state`, else `RUNCRATE_SANDBOX_STATE`,
    /// else a loopback `RUNCRATE_BASE_URL` (a running runcrate-sandbox), else a fresh in-process one.
    static func sandboxPlace(for options: Options, environment: (String) -> String? = { getenv($0).map { String(cString: $0) } })
        throws(ConfigurationFailure) -> SandboxPlace
    {
        if let url = options.sandboxURL {
            guard RuncrateConfiguration.isLoopback(url) else {
                throw ConfigurationFailure(message: "--sandbox-url expects the http URL of a runcrate-sandbox on this machine (127.0.0.1, localhost or [::1]), got '\(url)'; another host is the live API (RUNCRATE_BASE_URL with --live)")
            }
            return .running(url: url)
        }
        if let path = options.sandboxState ?? environment("RUNCRATE_SANDBOX_STATE").flatMap({ $0.isEmpty ? nil : $0 }) {
            // The sandbox saves after every change and cannot report a failure then: check now.
            let flag = options.sandboxState != nil ? "--sandbox-state" : "RUNCRATE_SANDBOX_STATE"
            let directory = (path as NSString).deletingLastPathComponent
            if access(directory.isEmpty ? "." : directory, W_OK) != 0 {
                throw ConfigurationFailure(message: "\(flag): cannot write the state file \(path): \(String(cString: strerror(errno))) (\(directory.isEmpty ? "." : directory))")
            }
            if access(path, F_OK) == 0, access(path, R_OK | W_OK) != 0 {
                throw ConfigurationFailure(message: "\(flag): cannot read and write the state file \(path): \(String(cString: strerror(errno)))")
            }
            return .inProcess(statePath: path)
        }
        if let base = environment("RUNCRATE_BASE_URL"), RuncrateConfiguration.isLoopback(base) { return .running(url: base) }
        return .inProcess(statePath: nil)
    }

    struct ConfigurationFailure: Error { let message: String }

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

    /// Asks on the terminal before the first live create (the question ends with its `[y/N] `);
    /// anything but y/yes declines.
    static func askOnTerminal(_ question: String) -> Bool {
        fputs(question, stderr)
        fflush(stderr)
        guard let line = readLine(strippingNewline: true) else { return false }
        return ["y", "yes"].contains(line.trimmingCharacters(in: .whitespaces).lowercased())
    }

    static func errorLine(_ text: String) {
        fputs(text + "\n", stderr)
        fflush(stderr)
    }
}
