import Foundation
import Testing
import LuaBridge

@Suite struct SafeModeTests {
    func safeLua() throws -> Lua {
        let lua = try Lua()
        try lua.L.applySafeMode()
        return lua
    }

    @Test(arguments: [
        "os.execute('true')", "io.popen('ls')", "package.loadlib('x', 'y')", "os.remove('/tmp/x')",
        "os.rename('/tmp/a', '/tmp/b')", "os.exit(0)", "os.tmpname()", "io.tmpfile()",
    ])
    func blockedFunctionsRaiseAClearError(code: String) throws {
        let lua = try safeLua()
        let name = String(code.prefix { $0 != "(" })
        let error = #expect(throws: LuaError.self) { try lua.L.run(code, name: "@s.lua", traceback: false) }
        #expect(error?.message == "s.lua:1: \(name) is disabled by --safe")
    }

    @Test func ioOpenReadsButDoesNotWrite() throws {
        let lua = try safeLua()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("safe-\(UInt32.random(in: 0...UInt32.max)).txt").path
        try "content".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try lua.L.run("local f = assert(io.open('\(path)')) local s = f:read('a') f:close() return s") == [.string("content")])
        #expect(try lua.L.run("local f = assert(io.open('\(path)', 'rb')) f:close() return true") == [.boolean(true)])
        for mode in ["w", "a", "r+", "wb"] {
            let error = #expect(throws: LuaError.self) { try lua.L.run("io.open('\(path)', '\(mode)')", name: "@s.lua", traceback: false) }
            #expect(error?.message == "s.lua:1: io.open: --safe allows reading only (mode '\(mode)')")
        }
        #expect(throws: LuaError.self) { try lua.L.run("io.output('\(path)')") }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "content")
    }

    @Test func binaryChunksAndTheDebugLibraryAreGone() throws {
        let lua = try safeLua()
        let r = try lua.L.run("return load(string.dump(function() return 1 end))")
        #expect(r.first == .nil)
        #expect(try lua.L.run("return debug.getregistry, debug.getupvalue, type(debug.traceback)") == [.nil, .nil, .string("function")])
        #expect(try lua.L.run("return package.cpath, package.searchers[3]") == [.string(""), .nil])
    }

    @Test func textChunksStillLoad() throws {
        let lua = try safeLua()
        #expect(try lua.L.run("return load('return 5')()") == [.integer(5)])
        #expect(try lua.L.run("local env = {x = 9} return load('return x', 'c', 't', env)()") == [.integer(9)])
    }
}
