import Core
import Foundation
import Storage

/// A signed-in session as its owner and the realm's admins see it.
public struct SessionInfo: Sendable, Codable, Equatable, RowDecodable {
    public var id: String
    public var clientId: String
    /// The address it started from (the token request's).
    public var source: String?
    public var startedAt: Int64
    /// When its refresh token was last used (it started then, when never refreshed).
    public var lastUsedAt: Int64?
    public var expiresAt: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        clientId = try row.string("client_id")
        source = try row.optionalString("source")
        startedAt = try row.int64("created_at")
        lastUsedAt = try row.optionalInt64("last_used_at")
        expiresAt = try row.int64("expires_at")
    }
}

/// Listing and ending sessions: one, all of a user's, or every session of a realm. An ended session's refresh token stops
/// working at once, and its access tokens too (every replica hears of it).
extension IdentityService {
    /// A user's sessions that have neither ended nor expired, newest first.
    public func sessions(ofUser userID: String, in realm: Realm) async throws -> [SessionInfo] {
        let now = clock.nowMillis()
        return try await database.read {
            try $0.query(SessionInfo.self, """
                SELECT * FROM sessions WHERE realm_id = ? AND principal_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC LIMIT 500
                """, [.text(realm.id), .text(userID), .integer(now)])
        }
    }

    /// Ends one of a user's sessions (`sessionID`), or all of them (nil); answers how many ended.
    @discardableResult
    public func endSessions(ofUser userID: String, sessionID: String? = nil, in realm: Realm) async throws -> Int {
        let now = clock.nowMillis()
        let ended = try await database.write { connection -> [String] in
            var sql = "SELECT id FROM sessions WHERE realm_id = ? AND principal_id = ? AND revoked_at IS NULL"
            var parameters: [SQLValue] = [.text(realm.id), .text(userID)]
            if let sessionID { sql += " AND id = ?"; parameters.append(.text(sessionID)) }
            let ids = try connection.query(sql, parameters).map { try $0.string("id") }
            for id in ids { try connection.execute("UPDATE sessions SET revoked_at = ? WHERE id = ?", [.integer(now), .text(id)]) }
            return ids
        }
        if let sessionID, ended.isEmpty { throw IAMError.sessionNotFound(sessionID) }
        await endSessions(ended)
        return ended.count
    }

    /// Ends every session of the realm (everyone signs in again); answers how many ended.
    @discardableResult
    public func endAllSessions(in realm: Realm) async throws -> Int {
        let now = clock.nowMillis()
        let ended = try await database.write { connection -> [String] in
            let ids = try connection.query("SELECT id FROM sessions WHERE realm_id = ? AND revoked_at IS NULL", [.text(realm.id)]).map { try $0.string("id") }
            try connection.execute("UPDATE sessions SET revoked_at = ? WHERE realm_id = ? AND revoked_at IS NULL", [.integer(now), .text(realm.id)])
            return ids
        }
        await endSessions(ended)
        return ended.count
    }
}
