import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A running Runcrate API simulator. Start one with `SandboxServer.start(_:)`; it serves `/api/v1`
/// under `baseURL` and control endpoints under `/_sandbox`.
public final class SandboxServer: Sendable {
    let core: SandboxCore
    private let task: Task<Void, Never>
    public let port: Int
    public let host: String

    /// "http://HOST:PORT": the host root; the API lives under `/api/v1`.
    public var baseURL: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(h):\(port)"
    }

    private init(core: SandboxCore, task: Task<Void, Never>, host: String, port: Int) {
        self.core = core
        self.task = task
        self.host = host
        self.port = port
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds and starts serving; returns once the port is bound.
    public static func start(_ options: SandboxOptions = .init()) async throws -> SandboxServer {
        let core = try SandboxCore(options: options)
        var logger = Logger(label: "runcrate-sandbox")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Result<Int, any Error>>.makeStream()
        let app = Application(
            responder: SandboxResponder(core: core),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in continuation.yield(.success(channel.localAddress?.port ?? options.port)) },
            logger: logger
        )
        let task = Task {
            do {
                try await app.runService(gracefulShutdownSignals: [])
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        for await result in ports {
            switch result {
            case .success(let port):
                return SandboxServer(core: core, task: task, host: options.host, port: port)
            case .failure(let error):
                throw StartError(description: "cannot serve on \(options.host):\(options.port): \(error)")
            }
        }
        throw StartError(description: "the server stopped before it was running")
    }

    /// `start` for callers on a plain thread (not inside Swift concurrency): blocks until bound.
    public static func startBlocking(_ options: SandboxOptions = .init()) throws -> SandboxServer {
        let box = NIOLockedValueBox<Result<SandboxServer, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let server = try await Self.start(options)
                box.withLockedValue { $0 = .success(server) }
            } catch { box.withLockedValue { $0 = .failure(error) } }
            done.signal()
        }
        done.wait()
        return try box.withLockedValue { $0! }.get()
    }

    /// Stops serving and waits until the port is released.
    public func stop() async {
        task.cancel()
        await task.value
        core.closeLog()
    }

    /// `stop` for callers on a plain thread.
    public func stopBlocking() {
        let done = DispatchSemaphore(value: 0)
        Task { await self.stop(); done.signal() }
        done.wait()
    }

    // MARK: test hooks (also reachable over HTTP under /_sandbox)

    /// Every request so far, oldest first, with the key redacted.
    public func requestLog() -> [SandboxRequestRecord] { core.locked { $0.log } }

    public func clearRequestLog() { core.locked { $0.log.removeAll() } }

    /// Replaces the fault rules (counters and random streams restart from the seed). Throws on a bad spec.
    public func setFaults(_ spec: String) throws { try core.setFaults(spec) }

    public var faults: String { core.locked { $0.faults.spec } }

    /// Back to a fresh state: bundled or given catalogue, full credits, no instances, no faults fired.
    public func reset() throws { try core.reset() }

    /// Moves the sandbox clock forward: instances become running, auto-stop, and bill as if time passed.
    public func advanceClock(seconds: Double) { core.mutate { $0.state.clockOffset += seconds } }

    /// The sandbox's notion of now.
    public var now: Date { core.locked { $0.now() } }

    /// Sets how many more instances of one config can be created (0 = sold out).
    public func setStock(typeID: String, count: Int) throws {
        try core.mutate { c in
            guard let i = c.state.catalog.types.firstIndex(where: { $0.id == typeID }) else {
                throw StartError(description: "unknown instance type '\(typeID)'")
            }
            c.state.catalog.types[i].stock = max(0, count)
        }
    }

    /// Sets the stock of every config of a GPU type (optionally only in one region).
    public func setStock(gpuType: String, region: String? = nil, count: Int) {
        core.mutate { c in
            for i in c.state.catalog.types.indices where c.state.catalog.types[i].gpu_type == gpuType
                && (region == nil || c.state.catalog.types[i].region == region) {
                c.state.catalog.types[i].stock = max(0, count)
            }
        }
    }

    /// The stock left for a config, or nil for an unknown id.
    public func stock(typeID: String) -> Int? {
        core.locked { $0.state.catalog.types.first { $0.id == typeID }?.stock }
    }

    /// Sets the settled credits balance in USD.
    public func setCredits(_ usd: Double) { core.mutate { $0.state.credits = usd } }

    /// 503 (`no_capacity`) or 500 ("no longer available") for sold-out creates.
    public func setSoldOutStatus(_ status: Int) { core.mutate { $0.state.soldOutStatus = status == 500 ? 500 : 503 } }

    /// Sets an environment's monthly budget (nil = none); a launch past it answers 402 `BUDGET_REACHED`.
    public func setBudget(environment: String, usd: Double?) throws {
        try core.mutate { c in
            guard let i = c.state.environments.firstIndex(where: { $0.name == environment || $0.id == environment }) else {
                throw StartError(description: "unknown environment '\(environment)'")
            }
            c.state.environments[i].monthlyBudgetUSD = usd
        }
    }
}

/// The shared, locked heart of a server: state, fault engine, request log, persistence.
final class SandboxCore: Sendable {
    struct Inner {
        var state: SandboxState
        var faults: FaultEngine
        var log: [SandboxRequestRecord] = []
        var requestCounter = 0
        var logFile: FileHandle?
        /// Serialised `GET /instances/types` data by query string. Stock is not on the wire, so the
        /// answer only changes when the catalogue is replaced (reset).
        var typesCache: [String: (data: String, count: Int)] = [:]

        func now() -> Date { Date().addingTimeInterval(state.clockOffset) }
    }

    let options: SandboxOptions
    private let box: NIOLockedValueBox<Inner>

    init(options: SandboxOptions) throws {
        self.options = options
        let state = try Self.initialState(options)
        let faults: FaultEngine
        do { faults = try FaultEngine(spec: options.faults ?? "", seed: options.seed) } catch {
            throw SandboxServer.StartError(description: "--faults: \(error)")
        }
        var logFile: FileHandle?
        if let logPath = options.logPath {
            if !FileManager.default.fileExists(atPath: logPath) {
                guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
                    throw SandboxServer.StartError(description: "cannot create log file '\(logPath)'")
                }
            }
            guard let h = FileHandle(forWritingAtPath: logPath) else {
                throw SandboxServer.StartError(description: "cannot write log file '\(logPath)'")
            }
            h.seekToEndOfFile()
            logFile = h
        }
        box = NIOLockedValueBox(Inner(state: state, faults: faults, logFile: logFile))
        try persist(state)
    }

    private static func initialState(_ options: SandboxOptions) throws -> SandboxState {
        if let path = options.statePath, let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            do { return try JSONDecoder().decode(SandboxState.self, from: data) } catch {
                throw SandboxServer.StartError(description: "state file '\(path)' is not a sandbox state: \(error)")
            }
        }
        let catalog = try Catalog.load(path: options.catalogPath)
        var state = SandboxState(catalog: catalog, seed: options.seed, now: Date())
        state.soldOutStatus = options.soldOutStatus
        return state
    }

    func locked<T>(_ body: (inout Inner) throws -> T) rethrows -> T { try box.withLockedValue(body) }

    /// Changes the state and saves it when `--state` is set.
    @discardableResult
    func mutate<T>(_ body: (inout Inner) throws -> T) rethrows -> T {
        try box.withLockedValue { inner in
            let result = try body(&inner)
            try? persist(inner.state)
            return result
        }
    }

    func setFaults(_ spec: String) throws {
        let engine = try FaultEngine(spec: spec, seed: options.seed)
        locked { $0.faults = engine }
    }

    func reset() throws {
        var fresh = options
        fresh.statePath = nil
        let state = try Self.initialState(fresh)
        let engine = try FaultEngine(spec: locked { $0.faults.spec }, seed: options.seed)
        mutate { inner in
            inner.state = state
            inner.typesCache = [:]
            inner.faults = engine
            inner.log.removeAll()
        }
    }

    /// Writes the state to a temporary file beside the target, then renames it over: never a torn file.
    func persist(_ state: SandboxState) throws {
        guard let path = options.statePath else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(state)
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw SandboxServer.StartError(description: "cannot write state file '\(tmp)'")
        }
        if let h = FileHandle(forWritingAtPath: tmp) { try? h.synchronize(); try? h.close() }
        guard rename(tmp, path) == 0 else {
            throw SandboxServer.StartError(description: "cannot rename '\(tmp)' to '\(path)': errno \(errno)")
        }
    }

    func record(_ r: SandboxRequestRecord) {
        locked { inner in
            inner.log.append(r)
            if inner.log.count > 50_000 { inner.log.removeFirst(10_000) }
            if let file = inner.logFile, let line = try? JSONEncoder().encode(r) {
                file.write(line + Data("\n".utf8))
            }
        }
    }

    func closeLog() {
        locked { inner in
            try? inner.logFile?.close()
            inner.logFile = nil
        }
    }
}
