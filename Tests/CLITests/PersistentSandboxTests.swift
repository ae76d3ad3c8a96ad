import Foundation
import Testing

/// A sandbox that outlives one run: `--sandbox-state FILE` (or `RUNCRATE_SANDBOX_STATE`) for the
/// in-process simulator, `--sandbox-url URL` (or a loopback `RUNCRATE_BASE_URL` with `--sandbox`)
/// for a running `runcrate-sandbox`.
@Suite("a sandbox kept between runs")
struct PersistentSandboxTests {
    static let create = #"print(runcrate.create_instance{ name = "kept-1", gpu_type = "l40s", ssh_key_id = nil }.id)"#
    static let list = #"for _, i in ipairs(runcrate.instances{ search = "kept" }) do print(i.id, i.name, i.status) end"#

    @Test func stateFileCarriesInstancesToTheNextRun() throws {
        let state = Paths.temporaryDirectory().appendingPathComponent("sandbox.json").path
        let first = try runcrateLua(["--sandbox-state", state, "-e", Self.create])
        #expect(first.status == 0, "\(first)")
        let id = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(first.stderr.contains("sandbox state kept in \(state)"), "\(first)")
        let second = try runcrateLua(["--sandbox-state", state, "-e", Self.list])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.hasPrefix("\(id)\tkept-1\t"), "\(second)")
        // Without the file, a fresh sandbox sees nothing.
        let fresh = try runcrateLua(["--sandbox", "-e", Self.list])
        #expect(fresh.stdout.isEmpty, "\(fresh)")
    }

    @Test func stateFileFromTheEnvironment() throws {
        let state = Paths.temporaryDirectory().appendingPathComponent("env-state.json").path
        let env = ["RUNCRATE_SANDBOX_STATE": state]
        let first = try runcrateLua(["-e", Self.create], environment: env)
        #expect(first.status == 0, "\(first)")
        let second = try runcrateLua(["-e", Self.list], environment: env)
        #expect(second.stdout.contains("\tkept-1\t"), "\(second)")
    }

    @Test func unwritableStateFileIsAnErrorBeforeTheScript() throws {
        let r = try runcrateLua(["--sandbox-state", "/nonexistent-dir/state.json", "-e", "print('ran')"])
        #expect(r.status == 1)
        #expect(!r.stdout.contains("ran"))
        #expect(r.stderr.contains("--sandbox-state: cannot write the state file /nonexistent-dir/state.json"), "\(r)")
    }

    @Test(arguments: [
        (["--sandbox-url", "https://api.runcrate.ai"], "--sandbox-url expects the http URL of a runcrate-sandbox on this machine"),
        (["--sandbox-state", "s.json", "--live"], "--sandbox-state and --live cannot be used together"),
        (["--sandbox-url", "http://127.0.0.1:1", "--sandbox-state", "s.json"], "--sandbox-state and --sandbox-url cannot be used together"),
    ])
    func badSandboxOptions(args: [String], message: String) throws {
        let r = try runcrateLua(args + ["-e", "print('ran')"])
        #expect(r.status == 1)
        #expect(!r.stdout.contains("ran"))
        #expect(r.stderr.contains(message), "\(r)")
    }

    /// Starts the built `runcrate-sandbox` on a free port; returns it and its URL.
    static func startSandbox() throws -> (Process, String) {
        let exe = URL(fileURLWithPath: Paths.runcrateLua).deletingLastPathComponent().appendingPathComponent("runcrate-sandbox")
        let p = Process()
        p.executableURL = FileManager.default.isExecutableFile(atPath: exe.path)
            ? exe : Paths.package.appendingPathComponent(".build/debug/runcrate-sandbox")
        p.arguments = ["--port", "0", "--ready-after", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var bytes: [UInt8] = []
        while let b = try out.fileHandleForReading.read(upToCount: 1), let byte = b.first, byte != 10 { bytes.append(byte) }
        return (p, String(decoding: bytes, as: UTF8.self))
    }

    @Test func runningSandboxByURLAndByLoopbackBaseURL() throws {
        let (server, url) = try Self.startSandbox()
        defer { server.terminate(); server.waitUntilExit() }
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let first = try runcrateLua(["--sandbox-url", url, "-e", Self.create])
        #expect(first.status == 0, "\(first)")
        #expect(first.stderr.contains("using the runcrate-sandbox at \(url)"), "\(first)")
        let id = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // --sandbox honours a loopback RUNCRATE_BASE_URL: the same server, no live mode, no key needed.
        let second = try runcrateLua(["--sandbox", "-e", Self.list + "; print(runcrate.mode)"], environment: ["RUNCRATE_BASE_URL": url])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.hasPrefix("\(id)\tkept-1\t"), "\(second)")
        #expect(second.stdout.hasSuffix("sandbox\n"), "\(second)")
    }
}
