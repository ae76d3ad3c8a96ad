import RuncrateAPI
import Testing
@testable import RuncrateLua

/// `ConfigMatch` and `LaunchPlan` as values, over a small hand-made catalogue: no Lua, no sandbox.
@Suite struct LaunchPlanTests {
    static func type(_ id: String, _ gpu: String, _ count: Int, _ region: String, _ rate: Double, cpu: Int = 16, memory: Double = 64) -> InstanceType {
        try! InstanceType(raw: ["id": .string(id), "gpu_type": .string(gpu), "gpu_count": .int(count), "region": .string(region),
                                "hourly_rate": .double(rate), "cpu_cores": .int(cpu), "memory_gb": .double(memory)])
    }

    static let catalogue = [
        type("h-east", "h100", 1, "east", 2.49, cpu: 26),
        type("h-west", "h100", 1, "west", 2.59, cpu: 26),
        type("h-ap", "h100", 1, "ap", 2.79, cpu: 8),
        type("h-east-2", "h100", 2, "east", 4.90),
        type("l-east", "l40s", 1, "east", 0.89),
        type("b-west", "b200", 1, "west", 5.19),
    ]

    func request(_ gpu: String? = nil, id: String? = nil, count: Int? = nil, region: String? = nil, cpu: Int? = nil) -> CreateInstanceRequest {
        var r = CreateInstanceRequest()
        r.gpuType = gpu
        r.instanceTypeID = id
        r.gpuCount = count
        r.region = region
        r.cpuCores = cpu
        return r
    }

    @Test func matchingFiltersCountRegionAndMinimumsCheapestFirst() {
        let ids = { (r: CreateInstanceRequest) in ConfigMatch.configs(for: r, in: Self.catalogue).map(\.id) }
        #expect(ids(request("h100", count: 1)) == ["h-east", "h-west", "h-ap"])
        #expect(ids(request("h100")) == ["h-east", "h-west", "h-ap", "h-east-2"])
        #expect(ids(request("h100", count: 1, region: "auto")) == ["h-east", "h-west", "h-ap"])
        #expect(ids(request("h100", count: 1, region: "west")) == ["h-west"])
        #expect(ids(request("h100", count: 1, cpu: 20)) == ["h-east", "h-west"])
        #expect(ids(request(id: "h-ap")) == ["h-ap"])
        #expect(ids(request("nope")) == [])
    }

    @Test func pricesAreRangesForGPUTypesAndExactForIDs() {
        #expect(ConfigMatch.price(for: request("h100", count: 1), in: Self.catalogue) == PriceRange(low: 2.49, high: 2.79, exact: false))
        #expect(ConfigMatch.price(for: request("h100", count: 1, cpu: 20), in: Self.catalogue) == PriceRange(low: 2.49, high: 2.59, exact: false))
        #expect(ConfigMatch.price(for: request(id: "l-east"), in: Self.catalogue) == PriceRange(low: 0.89, high: 0.89, exact: true))
        #expect(ConfigMatch.price(for: request("h100", count: 8), in: Self.catalogue) == nil)
    }

    func steps(_ candidates: [String], order: LaunchPlan.Order = .listed, max: Double? = nil,
               count: Int? = 1, region: String? = nil, cpu: Int? = nil) -> [String] {
        LaunchPlan(candidates: candidates, order: order, maxPrice: max,
                   spec: request(count: count, region: region, cpu: cpu), catalogue: Self.catalogue).steps.map { s in
            [s.candidate, s.action.rawValue, s.field ?? "-", s.value ?? "-", s.price.map { String(format: "%.2f", $0) } ?? "-"]
                .joined(separator: " ")
        }
    }

    @Test func aGPUTypeWhollyUnderTheCeilingIsAskedForByType() {
        #expect(steps(["h100", "l40s"], max: 3) == ["h100 create gpu_type h100 2.49", "l40s create gpu_type l40s 0.89"])
    }

    @Test func aGPUTypeThatStraddlesTheCeilingIsAskedForConfigByConfigUnderIt() {
        #expect(steps(["h100"], max: 2.6) == ["h100 create instance_type_id h-east 2.49", "h100 create instance_type_id h-west 2.59"])
    }

    @Test func aSizedSpecIsAskedForByTypeAndPricedByTheConfigsThatFit() {
        // cpu 20 leaves 2.49 and 2.59: wholly under 2.6, by type; the real price is checked after.
        #expect(steps(["h100"], max: 2.55, cpu: 20) == ["h100 create gpu_type h100 2.49"])
        #expect(steps(["h100"], max: 2.4, cpu: 20) == ["h100 over_ceiling - - 2.49"])
    }

    @Test func skippedCandidatesSayWhy() {
        let plan = LaunchPlan(candidates: ["b200", "h100", "l40s"], order: .listed, maxPrice: 1,
                              spec: request(count: 1, region: "east"), catalogue: Self.catalogue)
        #expect(plan.steps.map(\.action) == [.noMatch, .overCeiling, .create])
        #expect(plan.steps[0].message == "no catalogue config matches b200 x1 in east")
        #expect(plan.steps[1].message == "h100 costs 2.49 USD/h, over the ceiling of 1.00")
    }

    @Test func orderByPriceIsCheapestFirstThenAsListed() {
        #expect(steps(["b200", "h100", "l40s"], order: .price) ==
                ["l40s create gpu_type l40s 0.89", "h100 create gpu_type h100 2.49", "b200 create gpu_type b200 5.19"])
    }

    @Test func typeIDsAreCandidatesWhenTheyFitTheSpec() {
        #expect(steps(["h-west"]) == ["h-west create instance_type_id h-west 2.59"])
        #expect(steps(["h-west"], region: "east") == ["h-west no_match - - -"])
    }

    @Test func unknownCandidatesGetTheClosestGPUType() {
        let unknown = LaunchPlan.unknownCandidates(["h10", "l40s", "h-east", "zzz"], in: Self.catalogue)
        #expect(unknown == [.init(index: 1, name: "h10", suggestion: "h100"), .init(index: 4, name: "zzz", suggestion: nil)])
    }
}
