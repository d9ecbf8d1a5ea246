import Foundation
import NodeContract

/// A Linux switch's tenant programming in its own terms, in a form two states can be compared in:
/// the nftables table `inet mp_tenants` (port → VLAN membership, one set of (port, address)
/// per VRF, the forward chain's rules), the policy rules that select a VRF's routing table by
/// ingress port and source segment, and the routes of those tables.
///
/// The kernel here has no bridge, 802.1Q or VRF devices, so the switch enforces at layer 3, as
/// Linux-based switches do in their ACL and VRF-lite modes: VRF `n` is routing table
/// `vrfTableBase + n`; VLAN `v` is the /24 segment `v` of the tenant network; a packet passes only
/// when (ingress port, source) and (egress port, destination) are both members of one VRF.
struct LinuxSwitchState: Equatable, Sendable {
    /// "port vlan" pairs.
    var portVLANs: Set<String> = []
    /// VRF number → "port address" members.
    var vrfMembers: [Int64: Set<String>] = [:]
    /// The forward chain's rules, classified: "outside <supernet>", "vrf <n>", "drop", or "foreign <json>".
    var rules: [String] = []
    /// Policy rules at `rulePriority`, as `ip rule` arguments after the priority.
    var policyRules: Set<String> = []
    /// Routes of the VRF tables: "table route-spec" as `ip route` arguments.
    var routes: Set<Route> = []

    struct Route: Hashable, Sendable, Comparable {
        var table: Int64
        var spec: String
        static func < (a: Route, b: Route) -> Bool { (a.table, a.spec) < (b.table, b.spec) }
    }

    static let table = "mp_tenants"
    static let rulePriority = 10000
    static let vrfTableBase: Int64 = 100_000

    /// What `config` looks like on the switch.
    static func rendering(_ config: SwitchConfig) -> LinuxSwitchState {
        var state = LinuxSwitchState()
        for port in config.ports {
            for vlan in port.vlans { state.portVLANs.insert("\(port.name) \(vlan)") }
            for address in port.addresses {
                state.vrfMembers[address.vrf, default: []].insert("\(port.name) \(address.address)")
                if let subnet = TenantSubnets.subnet(of: address.vlan, in: config.tenantNetwork) {
                    state.policyRules.insert("iif \(port.name) from \(subnet) lookup \(vrfTableBase + address.vrf)")
                }
                state.routes.insert(Route(table: vrfTableBase + address.vrf, spec: "\(address.address) dev \(port.name)"))
            }
        }
        for vrf in config.vrfs { state.routes.insert(Route(table: vrfTableBase + vrf, spec: "unreachable default")) }
        state.rules = ["outside \(config.tenantNetwork)"] + config.vrfs.map { "vrf \($0)" } + ["drop"]
        return state
    }

    /// The nftables script that replaces the table with this state, in one transaction.
    func nftScript(tenantNetwork: String) -> String {
        let table = Self.table
        var lines = ["table inet \(table)", "delete table inet \(table)", "table inet \(table) {"]
        let memberships = portVLANs.sorted().map { pair -> String in
            let parts = pair.split(separator: " ")
            return "\"\(parts[0])\" . \(parts[1])"
        }
        lines.append("  set port_vlans { type ifname . mark;" + (memberships.isEmpty ? "" : " elements = { \(memberships.joined(separator: ", ")) };") + " }")
        for (vrf, members) in vrfMembers.sorted(by: { $0.key < $1.key }) {
            let elements = members.sorted().map { member -> String in
                let parts = member.split(separator: " ")
                return "\"\(parts[0])\" . \(parts[1])"
            }
            lines.append("  set vrf_\(vrf) { type ifname . ipv4_addr;" + (elements.isEmpty ? "" : " elements = { \(elements.joined(separator: ", ")) };") + " }")
        }
        lines.append("  chain forward {")
        lines.append("    type filter hook forward priority -10; policy accept;")
        lines.append("    ip saddr != \(tenantNetwork) ip daddr != \(tenantNetwork) accept")
        for vrf in vrfMembers.keys.sorted() { lines.append("    iifname . ip saddr @vrf_\(vrf) oifname . ip daddr @vrf_\(vrf) accept") }
        lines.append("    drop")
        lines.append("  }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `ip -batch` lines that turn `actual`'s rules and routes into this state's, touching nothing else.
    func ipCommands(from actual: LinuxSwitchState) -> [String] {
        var commands: [String] = []
        for rule in actual.policyRules.subtracting(policyRules).sorted() { commands.append("rule del pref \(Self.rulePriority) \(rule)") }
        for route in actual.routes.subtracting(routes).sorted() { commands.append("route del \(route.spec) table \(route.table)") }
        // Unreachable defaults last, so a table never routes a member after its catch-all is gone.
        for route in routes.subtracting(actual.routes).sorted() { commands.append("route replace \(route.spec) table \(route.table)") }
        for rule in policyRules.subtracting(actual.policyRules).sorted() { commands.append("rule add pref \(Self.rulePriority) \(rule)") }
        return commands
    }

    /// The configuration this state expresses: ports from their VLAN memberships, addresses from
    /// the VRF sets (a member's VLAN is the segment its address lies in).
    func configuration(tenantNetwork: String) -> SwitchConfig {
        var vlans: [String: [Int64]] = [:]
        for pair in portVLANs {
            let parts = pair.split(separator: " ")
            guard parts.count == 2, let vlan = Int64(parts[1]) else { continue }
            vlans[String(parts[0]), default: []].append(vlan)
        }
        var addresses: [String: [SegmentAddress]] = [:]
        for (vrf, members) in vrfMembers {
            for member in members {
                let parts = member.split(separator: " ")
                guard parts.count == 2, let vlan = TenantSubnets.vlan(of: String(parts[1]), in: tenantNetwork) else { continue }
                addresses[String(parts[0]), default: []].append(SegmentAddress(vlan: vlan, vrf: vrf, address: String(parts[1])))
            }
        }
        let names = Set(vlans.keys).union(addresses.keys)
        return SwitchConfig(tenantNetwork: tenantNetwork,
                            ports: names.map { PortConfig(name: $0, vlans: vlans[$0] ?? [], addresses: addresses[$0] ?? []) })
    }

    /// Where this (actual) state differs from `expected`, a line each, for the rules and routes the
    /// configuration does not carry.
    func differences(from expected: LinuxSwitchState) -> [String] {
        var lines: [String] = []
        if rules != expected.rules { lines.append("forward chain is [\(rules.joined(separator: "; "))], expected [\(expected.rules.joined(separator: "; "))]") }
        for rule in expected.policyRules.subtracting(policyRules).sorted() { lines.append("missing policy rule: \(rule)") }
        for rule in policyRules.subtracting(expected.policyRules).sorted() { lines.append("unexpected policy rule: \(rule)") }
        for route in expected.routes.subtracting(routes).sorted() { lines.append("missing route: \(route.spec) in table \(route.table)") }
        for route in routes.subtracting(expected.routes).sorted() { lines.append("unexpected route: \(route.spec) in table \(route.table)") }
        return lines
    }
}
