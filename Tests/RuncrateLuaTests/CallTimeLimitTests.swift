import Foundation
import LuaBridge
import Testing
@testable import RuncrateLua

/// A state's time limit ends a client call that is waiting (for a retry or an answer), and the script
/// stops with the timeout, not with the call's own error.
@Suite struct CallTimeLimitTests {
    @Test func probeFiresOnceTheTimeLimitHasPassed() throws {
        let lua = try Lua()
        let probe = RuncrateModule.interruptProbe(for: lua.L)
        #expect(!probe())
        lua.setTimeout(0.05)
        #expect(!probe())
        usleep(150_000)
        #expect(probe())
        // Once the hook has stopped the script for it, calls made while unwinding (a `__close`
        // terminating an instance) are no longer cut short.
        #expect(throws: LuaError.self) { try lua.L.run("while true do end", name: "=loop") }
        #expect(lua.timedOut)
        #expect(!probe())
        lua.setTimeout(nil)
        #expect(!probe())
    }

    @Test func timeLimitEndsTheWaitBeforeARetry() async throws {
        let h = try await Harness.make()
        // Sold out, asking to wait 5 s (the harness's client honours up to 5 s, over 2 attempts).
        try h.sandbox.setFaults("create=503,retry-after=5")
        h.lua.setTimeout(2.5)
        let started = Date()
        let message = await h.failure("runcrate.create_instance{ name = 'a', gpu_type = 'h100-sxm' }")
        let elapsed = Date().timeIntervalSince(started)
        #expect(message.contains("timeout: the script ran longer than its time limit"), "\(message)")
        #expect(h.lua.timedOut)
        // The second attempt, due after the 5 s wait, was never sent (on a busy pool the limit may
        // even pass before the first).
        #expect(h.sandbox.requestLog().filter { $0.route == "instances.create" }.count <= 1)
        #expect(elapsed < 30, "took \(elapsed) s")
    }
}
