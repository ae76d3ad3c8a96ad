import CLua
import CLuaShim

/// An owned Lua state with its limits. The state is closed when this object goes away.
public final class Lua {
    public let L: LuaState

    /// A new state. `memoryLimit` (bytes) applies once the standard libraries are open.
    public init(memoryLimit: Int? = nil, openLibraries: Bool = true) throws(LuaBridgeError) {
        guard let state = rcshim_newstate(0) else { throw LuaBridgeError("cannot create Lua state: not enough memory") }
        L = state
        L.installStandardWarnings()
        if openLibraries { luaL_openlibs(L) }
        if let memoryLimit { setMemoryLimit(memoryLimit) }
    }

    deinit { rcshim_close(L) }

    /// Bytes Lua has allocated now.
    public var memoryUsed: Int { Int(rcshim_limits_of(L).pointee.used) }

    /// Limit in bytes; nil = unlimited. Raising it over what is already used is not checked.
    public func setMemoryLimit(_ bytes: Int?) {
        rcshim_set_memory_limit(L, bytes.map { max(1, $0) } ?? 0)
    }

    /// Time limit from now, checked every 10,000 VM instructions; nil clears it. A script over the
    /// limit is stopped with a `.timeout` error, and stopped again if it catches that error.
    public func setTimeout(_ seconds: Double?) {
        rcshim_set_timeout(L, seconds ?? 0)
    }

    /// Whether the time limit has stopped the script.
    public var timedOut: Bool { rcshim_limits_of(L).pointee.timed_out != 0 }

    /// Whether a cleanup window is open (see `LuaState.pushCleanupFunction`).
    public var inCleanup: Bool { rcshim_in_cleanup(L) != 0 }

    /// Asks running Lua code to stop with "interrupted!" at the next instruction. Async-signal-safe.
    public func interrupt() { rcshim_interrupt(L) }

    /// While `body` runs, Ctrl-C interrupts the Lua code instead of killing the process (as lua.c).
    public func withInterruptibleSIGINT<T>(_ body: () throws -> T) rethrows -> T {
        rcshim_sigint_arm(L)
        defer { rcshim_sigint_disarm() }
        return try body()
    }
}

extension LuaState {
    /// Pushes `cleanup(fn) -> guarded`: `guarded(...)` calls `fn(...)` as a cleanup, which a passed
    /// time limit, Ctrl-C and the memory limit do not stop (the limit has a grace), within a bounded
    /// time — for `__close` handlers that must finish what they do while a stop unwinds the script.
    /// Stack: +1.
    public func pushCleanupFunction() {
        lua_pushcclosure(self, rcshim_cleanup_function, 0)
    }
}
