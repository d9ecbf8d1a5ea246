import Foundation
import Provisioner
import Scheduler

/// The cost of a tenant's cluster over a period, with every input shown: what each node cost (energy, measured or from
/// its declared draw; hardware amortised; overhead), how that cost is shared among the models on it (by tokens served
/// there), each model's $/M tokens, the weighted average, and the savings against the API prices in the settings.
public struct CostReport: Sendable, Codable, Equatable {
    public struct NodeCost: Sendable, Codable, Equatable {
        public var nodeId: String
        public var node: String
        /// Hours the tenant held the node in the period.
        public var hours: Double
        public var averageWatts: Double
        /// `measured` (the node's package and accelerator power) or `declared` (its declared draw at its CPU utilisation).
        public var powerSource: String
        public var kWh: Double
        public var energy: Double
        public var hardware: Double
        public var overhead: Double
        public var total: Double
        public var tokens: Double
    }

    public struct ModelCost: Sendable, Codable, Equatable {
        public var modelId: String
        public var tokens: Double
        public var requests: Double
        /// Its share of its nodes' cost, $.
        public var cost: Double
        public var perMillionTokens: Double?
        /// The API price it is compared with, the key of the settings it matched, and the savings in % (positive: cheaper here).
        public var apiPerMillionTokens: Double
        public var apiPriceKey: String
        public var savingsPercent: Double?
        /// Node name → the share of that node's cost this model bears.
        public var nodeShares: [String: Double]
    }

    public var nodes: [NodeCost]
    public var models: [ModelCost]
    public var totalCost: Double
    public var totalTokens: Double
    /// Cost of node time when no model served a token (not in any model's figure).
    public var idleCost: Double
    public var weightedPerMillionTokens: Double?
    public var apiWeightedPerMillionTokens: Double?
    public var savingsPercent: Double?
    public var settings: CostSettings
    public var settingsSource: String

    /// The cost of the period in `inputs`.
    public static func compute(_ inputs: ReportInputs) -> CostReport {
        let settings = inputs.settings
        let times = inputs.nodeTimes()
        // Measured power: the package's and the accelerators' (either may be missing on a node).
        let measured = inputs.mean("node_package_watts", by: "node").merging(inputs.mean("node_accelerator_watts", by: "node")) { $0 + $1 }
        let utilisation = inputs.mean("node_cpu_utilization", by: "node")
        let tokensOnNode = Dictionary(grouping: inputs.total("model_tokens", by: "node", "model").filter { $0.value > 0 }, by: \.key.first)
        let requestsByModel = inputs.requestsByModel()
        var nodes: [NodeCost] = []
        var modelCost: [String: Double] = [:]
        var modelTokens: [String: Double] = [:]
        var modelShares: [String: [String: Double]] = [:]
        var idle = 0.0
        for (id, name) in inputs.nodeNames.sorted(by: { $0.value < $1.value }) {
            let hours = Double(times[id]?.held ?? 0) / 3_600_000
            let (watts, source): (Double, String) = measured[id].map { ($0, "measured") }
                ?? (settings.declaredWatts * (settings.idleShare + (1 - settings.idleShare) * (utilisation[id] ?? 0.5)), "declared")
            let kWh = watts * hours / 1000
            let energy = kWh * settings.pricePerKWh
            let hardware = settings.nodePurchasePrice / settings.serviceMonths * hours / CostSettings.hoursPerMonth
            let overhead = settings.monthlyOverhead * hours / CostSettings.hoursPerMonth
            let total = energy + hardware + overhead
            let here = tokensOnNode[id] ?? []
            let nodeTokens = here.map(\.value).reduce(0, +)
            if nodeTokens > 0 {
                for (pair, tokens) in here {
                    let share = tokens / nodeTokens
                    modelCost[pair.second, default: 0] += total * share
                    modelTokens[pair.second, default: 0] += tokens
                    modelShares[pair.second, default: [:]][name] = share
                }
            } else {
                idle += total
            }
            nodes.append(NodeCost(nodeId: id, node: name, hours: hours, averageWatts: watts, powerSource: source, kWh: kWh, energy: energy,
                                  hardware: hardware, overhead: overhead, total: total, tokens: nodeTokens))
        }
        let models = Set(modelTokens.keys).union(requestsByModel.keys.filter { !$0.isEmpty }).sorted().map { model -> ModelCost in
            let tokens = modelTokens[model] ?? 0, cost = modelCost[model] ?? 0
            let api = settings.apiPrice(for: model)
            let perMillion = tokens > 0 ? cost / tokens * 1_000_000 : nil
            return ModelCost(modelId: model, tokens: tokens, requests: requestsByModel[model] ?? 0, cost: cost, perMillionTokens: perMillion,
                             apiPerMillionTokens: api.price, apiPriceKey: api.key,
                             savingsPercent: perMillion.flatMap { api.price > 0 ? (1 - $0 / api.price) * 100 : nil }, nodeShares: modelShares[model] ?? [:])
        }
        let totalTokens = models.map(\.tokens).reduce(0, +)
        let attributed = models.map(\.cost).reduce(0, +)
        let apiTotal = models.map { $0.tokens / 1_000_000 * $0.apiPerMillionTokens }.reduce(0, +)
        let weighted = totalTokens > 0 ? attributed / totalTokens * 1_000_000 : nil
        let apiWeighted = totalTokens > 0 ? apiTotal / totalTokens * 1_000_000 : nil
        return CostReport(nodes: nodes, models: models, totalCost: nodes.map(\.total).reduce(0, +), totalTokens: totalTokens, idleCost: idle,
                          weightedPerMillionTokens: weighted, apiWeightedPerMillionTokens: apiWeighted,
                          savingsPercent: apiTotal > 0 ? (1 - attributed / apiTotal) * 100 : nil, settings: settings, settingsSource: inputs.settingsSource)
    }
}
