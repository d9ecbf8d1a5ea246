import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import ControllerClient

/// `metalplane bench nodes`: enroll a fleet over the API, inspect it, list it with filters and
/// allocate from it, beside `/healthz` measured in the same run as the baseline.
struct NodesBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "Enroll N nodes (8 accelerators each, three vendors), list with filters, allocate 64 accelerators; p50/p99.")

    @Option(help: "Nodes to enroll.")
    var count = 10_000

    @Option(help: "Concurrent enrollment clients.")
    var clients = 16

    @Option(help: "Allocations of 64 accelerators to time.")
    var allocations = 20

    @Option(help: "Loopback port for the controller under test (the Redfish stand-in takes the next one).")
    var port = 18_092

    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).")
    var output: String?

    /// Node i's accelerators: half NVIDIA H100, three tenths AMD MI300X, a fifth Intel Gaudi3, 8 per node.
    static func accelerator(_ index: Int) -> (vendor: String, model: String, memoryMiB: Int, interconnect: String) {
        switch index % 10 {
        case 0..<5: ("nvidia", "H100", 81_559, "NVLink")
        case 5..<8: ("amd", "MI300X", 196_608, "xGMI")
        default: ("intel", "Gaudi3", 131_072, "PCIe")
        }
    }

    func run() async throws {
        let standIn = try await RedfishStandIn.start(port: port + 1)
        let controller = try await ControllerProcess(port: port, extraEnvironment: ["METALPLANE_NODE_OPERATION_ATTEMPTS": "2"])
        defer { controller.stop() }
        let base = controller.baseURL
        let token = try await controller.adminToken()
        let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        let memoryBefore = controller.residentMiB

        func get(_ path: String) async throws -> [String: Any] {
            let reply = try await HTTPCall.send(.GET, base + path, headers: headers)
            guard reply.status == 200 else { throw CLIError.http(status: reply.status, body: reply.text) }
            return try reply.json()
        }
        func timed(_ path: String, times: Int = 200, expect items: Int? = nil) async throws -> LatencySample {
            var sample = LatencySample()
            for _ in 0..<times {
                let start = DispatchTime.now()
                let body = try await get(path)
                sample.record(since: start)
                if let items, (body["items"] as? [Any])?.count != items { throw CLIError.io("\(path) gave \((body["items"] as? [Any])?.count ?? -1) items, expected \(items)") }
            }
            return sample
        }

        let baseline = try await timed("/healthz")

        print("enrolling \(count) nodes with \(clients) clients …")
        let began = DispatchTime.now()
        let enrollments = try await Self.enroll(count: count, clients: clients, base: base, headers: headers, standIn: standIn, progress: true)
        let enrollSeconds = Self.seconds(since: began)

        print("waiting for inspection …")
        while !((try await get("/api/v1/nodes?state=inspecting&limit=1"))["items"] as? [Any] ?? []).isEmpty {
            try await Task.sleep(for: .milliseconds(500))
        }
        let inspectSeconds = Self.seconds(since: began) - enrollSeconds
        if let failed = (try await get("/api/v1/nodes?state=failed&limit=1"))["items"] as? [[String: Any]], let first = failed.first {
            throw CLIError.io("inspection failed: \(first["lastError"] ?? "?")")
        }
        let memoryAfter = controller.residentMiB

        print("listing …")
        let unfiltered = try await timed("/api/v1/nodes?limit=100", expect: 100)
        let byModel = try await timed("/api/v1/nodes?vendor=nvidia&model=H100&state=available&limit=100", expect: 100)
        let byVendor = try await timed("/api/v1/nodes?vendor=intel&fabric=fabric-\(max(count / 250 - 1, 0))&limit=100")

        print("allocating …")
        let tenant = """
            {"name": "Bench", "slug": "bench", "admin": {"username": "bench-admin"},
             "quota": {"accelerators": {"nvidia/H100": \(64 * allocations)}}, "network": {"vrfs": 1, "vlansPerVrf": 2}}
            """
        let created = try await HTTPCall.send(.POST, base + "/api/v1/tenants", headers: headers, body: Data(tenant.utf8), timeout: .seconds(60))
        guard created.status == 201 else { throw CLIError.http(status: created.status, body: created.text) }
        let org = try await HTTPCall.send(.POST, base + "/api/v1/tenants/bench/orgs", headers: headers, body: Data(#"{"name": "Research", "slug": "research"}"#.utf8))
        guard org.status == 201, let orgID = try org.json()["id"] as? String else { throw CLIError.http(status: org.status, body: org.text) }
        let project = try await HTTPCall.send(.POST, base + "/api/v1/tenants/bench/orgs/\(orgID)/projects", headers: headers,
                                              body: Data(#"{"name": "Training", "slug": "training"}"#.utf8))
        guard project.status == 201, let projectID = try project.json()["id"] as? String else { throw CLIError.http(status: project.status, body: project.text) }
        var allocation = LatencySample()
        for _ in 0..<allocations {
            let start = DispatchTime.now()
            let reply = try await HTTPCall.send(.POST, base + "/api/v1/tenants/bench/projects/\(projectID)/nodes", headers: headers,
                                                body: Data(#"{"vendor": "nvidia", "model": "H100", "count": 64}"#.utf8))
            allocation.record(since: start)
            guard reply.status == 201, (try reply.json()["nodes"] as? [Any])?.count == 8 else { throw CLIError.http(status: reply.status, body: reply.text) }
        }
        let tenantID = try created.json()["tenant"].flatMap { ($0 as? [String: Any])?["id"] as? String } ?? "bench"
        let byTenant = try await timed("/api/v1/nodes?tenantId=\(tenantID)&limit=100", expect: min(100, 8 * allocations))

        func row(_ name: String, _ sample: LatencySample) -> String {
            String(format: "| %@ | %.2f | %.2f | %.1f× |", name, sample.percentile(50), sample.percentile(99),
                   sample.percentile(50) / max(baseline.percentile(50), 0.001))
        }
        let section = """
            ## Nodes: enroll, inspect, list with filters, allocate

            Command: `swift build -c release && .build/release/metalplane bench nodes --count \(count) --output docs/benchmarks.md`
            (\(count) nodes with 8 accelerators each, \(count * 8) in all: half NVIDIA H100, three tenths AMD MI300X, a fifth Intel
            Gaudi3, on \(max(count / 250, 1)) fabrics; enrolled over HTTP by \(clients) concurrent clients, each node inspected through a
            Redfish **stand-in** served by the bench process (one GET per node; the tests use sushy-tools, a real emulator, which
            cannot hold 10,000 systems); SQLite synchronous=FULL; the real controller binary on loopback).

            | measure | p50 ms | p99 ms | vs baseline p50 |
            |---|---:|---:|---:|
            \(row("baseline: GET /healthz", baseline))
            \(row("POST /api/v1/nodes (enroll, \(clients) clients)", enrollments))
            \(row("GET /api/v1/nodes?limit=100 (no filter)", unfiltered))
            \(row("GET /api/v1/nodes?vendor=nvidia&model=H100&state=available&limit=100", byModel))
            \(row("GET /api/v1/nodes?vendor=intel&fabric=…&limit=100", byVendor))
            \(row("GET /api/v1/nodes?tenantId=…&limit=100", byTenant))
            \(row("POST …/projects/{p}/nodes, 64 H100 = 8 nodes (\(allocations) in a row)", allocation))

            Enrollment: \(String(format: "%.0f", Double(count) / enrollSeconds)) nodes/s (\(count) in \(String(format: "%.1f", enrollSeconds)) s);
            inspection finished \(String(format: "%.1f", inspectSeconds)) s after the last enrollment.
            Controller memory: \(String(format: "%.0f", memoryBefore)) MiB before, \(String(format: "%.0f", memoryAfter)) MiB with the fleet.
            Targets (issue 5): filtered list of 100 nodes under 20 ms p50; allocation of 64 accelerators under 50 ms.

            Both filters are index lookups (`node_accelerators (vendor, model, node_id)`, `nodes (state, id)`); the time of a
            list page is spent decoding and encoding the 100 node documents. Allocation reads only id, fabric and accelerator
            count of the candidates and loads the 8 chosen nodes, then consumes quota and writes them in one transaction, so it
            reads small index rows for the fleet, never the fleet's node documents.
            """
        print(section)
        if let output { try BenchReport.replaceSection("nodes", with: section, in: output) }
    }

    /// Enrolls `count` nodes (8 accelerators each, `accelerator(_:)`'s mix, 25 to a rack, 250 to a fabric) with `clients`
    /// concurrent clients, each inspected through the stand-in; answers the enrollment latencies.
    static func enroll(count: Int, clients: Int, base: String, headers: [(String, String)], standIn: RedfishStandIn,
                       progress: Bool = false) async throws -> LatencySample {
        try await withThrowingTaskGroup(of: LatencySample.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var sample = LatencySample()
                    for index in stride(from: client, to: count, by: clients) {
                        let device = Self.accelerator(index)
                        let body = """
                            {"name": "node-\(index)", "rack": "rack-\(index / 25)", "fabric": "fabric-\(index / 250)",
                             "bmc": {"address": "\(standIn.systemURL(index))", "username": "bench", "password": "bench-\(index)"},
                             "accelerators": [{"vendor": "\(device.vendor)", "model": "\(device.model)", "memoryMiB": \(device.memoryMiB),
                                               "count": 8, "interconnect": "\(device.interconnect)"}]}
                            """
                        let start = DispatchTime.now()
                        let reply = try await HTTPCall.send(.POST, base + "/api/v1/nodes", headers: headers, body: Data(body.utf8))
                        guard reply.status == 202 else { throw CLIError.http(status: reply.status, body: reply.text) }
                        sample.record(since: start)
                        if progress, client == 0, (index / clients) % 500 == 0 { print("  enrolled ~\(index)/\(count)") }
                    }
                    return sample
                }
            }
            var all = LatencySample()
            for try await sample in group { all.merge(sample) }
            return all
        }
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
