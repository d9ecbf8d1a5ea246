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
                print("DEBUG \(metric): \(answer.text.prefix(1500))")
            }
            print("DEBUG latency: \(try await world.controller.call(.GET, "/api/v1/telemetry/latency", bearer: world.admin).text.prefix(800))")
            print("DEBUG nodes: \(try await world.controller.call(.GET, "/api/v1/nodes", bearer: world.admin).text.prefix(800))")
            print("DEBUG agents: \(try await world.controller.call(.GET, "/api/v1/agents", bearer: world.admin).text.prefix(1500))")
        }
        #expect(result.status == 0, "\(result.output.suffix(6000))\ncontroller log: \((try? String(contentsOfFile: world.controller.stderrPath, encoding: .utf8))?.suffix(3000) ?? "")")
        for line in ["the platform admin signed in", "two tenants created", "signed in through acme's realm", "refused with its arithmetic",
                     "got 403 and changed nothing", "answer 404 to her", "the openai client got answers", "the cluster page shows",
                     "all portal steps passed"] {
            #expect(result.output.contains(line), "\(line): \(result.output.suffix(3000))")
        }
    }
}
