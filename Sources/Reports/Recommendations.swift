import Foundation
import Provisioner
import Scheduler

/// One piece of rebalancing advice, with the figures it rests on.
public struct Recommendation: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// A model's traffic is above its projection: give it its own node and evict the cohabitant named.
        case ownNode = "own_node"
        /// A model's KV cache hits too rarely: give it a larger cache budget.
        case largerCache = "larger_cache"
        /// A node throttles more than 3% of the time: move the model named off it.
        case moveOff = "move_off"
        /// A node was down too much: look at it, or retire it.
        case retire
        /// Requests per node are high across the cluster: add capacity.
        case addCapacity = "add_capacity"
    }

    public var kind: Kind
    public var summary: String
    public var model: String?
    public var node: String?
    /// The model to evict (own node), or the node to move to is for the placement preview to choose.
    public var evict: String?
    public var evidence: [String: Double]
    /// For a move: where the placement rules would put the model now, off the node (filled by the controller from the
    /// project's current fleet; nil when no layout fits, with `previewRefusal` saying why).
    public var preview: String? = nil
    public var previewRefusal: String? = nil
}

/// The seed's rebalancing rules, applied to a period's history.
public enum RebalancingRules {
    /// A node throttling more than this share of the time has a model moved off it.
    public static let throttledShare = 0.03
    /// A model whose KV cache hits less often than this gets a larger cache budget.
    public static let kvHitRate = 0.6
    /// Without a projection, a model above this multiple of an even share of the cluster's traffic is above projection.
    public static let evenShareMultiple = 2.0
    /// A node online less than this share of the time it was held is named for retirement.
    public static let retireUptime = 0.95

    public static func recommend(_ inputs: ReportInputs) -> [Recommendation] {
        var advice: [Recommendation] = []
        let seconds = max(Double(inputs.periodEnd - inputs.periodStart) / 1000, 1)
        let requests = inputs.requestsByModel()
        let requestsByNodeModel = inputs.requestsByNodeModel()
        let placed = inputs.placements(at: inputs.periodEnd - 1)
        let totalQPS = requests.values.reduce(0, +) / seconds
        let evenShare = requests.isEmpty ? 0 : totalQPS / Double(requests.count)
        // Traffic above projection: own node, the least-used cohabitant evicted.
        for (model, count) in requests.sorted(by: { $0.key < $1.key }) {
            let qps = count / seconds
            let projection = inputs.settings.projectedQPS[model] ?? evenShare * evenShareMultiple
            guard projection > 0, qps > projection else { continue }
            guard let (node, models) = placed.first(where: { $0.value.contains(model) && $0.value.count > 1 }) else { continue }
            let cohabitants = models.subtracting([model]).sorted()
            let evict = cohabitants.min { (requestsByNodeModel[.init(node, $0)] ?? 0) < (requestsByNodeModel[.init(node, $1)] ?? 0) }
            advice.append(Recommendation(kind: .ownNode,
                                         summary: String(format: "%@ serves %.2f requests/s against %.2f projected: give it %@ alone and evict %@.",
                                                         model, qps, projection, inputs.name(ofNode: node), evict ?? "its cohabitant"),
                                         model: model, node: inputs.name(ofNode: node), evict: evict, evidence: ["qps": qps, "projectedQps": projection]))
        }
        // KV cache hit rate too low: a larger cache budget.
        for (model, rate) in inputs.mean("model_kv_cache_hit_rate", by: "model").sorted(by: { $0.key < $1.key }) where !model.isEmpty && rate < kvHitRate {
            let tokens = inputs.total("model_tokens", by: "model")[model] ?? 0
            let perRequest = (requests[model] ?? 0) > 0 ? tokens / requests[model]! : 0
            advice.append(Recommendation(kind: .largerCache,
                                         summary: String(format: "%@'s KV cache hits %.0f%% of lookups (under %.0f%%): increase its cache budget.",
                                                         model, rate * 100, kvHitRate * 100),
                                         model: model, node: nil, evict: nil, evidence: ["kvCacheHitRate": rate, "tokensPerRequest": perRequest]))
        }
        // Throttling above 3%: move the least-used model off the node.
        for (node, share) in inputs.mean("node_throttled_fraction", by: "node").sorted(by: { $0.key < $1.key }) where share > throttledShare {
            guard let models = placed[node], !models.isEmpty else { continue }
            let lightest = models.min { (requestsByNodeModel[.init(node, $0)] ?? 0) < (requestsByNodeModel[.init(node, $1)] ?? 0) }!
            advice.append(Recommendation(kind: .moveOff,
                                         summary: String(format: "%@ throttled %.1f%% of the time (over %.0f%%): move %@ off it to spread the heat.",
                                                         inputs.name(ofNode: node), share * 100, throttledShare * 100, lightest),
                                         model: lightest, node: inputs.name(ofNode: node), evict: nil, evidence: ["throttledShare": share]))
        }
        return advice
    }

    /// The month's extra advice: nodes to retire (too often down) and capacity (every node busy).
    public static func capacity(_ inputs: ReportInputs) -> [Recommendation] {
        var advice: [Recommendation] = []
        for (node, time) in inputs.nodeTimes().sorted(by: { $0.key < $1.key }) where time.held > 0 {
            let uptime = Double(time.online) / Double(time.held)
            if uptime < retireUptime {
                advice.append(Recommendation(kind: .retire,
                                             summary: String(format: "%@ was up %.1f%% of the time it was held: inspect it, or retire it.", inputs.name(ofNode: node), uptime * 100),
                                             model: nil, node: inputs.name(ofNode: node), evict: nil, evidence: ["uptime": uptime]))
            }
        }
        let utilisation = inputs.mean("node_cpu_utilization", by: "node").filter { inputs.nodeNames[$0.key] != nil }
        if !utilisation.isEmpty, utilisation.values.allSatisfy({ $0 > 0.8 }) {
            let mean = utilisation.values.reduce(0, +) / Double(utilisation.count)
            advice.append(Recommendation(kind: .addCapacity,
                                         summary: String(format: "Every node averaged over 80%% busy (mean %.0f%%): add a node before the next cycle.", mean * 100),
                                         model: nil, node: nil, evict: nil, evidence: ["meanUtilisation": mean]))
        }
        return advice
    }
}
