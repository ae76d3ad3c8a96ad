import Foundation
import Testing

/// Runs the built `runcrate-sandbox` binary (built beside the test bundle by `swift build --build-tests`).
@Suite("runcrate-sandbox executable")
struct ExecutableTests {
    private func binary() throws -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("runcrate-sandbox")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/runcrate-sandbox").standardized
        try #require(FileManager.default.isExecutableFile(atPath: fallback.path), "build runcrate-sandbox first")
        return fallback
    }

    private func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus,
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test(arguments: [
        (["--port", "70000"], "--port"),
        (["--faults", "create=teapot"], "--faults"),
        (["--ready-after", "-1"], "--ready-after"),
        (["--catalog", "/nonexistent/catalog.json"], "--catalog"),
        (["--sold-out-status", "404"], "--sold-out-status"),
        (["--colour"], "--colour"),
    ])
    func badFlagsFailWithAnErrorNamingTheFlag(args: [String], flag: String) throws {
        let r = try run(args)
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(flag), "\(r.stderr)")
    }

    @Test func printsTheBoundAddressFirstAndServes() async throws {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = ["--port", "0", "--ready-after", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        let line: String = await withCheckedContinuation { c in
            Thread {
                var bytes: [UInt8] = []
                while let b = try? out.fileHandleForReading.read(upToCount: 1), let byte = b.first, byte != 10 { bytes.append(byte) }
                c.resume(returning: String(decoding: bytes, as: UTF8.self))
            }.start()
        }
        #expect(line.hasPrefix("http://127.0.0.1:"))
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        #expect(port > 0)
        let health = await http(port: port, "GET", "/_sandbox/health", key: nil)
        #expect(health.body.contains("\"ok\":true"))
        let types = await http(port: port, "GET", "/api/v1/instances/types?gpu_type=h200")
        #expect(types.status == 200)
        #expect((types.data?.count ?? 0) > 0)
    }
}
