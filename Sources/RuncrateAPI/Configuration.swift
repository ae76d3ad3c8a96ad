import Foundation

/// An API key. Its `description` never shows the key; use `reveal()` only to build the header.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    /// Fails unless the key starts with `rc_live_` (checked before any request).
    public init(_ value: String) throws(RuncrateError) {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("rc_live_"), trimmed.count > "rc_live_".count else {
            throw RuncrateError.configuration(
                "the API key must start with rc_live_ (got a value of \(trimmed.count) characters that does not)")
        }
        self.value = trimmed
    }

    public func reveal() -> String { value }
    public var description: String { "rc_live_***" }
    public var debugDescription: String { "APIKey(rc_live_***)" }
}

extension APIKey: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: ["value": "rc_live_***"]) }
}

/// Timeouts per call, in seconds.
public struct Timeouts: Sendable, Hashable {
    /// `POST /instances` may take about 60 s server-side.
    public var create: Double = 90
    public var other: Double = 30
    public var connect: Double = 10

    public init(create: Double = 90, other: Double = 30, connect: Double = 10) {
        self.create = create
        self.other = other
        self.connect = connect
    }
}

/// Everything a client needs, resolved in one place. Its descriptions never show the key.
public struct RuncrateConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public static let defaultBaseURL = "https://www.runcrate.ai"

    public var apiKey: APIKey
    /// Host root (`https://www.runcrate.ai`); paths are appended under `/api/v1`.
    public var baseURL: String
    /// Sent as `?environment=` on every call when set.
    public var environment: String?
    public var timeouts: Timeouts
    public var retry: RetryPolicy
    public var userAgent: String

    public init(
        apiKey: APIKey, baseURL: String = RuncrateConfiguration.defaultBaseURL, environment: String? = nil,
        timeouts: Timeouts = Timeouts(), retry: RetryPolicy = RetryPolicy(),
        userAgent: String = "runcrate-lua/\(RuncrateAPIVersion.current)"
    ) throws(RuncrateError) {
        self.apiKey = apiKey
        self.baseURL = try RuncrateConfiguration.normalizeBaseURL(baseURL)
        if let environment, environment.trimmingCharacters(in: .whitespaces).isEmpty {
            throw RuncrateError.configuration("the environment must be a non-empty name (got an empty string)")
        }
        self.environment = environment
        self.timeouts = timeouts
        self.retry = retry
        self.userAgent = userAgent
    }

    /// Accepts the host root with or without a trailing `/` or `/api/v1`.
    public static func normalizeBaseURL(_ raw: String) throws(RuncrateError) -> String {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix("/api/v1") { text.removeLast("/api/v1".count) }
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw RuncrateError.configuration("the base URL must be an http(s) URL such as \(defaultBaseURL) (got \(raw.debugDescription))")
        }
        return text
    }

    public var description: String {
        "RuncrateConfiguration(baseURL: \(baseURL), environment: \(environment ?? "none"), apiKey: rc_live_***, "
            + "timeouts: create \(timeouts.create)s / other \(timeouts.other)s, maxAttempts: \(retry.maxAttempts))"
    }

    public var debugDescription: String { description }

    /// True for an `http(s)://` URL whose host is on this machine (127.0.0.0/8, `localhost`, `[::1]`):
    /// where a `runcrate-sandbox` can be, and never the live API.
    public static func isLoopback(_ url: String) -> Bool {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parts.host?.lowercased() else { return false }
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// Where configuration comes from. Injectable so tests do not depend on the real environment or home.
public struct ConfigurationSources: Sendable {
    public var environment: [String: String]
    public var homeDirectory: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, homeDirectory: String? = nil) {
        self.environment = environment
        self.homeDirectory = homeDirectory ?? environment["HOME"] ?? (NSHomeDirectory().isEmpty ? nil : NSHomeDirectory())
    }

    /// `$XDG_CONFIG_HOME/runcrate/config.json`, else `~/.config/runcrate/config.json`.
    public var configFilePath: String? {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/runcrate/config.json" }
        return homeDirectory.map { $0 + "/.config/runcrate/config.json" }
    }

    /// True when, going by `XDG_CONFIG_HOME` / `HOME` alone, there is no file at `configFilePath`: one
    /// `access` call, without building `environment` (the CLI asks at every start, and materialising
    /// the environment dictionary cost more than the rest of `runcrate-lua -e ''`). False means
    /// "maybe": ask `ConfigurationSources().hasAPIKey`.
    public static func configFileCertainlyAbsent() -> Bool {
        let path: String
        if let xdg = getenv("XDG_CONFIG_HOME"), xdg.pointee != 0 {
            path = String(cString: xdg) + "/runcrate/config.json"
        } else if let home = getenv("HOME") {
            path = String(cString: home) + "/.config/runcrate/config.json"
        } else {
            return false
        }
        return access(path, F_OK) != 0
    }

    /// Whether a key is available from the environment or config file (how the CLI picks sandbox mode).
    public var hasAPIKey: Bool {
        if let key = environment["RUNCRATE_API_KEY"], !key.isEmpty { return true }
        return (try? readConfigFile())?.apiKey != nil
    }

    struct FileValues {
        var apiKey: String?
        var baseURL: String?
        var environment: String?
    }

    /// Reads the config file. A file that other users can read and that holds a key is refused.
    func readConfigFile() throws(RuncrateError) -> FileValues? {
        guard let path = configFilePath, FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuncrateError.configuration("cannot read the config file \(path)")
        }
        guard case .object? = JSONValue.parse(data), let json = JSONValue.parse(data) else {
            throw RuncrateError.configuration("the config file \(path) is not a JSON object")
        }
        func string(_ keys: String...) throws(RuncrateError) -> String? {
            guard let value = json.member(keys) else { return nil }
            guard case .string(let text) = value else {
                throw RuncrateError.configuration("\(keys[0]) in the config file \(path) must be a string")
            }
            return text
        }
        let values = FileValues(
            apiKey: try string("api_key", "apiKey"), baseURL: try string("base_url", "baseURL", "baseUrl"),
            environment: try string("environment"))
        if values.apiKey != nil {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue ?? 0
            if mode & 0o004 != 0 {
                throw RuncrateError.configuration(
                    "refusing to read \(path): it holds an API key and is readable by every user (mode \(String(mode & 0o777, radix: 8))); "
                        + "run: chmod 600 \(path)")
            }
        }
        return values
    }
}

extension RuncrateConfiguration {
    /// Explicit values win over `RUNCRATE_API_KEY` / `RUNCRATE_BASE_URL` / `RUNCRATE_ENVIRONMENT`,
    /// which win over the config file. Fails with `configuration_error` when no usable key is found.
    public static func resolve(
        apiKey: String? = nil, baseURL: String? = nil, environment: String? = nil,
        sources: ConfigurationSources = ConfigurationSources(), timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy()
    ) throws(RuncrateError) -> RuncrateConfiguration {
        func env(_ name: String) -> String? {
            guard let value = sources.environment[name], !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return value
        }
        let file = try sources.readConfigFile()
        guard let keyText = apiKey ?? env("RUNCRATE_API_KEY") ?? file?.apiKey else {
            throw RuncrateError.configuration(
                "no API key: set RUNCRATE_API_KEY, pass one explicitly, or put \"api_key\" in \(sources.configFilePath ?? "the config file")")
        }
        return try RuncrateConfiguration(
            apiKey: try APIKey(keyText),
            baseURL: baseURL ?? env("RUNCRATE_BASE_URL") ?? file?.baseURL ?? defaultBaseURL,
            environment: environment ?? env("RUNCRATE_ENVIRONMENT") ?? file?.environment,
            timeouts: timeouts, retry: retry)
    }
}

public enum RuncrateAPIVersion {
    public static let current = "0.1.0"
}
