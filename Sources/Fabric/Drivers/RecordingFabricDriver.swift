import NIOConcurrencyHelpers
import NodeContract

/// A RECORDING driver: no switch behind it. It keeps the configuration it was given and counts the
/// port and VRF changes a switch would have been sent; scale benches use it. Never a stand-in for
/// a switch in a test of isolation.
public final class RecordingFabricDriver: FabricDriver {
    private let state: NIOLockedValueBox<(config: SwitchConfig?, changes: Int)>
    private let ports: [PortFacts]

    public init(ports: [String] = []) {
        state = NIOLockedValueBox((nil, 0))
        self.ports = ports.map { PortFacts(name: $0, up: true, address: nil) }
    }

    private static let registry = NIOLockedValueBox<[String: RecordingFabricDriver]>([:])

    /// The recording driver of the switch at `endpoint` (one per endpoint for the process's life, so
    /// what it was given is what it reads back).
    public static func named(_ endpoint: String) -> RecordingFabricDriver {
        registry.withLockedValue { drivers in
            if let known = drivers[endpoint] { return known }
            let made = RecordingFabricDriver()
            drivers[endpoint] = made
            return made
        }
    }

    /// How many port changes were recorded in all.
    public var changes: Int { state.withLockedValue { $0.changes } }

    public func observe() async throws -> SwitchObservation {
        let config = state.withLockedValue { $0.config } ?? SwitchConfig(tenantNetwork: "0.0.0.0/0", ports: [])
        return SwitchObservation(config: config, foreign: [], ports: ports)
    }

    public func apply(_ config: SwitchConfig) async throws -> SwitchObservation {
        state.withLockedValue { current in
            let before = Dictionary((current.config?.ports ?? []).map { ($0.name, $0) }, uniquingKeysWith: { $1 })
            current.changes += config.ports.filter { before[$0.name] != $0 }.count
            current.config = config
        }
        return try await observe()
    }
}
