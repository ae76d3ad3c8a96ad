/// How to start a sandbox. Every field has a default: `SandboxServer.start()` gives an ephemeral loopback server.
public struct SandboxOptions: Sendable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    /// nil = the bundled catalogue.
    public var catalogPath: String?
    /// When set, state is loaded from and saved to this file (atomic writes).
    public var statePath: String?
    /// Fault spec (SANDBOX.md); nil or empty = no faults.
    public var faults: String?
    public var seed: UInt64
    /// Seconds from create to `running`.
    public var readyAfter: Double
    /// When set, every request is appended to this file as one JSON line (key redacted).
    public var logPath: String?
    /// What a sold-out create answers: 503 `no_capacity` (default) or 500 "no longer available".
    public var soldOutStatus: Int
    /// Largest request body accepted; larger answers 413.
    public var maxBodyBytes: Int

    public init(
        host: String = "127.0.0.1", port: Int = 0, catalogPath: String? = nil, statePath: String? = nil,
        faults: String? = nil, seed: UInt64 = 0, readyAfter: Double = 2, logPath: String? = nil,
        soldOutStatus: Int = 503, maxBodyBytes: Int = 1 << 20
    ) {
        self.host = host
        self.port = port
        self.catalogPath = catalogPath
        self.statePath = statePath
        self.faults = faults
        self.seed = seed
        self.readyAfter = readyAfter
        self.logPath = logPath
        self.soldOutStatus = soldOutStatus
        self.maxBodyBytes = maxBodyBytes
    }
}
