import Foundation
import LuaBridge
import NIOConcurrencyHelpers
import RuncrateAPI
import RuncrateSandbox
@testable import RuncrateLua

/// A Lua state with the runcrate module installed over a fresh in-process sandbox. Output written by
/// the module and by the script's `print` is captured.
final class Harness: @unchecked Sendable {
    let lua: Lua
    let module: RuncrateModule
    let sandbox: SandboxServer
    private let out = NIOLockedValueBox<(stdout: String, stderr: String)>(("", ""))

    var stdout: String { out.withLockedValue { $0.stdout } }
    var stderr: String { out.withLockedValue { $0.stderr } }

    /// Starts a sandbox (without blocking a cooperative thread) and sets up a state over it.
    static func make(
        dryRun: Bool = false, maxInstances: Int? = nil, maxHourlyCost: Double? = nil, verbose: Bool = false,
        json: Bool = false, planOut: String? = nil, target: RuncrateModule.Configuration.Target = .sandbox,
        confirm: ((String) -> Bool)? = nil, readyAfter: Double = 0.2, sandbox existing: SandboxServer? = nil,
        stderrIsTerminal: Bool = false
    ) async throws -> Harness {
        let server: SandboxServer
        if let existing { server = existing } else { server = try await SandboxServer.start(SandboxOptions(readyAfter: readyAfter)) }
        return try Harness(dryRun: dryRun, maxInstances: maxInstances, maxHourlyCost: maxHourlyCost, verbose: verbose,
                           json: json, planOut: planOut, target: target, confirm: confirm, sandbox: server,
                           stderrIsTerminal: stderrIsTerminal)
    }

    private init(
        dryRun: Bool = false, maxInstances: Int? = nil, maxHourlyCost: Double? = nil, verbose: Bool = false,
        json: Bool = false, planOut: String? = nil, target: RuncrateModule.Configuration.Target = .sandbox,
        confirm: ((String) -> Bool)?, sandbox server: SandboxServer, stderrIsTerminal: Bool
    ) throws {
        sandbox = server
        lua = try Lua()
        let box = out
        let probe = RuncrateModule.interruptProbe(for: lua.L)
        let config = RuncrateModule.Configuration(
            target: target, dryRun: dryRun, maxInstances: maxInstances, maxHourlyCost: maxHourlyCost,
            verbose: verbose, json: json, planOutPath: planOut, confirm: confirm,
            sandboxNotice: "runcrate: sandbox mode: an in-process simulator, nothing is billed",
            stderrIsTerminal: stderrIsTerminal,
            writeStderr: { s in box.withLockedValue { $0.stderr += s } },
            writeStdout: { s in box.withLockedValue { $0.stdout += s } },
            makeTransport: {
                let cfg = try RuncrateConfiguration(
                    apiKey: APIKey("rc_live_testkey_0123456789"), baseURL: server.baseURL,
                    retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05, maxServerWait: 5))
                return BlockingClientTransport(configuration: cfg, isCancelled: probe)
            })
        module = RuncrateModule(configuration: config)
        try module.install(into: lua.L, globalHelp: true)
        lua.L.register("print") { L in
            var parts: [String] = []
            for i in 1...max(L.gettop(), 1) where i <= L.gettop() { parts.append(L.tostringMeta(i)) }
            box.withLockedValue { $0.stdout += parts.joined(separator: "\t") + "\n" }
            return 0
        }
    }

    var keepSandbox = false

    deinit {
        if !keepSandbox {
            let server = sandbox
            Task { await server.stop() }
        }
    }

    /// Runs `body` on a plain thread, as the runner runs Lua (the client blocks that thread), and
    /// resumes the test when it is done, so no cooperative thread ever waits.
    func onLuaThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            let t = Thread { c.resume(with: Result { try body() }) }
            t.stackSize = 16 << 20
            t.start()
        }
    }

    @discardableResult
    func run(_ code: String, name: String = "@script.lua") async throws -> [LuaValue] {
        try await onLuaThread { try self.lua.L.run(code, name: name) }
    }

    /// Runs `code`, which must fail; returns the first line of the reported error (as lua.c prints
    /// it: the error object's `__tostring`), without the traceback.
    func failure(_ code: String, name: String = "@script.lua") async -> String {
        (try? await onLuaThread { () -> String in
            do {
                try self.lua.L.run(code, name: name, traceback: true)
                return "<no error>"
            } catch let error as LuaError {
                return error.message.components(separatedBy: "\nstack traceback:").first ?? error.message
            } catch {
                return "\(error)"
            }
        }) ?? "<thread failed>"
    }

    /// Requests that change state (everything but GETs and control calls).
    func mutatingRequests() -> [SandboxRequestRecord] {
        sandbox.requestLog().filter { $0.method != "GET" && !$0.path.hasPrefix("/_sandbox") }
    }
}

extension LuaValue {
    subscript(_ key: String) -> LuaValue { tableValue?[key] ?? .nil }
    subscript(_ i: Int) -> LuaValue { tableValue?[i] ?? .nil }
}
