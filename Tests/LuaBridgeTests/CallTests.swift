import Testing
import LuaBridge

@Suite struct CallTests {
    @Test func syntaxErrorsAreCompileErrors() throws {
        let lua = try Lua()
        let error = #expect(throws: LuaError.self) { try lua.L.load("x = = 1", name: "@bad.lua") }
        #expect(error?.kind == .syntax)
        #expect(error?.message == "bad.lua:1: unexpected symbol near '='")
        #expect(lua.L.gettop() == 0)
    }

    @Test func incompleteInputIsRecognised() throws {
        let lua = try Lua()
        let error = #expect(throws: LuaError.self) { try lua.L.load("for i = 1, 2 do", name: "=stdin") }
        #expect(error?.isIncompleteInput == true)
    }

    @Test func runtimeErrorsCarryExactPositionAndTraceback() throws {
        let lua = try Lua()
        let error = #expect(throws: LuaError.self) {
            try lua.L.run("local x = 1\nerror('bad thing')", name: "@script.lua")
        }
        #expect(error?.kind == .runtime)
        #expect(error?.message.hasPrefix("script.lua:2: bad thing\nstack traceback:\n") == true)
        #expect(lua.L.gettop() == 0)
    }

    @Test func withoutTracebackTheMessageIsBare() throws {
        let lua = try Lua()
        let error = #expect(throws: LuaError.self) {
            try lua.L.run("local t = nil\nreturn t.x", name: "@s.lua", traceback: false)
        }
        #expect(error?.message == "s.lua:2: attempt to index a nil value (local 't')")
    }

    @Test func errorObjectsUseTostring() throws {
        let lua = try Lua()
        let error = #expect(throws: LuaError.self) {
            try lua.L.run("error(setmetatable({}, {__tostring = function() return 'custom' end}))")
        }
        #expect(error?.message == "custom")
        let plain = #expect(throws: LuaError.self) { try lua.L.run("error({})") }
        #expect(plain?.message.hasPrefix("(error object is a table value)") == true)
    }

    @Test func callGlobalPassesArgumentsAndResults() throws {
        let lua = try Lua()
        try lua.L.run("function add(a, b) return a + b, 'sum' end")
        #expect(try lua.L.call(global: "add", [.integer(2), .integer(3)]) == [.integer(5), .string("sum")])
        #expect(lua.L.gettop() == 0)
    }

    @Test func loadfileSkipsShebangAndReportsMissingFiles() throws {
        let lua = try Lua()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shebang-\(UInt32.random(in: 0...UInt32.max)).lua").path
        try "#!/usr/bin/env runcrate-lua\nreturn 42\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try lua.L.loadfile(path)
        try lua.L.pcall(nargs: 0, nresults: 1)
        #expect(lua.L.tointeger(-1) == 42)
        lua.L.pop()
        let missing = #expect(throws: LuaError.self) { try lua.L.loadfile("/nonexistent/x.lua") }
        #expect(missing?.kind == .file)
        #expect(missing?.message == "cannot open /nonexistent/x.lua: No such file or directory")
    }

    @Test func tostringMetaRunsMetamethodsSafely() throws {
        let lua = try Lua()
        try lua.L.load("return setmetatable({}, {__tostring = function() error('no') end}), setmetatable({}, {__tostring = function() return 'ok' end})", name: "=m")
        try lua.L.pcall(nargs: 0, nresults: 2)
        #expect(lua.L.tostringMeta(-2) == "table")
        #expect(lua.L.tostringMeta(-1) == "ok")
        lua.L.pop(2)
        #expect(lua.L.gettop() == 0)
    }
}

import Foundation
