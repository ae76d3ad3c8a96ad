import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished process printed and how it ended.
struct Completed: Equatable, CustomStringConvertible {
    var stdout: String
    var stderr: String
    var status: Int32

    var description: String { "status \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)" }
}

enum SubprocessError: Error, CustomStringConvertible {
    case spawnFailed(String, Int32)
    case timedOut(String, Completed)

    var description: String {
        switch self {
        case .spawnFailed(let path, let err): "cannot start \(path): \(String(cString: strerror(err)))"
        case .timedOut(let path, let partial): "\(path) did not finish in time; so far:\n\(partial)"
        }
    }
}

/// Runs programs with an exact argv[0], a clean environment, input on a pipe, and a deadline.
enum Subprocess {
    /// The environment every run starts from: no LUA_* variables, a private HOME.
    static func baseEnvironment() -> [String: String] {
        var env: [String: String] = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]
        env["HOME"] = Paths.scratch.path
        return env
    }

    static func run(
        _ executable: String, argv0: String, _ arguments: [String], stdin input: [UInt8] = [],
        environment: [String: String] = [:], directory: String = Paths.fixtures.path, timeout: Double = 60
    ) throws -> Completed {
        var env = baseEnvironment()
        env.merge(environment) { _, new in new }

        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        // Close-on-exec: tests run in parallel, and a child spawned meanwhile by another test must not
        // inherit this child's stdin write end (its EOF would never come). dup2 in the child clears the flag.
        _ = LibC.pipe2(&inPipe, O_CLOEXEC); _ = LibC.pipe2(&outPipe, O_CLOEXEC); _ = LibC.pipe2(&errPipe, O_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        _ = LibC.posix_spawn_file_actions_addchdir_np(&actions, directory)

        let pid = try spawn(executable, argv: [argv0] + arguments, env: env, actions: &actions, attributes: nil)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])

        input.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = write(inPipe[1], buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        close(inPipe[1])

        var out: [UInt8] = [], err: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var open = [outPipe[0], errPipe[0]]
        var timedOut = false
        while !open.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { timedOut = true; break }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1) * 1000))
            if ready <= 0 { continue }
            for p in fds where p.revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = read(p.fd, &chunk, chunk.count)
                if n <= 0 {
                    open.removeAll { $0 == p.fd }
                } else if p.fd == outPipe[0] {
                    out += chunk[0..<n]
                } else {
                    err += chunk[0..<n]
                }
            }
        }
        if timedOut { kill(pid, SIGKILL) }
        close(outPipe[0]); close(errPipe[0])
        let status = waitStatus(pid)
        let completed = Completed(stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self), status: status)
        if timedOut { throw SubprocessError.timedOut(executable, completed) }
        return completed
    }

    static func spawn(_ executable: String, argv: [String], env: [String: String],
                      actions: inout posix_spawn_file_actions_t, attributes: UnsafePointer<posix_spawnattr_t>?) throws -> pid_t {
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        var rc = posix_spawn(&pid, executable, &actions, attributes, cArgv, cEnv)
        // A binary a test has just copied can be "busy" for a moment: a child another test spawned
        // may still hold a descriptor of it open between its fork and its exec.
        for _ in 0..<20 where rc == ETXTBSY {
            usleep(50_000)
            rc = posix_spawn(&pid, executable, &actions, attributes, cArgv, cEnv)
        }
        guard rc == 0 else { throw SubprocessError.spawnFailed(executable, rc) }
        return pid
    }

    /// The exit status, or 128 + the signal for a killed process, as a shell reports it.
    static func waitStatus(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
}

/// Where things are: the package, the built binaries, the fixtures, a scratch directory.
enum Paths {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// `$RUNCRATE_LUA_UNDER_TEST` (scripts/test runs these tests again on the release build), else
    /// `runcrate-lua` next to the test bundle (the same build), else in `.build/debug`.
    static let runcrateLua: String = {
        if let chosen = ProcessInfo.processInfo.environment["RUNCRATE_LUA_UNDER_TEST"], !chosen.isEmpty { return chosen }
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("runcrate-lua").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates.append(package.appendingPathComponent(".build/debug/runcrate-lua").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }()

    static let lua54: String = ["/usr/bin/lua5.4", "/usr/local/bin/lua5.4"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    } ?? "/usr/bin/lua5.4"

    static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("runcrate-lua-cli-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static func temporaryDirectory() -> URL {
        let url = scratch.appendingPathComponent(UUID().uuidString)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Copies an executable with a close-on-exec descriptor (FileManager's copy is not: a child spawned
/// meanwhile by a parallel test would keep the copy open for writing, and exec would fail "busy").
func copyExecutable(_ source: String, to destination: String) throws {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
    let fd = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw SubprocessError.spawnFailed(destination, errno) }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw SubprocessError.spawnFailed(destination, errno) }
}

/// Runs `runcrate-lua` as the tests see it.
func runcrateLua(_ arguments: [String], stdin: String = "", environment: [String: String] = [:], timeout: Double = 60) throws -> Completed {
    try Subprocess.run(Paths.runcrateLua, argv0: "runcrate-lua", arguments, stdin: Array(stdin.utf8), environment: environment, timeout: timeout)
}
