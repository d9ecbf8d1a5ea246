import Foundation
import Provisioner
import Scheduler
import Telemetry

/// The executive report of a month (the walkthrough's Day 30): inference volume, thermal, evictions, distribution,
/// cost, uptime with incidents, and recommendations, every figure from the month's history.
public struct MonthlyReport: Sendable, Codable, Equatable {
    public struct ModelVolume: Sendable, Codable, Equatable {
        public var model: String
        public var tokens: Double
        public var requests: Double
    }

    public struct Volume: Sendable, Codable, Equatable {
        public var tokens: Double
        public var requests: Double
        public var models: [ModelVolume]
    }

    public struct NodeThermal: Sendable, Codable, Equatable {
        public var node: String
        public var peakCelsius: Double?
        public var throttleEvents: Double
        public var throttledPercent: Double?
    }

    public struct Thermal: Sendable, Codable, Equatable {
        public var nodes: [NodeThermal]
        public var peakCelsius: Double?
        public var throttleEvents: Double
        /// What to change in the room's inlet temperature, from the month's peak.
        public var ambientAdvice: String
    }

    public struct Evictions: Sendable, Codable, Equatable {
        public var count: Int
        public var bytes: Int64
        /// The most evicted models, most first.
        public var top: [String: Int]
    }

    public struct Distribution: Sendable, Codable, Equatable {
        /// Node name → the models placed there at the month's end.
        public var placements: [String: [String]]
        public var rebalanceRecommended: Bool
    }

    public struct NodeUptime: Sendable, Codable, Equatable {
        public var node: String
        public var heldHours: Double
        public var uptimePercent: Double?
        public var downMinutes: Double
    }

    public struct IncidentLine: Sendable, Codable, Equatable {
        public var title: String
        public var node: String?
        public var detectedAt: Int64
        public var resolvedAt: Int64?
        public var cause: String?
        public var fix: String?
    }

    public struct Uptime: Sendable, Codable, Equatable {
        /// Node-time online over node-time held, across the cluster.
        public var clusterPercent: Double?
        public var nodes: [NodeUptime]
        public var incidents: [IncidentLine]
    }

    public var tenant: String
    public var periodStart: Int64
    public var periodEnd: Int64
    public var volume: Volume
    public var thermal: Thermal
    public var evictions: Evictions
    public var distribution: Distribution
    public var cost: CostReport
    public var uptime: Uptime
    public var recommendations: [Recommendation]

    /// Above this peak, the report advises a cooler inlet.
    public static let hotCelsius = 85.0

    public static func compute(_ inputs: ReportInputs) -> MonthlyReport {
        let tokens = inputs.total("model_tokens", by: "model").filter { !$0.key.isEmpty }
        let requests = inputs.requestsByModel()
        let models = Set(tokens.keys).union(requests.keys).sorted().map { ModelVolume(model: $0, tokens: tokens[$0] ?? 0, requests: requests[$0] ?? 0) }
        // Temperature: the hottest accelerator where the node has them, else its CPU package.
        let accelerator = inputs.peak("node_accelerator_celsius_max", by: "node"), package = inputs.peak("node_package_celsius", by: "node")
        let events = inputs.total("node_throttle_events", by: "node"), throttled = inputs.mean("node_throttled_fraction", by: "node")
        let thermalNodes = inputs.nodeNames.sorted { $0.value < $1.value }.map { id, name in
            NodeThermal(node: name, peakCelsius: accelerator[id] ?? package[id], throttleEvents: events[id] ?? 0, throttledPercent: throttled[id].map { $0 * 100 })
        }
        let peak = thermalNodes.compactMap(\.peakCelsius).max()
        let ambient = peak.map { $0 > hotCelsius ? String(format: "Lower the inlet air by %.0f °C: the hottest node peaked at %.0f °C.", ($0 - 80).rounded(.up), $0)
                                                 : String(format: "No change: the hottest node peaked at %.0f °C.", $0) } ?? "No temperatures were reported."
        var evictionCounts: [String: Int] = [:]
        for eviction in inputs.evictions { evictionCounts[eviction.modelID, default: 0] += 1 }
        let top = Dictionary(uniqueKeysWithValues: evictionCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(5).map { ($0.key, $0.value) })
        let recommendations = RebalancingRules.recommend(inputs) + RebalancingRules.capacity(inputs)
        let placed = inputs.placements(at: inputs.periodEnd - 1)
        let distribution = Distribution(placements: Dictionary(uniqueKeysWithValues: inputs.nodeNames.map { id, name in (name, (placed[id] ?? []).sorted()) }),
                                        rebalanceRecommended: recommendations.contains { [.ownNode, .moveOff, .largerCache].contains($0.kind) })
        let times = inputs.nodeTimes()
        let uptimeNodes = inputs.nodeNames.sorted { $0.value < $1.value }.map { id, name -> NodeUptime in
            let time = times[id] ?? (0, 0)
            return NodeUptime(node: name, heldHours: Double(time.held) / 3_600_000, uptimePercent: time.held > 0 ? Double(time.online) / Double(time.held) * 100 : nil,
                              downMinutes: Double(time.held - time.online) / 60_000)
        }
        let held = times.values.map(\.held).reduce(0, +), online = times.values.map(\.online).reduce(0, +)
        let incidents = inputs.incidents.sorted { $0.detectedAt < $1.detectedAt }.map { incident in
            IncidentLine(title: incident.title, node: incident.nodeId.map { inputs.name(ofNode: $0) }, detectedAt: incident.detectedAt,
                         resolvedAt: incident.resolvedAt, cause: incident.review?.cause, fix: incident.review?.fix)
        }
        return MonthlyReport(
            tenant: inputs.tenantName, periodStart: inputs.periodStart, periodEnd: inputs.periodEnd,
            volume: Volume(tokens: tokens.values.reduce(0, +), requests: requests.values.reduce(0, +), models: models),
            thermal: Thermal(nodes: thermalNodes, peakCelsius: peak, throttleEvents: events.values.reduce(0, +), ambientAdvice: ambient),
            evictions: Evictions(count: inputs.evictions.count, bytes: inputs.evictions.map(\.bytes).reduce(0, +), top: top),
            distribution: distribution, cost: CostReport.compute(inputs),
            uptime: Uptime(clusterPercent: held > 0 ? Double(online) / Double(held) * 100 : nil, nodes: uptimeNodes, incidents: incidents),
            recommendations: recommendations)
    }
}
