import Foundation
import Provisioner
import Scheduler

/// The week's placement review (the walkthrough's Day 7): three artifacts (the placement diff, the cost-per-million-
/// tokens diff, the eviction log) and the rebalancing advice, computed from the week's history.
public struct WeeklyReview: Sendable, Codable, Equatable {
    public struct Placement: Sendable, Codable, Equatable, Hashable {
        public var model: String
        public var node: String
    }

    public struct Move: Sendable, Codable, Equatable {
        public var model: String
        public var from: [String]
        public var to: [String]
    }

    public struct Swap: Sendable, Codable, Equatable {
        public var at: Int64
        public var node: String
        public var fromModel: String
        public var toModel: String
    }

    public struct PlacementDiff: Sendable, Codable, Equatable {
        public var added: [Placement]
        public var removed: [Placement]
        public var moved: [Move]
        public var swapped: [Swap]
    }

    public struct CostChange: Sendable, Codable, Equatable {
        public var model: String
        public var thisWeek: Double?
        public var lastWeek: Double?
        public var changePercent: Double?
    }

    public struct Eviction: Sendable, Codable, Equatable {
        public var at: Int64
        public var node: String
        public var model: String
        public var trigger: String
        public var bytes: Int64
    }

    public var periodStart: Int64
    public var periodEnd: Int64
    public var placementDiff: PlacementDiff
    public var costDiff: [CostChange]
    public var evictionLog: [Eviction]
    public var recommendations: [Recommendation]
    public var cost: CostReport

    /// The review of the week in `week`, against the cost of the week before in `previous`.
    public static func compute(week: ReportInputs, previous: ReportInputs?) -> WeeklyReview {
        let before = flatten(week.placements(at: week.periodStart), week)
        let after = flatten(week.placements(at: week.periodEnd - 1), week)
        let modelsBefore = Dictionary(grouping: before, by: \.model).mapValues { Set($0.map(\.node)) }
        let modelsAfter = Dictionary(grouping: after, by: \.model).mapValues { Set($0.map(\.node)) }
        var moved: [Move] = []
        for (model, nodes) in modelsAfter.sorted(by: { $0.key < $1.key }) {
            if let earlier = modelsBefore[model], earlier != nodes { moved.append(Move(model: model, from: earlier.sorted(), to: nodes.sorted())) }
        }
        let movedModels = Set(moved.map(\.model))
        let added = after.subtracting(before).filter { !movedModels.contains($0.model) }.sorted { ($0.model, $0.node) < ($1.model, $1.node) }
        let removed = before.subtracting(after).filter { !movedModels.contains($0.model) }.sorted { ($0.model, $0.node) < ($1.model, $1.node) }
        let models = Dictionary(week.instanceEvents.map { ($0.instanceID, $0) }, uniquingKeysWith: { first, _ in first })
        let swapped = week.instanceEvents.filter { $0.kind == .swapped && $0.at >= week.periodStart && $0.at < week.periodEnd }.map { event in
            Swap(at: event.at, node: week.name(ofNode: week.agentNodes[event.agentID]), fromModel: event.detail.flatMap { models[$0]?.modelID } ?? "?",
                 toModel: event.modelID)
        }
        let cost = CostReport.compute(week)
        let previousCost = previous.map(CostReport.compute)
        let costDiff = Set(cost.models.map(\.modelId)).union(previousCost?.models.map(\.modelId) ?? []).sorted().map { model -> CostChange in
            let now = cost.models.first { $0.modelId == model }?.perMillionTokens
            let then = previousCost?.models.first { $0.modelId == model }?.perMillionTokens
            return CostChange(model: model, thisWeek: now, lastWeek: then,
                              changePercent: now.flatMap { now in then.flatMap { $0 > 0 ? (now / $0 - 1) * 100 : nil } })
        }
        let evictions = week.evictions.map { Eviction(at: $0.at, node: week.name(ofNode: $0.nodeID), model: $0.modelID, trigger: $0.trigger, bytes: $0.bytes) }
        return WeeklyReview(periodStart: week.periodStart, periodEnd: week.periodEnd,
                            placementDiff: PlacementDiff(added: added, removed: removed, moved: moved, swapped: swapped),
                            costDiff: costDiff, evictionLog: evictions, recommendations: RebalancingRules.recommend(week), cost: cost)
    }

    static func flatten(_ placements: [String: Set<String>], _ inputs: ReportInputs) -> Set<Placement> {
        Set(placements.flatMap { node, models in models.map { Placement(model: $0, node: inputs.name(ofNode: node)) } })
    }
}
