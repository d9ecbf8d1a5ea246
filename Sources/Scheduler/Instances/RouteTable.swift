import Storage

/// Where each project's models are served now: the ready instances with their engine endpoints.
/// The router reads a snapshot of it per request, so a request costs no store read.
public struct RouteTable: Sendable, Equatable {
    public struct Replica: Sendable, Equatable, Hashable {
        public var instanceID: String
        public var endpoint: String
        /// The model the engine loaded: after a swap it may differ from the name clients call.
        public var modelID: String
    }

    /// project id → model id → replicas.
    public var projects: [String: [String: [Replica]]] = [:]

    public init() {}

    public func replicas(project: String, model: String) -> [Replica] { projects[project]?[model] ?? [] }

    public func models(project: String) -> [String] { (projects[project]?.keys).map { $0.sorted() } ?? [] }
}

extension InstanceService {
    /// The route table from the store: instances wanted running, reported ready, with an endpoint and a project.
    public func routeTable() async throws -> RouteTable {
        let rows = try await database.read {
            try $0.query("""
                SELECT id, project_id, model_id, COALESCE(served_model, model_id) AS served, endpoint FROM instances
                WHERE desired = 'running' AND phase = 'ready' AND serving = 1 AND endpoint IS NOT NULL AND project_id IS NOT NULL AND shard_rank = 0
                ORDER BY id
                """, [])
        }
        var table = RouteTable()
        for row in rows {
            let replica = RouteTable.Replica(instanceID: try row.string("id"), endpoint: try row.string("endpoint"), modelID: try row.string("model_id"))
            table.projects[try row.string("project_id"), default: [:]][try row.string("served"), default: []].append(replica)
        }
        return table
    }
}
