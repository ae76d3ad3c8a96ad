import Testing
import LuaBridge

private final class Tracked {
    nonisolated(unsafe) static var live = 0
    let value: Int
    init(_ value: Int) { self.value = value; Tracked.live += 1 }
    deinit { Tracked.live -= 1 }
}

private struct TableError: LuaRaisable {
    func push(onto L: LuaState) {
        L.newtable()
        L.push("spend_cap"); L.rawset(-2, field: "code")
    }
}

@Suite(.serialized) struct FunctionTests {
    @Test func swiftFunctionsReceiveArgumentsAndReturnResults() throws {
        let lua = try Lua()
        lua.L.register("twice") { L in
            guard let n = L.tointeger(1) else { throw LuaArgumentError(1, "integer expected, got \(L.typename(at: 1))") }
            L.push(n * 2)
            L.push("done")
            return 2
        }
        #expect(try lua.L.run("return twice(21)") == [.integer(42), .string("done")])
        #expect(lua.L.gettop() == 0)
    }

    @Test func thrownErrorsGetTheCallersPosition() throws {
        let lua = try Lua()
        lua.L.register("fail") { _ in throw LuaRuntimeError("it broke") }
        let error = #expect(throws: LuaError.self) {
            try lua.L.run("local a = 1\n\nfail()", name: "@job.lua", traceback: false)
        }
        #expect(error?.message == "job.lua:3: it broke")
    }

    @Test func argumentErrorsAreWordedAsLuaDoes() throws {
        let lua = try Lua()
        lua.L.register("twice") { L in throw LuaArgumentError(1, "integer expected, got \(L.typename(at: 1))") }
        let error = #expect(throws: LuaError.self) { try lua.L.run("twice('x')", name: "@a.lua", traceback: false) }
        #expect(error?.message == "a.lua:1: bad argument #1 to 'twice' (integer expected, got string)")
    }

    @Test func raisableErrorsKeepTheirValue() throws {
        let lua = try Lua()
        lua.L.register("cap") { _ in throw TableError() }
        #expect(try lua.L.run("local ok, e = pcall(cap) return ok, e.code") == [.boolean(false), .string("spend_cap")])
    }

    @Test func manyFailingCallsLeaveTheStateUsable() throws {
        let lua = try Lua()
        lua.L.register("fail") { L in
            L.push("garbage on the stack")
            throw LuaRuntimeError("x")
        }
        let r = try lua.L.run("local n = 0 for i = 1, 10000 do if not pcall(fail) then n = n + 1 end end return n")
        #expect(r == [.integer(10000)])
        #expect(lua.L.gettop() == 0)
    }

    @Test func swiftCanCallBackIntoLuaInsideABinding() throws {
        let lua = try Lua()
        lua.L.register("apply") { L in
            L.pushvalue(1)
            L.pushvalue(2)
            try L.pcall(nargs: 1, nresults: 1, traceback: false)
            return 1
        }
        #expect(try lua.L.run("return apply(function(x) return x * 10 end, 4)") == [.integer(40)])
        let error = #expect(throws: LuaError.self) {
            try lua.L.run("return apply(function(x) error('inner') end, 4)", name: "@n.lua", traceback: false)
        }
        #expect(error?.message == "n.lua:1: inner")
    }

    @Test func garbageCollectionReleasesSwiftObjects() throws {
        let before = Tracked.live
        do {
            let lua = try Lua()
            for i in 0..<100 {
                lua.L.push(object: Tracked(i), metatable: "Test.Tracked")
                lua.L.setglobal(raw: "obj\(i)")
            }
            #expect(Tracked.live == before + 100)
            lua.L.push(object: Tracked(7), metatable: "Test.Tracked")
            #expect(lua.L.toobject(-1, metatable: "Test.Tracked", as: Tracked.self)?.value == 7)
            #expect(lua.L.toobject(-1, metatable: "Other", as: Tracked.self) == nil)
            lua.L.pop()
            try lua.L.run("for i = 0, 49 do _G['obj' .. i] = nil end collectgarbage() collectgarbage()")
            #expect(Tracked.live == before + 50)
        }
        #expect(Tracked.live == before, "closing the state releases the rest")
    }

    @Test func closuresCapturedByFunctionsAreReleased() throws {
        let before = Tracked.live
        do {
            let lua = try Lua()
            let captured = Tracked(1)
            lua.L.register("f") { L in L.push(captured.value); return 1 }
            try lua.L.run("f = nil collectgarbage()")
        }
        #expect(Tracked.live == before)
    }

    @Test func moduleTablesHoldFunctions() throws {
        let lua = try Lua()
        lua.L.push(module: [("one", { L in L.push(1); return 1 }), ("two", { L in L.push(2); return 1 })], prefix: "m.")
        lua.L.setglobal(raw: "m")
        #expect(try lua.L.run("return m.one() + m.two()") == [.integer(3)])
    }
}
