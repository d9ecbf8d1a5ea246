import Storage

/// A person in a realm. The password hash never leaves the IAM module.
public struct User: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var realmID: String
    public var username: String
    public var email: String?
    public var enabled: Bool
    public var createdAt: Int64
    public var updatedAt: Int64
    public var version: Int64
    /// The directory this user comes from (their password is the directory's), nil for a local user.
    public var directoryId: String?
    /// What the last sync could not apply to this user (an email another user holds, a username taken).
    public var syncProblem: String?
    let passwordHash: String?
    /// The directory entry's lifelong id (entryUUID/objectGUID) and current DN.
    var externalID: String?
    var externalDN: String?
    /// Disabled because the entry left the directory (enabled again when it returns); an admin's disable is not.
    var disabledBySync: Bool = false

    public init(row: Row) throws {
        id = try row.string("id")
        realmID = try row.string("realm_id")
        username = try row.string("username")
        email = try row.optionalString("email")
        enabled = try row.bool("enabled")
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
        version = try row.int64("version")
        passwordHash = try row.optionalString("password_hash")
        directoryId = try row.optionalString("directory_id")
        syncProblem = try row.optionalString("sync_problem")
        externalID = try row.optionalString("external_id")
        externalDN = try row.optionalString("external_dn")
        disabledBySync = (try row.optionalInt64("disabled_by_sync") ?? 0) != 0
    }

    enum CodingKeys: String, CodingKey {
        case id, realmID = "realmId", username, email, enabled, createdAt, updatedAt, version, directoryId, syncProblem
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        realmID = try container.decode(String.self, forKey: .realmID)
        username = try container.decode(String.self, forKey: .username)
        email = try container.decodeIfPresent(String.self, forKey: .email)
        enabled = try container.decode(Bool.self, forKey: .enabled)
        createdAt = try container.decode(Int64.self, forKey: .createdAt)
        updatedAt = try container.decode(Int64.self, forKey: .updatedAt)
        version = try container.decode(Int64.self, forKey: .version)
        directoryId = try container.decodeIfPresent(String.self, forKey: .directoryId)
        syncProblem = try container.decodeIfPresent(String.self, forKey: .syncProblem)
        passwordHash = nil
    }
}

/// What a caller may set when creating a user.
public struct NewUser: Sendable, Decodable {
    public var username: String
    public var email: String?
    public var password: String?
    public var enabled: Bool?

    public init(username: String, email: String?, password: String?, enabled: Bool? = nil) {
        self.username = username
        self.email = email
        self.password = password
        self.enabled = enabled
    }
}

/// A partial update of a user; absent fields are left alone.
public struct UserPatch: Sendable, Decodable {
    public var email: String?
    public var password: String?
    public var enabled: Bool?

    public init(email: String? = nil, password: String? = nil, enabled: Bool? = nil) {
        self.email = email
        self.password = password
        self.enabled = enabled
    }
}
