import NodeContract

/// How the controller talks to one switch. A driver sets the whole tenant-facing configuration
/// of the switch at once and reads it back; the reconciler compares the two.
///
/// Drivers here: `LinuxSwitchDriver` (the Linux switch agent over HTTP) and `RecordingFabricDriver`
/// (no switch: records what it would send; for scale benches). A driver for a hardware switch
/// implements the same two calls over its API (OpenConfig over gNMI, NETCONF, a vendor's REST):
/// VLAN membership per port (access or trunk) from `PortConfig.vlans`, a VRF per
/// `SegmentAddress.vrf` with a VLAN interface per VLAN, and the port's ACL from the addresses.
public protocol FabricDriver: Sendable {
    /// The switch's state as read back from it.
    func observe() async throws -> SwitchObservation
    /// Makes the switch hold `config`; returns what it holds afterwards.
    func apply(_ config: SwitchConfig) async throws -> SwitchObservation
}

/// Makes a driver for a switch record (the secret already opened).
public typealias FabricDriverFactory = @Sendable (_ driver: String, _ endpoint: String, _ token: String) throws -> any FabricDriver
