/// A node's place on the fabric, for the fabric's desired state.
public struct NodeMembership: Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: NodeState
    public var tenantId: String?

    public init(id: String, name: String, state: NodeState, tenantId: String?) {
        self.id = id
        self.name = name
        self.state = state
        self.tenantId = tenantId
    }
}

/// Takes a node's switch port out of every tenant segment and returns once the switch confirms
/// it (a line for the operation's progress), or throws. The release runs it before the wipe.
public protocol NodeIsolation: Sendable {
    func isolate(nodeID: String) async throws -> String
}
