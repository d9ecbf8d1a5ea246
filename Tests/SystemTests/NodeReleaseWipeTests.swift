import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// A node's whole life with its agent: enrolled by its BMC (sushy-tools), allocated, deployed, its
/// agent joins (deploy complete), released: the agent wipes it, the BMC powers it off, back in the pool.
@Suite(.serialized) struct NodeReleaseWipeTests {
    @Test func releasingADeployedNodeWipesItThroughItsAgentAndReturnsItToThePool() async throws {
        let bmc = try await BMCEmulator(name: "wipe-node")
        defer { bmc.stop() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/acme--tiny", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--tiny/w.bin", contents: Data(count: 2048))
        let controller = try await ControllerProcess(environment: ["METALPLANE_MODEL_STORE_PATH": store, "METALPLANE_AGENT_HEARTBEAT_SECONDS": "0.3",
                                                                   "METALPLANE_BMC_TIMEOUT_SECONDS": "5"])
        let admin = try await controller.token()
        func json(_ method: HTTPMethod, _ path: String, _ body: String? = nil) async throws -> [String: Any] {
            try await controller.call(method, path, bearer: admin, json: body).json
        }
        func node(until state: String) async throws -> [String: Any] {
            var last: [String: Any] = [:]
            _ = try await eventually(40) { () -> Bool? in
                last = try await json(.GET, "/api/v1/nodes/wipe-node")
                return last["state"] as? String == state ? true : nil
            }
            return last
        }
        _ = try await json(.POST, "/api/v1/nodes", """
            {"name": "wipe-node", "fabric": "f1", "bmc": {"address": "\(bmc.systemURL)", "username": "root", "password": "pw"},
             "accelerators": [{"vendor": "nvidia", "model": "H100", "memoryMiB": 81559, "count": 8}]}
            """)
        #expect(try await node(until: "available")["state"] as? String == "available")
        let tenant = try await controller.call(.POST, "/api/v1/tenants", bearer: admin, json: """
            {"name": "Wipe Co", "slug": "wipeco", "admin": {"username": "boss"}, "quota": {"accelerators": {"nvidia/H100": 8}}, "network": {"vrfs": 1, "vlansPerVrf": 1}}
            """)
        #expect(tenant.status == 201)
        let org = try #require(try await json(.POST, "/api/v1/tenants/wipeco/orgs", #"{"name": "O", "slug": "o"}"#)["id"] as? String)
        let project = try #require(try await json(.POST, "/api/v1/tenants/wipeco/orgs/\(org)/projects", #"{"name": "P", "slug": "p"}"#)["id"] as? String)
        let allocated = try await controller.call(.POST, "/api/v1/tenants/wipeco/projects/\(project)/nodes", bearer: admin, json: #"{"nodeNames": ["wipe-node"]}"#)
        #expect(allocated.status == 201)
        let deploy = try await controller.call(.POST, "/api/v1/tenants/wipeco/projects/\(project)/nodes/wipe-node/deploy", bearer: admin,
                                               json: #"{"imageURL": "\#(bmc.imageURL)", "checksum": "sha256:\#(String(repeating: "0", count: 64))"}"#)
        #expect(deploy.status == 202)

        // The deployed image's agent joins naming its node: the node is active.
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("mp-disk-\(UUID().uuidString).img").path
        _ = FileManager.default.createFile(atPath: disk, contents: Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        defer { try? FileManager.default.removeItem(atPath: disk) }
        let token = try #require(try await json(.POST, "/api/v1/join-tokens", "{}")["token"] as? String)
        let agent = try AgentProcess(controllerURL: controller.baseURL, joinToken: token, environment: ["METALPLANE_NODE_NAME": "wipe-node", "METALPLANE_WIPE_DEVICES": disk])
        defer { agent.stopEverything() }
        #expect(try await node(until: "active")["state"] as? String == "active", "deploy completes on join: \(agent.log)")
        let agentID = try #require((try await json(.GET, "/api/v1/agents")["items"] as? [[String: Any]])?.first?["id"] as? String)
        let instance = try #require(try await json(.POST, "/api/v1/instances", #"{"agentId": "\#(agentID)", "modelId": "acme/tiny", "engine": "engine-sim"}"#)["id"] as? String)
        _ = try await eventually(20) { () -> Bool? in try await json(.GET, "/api/v1/instances/\(instance)")["phase"] as? String == "ready" ? true : nil }

        // Release: the instance stops, the agent wipes staging and the data disk, the BMC powers the node off.
        let released = try await json(.POST, "/api/v1/nodes/wipe-node/release")
        #expect(released["state"] as? String == "releasing")
        let back = try await node(until: "available")
        #expect(back["state"] as? String == "available", "\(back)\n\(agent.log)")
        let operations = try await json(.GET, "/api/v1/nodes/wipe-node/operations")["operations"] as? [[String: Any]] ?? []
        let release = operations.last { $0["kind"] as? String == "release" }
        #expect((release?["progress"] as? String)?.contains("wiped by the node's agent") == true, "\(release ?? [:])")
        #expect(try Data(contentsOf: URL(fileURLWithPath: disk)).allSatisfy { $0 == 0 }, "the data disk is all zeros")
        #expect(try await json(.GET, "/api/v1/instances/\(instance)")["desired"] as? String == "stopped")
        agent.operatorToken = try await controller.token()
        let staged = try await agent.call(.GET, "/store/storage").json["models"] as? [Any]
        #expect(staged?.isEmpty == true, "staged models deleted")
        agent.kill(SIGTERM)
        controller.kill(SIGTERM)
        try? FileManager.default.removeItem(atPath: store)
    }
}
