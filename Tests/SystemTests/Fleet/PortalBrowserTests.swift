import Foundation
import NIOHTTP1
import Testing

/// The portal in a real browser on the operator's host: chromium, driven by selenium, reaches the controller across the
/// fabric, signs in through the platform's and a tenant's realms, and does what the onboarding guide does, down to a
/// model served by llama-server on a node host (Tests/peers/portal_browser.py says each step).
@Suite(.serialized) struct PortalBrowserTests {
    @Test func anOperatorAndATenantDoTheOnboardingFromTheBrowser() async throws {
        // Telemetry every 2 s, so the cluster page counts the browser's requests within seconds.
        let world = try await FleetWorld.make(nodes: 2, allocated: 0, controllerEnvironment: ["METALPLANE_AGENT_TELEMETRY_SECONDS": "2"])
        defer { world.stop() }
        let screenshots = ProcessInfo.processInfo.environment["METALPLANE_SCREENSHOTS"] ?? (world.fleet.directory + "/screenshots")
        let result = try await world.fleet.run(on: world.fleet.operatorHost, [
            "env", "BASE=\(world.controllerURL)", "ADMIN_PASSWORD=\(world.controller.password)", "MODEL=\(FleetWorld.smolLM)",
            "NODE=\(world.fleet.nodes[0].name)", "SCREENSHOTS=\(screenshots)", "HOME=\(world.fleet.directory)",
            "python3", ControllerProcess.root.appendingPathComponent("Tests/peers/portal_browser.py").path,
        ])
        if result.status != 0 {
            for metric in ["node_cpu_utilization", "model_tokens_per_second"] {
                let answer = try await world.controller.call(.GET, "/api/v1/telemetry/query?metric=\(metric)", bearer: world.admin)
                print("diagnostic \(metric): \(answer.text.prefix(1500))")
            }
            print("diagnostic latency: \(try await world.controller.call(.GET, "/api/v1/telemetry/latency", bearer: world.admin).text.prefix(800))")
            print("diagnostic nodes: \(try await world.controller.call(.GET, "/api/v1/nodes", bearer: world.admin).text.prefix(800))")
            print("diagnostic agents: \(try await world.controller.call(.GET, "/api/v1/agents", bearer: world.admin).text.prefix(1500))")
        }
        #expect(result.status == 0, "\(result.output.suffix(6000))\ncontroller log: \((try? String(contentsOfFile: world.controller.stderrPath, encoding: .utf8))?.suffix(3000) ?? "")")
        try await Self.reportsComeFromTheRecordedHistory(world)
        for line in ["the platform admin signed in", "two tenants created", "signed in through acme's realm", "refused with its arithmetic",
                     "got 403 and changed nothing", "answer 404 to her", "lists her sessions", "the openai client got answers", "the cluster page shows",
                     "all portal steps passed"] {
            #expect(result.output.contains(line), "\(line): \(result.output.suffix(3000))")
        }
    }

    /// The browser's week, as the reports see it from the recorded history: the placement it made, the node the tenant
    /// holds, the requests served; the monthly report's PDF is kept and downloadable.
    static func reportsComeFromTheRecordedHistory(_ world: FleetWorld) async throws {
        let admin = world.admin
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let weekly = try await world.controller.call(.POST, "/api/v1/tenants/acme/reports", bearer: admin, json: #"{"kind": "weekly", "at": \#(now - 1000)}"#)
        try #require(weekly.status == 201, "\(weekly.text)")
        let figures = try #require(weekly.json["figures"] as? [String: Any])
        let added = (figures["placementDiff"] as? [String: Any])?["added"] as? [[String: Any]] ?? []
        #expect(added.contains { $0["model"] as? String == FleetWorld.smolLM && $0["node"] as? String == world.fleet.nodes[0].name },
                "the week's placement diff shows the model the browser placed: \(weekly.text.prefix(2000))")
        let cost = try await world.controller.call(.GET, "/api/v1/tenants/acme/cost?since=\(now - 3_600_000)", bearer: admin)
        #expect(cost.status == 200, "\(cost.text)")
        let nodes = cost.json["nodes"] as? [[String: Any]] ?? []
        #expect(nodes.contains { $0["node"] as? String == world.fleet.nodes[0].name && ($0["hours"] as? Double ?? 0) > 0 },
                "the node the tenant holds has cost hours: \(cost.text.prefix(1500))")
        // The router's count of the browser's five requests reaches the cost with the node's telemetry batches.
        let counted = try await eventually(30) { () -> Bool? in
            let models = try await world.controller.call(.GET, "/api/v1/tenants/acme/cost?since=\(now - 3_600_000)", bearer: admin).json["models"] as? [[String: Any]] ?? []
            return models.contains { $0["modelId"] as? String == FleetWorld.smolLM && ($0["requests"] as? Double ?? 0) == 5 } ? true : nil
        }
        #expect(counted == true, "the requests the openai client sent are counted, each once")
        let monthly = try await world.controller.call(.POST, "/api/v1/tenants/acme/reports", bearer: admin, json: #"{"kind": "monthly", "at": \#(now - 1000)}"#)
        try #require(monthly.status == 201, "\(monthly.text.prefix(1500))")
        let id = try #require((monthly.json["report"] as? [String: Any])?["id"] as? String)
        let pdf = try await world.controller.call(.GET, "/api/v1/tenants/acme/reports/\(id)/pdf", bearer: admin)
        #expect(pdf.status == 200 && pdf.body.prefix(5) == Data("%PDF-".utf8), "the monthly PDF downloads")
        let list = try await world.controller.call(.GET, "/api/v1/tenants/acme/reports", bearer: admin)
        #expect((list.json["items"] as? [Any])?.count == 2, "\(list.text)")
        // Another tenant's reports are not there for acme's admin to see.
        #expect(try await world.controller.call(.GET, "/api/v1/tenants/globex/reports/\(id)", bearer: admin).status == 404)
    }
}
