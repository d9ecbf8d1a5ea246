import Core
import Foundation
import NodeContract
import Storage

/// The fleet's eviction log: every staged model copy a node removed (which model, from which node, on what trigger, how
/// many bytes), as its agent reported it with a telemetry batch. The weekly review and the monthly report read it.
public struct EvictionRecord: Sendable, Equatable, Codable, RowDecodable {
    public var at: Int64
    public var nodeID: String?
    public var agentID: String
    public var modelID: String
    public var trigger: String
    public var bytes: Int64

    public init(at: Int64, nodeID: String?, agentID: String, modelID: String, trigger: String, bytes: Int64) {
        self.at = at
        self.nodeID = nodeID
        self.agentID = agentID
        self.modelID = modelID
        self.trigger = trigger
        self.bytes = bytes
    }

    public init(row: Row) throws {
        at = try row.int64("at")
        nodeID = try row.optionalString("node_id")
        agentID = try row.string("agent_id")
        modelID = try row.string("model_id")
        trigger = try row.string("trigger")
        bytes = try row.int64("bytes")
    }

    enum CodingKeys: String, CodingKey { case at, nodeID = "nodeId", agentID = "agentId", modelID = "modelId", trigger, bytes }
}

enum EvictionLog {
    static let migration = Migration(module: "provisioner", version: 10, statements: [
        """
        CREATE TABLE evictions (
            at BIGINT NOT NULL, node_id TEXT, agent_id TEXT NOT NULL, model_id TEXT NOT NULL, trigger TEXT NOT NULL, bytes BIGINT NOT NULL)
        """,
        "CREATE INDEX evictions_at ON evictions (at)",
    ])

    /// Records a batch's evictions, each at the time the node took it.
    static func record(_ evictions: [StagingEviction], agentID: String, on connection: any SQLConnection) throws {
        guard !evictions.isEmpty else { return }
        let node = try connection.query("SELECT node_id FROM agents WHERE id = ?", [.text(agentID)]).first?.optionalString("node_id")
        for eviction in evictions {
            try connection.execute("INSERT INTO evictions (at, node_id, agent_id, model_id, trigger, bytes) VALUES (?, ?, ?, ?, ?, ?)",
                                   [.integer(eviction.at), .text(node), .text(agentID), .text(eviction.modelId), .text(eviction.trigger), .integer(eviction.bytes)])
        }
    }
}

extension AgentService {
    /// Evictions in `[from, to)`, oldest first (of the nodes named, when named).
    public func evictions(from: Int64, to: Int64, nodeIDs: [String]? = nil) async throws -> [EvictionRecord] {
        let rows = try await database.read {
            try $0.query(EvictionRecord.self, "SELECT * FROM evictions WHERE at >= ? AND at < ? ORDER BY at", [.integer(from), .integer(to)])
        }
        guard let nodeIDs else { return rows }
        let wanted = Set(nodeIDs)
        return rows.filter { $0.nodeID.map(wanted.contains) ?? false }
    }
}
