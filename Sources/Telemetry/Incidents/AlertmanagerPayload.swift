import Foundation

/// Alertmanager's shapes: the alert its API takes (`POST /api/v2/alerts`, what Prometheus sends), and the webhook
/// payload it sends to receivers (version 4), which Metalplane both sends (its `webhook` targets) and accepts
/// (`POST /api/v1/alertmanager/webhook`, so an operator's own Prometheus alerts become incidents).
public enum AlertmanagerPayload {
    /// One alert as Alertmanager's API and webhook carry it.
    public struct Alert: Sendable, Codable, Equatable {
        public var status: String?
        public var labels: [String: String]
        public var annotations: [String: String]?
        public var startsAt: String?
        public var endsAt: String?
        public var generatorURL: String?
        public var fingerprint: String?
    }

    /// The webhook's body (Alertmanager's `webhook_config`, version 4).
    public struct Webhook: Sendable, Codable, Equatable {
        public var version: String?
        public var groupKey: String?
        public var truncatedAlerts: Int?
        public var status: String
        public var receiver: String?
        public var groupLabels: [String: String]?
        public var commonLabels: [String: String]?
        public var commonAnnotations: [String: String]?
        public var externalURL: String?
        public var alerts: [Alert]
    }

    /// An incident as one alert: `alertname` is its kind, and the labels an operator routes on (severity, node, tenant, incident).
    public static func alert(_ incident: Incident, externalURL: String) -> Alert {
        var labels = ["alertname": alertName(incident), "incident": incident.id, "severity": incident.severity.rawValue, "source": "metalplane"]
        labels["node"] = incident.nodeId
        labels["tenant"] = incident.tenantId
        var annotations = ["summary": incident.title, "state": incident.state.rawValue, "correlation_id": incident.correlationId]
        annotations["owner"] = incident.owner
        let resolved = !incident.state.isOpen
        return Alert(status: resolved ? "resolved" : "firing", labels: labels, annotations: annotations,
                     startsAt: timestamp(incident.detectedAt), endsAt: resolved ? timestamp(incident.resolvedAt ?? incident.lastAlertAt) : nil,
                     generatorURL: externalURL + "/api/v1/incidents/" + incident.id, fingerprint: String(incident.id.suffix(16)))
    }

    /// The webhook payload announcing one incident's change.
    public static func webhook(_ incident: Incident, receiver: String, externalURL: String) -> Webhook {
        let alert = alert(incident, externalURL: externalURL)
        return Webhook(version: "4", groupKey: "{}:{incident=\"\(incident.id)\"}", truncatedAlerts: 0, status: alert.status ?? "firing", receiver: receiver,
                       groupLabels: ["incident": incident.id], commonLabels: alert.labels, commonAnnotations: alert.annotations,
                       externalURL: externalURL, alerts: [alert])
    }

    /// The rule or cause the incident is about, as an Alertmanager alert name (letters, digits, `_`).
    static func alertName(_ incident: Incident) -> String {
        let kind = incident.correlationKey.split(separator: "/").last.map(String.init) ?? "incident"
        let cleaned = String(kind.replacingOccurrences(of: "rule:", with: "").map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
        return cleaned.isEmpty ? "incident" : cleaned
    }

    static func timestamp(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    /// Milliseconds of an Alertmanager timestamp (RFC 3339, with or without fractions).
    public static func millis(_ text: String?) -> Int64? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }
}
