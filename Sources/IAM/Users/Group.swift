import Core
import Storage

/// A named set of a realm's users; role bindings on the group apply to every member.
public struct Group: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var realmID: String
    public var name: String
    public var createdAt: Int64
    /// Member user ids (filled when one group is shown).
    public var members: [String]?

    public init(row: Row) throws {
        id = try row.string("id")
        realmID = try row.string("realm_id")
        name = try row.string("name")
        createdAt = try row.int64("created_at")
    }

    enum CodingKeys: String, CodingKey { case id, realmID = "realmId", name, createdAt, members }
}

extension IdentityService {
    /// Creates an empty group.
    public func createGroup(name: String, in realm: Realm) async throws -> Group {
        try Validation.name(name, field: "name")
        let now = clock.nowMillis()
        let id = Identifier.make("grp", at: now)
        return try await database.write { connection in
            do {
                try connection.execute("INSERT INTO groups (id, realm_id, name, created_at) VALUES (?, ?, ?, ?)",
                                       [.text(id), .text(realm.id), .text(name), .integer(now)])
            } catch StoreError.uniqueViolation {
                throw IAMError.duplicate(what: "group", value: name)
            }
            return try connection.queryFirst(Group.self, "SELECT * FROM groups WHERE id = ?", [.text(id)])!
        }
    }

    /// A page of a realm's groups.
    public func groups(in realm: Realm, page: PageRequest) async throws -> Page<Group> {
        let after = page.after ?? ""
        let rows = try await database.read {
            try $0.query(Group.self, "SELECT * FROM groups WHERE realm_id = ? AND id > ? ORDER BY id LIMIT ?",
                         [.text(realm.id), .text(after), .int(page.limit + 1)])
        }
        return Page(fetched: rows, request: page, key: \.id)
    }

    /// One group with its members.
    public func group(_ id: String, in realm: Realm) async throws -> Group {
        let found = try await database.read { connection -> Group? in
            guard var group = try connection.queryFirst(Group.self, "SELECT * FROM groups WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) else { return nil }
            group.members = try connection.query("SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id", [.text(id)]).map { try $0.string("user_id") }
            return group
        }
        guard let found else { throw IAMError.groupNotFound(id) }
        return found
    }

    /// Adds (`member: true`) or removes a user; both are idempotent.
    public func setMembership(group groupID: String, user userID: String, member: Bool, in realm: Realm) async throws {
        try await database.write { connection in
            try Self.requireUnmanaged(groupID, realm: realm, on: connection)
            guard try connection.scalarInt("SELECT COUNT(*) FROM users WHERE id = ? AND realm_id = ?", [.text(userID), .text(realm.id)]) == 1 else {
                throw IAMError.userNotFound(userID)
            }
            try connection.execute("DELETE FROM group_members WHERE group_id = ? AND user_id = ?", [.text(groupID), .text(userID)])
            if member {
                try connection.execute("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", [.text(groupID), .text(userID)])
            }
        }
        await invalidateBindings(of: userID)
    }

    /// Deletes a group, its memberships and its bindings.
    public func deleteGroup(_ id: String, in realm: Realm) async throws {
        try await database.write { connection in
            try Self.requireUnmanaged(id, realm: realm, on: connection)
            try connection.execute("DELETE FROM groups WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)])
            try connection.execute("DELETE FROM role_bindings WHERE principal_kind = '\(Principal.Kind.group.rawValue)' AND principal_id = ?", [.text(id)])
        }
        await invalidateAllBindings()
    }

    /// The group exists in `realm` and is not one a directory manages (its members are the directory's to say).
    private static func requireUnmanaged(_ groupID: String, realm: Realm, on connection: any SQLConnection) throws {
        guard let row = try connection.query("SELECT directory_id FROM groups WHERE id = ? AND realm_id = ?", [.text(groupID), .text(realm.id)]).first else {
            throw IAMError.groupNotFound(groupID)
        }
        if let directory = try row.optionalString("directory_id") {
            throw IAMError.unprocessable(field: "groupId", reason: "the group is managed by directory \(directory): change the directory's group mappings instead")
        }
    }
}
