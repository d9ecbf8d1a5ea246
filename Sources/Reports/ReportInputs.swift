import Core
import Foundation
import Provisioner
import Scheduler
import Telemetry

/// Everything a tenant's report is computed from, for one period: recorded history (node and agent events, instance
/// events, evictions, incidents) and the telemetry samples of the period, never the current state. Reports are pure
/// functions of this, so a test can hand them a synthetic month and compute the expected figures itself.
public struct ReportInputs: Sendable {
    /// The tenant whose cluster this is.
    public var tenantID: String
    public var tenantName: String
    public var periodStart: Int64
    public var periodEnd: Int64
    /// Node id → name, for every node the tenant held during the period.
    public var nodeNames: [String: String]
    /// Node events of the period, with each node's last events before it (its state when the period began).
    public var nodeEvents: [NodeEvent]
    /// Instance events of the period, with the earlier events of instances still placed when it began.
    public var instanceEvents: [InstanceEvent]
    /// Agent id → node id.
    public var agentNodes: [String: String]
    public var evictions: [EvictionRecord]
    public var incidents: [Incident]
    /// Samples of the period by metric: each series' labels (node, model, …) and its samples.
    public var samples: [String: [Series]]
    /// Requests the router answered, by node id and model (from its latency histograms: every request counted once,
    /// whatever the engine reports). Empty: the engines' own `model_requests` counts stand in.
    public var routerRequests: [String: [String: Double]] = [:]
    public var settings: CostSettings
    /// Where the settings come from: `tenant:<id>`, `platform` or `default`.
    public var settingsSource: String

    /// A series' samples, or their daily rollups (a day's count, sum and largest sample): the reports need only totals,
    /// means and peaks, which both give exactly.
    public struct Series: Sendable {
        public struct Point: Sendable {
            public var at: Int64
            public var sum: Double
            public var count: Int64
            public var largest: Double

            public init(at: Int64, sum: Double, count: Int64, largest: Double) {
                self.at = at
                self.sum = sum
                self.count = count
                self.largest = largest
            }
        }

        public var labels: [String: String]
        public var points: [Point]

        public init(labels: [String: String], points: [Point]) {
            self.labels = labels
            self.points = points
        }

        /// Raw samples, each a point of its own.
        public init(labels: [String: String], samples: [(at: Int64, value: Double)]) {
            self.init(labels: labels, points: samples.map { Point(at: $0.at, sum: $0.value, count: 1, largest: $0.value) })
        }
    }

    /// The metrics a report reads.
    public static let metrics = ["model_tokens", "model_requests", "model_kv_cache_hit_rate", "node_throttled_fraction", "node_throttle_events",
                                 "node_package_celsius", "node_accelerator_celsius_max", "node_package_watts", "node_accelerator_watts",
                                 "node_cpu_utilization"]

    public init(tenantID: String, tenantName: String, periodStart: Int64, periodEnd: Int64, nodeNames: [String: String], nodeEvents: [NodeEvent],
                instanceEvents: [InstanceEvent], agentNodes: [String: String], evictions: [EvictionRecord], incidents: [Incident],
                samples: [String: [Series]], settings: CostSettings, settingsSource: String) {
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.nodeNames = nodeNames
        self.nodeEvents = nodeEvents
        self.instanceEvents = instanceEvents
        self.agentNodes = agentNodes
        self.evictions = evictions
        self.incidents = incidents
        self.samples = samples
        self.settings = settings
        self.settingsSource = settingsSource
    }

    var periodHours: Double { Double(periodEnd - periodStart) / 3_600_000 }

    func name(ofNode id: String?) -> String { id.flatMap { nodeNames[$0] } ?? id ?? "?" }

    /// The sum of a metric's samples by a label (the per-interval counters: tokens, requests, throttle events).
    func total(_ metric: String, by label: String) -> [String: Double] {
        var totals: [String: Double] = [:]
        for series in samples[metric] ?? [] {
            totals[series.labels[label] ?? "", default: 0] += series.points.reduce(0) { $0 + $1.sum }
        }
        return totals
    }

    /// Requests by model: the router's count where it has one, else the engines'.
    func requestsByModel() -> [String: Double] {
        guard !routerRequests.isEmpty else { return total("model_requests", by: "model").filter { !$0.key.isEmpty } }
        var totals: [String: Double] = [:]
        for (_, models) in routerRequests { for (model, count) in models { totals[model, default: 0] += count } }
        return totals
    }

    /// Requests by node and model, likewise.
    func requestsByNodeModel() -> [Pair: Double] {
        guard !routerRequests.isEmpty else { return total("model_requests", by: "node", "model") }
        var totals: [Pair: Double] = [:]
        for (node, models) in routerRequests { for (model, count) in models { totals[Pair(node, model)] = count } }
        return totals
    }

    /// The sum of a metric's samples by two labels.
    func total(_ metric: String, by first: String, _ second: String) -> [Pair: Double] {
        var totals: [Pair: Double] = [:]
        for series in samples[metric] ?? [] {
            totals[Pair(series.labels[first] ?? "", series.labels[second] ?? ""), default: 0] += series.points.reduce(0) { $0 + $1.sum }
        }
        return totals
    }

    /// The mean of a metric's samples by a label (gauges: hit rates, fractions, watts), nil where none.
    func mean(_ metric: String, by label: String) -> [String: Double] {
        var sums: [String: (Double, Int64)] = [:]
        for series in samples[metric] ?? [] {
            let key = series.labels[label] ?? ""
            for point in series.points { sums[key, default: (0, 0)].0 += point.sum; sums[key, default: (0, 0)].1 += point.count }
        }
        return sums.compactMapValues { $0.1 > 0 ? $0.0 / Double($0.1) : nil }
    }

    /// The largest sample of a metric by a label.
    func peak(_ metric: String, by label: String) -> [String: Double] {
        var peaks: [String: Double] = [:]
        for series in samples[metric] ?? [] {
            let key = series.labels[label] ?? ""
            if let top = series.points.map(\.largest).max() { peaks[key] = max(peaks[key] ?? top, top) }
        }
        return peaks
    }

    struct Pair: Hashable {
        var first: String
        var second: String
        init(_ first: String, _ second: String) { self.first = first; self.second = second }
    }

    /// Where each model ran at time `at`: node id → the models placed there (instances placed and not yet removed).
    func placements(at time: Int64) -> [String: Set<String>] {
        var placed: [String: (model: String, agent: String)] = [:]
        for event in instanceEvents where event.at <= time {
            switch event.kind {
            case .placed: placed[event.instanceID] = (event.modelID, event.agentID)
            case .removed: placed[event.instanceID] = nil
            case .phase, .swapped: continue
            }
        }
        var byNode: [String: Set<String>] = [:]
        for (_, instance) in placed {
            byNode[agentNodes[instance.agent] ?? instance.agent, default: []].insert(instance.model)
        }
        return byNode
    }

    /// The time within the period each node was held by the tenant, and the time its agent was online then (ms).
    func nodeTimes() -> [String: (held: Int64, online: Int64)] {
        var result: [String: (held: Int64, online: Int64)] = [:]
        let heldStates: Set<String> = ["allocated", "deploying", "active"]
        let eventsByNode = Dictionary(grouping: nodeEvents, by: \.nodeID)
        for node in nodeNames.keys {
            let events = (eventsByNode[node] ?? []).sorted { $0.at < $1.at }
            // The state at the period's start: the last events before it (or, without any, held and online from the first event).
            var held = events.last { $0.kind == .state && $0.at < periodStart }.map { heldStates.contains($0.state) && $0.tenantID == tenantID } ?? true
            var online = events.last { $0.kind == .agent && $0.at < periodStart }.map { $0.state == "online" } ?? false
            if events.allSatisfy({ $0.at >= periodStart }) {
                held = events.first { $0.kind == .state }.map { _ in false } ?? true
                online = false
            }
            var cursor = periodStart
            var heldTime: Int64 = 0, onlineTime: Int64 = 0
            for event in events where event.at >= periodStart && event.at < periodEnd {
                if held { heldTime += event.at - cursor; if online { onlineTime += event.at - cursor } }
                cursor = event.at
                switch event.kind {
                case .state: held = heldStates.contains(event.state) && event.tenantID == tenantID
                case .agent: online = event.state == "online"
                }
            }
            if held { heldTime += periodEnd - cursor; if online { onlineTime += periodEnd - cursor } }
            result[node] = (heldTime, onlineTime)
        }
        return result
    }
}
