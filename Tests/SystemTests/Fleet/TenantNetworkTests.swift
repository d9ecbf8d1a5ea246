import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// Tenant networks enforced on the wire, across hosts: the controller programs the fabric's Linux
/// switch agent (`metalplane switch` in the fabric namespace) over the management network, and the
/// agents put their tenant addresses on their data interfaces. Tenant A (fleetco) holds n1 and n2,
/// one VRF with two VLANs; tenant B (rivalco) holds n3. Root only (CI runs as root).
@Suite(.serialized)
struct TenantNetworkTests {
    static let token = "leaf1-switch-token-0123456789"

    @Test func tenantSegmentsHoldOnTheFabricAgainstARootTenantAndDriftIsRepaired() async throws {
        let world = try await FleetWorld.make(nodes: 3, allocated: 2, controllerEnvironment: ["METALPLANE_FABRIC_RECONCILE_SECONDS": "1"],
                                              tenantExtra: #", "network": {"vrfs": 1, "vlansPerVrf": 2}"#)
        defer { world.stop() }
        let (fleet, controller, admin) = (world.fleet, world.controller, world.admin)
        // The switch agent on the fabric, listening on the controller's side of the fabric only.
        let tokenFile = fleet.directory + "/switch.token"
        try Self.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try fleet.start(on: fleet.switchHost, [ControllerProcess.binary, "switch", "--listen", "10.66.1.1:7830", "--token-file", tokenFile],
                        log: fleet.directory + "/switch.log")
        let up = try await eventually(20) { () -> Bool? in
            (try? await fleet.run(on: fleet.controller, ["curl", "-sf", "-m", "1", "http://10.66.1.1:7830/healthz"]).status) == 0 ? true : nil
        }
        try #require(up == true, "switch agent: \(Self.log(fleet.directory + "/switch.log"))")
        // Before the controller programs it, the switch is closed to tenant traffic.
        let closed = try await fleet.run(on: fleet.switchHost, ["nft", "list", "table", "inet", "mp_tenants"]).output
        #expect(closed.contains("10.128.0.0/12") && closed.contains("drop") && !closed.contains("vrf_"), "an unprogrammed switch drops tenant traffic: \(closed)")
        // A node's root cannot reach the switch's API.
        let fromNode = try await fleet.run(on: fleet.nodes[2], ["curl", "-sS", "-m", "2", "http://10.66.13.1:7830/healthz"])
        #expect(fromNode.status != 0, "the switch API must not answer a node: \(fromNode.output)")

        // Tenant B with n3.
        let rival = try await controller.readyTenant(slug: "rivalco", admin: "rival", password: "rival-password-1",
                                                     extra: #""quota": {"nodes": 4}, "network": {"vrfs": 1, "vlansPerVrf": 1}"#, by: admin)
        let allocated = try await controller.call(.POST, "/api/v1/tenants/rivalco/projects/\(rival.project)/nodes", bearer: rival.admin, json: #"{"nodeNames": ["n3"]}"#)
        try #require(allocated.status == 201, "\(allocated.text)")

        // Bad input changes nothing.
        let bad = try await controller.call(.POST, "/api/v1/fabric/switches", bearer: admin, json: #"{"name": "leaf1", "driver": "cisco", "endpoint": "http://x", "token": "0123456789abcdef"}"#)
        #expect(bad.status == 400)
        let cabling = fleet.nodes.map { #"{"port": "\#($0.name)-d", "node": "\#($0.name)", "nodeInterface": "data0"}"# }.joined(separator: ", ")
        let created = try await controller.call(.POST, "/api/v1/fabric/switches", bearer: admin, json: """
            {"name": "leaf1", "driver": "linux", "endpoint": "http://10.66.1.1:7830", "token": "\(Self.token)", "cabling": [\(cabling)]}
            """)
        try #require(created.status == 201, "\(created.text) \(Self.log(fleet.directory + "/switch.log"))")

        // LLDP on the switch and the nodes: the cabling plan is checked against what the nodes hear.
        try fleet.startLLDP(on: fleet.switchHost, systemName: "leaf1", interfaces: fleet.nodes.map { "\($0.name)-d" })
        for node in fleet.nodes { try fleet.startLLDP(on: node, systemName: node.name, interfaces: ["data0"]) }
        let confirmed = try await eventually(30) { () -> Bool? in
            let ports = try await controller.call(.GET, "/api/v1/fabric/switches/leaf1", bearer: admin).json["ports"] as? [[String: Any]] ?? []
            return ports.count == 3 && ports.allSatisfy { $0["cablingCheck"] as? String == "confirmed" } ? true : nil
        }
        #expect(confirmed == true, "LLDP confirms the cabling plan on every port")

        // Every member programmed, and every agent holding its addresses.
        let networkA = try #require(try await eventually(30) { () -> [String: [String]]? in
            let view = try await controller.call(.GET, "/api/v1/tenants/\(FleetWorld.slug)/network", bearer: world.tenant.admin).json
            let members = Self.members(view)
            return members.count == 2 && members.values.allSatisfy { $0.count == 2 } && Self.conditions(view).allSatisfy({ $0 == "programmed" }) ? members : nil
        }, "tenant A's network programmed")
        let networkB = try #require(try await eventually(30) { () -> [String: [String]]? in
            let members = Self.members(try await controller.call(.GET, "/api/v1/tenants/rivalco/network", bearer: rival.admin).json)
            return members.count == 1 ? members : nil
        })
        // A tenant sees only its own network.
        let foreign = try await controller.call(.GET, "/api/v1/tenants/\(FleetWorld.slug)/network", bearer: rival.admin)
        #expect([403, 404].contains(foreign.status) && !foreign.text.contains("10.128."), "\(foreign.status) \(foreign.text)")
        let (a1, a2, b3) = (try #require(networkA["n1"]), try #require(networkA["n2"]), try #require(networkB["n3"]))
        for (node, addresses) in [(fleet.nodes[0], a1), (fleet.nodes[1], a2), (fleet.nodes[2], b3)] {
            let applied = try await eventually(30) { () -> Bool? in
                let shown = try await fleet.run(on: node, ["ip", "-o", "addr", "show", "dev", "data0"]).output
                return addresses.allSatisfy { shown.contains($0 + "/32") } ? true : nil
            }
            try #require(applied == true, "\(node.name) holds \(addresses)")
        }

        // Listeners on every node's tenant addresses.
        for node in fleet.nodes {
            try fleet.start(on: node, ["socat", "TCP-LISTEN:7000,fork,reuseaddr", "SYSTEM:echo reached-\(node.name)"], log: fleet.directory + "/listen-\(node.name).log")
        }
        _ = try await eventually(10) { () -> Bool? in
            (try? await Self.reaches(fleet, from: fleet.nodes[0], to: a2[0])) == true ? true : nil
        }
        // A reaches itself on a VLAN, and across its two VLANs through its VRF.
        #expect(try await Self.reaches(fleet, from: fleet.nodes[0], to: a2[0]), "n1 → n2 on A's first VLAN")
        #expect(try await Self.reaches(fleet, from: fleet.nodes[1], to: a1[1]), "n2 → n1 on A's second VLAN")
        #expect(try await Self.reaches(fleet, from: fleet.nodes[0], to: a2[1], source: a1[0]), "n1 (VLAN 1) → n2 (VLAN 2) through A's VRF")
        // B reaches none of A's addresses.
        for address in a1 + a2 {
            #expect(try await !Self.reaches(fleet, from: fleet.nodes[2], to: address), "B must not reach \(address)")
        }
        // B with root: A's address on its interface, A's source spoofed, routes toward A's subnets.
        let n3 = fleet.nodes[2]
        _ = try await fleet.run(on: n3, ["ip", "addr", "add", a1[0] + "/32", "dev", "data0"])
        #expect(try await !Self.reaches(fleet, from: n3, to: a2[0], source: a1[0]), "B spoofing A's address must not reach A")
        _ = try await fleet.run(on: n3, ["ip", "addr", "del", a1[0] + "/32", "dev", "data0"])
        for subnet in Set((a1 + a2).map { $0.split(separator: ".").prefix(3).joined(separator: ".") + ".0/24" }) {
            _ = try await fleet.run(on: n3, ["ip", "route", "replace", subnet, "via", "10.67.13.1", "dev", "data0", "src", b3[0]])
        }
        #expect(try await !Self.reaches(fleet, from: n3, to: a1[0]), "B routing toward A's subnets must not reach A")
        // The management network keeps working for every node.
        for node in fleet.nodes {
            let health = try await world.curl(["http://\(node.management):52415/healthz"])
            #expect(health.status == 200, "\(node.name)'s node API over management")
        }

        // A hand edit on the switch (a rule letting everything through) is undone within the interval, and alerted.
        let edit = try await fleet.run(on: fleet.switchHost, ["nft", "insert", "rule", "inet", "mp_tenants", "forward", "accept"])
        try #require(edit.status == 0, "\(edit.output)")
        let repaired = try await eventually(10) { () -> Bool? in
            let chain = try await fleet.run(on: fleet.switchHost, ["nft", "list", "chain", "inet", "mp_tenants", "forward"]).output
            let alerts = try await controller.call(.GET, "/api/v1/alerts", bearer: admin).json["items"] as? [[String: Any]] ?? []
            return !chain.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "accept" } && alerts.contains { $0["kind"] as? String == "fabric_drift" } ? true : nil
        }
        #expect(repaired == true, "the reconciler removed the hand-added rule and raised fabric_drift")
        #expect(try await !Self.reaches(fleet, from: n3, to: a1[0]), "after the repair, B still reaches nothing of A's")
        let audit = try await controller.call(.GET, "/api/v1/audit?action=fabric.drift.repair", bearer: admin).json["items"] as? [[String: Any]] ?? []
        #expect(!audit.isEmpty, "the repair is audited")

        // Release n2: its port leaves A's segments (quarantine) before the wipe, then returns to provisioning.
        let released = try await controller.call(.DELETE, world.projectPath + "/nodes/n2", bearer: world.tenant.admin)
        try #require(released.status == 202 || released.status == 200, "\(released.text)")
        let quarantined = try await Self.port(controller, admin, "n2-d")
        #expect(quarantined?["observedVLANs"] as? [Int] == [1005] || quarantined?["observedVLANs"] as? [Int] == [1],
                "n2's port is out of A's segments as soon as the release is accepted: \(String(describing: quarantined))")
        #expect(quarantined?["observedAddresses"] as? [String] == [])
        #expect(try await !Self.reaches(fleet, from: fleet.nodes[0], to: a2[0]), "A's n1 no longer reaches the released node")
        let back = try await eventually(60) { () -> Bool? in
            try await Self.port(controller, admin, "n2-d")?["observedVLANs"] as? [Int] == [1] ? true : nil
        }
        #expect(back == true, "after the wipe, the port is back in the provisioning VLAN")
        let operations = try await controller.call(.GET, "/api/v1/audit?action=fabric.switch.program", bearer: admin).json["items"] as? [[String: Any]] ?? []
        #expect(operations.count >= 2)
        #expect(try await Self.reaches(fleet, from: fleet.nodes[0], to: a2[1], source: a1[0]) == false)

        // A cabling plan that does not match the wire (n1 and n3 swapped) is reported on the nodes and the ports.
        let swapped = try await controller.call(.PUT, "/api/v1/fabric/switches/leaf1/cabling", bearer: admin, json: """
            {"cabling": [{"port": "n1-d", "node": "n3", "nodeInterface": "data0"}, {"port": "n2-d", "node": "n2", "nodeInterface": "data0"},
                         {"port": "n3-d", "node": "n1", "nodeInterface": "data0"}]}
            """)
        try #require(swapped.status == 200, "\(swapped.text)")
        let mismatch = try await eventually(30) { () -> Bool? in
            let ports = try await controller.call(.GET, "/api/v1/fabric/switches/leaf1", bearer: admin).json["ports"] as? [[String: Any]] ?? []
            let alerts = try await controller.call(.GET, "/api/v1/alerts", bearer: admin).json["items"] as? [[String: Any]] ?? []
            let flagged = ports.filter { $0["cablingCheck"] as? String == "mismatch" }.compactMap { $0["port"] as? String }.sorted()
            return flagged == ["n1-d", "n3-d"] && alerts.contains { $0["kind"] as? String == "fabric_cabling_mismatch" && $0["agentId"] is String } ? true : nil
        }
        #expect(mismatch == true, "the swapped cables are flagged on their ports and alerted on their nodes")
    }

    /// Node name → addresses, from a tenant network view.
    static func members(_ view: [String: Any]) -> [String: [String]] {
        var members: [String: [String]] = [:]
        for vrf in view["vrfs"] as? [[String: Any]] ?? [] {
            for vlan in vrf["vlans"] as? [[String: Any]] ?? [] {
                for member in vlan["members"] as? [[String: Any]] ?? [] {
                    members[member["nodeName"] as? String ?? "?", default: []].append(member["address"] as? String ?? "?")
                }
            }
        }
        return members
    }

    static func conditions(_ view: [String: Any]) -> [String] {
        (view["vrfs"] as? [[String: Any]] ?? []).flatMap { ($0["vlans"] as? [[String: Any]] ?? []).flatMap { ($0["members"] as? [[String: Any]] ?? []).compactMap { $0["network"] as? String } } }
    }

    static func port(_ controller: ControllerProcess, _ admin: String, _ name: String) async throws -> [String: Any]? {
        (try await controller.call(.GET, "/api/v1/fabric/switches/leaf1", bearer: admin).json["ports"] as? [[String: Any]])?.first { $0["port"] as? String == name }
    }

    /// Whether a TCP connection from `host` (from `source`, if given) reaches the listener on `address`.
    static func reaches(_ fleet: Fleet, from host: Fleet.Host, to address: String, source: String? = nil) async throws -> Bool {
        let bind = source.map { ",bind=\($0)" } ?? ""
        let result = try await fleet.run(on: host, ["socat", "-T2", "-", "TCP:\(address):7000,connect-timeout=1.5\(bind)"])
        return result.status == 0 && result.output.contains("reached-")
    }

    static func log(_ path: String) -> String { String((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(2000).description }
}
