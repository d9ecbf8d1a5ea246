import Foundation
import Storage

/// An incident: alerts with one cause on one node (or the platform) in one window, run from detection to
/// post-incident review (docs/telemetry.md, "Incidents").
public struct Incident: Sendable, Equatable, Codable, RowDecodable {
    /// The capability sheet's scale: Critical (platform-wide outage) to Low (minor, with a workaround).
    public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
        case critical, high, medium, low

        var rank: Int { Self.allCases.firstIndex(of: self)! }
        /// Critical sorts first.
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    /// detected → acknowledged (with an owner) → investigating → resolved → reviewed.
    public enum State: String, Sendable, Codable, CaseIterable {
        case detected, acknowledged, investigating, resolved, reviewed

        /// States an incident may move to from this one. Resolving needs an owner first (acknowledged), and may skip
        /// investigating for a cause found at once; nothing leaves `reviewed`.
        public var next: [State] {
            switch self {
            case .detected: [.acknowledged]
            case .acknowledged: [.investigating, .resolved]
            case .investigating: [.resolved]
            case .resolved: [.reviewed]
            case .reviewed: []
            }
        }

        /// Still taking alerts: new alerts of its correlation key join it rather than open another.
        public var isOpen: Bool { self == .detected || self == .acknowledged || self == .investigating }

        /// The open states as a SQL list, `('detected', …)`.
        static let openSQL = "(" + allCases.filter(\.isOpen).map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
    }

    public var id: String
    public var title: String
    public var severity: Severity
    public var state: State
    /// What groups alerts into it: the node (or agent, or `platform`) and the alert's kind.
    public var correlationKey: String
    /// The first alert's correlation id: the thread through the node's event log and logs.
    public var correlationId: String
    public var source: String
    public var nodeId: String?
    public var agentId: String?
    public var tenantId: String?
    public var owner: String?
    public var alertCount: Int
    public var detectedAt: Int64
    public var lastAlertAt: Int64
    public var acknowledgedAt: Int64?
    public var investigatingAt: Int64?
    public var resolvedAt: Int64?
    public var reviewedAt: Int64?
    public var review: Review?
    public var version: Int64

    /// The post-incident review: cause, fix, and the timeline frozen when it was written.
    public struct Review: Sendable, Equatable, Codable {
        public var cause: String
        public var fix: String
        public var summary: String?
        public var reviewer: String
        public var timeline: [TimelineEntry]
    }

    public init(row: Row) throws {
        id = try row.string("id")
        title = try row.string("title")
        severity = Severity(rawValue: try row.string("severity")) ?? .medium
        state = State(rawValue: try row.string("state")) ?? .detected
        correlationKey = try row.string("correlation_key")
        correlationId = try row.string("correlation_id")
        source = try row.string("source")
        nodeId = try row.optionalString("node_id")
        agentId = try row.optionalString("agent_id")
        tenantId = try row.optionalString("tenant_id")
        owner = try row.optionalString("owner")
        alertCount = Int(try row.int64("alert_count"))
        detectedAt = try row.int64("detected_at")
        lastAlertAt = try row.int64("last_alert_at")
        acknowledgedAt = try row.optionalInt64("acknowledged_at")
        investigatingAt = try row.optionalInt64("investigating_at")
        resolvedAt = try row.optionalInt64("resolved_at")
        reviewedAt = try row.optionalInt64("reviewed_at")
        review = try row.optionalString("review").flatMap { try? JSONDecoder().decode(Review.self, from: Data($0.utf8)) }
        version = try row.int64("version")
    }
}

/// One line of an incident's timeline: an alert, a step of the incident, an audited action, or one of the node's operations.
public struct TimelineEntry: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case alert, incident, audit, operation }

    public var at: Int64
    public var kind: Kind
    /// The alert's, audit record's or operation's id (the incident's own steps: the step's id).
    public var ref: String
    public var summary: String
    /// The request or correlation id that ties the entry to logs.
    public var correlationId: String?

    public init(at: Int64, kind: Kind, ref: String, summary: String, correlationId: String? = nil) {
        self.at = at
        self.kind = kind
        self.ref = ref
        self.summary = summary
        self.correlationId = correlationId
    }
}

/// An alert as incidents see it, whatever raised it (an agent, the controller's rules, the fabric, an operator's Alertmanager).
public struct IncidentAlert: Sendable, Equatable {
    public var id: String
    public var correlationId: String
    public var kind: String
    public var severity: Incident.Severity
    /// A recovery (a resolved rule, a backup that ran again) joins an open incident's timeline but opens none.
    public var isRecovery: Bool
    public var message: String
    public var agentId: String?
    public var nodeId: String?
    public var tenantId: String?
    public var source: String
    public var at: Int64

    public init(id: String, correlationId: String, kind: String, severity: Incident.Severity, isRecovery: Bool, message: String,
                agentId: String?, nodeId: String?, tenantId: String?, source: String, at: Int64) {
        self.id = id
        self.correlationId = correlationId
        self.kind = kind
        self.severity = severity
        self.isRecovery = isRecovery
        self.message = message
        self.agentId = agentId
        self.nodeId = nodeId
        self.tenantId = tenantId
        self.source = source
        self.at = at
    }

    /// Alerts with the same key group into one open incident: same node (or agent, or the platform), same cause.
    public var correlationKey: String { "\(nodeId ?? agentId ?? "platform")/\(kind)" }
}
