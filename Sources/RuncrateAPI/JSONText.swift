/// JSON text with positions: a parser whose errors name the line and byte (for scripts'
/// `json.decode`), and a pretty printer beside the compact `serialized`.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    /// What was wrong, e.g. `expected ',' or '}'`.
    public var problem: String
    /// 1-based line and byte of the offending character.
    public var line: Int
    public var byte: Int
    /// True for text after a complete value (the message names the byte only).
    public var trailing = false

    public var description: String {
        trailing ? "\(problem) at byte \(byte)" : "\(problem) at line \(line) (byte \(byte))"
    }
}

extension JSONValue {
    /// Nesting deeper than this is refused rather than recursed into.
    public static let maxDepth = 200

    /// Parses JSON text (bytes, so a byte position can be named). Integers that fit 64 bits stay
    /// integers; other numbers are doubles.
    public static func parse(bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONTextParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        if parser.i < bytes.count { throw parser.error("trailing characters", trailing: true) }
        return value
    }

    /// Indented JSON (`indent` per level, `": "` after keys, keys sorted); `[]`/`{}` when empty.
    public func serialized(indent: String) -> String {
        var out = ""
        writePretty(into: &out, indent: indent, depth: 0)
        return out
    }

    private func writePretty(into out: inout String, indent: String, depth: Int) {
        let pad = String(repeating: indent, count: depth), inner = pad + indent
        switch self {
        case .array(let values) where !values.isEmpty:
            out += "[\n"
            for (index, value) in values.enumerated() {
                out += inner
                value.writePretty(into: &out, indent: indent, depth: depth + 1)
                out += index < values.count - 1 ? ",\n" : "\n"
            }
            out += pad + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                out += inner + JSONValue.string(key).serialized + ": "
                members[key]!.writePretty(into: &out, indent: indent, depth: depth + 1)
                out += index < keys.count - 1 ? ",\n" : "\n"
            }
            out += pad + "}"
        default:
            out += serialized
        }
    }
}

/// A recursive-descent reader over UTF-8 bytes.
private struct JSONTextParser {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ problem: String, at position: Int? = nil, trailing: Bool = false) -> JSONSyntaxError {
        let at = position ?? i
        let line = 1 + bytes[..<min(at, bytes.count)].lazy.filter { $0 == UInt8(ascii: "\n") }.count
        return JSONSyntaxError(problem: problem, line: line, byte: at + 1, trailing: trailing)
    }

    mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[i]) { i += 1 }
    }

    func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func literal(_ word: String, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw error("unexpected character") }
        i += w.count
        return value
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        skipSpace()
        if depth > JSONValue.maxDepth { throw error("nesting too deep") }
        guard let c = peek() else { throw error("unexpected end of text") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return try number()
        }
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        i += 1
        var members: [String: JSONValue] = [:]
        skipSpace()
        if peek() == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipSpace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':'") }
            i += 1
            members[key] = try value(depth: depth + 1)
            skipSpace()
            switch peek() {
            case UInt8(ascii: "}"): i += 1; return .object(members)
            case UInt8(ascii: ","): i += 1
            default: throw error("expected ',' or '}'")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            items.append(try value(depth: depth + 1))
            skipSpace()
            switch peek() {
            case UInt8(ascii: "]"): i += 1; return .array(items)
            case UInt8(ascii: ","): i += 1
            default: throw error("expected ',' or ']'")
            }
        }
    }

    mutating func hex4(at position: Int) -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for b in bytes[position..<position + 4] {
            guard let d = hexDigit(b) else { return nil }
            v = v << 4 | d
        }
        return v
    }

    func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated string") }
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else { throw error("unterminated string") }
                let e = bytes[i + 1]
                let simple: [UInt8: UInt8] = [UInt8(ascii: "b"): 8, UInt8(ascii: "f"): 12, UInt8(ascii: "n"): 10,
                                              UInt8(ascii: "r"): 13, UInt8(ascii: "t"): 9, UInt8(ascii: "\""): 34,
                                              UInt8(ascii: "\\"): 92, UInt8(ascii: "/"): 47]
                if let byte = simple[e] {
                    out.append(byte)
                    i += 2
                } else if e == UInt8(ascii: "u") {
                    guard var code = hex4(at: i + 2) else { throw error("bad \\u escape") }
                    i += 6
                    if (0xD800...0xDBFF).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                       bytes[i + 1] == UInt8(ascii: "u"), let low = hex4(at: i + 2), (0xDC00...0xDFFF).contains(low) {
                        code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
                        i += 6
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
                } else {
                    throw error("bad escape")
                }
            case 0..<0x20:
                throw error("control character in string")
            default:
                out.append(c)
                i += 1
            }
        }
    }

    /// `-?digits[.digits][e[+-]digits]`, read as leniently as Lua's `tonumber` reads it.
    mutating func number() throws(JSONSyntaxError) -> JSONValue {
        let start = i
        func digits(_ p: inout Int) -> Int {
            let s = p
            while p < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[p]) { p += 1 }
            return p - s
        }
        var p = i
        if p < bytes.count, bytes[p] == UInt8(ascii: "-") { p += 1 }
        guard digits(&p) > 0 else { throw error("unexpected character") }
        var isFloat = false
        if p < bytes.count, bytes[p] == UInt8(ascii: ".") { p += 1; isFloat = true; _ = digits(&p) }
        if p < bytes.count, bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E") {
            var q = p + 1
            if q < bytes.count, bytes[q] == UInt8(ascii: "+") || bytes[q] == UInt8(ascii: "-") { q += 1 }
            if digits(&q) > 0 { p = q; isFloat = true }
        }
        let text = String(decoding: bytes[start..<p], as: UTF8.self)
        i = p
        if !isFloat, let int = Int(text) { return .int(int) }
        guard let double = Double(text) else { throw error("bad number", at: start) }
        return .double(double)
    }
}
