import CLua
import CLuaShim

// MARK: - Pushing values. Each pushes exactly one value.

extension LuaState {
    public func pushnil() { lua_pushnil(self) }
    public func push(_ value: Bool) { lua_pushboolean(self, value ? 1 : 0) }
    public func push(_ value: Int) { lua_pushinteger(self, lua_Integer(value)) }
    public func push(_ value: Int64) { lua_pushinteger(self, lua_Integer(value)) }
    public func push(_ value: Int32) { lua_pushinteger(self, lua_Integer(value)) }
    public func push(_ value: Double) { lua_pushnumber(self, value) }

    /// Pushes a string (byte-exact, embedded zeros kept).
    public func push(_ value: String) {
        var value = value
        value.withUTF8 { buf in
            _ = buf.withMemoryRebound(to: CChar.self) { lua_pushlstring(self, $0.baseAddress, $0.count) }
        }
    }

    public func push(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(self, $0.baseAddress, $0.count) }
        }
    }

    public func pushlightuserdata(_ p: UnsafeMutableRawPointer?) { lua_pushlightuserdata(self, p) }

    public func push(_ value: String?) {
        if let value { push(value) } else { pushnil() }
    }

    /// Pushes an array of strings as a sequence.
    public func push(_ values: [String]) {
        newtable(narr: Int32(clamping: values.count))
        for (i, v) in values.enumerated() {
            push(v)
            rawseti(-2, lua_Integer(i + 1))
        }
    }
}
