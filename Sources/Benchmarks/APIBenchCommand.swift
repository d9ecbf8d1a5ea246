import NIOHTTP1
import NIOCore
import ArgumentParser
import Foundation
import ControllerClient

/// `metalplane bench api`: authenticated reads and durable writes against a real controller,
/// beside the same server's unauthenticated static route as the baseline.
struct APIBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Load a real controller with wrk: static baseline, authenticated reads (JWT and API key), durable writes.")

    @OptionGroup var load: APILoadOptions

    var duration: Int { load.duration }
    var connections: Int { load.connections }
    var port: Int { load.port }
    var output: String? { load.output }

    func run() async throws {
        let controller = try await ControllerProcess(port: port)
        defer { controller.stop() }
        print("Controller on \(controller.baseURL); \(duration) s per scenario, \(connections) connections, wrk -t2")
        let runs = try await Self.measure(controller, seconds: duration, connections: connections)
        let section = markdown(runs)
        print(section)
        if let output { try BenchReport.replaceSection("api", with: section, in: output) }
    }

    /// The four scenarios against `controller`: the static baseline, reads with a JWT and with an API key, durable writes.
    static func measure(_ controller: ControllerProcess, seconds: Int, connections: Int) async throws -> [WrkRun] {
        try await measure(base: controller.baseURL, accessToken: try await controller.adminToken(), seconds: seconds, connections: connections)
    }

    /// The same against any base URL (a balancer in front of replicas), with an admin's access token for it.
    static func measure(base: String, accessToken: String, seconds: Int, connections: Int) async throws -> [WrkRun] {
        let created = try await HTTPCall.send(.POST, base + "/api/v1/api-keys",
                                              headers: [("Authorization", "Bearer \(accessToken)"), ("Content-Type", "application/json")],
                                              body: Data(#"{"name":"bench-reader","roles":["viewer"]}"#.utf8))
        guard created.status == 201, let apiKey = try created.json()["key"] as? String,
              let keyID = (try created.json()["apiKey"] as? [String: Any])?["id"] as? String else {
            throw CLIError.http(status: created.status, body: created.text)
        }
        let scripts = FileManager.default.temporaryDirectory.appendingPathComponent("metalplane-bench-scripts-\(getpid())")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scripts) }
        func script(_ name: String, _ body: String) throws -> String {
            let url = scripts.appendingPathComponent(name)
            try body.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let jwtRead = try script("jwt.lua", #"wrk.headers["Authorization"] = "Bearer \#(accessToken)""#)
        let keyRead = try script("key.lua", #"wrk.headers["Authorization"] = "Bearer \#(apiKey)""#)
        let write = try script("write.lua", """
            wrk.method = "POST"
            wrk.body = '{"name":"bench-writer","roles":["viewer"]}'
            wrk.headers["Content-Type"] = "application/json"
            wrk.headers["Authorization"] = "Bearer \(accessToken)"
            """)
        var runs: [WrkRun] = []
        for (name, path, file) in [("baseline: GET /healthz (no auth, no store)", "/healthz", nil as String?),
                                   ("GET /api/v1/api-keys/{id} with a JWT", "/api/v1/api-keys/\(keyID)", jwtRead),
                                   ("GET /api/v1/api-keys/{id} with an API key", "/api/v1/api-keys/\(keyID)", keyRead),
                                   ("POST /api/v1/api-keys (durable write + audit)", "/api/v1/api-keys", write)] {
            let run = try await WrkRun.run(name: name, url: base + path, seconds: seconds, connections: connections, script: file)
            print(String(format: "%-48@ %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d", run.name as NSString,
                         run.requestsPerSecond, run.p50Millis, run.p99Millis, run.errors))
            runs.append(run)
        }
        return runs
    }

    private func markdown(_ runs: [WrkRun]) -> String {
        let baseline = runs[0].requestsPerSecond
        var lines = [
            "## API: authenticated reads and durable writes",
            "",
            "Command: `swift build -c release && .build/release/metalplane bench api --duration \(duration) --connections \(connections) --output docs/benchmarks.md`",
            "(wrk -t2 -c\(connections) on loopback, same 2-core machine as the controller; SQLite synchronous=FULL).",
            "",
            "| scenario | requests/s | vs baseline | p50 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for run in runs {
            lines.append(String(format: "| %@ | %.0f | %.2f× | %.2f | %.2f | %d |", run.name as NSString, run.requestsPerSecond,
                                baseline > 0 ? run.requestsPerSecond / baseline : 0, run.p50Millis, run.p99Millis, run.errors))
        }
        lines += ["", "Targets (issue 3): ≥ 5,000 authenticated reads/s and ≥ 1,000 durable writes/s."]
        return lines.joined(separator: "\n")
    }
}

/// The load both API benches put on a controller (`bench api`, `bench store`).
struct APILoadOptions: ParsableArguments {
    @Option(help: "Seconds per scenario.")
    var duration = 10

    @Option(help: "Concurrent connections.")
    var connections = 32

    @Option(help: "Loopback port for the controller under test.")
    var port = 18_090

    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).")
    var output: String?
}

/// Replaces one marked section of a Markdown report, keeping the others.
enum BenchReport {
    static func replaceSection(_ name: String, with body: String, in path: String) throws {
        let start = "<!-- bench:\(name):start -->"
        let end = "<!-- bench:\(name):end -->"
        let block = "\(start)\n\(body)\n\(end)"
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Benchmarks\n"
        if let lower = text.range(of: start), let upper = text.range(of: end), lower.lowerBound < upper.upperBound {
            text.replaceSubrange(lower.lowerBound..<upper.upperBound, with: block)
        } else {
            text += "\n" + block + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
