import Core
import Foundation
import NodeContract

/// Programs and reads the Linux switch this process runs on (the fabric namespace of the test
/// fleet, or a Linux-based leaf switch) with `nft` and `ip`. Blocking: run on a worker thread.
struct LinuxSwitch: Sendable {
    /// The tenant network assumed when nothing is programmed yet.
    let defaultTenantNetwork: String

    /// The switch's actual state.
    func read() throws -> (state: LinuxSwitchState, ports: [PortFacts]) {
        var state = LinuxSwitchState()
        let table = try SystemCommand.run(["nft", "-j", "list", "table", "inet", LinuxSwitchState.table])
        LinuxSwitchReader.read(nft: table.succeeded ? table.output : nil, into: &state)
        LinuxSwitchReader.read(rules: try SystemCommand.check(["ip", "-j", "rule", "list"]), into: &state)
        LinuxSwitchReader.read(routes: try SystemCommand.check(["ip", "-j", "route", "show", "table", "all"]), into: &state)
        let ports = LinuxSwitchReader.ports(addresses: try SystemCommand.check(["ip", "-j", "addr", "show"]))
        return (state, ports)
    }

    /// The switch's configuration as read back, and what it holds beyond that configuration.
    func observe() throws -> SwitchObservation {
        let (state, ports) = try read()
        let network = state.rules.first { $0.hasPrefix("outside ") }.map { String($0.dropFirst(8)) } ?? defaultTenantNetwork
        let config = state.configuration(tenantNetwork: network)
        var foreign = state.differences(from: .rendering(config))
        // An empty switch (nothing programmed) has no chain; that is not drift.
        if state.rules.isEmpty && config.ports.isEmpty { foreign = foreign.filter { !$0.hasPrefix("forward chain") } }
        return SwitchObservation(config: config, foreign: foreign, ports: ports)
    }

    /// Closes a switch that holds no tenant table (first start, or after a reboot that lost it):
    /// tenant traffic is dropped until the controller programs the switch, never let through.
    /// A table already there is left as it is; the controller's next pass judges it.
    func closeIfUnprogrammed() throws -> Bool {
        guard !(try SystemCommand.run(["nft", "list", "table", "inet", LinuxSwitchState.table]).succeeded) else { return false }
        _ = try apply(SwitchConfig(tenantNetwork: defaultTenantNetwork, ports: []))
        return true
    }

    /// Makes the switch hold `config`: the nftables table is replaced in one transaction, then
    /// policy rules and routes are changed where they differ (the table drops a segment's traffic
    /// the moment its member leaves the set, before its routes go).
    func apply(_ config: SwitchConfig) throws -> SwitchObservation {
        guard TenantSubnets.parse(config.tenantNetwork) != nil else { throw SystemCommand.Failure.notStarted("apply", "tenant network \(config.tenantNetwork) is not a CIDR") }
        let desired = LinuxSwitchState.rendering(config)
        try SystemCommand.check(["nft", "-f", "-"], input: desired.nftScript(tenantNetwork: config.tenantNetwork))
        let (actual, _) = try read()
        let commands = desired.ipCommands(from: actual)
        if !commands.isEmpty { try SystemCommand.check(["ip", "-batch", "-"], input: commands.joined(separator: "\n") + "\n") }
        return try observe()
    }
}
