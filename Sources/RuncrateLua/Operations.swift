import CLua
import Foundation
import LuaBridge
import RuncrateAPI

/// `native.call(op, ...)`: every API operation. Never raises: answers `true, result` or
/// `false, errinfo`, and the prelude turns errinfo into an error object with the script's position.
extension RuncrateModule {
    func nativeCall(_ L: LuaState) -> Int32 {
        let top = L.gettop()
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
            pushErrorInfo(answeringInterrupt(error, L), L)
            return 2
        }
    }

    /// A call that failed while Ctrl-C was pending (a cancelled request, mostly) answers the Ctrl-C:
    /// its error becomes `interrupted`, raised by the prelude at the script's line. The interrupt is
    /// consumed here; if it stayed pending, the hook would raise it inside the prelude instead.
    private func answeringInterrupt(_ error: ErrorInfo, _ L: LuaState) -> ErrorInfo {
        guard L.interruptPending else { return error }
        L.consumeInterrupt()
        var info = error
        info.code = "interrupted"
        info.retryable = false
        info.message = error.code == "cancelled" || error.code == "interrupted"
            ? "interrupted by Ctrl-C" : "interrupted by Ctrl-C (\(error.code): \(error.message))"
        return info
    }

    private func perform(_ op: String, _ L: LuaState) throws(ErrorInfo) {
        let dry = configuration.dryRun
        switch op {
        case "validate_instance":
            var r = reader(L)
            _ = try r.createSpec(at: 2)
            L.push(true)
        case "create_instance":
            try createInstance(L)
        case "instances":
            let search = try options(L, 2, op, known: ["search"]) { r, _ in r.string("search") }["search"] as? String
            var list = try send(try prepare { () throws(RuncrateError) in try Endpoint.listInstances(search: search) }).map(\.raw)
            if dry {
                // The run's planned instances are listed too (in plan order, with their planned
                // status), as a live run would list the instances it created.
                list += planner.plannedInOrder.filter { inst in
                    guard let search, !search.isEmpty else { return true }
                    if case .object(let o) = inst, case .string(let n)? = o["name"] { return n.localizedCaseInsensitiveContains(search) }
                    return false
                }
            }
            pushJSON(.array(list), L)
        case "instance":
            let id = try identifier(L, 2, op)
            if dry, let planned = planner.plannedInstances[id] { return pushJSON(planned, L) }
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.getInstance(id: id) }).raw, L)
        case "instance_status":
            let id = try identifier(L, 2, op)
            if dry, case .object(let p)? = planner.plannedInstances[id] {
                return pushJSON(.object(["id": .string(id), "status": p["status"] ?? .string("planned")]), L)
            }
            pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.instanceStatus(id: id) }).raw, L)
        case "update_instance":
            try updateInstance(L)
        case "delete_instance":
            let id = try identifier(L, 2, op)
            let request = try prepare { () throws(RuncrateError) in try Endpoint.deleteInstance(id: id) }
            if dry {
                planner.record(PlanEntry(op: op, method: request.method, path: request.path, id: id,
                                         name: plannedName(id)))
                planner.markPlanned(id, status: "terminated")
                L.push(true)
                return
            }
            _ = try send(request)
            L.push(true)
        case "instance_types":
            try instanceTypes(L)
        case "ssh_keys":
            pushJSON(.array(try send(Endpoint.sshKeys()).map(\.raw)), L)
        case "create_ssh_key":
            let o = try options(L, 2, op, known: ["name", "public_key", "type"], required: true) { r, k in r.string(k) }
            let req = CreateSSHKeyRequest(name: o["name"] as? String, publicKey: o["public_key"] as? String,
                                          type: o["type"] as? String)
            let request = try prepare { () throws(RuncrateError) in try Endpoint.createSSHKey(req) }
            if dry { return planOther(op, request, kind: "key", name: req.name, L) }
            pushJSON(try send(request).raw, L)
        case "delete_ssh_key":
            let id = try identifier(L, 2, op)
            let request = try prepare { () throws(RuncrateError) in try Endpoint.deleteSSHKey(id: id) }
            if dry { return planDelete(op, request, id: id, L) }
            _ = try send(request)
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
            let request = try prepare { () throws(RuncrateError) in try Endpoint.createVolume(req) }
            if dry { return planOther(op, request, kind: "volume", name: req.name, L) }
            pushJSON(try send(request).raw, L)
        case "resize_volume":
            let id = try identifier(L, 2, op)
            var r = reader(L)
            L.pushvalue(3)
            let size = r.integer("size_gb")
            L.pop()
            if !r.errors.isEmpty { throw ErrorInfo.validation(r.errors) }
            let request = try prepare { () throws(RuncrateError) in try Endpoint.resizeVolume(id: id, sizeGB: size ?? 0) }
            if dry { return planDelete(op, request, id: id, L) }
            pushJSON(try send(request).raw, L)
        case "delete_volume":
            let id = try identifier(L, 2, op)
            let request = try prepare { () throws(RuncrateError) in try Endpoint.deleteVolume(id: id) }
            if dry { return planDelete(op, request, id: id, L) }
            let result = try send(request)
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
            let request = try prepare { () throws(RuncrateError) in try Endpoint.createEnvironment(name: n) }
            if dry { return planOther(op, request, kind: "environment", name: name, L) }
            pushJSON(try send(request).raw, L)
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
        }
        let request = Endpoint.createInstance(spec.prepared)
        if configuration.dryRun {
            let id = planner.nextInstanceID()
            let type = catalogueMatch(req)
            var inst: [String: JSONValue] = ["id": .string(id), "status": .string("planned")]
            if let name = req.name { inst["name"] = .string(name) }
            inst["gpu_type"] = (req.gpuType ?? type?.gpuType).map(JSONValue.string)
            inst["gpu_count"] = (req.gpuCount ?? type?.gpuCount).map(JSONValue.int)
            inst["region"] = (req.region ?? type?.region).map(JSONValue.string)
            if let t = req.instanceTypeID { inst["instance_type_id"] = .string(t) }
            if let price {
                inst["cost_per_hour"] = .double(price.low)
                inst["cost_per_hour_max"] = .double(price.high)
            }
            if let m = req.maxRuntimeMinutes { inst["max_runtime_minutes"] = .int(m) }
            if let m = req.idleShutdownMinutes { inst["idle_shutdown_minutes"] = .int(m) }
            planner.addPlanned(.object(inst), id: id)
            planner.record(PlanEntry(op: "create_instance", method: request.method, path: request.path, id: id,
                                     name: req.name, body: request.redactedBody, price: price))
            // Nothing was created, so no real price exists: the governor counts the worst case,
            // as the live run's pre-check would.
            planner.countInstance(costPerHour: price?.high)
            return pushJSON(.object(inst), L)
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
        // The real price, once the server has picked a config; the worst case if it did not say.
        planner.countInstance(costPerHour: inst.costPerHour ?? price?.high)
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
        if configuration.dryRun {
            planner.record(PlanEntry(op: "update_instance", method: request.method, path: request.path, id: id,
                                     name: plannedName(id), body: request.redactedBody))
            var base: [String: JSONValue]
            if case .object(let p)? = planner.plannedInstances[id] { base = p }
            else if case .object(let fetched) = try send(try prepare { () throws(RuncrateError) in try Endpoint.getInstance(id: id) }).raw { base = fetched }
            else { base = ["id": .string(id)] }
            if case .object(let changes)? = request.body {
                for (k, v) in changes { base[k] = v }
            }
            if planner.plannedInstances[id] != nil { planner.addPlanned(.object(base), id: id) }
            return pushJSON(.object(base), L)
        }
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
        var types = try send(try prepare { () throws(RuncrateError) in try Endpoint.instanceTypes(filter) })
        if let max = o["max_price"] as? Double { types = types.filter { ($0.hourlyRate ?? .infinity) <= max } }
        types = types.enumerated().sorted { a, b in
            let pa = a.element.hourlyRate ?? .infinity, pb = b.element.hourlyRate ?? .infinity
            return pa != pb ? pa < pb : a.offset < b.offset
        }.map(\.element)
        pushJSON(.array(types.map(\.raw)), L)
    }

    /// Every catalogue config the server could pick for a create: the exact type, or each config of
    /// the GPU type that fits the spec (gpu_count, region unless `auto`, and cpu_cores / memory /
    /// storage minimums, which the server filters on). There is no stock field, so any of them may be
    /// the cheapest one in stock when the create arrives.
    func catalogueMatches(_ req: CreateInstanceRequest) -> [InstanceType] {
        guard let types = try? fullCatalogue() else { return [] }
        if let id = req.instanceTypeID { return types.filter { $0.id == id }.prefix(1).map { $0 } }
        guard let gpu = req.gpuType else { return [] }
        let region = (req.region == nil || req.region == "auto") ? nil : req.region
        return types.filter { t in
            t.gpuType == gpu && (req.gpuCount == nil || t.gpuCount == req.gpuCount)
                && (region == nil || t.region == region)
                && Self.fits(req.cpuCores, t.cpuCores.map(Double.init)) && Self.fits(req.memory, t.memoryGB)
                && Self.fits(req.storage, t.storageGB)
        }
    }

    /// A minimum the spec asks for against what a config offers (unknown offers might fit).
    private static func fits(_ wanted: Int?, _ offered: Double?) -> Bool {
        guard let wanted, let offered else { return true }
        return Double(wanted) <= offered
    }

    /// The catalogue config a create would most likely get: the exact type, or the cheapest match.
    func catalogueMatch(_ req: CreateInstanceRequest) -> InstanceType? {
        catalogueMatches(req).filter { $0.hourlyRate != nil }.min { ($0.hourlyRate ?? 0) < ($1.hourlyRate ?? 0) }
    }

    /// USD/h for a create, from the catalogue: one price for an `instance_type_id`, the cheapest to
    /// the dearest matching config for a `gpu_type`. Fetched only when a dry run, a cost cap or the
    /// live confirmation needs it.
    private func estimatePrice(_ req: CreateInstanceRequest) throws(ErrorInfo) -> PriceRange? {
        let needed = configuration.dryRun || configuration.maxHourlyCost != nil
            || (configuration.target == .live && configuration.confirm != nil && !confirmed)
        guard needed else { return nil }
        _ = try fullCatalogue()
        let rates = catalogueMatches(req).compactMap(\.hourlyRate)
        guard let low = rates.min(), let high = rates.max() else { return nil }
        return PriceRange(low: low, high: high, exact: req.instanceTypeID != nil)
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

    // MARK: dry-run helpers

    private func plannedName(_ id: String) -> String? {
        if case .object(let p)? = planner.plannedInstances[id], case .string(let n)? = p["name"] { return n }
        return nil
    }

    private func planOther<R>(_ op: String, _ request: PreparedRequest<R>, kind: String, name: String?, _ L: LuaState) {
        let id = planner.nextOtherID(kind)
        planner.record(PlanEntry(op: op, method: request.method, path: request.path, id: id, name: name,
                                 body: request.redactedBody))
        var o: [String: JSONValue] = ["id": .string(id), "status": .string("planned")]
        if case .object(let body)? = request.redactedBody { for (k, v) in body where o[k] == nil { o[k] = v } }
        pushJSON(.object(o), L)
    }

    private func planDelete<R>(_ op: String, _ request: PreparedRequest<R>, id: String, _ L: LuaState) {
        planner.record(PlanEntry(op: op, method: request.method, path: request.path, id: id, body: request.redactedBody))
        L.push(true)
    }

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
    /// encode as arrays, and strings equal to a secret wrapped as secrets.
    func pushJSON(_ value: JSONValue, _ L: LuaState) {
        L.checkstack(8)
        switch value {
        case .null: L.pushnil()
        case .bool(let b): L.push(b)
        case .int(let i): L.push(i)
        case .double(let d): L.push(d)
        case .string(let s):
            if secrets.contains(s) { pushSecret(s, L) } else { L.push(s) }
        case .array(let items):
            L.newtable(narr: Int32(clamping: items.count))
            for (i, item) in items.enumerated() {
                pushJSON(item, L)
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
                pushJSON(v, L)
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
            if L.interruptPending {
                L.consumeInterrupt()
                L.push(false)
                pushErrorInfo(ErrorInfo(code: "interrupted", message: "interrupted by Ctrl-C"), L)
                return 2
            }
            if L.stopRequested() { break }
            let now = Self.monotonic()
            if now >= end { break }
            let slice = min(end - now, 0.05)
            usleep(UInt32(slice * 1_000_000))
        }
        L.push(true)
        return 1
    }
}
