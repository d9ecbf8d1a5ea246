import Settings
import Foundation
import NodeContract
@testable import NodeRuntime
import Testing

@Suite struct EvictionPlanTests {
    typealias Entry = StagingArea.Entry
    let gib: Int64 = 1 << 30

    func entries() -> [Entry] {
        [Entry(modelId: "a/new", bytes: 10 * gib, lastUsedAt: 400, complete: true),
         Entry(modelId: "a/mid", bytes: 20 * gib, lastUsedAt: 300, complete: true),
         Entry(modelId: "a/old", bytes: 5 * gib, lastUsedAt: 200, complete: true),
         Entry(modelId: "a/live", bytes: 50 * gib, lastUsedAt: 100, complete: true),
         Entry(modelId: "a/drafter", bytes: 1 * gib, lastUsedAt: 50, complete: true)]
    }

    @Test func theNewestNotInUseFitTheGraceBudgetAndEverythingOlderGoes() {
        // 40 GiB keeps new (10) + mid (20); old (5) would fit in the rest but is older than a copy that did not: it goes.
        #expect(EvictionPlan.victims(entries(), inUse: ["a/live", "a/drafter"], keepBytes: 30 * gib) == ["a/old"])
        #expect(EvictionPlan.victims(entries(), inUse: ["a/live", "a/drafter"], keepBytes: 25 * gib) == ["a/mid", "a/old"])
    }

    @Test func zeroIsStrictEvictOnDeactivateButCompanionsInUseStay() {
        #expect(EvictionPlan.victims(entries(), inUse: ["a/live", "a/drafter"], keepBytes: 0) == ["a/new", "a/mid", "a/old"])
        #expect(!EvictionPlan.victims(entries(), inUse: ["a/live", "a/drafter"], keepBytes: 0).contains("a/drafter"))
    }

    @Test func aPurgeOfOneModelTouchesOnlyIt() {
        #expect(EvictionPlan.victims(entries(), inUse: [], keepBytes: 0, only: "a/mid") == ["a/mid"])
        #expect(EvictionPlan.victims(entries(), inUse: ["a/mid"], keepBytes: 0, only: "a/mid").isEmpty)
    }
}

@Suite struct EngineDriverTests {
    func spec(_ engine: EngineKind, vendor: String? = nil, devices: [Int] = []) -> InstanceSpec {
        InstanceSpec(instanceId: "i1", modelId: "org/m", engine: engine, arguments: ["--extra"], devices: devices, vendor: vendor)
    }

    @Test func eachEngineGetsItsDocumentedCommandAndTheVendorsVisibilityVariable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driver-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/small.gguf", contents: Data(count: 10))
        _ = FileManager.default.createFile(atPath: folder + "/model.gguf", contents: Data(count: 100))
        let configuration = AgentConfiguration()
        let llama = try EngineDriver.launch(spec(.llamaServer, vendor: "nvidia", devices: [0, 1]), modelFolder: folder, port: 9000,
                                            configuration: configuration, selfExecutable: "/bin/metalplane", keyFile: "/k")
        #expect(llama.arguments.prefix(2) == ["-m", folder + "/model.gguf"], "the largest GGUF is the model")
        #expect(llama.arguments.contains("--port") && llama.arguments.last == "--extra")
        #expect(llama.environment == ["CUDA_VISIBLE_DEVICES": "0,1"])
        let vllm = try EngineDriver.launch(spec(.vllm, vendor: "amd", devices: [2, 3]), modelFolder: folder, port: 9001,
                                           configuration: configuration, selfExecutable: "", keyFile: "/k")
        #expect(vllm.arguments.prefix(2) == ["serve", folder])
        #expect(vllm.arguments.contains("--tensor-parallel-size") && vllm.arguments.contains("2"))
        #expect(vllm.environment["HIP_VISIBLE_DEVICES"] == "2,3" && vllm.environment["ROCR_VISIBLE_DEVICES"] == "2,3")
        let sglang = try EngineDriver.launch(spec(.sglang, vendor: "intel", devices: [1]), modelFolder: folder, port: 9002,
                                             configuration: configuration, selfExecutable: "", keyFile: "/k")
        #expect(sglang.arguments.prefix(2) == ["-m", "sglang.launch_server"] && sglang.environment == ["ZE_AFFINITY_MASK": "1"])
        let sim = try EngineDriver.launch(spec(.engineSim), modelFolder: folder, port: 9003, configuration: configuration, selfExecutable: "/bin/metalplane", keyFile: "/k")
        #expect(sim.executable == "/bin/metalplane" && sim.arguments.first == "engine-sim" && sim.environment.isEmpty)
        #expect([llama, vllm, sglang, sim].allSatisfy { $0.healthPath == "/health" })
    }

    @Test func enginesOnADataAddressTakeTheInstanceKeyAndNeverListenThereWithoutOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driver-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/model.gguf", contents: Data(count: 100))
        var configuration = AgentConfiguration()
        try configuration.set("dataAddress", "10.67.11.2")
        var keyed = spec(.llamaServer)
        keyed.apiKey = "mpe_secret"
        let llama = try EngineDriver.launch(keyed, modelFolder: folder, port: 9000, configuration: configuration, selfExecutable: "", keyFile: "/state/k.key")
        #expect(llama.arguments.contains("10.67.11.2") && llama.arguments.contains("--api-key-file") && llama.arguments.contains("/state/k.key"))
        #expect(!llama.arguments.contains("mpe_secret"), "the key never appears on the command line")
        keyed.engine = .vllm
        let vllm = try EngineDriver.launch(keyed, modelFolder: folder, port: 9001, configuration: configuration, selfExecutable: "", keyFile: "/k")
        #expect(vllm.environment["VLLM_API_KEY"] == "mpe_secret" && !vllm.arguments.contains("mpe_secret"))
        #expect(throws: AgentError.self) {
            try EngineDriver.launch(spec(.engineSim), modelFolder: folder, port: 1, configuration: configuration, selfExecutable: "", keyFile: "/k")
        }
        #expect(throws: SettingsError.self) { try configuration.set("dataAddress", "node-7.example") }
    }

    @Test func llamaServerWithoutAGGUFIsAClearError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driver-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: AgentError.self) {
            try EngineDriver.launch(spec(.llamaServer), modelFolder: folder, port: 1, configuration: AgentConfiguration(), selfExecutable: "", keyFile: "/k")
        }
    }
}

@Suite struct AgentConfigurationTests {
    @Test func theDeployExampleIsAValidConfiguration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var configuration = AgentConfiguration()
        configuration.hostname = "small-disk-node"
        try configuration.apply(yaml: try String(contentsOf: root.appendingPathComponent("deploy/node.example.yaml"), encoding: .utf8))
        #expect(configuration.controllerURL == "https://controller.example:8080" && configuration.stagingKeepRecentGB == 0)
    }

    @Test func theRunbooksStagingSectionAndThisNodesOverridesApply() throws {
        var configuration = AgentConfiguration()
        configuration.hostname = "gpu-7"
        try configuration.apply(yaml: """
            controller: http://ctl:8080
            model_store:
              staging:
                cleanup_on_deactivate: true
                staging_keep_recent_gb: 40
            node_overrides:
              gpu-7:
                staging:
                  staging_keep_recent_gb: 0
              store-host:
                staging:
                  cleanup_on_deactivate: false
            """)
        #expect(configuration.controllerURL == "http://ctl:8080")
        #expect(configuration.stagingKeepRecentGB == 0 && configuration.cleanupOnDeactivate)
        #expect(throws: AgentConfigurationError.self) { try configuration.apply(yaml: "staging_keep_recent_gb: lots") }
        try configuration.apply(environment: ["METALPLANE_WARMUP_DEADLINE_SECONDS": "2.5"])
        #expect(configuration.warmupDeadlineSeconds == 2.5)
    }
}
