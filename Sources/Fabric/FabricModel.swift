import NodeContract
import Storage

/// A switch the controller programs.
public struct FabricSwitch: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var name: String
    /// `linux` (the Linux switch agent) or `recording` (records commands; no switch; benches only).
    public var driver: String
    /// Where the driver reaches the switch (the Linux agent's `http://address:port`).
    public var endpoint: String
    public var createdAt: Int64
    public var version: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        name = try row.string("name")
        driver = try row.string("driver")
        endpoint = try row.string("endpoint")
        createdAt = try row.int64("created_at")
        version = try row.int64("version")
    }
}

/// One cable: a node's interface in a switch port.
public struct Cable: Sendable, Equatable, Codable {
    public var port: String
    /// The node's id or name (ids in answers).
    public var node: String
    /// The node's interface name (its data interface).
    public var nodeInterface: String

    public init(port: String, node: String, nodeInterface: String) {
        self.port = port
        self.node = node
        self.nodeInterface = nodeInterface
    }
}

/// What an operator declares to add a switch.
public struct SwitchDefinition: Sendable, Decodable {
    public var name: String
    public var driver: String
    public var endpoint: String
    /// The bearer token the switch agent wants; stored sealed with the controller's secrets key.
    public var token: String
    public var cabling: [Cable]?
}

/// A switch as the API shows it: its record, cabling, and what the reconciler last saw.
public struct SwitchView: Sendable, Encodable {
    public var id: String
    public var name: String
    public var driver: String
    public var endpoint: String
    public var cabling: [Cable]
    public var status: SwitchStatus?
    /// Per port: desired and observed VLANs and addresses.
    public var ports: [PortView]
}

public struct PortView: Sendable, Encodable, Equatable {
    public var port: String
    public var node: String?
    public var mode: String
    public var desiredVLANs: [Int64]
    public var observedVLANs: [Int64]?
    public var desiredAddresses: [String]
    public var observedAddresses: [String]?
    public var inSync: Bool
    /// What the node's interface hears over LLDP at its other end (`switch/port`), if it reports it.
    public var neighbor: String?
    /// `confirmed` (LLDP agrees with the cabling plan), `mismatch`, or `unverified` (no LLDP report).
    public var cablingCheck: String
}

/// The reconciler's last look at a switch.
public struct SwitchStatus: Sendable, Encodable, Equatable {
    public var inSync: Bool
    public var observedAt: Int64?
    public var lastError: String?
    /// What the last drift was (a hand edit, a switch that forgot), as read before the repair.
    public var drift: [String]?
    public var repairs: Int64
    public var lastRepairAt: Int64?
}

/// The fabric settings (the controller's `fabric` configuration).
public struct FabricSettings: Sendable, Equatable {
    /// The supernet tenant segments are carved from (a /24 per VLAN id; at least a /12 for every VLAN id).
    public var tenantNetwork: String
    /// The VLAN of ports whose node belongs to no project (VLAN 1, which no pool hands out).
    public var provisioningVLAN: Int64
    /// The VLAN of a port whose node is being released (until its wipe is done).
    public var quarantineVLAN: Int64
    /// How often every switch is read back and repaired.
    public var reconcileSeconds: Double

    public init(tenantNetwork: String = "10.128.0.0/12", provisioningVLAN: Int64 = 1, quarantineVLAN: Int64 = 1005, reconcileSeconds: Double = 2) {
        self.tenantNetwork = tenantNetwork
        self.provisioningVLAN = provisioningVLAN
        self.quarantineVLAN = quarantineVLAN
        self.reconcileSeconds = reconcileSeconds
    }
}

/// A tenant's network as its admins see it: VRFs, VLANs with their subnets, and member nodes.
public struct TenantNetworkView: Sendable, Encodable, Equatable {
    public var tenantId: String
    public var tenantNetwork: String
    public var vrfs: [VRFView]

    public struct VRFView: Sendable, Encodable, Equatable {
        public var id: String
        public var poolId: String
        public var number: Int64
        public var tenantId: String
        public var vlans: [VLANView]
    }

    public struct VLANView: Sendable, Encodable, Equatable {
        public var id: String
        public var poolId: String
        public var vlanId: Int64
        public var vrfId: String
        public var subnet: String?
        public var members: [Member]
    }

    public struct Member: Sendable, Encodable, Equatable {
        public var nodeId: String
        public var nodeName: String
        public var address: String
        /// `programmed` (the switch holds it), `pending`, or `failed` (the switch refused or is unreachable).
        public var network: String
    }
}
