import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestPeers
import Testing

/// An agent given two controller replicas on one PostgreSQL store keeps its session when the replica it talks
/// to is killed; inference through the other replica goes on, a stream in flight there included. Across hosts of
/// the test fleet: replicas on `ctl` and `cp2`, the agent and its engine on `n1`, the test on the operator host.
@Suite(.serialized) struct AgentReplicaTests {
    @Test func anAgentKeepsItsSessionWhenItsReplicaIsKilledAndTheOtherReplicaServesItsModels() async throws {
        let fleet = try await Fleet(nodes: 1, extra: ["cp2", "db1"])
        defer { fleet.down() }
        let store = fleet.directory + "/store"
        try FileManager.default.createDirectory(atPath: store + "/acme--slow", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--slow/w.bin", contents: Data(count: 64))
        let database = try await Self.database(on: try #require(fleet.extraHosts["db1"]), of: fleet)
        // A short silence allowance: a replica that wrongly called another replica's agent lost would do so within the test.
        let environment = ReplicaTests.sharedSecretsKey().merging(["METALPLANE_MODEL_STORE_PATH": store, "METALPLANE_AGENT_HEARTBEAT_SECONDS": "0.2",
                                                                   "METALPLANE_AGENT_LOST_AFTER_SECONDS": "2"]) { $1 }
        let arguments = ["--store", database, "--public-url", "http://\(fleet.controller.management):8080"]
        let replicaHost: Fleet.Host = try #require(fleet.extraHosts["cp2"])
        let first = try await ControllerProcess(fleet: fleet, arguments: arguments, environment: environment)
        let second = try await ControllerProcess(fleet: fleet, on: replicaHost, arguments: arguments, environment: environment)
        defer { first.kill(SIGTERM); second.kill(SIGTERM) }
        let admin = try await first.token()
        let tenant = try await first.readyTenant(slug: "acme", admin: "boss", password: "boss-password-1",
                                                 extra: #""quota": {"accelerators": {"nvidia/H100": 8}}, "network": {"vrfs": 1, "vlansPerVrf": 1}"#, by: admin)
        let join = try #require(try await first.call(.POST, "/api/v1/join-tokens", bearer: admin, json: "{}").json["token"] as? String)
        let node = fleet.nodes[0]
        let agent = try await AgentProcess(fleet: fleet, node: node, controllerURL: "http://\(first.listenAddress),http://\(second.listenAddress)", joinToken: join)
        defer { agent.stopEverything() }
        let joined = try #require(try await eventually(15) { () -> [String: Any]? in
            (try await first.call(.GET, "/api/v1/agents?state=online", bearer: admin).json["items"] as? [[String: Any]])?.first
        })
        let agentID = try #require(joined["id"] as? String)
        let sessionID = try #require(joined["sessionId"] as? String)

        // The second replica restarts after the join: it loads the agent's session but must not call it lost
        // (the first replica holds its liveness stream).
        second.kill(SIGTERM)
        try await second.start(arguments: arguments)
        let secondAdmin = admin

        let body: [String: Any] = ["agentId": agentID, "modelId": "acme/slow", "engine": "engine-sim",
                                   "arguments": ["--ttft-ms", "20", "--itl-ms", "50"], "projectId": tenant.project]
        let placed = try await first.call(.POST, "/api/v1/instances", bearer: admin,
                                          json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        #expect(placed.status == 201 || placed.status == 202, "\(placed.text)")
        // The second replica routes to it: its route table follows the store.
        let routable = try await eventually(60) { () -> Bool? in
            let models = try await second.call(.GET, "/v1/models", bearer: tenant.key).json["data"] as? [[String: Any]] ?? []
            return models.contains { $0["id"] as? String == "acme/slow" } ? true : nil
        }
        #expect(routable == true, "the other replica routes to the instance")

        // A stream on the second replica, then the first is killed (the agent's replica).
        let streaming = Task { try await RouterTests.stream(through: second, key: tenant.key, maxTokens: 60) }
        try await Task.sleep(for: .milliseconds(300))
        first.kill(SIGKILL)
        let killed = ContinuousClock.now
        let events = try await streaming.value
        #expect(events.last == "data: [DONE]", "the stream on the other replica did not notice: \(events.suffix(2))")

        // The killed replica's presence lease runs out (3 s), the survivor adopts its agents and would call
        // them lost after a pulse allowance (1 s) without pulses: by then the agent must pulse there.
        let leases = try await eventually(15) { () -> Bool? in
            let items = try await second.call(.GET, "/api/v1/leases", bearer: secondAdmin).json["items"] as? [[String: Any]] ?? []
            let now = Int(Date().timeIntervalSince1970 * 1000)
            let live = items.filter { ($0["name"] as? String)?.hasPrefix("replica:") == true && ($0["expiresAt"] as? Int ?? 0) > now }
            return live.count == 1 ? true : nil
        }
        #expect(leases == true, "only the surviving replica is present")
        try await Task.sleep(for: .seconds(2.5))
        let after = try await second.call(.GET, "/api/v1/agents/\(agentID)", bearer: secondAdmin).json
        #expect(after["state"] as? String == "online", "\(after)")
        #expect(after["sessionId"] as? String == sessionID, "the agent kept its session across the move")
        let chat = try await second.call(.POST, "/v1/chat/completions", bearer: tenant.key,
                                         json: #"{"model": "acme/slow", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#)
        #expect(chat.status == 200, "\(chat.text)")
        print("agent across replicas: kept session \(sessionID) after its replica was killed; checked \(ContinuousClock.now - killed) after the kill")
    }

    /// A PostgreSQL server of the test's own on `host` (the fleet's removal ends it), serving the fleet's management network.
    static func database(on host: Fleet.Host, of fleet: Fleet) async throws -> String {
        let script = ControllerProcess.root.appendingPathComponent("scripts/test-postgres.sh").path
        let started = try await fleet.run(on: host, ["/usr/bin/env", "METALPLANE_TEST_PG_PORT=5432", "METALPLANE_TEST_PG_DIR=\(fleet.directory)/pg",
                                                     "METALPLANE_TEST_PG_HOST=\(host.management)", "/bin/bash", script])
        try #require(started.status == 0, "test-postgres.sh on \(host.name): \(started.output)")
        return try #require(started.output.split(separator: "\n").last.map(String.init))
    }
}
