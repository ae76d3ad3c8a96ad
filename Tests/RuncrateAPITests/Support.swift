import Foundation
import Logging
import NIOConcurrencyHelpers

@testable import RuncrateAPI

/// The key every test client uses; the redaction test proves it never shows.
let testKey = "rc_live_SUITE_SECRET_9f27c1d4e5"

/// Collects everything a client could show: request-log events, log lines, error descriptions.
final class Transcript: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    private let waits = NIOLockedValueBox<[Double]>([])

    var lines: [String] { box.withLockedValue { $0 } }
    var sleeps: [Double] { waits.withLockedValue { $0 } }
    func add(_ line: String) { box.withLockedValue { $0.append(line) } }
    func slept(_ seconds: Double) { waits.withLockedValue { $0.append(seconds) } }

    func error(_ error: Error) {
        add(String(describing: error))
        add(String(reflecting: error))
        var dumpText = ""
        dump(error, to: &dumpText)
        add(dumpText)
    }

    /// Hooks that record instead of sleeping, unless `realSleep`.
    func hooks(realSleep: Bool = false) -> ClientHooks {
        var logger = Logger(label: "runcrate.test") { _ in TranscriptLogHandler(transcript: self) }
        logger.logLevel = .trace
        return ClientHooks(
            sleep: { seconds in
                self.slept(seconds)
                if realSleep { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
            },
            random: { 0.5 },
            onEvent: { self.add($0.description) },
            logger: logger)
    }
}

struct TranscriptLogHandler: LogHandler {
    let transcript: Transcript
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        transcript.add("\(level): \(message)")
    }
}

/// Every transcript made in the suite, for the key-leak test.
let allTranscripts = NIOLockedValueBox<[Transcript]>([])

func makeClient(
    _ baseURL: String, transcript: Transcript, retry: RetryPolicy = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05),
    environment: String? = nil, timeouts: Timeouts = Timeouts(), realSleep: Bool = false
) throws -> RuncrateClient {
    allTranscripts.withLockedValue { $0.append(transcript) }
    let configuration = try RuncrateConfiguration(
        apiKey: try APIKey(testKey), baseURL: baseURL, environment: environment, timeouts: timeouts, retry: retry)
    let client = RuncrateClient(configuration: configuration, hooks: transcript.hooks(realSleep: realSleep))
    transcript.add(client.description)
    transcript.add(String(reflecting: client))
    var dumpText = ""
    dump(client, to: &dumpText)
    transcript.add(dumpText)
    return client
}

/// Runs `body`, expecting a `RuncrateError`; records it in the transcript.
func expectError(_ transcript: Transcript, _ body: () async throws -> Void) async -> RuncrateError? {
    do {
        try await body()
    } catch let error as RuncrateError {
        transcript.error(error)
        return error
    } catch {
        transcript.add("\(error)")
        return nil
    }
    return nil
}

func isoNow(_ offset: Double = 0) -> String {
    ISO8601DateFormatter().string(from: Date().addingTimeInterval(offset))
}

func instanceJSON(id: String, name: String, gpuType: String = "h100-sxm", created: String = isoNow()) -> String {
    #"{"id":"\#(id)","name":"\#(name)","gpu_type":"\#(gpuType)","status":"creating","created_at":"\#(created)"}"#
}
