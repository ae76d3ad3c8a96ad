import CLua
import CLuaShim

/// A Lua value copied into Swift. Functions, userdata and threads cannot be copied and are kept as markers.
public enum LuaValue: Hashable, Sendable, CustomStringConvertible {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case table(LuaTable)
    /// A function, userdata or thread: its type only.
    case opaque(LuaType)

    public var type: LuaType {
        switch self {
        case .nil: .nil
        case .boolean: .boolean
        case .integer, .number: .number
        case .string: .string
        case .table: .table
        case .opaque(let t): t
        }
    }

    public var description: String {
        switch self {
        case .nil: "nil"
        case .boolean(let b): String(b)
        case .integer(let i): String(i)
        case .number(let d): LuaValue.format(number: d)
        case .string(let s): s
        case .table(let t): "table(\(t.count) entries)"
        case .opaque(let t): t.description
        }
    }

    /// Formats a float as Lua's `%.14g` does.
    public static func format(number d: Double) -> String {
        if d.isNaN { return d.sign == .minus ? "-nan" : "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        var s = String(format14g: d)
        if d == d.rounded(), !s.contains("e"), !s.contains("."), !s.contains("n"), !s.contains("i") { s += ".0" }
        return s
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var tableValue: LuaTable? { if case .table(let t) = self { t } else { nil } }
    public var integerValue: Int64? {
        switch self {
        case .integer(let i): i
        case .number(let d) where d == d.rounded() && abs(d) < 9.2e18: Int64(d)
        default: nil
        }
    }
}

/// A Lua table copied into Swift.
public struct LuaTable: Hashable, Sendable {
    public var entries: [LuaValue: LuaValue]

    public init(_ entries: [LuaValue: LuaValue] = [:]) { self.entries = entries }

    public init(sequence: [LuaValue]) {
        entries = [:]
        for (i, v) in sequence.enumerated() { entries[.integer(Int64(i + 1))] = v }
    }

    public init(fields: [String: LuaValue]) {
        entries = [:]
        for (k, v) in fields { entries[.string(k)] = v }
    }

    public var count: Int { entries.count }

    public subscript(key: String) -> LuaValue {
        get { entries[.string(key)] ?? .nil }
        set { entries[.string(key)] = newValue == .nil ? nil : newValue }
    }

    public subscript(index: Int) -> LuaValue {
        get { entries[.integer(Int64(index))] ?? .nil }
        set { entries[.integer(Int64(index))] = newValue == .nil ? nil : newValue }
    }

    /// The border of `1...n` when the table is a proper sequence, else nil.
    public var sequence: [LuaValue]? {
        var out: [LuaValue] = []
        out.reserveCapacity(entries.count)
        for i in 1...max(entries.count, 1) {
            guard let v = entries[.integer(Int64(i))] else { break }
            out.append(v)
        }
        return out.count == entries.count ? out : nil
    }
}

extension String {
    init(format14g d: Double) {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([d]) { vsnprintf(&buf, 64, "%.14g", $0) }
        self = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Errors of the bridge itself (not raised by Lua code).
public struct LuaBridgeError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Tables ⇄ Swift values

extension LuaState {
    /// Pushes a Swift value; tables become new Lua tables.
    public func push(_ value: LuaValue) {
        checkstack(4)
        switch value {
        case .nil, .opaque: pushnil()
        case .boolean(let b): push(b)
        case .integer(let i): push(i)
        case .number(let d): push(d)
        case .string(let s): push(s)
        case .table(let t):
            newtable(narr: 0, nrec: Int32(clamping: t.count))
            for (k, v) in t.entries where k != .nil {
                if case .number(let d) = k, d.isNaN { continue }
                push(k)
                push(v)
                rawset(-3)
            }
        }
    }

    /// Copies the value at `index` into Swift. Throws on a table that contains itself
    /// (naming the path) or nests deeper than `maxDepth`. Metatables are ignored.
    public func value(at index: Int32, maxDepth: Int = 100) throws(LuaBridgeError) -> LuaValue {
        var path: [String] = []
        var open: Set<UnsafeRawPointer> = []
        return try copy(absindex(index), path: &path, open: &open, maxDepth: maxDepth)
    }

    private func copy(_ index: Int32, path: inout [String], open: inout Set<UnsafeRawPointer>, maxDepth: Int) throws(LuaBridgeError) -> LuaValue {
        switch type(at: index) {
        case .none, .nil: return .nil
        case .boolean: return .boolean(toboolean(index))
        case .number:
            if isinteger(index), let i = tointeger(index) { return .integer(i) }
            return .number(tonumber(index) ?? .nan)
        case .string: return .string(tostring(index) ?? "")
        case .table:
            guard let p = lua_topointer(self, index) else { return .nil }
            let where_ = path.isEmpty ? "value" : path.joined(separator: ".")
            if open.contains(p) { throw LuaBridgeError("\(where_): table contains itself (cycle)") }
            if path.count >= maxDepth { throw LuaBridgeError("\(where_): tables nested deeper than \(maxDepth) levels") }
            guard checkstack(4) else { throw LuaBridgeError("\(where_): Lua stack overflow") }
            open.insert(p)
            defer { open.remove(p) }
            var table = LuaTable()
            let top = gettop()
            defer { settop(top) }
            pushnil()
            while lua_next(self, index) != 0 {
                let key = try copy(gettop() - 1, path: &path, open: &open, maxDepth: maxDepth)
                path.append(key.description)
                let v = try copy(gettop(), path: &path, open: &open, maxDepth: maxDepth)
                path.removeLast()
                table.entries[key] = v
                pop()
            }
            return .table(table)
        case let t: return .opaque(t)
        }
    }
}
