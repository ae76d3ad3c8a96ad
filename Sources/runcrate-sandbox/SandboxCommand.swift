import ArgumentParser
import Foundation
import RuncrateSandbox

/// `runcrate-sandbox`: serves the Runcrate API simulator on a port.
@main
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runcrate-sandbox",
        abstract: "A local, faithful simulator of the Runcrate API (see SANDBOX.md).",
        discussion: "Prints the bound address (http://HOST:PORT) as its first line on stdout, then serves until interrupted."
    )

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port: Int = 0

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Catalogue JSON file (default: the bundled one).")
    var catalog: String?

    @Option(help: "State file: loaded at start, saved atomically after every change.")
    var state: String?

    @Option(help: "Fault rules, e.g. 'create#2=500;types@0.1=503,retry-after=2' (see SANDBOX.md).")
    var faults: String?

    @Option(help: "Seed for ids and fault probabilities.")
    var seed: UInt64 = 0

    @Option(name: .customLong("ready-after"), help: "Seconds from create to running.")
    var readyAfter: Double = 2

    @Option(help: "Append every request to this file as NDJSON (API key redacted).")
    var log: String?

    @Option(name: .customLong("sold-out-status"), help: "What a sold-out create answers: 503 (no_capacity) or 500 (\"no longer available\").")
    var soldOutStatus: Int = 503

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535 (got \(port))") }
        guard readyAfter >= 0, readyAfter.isFinite else { throw ValidationError("--ready-after must be a number of seconds >= 0") }
        guard soldOutStatus == 503 || soldOutStatus == 500 else { throw ValidationError("--sold-out-status must be 503 or 500") }
        if let faults {
            do { _ = try FaultSpec.parse(faults) } catch { throw ValidationError("--faults: \(error)") }
        }
        if let catalog {
            do { _ = try Catalog.load(path: catalog) } catch { throw ValidationError("--catalog: \(error)") }
        }
    }

    func run() async throws {
        let options = SandboxOptions(
            host: host, port: port, catalogPath: catalog, statePath: state, faults: faults, seed: seed,
            readyAfter: readyAfter, logPath: log, soldOutStatus: soldOutStatus)
        let server: SandboxServer
        do { server = try await SandboxServer.start(options) } catch {
            FileHandle.standardError.write(Data("runcrate-sandbox: \(error)\n".utf8))
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))
        FileHandle.standardError.write(Data("runcrate-sandbox: serving the Runcrate API at \(server.baseURL)/api/v1 (any key starting rc_live_)\n".utf8))
        await waitForTermination()
        await server.stop()
    }

    /// Returns on SIGINT or SIGTERM.
    private func waitForTermination() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
