import Foundation

/// The rules of §3 for a create, checked into a `Validator` (every problem, by path).
enum CreateRules {
    static let nameMaxLength = 64
    static let maxRuntimeMinutes = 5...10080
    static let idleShutdownMinutes = 5...1440
    static let envKeyPattern = "^[A-Za-z_][A-Za-z0-9_]*$"

    static func isValidEnvKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return key.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// Strict base64 (padding required); line breaks and spaces are tolerated.
    static func decodeBase64(_ text: String) -> Data? {
        let compact = text.filter { !$0.isWhitespace }
        guard !compact.isEmpty, compact.count % 4 == 0 else { return nil }
        return Data(base64Encoded: compact)
    }

    static func validate(_ request: CreateInstanceRequest, into v: inout Validator) {
        v.requiredString(request.name, "name", maxLength: nameMaxLength)
        switch (request.gpuType, request.instanceTypeID) {
        case (nil, nil): v.add(concerning: ["gpu_type", "instance_type_id"], "exactly one of gpu_type or instance_type_id is required (got neither)")
        case (.some, .some): v.add(concerning: ["gpu_type", "instance_type_id"], "exactly one of gpu_type or instance_type_id is required (got both)")
        default: break
        }
        v.optionalString(request.gpuType, "gpu_type")
        v.optionalString(request.instanceTypeID, "instance_type_id")
        v.optionalString(request.region, "region")
        v.atLeastOne(request.gpuCount, "gpu_count")
        v.atLeastOne(request.cpuCores, "cpu_cores")
        v.atLeastOne(request.memory, "memory")
        v.atLeastOne(request.storage, "storage")
        v.optionalString(request.template, "template")
        v.optionalString(request.sshKeyID, "ssh_key_id")
        v.optionalString(request.storageID, "storage_id")
        if let envVars = request.envVars {
            var firstIndex: [String: Int] = [:]
            for (index, envVar) in envVars.enumerated() {
                let path: [PathComponent] = [.key("env_vars"), .index(index), .key("key")]
                if !isValidEnvKey(envVar.key) {
                    v.add(path, "must match \(envKeyPattern) (got \(JSONValue.string(envVar.key).shortDescription))")
                } else if let first = firstIndex[envVar.key] {
                    v.add(path, "must be unique (got \"\(envVar.key)\" again; first at env_vars.\(first).key)")
                } else {
                    firstIndex[envVar.key] = index
                }
            }
        }
        if let commands = request.startupCommands {
            for (index, command) in commands.enumerated() {
                v.nonEmpty(command, [.key("startup_commands"), .index(index)])
            }
        }
        if request.launchScript != nil, request.launchScriptBase64 != nil {
            v.add(concerning: ["launch_script", "launch_script_base64"], "at most one of launch_script or launch_script_base64 may be given (got both)")
        }
        v.optionalString(request.launchScript, "launch_script")
        if let encoded = request.launchScriptBase64, decodeBase64(encoded) == nil {
            v.add("launch_script_base64", "must be valid base64 (got \(JSONValue.string(encoded).shortDescription))")
        }
        v.inRange(request.maxRuntimeMinutes, "max_runtime_minutes", maxRuntimeMinutes)
        v.inRange(request.idleShutdownMinutes, "idle_shutdown_minutes", idleShutdownMinutes)
        if let maxWait = request.maxWait {
            if !maxWait.isFinite || maxWait < 0 {
                v.add("max_wait", "must be a number of seconds >= 0 (got \(Seconds.text(maxWait)))")
            } else if request.retry == false {
                v.add("max_wait", "must not be given with retry = false, which waits for nothing (got both)")
            }
        }
    }

    static func warnings(_ request: CreateInstanceRequest) -> [String] {
        request.sshKeyID == nil ? ["no ssh_key_id given: the instance will have no SSH access"] : []
    }
}
