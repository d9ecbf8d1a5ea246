import Core
import HTTPTypes
import Hummingbird
import IAM
import Provisioner
import Telemetry

/// Incidents in and out in Alertmanager's formats (docs/telemetry.md): the targets incidents are announced to,
/// and the webhook an operator's own Alertmanager posts to, whose alerts become incidents.
enum NotificationRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let targets = services.notificationTargets
        let manage = RouteSpec.Access.authenticated(.platformManage, .platform)
        let path = "/api/v1/notification-targets"
        return [
            RouteSpec(.get, path, "notificationTargets.list", summary: "Where incidents are announced.", tag: "incidents", access: manage,
                      response: "NotificationTargetList") { _ in
                try JSONBody.response(["items": try await targets.all()])
            },
            RouteSpec(.post, path, "notificationTargets.create",
                      summary: "Announce incidents to a URL: kind `webhook` (Alertmanager's webhook payload, each change) or `alertmanager` (an Alertmanager's base URL; its API gets every open incident as an alert).",
                      tag: "incidents", access: manage, request: "NewNotificationTarget", response: "NotificationTarget", status: 201) { call in
                let input = try await JSONBody.decode(NewTarget.self, from: call.request, context: call.context)
                let target = try await targets.add(name: input.name, kind: input.kind, url: input.url)
                call.audit.target = target.id
                return try JSONBody.response(target, status: .created, version: target.version)
            },
            RouteSpec(.delete, path + "/{id}", "notificationTargets.delete", summary: "Stop announcing to a target (by id or name).", tag: "incidents",
                      access: manage, status: 204) { call in
                try await targets.remove(try call.context.parameters.require("id"))
                return JSONBody.noContent()
            },
            RouteSpec(.post, "/api/v1/alertmanager/webhook", "alertmanager.webhook",
                      summary: "Alertmanager's webhook (payload version 4), with a platform API key: each firing alert joins or opens an incident (by alertname and its `node` label), each resolved one joins its timeline.",
                      tag: "incidents", access: manage, request: "AlertmanagerWebhook", response: "AlertmanagerAccepted") { call in
                let payload = try await JSONBody.decode(AlertmanagerPayload.Webhook.self, from: call.request, context: call.context)
                let statuses = ["firing", "resolved"]
                guard statuses.contains(payload.status) else { throw TelemetryError.invalidField(field: "status", reason: "must be firing or resolved") }
                guard payload.alerts.allSatisfy({ $0.status.map(statuses.contains) ?? true }) else {
                    throw TelemetryError.invalidField(field: "alerts.status", reason: "must be firing or resolved")
                }
                var touched: [String] = []
                for alert in payload.alerts {
                    let incoming = try await incidentAlert(alert, payloadStatus: payload.status, services: services)
                    if let (incident, _) = try await services.incidents.absorb(incoming) { touched.append(incident.id) }
                }
                return try JSONBody.response(Accepted(alerts: payload.alerts.count, incidents: Array(Set(touched)).sorted()))
            },
        ]
    }

    /// An Alertmanager alert as incidents see it: `alertname` is its kind, `node` (an enrolled node's id or name) its node,
    /// `severity` its severity (critical, high, medium, low; warning is medium, info low), `summary` or `description` its message.
    static func incidentAlert(_ alert: AlertmanagerPayload.Alert, payloadStatus: String, services: ControllerServices) async throws -> IncidentAlert {
        let name = alert.labels["alertname"] ?? "alert"
        let node: Node? = if let label = alert.labels["node"] { try? await services.nodes.node(label) } else { nil }
        let severity: Incident.Severity = switch alert.labels["severity"]?.lowercased() {
        case "critical": .critical
        case "high", "error": .high
        case "info", "low", "none": .low
        default: .medium
        }
        let resolved = (alert.status ?? payloadStatus) == "resolved"
        let startsAt = AlertmanagerPayload.millis(alert.startsAt) ?? services.clock.nowMillis()
        let at = resolved ? (AlertmanagerPayload.millis(alert.endsAt) ?? services.clock.nowMillis()) : startsAt
        let fingerprint = alert.fingerprint ?? alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let message = alert.annotations?["summary"] ?? alert.annotations?["description"] ?? "\(name) \(alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))"
        return IncidentAlert(id: "am-\(fingerprint)-\(startsAt)\(resolved ? "-resolved" : "")", correlationId: "am-\(fingerprint)-\(startsAt)",
                             kind: "alertmanager:" + name, severity: severity, isRecovery: resolved, message: message, agentId: nil,
                             nodeId: node?.id, tenantId: node?.tenantId, source: "alertmanager", at: at)
    }

    struct NewTarget: Decodable {
        var name: String
        var kind: NotificationTargets.Target.Kind
        var url: String
    }

    struct Accepted: Encodable {
        var alerts: Int
        var incidents: [String]
    }
}
