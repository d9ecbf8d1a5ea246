import NIOConcurrencyHelpers
import Core
import Cryptography
import Storage

extension IdentityService {
    /// Creates a key in the creator's realm with the asked roles (default `member`), none above the creator's own.
    ///
    /// `path` is where the key will sit (its project, or the whole realm); the caller resolves it,
    /// having checked that the project belongs to the creator's tenant.
    public func createAPIKey(_ input: NewAPIKey, by creator: Principal, at path: ScopePath? = nil) async throws -> CreatedAPIKey {
        try Validation.name(input.name, field: "name")
        guard let realm = realm(id: creator.realmID) else { throw IAMError.realmNotFound(creator.realmName) }
        let now = clock.nowMillis()
        if let expiresAt = input.expiresAt, expiresAt <= now {
            throw IAMError.unprocessable(field: "expiresAt", reason: "must be in the future")
        }
        if let projectID = input.projectId, projectID.isEmpty || projectID.count > 64 {
            throw IAMError.invalidField(field: "projectId", reason: "must be 1–64 characters")
        }
        let scope: Scope = input.projectId.map { .project($0) } ?? realm.wholeScope
        let path = path ?? ScopePath(tenantID: realm.tenantID, projectID: input.projectId)
        guard Authorizer.decide(creator, .apiKeysWrite, at: path) == .allowed else { throw IAMError.forbidden(permission: Permission.apiKeysWrite.rawValue) }
        let roles = Array(Set(input.roles ?? [.member])).sorted()
        guard !roles.isEmpty else { throw IAMError.invalidField(field: "roles", reason: "must name at least one role") }
        for role in roles where !Authorizer.mayGrant(creator, role: role, at: path) {
            throw IAMError.roleEscalation(role: role.rawValue, scope: scope.description)
        }
        let id = Identifier.make("key", at: now)
        let prefix = String(Digest.hex(SecureRandom.bytes(APIKey.prefixLength / 2)))
        let secret = SecureRandom.token()
        let bindings = roles.map { RoleBinding(id: Identifier.make("rb", at: now), role: $0, scope: scope, principalKind: .apiKey, principalID: id) }
        var key = try await database.write { connection in
            try connection.execute(
                """
                INSERT INTO api_keys (id, realm_id, name, prefix, secret_hash, project_id, created_by, created_at, expires_at, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                """,
                [.text(id), .text(realm.id), .text(input.name), .text(prefix), .text(Digest.sha256Hex(secret)),
                 .text(input.projectId), .text(creator.id), .integer(now), .int(input.expiresAt)])
            for binding in bindings { try Self.insert(binding, realm: realm, at: now, on: connection) }
            return try connection.queryFirst(APIKey.self, "SELECT * FROM api_keys WHERE id = ?", [.text(id)])!
        }
        key.roles = bindings
        return CreatedAPIKey(apiKey: key, key: APIKey.marker + prefix + "_" + secret)
    }

    /// A page of keys of a realm, newest last; filters by prefix, project and whether revoked.
    public func apiKeys(in realm: Realm, prefix: String?, projectID: String?, revoked: Bool?, page: PageRequest) async throws -> Page<APIKey> {
        var sql = "SELECT * FROM api_keys WHERE realm_id = ?"
        var parameters: [SQLValue] = [.text(realm.id)]
        if let prefix { sql += " AND prefix = ?"; parameters.append(.text(prefix)) }
        if let projectID { sql += " AND project_id = ?"; parameters.append(.text(projectID)) }
        if let revoked { sql += revoked ? " AND revoked_at IS NOT NULL" : " AND revoked_at IS NULL" }
        if let after = page.after { sql += " AND id > ?"; parameters.append(.text(after)) }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, params) = (sql, parameters)
        let keys = try await database.read { connection in
            try connection.query(APIKey.self, query, params).map { key in
                var key = key
                key.roles = try connection.query(RoleBindingRow.self, "SELECT * FROM role_bindings WHERE principal_id = ?", [.text(key.id)]).map(\.binding)
                return key
            }
        }
        return Page(fetched: keys, request: page, key: \.id)
    }

    /// One key of a realm.
    public func apiKey(_ id: String, in realm: Realm) async throws -> APIKey {
        let found = try await database.read { connection -> APIKey? in
            guard var key = try connection.queryFirst(APIKey.self, "SELECT * FROM api_keys WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) else { return nil }
            key.roles = try connection.query(RoleBindingRow.self, "SELECT * FROM role_bindings WHERE principal_id = ?", [.text(id)]).map(\.binding)
            return key
        }
        guard let found else { throw IAMError.apiKeyNotFound(id) }
        return found
    }

    /// Revokes a key at once; revoking twice is harmless.
    public func revokeAPIKey(_ id: String, in realm: Realm, expectedVersion: Int64?) async throws -> APIKey {
        let now = clock.nowMillis()
        let key = try await database.write { connection -> APIKey in
            guard let current = try connection.queryFirst(APIKey.self, "SELECT * FROM api_keys WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) else {
                throw IAMError.apiKeyNotFound(id)
            }
            if let expectedVersion, expectedVersion != current.version {
                throw IAMError.versionMismatch(expected: expectedVersion, actual: current.version)
            }
            if current.revokedAt == nil {
                try connection.execute("UPDATE api_keys SET revoked_at = ?, version = version + 1 WHERE id = ?", [.integer(now), .text(id)])
            }
            return try connection.queryFirst(APIKey.self, "SELECT * FROM api_keys WHERE id = ?", [.text(id)])!
        }
        _ = apiKeyCache.withLockedValue { $0.removeValue(forKey: key.prefix) }
        await signals?.publish(ReplicaCacheTopic.apiKey.rawValue, key.prefix)
        return key
    }

    /// The principal of a presented `mp_` key; checks the secret in constant time, expiry, revocation and realm status.
    func authenticateAPIKey(_ presented: String) async throws -> Principal {
        let (prefix, secret) = try Self.splitAPIKey(presented)
        let key: APIKey
        if let cached = apiKeyCache.withLockedValue({ $0[prefix] }) {
            key = cached
        } else {
            let loaded = try await database.read { try $0.queryFirst(APIKey.self, "SELECT * FROM api_keys WHERE prefix = ?", [.text(prefix)]) }
            guard let loaded else { throw IAMError.invalidToken("unknown API key") }
            apiKeyCache.withLockedValue { $0[prefix] = loaded }
            key = loaded
        }
        let realm = try checkedRealm(of: key, secret: secret)
        return principal(of: key, in: realm, bindings: try await bindings(of: .apiKey, id: key.id))
    }

    /// The principal of a presented `mp_` key from the caches alone, without suspending (the
    /// router's hot path); nil when the key or its bindings are not cached yet, and the caller
    /// falls back to `authenticate(bearer:)`.
    public func cachedAPIKeyPrincipal(_ presented: String) throws(IAMError) -> Principal? {
        let (prefix, secret) = try Self.splitAPIKey(presented)
        guard let key = apiKeyCache.withLockedValue({ $0[prefix] }),
              let bindings = bindingCache.withLockedValue({ $0[key.id] }) else { return nil }
        return principal(of: key, in: try checkedRealm(of: key, secret: secret), bindings: bindings)
    }

    private static func splitAPIKey(_ presented: String) throws(IAMError) -> (prefix: String, secret: String) {
        guard presented.hasPrefix(APIKey.marker) else { throw .invalidToken("malformed API key") }
        let body = presented.dropFirst(APIKey.marker.count)
        guard body.count > APIKey.prefixLength + 1, body[body.index(body.startIndex, offsetBy: APIKey.prefixLength)] == "_" else {
            throw .invalidToken("malformed API key")
        }
        return (String(body.prefix(APIKey.prefixLength)), String(body.dropFirst(APIKey.prefixLength + 1)))
    }

    /// The key's realm once the secret, the key's life and the realm's status are checked.
    private func checkedRealm(of key: APIKey, secret: String) throws(IAMError) -> Realm {
        guard Digest.constantTimeEqual(Array(Digest.sha256Hex(secret).utf8), Array(key.secretHash.utf8)) else {
            throw .invalidToken("unknown API key")
        }
        guard key.isLive(at: clock.nowMillis()) else { throw .invalidToken("API key revoked or expired") }
        guard let realm = realm(id: key.realmID) else { throw .invalidToken("unknown API key") }
        guard realm.status == .active else { throw .realmSuspended(realm.name) }
        return realm
    }

    private func principal(of key: APIKey, in realm: Realm, bindings: [RoleBinding]) -> Principal {
        Principal(kind: .apiKey, id: key.id, name: APIKey.marker + key.prefix, realmID: realm.id, realmName: realm.name,
                  tenantID: realm.tenantID, bindings: bindings, projectID: key.projectID)
    }
}
