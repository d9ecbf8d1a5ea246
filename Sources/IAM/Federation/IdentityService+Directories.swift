import Core
import Cryptography
import Foundation
import Storage

extension IdentityService {
    /// Adds a directory to `realm`. Its group mappings become groups the directory manages (one per
    /// group DN) holding the mapped roles; the caller checked that it may grant each of them.
    public func createDirectory(_ input: DirectoryInput, in realm: Realm) async throws -> Directory {
        guard let name = input.name else { throw IAMError.unprocessable(field: "name", reason: "is required") }
        guard (1...100).contains(name.unicodeScalars.count) else { throw IAMError.unprocessable(field: "name", reason: "must be 1–100 characters") }
        guard let url = input.url, let bindDn = input.bindDn, let userBase = input.userBase else {
            throw IAMError.unprocessable(field: input.url == nil ? "url" : input.bindDn == nil ? "bindDn" : "userBase", reason: "is required")
        }
        guard let secret = input.bindSecret, !secret.isEmpty else { throw IAMError.unprocessable(field: "bindSecret", reason: "is required") }
        var settings = Directory.Settings(url: url, bindDn: bindDn, userBase: userBase)
        Self.apply(input, to: &settings)
        try Self.validate(settings, realm: realm)
        let mappings = settings.groupMappings
        let now = clock.nowMillis()
        let id = Identifier.make("dir", at: now)
        let sealed = try sealDirectorySecret(secret, directoryID: id)
        let encoded = try Self.encode(settings)
        let enabled = input.enabled ?? true
        let created = try await database.write { connection -> Directory in
            do {
                try connection.execute(
                    """
                    INSERT INTO directories (id, realm_id, name, settings, bind_secret, enabled, created_at, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                    [.text(id), .text(realm.id), .text(name), .text(encoded), .text(sealed), .bool(enabled), .integer(now), .integer(now)])
            } catch StoreError.uniqueViolation {
                throw IAMError.duplicate(what: "directory", value: name)
            }
            try Self.materializeMappings(mappings, directoryID: id, directoryName: name, realm: realm, at: now, on: connection)
            return try connection.queryFirst(DirectoryRow.self, "SELECT * FROM directories WHERE id = ?", [.text(id)])!.directory
        }
        await invalidateAllBindings()
        return created
    }

    /// The realm's directories.
    public func directories(in realm: Realm) async throws -> [Directory] {
        try await database.read {
            try $0.query(DirectoryRow.self, "SELECT * FROM directories WHERE realm_id = ? ORDER BY name", [.text(realm.id)]).map(\.directory)
        }
    }

    /// One directory of `realm`.
    public func directory(_ id: String, in realm: Realm) async throws -> Directory { try await directoryRow(id, in: realm).directory }

    func directoryRow(_ id: String, in realm: Realm) async throws -> DirectoryRow {
        let row = try await database.read {
            try $0.queryFirst(DirectoryRow.self, "SELECT * FROM directories WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)])
        }
        guard let row else { throw IAMError.directoryNotFound(id) }
        return row
    }

    /// Changes a directory's settings, secret or mappings (when it is still at `expectedVersion`, if given).
    public func updateDirectory(_ id: String, in realm: Realm, input: DirectoryInput, expectedVersion: Int64?) async throws -> Directory {
        let current = try await directoryRow(id, in: realm).directory
        if let name = input.name { guard (1...100).contains(name.unicodeScalars.count) else { throw IAMError.unprocessable(field: "name", reason: "must be 1–100 characters") } }
        var settings = current.settings
        Self.apply(input, to: &settings)
        try Self.validate(settings, realm: realm)
        let sealed = try input.bindSecret.map { secret in
            guard !secret.isEmpty else { throw IAMError.unprocessable(field: "bindSecret", reason: "must not be empty") }
            return try sealDirectorySecret(secret, directoryID: id)
        }
        let encoded = try Self.encode(settings)
        let mappings = settings.groupMappings
        let now = clock.nowMillis()
        let name = input.name ?? current.name
        let updated = try await database.write { connection -> Directory in
            guard let row = try connection.queryFirst(DirectoryRow.self, "SELECT * FROM directories WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) else {
                throw IAMError.directoryNotFound(id)
            }
            if let expectedVersion, expectedVersion != row.directory.version {
                throw IAMError.versionMismatch(expected: expectedVersion, actual: row.directory.version)
            }
            do {
                try connection.execute(
                    """
                    UPDATE directories SET name = ?, settings = ?, bind_secret = ?, enabled = ?, updated_at = ?, version = version + 1 WHERE id = ?
                    """,
                    [.text(name), .text(encoded), .text(sealed ?? row.sealedSecret), .bool(input.enabled ?? row.directory.enabled), .integer(now), .text(id)])
            } catch StoreError.uniqueViolation {
                throw IAMError.duplicate(what: "directory", value: name)
            }
            try Self.materializeMappings(mappings, directoryID: id, directoryName: name, realm: realm, at: now, on: connection)
            return try connection.queryFirst(DirectoryRow.self, "SELECT * FROM directories WHERE id = ?", [.text(id)])!.directory
        }
        await invalidateAllBindings()
        return updated
    }

    /// Removes a directory, the groups it manages and the users it brought (their sessions end).
    public func deleteDirectory(_ id: String, in realm: Realm, expectedVersion: Int64?) async throws {
        let ended = try await database.write { connection -> [String] in
            guard let row = try connection.queryFirst(DirectoryRow.self, "SELECT * FROM directories WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) else {
                throw IAMError.directoryNotFound(id)
            }
            if let expectedVersion, expectedVersion != row.directory.version {
                throw IAMError.versionMismatch(expected: expectedVersion, actual: row.directory.version)
            }
            try Self.materializeMappings([], directoryID: id, directoryName: row.directory.name, realm: realm, at: 0, on: connection)
            let users = "SELECT id FROM users WHERE directory_id = ?"
            let sessions = try connection.query("SELECT id FROM sessions WHERE principal_id IN (\(users)) AND revoked_at IS NULL", [.text(id)])
                .map { try $0.string("id") }
            try connection.execute("DELETE FROM role_bindings WHERE principal_id IN (\(users))", [.text(id)])
            try connection.execute("DELETE FROM sessions WHERE principal_id IN (\(users))", [.text(id)])
            try connection.execute("DELETE FROM users WHERE directory_id = ?", [.text(id)])
            try connection.execute("DELETE FROM directories WHERE id = ?", [.text(id)])
            return sessions
        }
        await invalidateAllBindings()
        await endSessions(ended)
    }

    // MARK: Settings

    private static func apply(_ input: DirectoryInput, to settings: inout Directory.Settings) {
        if let value = input.url { settings.url = value }
        if let value = input.startTls { settings.startTls = value }
        if let value = input.caFile { settings.caFile = value.isEmpty ? nil : value }
        if let value = input.bindDn { settings.bindDn = value }
        if let value = input.userBase { settings.userBase = value }
        if let value = input.userFilter { settings.userFilter = value }
        if let value = input.usernameAttribute { settings.usernameAttribute = value }
        if let value = input.emailAttribute { settings.emailAttribute = value }
        if let value = input.firstNameAttribute { settings.firstNameAttribute = value }
        if let value = input.lastNameAttribute { settings.lastNameAttribute = value }
        if let value = input.idAttribute { settings.idAttribute = value }
        if let value = input.groupBase { settings.groupBase = value.isEmpty ? nil : value }
        if let value = input.groupFilter { settings.groupFilter = value }
        if let value = input.memberAttribute { settings.memberAttribute = value }
        if let value = input.mode { settings.mode = value }
        if let value = input.syncIntervalSeconds { settings.syncIntervalSeconds = value }
        if let value = input.timeoutSeconds { settings.timeoutSeconds = value }
        if let value = input.groupMappings { settings.groupMappings = value }
    }

    private static func validate(_ settings: Directory.Settings, realm: Realm) throws {
        guard settings.url.hasPrefix("ldap://") || settings.url.hasPrefix("ldaps://") else {
            throw IAMError.unprocessable(field: "url", reason: "must be an ldap:// or ldaps:// URL")
        }
        if settings.startTls, settings.url.hasPrefix("ldaps://") {
            throw IAMError.unprocessable(field: "startTls", reason: "applies to ldap:// only (ldaps:// is TLS from the start)")
        }
        for (field, value) in [("bindDn", settings.bindDn), ("userBase", settings.userBase), ("usernameAttribute", settings.usernameAttribute),
                               ("idAttribute", settings.idAttribute), ("memberAttribute", settings.memberAttribute)] where value.isEmpty {
            throw IAMError.unprocessable(field: field, reason: "must not be empty")
        }
        for (field, filter) in [("userFilter", settings.userFilter), ("groupFilter", settings.groupFilter)]
            where !(filter.hasPrefix("(") && filter.hasSuffix(")")) {
            throw IAMError.unprocessable(field: field, reason: "must be an LDAP filter in parentheses")
        }
        guard (60...604_800).contains(settings.syncIntervalSeconds) else {
            throw IAMError.unprocessable(field: "syncIntervalSeconds", reason: "must be between 60 and 604800")
        }
        guard (1...120).contains(settings.timeoutSeconds) else { throw IAMError.unprocessable(field: "timeoutSeconds", reason: "must be between 1 and 120") }
        if !settings.groupMappings.isEmpty, settings.groupBase == nil {
            throw IAMError.unprocessable(field: "groupBase", reason: "is required for group mappings")
        }
        for (index, mapping) in settings.groupMappings.enumerated() {
            guard mapping.groupDn.contains("=") else { throw IAMError.unprocessable(field: "groupMappings[\(index)].groupDn", reason: "must be a DN") }
            guard let scope = Scope(mapping.scope ?? realm.wholeScope.description), scope != .platform || realm.tenantID == nil else {
                throw IAMError.unprocessable(field: "groupMappings[\(index)].scope", reason: "must be tenant:<id>, org:<id> or project:<id>")
            }
        }
    }

    private static func encode(_ settings: Directory.Settings) throws -> String {
        String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
    }

    // MARK: The bind secret, sealed like the realms' keys

    private func sealDirectorySecret(_ secret: String, directoryID: String) throws -> String {
        try sealing.seal(secret, keyID: "directory:" + directoryID)
    }

    func openDirectorySecret(_ row: DirectoryRow) throws -> String {
        guard let sealed = row.sealedSecret else { throw IAMError.unprocessable(field: "bindSecret", reason: "is not set") }
        return try sealing.open(sealed, keyID: "directory:" + row.directory.id).pem
    }

    // MARK: Mapped groups

    /// Makes the directory's managed groups match `mappings`: one group per mapped group DN, holding
    /// exactly the mapped roles. Groups no longer mapped go with their memberships and bindings.
    static func materializeMappings(_ mappings: [Directory.GroupMapping], directoryID: String, directoryName: String, realm: Realm,
                                    at now: Int64, on connection: any SQLConnection) throws {
        let existing = try connection.query("SELECT id, external_dn FROM groups WHERE directory_id = ?", [.text(directoryID)])
            .map { (id: try $0.string("id"), dn: try $0.string("external_dn")) }
        let wanted = Dictionary(grouping: mappings, by: { DirectorySnapshot.normalized($0.groupDn) })
        var groupOf: [String: String] = [:]
        for group in existing {
            try connection.execute("DELETE FROM role_bindings WHERE principal_id = ?", [.text(group.id)])
            if wanted[group.dn] == nil {
                try connection.execute("DELETE FROM group_members WHERE group_id = ?", [.text(group.id)])
                try connection.execute("DELETE FROM groups WHERE id = ?", [.text(group.id)])
            } else {
                groupOf[group.dn] = group.id
            }
        }
        for (dn, list) in wanted.sorted(by: { $0.key < $1.key }) {
            let groupID: String
            if let known = groupOf[dn] {
                groupID = known
            } else {
                groupID = Identifier.makeUnique("grp", at: now)
                do {
                    try connection.execute("INSERT INTO groups (id, realm_id, name, created_at, directory_id, external_dn) VALUES (?, ?, ?, ?, ?, ?)",
                                           [.text(groupID), .text(realm.id), .text("\(directoryName): \(dn)"), .integer(now), .text(directoryID), .text(dn)])
                } catch StoreError.uniqueViolation {
                    throw IAMError.duplicate(what: "group", value: "\(directoryName): \(dn)")
                }
            }
            for mapping in Set(list.map { "\($0.role.rawValue) \($0.scope ?? realm.wholeScope.description)" }).sorted() {
                let parts = mapping.split(separator: " ", maxSplits: 1).map(String.init)
                guard let role = Role(rawValue: parts[0]), let scope = Scope(parts[1]) else { continue }
                let binding = RoleBinding(id: Identifier.makeUnique("rb", at: now), role: role, scope: scope, principalKind: .group, principalID: groupID)
                try insert(binding, realm: realm, at: now, on: connection)
            }
        }
    }
}
