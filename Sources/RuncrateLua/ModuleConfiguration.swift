import Foundation

extension RuncrateModule {
    /// How one run of the module is set up; the runner fills it from the command line.
    public struct Configuration {
        /// Where API calls go.
        public enum Target: String, Sendable { case live, sandbox }

        public var target: Target
        /// `--dry-run`: reads go through, creates/updates/deletes are validated and recorded, not sent.
        public var dryRun: Bool
        /// `--max-instances`: instances one run may create (or plan) in total.
        public var maxInstances: Int?
        /// `--max-hourly-cost`: summed USD/h of the instances one run may create (or plan).
        public var maxHourlyCost: Double?
        /// `--verbose`: one redacted line per API call on stderr.
        public var verbose: Bool
        /// `--json`: the plan is printed as JSON on stdout instead of a table on stderr.
        public var json: Bool
        /// `--plan-out FILE`: where a dry run writes its plan as JSON.
        public var planOutPath: String?
        /// Asked once, before the first live create, with a question naming the price; `nil` (for
        /// `--yes`, or when stdin/stderr is not a terminal) creates without asking.
        public var confirm: ((String) -> Bool)?
        /// Printed on stderr when the transport is first made in sandbox mode.
        public var sandboxNotice: String?
        public var stderrIsTerminal: Bool
        public var writeStderr: (String) -> Void
        public var writeStdout: (String) -> Void
        /// Makes the transport (and, for the sandbox, starts it). Called once, at the first call that
        /// needs the API; never for a script that does not use it.
        public var makeTransport: () throws -> RuncrateTransport

        public init(
            target: Target, dryRun: Bool = false, maxInstances: Int? = nil, maxHourlyCost: Double? = nil,
            verbose: Bool = false, json: Bool = false, planOutPath: String? = nil,
            confirm: ((String) -> Bool)? = nil, sandboxNotice: String? = nil, stderrIsTerminal: Bool = false,
            writeStderr: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
            writeStdout: @escaping (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) },
            makeTransport: @escaping () throws -> RuncrateTransport
        ) {
            self.target = target
            self.dryRun = dryRun
            self.maxInstances = maxInstances
            self.maxHourlyCost = maxHourlyCost
            self.verbose = verbose
            self.json = json
            self.planOutPath = planOutPath
            self.confirm = confirm
            self.sandboxNotice = sandboxNotice
            self.stderrIsTerminal = stderrIsTerminal
            self.writeStderr = writeStderr
            self.writeStdout = writeStdout
            self.makeTransport = makeTransport
        }

        /// `"live"`, `"sandbox"` or `"dry-run"`, as `runcrate.mode` reports it.
        public var modeName: String { dryRun ? "dry-run" : target.rawValue }
    }
}
