/// The controller ↔ node agent contract: one versioned set of types, used by both sides.
///
/// The agent only ever connects out (register, heartbeat, telemetry, store downloads), so nodes
/// behind NAT work. A change that an older peer cannot read bumps `version`; the controller
/// refuses a registration with a version it does not speak, naming both.
public enum NodeContract {
    /// The contract version this build speaks.
    public static let version = 1
}
