import Foundation

/// The `/_sandbox/…` control endpoints (no auth, never faulted). Listed in SANDBOX.md.
extension SandboxResponder {
    func control(_ segments: [String], method: String, body: [UInt8], query: [String: String], requestID: String) -> APIResult {
        let json = (try? JSON.parse(body)) ?? .null
        func number(_ key: String) -> Double? { json[key]?.doubleValue }
        do {
            switch (method, segments.joined(separator: "/")) {
            case ("GET", "health"):
                return .data(.object([("ok", .bool(true))]))
            case ("GET", "faults"):
                return .data(.object([("spec", .string(core.locked { $0.faults.spec }))]))
            case ("PUT", "faults"), ("POST", "faults"):
                let spec = json["spec"]?.stringValue ?? String(decoding: body, as: UTF8.self)
                do { try core.setFaults(spec) } catch { return APIError.badRequest("\(error)").result }
                return .data(.object([("spec", .string(spec))]))
            case ("DELETE", "faults"):
                try core.setFaults("")
                return .data(.object([("spec", .string(""))]))
            case ("POST", "clock/advance"):
                guard let s = number("seconds"), s >= 0 else { return APIError.badRequest("send {\"seconds\": N} with N >= 0").result }
                let now = core.mutate { inner -> Date in
                    inner.state.clockOffset += s
                    inner.state.advance(to: inner.now())
                    return inner.now()
                }
                return .data(.object([("now", .string(iso8601(now)))]))
            case ("GET", "clock"):
                return .data(.object([("now", .string(iso8601(core.locked { $0.now() })))]))
            case ("POST", "stock"):
                guard let count = json["count"]?.intValue, count >= 0 else { return APIError.badRequest("send {\"count\": N} and instance_type_id or gpu_type (region optional)").result }
                let typeID = json["instance_type_id"]?.stringValue
                let gpu = json["gpu_type"]?.stringValue
                let region = json["region"]?.stringValue
                guard typeID != nil || gpu != nil else { return APIError.badRequest("send instance_type_id or gpu_type").result }
                let changed = core.mutate { inner -> Int in
                    var n = 0
                    for i in inner.state.catalog.types.indices {
                        let t = inner.state.catalog.types[i]
                        if (typeID == nil || t.id == typeID) && (gpu == nil || t.gpu_type == gpu) && (region == nil || t.region == region) {
                            inner.state.catalog.types[i].stock = count
                            n += 1
                        }
                    }
                    return n
                }
                if changed == 0 { return APIError.notFound("No instance type matches").result }
                return .data(.object([("updated", .int(changed))]))
            case ("GET", "stock"):
                let items = core.locked { $0.state.catalog.types.map { JSON.object([("id", .string($0.id)), ("stock", .int($0.stock))]) } }
                return .data(.array(items))
            case ("POST", "balance"):
                guard let credits = number("credits") else { return APIError.badRequest("send {\"credits\": USD}").result }
                core.mutate { $0.state.credits = credits }
                return .data(core.locked { $0.state.balanceJSON(at: $0.now()) })
            case ("POST", "sold-out"):
                guard let status = json["status"]?.intValue, status == 500 || status == 503 else {
                    return APIError.badRequest("send {\"status\": 503} or {\"status\": 500}").result
                }
                core.mutate { $0.state.soldOutStatus = status }
                return .data(.object([("status", .int(status))]))
            case ("POST", "budget"):
                guard let env = json["environment"]?.stringValue else { return APIError.badRequest("send {\"environment\": NAME, \"monthly_budget_usd\": USD or null}").result }
                let usd = json["monthly_budget_usd"]?.doubleValue
                let found = core.mutate { inner -> Bool in
                    guard let i = inner.state.environments.firstIndex(where: { $0.name == env || $0.id == env }) else { return false }
                    inner.state.environments[i].monthlyBudgetUSD = usd
                    return true
                }
                return found ? .data(.object([("environment", .string(env)), ("monthly_budget_usd", .opt(usd))]))
                    : APIError.notFound("Environment '\(env)' not found").result
            case ("POST", "reset"):
                try core.reset()
                return .data(.object([("reset", .bool(true))]))
            case ("GET", "requests"):
                let records = core.locked { $0.log }
                let data = (try? JSONEncoder().encode(records)) ?? Data("[]".utf8)
                return .data((try? JSON.parse(Array(data))) ?? .array([]))
            case ("DELETE", "requests"):
                core.locked { $0.log.removeAll() }
                return .noContent
            case ("GET", "state"):
                let data = core.locked { (try? JSONEncoder().encode($0.state)) ?? Data() }
                return .data((try? JSON.parse(Array(data))) ?? .null)
            default:
                return APIError.notFound("No control endpoint \(method) /_sandbox/\(segments.joined(separator: "/"))").result
            }
        } catch {
            return APIError(status: 500, code: "internal_error", message: "\(error)").result
        }
    }
}
