import RuncrateAPI
import Testing
@testable import RuncrateLua

/// The dry run's transport as a value over a fake API: no Lua, no sandbox.
@Suite struct PlanningTransportTests {
    /// Answers reads from fixed JSON and records what reached it; refuses anything else.
    final class FakeAPI: RuncrateTransport {
        var sent: [String] = []
        func send<Response: Sendable>(_ request: PreparedRequest<Response>) throws(RuncrateError) -> Response {
            sent.append("\(request.method) \(request.path)")
            guard request.method == "GET" else { throw RuncrateError(code: .serverError, message: "a mutation reached the API") }
            if request.path == "/instances" {
                return try request.answer(status: 200, body: [["id": "i-old", "name": "run-old", "status": "running"]])
            }
            return try request.answer(status: 200, body: ["id": "i-old", "name": "run-old", "status": "running", "max_runtime_minutes": 60])
        }
        func createInstance(_ prepared: PreparedCreateInstance, failover: Bool) throws(RuncrateError) -> Instance {
            throw RuncrateError(code: .serverError, message: "a create reached the API")
        }
    }

    func make() -> (PlanningTransport, FakeAPI, Planner) {
        let api = FakeAPI(), planner = Planner()
        let catalogue = [2.49, 2.79].enumerated().map { i, rate in
            try! InstanceType(raw: ["id": .string("h\(i)"), "gpu_type": "h100-sxm", "gpu_count": 1, "region": "us-east",
                                    "hourly_rate": .double(rate)])
        }
        let transport = PlanningTransport(reads: { () throws(RuncrateError) in api }, planner: planner,
                                          catalogue: { () throws(RuncrateError) in catalogue })
        return (transport, api, planner)
    }

    func create(_ t: PlanningTransport, _ name: String) throws -> Instance {
        var req = CreateInstanceRequest()
        req.name = name
        req.gpuType = "h100-sxm"
        return try t.createInstance(try PreparedCreateInstance(req), failover: false)
    }

    @Test func createsArePlannedWithPricesAndNeverSent() throws {
        let (t, api, planner) = make()
        let inst = try create(t, "run-1")
        #expect(inst.id == "planned-1")
        #expect(inst.raw["status"] == "planned")
        #expect(inst.raw["cost_per_hour"] == .double(2.49))
        #expect(inst.raw["cost_per_hour_max"] == .double(2.79))
        #expect(planner.entries.map(\.op) == ["create_instance"])
        #expect(planner.entries.first?.price == PriceRange(low: 2.49, high: 2.79, exact: false))
        #expect(api.sent.isEmpty)
    }

    @Test func plannedInstancesAreServedAndListedAfterTheServers() throws {
        let (t, api, _) = make()
        _ = try create(t, "run-1")
        #expect(try t.send(try Endpoint.getInstance(id: "planned-1")).raw["name"] == "run-1")
        #expect(try t.send(try Endpoint.instanceStatus(id: "planned-1")).status == "planned")
        #expect(try t.send(try Endpoint.listInstances(search: "run")).map(\.id) == ["i-old", "planned-1"])
        #expect(try t.send(try Endpoint.listInstances(search: "other")).map(\.id) == ["i-old"])
        #expect(api.sent == ["GET /instances", "GET /instances"])
    }

    @Test func mutationsAreRecordedAndAnsweredInTheLiveShapes() throws {
        let (t, api, planner) = make()
        _ = try create(t, "run-1")
        let updated = try t.send(try Endpoint.updateInstance(id: "i-old", UpdateInstanceRequest(idleShutdownMinutes: .set(30))))
        #expect(updated.raw["name"] == "run-old")
        #expect(updated.raw["idle_shutdown_minutes"] == 30)
        #expect(try t.send(try Endpoint.deleteInstance(id: "planned-1")).raw == .null)
        #expect(try t.send(try Endpoint.instanceStatus(id: "planned-1")).status == "terminated")
        #expect(try t.send(try Endpoint.resizeVolume(id: "vol-1", sizeGB: 200)).raw["size_gb"] == 200)
        let key = try t.send(try Endpoint.createSSHKey(CreateSSHKeyRequest(
            name: "laptop", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f x")))
        #expect(key.id == "planned-key-1")
        #expect(planner.entries.map(\.op) == ["create_instance", "update_instance", "delete_instance", "resize_volume", "create_ssh_key"])
        #expect(planner.entries[2].name == "run-1")
        // Only the read of the real instance the update changes reached the API.
        #expect(api.sent == ["GET /instances/i-old"])
    }
}
