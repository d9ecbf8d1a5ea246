import Foundation
import NodeContract
import Storage

/// A model instance: which model runs on which node's agent with which engine, what the controller
/// wants (`desired`) and what the agent last reported (`phase`, `endpoint`).
public struct ModelInstance: Sendable, Equatable, Codable, RowDecodable {
    public enum Desired: String, Sendable, Codable { case running, stopped }

    public var id: String
    public var agentId: String
    public var projectId: String?
    public var modelId: String
    /// The name clients call it by, when that is not `modelId` (a served name, or the old model after a swap).
    public var servedModel: String?
    public var engine: EngineKind
    public var arguments: [String]
    public var devices: [Int]
    public var vendor: String?
    public var companions: [String]
    public var desired: Desired
    public var phase: RunnerPhase
    public var endpoint: String?
    public var restarts: Int64
    public var lastError: String?
    /// Memory the instance holds on its node (placement counts it as used).
    public var memoryBytes: Int64
    /// The placement this instance is part of, and its part (rank 0 serves requests).
    public var placementId: String?
    public var shard: PlacementShard?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var version: Int64

    public init(row: Row) throws {
        func strings(_ column: String) throws -> [String] { (try? JSONDecoder().decode([String].self, from: Data(try row.string(column).utf8))) ?? [] }
        id = try row.string("id")
        agentId = try row.string("agent_id")
        projectId = try row.optionalString("project_id")
        modelId = try row.string("model_id")
        servedModel = try row.optionalString("served_model")
        engine = EngineKind(rawValue: try row.string("engine")) ?? .engineSim
        arguments = try strings("arguments")
        devices = (try? JSONDecoder().decode([Int].self, from: Data(try row.string("devices").utf8))) ?? []
        vendor = try row.optionalString("vendor")
        companions = try strings("companions")
        desired = Desired(rawValue: try row.string("desired")) ?? .stopped
        phase = RunnerPhase(rawValue: try row.string("phase")) ?? .failed
        endpoint = try row.optionalString("endpoint")
        restarts = try row.int64("restarts")
        lastError = try row.optionalString("last_error")
        memoryBytes = try row.int64("memory_bytes")
        placementId = try row.optionalString("placement_id")
        shard = try row.optionalString("shard").flatMap { try? JSONDecoder().decode(PlacementShard.self, from: Data($0.utf8)) }
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
        version = try row.int64("version")
    }

    /// What the agent is told to run.
    public var spec: InstanceSpec {
        InstanceSpec(instanceId: id, modelId: modelId, engine: engine, arguments: arguments, devices: devices, vendor: vendor, companions: companions)
    }
}

/// What an operator sends to run a model on a node's agent.
public struct InstanceRequest: Sendable, Decodable {
    public var agentId: String
    public var modelId: String
    public var engine: EngineKind
    public var arguments: [String]?
    public var devices: [Int]?
    public var vendor: String?
    public var companions: [String]?
    public var projectId: String?
    /// The name clients call (as vLLM's `--served-model-name`); the router writes the engine's own
    /// model id into the requests it forwards. Defaults to `modelId`.
    public var servedModelName: String?
}
