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

    /// A state with `cleanup` (LuaState.pushCleanupFunction) as a global.
    static func withCleanup(memoryLimit: Int? = nil) throws -> Lua {
        let lua = try Lua(memoryLimit: memoryLimit)
        lua.L.pushCleanupFunction()
        lua.L.setglobal(raw: "cleanup")
        return lua
    }

    static func globalStrings(_ name: String, in L: LuaState) -> [String] {
        defer { L.settop(0) }
        guard L.getglobal(raw: name) == .table else { return [] }
        return (1...max(1, L.rawlen(-1))).compactMap { i in
            L.rawgeti(-1, Int64(i))
            defer { L.pop() }
            return L.tostring(-1)
        }
    }

    @Test func cleanupHandlersRunToTheirEndWhileTheTimeoutUnwinds() throws {
        let lua = try Self.withCleanup()
        lua.setTimeout(0.3)
        let code = """
            closed = {}
            local mt = { __close = cleanup(function(_, err)
              local n = 0
              for i = 1, 1e6 do n = n + 1 end   -- far more steps than the hook allows a stopped script
              closed[#closed + 1] = n .. " " .. tostring(err):match("timeout: [^\\n]*")
            end) }
            local a <close> = setmetatable({}, mt)
            local b <close> = setmetatable({}, mt)
            while true do end
            """
        let error = #expect(throws: LuaError.self) { try lua.L.run(code, name: "=stdin") }
        #expect(error?.kind == .timeout)
        #expect(error?.message.hasPrefix("stdin:9: timeout: the script ran longer than its time limit") == true, "\(String(describing: error?.message))")
        let line = "1000000 timeout: the script ran longer than its time limit"
        #expect(Self.globalStrings("closed", in: lua.L) == [line, line])
        #expect(!lua.inCleanup)
    }

    @Test func theTimeoutIsRaisedAgainAfterACleanup() throws {
        let lua = try Self.withCleanup()
        lua.setTimeout(0.3)
        let code = """
            local mt = { __close = cleanup(function() end) }
            while true do
              pcall(function() local a <close> = setmetatable({}, mt) while true do end end)
              after_cleanup = true
            end
            """
        let error = #expect(throws: LuaError.self) { try lua.L.run(code) }
        #expect(error?.kind == .timeout)
        lua.L.getglobal(raw: "after_cleanup")
        #expect(lua.L.type(at: -1) == .nil, "the script went on after the cleanup")
        lua.L.pop()
    }

    @Test func cleanupMayGoOverTheMemoryLimitByTheGrace() throws {
        let lua = try Self.withCleanup(memoryLimit: 8 << 20)
        let code = """
            local mt = { __close = cleanup(function() local s = ("y"):rep(1 << 20) .. "!" ; made = #s end) }
            local a <close> = setmetatable({}, mt)
            local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end
            """
        let error = #expect(throws: LuaError.self) { try lua.L.run(code) }
        #expect(error?.kind == .memory)
        lua.L.getglobal(raw: "made")
        #expect(lua.L.tointeger(-1).map { Int($0) } == 1_048_577)
        lua.L.pop()
    }

    @Test func aTimeoutInACoroutineStopsTheThreadThatResumedIt() throws {
        let lua = try Lua()
        lua.setTimeout(0.3)
        let code = """
            local co = coroutine.create(function() while true do end end)
            resumed = tostring(select(2, coroutine.resume(co)))
            after = true
            """
        let error = #expect(throws: LuaError.self) { try lua.L.run(code, name: "=stdin") }
        #expect(error?.kind == .timeout)
        #expect(error?.message.hasPrefix("stdin:2: timeout:") == true, "\(String(describing: error?.message))")
        lua.L.getglobal(raw: "after")
        #expect(lua.L.type(at: -1) == .nil)
        lua.L.pop()
    }
}
