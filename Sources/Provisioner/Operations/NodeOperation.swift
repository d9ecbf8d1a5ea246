import Storage

/// A long step on a node (inspection, deploy, release with its wipe), recorded so that it shows
/// progress, can be retried, and resumes after a controller restart.
public struct NodeOperation: Sendable, Equatable, Codable, RowDecodable {
    public enum Kind: String, Sendable, Codable {
        case inspect
        case release
        case deploy
    }

    public enum State: String, Sendable, Codable {
        /// `waiting`: handed to the node's agent (a wipe); it ends when the agent reports, or fails at the timeout.
        case pending, running, waiting, succeeded, failed
    }

    public var id: String
    public var nodeId: String
    public var kind: Kind
    public var state: State
    public var progress: String?
    public var error: String?
    public var attempts: Int
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        nodeId = try row.string("node_id")
        guard let kind = Kind(rawValue: try row.string("kind")), let state = State(rawValue: try row.string("state")) else {
            throw StoreError.decoding("node operation")
        }
        self.kind = kind
        self.state = state
        progress = try row.optionalString("progress")
        error = try row.optionalString("error")
        attempts = Int(try row.int64("attempts"))
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
    }
}
