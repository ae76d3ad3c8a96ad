import Foundation

/// The rules of the other requests that carry fields: an instance update, an SSH key.
extension UpdateInstanceRequest {
    func validate(into v: inout Validator) {
        if maxRuntimeMinutes == nil, idleShutdownMinutes == nil {
            v.add([], "nothing to update: give max_runtime_minutes and/or idle_shutdown_minutes")
        }
        if case .set(let value) = maxRuntimeMinutes { v.inRange(value, "max_runtime_minutes", CreateRules.maxRuntimeMinutes) }
        if case .set(let value) = idleShutdownMinutes { v.inRange(value, "idle_shutdown_minutes", CreateRules.idleShutdownMinutes) }
    }
}

enum SSHKeyRules {
    static let keyTypes = ["ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-"]

    static func validate(_ request: CreateSSHKeyRequest, into v: inout Validator) {
        v.requiredString(request.name, "name")
        v.optionalString(request.type, "type")
        guard let key = request.publicKey else { return v.add("public_key", "is required") }
        let line = key.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        let expected = "must be one OpenSSH public key line such as \"ssh-ed25519 AAAA… comment\""
        if line.contains("\n") || line.contains("\r") {
            v.add("public_key", "\(expected) (got \(line.split(whereSeparator: \.isNewline).count) lines)")
        } else if parts.count < 2 || !keyTypes.contains(where: { parts[0].hasPrefix($0) })
            || CreateRules.decodeBase64(String(parts[1])) == nil
        {
            v.add("public_key", "\(expected) (got \(JSONValue.string(line).shortDescription))")
        }
    }
}
