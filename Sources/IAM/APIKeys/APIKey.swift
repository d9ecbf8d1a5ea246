import Storage

/// An application credential bound to a realm, optionally a project, and roles.
///
/// The full key (`mp_<prefix>_<secret>`) is shown once; only its prefix and the secret's
/// SHA-256 are stored. High-entropy secrets need no slow KDF, so checking one is cheap.
public struct APIKey: Sendable, Equatable, Codable, RowDecodable {
    /// Every API key starts with this, so the server can tell it from a JWT.
    public static let marker = "mp_"
    /// Length of the public prefix.
    static let prefixLength = 12

    public var id: String
    public var realmID: String
    public var name: String
    public var prefix: String
    public var projectID: String?
    public var createdBy: String
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var revokedAt: Int64?
    public var version: Int64
    /// Roles granted to the key (filled from its bindings).
    public var roles: [RoleBinding] = []
    let secretHash: String

    public init(row: Row) throws {
        id = try row.string("id")
        realmID = try row.string("realm_id")
        name = try row.string("name")
        prefix = try row.string("prefix")
        projectID = try row.optionalString("project_id")
        createdBy = try row.string("created_by")
        createdAt = try row.int64("created_at")
        expiresAt = try row.optionalInt64("expires_at")
        revokedAt = try row.optionalInt64("revoked_at")
        version = try row.int64("version")
        secretHash = try row.string("secret_hash")
    }

    enum CodingKeys: String, CodingKey {
        case id, realmID = "realmId", name, prefix, projectID = "projectId", createdBy, createdAt, expiresAt, revokedAt, version, roles
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        realmID = try container.decode(String.self, forKey: .realmID)
        name = try container.decode(String.self, forKey: .name)
        prefix = try container.decode(String.self, forKey: .prefix)
        projectID = try container.decodeIfPresent(String.self, forKey: .projectID)
        createdBy = try container.decode(String.self, forKey: .createdBy)
        createdAt = try container.decode(Int64.self, forKey: .createdAt)
        expiresAt = try container.decodeIfPresent(Int64.self, forKey: .expiresAt)
        revokedAt = try container.decodeIfPresent(Int64.self, forKey: .revokedAt)
        version = try container.decode(Int64.self, forKey: .version)
        roles = try container.decode([RoleBinding].self, forKey: .roles)
        secretHash = ""
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(realmID, forKey: .realmID)
        try container.encode(name, forKey: .name)
        try container.encode(prefix, forKey: .prefix)
        try container.encodeIfPresent(projectID, forKey: .projectID)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try container.encodeIfPresent(revokedAt, forKey: .revokedAt)
        try container.encode(version, forKey: .version)
        try container.encode(roles, forKey: .roles)
    }

    /// Whether the key is usable at `millis`.
    public func isLive(at millis: Int64) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > millis } ?? true)
    }
}

/// What a caller asks for when creating a key.
public struct NewAPIKey: Sendable, Decodable {
    public var name: String
    public var projectId: String?
    public var roles: [Role]?
    /// Expiry as milliseconds since 1970; absent means no expiry.
    public var expiresAt: Int64?

    public init(name: String, projectId: String? = nil, roles: [Role]? = nil, expiresAt: Int64? = nil) {
        self.name = name
        self.projectId = projectId
        self.roles = roles
        self.expiresAt = expiresAt
    }
}

/// A newly created key with its secret, shown only in this answer.
public struct CreatedAPIKey: Sendable, Encodable {
    public var apiKey: APIKey
    public var key: String
}
