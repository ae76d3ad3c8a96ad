import Foundation
import RuncrateSandbox
import Testing

@testable import RuncrateAPI

let publicKeyLine = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f test@runcrate"

/// Starts a sandbox on an ephemeral loopback port and a client for it; stops both after `body`.
func withSandbox(
    faults: String? = nil, retry: RetryPolicy = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05),
    environment: String? = nil, realSleep: Bool = false,
    _ body: (SandboxServer, RuncrateClient, Transcript) async throws -> Void
) async throws {
    let sandbox = try await SandboxServer.start(SandboxOptions(port: 0, faults: faults, seed: 1, readyAfter: 0.2))
    let transcript = Transcript()
    let client = try makeClient(sandbox.baseURL, transcript: transcript, retry: retry, environment: environment, realSleep: realSleep)
    do {
        try await body(sandbox, client, transcript)
    } catch {
        try? await client.shutdown()
        await sandbox.stop()
        throw error
    }
    try await client.shutdown()
    await sandbox.stop()
}

@Suite struct SandboxRoundTrips {
    @Test func everyEndpointRoundTrips() async throws {
        try await withSandbox { sandbox, client, _ in
            let types = try await client.instanceTypes(ListInstanceTypesRequest(gpuType: "h100-sxm"))
            #expect(!types.isEmpty)
            #expect(types.allSatisfy { $0.gpuType == "h100-sxm" && $0.hourlyRate != nil })

            let key = try await client.createSSHKey(CreateSSHKeyRequest(name: "laptop", publicKey: publicKeyLine))
            #expect(key.name == "laptop")
            #expect(try await client.sshKeys().map(\.id) == [key.id])

            let created = try await client.createInstance(CreateInstanceRequest(
                name: "rt-1", gpuType: "h100-sxm", gpuCount: 1, sshKeyID: key.id,
                envVars: [EnvVar(key: "HF_TOKEN", value: "hf_x", secret: true)], maxRuntimeMinutes: 60))
            #expect(created.name == "rt-1")
            #expect(created.gpuType == "h100-sxm")
            #expect(created.costPerHour != nil)
            #expect(created.createdAt != nil)

            #expect(try await client.listInstances(search: "rt-1").map(\.id) == [created.id])
            #expect(try await client.getInstance(id: created.id).id == created.id)
            let status = try await client.instanceStatus(id: created.id)
            #expect(status.id == created.id)
            #expect(status.status != nil)
            let updated = try await client.updateInstance(id: created.id, UpdateInstanceRequest(maxRuntimeMinutes: .set(120), idleShutdownMinutes: .set(30)))
            #expect(updated.maxRuntimeMinutes == 120)
            #expect(updated.idleShutdownMinutes == 30)
            let byName = try await client.updateInstance(id: "rt-1", UpdateInstanceRequest(idleShutdownMinutes: .clear))
            #expect(byName.id == created.id)
            #expect(byName.idleShutdownMinutes == nil)

            let regions = try await client.volumeRegions()
            #expect(regions.map(\.id).contains("us-east"))
            let volume = try await client.createVolume(CreateVolumeRequest(name: "data", sizeGB: 50, region: "us-east"))
            #expect(volume.sizeGB == 50)
            #expect(try await client.volumes(search: "data").map(\.id) == [volume.id])
            #expect(try await client.volume(id: volume.id).name == "data")
            #expect(try await client.resizeVolume(id: volume.id, sizeGB: 80).sizeGB == 80)

            let templates = try await client.templates(ListTemplatesRequest(page: 1, pageSize: 2))
            #expect(templates.items.count <= 2)
            #expect(!templates.items.isEmpty)

            let env = try await client.createEnvironment(name: "staging")
            #expect(env.name == "staging")
            #expect(try await client.environments().contains { $0.id == env.id })
            #expect(try await client.environment(id: env.id).name == "staging")
            #expect(try await client.updateEnvironment(id: env.id, UpdateEnvironmentRequest(name: "stage")).name == "stage")

            let balance = try await client.balance()
            #expect(balance.creditsBalance != nil)

            let deleted = try await client.deleteInstance(id: created.id)
            #expect([200, 204].contains(deleted.status))
            _ = try await client.deleteVolume(id: volume.id)
            _ = try await client.deleteSSHKey(id: key.id)
            _ = try await client.deleteEnvironment(id: env.id)
            #expect(try await client.sshKeys().isEmpty)

            // The sandbox saw the array form of env_vars and the key only in the header.
            let createRecord = sandbox.requestLog().first { $0.route == "instances.create" }
            #expect(createRecord?.body?.contains(#""env_vars":[{"key":"HF_TOKEN""#) == true)
        }
    }

    @Test func environmentIsSentOnEveryCall() async throws {
        try await withSandbox(environment: "default") { sandbox, client, _ in
            _ = try await client.listInstances()
            _ = try await client.balance()
            let records = sandbox.requestLog()
            #expect(records.count == 2)
            #expect(records.allSatisfy { $0.query?.contains("environment=default") == true })
        }
    }
}

@Suite struct SandboxErrors {
    func code(faults: String, _ call: @escaping @Sendable (RuncrateClient) async throws -> Void) async throws -> (RuncrateError?, Int) {
        var result: (RuncrateError?, Int) = (nil, 0)
        try await withSandbox(faults: faults, retry: .none) { sandbox, client, transcript in
            let error = await expectError(transcript) { try await call(client) }
            result = (error, sandbox.requestLog().count)
        }
        return result
    }

    @Test func statusesMapToErrorCodes() async throws {
        let cases: [(String, RuncrateError.Code, Int)] = [
            ("balance=401", .unauthorized, 401),
            ("balance=402,code=BUDGET_REACHED", .insufficientCredits, 402),
            ("balance=403", .forbidden, 403),
            ("balance=429,retry-after=1", .rateLimited, 429),
            ("balance=500", .serverError, 500),
            ("balance=502,code=bad_gateway", .serverError, 502),
            ("balance=503", .noCapacity, 503),
            ("balance=504", .timeout, 504),
        ]
        for (faults, expected, status) in cases {
            let (error, _) = try await code(faults: faults) { _ = try await $0.balance() }
            #expect(error?.code == expected, "\(faults)")
            #expect(error?.status == status, "\(faults)")
        }
        let limited = try await code(faults: "balance=429,retry-after=1") { _ = try await $0.balance() }.0
        #expect(limited?.retryAfter == 1)
    }

    @Test func realNotFoundConflictAndValidationMap() async throws {
        try await withSandbox(retry: .none) { _, client, transcript in
            let missing = await expectError(transcript) { _ = try await client.getInstance(id: "nope") }
            #expect(missing?.code == .notFound)
            #expect(missing?.status == 404)

            _ = try await client.createSSHKey(CreateSSHKeyRequest(name: "k", publicKey: publicKeyLine))
            let duplicate = await expectError(transcript) { _ = try await client.createSSHKey(CreateSSHKeyRequest(name: "k", publicKey: publicKeyLine)) }
            #expect(duplicate?.code == .conflict)
            #expect(duplicate?.status == 409)

            // A 422 can only come from the server when it disagrees with local rules: send an unknown GPU.
            let invalid = await expectError(transcript) { _ = try await client.createInstance(CreateInstanceRequest(name: "x", gpuType: "no-such-gpu")) }
            #expect([.validationError, .notFound, .badRequest].contains(invalid?.code))
        }
        let (forced, _) = try await code(faults: "create=422") { _ = try await $0.createInstance(CreateInstanceRequest(name: "x", gpuType: "h100-sxm")) }
        #expect(forced?.code == .validationError)
        #expect(forced?.status == 422)
    }

    @Test func rateLimitWaitsForRetryAfterThenSucceeds() async throws {
        try await withSandbox(faults: "balance#1=429,retry-after=1", realSleep: true) { sandbox, client, transcript in
            let started = Date()
            let balance = try await client.balance()
            let elapsed = Date().timeIntervalSince(started)
            #expect(balance.creditsBalance != nil)
            #expect(elapsed >= 1.0)
            #expect(elapsed < 5)
            #expect(transcript.sleeps == [1])
            #expect(sandbox.requestLog().map(\.status) == [429, 200])
        }
    }

    @Test(arguments: ["commit:drop", "commit:504", "commit:500", "commit:502,code=bad_gateway"])
    func ambiguousCreateEndsWithExactlyOneInstance(fault: String) async throws {
        try await withSandbox(faults: "create#1=\(fault)") { sandbox, client, transcript in
            let instance = try await client.createInstance(CreateInstanceRequest(name: "amb-1", gpuType: "h100-sxm", sshKeyID: nil))
            let all = try await client.listInstances()
            #expect(all.map(\.id) == [instance.id])
            #expect(instance.name == "amb-1")
            #expect(sandbox.requestLog().filter { $0.route == "instances.create" }.count == 1)
            #expect(transcript.lines.contains { $0.contains("adopted") })
        }
    }

    @Test func launchRefusedIsNeverRetried() async throws {
        try await withSandbox(faults: "create=502,code=launch_refused") { sandbox, client, transcript in
            let error = await expectError(transcript) { _ = try await client.createInstance(CreateInstanceRequest(name: "lr", gpuType: "h100-sxm")) }
            #expect(error?.code == .launchRefused)
            #expect(error?.attempts == 1)
            #expect(sandbox.requestLog().map(\.route) == ["instances.list", "instances.create"])
        }
    }

    @Test func attemptsStayWithinTheBound() async throws {
        try await withSandbox(faults: "get=503", retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01)) { sandbox, client, transcript in
            let error = await expectError(transcript) { _ = try await client.getInstance(id: "i") }
            #expect(error?.code == .noCapacity)
            #expect(error?.attempts == 3)
            #expect(sandbox.requestLog().count == 3)
            #expect(transcript.sleeps.count == 2)
        }
        try await withSandbox(faults: "create=503", retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01)) { sandbox, client, transcript in
            let error = await expectError(transcript) { _ = try await client.createInstance(CreateInstanceRequest(name: "b", gpuType: "h100-sxm")) }
            #expect(error?.code == .noCapacity)
            #expect(sandbox.requestLog().filter { $0.route == "instances.create" }.count == 2)
        }
    }

    @Test func garbageSuccessIsInvalidResponse() async throws {
        try await withSandbox(faults: "balance=garbage") { sandbox, client, transcript in
            let error = await expectError(transcript) { _ = try await client.balance() }
            #expect(error?.code == .invalidResponse)
            #expect(sandbox.requestLog().count == 1)
        }
    }
}
