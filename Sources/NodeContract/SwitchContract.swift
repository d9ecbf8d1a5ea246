/// The controller ↔ switch contract: what the controller wants a switch's tenant-facing ports to
/// be (`SwitchConfig`), and what the switch reports it is (`SwitchObservation`). Driver-neutral:
/// the Linux switch agent turns it into routing tables, policy rules and nftables sets; a driver
/// for a hardware switch turns the same ids into VLANs and VRFs (docs/tenancy.md).
public struct SwitchConfig: Sendable, Codable, Equatable {
    /// The supernet tenant segments are carved from: VLAN `v` is the /24 at offset `v × 256`.
    public var tenantNetwork: String
    /// Every cabled node port of the switch, sorted by name.
    public var ports: [PortConfig]

    public init(tenantNetwork: String, ports: [PortConfig]) {
        self.tenantNetwork = tenantNetwork
        self.ports = ports.sorted { $0.name < $1.name }
    }

    /// The VRF numbers any port uses, ascending.
    public var vrfs: [Int64] { Array(Set(ports.flatMap { $0.addresses.map(\.vrf) })).sorted() }
}

/// One switch port's VLAN membership and the tenant addresses reached through it.
public struct PortConfig: Sendable, Codable, Equatable {
    public var name: String
    /// VLAN ids, ascending: the tenant's VLANs (a trunk), or the provisioning or quarantine VLAN alone.
    public var vlans: [Int64]
    /// The node's addresses on its tenant's segments, by VLAN.
    public var addresses: [SegmentAddress]

    public init(name: String, vlans: [Int64], addresses: [SegmentAddress] = []) {
        self.name = name
        self.vlans = vlans.sorted()
        self.addresses = addresses.sorted { ($0.vlan, $0.address) < ($1.vlan, $1.address) }
    }

    /// A port carrying one VLAN is an access port; several make a trunk.
    public var mode: String { vlans.count > 1 ? "trunk" : "access" }
}

/// A node's address on one tenant segment (VLAN), and the VRF the segment routes in.
public struct SegmentAddress: Sendable, Codable, Equatable, Hashable {
    public var vlan: Int64
    public var vrf: Int64
    public var address: String

    public init(vlan: Int64, vrf: Int64, address: String) {
        self.vlan = vlan
        self.vrf = vrf
        self.address = address
    }
}

/// What a switch reports: its configuration as read back from the device, anything found there
/// that the contract cannot express (a hand-added rule, a missing route), and its ports' facts.
public struct SwitchObservation: Sendable, Codable, Equatable {
    public var config: SwitchConfig
    /// Differences between the device and what `config` renders to, each a line for people.
    public var foreign: [String]
    /// Every port the switch has (cabled or not).
    public var ports: [PortFacts]

    public init(config: SwitchConfig, foreign: [String], ports: [PortFacts]) {
        self.config = config
        self.foreign = foreign
        self.ports = ports
    }
}

/// A switch port as the switch sees it.
public struct PortFacts: Sendable, Codable, Equatable {
    public var name: String
    public var up: Bool
    /// The port's own IPv4 address (a routed port's gateway for the node behind it).
    public var address: String?

    public init(name: String, up: Bool, address: String?) {
        self.name = name
        self.up = up
        self.address = address
    }
}

/// A node's tenant addressing, applied by its agent on the data interface.
public struct NodeNetworkSpec: Sendable, Codable, Equatable {
    /// The tenant supernet: addresses in it that are not listed here are removed from the node.
    public var tenantNetwork: String
    public var addresses: [NodeTenantAddress]

    public init(tenantNetwork: String, addresses: [NodeTenantAddress]) {
        self.tenantNetwork = tenantNetwork
        self.addresses = addresses
    }
}

/// One address of the node on a tenant segment, with the segments it reaches through the switch.
public struct NodeTenantAddress: Sendable, Codable, Equatable {
    public var vlan: Int64
    /// A host address (/32: the switch routes, it does not bridge).
    public var address: String
    /// The switch port's address: the next hop for the tenant's subnets.
    public var gateway: String
    /// The subnets of the tenant's segments in the same VRF (this one included), reached from `address`.
    public var routes: [String]

    public init(vlan: Int64, address: String, gateway: String, routes: [String]) {
        self.vlan = vlan
        self.address = address
        self.gateway = gateway
        self.routes = routes
    }
}

/// IPv4 arithmetic for tenant segments, shared by the controller and the switch.
public enum TenantSubnets {
    /// `a.b.c.d/len` → (base, length), or nil.
    public static func parse(_ cidr: String) -> (base: UInt32, length: Int)? {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length), let base = address(String(parts[0])) else { return nil }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        return (base & mask, length)
    }

    public static func address(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 != nil }) else { return nil }
        return octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1!) }
    }

    public static func text(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }

    /// The /24 of VLAN `vlan` inside `network`, as `a.b.c.0/24`; nil when it does not fit.
    public static func subnet(of vlan: Int64, in network: String) -> String? {
        guard let (base, length) = parse(network), length <= 24, vlan >= 0, vlan < (Int64(1) << (24 - length)) else { return nil }
        return text(base + UInt32(vlan) << 8) + "/24"
    }

    /// The VLAN whose /24 holds `address`, or nil when it is outside `network`.
    public static func vlan(of address: String, in network: String) -> Int64? {
        guard let (base, length) = parse(network), let value = self.address(address) else { return nil }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        guard value & mask == base else { return nil }
        return Int64((value - base) >> 8)
    }

    /// Host `host` (1…254) of VLAN `vlan`'s /24.
    public static func host(_ host: Int, of vlan: Int64, in network: String) -> String? {
        guard (1...254).contains(host), let subnet = subnet(of: vlan, in: network), let (base, _) = parse(subnet) else { return nil }
        return text(base + UInt32(host))
    }
}
