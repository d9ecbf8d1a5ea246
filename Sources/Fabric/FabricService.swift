import Core
import Cryptography
import Foundation
import Logging
import NetworkPools
import NodeContract
import Provisioner
import Storage

/// The fabric: switches and their cabling, the nodes' tenant addresses, the desired state of every
/// switch port, and the views of both for operators and tenants. `FabricReconciler` programs it.
public final class FabricService: Sendable {
    let database: any Database
    let clock: WallClock
    let secrets: SealedBox
    public let settings: FabricSettings
    let nodes: NodeService
    let makeDriver: FabricDriverFactory

    public init(database: any Database, clock: WallClock, secretsKey: [UInt8], settings: FabricSettings, nodes: NodeService,
                makeDriver: @escaping FabricDriverFactory = FabricService.standardDrivers) throws {
        guard TenantSubnets.parse(settings.tenantNetwork).map({ $0.length <= 24 }) == true else {
            throw FabricError.invalidField(field: "fabric.tenantNetwork", reason: "must be an IPv4 CIDR of /24 or wider, got \(settings.tenantNetwork)")
        }
        self.database = database
        self.clock = clock
        self.secrets = try SealedBox(key: secretsKey)
        self.settings = settings
        self.nodes = nodes
        self.makeDriver = makeDriver
    }

    /// What a switch endpoint looks like (the API document shows the same pattern).
    public static let endpointPattern = "^(https?|recording)://[A-Za-z0-9.:_/-]{1,200}$"

    /// `linux` and `recording`.
    public static let standardDrivers: FabricDriverFactory = { driver, endpoint, token in
        switch driver {
        case "linux": LinuxSwitchDriver(endpoint: endpoint, token: token)
        case "recording": RecordingFabricDriver.named(endpoint)
        default: throw FabricError.invalidField(field: "driver", reason: "unknown driver \(driver) (linux or recording)")
        }
    }

    // MARK: Switches

    public func createSwitch(_ definition: SwitchDefinition) async throws -> SwitchView {
        guard (1...63).contains(definition.name.count), definition.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw FabricError.invalidField(field: "name", reason: "must be 1–63 letters, digits, '-', '_' or '.'")
        }
        guard ["linux", "recording"].contains(definition.driver) else { throw FabricError.invalidField(field: "driver", reason: "must be linux or recording") }
        guard definition.endpoint.range(of: Self.endpointPattern, options: .regularExpression) != nil else {
            throw FabricError.invalidField(field: "endpoint", reason: "must be the switch agent's http(s):// URL (recording:// for the recording driver)")
        }
        guard definition.token.count >= 16 else { throw FabricError.invalidField(field: "token", reason: "must be at least 16 characters") }
        let cables = try await resolve(definition.cabling ?? [], switchName: definition.name)
        let sealed = try secrets.seal(Array(definition.token.utf8), associatedData: Array("switch:\(definition.name)".utf8))
        let now = clock.nowMillis()
        let id = Identifier.make("sw", at: now)
        try await database.write { connection in
            do {
                try connection.execute("INSERT INTO fabric_switches (id, name, driver, endpoint, sealed_token, created_at, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
                                       [.text(id), .text(definition.name), .text(definition.driver), .text(definition.endpoint),
                                        .text(Data(sealed).base64EncodedString()), .integer(now)])
            } catch StoreError.uniqueViolation {
                throw FabricError.duplicateSwitch(definition.name)
            }
            try Self.replaceCabling(switchID: id, switchName: definition.name, cables, on: connection)
        }
        return try await view(id)
    }

    /// Replaces a switch's cabling (the rack's cabling plan).
    public func setCabling(_ idOrName: String, _ cabling: [Cable]) async throws -> SwitchView {
        let record = try await switchRecord(idOrName)
        let cables = try await resolve(cabling, switchName: record.name)
        try await database.write { connection in
            try Self.replaceCabling(switchID: record.id, switchName: record.name, cables, on: connection)
            try connection.execute("UPDATE fabric_switches SET version = version + 1 WHERE id = ?", [.text(record.id)])
        }
        return try await view(record.id)
    }

    public func deleteSwitch(_ idOrName: String) async throws {
        let record = try await switchRecord(idOrName)
        try await database.write { try $0.execute("DELETE FROM fabric_switches WHERE id = ?", [.text(record.id)]) }
    }

    public func switchRecord(_ idOrName: String) async throws -> FabricSwitch {
        guard let found = try await database.read({
            try $0.queryFirst(FabricSwitch.self, "SELECT * FROM fabric_switches WHERE id = ? OR name = ?", [.text(idOrName), .text(idOrName)])
        }) else { throw FabricError.switchNotFound(idOrName) }
        return found
    }

    public func switchRecords() async throws -> [FabricSwitch] {
        try await database.read { try $0.query(FabricSwitch.self, "SELECT * FROM fabric_switches ORDER BY name") }
    }

    /// The driver of a switch record.
    func driver(for record: FabricSwitch) async throws -> any FabricDriver {
        let text = try await database.read { try $0.query("SELECT sealed_token FROM fabric_switches WHERE id = ?", [.text(record.id)]).first?.string("sealed_token") }
        let sealed = [UInt8](Data(base64Encoded: text ?? "") ?? Data())
        let token = String(decoding: try secrets.open(sealed, associatedData: Array("switch:\(record.name)".utf8)), as: UTF8.self)
        return try makeDriver(record.driver, record.endpoint, token)
    }

    private func resolve(_ cabling: [Cable], switchName: String) async throws -> [Cable] {
        var ports = Set<String>()
        return try await cabling.asyncMap { cable in
            guard (1...15).contains(cable.port.count), cable.port.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:/".contains($0)) }) else {
                throw FabricError.invalidField(field: "cabling.port", reason: "must be 1–15 characters (an interface name)")
            }
            guard (1...15).contains(cable.nodeInterface.count), cable.nodeInterface.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:@".contains($0)) }) else {
                throw FabricError.invalidField(field: "cabling.nodeInterface", reason: "must be 1–15 characters (the node's interface name)")
            }
            guard ports.insert(cable.port).inserted else { throw FabricError.inconsistent(field: "cabling.port", reason: "port \(cable.port) is listed twice") }
            guard let node = try? await nodes.node(cable.node) else { throw FabricError.unknownNode(cable.node) }
            return Cable(port: cable.port, node: node.id, nodeInterface: cable.nodeInterface)
        }
    }

    private static func replaceCabling(switchID: String, switchName: String, _ cables: [Cable], on connection: any SQLConnection) throws {
        try connection.execute("DELETE FROM fabric_cabling WHERE switch_id = ?", [.text(switchID)])
        for cable in cables {
            do {
                try connection.execute("INSERT INTO fabric_cabling (switch_id, port, node_id, node_interface) VALUES (?, ?, ?, ?)",
                                       [.text(switchID), .text(cable.port), .text(cable.node), .text(cable.nodeInterface)])
            } catch StoreError.uniqueViolation {
                throw FabricError.portTaken(switchName: switchName, port: cable.port, node: cable.node)
            }
        }
    }

    /// The switches any of `nodes` is cabled to.
    func switchIDs(cabledTo nodes: [String]) async throws -> Set<String> {
        try await database.read { connection in
            var ids = Set<String>()
            for node in nodes {
                for row in try connection.query("SELECT switch_id FROM fabric_cabling WHERE node_id = ?", [.text(node)]) { ids.insert(try row.string("switch_id")) }
            }
            return ids
        }
    }

    func cabling(of switchID: String) async throws -> [Cable] {
        try await database.read { connection in
            try connection.query("SELECT port, node_id, node_interface FROM fabric_cabling WHERE switch_id = ? ORDER BY port", [.text(switchID)]).map {
                Cable(port: try $0.string("port"), node: try $0.string("node_id"), nodeInterface: try $0.string("node_interface"))
            }
        }
    }

    // MARK: Cabling check

    /// Records what a node's interfaces hear over LLDP against its cabling plan; returns the
    /// mismatches (`interface: planned switch/port, heard switch/port`), empty when all agree.
    func recordNeighbors(nodeID: String, _ links: [LinkNeighbor]) async throws -> [String] {
        try await database.write { connection in
            var mismatches: [String] = []
            let cables = try connection.query("""
                SELECT c.switch_id, c.port, c.node_interface, c.observed_neighbor, s.name FROM fabric_cabling c JOIN fabric_switches s ON s.id = c.switch_id
                WHERE c.node_id = ?
                """, [.text(nodeID)])
            for cable in cables {
                let interface = try cable.string("node_interface")
                let planned = "\(try cable.string("name"))/\(try cable.string("port"))"
                let heard = links.first { $0.interface == interface }.map { "\($0.switchName)/\($0.port)" }
                if let heard, heard != planned { mismatches.append("\(interface): cabled to \(planned) in the plan, LLDP hears \(heard)") }
                if heard != (try cable.optionalString("observed_neighbor")) {
                    try connection.execute("UPDATE fabric_cabling SET observed_neighbor = ? WHERE switch_id = ? AND port = ?",
                                           [.text(heard), .text(try cable.string("switch_id")), .text(try cable.string("port"))])
                }
            }
            return mismatches
        }
    }

    // MARK: Tenant addresses

    /// Gives every node of a tenant an address on each of its tenant's VLANs, and takes addresses
    /// away from nodes that left their tenant (or VLANs the tenant gave back). Returns how many changed.
    @discardableResult
    func syncAddresses(_ members: [NodeMembership]) async throws -> Int {
        let network = settings.tenantNetwork
        let allocatedStates: Set<NodeState> = [.allocated, .deploying, .active]
        return try await database.write { connection in
            var changed = 0
            let existing = try connection.query("SELECT node_id, tenant_id, vlan_id, vrf_number, address FROM fabric_addresses", []).map {
                (node: try $0.string("node_id"), tenant: try $0.string("tenant_id"), vlan: try $0.int64("vlan_id"), vrf: try $0.int64("vrf_number"), address: try $0.string("address"))
            }
            var tenants: [String: [(vlan: Int64, vrf: Int64)]] = [:]
            func segments(_ tenant: String) throws -> [(vlan: Int64, vrf: Int64)] {
                if let known = tenants[tenant] { return known }
                let found = try PoolAllocator.network(of: tenant, on: connection).flatMap { vrf in vrf.vlans.map { (vlan: $0.vlanId, vrf: vrf.number) } }
                tenants[tenant] = found
                return found
            }
            var wanted: [String: (tenant: String, segments: [(vlan: Int64, vrf: Int64)])] = [:]
            for member in members {
                guard let tenant = member.tenantId, allocatedStates.contains(member.state) else { continue }
                wanted[member.id] = (tenant, try segments(tenant))
            }
            var used = Set(existing.map(\.address))
            var held = Set<String>()
            for row in existing {
                let keep = wanted[row.node].map { want in want.tenant == row.tenant && want.segments.contains { $0.vlan == row.vlan && $0.vrf == row.vrf } } ?? false
                if keep {
                    held.insert("\(row.node) \(row.vlan)")
                } else {
                    try connection.execute("DELETE FROM fabric_addresses WHERE node_id = ? AND vlan_id = ?", [.text(row.node), .integer(row.vlan)])
                    used.remove(row.address)
                    changed += 1
                }
            }
            for (node, want) in wanted.sorted(by: { $0.key < $1.key }) {
                for segment in want.segments where !held.contains("\(node) \(segment.vlan)") {
                    guard let address = (10...254).lazy.compactMap({ TenantSubnets.host($0, of: segment.vlan, in: network) }).first(where: { !used.contains($0) }) else {
                        throw FabricError.invalidField(field: "fabric.tenantNetwork", reason: "VLAN \(segment.vlan) has no free address or lies outside \(network)")
                    }
                    try connection.execute("INSERT INTO fabric_addresses (node_id, tenant_id, vlan_id, vrf_number, address) VALUES (?, ?, ?, ?, ?)",
                                           [.text(node), .text(want.tenant), .integer(segment.vlan), .integer(segment.vrf), .text(address)])
                    used.insert(address)
                    changed += 1
                }
            }
            return changed
        }
    }

    /// Tenant addresses by node: every node's, or one node's.
    func addresses(of nodeID: String? = nil) async throws -> [String: [SegmentAddress]] {
        try await database.read { connection in
            var byNode: [String: [SegmentAddress]] = [:]
            let rows = try nodeID.map { try connection.query("SELECT node_id, vlan_id, vrf_number, address FROM fabric_addresses WHERE node_id = ?", [.text($0)]) }
                ?? connection.query("SELECT node_id, vlan_id, vrf_number, address FROM fabric_addresses", [])
            for row in rows {
                byNode[try row.string("node_id"), default: []].append(SegmentAddress(vlan: try row.int64("vlan_id"), vrf: try row.int64("vrf_number"), address: try row.string("address")))
            }
            return byNode
        }
    }

    // MARK: Desired state

    /// What a switch's ports should be: a tenant node's port carries its tenant's VLANs (a trunk)
    /// with its addresses; a releasing or failed node's port sits alone in the quarantine VLAN; any
    /// other node's in the provisioning VLAN.
    func desired(cabling: [Cable], members: [String: NodeMembership], addresses: [String: [SegmentAddress]]) -> SwitchConfig {
        SwitchConfig(tenantNetwork: settings.tenantNetwork, ports: cabling.map { cable in
            let member = members[cable.node]
            let held = addresses[cable.node] ?? []
            if !held.isEmpty { return PortConfig(name: cable.port, vlans: held.map(\.vlan), addresses: held) }
            let quarantined = member.map { $0.state == .releasing || ($0.state == .failed && $0.tenantId == nil) } ?? false
            return PortConfig(name: cable.port, vlans: [quarantined ? settings.quarantineVLAN : settings.provisioningVLAN])
        })
    }

    // MARK: Views

    /// A switch with its cabling, status and per-port desired and observed state.
    public func view(_ idOrName: String) async throws -> SwitchView {
        let record = try await switchRecord(idOrName)
        let cables = try await cabling(of: record.id)
        let members = Dictionary(try await nodes.memberships().map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let desired = desired(cabling: cables, members: members, addresses: try await addresses())
        let status = try await status(of: record.id)
        let reported = try await portStates(of: record.id)
        let observed = status?.observedAt != nil
        let byPort = Dictionary(cables.map { ($0.port, $0) }, uniquingKeysWith: { $1 })
        let heard = try await database.read { connection in
            Dictionary(try connection.query("SELECT port, observed_neighbor FROM fabric_cabling WHERE switch_id = ?", [.text(record.id)]).map {
                (try $0.string("port"), try $0.optionalString("observed_neighbor"))
            }, uniquingKeysWith: { $1 })
        }
        let ports = desired.ports.map { port in
            let other = reported[port.name]?.config
            let neighbor = heard[port.name] ?? nil
            return PortView(port: port.name, node: byPort[port.name].flatMap { members[$0.node]?.name }, mode: port.mode,
                            desiredVLANs: port.vlans, observedVLANs: observed ? (other?.vlans ?? []) : nil,
                            desiredAddresses: port.addresses.map(\.address), observedAddresses: observed ? (other?.addresses.map(\.address) ?? []) : nil,
                            inSync: other == port, neighbor: neighbor,
                            cablingCheck: neighbor == nil ? "unverified" : (neighbor == "\(record.name)/\(port.name)" ? "confirmed" : "mismatch"))
        }
        return SwitchView(id: record.id, name: record.name, driver: record.driver, endpoint: record.endpoint,
                          cabling: cables.map { Cable(port: $0.port, node: members[$0.node]?.name ?? $0.node, nodeInterface: $0.nodeInterface) },
                          status: status, ports: ports)
    }

    public func views() async throws -> [SwitchView] {
        var all: [SwitchView] = []
        for record in try await switchRecords() { all.append(try await view(record.id)) }
        return all
    }

    /// A tenant's VRFs and VLANs with subnets, member nodes, addresses and whether the switch holds them.
    public func tenantNetwork(_ tenantID: String) async throws -> TenantNetworkView {
        let vrfs = try await database.read { try PoolAllocator.network(of: tenantID, on: $0) }
        let members = Dictionary(try await nodes.memberships().map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let held = try await addresses()
        let condition = try await networkConditions()
        return TenantNetworkView(tenantId: tenantID, tenantNetwork: settings.tenantNetwork, vrfs: vrfs.map { vrf in
            TenantNetworkView.VRFView(id: vrf.id, poolId: vrf.poolId, number: vrf.number, tenantId: vrf.tenantId, vlans: vrf.vlans.map { vlan in
                let inside = held.flatMap { node, addresses in
                    addresses.filter { $0.vlan == vlan.vlanId && members[node]?.tenantId == tenantID }.map { (node, $0.address) }
                }.sorted { $0.1 < $1.1 }
                return TenantNetworkView.VLANView(id: vlan.id, poolId: vlan.poolId, vlanId: vlan.vlanId, vrfId: vlan.vrfId, subnet: TenantSubnets.subnet(of: vlan.vlanId, in: settings.tenantNetwork),
                                                  members: inside.map { node, address in
                    TenantNetworkView.Member(nodeId: node, nodeName: members[node]?.name ?? node, address: address, network: condition[node] ?? "pending")
                })
            })
        })
    }

    /// Per node: `programmed` when every switch port of it is in sync, `failed` when its switch's
    /// last pass failed, else `pending`.
    func networkConditions() async throws -> [String: String] {
        try await database.read { connection in
            var conditions: [String: String] = [:]
            for row in try connection.query("SELECT c.node_id, s.in_sync, s.last_error FROM fabric_cabling c LEFT JOIN fabric_status s ON s.switch_id = c.switch_id", []) {
                let node = try row.string("node_id")
                let state = try row.optionalString("last_error") != nil ? "failed" : (try row.optionalInt64("in_sync") == 1 ? "programmed" : "pending")
                if conditions[node] != "failed" { conditions[node] = conditions[node] == "pending" ? "pending" : state }
            }
            return conditions
        }
    }

    /// The tenant addressing the node's agent applies: its addresses, the gateway of its switch
    /// port (as the switch reports it), and the subnets of its VRFs' segments. Nil when the node
    /// is cabled to no switch.
    public func nodeNetwork(nodeID: String) async throws -> NodeNetworkSpec? {
        let (cable, switchID) = try await database.read { connection -> (String?, String?) in
            let row = try connection.query("SELECT port, switch_id FROM fabric_cabling WHERE node_id = ? ORDER BY switch_id LIMIT 1", [.text(nodeID)]).first
            return (try row?.string("port"), try row?.string("switch_id"))
        }
        guard let cable, let switchID else { return nil }
        guard let gateway = try await portState(of: switchID, port: cable)?.address else { return nil }
        let mine = try await addresses(of: nodeID)[nodeID] ?? []
        let tenantSegments = try await database.read { connection -> [(vlan: Int64, vrf: Int64)] in
            guard let tenant = try connection.query("SELECT tenant_id FROM fabric_addresses WHERE node_id = ? LIMIT 1", [.text(nodeID)]).first?.string("tenant_id") else { return [] }
            return try PoolAllocator.network(of: tenant, on: connection).flatMap { vrf in vrf.vlans.map { (vlan: $0.vlanId, vrf: vrf.number) } }
        }
        return NodeNetworkSpec(tenantNetwork: settings.tenantNetwork, addresses: mine.sorted { $0.vlan < $1.vlan }.map { address in
            NodeTenantAddress(vlan: address.vlan, address: address.address, gateway: gateway,
                              routes: tenantSegments.filter { $0.vrf == address.vrf }.compactMap { TenantSubnets.subnet(of: $0.vlan, in: settings.tenantNetwork) })
        })
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
