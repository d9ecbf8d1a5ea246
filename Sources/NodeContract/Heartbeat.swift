/// A heartbeat: the agent's observed state. The answer carries the desired state and commands.
public struct HeartbeatRequest: Sendable, Codable, Equatable {
    public var observed: ObservedState

    public init(observed: ObservedState) { self.observed = observed }
}

/// What the controller wants the node to run, and one-off commands.
public struct HeartbeatResponse: Sendable, Codable, Equatable {
    public var desired: DesiredState
    public var commands: [AgentCommand]

    public init(desired: DesiredState, commands: [AgentCommand] = []) {
        self.desired = desired
        self.commands = commands
    }
}

/// The model instances a node should run. Anything running that is not listed is stopped.
public struct DesiredState: Sendable, Codable, Equatable {
    public var instances: [InstanceSpec]
    /// The node's addresses on its tenant's segments (nil from controllers without a fabric: the
    /// agent then leaves the data interface as it is).
    public var network: NodeNetworkSpec?

    public init(instances: [InstanceSpec], network: NodeNetworkSpec? = nil) {
        self.instances = instances
        self.network = network
    }
}

/// One model instance to run from an engine driver.
public struct InstanceSpec: Sendable, Codable, Equatable {
    public var instanceId: String
    /// `org/name`, as in the store.
    public var modelId: String
    public var engine: EngineKind
    /// Extra engine arguments, appended to the driver's command.
    public var arguments: [String]
    /// Accelerator indices the instance may see (the vendor's visibility variable).
    public var devices: [Int]
    /// Vendor of those devices (`nvidia`, `amd`, `intel`); nil for CPU.
    public var vendor: String?
    /// Models this one needs beside it (drafter, MTP sidecar, vision weights): staged and kept in use with it.
    public var companions: [String]
    /// The engine's credential (`--api-key`): the router presents it; nobody else has it. Never logged or reported back.
    public var apiKey: String?

    public init(instanceId: String, modelId: String, engine: EngineKind, arguments: [String] = [], devices: [Int] = [],
                vendor: String? = nil, companions: [String] = [], apiKey: String? = nil) {
        self.apiKey = apiKey
        self.instanceId = instanceId
        self.modelId = modelId
        self.engine = engine
        self.arguments = arguments
        self.devices = devices
        self.vendor = vendor
        self.companions = companions
    }
}

extension EngineKind {
    /// What a model serves when its card does not say: chat and text completions.
    public static let defaultEndpoints = ["chat/completions", "completions"]

    /// The engine's own flags that turn on `endpoints` beyond the defaults (llama-server serves
    /// embeddings and reranking only when started for them).
    public func arguments(serving endpoints: [String]) -> [String] {
        switch self {
        case .llamaServer:
            // OpenAI's embeddings are one vector per input: llama-server must pool the token vectors (mean).
            (endpoints.contains("embeddings") ? ["--embeddings", "--pooling", "mean"] : []) + (endpoints.contains("rerank") ? ["--reranking"] : [])
        case .vllm, .sglang, .engineSim:
            []
        }
    }
}

/// The engines an agent can launch.
public enum EngineKind: String, Sendable, Codable, Equatable, CaseIterable {
    /// llama.cpp's `llama-server`.
    case llamaServer = "llama-server"
    /// vLLM's OpenAI-compatible server.
    case vllm
    /// SGLang's OpenAI-compatible server.
    case sglang
    /// `metalplane engine-sim`: a simulator, never real inference.
    case engineSim = "engine-sim"
}

/// One-off orders carried by a heartbeat answer.
public enum AgentCommand: Sendable, Codable, Equatable {
    /// Purge not-in-use staged copies (all, or one model).
    case purgeStaging(id: String, modelId: String?)
    /// Recycle the agent in place (re-exec); it rejoins.
    case restart(id: String)
    /// The node is being released: stop every runner, delete the staged models and erase the
    /// configured data devices, then report with `WipeReport`.
    case wipe(id: String)
}

/// What an agent reports after a wipe (`POST /api/v1/agent/wiped`).
public struct WipeReport: Sendable, Codable, Equatable {
    public var commandId: String
    /// Devices or files erased.
    public var erased: [String]
    /// Bytes overwritten or discarded.
    public var bytes: Int64
    /// Why the wipe could not finish, if it did not.
    public var error: String?

    public init(commandId: String, erased: [String], bytes: Int64, error: String? = nil) {
        self.commandId = commandId
        self.erased = erased
        self.bytes = bytes
        self.error = error
    }
}
