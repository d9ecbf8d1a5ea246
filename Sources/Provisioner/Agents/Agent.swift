import Foundation
import NodeContract
import Storage

/// A node agent as the API shows it: the machine (stable id), its current session and what it reports.
public struct Agent: Sendable, Equatable, Codable, RowDecodable {
    public enum State: String, Sendable, Codable { case online, lost }

    public var id: String
    /// This session's node id; it changes each time the agent registers.
    public var sessionId: String
    public var hostname: String
    /// The enrolled node this agent runs on, if any.
    public var nodeId: String?
    public var state: State
    public var agentVersion: String?
    public var apiURL: String?
    public var inventory: InventoryReport?
    public var observed: ObservedState?
    public var registeredAt: Int64
    public var lastSeenAt: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        sessionId = try row.string("session_id")
        hostname = try row.string("hostname")
        nodeId = try row.optionalString("node_id")
        state = State(rawValue: try row.string("state")) ?? .lost
        agentVersion = try row.optionalString("agent_version")
        apiURL = try row.optionalString("api_url")
        inventory = try row.optionalString("inventory").flatMap { try? JSONDecoder().decode(InventoryReport.self, from: Data($0.utf8)) }
        observed = try row.optionalString("observed").flatMap { try? JSONDecoder().decode(ObservedState.self, from: Data($0.utf8)) }
        registeredAt = try row.int64("registered_at")
        lastSeenAt = try row.int64("last_seen_at")
    }
}

/// A join token as listed (never its secret).
public struct JoinToken: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var singleUse: Bool
    public var expiresAt: Int64?
    public var uses: Int64
    public var description: String?
    public var createdAt: Int64
    public var revoked: Bool

    public init(row: Row) throws {
        id = try row.string("id")
        singleUse = try row.bool("single_use")
        expiresAt = try row.optionalInt64("expires_at")
        uses = try row.int64("uses")
        description = try row.optionalString("description")
        createdAt = try row.int64("created_at")
        revoked = try row.optionalInt64("revoked_at") != nil
    }
}

/// A newly minted join token: the secret is shown once.
public struct MintedJoinToken: Sendable, Encodable {
    public var joinToken: JoinToken
    public var token: String
}

/// What a super-admin asks for when minting a join token.
public struct JoinTokenRequest: Sendable, Decodable {
    /// Consumed by the first registration (default true).
    public var singleUse: Bool?
    /// Lifetime; nil means no expiry (only with singleUse).
    public var ttlSeconds: Int?
    public var description: String?
}
