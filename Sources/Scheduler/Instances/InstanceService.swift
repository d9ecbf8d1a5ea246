import Core
import Foundation
import NodeContract
import Quota
import Storage

/// Model instances: created by operators (and by placement), turned into each agent's desired
/// state, updated from what agents observe, failed when their node is lost.
public final class InstanceService: Sendable {
    let database: any Database
    let clock: WallClock
    /// The engines' credentials, sent to agents with each instance and to the router with each route.
    public let engineKeys: EngineKeys

    public init(database: any Database, clock: WallClock, engineKeys: EngineKeys) {
        self.database = database
        self.clock = clock
        self.engineKeys = engineKeys
    }

    /// Records a new instance for `request.agentId` (the caller checked the agent exists).
    public func create(_ request: InstanceRequest) async throws -> ModelInstance {
        guard ModelManifest.isValid(request.modelId) else {
            throw SchedulerError.invalidField(field: "modelId", reason: "must be org/name (letters, digits, '.', '_', '-')")
        }
        for (index, companion) in (request.companions ?? []).enumerated() where !ModelManifest.isValid(companion) {
            throw SchedulerError.invalidField(field: "companions[\(index)]", reason: "must be org/name")
        }
        if let served = request.servedModelName,
           !(1...128).contains(served.count) || !served.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-/:".contains($0)) }) {
            throw SchedulerError.invalidField(field: "servedModelName", reason: "1–128 letters, digits, '.', '_', '-', '/', ':'")
        }
        if let vendor = request.vendor, !["nvidia", "amd", "intel"].contains(vendor) {
            throw SchedulerError.invalidField(field: "vendor", reason: "must be nvidia, amd or intel")
        }
        guard (request.devices ?? []).allSatisfy({ (0...255).contains($0) }) else {
            throw SchedulerError.invalidField(field: "devices", reason: "device indices are 0–255")
        }
        let now = clock.nowMillis()
        let id = Identifier.make("inst", at: now)
        func json(_ value: some Encodable) throws -> SQLValue { .text(String(decoding: try JSONEncoder().encode(value), as: UTF8.self)) }
        let values: [SQLValue] = [.text(id), .text(request.agentId), .text(request.projectId), .text(request.modelId), .text(request.engine.rawValue),
                                  try json(request.arguments ?? []), try json(request.devices ?? []), .text(request.vendor),
                                  try json(request.companions ?? []), .text(request.servedModelName), .integer(now), .integer(now)]
        return try await database.write { connection in
            try connection.execute(
                """
                INSERT INTO instances (id, agent_id, project_id, model_id, engine, arguments, devices, vendor, companions, served_model, desired, phase,
                                       restarts, created_at, updated_at, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '\(ModelInstance.Desired.running.rawValue)', '\(RunnerPhase.staging.rawValue)', 0, ?, ?, 1)
                """, values)
            let created = try connection.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(id)])!
            try InstanceHistory.record(created, .placed, at: now, on: connection)
            return created
        }
    }

    /// Records a placement (one inference cluster, counted once against the project's `clusters`
    /// quota): one instance per shard, on each shard's agent, holding the shard's memory.
    public func place(_ shards: [PlacementShard], agents: [String: String], card: ModelCard, engine: EngineKind, projectID: String,
                      sharding: Sharding) async throws -> [ModelInstance] {
        let now = clock.nowMillis()
        let placement = Identifier.make("plc", at: now)
        let encoder = JSONEncoder()
        return try await database.write { connection in
            do {
                try QuotaLedger.consume(["clusters": 1], at: "project:\(projectID)", on: connection)
            } catch let refusal as QuotaError {
                throw SchedulerError.clusterQuotaExceeded(refusal.message)
            }
            var created: [ModelInstance] = []
            for (rank, shard) in shards.enumerated() {
                guard let agent = agents[shard.nodeId] else { throw SchedulerError.invalidField(field: "nodes", reason: "node \(shard.nodeName) has no agent") }
                let id = Identifier.make("inst", at: now)
                try connection.execute(
                    """
                    INSERT INTO instances (id, agent_id, project_id, model_id, engine, arguments, devices, vendor, companions, desired, phase, restarts,
                                           memory_bytes, placement_id, shard_rank, shard, created_at, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, '[]', NULL, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, 1)
                    """,
                    [.text(id), .text(agent), .text(projectID), .text(card.modelId), .text(engine.rawValue),
                     .text(String(decoding: try encoder.encode(engine.arguments(serving: card.endpoints)), as: UTF8.self)),
                     .text(String(decoding: try encoder.encode(card.companions), as: UTF8.self)),
                     .text(ModelInstance.Desired.running.rawValue), .text(RunnerPhase.staging.rawValue), .integer(shard.neededBytes), .text(placement),
                     .int(rank), .text(String(decoding: try encoder.encode(shard), as: UTF8.self)), .integer(now), .integer(now)])
                created.append(try connection.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(id)])!)
                try InstanceHistory.record(created[created.count - 1], .placed, at: now, on: connection)
            }
            return created
        }
    }

    /// The project's instances wanted running, by id.
    public func instances(projectID: String) async throws -> [ModelInstance] {
        try await database.read {
            try $0.query(ModelInstance.self, "SELECT * FROM instances WHERE project_id = ? AND desired = '\(ModelInstance.Desired.running.rawValue)' ORDER BY id LIMIT 10000", [.text(projectID)])
        }
    }

    /// Memory held by running instances, by agent.
    public func reservedBytes() async throws -> [String: Int64] {
        let rows = try await database.read {
            try $0.query("SELECT agent_id, SUM(memory_bytes) AS held FROM instances WHERE desired = '\(ModelInstance.Desired.running.rawValue)' GROUP BY agent_id", [])
        }
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.string("agent_id"), try $0.int64("held")) })
    }

    /// One instance.
    public func instance(_ id: String) async throws -> ModelInstance {
        guard let found = try await database.read({ try $0.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(id)]) }) else {
            throw SchedulerError.instanceNotFound(id)
        }
        return found
    }

    /// Instances by id, optionally of one agent or model.
    public func instances(agentID: String? = nil, modelID: String? = nil, page: PageRequest) async throws -> Page<ModelInstance> {
        var sql = "SELECT * FROM instances WHERE id > ?"
        var parameters: [SQLValue] = [.text(page.after ?? "")]
        if let agentID { sql += " AND agent_id = ?"; parameters.append(.text(agentID)) }
        if let modelID { sql += " AND model_id = ?"; parameters.append(.text(modelID)) }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, values) = (sql, parameters)
        return Page(fetched: try await database.read { try $0.query(ModelInstance.self, query, values) }, request: page, key: \.id)
    }

    /// Asks the agent to stop the instance (deactivation: its staging copy becomes an eviction candidate).
    public func stop(_ id: String) async throws -> ModelInstance {
        let now = clock.nowMillis()
        return try await database.write { connection in
            guard let before = try connection.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(id)]) else {
                throw SchedulerError.instanceNotFound(id)
            }
            try connection.execute("UPDATE instances SET desired = '\(ModelInstance.Desired.stopped.rawValue)', updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.integer(now), .text(id)])
            if before.desired == .running { try Self.releaseEndedPlacements([before], on: connection) }
            try InstanceHistory.recordRemoved([before], at: now, on: connection)
            return try connection.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(id)])!
        }
    }

    /// Stops a placement's instances (the whole inference cluster) and gives back its quota.
    public func stopPlacement(_ placementID: String, projectID: String) async throws -> [ModelInstance] {
        let now = clock.nowMillis()
        return try await database.write { connection in
            let running = try connection.query(ModelInstance.self, "SELECT * FROM instances WHERE placement_id = ? AND project_id = ? AND desired = '\(ModelInstance.Desired.running.rawValue)'",
                                               [.text(placementID), .text(projectID)])
            guard !running.isEmpty else { throw SchedulerError.placementNotFound(placementID) }
            try connection.execute("UPDATE instances SET desired = '\(ModelInstance.Desired.stopped.rawValue)', updated_at = ?, version = version + 1 WHERE placement_id = ? AND desired = '\(ModelInstance.Desired.running.rawValue)'",
                                   [.integer(now), .text(placementID)])
            try Self.releaseEndedPlacements(running, on: connection)
            try InstanceHistory.recordRemoved(running, at: now, on: connection)
            return try connection.query(ModelInstance.self, "SELECT * FROM instances WHERE placement_id = ? ORDER BY shard_rank, id", [.text(placementID)])
        }
    }

    /// Stops every instance of an agent (its node is being released from its project).
    @discardableResult
    public func stopAll(agentID: String) async throws -> Int {
        let now = clock.nowMillis()
        return try await database.write { connection in
            let running = try connection.query(ModelInstance.self, "SELECT * FROM instances WHERE agent_id = ? AND desired = '\(ModelInstance.Desired.running.rawValue)'", [.text(agentID)])
            let stopped = try connection.execute(
                "UPDATE instances SET desired = '\(ModelInstance.Desired.stopped.rawValue)', updated_at = ?, version = version + 1 WHERE agent_id = ? AND desired = '\(ModelInstance.Desired.running.rawValue)'",
                [.integer(now), .text(agentID)])
            try Self.releaseEndedPlacements(running, on: connection)
            try InstanceHistory.recordRemoved(running, at: now, on: connection)
            return stopped
        }
    }

    /// Gives back the `clusters` quota of each placement among `stopped` that has no running instance left.
    static func releaseEndedPlacements(_ stopped: [ModelInstance], on connection: any SQLConnection) throws {
        var placements: [String: String] = [:]
        for instance in stopped { if let placement = instance.placementId, let project = instance.projectId { placements[placement] = project } }
        for (placement, project) in placements {
            let left = try connection.query("SELECT 1 FROM instances WHERE placement_id = ? AND desired = '\(ModelInstance.Desired.running.rawValue)' LIMIT 1", [.text(placement)])
            if left.isEmpty { try QuotaLedger.release(["clusters": 1], at: "project:\(project)", on: connection) }
        }
    }

    /// The instances an agent should run now.
    public func desired(for agentID: String) async throws -> DesiredState {
        DesiredState(instances: try await database.read {
            try $0.query(ModelInstance.self, "SELECT * FROM instances WHERE agent_id = ? AND desired = '\(ModelInstance.Desired.running.rawValue)' ORDER BY id", [.text(agentID)])
        }.map { instance in
            var spec = instance.spec
            spec.apiKey = engineKeys.key(instanceID: instance.id)
            return spec
        })
    }

    /// Takes what an agent reports about its instances; a stopped instance it no longer runs is `stopped`.
    public func applyObserved(agentID: String, _ statuses: [InstanceStatus]) async throws {
        let now = clock.nowMillis()
        let byID = Dictionary(statuses.map { ($0.instanceId, $0) }, uniquingKeysWith: { $1 })
        try await database.write { connection in
            for instance in try connection.query(ModelInstance.self, "SELECT * FROM instances WHERE agent_id = ?", [.text(agentID)]) {
                var (phase, endpoint, restarts, error) = (instance.phase, instance.endpoint, instance.restarts, instance.lastError)
                if let status = byID[instance.id] {
                    (phase, endpoint, restarts, error) = (status.phase, status.endpoint, Int64(status.restarts), status.lastError)
                } else if instance.desired == .stopped {
                    (phase, endpoint) = (.stopped, nil)
                } else {
                    continue
                }
                guard phase != instance.phase || endpoint != instance.endpoint || restarts != instance.restarts || error != instance.lastError else { continue }
                try connection.execute(
                    "UPDATE instances SET phase = ?, endpoint = ?, restarts = ?, last_error = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                    [.text(phase.rawValue), .text(endpoint), .integer(restarts), .text(error), .integer(now), .text(instance.id)])
                if phase != instance.phase { try InstanceHistory.record(instance, .phase, phase: phase.rawValue, detail: error, at: now, on: connection) }
            }
        }
    }

    /// Fails every live instance of these agents (their nodes are lost); returns the instances failed.
    @discardableResult
    public func failAll(agentIDs: [String], reason: String) async throws -> [String] {
        guard !agentIDs.isEmpty else { return [] }
        let now = clock.nowMillis()
        return try await database.write { connection in
            var failed: [String] = []
            for agent in agentIDs {
                let failing = try connection.query(ModelInstance.self, "SELECT * FROM instances WHERE agent_id = ? AND phase != '\(RunnerPhase.stopped.rawValue)' AND phase != '\(RunnerPhase.failed.rawValue)'",
                                                   [.text(agent)])
                for instance in failing { try InstanceHistory.record(instance, .phase, phase: RunnerPhase.failed.rawValue, detail: reason, at: now, on: connection) }
                failed += failing.map(\.id)
                try connection.execute(
                    "UPDATE instances SET phase = '\(RunnerPhase.failed.rawValue)', endpoint = NULL, last_error = ?, updated_at = ?, version = version + 1 WHERE agent_id = ? AND phase != '\(RunnerPhase.stopped.rawValue)'",
                    [.text(reason), .integer(now), .text(agent)])
            }
            return failed
        }
    }
}
