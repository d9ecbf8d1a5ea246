import Foundation
import Logging
import Provisioner
import ServiceLifecycle
import Telemetry

/// Groups the alerts every source records (agents, the rules, the fabric, missed backups) into incidents,
/// every `interval`: an alert joins the open incident of its node and kind, or opens one. One replica runs it
/// (a singleton loop). It reads a window of alerts again after each start and skips those already grouped,
/// so a restart or a new leader loses none and doubles none.
struct IncidentCorrelation: Service {
    let incidents: IncidentStore
    let agents: AgentService
    let nodes: NodeService
    let rules: AlertRuleStore
    let interval: Duration
    let logger: Logger
    /// How far back a new leader reads.
    static let catchUpMillis: Int64 = 24 * 3_600_000

    func run() async throws {
        var since = Int64(Date().timeIntervalSince1970 * 1000) - Self.catchUpMillis
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                since = try await correlate(since: since)
            } catch {
                if !Task.isCancelled { logger.warning("alerts not grouped into incidents this turn", metadata: ["error": .string("\(error)")]) }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Groups the alerts received since `since`; returns where the next turn starts (a margin back, for writes
    /// that committed late on another replica).
    func correlate(since: Int64) async throws -> Int64 {
        let started = Int64(Date().timeIntervalSince1970 * 1000)
        var cursor = since
        var severities: [String: Incident.Severity] = [:]
        while true {
            let alerts = try await agents.alerts(receivedSince: cursor, limit: 500)
            let linked = try await incidents.linked(alerts.map(\.id))
            for alert in alerts where !linked.contains(alert.id) {
                let incoming = try await incidentAlert(alert, severities: &severities)
                if let (incident, opened) = try await incidents.absorb(incoming), opened {
                    logger.notice("incident opened", metadata: ["incident": .string(incident.id), "severity": .string(incident.severity.rawValue),
                                                                "correlationId": .string(incident.correlationId), "title": .string(incident.title)])
                }
            }
            guard alerts.count == 500, let last = alerts.last, last.receivedAt > cursor else { break }
            cursor = last.receivedAt
        }
        return min(started, max(since, started - 60_000))
    }

    /// The alert as incidents see it: its node and that node's tenant, and a severity on the incidents' scale
    /// (a rule's own; an agent's critical is High, its warning Medium; info records are recoveries).
    private func incidentAlert(_ alert: NodeAlert, severities: inout [String: Incident.Severity]) async throws -> IncidentAlert {
        let nodeID = try await alert.agentId.asyncMap { try await agents.nodeID(of: $0) } ?? nil
        let tenantID = await nodeID.asyncMap { try? await nodes.node($0).tenantId } ?? nil
        var severity: Incident.Severity = alert.severity == "critical" ? .high : .medium
        if alert.kind.hasPrefix("rule:") {
            let name = String(alert.kind.dropFirst(5))
            if severities[name] == nil, let stored = try? await rules.rule(name), let ruled = Incident.Severity(rawValue: stored.severity) { severities[name] = ruled }
            severity = severities[name] ?? severity
        }
        return IncidentAlert(id: alert.id, correlationId: alert.correlationId, kind: alert.kind, severity: severity, isRecovery: alert.severity == "info",
                             message: alert.message, agentId: alert.agentId, nodeId: nodeID, tenantId: tenantID,
                             source: alert.agentId == nil ? "controller" : "agent", at: alert.at)
    }
}
