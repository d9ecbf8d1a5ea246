/// Where a bare-metal node is in its life.
public enum NodeState: String, Sendable, Codable, CaseIterable {
    /// Registered with its BMC; nothing known yet.
    case enrolled
    /// The BMC is being read (Redfish inventory); an operation is running.
    case inspecting
    /// Inspected, wiped and free to allocate.
    case available
    /// Given to a project; not yet deployed.
    case allocated
    /// An image is being booted on it (virtual media or PXE); an operation is running.
    case deploying
    /// Deployed; its node agent has registered.
    case active
    /// Being wiped on its way back to the pool; an operation is running.
    case releasing
    /// Taken out of service by an operator; nothing is scheduled on it.
    case maintenance
    /// A long step failed; the error is on the node and its last operation.
    case failed
    /// Decommissioned for good.
    case retired
}

/// What an operator or an operation asks of a node.
public enum NodeAction: String, Sendable, Codable, CaseIterable {
    case inspect
    case inspected
    case allocate
    case deploy
    case deployed
    case release
    case released
    case enterMaintenance = "enter_maintenance"
    case leaveMaintenance = "leave_maintenance"
    case fail
    case retire
}
