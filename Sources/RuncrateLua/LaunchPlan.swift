import RuncrateAPI

/// The one rule for which catalogue configs a create could get and what they cost — used by
/// `launch`, the spend governor, dry-run pricing and the live confirmation alike.
enum ConfigMatch {
    /// The exact type for an `instance_type_id`; for a `gpu_type`, every config of that GPU with the
    /// asked `gpu_count`, in the asked region (any for none or `auto`), offering at least the asked
    /// `cpu_cores` / `memory` / `storage` (the server filters on those; an unknown offer may fit).
    /// Priced configs come cheapest first (ties by id), unpriced ones after. There is no stock field,
    /// so any of them may be the cheapest one in stock when the create arrives.
    static func configs(for req: CreateInstanceRequest, in catalogue: [InstanceType]) -> [InstanceType] {
        let matching: [InstanceType]
        if let id = req.instanceTypeID {
            matching = catalogue.filter { $0.id == id }.prefix(1).map { $0 }
        } else if let gpu = req.gpuType {
            let region = (req.region == nil || req.region == "auto" || req.region == "") ? nil : req.region
            matching = catalogue.filter { t in
                t.gpuType == gpu && (req.gpuCount == nil || t.gpuCount == req.gpuCount)
                    && (region == nil || t.region == region)
                    && fits(req.cpuCores, t.cpuCores.map(Double.init)) && fits(req.memory, t.memoryGB)
                    && fits(req.storage, t.storageGB)
            }
        } else {
            matching = []
        }
        return matching.sorted { a, b in
            switch (a.hourlyRate, b.hourlyRate) {
            case let (x?, y?) where x != y: return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.id < b.id
            }
        }
    }

    /// USD/h from the cheapest to the dearest matching config (exact for an `instance_type_id`).
    static func price(for req: CreateInstanceRequest, in catalogue: [InstanceType]) -> PriceRange? {
        price(of: configs(for: req, in: catalogue), exact: req.instanceTypeID != nil)
    }

    /// The range of `configs`' prices (what `configs(for:in:)` matched).
    static func price(of configs: [InstanceType], exact: Bool) -> PriceRange? {
        let rates = configs.compactMap(\.hourlyRate)
        guard let low = rates.min(), let high = rates.max() else { return nil }
        return PriceRange(low: low, high: high, exact: exact)
    }

    /// A minimum the spec asks for against what a config offers (unknown offers might fit).
    private static func fits(_ wanted: Int?, _ offered: Double?) -> Bool {
        guard let wanted, let offered else { return true }
        return Double(wanted) <= offered
    }
}

/// A `launch`'s candidates priced from the catalogue and turned into the steps to take, in order:
/// the creates to try (by GPU type, by type id, or a GPU type config by config under `max_price`) and
/// the candidates that are skipped without a request. Pure: the Lua side runs the steps and fails over.
struct LaunchPlan: Equatable {
    enum Order: String { case listed, price }

    struct Step: Equatable {
        enum Action: String { case create, noMatch = "no_match", overCeiling = "over_ceiling" }
        var candidate: String
        var action: Action
        /// For `create`: `gpu_type` or `instance_type_id`, and its value.
        var field: String?
        var value: String?
        /// USD/h from the catalogue: the config's, or the cheapest matching one's.
        var price: Double?
        var message: String?
    }

    /// A candidate that names neither a GPU type nor a type id of the catalogue (a misspelling).
    struct UnknownCandidate: Equatable {
        var index: Int
        var name: String
        var suggestion: String?
    }

    var steps: [Step]

    /// `spec` carries the create fields that narrow the configs (`gpu_count`, `region`, `cpu_cores`,
    /// `memory`, `storage`); its `gpu_type` / `instance_type_id` are ignored.
    init(candidates: [String], order: Order, maxPrice: Double?, spec: CreateInstanceRequest,
         catalogue: [InstanceType]) {
        struct Priced { var name: String; var index: Int; var byID: Bool; var configs: [InstanceType] }
        var priced: [Priced] = []
        for (index, c) in candidates.enumerated() {
            var asType = spec
            asType.instanceTypeID = nil
            asType.gpuType = c
            var asID = spec
            asID.gpuType = nil
            asID.instanceTypeID = c
            // A type id is taken as such only when its config fits the spec's count and region.
            let idConfig = catalogue.first { $0.id == c }.flatMap { t -> InstanceType? in
                (spec.gpuCount == nil || t.gpuCount == spec.gpuCount) && Self.inRegion(t, spec.region) ? t : nil
            }
            if let idConfig {
                priced.append(Priced(name: c, index: index, byID: true, configs: [idConfig]))
            } else {
                priced.append(Priced(name: c, index: index, byID: false,
                                     configs: ConfigMatch.configs(for: asType, in: catalogue).filter { $0.hourlyRate != nil }))
            }
        }
        if order == .price {
            priced = priced.enumerated().sorted { a, b in
                let pa = a.element.configs.first?.hourlyRate ?? .infinity, pb = b.element.configs.first?.hourlyRate ?? .infinity
                return pa != pb ? pa < pb : a.element.index < b.element.index
            }.map(\.element)
        }
        // cpu_cores / memory / storage narrow the configs as only the server matches them exactly:
        // such a spec is asked for by GPU type, and the real price is checked after the create.
        let sized = spec.cpuCores != nil || spec.memory != nil || spec.storage != nil
        let region = (spec.region == nil || spec.region == "auto" || spec.region == "") ? nil : spec.region
        var steps: [Step] = []
        for p in priced {
            guard let cheapest = p.configs.first, let low = cheapest.hourlyRate else {
                let count = spec.gpuCount.map { " x\($0)" } ?? ""
                steps.append(Step(candidate: p.name, action: .noMatch,
                                  message: "no catalogue config matches \(p.name)\(count)\(region.map { " in \($0)" } ?? "")"))
                continue
            }
            if let maxPrice, low > maxPrice {
                steps.append(Step(candidate: p.name, action: .overCeiling, price: low,
                                  message: String(format: "%@ costs %.2f USD/h, over the ceiling of %.2f", p.name, low, maxPrice)))
                continue
            }
            let high = p.configs.last?.hourlyRate ?? low
            if let maxPrice, !p.byID, high > maxPrice, !sized {
                // Some configs of this GPU cost more than max_price, and the server would pick one of
                // them when the cheaper ones are sold out: ask for those under the ceiling by id,
                // cheapest first, so nothing over the ceiling is ever created.
                for t in p.configs {
                    guard let rate = t.hourlyRate, rate <= maxPrice else { break }
                    steps.append(Step(candidate: p.name, action: .create, field: "instance_type_id", value: t.id, price: rate))
                }
                continue
            }
            steps.append(Step(candidate: p.name, action: .create, field: p.byID ? "instance_type_id" : "gpu_type",
                              value: p.name, price: low))
        }
        self.steps = steps
    }

    /// The candidates that are neither a GPU type nor a type id in `catalogue`, with the closest
    /// GPU type as a suggestion.
    static func unknownCandidates(_ candidates: [String], in catalogue: [InstanceType]) -> [UnknownCandidate] {
        let gpus = Array(Set(catalogue.compactMap(\.gpuType))).sorted()
        let ids = Set(catalogue.map(\.id))
        return candidates.enumerated().compactMap { index, c in
            gpus.contains(c) || ids.contains(c) ? nil
                : UnknownCandidate(index: index + 1, name: c, suggestion: Suggestion.closest(to: c, in: gpus))
        }
    }

    private static func inRegion(_ t: InstanceType, _ region: String?) -> Bool {
        guard let region, region != "auto", !region.isEmpty else { return true }
        return t.region == region
    }
}
