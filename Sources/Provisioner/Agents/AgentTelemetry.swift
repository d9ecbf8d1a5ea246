import Core
import Foundation
import Logging
import NodeContract
import Storage

/// Telemetry batches and alerts the agents ship, kept for the fleet view and the reports.
/// Batches older than `telemetryRetentionMillis` are pruned as new ones arrive.
extension AgentService {
    static let telemetryMigration = Migration(module: "provisioner", version: 6, statements: [
        "CREATE TABLE agent_telemetry (agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE, at BIGINT NOT NULL, batch TEXT NOT NULL)",
        "CREATE INDEX agent_telemetry_agent ON agent_telemetry (agent_id, at)",
        "CREATE INDEX agent_telemetry_at ON agent_telemetry (at)",
        """
        CREATE TABLE alerts (
            id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE, correlation_id TEXT NOT NULL,
            severity TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, threshold DOUBLE PRECISION NOT NULL,
            at BIGINT NOT NULL, received_at BIGINT NOT NULL)
        """,
        "CREATE INDEX alerts_agent ON alerts (agent_id, id)",
        "CREATE INDEX alerts_severity ON alerts (severity, id)",
    ])

    /// Alerts from the controller itself (a missed backup) have no agent: `agent_id` becomes nullable.
    /// SQLite cannot drop a NOT NULL constraint, so the table is rebuilt.
    static let controllerAlertsMigration = Migration(module: "provisioner", version: 7, statements: [
        """
        CREATE TABLE alerts_rebuilt (
            id TEXT PRIMARY KEY, agent_id TEXT REFERENCES agents(id) ON DELETE CASCADE, correlation_id TEXT NOT NULL,
            severity TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, threshold DOUBLE PRECISION NOT NULL,
            at BIGINT NOT NULL, received_at BIGINT NOT NULL)
        """,
        "INSERT INTO alerts_rebuilt SELECT id, agent_id, correlation_id, severity, kind, message, value, threshold, at, received_at FROM alerts",
        "DROP TABLE alerts",
        "ALTER TABLE alerts_rebuilt RENAME TO alerts",
        "CREATE INDEX alerts_agent ON alerts (agent_id, id)",
        "CREATE INDEX alerts_severity ON alerts (severity, id)",
    ])

    /// Seven days of batches.
    static let telemetryRetentionMillis: Int64 = 7 * 86_400_000

    /// Records a batch from `agentID`.
    public func record(telemetry batch: TelemetryBatch, from agentID: String) async throws {
        let now = clock.nowMillis()
        let json = String(decoding: try JSONEncoder().encode(batch), as: UTF8.self)
        try await database.write { connection in
            try connection.execute("INSERT INTO agent_telemetry (agent_id, at, batch) VALUES (?, ?, ?)", [.text(agentID), .integer(now), .text(json)])
            try EvictionLog.record(batch.evictions ?? [], agentID: agentID, on: connection)
            try connection.execute("DELETE FROM agent_telemetry WHERE agent_id = ? AND at < ?", [.text(agentID), .integer(now - Self.telemetryRetentionMillis)])
        }
    }

    /// The newest batches of an agent, newest first.
    public func telemetry(of agentID: String, limit: Int) async throws -> [TelemetryBatch] {
        let agent = try await agent(agentID)
        return try await database.read { connection in
            try connection.query("SELECT batch FROM agent_telemetry WHERE agent_id = ? ORDER BY at DESC LIMIT ?", [.text(agent.id), .int(limit)])
                .compactMap { try? JSONDecoder().decode(TelemetryBatch.self, from: Data(try $0.string("batch").utf8)) }
        }
    }

    /// Records alerts from `agentID` (nil: the controller itself); an alert already recorded (same
    /// correlation id) is not duplicated.
    public func record(alerts: [AlertReport], from agentID: String?) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            for alert in alerts {
                guard try connection.scalarInt("SELECT COUNT(*) FROM alerts WHERE correlation_id = ?", [.text(alert.correlationId)]) == 0 else { continue }
                try connection.execute(
                    "INSERT INTO alerts (id, agent_id, correlation_id, severity, kind, message, value, threshold, at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [.text(Identifier.make("alert", at: now)), .text(agentID), .text(alert.correlationId), .text(alert.severity.rawValue), .text(alert.kind),
                     .text(alert.message), .real(alert.value), .real(alert.threshold), .integer(alert.at), .integer(now)])
            }
        }
        for alert in alerts where alert.severity != .info {
            logger.warning(agentID == nil ? "controller alert" : "node alert", metadata: ["agent": .string(agentID ?? "controller"), "severity": .string(alert.severity.rawValue), "kind": .string(alert.kind),
                                                    "message": .string(alert.message), "correlationId": .string(alert.correlationId)])
        }
    }

    /// Alerts received at or after `since` (ms), oldest first: what the incident correlator reads.
    public func alerts(receivedSince since: Int64, limit: Int) async throws -> [NodeAlert] {
        try await database.read {
            try $0.query(NodeAlert.self, "SELECT * FROM alerts WHERE received_at >= ? ORDER BY received_at, id LIMIT ?", [.integer(since), .int(limit)])
        }
    }

    /// Alerts, newest first, optionally of one agent and/or severity.
    public func alerts(agentID: String? = nil, severity: AlertReport.Severity? = nil, page: PageRequest) async throws -> Page<NodeAlert> {
        var sql = "SELECT * FROM alerts WHERE (? = '' OR id < ?)"
        let after = page.after ?? ""
        var parameters: [SQLValue] = [.text(after), .text(after)]
        if let agentID { sql += " AND agent_id = ?"; parameters.append(.text(agentID)) }
        if let severity { sql += " AND severity = ?"; parameters.append(.text(severity.rawValue)) }
        sql += " ORDER BY id DESC LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, values) = (sql, parameters)
        return Page(fetched: try await database.read { try $0.query(NodeAlert.self, query, values) }, request: page, key: \.id)
    }
}

/// An alert as recorded by the controller.
public struct NodeAlert: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    /// Nil for the controller's own alerts.
    public var agentId: String?
    public var correlationId: String
    public var severity: String
    public var kind: String
    public var message: String
    public var value: Double
    public var threshold: Double
    public var at: Int64
    public var receivedAt: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        agentId = try row.optionalString("agent_id")
        correlationId = try row.string("correlation_id")
        severity = try row.string("severity")
        kind = try row.string("kind")
        message = try row.string("message")
        value = try row.double("value")
        threshold = try row.double("threshold")
        at = try row.int64("at")
        receivedAt = try row.int64("received_at")
    }
}
