import Foundation
import Logging
import NodeContract
import Provisioner
import ServiceLifecycle
import Telemetry

/// Evaluates the enabled alert rules every `interval` (Prometheus' default: a minute) over the
/// telemetry store, with Prometheus' semantics (`RuleEvaluator`), and records what fires and what
/// resolves with the nodes' alerts. One replica runs it (a singleton loop); a new leader starts the
/// rules' `for` clocks afresh, as a restarted Prometheus without its state would.
struct AlertEvaluation: Service {
    let rules: AlertRuleStore
    let telemetry: TelemetryStore
    let agents: AgentService
    /// The controller's own samples (agents up, engine restarts, backup age), written before each evaluation.
    let signals: PlatformSignals
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var evaluator = RuleEvaluator()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await evaluate(&evaluator, at: Int64(Date().timeIntervalSince1970 * 1000))
            } catch {
                if !Task.isCancelled { logger.warning("alert rules not evaluated this turn", metadata: ["error": .string("\(error)")]) }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    func evaluate(_ evaluator: inout RuleEvaluator, at now: Int64) async throws {
        try await telemetry.ingest(try await signals.samples(at: now))
        let stored = try await rules.all()
        let all = stored.compactMap(\.rule)
        for stored in stored {
            guard let rule = stored.rule else { continue }
            // A disabled rule sees nothing: its alerts resolve. Series of tenants and nodes with their own rule are theirs.
            let excluded = RuleScopes.excluded(for: rule, among: all)
            let values = stored.enabled ? try await telemetry.ruleValues(rule, at: now).filter { !RuleScopes.skips($0.labels, excluded) } : []
            let transitions = evaluator.evaluate(rule, at: now, values: values)
            for alert in transitions.fired { try await report(alert, rule: rule, resolved: false, at: now) }
            for alert in transitions.resolved { try await report(alert, rule: rule, resolved: true, at: now) }
        }
    }

    private func report(_ alert: RuleEvaluator.Alert, rule: AlertRule, resolved: Bool, at now: Int64) async throws {
        let node = alert.labels["node"]
        // The node label is an enrolled node's id, or the agent's own id for an agent on no enrolled node.
        let agentID: String? = if let node { (try? await agents.agentID(onNode: node)) ?? (node.hasPrefix("agent") ? node : nil) } else { nil }
        let where_ = alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        // Stable for one alert's life (its series and when it became active): the fired and resolved records pair up by it.
        let correlation = "rule-\(rule.name)-{\(where_)}-\(alert.activeAt)"
        let severity: AlertReport.Severity = resolved ? .info : (rule.severity == .critical || rule.severity == .high ? .critical : .warning)
        let message = resolved ? "\(rule.name) resolved: \(rule.prometheusExpression) no longer holds for {\(where_)}"
            : "\(rule.name): \(rule.prometheusExpression) for {\(where_)} (value \(alert.value)) since \(rule.forSeconds) s or more"
        try await agents.record(alerts: [AlertReport(correlationId: correlation + (resolved ? "-resolved" : ""), severity: severity, kind: "rule:" + rule.name,
                                                     message: message, value: alert.value, threshold: rule.threshold, at: now)], from: agentID)
    }
}
