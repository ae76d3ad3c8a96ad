import Foundation
import Testing
@testable import RuncrateSandbox

@Suite("concurrency")
struct ConcurrencyTests {
    @Test func concurrentCreatesNeverOversellStock() async throws {
        try await withSandbox { s in
            let typeID = try await firstInStock(s, gpu: "a100-80gb")
            try s.setStock(typeID: typeID, count: 3)
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        await http(s, "POST", "/api/v1/instances", body: #"{"name":"c\#(i)","instance_type_id":"\#(typeID)"}"#).status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 3)
            #expect(statuses.filter { $0 == 503 }.count == 7)
            #expect(s.stock(typeID: typeID) == 0)
            let ids = await http(s, "GET", "/api/v1/instances").data?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(Set(ids).count == 3)
        }
    }
}
