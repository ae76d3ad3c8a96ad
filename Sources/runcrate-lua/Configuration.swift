#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// The long options: limits applied by the interpreter, and the settings of the `runcrate` module.
/// Collected before any Lua code runs; `validate()` rejects bad values naming the flag.
struct Configuration: Equatable {
    enum Mode: Equatable {
        /// No `--sandbox`/`--live`: the module picks (sandbox unless `RUNCRATE_API_KEY` is set).
        case automatic
        case sandbox
        case live
    }

    // Interpreter limits (implemented here).
    var timeoutSeconds: Double?
    var memoryLimitMB: Int?
    var safe = false

    // The `runcrate` module's settings (see RuncrateModuleHookup.swift).
    var mode: Mode = .automatic
    var dryRun = false
    var planOut: String?
    var maxInstances: Int?
    var maxHourlyCost: Double?
    var environment: String?
    var sandboxState: String?
    var sandboxURL: String?
    var json = false
    var verbose = false
    var assumeYes = false

    var memoryLimitBytes: Int? { memoryLimitMB.map { $0 * 1024 * 1024 } }
}

/// A long option that cannot be used as given: the message names the flag and what it expects.
struct ConfigurationError: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}

extension Configuration {
    /// A long option: its name without `--`, the placeholder of its value (nil for a switch), and how it applies.
    struct LongOption: Sendable {
        let name: String
        let valueName: String?
        let help: String
        let apply: @Sendable (inout Configuration, String) throws(ConfigurationError) -> Void
    }

    static let longOptions: [LongOption] = [
        LongOption(name: "timeout", valueName: "SECONDS", help: "stop the script after SECONDS (exit status 124)") { c, v throws(ConfigurationError) in
            c.timeoutSeconds = try positiveNumber(v, flag: "--timeout", expected: "a number of seconds greater than 0")
        },
        LongOption(name: "memory-limit", valueName: "MB", help: "limit Lua's memory to MB megabytes") { c, v throws(ConfigurationError) in
            c.memoryLimitMB = try positiveInteger(v, flag: "--memory-limit", expected: "a whole number of megabytes greater than 0")
        },
        LongOption(name: "safe", valueName: nil, help: "no os.execute, io.popen, package.loadlib, os.remove, os.rename, os.exit; files read-only") { c, _ in c.safe = true },
        LongOption(name: "sandbox", valueName: nil, help: "use the local Runcrate simulator; nothing is billed") { c, _ throws(ConfigurationError) in
            guard c.mode != .live else { throw ConfigurationError("--sandbox and --live cannot be used together") }
            c.mode = .sandbox
        },
        LongOption(name: "live", valueName: nil, help: "use the real Runcrate API (needs RUNCRATE_API_KEY)") { c, _ throws(ConfigurationError) in
            guard c.mode != .sandbox else { throw ConfigurationError("--sandbox and --live cannot be used together") }
            c.mode = .live
        },
        LongOption(name: "sandbox-state", valueName: "FILE", help: "keep the local sandbox's state in FILE between runs (implies --sandbox)") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("--sandbox-state expects a file name") }
            c.sandboxState = v
        },
        LongOption(name: "sandbox-url", valueName: "URL", help: "use a running runcrate-sandbox at URL, a loopback address (implies --sandbox)") { c, v throws(ConfigurationError) in
            // The module checks that it is a loopback URL (the one place that rule lives).
            guard !v.isEmpty else { throw ConfigurationError("--sandbox-url expects the URL of a running runcrate-sandbox") }
            c.sandboxURL = v
        },
        LongOption(name: "dry-run", valueName: nil, help: "record creates, updates and deletes instead of sending them; print the plan") { c, _ in c.dryRun = true },
        LongOption(name: "plan-out", valueName: "FILE", help: "with --dry-run, also save the plan as JSON in FILE") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("--plan-out expects a file name") }
            c.planOut = v
        },
        LongOption(name: "max-instances", valueName: "N", help: "launch at most N instances in this run") { c, v throws(ConfigurationError) in
            c.maxInstances = try positiveInteger(v, flag: "--max-instances", expected: "a whole number of instances greater than 0")
        },
        LongOption(name: "max-hourly-cost", valueName: "USD", help: "launch at most USD dollars per hour in total") { c, v throws(ConfigurationError) in
            c.maxHourlyCost = try positiveNumber(v, flag: "--max-hourly-cost", expected: "an amount of US dollars per hour greater than 0")
        },
        LongOption(name: "environment", valueName: "NAME", help: "the Runcrate environment (project) to work in") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("--environment expects an environment name") }
            c.environment = v
        },
        LongOption(name: "json", valueName: nil, help: "stdout is one JSON document: the result or the error (and the plan); the script's output goes to stderr") { c, _ in c.json = true },
        LongOption(name: "verbose", valueName: nil, help: "log HTTP requests on stderr, secrets redacted") { c, _ in c.verbose = true },
        LongOption(name: "yes", valueName: nil, help: "do not ask before live spending") { c, _ in c.assumeYes = true },
    ]

    static func longOption(named name: String) -> LongOption? {
        longOptions.first { $0.name == name }
    }

    /// Checks the options against each other once all are read.
    func validate() throws(ConfigurationError) {
        if let planOut {
            guard dryRun else { throw ConfigurationError("--plan-out needs --dry-run") }
            try Self.checkCanWrite(planOut, flag: "--plan-out")
        }
        if mode == .live, sandboxState != nil || sandboxURL != nil {
            throw ConfigurationError("\(sandboxState != nil ? "--sandbox-state" : "--sandbox-url") and --live cannot be used together")
        }
        if sandboxState != nil, sandboxURL != nil {
            throw ConfigurationError("--sandbox-state and --sandbox-url cannot be used together (a running sandbox keeps its own state: runcrate-sandbox --state FILE)")
        }
    }

    /// A file an option names for writing must be writable before the script runs (else the run's
    /// work would be lost at its end): an existing file that is not a directory and is writable, or
    /// a new one in a directory that exists and is writable. Nothing is created.
    static func checkCanWrite(_ path: String, flag: String) throws(ConfigurationError) {
        func refuse(_ why: String) -> ConfigurationError {
            ConfigurationError("\(flag) cannot write '\(path)': \(why)")
        }
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw refuse("it is a directory") }
            if access(path, W_OK) != 0 { throw refuse("the file is not writable") }
            return
        }
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard stat(directory, &info) == 0 else { throw refuse("the directory '\(directory)' does not exist") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw refuse("'\(directory)' is not a directory") }
        guard access(directory, W_OK | X_OK) == 0 else { throw refuse("the directory '\(directory)' is not writable") }
    }

    private static func positiveNumber(_ text: String, flag: String, expected: String) throws(ConfigurationError) -> Double {
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw ConfigurationError("\(flag) expects \(expected) (got '\(text)')")
        }
        return value
    }

    private static func positiveInteger(_ text: String, flag: String, expected: String) throws(ConfigurationError) -> Int {
        guard let value = Int(text), value > 0, value <= 1 << 40 else {
            throw ConfigurationError("\(flag) expects \(expected) (got '\(text)')")
        }
        return value
    }
}
