import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process on a pseudo-terminal, driven like `expect`: write keystrokes, wait for output.
final class PseudoTerminalSession {
    let pid: pid_t
    private let master: Int32
    private(set) var output = ""
    /// Where the next `expect` starts looking.
    private var mark: String.Index

    init(_ executable: String, argv0: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        master = LibC.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
        var name = [CChar](repeating: 0, count: 128)
        guard master >= 0, LibC.grantpt(master) == 0, LibC.unlockpt(master) == 0, LibC.ptsname_r(master, &name, name.count) == 0 else {
            throw SubprocessError.spawnFailed("/dev/ptmx", errno)
        }
        let slavePath = String(cString: name)
        var size = winsize(ws_row: 24, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)

        var env = Subprocess.baseEnvironment()
        env["TERM"] = "xterm"
        env.merge(environment) { _, new in new }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid the child has no terminal; opening the slave makes it the controlling one.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_addclose(&actions, master)
        _ = LibC.posix_spawn_file_actions_addchdir_np(&actions, Paths.fixtures.path)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session, no blocked signals, default actions: the test runner's settings must not leak in.
        posix_spawnattr_setflags(&attributes, 0x80 /* POSIX_SPAWN_SETSID */ | Int16(POSIX_SPAWN_SETSIGMASK) | Int16(POSIX_SPAWN_SETSIGDEF))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGQUIT, SIGTSTP, SIGPIPE, SIGTERM] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        pid = try Subprocess.spawn(executable, argv: [argv0] + arguments, env: env, actions: &actions, attributes: &attributes)
        mark = output.startIndex
    }

    deinit {
        kill(pid, SIGKILL)
        _ = Subprocess.waitStatus(pid)
        close(master)
    }

    /// The process state from /proc (R, S, T…) and where it sleeps, for failure messages.
    var processState: String {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "gone"
        let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
        return "stat: \(stat.prefix(80)) wchan: \(wchan)"
    }

    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(master, &bytes, bytes.count)
    }

    /// Waits until `text` appears after the previous match; returns false on timeout.
    @discardableResult
    func expect(_ text: String, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let range = output.range(of: text, range: mark..<output.endIndex) {
                mark = range.upperBound
                return true
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 || !readSome(timeout: remaining) { return false }
        }
    }

    /// Ctrl-D at the prompt until the process ends; its exit status, or nil. It waits for the prompt
    /// first: a Ctrl-D typed while the terminal is still in cooked mode becomes a NUL character in the
    /// line editor's buffer once it switches to raw mode, and Ctrl-D on a non-empty line is not EOF —
    /// so each retry also clears the line (Ctrl-U) first.
    func endWithCtrlD(attempts: Int = 10) -> Int32? {
        expect("> ", timeout: 10)
        Thread.sleep(forTimeInterval: 0.2)
        for _ in 0..<attempts {
            send("\u{04}")
            if let status = waitForExit(timeout: 3) { return status }
            send("\u{15}")
        }
        return nil
    }

    /// Waits for the process to end; its exit status, or nil on timeout. Reads output meanwhile.
    func waitForExit(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                while readSome(timeout: 0.1) {}
                return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            _ = readSome(timeout: 0.2)
        }
        return nil
    }

    /// Reads what is available within `timeout`; false when nothing more can come.
    private func readSome(timeout: Double) -> Bool {
        var fd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let ready = poll(&fd, 1, Int32(max(0, min(timeout, 1)) * 1000))
        if ready < 0 { return errno == EINTR }
        if ready == 0 { return true }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = read(master, &chunk, chunk.count)
        if n <= 0 { return false }
        let startOffset = output.distance(from: output.startIndex, to: mark)
        output += String(decoding: chunk[0..<n], as: UTF8.self)
        mark = output.index(output.startIndex, offsetBy: startOffset)
        return true
    }
}
