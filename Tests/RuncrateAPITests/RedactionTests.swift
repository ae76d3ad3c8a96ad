import Foundation
import Testing

@testable import RuncrateAPI

/// The key must never appear in anything the client shows: log lines, events, errors, dumps.
@Suite struct RedactionTests {
    @Test func keyNeverAppearsInLogsErrorsOrDumps() async throws {
        // A server that echoes the Authorization header back in its error messages.
        let server = try await ScriptedServer { request in
            let auth = request.header("Authorization") ?? ""
            switch request.uri {
            case let uri where uri.hasPrefix("/api/v1/instances/e401"):
                return .respond(401, body: #"{"error":{"code":"invalid_api_key","message":"bad key \#(auth)"}}"#)
            case let uri where uri.hasPrefix("/api/v1/instances/e500"):
                return .respond(500, body: "crash with \(auth)")
            case let uri where uri.hasPrefix("/api/v1/instances/bad"):
                return .respond(200, body: "not json \(auth)")
            default:
                return .respond(404, body: #"{"message":"nothing at \#(request.uri) for \#(auth)"}"#)
            }
        }
        let transcript = Transcript()
        let client = try makeClient(server.baseURL, transcript: transcript, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01))
        for id in ["e401", "e500", "bad", "missing"] {
            _ = await expectError(transcript) { _ = try await client.getInstance(id: id) }
        }
        _ = await expectError(transcript) {
            _ = try await client.createInstance(CreateInstanceRequest(name: "", gpuType: "x", envVars: [EnvVar(key: "TOKEN", value: testKey, secret: true)]))
        }
        let prepared = try PreparedCreateInstance(CreateInstanceRequest(name: "n", gpuType: "x", envVars: [EnvVar(key: "TOKEN", value: testKey, secret: true)]))
        transcript.add(prepared.description)
        transcript.add(prepared.request.description)
        transcript.add(prepared.redactedBody.serialized)
        transcript.add(Endpoint.createInstance(prepared).redactedBody?.serialized ?? "")
        _ = await expectError(transcript) { _ = try RuncrateConfiguration.resolve(apiKey: "sk_" + testKey, sources: ConfigurationSources(environment: [:], homeDirectory: "/nonexistent")) }
        try await client.shutdown()
        await server.stop()

        // Make sure the server did echo the key, so the test could fail.
        #expect(server.requests.allSatisfy { $0.header("Authorization") == "Bearer \(testKey)" })
        #expect(transcript.lines.count > 20)
        #expect(transcript.lines.contains { $0.contains("***") })
        let everything = allTranscripts.withLockedValue { $0 }.flatMap(\.lines) + transcript.lines
        let secretPart = String(testKey.dropFirst("rc_live_".count))
        for line in everything {
            #expect(!line.contains(secretPart), "key leaked in: \(line)")
        }
    }
}
