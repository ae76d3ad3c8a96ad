import Foundation
import Testing

@testable import RuncrateAPI

@Suite struct RetryPolicyTests {
    @Test func matrixFollowsTheContract() {
        let expected: [(FailureClass, RetryAction, RetryAction)] = [
            (.notSent, .retry, .retry),
            (.lostInFlight, .retry, .reconcile),
            (.rateLimited, .retry, .retry),
            (.noCapacity, .retry, .retry),
            (.serverError, .retry, .reconcile),
            (.soldOut, .retry, .fail),
            (.launchRefused, .fail, .fail),
            (.badGateway, .retry, .reconcile),
            (.gatewayTimeout, .retry, .reconcile),
            (.clientError, .fail, .fail),
            (.invalidResponse, .fail, .fail),
        ]
        #expect(expected.count == FailureClass.allCases.count)
        for (failure, idempotent, create) in expected {
            #expect(RetryPolicy.action(for: failure, kind: .idempotent) == idempotent, "\(failure)")
            #expect(RetryPolicy.action(for: failure, kind: .createInstance) == create, "\(failure)")
        }
        for failure in FailureClass.allCases {
            let other = RetryPolicy.action(for: failure, kind: .otherCreate)
            #expect(other != .reconcile)
            if [.notSent, .rateLimited, .noCapacity].contains(failure) { #expect(other == .retry) } else { #expect(other == .fail) }
        }
    }

    @Test func backoffDoublesIsCappedAndJittered() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 0.5, maxDelay: 4, jitter: 0.2)
        #expect(policy.backoff(afterAttempt: 1, random: 0.5) == 0.5)
        #expect(policy.backoff(afterAttempt: 2, random: 0.5) == 1)
        #expect(policy.backoff(afterAttempt: 3, random: 0.5) == 2)
        #expect(policy.backoff(afterAttempt: 6, random: 0.5) == 4)
        #expect(policy.backoff(afterAttempt: 2, random: 0) == 0.8)
        #expect(abs(policy.backoff(afterAttempt: 2, random: 0.999_999) - 1.2) < 1e-5)
        #expect(policy.backoff(afterAttempt: 9, random: 0.999) <= 4)
    }

    @Test func serverWaitReadsAllForms() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryPolicy.serverWait(retryAfter: "2", rateLimitReset: nil, now: now) == 2)
        #expect(RetryPolicy.serverWait(retryAfter: HTTPDate.format(now.addingTimeInterval(30)), rateLimitReset: nil, now: now) == 30)
        #expect(RetryPolicy.serverWait(retryAfter: nil, rateLimitReset: "1700000012", now: now) == 12)
        #expect(RetryPolicy.serverWait(retryAfter: nil, rateLimitReset: "4", now: now) == 4)
        #expect(RetryPolicy.serverWait(retryAfter: "garbage", rateLimitReset: nil, now: now) == nil)
        #expect(RetryPolicy.serverWait(retryAfter: HTTPDate.format(now.addingTimeInterval(-5)), rateLimitReset: nil, now: now) == 0)
    }
}

func dumped(_ value: Any) -> String {
    var out = ""
    dump(value, to: &out)
    return out
}

@Suite struct ConfigurationTests {
    let key = "rc_live_TESTKEY_config_0123456789"

    func tempHome() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rc-config-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir + "/runcrate", withIntermediateDirectories: true)
        return dir
    }

    func writeConfig(_ dir: String, _ json: String, mode: Int) {
        let path = dir + "/runcrate/config.json"
        FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
        try! FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    @Test func explicitBeatsEnvironmentBeatsFile() throws {
        let dir = tempHome()
        writeConfig(dir, #"{"api_key":"rc_live_fromfile","base_url":"http://file.example","environment":"file-env"}"#, mode: 0o600)
        let sources = ConfigurationSources(environment: [
            "XDG_CONFIG_HOME": dir, "RUNCRATE_API_KEY": "rc_live_fromenv", "RUNCRATE_BASE_URL": "http://env.example/api/v1/",
        ])
        let fromEnv = try RuncrateConfiguration.resolve(sources: sources)
        #expect(fromEnv.apiKey.reveal() == "rc_live_fromenv")
        #expect(fromEnv.baseURL == "http://env.example")
        #expect(fromEnv.environment == "file-env")
        let explicit = try RuncrateConfiguration.resolve(apiKey: "rc_live_explicit", baseURL: "https://x.example", environment: "e", sources: sources)
        #expect(explicit.apiKey.reveal() == "rc_live_explicit")
        #expect(explicit.baseURL == "https://x.example")
        #expect(explicit.environment == "e")
        let fileOnly = try RuncrateConfiguration.resolve(sources: ConfigurationSources(environment: ["XDG_CONFIG_HOME": dir]))
        #expect(fileOnly.apiKey.reveal() == "rc_live_fromfile")
        #expect(fileOnly.baseURL == "http://file.example")
    }

    @Test func homeConfigIsUsedWithoutXDG() throws {
        let home = tempHome()
        try FileManager.default.createDirectory(atPath: home + "/.config/runcrate", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: home + "/.config/runcrate/config.json", contents: Data(#"{"apiKey":"rc_live_home"}"#.utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: home + "/.config/runcrate/config.json")
        let config = try RuncrateConfiguration.resolve(sources: ConfigurationSources(environment: ["HOME": home]))
        #expect(config.apiKey.reveal() == "rc_live_home")
        #expect(config.baseURL == "https://www.runcrate.ai")
    }

    @Test func worldReadableFileWithKeyIsRefused() {
        let dir = tempHome()
        writeConfig(dir, #"{"api_key":"rc_live_leaky"}"#, mode: 0o644)
        do {
            _ = try RuncrateConfiguration.resolve(sources: ConfigurationSources(environment: ["XDG_CONFIG_HOME": dir]))
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.code == .configurationError)
            #expect(error.message.contains("readable by every user"))
            #expect(error.message.contains("chmod 600"))
            #expect(!error.description.contains("rc_live_leaky"))
        }
        writeConfig(dir, #"{"environment":"only-env"}"#, mode: 0o644)
        #expect((try? RuncrateConfiguration.resolve(sources: ConfigurationSources(environment: ["XDG_CONFIG_HOME": dir, "RUNCRATE_API_KEY": "rc_live_k"])))?.environment == "only-env")
    }

    @Test func keyMustStartWithRcLive() {
        for bad in ["sk_live_abc", "rc_live_", "", "RC_LIVE_x"] {
            #expect(throws: RuncrateError.self) {
                _ = try RuncrateConfiguration.resolve(apiKey: bad, sources: ConfigurationSources(environment: [:], homeDirectory: "/nonexistent"))
            }
        }
        do {
            _ = try RuncrateConfiguration.resolve(sources: ConfigurationSources(environment: [:], homeDirectory: "/nonexistent"))
            Issue.record("expected no-key error")
        } catch {
            #expect(error.code == .configurationError)
            #expect(error.message.hasPrefix("no API key"))
        }
    }

    @Test func badBaseURLIsAConfigurationError() {
        #expect(throws: RuncrateError.self) { _ = try RuncrateConfiguration(apiKey: try APIKey("rc_live_x"), baseURL: "ftp://x") }
        #expect(throws: RuncrateError.self) { _ = try RuncrateConfiguration(apiKey: try APIKey("rc_live_x"), baseURL: "not a url") }
    }

    @Test func descriptionsNeverShowTheKey() throws {
        let config = try RuncrateConfiguration(apiKey: try APIKey(key), baseURL: "http://127.0.0.1:1")
        let client = RuncrateClient(configuration: config)
        defer { try? client.shutdownBlocking() }
        for text in [config.description, config.debugDescription, String(describing: config), String(reflecting: config),
                     "\(config.apiKey)", String(reflecting: config.apiKey), client.description, String(reflecting: client),
                     dumped(config), dumped(client), dumped(config.apiKey)] {
            #expect(!text.contains(key))
            #expect(!text.contains("TESTKEY"))
        }
    }
}
