import CLuaShim
import Foundation
import CLua
import LuaBridge
import RuncrateAPI

/// The `runcrate` Lua module for one Lua state: install it, run the script, then `finish()`.
public final class RuncrateModule {
    public static let version = "0.1.0"

    public let configuration: Configuration
    let secrets = SecretStore()
    let planner = Planner()
    var refs = PreludeRefs()
    private var transport: RuncrateTransport?
    /// `transport`, or the planning transport over it in a dry run.
    private var route: RuncrateTransport?
    private var transportError: RuncrateError?
    private var catalogue: [InstanceType]?
    var confirmed = false
    var warnedNoSSHKey = false
    private(set) var moduleRef: Int32 = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the transport was made (so the sandbox started and the notice printed).
    public var transportStarted: Bool { transport != nil }

    // MARK: Installing

    /// Loads the prelude, sets the global `runcrate` and `package.loaded.runcrate` (so `require`
    /// finds it), and `package.preload.runcrate`. Nothing touches the network here. With `table`
    /// (a stack index), the module's fields go into that table, which becomes the module (the
    /// runner's placeholder, so values already holding it see the module). Stack: unchanged.
    public func install(into L: LuaState, globalHelp: Bool = false, table: Int32? = nil) throws(LuaError) {
        let top = L.gettop()
        let table = table.map { L.absindex($0) }
        defer { L.settop(top) }
        try Prelude.load(into: L)
        rcshim_defer_interrupts_in(L, Prelude.chunkName)
        pushNative(L)
        if let table { L.pushvalue(table) } else { L.pushnil() }
        try L.pcall(nargs: 2, nresults: 1)
        moduleRef = L.refValue(-1)
        L.pushvalue(-1)
        L.setglobal(raw: "runcrate")
        if L.getglobal(raw: "package") == .table {
            if L.rawget(-1, field: "loaded") == .table {
                L.pushvalue(-3)
                L.rawset(-2, field: "runcrate")
            }
            L.pop()
            if L.rawget(-1, field: "preload") == .table {
                let ref = moduleRef
                L.push(function: { L in
                    L.pushref(ref)
                    return 1
                }, name: "runcrate loader")
                L.rawset(-2, field: "runcrate")
            }
            L.pop()
        }
        L.pop()
        if globalHelp, L.getglobal(raw: "help") == .nil {
            L.pop()
            L.rawget(-1, field: "help")
            L.setglobal(raw: "help")
        }
    }

    private func pushNative(_ L: LuaState) {
        L.newtable()
        L.push(configuration.modeName)
        L.rawset(-2, field: "mode")
        L.push(Self.version)
        L.rawset(-2, field: "version")
        L.push(configuration.stderrIsTerminal)
        L.rawset(-2, field: "stderr_tty")
        L.push(function: { [unowned self] L in self.nativeInit(L) }, name: "init")
        L.rawset(-2, field: "init")
        pushOperations(L)
        L.rawset(-2, field: "ops")
        L.push(function: { [unowned self] L in self.nativeSleep(L) }, name: "sleep")
        L.rawset(-2, field: "sleep")
        L.pushCleanupFunction()
        L.rawset(-2, field: "cleanup")
        L.push(function: { L in
            L.push(Self.monotonic())
            return 1
        }, name: "clock")
        L.rawset(-2, field: "clock")
        L.push(function: { [unowned self] L in
            if let s = L.tostring(1) { self.configuration.writeStderr(self.secrets.redact(s)) }
            return 0
        }, name: "stderr")
        L.rawset(-2, field: "stderr")
        L.push(function: { [unowned self] L in self.nativeJSONEncode(L) }, name: "json_encode")
        L.rawset(-2, field: "json_encode")
        L.push(function: { [unowned self] L in self.nativeJSONDecode(L) }, name: "json_decode")
        L.rawset(-2, field: "json_decode")
        // did_you_mean(word, names) -> " — did you mean 'x'?" or "": the module's one suggestion.
        L.push(function: { L in
            var names: [String] = []
            let n = L.type(at: 2) == .table ? L.rawlen(2) : 0
            for i in 1...max(1, n) where i <= n {
                L.rawgeti(2, lua_Integer(i))
                if let name = L.tostring(-1) { names.append(name) }
                L.pop()
            }
            L.push(Suggestion.didYouMean(L.tostring(1) ?? "", in: names))
            return 1
        }, name: "did_you_mean")
        L.rawset(-2, field: "did_you_mean")
    }

    private func nativeInit(_ L: LuaState) -> Int32 {
        guard L.type(at: 1) == .table else { return 0 }
        func grab(_ key: String) -> Int32 {
            L.rawget(1, field: key)
            return L.ref()
        }
        refs.secretMetatable = grab("secret_mt")
        refs.secretValues = grab("secret_values")
        refs.jsonNull = grab("json_null")
        refs.arrayMetatable = grab("array_mt")
        return 0
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    // MARK: Finishing

    /// The dry-run plan as JSON text (nil outside dry-run mode).
    public var planJSON: String? {
        configuration.dryRun ? planner.json(mode: configuration.modeName).serialized : nil
    }

    /// Call once when the script has ended (also after an error). In dry-run mode: prints the plan —
    /// a table on stderr, or JSON on stdout with `json` unless `printJSON` is false because the
    /// runner prints the script's result instead — and writes `planOutPath`.
    public func finish(printJSON: Bool = true) throws {
        guard configuration.dryRun else { return }
        let json = planner.json(mode: configuration.modeName)
        if configuration.json {
            if printJSON { configuration.writeStdout(secrets.redact(json.serialized) + "\n") }
        } else {
            configuration.writeStderr(secrets.redact(planner.table()))
        }
        if let path = configuration.planOutPath {
            try Self.savePlan(secrets.redact(json.serialized) + "\n", to: path)
        }
    }

    /// `--plan-out FILE` could not be written (the runner checks it can be before the script runs).
    public struct PlanFileError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "--plan-out cannot write '\(path)': \(reason)" }
    }

    /// Writes the plan: atomically (a temporary file beside it, renamed) for a regular or new file;
    /// in place for anything else, such as /dev/stdout or a pipe.
    static func savePlan(_ text: String, to path: String) throws(PlanFileError) {
        func failure() -> PlanFileError { PlanFileError(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        let inPlace = stat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFREG
        let target = inPlace ? path : "\(path).tmp-\(getpid())"
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure() }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = failure()
                close(fd)
                if !inPlace { unlink(target) }
                throw error
            }
            offset += n
        }
        guard close(fd) == 0 || inPlace else {
            let error = failure()
            unlink(target)
            throw error
        }
        if !inPlace && rename(target, path) != 0 {
            let error = failure()
            unlink(target)
            throw error
        }
    }

    /// Encodes the value at `index` as `runcrate.json.encode` does (secrets as `***`); nil if it
    /// cannot be encoded. Stack: unchanged.
    public func jsonText(of index: Int32, in L: LuaState) -> String? {
        try? encodedJSON(at: index, in: L)
    }

    // MARK: The transport, made lazily

    /// What operations send through: the API, or in a dry run the planning transport over it. No
    /// operation knows which.
    func client() throws(ErrorInfo) -> RuncrateTransport {
        if let route { return route }
        let made: RuncrateTransport
        if configuration.dryRun {
            made = PlanningTransport(
                reads: { [unowned self] () throws(RuncrateError) in try self.apiTransport() }, planner: planner,
                catalogue: { [unowned self] () throws(RuncrateError) in try self.catalogueTypes() })
        } else {
            do { made = try apiTransport() } catch { throw ErrorInfo(error) }
        }
        route = made
        return made
    }

    /// The transport that reaches the API (and, for the sandbox, starts it), made at the first call
    /// that needs it; with `--verbose`, logged.
    private func apiTransport() throws(RuncrateError) -> RuncrateTransport {
        if let transport { return transport }
        if let transportError { throw transportError }
        do {
            var made = try configuration.makeTransport()
            if configuration.verbose {
                made = LoggedTransport(made, write: configuration.writeStderr, redact: { [secrets] in secrets.redact($0) })
            }
            transport = made
            if configuration.target == .sandbox, let notice = configuration.sandboxNotice {
                configuration.writeStderr(notice.hasSuffix("\n") ? notice : notice + "\n")
            }
            return made
        } catch let error as RuncrateError {
            transportError = error
            throw error
        } catch {
            let e = RuncrateError.configuration("could not start the API client: \(error)")
            transportError = e
            throw e
        }
    }

    /// Sends one prepared request.
    func send<R: Sendable>(_ request: PreparedRequest<R>) throws(ErrorInfo) -> R {
        let transport = try client()
        return try answered { () throws(RuncrateError) in try transport.send(request) }
    }

    /// Sends a create through the client's duplicate-safe path.
    func sendCreate(_ prepared: PreparedCreateInstance, failover: Bool) throws(ErrorInfo) -> Instance {
        let transport = try client()
        return try answered { () throws(RuncrateError) in try transport.createInstance(prepared, failover: failover) }
    }

    /// A client error as the errinfo a native call answers, secrets redacted.
    private func answered<T>(_ body: () throws(RuncrateError) -> T) throws(ErrorInfo) -> T {
        do { return try body() } catch {
            var info = ErrorInfo(error)
            info.message = secrets.redact(info.message)
            throw info
        }
    }

    /// The whole catalogue, fetched once per run (a read: sent in every mode).
    func fullCatalogue() throws(ErrorInfo) -> [InstanceType] {
        try answered { () throws(RuncrateError) in try catalogueTypes() }
    }

    private func catalogueTypes() throws(RuncrateError) -> [InstanceType] {
        if let catalogue { return catalogue }
        let types = try apiTransport().send(try Endpoint.instanceTypes())
        catalogue = types
        return types
    }

    func prepare<R>(_ body: () throws(RuncrateError) -> PreparedRequest<R>) throws(ErrorInfo) -> PreparedRequest<R> {
        do { return try body() } catch { throw ErrorInfo(error) }
    }
}
