import Foundation

/// One API request, parsed, as the handlers see it.
struct RequestInput: Sendable {
    var route: Route
    var params: [String]
    var query: [String: String]
    var rawBody: [UInt8]
    var requestID: String
    var now: Date
    var readyAfter: Double

    /// The route's `:id` parameter ("" when it has none).
    var id: String { params.first ?? "" }

    /// The body as a JSON object, or 400 `bad_request`.
    func object() throws -> [(String, JSON)] {
        guard !rawBody.isEmpty else { throw APIError.badRequest("Request body must be a JSON object") }
        let value: JSON
        do { value = try JSON.parse(rawBody) } catch {
            throw APIError.badRequest("Request body is not valid JSON: \(error)")
        }
        guard let pairs = value.objectPairs else { throw APIError.badRequest("Request body must be a JSON object") }
        return pairs
    }
}

extension SandboxState {
    /// Runs one API request against the state: its route's handler. Returns the answer and whether
    /// the state changed.
    mutating func handle(_ input: RequestInput) throws -> (APIResult, changed: Bool) {
        advance(to: input.now)
        return try input.route.handler(&self, input)
    }

    /// The environment a request names with `?environment=` (the default one when it names none).
    func environment(of input: RequestInput) throws -> EnvironmentRecord {
        try environment(named: input.query["environment"])
    }

    func matches(_ name: String, _ search: String?) -> Bool {
        guard let search, !search.isEmpty else { return true }
        return name.localizedCaseInsensitiveContains(search)
    }

    // MARK: catalogue

    func listTypes(_ input: RequestInput) throws -> APIResult {
        var types = catalog.types
        if let g = input.query["gpu_type"], !g.isEmpty { types = types.filter { $0.gpu_type == g } }
        if let r = input.query["region"], !r.isEmpty, r != "auto" { types = types.filter { $0.region == r } }
        if let c = input.query["gpu_count"], !c.isEmpty {
            guard let n = Int(c), n >= 1 else { throw APIError.badRequest("gpu_count must be an integer >= 1") }
            types = types.filter { $0.gpu_count == n }
        }
        return .list(types.map(\.json), requestID: input.requestID)
    }

    func listTemplates(_ input: RequestInput) throws -> APIResult {
        let page = try input.query["page"].map { v -> Int in
            guard let n = Int(v), n >= 1 else { throw APIError.badRequest("page must be an integer >= 1") }
            return n
        } ?? 1
        let size = try input.query["page_size"].map { v -> Int in
            guard let n = Int(v), (1...100).contains(n) else { throw APIError.badRequest("page_size must be an integer from 1 to 100") }
            return n
        } ?? 25
        var items = catalog.templates
        if let c = input.query["category"], !c.isEmpty { items = items.filter { $0.category == c } }
        if let s = input.query["search"], !s.isEmpty {
            items = items.filter { $0.name.localizedCaseInsensitiveContains(s) || ($0.description ?? "").localizedCaseInsensitiveContains(s) }
        }
        let start = min((page - 1) * size, items.count)
        let slice = items[start..<min(start + size, items.count)]
        let json = slice.map { t in
            JSON.object([("id", .string(t.id)), ("name", .string(t.name)), ("description", .opt(t.description)),
                         ("category", .opt(t.category)), ("created_at", .opt(t.created_at))])
        }
        return .list(json, requestID: input.requestID, total: items.count, hasMore: start + size < items.count)
    }

    // MARK: instances

    mutating func createInstance(_ body: [(String, JSON)], env: EnvironmentRecord, input: RequestInput) throws -> APIResult {
        let spec = try CreateSpec.validate(body, state: self, env: env)
        let candidates: [Int]
        if let typeID = spec.instanceTypeID {
            guard let i = catalog.types.firstIndex(where: { $0.id == typeID }) else {
                throw APIError.validation([FieldProblem(field: "instance_type_id", message: "unknown instance type '\(typeID)'")])
            }
            let t = catalog.types[i]
            var problems: [FieldProblem] = []
            if let r = spec.region, r != "auto", r != t.region {
                problems.append(FieldProblem(field: "region", message: "instance type '\(typeID)' is in region '\(t.region)', not '\(r)'"))
            }
            if let c = spec.gpuCount, c != t.gpu_count {
                problems.append(FieldProblem(field: "gpu_count", message: "instance type '\(typeID)' has \(t.gpu_count) GPUs, not \(c)"))
            }
            problems += spec.sizeProblems(against: t)
            if !problems.isEmpty { throw APIError.validation(problems) }
            candidates = [i]
        } else {
            let gpu = spec.gpuType!
            guard catalog.types.contains(where: { $0.gpu_type == gpu }) else {
                let known = Set(catalog.types.map(\.gpu_type)).sorted().joined(separator: ", ")
                throw APIError.validation([FieldProblem(field: "gpu_type", message: "unknown GPU type '\(gpu)' (known: \(known))")])
            }
            if let r = spec.region, r != "auto", !catalog.regions.contains(where: { $0.id == r }) {
                throw APIError.validation([FieldProblem(field: "region", message: "unknown region '\(r)'")])
            }
            candidates = catalog.types.indices.filter { i in
                let t = catalog.types[i]
                return t.gpu_type == gpu
                    && (spec.region == nil || spec.region == "auto" || spec.region == t.region)
                    && (spec.gpuCount == nil || spec.gpuCount == t.gpu_count)
                    && spec.sizeProblems(against: t).isEmpty
            }
            if candidates.isEmpty {
                // No config of the catalogue fits at all, in stock or not: the request is invalid, not unlucky.
                let placed = catalog.types.filter {
                    $0.gpu_type == gpu && (spec.region == nil || spec.region == "auto" || spec.region == $0.region)
                        && (spec.gpuCount == nil || spec.gpuCount == $0.gpu_count)
                }
                if let biggest = placed.max(by: { $0.cpu_cores < $1.cpu_cores }) {
                    throw APIError.validation(spec.sizeProblems(against: biggest))
                }
                let field = spec.gpuCount != nil ? "gpu_count" : "region"
                throw APIError.validation([FieldProblem(field: field, message: "no \(gpu) config with\(spec.gpuCount.map { " \($0) GPUs" } ?? "")\(spec.region.map { " in region \($0)" } ?? "") exists")])
            }
        }
        let inStock = candidates.filter { catalog.types[$0].stock > 0 }
            .sorted { (catalog.types[$0].hourly_rate, catalog.types[$0].id) < (catalog.types[$1].hourly_rate, catalog.types[$1].id) }
        guard let pick = inStock.first else {
            let what = spec.instanceTypeID ?? "\(spec.gpuType!)\(spec.gpuCount.map { " x\($0)" } ?? "")\(spec.region.map { " in \($0)" } ?? "")"
            if soldOutStatus == 500 {
                throw APIError(status: 500, code: "internal_error",
                               message: "Instance configuration \(what) is no longer available")
            }
            throw APIError(status: 503, code: "no_capacity", message: "No capacity for \(what); nothing was created",
                           headers: [("Retry-After", "30")])
        }
        let t = catalog.types[pick]
        if floatingBalance(at: input.now) < t.hourly_rate {
            throw APIError(status: 402, code: "insufficient_credits",
                           message: "Insufficient credits: at least one hour of \(t.id) ($\(t.hourly_rate)) is needed")
        }
        if let budget = env.monthlyBudgetUSD {
            let spent = instances.filter { $0.environmentID == env.id }.reduce(0) { $0 + $1.usage(at: input.now) }
            if spent >= budget {
                throw APIError(status: 402, code: "BUDGET_REACHED",
                               message: "Environment '\(env.name)' has reached its monthly budget of $\(budget)")
            }
        }
        catalog.types[pick].stock -= 1
        let inst = InstanceRecord(
            id: newID("inst_"), name: spec.name, environmentID: env.id, typeID: t.id, gpuType: t.gpu_type,
            gpuCount: t.gpu_count, cpuCores: spec.cpuCores ?? t.cpu_cores, memory: spec.memory ?? Int(t.memory_gb),
            storage: spec.storage ?? Int(t.storage_gb), region: t.region, status: "starting", ip: nil,
            osImage: catalog.os_image, costPerHour: t.hourly_rate, createdAt: input.now, updatedAt: input.now,
            readyAt: input.now.addingTimeInterval(input.readyAfter), deployedAt: nil, terminatedAt: nil,
            autoStopAt: nil, maxRuntimeMinutes: spec.maxRuntimeMinutes, idleShutdownMinutes: spec.idleShutdownMinutes,
            stopReason: nil, template: spec.template, sshKeyID: spec.sshKeyID, storageID: spec.storageID,
            envVars: spec.envVars, startupCommands: spec.startupCommands, hasLaunchScript: spec.hasLaunchScript,
            settled: false)
        instances.append(inst)
        // Create answers before the machine is up, even with --ready-after 0: the next read sees it running.
        return .data(inst.json, status: 201)
    }

    mutating func updateInstance(_ idOrName: String, body: [(String, JSON)], env: EnvironmentRecord, now: Date) throws -> APIResult {
        var problems: [FieldProblem] = []
        let known: Set<String> = ["max_runtime_minutes", "idle_shutdown_minutes"]
        if !body.contains(where: { known.contains($0.0) }) {
            problems.append(FieldProblem(field: "max_runtime_minutes", message: "send max_runtime_minutes, idle_shutdown_minutes or both"))
        }
        let maxRuntime = limit(body, "max_runtime_minutes", 5...10080, &problems)
        let idle = limit(body, "idle_shutdown_minutes", 5...1440, &problems)
        if !problems.isEmpty { throw APIError.validation(problems) }
        let i = try instanceIndex(idOrName, in: env, byName: true)
        guard instances[i].isLive else {
            throw APIError.conflict("Instance '\(instances[i].id)' is \(instances[i].status); only a live instance can be changed")
        }
        if let maxRuntime {
            instances[i].maxRuntimeMinutes = maxRuntime
            if let minutes = maxRuntime, let deployed = instances[i].deployedAt {
                let stopAt = deployed.addingTimeInterval(Double(minutes) * 60)
                instances[i].autoStopAt = max(stopAt, now.addingTimeInterval(120))
            } else {
                instances[i].autoStopAt = nil
            }
        }
        if let idle { instances[i].idleShutdownMinutes = idle }
        instances[i].updatedAt = now
        return .data(instances[i].json)
    }

    /// A PATCH limit: absent → nil; null → .some(nil); a value in range → .some(n).
    private func limit(_ body: [(String, JSON)], _ field: String, _ range: ClosedRange<Int>, _ problems: inout [FieldProblem]) -> Int??
    {
        guard let v = body.first(where: { $0.0 == field })?.1 else { return nil }
        if v.isNull { return .some(nil) }
        guard let n = v.intValue, range.contains(n) else {
            problems.append(FieldProblem(field: field, message: "must be an integer from \(range.lowerBound) to \(range.upperBound) or null"))
            return nil
        }
        return .some(n)
    }

    // MARK: ssh keys

    mutating func createSSHKey(_ body: [(String, JSON)], now: Date) throws -> APIResult {
        var problems: [FieldProblem] = []
        let name = body.first { $0.0 == "name" }?.1.stringValue?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty { problems.append(FieldProblem(field: "name", message: "is required")) }
        let key = body.first { $0.0 == "public_key" }?.1.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var keyType = ""
        if key.isEmpty {
            problems.append(FieldProblem(field: "public_key", message: "is required"))
        } else if let parsed = parseOpenSSHKey(key) {
            keyType = parsed
        } else {
            problems.append(FieldProblem(field: "public_key", message: "must be one OpenSSH public key line (ssh-ed25519 AAAA… comment)"))
        }
        if let t = body.first(where: { $0.0 == "type" })?.1, !t.isNull, t.stringValue == nil {
            problems.append(FieldProblem(field: "type", message: "must be a string"))
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        let blob = key.split(separator: " ")[1]
        if sshKeys.contains(where: { $0.name == name }) { throw APIError.conflict("An SSH key named '\(name)' already exists") }
        if sshKeys.contains(where: { $0.publicKey.split(separator: " ").dropFirst().first == blob }) {
            throw APIError.conflict("This public key is already registered")
        }
        let record = SSHKeyRecord(id: newID("key_"), name: name, publicKey: key, type: keyType,
                                  fingerprint: fingerprint(of: String(blob)), createdAt: now)
        sshKeys.append(record)
        return .data(record.json, status: 201)
    }

    // MARK: storage

    mutating func createVolume(_ body: [(String, JSON)], env: EnvironmentRecord, now: Date) throws -> APIResult {
        var problems: [FieldProblem] = []
        let name = body.first { $0.0 == "name" }?.1.stringValue ?? ""
        if name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append(FieldProblem(field: "name", message: "is required")) }
        let size = body.first { $0.0 == "size_gb" }?.1
        if size == nil { problems.append(FieldProblem(field: "size_gb", message: "is required")) }
        else if size?.intValue == nil || size!.intValue! < 1 || size!.intValue! > 100_000 {
            problems.append(FieldProblem(field: "size_gb", message: "must be an integer from 1 to 100000"))
        }
        let regionID = body.first { $0.0 == "region" }?.1.stringValue ?? ""
        let region = catalog.regions.first { $0.id == regionID }
        if regionID.isEmpty { problems.append(FieldProblem(field: "region", message: "is required")) }
        else if region == nil { problems.append(FieldProblem(field: "region", message: "unknown storage region '\(regionID)'")) }
        if !problems.isEmpty { throw APIError.validation(problems) }
        if volumes.contains(where: { $0.name == name && $0.environmentID == env.id }) {
            throw APIError.conflict("A volume named '\(name)' already exists")
        }
        let v = VolumeRecord(id: newID("vol_"), name: name, environmentID: env.id, sizeGB: size!.intValue!,
                             region: region!.id, provider: region!.provider, createdAt: now, updatedAt: now)
        volumes.append(v)
        return .data(v.json(attachedTo: nil), status: 201)
    }

    mutating func resizeVolume(_ id: String, body: [(String, JSON)], env: EnvironmentRecord, now: Date) throws -> APIResult {
        let size = body.first { $0.0 == "size_gb" }?.1
        guard let n = size?.intValue, n >= 1, n <= 100_000 else {
            throw APIError.validation([FieldProblem(field: "size_gb", message: size == nil ? "is required" : "must be an integer from 1 to 100000")])
        }
        let i = try volumeIndex(id, in: env)
        guard n >= volumes[i].sizeGB else {
            throw APIError.validation([FieldProblem(field: "size_gb", message: "a volume can only grow (now \(volumes[i].sizeGB) GB)")])
        }
        volumes[i].sizeGB = n
        volumes[i].updatedAt = now
        return .data(volumes[i].json(attachedTo: attachedInstance(of: id)))
    }

    // MARK: environments

    func environmentByID(_ id: String) throws -> EnvironmentRecord {
        guard let env = environments.first(where: { $0.id == id || $0.name == id }) else {
            throw APIError.notFound("Environment '\(id)' not found")
        }
        return env
    }

    private static func checkEnvironmentName(_ v: JSON?, required: Bool) -> FieldProblem? {
        guard let v else { return required ? FieldProblem(field: "name", message: "is required") : nil }
        guard let s = v.stringValue, !s.trimmingCharacters(in: .whitespaces).isEmpty, s.count <= 64 else {
            return FieldProblem(field: "name", message: "must be a non-empty string of at most 64 characters")
        }
        return nil
    }

    mutating func createEnvironment(_ body: [(String, JSON)], now: Date) throws -> APIResult {
        let nameValue = body.first { $0.0 == "name" }?.1
        if let p = Self.checkEnvironmentName(nameValue, required: true) { throw APIError.validation([p]) }
        let name = nameValue!.stringValue!
        if environments.contains(where: { $0.name == name }) { throw APIError.conflict("An environment named '\(name)' already exists") }
        let env = EnvironmentRecord(id: newID("env_"), name: name, isDefault: false, createdAt: now, updatedAt: now)
        environments.append(env)
        return .data(environmentJSON(env, now: now), status: 201)
    }

    mutating func updateEnvironment(_ id: String, body: [(String, JSON)], now: Date) throws -> APIResult {
        let nameValue = body.first { $0.0 == "name" }?.1
        var problems: [FieldProblem] = []
        if let p = Self.checkEnvironmentName(nameValue, required: false) { problems.append(p) }
        let isDefault = body.first { $0.0 == "is_default" }?.1
        if let isDefault, isDefault != .bool(true), isDefault != .bool(false) {
            problems.append(FieldProblem(field: "is_default", message: "must be a boolean"))
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        let env = try environmentByID(id)
        let i = environments.firstIndex { $0.id == env.id }!
        if let name = nameValue?.stringValue {
            if environments.contains(where: { $0.name == name && $0.id != env.id }) {
                throw APIError.conflict("An environment named '\(name)' already exists")
            }
            environments[i].name = name
        }
        if isDefault == .bool(true) {
            for j in environments.indices { environments[j].isDefault = (j == i) }
        } else if isDefault == .bool(false), environments[i].isDefault {
            throw APIError.conflict("Make another environment the default instead")
        }
        environments[i].updatedAt = now
        return .data(environmentJSON(environments[i], now: now))
    }

    mutating func deleteEnvironment(_ id: String, now: Date) throws -> APIResult {
        let env = try environmentByID(id)
        if env.isDefault { throw APIError.conflict("The default environment cannot be deleted") }
        if instances.contains(where: { $0.environmentID == env.id && $0.isLive }) || volumes.contains(where: { $0.environmentID == env.id }) {
            throw APIError.conflict("Environment '\(env.name)' still has live instances or volumes")
        }
        environments.removeAll { $0.id == env.id }
        return (.data(environmentJSON(env, now: now)))
    }

    // MARK: billing

    func balanceJSON(at now: Date) -> JSON {
        let floating = floatingBalance(at: now)
        let burn = burnPerHour()
        return .object([
            ("creditsBalance", .number(rounded(credits))),
            ("activeUsageCost", .number(rounded(activeUsage(at: now)))),
            ("currency", .string("USD")),
            ("floating_balance_usd", .number(rounded(floating))),
            ("burn_usd_per_hour", .number(rounded(burn))),
            ("runway_hours", burn > 0 ? .number(rounded(max(0, floating) / burn, places: 100)) : .null),
        ])
    }
}

/// The key type of one OpenSSH public key line, or nil when it is not one.
func parseOpenSSHKey(_ line: String) -> String? {
    guard !line.contains("\n") else { return nil }
    let parts = line.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count >= 2, parts[1].count >= 16, Data(base64Encoded: String(parts[1])) != nil else { return nil }
    switch parts[0] {
    case "ssh-ed25519": return "ed25519"
    case "ssh-rsa": return "rsa"
    case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521": return "ecdsa"
    case "sk-ssh-ed25519@openssh.com": return "ed25519-sk"
    case "sk-ecdsa-sha2-nistp256@openssh.com": return "ecdsa-sk"
    default: return nil
    }
}

/// A stable stand-in for `SHA256:…` fingerprints (FNV-1a based; the sandbox has no crypto library).
func fingerprint(of blob: String) -> String {
    var bytes: [UInt8] = []
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for round in 0..<4 {
        for b in blob.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= UInt64(round)
        withUnsafeBytes(of: h.bigEndian) { bytes.append(contentsOf: $0) }
    }
    return "SHA256:" + Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
}
