import ArgumentParser
import ControllerClient
import Foundation
import NIOCore
import NIOHTTP1

/// `metalplane bench fabric`: programming and reconciling a large fabric through the API, with the
/// RECORDING driver (no switch: it keeps what it is given and reads it back), beside `/healthz`.
struct FabricBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fabric",
        abstract: "Reconcile a fabric of N cabled ports (recording driver: no switch) and allocate 8 nodes at a time with their port changes; p50/p99.")

    @Option(help: "Nodes, each cabled to one port of the switch.") var ports = 10_000
    @Option(help: "Concurrent enrollment clients.") var clients = 16
    @Option(help: "Full reconcile passes to time.") var passes = 20
    @Option(help: "Allocations of 8 nodes to time.") var allocations = 20
    @Option(help: "Loopback port for the controller under test (the Redfish stand-in takes the next one).") var port = 18_094
    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).") var output: String?

    func run() async throws {
        let standIn = try await RedfishStandIn.start(port: port + 1)
        // The background pass is slowed so only the timed calls program the switch.
        let controller = try await ControllerProcess(port: port, extraEnvironment: ["METALPLANE_FABRIC_RECONCILE_SECONDS": "3600"])
        defer { controller.stop() }
        let base = controller.baseURL
        let headers = [("Authorization", "Bearer \(try await controller.adminToken())"), ("Content-Type", "application/json")]
        func send(_ method: HTTPMethod, _ path: String, _ body: String? = nil, expect: Int = 200) async throws -> [String: Any] {
            let reply = try await HTTPCall.send(method, base + path, headers: headers, body: body.map { Data($0.utf8) }, timeout: .seconds(120))
            guard reply.status == expect else { throw CLIError.http(status: reply.status, body: String(reply.text.prefix(2000))) }
            return (try? reply.json()) ?? [:]
        }
        var baseline = LatencySample()
        for _ in 0..<200 {
            let start = DispatchTime.now()
            _ = try await send(.GET, "/healthz")
            baseline.record(since: start)
        }

        print("enrolling \(ports) nodes …")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    for index in stride(from: client, to: ports, by: clients) {
                        _ = try await send(.POST, "/api/v1/nodes", """
                            {"name": "node-\(index)", "bmc": {"address": "\(standIn.systemURL(index))", "username": "bench", "password": "bench-\(index)"},
                             "accelerators": [{"vendor": "nvidia", "model": "H100", "memoryMiB": 81559, "count": 8, "interconnect": "NVLink"}]}
                            """, expect: 202)
                    }
                }
            }
            try await group.waitForAll()
        }
        while !((try await send(.GET, "/api/v1/nodes?state=inspecting&limit=1"))["items"] as? [Any] ?? []).isEmpty {
            try await Task.sleep(for: .milliseconds(500))
        }

        print("adding a switch with \(ports) cabled ports …")
        let cabling = (0..<ports).map { #"{"port": "p\#($0)", "node": "node-\#($0)", "nodeInterface": "data0"}"# }.joined(separator: ",")
        let addStart = DispatchTime.now()
        _ = try await send(.POST, "/api/v1/fabric/switches", #"{"name": "bench-leaf", "driver": "recording", "endpoint": "recording://bench-leaf", "token": "recording-token-0123456789", "cabling": [\#(cabling)]}"#, expect: 201)
        let addMillis = Double(DispatchTime.now().uptimeNanoseconds - addStart.uptimeNanoseconds) / 1e6

        _ = try await send(.POST, "/api/v1/tenants", """
            {"name": "Bench", "slug": "bench", "admin": {"username": "bench-admin"},
             "quota": {"accelerators": {"nvidia/H100": \(64 * allocations)}}, "network": {"vrfs": 1, "vlansPerVrf": 2}}
            """, expect: 201)
        let org = try await send(.POST, "/api/v1/tenants/bench/orgs", #"{"name": "Research", "slug": "research"}"#, expect: 201)["id"] as? String ?? ""
        let project = try await send(.POST, "/api/v1/tenants/bench/orgs/\(org)/projects", #"{"name": "Training", "slug": "training"}"#, expect: 201)["id"] as? String ?? ""

        print("allocating …")
        var allocation = LatencySample()
        for _ in 0..<allocations {
            let start = DispatchTime.now()
            let reply = try await send(.POST, "/api/v1/tenants/bench/projects/\(project)/nodes", #"{"vendor": "nvidia", "model": "H100", "count": 64}"#, expect: 201)
            allocation.record(since: start)
            guard (reply["nodes"] as? [Any])?.count == 8 else { throw CLIError.io("allocation gave \(reply)") }
        }

        print("reconciling …")
        var fullPass = LatencySample()
        for _ in 0..<passes {
            let start = DispatchTime.now()
            let reply = try await send(.POST, "/api/v1/fabric/reconcile")
            fullPass.record(since: start)
            let entries = reply["switches"] as? [[String: Any]] ?? []
            guard entries.count == 1, entries[0]["error"] is NSNull || entries[0]["error"] == nil, entries[0]["changedPorts"] as? Int == 0 else {
                throw CLIError.io("an in-sync pass changed something: \(entries)")
            }
        }
        let view = try await send(.GET, "/api/v1/fabric/switches/bench-leaf")
        let trunks = (view["ports"] as? [[String: Any]] ?? []).filter { $0["mode"] as? String == "trunk" && $0["inSync"] as? Bool == true }.count
        guard trunks == 8 * allocations else { throw CLIError.io("\(trunks) ports in tenant segments, expected \(8 * allocations)") }

        func row(_ name: String, _ sample: LatencySample) -> String {
            String(format: "| %@ | %.2f | %.2f | %.1f× |", name, sample.percentile(50), sample.percentile(99), sample.percentile(50) / max(baseline.percentile(50), 0.001))
        }
        let section = """
            ## Fabric: reconciling \(ports) ports, allocating with port changes

            Command: `swift build -c release && .build/release/metalplane bench fabric --ports \(ports) --output docs/benchmarks.md`
            (\(ports) enrolled nodes, each cabled to a port of one switch driven by the **recording driver** — no switch: it keeps
            the configuration it is given and reads it back — so the figures are the controller's own work: desired state from the
            allocations, read-back, comparison, status written. The real controller binary on loopback, SQLite synchronous=FULL.)

            | measure | p50 ms | p99 ms | vs baseline p50 |
            |---|---:|---:|---:|
            \(row("baseline: GET /healthz", baseline))
            \(row("POST /api/v1/fabric/reconcile (a full pass over \(ports) ports, in sync)", fullPass))
            \(row("POST …/projects/{p}/nodes, 8 nodes, with their ports moved into the tenant's VLANs", allocation))

            Adding the switch with its \(ports)-port cabling plan and its first full programming: \(String(format: "%.0f", addMillis)) ms.
            After the run, \(trunks) ports carry the tenant's two VLANs and every port reads back in sync.
            Targets (issue 16): a full reconcile pass under 1 s; allocation of 8 nodes including the port changes under 100 ms p50.
            """
        print(section)
        if let output { try BenchReport.replaceSection("fabric", with: section, in: output) }
    }
}
