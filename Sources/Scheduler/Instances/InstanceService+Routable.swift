import NodeContract
import Storage

/// An instance the gateway may send traffic to: wanted running, reported ready, serving, with an
/// endpoint and a project. Only the first shard of a multi-node placement takes requests.
public struct RoutableInstance: Sendable, Equatable {
    public var instanceID: String
    public var projectID: String
    /// The model the engine loaded.
    public var modelID: String
    /// The name clients call it by (kept across a hot-swap).
    public var servedModel: String
    public var endpoint: String
    /// The engine's credential, which the router presents.
    public var apiKey: String
}

extension InstanceService {
    /// The routable instances, read from the Scheduler's own table (the gateway builds its route table from them).
    public func routableInstances() async throws -> [RoutableInstance] {
        let rows = try await database.read {
            try $0.query("""
                SELECT id, project_id, model_id, COALESCE(served_model, model_id) AS served, endpoint FROM instances
                WHERE desired = ? AND phase = ? AND serving = 1 AND endpoint IS NOT NULL AND project_id IS NOT NULL AND shard_rank = 0
                ORDER BY id
                """, [.text(ModelInstance.Desired.running.rawValue), .text(RunnerPhase.ready.rawValue)])
        }
        return try rows.map {
            RoutableInstance(instanceID: try $0.string("id"), projectID: try $0.string("project_id"), modelID: try $0.string("model_id"),
                             servedModel: try $0.string("served"), endpoint: try $0.string("endpoint"),
                             apiKey: engineKeys.key(instanceID: try $0.string("id")))
        }
    }
}
