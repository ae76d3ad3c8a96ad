import Foundation
import Testing
import LuaBridge

@Suite struct LimitTests {
    @Test func memoryBombGetsNotEnoughMemoryAndTheStateSurvives() throws {
        let lua = try Lua(memoryLimit: 8 << 20)
        let error = #expect(throws: LuaError.self) {
            try lua.L.run("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end")
        }
        #expect(error?.kind == .memory)
        #expect(error?.message == "not enough memory")
        try lua.L.run("collectgarbage()")
        #expect(try lua.L.run("return 1 + 1") == [.integer(2)])
        #expect(lua.memoryUsed < 8 << 20)
    }

    @Test func swiftAllocationsOverTheLimitRaiseAfterSwiftReturns() throws {
        let lua = try Lua(memoryLimit: 4 << 20)
        lua.L.register("big") { L in
            L.push(String(repeating: "y", count: 8 << 20))
            return 1
        }
        let error = #expect(throws: LuaError.self) { try lua.L.run("local s = big() return #s", traceback: false) }
        #expect(error?.message.hasSuffix("not enough memory") == true)
        try lua.L.run("collectgarbage()")
        #expect(try lua.L.run("return 'ok'") == [.string("ok")])
    }

    @Test func endlessLoopIsStoppedByTheTimeout() throws {
        let lua = try Lua()
        lua.setTimeout(0.3)
        let error = #expect(throws: LuaError.self) { try lua.L.run("while true do end", name: "=stdin") }
        #expect(error?.kind == .timeout)
        #expect(error?.message.hasPrefix("stdin:1: timeout: the script ran longer than its time limit") == true)
        #expect(lua.timedOut)
    }

    @Test func catchingTheTimeoutDoesNotKeepTheScriptAlive() throws {
        let lua = try Lua()
        lua.setTimeout(0.3)
        let error = #expect(throws: LuaError.self) {
            try lua.L.run("while true do pcall(function() while true do end end) end")
        }
        #expect(error?.kind == .timeout)
    }

    @Test func interruptStopsRunningCode() throws {
        let lua = try Lua()
        let L = lua.L
        nonisolated(unsafe) let owner = lua
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { owner.interrupt() }
        let error = #expect(throws: LuaError.self) { try L.run("while true do end", name: "=stdin") }
        #expect(error?.kind == .interrupted)
        #expect(error?.message.hasPrefix("interrupted!\nstack traceback:") == true, "\(String(describing: error?.message))")
        #expect(try L.run("return 3") == [.integer(3)])
    }
}

