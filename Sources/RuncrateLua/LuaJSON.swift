import CLua
import LuaBridge
import RuncrateAPI

/// `runcrate.json` in Swift: Lua values to `JSONValue` and back, so scripts, `--json` and plans share
/// one encoder. Keys sorted, integers kept, secrets as `"***"`, `json.null`, `json.array`; cycles,
/// NaN and functions refused.
extension RuncrateModule {
    /// Why a Lua value cannot be JSON; the message is the whole sentence.
    struct JSONEncodeFailure: Error { let message: String }

    /// `native.json_encode(value, indent)` -> `true, text` | `false, errinfo`.
    func nativeJSONEncode(_ L: LuaState) -> Int32 {
        let indent = L.type(at: 2) == .string ? L.tostring(2) : nil
        do throws(JSONEncodeFailure) {
            var seen: Set<UnsafeRawPointer> = []
            let value = try jsonValue(at: 1, L, seen: &seen, depth: 0)
            L.push(true)
            L.push(indent.map { value.serialized(indent: $0) } ?? value.serialized)
        } catch {
            L.push(false)
            pushErrorInfo(ErrorInfo(code: "json_error", message: error.message), L)
        }
        return 2
    }

    /// `native.json_decode(text)` -> `true, value` | `false, errinfo`: `null` becomes nil, arrays are
    /// marked as arrays, integers stay integers.
    func nativeJSONDecode(_ L: LuaState) -> Int32 {
        let bytes = L.tobytes(1) ?? []
        do throws(JSONSyntaxError) {
            let value = try JSONValue.parse(bytes: bytes)
            L.push(true)
            pushJSON(value, L, asDecoded: true)
        } catch {
            L.push(false)
            pushErrorInfo(ErrorInfo(code: "json_error", message: error.description), L)
        }
        return 2
    }

    /// The Lua value at `index` as JSON. Tables whose keys are exactly 1…n are arrays (an empty one
    /// only with the `json.array` metatable); other tables are objects keyed by strings and numbers.
    func jsonValue(at index: Int32, _ L: LuaState, seen: inout Set<UnsafeRawPointer>, depth: Int)
        throws(JSONEncodeFailure) -> JSONValue
    {
        let i = L.absindex(index)
        switch L.type(at: i) {
        case .nil, .none: return .null
        case .boolean: return .bool(L.toboolean(i))
        case .number:
            if L.isinteger(i), let n = L.tointeger(i) { return .int(Int(n)) }
            let d = L.tonumber(i) ?? .nan
            guard d.isFinite else { throw JSONEncodeFailure(message: "json.encode: cannot encode \(L.numberText(i))") }
            return .double(d)
        case .string: return .string(L.tostring(i) ?? "")
        case .table:
            var r = reader(L)
            if r.isSecret(i) { return .string("***") }
            if r.isNull(i) { return .null }
            guard depth < JSONValue.maxDepth, L.checkstack(4) else {
                throw JSONEncodeFailure(message: "json.encode: nesting too deep")
            }
            guard let pointer = lua_topointer(L, i) else { return .null }
            guard seen.insert(pointer).inserted else { throw JSONEncodeFailure(message: "json.encode: cycle in table") }
            defer { seen.remove(pointer) }
            // Keys first (lua_next must see the keys untouched), values read by key afterwards.
            var integers: [Int64] = []
            var names: [String] = []
            var badKey: String?
            L.forEachRaw(i) {
                switch L.type(at: -2) {
                case .number:
                    if L.isinteger(-2), let k = L.tointeger(-2) { integers.append(k) } else { names.append(L.numberText(-2)) }
                case .string: names.append(L.tostring(-2) ?? "")
                default: if badKey == nil { badKey = L.typename(at: -2) }
                }
            }
            if let badKey { throw JSONEncodeFailure(message: "json.encode: cannot encode a \(badKey) key") }
            let isArray = names.isEmpty && integers.allSatisfy { $0 >= 1 && $0 <= Int64(integers.count) }
            if isArray {
                if integers.isEmpty {
                    return L.hasMetatable(i, ref: refs.arrayMetatable) ? .array([]) : .object([:])
                }
                var items: [JSONValue] = []
                for k in 1...integers.count {
                    L.rawgeti(i, lua_Integer(k))
                    defer { L.pop() }
                    items.append(try jsonValue(at: -1, L, seen: &seen, depth: depth + 1))
                }
                return .array(items)
            }
            var members: [String: JSONValue] = [:]
            for k in integers {
                L.rawgeti(i, lua_Integer(k))
                defer { L.pop() }
                members[String(k)] = try jsonValue(at: -1, L, seen: &seen, depth: depth + 1)
            }
            for name in names {
                if let value = try rawMember(i, name, L, seen: &seen, depth: depth) { members[name] = value }
            }
            return .object(members)
        default:
            throw JSONEncodeFailure(message: "json.encode: cannot encode a \(L.typename(at: i))")
        }
    }

    /// The value stored under the string (or non-integer number) key whose text is `name`.
    private func rawMember(_ t: Int32, _ name: String, _ L: LuaState, seen: inout Set<UnsafeRawPointer>, depth: Int)
        throws(JSONEncodeFailure) -> JSONValue?
    {
        L.push(name)
        if L.rawget(t) == .nil {
            // A float key: find it by its text.
            L.pop()
            var found: JSONValue?
            var failure: JSONEncodeFailure?
            L.forEachRaw(t) {
                guard found == nil, failure == nil, L.type(at: -2) == .number, !L.isinteger(-2),
                      L.numberText(-2) == name else { return }
                do throws(JSONEncodeFailure) { found = try jsonValue(at: -1, L, seen: &seen, depth: depth + 1) } catch { failure = error }
            }
            if let failure { throw failure }
            return found
        }
        defer { L.pop() }
        return try jsonValue(at: -1, L, seen: &seen, depth: depth + 1)
    }
}
