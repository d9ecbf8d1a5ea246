import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// The fleet's series as a real Prometheus (Debian's) sees them: it scrapes the controller's exposition
/// with a platform API key, and answers a query over what it scraped; promtool finds nothing wrong.
@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func aRealPrometheusScrapesTheFleetsSeries() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/acme--sim", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--sim/w.bin", contents: Data(count: 64))
        let world = try await RouterWorld.make(store: store, controllerEnvironment: ["METALPLANE_AGENT_TELEMETRY_SECONDS": "1"])
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        _ = try await world.run("acme/sim", engine: "engine-sim", arguments: ["--ttft-ms", "5", "--itl-ms", "5"])
        for _ in 0..<3 {
            #expect(try await world.inference(.POST, "/v1/chat/completions", json: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}"#).status == 200)
        }
        let key = try #require(try await world.controller.call(.POST, "/api/v1/api-keys", bearer: world.admin,
                                                               json: #"{"name": "prometheus", "roles": ["viewer"]}"#).json["key"] as? String)
        let exposition = try await eventually(20) { () -> String? in
            let text = try await world.controller.call(.GET, "/api/v1/telemetry/prometheus", bearer: key).text
            return text.contains("metalplane_model_tokens{") && text.contains("metalplane_node_memory_total_mib{") ? text : nil
        }
        let text = try #require(exposition, "the exposition carries node and model gauges")
        let file = world.controller.dataDirectory + "-fleet-metrics.txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let checked = try await run("sh", ["-c", "promtool check metrics < \"$0\"", file])
        #expect(checked.status == 0 && checked.output.isEmpty, "promtool check metrics: \(checked.output)")
        #expect(try await world.controller.call(.GET, "/api/v1/telemetry/prometheus").status == 401)

        // A real Prometheus scrapes it every second, with the key.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-prometheus-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = world.controller.baseURL.replacingOccurrences(of: "http://", with: "")
        try """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: metalplane
                metrics_path: /api/v1/telemetry/prometheus
                authorization:
                  type: Bearer
                  credentials: \(key)
                static_configs:
                  - targets: ["\(target)"]
            """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let port = try freePort()
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = ["--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                                "--web.listen-address=127.0.0.1:\(port)"]
        prometheus.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        prometheus.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try prometheus.run()
        defer {
            prometheus.terminate()
            if ChildExit.waitBlocking(prometheus, timeout: 10) == nil { kill(prometheus.processIdentifier, SIGKILL) }
        }
        let server = HTTPCaller(baseURL: "http://127.0.0.1:\(port)")
        let scraped = try await eventually(30) { () -> [[String: Any]]? in
            let query = "metalplane_model_tokens%7Bmodel%3D%22acme%2Fsim%22%7D"
            let answer = try? await server.call(.GET, "/api/v1/query?query=\(query)")
            let result = ((answer?.json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            return result.isEmpty ? nil : result
        }
        let labels = try #require(scraped?.first?["metric"] as? [String: String], "Prometheus scraped the model's series")
        #expect(labels["node"] == world.agentID && labels["project"] == world.project && labels["job"] == "metalplane", "\(labels)")
        let health = try await server.call(.GET, "/api/v1/targets").json
        let targets = ((health["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]) ?? []
        #expect(targets.first?["health"] as? String == "up", "\(targets)")
    }

    /// A rule added through the API fires over the agent's series, and resolves when disabled; bad rules are refused.
    @Test func aRuleAddedThroughTheAPIFiresAndResolves() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        let world = try await RouterWorld.make(store: store, controllerEnvironment: ["METALPLANE_AGENT_TELEMETRY_SECONDS": "1",
                                                                                  "METALPLANE_RULE_EVALUATION_SECONDS": "0.5"])
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let controller = world.controller
        let defaults = try await controller.call(.GET, "/api/v1/alert-rules", bearer: world.admin).json["items"] as? [[String: Any]] ?? []
        #expect(defaults.count == 10 && defaults.allSatisfy { $0["builtin"] as? Bool == true && $0["enabled"] as? Bool == true }, "\(defaults)")
        let rule = #"{"name": "MemoryPresent", "metric": "node_memory_total_mib", "comparison": ">", "threshold": 0, "forSeconds": 2, "severity": "high"}"#
        let created = try await controller.call(.POST, "/api/v1/alert-rules", bearer: world.admin, json: rule)
        #expect(created.status == 201 && created.json["expression"] as? String == "metalplane_node_memory_total_mib > 0", "\(created.text)")
        #expect(try await controller.call(.POST, "/api/v1/alert-rules", bearer: world.admin, json: rule).status == 409)
        let unknown = try await controller.call(.POST, "/api/v1/alert-rules", bearer: world.admin,
                                                json: #"{"name": "Nope", "metric": "nope", "comparison": ">", "threshold": 1}"#)
        #expect(unknown.status == 400 && unknown.text.contains("metric"), "\(unknown.text)")
        #expect(try await controller.call(.POST, "/api/v1/alert-rules", bearer: world.tenantAdmin, json: rule).status == 403)

        func alerts(_ severity: String) async throws -> [[String: Any]] {
            (try await controller.call(.GET, "/api/v1/alerts?severity=\(severity)", bearer: world.admin).json["items"] as? [[String: Any]] ?? [])
                .filter { $0["kind"] as? String == "rule:MemoryPresent" }
        }
        let fired = try await eventually(30) { () -> [String: Any]? in try await alerts("critical").first }
        let alert = try #require(fired, "the rule fired over the agent's series")
        #expect(alert["agentId"] as? String == world.agentID && (alert["message"] as? String)?.contains("node=\(world.agentID)") == true, "\(alert)")
        // The CLI: the rules, a range query, and disabling the rule.
        let credentials = controller.dataDirectory + "-cli.json"
        let environment = ["METALPLANE_CREDENTIALS": credentials, "METALPLANE_PASSWORD": controller.password]
        #expect(try await run(ControllerProcess.binary, ["login", "--server", controller.baseURL], environment: environment).status == 0)
        let listed = try await run(ControllerProcess.binary, ["telemetry", "rules"], environment: environment)
        #expect(listed.status == 0 && listed.output.contains("metalplane_node_memory_total_mib > 0"), "\(listed.output.prefix(500))")
        let queried = try await run(ControllerProcess.binary, ["telemetry", "query", "node_memory_total_mib", "--node", world.agentID, "--step", "1"],
                                    environment: environment)
        #expect(queried.status == 0 && queried.output.contains("\"node\" : \"\(world.agentID)\""), "\(queried.output.prefix(500))")
        let disabled = try await run(ControllerProcess.binary, ["telemetry", "set-rule", "MemoryPresent", "--disable"], environment: environment)
        #expect(disabled.status == 0 && disabled.output.contains("\"enabled\" : false"), "\(disabled.output.prefix(500))")
        let resolved = try await eventually(30) { () -> [String: Any]? in try await alerts("info").first }
        #expect((resolved?["message"] as? String)?.contains("resolved") == true, "disabling the rule resolves its alert")
        #expect(try await controller.call(.DELETE, "/api/v1/alert-rules/MemoryPresent", bearer: world.admin).status == 204)
        #expect(try await controller.call(.GET, "/api/v1/alert-rules/MemoryPresent", bearer: world.admin).status == 404)
    }
}
