import ControllerClient
import Foundation

/// `metalplane bench router --fleet`: the router bench across hosts. The harness's stub runs on a
/// node host (n1) and answers on its data address; the controller, vllm-router and the load
/// generator run on the controller host, so both routers reach the same upstream over the veth
/// fabric, as a router reaches engines in production. "direct" is the load generator reaching the
/// stub across the same fabric (kernel NAT turns the harness's 127.0.0.1:18000 into n1's data
/// address; no process sits in any measured path).
struct RouterFleetBench {
    let command: RouterBenchCommand
    let anchorsDir: String

    func run() async throws {
        let fleet = try await BenchFleet(nodes: 1, script: command.fleetScript)
        defer { fleet.down() }
        let stubPort = RouterBenchCommand.stubPort
        let upstream = "\(BenchFleet.dataAddress(node: 1)):\(stubPort)"
        try fleet.spawn(on: "n1", [command.cache + "/stub-target/release/stub", "\(stubPort)"])
        try await fleet.exposeLoopback(on: "n1", port: stubPort)
        try await fleet.natLoopback(on: "ctl", port: stubPort, to: upstream, outgoing: "data0")
        let controller = try await ControllerProcess(
            port: command.port, extraEnvironment: ["METALPLANE_AGENT_HEARTBEAT_SECONDS": "1"], launcher: fleet.launcher("ctl"),
            listen: "0.0.0.0:\(command.port)", reachedAt: try await fleet.operatorURL("\(BenchFleet.controllerAddress):\(command.port)"))
        defer { controller.stop() }
        let world = try await RouterBenchWorld.make(controller: controller, endpoint: "http://\(upstream)", model: RouterBenchCommand.model)
        defer { world.stop() }
        try fleet.spawn(on: "ctl", [command.cache + "/vllm-router/bin/vllm-router", "--host", "127.0.0.1", "--port", "18002",
                                    "--worker-urls", "http://\(upstream)", "--policy", "round_robin", "--log-level", "warning"])
        for (port, key) in [(stubPort, "x"), (18002, "x"), (command.port, world.apiKey)] {
            try await waitForChat(fleet, port: port, key: key)
        }
        let (tables, verdict) = try await command.harness(anchorsDir: anchorsDir, targets: ["vllm-router=18002", "metalplane=\(command.port):\(world.apiKey):\(RouterBenchCommand.model)"],
                                                          launcher: fleet.launcher("ctl"))
        let traced = try await world.tracedCount()
        let accounted = try await world.accountedRequests()
        let section = """
            ## Router overhead across hosts, beside vllm-router

            Command: `../shared/bench/router-anchors/setup.sh && swift build -c release && sudo .build/release/metalplane bench router --fleet --duration \(command.duration) --output docs/benchmarks.md`

            The same harness and stub as above, but on the test fleet of `scripts/fleet-net.sh` (network namespaces around a routed, filtered
            fabric): the stub on the node host n1, answering on its data address 10.67.11.2; the controller, vllm-router and the load generator
            on the controller host. Both routers reach the stub over the veth fabric, as the router reaches engines in production; "direct" is the
            load generator reaching the stub over the same fabric. Metalplane's replica is an instance reported by a **simulated agent** whose
            engine endpoint is the stub; the production path is on: the project's API key, the engine key sent upstream, usage accounting and
            tracing (\(traced) traces recorded, \(accounted) requests accounted).

            \(tables)

            Targets (issue 15: at least as good as vllm-router in the same run):

            \(verdict.markdown)
            """
        print(section)
        if let output = command.output { try BenchReport.replaceSection("router-fleet", with: section, in: output) }
    }

    /// Waits until a chat completion on the controller host's 127.0.0.1:`port` answers 200 (30 s).
    private func waitForChat(_ fleet: BenchFleet, port: Int, key: String) async throws {
        let body = #"{"model": "\#(RouterBenchCommand.model)", "messages": [{"role": "user", "content": "hi"}]}"#
        var last = ""
        for _ in 0..<150 {
            let reply = try await fleet.run(on: "ctl", ["curl", "-sS", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/chat/completions",
                                                        "-H", "Authorization: Bearer \(key)", "-H", "Content-Type: application/json", "-d", body])
            if reply.output.hasSuffix("200") { return }
            last = reply.output
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError.io("nothing answered a chat completion on the controller host's port \(port): \(last)")
    }
}
