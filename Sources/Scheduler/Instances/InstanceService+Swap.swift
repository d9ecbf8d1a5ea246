import Core
import Foundation
import NodeContract
import Storage

/// A hot-swap of an instance to a new model or quantization, as recorded.
public struct Swap: Sendable, Equatable, Codable, RowDecodable {
    public enum Phase: String, Sendable, Codable { case loading, checking, draining, done, failed }

    public var id: String
    public var fromInstance: String
    public var toInstance: String
    public var phase: Phase
    public var error: String?
    public var startedAt: Int64
    public var flippedAt: Int64?
    public var finishedAt: Int64?
    /// The slowest of the health-check prompts to the new instance, ms.
    public var healthMillis: Double?

    public init(row: Row) throws {
        id = try row.string("id")
        fromInstance = try row.string("from_instance")
        toInstance = try row.string("to_instance")
        phase = Phase(rawValue: try row.string("phase")) ?? .failed
        error = try row.optionalString("error")
        startedAt = try row.int64("started_at")
        flippedAt = try row.optionalInt64("flipped_at")
        finishedAt = try row.optionalInt64("finished_at")
        healthMillis = try? row.double("health_millis")
    }
}

/// What a swap loads instead.
public struct SwapRequest: Sendable, Decodable {
    public var modelId: String
    public var engine: EngineKind?
    public var arguments: [String]?
}

extension InstanceService {
    /// Starts a swap: the new instance is created on the same node for the same project and placement
    /// (so the cluster keeps its one unit of quota), under the name clients already use, and not yet served.
    public func beginSwap(of id: String, to request: SwapRequest) async throws -> (Swap, ModelInstance) {
        guard ModelManifest.isValid(request.modelId) else { throw SchedulerError.invalidField(field: "modelId", reason: "must be org/name") }
        let now = clock.nowMillis()
        let swapID = Identifier.make("swap", at: now)
        let newID = Identifier.make("inst", at: now)
        return try await database.write { connection in
            guard let old = try connection.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(id)]), old.desired == .running else {
                throw SchedulerError.instanceNotFound(id)
            }
            guard try connection.scalarInt("SELECT COUNT(*) FROM swaps WHERE from_instance = ? AND phase IN ('\(Swap.Phase.loading.rawValue)', '\(Swap.Phase.checking.rawValue)', '\(Swap.Phase.draining.rawValue)')", [.text(id)]) == 0 else {
                throw SchedulerError.invalidField(field: "id", reason: "instance \(id) is already being swapped")
            }
            let served = try connection.query("SELECT COALESCE(served_model, model_id) AS served FROM instances WHERE id = ?", [.text(id)]).first?.string("served") ?? old.modelId
            let arguments = String(decoding: try JSONEncoder().encode(request.arguments ?? old.arguments), as: UTF8.self)
            try connection.execute(
                """
                INSERT INTO instances (id, agent_id, project_id, model_id, engine, arguments, devices, vendor, companions, desired, phase, restarts,
                                       memory_bytes, placement_id, shard_rank, shard, served_model, serving, created_at, updated_at, version)
                SELECT ?, agent_id, project_id, ?, ?, ?, devices, vendor, '[]', 'running', 'staging', 0, memory_bytes, placement_id, shard_rank, shard,
                       ?, 0, ?, ?, 1 FROM instances WHERE id = ?
                """,
                [.text(newID), .text(request.modelId), .text((request.engine ?? old.engine).rawValue), .text(arguments), .text(served),
                 .integer(now), .integer(now), .text(id)])
            try connection.execute("INSERT INTO swaps (id, from_instance, to_instance, phase, started_at) VALUES (?, ?, ?, '\(Swap.Phase.loading.rawValue)', ?)",
                                   [.text(swapID), .text(id), .text(newID), .integer(now)])
            return (try connection.queryFirst(Swap.self, "SELECT * FROM swaps WHERE id = ?", [.text(swapID)])!,
                    try connection.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(newID)])!)
        }
    }

    /// Moves a swap to `phase` (recording the health check's slowest prompt when given).
    public func advance(swap id: String, to phase: Swap.Phase, healthMillis: Double? = nil, error: String? = nil) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            try connection.execute(
                """
                UPDATE swaps SET phase = ?, error = COALESCE(?, error), health_millis = COALESCE(?, health_millis),
                    finished_at = CASE WHEN ? IN ('done', 'failed') THEN ? ELSE finished_at END WHERE id = ?
                """, [.text(phase.rawValue), .text(error), healthMillis.map { .real($0) } ?? .null, .text(phase.rawValue), .integer(now), .text(id)])
        }
    }

    /// The flip, in one transaction: the new instance serves, the old one stops receiving new requests.
    public func flip(swap: Swap) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            try connection.execute("UPDATE instances SET serving = 1, updated_at = ?, version = version + 1 WHERE id = ?", [.integer(now), .text(swap.toInstance)])
            try connection.execute("UPDATE instances SET serving = 0, updated_at = ?, version = version + 1 WHERE id = ?", [.integer(now), .text(swap.fromInstance)])
            try connection.execute("UPDATE swaps SET phase = '\(Swap.Phase.draining.rawValue)', flipped_at = ? WHERE id = ?", [.integer(now), .text(swap.id)])
            if let to = try connection.queryFirst(ModelInstance.self, "SELECT * FROM instances WHERE id = ?", [.text(swap.toInstance)]) {
                try InstanceHistory.record(to, .swapped, detail: swap.fromInstance, at: now, on: connection)
            }
        }
    }

    public func swap(_ id: String) async throws -> Swap {
        guard let found = try await database.read({ try $0.queryFirst(Swap.self, "SELECT * FROM swaps WHERE id = ?", [.text(id)]) }) else {
            throw SchedulerError.instanceNotFound(id)
        }
        return found
    }
}
