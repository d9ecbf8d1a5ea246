import Foundation
import Provisioner
import Reports
import Scheduler
import Telemetry

/// A SYNTHETIC month of a 3-node cluster, made by the test (not measured anywhere): placements, a hot-swap, evictions,
/// an incident with its review, and hourly telemetry. Two traffic shapes: `.skewed` (one model far above its even share
/// and cohabiting, a model with a poor KV-cache hit rate, a throttling node) and `.even` (none of that).
struct SyntheticMonth {
    enum Shape { case skewed, even }

    static let tenant = "ten_synthetic"
    /// April 2026 (30 days), UTC.
    static let start: Int64 = 1_775_001_600_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    static let end = start + 30 * day
    static let nodes = ["node-1": "gpu-a1", "node-2": "gpu-a2", "node-3": "gpu-a3"]
    static let agents = ["agent-1": "node-1", "agent-2": "node-2", "agent-3": "node-3"]

    let shape: Shape

    /// Tokens and requests per hour of each model on each node (node, model, tokens, requests), and its KV-cache hit rate.
    var traffic: [(node: String, model: String, tokens: Double, requests: Double, kvHitRate: Double, from: Int64, to: Int64)] {
        let swapAt = Self.start + 14 * Self.day
        switch shape {
        case .skewed:
            // alpha: 10 requests/s of about 1,000 tokens, far above an even share, cohabiting with gamma.
            return [("node-1", "synthetic/alpha-70b", 36_000_000, 36_000, 0.92, Self.start, Self.end),
                    ("node-1", "synthetic/gamma-8b", 2_000_000, 2_000, 0.81, Self.start, Self.end),
                    ("node-2", "synthetic/beta-8b", 20_000_000, 20_000, 0.35, Self.start, Self.end),
                    ("node-3", "synthetic/delta-3b", 25_000_000, 25_000, 0.86, Self.start, swapAt),
                    ("node-3", "synthetic/delta-3b-v2", 25_000_000, 25_000, 0.88, swapAt, Self.end)]
        case .even:
            return [("node-1", "synthetic/alpha-70b", 12_000_000, 12_000, 0.92, Self.start, Self.end),
                    ("node-1", "synthetic/gamma-8b", 9_000_000, 9_000, 0.81, Self.start, Self.end),
                    ("node-2", "synthetic/beta-8b", 14_000_000, 14_000, 0.83, Self.start, Self.end),
                    ("node-3", "synthetic/delta-3b", 12_000_000, 12_000, 0.86, Self.start, swapAt),
                    ("node-3", "synthetic/delta-3b-v2", 12_000_000, 12_000, 0.88, swapAt, Self.end)]
        }
    }

    /// Measured power per node (W); node-3 reports none (its declared draw applies).
    static let watts = ["node-1": 1_500.0, "node-2": 1_400.0]
    static let cpu = 0.5
    /// node-3's agent is lost for 6 hours on day 10.
    static let outageStart = start + 10 * day
    static let outageEnd = outageStart + 6 * hour

    func inputs(from: Int64 = Self.start, to: Int64 = Self.end) -> ReportInputs {
        let before = Self.start - Self.day
        var nodeEvents: [NodeEvent] = []
        for node in Self.nodes.keys.sorted() {
            nodeEvents.append(NodeEvent(at: before, nodeID: node, kind: .state, state: "active", tenantID: Self.tenant, projectID: "prj_synthetic"))
            nodeEvents.append(NodeEvent(at: before, nodeID: node, kind: .agent, state: "online", tenantID: Self.tenant, projectID: "prj_synthetic"))
        }
        nodeEvents.append(NodeEvent(at: Self.outageStart, nodeID: "node-3", kind: .agent, state: "lost", tenantID: Self.tenant, projectID: "prj_synthetic"))
        nodeEvents.append(NodeEvent(at: Self.outageEnd, nodeID: "node-3", kind: .agent, state: "online", tenantID: Self.tenant, projectID: "prj_synthetic"))
        let swapAt = Self.start + 14 * Self.day
        func placed(_ id: String, _ agent: String, _ model: String, at: Int64) -> InstanceEvent {
            InstanceEvent(at: at, instanceID: id, agentID: agent, projectID: "prj_synthetic", placementID: "plc_" + id, modelID: model, kind: .placed)
        }
        let instanceEvents = [
            placed("i-alpha", "agent-1", "synthetic/alpha-70b", at: before), placed("i-gamma", "agent-1", "synthetic/gamma-8b", at: before),
            placed("i-beta", "agent-2", "synthetic/beta-8b", at: before), placed("i-delta", "agent-3", "synthetic/delta-3b", at: before),
            placed("i-delta2", "agent-3", "synthetic/delta-3b-v2", at: swapAt - Self.hour),
            InstanceEvent(at: swapAt, instanceID: "i-delta2", agentID: "agent-3", projectID: "prj_synthetic", placementID: "plc_i-delta2",
                          modelID: "synthetic/delta-3b-v2", kind: .swapped, detail: "i-delta"),
            InstanceEvent(at: swapAt + 60_000, instanceID: "i-delta", agentID: "agent-3", projectID: "prj_synthetic", placementID: "plc_i-delta",
                          modelID: "synthetic/delta-3b", kind: .removed),
        ].filter { $0.at < to }
        let evictions = [
            EvictionRecord(at: swapAt + 2 * Self.hour, nodeID: "node-3", agentID: "agent-3", modelID: "synthetic/delta-3b", trigger: "deactivation", bytes: Int64(2) << 30),
            EvictionRecord(at: Self.start + 20 * Self.day, nodeID: "node-1", agentID: "agent-1", modelID: "synthetic/gamma-8b", trigger: "startup", bytes: Int64(4) << 30),
            EvictionRecord(at: Self.start + 21 * Self.day, nodeID: "node-1", agentID: "agent-1", modelID: "synthetic/gamma-8b", trigger: "staging", bytes: Int64(4) << 30),
        ].filter { $0.at >= from && $0.at < to }
        var samples: [String: [ReportInputs.Series]] = [:]
        for flow in traffic {
            let first: Int64 = max(flow.from, from), last: Int64 = min(flow.to, to)
            let hours: [Int64] = Array(stride(from: first, to: last, by: Int(Self.hour)))
            let labels = ["node": flow.node, "model": flow.model, "tenant": Self.tenant]
            samples["model_tokens", default: []].append(.init(labels: labels, samples: hours.map { ($0, flow.tokens) }))
            samples["model_requests", default: []].append(.init(labels: labels, samples: hours.map { ($0, flow.requests) }))
            samples["model_kv_cache_hit_rate", default: []].append(.init(labels: labels, samples: hours.map { ($0, flow.kvHitRate) }))
        }
        let hours: [Int64] = Array(stride(from: from, to: to, by: Int(Self.hour)))
        for node in Self.nodes.keys.sorted() {
            let labels = ["node": node, "tenant": Self.tenant]
            let hot = shape == .skewed && node == "node-2"
            samples["node_throttled_fraction", default: []].append(.init(labels: labels, samples: hours.map { ($0, hot ? 0.05 : 0) }))
            samples["node_throttle_events", default: []].append(.init(labels: labels, samples: hours.map { ($0, hot ? 2 : 0) }))
            // One hot hour on node-2 in the skewed month: 88 °C.
            samples["node_accelerator_celsius_max", default: []].append(.init(labels: labels, samples: hours.enumerated().map { index, at in
                (at, hot && index == 300 ? 88 : node == "node-1" ? 71 : 66)
            }))
            samples["node_cpu_utilization", default: []].append(.init(labels: labels, samples: hours.map { ($0, Self.cpu) }))
            if let watts = Self.watts[node] {
                samples["node_package_watts", default: []].append(.init(labels: labels, samples: hours.map { ($0, watts) }))
            }
        }
        let incident = try! JSONDecoder().decode(Incident.self, from: Data("""
            {"id": "inc_synthetic", "title": "NodeLost gpu-a3", "severity": "critical", "state": "reviewed", "correlationKey": "node-3/NodeLost",
             "correlationId": "cor_synthetic", "source": "controller", "nodeId": "node-3", "tenantId": "\(Self.tenant)", "alertCount": 1,
             "detectedAt": \(Self.outageStart), "lastAlertAt": \(Self.outageStart), "resolvedAt": \(Self.outageEnd), "version": 4,
             "review": {"cause": "PDU breaker tripped", "fix": "Moved the node to the second PDU", "reviewer": "ops", "timeline": []}}
            """.utf8))
        return ReportInputs(tenantID: Self.tenant, tenantName: "Synthetic Co (synthetic data)", periodStart: from, periodEnd: to, nodeNames: Self.nodes,
                            nodeEvents: nodeEvents, instanceEvents: instanceEvents, agentNodes: Self.agents, evictions: evictions,
                            incidents: [incident].filter { $0.detectedAt >= from && $0.detectedAt < to }, samples: samples,
                            settings: .standard, settingsSource: "default")
    }
}
