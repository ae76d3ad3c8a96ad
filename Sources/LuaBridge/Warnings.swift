@preconcurrency import CLua
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

extension LuaState {
    /// Installs lauxlib's warning system, which `luaL_newstate` sets up and a state made with a
    /// custom allocator lacks: off at first, `@on`/`@off` switch it, messages go to stderr as
    /// `Lua warning: ...`.
    public func installStandardWarnings() {
        lua_setwarnf(self, warningsOff, UnsafeMutableRawPointer(self))
    }
}

/// Handles `@on`/`@off`; true when `message` was one of those control messages.
private func isControl(_ ud: UnsafeMutableRawPointer?, _ message: UnsafePointer<CChar>?, _ tocont: Int32) -> Bool {
    guard tocont == 0, let message, message.pointee == CChar(UInt8(ascii: "@")) else { return false }
    let L = ud?.assumingMemoryBound(to: lua_State.self)
    switch String(cString: message + 1) {
    case "off": lua_setwarnf(L, warningsOff, ud)
    case "on": lua_setwarnf(L, warningsOn, ud)
    default: break
    }
    return true
}

private func warningsOff(_ ud: UnsafeMutableRawPointer?, _ message: UnsafePointer<CChar>?, _ tocont: Int32) {
    _ = isControl(ud, message, tocont)
}

private func warningsOn(_ ud: UnsafeMutableRawPointer?, _ message: UnsafePointer<CChar>?, _ tocont: Int32) {
    if isControl(ud, message, tocont) { return }
    fputs("Lua warning: ", stderr)
    warningContinued(ud, message, tocont)
}

private func warningContinued(_ ud: UnsafeMutableRawPointer?, _ message: UnsafePointer<CChar>?, _ tocont: Int32) {
    if let message { fputs(message, stderr) }
    if tocont != 0 {
        lua_setwarnf(ud?.assumingMemoryBound(to: lua_State.self), warningContinued, ud)
    } else {
        fputs("\n", stderr)
        fflush(stderr)
        lua_setwarnf(ud?.assumingMemoryBound(to: lua_State.self), warningsOn, ud)
    }
}
