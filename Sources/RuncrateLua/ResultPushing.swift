import CLua
import LuaBridge
import RuncrateAPI

/// Results and errors as the prelude receives them: server values as plain tables, secrets as
/// secret objects, and the errinfo table the prelude turns into an error object.
extension RuncrateModule {
    /// Pushes a server value as plain Lua tables: every field, nulls left out, arrays marked so they
    /// encode as arrays, strings equal to a secret wrapped as secrets, and nulls in arrays as false.
    /// `asDecoded` (for `json.decode`): strings as they are, and nulls in arrays left as holes.
    func pushJSON(_ value: JSONValue, _ L: LuaState, asDecoded: Bool = false) {
        L.checkstack(8)
        switch value {
        case .null: L.pushnil()
        case .bool(let b): L.push(b)
        case .int(let i): L.push(i)
        case .double(let d): L.push(d)
        case .string(let s):
            if !asDecoded, secrets.contains(s) { pushSecret(s, L) } else { L.push(s) }
        case .array(let items):
            L.newtable(narr: Int32(clamping: items.count))
            for (i, item) in items.enumerated() {
                if asDecoded, item == .null { continue }
                pushJSON(item, L, asDecoded: asDecoded)
                if L.type(at: -1) == .nil { L.pop(); L.push(false) }
                L.rawseti(-2, lua_Integer(i + 1))
            }
            if refs.arrayMetatable != 0 {
                L.pushref(refs.arrayMetatable)
                L.setmetatable(-2)
            }
        case .object(let fields):
            L.newtable(narr: 0, nrec: Int32(clamping: fields.count))
            for (k, v) in fields where v != .null {
                pushJSON(v, L, asDecoded: asDecoded)
                L.rawset(-2, field: k)
            }
        }
    }

    private func pushSecret(_ s: String, _ L: LuaState) {
        L.newtable()
        L.pushref(refs.secretMetatable)
        L.setmetatable(-2)
        L.pushref(refs.secretValues)
        L.pushvalue(-2)
        L.push(s)
        L.rawset(-3)
        L.pop()
    }

    func pushErrorInfo(_ info: ErrorInfo, _ L: LuaState) {
        L.newtable()
        L.push(info.code)
        L.rawset(-2, field: "code")
        L.push(secrets.redact(info.message))
        L.rawset(-2, field: "message")
        if let status = info.status {
            L.push(status)
            L.rawset(-2, field: "status")
        }
        L.push(info.retryable)
        L.rawset(-2, field: "retryable")
        L.newtable(narr: Int32(clamping: info.errors.count))
        for (i, e) in info.errors.enumerated() {
            L.newtable()
            L.push(e.field)
            L.rawset(-2, field: "field")
            L.push(secrets.redact(e.message))
            L.rawset(-2, field: "message")
            L.rawseti(-2, lua_Integer(i + 1))
        }
        L.rawset(-2, field: "errors")
        if let id = info.requestID {
            L.push(id)
            L.rawset(-2, field: "request_id")
        }
        if let sc = info.serverCode {
            L.push(sc)
            L.rawset(-2, field: "server_code")
        }
        if let ra = info.retryAfter {
            L.push(ra)
            L.rawset(-2, field: "retry_after")
        }
    }
}
