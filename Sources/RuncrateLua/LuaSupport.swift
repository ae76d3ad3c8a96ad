import CLua
import CLuaShim
import LuaBridge

/// The few raw Lua C API calls this target needs beyond LuaBridge. None of them can raise.
extension LuaState {
    func rawequal(_ a: Int32, _ b: Int32) -> Bool { lua_rawequal(self, a, b) != 0 }

    /// A number formatted exactly as Lua's `tostring` does (`0.0001`, `3`, `1e+20`).
    func numberText(_ index: Int32) -> String {
        pushvalue(index)
        defer { pop() }
        var len = 0
        guard let p = lua_tolstring(self, -1, &len) else { return "?" }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// How a value is named in error messages: `string '8'`, `number 2.5`, `boolean true`, `table`.
    func shown(_ index: Int32) -> String {
        switch type(at: index) {
        case .number:
            if isinteger(index) { return "integer \(numberText(index))" }
            if let d = tonumber(index), d.isNaN { return "number nan" }
            return "number \(numberText(index))"
        case .string:
            let s = tostring(index) ?? ""
            let cut = s.count > 40 ? String(s.prefix(40)) + "…" : s
            return "string '\(cut)'"
        case .boolean: return "boolean \(toboolean(index))"
        case .nil, .none: return "nil"
        case let t: return t.description
        }
    }

    /// Stores the value at `index` in the registry without popping anything.
    func refValue(_ index: Int32) -> Int32 {
        pushvalue(index)
        return ref()
    }

    /// True when `index` holds a table whose metatable is the registry value `metatableRef`.
    func hasMetatable(_ index: Int32, ref metatableRef: Int32) -> Bool {
        guard type(at: index) == .table || type(at: index) == .userdata else { return false }
        let i = absindex(index)
        guard getmetatable(i) else { return false }
        pushref(metatableRef)
        defer { pop(2) }
        return rawequal(-1, -2)
    }

    func hasMetatable(_ index: Int32) -> Bool {
        guard getmetatable(index) else { return false }
        pop()
        return true
    }

    /// Interrupt and deadline bookkeeping shared with the host's hooks.
    var limits: UnsafeMutablePointer<rcshim_limits> { rcshim_limits_of(self)! }

    /// Whether native work should stop now (a pending Ctrl-C, or the time limit passed; never inside
    /// a cleanup window). When the time limit passed, the hook raises it at the next instruction.
    func stopRequested() -> Bool { rcshim_stop_requested(self) != 0 }

    /// A Ctrl-C to answer now as an `interrupted` error (none is pending inside a cleanup window).
    var interruptPending: Bool { rcshim_interrupt_pending(limits) != 0 }

    /// Clears a pending Ctrl-C that Swift code answered itself, keeping any time limit in place.
    func consumeInterrupt() { rcshim_consume_interrupt(self) }
}

extension RuncrateModule {
    /// A probe for `BlockingClientTransport(isCancelled:)`: true once Ctrl-C (or `Lua.interrupt()`)
    /// asked the state to stop or its time limit (`--timeout`) has passed, so an HTTP call in flight,
    /// or a wait before retrying one, is cancelled instead of waited out — but not inside a cleanup
    /// window (a `<close>` termination) unless that has run out of time. After such a call returns,
    /// the dispatcher makes the hook raise the timeout.
    public static func interruptProbe(for L: LuaState) -> @Sendable () -> Bool {
        let address = UInt(bitPattern: rcshim_limits_of(L))
        return {
            guard let limits = UnsafeMutablePointer<rcshim_limits>(bitPattern: address) else { return false }
            return rcshim_cancel_requested(limits) != 0 || (limits.pointee.cleanup_depth == 0 && limits.timeLimitJustPassed)
        }
    }
}

extension UnsafeMutablePointer<rcshim_limits> {
    /// The state's time limit has passed and the hook has not stopped the script for it yet. Once it
    /// has, calls made while unwinding (a `__close` terminating an instance) are not cut short.
    var timeLimitJustPassed: Bool {
        let deadline = pointee.deadline
        return deadline > 0 && pointee.timed_out == 0 && rcshim_monotonic() >= deadline
    }
}
