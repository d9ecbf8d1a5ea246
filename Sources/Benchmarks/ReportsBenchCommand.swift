import ArgumentParser
import ControllerClient
import Core
import Foundation
import NIOCore
import NIOHTTP1
import Storage

/// `metalplane bench reports`: the monthly report of a large cluster (1,000 nodes, 50 models by default) made through the
/// API, from a SYNTHETIC month the bench writes into the controller's store (the history tables and the telemetry's
/// daily rollups, as the controller's own loops would leave them), computed and rendered to PDF by the real controller.
struct ReportsBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Time the monthly report (figures and PDF) of a synthetic month of N nodes and M models, through the API.")

    @Option(help: "Nodes in the cluster.") var nodes = 1000
    @Option(help: "Models placed (two instances a node, spread over them).") var models = 50
    @Option(help: "Reports to time.") var repeats = 3
    @Option(help: "Loopback port for the controller (the Redfish stand-in takes the next one).") var port = 18_098
    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).") var output: String?

    func run() async throws {
        let standIn = try await RedfishStandIn.start(port: port + 1)
        let controller = try await ControllerProcess(port: port, extraEnvironment: ["METALPLANE_NODE_OPERATION_ATTEMPTS": "2"])
        defer { controller.stop() }
        let base = controller.baseURL
        let headers = [("Authorization", "Bearer \(try await controller.adminToken())"), ("Content-Type", "application/json")]
        func send(_ method: HTTPMethod, _ path: String, _ body: String? = nil) async throws -> HTTPCall.Reply {
            let reply = try await HTTPCall.send(method, base + path, headers: headers, body: body.map { Data($0.utf8) }, timeout: .seconds(300))
            guard (200..<300).contains(reply.status) else { throw CLIError.http(status: reply.status, body: reply.text) }
            return reply
        }
        print("enrolling \(nodes) nodes …")
        _ = try await NodesBenchCommand.enroll(count: nodes, clients: 16, base: base, headers: headers, standIn: standIn)
        while !((try await send(.GET, "/api/v1/nodes?state=inspecting&limit=1").json())["items"] as? [Any] ?? []).isEmpty {
            try await Task.sleep(for: .milliseconds(500))
        }
        let tenant = try await send(.POST, "/api/v1/tenants", #"{"name": "Bench cluster", "slug": "bench", "admin": {"username": "boss"}, "quota": {"nodes": \#(nodes)}, "network": {"vrfs": 0}}"#).json()
        let tenantID = (tenant["tenant"] as? [String: Any])?["id"] as? String ?? ""
        let org = try await send(.POST, "/api/v1/tenants/bench/orgs", #"{"name": "Inference", "slug": "inference"}"#).json()["id"] as? String ?? ""
        let project = try await send(.POST, "/api/v1/tenants/bench/orgs/\(org)/projects", #"{"name": "Serving", "slug": "serving"}"#).json()["id"] as? String ?? ""
        for batch in stride(from: 0, to: nodes, by: 500) {
            let names = (batch..<min(batch + 500, nodes)).map { "\"node-\($0)\"" }.joined(separator: ", ")
            _ = try await send(.POST, "/api/v1/tenants/bench/projects/\(project)/nodes", #"{"nodeNames": [\#(names)]}"#)
        }

        // The synthetic month: March 2026, written as the controller's loops would have left it.
        let monthStart: Int64 = 1_772_323_200_000
        let day: Int64 = 86_400_000
        print("writing a synthetic month: history, evictions, \(nodes * 5 + nodes * 2 * 3) series' daily rollups …")
        let database = try SQLiteDatabase(path: controller.dataDirectory + "/metalplane.sqlite", readerCount: 1, synchronous: "NORMAL")
        let nodeIDs = try await database.read { connection in
            try connection.query("SELECT id, name FROM nodes WHERE tenant_id = ? ORDER BY name", [.text(tenantID)]).map { (try $0.string("id"), try $0.string("name")) }
        }
        let written = ContinuousClock.now
        try await database.write { connection in
            for (index, (node, _)) in nodeIDs.enumerated() {
                let agent = "agent_bench_\(index)"
                try connection.execute("""
                    INSERT INTO agents (id, hostname, node_id, credential_hash, session_id, session_token_hash, state, registered_at, last_seen_at, created_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, 'lost', ?, ?, ?, 1)
                    """, [.text(agent), .text("host-\(index)"), .text(node), .text("bench-credential-\(index)"), .text("bench-session-\(index)"),
                          .text("bench-token-\(index)"), .integer(monthStart), .integer(monthStart), .integer(monthStart)])
                try connection.execute("INSERT INTO node_events (at, node_id, kind, state, tenant_id, project_id) VALUES (?, ?, 'agent', 'online', ?, ?)",
                                       [.integer(monthStart - day), .text(node), .text(tenantID), .text(project)])
                // One node in fifty is down for two hours in the month.
                if index % 50 == 7 {
                    for (offset, state) in [(Int64(index % 28) * day + 3_600_000, "lost"), (Int64(index % 28) * day + 3 * 3_600_000, "online")] {
                        try connection.execute("INSERT INTO node_events (at, node_id, kind, state, tenant_id, project_id) VALUES (?, ?, 'agent', ?, ?, ?)",
                                               [.integer(monthStart + offset), .text(node), .text(state), .text(tenantID), .text(project)])
                    }
                }
                for slot in 0..<2 {
                    let model = "bench/model-\((index * 2 + slot) % models)"
                    try connection.execute("""
                        INSERT INTO instance_events (at, instance_id, agent_id, project_id, placement_id, model_id, kind) VALUES (?, ?, ?, ?, ?, ?, 'placed')
                        """, [.integer(monthStart - day), .text("inst_bench_\(index)_\(slot)"), .text(agent), .text(project), .text("plc_bench_\(index)_\(slot)"), .text(model)])
                }
                if index % 4 == 0 {
                    try connection.execute("INSERT INTO evictions (at, node_id, agent_id, model_id, trigger, bytes) VALUES (?, ?, ?, ?, 'staging', ?)",
                                           [.integer(monthStart + Int64(index % 30) * day), .text(node), .text(agent), .text("bench/model-\(index % models)"),
                                            .integer(Int64(20) << 30)])
                }
            }
        }
        for dayIndex in 0..<31 {
            let at = monthStart + Int64(dayIndex) * day
            try await database.write { connection in
                func row(_ series: String, _ metric: String, node: String, model: String?, samples: Int64, total: Double, largest: Double) throws {
                    try connection.execute("""
                        INSERT INTO telemetry_daily (series_id, day, metric, node_id, model_id, project_id, tenant_id, samples, total, smallest, largest)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, [.text(series), .integer(at), .text(metric), .text(node), .text(model), .text(model == nil ? nil : project), .text(tenantID),
                              .integer(samples), .real(total), .real(0), .real(largest)])
                }
                for (index, (node, _)) in nodeIDs.enumerated() {
                    let wave = sin(Double(dayIndex + index) / 5)
                    try row("n\(index)w", "node_accelerator_watts", node: node, model: nil, samples: 1440, total: 1440 * (4_800 + 600 * wave), largest: 5_600)
                    try row("n\(index)c", "node_accelerator_celsius_max", node: node, model: nil, samples: 1440, total: 1440 * 68, largest: 72 + 10 * wave)
                    try row("n\(index)t", "node_throttled_fraction", node: node, model: nil, samples: 1440, total: 1440 * (index % 97 == 3 ? 0.05 : 0.004), largest: 0.2)
                    try row("n\(index)e", "node_throttle_events", node: node, model: nil, samples: 1440, total: index % 97 == 3 ? 300 : 4, largest: 3)
                    try row("n\(index)u", "node_cpu_utilization", node: node, model: nil, samples: 1440, total: 1440 * 0.6, largest: 0.9)
                    for slot in 0..<2 {
                        let model = "bench/model-\((index * 2 + slot) % models)"
                        let tokens = 1440 * 600_000 * (1 + 0.3 * wave) * (slot == 0 ? 1 : 0.4)
                        try row("m\(index)_\(slot)t", "model_tokens", node: node, model: model, samples: 1440, total: tokens, largest: tokens / 1000)
                        try row("m\(index)_\(slot)r", "model_requests", node: node, model: model, samples: 1440, total: tokens / 900, largest: tokens / 900_000)
                        try row("m\(index)_\(slot)k", "model_kv_cache_hit_rate", node: node, model: model, samples: 1440,
                                total: 1440 * (model.hasSuffix("-7") ? 0.42 : 0.9), largest: 1)
                    }
                }
                try connection.execute("INSERT INTO telemetry_daily_days (day, series, rolled_at) VALUES (?, ?, ?)", [.integer(at), .integer(Int64(nodeIDs.count * 11)), .integer(at)])
            }
        }
        let writeSeconds = Double((ContinuousClock.now - written).components.seconds)
        print("written in \(Int(writeSeconds)) s; making the monthly report \(repeats) times …")
        var timing = LatencySample()
        var pdfBytes = 0
        var figures = 0
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            let reply = try await send(.POST, "/api/v1/tenants/bench/reports", #"{"kind": "monthly", "at": \#(monthStart + 15 * day)}"#)
            timing.record(since: start)
            figures = reply.body.count
            let id = ((try reply.json())["report"] as? [String: Any])?["id"] as? String ?? ""
            pdfBytes = try await send(.GET, "/api/v1/tenants/bench/reports/\(id)/pdf").body.count
        }
        let section = """
            ## Reports: the monthly report of a large cluster

            Command: `swift build -c release && .build/release/metalplane bench reports --nodes \(nodes) --models \(models) --output docs/benchmarks.md`
            (a **synthetic** month written into the controller's store as its loops would leave it: \(nodes) nodes allocated to one tenant,
            \(nodes * 2) instances of \(models) models, agent outages, evictions, and each series' daily rollups (\(nodes * 11) series × 31 days);
            then `POST /api/v1/tenants/bench/reports` makes the monthly report through the real controller: gathering, figures, typst PDF, kept.)

            | measure | p50 s | max s |
            |---|---:|---:|
            | monthly report, figures and PDF (\(repeats) runs) | \(String(format: "%.2f", timing.percentile(50) / 1000)) | \(String(format: "%.2f", timing.percentile(100) / 1000)) |

            Figures \(figures / 1024) KiB of JSON, PDF \(pdfBytes / 1024) KiB. Target (issue 20): under 10 s.

            """
        print(section)
        if let output { try BenchReport.replaceSection("reports", with: section, in: output) }
    }
}
