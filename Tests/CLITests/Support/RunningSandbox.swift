import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `runcrate-sandbox` process (the built binary) for one test: `runcrate-lua` reaches it in live
/// mode through `environment`, and the test asks it afterwards what happened to the instances —
/// after the run that made them has ended, however it ended.
final class RunningSandbox {
    let process = Process()
    let url: String

    /// `arguments` are the sandbox's own flags (`--faults`, `--ready-after`…).
    init(_ arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments = ["--port", "0"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var bytes: [UInt8] = []
        while let chunk = try out.fileHandleForReading.read(upToCount: 1), let byte = chunk.first, byte != 10 {
            bytes.append(byte)
        }
        url = String(decoding: bytes, as: UTF8.self)
        guard url.hasPrefix("http://") else {
            process.terminate()
            throw SubprocessError.spawnFailed("runcrate-sandbox (printed '\(url)')", 0)
        }
    }

    /// SIGTERM, then SIGKILL if it is still finishing a request a fault holds (a long latency).
    deinit {
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Live mode against this sandbox (a key it accepts, its address); nothing asks for confirmation
    /// when stdin is not a terminal.
    var environment: [String: String] { ["RUNCRATE_API_KEY": "rc_live_cli_tests", "RUNCRATE_BASE_URL": url] }

    /// `name status` of every instance the sandbox holds, read by another run of `runcrate-lua`.
    func instances() throws -> [(name: String, status: String)] {
        let code = "for _, i in ipairs(runcrate.instances()) do io.write(i.name, ' ', i.status, '\\n') end"
        let run = try runcrateLua(["-e", code], environment: environment)
        guard run.status == 0 else { throw SubprocessError.timedOut("listing the sandbox's instances", run) }
        return run.stdout.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    /// The built `runcrate-sandbox`: beside `runcrate-lua` under test, else in `.build/debug`.
    static func binary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: Paths.runcrateLua).deletingLastPathComponent().appendingPathComponent("runcrate-sandbox").path,
            Paths.package.appendingPathComponent(".build/debug/runcrate-sandbox").path,
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SubprocessError.spawnFailed(candidates.last!, ENOENT)
        }
        return found
    }
}
