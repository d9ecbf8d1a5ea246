import IAM
import Storage

/// A pending or used invitation (the token itself is only ever in `IssuedInvitation`).
public struct Invitation: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var tenantId: String
    public var userId: String
    public var username: String
    public var role: String
    public var scope: String
    public var expiresAt: Int64
    public var acceptedAt: Int64?
    public var revokedAt: Int64?
    public var createdBy: String
    public var createdAt: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        tenantId = try row.string("tenant_id")
        userId = try row.string("user_id")
        username = try row.string("username")
        role = try row.string("role")
        scope = try row.string("scope")
        expiresAt = try row.int64("expires_at")
        acceptedAt = try row.optionalInt64("accepted_at")
        revokedAt = try row.optionalInt64("revoked_at")
        createdBy = try row.string("created_by")
        createdAt = try row.int64("created_at")
    }
}

/// A new invitation with its one-time token, shown only in this answer.
public struct IssuedInvitation: Sendable, Equatable, Codable {
    public var id: String
    public var username: String
    public var role: String
    public var scope: String
    public var token: String
    public var expiresAt: Int64
    /// Where to send the token with a password: `POST /api/v1/invitations/accept`.
    public var acceptPath = "/api/v1/invitations/accept"
}

/// What a tenant admin sends to invite a user.
public struct NewInvitation: Sendable, Decodable {
    public var username: String
    public var email: String?
    public var role: Role
    /// `tenant:<id>`, `org:<id>` or `project:<id>`; default the whole tenant.
    public var scope: String?
}
