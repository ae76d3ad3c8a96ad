import Foundation
import Testing

/// A sold-out create (the sandbox's `jolly-knuth-h100x1-75ff` has no stock and answers 503 with
/// `Retry-After: 30`) neither blocks past `--timeout` nor waits in silence, and `retry = false`
/// gives up at once.
@Suite("Sold-out creates: --timeout, the wait notice, retry = false")
struct SoldOutCreateTests {
    static let soldOut = "jolly-knuth-h100x1-75ff"

    /// Runs `code` in the sandbox; returns the result and how long it took.
    func timed(_ arguments: [String]) throws -> (Completed, Double) {
        let started = Date()
        let result = try runcrateLua(["--sandbox"] + arguments, timeout: 150)
        return (result, Date().timeIntervalSince(started))
    }

    @Test func timeoutStopsACreateWaitingOutRetryAfterAndSaysWhatItWaitsFor() throws {
        let (result, elapsed) = try timed([
            "--timeout", "5", "-e", "runcrate.create_instance{name = 'x', instance_type_id = '\(Self.soldOut)'}",
        ])
        #expect(result.status == 124, "\(result)")
        #expect(result.stderr.contains("timeout: the script ran longer than its time limit"), "\(result)")
        #expect(result.stderr.contains("runcrate: waiting 30 s: \(Self.soldOut) sold out (503, Retry-After), attempt 2 of 4\n"), "\(result)")
        #expect(result.stderr.components(separatedBy: "waiting 30 s").count == 2, "said once:\n\(result)")
        // The server asked for 30 s (three times: 90 s); the limit is 5 s. Wide margin for a busy pool.
        #expect(elapsed < 25, "took \(elapsed) s")
    }

    @Test func retryFalseFailsAtOnceWithNoCapacity() throws {
        let (result, elapsed) = try timed([
            "-e", "runcrate.create_instance{name = 'x', instance_type_id = '\(Self.soldOut)', retry = false}",
        ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("runcrate.create_instance: no_capacity: "), "\(result)")
        #expect(!result.stderr.contains("waiting"), "\(result)")
        #expect(elapsed < 25, "took \(elapsed) s")
    }

    @Test func maxWaitBoundsTheWaitAndTheErrorSaysSo() throws {
        let code = """
            local ok, err = pcall(runcrate.create_instance, {name = 'x', instance_type_id = '\(Self.soldOut)', max_wait = 10})
            print(ok, err.code, err.retryable)
            print(err.message)
            """
        let (result, elapsed) = try timed(["-e", code])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("false\tno_capacity\ttrue\n"), "\(result)")
        #expect(result.stdout.contains("waiting 30 s more would pass the 10 s this call may wait in all"), "\(result)")
        #expect(elapsed < 25, "took \(elapsed) s")
    }
}
