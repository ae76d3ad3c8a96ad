import Foundation

/// Everything the sandbox remembers; persisted as JSON when `--state` is given.
struct SandboxState: Codable, Sendable {
    var version = 1
    var catalog: Catalog
    var instances: [InstanceRecord] = []
    var sshKeys: [SSHKeyRecord] = []
    var volumes: [VolumeRecord] = []
    var environments: [EnvironmentRecord] = []
    /// Credits left after settling every ended instance (live usage is counted on top, see `balance`).
    var credits: Double
    /// Seconds added to the wall clock by `advanceClock`.
    var clockOffset: Double = 0
    var ids: SplitMix64
    var ipCounter = 0
    /// HTTP status a sold-out create answers: 503 `no_capacity`, or 500 "no longer available".
    var soldOutStatus = 503

    init(catalog: Catalog, seed: UInt64, now: Date) {
        self.catalog = catalog
        self.credits = catalog.initial_credits_usd
        self.ids = SplitMix64(seed: seed ^ 0x5EED_1D5)
        environments = [EnvironmentRecord(id: "env_default", name: "default", isDefault: true,
                                          createdAt: now, updatedAt: now)]
    }

    mutating func newID(_ prefix: String) -> String { prefix + ids.hex(16) }

    mutating func nextIP() -> String {
        ipCounter += 1
        let n = ipCounter - 1
        return "203.0.\(113 + (n / 254) % 3).\(n % 254 + 1)"
    }

    // MARK: clock

    /// Moves every instance along to `now`: starting → running, auto-stops, low balance.
    mutating func advance(to now: Date) {
        for i in instances.indices where instances[i].status == "starting" && instances[i].readyAt <= now {
            instances[i].status = "running"
            instances[i].deployedAt = instances[i].readyAt
            instances[i].updatedAt = instances[i].readyAt
            instances[i].ip = nextIP()
            if let minutes = instances[i].maxRuntimeMinutes {
                instances[i].autoStopAt = instances[i].readyAt.addingTimeInterval(Double(minutes) * 60)
            }
        }
        for i in instances.indices where instances[i].status == "running" {
            if let stopAt = instances[i].autoStopAt, stopAt <= now {
                terminate(at: i, when: stopAt, reason: "max_runtime")
            }
        }
        if floatingBalance(at: now) <= 0 {
            for i in instances.indices where instances[i].status == "running" {
                terminate(at: i, when: now, reason: "low_balance")
            }
        }
    }

    mutating func terminate(at i: Int, when: Date, reason: String) {
        instances[i].status = "terminated"
        instances[i].terminatedAt = when
        instances[i].updatedAt = when
        instances[i].stopReason = reason
        instances[i].ip = nil
        instances[i].autoStopAt = nil
        if !instances[i].settled {
            credits -= instances[i].usage(at: when)
            instances[i].settled = true
        }
        if let t = catalog.types.firstIndex(where: { $0.id == instances[i].typeID }) {
            catalog.types[t].stock += 1
        }
    }

    // MARK: money

    func activeUsage(at now: Date) -> Double {
        instances.filter { !$0.settled }.reduce(0) { $0 + $1.usage(at: now) }
    }

    func floatingBalance(at now: Date) -> Double { credits - activeUsage(at: now) }

    func burnPerHour() -> Double {
        instances.filter { $0.status == "running" }.reduce(0) { $0 + $1.costPerHour }
    }

    // MARK: lookups

    func environment(named nameOrID: String?) throws -> EnvironmentRecord {
        guard let nameOrID, !nameOrID.isEmpty else { return environments.first { $0.isDefault } ?? environments[0] }
        guard let env = environments.first(where: { $0.name == nameOrID || $0.id == nameOrID }) else {
            throw APIError.notFound("Environment '\(nameOrID)' not found")
        }
        return env
    }

    func instanceIndex(_ idOrName: String, in env: EnvironmentRecord, byName: Bool) throws -> Int {
        if let i = instances.firstIndex(where: { $0.id == idOrName && $0.environmentID == env.id }) { return i }
        if byName {
            let matches = instances.indices.filter {
                instances[$0].name == idOrName && instances[$0].environmentID == env.id && instances[$0].isLive
            }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw APIError.conflict("The name '\(idOrName)' matches \(matches.count) live instances; use the id")
            }
        }
        throw APIError.notFound("Instance '\(idOrName)' not found")
    }

    func volumeIndex(_ id: String, in env: EnvironmentRecord) throws -> Int {
        guard let i = volumes.firstIndex(where: { $0.id == id && $0.environmentID == env.id }) else {
            throw APIError.notFound("Volume '\(id)' not found")
        }
        return i
    }

    func attachedInstance(of volumeID: String) -> String? {
        instances.first { $0.storageID == volumeID && $0.isLive }?.id
    }

    func environmentJSON(_ env: EnvironmentRecord, now: Date) -> JSON {
        let spent = instances.filter { $0.environmentID == env.id }.reduce(0) { $0 + $1.usage(at: now) }
        return .object([
            ("id", .string(env.id)),
            ("name", .string(env.name)),
            ("is_default", .bool(env.isDefault)),
            ("created_at", .string(iso8601(env.createdAt))),
            ("updated_at", .string(iso8601(env.updatedAt))),
            ("monthly_budget_usd", .opt(env.monthlyBudgetUSD)),
            ("month_to_date_usd", .number(rounded(spent))),
            ("budget_remaining_usd", .opt(env.monthlyBudgetUSD.map { rounded(max(0, $0 - spent)) })),
        ])
    }
}

func rounded(_ x: Double, places: Double = 1e4) -> Double { (x * places).rounded() / places }
