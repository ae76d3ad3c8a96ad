import CLua
import LuaBridge
import RuncrateAPI

/// Registry references to the prelude's marker tables, so Swift can recognise secrets, `json.null`
/// and result arrays without running any Lua code.
struct PreludeRefs {
    var secretMetatable: Int32 = 0
    var secretValues: Int32 = 0
    var jsonNull: Int32 = 0
    var arrayMetatable: Int32 = 0
}

/// Reads a Lua table into request fields strictly, before the client's own validation: unknown
/// keys, wrong types, non-integral or out-of-range numbers, nested tables where strings belong and
/// tables with metatables are all reported, every one, with the field named as the script wrote it.
struct SpecReader {
    let L: LuaState
    let refs: PreludeRefs
    let secrets: SecretStore
    var errors: [LuaFieldError] = []
    /// Fields that already have an error here, so the client's rules do not report them twice.
    var failed: Set<String> = []
    /// Names valid at the top level of this call but read elsewhere (`launch`'s own fields): not
    /// accepted here, but offered as suggestions for a misspelt key.
    var alsoKnown: [String] = []

    init(_ L: LuaState, refs: PreludeRefs, secrets: SecretStore) {
        self.L = L
        self.refs = refs
        self.secrets = secrets
    }

    mutating func fail(_ field: String, _ message: String) {
        errors.append(LuaFieldError(field: field, message: message))
        failed.insert(field.split(separator: ".").first.map(String.init) ?? field)
    }

    // MARK: Tables

    func isSecret(_ index: Int32) -> Bool { L.hasMetatable(index, ref: refs.secretMetatable) }
    func isNull(_ index: Int32) -> Bool {
        guard L.type(at: index) == .table else { return false }
        L.pushref(refs.jsonNull)
        defer { L.pop() }
        return L.rawequal(index < 0 ? index - 1 : index, -1)
    }

    /// A table the script built: no metatable (result arrays are allowed back in).
    mutating func checkPlainTable(_ index: Int32, field: String, what: String) -> Bool {
        guard L.type(at: index) == .table, !isSecret(index) else {
            fail(field, "\(field): \(what) expected, got \(L.shown(index))")
            return false
        }
        if L.hasMetatable(index) && !L.hasMetatable(index, ref: refs.arrayMetatable) {
            fail(field, "\(field): plain table expected, got a table with a metatable")
            return false
        }
        return true
    }

    /// Walks the string keys of the table at `index` (raw), reporting non-string and unknown keys.
    /// `body` sees the value on top of the stack.
    mutating func fields(of index: Int32, prefix: String, known: [String], unknownWhat: String = "field",
                         _ body: (inout SpecReader, String) -> Void) {
        let t = L.absindex(index)
        var keys: [String] = []
        L.forEachRaw(t) {
            if L.type(at: -2) == .string, let key = L.tostring(-2) {
                keys.append(key)
            } else {
                let label = prefix.isEmpty ? L.numberTextOrType(-2) : "\(prefix).\(L.numberTextOrType(-2))"
                fail(label, "\(prefix.isEmpty ? "spec" : prefix): field names must be strings, got \(L.shown(-2))")
            }
        }
        for key in keys.sorted() {
            let label = prefix.isEmpty ? key : "\(prefix).\(key)"
            if !known.contains(key) {
                let names = prefix.isEmpty ? known + alsoKnown : known
                let hint = Suggestion.didYouMean(key, in: names) { prefixed(prefix, $0) }
                fail(label, "unknown \(unknownWhat) '\(label)'\(hint)")
                continue
            }
            L.rawget(t, field: key)
            body(&self, key)
            L.pop()
        }
    }

    private func prefixed(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    // MARK: Scalars (the value is on top of the stack)

    /// A string, or a secret (whose value is returned and remembered for redaction).
    mutating func string(_ field: String, allowEmpty: Bool = true) -> String? {
        if L.type(at: -1) == .string { return text(-1, field) }
        if let s = secretValue(-1, field: field) { return s }
        fail(field, "\(field): string expected, got \(L.shown(-1))")
        return nil
    }

    /// The string at `index` when it is valid UTF-8 (what the API's JSON can carry); otherwise the
    /// error names the field and the first bad byte, never the value (it may be a secret).
    mutating func text(_ index: Int32, _ field: String) -> String? {
        guard let bytes = L.tobytes(index) else { return nil }
        if let offset = Self.invalidUTF8Offset(bytes) {
            fail(field, "\(field): UTF-8 text expected, got a string with an invalid byte at position \(offset + 1)")
            return nil
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The offset of the first byte that is not part of a valid UTF-8 sequence, or nil.
    static func invalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    mutating func secretValue(_ index: Int32, field: String? = nil) -> String? {
        guard isSecret(index) else { return nil }
        let i = L.absindex(index)
        L.pushref(refs.secretValues)
        L.pushvalue(i)
        L.rawget(-2)
        defer { L.pop(2) }
        guard let raw = L.tostring(-1) else { return nil }
        secrets.add(raw)
        if let field { return text(-1, field) }
        return raw
    }

    /// An integer: Lua integers, or floats with an integral value (`2.0`); within 32 bits.
    mutating func integer(_ field: String) -> Int? {
        guard L.type(at: -1) == .number else {
            fail(field, "\(field): integer expected, got \(L.shown(-1))")
            return nil
        }
        if let d = L.tonumber(-1), !L.isinteger(-1) {
            if d.isNaN || d.isInfinite || d != d.rounded(.towardZero) {
                fail(field, "\(field): integer expected, got \(L.shown(-1))")
                return nil
            }
            if abs(d) > Double(Int32.max) {
                fail(field, "\(field): integer out of range (got \(L.numberText(-1)))")
                return nil
            }
            return Int(d)
        }
        guard let i = L.tointeger(-1), i >= Int64(Int32.min), i <= Int64(Int32.max) else {
            fail(field, "\(field): integer out of range (got \(L.numberText(-1)))")
            return nil
        }
        return Int(i)
    }

    /// A number (`max_price`): finite.
    mutating func number(_ field: String) -> Double? {
        guard L.type(at: -1) == .number, let d = L.tonumber(-1), d.isFinite else {
            fail(field, "\(field): finite number expected, got \(L.shown(-1))")
            return nil
        }
        return d
    }

    mutating func boolean(_ field: String) -> Bool? {
        guard L.type(at: -1) == .boolean else {
            fail(field, "\(field): boolean expected, got \(L.shown(-1))")
            return nil
        }
        return L.toboolean(-1)
    }

    /// A value sent as a string: strings, secrets, numbers (converted as `tostring` does).
    mutating func stringish(_ field: String) -> (String, Bool)? {
        switch L.type(at: -1) {
        case .string: return text(-1, field).map { ($0, false) }
        case .number:
            if let d = L.tonumber(-1), !d.isFinite {
                fail(field, "\(field): string or finite number expected, got \(L.shown(-1))")
                return nil
            }
            return (L.numberText(-1), false)
        default:
            if isSecret(-1) { return secretValue(-1, field: field).map { ($0, true) } }
            fail(field, "\(field): string expected, got \(L.shown(-1))")
            return nil
        }
    }

    /// A list of strings (the table on top). Every item is checked even when some are bad or the
    /// table has other keys; a bad item stands in as a valid placeholder (its error recorded), so
    /// the client's rules still check the others at their positions. Nil only when it is not a table.
    mutating func stringList(_ field: String) -> [String]? {
        guard checkPlainTable(-1, field: field, what: "list of strings") else { return nil }
        let t = L.absindex(-1)
        let n = L.rawlen(t)
        var extra: [String] = []
        L.forEachRaw(t) {
            if let i = L.tointeger(-2), L.isinteger(-2), i >= 1, i <= n { return }
            extra.append(L.type(at: -2) == .string ? "'\(L.tostring(-2) ?? "")'" : L.shown(-2))
        }
        if !extra.isEmpty {
            fail(field, "\(field): list expected, found key \(extra.sorted()[0])")
        }
        var out: [String] = []
        for i in 1...max(n, 1) where i <= n {
            L.rawgeti(t, lua_Integer(i))
            out.append(string("\(field).\(i)") ?? "<invalid>")
            L.pop()
        }
        return out
    }
}

extension LuaState {
    /// The key shown in a path: numbers as Lua prints them, other types by name.
    func numberTextOrType(_ index: Int32) -> String {
        switch type(at: index) {
        case .number: return numberText(index)
        case .boolean: return toboolean(index) ? "true" : "false"
        default: return "<\(typename(at: index))>"
        }
    }
}
