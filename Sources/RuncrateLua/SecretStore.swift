import Foundation

/// The secret values a run has used, so every line the module writes can show them as `***`.
final class SecretStore {
    private(set) var values: Set<String> = []

    func add(_ value: String) {
        guard !value.isEmpty else { return }
        values.insert(value)
    }

    func contains(_ value: String) -> Bool { values.contains(value) }

    /// `text` with every secret of 3 or more characters replaced by `***` (longest first, so a
    /// secret that contains another is hidden whole).
    func redact(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        var out = text
        for secret in values.sorted(by: { $0.count > $1.count }) where secret.count >= 3 {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out
    }
}
