import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// The operator guides run as written: docs/nodes.md, then docs/router.md and docs/node-agent.md,
/// in one world (a controller, sushy-tools as the nodes' BMCs, two agents, the engine simulator).
@Suite(.serialized) struct GuidePagesTests {
    @Test func theNodesRouterAndAgentGuidesRunAsWritten() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-guide-store-\(UUID().uuidString)").path
        for model in ["HuggingFaceTB--SmolLM2-135M-Instruct", "HuggingFaceTB--SmolLM2-360M-Instruct"] {
            try FileManager.default.createDirectory(atPath: store + "/" + model, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: store + "/\(model)/w.bin", contents: Data(count: 1024))
            try #"{"layers": 4, "engines": ["engine-sim"]}"#.write(toFile: store + "/\(model)/metalplane-model.json", atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: store) }
        let bmc = try await BMCEmulator(names: ["gpu-node-1", "gpu-node-2"])
        defer { bmc.stop() }
        let c = try await ControllerProcess(environment: ["METALPLANE_MODEL_STORE_PATH": store, "METALPLANE_AGENT_HEARTBEAT_SECONDS": "0.2"])
        defer { c.kill(SIGTERM) }
        let admin = try await c.token()
        let tenant = try await c.readyTenant(slug: "acme", admin: "boss", password: "boss-password-1", extra: #""quota": {"nodes": 4, "clusters": 8}"#,
                                             keyRole: "project-admin", by: admin)
        let (boss, project, key) = (tenant.admin, tenant.project, tenant.key)
        let workspace = c.dataDirectory + "-guides"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let environment = ["SERVER": c.baseURL, "KEY": key, "PROJECT": project, "ADMIN_PASSWORD": c.password,
                           "BMC1": bmc.systemURL(0), "BMC2": bmc.systemURL(1), "BMC_PASSWORD": "pw",
                           "METALPLANE_CREDENTIALS": workspace + "/admin.json"]

        // The nodes' page: enrolled from their BMCs, linked, allocated to the project.
        let nodes = try await Self.runPage("docs/nodes.md", in: workspace, environment: environment)
        #expect(nodes.status == 0, "docs/nodes.md: \(nodes.output.suffix(3000))")

        // The nodes' agents join (each reports 24 GiB, from a fixture tree), and a model is placed for the router's probe.
        let machine = workspace + "/machine"
        try FileManager.default.createDirectory(atPath: machine + "/proc", withIntermediateDirectories: true)
        try "processor\t: 0\nmodel name\t: Fixture CPU\n".write(toFile: machine + "/proc/cpuinfo", atomically: true, encoding: .utf8)
        try "MemTotal:       25165824 kB\n".write(toFile: machine + "/proc/meminfo", atomically: true, encoding: .utf8)
        var agents: [AgentProcess] = []
        defer { agents.forEach { $0.stopEverything() } }
        for name in ["gpu-node-1", "gpu-node-2"] {
            let join = try #require(try await c.call(.POST, "/api/v1/join-tokens", bearer: admin, json: "{}").json["token"] as? String)
            agents.append(try AgentProcess(controllerURL: c.baseURL, joinToken: join, environment: ["METALPLANE_NODE_NAME": name, "METALPLANE_INVENTORY_ROOT": machine]))
        }
        let base = "/api/v1/tenants/acme/projects/\(project)"
        let joined = try await eventually(20) { () -> Bool? in
            (try await c.call(.GET, base + "/state", bearer: boss).json["nodeIdentities"] as? [Any])?.count == 2 ? true : nil
        }
        try #require(joined == true, "both agents joined their nodes")
        let placed = try await c.call(.POST, base + "/place_instance", bearer: boss, json: #"{"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct"}"#)
        try #require(placed.status == 201, "\(placed.text)")
        let served = try await eventually(30) { () -> Bool? in
            try await c.call(.GET, "/v1/models", bearer: key).text.contains("SmolLM2-135M-Instruct") ? true : nil
        }
        try #require(served == true, "the model serves before the router's page runs")

        let router = try await Self.runPage("docs/router.md", in: workspace, environment: environment)
        #expect(router.status == 0, "docs/router.md: \(router.output.suffix(3000))")
        #expect(router.output.contains("\"choices\"") && router.output.contains("placementId") && router.output.contains("firstTokenMillis"),
                "docs/router.md: \(router.output.suffix(2000))")

        let agentPage = try await Self.runPage("docs/node-agent.md", in: workspace, environment: environment.merging(["NODE_API": "http://127.0.0.1:\(agents[0].port)"]) { $1 })
        #expect(agentPage.status == 0, "docs/node-agent.md: \(agentPage.output.suffix(3000))")
        #expect(agentPage.output.contains("mpj_") && agentPage.output.contains("stopped") && agentPage.output.contains("\"nodes\""),
                "docs/node-agent.md: \(agentPage.output.suffix(2000))")
    }

    /// Runs a page's `sh` blocks in order, in `workspace`, with the CLI signed in as the platform admin.
    static func runPage(_ page: String, in workspace: String, environment: [String: String]) async throws -> (status: Int32, output: String) {
        let text = try String(contentsOf: ControllerProcess.root.appendingPathComponent(page), encoding: .utf8)
        let blocks = OperatorGuideTests.shellBlocks(of: text)
        try #require(!blocks.isEmpty, "\(page) has no sh blocks")
        let script = "set -euo pipefail\ncd '\(workspace)'\nmetalplane login --server \"$SERVER\" --password-stdin <<< \"$ADMIN_PASSWORD\" >/dev/null\n"
            + blocks.joined(separator: "\n")
        let binaryDirectory = URL(fileURLWithPath: ControllerProcess.binary).deletingLastPathComponent().path
        return try await run("bash", ["-c", script], environment: environment.merging([
            "PATH": binaryDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ]) { $1 })
    }
}
