/// What the agent sees on its node.
public struct ObservedState: Sendable, Codable, Equatable {
    public var instances: [InstanceStatus]
    public var staging: [StagingStatus]
    public var storage: StorageSummary?
    /// What the node's interfaces see on their other end (LLDP), when lldpd runs on the node.
    public var links: [LinkNeighbor]?

    public init(instances: [InstanceStatus] = [], staging: [StagingStatus] = [], storage: StorageSummary? = nil, links: [LinkNeighbor]? = nil) {
        self.instances = instances
        self.staging = staging
        self.storage = storage
        self.links = links
    }
}

/// One LLDP neighbor: the switch (its system name) and port at the other end of a node interface.
public struct LinkNeighbor: Sendable, Codable, Equatable, Hashable {
    public var interface: String
    public var switchName: String
    public var port: String

    public init(interface: String, switchName: String, port: String) {
        self.interface = interface
        self.switchName = switchName
        self.port = port
    }
}

/// Where an instance's runner is.
public enum RunnerPhase: String, Sendable, Codable, Equatable {
    case staging, starting, warmingUp, ready, failed, stopped
}

/// One instance as the agent sees it.
public struct InstanceStatus: Sendable, Codable, Equatable {
    public var instanceId: String
    public var modelId: String
    public var phase: RunnerPhase
    /// The engine's OpenAI-compatible base URL once it listens (`http://host:port`).
    public var endpoint: String?
    public var restarts: Int
    /// Why it failed (`RunnerFailed: …`), if it did.
    public var lastError: String?

    public init(instanceId: String, modelId: String, phase: RunnerPhase, endpoint: String? = nil, restarts: Int = 0, lastError: String? = nil) {
        self.instanceId = instanceId
        self.modelId = modelId
        self.phase = phase
        self.endpoint = endpoint
        self.restarts = restarts
        self.lastError = lastError
    }
}

/// A staging copy in progress or done.
public struct StagingStatus: Sendable, Codable, Equatable {
    public var modelId: String
    public var bytesDone: Int64
    public var bytesTotal: Int64
    /// Bytes an interrupted earlier copy had already written, reused rather than fetched again.
    public var resumedBytes: Int64
    public var bytesPerSecond: Double
    public var etaSeconds: Double?
    public var done: Bool
    public var error: String?

    public init(modelId: String, bytesDone: Int64, bytesTotal: Int64, resumedBytes: Int64 = 0, bytesPerSecond: Double, etaSeconds: Double?, done: Bool,
                error: String? = nil) {
        self.modelId = modelId
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.resumedBytes = resumedBytes
        self.bytesPerSecond = bytesPerSecond
        self.etaSeconds = etaSeconds
        self.done = done
        self.error = error
    }
}

/// The node's storage picture, as `GET /store/storage` shows it.
public struct StorageSummary: Sendable, Codable, Equatable {
    public struct StagedModel: Sendable, Codable, Equatable {
        public var modelId: String
        public var bytes: Int64
        public var lastUsedAt: Int64?
        public var inUse: Bool

        public init(modelId: String, bytes: Int64, lastUsedAt: Int64?, inUse: Bool) {
            self.modelId = modelId
            self.bytes = bytes
            self.lastUsedAt = lastUsedAt
            self.inUse = inUse
        }

        enum CodingKeys: String, CodingKey {
            case modelId, bytes, lastUsedAt, inUse = "in_use"
        }
    }

    public var models: [StagedModel]
    public var eventLogBytes: Int64
    public var eventLogCountingOnly: Bool
    public var freeBytes: Int64

    public init(models: [StagedModel], eventLogBytes: Int64, eventLogCountingOnly: Bool, freeBytes: Int64) {
        self.models = models
        self.eventLogBytes = eventLogBytes
        self.eventLogCountingOnly = eventLogCountingOnly
        self.freeBytes = freeBytes
    }
}
