import CLua
import CLuaShim

/// A Lua state pointer (`lua_State *`; a distinct pointer type, so the bridge's methods appear on it alone). The same calls work on a state the host owns and on the `L` a callback gets.
public typealias LuaState = UnsafeMutablePointer<lua_State>

/// The basic Lua types, as `lua_type` reports them.
public enum LuaType: Int32, Sendable, CustomStringConvertible {
    case none = -1, `nil` = 0, boolean = 1, lightuserdata = 2, number = 3, string = 4,
         table = 5, function = 6, userdata = 7, thread = 8

    public var description: String {
        switch self {
        case .none: "no value"
        case .nil: "nil"
        case .boolean: "boolean"
        case .lightuserdata, .userdata: "userdata"
        case .number: "number"
        case .string: "string"
        case .table: "table"
        case .function: "function"
        case .thread: "thread"
        }
    }
}

// MARK: - Stack basics (none of these can raise a Lua error)

extension LuaState {
    public var registryIndex: Int32 { CLUA_REGISTRYINDEX }

    public func gettop() -> Int32 { lua_gettop(self) }
    public func settop(_ index: Int32) { lua_settop(self, index) }
    public func pop(_ n: Int32 = 1) { clua_pop(self, n) }
    public func absindex(_ index: Int32) -> Int32 { lua_absindex(self, index) }
    public func pushvalue(_ index: Int32) { lua_pushvalue(self, index) }
    public func insert(_ index: Int32) { clua_insert(self, index) }
    public func remove(_ index: Int32) { clua_remove(self, index) }
    public func replace(_ index: Int32) { clua_replace(self, index) }
    @discardableResult
    public func checkstack(_ extra: Int32) -> Bool { lua_checkstack(self, extra) != 0 }

    public func type(at index: Int32) -> LuaType { LuaType(rawValue: lua_type(self, index)) ?? .none }
    public func typename(at index: Int32) -> String { type(at: index).description }
    public func isnoneornil(_ index: Int32) -> Bool { clua_isnoneornil(self, index) != 0 }
    public func isinteger(_ index: Int32) -> Bool { lua_isinteger(self, index) != 0 }
    public func iscfunction(_ index: Int32) -> Bool { lua_iscfunction(self, index) != 0 }

    /// Runs `body` and checks that the stack is back to the height it had before.
    public func withBalancedStack<T>(_ body: () throws -> T) rethrows -> T {
        let top = gettop()
        defer { settop(top) }
        return try body()
    }

    // MARK: Raw table access (no metamethods)

    public func newtable(narr: Int32 = 0, nrec: Int32 = 0) { lua_createtable(self, narr, nrec) }
    @discardableResult
    public func rawget(_ index: Int32) -> LuaType { LuaType(rawValue: lua_rawget(self, index)) ?? .none }
    @discardableResult
    public func rawgeti(_ index: Int32, _ n: lua_Integer) -> LuaType { LuaType(rawValue: lua_rawgeti(self, index, n)) ?? .none }
    public func rawset(_ index: Int32) { lua_rawset(self, index) }
    public func rawseti(_ index: Int32, _ n: lua_Integer) { lua_rawseti(self, index, n) }
    public func rawlen(_ index: Int32) -> Int { Int(lua_rawlen(self, index)) }

    /// `t[key] = value on top`, raw; pops the value.
    public func rawset(_ index: Int32, field key: String) {
        let t = absindex(index)
        push(key)
        insert(-2)
        lua_rawset(self, t)
    }

    /// Pushes `t[key]`, raw.
    @discardableResult
    public func rawget(_ index: Int32, field key: String) -> LuaType {
        let t = absindex(index)
        push(key)
        return rawget(t)
    }

    /// Raw iteration: `body` sees the key at -2 and the value at -1 and must leave the stack as it found it.
    public func forEachRaw(_ index: Int32, _ body: () throws -> Void) rethrows {
        let t = absindex(index)
        pushnil()
        while lua_next(self, t) != 0 {
            let top = gettop()
            try body()
            precondition(gettop() == top, "forEachRaw body must keep the stack balanced")
            pop()
        }
    }

    @discardableResult
    public func getmetatable(_ index: Int32) -> Bool { lua_getmetatable(self, index) != 0 }
    public func setmetatable(_ index: Int32) { lua_setmetatable(self, index) }

    /// Pushes the global table.
    public func pushglobaltable() { clua_pushglobaltable(self) }

    /// `_G[name] = value on top`, raw; pops the value.
    public func setglobal(raw name: String) {
        pushglobaltable()
        insert(-2)
        rawset(-2, field: name)
        pop()
    }

    /// Pushes `_G[name]`, raw.
    @discardableResult
    public func getglobal(raw name: String) -> LuaType {
        pushglobaltable()
        let t = rawget(-1, field: name)
        remove(-2)
        return t
    }

    /// Stores the value on top in the registry and pops it; returns the reference.
    public func ref() -> Int32 { luaL_ref(self, CLUA_REGISTRYINDEX) }
    public func unref(_ ref: Int32) { luaL_unref(self, CLUA_REGISTRYINDEX, ref) }
    public func pushref(_ ref: Int32) { rawgeti(CLUA_REGISTRYINDEX, lua_Integer(ref)) }
}
