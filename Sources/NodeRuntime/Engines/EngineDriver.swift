import Foundation
import NodeContract

/// How to start one engine: the command, its environment, and where it answers health checks.
struct EngineLaunch: Equatable {
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var healthPath: String
    var port: Int
}

/// Engine drivers: each builds an engine's documented command line for a staged model, the
/// device-visibility variables of the accelerators' vendor, and its health endpoint.
enum EngineDriver {
    /// `keyFile`: where the runner wrote the instance's key (mode 0600). Engines that read a key
    /// file get its path, and vLLM gets `VLLM_API_KEY`, so the key is not in `/proc/<pid>/cmdline`,
    /// which every local user can read; SGLang takes it only as `--api-key`.
    static func launch(_ spec: InstanceSpec, modelFolder: String, port: Int, configuration: AgentConfiguration,
                       selfExecutable: String, keyFile: String) throws -> EngineLaunch {
        var environment = visibility(vendor: spec.vendor, devices: spec.devices)
        let host = configuration.dataAddress
        // An engine never listens unauthenticated beyond this machine.
        guard spec.apiKey != nil || isLoopback(host) else {
            throw AgentError.engine("refusing to start \(spec.engine.rawValue) on \(host) without an API key (the controller sends one with each instance)")
        }
        let credentialFile = spec.apiKey == nil ? [] : ["--api-key-file", keyFile]
        let tensorParallel = max(spec.devices.count, 1)
        switch spec.engine {
        case .llamaServer:
            guard let model = try largestFile(in: modelFolder, suffix: ".gguf") else {
                throw AgentError.engine("llama-server needs a .gguf file in \(modelFolder)")
            }
            return EngineLaunch(executable: configuration.llamaServerPath,
                                arguments: ["-m", model, "--host", host, "--port", String(port), "--alias", spec.modelId, "--no-webui", "--metrics"]
                                    + credentialFile + configuration.llamaServerArguments + spec.arguments,
                                environment: environment, healthPath: "/health", port: port)
        case .vllm:
            if let key = spec.apiKey { environment["VLLM_API_KEY"] = key }
            return EngineLaunch(executable: configuration.vllmPath,
                                arguments: ["serve", modelFolder, "--host", host, "--port", String(port), "--served-model-name", spec.modelId,
                                            "--tensor-parallel-size", String(tensorParallel)] + spec.arguments,
                                environment: environment, healthPath: "/health", port: port)
        case .sglang:
            return EngineLaunch(executable: configuration.pythonPath,
                                arguments: ["-m", "sglang.launch_server", "--model-path", modelFolder, "--host", host, "--port", String(port),
                                            "--served-model-name", spec.modelId, "--tp-size", String(tensorParallel)] + (spec.apiKey.map { ["--api-key", $0] } ?? []) + spec.arguments,
                                environment: environment, healthPath: "/health", port: port)
        case .engineSim:
            return EngineLaunch(executable: selfExecutable,
                                arguments: ["engine-sim", "--host", host, "--port", String(port), "--model", spec.modelId] + credentialFile + spec.arguments,
                                environment: environment, healthPath: "/health", port: port)
        }
    }

    /// Whether `host` is this machine's own loopback.
    static func isLoopback(_ host: String) -> Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }

    /// The vendor's device-visibility variables for `devices`.
    static func visibility(vendor: String?, devices: [Int]) -> [String: String] {
        guard let vendor, !devices.isEmpty else { return [:] }
        let list = devices.map(String.init).joined(separator: ",")
        switch vendor {
        case "nvidia": return ["CUDA_VISIBLE_DEVICES": list]
        case "amd": return ["HIP_VISIBLE_DEVICES": list, "ROCR_VISIBLE_DEVICES": list]
        case "intel": return ["ZE_AFFINITY_MASK": list]
        default: return [:]
        }
    }

    private static func largestFile(in folder: String, suffix: String) throws -> String? {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(suffix) && !$0.hasPrefix("mmproj") }
        return names.max { StagingArea.size(ofFile: folder + "/" + $0) < StagingArea.size(ofFile: folder + "/" + $1) }.map { folder + "/" + $0 }
    }
}
