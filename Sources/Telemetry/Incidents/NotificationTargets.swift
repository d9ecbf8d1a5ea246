import Core
import Foundation
import Storage

/// Where incidents are announced: `webhook` targets get Alertmanager's webhook payload (version 4) each time an
/// incident changes; `alertmanager` targets are an Alertmanager's API, sent every open incident as an alert
/// (as Prometheus sends its firing alerts) and each resolved one once with its end. Deliveries are remembered
/// per target and incident version, so a target that was down gets what it missed.
public struct NotificationTargets: Sendable {
    let database: any Database
    let clock: WallClock

    public init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    public struct Target: Sendable, Equatable, Codable, RowDecodable {
        public enum Kind: String, Sendable, Codable, CaseIterable { case webhook, alertmanager }

        public var id: String
        public var name: String
        public var kind: Kind
        public var url: String
        public var enabled: Bool
        public var createdAt: Int64
        public var version: Int64

        public init(row: Row) throws {
            id = try row.string("id")
            name = try row.string("name")
            kind = Kind(rawValue: try row.string("kind")) ?? .webhook
            url = try row.string("url")
            enabled = try row.int64("enabled") != 0
            createdAt = try row.int64("created_at")
            version = try row.int64("version")
        }
    }

    /// What a target's URL may be: http or https, a host name or IPv4 address, a port, a path.
    public static let urlPattern = #"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%-]*)?$"#

    public func add(name: String, kind: Target.Kind, url: String) async throws -> Target {
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"#, options: .regularExpression) != nil else {
            throw TelemetryError.invalidField(field: "name", reason: "must be 1-63 letters, digits, '_', '.' or '-'")
        }
        guard url.range(of: Self.urlPattern, options: .regularExpression) != nil, URL(string: url) != nil else {
            throw TelemetryError.invalidField(field: "url", reason: "must be an http or https URL")
        }
        let now = clock.nowMillis()
        let id = Identifier.make("ntf", at: now)
        return try await database.write { connection in
            guard try connection.scalarInt("SELECT COUNT(*) FROM notification_targets WHERE name = ?", [.text(name)]) == 0 else {
                throw TelemetryError.duplicateTarget(name)
            }
            try connection.execute("INSERT INTO notification_targets (id, name, kind, url, enabled, created_at, version) VALUES (?, ?, ?, ?, 1, ?, 1)",
                                   [.text(id), .text(name), .text(kind.rawValue), .text(url), .integer(now)])
            return try Self.target(id, connection)
        }
    }

    public func all() async throws -> [Target] {
        try await database.read { try $0.query(Target.self, "SELECT * FROM notification_targets ORDER BY name") }
    }

    public func remove(_ idOrName: String) async throws {
        try await database.write { connection in
            let target = try Self.target(idOrName, connection)
            try connection.execute("DELETE FROM notification_deliveries WHERE target_id = ?", [.text(target.id)])
            try connection.execute("DELETE FROM notification_targets WHERE id = ?", [.text(target.id)])
        }
    }

    static func target(_ idOrName: String, _ connection: any SQLConnection) throws -> Target {
        guard let target = try connection.queryFirst(Target.self, "SELECT * FROM notification_targets WHERE id = ? OR name = ?", [.text(idOrName), .text(idOrName)]) else {
            throw TelemetryError.targetNotFound(idOrName)
        }
        return target
    }

    /// Incidents changed since `target` last heard of them (within the last `windowMillis`), oldest change first.
    public func undelivered(to target: Target, windowMillis: Int64 = 86_400_000, limit: Int = 100) async throws -> [Incident] {
        let since = clock.nowMillis() - windowMillis
        return try await database.read { connection in
            try connection.query(Incident.self, """
                SELECT i.* FROM incidents i LEFT JOIN notification_deliveries d ON d.target_id = ? AND d.incident_id = i.id
                WHERE i.updated_at >= ? AND (d.version IS NULL OR d.version < i.version) ORDER BY i.updated_at LIMIT ?
                """, [.text(target.id), .integer(since), .int(limit)])
        }
    }

    /// Incidents still open: what an Alertmanager is told again each round, so it keeps them firing.
    public func open(limit: Int = 1_000) async throws -> [Incident] {
        try await database.read { connection in
            try connection.query(Incident.self, "SELECT * FROM incidents WHERE state IN \(Incident.State.openSQL) ORDER BY id LIMIT ?", [.int(limit)])
        }
    }

    public func delivered(_ incidents: [Incident], to target: Target) async throws {
        guard !incidents.isEmpty else { return }
        let now = clock.nowMillis()
        try await database.write { connection in
            for incident in incidents {
                try connection.execute("""
                    INSERT INTO notification_deliveries (target_id, incident_id, version, delivered_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (target_id, incident_id) DO UPDATE SET version = excluded.version, delivered_at = excluded.delivered_at
                    """, [.text(target.id), .text(incident.id), .integer(incident.version), .integer(now)])
            }
        }
    }
}
