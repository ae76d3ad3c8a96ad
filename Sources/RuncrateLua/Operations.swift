import CLua
import Foundation
import LuaBridge
import RuncrateAPI

/// `native.call(op, ...)`: every API operation. Never raises: answers `true, result` or
/// `false, errinfo`, and the prelude turns errinfo into an error object with the script's position.
extension RuncrateModule {
    func nativeCall(_ L: LuaState) -> Int32 {
        let top = L.gettop()
        // A call cut short by the time limit (the transport's probe cancels it) ends as the
        // timeout: the hook raises it at the next instruction, whatever this call answers.
        defer { if L.limits.timeLimitJustPassed { L.triggerHookSoon() } }
        do throws(ErrorInfo) {
            guard let op = L.tostring(1) else {
                throw ErrorInfo(code: "validation_error", message: "unknown runcrate operation")
            }
            try perform(op, L)
            L.push(true)
            L.insert(-2)
            return 2
        } catch {
            L.settop(top)
            L.push(false)
            pushErrorInfo(error, L)
            return 2
        }
    }

    private func perform(_ op: String, _ L: LuaState) throws(ErrorInfo) {
        switch op {
        case "validate_instance":
            var r = reader(L)
            if L.type(at: 3) == .table {
                for i in 1...max(1, L.rawlen(3)) where i <= L.rawlen(3) {
                    L.rawgeti(3, lua_Integer(i))
                    if let name = L.tostring(-1) { r.alsoKnown.append(name) }
                    L.pop()
                }
            }
            _ = try r.createSpec(at: 2)
            L.push(true)
        case "launch_plan":
            try launchPlan(L)
        case "create_instance":
            try createInstance(L)
        case "instances":
            let search = try options(L, 2, op, known: ["search"]) { r, _ in r.string("search") }["search"] as? String
            pushJSON(.array(try send(try prepare { () throws(RuncrateError) in try Endpoint.listInstances(search: search) }).map(\.raw)), L)
        case "instance":
            let id = try identifier(L, 2, op)
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.getInstance(id: id) }).raw, L)
        case "instance_status":
            let id = try identifier(L, 2, op)
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.instanceStatus(id: id) }).raw, L)
        case "update_instance":
            try updateInstance(L)
        case "delete_instance":
            let id = try identifier(L, 2, op)
            _ = try send(try prepare { () throws(RuncrateError) in try Endpoint.deleteInstance(id: id) })
            L.push(true)
        case "instance_types":
            try instanceTypes(L)
        case "ssh_keys":
            pushJSON(.array(try send(Endpoint.sshKeys()).map(\.raw)), L)
        case "create_ssh_key":
            let o = try options(L, 2, op, known: ["name", "public_key", "type"], required: true) { r, k in r.string(k) }
            let req = CreateSSHKeyRequest(name: o["name"] as? String, publicKey: o["public_key"] as? String,
                                          type: o["type"] as? String)
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.createSSHKey(req) }).raw, L)
        case "delete_ssh_key":
            let id = try identifier(L, 2, op)
            _ = try send(try prepare { () throws(RuncrateError) in try Endpoint.deleteSSHKey(id: id) })
            L.push(true)
        case "volumes":
            let search = try options(L, 2, op, known: ["search"]) { r, _ in r.string("search") }["search"] as? String
            pushJSON(.array(try send(try prepare { () throws(RuncrateError) in try Endpoint.volumes(search: search) }).map(\.raw)), L)
        case "volume":
            let id = try identifier(L, 2, op)
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.volume(id: id) }).raw, L)
        case "create_volume":
            let o = try options(L, 2, op, known: ["name", "size_gb", "region"], required: true) { r, k in
                k == "size_gb" ? r.integer(k) as Any? : r.string(k) as Any?
            }
            let req = CreateVolumeRequest(name: o["name"] as? String, sizeGB: o["size_gb"] as? Int, region: o["region"] as? String)
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.createVolume(req) }).raw, L)
        case "resize_volume":
            let id = try identifier(L, 2, op)
            var r = reader(L)
            L.pushvalue(3)
            let size = r.integer("size_gb")
            L.pop()
            if !r.errors.isEmpty { throw ErrorInfo.validation(r.errors) }
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.resizeVolume(id: id, sizeGB: size ?? 0) }).raw, L)
        case "delete_volume":
            let id = try identifier(L, 2, op)
            let result = try send(try prepare { () throws(RuncrateError) in try Endpoint.deleteVolume(id: id) })
            if result.raw == .null { L.push(true) } else { pushJSON(result.raw, L) }
        case "volume_regions":
            pushJSON(.array(try send(Endpoint.volumeRegions()).map(\.raw)), L)
        case "templates":
            let o = try options(L, 2, op, known: ["search", "category", "page", "page_size"]) { r, k in
                k.hasPrefix("page") ? r.integer(k) as Any? : r.string(k) as Any?
            }
            let req = ListTemplatesRequest(page: o["page"] as? Int, pageSize: o["page_size"] as? Int,
                                           search: o["search"] as? String, category: o["category"] as? String)
            let page = try send(try prepare { () throws(RuncrateError) in try Endpoint.templates(req) })
            pushJSON(.array(page.items.map(\.raw)), L)
        case "environments":
            pushJSON(.array(try send(Endpoint.environments()).map(\.raw)), L)
        case "create_environment":
            var name: String?
            if L.type(at: 2) == .string { name = L.tostring(2) } else {
                name = try options(L, 2, op, known: ["name"], required: true) { r, k in r.string(k) }["name"] as? String
            }
            let n = name ?? ""
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.createEnvironment(name: n) }).raw, L)
        case "balance":
            pushJSON(try send(Endpoint.balance()).raw, L)
        default:
            throw ErrorInfo(code: "validation_error", message: "unknown runcrate operation '\(op)'")
        }
    }

    // MARK: create, update, catalogue

    private func createInstance(_ L: LuaState) throws(ErrorInfo) {
        var r = reader(L)
        let spec = try r.createSpec(at: 2)
        let req = spec.request
        let price = try estimatePrice(req)
        try checkSpendCaps(req, price: price)
        if !spec.prepared.warnings.isEmpty && !warnedNoSSHKey {
            warnedNoSSHKey = true
            for w in spec.prepared.warnings { configuration.writeStderr("runcrate: warning: \(w)\n") }
            if spec.request.sshKeyID == nil {
                configuration.writeStderr("runcrate:   add a key with runcrate.create_ssh_key{name = ..., public_key = \"ssh-ed25519 AAAA...\"} and pass ssh_key_id = key.id (runcrate.ssh_keys() lists yours)\n")
            }
        }
        if configuration.target == .live, !confirmed, let confirm = configuration.confirm {
            let what = req.gpuType ?? req.instanceTypeID ?? "?"
            let cost = price.map { "about \($0.text) USD/h" } ?? "price unknown"
            let question = "runcrate: create instance '\(req.name ?? "")' (\(what) x\(req.gpuCount ?? 1), \(cost)) on the LIVE API? [y/N] "
            guard confirm(question) else {
                throw ErrorInfo(code: "cancelled", message: "the create of '\(req.name ?? "")' was not confirmed")
            }
            confirmed = true
        }
        let inst = try sendCreate(spec.prepared, failover: L.toboolean(3))
        // The real price once the server has picked a config; for a planned one (which carries the
        // dearest matching config as cost_per_hour_max) or when it did not say, the worst case.
        planner.countInstance(costPerHour: inst.raw["cost_per_hour_max"]?.doubleValue ?? inst.costPerHour ?? price?.high)
        pushJSON(inst.raw, L)
    }

    private func updateInstance(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 2, "update_instance")
        var r = reader(L)
        var patch = UpdateInstanceRequest()
        guard L.type(at: 3) == .table, !r.isSecret(3), !L.hasMetatable(3) else {
            throw .validation(field: "changes",
                "changes: table {max_runtime_minutes=, idle_shutdown_minutes=} expected, got \(L.shown(3))")
        }
        r.fields(of: 3, prefix: "", known: ["max_runtime_minutes", "idle_shutdown_minutes"]) { r, k in
            let value: Patch<Int>?
            if r.isNull(-1) { value = .clear } else { value = r.integer(k).map { .set($0) } }
            if k == "max_runtime_minutes" { patch.maxRuntimeMinutes = value } else { patch.idleShutdownMinutes = value }
        }
        if !r.errors.isEmpty { throw ErrorInfo.validation(r.errors) }
        let request = try prepare { () throws(RuncrateError) in try Endpoint.updateInstance(id: id, patch) }
        pushJSON(try send(request).raw, L)
    }

    private func instanceTypes(_ L: LuaState) throws(ErrorInfo) {
        let o = try options(L, 2, "instance_types", known: ["gpu_type", "region", "gpu_count", "max_price"]) { r, k in
            switch k {
            case "gpu_count": return r.integer(k) as Any?
            case "max_price": return r.number(k) as Any?
            default: return r.string(k) as Any?
            }
        }
        let filter = ListInstanceTypesRequest(gpuType: o["gpu_type"] as? String, region: o["region"] as? String,
                                              gpuCount: o["gpu_count"] as? Int)
        try checkKnown(filter, in: try fullCatalogue())
        var types = try send(try prepare { () throws(RuncrateError) in try Endpoint.instanceTypes(filter) })
        if let max = o["max_price"] as? Double { types = types.filter { ($0.hourlyRate ?? .infinity) <= max } }
        types = types.enumerated().sorted { a, b in
            let pa = a.element.hourlyRate ?? .infinity, pb = b.element.hourlyRate ?? .infinity
            return pa != pb ? pa < pb : a.offset < b.offset
        }.map(\.element)
        pushJSON(.array(types.map(\.raw)), L)
    }

    /// A `gpu_type` or `region` filter that names nothing in the catalogue matches nothing: it is a
    /// misspelling (`H100-SXM`, `us_east`), reported with the closest known name.
    private func checkKnown(_ filter: ListInstanceTypesRequest, in types: [InstanceType]) throws(ErrorInfo) {
        var errors: [LuaFieldError] = []
        func check(_ value: String?, _ field: String, _ what: String, _ known: [String]) {
            guard let value, !known.contains(value) else { return }
            let hint = Suggestion.closest(to: value, in: known).map { " — did you mean '\($0)'?" } ?? ""
            errors.append(LuaFieldError(field: field,
                message: "\(field): unknown \(what) '\(value)'\(hint) (known: \(known.joined(separator: ", ")))"))
        }
        check(filter.gpuType, "gpu_type", "GPU type", Self.distinct(types.compactMap(\.gpuType)))
        check(filter.region, "region", "region", Self.distinct(types.compactMap(\.region)))
        if !errors.isEmpty { throw ErrorInfo.validation(errors) }
    }

    /// `native.call("launch_plan", candidates, order, max_price, spec)`: the steps of a launch (see
    /// `LaunchPlan`) as `{candidate=, action=, field=, value=, price=, message=}` tables, from the
    /// run's one catalogue read. A candidate that is neither a GPU type nor a type id of the catalogue
    /// is a validation error (a known GPU type with no config of the asked count or region is a
    /// `no_match` step).
    private func launchPlan(_ L: LuaState) throws(ErrorInfo) {
        let catalogue = try fullCatalogue()
        var candidates: [String] = []
        let n = L.type(at: 2) == .table ? L.rawlen(2) : 0
        for i in 1...max(1, n) where i <= n {
            L.rawgeti(2, lua_Integer(i))
            candidates.append(L.tostring(-1) ?? "")
            L.pop()
        }
        let unknown = LaunchPlan.unknownCandidates(candidates, in: catalogue)
        if !unknown.isEmpty {
            let gpus = Self.distinct(catalogue.compactMap(\.gpuType)).joined(separator: ", ")
            throw ErrorInfo.validation(unknown.map { u in
                let hint = u.suggestion.map { " — did you mean '\($0)'?" } ?? ""
                return LuaFieldError(field: "candidates.\(u.index)",
                    message: "candidates[\(u.index)]: unknown GPU type '\(u.name)'\(hint) (GPU types: \(gpus); or an instance type id from instance_types())")
            })
        }
        let order = LaunchPlan.Order(rawValue: L.tostring(3) ?? "listed") ?? .listed
        let maxPrice = L.tonumber(4)
        var spec = CreateInstanceRequest()
        if L.type(at: 5) == .table {
            func int(_ key: String) -> Int? {
                defer { L.pop() }
                return L.rawget(5, field: key) == .number ? L.tointeger(-1).map(Int.init) : nil
            }
            spec.gpuCount = int("gpu_count")
            spec.cpuCores = int("cpu_cores")
            spec.memory = int("memory")
            spec.storage = int("storage")
            L.rawget(5, field: "region")
            spec.region = L.tostring(-1)
            L.pop()
        }
        let plan = LaunchPlan(candidates: candidates, order: order, maxPrice: maxPrice, spec: spec, catalogue: catalogue)
        L.newtable(narr: Int32(clamping: plan.steps.count))
        for (i, step) in plan.steps.enumerated() {
            L.newtable()
            L.push(step.candidate)
            L.rawset(-2, field: "candidate")
            L.push(step.action.rawValue)
            L.rawset(-2, field: "action")
            for (key, value) in [("field", step.field), ("value", step.value), ("message", step.message)] {
                if let value { L.push(value); L.rawset(-2, field: key) }
            }
            if let price = step.price { L.push(price); L.rawset(-2, field: "price") }
            L.rawseti(-2, lua_Integer(i + 1))
        }
    }

    private static func distinct(_ names: [String]) -> [String] { Array(Set(names)).sorted() }

    /// USD/h for a create, from the catalogue (`ConfigMatch`): one price for an `instance_type_id`,
    /// the cheapest to the dearest matching config for a `gpu_type`. Fetched only when a cost cap or
    /// the live confirmation needs it (a dry run's plan prices its creates itself).
    private func estimatePrice(_ req: CreateInstanceRequest) throws(ErrorInfo) -> PriceRange? {
        let needed = configuration.maxHourlyCost != nil
            || (configuration.target == .live && configuration.confirm != nil && !confirmed)
        guard needed else { return nil }
        return ConfigMatch.price(for: req, in: try fullCatalogue())
    }

    private func checkSpendCaps(_ req: CreateInstanceRequest, price: PriceRange?) throws(ErrorInfo) {
        let name = req.name ?? ""
        if let max = configuration.maxInstances, planner.instanceCount + 1 > max {
            throw ErrorInfo(code: "spend_cap",
                message: "creating '\(name)' would make \(planner.instanceCount + 1) instances in this run, over --max-instances \(max)")
        }
        if let max = configuration.maxHourlyCost {
            guard let price else {
                throw ErrorInfo(code: "spend_cap",
                    message: "the price of '\(name)' is not in the catalogue, so --max-hourly-cost \(Self.money(max)) cannot be checked")
            }
            // A gpu_type create may get any matching config (the cheapest one in stock), so the cap
            // is checked against the dearest.
            let total = planner.hourlyCost + price.high
            if total > max + 1e-9 {
                let over = "bring this run to \(Self.money(total)) USD/h, over --max-hourly-cost \(Self.money(max))"
                if price.isRange {
                    throw ErrorInfo(code: "spend_cap",
                        message: "creating '\(name)' could \(over): it is priced at its worst case, \(Self.money(price.high)) USD/h (matching \(req.gpuType ?? "") configs cost \(price.text); the server picks the cheapest in stock)")
                }
                throw ErrorInfo(code: "spend_cap",
                    message: "creating '\(name)' (\(Self.money(price.high)) USD/h) would \(over)")
            }
        }
    }

    static func money(_ v: Double) -> String { String(format: "%.2f", v) }

    // MARK: arguments

    func reader(_ L: LuaState) -> SpecReader { SpecReader(L, refs: refs, secrets: secrets) }

    /// An id argument: a non-empty string, or a table with one in `id` (an instance).
    private func identifier(_ L: LuaState, _ index: Int32, _ op: String) throws(ErrorInfo) -> String {
        if L.type(at: index) == .string, let s = L.tostring(index), !s.isEmpty { return s }
        if L.type(at: index) == .table {
            L.rawget(index, field: "id")
            defer { L.pop() }
            if let s = L.tostring(-1), !s.isEmpty { return s }
        }
        throw .validation(field: "id", "id: non-empty string (or a table with an id) expected, got \(L.shown(index))")
    }

    /// An optional options table: every key known, each read by `read`; nil/none means no options.
    private func options(_ L: LuaState, _ index: Int32, _ op: String, known: [String], required: Bool = false,
                         _ read: (inout SpecReader, String) -> Any?) throws(ErrorInfo) -> [String: Any] {
        if L.isnoneornil(index) {
            if required { throw .validation(field: "options", "\(op): table {\(known.map { "\($0)=" }.joined(separator: ", "))} expected, got nil") }
            return [:]
        }
        var r = reader(L)
        guard L.type(at: index) == .table, !r.isSecret(index), !L.hasMetatable(index) else {
            throw .validation(field: "options", "\(op): table {\(known.map { "\($0)=" }.joined(separator: ", "))} expected, got \(L.shown(index))")
        }
        var out: [String: Any] = [:]
        r.fields(of: index, prefix: "", known: known) { r, k in
            if let v = read(&r, k) { out[k] = v }
        }
        if !r.errors.isEmpty { throw ErrorInfo.validation(r.errors) }
        return out
    }

    // MARK: results and errors

    /// Pushes a server value as plain Lua tables: every field, nulls left out, arrays marked so they
    /// encode as arrays, strings equal to a secret wrapped as secrets, and nulls in arrays as false.
    /// `asDecoded` (for `json.decode`): strings as they are, and nulls in arrays left as holes.
    func pushJSON(_ value: JSONValue, _ L: LuaState, asDecoded: Bool = false) {
        L.checkstack(8)
        switch value {
        case .null: L.pushnil()
        case .bool(let b): L.push(b)
        case .int(let i): L.push(i)
        case .double(let d): L.push(d)
        case .string(let s):
            if !asDecoded, secrets.contains(s) { pushSecret(s, L) } else { L.push(s) }
        case .array(let items):
            L.newtable(narr: Int32(clamping: items.count))
            for (i, item) in items.enumerated() {
                if asDecoded, item == .null { continue }
                pushJSON(item, L, asDecoded: asDecoded)
                if L.type(at: -1) == .nil { L.pop(); L.push(false) }
                L.rawseti(-2, lua_Integer(i + 1))
            }
            if refs.arrayMetatable != 0 {
                L.pushref(refs.arrayMetatable)
                L.setmetatable(-2)
            }
        case .object(let fields):
            L.newtable(narr: 0, nrec: Int32(clamping: fields.count))
            for (k, v) in fields where v != .null {
                pushJSON(v, L, asDecoded: asDecoded)
                L.rawset(-2, field: k)
            }
        }
    }

    private func pushSecret(_ s: String, _ L: LuaState) {
        L.newtable()
        L.pushref(refs.secretMetatable)
        L.setmetatable(-2)
        L.pushref(refs.secretValues)
        L.pushvalue(-2)
        L.push(s)
        L.rawset(-3)
        L.pop()
    }

    func pushErrorInfo(_ info: ErrorInfo, _ L: LuaState) {
        L.newtable()
        L.push(info.code)
        L.rawset(-2, field: "code")
        L.push(secrets.redact(info.message))
        L.rawset(-2, field: "message")
        if let status = info.status {
            L.push(status)
            L.rawset(-2, field: "status")
        }
        L.push(info.retryable)
        L.rawset(-2, field: "retryable")
        L.newtable(narr: Int32(clamping: info.errors.count))
        for (i, e) in info.errors.enumerated() {
            L.newtable()
            L.push(e.field)
            L.rawset(-2, field: "field")
            L.push(secrets.redact(e.message))
            L.rawset(-2, field: "message")
            L.rawseti(-2, lua_Integer(i + 1))
        }
        L.rawset(-2, field: "errors")
        if let id = info.requestID {
            L.push(id)
            L.rawset(-2, field: "request_id")
        }
        if let sc = info.serverCode {
            L.push(sc)
            L.rawset(-2, field: "server_code")
        }
        if let ra = info.retryAfter {
            L.push(ra)
            L.rawset(-2, field: "retry_after")
        }
    }

    // MARK: sleep

    /// `native.sleep(s)`: sleeps in short slices so Ctrl-C and the time limit stop it promptly.
    func nativeSleep(_ L: LuaState) -> Int32 {
        let seconds = max(0, L.tonumber(1) ?? 0)
        let end = Self.monotonic() + seconds
        while true {
            let S = L.limits
            if S.pointee.interrupted != 0 {
                L.consumeInterrupt()
                L.push(false)
                pushErrorInfo(ErrorInfo(code: "interrupted", message: "interrupted by Ctrl-C"), L)
                return 2
            }
            let now = Self.monotonic()
            if S.pointee.deadline > 0 && now >= S.pointee.deadline {
                L.triggerHookSoon()
                break
            }
            if now >= end { break }
            let slice = min(end - now, 0.05)
            usleep(UInt32(slice * 1_000_000))
        }
        L.push(true)
        return 1
    }
}
