import LuaBridge
import RuncrateAPI
import Testing
@testable import RuncrateLua

/// `runcrate.json` (native over `JSONValue`), without a sandbox: the module is installed over a
/// transport that is never made.
@Suite struct JSONCodecTests {
    struct NoTransport: Error {}

    /// A state with the module and no API behind it.
    static func state() throws -> (Lua, RuncrateModule) {
        let lua = try Lua()
        let module = RuncrateModule(configuration: .init(target: .sandbox, writeStderr: { _ in }, writeStdout: { _ in },
                                                         makeTransport: { throw NoTransport() }))
        try module.install(into: lua.L)
        return (lua, module)
    }

    func run(_ code: String) throws -> [LuaValue] {
        let (lua, module) = try Self.state()
        return try withExtendedLifetime(module) { try lua.L.run(code, name: "=test") }
    }

    @Test(arguments: [
        (#"{ b = {1, 2.5, "x"}, a = true }"#, #"{"a":true,"b":[1,2.5,"x"]}"#),
        ("{}", "{}"),
        ("runcrate.json.array()", "[]"),
        ("{ 3.0, -0.5, 1e20, 2^53, 0.41, 1/3 }", "[3.0,-0.5,1e+20,9007199254740992,0.41,0.33333333333333331]"),
        ("{ [1] = 'a', [3] = 'c' }", #"{"1":"a","3":"c"}"#),
        ("{ 'a', x = 1 }", #"{"1":"a","x":1}"#),
        ("{ [2.5] = true }", #"{"2.5":true}"#),
        (#"{ s = "q\"b\\n\n\t\b\f\1é" }"#, #"{"s":"q\"b\\n\n\t\b\f\u0001é"}"#),
        ("{ n = runcrate.json.null, t = runcrate.secret('hunter22') }", #"{"n":null,"t":"***"}"#),
        ("math.mininteger", "-9223372036854775808"),
        ("'plain'", #""plain""#),
    ])
    func encodes(lua: String, json: String) throws {
        #expect(try run("return runcrate.json.encode(\(lua))") == [.string(json)])
    }

    @Test func indents() throws {
        let r = try run(#"return runcrate.json.encode({ b = {1, {}}, a = { x = true } }, { indent = true })"#)
        #expect(r == [.string("{\n  \"a\": {\n    \"x\": true\n  },\n  \"b\": [\n    1,\n    {}\n  ]\n}")])
    }

    @Test(arguments: [
        ("local t = {}; t.t = t; return t", "json.encode: cycle in table"),
        ("return { 0/0 }", "json.encode: cannot encode"),
        ("return { math.huge }", "json.encode: cannot encode inf"),
        ("return { f = print }", "json.encode: cannot encode a function"),
        ("return { [true] = 1 }", "json.encode: cannot encode a boolean key"),
        ("local t = {}; local c = t; for i = 1, 300 do c[1] = {}; c = c[1] end; return t", "json.encode: nesting too deep"),
    ])
    func refusesWhatJSONCannotHold(lua: String, message: String) throws {
        let r = try run("""
            local ok, e = pcall(runcrate.json.encode, (function() \(lua) end)())
            return ok, e.code, e.message
            """)
        #expect(r[0] == .boolean(false))
        #expect(r[1] == .string("json_error"))
        #expect(r[2].stringValue?.hasPrefix(message) == true, "\(r)")
    }

    @Test func sharedButAcyclicTablesEncode() throws {
        #expect(try run("local s = {1}; return runcrate.json.encode({ a = s, b = s })") == [.string(#"{"a":[1],"b":[1]}"#)])
    }

    @Test func decodes() throws {
        let r = try run(#"""
            local d = runcrate.json.decode('{"n": 3, "f": 1.5, "e": 1e2, "l": [], "z": null, "s": "\\u00e9\\ud83d\\ude00\\n", "a": [1, null, 3]}')
            return math.type(d.n), d.f, math.type(d.e), #d.l, getmetatable(d.l) == getmetatable(runcrate.json.array()),
              d.z, d.s, d.a[1], d.a[2], d.a[3], runcrate.json.encode(d.l)
            """#)
        #expect(r == [.string("integer"), .number(1.5), .string("float"), .integer(0), .boolean(true),
                      .nil, .string("é😀\n"), .integer(1), .nil, .integer(3), .string("[]")])
    }

    @Test(arguments: [
        ("{\"a\" 1}", "expected ':' at line 1 (byte 6)"),
        ("[1,\n2,\n}", "unexpected character at line 3 (byte 8)"),
        ("{\"a\": 1,}", "expected a string key at line 1 (byte 9)"),
        ("\"abc", "unterminated string at line 1 (byte 5)"),
        ("\"\\x\"", "bad escape at line 1 (byte 2)"),
        ("\"\\u12\"", "bad \\u escape at line 1 (byte 2)"),
        ("[1] x", "trailing characters at byte 5"),
        ("", "unexpected end of text at line 1 (byte 1)"),
        (String(repeating: "[", count: 300), "nesting too deep at line 1 (byte 202)"),
    ])
    func decodeErrorsNameLineAndByte(text: String, message: String) throws {
        let (lua, module) = try Self.state()
        lua.L.push(text)
        lua.L.setglobal(raw: "TEXT")
        let r = try withExtendedLifetime(module) {
            try lua.L.run("local ok, e = pcall(runcrate.json.decode, TEXT); return ok, e.code, e.message", name: "=test")
        }
        #expect(r == [.boolean(false), .string("json_error"), .string(message)])
    }

    @Test func roundTrips() throws {
        let r = try run("""
            local values = { 0, -1, 2^31, math.maxinteger, 0.1, -2.5e-7, 1e300, "", "a\\0b", "ü", true, false,
              { 1, 2, { x = { y = { "deep" } } } }, { a = 1, b = { c = 2.25 } }, runcrate.json.array() }
            local json = runcrate.json
            local function same(a, b)
              if type(a) ~= type(b) then return false end
              if type(a) ~= "table" then return a == b and math.type(a) == math.type(b) end
              for k, v in pairs(a) do if not same(v, b[k]) then return false end end
              for k in pairs(b) do if a[k] == nil then return false end end
              return true
            end
            for i, v in ipairs(values) do
              local text = json.encode(v)
              assert(same(json.decode(text), v), "value " .. i .. " did not round-trip: " .. text)
              assert(json.encode(json.decode(text)) == text, "value " .. i .. " re-encoded differently")
            end
            return #values
            """)
        #expect(r == [.integer(15)])
    }
}
