import Core
import Storage

/// What happened to each node, kept for the reports (uptime, the month's distribution), which are computed from history,
/// never from the current state: every state a node entered, and every time its agent came online or was lost.
/// Append-only; a row is written in the same transaction as the change it records.
public struct NodeEvent: Sendable, Equatable, Codable, RowDecodable {
    public enum Kind: String, Sendable, Codable {
        /// The node entered `state` (its lifecycle).
        case state
        /// Its agent came online (`state` = online) or was lost (`state` = lost).
        case agent
    }

    public var at: Int64
    public var nodeID: String
    public var kind: Kind
    public var state: String
    public var tenantID: String?
    public var projectID: String?

    public init(at: Int64, nodeID: String, kind: Kind, state: String, tenantID: String?, projectID: String?) {
        self.at = at
        self.nodeID = nodeID
        self.kind = kind
        self.state = state
        self.tenantID = tenantID
        self.projectID = projectID
    }

    public init(row: Row) throws {
        at = try row.int64("at")
        nodeID = try row.string("node_id")
        kind = Kind(rawValue: try row.string("kind")) ?? .state
        state = try row.string("state")
        tenantID = try row.optionalString("tenant_id")
        projectID = try row.optionalString("project_id")
    }

    enum CodingKeys: String, CodingKey { case at, nodeID = "nodeId", kind, state, tenantID = "tenantId", projectID = "projectId" }
}

enum NodeHistory {
    static let migration = Migration(module: "provisioner", version: 9, statements: [
        """
        CREATE TABLE node_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, node_id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
            tenant_id TEXT, project_id TEXT)
        """,
        "CREATE INDEX node_events_node ON node_events (node_id, at)",
        "CREATE INDEX node_events_at ON node_events (at)",
    ], postgresql: [
        """
        CREATE TABLE node_events (
            seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, node_id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
            tenant_id TEXT, project_id TEXT)
        """,
        "CREATE INDEX node_events_node ON node_events (node_id, at)",
        "CREATE INDEX node_events_at ON node_events (at)",
    ])

    /// Records the node's current state (read back after the change, so the row says what the node became).
    static func recordState(of nodeID: String, at: Int64, on connection: any SQLConnection) throws {
        guard let row = try connection.query("SELECT state, tenant_id, project_id FROM nodes WHERE id = ?", [.text(nodeID)]).first else { return }
        try connection.execute("INSERT INTO node_events (at, node_id, kind, state, tenant_id, project_id) VALUES (?, ?, 'state', ?, ?, ?)",
                               [.integer(at), .text(nodeID), .text(try row.string("state")), .text(try row.optionalString("tenant_id")),
                                .text(try row.optionalString("project_id"))])
    }

    /// Records that the agent of `nodeID` came online or was lost.
    static func recordAgent(online: Bool, nodeID: String?, at: Int64, on connection: any SQLConnection) throws {
        guard let nodeID else { return }
        let row = try connection.query("SELECT tenant_id, project_id FROM nodes WHERE id = ?", [.text(nodeID)]).first
        try connection.execute("INSERT INTO node_events (at, node_id, kind, state, tenant_id, project_id) VALUES (?, ?, 'agent', ?, ?, ?)",
                               [.integer(at), .text(nodeID), .text(online ? "online" : "lost"), .text(try row?.optionalString("tenant_id")),
                                .text(try row?.optionalString("project_id"))])
    }
}

extension NodeService {
    /// The nodes' events in `[from, to)`, and each node's last event before `from` (its state when the range began), in order.
    public func history(from: Int64, to: Int64, nodeIDs: [String]? = nil) async throws -> [NodeEvent] {
        try await database.read { connection in
            var events = try connection.query(NodeEvent.self, """
                SELECT e.* FROM node_events e JOIN (
                    SELECT node_id, kind, MAX(seq) AS seq FROM node_events WHERE at < ? GROUP BY node_id, kind) last ON e.seq = last.seq
                ORDER BY e.seq
                """, [.integer(from)])
            events += try connection.query(NodeEvent.self, "SELECT * FROM node_events WHERE at >= ? AND at < ? ORDER BY seq", [.integer(from), .integer(to)])
            guard let nodeIDs else { return events }
            let wanted = Set(nodeIDs)
            return events.filter { wanted.contains($0.nodeID) }
        }
    }
}
