import Testing
import LuaBridge

@Suite struct PushReadTests {
    @Test func everyScalarTypeRoundTrips() throws {
        let lua = try Lua()
        let L = lua.L
        L.pushnil(); L.push(true); L.push(false); L.push(Int64.max); L.push(-7); L.push(2.5)
        L.push("héllo\0world"); L.push(bytes: [0xff, 0x00, 0x41])
        #expect(L.gettop() == 8)
        #expect(L.type(at: 1) == .nil)
        #expect(L.toboolean(2) == true)
        #expect(L.toboolean(3) == false)
        #expect(L.tointeger(4) == Int64.max)
        #expect(L.tointeger(5) == -7)
        #expect(L.tonumber(6) == 2.5)
        #expect(L.tointeger(6) == nil)
        #expect(L.tostring(7) == "héllo\0world")
        #expect(L.tobytes(8) == [0xff, 0x00, 0x41])
        #expect(L.tostring(4) == nil, "numbers are not converted to strings in place")
        #expect(L.tointeger(7) == nil)
        #expect(try L.value(at: 6) == .number(2.5))
        #expect(try L.value(at: 5) == .integer(-7))
        #expect(try L.value(at: 1) == .nil)
        L.settop(0)
    }

    @Test func floatsWithIntegralValuesReadAsIntegers() throws {
        let lua = try Lua()
        lua.L.push(2.0)
        #expect(lua.L.tointeger(-1) == 2)
        #expect(!lua.L.isinteger(-1))
        lua.L.pop()
    }

    @Test func nestedTablesRoundTrip() throws {
        let lua = try Lua()
        let L = lua.L
        let value = LuaValue.table(LuaTable([
            .string("name"): .string("x"),
            .string("env"): .table(LuaTable(fields: ["A": .string("1"), "B": .table(LuaTable(sequence: [.integer(1), .boolean(true)]))])),
            .integer(1): .number(0.5),
        ]))
        L.push(value)
        #expect(try L.value(at: -1) == value)
        L.pop()
        #expect(L.gettop() == 0)
    }

    @Test func tableFromLuaKeepsEveryKeyType() throws {
        let lua = try Lua()
        let r = try lua.L.run("return {10, 20, x = {y = {z = 'deep'}}, [true] = 'yes', [2.5] = 'f'}")
        guard case .table(let t) = r[0] else { Issue.record("not a table"); return }
        #expect(t[1] == .integer(10))
        #expect(t[2] == .integer(20))
        #expect(t.entries[.boolean(true)] == .string("yes"))
        #expect(t.entries[.number(2.5)] == .string("f"))
        #expect(t["x"].tableValue?["y"].tableValue?["z"] == .string("deep"))
    }

    @Test func sequenceDetectsHoles() throws {
        #expect(LuaTable(sequence: [.integer(1), .integer(2)]).sequence == [.integer(1), .integer(2)])
        #expect(LuaTable([.integer(1): .integer(1), .integer(3): .integer(3)]).sequence == nil)
        #expect(LuaTable().sequence == [])
    }

    @Test func cyclesAreReportedWithTheirPath() throws {
        let lua = try Lua()
        let L = lua.L
        try L.load("local t = {a = {b = {}}}; t.a.b.c = t; return t", name: "=c")
        try L.pcall(nargs: 0, nresults: 1)
        #expect(throws: LuaBridgeError("a.b.c: table contains itself (cycle)")) { try L.value(at: -1) }
        L.pop()
        #expect(L.gettop() == 0)
    }

    @Test func sharedSubtablesAreNotCycles() throws {
        let lua = try Lua()
        let r = try lua.L.run("local s = {1}; return {s, s}")
        #expect(r[0].tableValue?[1] == .table(LuaTable(sequence: [.integer(1)])))
        #expect(r[0].tableValue?[2] == .table(LuaTable(sequence: [.integer(1)])))
    }

    @Test func deepNestingIsBounded() throws {
        let lua = try Lua()
        let L = lua.L
        try L.load("local t = {}; local c = t; for i = 1, 500 do c.n = {}; c = c.n end; return t", name: "=d")
        try L.pcall(nargs: 0, nresults: 1)
        #expect(throws: LuaBridgeError.self) { try L.value(at: -1, maxDepth: 100) }
        L.pop()
    }

    @Test func functionsAndUserdataAreOpaque() throws {
        let lua = try Lua()
        let r = try lua.L.run("return print, io.stdout, coroutine.create(print)")
        #expect(r == [.opaque(.function), .opaque(.userdata), .opaque(.thread)])
    }

    @Test func describeNamesTypeAndValue() throws {
        let lua = try Lua()
        let L = lua.L
        L.push("8"); L.push(2.5); L.push(3); L.newtable(); L.push(true)
        #expect(L.describe(1) == "string '8'")
        #expect(L.describe(2) == "number 2.5")
        #expect(L.describe(3) == "integer 3")
        #expect(L.describe(4) == "table")
        #expect(L.describe(5) == "boolean true")
        L.settop(0)
    }

    @Test func numberFormattingMatchesLua() {
        #expect(LuaValue.format(number: 1e100) == "1e+100")
        #expect(LuaValue.format(number: 3.0) == "3.0")
        #expect(LuaValue.format(number: 0.1) == "0.1")
        #expect(LuaValue.format(number: .infinity) == "inf")
        #expect(LuaValue.format(number: -.infinity) == "-inf")
    }
}
