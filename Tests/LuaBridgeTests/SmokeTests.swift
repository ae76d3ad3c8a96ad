import Testing
@testable import LuaBridge

@Suite struct SmokeTests {
    @Test func runsCodeAndReturnsValues() throws {
        let lua = try Lua()
        let r = try lua.L.run("return 1, 2.5, 'x', {a = 1, 2}")
        #expect(r[0] == .integer(1))
        #expect(r[1] == .number(2.5))
        #expect(r[2] == .string("x"))
        #expect(r[3] == .table(LuaTable([.string("a"): .integer(1), .integer(1): .integer(2)])))
        #expect(lua.L.gettop() == 0)
    }

    @Test func swiftErrorGetsPosition() throws {
        let lua = try Lua()
        lua.L.register("boom") { _ in throw LuaRuntimeError("kaboom") }
        let r = try lua.L.run("local ok, e = pcall(function()\n boom()\n end) return e", name: "@t.lua")
        #expect(r == [.string("t.lua:2: kaboom")])
    }
}
