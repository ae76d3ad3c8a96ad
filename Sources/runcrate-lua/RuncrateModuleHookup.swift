#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import CRuncrateModuleABI
import LuaBridge

/// Where the `runcrate` module joins the interpreter. The module — with the API client, the sandbox,
/// Foundation and NIO — lives in a library beside the executable (`libRuncrateLuaModule.so`), so
/// `runcrate-lua` starts as a small Lua interpreter. `runcrate` (the global, `package.loaded`) is a
/// placeholder table until a script first reads, writes or iterates it; then the library is loaded
/// and fills that same table, so every value already holding it sees the module. The REPL, `--json`
/// and `--dry-run` load it at start (completion, the result, the plan need it).
final class RuncrateModuleHookup {
    #if os(macOS)
    static let libraryName = "libRuncrateLuaModule.dylib"
    #else
    static let libraryName = "libRuncrateLuaModule.so"
    #endif

    /// The library's entry points (runcrate_module_abi.h).
    struct Library {
        let install: runcrate_module_install_fn
        let keepResult: runcrate_module_keep_result_fn
        let keepError: runcrate_module_keep_error_fn
        let finish: runcrate_module_finish_fn
        let exitStatus: runcrate_module_exit_status_fn
    }

    let configuration: Configuration
    private var globalHelp = false
    /// The `runcrate` table (placeholder, then module), in the registry.
    private var tableRef: Int32?
    private(set) var library: Library?
    /// Why the library could not be loaded (kept: it is not retried).
    private var loadFailure: String?

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Called once the standard libraries are open (and `--safe` applied), before LUA_INIT runs.
    /// `loadNow`: the run wants the module whatever the script does (REPL, `--json`, `--dry-run`);
    /// `mustLoad`: and cannot do without it (`--json`, `--dry-run`: the run fails at once if it is missing).
    func install(into L: LuaState, interactive: Bool, loadNow: Bool, mustLoad: Bool) throws(LuaError) {
        globalHelp = interactive
        L.newtable()
        let table = L.gettop()
        L.pushvalue(table)
        tableRef = L.ref()
        L.pushvalue(table)
        L.setglobal(raw: "runcrate")
        if L.getglobal(raw: "package") == .table, L.rawget(-1, field: "loaded") == .table {
            L.pushvalue(table)
            L.rawset(-2, field: "runcrate")
        }
        L.settop(table)
        if loadNow || mustLoad {
            guard let failure = load(L) else { return L.pop() }
            if mustLoad {
                L.pop()
                throw LuaError(kind: .runtime, message: failure)
            }
        }
        // The placeholder: the first read, write or `pairs` loads the module into the table, then
        // repeats the access; an error names the script's line. `help` (REPL and -e) does the same.
        try L.load(Self.placeholder, name: "=runcrate", mode: "t")
        L.insert(-2)
        L.push(function: { [unowned self] L in
            if let failure = self.load(L) {
                L.push(false)
                L.push(failure)
                return 2
            }
            L.push(true)
            return 1
        }, name: "runcrate")
        L.push(interactive)
        try L.pcall(nargs: 3, nresults: 0)
    }

    private static let placeholder = """
        local T, load, with_help = ...
        local G, setmetatable, pairs, error, rawequal, rawget, rawset, type = _ENV, setmetatable, pairs, error, rawequal, rawget, rawset, type
        local mt, help_stub = {}
        local function need()
          local stub_was_set = help_stub ~= nil and rawequal(rawget(G, "help"), help_stub)
          if stub_was_set then rawset(G, "help", nil) end
          setmetatable(T, nil)
          local ok, err = load()
          if not ok then
            setmetatable(T, mt)
            if stub_was_set and rawget(G, "help") == nil then rawset(G, "help", help_stub) end
            error(err, 3)
          end
        end
        function mt.__index(t, k) need() return t[k] end
        function mt.__newindex(t, k, v) need() t[k] = v end
        function mt.__pairs(t) need() return pairs(t) end
        setmetatable(T, mt)
        local package = rawget(G, "package")
        if type(package) == "table" and type(package.preload) == "table" then
          package.preload.runcrate = function() return T end
        end
        if with_help and rawget(G, "help") == nil then
          help_stub = function(...)
            need()
            local h = rawget(G, "help")
            if h == nil or rawequal(h, help_stub) then error("help is not available", 2) end
            return h(...)
          end
          rawset(G, "help", help_stub)
        end
        """

    /// Loads the library and installs the module into the `runcrate` table (without a metatable by
    /// now). Returns nil when the module is installed, else why not. Stack: unchanged.
    private func load(_ L: LuaState) -> String? {
        if library != nil { return nil }
        if let loadFailure { return loadFailure }
        let top = L.gettop()
        defer { L.settop(top) }
        let loaded: Library
        switch Self.openLibrary() {
        case .failure(let reason):
            loadFailure = "runcrate: the module could not be loaded: \(reason)"
            return loadFailure
        case .success(let found):
            loaded = found
        }
        guard let tableRef else { return "runcrate: the module could not be loaded: no table" }
        L.pushref(tableRef)
        let status = withOptions { options in loaded.install(L, options, L.gettop()) }
        if status != 0 {
            loadFailure = L.tostring(-1) ?? "runcrate: the module could not be installed"
            return loadFailure
        }
        library = loaded
        return nil
    }

    /// Calls `body` with the module's settings as the C interface passes them.
    private func withOptions<R>(_ body: (UnsafePointer<runcrate_module_options>) -> R) -> R {
        let c = configuration
        return withOptionalCStrings([c.planOut, c.environment, c.sandboxState, c.sandboxURL]) { strings in
            var options = runcrate_module_options()
            options.abi_version = RUNCRATE_MODULE_ABI_VERSION
            switch c.mode {
            case .automatic: options.mode = Int32(RUNCRATE_MODULE_MODE_AUTOMATIC)
            case .sandbox: options.mode = Int32(RUNCRATE_MODULE_MODE_SANDBOX)
            case .live: options.mode = Int32(RUNCRATE_MODULE_MODE_LIVE)
            }
            options.dry_run = c.dryRun ? 1 : 0
            options.json = c.json ? 1 : 0
            options.verbose = c.verbose ? 1 : 0
            options.assume_yes = c.assumeYes ? 1 : 0
            options.global_help = globalHelp ? 1 : 0
            options.has_max_instances = c.maxInstances != nil ? 1 : 0
            options.max_instances = Int64(c.maxInstances ?? 0)
            options.has_max_hourly_cost = c.maxHourlyCost != nil ? 1 : 0
            options.max_hourly_cost = c.maxHourlyCost ?? 0
            options.plan_out = strings[0]
            options.environment = strings[1]
            options.sandbox_state = strings[2]
            options.sandbox_url = strings[3]
            return withUnsafePointer(to: options) { body($0) }
        }
    }

    /// Opens the library beside the executable (or in `../lib/runcrate-lua/`) and finds its entry points.
    static func openLibrary() -> Result<Library, LibraryError> {
        let candidates = libraryCandidates()
        var firstError: String?
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                let message = dlerror().map { String(cString: $0) } ?? "\(path): cannot be loaded"
                if firstError == nil || access(path, F_OK) == 0 { firstError = message }
                continue
            }
            guard let install = dlsym(handle, RUNCRATE_MODULE_INSTALL_SYMBOL),
                  let keepResult = dlsym(handle, RUNCRATE_MODULE_KEEP_RESULT_SYMBOL),
                  let keepError = dlsym(handle, RUNCRATE_MODULE_KEEP_ERROR_SYMBOL),
                  let finish = dlsym(handle, RUNCRATE_MODULE_FINISH_SYMBOL),
                  let exitStatus = dlsym(handle, RUNCRATE_MODULE_EXIT_STATUS_SYMBOL) else {
                return .failure(LibraryError(description: "\(path) is not the runcrate module library (an entry point is missing)"))
            }
            return .success(Library(
                install: unsafeBitCast(install, to: runcrate_module_install_fn.self),
                keepResult: unsafeBitCast(keepResult, to: runcrate_module_keep_result_fn.self),
                keepError: unsafeBitCast(keepError, to: runcrate_module_keep_error_fn.self),
                finish: unsafeBitCast(finish, to: runcrate_module_finish_fn.self),
                exitStatus: unsafeBitCast(exitStatus, to: runcrate_module_exit_status_fn.self)))
        }
        let looked = candidates.isEmpty ? "" : " (looked for \(libraryName) beside the executable and in ../lib/runcrate-lua)"
        return .failure(LibraryError(description: (firstError ?? "cannot find \(libraryName)") + looked))
    }

    struct LibraryError: Error, CustomStringConvertible {
        let description: String
    }

    /// `<dir of the executable>/libRuncrateLuaModule.so`, then `<dir>/../lib/runcrate-lua/…`.
    static func libraryCandidates() -> [String] {
        guard let executable = executablePath(), let slash = executable.lastIndex(of: "/") else { return [] }
        let dir = String(executable[..<slash])
        return ["\(dir)/\(libraryName)", "\(dir)/../lib/runcrate-lua/\(libraryName)"]
    }

    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        #if os(Linux)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        buffer[n] = 0
        #else
        var size = UInt32(buffer.count)
        guard _NSGetExecutablePath(&buffer, &size) == 0 else { return nil }
        #endif
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// With `--json`, hands the script's results (`count` values from `first`) to the module for the
    /// document it prints at the end; false when one cannot be JSON (the run then fails).
    func keepResults(from first: Int32, count: Int32, in L: LuaState) -> Bool {
        guard configuration.json, let library else { return true }
        return library.keepResult(L, first, count) == 0
    }

    /// With `--json`, hands the error that ended the run to the module, for the document.
    func keepError(_ error: LuaError, in L: LuaState) {
        guard configuration.json, let library else { return }
        let kind = switch error.kind {
        case .timeout: "timeout"
        case .interrupted: "interrupted"
        case .memory: "memory"
        case .syntax: "syntax_error"
        default: "error"
        }
        library.keepError(L, kind, error.message)
    }

    /// The exit status for an error that ended the run, when it is one of the module's (spend cap,
    /// interrupted); such errors only exist once the module is loaded.
    func exitStatus(ofErrorIn L: LuaState) -> ExitStatus? {
        guard let library else { return nil }
        let status = library.exitStatus(L)
        return status < 0 ? nil : ExitStatus(rawValue: status)
    }

    /// Called when the run ends: prints and saves the dry-run plan, prints the `--json` document.
    /// May replace the exit status.
    func finish(status: ExitStatus) -> ExitStatus {
        guard let library else { return status }
        return ExitStatus(rawValue: library.finish(status.rawValue)) ?? .failure
    }
}

/// Calls `body` with each string as a C string (NULL for nil), valid for the call only.
private func withOptionalCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    guard let (first, rest) = strings.first.map({ ($0, Array(strings.dropFirst())) }) else { return body([]) }
    guard let first else { return withOptionalCStrings(rest) { body([nil] + $0) } }
    return first.withCString { p in withOptionalCStrings(rest) { body([p] + $0) } }
}
