import Foundation
import NodeContract
@testable import NodeRuntime
import Testing

/// The Linux switch's programming, rendered and read back without a switch: what `nft -j` and
/// `ip -j` print for a programmed switch must read back as the configuration that was rendered.
struct LinuxSwitchStateTests {
    static let config = SwitchConfig(tenantNetwork: "10.128.0.0/12", ports: [
        PortConfig(name: "n1-d", vlans: [5, 6], addresses: [SegmentAddress(vlan: 5, vrf: 1, address: "10.128.5.10"), SegmentAddress(vlan: 6, vrf: 1, address: "10.128.6.10")]),
        PortConfig(name: "n2-d", vlans: [5, 6], addresses: [SegmentAddress(vlan: 5, vrf: 1, address: "10.128.5.11"), SegmentAddress(vlan: 6, vrf: 1, address: "10.128.6.11")]),
        PortConfig(name: "n3-d", vlans: [1005]),
    ])

    @Test func segmentsAreSlash24sOfTheTenantNetworkByVLANID() {
        #expect(TenantSubnets.subnet(of: 5, in: "10.128.0.0/12") == "10.128.5.0/24")
        #expect(TenantSubnets.subnet(of: 300, in: "10.128.0.0/12") == "10.129.44.0/24")
        #expect(TenantSubnets.subnet(of: 4096, in: "10.128.0.0/12") == nil)
        #expect(TenantSubnets.vlan(of: "10.129.44.7", in: "10.128.0.0/12") == 300)
        #expect(TenantSubnets.vlan(of: "10.67.11.2", in: "10.128.0.0/12") == nil)
        #expect(TenantSubnets.host(10, of: 5, in: "10.128.0.0/12") == "10.128.5.10")
    }

    @Test func whatTheSwitchPrintsReadsBackAsTheRenderedConfiguration() throws {
        let expected = LinuxSwitchState.rendering(Self.config)
        #expect(expected.rules == ["outside 10.128.0.0/12", "vrf 1", "drop"])
        #expect(expected.policyRules.contains("iif n1-d from 10.128.5.0/24 lookup 100001"))
        // What the kernel and nft print for that state (shapes as nft 1.0.6 and iproute2 6.1 print them).
        let nft = """
            {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "inet", "name": "mp_tenants"}},
             {"set": {"family": "inet", "name": "port_vlans", "table": "mp_tenants", "type": ["ifname", "mark"],
                      "elem": [{"concat": ["n1-d", 5]}, {"concat": ["n1-d", 6]}, {"concat": ["n2-d", 5]}, {"concat": ["n2-d", 6]}, {"concat": ["n3-d", 1005]}]}},
             {"set": {"family": "inet", "name": "vrf_1", "table": "mp_tenants", "type": ["ifname", "ipv4_addr"],
                      "elem": [{"concat": ["n1-d", "10.128.5.10"]}, {"concat": ["n1-d", "10.128.6.10"]}, {"concat": ["n2-d", "10.128.5.11"]}, {"concat": ["n2-d", "10.128.6.11"]}]}},
             {"chain": {"family": "inet", "table": "mp_tenants", "name": "forward", "hook": "forward", "prio": -10, "policy": "accept"}},
             {"rule": {"chain": "forward", "expr": [
                {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.128.0.0", "len": 12}}}},
                {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "10.128.0.0", "len": 12}}}},
                {"accept": null}]}},
             {"rule": {"chain": "forward", "expr": [
                {"match": {"op": "==", "left": {"concat": [{"meta": {"key": "iifname"}}, {"payload": {"protocol": "ip", "field": "saddr"}}]}, "right": "@vrf_1"}},
                {"match": {"op": "==", "left": {"concat": [{"meta": {"key": "oifname"}}, {"payload": {"protocol": "ip", "field": "daddr"}}]}, "right": "@vrf_1"}},
                {"accept": null}]}},
             {"rule": {"chain": "forward", "expr": [{"drop": null}]}}]}
            """
        let rules = """
            [{"priority":0,"src":"all","table":"local"},
             {"priority":10000,"src":"10.128.5.0","srclen":24,"iif":"n1-d","table":"100001"},{"priority":10000,"src":"10.128.6.0","srclen":24,"iif":"n1-d","table":"100001"},
             {"priority":10000,"src":"10.128.5.0","srclen":24,"iif":"n2-d","table":"100001"},{"priority":10000,"src":"10.128.6.0","srclen":24,"iif":"n2-d","table":"100001"},
             {"priority":32766,"src":"all","table":"main"}]
            """
        let routes = """
            [{"type":"unreachable","dst":"default","table":"100001","flags":[]},
             {"dst":"10.128.5.10","dev":"n1-d","table":"100001","scope":"link","flags":[]},{"dst":"10.128.6.10","dev":"n1-d","table":"100001","scope":"link","flags":[]},
             {"dst":"10.128.5.11","dev":"n2-d","table":"100001","scope":"link","flags":[]},{"dst":"10.128.6.11","dev":"n2-d","table":"100001","scope":"link","flags":[]},
             {"dst":"10.67.11.0/24","dev":"n1-d","protocol":"kernel","scope":"link","prefsrc":"10.67.11.1","flags":[]}]
            """
        var actual = LinuxSwitchState()
        LinuxSwitchReader.read(nft: Data(nft.utf8), into: &actual)
        LinuxSwitchReader.read(rules: Data(rules.utf8), into: &actual)
        LinuxSwitchReader.read(routes: Data(routes.utf8), into: &actual)
        #expect(actual == expected)
        #expect(actual.configuration(tenantNetwork: "10.128.0.0/12") == Self.config)
        #expect(actual.differences(from: expected).isEmpty)
        #expect(expected.ipCommands(from: actual).isEmpty)

        // A rule added by hand is foreign; a route deleted by hand is missing; both are differences.
        var edited = actual
        edited.rules.insert(LinuxSwitchReader.classify([["accept": NSNull()]]), at: 0)
        edited.routes.remove(.init(table: 100_001, spec: "10.128.5.11 dev n2-d"))
        let differences = edited.differences(from: expected)
        #expect(differences.count == 2)
        #expect(differences.contains { $0.hasPrefix("forward chain") && $0.contains("foreign") })
        #expect(expected.ipCommands(from: edited) == ["route replace 10.128.5.11 dev n2-d table 100001"])
    }

    @Test func lldpNeighborsAreReadFromLLDPCLIsJSON() {
        let one = #"{"lldp": {"interface": {"data0": {"via": "LLDP", "chassis": {"leaf1": {"id": {"type": "mac", "value": "76:6e"}}}, "port": {"id": {"type": "ifname", "value": "n1-d"}}}}}}"#
        #expect(LLDPNeighbors.parse(Data(one.utf8)) == [LinkNeighbor(interface: "data0", switchName: "leaf1", port: "n1-d")])
        let two = #"{"lldp": {"interface": [{"eth0": {"chassis": {"a": {}}, "port": {"id": {"value": "p1"}}}}, {"eth1": {"chassis": {"b": {}}, "port": {"id": {"value": "p2"}}}}]}}"#
        #expect(LLDPNeighbors.parse(Data(two.utf8)).map(\.port) == ["p1", "p2"])
        #expect(LLDPNeighbors.parse(Data("{}".utf8)).isEmpty)
    }
}
