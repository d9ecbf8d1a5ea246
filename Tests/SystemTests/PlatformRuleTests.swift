import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// What no agent reports about itself becomes an incident through the default rules, on the series the controller
/// records (`node_agent_up`, `model_engine_restarts`): an engine killed three times in a row is a crash loop, an agent
/// killed with its link is a lost node.
@Suite(.serialized) struct PlatformRuleTests {
    @Test func aCrashLoopAndALostNodeBecomeIncidentsThroughTheDefaultRules() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/acme--sim", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--sim/w.bin", contents: Data(count: 64))
        let world = try await RouterWorld.make(store: store, agentEnvironment: ["METALPLANE_RESTART_BACKOFF_SECONDS": "0.2"],
                                               controllerEnvironment: ["METALPLANE_RULE_EVALUATION_SECONDS": "0.5", "METALPLANE_AGENT_LOST_AFTER_SECONDS": "3"])
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let instance = try await world.run("acme/sim", engine: "engine-sim")
        let controller = world.controller
        func incident(_ rule: String) async throws -> [String: Any]? {
            let items = try await controller.call(.GET, "/api/v1/incidents?limit=100", bearer: world.admin).json["items"] as? [[String: Any]] ?? []
            return items.first { ($0["correlationKey"] as? String ?? "").contains("rule:" + rule) }
        }
        // The rule is in place (with its Prometheus expression) and has not fired on a healthy engine.
        let rule = try await controller.call(.GET, "/api/v1/alert-rules/EngineCrashLoop", bearer: world.admin).json
        #expect(rule["expression"] as? String == "metalplane_model_engine_restarts - min_over_time(metalplane_model_engine_restarts[10m]) >= 3", "\(rule)")
        let healthy = try await eventually(10) { () -> Bool? in
            let series = try await controller.call(.GET, "/api/v1/telemetry/query?metric=model_engine_restarts", bearer: world.admin).json["series"] as? [[String: Any]] ?? []
            return series.isEmpty ? nil : true
        }
        #expect(healthy == true, "the restart counter is a series")
        #expect(try await incident("EngineCrashLoop") == nil)

        // Three kills, each waited out until the supervisor has it ready again.
        for round in 1...3 {
            let pids = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: world.agent.stateDirectory + "/runners.json"))) as? [String: Int]
            kill(Int32(try #require(pids?[instance])), SIGKILL)
            let restarted = try await eventually(20) { () -> Bool? in
                let state = try await controller.call(.GET, "/api/v1/instances/\(instance)", bearer: world.admin).json
                return (state["restarts"] as? Int ?? 0) >= round && state["phase"] as? String == "ready" ? true : nil
            }
            #expect(restarted == true, "restart \(round): \(world.agent.log.suffix(500))")
        }
        let crashLoop = try await eventually(20) { try await incident("EngineCrashLoop") }
        #expect(crashLoop?["severity"] as? String == "high" && crashLoop?["agentId"] as? String == world.agentID, "\(String(describing: crashLoop))")

        // The agent dies with no goodbye: lost after its allowance, and the NodeLost rule opens an incident for it.
        kill(world.agent.process.processIdentifier, SIGKILL)
        let lost = try await eventually(20) { try await incident("NodeLost") }
        #expect(lost?["severity"] as? String == "high" && lost?["agentId"] as? String == world.agentID, "\(String(describing: lost))")
        let up = try await controller.call(.GET, "/api/v1/telemetry/query?metric=node_agent_up", bearer: world.admin).json["series"] as? [[String: Any]] ?? []
        let last = ((up.first?["points"] as? [[String: Any]])?.last?["value"] as? Double)
        #expect(last == 0, "the agent's series reads 0 once it is lost: \(up)")
    }
}
