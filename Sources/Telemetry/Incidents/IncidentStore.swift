import Core
import Foundation
import Storage

/// Incidents: alerts grouped by correlation key into one open incident each, and the incident's steps from
/// detection to review. Every step is one transaction that checks the state it moves from.
public struct IncidentStore: Sendable {
    let database: any Database
    let clock: WallClock

    public init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    // MARK: Alerts into incidents

    /// Which of these alerts are already part of an incident (the correlator reads a window of alerts again after a restart).
    public func linked(_ alertIDs: [String]) async throws -> Set<String> {
        guard !alertIDs.isEmpty else { return [] }
        return try await database.read { connection in
            var linked: Set<String> = []
            for chunk in stride(from: 0, to: alertIDs.count, by: 200).map({ alertIDs[$0..<min($0 + 200, alertIDs.count)] }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                for row in try connection.query("SELECT alert_id FROM incident_alerts WHERE alert_id IN (\(marks))", chunk.map { .text($0) }) {
                    linked.insert(try row.string("alert_id"))
                }
            }
            return linked
        }
    }

    /// Joins an alert to the open incident of its correlation key, or opens one (a recovery opens none).
    /// Returns the incident it joined or opened, and whether it was opened.
    @discardableResult
    public func absorb(_ alert: IncidentAlert) async throws -> (incident: Incident, opened: Bool)? {
        let now = clock.nowMillis()
        return try await database.write { connection in
            guard try connection.scalarInt("SELECT COUNT(*) FROM incident_alerts WHERE alert_id = ?", [.text(alert.id)]) == 0 else { return nil }
            var opened = false
            let open = try connection.queryFirst(Incident.self, "SELECT * FROM incidents WHERE correlation_key = ? AND state IN \(Incident.State.openSQL)",
                                                 [.text(alert.correlationKey)])
            let id: String
            if let open {
                id = open.id
                // A worse alert raises the incident's severity; triage may still change it by hand.
                let severity = min(open.severity, alert.isRecovery ? open.severity : alert.severity)
                try connection.execute("""
                    UPDATE incidents SET alert_count = alert_count + 1, last_alert_at = ?, severity = ?, version = version + 1, updated_at = ? WHERE id = ?
                    """, [.integer(max(open.lastAlertAt, alert.at)), .text(severity.rawValue), .integer(now), .text(id)])
            } else {
                guard !alert.isRecovery else { return nil }
                id = Identifier.make("inc", at: now)
                opened = true
                try connection.execute("""
                    INSERT INTO incidents (id, title, severity, state, correlation_key, correlation_id, source, node_id, agent_id, tenant_id,
                        alert_count, detected_at, last_alert_at, version, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 1, ?)
                    """, [.text(id), .text(alert.message), .text(alert.severity.rawValue), .text(Incident.State.detected.rawValue), .text(alert.correlationKey), .text(alert.correlationId),
                          .text(alert.source), .text(alert.nodeId), .text(alert.agentId), .text(alert.tenantId), .integer(alert.at), .integer(alert.at), .integer(now)])
                try Self.step(connection, incident: id, at: now, actor: alert.source, kind: "detected", note: alert.message)
            }
            try connection.execute("""
                INSERT INTO incident_alerts (alert_id, incident_id, correlation_id, kind, severity, recovery, message, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(alert.id), .text(id), .text(alert.correlationId), .text(alert.kind), .text(alert.severity.rawValue),
                      .int(alert.isRecovery ? 1 : 0), .text(alert.message), .integer(alert.at)])
            guard let incident = try connection.queryFirst(Incident.self, "SELECT * FROM incidents WHERE id = ?", [.text(id)]) else { return nil }
            return (incident, opened)
        }
    }

    // MARK: Steps

    /// Opens an incident by hand (an operator saw something no alert says).
    public func open(title: String, severity: Incident.Severity, nodeID: String?, tenantID: String?, actor: String) async throws -> Incident {
        guard !title.trimmingCharacters(in: .whitespaces).isEmpty else { throw TelemetryError.invalidField(field: "title", reason: "must not be empty") }
        let now = clock.nowMillis()
        let id = Identifier.make("inc", at: now)
        return try await database.write { connection in
            try connection.execute("""
                INSERT INTO incidents (id, title, severity, state, correlation_key, correlation_id, source, node_id, tenant_id,
                    alert_count, detected_at, last_alert_at, version, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 'manual', ?, ?, 0, ?, ?, 1, ?)
                """, [.text(id), .text(title), .text(severity.rawValue), .text(Incident.State.detected.rawValue), .text("manual/\(id)"), .text(id), .text(nodeID), .text(tenantID),
                      .integer(now), .integer(now), .integer(now)])
            try Self.step(connection, incident: id, at: now, actor: actor, kind: "detected", note: title)
            return try Self.incident(id, connection)
        }
    }

    /// Takes ownership: detected → acknowledged.
    public func acknowledge(_ id: String, owner: String, actor: String, note: String?, ifVersion: Int64? = nil) async throws -> Incident {
        guard !owner.isEmpty else { throw TelemetryError.invalidField(field: "owner", reason: "must not be empty") }
        return try await move(id, to: .acknowledged, actor: actor, note: note ?? "owner \(owner)", ifVersion: ifVersion,
                              columns: ["owner = ?": .text(owner), "acknowledged_at = ?": .integer(clock.nowMillis())])
    }

    /// acknowledged → investigating.
    public func investigate(_ id: String, actor: String, note: String?, ifVersion: Int64? = nil) async throws -> Incident {
        try await move(id, to: .investigating, actor: actor, note: note, ifVersion: ifVersion, columns: ["investigating_at = ?": .integer(clock.nowMillis())])
    }

    /// acknowledged or investigating → resolved.
    public func resolve(_ id: String, actor: String, note: String?, ifVersion: Int64? = nil) async throws -> Incident {
        try await move(id, to: .resolved, actor: actor, note: note, ifVersion: ifVersion, columns: ["resolved_at = ?": .integer(clock.nowMillis())])
    }

    /// resolved → reviewed: cause, fix and the timeline (`timeline` adds what the store cannot see: audit records, node operations).
    public func review(_ id: String, cause: String, fix: String, summary: String?, reviewer: String, extra timeline: [TimelineEntry],
                       ifVersion: Int64? = nil) async throws -> Incident {
        for (field, text) in [("cause", cause), ("fix", fix)] where text.trimmingCharacters(in: .whitespaces).isEmpty {
            throw TelemetryError.invalidField(field: field, reason: "must not be empty")
        }
        let own = try await self.timeline(id)
        let merged = (own + timeline).sorted { ($0.at, $0.kind.rawValue, $0.ref) < ($1.at, $1.kind.rawValue, $1.ref) }
        let review = Incident.Review(cause: cause, fix: fix, summary: summary, reviewer: reviewer, timeline: merged)
        let json = String(decoding: try JSONEncoder().encode(review), as: UTF8.self)
        return try await move(id, to: .reviewed, actor: reviewer, note: "cause: \(cause); fix: \(fix)", ifVersion: ifVersion,
                              columns: ["reviewed_at = ?": .integer(clock.nowMillis()), "review = ?": .text(json)])
    }

    /// Triage: sets the severity (any open or resolved incident).
    public func setSeverity(_ id: String, _ severity: Incident.Severity, actor: String, ifVersion: Int64? = nil) async throws -> Incident {
        let now = clock.nowMillis()
        return try await database.write { connection in
            let incident = try Self.incident(id, connection)
            if let ifVersion, ifVersion != incident.version { throw TelemetryError.incidentVersionMismatch(id: id, current: incident.version) }
            guard incident.state != .reviewed else { throw TelemetryError.invalidTransition(id: id, from: incident.state.rawValue, to: "severity change") }
            try connection.execute("UPDATE incidents SET severity = ?, version = version + 1, updated_at = ? WHERE id = ?", [.text(severity.rawValue), .integer(now), .text(id)])
            try Self.step(connection, incident: id, at: now, actor: actor, kind: "severity", note: "\(incident.severity.rawValue) → \(severity.rawValue)")
            return try Self.incident(id, connection)
        }
    }

    private func move(_ id: String, to state: Incident.State, actor: String, note: String?, ifVersion: Int64?, columns: [String: SQLValue]) async throws -> Incident {
        let now = clock.nowMillis()
        return try await database.write { connection in
            let incident = try Self.incident(id, connection)
            if let ifVersion, ifVersion != incident.version { throw TelemetryError.incidentVersionMismatch(id: id, current: incident.version) }
            guard incident.state.next.contains(state) else {
                throw TelemetryError.invalidTransition(id: id, from: incident.state.rawValue, to: state.rawValue)
            }
            let sets = columns.keys.sorted()
            try connection.execute("UPDATE incidents SET state = ?, \(sets.joined(separator: ", ")), version = version + 1, updated_at = ? WHERE id = ?",
                                   [.text(state.rawValue)] + sets.map { columns[$0]! } + [.integer(now), .text(id)])
            try Self.step(connection, incident: id, at: now, actor: actor, kind: state.rawValue, note: note)
            return try Self.incident(id, connection)
        }
    }

    static func step(_ connection: any SQLConnection, incident: String, at: Int64, actor: String, kind: String, note: String?) throws {
        try connection.execute("INSERT INTO incident_events (id, incident_id, at, actor, kind, note) VALUES (?, ?, ?, ?, ?, ?)",
                               [.text(Identifier.makeUnique("ine", at: at)), .text(incident), .integer(at), .text(actor), .text(kind), .text(note)])
    }

    static func incident(_ id: String, _ connection: any SQLConnection) throws -> Incident {
        guard let incident = try connection.queryFirst(Incident.self, "SELECT * FROM incidents WHERE id = ?", [.text(id)]) else {
            throw TelemetryError.incidentNotFound(id)
        }
        return incident
    }

    // MARK: Reading

    public func incident(_ id: String) async throws -> Incident {
        try await database.read { try Self.incident(id, $0) }
    }

    /// Incidents, newest first: filtered by state, severity, node and tenant (a tenant admin's view passes their tenant).
    public func list(state: Incident.State? = nil, severity: Incident.Severity? = nil, nodeID: String? = nil, tenantID: String? = nil,
                     page: PageRequest) async throws -> Page<Incident> {
        var sql = "SELECT * FROM incidents WHERE 1 = 1"
        var parameters: [SQLValue] = []
        for (column, value) in [("state", state?.rawValue), ("severity", severity?.rawValue), ("node_id", nodeID), ("tenant_id", tenantID)] {
            guard let value else { continue }
            sql += " AND \(column) = ?"
            parameters.append(.text(value))
        }
        if let after = page.after {
            sql += " AND id < ?"
            parameters.append(.text(after))
        }
        sql += " ORDER BY id DESC LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (text, values) = (sql, parameters)
        return Page(fetched: try await database.read { try $0.query(Incident.self, text, values) }, request: page, key: \.id)
    }

    /// The incident's own timeline: its alerts and its steps, oldest first.
    public func timeline(_ id: String) async throws -> [TimelineEntry] {
        try await database.read { connection in
            _ = try Self.incident(id, connection)
            var entries = try connection.query("SELECT * FROM incident_alerts WHERE incident_id = ? ORDER BY at", [.text(id)]).map { row in
                TimelineEntry(at: try row.int64("at"), kind: .alert, ref: try row.string("alert_id"),
                              summary: "\(try row.int64("recovery") != 0 ? "recovered" : try row.string("severity")) \(try row.string("kind")): \(try row.string("message"))",
                              correlationId: try row.string("correlation_id"))
            }
            entries += try connection.query("SELECT * FROM incident_events WHERE incident_id = ? ORDER BY at", [.text(id)]).map { row in
                let note = try row.optionalString("note").map { ": " + $0 } ?? ""
                return TimelineEntry(at: try row.int64("at"), kind: .incident, ref: try row.string("id"),
                                     summary: "\(try row.string("kind")) by \(try row.string("actor"))\(note)")
            }
            return entries.sorted { ($0.at, $0.ref) < ($1.at, $1.ref) }
        }
    }
}
