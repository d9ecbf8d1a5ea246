import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract

/// The node's addresses on its tenant's segments: host addresses on the data interface (the one
/// holding the data address) and a route to each of the tenant's subnets through the switch port.
/// The switch decides what passes; this only lets the node's workloads use it.
extension NodeAgent {
    func applyTenantNetwork(_ spec: NodeNetworkSpec) async {
        guard appliedNetwork.withLockedValue({ $0 }) != spec else { return }
        guard configuration.dataAddress != "127.0.0.1" else { return }
        let dataAddress = configuration.dataAddress
        do {
            let changes = try await workers.run { try TenantInterface.apply(spec, dataAddress: dataAddress) }
            appliedNetwork.withLockedValue { $0 = spec }
            events.append(kind: "network.tenant_applied", fields: ["addresses": spec.addresses.map(\.address).joined(separator: ","), "changes": String(changes)])
            logger.info("tenant network applied", metadata: ["addresses": .string(spec.addresses.map(\.address).joined(separator: ",")), "changes": .stringConvertible(changes)])
        } catch {
            logger.error("tenant network not applied; retried at the next heartbeat", metadata: ["error": .string("\(error)")])
        }
    }
}

/// `ip` commands for the tenant addressing. Blocking.
enum TenantInterface {
    /// Makes the data interface hold exactly `spec`'s tenant addresses and routes; returns how many commands ran.
    static func apply(_ spec: NodeNetworkSpec, dataAddress: String) throws -> Int {
        let links = try JSONSerialization.jsonObject(with: SystemCommand.check(["ip", "-j", "addr", "show"])) as? [[String: Any]] ?? []
        guard let link = links.first(where: { entry in
            (entry["addr_info"] as? [[String: Any]] ?? []).contains { $0["local"] as? String == dataAddress }
        }), let interface = link["ifname"] as? String else {
            throw SystemCommand.Failure.notStarted("ip", "no interface holds the data address \(dataAddress)")
        }
        let inTenant = { (address: String) in TenantSubnets.vlan(of: address, in: spec.tenantNetwork) != nil }
        let present = Set((link["addr_info"] as? [[String: Any]] ?? []).compactMap { $0["local"] as? String }.filter(inTenant))
        let wanted = Set(spec.addresses.map(\.address))
        // One route per subnet: from the node's own address in it, else from its first address that reaches it.
        var routes: [String: NodeTenantAddress] = [:]
        for address in spec.addresses {
            for subnet in address.routes {
                let own = TenantSubnets.subnet(of: address.vlan, in: spec.tenantNetwork) == subnet
                if routes[subnet] == nil || own { routes[subnet] = address }
            }
        }
        let table = try JSONSerialization.jsonObject(with: SystemCommand.check(["ip", "-j", "route", "show"])) as? [[String: Any]] ?? []
        let presentRoutes = Set(table.compactMap { $0["dst"] as? String }.filter { $0.contains("/") && inTenant(String($0.split(separator: "/")[0])) })
        var commands: [String] = []
        for subnet in presentRoutes.subtracting(routes.keys).sorted() { commands.append("route del \(subnet)") }
        for address in present.subtracting(wanted).sorted() { commands.append("addr del \(address)/32 dev \(interface)") }
        for address in wanted.subtracting(present).sorted() { commands.append("addr add \(address)/32 dev \(interface)") }
        for (subnet, from) in routes.sorted(by: { $0.key < $1.key }) {
            commands.append("route replace \(subnet) via \(from.gateway) dev \(interface) src \(from.address)")
        }
        if !commands.isEmpty { try SystemCommand.check(["ip", "-batch", "-"], input: commands.joined(separator: "\n") + "\n") }
        return commands.count
    }
}
