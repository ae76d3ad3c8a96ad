import LuaBridge
import Testing
@testable import RuncrateLua

private let ok = #"name = "a", gpu_type = "h100-sxm""#

/// `retry` and `max_wait` in a create spec: client-side options, checked like every other field.
let badWaitSpecs: [BadSpec] = [
    BadSpec("return { \(ok), max_wait = 'x' }", "max_wait | max_wait: a number of seconds >= 0 expected, got string 'x'"),
    BadSpec("return { \(ok), max_wait = -1 }", "max_wait | max_wait: a number of seconds >= 0 expected, got integer -1"),
    BadSpec("return { \(ok), max_wait = 0/0 }", "max_wait | max_wait: a number of seconds >= 0 expected, got number nan"),
    BadSpec("return { \(ok), max_wait = math.huge }", "max_wait | max_wait: a number of seconds >= 0 expected, got number inf"),
    BadSpec("return { \(ok), retry = 'no' }", "retry | retry: boolean expected, got string 'no'"),
    BadSpec("return { \(ok), retry = false, max_wait = 5 }",
            "max_wait | max_wait must not be given with retry = false, which waits for nothing (got both)"),
    BadSpec("return { \(ok), max_wiat = 5 }", "max_wiat | unknown field 'max_wiat' — did you mean 'max_wait'?"),
]

@Suite struct CreateWaitOptionTests {
    @Test func waitOptionsAreAcceptedAndNeverSent() async throws {
        let h = try await Harness.make()
        try await h.run("""
            runcrate.create_instance{ \(ok), retry = true }
            runcrate.create_instance{ \(ok), max_wait = 12.5 }
            runcrate.create_instance{ \(ok), retry = false }
            """)
        let bodies = h.sandbox.requestLog().filter { $0.route == "instances.create" }.compactMap(\.body)
        #expect(bodies.count == 3)
        for body in bodies {
            #expect(!body.contains("retry") && !body.contains("max_wait"), "\(body)")
        }
    }

    @Test func retryFalseMakesOneAttemptAtASoldOutConfig() async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local ok, e = pcall(runcrate.create_instance, { name = "a", instance_type_id = "jolly-knuth-h100x1-75ff", retry = false })
            return ok, e.code
            """)
        #expect(r.first == .boolean(false))
        #expect(r.count > 1 && r[1] == .string("no_capacity"))
        #expect(h.sandbox.requestLog().filter { $0.route == "instances.create" }.count == 1)
    }
}
