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
}
