import CLua
import Foundation
import LuaBridge
import RuncrateAPI

/// The operations of the `runcrate` module, one Swift function each (see `NativeOperations`); their
/// arguments start at stack index 1 and each pushes one result.
extension RuncrateModule {
    func validateInstance(_ L: LuaState) throws(ErrorInfo) {
        var r = reader(L)
        if L.type(at: 2) == .table {
            let n = L.rawlen(2)
            for i in 1...max(1, n) where i <= n {
                L.rawgeti(2, lua_Integer(i))
                if let name = L.tostring(-1) { r.alsoKnown.append(name) }
                L.pop()
            }
        }
        _ = try r.createSpec(at: 1)
        L.push(true)
    }

    func instances(_ L: LuaState) throws(ErrorInfo) {
        let o = try options(SearchOptions.self, L, 1, "instances")
        pushJSON(.array(try send(try prepare { () throws(RuncrateError) in try Endpoint.listInstances(search: o.search) }).map(\.raw)), L)
    }

    func instance(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.getInstance(id: id) }).raw, L)
    }

    func instanceStatus(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.instanceStatus(id: id) }).raw, L)
    }

    func deleteInstance(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        _ = try send(try prepare { () throws(RuncrateError) in try Endpoint.deleteInstance(id: id) })
        L.push(true)
    }

    func sshKeys(_ L: LuaState) throws(ErrorInfo) {
        pushJSON(.array(try send(Endpoint.sshKeys()).map(\.raw)), L)
    }

    func createSSHKey(_ L: LuaState) throws(ErrorInfo) {
        let o = try options(SSHKeyFields.self, L, 1, "create_ssh_key", required: true)
        pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.createSSHKey(o.request) }).raw, L)
    }

    func deleteSSHKey(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        _ = try send(try prepare { () throws(RuncrateError) in try Endpoint.deleteSSHKey(id: id) })
        L.push(true)
    }

    func volumes(_ L: LuaState) throws(ErrorInfo) {
        let o = try options(SearchOptions.self, L, 1, "volumes")
        pushJSON(.array(try send(try prepare { () throws(RuncrateError) in try Endpoint.volumes(search: o.search) }).map(\.raw)), L)
    }

    func volume(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.volume(id: id) }).raw, L)
    }

    func createVolume(_ L: LuaState) throws(ErrorInfo) {
        let o = try options(VolumeFields.self, L, 1, "create_volume", required: true)
        pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.createVolume(o.request) }).raw, L)
    }

    func resizeVolume(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        var r = reader(L)
        L.pushvalue(2)
        let size = r.integer("size_gb")
        L.pop()
        if !r.errors.isEmpty { throw ErrorInfo.validation(r.errors) }
        pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.resizeVolume(id: id, sizeGB: size ?? 0) }).raw, L)
    }

    func deleteVolume(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        let result = try send(try prepare { () throws(RuncrateError) in try Endpoint.deleteVolume(id: id) })
        if result.raw == .null { L.push(true) } else { pushJSON(result.raw, L) }
    }

    func volumeRegions(_ L: LuaState) throws(ErrorInfo) {
        pushJSON(.array(try send(Endpoint.volumeRegions()).map(\.raw)), L)
    }

    func templates(_ L: LuaState) throws(ErrorInfo) {
        let o = try options(TemplateQuery.self, L, 1, "templates")
        let page = try send(try prepare { () throws(RuncrateError) in try Endpoint.templates(o.request) })
        pushJSON(.array(page.items.map(\.raw)), L)
    }

    func environments(_ L: LuaState) throws(ErrorInfo) {
        pushJSON(.array(try send(Endpoint.environments()).map(\.raw)), L)
    }

    func createEnvironment(_ L: LuaState) throws(ErrorInfo) {
        let name = L.type(at: 1) == .string ? L.tostring(1)
            : try options(EnvironmentFields.self, L, 1, "create_environment", required: true).name
        let n = name ?? ""
        pushJSON(try send(try prepare { () throws(RuncrateError) in try Endpoint.createEnvironment(name: n) }).raw, L)
    }

    func balance(_ L: LuaState) throws(ErrorInfo) {
        pushJSON(try send(Endpoint.balance()).raw, L)
    }

    // MARK: create, update, catalogue

    /// `create_instance(spec)`; `launch`'s attempts come through `launch_attempt`, which asks the
    /// client to fail over at once on a sold-out answer instead of waiting it out.
    func createInstance(_ L: LuaState, failover: Bool = false) throws(ErrorInfo) {
        var r = reader(L)
        let spec = try r.createSpec(at: 1)
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
        let inst = try sendCreate(spec.prepared, failover: failover)
        // The real price once the server has picked a config; for a planned one (which carries the
        // dearest matching config as cost_per_hour_max) or when it did not say, the worst case.
        planner.countInstance(costPerHour: inst.raw["cost_per_hour_max"]?.doubleValue ?? inst.costPerHour ?? price?.high)
        pushJSON(inst.raw, L)
    }

    func updateInstance(_ L: LuaState) throws(ErrorInfo) {
        let id = try identifier(L, 1)
        let changes = try options(InstanceChanges.self, L, 2, "changes", required: true, field: "changes")
        let request = try prepare { () throws(RuncrateError) in try Endpoint.updateInstance(id: id, changes.patch) }
        pushJSON(try send(request).raw, L)
    }

    func instanceTypes(_ L: LuaState) throws(ErrorInfo) {
        let o = try options(InstanceTypeFilter.self, L, 1, "instance_types")
        try checkKnown(o.request, in: try fullCatalogue())
        var types = try send(try prepare { () throws(RuncrateError) in try Endpoint.instanceTypes(o.request) })
        if let max = o.maxPrice { types = types.filter { ($0.hourlyRate ?? .infinity) <= max } }
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
            let hint = Suggestion.didYouMean(value, in: known)
            errors.append(LuaFieldError(field: field,
                message: "\(field): unknown \(what) '\(value)'\(hint) (known: \(known.joined(separator: ", ")))"))
        }
        check(filter.gpuType, "gpu_type", "GPU type", Self.distinct(types.compactMap(\.gpuType)))
        check(filter.region, "region", "region", Self.distinct(types.compactMap(\.region)))
        if !errors.isEmpty { throw ErrorInfo.validation(errors) }
    }

    /// `launch_plan(candidates, order, max_price, spec)`: the steps of a launch (see
    /// `LaunchPlan`) as `{candidate=, action=, field=, value=, price=, message=}` tables, from the
    /// run's one catalogue read. A candidate that is neither a GPU type nor a type id of the catalogue
    /// is a validation error (a known GPU type with no config of the asked count or region is a
    /// `no_match` step).
    func launchPlan(_ L: LuaState) throws(ErrorInfo) {
        let catalogue = try fullCatalogue()
        var candidates: [String] = []
        let n = L.type(at: 1) == .table ? L.rawlen(1) : 0
        for i in 1...max(1, n) where i <= n {
            L.rawgeti(1, lua_Integer(i))
            candidates.append(L.tostring(-1) ?? "")
            L.pop()
        }
        let unknown = LaunchPlan.unknownCandidates(candidates, in: catalogue)
        if !unknown.isEmpty {
            let gpus = Self.distinct(catalogue.compactMap(\.gpuType)).joined(separator: ", ")
            throw ErrorInfo.validation(unknown.map { u in
                let hint = Suggestion.hint(u.suggestion)
                return LuaFieldError(field: "candidates.\(u.index)",
                    message: "candidates[\(u.index)]: unknown GPU type '\(u.name)'\(hint) (GPU types: \(gpus); or an instance type id from instance_types())")
            })
        }
        let order = LaunchPlan.Order(rawValue: L.tostring(2) ?? "listed") ?? .listed
        let maxPrice = L.tonumber(3)
        var spec = CreateInstanceRequest()
        if L.type(at: 4) == .table {
            func int(_ key: String) -> Int? {
                defer { L.pop() }
                return L.rawget(4, field: key) == .number ? L.tointeger(-1).map(Int.init) : nil
            }
            spec.gpuCount = int("gpu_count")
            spec.cpuCores = int("cpu_cores")
            spec.memory = int("memory")
            spec.storage = int("storage")
            L.rawget(4, field: "region")
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
    func identifier(_ L: LuaState, _ index: Int32) throws(ErrorInfo) -> String {
        if L.type(at: index) == .string, let s = L.tostring(index), !s.isEmpty { return s }
        if L.type(at: index) == .table {
            L.rawget(index, field: "id")
            defer { L.pop() }
            if let s = L.tostring(-1), !s.isEmpty { return s }
        }
        throw .validation(field: "id", "id: non-empty string (or a table with an id) expected, got \(L.shown(index))")
    }
}
