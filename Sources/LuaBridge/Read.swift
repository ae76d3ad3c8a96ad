import CLua
import CLuaShim

// MARK: - Reading values. Reads never convert in place and never raise; they return nil on a type mismatch.

extension LuaState {
    public func toboolean(_ index: Int32) -> Bool { lua_toboolean(self, index) != 0 }

    /// The integer at `index` when it is an integer, or a float with an exact integer value.
    public func tointeger(_ index: Int32) -> Int64? {
        guard type(at: index) == .number else { return nil }
        var isnum: Int32 = 0
        let v = lua_tointegerx(self, index, &isnum)
        return isnum != 0 ? Int64(v) : nil
    }

    public func tonumber(_ index: Int32) -> Double? {
        guard type(at: index) == .number else { return nil }
        return lua_tonumberx(self, index, nil)
    }

    /// The bytes of the string at `index`; nil unless it is a string (numbers are not converted).
    public func tobytes(_ index: Int32) -> [UInt8]? {
        guard type(at: index) == .string else { return nil }
        var len = 0
        guard let p = lua_tolstring(self, index, &len) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    /// The string at `index`; nil unless it is a string. Invalid UTF-8 is repaired.
    public func tostring(_ index: Int32) -> String? {
        guard type(at: index) == .string else { return nil }
        var len = 0
        guard let p = lua_tolstring(self, index, &len) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    public func touserdata(_ index: Int32) -> UnsafeMutableRawPointer? { lua_touserdata(self, index) }

    /// A short description of the value at `index` for error messages: `string '8'`, `number 2.5`, `table`.
    public func describe(_ index: Int32) -> String {
        switch type(at: index) {
        case .string:
            let s = tostring(index) ?? ""
            let shown = s.count > 40 ? String(s.prefix(40)) + "…" : s
            return "string '\(shown)'"
        case .number:
            if let i = tointeger(index), isinteger(index) { return "integer \(i)" }
            return "number \(LuaValue.format(number: tonumber(index) ?? .nan))"
        case .boolean: return "boolean \(toboolean(index))"
        case let t: return t.description
        }
    }
}
