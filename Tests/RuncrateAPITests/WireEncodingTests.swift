import Foundation
import Testing

@testable import RuncrateAPI

@Suite struct WireEncoding {
    @Test func createBodyUsesSnakeCaseIntegersAndEnvArray() throws {
        let request = CreateInstanceRequest(
            name: "n", gpuType: "h100-sxm", region: "us-east", gpuCount: 2, cpuCores: 8, memory: 64, storage: 100,
            template: "tpl", sshKeyID: "key", envVars: [EnvVar(key: "B", value: "2"), EnvVar(key: "A", value: "x\"y", secret: true)],
            startupCommands: ["nvidia-smi", "echo ok"], storageID: "vol", launchScriptBase64: "ZWNobyBoaQ==",
            maxRuntimeMinutes: 60, idleShutdownMinutes: 30)
        let prepared = try PreparedCreateInstance(request)
        #expect(prepared.body.serialized == """
            {"cpu_cores":8,"env_vars":[{"key":"B","value":"2"},{"key":"A","value":"x\\"y"}],"gpu_count":2,"gpu_type":"h100-sxm",\
            "idle_shutdown_minutes":30,"launch_script_base64":"ZWNobyBoaQ==","max_runtime_minutes":60,"memory":64,"name":"n",\
            "region":"us-east","ssh_key_id":"key","startup_commands":["nvidia-smi","echo ok"],"storage":100,"storage_id":"vol",\
            "template":"tpl"}
            """)
        #expect(prepared.redactedBody["env_vars"]?[1]?["value"] == "***")
        #expect(!prepared.description.contains("x\\\"y"))
    }

    @Test func createBodyWithTypeIdAndRawScript() throws {
        let prepared = try PreparedCreateInstance(CreateInstanceRequest(name: "n", instanceTypeID: "t-1", launchScript: "#!/bin/sh\necho hi"))
        #expect(prepared.body.serialized == ##"{"instance_type_id":"t-1","launch_script":"#!/bin/sh\necho hi","name":"n"}"##)
        let request = Endpoint.createInstance(prepared)
        #expect(request.method == "POST")
        #expect(request.path == "/instances")
        #expect(request.kind == .createInstance)
    }

    @Test func everyEndpointHasItsMethodPathQueryAndBody() throws {
        func line<R>(_ r: PreparedRequest<R>) -> String {
            let query = r.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
            return "\(r.method) \(r.path)\(query.isEmpty ? "" : "?" + query) \(r.body?.serialized ?? "-") \(r.kind.rawValue)"
        }
        let lines = [
            line(try Endpoint.listInstances(search: "train")),
            line(try Endpoint.getInstance(id: "i 1/x")),
            line(try Endpoint.updateInstance(id: "my-name", UpdateInstanceRequest(maxRuntimeMinutes: .set(120)))),
            line(try Endpoint.deleteInstance(id: "i1")),
            line(try Endpoint.instanceStatus(id: "i1")),
            line(try Endpoint.instanceTypes(ListInstanceTypesRequest(gpuType: "h100", region: "eu", gpuCount: 2))),
            line(Endpoint.sshKeys()),
            line(try Endpoint.createSSHKey(CreateSSHKeyRequest(name: "k", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 c", type: "ed25519"))),
            line(try Endpoint.deleteSSHKey(id: "k1")),
            line(try Endpoint.volumes(search: "data")),
            line(try Endpoint.createVolume(CreateVolumeRequest(name: "v", sizeGB: 100, region: "eu"))),
            line(Endpoint.volumeRegions()),
            line(try Endpoint.volume(id: "v1")),
            line(try Endpoint.resizeVolume(id: "v1", sizeGB: 200)),
            line(try Endpoint.deleteVolume(id: "v1")),
            line(try Endpoint.templates(ListTemplatesRequest(page: 2, pageSize: 10, search: "torch", category: "ml"))),
            line(Endpoint.environments()),
            line(try Endpoint.createEnvironment(name: "staging")),
            line(try Endpoint.environment(id: "e1")),
            line(try Endpoint.updateEnvironment(id: "e1", UpdateEnvironmentRequest(name: "prod", isDefault: true))),
            line(try Endpoint.deleteEnvironment(id: "e1")),
            line(Endpoint.balance()),
        ]
        #expect(lines == [
            "GET /instances?search=train - idempotent",
            "GET /instances/i%201%2Fx - idempotent",
            #"PATCH /instances/my-name {"max_runtime_minutes":120} idempotent"#,
            "DELETE /instances/i1 - idempotent",
            "GET /instances/i1/status - idempotent",
            "GET /instances/types?gpu_type=h100&region=eu&gpu_count=2 - idempotent",
            "GET /ssh-keys - idempotent",
            #"POST /ssh-keys {"name":"k","public_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 c","type":"ed25519"} otherCreate"#,
            "DELETE /ssh-keys/k1 - idempotent",
            "GET /storage?search=data - idempotent",
            #"POST /storage {"name":"v","region":"eu","size_gb":100} otherCreate"#,
            "GET /storage/regions - idempotent",
            "GET /storage/v1 - idempotent",
            #"PATCH /storage/v1 {"size_gb":200} idempotent"#,
            "DELETE /storage/v1 - idempotent",
            "GET /templates?page=2&page_size=10&search=torch&category=ml - idempotent",
            "GET /environments - idempotent",
            #"POST /environments {"name":"staging"} otherCreate"#,
            "GET /environments/e1 - idempotent",
            #"PATCH /environments/e1 {"is_default":true,"name":"prod"} idempotent"#,
            "DELETE /environments/e1 - idempotent",
            "GET /billing/balance - idempotent",
        ])
    }
}

@Suite struct ResponseDecodingTests {
    func response(_ text: String, status: Int = 200) -> RawResponse { RawResponse(status: status, body: Data(text.utf8)) }

    @Test func instanceDecodesBothCasingsAndKeepsUnknownFields() throws {
        let instance = try ResponseDecoding.one(Instance.self)(response(
            #"{"data":{"id":"i1","name":"n","gpuType":"h100","gpu_count":2.0,"costPerHour":3,"created_at":"2026-01-02T03:04:05.123Z","shiny":{"x":1}}}"#))
        #expect(instance.id == "i1")
        #expect(instance.gpuType == "h100")
        #expect(instance.gpuCount == 2)
        #expect(instance.costPerHour == 3.0)
        #expect(instance.status == nil)
        #expect(instance.createdAt == Date(timeIntervalSince1970: 1_767_323_045.123))
        #expect(instance.raw["shiny"] == ["x": 1])
    }

    @Test func numericIdIsAccepted() throws {
        #expect(try ResponseDecoding.one(SSHKey.self)(response(#"{"data":{"id":42}}"#)).id == "42")
    }

    @Test func missingIdIsInvalidResponse() {
        #expect(throws: RuncrateError.self) { try ResponseDecoding.one(Instance.self)(self.response(#"{"data":{"name":"n"}}"#)) }
        do {
            _ = try ResponseDecoding.list(Volume.self)(response(#"{"data":[{"id":"v"},{"size_gb":1}]}"#))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidResponse)
            #expect(error.message == "item 1: volume in the response has no id")
        }
    }

    @Test func nonJSONSuccessIsInvalidResponse() {
        for body in ["<html>oops</html>", "", #"{"data": 5}"#, #"{"nothing":true}"#] {
            do {
                _ = try ResponseDecoding.one(Instance.self)(response(body))
                Issue.record("expected invalid_response for \(body)")
            } catch {
                #expect(error.code == .invalidResponse, "\(body)")
                #expect(error.status == 200)
            }
        }
    }

    @Test func listKeepsMeta() throws {
        let page = try ResponseDecoding.page(Template.self)(response(#"{"data":[{"id":"t","name":"Torch"}],"meta":{"hasMore":true,"total":7,"requestId":"r1"}}"#))
        #expect(page.items.map(\.name) == ["Torch"])
        #expect(page.meta?.hasMore == true)
        #expect(page.meta?.total == 7)
        #expect(page.meta?.requestID == "r1")
    }

    @Test func deleteAcceptsNoContentAndBodies() throws {
        #expect(try ResponseDecoding.delete(response("", status: 204)).raw == .null)
        let result = try ResponseDecoding.delete(response(#"{"data":{"message":"deleted","refund_amount":1.5}}"#))
        #expect(result.message == "deleted")
        #expect(result.refundAmount == 1.5)
    }

    @Test func balanceNeedsNoId() throws {
        let balance = try ResponseDecoding.balance(response(#"{"data":{"creditsBalance":12.5,"activeUsageCost":2}}"#))
        #expect(balance.creditsBalance == 12.5)
        #expect(balance.activeUsageCost == 2)
    }

    @Test func jsonValueRoundTripsThroughCodable() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", true, nil], "b": ["c": "d"]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        #expect(JSONValue.parse(value.serialized) == value)
    }
}

@Suite struct ErrorMapping {
    func map(_ status: Int, _ body: String, headers: [(String, String)] = []) -> (RuncrateError, FailureClass) {
        HTTPErrorMapping.error(for: RawResponse(status: status, headers: headers, body: Data(body.utf8)), now: Date(timeIntervalSince1970: 1_000_000_000))
    }

    @Test func statusesMapToCodes() {
        let cases: [(Int, String, RuncrateError.Code, FailureClass)] = [
            (400, #"{"error":{"code":"bad_request","message":"bad"}}"#, .badRequest, .clientError),
            (401, #"{"error":{"code":"invalid_api_key","message":"no"}}"#, .unauthorized, .clientError),
            (402, #"{"error":{"code":"BUDGET_REACHED","message":"spent"}}"#, .insufficientCredits, .clientError),
            (403, #"{"error":"forbidden"}"#, .forbidden, .clientError),
            (404, #"{"message":"gone"}"#, .notFound, .clientError),
            (409, "{}", .conflict, .clientError),
            (422, #"{"error":{"code":"validation_error","message":"bad","details":{"gpu_count":"must be >= 1"}}}"#, .validationError, .clientError),
            (429, #"{"error":{"code":"rate_limited","message":"slow"}}"#, .rateLimited, .rateLimited),
            (500, "<html>boom</html>", .serverError, .serverError),
            (500, #"{"error":{"message":"Config h100x8 is no longer available"}}"#, .soldOut, .soldOut),
            (502, #"{"error":{"code":"launch_refused","message":"refused"}}"#, .launchRefused, .launchRefused),
            (502, "bad gateway", .serverError, .badGateway),
            (503, #"{"error":{"code":"no_capacity","message":"none"}}"#, .noCapacity, .noCapacity),
            (504, "", .timeout, .gatewayTimeout),
        ]
        for (status, body, code, failure) in cases {
            let (error, got) = map(status, body)
            #expect(error.code == code, "\(status) \(body)")
            #expect(got == failure, "\(status) \(body)")
            #expect(error.status == status)
        }
        #expect(map(401, #"{"error":{"code":"invalid_api_key","message":"no"}}"#).0.serverCode == "invalid_api_key")
        #expect(map(403, #"{"error":"forbidden"}"#).0.message == "forbidden")
        #expect(map(500, "<html>boom</html>").0.message == "<html>boom</html>")
        #expect(map(422, #"{"error":{"details":{"gpu_count":"must be >= 1"}}}"#).0.fieldErrors == [FieldError("gpu_count", "must be >= 1")])
        #expect(!map(502, #"{"error":{"code":"launch_refused"}}"#).0.isRetryable)
        #expect(map(503, "").0.isRetryable)
    }

    @Test func retryAfterSecondsHTTPDateAndResetAreRead() {
        #expect(map(429, "", headers: [("Retry-After", "3")]).0.retryAfter == 3)
        let date = HTTPDate.format(Date(timeIntervalSince1970: 1_000_000_007))
        #expect(map(429, "", headers: [("retry-after", date)]).0.retryAfter == 7)
        #expect(map(429, "", headers: [("X-RateLimit-Reset", "1000000005")]).0.retryAfter == 5)
        #expect(map(429, "").0.retryAfter == nil)
    }

    @Test func requestIdIsKept() {
        #expect(map(404, "{}", headers: [("X-Request-Id", "req-9")]).0.requestID == "req-9")
    }
}
