import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// A controller and its nodes on separate hosts of a fleet, as an operator sets them up: each node
/// enrolled from its own BMC (sushy-tools on the node's BMC address), allocated to a tenant's
/// project, and joined by its agent over the management network; engines listen on the nodes' data
/// addresses. The model store holds SmolLM2 for llama-server and small models for the simulator.
struct FleetWorld {
    let fleet: Fleet
    let controller: ControllerProcess
    let bmcs: [BMCEmulator]
    let agents: [AgentProcess]
    let admin: String
    let tenant: ReadyTenant
    /// The URL agents and the operator's clients use for the controller.
    let controllerURL: String
    static let slug = "fleetco"
    static let smolLM = "HuggingFaceTB/SmolLM2-135M-Instruct"
    var projectPath: String { "/api/v1/tenants/\(Self.slug)/projects/\(tenant.project)" }

    /// `allocated`: how many of the nodes (the first ones) go to the tenant's project (all by default);
    /// `tenantExtra`: more of the tenant's creation body (its network).
    static func make(nodes count: Int = 3, allocated: Int? = nil, tls: Bool = false, controllerEnvironment: [String: String] = [:],
                     tenantExtra: String = "") async throws -> FleetWorld {
        let fleet = try await Fleet(nodes: count)
        do {
            return try await make(fleet, allocated: allocated ?? count, tls: tls, controllerEnvironment: controllerEnvironment, tenantExtra: tenantExtra)
        } catch {
            fleet.down()
            throw error
        }
    }

    private static func make(_ fleet: Fleet, allocated: Int, tls: Bool, controllerEnvironment: [String: String], tenantExtra: String) async throws -> FleetWorld {
        let store = fleet.directory + "/store"
        try makeStore(store)
        let ca = tls ? try await TestCA(directory: fleet.directory + "/ca", serverIP: fleet.controller.management) : nil
        var environment = ["METALPLANE_MODEL_STORE_PATH": store, "METALPLANE_AGENT_HEARTBEAT_SECONDS": "0.5"].merging(controllerEnvironment) { $1 }
        if let ca { environment.merge(["METALPLANE_TLS_CERTIFICATE": ca.serverCertificate, "METALPLANE_TLS_KEY": ca.serverKey]) { $1 } }
        let controller = try await ControllerProcess(fleet: fleet, environment: environment, tls: ca)
        let controllerURL = "\(tls ? "https" : "http")://\(controller.listenAddress)"
        let admin = try await controller.token()
        let tenant = try await controller.readyTenant(slug: slug, admin: "boss", password: "boss-password-1",
                                                      extra: #""quota": {"nodes": 8, "clusters": 8}"# + tenantExtra, keyRole: "project-admin", by: admin)
        var bmcs: [BMCEmulator] = []
        for node in fleet.nodes {
            let bmc = try await BMCEmulator(names: [node.name], listenIP: node.bmc, launcher: fleet.launcher(node), reachable: { port in
                (try? await fleet.run(on: node, ["python3", "-c", "import socket; socket.create_connection(('\(node.bmc)', \(port)), 1)"]).status) == 0
            })
            bmcs.append(bmc)
            let enrolled = try await controller.call(.POST, "/api/v1/nodes", bearer: admin, json: """
                {"name": "\(node.name)", "fabric": "rack-a", "bmc": {"address": "\(bmc.systemURL)", "username": "root", "password": "pw"}}
                """)
            try #require(enrolled.status == 201 || enrolled.status == 202, "enroll \(node.name): \(enrolled.text)")
        }
        let available = try await eventually(60) { () -> Bool? in
            let items = try await controller.call(.GET, "/api/v1/nodes?state=available", bearer: admin).json["items"] as? [Any] ?? []
            return items.count == fleet.nodes.count ? true : nil
        }
        try #require(available == true, "every node enrolled over Redfish across the fabric")
        if allocated > 0 {
            let names = fleet.nodes.prefix(allocated).map { "\"\($0.name)\"" }.joined(separator: ", ")
            let allocation = try await controller.call(.POST, "/api/v1/tenants/\(slug)/projects/\(tenant.project)/nodes", bearer: tenant.admin,
                                                       json: #"{"nodeNames": [\#(names)]}"#)
            try #require(allocation.status == 201, "\(allocation.text)")
        }

        // Each node reports 24 GiB of memory from a fixture tree, whatever this machine has.
        let machine = fleet.directory + "/machine"
        try FileManager.default.createDirectory(atPath: machine + "/proc", withIntermediateDirectories: true)
        try "processor\t: 0\nmodel name\t: Fixture CPU\nprocessor\t: 1\nmodel name\t: Fixture CPU\n".write(toFile: machine + "/proc/cpuinfo", atomically: true, encoding: .utf8)
        try "MemTotal:       25165824 kB\nMemAvailable:   20000000 kB\n".write(toFile: machine + "/proc/meminfo", atomically: true, encoding: .utf8)
        var agentEnvironment = ["METALPLANE_INVENTORY_ROOT": machine, "METALPLANE_LLAMA_SERVER": try #require(installedPeers()["LLAMA_SERVER"])]
        if let ca { agentEnvironment["METALPLANE_CONTROLLER_CA"] = ca.caCertificate }
        var agents: [AgentProcess] = []
        for node in fleet.nodes {
            let join = try #require(try await controller.call(.POST, "/api/v1/join-tokens", bearer: admin, json: "{}").json["token"] as? String)
            // Each node's data disk, erased when the node is released: a file of non-zero bytes here.
            let disk = fleet.directory + "/disk-\(node.name).img"
            _ = FileManager.default.createFile(atPath: disk, contents: Data(repeating: 0x5A, count: 1 << 20))
            let agent = try await AgentProcess(fleet: fleet, node: node, controllerURL: controllerURL, joinToken: join,
                                               environment: agentEnvironment.merging(["METALPLANE_NODE_NAME": node.name, "METALPLANE_WIPE_DEVICES": disk,
                                                                                      "METALPLANE_LLDP_SOCKET": fleet.lldpSocket(node)]) { $1 })
            agent.operatorToken = admin
            agents.append(agent)
        }
        let world = FleetWorld(fleet: fleet, controller: controller, bmcs: bmcs, agents: agents, admin: admin, tenant: tenant, controllerURL: controllerURL)
        let joined = try await eventually(30) { () -> Bool? in
            let agents = try await controller.call(.GET, "/api/v1/agents", bearer: admin).json["items"] as? [[String: Any]] ?? []
            return agents.filter { $0["state"] as? String == "online" }.count == fleet.nodes.count ? true : nil
        }
        try #require(joined == true, "every agent joined across the fabric: \(agents.map { $0.log.suffix(1500) })")
        return world
    }

    /// SmolLM2 for llama-server, and two simulator models.
    static func makeStore(_ store: String) throws {
        let gguf = try #require(installedPeers()["SMOLLM2_GGUF"], "scripts/install-deps.sh installs llama-server and SmolLM2")
        let smol = store + "/HuggingFaceTB--SmolLM2-135M-Instruct"
        try FileManager.default.createDirectory(atPath: smol, withIntermediateDirectories: true)
        if link(gguf, smol + "/model.gguf") != 0 { try FileManager.default.copyItem(atPath: gguf, toPath: smol + "/model.gguf") }
        for model in ["acme--sim", "acme--sim-next"] {
            try FileManager.default.createDirectory(atPath: store + "/" + model, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: store + "/\(model)/w.bin", contents: Data(repeating: 3, count: 4096))
            try #"{"layers": 4, "engines": ["engine-sim"]}"#.write(toFile: store + "/\(model)/metalplane-model.json", atomically: true, encoding: .utf8)
        }
    }

    func stop() {
        for agent in agents { agent.stopEverything() }
        controller.kill(SIGTERM)
        for bmc in bmcs { bmc.stop() }
        fleet.down()
    }

    /// The node a node name is, and its agent.
    func node(_ name: String) -> (host: Fleet.Host, agent: AgentProcess) {
        let index = fleet.nodes.firstIndex { $0.name == name }!
        return (fleet.nodes[index], agents[index])
    }

    /// The project's node identities (session ids) by node name.
    func sessions() async throws -> [String: String] {
        let identities = try await controller.call(.GET, projectPath + "/state", bearer: tenant.admin).json["nodeIdentities"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: identities.compactMap { item in
            (item["name"] as? String).flatMap { name in (item["nodeId"] as? String).map { (name, $0) } }
        })
    }

    /// Places `model` on the node named `on` (every other node excluded); returns the first instance.
    func place(_ model: String, engine: String? = nil, on name: String) async throws -> [String: Any] {
        let others = try await sessions().filter { $0.key != name }.map(\.value)
        var body: [String: Any] = ["model_id": model, "excluded_nodes": others]
        if let engine { body["engine"] = engine }
        let reply = try await controller.call(.POST, projectPath + "/place_instance", bearer: tenant.admin,
                                              json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        try #require(reply.status == 201, "place \(model) on \(name): \(reply.text)")
        return try #require((reply.json["instances"] as? [[String: Any]])?.first)
    }

    /// Waits until an instance is ready; returns it.
    func ready(_ instance: String, seconds: Double = 120) async throws -> [String: Any] {
        let found = try await eventually(seconds) { () -> [String: Any]? in
            let body = try await controller.call(.GET, "/api/v1/instances/\(instance)", bearer: admin).json
            return body["phase"] as? String == "ready" && body["endpoint"] != nil ? body : nil
        }
        return try #require(found, "instance \(instance) ready: \(agents.map { $0.log.suffix(800) })")
    }

    /// Runs a Python script on the operator host; returns its last line as JSON.
    func python(_ script: String, _ arguments: [String]) async throws -> [String: Any] {
        let path = fleet.directory + "/script-\(UUID().uuidString).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let python = ProcessInfo.processInfo.environment["METALPLANE_PYTHON"] ?? "python3"
        let result = try await fleet.run(on: fleet.operatorHost, ["/usr/bin/env", python, path] + arguments)
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(result.output.suffix(3000))")
    }

    /// curl on the operator host: the status and body.
    func curl(_ arguments: [String]) async throws -> (status: Int, body: String) {
        let result = try await fleet.run(on: fleet.operatorHost, ["curl", "-sS", "-m", "30", "-w", "\n%{http_code}"] + arguments)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }
}
