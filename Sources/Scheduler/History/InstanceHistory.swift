import Core
import NodeContract
import Storage

/// What happened to each model instance, kept for the reports (the week's placement diff, the month's instance uptime),
/// which are computed from history, never from the current state. Append-only; each row is written in the same
/// transaction as the change it records.
public struct InstanceEvent: Sendable, Equatable, Codable, RowDecodable {
    public enum Kind: String, Sendable, Codable {
        /// Placed on its agent's node (created).
        case placed
        /// The agent reported a new phase (or the controller failed it with its node).
        case phase
        /// Taken off its node (stopped by an operator, its placement stopped, its node released).
        case removed
        /// A hot-swap flipped traffic to it from `detail`, another instance.
        case swapped
    }

    public var at: Int64
    public var instanceID: String
    public var agentID: String
    public var projectID: String?
    public var placementID: String?
    public var modelID: String
    public var kind: Kind
    public var phase: String?
    public var detail: String?

    public init(at: Int64, instanceID: String, agentID: String, projectID: String?, placementID: String?, modelID: String, kind: Kind,
                phase: String? = nil, detail: String? = nil) {
        self.at = at
        self.instanceID = instanceID
        self.agentID = agentID
        self.projectID = projectID
        self.placementID = placementID
        self.modelID = modelID
        self.kind = kind
        self.phase = phase
        self.detail = detail
    }

    public init(row: Row) throws {
        at = try row.int64("at")
        instanceID = try row.string("instance_id")
        agentID = try row.string("agent_id")
        projectID = try row.optionalString("project_id")
        placementID = try row.optionalString("placement_id")
        modelID = try row.string("model_id")
        kind = Kind(rawValue: try row.string("kind")) ?? .phase
        phase = try row.optionalString("phase")
        detail = try row.optionalString("detail")
    }

    enum CodingKeys: String, CodingKey {
        case at, instanceID = "instanceId", agentID = "agentId", projectID = "projectId", placementID = "placementId", modelID = "modelId", kind, phase, detail
    }
}

enum InstanceHistory {
    static let migration = Migration(module: "scheduler", version: 6, statements: [
        """
        CREATE TABLE instance_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, instance_id TEXT NOT NULL, agent_id TEXT NOT NULL, project_id TEXT,
            placement_id TEXT, model_id TEXT NOT NULL, kind TEXT NOT NULL, phase TEXT, detail TEXT)
        """,
        "CREATE INDEX instance_events_at ON instance_events (at)",
        "CREATE INDEX instance_events_instance ON instance_events (instance_id, seq)",
    ], postgresql: [
        """
        CREATE TABLE instance_events (
            seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, instance_id TEXT NOT NULL, agent_id TEXT NOT NULL, project_id TEXT,
            placement_id TEXT, model_id TEXT NOT NULL, kind TEXT NOT NULL, phase TEXT, detail TEXT)
        """,
        "CREATE INDEX instance_events_at ON instance_events (at)",
        "CREATE INDEX instance_events_instance ON instance_events (instance_id, seq)",
    ])

    static func record(_ instance: ModelInstance, _ kind: InstanceEvent.Kind, phase: String? = nil, detail: String? = nil, at: Int64,
                       on connection: any SQLConnection) throws {
        try connection.execute(
            "INSERT INTO instance_events (at, instance_id, agent_id, project_id, placement_id, model_id, kind, phase, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.integer(at), .text(instance.id), .text(instance.agentId), .text(instance.projectId), .text(instance.placementId), .text(instance.modelId),
             .text(kind.rawValue), .text(phase), .text(detail)])
    }

    /// Records every instance among `stopped` that was still wanted running.
    static func recordRemoved(_ stopped: [ModelInstance], at: Int64, on connection: any SQLConnection) throws {
        for instance in stopped where instance.desired == .running { try record(instance, .removed, at: at, on: connection) }
    }
}

extension InstanceService {
    /// Instance events in `[from, to)` (of the projects named, when named), in order, with every event before `from` of the
    /// instances that were still placed when the range began (so the range's first state is known).
    public func history(from: Int64, to: Int64, projectIDs: [String]? = nil) async throws -> [InstanceEvent] {
        try await database.read { connection in
            let earlier = try connection.query(InstanceEvent.self, """
                SELECT * FROM instance_events WHERE at < ? AND instance_id IN (
                    SELECT instance_id FROM instance_events WHERE at < ? AND kind = ?
                    EXCEPT SELECT instance_id FROM instance_events WHERE at < ? AND kind = ?)
                ORDER BY seq
                """, [.integer(from), .integer(from), .text(InstanceEvent.Kind.placed.rawValue), .integer(from), .text(InstanceEvent.Kind.removed.rawValue)])
            let during = try connection.query(InstanceEvent.self, "SELECT * FROM instance_events WHERE at >= ? AND at < ? ORDER BY seq",
                                              [.integer(from), .integer(to)])
            guard let projectIDs else { return earlier + during }
            let wanted = Set(projectIDs)
            return (earlier + during).filter { $0.projectID.map(wanted.contains) ?? false }
        }
    }
}
