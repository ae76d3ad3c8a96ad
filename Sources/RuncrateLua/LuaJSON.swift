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
            let text = try encodedJSON(at: 1, in: L, indent: indent)
            L.push(true)
            L.push(text)
        } catch {
            L.push(false)
            pushErrorInfo(ErrorInfo(code: "json_error", message: error.message), L)
        }
        return 2
    }

    /// The value at `index` as JSON text, compact or indented. Stack: unchanged.
    func encodedJSON(at index: Int32, in L: LuaState, indent: String? = nil) throws(JSONEncodeFailure) -> String {
        var seen: Set<UnsafeRawPointer> = []
        let value = try jsonValue(at: index, L, seen: &seen, depth: 0)
        return indent.map { value.serialized(indent: $0) } ?? value.serialized
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
            // One pass: each value is read where lua_next stands (keys are only ever copied, never
            // converted in place); the shape is decided once every key is known.
            var integers: [(key: Int64, value: JSONValue)] = []
            var names: [(key: String, value: JSONValue)] = []
            var badKey: String?
            var failure: JSONEncodeFailure?
            L.forEachRaw(i) {
                guard badKey == nil else { return }
                let keyType = L.type(at: -2)
                guard keyType == .number || keyType == .string else { badKey = L.typename(at: -2); return }
                guard failure == nil else { return }  // a bad key anywhere is still the error reported
                let value: JSONValue
                do throws(JSONEncodeFailure) { value = try jsonValue(at: -1, L, seen: &seen, depth: depth + 1) } catch {
                    failure = error
                    return
                }
                if keyType == .string { names.append((L.tostring(-2) ?? "", value)) }
                else if L.isinteger(-2), let k = L.tointeger(-2) { integers.append((k, value)) }
                else { names.append((L.numberText(-2), value)) }
            }
            if let badKey { throw JSONEncodeFailure(message: "json.encode: cannot encode a \(badKey) key") }
            if let failure { throw failure }
            if names.isEmpty, integers.allSatisfy({ $0.key >= 1 && $0.key <= Int64(integers.count) }) {
                if integers.isEmpty { return L.hasMetatable(i, ref: refs.arrayMetatable) ? .array([]) : .object([:]) }
                return .array(integers.sorted { $0.key < $1.key }.map(\.value))
            }
            var members: [String: JSONValue] = [:]
            for (k, v) in integers { members[String(k)] = v }
            for (k, v) in names { members[k] = v }
            return .object(members)
        default:
            throw JSONEncodeFailure(message: "json.encode: cannot encode a \(L.typename(at: i))")
        }
    }
}
