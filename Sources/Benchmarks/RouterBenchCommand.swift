import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NodeContract
import ControllerClient

/// `metalplane bench router`: Metalplane's router beside the fastest existing routers, in the shared
/// harness (../shared/bench/router-anchors): one constant upstream (the harness's stub), measured
/// directly, through vllm-router and through a real controller, interleaved in one run.
///
/// The controller's replica is an instance reported by a **simulated agent** (this process) whose
/// engine endpoint is the stub; the request path is the production one: API-key authentication,
/// usage accounting and tracing switched on.
struct RouterBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Router overhead against the stub upstream, vllm-router and sglang-router, with the shared router-anchors harness.")

    @Option(help: "The router-anchors harness folder (bench.sh, its stub and scripts).") var anchors = "../shared/bench/router-anchors"
    @Option(help: "Where the harness's setup.sh installed the anchors.") var cache = FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/router-anchors"
    @Option(help: "Seconds per measurement (the harness's DUR).") var duration = 15
    @Option(help: "Loopback port for the controller under test.") var port = 18_094
    @Option(help: "Also measure sglang-router.") var sglang = false
    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).") var output: String?
    @Flag(help: "Set up the controller and the anchors, print how to reach them, and wait (for profiling by hand) instead of running the harness.")
    var hold = false
    @Flag(help: "Across hosts (root): the stub on a node host, both routers and the load on the controller host, over the veth fabric of scripts/fleet-net.sh.")
    var fleet = false
    @Option(name: .customLong("fleet-script"), help: "scripts/fleet-net.sh (default: found beside the binary's checkout).") var fleetScript: String?

    static let stubPort = 18_000
    /// The name clients call: the harness sends `"model": "stub"` to every router (its MODEL setting
    /// does not reach wrk), so the instance serves `bench/stub` under that name.
    static let model = "stub"

    func run() async throws {
        let anchorsDir = URL(fileURLWithPath: anchors).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: anchorsDir + "/bench.sh") else { throw CLIError.io("no harness at \(anchorsDir) (--anchors)") }
        guard FileManager.default.isExecutableFile(atPath: cache + "/stub-target/release/stub") else {
            throw CLIError.io("the anchors are not installed: run \(anchorsDir)/setup.sh first")
        }
        if fleet { return try await RouterFleetBench(command: self, anchorsDir: anchorsDir).run() }
        // The stub first: the anchor routers check their worker when they start.
        let stub = try Self.spawn(cache + "/stub-target/release/stub", ["\(Self.stubPort)"])
        defer { Self.kill(stub) }
        let controller = try await ControllerProcess(port: port, extraEnvironment: ["METALPLANE_AGENT_HEARTBEAT_SECONDS": "1"])
        defer { controller.stop() }
        let world = try await RouterBenchWorld.make(controller: controller, endpoint: "http://127.0.0.1:\(Self.stubPort)", model: Self.model)
        defer { world.stop() }
        var targets = ["vllm-router=18002", "metalplane=\(port):\(world.apiKey):\(Self.model)"]
        var anchorsRunning = [try Self.spawn(cache + "/vllm-router/bin/vllm-router",
                                             ["--host", "127.0.0.1", "--port", "18002", "--worker-urls", "http://127.0.0.1:\(Self.stubPort)",
                                              "--policy", "round_robin", "--log-level", "warning"])]
        if sglang {
            anchorsRunning.append(try Self.spawn(cache + "/sglang-router/bin/sglang-router",
                                                 ["launch", "--host", "127.0.0.1", "--port", "18003", "--worker-urls", "http://127.0.0.1:\(Self.stubPort)",
                                                  "--policy", "round_robin", "--log-level", "warn"]))
            targets.insert("sglang-router=18003", at: 1)
        }
        defer { anchorsRunning.forEach(Self.kill) }
        try await Self.waitForChat(port: 18002, key: "x")
        if sglang { try await Self.waitForChat(port: 18003, key: "x") }
        try await Self.waitForChat(port: port, key: world.apiKey)

        if hold {
            FileHandle.standardError.write(Data("""
                holding: stub http://127.0.0.1:\(Self.stubPort), vllm-router http://127.0.0.1:18002, metalplane http://127.0.0.1:\(port)
                API key: \(world.apiKey)   model: \(Self.model)   (Ctrl-C ends)

                """.utf8))
            try await Task.sleep(for: .seconds(86_400))
        }
        let (tables, verdict) = try await harness(anchorsDir: anchorsDir, targets: targets)
        let traced = try await world.tracedCount()
        let accounted = try await world.accountedRequests()
        let section = """
            ## Router overhead beside vllm-router\(sglang ? " and sglang-router" : "")

            Command: `../shared/bench/router-anchors/setup.sh && swift build -c release && .build/release/metalplane bench router --duration \(duration) --output docs/benchmarks.md`

            The shared harness (`../shared/bench/router-anchors/bench.sh`) drives one constant upstream (its stub) directly, through
            vllm-router\(sglang ? ", through sglang-router" : "") and through a real `metalplane controller`, interleaved A B C / C B A in one run, all on this
            2-core machine with the load generator. Metalplane's replica is an instance reported by a **simulated agent** whose engine endpoint
            is the stub. Requests go through the production path: the project's API key, usage accounting, and tracing switched on
            (\(traced) traces recorded during the run, \(accounted) requests accounted).
            The router answers in the HTTP pipeline (`RouterChannelHandler`), ahead of Hummingbird's per-request tasks, with a keep-alive
            pool to the engine on the same event loop. Differences under about 0.05 ms or 20% are noise on this machine: two runs
            of vllm-router alone here differed by 0.1 ms p50 at concurrency 1 and by 40% in requests/s.

            \(tables)

            Targets (issue 7), Metalplane against vllm-router in this run:

            \(verdict.markdown)
            """
        print(section)
        if let output { try BenchReport.replaceSection("router", with: section, in: output) }
    }

    /// Runs the shared harness against `targets` (on a fleet host when `launcher` says so); returns its
    /// tables and the verdict against vllm-router.
    func harness(anchorsDir: String, targets: [String], launcher: [String] = []) async throws -> (tables: String, verdict: RouterBenchVerdict) {
        print("running \(anchorsDir)/bench.sh (2 rounds, \(duration) s per measurement; about \(duration * (sglang ? 16 : 12) / 60 + 2) minutes) …")
        let harness = Process()
        harness.executableURL = URL(fileURLWithPath: launcher.first ?? "/bin/bash")
        harness.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + ["/bin/bash"]) + [anchorsDir + "/bench.sh"] + targets
        harness.currentDirectoryURL = URL(fileURLWithPath: anchorsDir)
        harness.environment = ProcessInfo.processInfo.environment.merging(["DUR": "\(duration)", "CACHE": cache]) { $1 }
        let printed = try await ChildOutput.run(harness).output
        // The exit status is not used: the harness's trap fails when its own stub could not bind (ours holds the port).
        guard let source = printed.split(separator: "\n").first(where: { $0.hasPrefix("source: ") }) else {
            throw CLIError.io("bench.sh failed:\n\(printed)")
        }
        let verdict = try RouterBenchVerdict(resultsFile: anchorsDir + "/" + source.dropFirst("source: ".count))
        let tables = printed.split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.hasPrefix("###") }.joined(separator: "\n")
        return (tables, verdict)
    }

    static func spawn(_ path: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func kill(_ process: Process) { ChildOutput.stop(process) }

    /// Waits until a chat completion through the router on `port` answers 200 (30 s).
    static func waitForChat(port: Int, key: String) async throws {
        let body = Data(#"{"model": "\#(model)", "messages": [{"role": "user", "content": "hi"}]}"#.utf8)
        let deadline = Date().addingTimeInterval(30)
        var last = "no answer"
        while Date() < deadline {
            if let reply = try? await HTTPCall.send(.POST, "http://127.0.0.1:\(port)/v1/chat/completions",
                                                    headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")], body: body,
                                                    timeout: .seconds(2)) {
                if reply.status == 200 { return }
                last = "\(reply.status) \(reply.text)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError.io("the router on port \(port) did not answer a chat completion: \(last)")
    }
}
