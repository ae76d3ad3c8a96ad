import Foundation
import LuaBridge
import Testing
@testable import RuncrateLua

/// Numbers for the notes, not pass/fail: run with RUNCRATE_BENCH=1
/// `RUNCRATE_BENCH=1 swift test --skip-build --filter BenchTests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RUNCRATE_BENCH"] == "1"))
struct BenchTests {
    @Test func dryRunCreateInstanceCallsPerSecond() async throws {
        let h = try await Harness.make(dryRun: true)
        try await h.run("runcrate.create_instance{ name = 'warm', gpu_type = 'h100-sxm' }")  // fetches the catalogue once
        let n = 20000
        let start = Date()
        try await h.run("""
            local rc = runcrate
            for i = 1, \(n) do
              rc.create_instance{ name = "bench-" .. i, gpu_type = "h100-sxm", gpu_count = 1, region = "us-west",
                env = { LR = "1e-4", BATCH = 32, RUN = "bench" }, startup_commands = { "nvidia-smi" },
                max_runtime_minutes = 60 }
            end
            """)
        let rate = Double(n) / Date().timeIntervalSince(start)
        #expect(h.mutatingRequests().isEmpty)
        print("BENCH dry-run create_instance: \(Int(rate)) calls/s (\(n) calls, validation + planning, no network)")
    }

    @Test func sandboxCreateWallClock() async throws {
        let h = try await Harness.make()
        h.sandbox.setStock(gpuType: "rtx-4090", count: 1_000_000)
        h.sandbox.setCredits(1e12)
        try await h.run("runcrate.create_instance{ name = 'warm', gpu_type = 'rtx-4090' }")
        let n = 300
        let start = Date()
        try await h.run("for i = 1, \(n) do runcrate.create_instance{ name = 'w-' .. i, gpu_type = 'rtx-4090', gpu_count = 1 } end")
        let per = Date().timeIntervalSince(start) / Double(n)
        print("BENCH sandbox create wall clock: \(String(format: "%.2f", per * 1000)) ms per create (\(n) sequential)")
    }
}

extension LuaValue {
    var numberValue: Double {
        switch self {
        case .number(let d): return d
        case .integer(let i): return Double(i)
        default: return .nan
        }
    }
}
