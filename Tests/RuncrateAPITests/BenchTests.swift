import Foundation
import RuncrateSandbox
import Testing

@testable import RuncrateAPI

/// Median create round trip: this client (which lists the instances of the name before each create,
/// see `createInstance`) vs curl's bare POST, same sandbox, same moment. Runs only with
/// RUNCRATE_BENCH=1 (scripts/bench-client); prints the numbers.
@Suite struct Bench {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RUNCRATE_BENCH"] == "1"))
    func createRoundTripAgainstCurl() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["RUNCRATE_BENCH_ROUNDS"] ?? "") ?? 40
        let sandbox = try await SandboxServer.start(SandboxOptions(port: 0, seed: 1, readyAfter: 0.2))
        sandbox.setStock(gpuType: "rtx-4090", count: 100_000)
        let transcript = Transcript()
        let client = try makeClient(sandbox.baseURL, transcript: transcript)
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

        _ = try await client.createInstance(CreateInstanceRequest(name: "warm-client", gpuType: "rtx-4090"))
        var clientTimes: [Double] = []
        var curlTotals: [Double] = []
        var curlWall: [Double] = []
        for round in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try await client.createInstance(CreateInstanceRequest(name: "bench-c-\(round)", gpuType: "rtx-4090"))
            clientTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)

            let body = #"{"gpu_type":"rtx-4090","name":"bench-u-\#(round)"}"#
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = [
                "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-X", "POST",
                "-H", "Authorization: Bearer \(testKey)", "-H", "Content-Type: application/json",
                "-H", "User-Agent: curl-bench", "--data", body, sandbox.baseURL + "/api/v1/instances",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            let wallStart = DispatchTime.now().uptimeNanoseconds
            try process.run()
            process.waitUntilExit()
            curlWall.append(Double(DispatchTime.now().uptimeNanoseconds - wallStart) / 1e9)
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
            #expect(out.first == "201")
            curlTotals.append(Double(out.last ?? "0") ?? 0)
        }
        try await client.shutdown()
        await sandbox.stop()
        let report = String(
            format: "BENCH create round trip, %d rounds: client median %.2f ms (min %.2f; a listing by name, then the POST); curl time_total median %.2f ms (min %.2f); curl incl. process spawn median %.2f ms",
            rounds, median(clientTimes) * 1000, clientTimes.min()! * 1000, median(curlTotals) * 1000, curlTotals.min()! * 1000,
            median(curlWall) * 1000)
        print(report)
        #expect(clientTimes.count == rounds)
    }
}
