/// The node lifecycle as one declarative table (observed state × action → next state), in the
/// manner of OpenStack Ironic. Everything that moves a node goes through `apply`, so an action
/// the table does not list is refused with the state and the actions that are allowed.
public enum NodeLifecycle {
    /// Every allowed move.
    static let table: [NodeState: [NodeAction: NodeState]] = [
        .enrolled: [.inspect: .inspecting, .enterMaintenance: .maintenance, .retire: .retired],
        .inspecting: [.inspected: .available, .fail: .failed],
        .available: [.inspect: .inspecting, .allocate: .allocated, .enterMaintenance: .maintenance, .retire: .retired],
        .allocated: [.deploy: .deploying, .release: .releasing],
        .deploying: [.deployed: .active, .fail: .failed],
        .active: [.release: .releasing],
        .releasing: [.released: .available, .fail: .failed],
        .maintenance: [.leaveMaintenance: .enrolled, .inspect: .inspecting, .retire: .retired],
        .failed: [.inspect: .inspecting, .release: .releasing, .enterMaintenance: .maintenance, .retire: .retired],
        .retired: [:],
    ]

    /// The state after `action`, or `invalidTransition` naming what is allowed instead.
    public static func apply(_ action: NodeAction, to state: NodeState, node: String) throws(ProvisionerError) -> NodeState {
        guard let next = table[state]?[action] else {
            throw .invalidTransition(node: node, state: state, action: action, allowed: allowedActions(in: state))
        }
        return next
    }

    /// The actions a node in `state` accepts, in a stable order.
    public static func allowedActions(in state: NodeState) -> [NodeAction] {
        NodeAction.allCases.filter { table[state]?[$0] != nil }
    }

    /// Whether a node in `state` has a long operation running.
    public static func isBusy(_ state: NodeState) -> Bool {
        [.inspecting, .deploying, .releasing].contains(state)
    }
}
