import Foundation
import Testing

@testable import RuncrateAPI

/// A request that passes every rule; each test breaks exactly one thing.
func validCreate() -> CreateInstanceRequest {
    CreateInstanceRequest(name: "trainer-1", gpuType: "h100-sxm", sshKeyID: "key_1")
}

func fieldErrors(_ body: () throws -> Void) -> [FieldError] {
    do {
        try body()
    } catch let error as RuncrateError {
        #expect(error.code == .validationError)
        return error.fieldErrors
    } catch {
        Issue.record("unexpected error \(error)")
    }
    return []
}

func createErrors(_ request: CreateInstanceRequest) -> [String] {
    fieldErrors { _ = try PreparedCreateInstance(request) }.map(\.description)
}

func createErrors(json: JSONValue) -> [String] {
    fieldErrors { _ = try PreparedCreateInstance(json: json) }.map(\.description)
}

@Suite struct CreateValidation {
    @Test func validRequestPasses() throws {
        let prepared = try PreparedCreateInstance(validCreate())
        #expect(prepared.name == "trainer-1")
        #expect(prepared.warnings.isEmpty)
    }

    @Test func createRequiresName() {
        var request = validCreate()
        request.name = nil
        #expect(createErrors(request) == ["name is required"])
    }

    @Test func createRejectsBlankName() {
        var request = validCreate()
        request.name = "  "
        #expect(createErrors(request) == ["name must be a non-empty string (got \"  \")"])
    }

    @Test func createRejectsNameOver64Characters() {
        var request = validCreate()
        request.name = String(repeating: "a", count: 65)
        #expect(createErrors(request) == ["name must be at most 64 characters (got 65)"])
        request.name = String(repeating: "a", count: 64)
        #expect(createErrors(request) == [])
    }

    @Test func createRejectsBothGpuTypeAndTypeId() {
        var request = validCreate()
        request.instanceTypeID = "stoic-tharp-h100x2-4d7a"
        #expect(createErrors(request) == ["exactly one of gpu_type or instance_type_id is required (got both)"])
    }

    @Test func createRequiresGpuTypeOrTypeId() {
        var request = validCreate()
        request.gpuType = nil
        #expect(createErrors(request) == ["exactly one of gpu_type or instance_type_id is required (got neither)"])
        request.instanceTypeID = "stoic-tharp-h100x2-4d7a"
        #expect(createErrors(request) == [])
    }

    @Test(arguments: ["gpu_count", "cpu_cores", "memory", "storage"])
    func createRejectsIntegersBelowOne(field: String) {
        var request = validCreate()
        switch field {
        case "gpu_count": request.gpuCount = 0
        case "cpu_cores": request.cpuCores = 0
        case "memory": request.memory = -4
        default: request.storage = 0
        }
        let got = field == "memory" ? "-4" : "0"
        #expect(createErrors(request) == ["\(field) must be an integer >= 1 (got \(got))"])
    }

    @Test func createAcceptsIntegersOfOne() {
        var request = validCreate()
        request.gpuCount = 1
        request.cpuCores = 1
        request.memory = 1
        request.storage = 1
        #expect(createErrors(request) == [])
    }

    @Test func createChecksMaxRuntimeRange() {
        var request = validCreate()
        request.maxRuntimeMinutes = 4
        #expect(createErrors(request) == ["max_runtime_minutes must be an integer from 5 to 10080 (got 4)"])
        request.maxRuntimeMinutes = 10081
        #expect(createErrors(request) == ["max_runtime_minutes must be an integer from 5 to 10080 (got 10081)"])
        request.maxRuntimeMinutes = 10080
        #expect(createErrors(request) == [])
        request.maxRuntimeMinutes = 5
        #expect(createErrors(request) == [])
    }

    @Test func createChecksIdleShutdownRange() {
        var request = validCreate()
        request.idleShutdownMinutes = 1441
        #expect(createErrors(request) == ["idle_shutdown_minutes must be an integer from 5 to 1440 (got 1441)"])
        request.idleShutdownMinutes = 4
        #expect(createErrors(request) == ["idle_shutdown_minutes must be an integer from 5 to 1440 (got 4)"])
        request.idleShutdownMinutes = 1440
        #expect(createErrors(request) == [])
    }

    @Test func createRejectsBadEnvKeys() {
        var request = validCreate()
        request.envVars = [EnvVar(key: "OK_1", value: "x"), EnvVar(key: "1BAD", value: "y"), EnvVar(key: "has-dash", value: "z"), EnvVar(key: "", value: "")]
        #expect(createErrors(request) == [
            "env_vars.1.key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got \"1BAD\")",
            "env_vars.2.key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got \"has-dash\")",
            "env_vars.3.key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got \"\")",
        ])
        let errors = fieldErrors { _ = try PreparedCreateInstance(request) }
        #expect(errors.first?.path == [.key("env_vars"), .index(1), .key("key")])
    }

    @Test func createRejectsDuplicateEnvKeys() {
        var request = validCreate()
        request.envVars = [EnvVar(key: "A", value: "1"), EnvVar(key: "_b", value: "2"), EnvVar(key: "A", value: "3")]
        #expect(createErrors(request) == ["env_vars.2.key must be unique (got \"A\" again; first at env_vars.0.key)"])
    }

    @Test func createRejectsBothLaunchScriptForms() {
        var request = validCreate()
        request.launchScript = "echo hi"
        request.launchScriptBase64 = Data("echo hi".utf8).base64EncodedString()
        #expect(createErrors(request) == ["at most one of launch_script or launch_script_base64 may be given (got both)"])
    }

    @Test func createRejectsInvalidBase64() {
        var request = validCreate()
        request.launchScriptBase64 = "not base64!"
        #expect(createErrors(request) == ["launch_script_base64 must be valid base64 (got \"not base64!\")"])
        request.launchScriptBase64 = "ZWNobyBoaQ="  // wrong padding
        #expect(createErrors(request).count == 1)
        request.launchScriptBase64 = "ZWNobyBoaQ==\n"
        #expect(createErrors(request) == [])
    }

    @Test func createRejectsEmptyOptionalStrings() {
        var request = validCreate()
        request.region = ""
        request.template = ""
        request.storageID = " "
        request.launchScript = ""
        #expect(createErrors(request) == [
            "region must be a non-empty string (got \"\")",
            "template must be a non-empty string (got \"\")",
            "storage_id must be a non-empty string (got \" \")",
            "launch_script must be a non-empty string (got \"\")",
        ])
    }

    @Test func createRejectsEmptyStartupCommand() {
        var request = validCreate()
        request.startupCommands = ["nvidia-smi", ""]
        #expect(createErrors(request) == ["startup_commands.1 must be a non-empty string (got \"\")"])
    }

    @Test func createWarnsWithoutSSHKey() throws {
        var request = validCreate()
        request.sshKeyID = nil
        let prepared = try PreparedCreateInstance(request)
        #expect(prepared.warnings == ["no ssh_key_id given: the instance will have no SSH access"])
    }

    @Test func createReportsAllProblemsAtOnce() {
        let request = CreateInstanceRequest(
            name: "", gpuType: "h100", instanceTypeID: "t-1", gpuCount: 0, memory: 0,
            envVars: [EnvVar(key: "9", value: "x"), EnvVar(key: "A", value: "1"), EnvVar(key: "A", value: "2")],
            launchScript: "x", launchScriptBase64: "%%%", maxRuntimeMinutes: 1, idleShutdownMinutes: 99999)
        let errors = fieldErrors { _ = try PreparedCreateInstance(request) }
        #expect(errors.map(\.field) == [
            "name", "", "gpu_count", "memory", "env_vars.0.key", "env_vars.2.key", "", "launch_script_base64",
            "max_runtime_minutes", "idle_shutdown_minutes",
        ])
        do {
            _ = try PreparedCreateInstance(request)
        } catch {
            #expect(error.description.hasPrefix("validation_error: name must be a non-empty string (got \"\"); exactly one of"))
        }
    }
}

@Suite struct CreateSpecFromJSON {
    @Test func jsonSpecAcceptsIntegralFloatsAndRejectsFractions() throws {
        let prepared = try PreparedCreateInstance(json: ["name": "a", "gpu_type": "h100", "gpu_count": 2.0])
        #expect(prepared.request.gpuCount == 2)
        #expect(createErrors(json: ["name": "a", "gpu_type": "h100", "gpu_count": 2.5]) == ["gpu_count must be an integer (got 2.5)"])
    }

    @Test func jsonSpecReportsWrongTypes() {
        #expect(createErrors(json: ["name": 5, "gpu_type": "h100", "startup_commands": "ls"]) == [
            "name must be a string (got 5)",
            "startup_commands must be an array of strings (got \"ls\")",
        ])
    }

    @Test func jsonSpecRejectsUnknownFieldsWithSuggestion() {
        #expect(createErrors(json: ["name": "a", "gpu": "h100"]) == [
            "gpu is not a field of a create request (did you mean 'gpu_type'?)",
            "exactly one of gpu_type or instance_type_id is required (got neither)",
        ])
        #expect(createErrors(json: ["name": "a", "gpu_type": "x", "gpu_cuont": 1]) == [
            "gpu_cuont is not a field of a create request (did you mean 'gpu_count'?)"
        ])
    }

    @Test func jsonSpecAcceptsEnvAsMapSortedByKey() throws {
        let prepared = try PreparedCreateInstance(json: ["name": "a", "gpu_type": "h100", "env_vars": ["B": "2", "A": "1"]])
        #expect(prepared.request.envVars == [EnvVar(key: "A", value: "1"), EnvVar(key: "B", value: "2")])
    }

    @Test func jsonSpecEnvArrayKeepsSecretFlagAndPaths() throws {
        let prepared = try PreparedCreateInstance(json: [
            "name": "a", "gpu_type": "h100", "env_vars": [["key": "TOKEN", "value": "s3cr3t", "secret": true]],
        ])
        #expect(prepared.request.envVars == [EnvVar(key: "TOKEN", value: "s3cr3t", secret: true)])
        #expect(!prepared.description.contains("s3cr3t"))
        #expect(createErrors(json: ["name": "a", "gpu_type": "h", "env_vars": [["key": "OK", "value": "1"], ["value": 2], "x"]]) == [
            "env_vars.1.key is required",
            "env_vars.1.value must be a string (got 2)",
            "env_vars.2 must be an object {key, value} (got \"x\")",
        ])
    }

    @Test func jsonSpecMustBeAnObject() {
        #expect(createErrors(json: ["a"]) == ["expected the create spec to be an object (got an array)"])
    }
}

@Suite struct OtherRequestValidation {
    @Test func updateRequiresSomethingToChange() {
        let errors = fieldErrors { _ = try Endpoint.updateInstance(id: "i-1", UpdateInstanceRequest()) }
        #expect(errors.map(\.description) == ["nothing to update: give max_runtime_minutes and/or idle_shutdown_minutes"])
    }

    @Test func updateChecksRangesAndId() {
        let errors = fieldErrors {
            _ = try Endpoint.updateInstance(id: "", UpdateInstanceRequest(maxRuntimeMinutes: .set(3), idleShutdownMinutes: .set(2000)))
        }
        #expect(errors.map(\.description) == [
            "id must be a non-empty string (got \"\")",
            "max_runtime_minutes must be an integer from 5 to 10080 (got 3)",
            "idle_shutdown_minutes must be an integer from 5 to 1440 (got 2000)",
        ])
    }

    @Test func updateFromJSONTreatsNullAsClear() throws {
        let update = try UpdateInstanceRequest(json: ["max_runtime_minutes": nil, "idle_shutdown_minutes": 30])
        #expect(update == UpdateInstanceRequest(maxRuntimeMinutes: .clear, idleShutdownMinutes: .set(30)))
        #expect(update.wireBody().serialized == #"{"idle_shutdown_minutes":30,"max_runtime_minutes":null}"#)
    }

    @Test func sshKeyNeedsNameAndOneOpenSSHLine() {
        let errors = fieldErrors { _ = try Endpoint.createSSHKey(CreateSSHKeyRequest(name: nil, publicKey: "ssh-ed25519 AAAA\nssh-rsa BBBB")) }
        #expect(errors.map(\.description) == [
            "name is required",
            "public_key must be one OpenSSH public key line such as \"ssh-ed25519 AAAA… comment\" (got 2 lines)",
        ])
        let bad = fieldErrors { _ = try Endpoint.createSSHKey(CreateSSHKeyRequest(name: "k", publicKey: "hello world")) }
        #expect(bad.map(\.field) == ["public_key"])
    }

    @Test func sshKeyAcceptsARealKeyLine() throws {
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGnZ1PzhUBY+o2+yBtWdYbYcAUd1V6Hh3dZ0oRKR0QcP me@host\n"
        let prepared = try Endpoint.createSSHKey(CreateSSHKeyRequest(name: "laptop", publicKey: line))
        #expect(prepared.body?["public_key"] == .string(String(line.dropLast())))
    }

    @Test func volumeNeedsNameSizeAndRegion() {
        let errors = fieldErrors { _ = try Endpoint.createVolume(CreateVolumeRequest(name: "", sizeGB: 0)) }
        #expect(errors.map(\.description) == [
            "name must be a non-empty string (got \"\")",
            "size_gb must be an integer >= 1 (got 0)",
            "region is required",
        ])
        #expect(fieldErrors { _ = try Endpoint.createVolume(CreateVolumeRequest(name: "v", region: "eu")) }.map(\.description) == ["size_gb is required"])
    }

    @Test func resizeNeedsPositiveSize() {
        #expect(fieldErrors { _ = try Endpoint.resizeVolume(id: "v", sizeGB: 0) }.map(\.description) == ["size_gb must be an integer >= 1 (got 0)"])
    }

    @Test func idsMustBeNonEmpty() {
        #expect(fieldErrors { _ = try Endpoint.getInstance(id: "") }.map(\.field) == ["id"])
        #expect(fieldErrors { _ = try Endpoint.deleteVolume(id: " ") }.map(\.field) == ["id"])
    }

    @Test func listFiltersAreChecked() {
        #expect(fieldErrors { _ = try Endpoint.instanceTypes(ListInstanceTypesRequest(gpuCount: 0)) }.map(\.description) == ["gpu_count must be an integer >= 1 (got 0)"])
        #expect(fieldErrors { _ = try Endpoint.templates(ListTemplatesRequest(page: 0, pageSize: 0)) }.map(\.field) == ["page", "page_size"])
        #expect(fieldErrors { _ = try Endpoint.createEnvironment(name: "") }.map(\.field) == ["name"])
        #expect(fieldErrors { _ = try Endpoint.updateEnvironment(id: "e", UpdateEnvironmentRequest()) }.map(\.field) == [""])
    }
}
